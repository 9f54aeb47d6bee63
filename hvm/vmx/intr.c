/*
 * Interrupt delivery to a vCPU. Two sources: the vCPU's local APIC (IPIs,
 * its timer, I/O APIC messages; the highest IRR vector above the processor
 * priority) and, for vCPU 0 only, the 8259A pair as ExtINT through LINT0
 * (virtual wire, or straight to the core while the APIC is globally off).
 * Before every VM entry time-driven devices raise what is due, and one
 * vector is injected if the guest can take it (RFLAGS.IF=1, no STI/MOV-SS
 * blocking, SDM 26.3.1.5); otherwise interrupt-window exiting brings us
 * back the moment it can. The 8259A goes first, as its INTR line is not
 * subject to the local APIC's priorities.
 *
 * A start-up IPI is applied here too, since only here is the target's
 * VMCS current: real mode at CS = vector << 8, IP = 0 (SDM 8.4.4.1).
 */
#include "vmcs.h"
#include <keel/guest.h>
#include <keel/tsc.h>
#include <keel/vmx.h>
#include <x86/cpu.h>
#include <x86/io.h>

#include "exit.h"
#include "vcpu_state.h"
#include "vmx.h"

void vmx_intr_requeue_event(struct vcpu *v, uint32_t idt)
{
	/* The exit interrupted the delivery of this event: deliver it again
	 * (SDM 27.2.4 / 28.2.1). */
	vmwrite(VMCS_ENTRY_INTR_INFO, idt & ~INTR_INFO_NMI_UNBLOCKED_BY_IRET);
	if (idt & INTR_INFO_DELIVER_ERROR_CODE)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, vmread(VMCS_IDT_VECTORING_ERROR_CODE));
	uint32_t type = idt & INTR_INFO_TYPE_MASK;
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

static bool pic_ready(struct vcpu *v)
{
	return v->id == 0 && vlapic_accepts_pic(&v->lapic) && vpic_pending_vector(&v->guest->pic) >= 0;
}

static void start_at_sipi(struct vcpu *v)
{
	vmcs_set_guest_real_mode(v, v->start_cs, (uint64_t)v->start_cs << 4, v->start_ip);
	vcpu_state_init_signal(v); /* the rest of what INIT resets */
	v->init_pending = false;
	v->start_pending = false;
	v->event_pending = false;
	v->halted_if = false;
	v->halted_nmi_blocked = false;
}

static void set_nmi_window_exiting(bool on)
{
	if (!(vmx_caps.proc_ctls & PROC_NMI_WINDOW_EXITING))
		return;
	uint32_t proc = (uint32_t)vmread(VMCS_PROC_BASED_CTLS);
	uint32_t want = on ? proc | PROC_NMI_WINDOW_EXITING : proc & ~PROC_NMI_WINDOW_EXITING;
	if (want != proc)
		vmwrite(VMCS_PROC_BASED_CTLS, want);
}

/* An NMI IPI is injected when nothing blocks it (SDM 26.3.1.5). While
 * something does, it stays pending, as the architecture holds it: above
 * all an NMI sent while the guest's NMI handler runs waits for the IRET
 * that ends NMI blocking. With virtual NMIs, NMI-window exiting brings us
 * back right after that IRET (or after the event queued for this entry);
 * STI blocking, which some CPUs refuse NMI injection under, ends with the
 * next instruction: the interrupt window serves (*irq_window). Without
 * virtual NMIs it is tried again at the next exit. */
static bool inject_nmi(struct vcpu *v, bool *irq_window)
{
	*irq_window = false;
	if (!__atomic_load_n(&v->lapic.nmi_pending, __ATOMIC_ACQUIRE)) {
		set_nmi_window_exiting(false);
		return false;
	}
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & INTERRUPTIBILITY_NMI)
		vlapic_limit_nmi_to_one(&v->lapic); /* in its handler: one latched, the rest merge */
	if (v->event_pending || (intr & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_MOV_SS))) {
		set_nmi_window_exiting(true);
		return false;
	}
	if (intr & INTERRUPTIBILITY_STI) {
		set_nmi_window_exiting(false);
		*irq_window = true;
		return false;
	}
	vlapic_take_nmi(&v->lapic);
	/* A second one waits for this one's IRET: the injection sets NMI
	 * blocking, and the window exit comes as it ends. */
	set_nmi_window_exiting(__atomic_load_n(&v->lapic.nmi_pending, __ATOMIC_ACQUIRE) != 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | X86_EXC_NMI);
	v->event_pending = true;
	return true;
}

static bool choose_injection(struct vcpu *v);

/* Called with v's VMCS current, right before entering it. */
void vmx_intr_prepare_entry(struct vcpu *v)
{
	bool window = choose_injection(v);
	if (vmx_caps.apicv)
		window |= apicv_prepare_entry(v); /* the CPU delivers the APIC's vectors */
	else
		vcpu_tpr_to_shadow(v); /* after the ack, which may change the threshold */
	set_window_exiting(window);
}

/* Whether the guest takes an external interrupt at the next instruction
 * boundary (SDM Vol. 3C 26.3.1.5 for injection, 29.2.2 for virtual
 * interrupts). */
bool vmx_guest_interruptible(void)
{
	return (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/* Queues the event to inject at this entry, if any; returns whether
 * interrupt-window exiting is wanted. */
static bool choose_injection(struct vcpu *v)
{
	bool nmi_waits;
	if (__atomic_load_n(&v->start_pending, __ATOMIC_ACQUIRE))
		start_at_sipi(v);
	inject_nmi(v, &nmi_waits);
	bool from_pic = pic_ready(v);
	/* With virtual-interrupt delivery the local APIC's vectors are not
	 * injected: RVI tells the CPU (apicv.c), which delivers them itself. */
	int vec = from_pic ? 0 : vmx_caps.apicv ? -1 : vlapic_pending_vector(&v->lapic);
	if ((!from_pic && vec < 0) || v->event_pending) {
		/* Nothing to deliver, or an event is already queued for this
		 * entry: ask to come back once it has been delivered. */
		return from_pic || vec >= 0 || nmi_waits;
	}
	/* A pending single-step trap (priority 4, SDM Vol. 3A 6.9) goes
	 * before an external interrupt (5); an injected event would make the
	 * entry drop it. */
	if (!vmx_guest_interruptible() || (vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_BS))
		return true;
	vec = from_pic ? vpic_ack(&v->guest->pic) : vlapic_ack(&v->lapic);
	v->guest->devices_dirty = true; /* a pending tick was taken: timers matter again */
	if (vec < 0)
		return nmi_waits;
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXT_INTR | (uint32_t)vec);
	v->event_pending = true;
	return nmi_waits;
}

/* Whether a halted vCPU has something to wake up for. */
bool vcpu_interrupt_ready(struct vcpu *v)
{
	/* An NMI ends HLT even with interrupts off, unless NMIs are blocked:
	 * halted inside its NMI handler, the vCPU waits for an interrupt; the
	 * NMI comes at the next IRET. */
	if (__atomic_load_n(&v->lapic.nmi_pending, __ATOMIC_ACQUIRE) && !v->halted_nmi_blocked)
		return true;
	if (!v->halted_if)
		return false;
	return pic_ready(v) || vlapic_pending_vector(&v->lapic) >= 0;
}
