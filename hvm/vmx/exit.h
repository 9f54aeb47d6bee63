/* Internal interface of the VM-exit handlers (hvm/vmx/). */
#ifndef HVM_VMX_EXIT_H
#define HVM_VMX_EXIT_H

#include <keel/cpu.h>
#include <keel/exit_stats.h>
#include <keel/guest.h>
#include <keel/page_walk.h>
#include <keel/vcpu.h>
#include <keel/vcpu_arch.h>
#include <x86/cpu.h>

#include "vmx.h"

/* What a handler wants done next. */
enum exit_action {
	EXIT_RESUME, /* re-enter this vCPU (the scheduler may still switch) */
	EXIT_YIELD,  /* this vCPU cannot run now (halted, waiting) */
	EXIT_STOPPED /* the handler stopped the guest */
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v);

enum exit_action exit_io(struct vcpu *v);
enum exit_action exit_rdmsr(struct vcpu *v);
enum exit_action exit_wrmsr(struct vcpu *v);
enum exit_action exit_vmcall(struct vcpu *v);
enum exit_action exit_cpuid(struct vcpu *v);
enum exit_action exit_task_switch(struct vcpu *v); /* task_switch_exit.c */
/* APIC virtualization (apicv.c). */
enum exit_action exit_apic_write(struct vcpu *v);
enum exit_action exit_virtualized_eoi(struct vcpu *v);
enum exit_action exit_apic_access(struct vcpu *v);
/* Its VMCS fields of a new vCPU; RVI, SVI and the EOI-exit bitmap before
 * an entry. No-ops without APIC virtualization. */
void apicv_vmcs_init(struct vcpu *v);
/* RVI, SVI and the EOI-exit bitmap for this entry; true if a virtual
 * interrupt must wait for an interrupt-window exit (apicv.c says why). */
bool apicv_prepare_entry(struct vcpu *v);
bool vmx_guest_interruptible(void);
/* Writes the VMX-preemption timer for this entry on the CPU pc: `ticks` (at
 * most 2^32 - 1), or 0 if a kick came meanwhile (vcpu_arch_kick_arrived:
 * its own 0 was undone by the first write; one after finds its 0). */
static inline void vmx_arm_preemption_timer(struct pcpu *pc, uint64_t ticks)
{
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffULL ? 0xffffffffULL : ticks);
	if (__atomic_load_n(&pc->kicked, __ATOMIC_RELAXED) && __atomic_exchange_n(&pc->kicked, false, __ATOMIC_RELAXED))
		vmwrite(VMCS_PREEMPTION_TIMER_VALUE, 0);
}
/* After a write to IA32_APIC_BASE: the vCPU's controls and MSR bitmap
 * for xAPIC or x2APIC mode, and the APIC-access page in the EPT only
 * while every vCPU's APIC is enabled in xAPIC mode. */
void apicv_apic_base_written(struct vcpu *v);
/* Whether guests get an x2APIC MSR bitmap (virtualize x2APIC mode). */
bool apicv_x2apic_msr_bitmap(void);
/* After the model completed a guest write to the register at page offset
 * off (an APIC-write exit, an x2APIC WRMSR): the log of vcpu_apic_written,
 * and the timer's new deadline or a re-evaluation of the devices. */
void vcpu_apic_reg_written(struct vcpu *v, uint32_t off, uint64_t undeliverable_before);
/* After a guest write to its local APIC: logs (rate-limited) an IPI that
 * reached no APIC, given the bus's count of such messages before it. */
void vcpu_apic_written(struct vcpu *v, uint64_t undeliverable_before);

/* Past the instruction that exited. Inline: most exits end here. */
static inline void vcpu_skip_instruction(struct vcpu *v)
{
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTRUCTION_LEN));
	/* The instruction completed, so blocking by STI / MOV SS ends (SDM 25.4.2). */
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	/* Single-stepping: the instruction Keel completed owes the guest its
	 * trap. An exit caused by the instruction need not record it (some
	 * CPUs do, in the pending debug exceptions); set it so the VM entry
	 * delivers the #DB before anything else (vmx_intr_prepare_entry
	 * holds back interrupts while it is pending). */
	if (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_TF)
		vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
			vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) | PENDING_DBG_BS);
}

void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error);
/* General register n in the instruction encoding's order (SDM Vol. 2
 * table 2-2: RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15); RSP is in
 * the VMCS, the others in v->regs. */
uint64_t vcpu_gpr_read(struct vcpu *v, unsigned n);
void vcpu_gpr_write(struct vcpu *v, unsigned n, uint64_t val);
/* CPL of the guest, from SS.DPL (SDM 5.5). */
unsigned vcpu_cpl(void);
/* Guest linear address to guest-physical for an access of kind acc, as
 * the CPU would translate it (hvm/vmx/guest_walk.c). PAGE_WALK_FAULT: the
 * guest's #PF, with *pf_error its error code (nothing injected yet). */
enum page_walk_status vcpu_translate(struct vcpu *v, uint64_t la, enum page_access acc, uint64_t *gpa,
				     uint32_t *pf_error);
/* The same for the CPU's implicit supervisor accesses (GDT, TSS) at any CPL. */
enum page_walk_status vcpu_translate_implicit(struct vcpu *v, uint64_t la, enum page_access acc, uint64_t *gpa,
					      uint32_t *pf_error);
/* #PF with CR2 = la. */
void vcpu_inject_page_fault(struct vcpu *v, uint64_t la, uint32_t error);

/* Emulated MMIO (hvm/vmx/mmio.c): true if gpa belongs to an emulated
 * device, with *act what the EPT-violation handler returns. */
bool vmx_mmio_handle(struct vcpu *v, uint64_t gpa, uint64_t qual, enum exit_action *act);

/* Interrupts (hvm/vmx/intr.c; vcpu_interrupt_ready in <keel/vcpu_arch.h>). */
void vmx_intr_prepare_entry(struct vcpu *v);
/* An event whose delivery the exit interrupted (the IDT-vectoring
 * information, valid) is delivered again on the next entry (SDM 27.2.4). */
void vmx_intr_requeue_event(struct vcpu *v, uint32_t idt_vectoring_info);

void msr_bitmap_init(uint8_t *bitmap);
/* The bitmap of a vCPU in x2APIC mode with "virtualize x2APIC mode":
 * msr_bitmap_init's, plus the x2APIC MSRs the CPU virtualizes. */
void msr_bitmap_init_x2apic(uint8_t *bitmap);
void vcpu_msrs_save(struct vcpu *v);
void vcpu_msrs_load(struct vcpu *v);


#endif
