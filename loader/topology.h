/* What the guest's firmware tables describe: CPUs, local APICs and the I/O
 * APIC, as Keel emulates them (hvm/dev/vlapic.c, hvm/dev/vioapic.c). Shared by the
 * MP table and ACPI builders. */
#ifndef LOADER_TOPOLOGY_H
#define LOADER_TOPOLOGY_H

#include <stdint.h>

#define TOPO_MAX_CPUS 8
#define TOPO_LAPIC_ADDR 0xfee00000u
#define TOPO_IOAPIC_ADDR 0xfec00000u
#define TOPO_IOAPIC_ID 8       /* after the APIC ids 0..7 of the CPUs */
#define TOPO_IOAPIC_VERSION 0x11
#define TOPO_IOAPIC_PINS 24
#define TOPO_LAPIC_VERSION 0x14
#define TOPO_ISA_IRQS 16

struct topology {
	unsigned nr_cpus;    /* vCPU i has APIC id i; 0 is the BSP */
	uint32_t cpu_signature; /* CPUID.1 EAX */
	uint32_t cpu_features;  /* CPUID.1 EDX */
};

/* ISA IRQ 0 (the PIT) is wired to I/O APIC input 2, every other ISA IRQ to
 * the input of its number (include/keel/virq.h says the same for Keel). */
static inline unsigned topo_isa_gsi(unsigned irq) { return irq == 0 ? 2 : irq; }

#endif
