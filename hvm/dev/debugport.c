#include <keel/debugport.h>

void debugport_init(struct debugport *d, struct guest_output *out, const struct guest_events *events)
{
	d->out = out;
	d->events = events;
	d->last_post = 0;
	d->post_writes = 0;
}

uint8_t debugport_last_post(const struct debugport *d) { return d->last_post; }

static uint32_t text_read(void *dev, uint16_t port, unsigned size)
{
	/* Reading 0xE9 returns 0xE9: how Bochs and QEMU let firmware detect
	 * the port (SeaBIOS skips the check on Xen, others rely on it). */
	return port == DEBUGPORT_E9 ? 0xe9 : 0xff;
}

static void text_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct debugport *d = dev;
	for (unsigned i = 0; i < size; i++)
		guest_output_putc(d->out, (uint8_t)(val >> (8 * i)));
}

static uint32_t text_write_string(void *dev, uint16_t port, unsigned size, const void *buf, uint32_t count)
{
	struct debugport *d = dev;
	const uint8_t *p = buf;
	for (uint32_t i = 0; i < count * size; i++)
		guest_output_putc(d->out, p[i]);
	return count;
}

static uint32_t post_read(void *dev, uint16_t port, unsigned size) { return ((struct debugport *)dev)->last_post; }

static void post_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct debugport *d = dev;
	d->last_post = (uint8_t)val;
	d->post_writes++;
}

static void exit_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct debugport *d = dev;
	guest_output_flush(d->out);
	guest_events_exit(d->events, (int)(((val & 0xff) << 1) | 1), "write to the isa-debug-exit port 0xf4");
}

int debugport_register(struct debugport *d, struct io_bus *bus)
{
	struct io_range e9 = { .base = DEBUGPORT_E9, .count = 1, .name = "debug 0xe9", .dev = d, .read = text_read,
			       .write = text_write, .write_string = text_write_string };
	struct io_range q = { .base = DEBUGPORT_QEMU, .count = 1, .name = "debugcon 0x402", .dev = d,
			      .read = text_read, .write = text_write, .write_string = text_write_string };
	struct io_range post = { .base = DEBUGPORT_POST, .count = 1, .name = "POST 0x80", .dev = d,
				 .read = post_read, .write = post_write };
	struct io_range ex = { .base = DEBUGPORT_EXIT, .count = 1, .name = "isa-debug-exit", .dev = d,
			       .write = exit_write };
	if (iobus_register(bus, &e9) || iobus_register(bus, &q) || iobus_register(bus, &post) ||
	    iobus_register(bus, &ex))
		return -1;
	return 0;
}
