/* Per-vCPU registers that VMX does not switch (hvm/vmx/vcpu_state.c). */
#ifndef HVM_VMX_VCPU_STATE_H
#define HVM_VMX_VCPU_STATE_H

#include <keel/vcpu.h>
#include <keel/vmx.h>
#include <keel/xstate.h>
#include <x86/vmx.h>

/* The host's XSAVE layout and what guests are offered (CPUID leaf 0xD). */
extern struct xstate_layout guest_xstate;

/* Once, on the boot CPU: decide XSAVE or FXSAVE and the offered
 * components; prints one line. */
void vcpu_state_probe(void);
/* On every CPU before its first VMCS: CR4.OSFXSR/OSXSAVE and XCR0. */
void vcpu_state_enable_cpu(unsigned cpu);

/* A new vCPU's pages (XSAVE image, virtual-APIC page) and power-on
 * values; -1 when out of memory. Freed by vcpu_state_free. */
int vcpu_state_alloc(struct vcpu *v);
void vcpu_state_free(struct vcpu *v);

/* v leaves / enters `cpu` (hvm/core/sched.c: vcpu_put, vmx_vcpu_load). */
void vcpu_state_save(struct vcpu *v, unsigned cpu);
void vcpu_state_load(struct vcpu *v, unsigned cpu);

/* XSETBV from the guest (v's state live on this CPU): -1 for #GP. */
int vcpu_set_xcr0(struct vcpu *v, uint64_t val);
/* INIT (SDM 9.1, table 9-1): XCR0, DR0-DR3 and DR6 to their reset values;
 * the x87/SSE/AVX registers keep their contents. v's state live here. */
void vcpu_state_init_signal(struct vcpu *v);

/* The TPR shadow: the guest's MOV CR8 writes the TPR in the virtual-APIC
 * page, which is the local APIC model's own register (vlapic.regs), so
 * nothing is copied; before an entry, the TPR threshold is set so that a
 * TPR write that unblocks a waiting interrupt exits. */
void vcpu_tpr_to_shadow(struct vcpu *v);

#endif
