/* Keel's console: COM1 output with log levels. Every line Keel prints
 * starts with "keel: " so it is told apart from guest output ("[name] "). */
#ifndef KEEL_CONSOLE_H
#define KEEL_CONSOLE_H

#include <keel/types.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern int console_loglevel;

void console_init(void);
/* Queues bytes as one unit: lines from different CPUs never interleave.
 * The queue drains into the UART while guests run (console_kick), so a
 * guest's output costs it almost no time. It never waits for the UART (it
 * runs in exit paths, under the exiting guest's lock): when the
 * queue is full the text is dropped, counted, and the count printed
 * before the next line that fits. */
void console_write(const char *s, size_t n);
/* For guest output: queues the bytes only if they fit below the part of
 * the queue kept for Keel's own lines (CONSOLE_KEEL_RESERVE); never waits.
 * False: nothing was queued (the caller counts the line as dropped). */
bool console_write_nowait(const char *s, size_t n);
/* Moves queued bytes into the UART without waiting (called on every exit);
 * costs a TSC read while the UART is still sending the last bytes. */
void console_kick(void);
/* Waits until everything queued has been sent (before halting). */
void console_flush(void);
extern size_t console_queued;
static inline bool console_pending(void) { return __atomic_load_n(&console_queued, __ATOMIC_RELAXED) != 0; }
void kprintf(const char *fmt, ...) __printf(1, 2);
void klog(enum log_level lvl, const char *fmt, ...) __printf(2, 3);
/* Prints the message, stops every other CPU (NMI) and halts this one. A
 * panic on a CPU while another CPU panics only stops it; a panic inside a
 * panic prints one raw line and halts. */
__noreturn void panic(const char *fmt, ...) __printf(1, 2);
/* True once some CPU has entered panic(): an NMI then means "stop". */
bool panic_in_progress(void);

#define pr_err(...) klog(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) klog(LOG_WARN, __VA_ARGS__)
#define pr_info(...) klog(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) klog(LOG_DEBUG, __VA_ARGS__)

/* Hardware backend (arch/x86/serial.c). */
void serial_init(void);
void serial_write(const char *s, size_t n);
size_t serial_write_nowait(const char *s, size_t n);
/* Returns -1 when no byte is waiting. */
int serial_getc(void);

#endif
