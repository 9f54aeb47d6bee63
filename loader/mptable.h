/* Intel MultiProcessor Specification 1.4 tables (pure builder). SeaBIOS's
 * Xen path copies the floating pointer and the configuration table into
 * its F segment (copy_mptable, src/fw/biostables.c): at most 600 bytes. */
#ifndef LOADER_MPTABLE_H
#define LOADER_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "topology.h"

#define MP_FLOAT_SIZE 16
#define MP_CONFIG_MAX 600

struct mp_float {
	char signature[4]; /* "_MP_" */
	uint32_t config;   /* physical address of the configuration table */
	uint8_t length;    /* in 16-byte units: 1 */
	uint8_t revision;  /* 4 = version 1.4 */
	uint8_t checksum;
	uint8_t feature[5]; /* feature[0] = 0: a configuration table exists;
			     * feature[1] bit 7 = 0: virtual-wire mode, no IMCR */
} __attribute__((packed));

struct mp_config {
	char signature[4]; /* "PCMP" */
	uint16_t length;   /* base table, header included */
	uint8_t revision;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entries;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IOINTR = 3, MP_LINTR = 4 };

struct mp_processor {
	uint8_t type, apic_id, apic_version, flags; /* flags: 1 enabled, 2 BSP */
	uint32_t signature, features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type, bus_id;
	char name[6]; /* "ISA   " */
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type, id, version, flags; /* flags: 1 usable */
	uint32_t address;
} __attribute__((packed));

/* I/O and local interrupt assignment entries share one layout. */
struct mp_intr {
	uint8_t type, kind; /* kind: 0 INT, 1 NMI, 2 SMI, 3 ExtINT */
	uint16_t flags;     /* polarity bits 1:0, trigger bits 3:2; 0 = bus default */
	uint8_t src_bus, src_irq;
	uint8_t dst_apic, dst_pin; /* local entries: 0xFF = every local APIC */
} __attribute__((packed));

/* Writes the floating pointer at fp and the configuration table at cfg,
 * whose guest-physical address is cfg_pa. Returns the configuration
 * table's length, or 0 if nr_cpus is out of range or it would not fit. */
size_t mptable_build(struct mp_float *fp, void *cfg, uint32_t cfg_pa, size_t cfg_max, const struct topology *t);

#endif
