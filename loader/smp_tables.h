/* The MP table and the ACPI RSDP/RSDT/XSDT/MADT a guest finds its vCPUs
 * and interrupt routing in, placed where each boot path wants them. */
#ifndef LOADER_SMP_TABLES_H
#define LOADER_SMP_TABLES_H

#include <stdbool.h>
#include <stdint.h>

struct smp_tables_at {
	uint32_t mp_float;                /* MP floating pointer (16 bytes) */
	uint32_t mp_config, mp_config_max; /* MP configuration table */
	uint32_t rsdp;                    /* ACPI RSDP (36 bytes) */
	uint32_t acpi, acpi_max;          /* RSDT, XSDT and MADT */
};

/* Builds both sets of tables for nr_vcpus vCPUs (their signature and
 * features from our own CPUID) and says where they are. Returns -1 when
 * they do not fit (more vCPUs than the tables have room for). */
int smp_tables_build(const struct smp_tables_at *at, unsigned nr_vcpus, bool acpi_power_management);

#endif
