/* Polled 16550 driver for COM1 at 115200 8N1. Polled because Keel prints
 * from exception handlers and with interrupts off; the line is fast enough
 * that waiting on THRE costs little. */
#include <keel/console.h>
#include <x86/io.h>

#define COM1 0x3f8
#define UART_THR 0
#define UART_RBR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LCR_DLAB 0x80
#define LCR_8N1 0x03

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 1); /* 115200 / 1 */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0xc7); /* FIFO on, both cleared, 14-byte trigger */
	outb(COM1 + UART_MCR, 0x03);
}

static void serial_putc(char c)
{
	/* Bounded wait: a missing UART must not hang Keel forever. */
	for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

/* Writes what the UART can take right now (its 16-byte FIFO when THRE says
 * it is empty), without waiting. Returns the number of bytes taken. */
size_t serial_write_nowait(const char *s, size_t n)
{
	size_t done = 0;
	if (!(inb(COM1 + UART_LSR) & LSR_THRE))
		return 0;
	while (done < n && done < 16)
		outb(COM1 + UART_THR, (uint8_t)s[done++]);
	return done;
}

int serial_getc(void)
{
	if (!(inb(COM1 + UART_LSR) & LSR_DR))
		return -1;
	return inb(COM1 + UART_RBR);
}
