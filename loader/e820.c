/*
 * Guest memory map. Like a PC (and like Xen's hvmloader, which SeaBIOS's
 * Xen path expects): conventional memory 0-640 KiB, the VGA hole left out,
 * the BIOS image reserved up to 1 MiB, then the rest of RAM below the MMIO
 * hole (HVMLOADER_LOW_RAM_LIMIT to 4 GiB, left out of the map as a PC's
 * firmware leaves its PCI window out: operating systems look for a gap to
 * place devices in), then the RAM that did not fit below, from 4 GiB.
 * SeaBIOS carves its EBDA and its high zone out of these RAM ranges itself;
 * it takes the entry above 4 GiB as it is, and so do multiboot1 kernels
 * (the memory map) and Linux (boot_params.e820_table).
 */
#include <keel/hvmloader_abi.h>

#include "e820.h"

#define LOW_RAM_END 0xa0000ULL
#define ONE_MIB 0x100000ULL
#define FOUR_GIB 0x100000000ULL
/* Physical addresses have at most 52 bits (MAXPHYADDR <= 52, SDM Vol. 1
 * 3.3.5): RAM above 4 GiB must end below that, and never wrap. */
#define PHYS_ADDR_LIMIT (1ULL << 52)

unsigned e820_build(struct e820_entry *e, unsigned max, uint64_t below, uint64_t above, uint32_t bios_start,
		    uint32_t acpi_bytes)
{
	unsigned n = 0;
	if (max < 5 || below <= ONE_MIB || below > HVMLOADER_LOW_RAM_LIMIT || above > PHYS_ADDR_LIMIT - FOUR_GIB ||
	    bios_start < LOW_RAM_END || bios_start >= ONE_MIB || (bios_start & 0xffff) || (acpi_bytes & 0xfff) ||
	    acpi_bytes >= below - ONE_MIB)
		return 0;
	e[n++] = (struct e820_entry){ 0, LOW_RAM_END, E820_RAM };
	e[n++] = (struct e820_entry){ bios_start, ONE_MIB - bios_start, E820_RESERVED };
	e[n++] = (struct e820_entry){ ONE_MIB, below - acpi_bytes - ONE_MIB, E820_RAM };
	if (acpi_bytes)
		e[n++] = (struct e820_entry){ below - acpi_bytes, acpi_bytes, E820_ACPI };
	if (above)
		e[n++] = (struct e820_entry){ FOUR_GIB, above, E820_RAM };
	return n;
}
