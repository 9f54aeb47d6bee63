/* QEMU's pc-testdev (include/keel/testdev.h). */
#include <keel/string.h>
#include <keel/testdev.h>

void testdev_init(struct testdev *t, struct irq_line irq, uint8_t *mem)
{
	memset(t, 0, sizeof(*t));
	t->irq = irq;
	t->mem = mem;
	if (mem)
		memset(mem, 0, TESTDEV_MMIO_SIZE);
}

/* Byte n of an access at base + k is byte k + n of the register; bytes
 * past its end are dropped (writes) or read as ones. */
static uint32_t data_read(void *dev, uint16_t port, unsigned size)
{
	const struct testdev *t = dev;
	unsigned first = port & 3;
	uint32_t v = 0xffffffffu;
	for (unsigned i = 0; i < size && first + i < 4; i++) {
		v &= ~(0xffu << (8 * i));
		v |= ((t->data >> (8 * (first + i))) & 0xff) << (8 * i);
	}
	return v;
}

static void data_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct testdev *t = dev;
	unsigned first = port & 3;
	for (unsigned i = 0; i < size && first + i < 4; i++) {
		t->data &= ~(0xffu << (8 * (first + i)));
		t->data |= ((val >> (8 * i)) & 0xff) << (8 * (first + i));
	}
}

static uint32_t none_read(void *dev, uint16_t port, unsigned size) { return 0xffffffffu; }

static void flush_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	/* QEMU unmaps and remaps its view of the page so that the next guest
	 * access goes through its emulator; EPT gives Keel nothing to drop. */
	((struct testdev *)dev)->flushes++;
}

static void irq_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct testdev *t = dev;
	unsigned line = (unsigned)(port - TESTDEV_PORT_IRQ);
	if (line >= TESTDEV_IRQ_LINES)
		return;
	uint8_t level = (val & 0xff) != 0;
	t->levels[line] = level;
	irq_line_set(&t->irq, line, level);
}

int testdev_register(struct testdev *t, struct io_bus *bus)
{
	struct io_range data = { .base = TESTDEV_PORT_DATA, .count = 4, .name = "testdev 0xe0", .dev = t,
				 .read = data_read, .write = data_write };
	struct io_range flush = { .base = TESTDEV_PORT_FLUSH, .count = 4, .name = "testdev flush", .dev = t,
				  .read = none_read, .write = flush_write };
	/* Raising a line can make an interrupt pending: the router marks the
	 * guest's devices dirty (virq.h), so the exit path looks before
	 * resuming. */
	struct io_range irq = { .base = TESTDEV_PORT_IRQ, .count = TESTDEV_IRQ_LINES, .name = "testdev irq",
				.dev = t, .read = none_read, .write = irq_write };
	return iobus_register(bus, &data) || iobus_register(bus, &flush) || iobus_register(bus, &irq) ? -1 : 0;
}

uint64_t testdev_mmio_read(const struct testdev *t, uint32_t off, unsigned size)
{
	uint64_t v = 0;
	if (t->mem && size <= 8 && off <= TESTDEV_MMIO_SIZE - size)
		memcpy(&v, t->mem + off, size);
	return v;
}

void testdev_mmio_write(struct testdev *t, uint32_t off, unsigned size, uint64_t val)
{
	if (t->mem && size <= 8 && off <= TESTDEV_MMIO_SIZE - size)
		memcpy(t->mem + off, &val, size);
}
