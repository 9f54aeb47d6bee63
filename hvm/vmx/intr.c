/*
 * Interrupt delivery to a vCPU. The guest's 8259 pair is wired to vCPU 0
 * (as on a PC with the local APIC in virtual-wire mode). Before every VM
 * entry: time-driven devices raise what is due, and the highest-priority
 * pending vector is injected if the guest can take it (RFLAGS.IF=1, no
 * STI/MOV-SS blocking, SDM 26.3.1.5); otherwise interrupt-window exiting
 * brings us back the moment it can.
 */
#include <keel/guest.h>
#include <keel/tsc.h>
#include <keel/vmx.h>
#include <x86/cpu.h>
#include <x86/io.h>

#include "exit.h"
#include "vmx.h"

void vmx_intr_save_pending_event(struct vcpu *v)
{
	uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
	v->event_pending = false;
	if (!(idt & INTR_INFO_VALID))
		return;
	/* The exit interrupted the delivery of this event: deliver it again
	 * (SDM 27.2.4 / 28.2.1). */
	vmwrite(VMCS_ENTRY_INTR_INFO, idt & ~(1u << 12));
	if (idt & INTR_INFO_DELIVER_ERROR_CODE)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, vmread(VMCS_IDT_VECTORING_ERROR_CODE));
	uint32_t type = idt & (7u << 8);
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_SW_EXCEPTION || type == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, vmread(VMCS_EXIT_INSTRUCTION_LEN));
	v->event_pending = true;
}

static void set_window_exiting(bool on)
{
	uint32_t proc = (uint32_t)vmread(VMCS_PROC_BASED_CTLS);
	uint32_t want = on ? proc | PROC_INTERRUPT_WINDOW_EXITING : proc & ~PROC_INTERRUPT_WINDOW_EXITING;
	if (want != proc)
		vmwrite(VMCS_PROC_BASED_CTLS, want);
}

/* Called with v's VMCS current, right before entering it. */
void vmx_intr_prepare_entry(struct vcpu *v)
{
	struct guest *g = v->guest;

	if (v->id != 0)
		return;
	int vec = vpic_pending_vector(&g->pic);
	if (vec < 0 || v->event_pending) {
		/* Nothing to deliver, or an event is already queued for this
		 * entry: ask to come back once it has been delivered. */
		set_window_exiting(vec >= 0);
		return;
	}
	bool can_take = (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
			!(vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	if (!can_take) {
		set_window_exiting(true);
		return;
	}
	vec = vpic_ack(&g->pic);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXT_INTR | (uint32_t)vec);
	v->event_pending = true;
	set_window_exiting(false);
}

/* Whether a halted vCPU has something to wake up for. */
bool vcpu_interrupt_ready(struct vcpu *v)
{
	if (v->id != 0 || !v->halted_if)
		return false;
	return vpic_pending_vector(&v->guest->pic) >= 0;
}
