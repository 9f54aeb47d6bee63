/*
 * The task-switch VM exit (SDM Vol. 3C 26.4.2): the guest's state from the
 * VMCS into struct ts_state, the switch itself (pure, hvm/task_switch.c),
 * and the result back into the VMCS, with the fault the switch raised, if
 * any, injected in the task it belongs to.
 */
#include <keel/guest.h>
#include <keel/page_walk.h>
#include <keel/task_switch.h>
#include <x86/cpu.h>

#include "exit.h"
#include "vmcs.h"
#include "vmx.h"

/* Guest memory by linear address for the switch; the first failure is kept. */
struct ts_access {
	struct vcpu *v;
	bool page_fault;
	uint32_t fault_la, pf_error;
	uint64_t outside_gpa; /* nonzero: no RAM there */
};

static bool access(struct ts_access *a, uint32_t la, void *buf, unsigned len, bool write)
{
	uint8_t *p = buf;
	while (len) {
		unsigned n = PAGE_SIZE - (la & (PAGE_SIZE - 1));
		if (n > len)
			n = len;
		uint64_t gpa;
		uint32_t err;
		enum page_walk_status st =
			vcpu_translate_implicit(a->v, la, write ? PAGE_WRITE : PAGE_READ, &gpa, &err);
		if (st == PAGE_WALK_FAULT) {
			a->page_fault = true;
			a->fault_la = la;
			a->pf_error = err;
			return false;
		}
		if (st != PAGE_WALK_OK || !(write ? guest_write_phys(a->v->guest, gpa, p, n)
						  : guest_read_phys(a->v->guest, gpa, p, n))) {
			a->outside_gpa = st == PAGE_WALK_OK ? gpa : ~0ULL;
			return false;
		}
		la += n;
		p += n;
		len -= n;
	}
	return true;
}

static bool ts_read(void *ctx, uint32_t la, void *buf, unsigned len) { return access(ctx, la, buf, len, false); }
static bool ts_write(void *ctx, uint32_t la, const void *buf, unsigned len)
{
	return access(ctx, la, (void *)buf, len, true);
}

static void state_from_vmcs(struct vcpu *v, struct ts_state *s, uint32_t return_eip)
{
	s->eip = return_eip;
	s->eflags = (uint32_t)vmread(VMCS_GUEST_RFLAGS);
	for (unsigned i = 0; i < 8; i++)
		s->gpr[i] = (uint32_t)vcpu_gpr_read(v, i);
	_Static_assert((int)TS_ES == SEG_ES && (int)TS_LDTR == SEG_LDTR && (int)TS_TR == SEG_TR,
		       "the task switch's segment order is the VMCS table's");
	for (unsigned i = 0; i < TS_NR_SEGS; i++)
		s->seg[i] = (struct ts_seg){ (uint16_t)vmread(vmcs_segs[i].sel), (uint32_t)vmread(vmcs_segs[i].base),
					     (uint32_t)vmread(vmcs_segs[i].limit), (uint32_t)vmread(vmcs_segs[i].ar) };
	s->cr0 = (uint32_t)vmread(VMCS_CR0_READ_SHADOW);
	s->cr3 = (uint32_t)vmread(VMCS_GUEST_CR3);
	s->dr7 = (uint32_t)vmread(VMCS_GUEST_DR7);
	s->gdt_base = (uint32_t)vmread(VMCS_GUEST_GDTR_BASE);
	s->gdt_limit = (uint32_t)vmread(VMCS_GUEST_GDTR_LIMIT);
	s->idt_base = (uint32_t)vmread(VMCS_GUEST_IDTR_BASE);
	s->idt_limit = (uint32_t)vmread(VMCS_GUEST_IDTR_LIMIT);
}

