/*
 * The little of ACPI Keel reads from the host: the MADT, to learn which
 * processors the machine has (ACPI 6.5, 5.2.5 RSDP, 5.2.7 RSDT, 5.2.8 XSDT,
 * 5.2.12 MADT). Pure logic: tables are reached through a map callback, so
 * the parser runs on the host in unit tests and the fuzzer.
 */
#ifndef KEEL_ACPI_H
#define KEEL_ACPI_H

#include <keel/types.h>

#define ACPI_MAX_CPUS 64

/* Returns a pointer to `len` readable bytes at physical address `pa`, or
 * NULL if they cannot be reached. A pointer stays valid until the parser
 * returns; the parser holds at most two at a time (a root table and one
 * table it lists). */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t pa, uint64_t len);

struct acpi_cpus {
	unsigned nr;                    /* usable processors found (enabled or online-capable) */
	uint32_t apic_id[ACPI_MAX_CPUS]; /* in MADT order */
	unsigned nr_disabled;           /* entries neither enabled nor online-capable */
	unsigned nr_dropped;            /* usable ones beyond ACPI_MAX_CPUS */
	uint64_t lapic_base;            /* from the MADT (or its 64-bit override) */
	bool pcat_compat;               /* MADT flag: the machine also has 8259s */
	unsigned nr_ioapics;
	unsigned nr_x2apic_entries;     /* type-9 entries, usable or not (the firmware uses 32-bit ids) */
	uint32_t max_apic_id;           /* the largest id among the usable ones */
};

/* Finds the MADT from an RSDP copy (the multiboot2 tag's 20 or 36 bytes)
 * and lists the processors. Returns 0, or -1 with the reason in err
 * (e.g. "RSDT at 0x7fe0000: bad checksum"). */
int acpi_find_cpus(const uint8_t *rsdp, unsigned rsdp_len, acpi_map_fn map, void *ctx, struct acpi_cpus *out,
		   char *err, size_t errlen);

#endif
