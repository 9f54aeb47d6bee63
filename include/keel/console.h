/* Keel's console: COM1 output with log levels. Every line Keel prints
 * starts with "keel: " so it is told apart from guest output ("[name] "). */
#ifndef KEEL_CONSOLE_H
#define KEEL_CONSOLE_H

#include <keel/types.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern int console_loglevel;

void console_init(void);
/* Writes bytes as one unit: lines from different CPUs never interleave. */
void console_write(const char *s, size_t n);
void kprintf(const char *fmt, ...) __printf(1, 2);
void klog(enum log_level lvl, const char *fmt, ...) __printf(2, 3);
__noreturn void panic(const char *fmt, ...) __printf(1, 2);

#define pr_err(...) klog(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) klog(LOG_WARN, __VA_ARGS__)
#define pr_info(...) klog(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) klog(LOG_DEBUG, __VA_ARGS__)

/* Hardware backend (arch/x86/serial.c). */
void serial_init(void);
void serial_write(const char *s, size_t n);
/* Returns -1 when no byte is waiting. */
int serial_getc(void);

#endif
