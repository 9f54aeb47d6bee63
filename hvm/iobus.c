/* Port-range registry and dispatch for one guest (see include/keel/iobus.h). */
#include <keel/iobus.h>
#include <keel/string.h>

void iobus_init(struct io_bus *bus)
{
	bus->nr_ranges = 0;
	bus->ranges[0].count = 0; /* last_hit's answer: no port */
	bus->last_hit = &bus->ranges[0];
	bus->last_miss = 0;
	bus->unclaimed_reads = 0;
	bus->unclaimed_writes = 0;
	bus->last_unclaimed_port = 0;
	bus->closed = false;
}

void iobus_close(struct io_bus *bus) { bus->closed = true; }

int iobus_register(struct io_bus *bus, const struct io_range *r)
{
	if (bus->nr_ranges >= IOBUS_MAX_RANGES || r->count == 0 || (uint32_t)r->base + r->count > 0x10000)
		return -1;
	for (unsigned i = 0; i < bus->nr_ranges; i++) {
		const struct io_range *o = &bus->ranges[i];
		if (r->base < o->base + o->count && o->base < r->base + r->count)
			return -1;
	}
	bus->ranges[bus->nr_ranges++] = *r;
	bus->last_miss = 0; /* the port may be claimed now */
	return 0;
}

const struct io_range *iobus_find_uncached(const struct io_bus *bus, uint16_t port)
{
	struct io_bus *cache = (struct io_bus *)bus; /* the caches are not state */
	for (unsigned i = 0; i < bus->nr_ranges; i++) {
		const struct io_range *r = &bus->ranges[i];
		if ((uint16_t)(port - r->base) < r->count) {
			cache->last_hit = r;
			return r;
		}
	}
	cache->last_miss = (uint32_t)port + 1;
	return NULL;
}


uint32_t iobus_read(struct io_bus *bus, uint16_t port, unsigned size)
{
	return iobus_read_at(bus, iobus_find(bus, port), port, size);
}

void iobus_write(struct io_bus *bus, uint16_t port, unsigned size, uint32_t val)
{
	iobus_write_at(bus, iobus_find(bus, port), port, size, val);
}

uint32_t iobus_read_at(struct io_bus *bus, const struct io_range *r, uint16_t port, unsigned size)
{
	if (bus->closed)
		return width_mask(size);
	if (!r || !r->read) {
		iobus_count_unclaimed(bus, port, false);
		return width_mask(size);
	}
	return r->read(r->dev, port, size) & width_mask(size);
}

void iobus_write_at(struct io_bus *bus, const struct io_range *r, uint16_t port, unsigned size, uint32_t val)
{
	if (bus->closed)
		return;
	if (!r || !r->write) {
		iobus_count_unclaimed(bus, port, true);
		return;
	}
	r->write(r->dev, port, size, val & width_mask(size));
}

uint32_t iobus_read_string(struct io_bus *bus, uint16_t port, unsigned size, void *buf, uint32_t count)
{
	const struct io_range *r = iobus_find(bus, port);
	uint8_t *p = buf;
	if (bus->closed)
		return count;
	if (count > 1 && r && r->read_string) {
		uint32_t done = r->read_string(r->dev, port, size, buf, count);
		if (done)
			return done;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint32_t val = iobus_read(bus, port, size);
		if (bus->closed)
			return i + 1; /* the buffer is gone with the guest's RAM */
		memcpy(p + (size_t)i * size, &val, size);
	}
	return count;
}

uint32_t iobus_write_string(struct io_bus *bus, uint16_t port, unsigned size, const void *buf, uint32_t count)
{
	const struct io_range *r = iobus_find(bus, port);
	const uint8_t *p = buf;
	if (bus->closed)
		return count;
	if (count > 1 && r && r->write_string) {
		uint32_t done = r->write_string(r->dev, port, size, buf, count);
		if (done)
			return done;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint32_t val = 0;
		memcpy(&val, p + (size_t)i * size, size);
		iobus_write(bus, port, size, val);
		if (bus->closed)
			return i + 1; /* the element that stopped the guest */
	}
	return count;
}

int iobus_move(struct io_bus *bus, const void *dev, uint16_t old_base, uint16_t new_base)
{
	struct io_range *r = NULL;
	for (unsigned i = 0; i < bus->nr_ranges; i++)
		if (bus->ranges[i].dev == dev && bus->ranges[i].base == old_base)
			r = &bus->ranges[i];
	if (!r || (uint32_t)new_base + r->count > 0x10000)
		return -1;
	for (unsigned i = 0; i < bus->nr_ranges; i++) {
		const struct io_range *o = &bus->ranges[i];
		if (o != r && new_base < o->base + o->count && o->base < new_base + r->count)
			return -1;
	}
	r->base = new_base;
	bus->last_miss = 0; /* the ports it left and took change hands */
	return 0;
}
