/* 16550A model (National Semiconductor PC16550D data sheet). Transmission
 * is instant, so LSR always shows THRE|TEMT and the THR-empty interrupt is
 * re-armed right after each write. */
#include <keel/string.h>
#include <keel/vuart.h>

#define IER_RDA 0x01
#define IER_THRE 0x02
#define IIR_NONE 0x01
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define MCR_OUT2 0x08
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

void vuart_init(struct vuart *u, uint16_t base, unsigned irq_no, struct irq_line irq, struct guest_output *out)
{
	memset(u, 0, sizeof(*u));
	u->base = base;
	u->irq_no = irq_no;
	u->irq = irq;
	u->out = out;
	u->dll = 12; /* 9600 baud after reset */
}

static uint8_t iir_value(const struct vuart *u)
{
	uint8_t fifo = (u->fcr & 1) ? IIR_FIFO : 0;
	if ((u->ier & IER_RDA) && u->rx_len)
		return IIR_RDA | fifo;
	if ((u->ier & IER_THRE) && u->thre_pending)
		return IIR_THRE | fifo;
	return IIR_NONE | fifo;
}

static void update_irq(struct vuart *u)
{
	/* On a PC the UART's interrupt reaches the PIC only through OUT2. */
	bool level = (iir_value(u) & IIR_NONE) == 0 && (u->mcr & MCR_OUT2);
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_line_set(&u->irq, u->irq_no, level);
	}
}

unsigned vuart_rx_room(const struct vuart *u) { return VUART_RX_SIZE - u->rx_len; }

bool vuart_push_input(struct vuart *u, uint8_t byte)
{
	if (u->rx_len == VUART_RX_SIZE) {
		u->rx_dropped++;
		return false;
	}
	u->rx[(u->rx_head + u->rx_len++) % VUART_RX_SIZE] = byte;
	update_irq(u);
	return true;
}

static uint32_t uart_read(void *dev, uint16_t port, unsigned size)
{
	struct vuart *u = dev;
	uint8_t v = 0;
	switch (port - u->base) {
	case 0:
		if (u->lcr & LCR_DLAB) {
			v = u->dll;
		} else if (u->rx_len) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % VUART_RX_SIZE;
			u->rx_len--;
		}
		break;
	case 1:
		v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case 2:
		v = iir_value(u);
		/* Reading IIR while it reports THR empty clears that source. */
		if ((v & 0x0f) == IIR_THRE)
			u->thre_pending = false;
		break;
	case 3:
		v = u->lcr;
		break;
	case 4:
		v = u->mcr;
		break;
	case 5:
		v = LSR_THRE | LSR_TEMT | (u->rx_len ? LSR_DR : 0);
		break;
	case 6:
		/* Modem status: in loopback the outputs feed the inputs; else
		 * report carrier, DSR and CTS so software will talk to us. */
		if (u->mcr & MCR_LOOP)
			v = (uint8_t)(((u->mcr & 0x02) << 3) | ((u->mcr & 0x01) << 5) | ((u->mcr & 0x04) << 4) |
				      ((u->mcr & 0x08) << 4));
		else
			v = 0xb0;
		break;
	case 7:
		v = u->scr;
		break;
	}
	update_irq(u);
	return v;
}

static void uart_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vuart *u = dev;
	uint8_t v = (uint8_t)val;
	switch (port - u->base) {
	case 0:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
		} else if (u->mcr & MCR_LOOP) {
			vuart_push_input(u, v);
			u->thre_pending = true;
		} else {
			u->tx_bytes++;
			guest_output_putc(u->out, v);
			u->thre_pending = true; /* sent at once: THR empty again */
		}
		break;
	case 1:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
		} else {
			/* Enabling the THRE interrupt while THR is empty raises it
			 * at once (SeaBIOS's detect_serial relies on this). */
			if ((v & IER_THRE) && !(u->ier & IER_THRE))
				u->thre_pending = true;
			u->ier = v & 0x0f;
		}
		break;
	case 2:
		u->fcr = v;
		if (v & 0x02) { /* clear the receive FIFO */
			u->rx_len = 0;
			u->rx_head = 0;
		}
		break;
	case 3:
		u->lcr = v;
		break;
	case 4:
		u->mcr = v & 0x1f;
		break;
	case 7:
		u->scr = v;
		break;
	}
	update_irq(u);
}

static uint32_t uart_write_string(void *dev, uint16_t port, unsigned size, const void *buf, uint32_t count)
{
	const uint8_t *p = buf;
	struct vuart *u = dev;
	if (port != u->base || size != 1)
		return 0;
	for (uint32_t i = 0; i < count; i++)
		uart_write(dev, port, 1, p[i]);
	return count;
}

int vuart_register(struct vuart *u, struct io_bus *bus)
{
	struct io_range r = { .base = u->base, .count = 8, .name = "uart", .dev = u, .read = uart_read,
			      .write = uart_write, .write_string = uart_write_string };
	return iobus_register(bus, &r);
}
