#include <keel/console.h>
#include <keel/format.h>
#include <keel/spinlock.h>
#include <stdarg.h>

int console_loglevel = LOG_INFO;
static spinlock_t console_lock = SPINLOCK_INIT;

void console_init(void) { serial_init(); }

void console_write(const char *s, size_t n)
{
	spin_lock(&console_lock);
	serial_write(s, n);
	spin_unlock(&console_lock);
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

void panic(const char *fmt, ...)
{
	va_list ap;
	__asm__ volatile("cli");
	va_start(ap, fmt);
	vprint("keel: PANIC: ", fmt, ap);
	va_end(ap);
	console_write("keel: halted.\n", 14);
	for (;;)
		__asm__ volatile("cli; hlt");
}
