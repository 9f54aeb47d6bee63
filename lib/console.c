#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/format.h>
#include <keel/spinlock.h>
#include <keel/tsc.h>
#include <keel/types.h>
#include <stdarg.h>
#include <x86/io.h>

int console_loglevel = LOG_INFO;
static spinlock_t console_lock = SPINLOCK_INIT;
/* Another place Keel's output goes besides COM1 (the screen,
 * arch/x86/screen.c): given every byte queued, it must not wait. */
static const struct console_backend *mirror;

void console_set_mirror(const struct console_backend *b) { mirror = b; }

void console_init(void) { serial_init(); }

/* Output queue, with '\n' already expanded to CR LF. 128 KiB: the boot
 * logs of 16 guests starting at once (SeaBIOS prints ~3 KiB each) fit.
 * Nothing waits for room in it: a line that does not fit is dropped and
 * counted, and the count is printed before the next line that fits. */
#define QUEUE_SIZE 131072
static char queue[QUEUE_SIZE];
static size_t q_head;
/* Bytes queued for the UART; read without the lock by console_pending(). */
size_t console_queued;

/* COM1 runs at 115200 baud, 8N1: ten bits, 1/11520 s, per byte. */
#define UART_BYTES_PER_S 11520
/* TSC until which the UART is still sending what drain() gave it last:
 * its FIFO cannot be empty before then, so console_kick() need not ask
 * (reading its status costs an exit's worth of time in an emulator, and
 * console_kick() runs on every VM exit). 0 until the TSC is calibrated. */
static uint64_t uart_busy_until;

static void drain(bool wait)
{
	while (console_queued) {
		size_t chunk = MIN(console_queued, QUEUE_SIZE - q_head);
		size_t n = serial_write_nowait(queue + q_head, chunk);
		/* Nothing taken: the FIFO still holds bytes; look again in a
		 * byte's time. */
		__atomic_store_n(&uart_busy_until, rdtsc() + (n ? n : 1) * (tsc_hz / UART_BYTES_PER_S), __ATOMIC_RELAXED);
		q_head = (q_head + n) % QUEUE_SIZE;
		console_queued -= n;
		if (!n) {
			if (!wait)
				return;
			__builtin_ia32_pause();
		}
	}
}

/* The bytes text takes in the queue: CR LF for each newline. */
static size_t queued_size(const char *s, size_t n)
{
	size_t need = n;
	for (size_t i = 0; i < n; i++)
		need += s[i] == '\n';
	return need;
}

/* A serial terminal wants CR LF for a new line. Every line a guest prints
 * comes through here inside its exit, so the queue's indices are kept in
 * locals (a store to a char array could alias the globals and would make
 * the compiler reload them per byte). */
static void enqueue_text(const char *s, size_t n)
{
	if (mirror)
		mirror->queue(s, n);
	size_t tail = q_head + console_queued;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			queue[tail++ % QUEUE_SIZE] = '\r';
		queue[tail++ % QUEUE_SIZE] = s[i];
	}
	console_queued = tail - q_head;
}

/* Keel's lines dropped because the queue was full, not yet reported. */
static uint64_t dropped_lines, dropped_bytes;

/* Queues text if it fits below `limit` (newlines as CR LF), after the
 * report of what was dropped before (which must fit too, so the order
 * stays true). Else
 * counts it as dropped. Never waits: console_write runs in exit paths
 * (under the guest's lock), and the UART sends 11.5 bytes per ms. */
static bool enqueue_or_drop(const char *s, size_t n, size_t limit, bool count)
{
	char note[96];
	size_t note_len = 0;
	if (dropped_lines)
		note_len = (size_t)ksnprintf(note, sizeof(note),
					     "keel: warning: console full: %lu lines (%lu bytes) of Keel's dropped\n",
					     dropped_lines, dropped_bytes);
	size_t room = limit - MIN(limit, console_queued + (note_len ? note_len + 1 : 0));
	/* Twice the length is always enough (every byte a newline); the
	 * newlines are counted only when the queue is nearly full. */
	if (2 * n > room && queued_size(s, n) > room) {
		if (count) {
			dropped_lines++;
			dropped_bytes += n;
		}
		return false;
	}
	if (note_len) {
		enqueue_text(note, note_len);
		dropped_lines = dropped_bytes = 0;
	}
	enqueue_text(s, n);
	return true;
}

