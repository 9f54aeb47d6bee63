/* Builds the MP table and the ACPI MADT tables at the addresses a boot
 * path chose: in scratch memory SeaBIOS copies them from on the firmware
 * path, in the BIOS area 0xF0000-0xFFFFF a kernel scans on the direct path. */
#include "smp_tables.h"

#include "acpi.h"
#include "loader.h"
#include "mptable.h"

int smp_tables_build(const struct smp_tables_at *at, unsigned nr_vcpus, bool acpi_power_management)
{
	uint32_t a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	struct topology t = { nr_vcpus, a, d };
	size_t mp = mptable_build((struct mp_float *)(uintptr_t)at->mp_float, (void *)(uintptr_t)at->mp_config,
				  at->mp_config, at->mp_config_max, &t);
	size_t acpi = acpi_build((struct acpi_rsdp *)(uintptr_t)at->rsdp, (void *)(uintptr_t)at->acpi, at->acpi,
				 at->acpi_max, &t, acpi_power_management);
	if (!mp || !acpi)
		return -1;
	print("hvmloader: MP table (%u bytes) at %#x, ACPI RSDP at %#x, RSDT/XSDT/MADT%s at %#x: %u CPU(s), "
	      "I/O APIC %u\n",
	      (unsigned)mp, at->mp_float, at->rsdp, acpi_power_management ? "/FADT/FACS/DSDT" : "", at->acpi, t.nr_cpus,
	      TOPO_IOAPIC_ID);
	return 0;
}
