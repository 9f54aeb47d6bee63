/* The guest's E820 memory map as hvmloader gives it to SeaBIOS (pure). */
#ifndef LOADER_E820_H
#define LOADER_E820_H

#include <stdint.h>

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3 /* ACPI tables: reclaimable once the OS has read them */

struct e820_entry {
	uint64_t start;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* Fills at most max entries; returns how many, or 0 if the input makes no
 * sense (RAM below 1 MiB + the BIOS, RAM below 4 GiB reaching into the MMIO
 * hole at HVMLOADER_LOW_RAM_LIMIT, BIOS not ending at 1 MiB, RAM above
 * 4 GiB reaching past the 52-bit physical address space...). The last
 * acpi_bytes of RAM below 4 GiB (a multiple of 4 KiB, may be 0) hold the
 * ACPI tables and are listed as E820_ACPI. */
unsigned e820_build(struct e820_entry *e, unsigned max, uint64_t ram_below_4g, uint64_t ram_above_4g,
		    uint32_t bios_start, uint32_t acpi_bytes);

#endif