void console_write(const char *s, size_t n)
{
	spin_lock(&console_lock);
	enqueue_or_drop(s, n, QUEUE_SIZE, true);
	drain(false);
	spin_unlock(&console_lock);
}

/* Room kept for Keel's own lines when guests print more than the UART can
 * send: guest lines never take the last 8 KiB, so a stop reason is never
 * dropped or waited for (guests' shares, output_budget.h, keep the queue
 * far from full unless many guests print at once). */
#define CONSOLE_KEEL_RESERVE 8192

bool console_write_nowait(const char *s, size_t n)
{
	spin_lock(&console_lock);
	bool fits = enqueue_or_drop(s, n, QUEUE_SIZE - CONSOLE_KEEL_RESERVE, false);
	/* Not while the UART is known to be busy: asking costs a port read,
	 * slow on hardware and an exit when Keel runs nested. */
	if (rdtsc() >= __atomic_load_n(&uart_busy_until, __ATOMIC_RELAXED))
		drain(false);
	spin_unlock(&console_lock);
	return fits;
}

void console_kick(void)
{
	if (!console_queued || rdtsc() < __atomic_load_n(&uart_busy_until, __ATOMIC_RELAXED))
		return;
	spin_lock(&console_lock);
	drain(false);
	spin_unlock(&console_lock);
}


void console_flush(void)
{
	spin_lock(&console_lock);
	drain(true);
	spin_unlock(&console_lock);
	if (mirror)
		mirror->flush();
}

static void vprint(const char *prefix, const char *fmt, va_list ap)
{
	char buf[512];
	size_t off = 0;
	if (prefix)
		off = (size_t)ksnprintf(buf, sizeof(buf), "%s", prefix);
	int n = kvsnprintf(buf + off, sizeof(buf) - off, fmt, ap);
	size_t len = off + (size_t)n;
	if (len >= sizeof(buf)) {
		/* Truncated: say so rather than silently cutting the line. */
		len = sizeof(buf) - 1;
		buf[len - 4] = '.';
		buf[len - 3] = '.';
		buf[len - 2] = '.';
		buf[len - 1] = '\n';
	}
	console_write(buf, len);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprint(NULL, fmt, ap);
	va_end(ap);
}

void klog(enum log_level lvl, const char *fmt, ...)
{
	static const char *const prefix[] = { "keel: error: ", "keel: warning: ", "keel: ", "keel: debug: " };
	if ((int)lvl > console_loglevel)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprint(prefix[lvl], fmt, ap);
	va_end(ap);
}

/* The CPU that owns the panic, -1 while there is none. */
static int panic_cpu = -1;

bool panic_in_progress(void) { return __atomic_load_n(&panic_cpu, __ATOMIC_ACQUIRE) >= 0; }

static void serial_puts_raw(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	serial_write(s, n);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	__asm__ volatile("cli");
	int me = (int)this_cpu(), owner = -1;
	if (!__atomic_compare_exchange_n(&panic_cpu, &owner, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		/* Panicking already. On this CPU: the first panic failed part
		 * way (maybe inside the console, whose lock it may hold), so
		 * bypass the queue. On another CPU: that one reports, and its
		 * NMI would park us anyway. */
		if (owner == me)
			serial_puts_raw("\r\nkeel: PANIC again while panicking; halted.\r\n");
		cpu_park();
	}
	console_flush(); /* room for the message: a full queue drops lines */
	va_start(ap, fmt);
	vprint("keel: PANIC: ", fmt, ap);
	va_end(ap);
	console_write("keel: halted.\n", 14);
	console_flush();
	/* Only now stop the others: one of them may hold the console lock,
	 * and the message above is what matters. After the NMIs nothing may
	 * take that lock again, so the last line goes straight to the UART. */
	unsigned others = nr_cpus_online > 1 ? nr_cpus_online - 1 : 0;
	if (others) {
		char line[80];
		unsigned stopped = smp_stop_other_cpus();
		ksnprintf(line, sizeof(line), "keel: panic: other CPUs stopped: %u of %u\r\n", stopped, others);
		serial_puts_raw(line);
	}
	cpu_park();
}
