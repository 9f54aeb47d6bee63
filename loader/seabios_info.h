/* The table SeaBIOS's Xen path reads at guest-physical 0x1000 (SeaBIOS
 * src/fw/xen.c, struct xen_seabios_info). Pure builder. */
#ifndef LOADER_SEABIOS_INFO_H
#define LOADER_SEABIOS_INFO_H

#include <stddef.h>
#include <stdint.h>

#define SEABIOS_INFO_ADDR 0x1000u
#define SEABIOS_INFO_SIGNATURE "XenHVMSeaBIOS"
#define SEABIOS_MAX_TABLES 4

struct seabios_info {
	char signature[14]; /* "XenHVMSeaBIOS\0" */
	uint8_t length;
	uint8_t checksum;
	uint32_t tables;    /* physical address of u32 table addresses */
	uint32_t tables_nr;
	uint32_t e820;      /* physical address of the E820 array */
	uint32_t e820_nr;
} __attribute__((packed));

void seabios_info_init(struct seabios_info *si, uint32_t tables, uint32_t e820, uint32_t e820_nr);
/* Appends a BIOS table (RSDP, MP floating pointer, SMBIOS entry point) to
 * the array at si->tables; returns -1 when full. */
int seabios_info_add_table(struct seabios_info *si, uint32_t *tables, uint32_t table_addr);
/* Sets the checksum so the bytes [0, length) sum to zero. */
void seabios_info_finish(struct seabios_info *si);
/* The check SeaBIOS applies (validate_info) to the `avail` bytes at table:
 * 0 if it would accept them. SeaBIOS sums `length` bytes, wherever that
 * ends; here a length beyond `avail` is rejected (-2) rather than read. */
int seabios_info_check(const void *table, size_t avail);

#endif