/* The new task into the VMCS. -1: its CR3 has invalid PAE PDPTEs. */
static int state_to_vmcs(struct vcpu *v, const struct ts_state *s, const struct ts_state *old)
{
	vmwrite(VMCS_GUEST_RIP, s->eip);
	vmwrite(VMCS_GUEST_RFLAGS, s->eflags);
	for (unsigned i = 0; i < 8; i++)
		vcpu_gpr_write(v, i, s->gpr[i]);
	for (unsigned i = 0; i < TS_NR_SEGS; i++) {
		vmwrite(vmcs_segs[i].sel, s->seg[i].sel);
		vmwrite(vmcs_segs[i].base, s->seg[i].base);
		vmwrite(vmcs_segs[i].limit, s->seg[i].limit);
		vmwrite(vmcs_segs[i].ar, s->seg[i].ar);
	}
	vmwrite(VMCS_GUEST_DR7, s->dr7);
	/* Whatever blocked events before the switch ended with it. */
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmread(VMCS_GUEST_INTERRUPTIBILITY) &
						     ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	if (s->cr0 != old->cr0)
		vmcs_set_guest_cr0((vmread(VMCS_CR0_READ_SHADOW) & ~0xffffffffULL) | s->cr0);
	if (s->cr3 != old->cr3 && vcpu_write_cr3(v, s->cr3) < 0)
		return -1;
	return 0;
}

enum exit_action exit_task_switch(struct vcpu *v)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	struct ts_request req = { .sel = (uint16_t)q, .source = (enum ts_source)((q >> 30) & 3) };
	/* The old task resumes after the instruction that switched, or after
	 * INT n / INT3 / INTO; a fault or interrupt returns to RIP itself. */
	bool after_instruction = req.source != TS_FROM_GATE;
	uint32_t event_type = idt & INTR_INFO_TYPE_MASK;
	if (req.source == TS_FROM_GATE && (idt & INTR_INFO_VALID)) {
		req.vector = idt & INTR_INFO_VECTOR_MASK;
		req.sw_interrupt = event_type == INTR_TYPE_SW_INTR || event_type == INTR_TYPE_SW_EXCEPTION;
		req.has_error = idt & INTR_INFO_DELIVER_ERROR_CODE;
		req.error = (uint32_t)vmread(VMCS_IDT_VECTORING_ERROR_CODE);
		after_instruction = req.sw_interrupt || event_type == INTR_TYPE_PRIV_SW_EXCEPTION;
		/* The switch delivers the event: it must not be injected again. */
		vmwrite(VMCS_ENTRY_INTR_INFO, 0);
		v->event_pending = false;
	}
	if (vmread(VMCS_GUEST_IA32_EFER) & EFER_LMA) {
		guest_stop(v->guest, "task switch exit in IA-32e mode at RIP %#lx (the CPU allows none)", rip);
		return EXIT_STOPPED;
	}
	uint32_t eip = (uint32_t)(rip + (after_instruction ? vmread(VMCS_EXIT_INSTRUCTION_LEN) : 0));

	struct ts_state s, old;
	state_from_vmcs(v, &s, eip);
	old = s;
	struct ts_access a = { .v = v };
	const struct ts_memory mem = { ts_read, ts_write, &a };
	struct ts_result r = task_switch(&s, &req, &mem);

	if (r.status == TASK_SWITCH_UNSUPPORTED) {
		guest_stop(v->guest,
			   "task switch to TSS selector %#x at RIP %#lx involves a 16-bit (80286) TSS, which Keel "
			   "does not emulate",
			   req.sel, rip);
		return EXIT_STOPPED;
	}
	if (r.status == TASK_SWITCH_MEMORY && !a.page_fault) {
		guest_stop(v->guest, "task switch to TSS selector %#x at RIP %#lx: a TSS or descriptor is outside the "
				     "guest's RAM (guest-physical %#lx)",
			   req.sel, rip, a.outside_gpa);
		return EXIT_STOPPED;
	}
	if (r.switched) {
		if (state_to_vmcs(v, &s, &old) < 0) {
			vcpu_inject_exception(v, X86_EXC_GP, true, 0);
			return EXIT_RESUME;
		}
		if (req.source == TS_FROM_GATE && event_type == INTR_TYPE_NMI)
			/* An NMI handler task runs with NMIs blocked until its IRET. */
			vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
				vmread(VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_NMI);
	}
	if (r.status == TASK_SWITCH_MEMORY)
		vcpu_inject_page_fault(v, a.fault_la, a.pf_error);
	else if (r.status == TASK_SWITCH_FAULT)
		vcpu_inject_exception(v, r.fault_vector, true, r.fault_error);
	return EXIT_RESUME;
}
