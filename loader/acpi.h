/* ACPI tables for the guest's interrupt topology (ACPI 6.x, sections 5.2.5
 * RSDP, 5.2.7 RSDT, 5.2.8 XSDT, 5.2.12 MADT). Pure builder. SeaBIOS's Xen
 * path copies only the RSDP into its F segment (copy_acpi_rsdp); the other
 * tables stay where hvmloader put them, in memory the E820 map marks ACPI. */
#ifndef LOADER_ACPI_H
#define LOADER_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/vpm.h>

#include "topology.h"

struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	uint8_t checksum;  /* of the first 20 bytes */
	char oem[6];
	uint8_t revision;  /* 2: the XSDT fields exist */
	uint32_t rsdt;
	uint32_t length;   /* 36 */
	uint64_t xsdt;
	uint8_t ext_checksum; /* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum; /* the whole table sums to 0 */
	char oem[6];
	char oem_table[8];
	uint32_t oem_revision;
	char creator[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* MADT interrupt controller structure types. */
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_LAPIC_NMI = 4 };
#define MADT_PCAT_COMPAT 1 /* the 8259A pair is present */

#define ACPI_FADT_LENGTH 244
#define ACPI_FACS_LENGTH 64
/* FADT IAPC_BOOT_ARCH and flags (ACPI 5.2.9.3, 5.2.9). */
#define ACPI_IAPC_LEGACY_DEVICES (1u << 0)
#define ACPI_IAPC_8042 (1u << 1)
#define ACPI_FADT_WBINVD (1u << 0)
#define ACPI_FADT_PROC_C1 (1u << 2)
#define ACPI_FADT_PWR_BUTTON (1u << 4) /* set: no fixed-feature power button */
#define ACPI_FADT_SLP_BUTTON (1u << 5) /* set: no fixed-feature sleep button */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)

/* Builds the RSDP at rsdp and the RSDT, XSDT and MADT in [tables,
 * tables + max), whose guest-physical address is tables_pa; with
 * power_management also the FADT, FACS and DSDT. Returns the bytes used in
 * `tables`, or 0 if they do not fit or nr_cpus is wrong. */
size_t acpi_build(struct acpi_rsdp *rsdp, void *tables, uint32_t tables_pa, size_t max, const struct topology *t,
		  bool power_management);

#endif
