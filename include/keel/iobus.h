/*
 * Port-I/O registry of one guest. A device model registers the ports it
 * owns; the VMX I/O exit handler looks the port up here. Device models know
 * nothing of VMX: they see (port, size, value) and nothing else.
 *
 * Unclaimed reads return all ones (what an empty ISA bus floats to) and
 * unclaimed writes are dropped; both are counted so `stats` can show them.
 */
#ifndef KEEL_IOBUS_H
#define KEEL_IOBUS_H

#include <keel/types.h>

/* size is 1, 2 or 4 bytes. Reads return the value in the low `size` bytes. */
typedef uint32_t (*io_read_fn)(void *dev, uint16_t port, unsigned size);
typedef void (*io_write_fn)(void *dev, uint16_t port, unsigned size, uint32_t val);
/* Optional fast path for `rep ins`/`rep outs`: move `count` elements of
 * `size` bytes between the device and buf. Returns elements moved (may be
 * fewer, e.g. at the end of a sector burst; the caller falls back to the
 * per-element path for the rest). */
typedef uint32_t (*io_read_string_fn)(void *dev, uint16_t port, unsigned size, void *buf, uint32_t count);
typedef uint32_t (*io_write_string_fn)(void *dev, uint16_t port, unsigned size, const void *buf, uint32_t count);

/* Accesses that reprogram a timer or the interrupt controller itself (not
 * through an interrupt line, which the guest's IRQ router reports): after
 * one, the scheduler must look at the guest's timer deadlines and pending
 * interrupts before the vCPU runs again. Bits of io_range.retimes. */
#define IO_RETIMES_READ 1u  /* e.g. an 8259A poll-mode read acknowledges */
#define IO_RETIMES_WRITE 2u /* e.g. a PIT control word, an RTC rate, an EOI */

struct io_range {
	uint16_t base;
	uint16_t count; /* ports base .. base+count-1 */
	uint8_t retimes; /* IO_RETIMES_* */
	const char *name;
	void *dev;
	io_read_fn read;
	io_write_fn write;
	io_read_string_fn read_string;
	io_write_string_fn write_string;
};

#define IOBUS_MAX_RANGES 48

struct io_bus {
	struct io_range ranges[IOBUS_MAX_RANGES];
	unsigned nr_ranges;
	uint64_t unclaimed_reads;
	uint64_t unclaimed_writes;
	uint16_t last_unclaimed_port;
	bool closed; /* the guest was stopped: see iobus_close() */
	/* Lookup caches (iobus_find): firmware hits the same port many times
	 * in a row (SeaBIOS's debug text, a polled status register, a probe
	 * of an absent device). */
	/* The range the last lookup found (ranges never move in the table);
	 * &ranges[0] until then, whose count is 0 while it is unused. */
	const struct io_range *last_hit;
	uint32_t last_miss; /* 1 + the last port no range claims; 0: none */
};

void iobus_init(struct io_bus *bus);
/* Returns 0, or -1 if the range overlaps another or the table is full. */
int iobus_register(struct io_bus *bus, const struct io_range *r);
/* Moves dev's range at old_base to new_base (a PCI BAR the guest
 * reprogrammed). Returns 0, or -1 if there is no such range or the new
 * place overlaps another range (then nothing moved). */
int iobus_move(struct io_bus *bus, const void *dev, uint16_t old_base, uint16_t new_base);
/* The range that claims port, or NULL. Firmware hits one port many times
 * in a row, so the cached answers are checked inline. */
const struct io_range *iobus_find_uncached(const struct io_bus *bus, uint16_t port);
static inline const struct io_range *iobus_find(const struct io_bus *bus, uint16_t port)
{
	const struct io_range *r = bus->last_hit;
	if ((uint16_t)(port - r->base) < r->count)
		return r;
	if (bus->last_miss == (uint32_t)port + 1)
		return NULL;
	return iobus_find_uncached(bus, port);
}
uint32_t iobus_read(struct io_bus *bus, uint16_t port, unsigned size);
void iobus_write(struct io_bus *bus, uint16_t port, unsigned size, uint32_t val);
/* The same, for a caller that looked the port up already (r is
 * iobus_find's answer, NULL for an unclaimed port): the exit path looks
 * a port up once per exit. */
/* An access no device claims: counted for `stats` (what iobus_read_at and
 * iobus_write_at do for an unclaimed port; the exit path inlines them). */
static inline void iobus_count_unclaimed(struct io_bus *bus, uint16_t port, bool write)
{
	if (write)
		bus->unclaimed_writes++;
	else
		bus->unclaimed_reads++;
	bus->last_unclaimed_port = port;
}
uint32_t iobus_read_at(struct io_bus *bus, const struct io_range *r, uint16_t port, unsigned size);
void iobus_write_at(struct io_bus *bus, const struct io_range *r, uint16_t port, unsigned size, uint32_t val);
/*
 * Called when the guest is stopped, which frees its RAM at once, possibly
 * from inside a device's handler (a write to 0xF4, 0xCF9, 0x64 or 0x92).
 * From then on reads return all ones and writes are dropped, and a string
 * transfer in progress ends after the element that stopped the guest, so
 * nothing reads or writes the freed buffer or calls into a stopped guest's
 * devices.
 */
void iobus_close(struct io_bus *bus);
/*
 * String I/O (INS/OUTS): moves up to `count` elements of `size` bytes
 * between the port and buf, through the device's string fast path when it
 * has one and count > 1, else one element at a time. Returns the number of
 * elements moved (at least 1 when count > 0); the caller advances its index
 * registers by that many and calls again for the rest, unless the guest
 * was stopped meanwhile (then fewer than count may have moved).
 */
uint32_t iobus_read_string(struct io_bus *bus, uint16_t port, unsigned size, void *buf, uint32_t count);
uint32_t iobus_write_string(struct io_bus *bus, uint16_t port, unsigned size, const void *buf, uint32_t count);

/* Whether this access to port (claimed by r, or unclaimed if r is NULL)
 * can reprogram a timer or the interrupt controller (IO_RETIMES_*). */
static inline bool iobus_access_retimes(const struct io_range *r, bool in)
{
	return r && (r->retimes & (in ? IO_RETIMES_READ : IO_RETIMES_WRITE));
}

#endif
