/* What Keel learned about this CPU's VMX and the controls it chose. */
#ifndef KEEL_VMX_H
#define KEEL_VMX_H

#include <keel/types.h>

struct vmx_caps {
	uint64_t basic, misc, ept_vpid;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	/* Allowed settings: low 32 bits = allowed-0 (bits that must be 1),
	 * high 32 bits = allowed-1 (bits that may be 1). */
	uint64_t pin, proc, proc2, exit, entry;
	bool true_ctls;
	bool ept, unrestricted, vpid, preemption_timer, ept_2m, ept_1g;
	/* Virtualize APIC accesses, APIC-register virtualization and
	 * virtual-interrupt delivery, all three (hvm/vmx/apicv.c). */
	bool apicv;
	unsigned preemption_rate; /* timer counts once every 2^rate TSC ticks */
	/* Controls Keel runs every guest with (computed once, checked). */
	uint32_t pin_ctls, proc_ctls, proc2_ctls, exit_ctls, entry_ctls;
	uint64_t guest_cr4_allowed; /* CR4 bits a guest may set; the rest are Keel's */
};

extern struct vmx_caps vmx_caps;

/* Reads CPUID and the capability MSRs, prints one line per feature and
 * returns 0, or prints why VMX cannot be used and returns -1. */
int vmx_probe(void);
/* APIC virtualization for every guest if the CPU offers it and `allowed`
 * (Keel's apicv=off says no); prints which. Before any guest is created. */
void apicv_init(bool allowed);
/* VMXON on the calling CPU. Returns 0 or -1 after printing why. */
int vmx_enable_cpu(unsigned cpu);

#endif
