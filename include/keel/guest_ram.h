/*
 * Where a guest's RAM is in its physical address space (pure logic).
 *
 * Like a PC: RAM from 0 up to at most HVMLOADER_LOW_RAM_LIMIT (3.5 GiB),
 * then the hole for MMIO up to 4 GiB, and whatever RAM did not fit below
 * from 4 GiB on. Keel backs the RAM with host memory as one array of
 * bytes, the low part first: the RAM offset of a guest-physical address
 * is the same below the hole and shifted down by the hole's size above it.
 * The E820 map hvmloader builds, the CMOS registers and the start info
 * are all made from the same split (guest_ram_split).
 */
#ifndef KEEL_GUEST_RAM_H
#define KEEL_GUEST_RAM_H

#include <keel/hvmloader_abi.h>
#include <keel/types.h>

struct guest_ram_layout {
	uint64_t below_4g; /* bytes at guest-physical 0 */
	uint64_t above_4g; /* bytes at guest-physical 4 GiB */
};

/* Splits total bytes of RAM into the low part (at most low_limit, itself
 * capped at HVMLOADER_LOW_RAM_LIMIT) and the part at 4 GiB. */
struct guest_ram_layout guest_ram_split(uint64_t total, uint64_t low_limit);
/* The RAM offset of [gpa, gpa+len) (len >= 1) if all of it is RAM in one
 * of the two parts; false otherwise (the hole, beyond RAM, wrapping). */
bool guest_ram_offset(const struct guest_ram_layout *l, uint64_t gpa, uint64_t len, uint64_t *off);
/* The guest-physical address of a RAM offset below below_4g + above_4g. */
uint64_t guest_ram_gpa(const struct guest_ram_layout *l, uint64_t off);
bool guest_gpa_is_ram(const struct guest_ram_layout *l, uint64_t gpa);

#endif
