/* What a guest sees from CPUID: the host's answer, filtered (pure logic). */
#ifndef KEEL_CPUID_H
#define KEEL_CPUID_H

#include <keel/types.h>

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

struct xstate_layout;

struct cpuid_guest_info {
	unsigned vcpu_id, nr_vcpus;
	const struct xstate_layout *xstate; /* what XSAVE offers guests; NULL: no XSAVE */
	uint64_t xcr0;  /* the vCPU's XCR0 (leaf 0xD sizes) */
	bool osxsave;  /* guest CR4.OSXSAVE (reflected in leaf 1 ECX) */
	bool rdtscp;   /* RDTSCP enabled for guests */
	bool apic;     /* the vCPU's local APIC is globally enabled (IA32_APIC_BASE.EN) */
	bool x2apic;   /* the guest's local APICs offer x2APIC mode (leaf 1 ECX[21], leaf 0xB) */
	bool no_xen;   /* Keel's leaf, not Xen's: a kernel booted directly, or the boot sector has run */
	uint64_t tsc_hz;       /* the TSC rate Keel uses (0: leaves 0x15/0x16 pass as they are) */
	bool host_tsc_leaves;  /* the host's leaf 0x15 stated that rate: its leaf 0x16 is right too */
};

/* Leaf 0xB's subleaf for a vCPU of nr_vcpus (x2APIC ID = vcpu_id). */
struct cpuid_regs cpuid_topology_leaf(uint32_t subleaf, unsigned vcpu_id, unsigned nr_vcpus);

/* Xen-compatible hypervisor leaves SeaBIOS's Xen path looks for. */
#define CPUID_XEN_BASE 0x40000000u
#define CPUID_XEN_HYPERCALL_MSR 0x40000000u
#define XEN_VERSION_MAJOR 4
#define XEN_VERSION_MINOR 17
/* Keel's own leaf, shown to the OS: "KeelKeelKeel" in EBX, ECX, EDX and
 * EAX = 0x40000000 (no further hypervisor leaves, no PV interface). */
#define CPUID_KEEL_BASE 0x40000000u
#define CPUID_KEEL_SIGNATURE 0x6c65654bu /* "Keel" */

/* Leaf 0x15 gives the TSC rate only with all three of EAX, EBX, ECX. */
static inline bool cpuid_leaf15_states_rate(struct cpuid_regs r) { return r.eax && r.ebx && r.ecx; }

/* Leaf 0x15 (TSC = crystal ECX x EBX / EAX) for a TSC running at tsc_hz,
 * given the host's leaf 0x15. Its ECX, the core crystal, is also the
 * guest's local APIC timer clock: kernels derive one from the other (Linux:
 * lapic_timer_period = crystal / HZ). */
struct cpuid_regs cpuid_tsc_leaf(uint64_t tsc_hz, struct cpuid_regs host);

/* host: what CPUID(leaf, subleaf) returned on the host. */
struct cpuid_regs cpuid_guest_filter(uint32_t leaf, uint32_t subleaf, struct cpuid_regs host,
				     const struct cpuid_guest_info *gi);

#endif
