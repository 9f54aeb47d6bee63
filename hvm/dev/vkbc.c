/*
 * 8042 model: what firmware and boot loaders use (self-test, command byte,
 * A20 through the output port, reset through 0xFE or output-port bit 0).
 * The keyboard behind it answers commands (ACK, self-test 0xAA, ID) but
 * never sends keys: guests get their console through the serial port. This
 * makes SeaBIOS's ps2port_setup finish at once instead of timing out.
 * The auxiliary (mouse) port has no device, as on a PC with no mouse
 * plugged in: the controller's own AUX commands work (0xD3 echoes its byte
 * as AUX data, 0xA9 tests the interface, IRQ 12 when enabled), and a byte
 * sent to the absent device (0xD4) comes back as 0xFE with the time-out
 * status bit. Linux's i8042 driver sends 0xD3 0x5A and polls the status
 * port until the byte comes back (its "AUX loopback" test): unanswered,
 * that was half a second and ~10,000 exits of every Linux boot.
 * Keel does not model A20 masking: memory is never wrapped at 1 MiB (A20 is
 * always on, as on every machine since the Pentium 4 era's "A20M" removal).
 */
#include <keel/string.h>
#include <keel/vkbc.h>

/* Status register (port 0x64 read) and command byte bits. */
#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_A2 0x08
#define ST_UNLOCKED 0x10
#define ST_AUX_DATA 0x20 /* the byte in the output buffer is from the AUX port */
#define ST_TIMEOUT 0x40  /* ... and the device did not answer */
#define CB_KBD_INT 0x01
#define CB_AUX_INT 0x02
#define CB_SYS 0x04
#define KBC_IRQ_KBD 1
#define KBC_IRQ_AUX 12

void vkbc_init(struct vkbc *k, struct irq_line irq, const struct guest_events *events)
{
	memset(k, 0, sizeof(*k));
	k->irq = irq;
	k->events = events;
	k->cmd_byte = CB_KBD_INT | CB_SYS | 0x40; /* translation on, as BIOSes leave it */
	k->sys_flag = true;
	k->a20 = true;
}

bool vkbc_a20_enabled(const struct vkbc *k) { return k->a20; }

/* A byte for the output buffer; status: the ST_AUX_DATA and ST_TIMEOUT
 * bits the status register shows while it is at the head. */
static void push_status(struct vkbc *k, uint8_t b, uint8_t status)
{
	if (k->q_len == VKBC_QUEUE)
		return;
	k->queue[(k->q_head + k->q_len++) % VKBC_QUEUE] = (uint16_t)(b | status << 8);
	if (status & ST_AUX_DATA) {
		if (k->cmd_byte & CB_AUX_INT)
			irq_line_pulse(&k->irq, KBC_IRQ_AUX);
	} else if (k->cmd_byte & CB_KBD_INT) {
		irq_line_pulse(&k->irq, KBC_IRQ_KBD);
	}
}

static void push(struct vkbc *k, uint8_t b) { push_status(k, b, 0); }

static void reset(struct vkbc *k, const char *why)
{
	k->resets_requested++;
	guest_events_reset(k->events, why);
}

static void keyboard_command(struct vkbc *k, uint8_t v)
{
	if (k->kbd_pending) { /* parameter of LEDs / typematic / scan set */
		k->kbd_pending = 0;
		push(k, 0xfa);
		return;
	}
	switch (v) {
	case 0xff: /* reset: ACK, then basic assurance test passed */
		push(k, 0xfa);
		push(k, 0xaa);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		push(k, 0xfa);
		push(k, 0xab);
		push(k, 0x83);
		break;
	case 0xee:
		push(k, 0xee);
		break;
	case 0xed:
	case 0xf3:
	case 0xf0:
		k->kbd_pending = v;
		push(k, 0xfa);
		break;
	default:
		push(k, 0xfa);
	}
}

static void output_port_write(struct vkbc *k, uint8_t v)
{
	k->a20 = v & 0x02;
	if (!(v & 0x01))
		reset(k, "keyboard controller output port reset bit");
}

static void data_write(struct vkbc *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;
	k->pending_cmd = 0;
	k->last_was_cmd = false;
	switch (cmd) {
	case 0x60:
		k->cmd_byte = v;
		k->sys_flag = v & CB_SYS;
		break;
	case 0xd1:
		output_port_write(k, v);
		break;
	case 0xd2: /* write keyboard output buffer: the byte comes back as input */
		push(k, v);
		break;
	case 0xd3: /* write AUX output buffer: the byte comes back as AUX data */
		push_status(k, v, ST_AUX_DATA);
		break;
	case 0xd4: /* to the AUX device: there is none, so it times out */
		push_status(k, 0xfe, ST_AUX_DATA | ST_TIMEOUT);
		break;
	default:
		keyboard_command(k, v);
	}
}

static void command_write(struct vkbc *k, uint8_t v)
{
	k->last_was_cmd = true;
	switch (v) {
	case 0x20:
		push(k, k->cmd_byte);
		break;
	case 0x60:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xd4:
		k->pending_cmd = v;
		break;
	case 0xa7:
		k->cmd_byte |= 0x20;
		break;
	case 0xa8:
		k->cmd_byte &= ~0x20;
		break;
	case 0xa9: /* aux interface test */
		push(k, 0x00);
		break;
	case 0xaa: /* controller self-test */
		k->sys_flag = true;
		push(k, 0x55);
		break;
	case 0xab: /* keyboard interface test */
		push(k, 0x00);
		break;
	case 0xad:
		k->cmd_byte |= 0x10;
		break;
	case 0xae:
		k->cmd_byte &= ~0x10;
		break;
	case 0xc0: /* input port: keyboard not inhibited */
		push(k, 0x80);
		break;
	case 0xd0: /* output port: reset line high, A20, buffers */
		push(k, (uint8_t)(0x01 | (k->a20 ? 0x02 : 0)));
		break;
	case 0xdd:
		k->a20 = false;
		break;
	case 0xdf:
		k->a20 = true;
		break;
	default:
		/* 0xF0-0xFF pulse output-port bits low; bit 0 is the CPU reset. */
		if (v >= 0xf0 && !(v & 1))
			reset(k, "keyboard controller reset 0xFE");
		break;
	}
}

static uint32_t kbc_read(void *dev, uint16_t port, unsigned size)
{
	struct vkbc *k = dev;
	if (port == 0x64)
		return (k->q_len ? ST_OBF | (k->queue[k->q_head] >> 8) : 0) | (k->sys_flag ? ST_SYS : 0) |
		       (k->last_was_cmd ? ST_A2 : 0) | ST_UNLOCKED;
	if (port == 0x92)
		return k->port92 | (k->a20 ? 0x02 : 0);
	if (!k->q_len)
		return (uint8_t)k->queue[(k->q_head + VKBC_QUEUE - 1) % VKBC_QUEUE]; /* last byte again */
	uint8_t b = (uint8_t)k->queue[k->q_head];
	k->q_head = (k->q_head + 1) % VKBC_QUEUE;
	k->q_len--;
	return b;
}

static void kbc_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vkbc *k = dev;
	uint8_t v = (uint8_t)val;
	if (port == 0x64) {
		command_write(k, v);
	} else if (port == 0x92) {
		k->port92 = v & ~0x03;
		k->a20 = v & 0x02;
		if (v & 0x01)
			reset(k, "port 0x92 fast reset");
	} else {
		data_write(k, v);
	}
}

int vkbc_register(struct vkbc *k, struct io_bus *bus)
{
	struct io_range d = { .base = 0x60, .count = 1, .name = "kbc data", .dev = k, .read = kbc_read,
			      .write = kbc_write };
	struct io_range c = { .base = 0x64, .count = 1, .name = "kbc command", .dev = k, .read = kbc_read,
			      .write = kbc_write };
	struct io_range f = { .base = 0x92, .count = 1, .name = "port 0x92", .dev = k, .read = kbc_read,
			      .write = kbc_write };
	return (iobus_register(bus, &d) || iobus_register(bus, &c) || iobus_register(bus, &f)) ? -1 : 0;
}
