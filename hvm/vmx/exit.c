/*
 * The VM-exit dispatcher. exit_kinds[] is the one list of every exit
 * reason Keel handles, with what the dispatcher needs to know of each;
 * anything else stops the guest with the reason, the qualification and
 * the guest RIP.
 */
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/format.h>
#include <keel/guest.h>
#include <keel/hvmloader_abi.h>
#include <keel/mm.h>
#include <keel/nmi.h>
#include <keel/tsc.h>
#include <keel/vmx.h>
#include <x86/cpu.h>
#include <x86/io.h>

#include "boot_sector_trap.h"
#include "exit.h"
#include "vcpu_state.h"
#include "vmcs.h"
#include "vmx.h"


/* Fault-class exceptions (table 6-1): the saved RIP is the faulting
 * instruction's. #DB is a fault only for instruction breakpoints, which
 * Keel never injects; #BP and #OF are traps, #DF and #MC aborts. */
static bool exception_is_fault(unsigned vector)
{
	switch (vector) {
	case X86_EXC_DE: case X86_EXC_BR: case X86_EXC_UD: case X86_EXC_NM: case X86_EXC_TS: case X86_EXC_NP:
	case X86_EXC_SS: case X86_EXC_GP: case X86_EXC_PF: case X86_EXC_MF: case X86_EXC_AC: case X86_EXC_XM:
	case X86_EXC_VE:
		return true;
	default:
		return false;
	}
}

void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error)
{
	uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector;
	/* No error code is pushed in real mode (SDM 26.2.1.3). */
	if (has_error && (vmread(VMCS_GUEST_CR0) & CR0_PE)) {
		info |= INTR_INFO_DELIVER_ERROR_CODE;
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, error);
	}
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
	v->event_pending = true;
	/* A fault pushes RFLAGS with RF set, so that the IRET back to the
	 * faulting instruction does not hit its instruction breakpoint again
	 * (SDM Vol. 3A 18.3.1.1). Injection pushes the RFLAGS of the VMCS:
	 * set RF there, as the CPU would have (the handler runs with RF
	 * clear; delivery clears it). */
	if (exception_is_fault(vector))
		vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
}

/* struct vcpu_regs keeps the encoding's order without RSP (entry.S). */
_Static_assert(offsetof(struct vcpu_regs, rbx) == 3 * 8 && offsetof(struct vcpu_regs, rbp) == 4 * 8 &&
		       offsetof(struct vcpu_regs, r15) == 14 * 8,
	       "struct vcpu_regs must list the registers in encoding order, RSP left out");

uint64_t vcpu_gpr_read(struct vcpu *v, unsigned n)
{
	n &= 15;
	return n == 4 ? vmread(VMCS_GUEST_RSP) : (&v->regs.rax)[n < 4 ? n : n - 1];
}

void vcpu_gpr_write(struct vcpu *v, unsigned n, uint64_t val)
{
	n &= 15;
	if (n == 4)
		vmwrite(VMCS_GUEST_RSP, val);
	else
		(&v->regs.rax)[n < 4 ? n : n - 1] = val;
}

unsigned vcpu_cpl(void) { return (vmread(VMCS_GUEST_SS_AR) >> 5) & 3; }

static uint64_t guest_rip(void) { return vmread(VMCS_GUEST_RIP); }

/* --- simple handlers -------------------------------------------------- */

static enum exit_action exit_hlt(struct vcpu *v)
{
	vcpu_skip_instruction(v);
	/* A single-step trap after HLT comes before the halt can end (and
	 * before the interrupt that would end it clears TF): deliver it now,
	 * as the instruction after HLT is where the trap returns to. */
	if (vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_BS)
		return EXIT_RESUME;
	v->halted_if = vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF;
	v->halted_nmi_blocked = vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_NMI;
	if (!v->halted_if) {
		guest_log(v->guest, GLOG_HALT_CLI, LOG_INFO,
			  "vCPU %u halted with interrupts disabled (cli; hlt) at RIP %#lx: it sleeps until an NMI, "
			  "a stop or a restart",
			  v->id, vmread(VMCS_GUEST_RIP));
		if (v->id == 0 && !v->guest->marks[MARK_HALTED]) {
			timeline_mark(v->guest, MARK_HALTED, v->exit_tsc);
			guest_timeline_print(v->guest);
			if (console_loglevel >= LOG_DEBUG)
				exit_stats_print(v->guest);
		}
	}
	v->state = VCPU_HALTED;
	return EXIT_YIELD;
}

static enum exit_action exit_nothing(struct vcpu *v)
{
	/* Preemption timer, interrupt window, external interrupt: the work
	 * (device deadlines, injection) happens before the next entry. */
	return EXIT_RESUME;
}

static enum exit_action exit_external_interrupt(struct vcpu *v)
{
	/* A host interrupt (the APIC timer) arrived while the guest ran. It is
	 * still pending in the local APIC: open a one-instruction window so the
	 * host handler takes and acknowledges it, or the next VM entry would
	 * exit again at once. */
	__asm__ volatile("sti; nop; cli" ::: "memory");
	return EXIT_RESUME;
}

static enum exit_action exit_exception_nmi(struct vcpu *v)
{
	uint32_t info = vmread(VMCS_EXIT_INTR_INFO);
	if ((info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI) {
		/* A host NMI arrived while the guest ran: another CPU panicked
		 * (stop here, the guest with us), the platform's (nmi_arrived),
		 * or a kick (nmi_kick), whose point was this exit: the next
		 * entry is prepared from the vCPU's new state. NMIs stay blocked
		 * after an NMI's exit until an IRET; the next kick must not wait
		 * for one. */
		if (panic_in_progress())
			cpu_park();
		nmi_arrived((unsigned)v->cpu); /* before NMIs are unblocked */
		nmi_unblock();
		return EXIT_RESUME;
	}
	guest_stop(v->guest, "unexpected exception exit (vector %u) at RIP %#lx", info & 0xff, guest_rip());
	return EXIT_STOPPED;
}

static enum exit_action exit_triple_fault(struct vcpu *v)
{
	/* A PC's chipset answers the CPU's shutdown cycle with a reset, so a
	 * triple fault is a reset request: on_reset: decides (hvm/core/guest.c). */
	struct guest *g = v->guest;
	char why[96];
	ksnprintf(why, sizeof(why), "triple fault at RIP %#lx, CS base %#lx, CR0 %#lx", guest_rip(),
		  vmread(VMCS_GUEST_CS_BASE), vmread(VMCS_CR0_READ_SHADOW));
	guest_events_reset(&g->events, why);
	return EXIT_STOPPED;
}

static enum exit_action exit_ud_not_offered(struct vcpu *v)
{
	/* Keel offers no nested VMX (nor GETSEC, MONITOR/MWAIT, VMFUNC): CPUID
	 * hides them, and the instructions raise #UD as on a CPU without them.
	 * A guest that tries anyway is probing: say so, rate-limited. */
	struct guest *g = v->guest;
	guest_log(g, GLOG_UD_INSN, LOG_INFO, "%s at RIP %#lx: #UD injected (not offered to guests)",
		  exit_reason_name(v->exit_reason), guest_rip());
	vcpu_inject_exception(v, X86_EXC_UD, false, 0);
	return EXIT_RESUME;
}

static enum exit_action exit_skip(struct vcpu *v)
{
	/* INVD, WBINVD (and WBNOINVD, which exits as WBINVD): guest memory is
	 * write-back and coherent, so there is nothing a guest needs flushed,
	 * and flushing every cache of the host would slow every other guest. */
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}

static enum exit_action exit_rdpmc(struct vcpu *v)
{
	/* CPUID offers no performance counters (leaf 0xA is hidden), so every
	 * counter index is invalid: #GP(0), as on a CPU without them. The
	 * host's counters are never read on a guest's behalf. */
	vcpu_inject_exception(v, X86_EXC_GP, true, 0);
	return EXIT_RESUME;
}

static const char *access_words(uint64_t q)
{
	if (q & EPT_QUAL_FETCH)
		return "instruction fetch from";
	if (q & EPT_QUAL_WRITE)
		return "write to";
	return "read from";
}

static enum exit_action exit_ept_violation(struct vcpu *v)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	uint64_t gpa = vmread(VMCS_GUEST_PHYSICAL_ADDR);
	struct guest *g = v->guest;
	enum exit_action act;
	if (boot_sector_trap_hit(v, gpa, q))
		return g->state == GUEST_RUNNING ? EXIT_RESUME : EXIT_STOPPED;
	/* The local APIC and I/O APIC pages are emulated, and loads and
	 * stores where nothing answers complete (hvm/vmx/mmio.c). */
	if (vmx_mmio_handle(v, gpa, q, &act))
		return act;
	/* What is left is outside RAM (mapped RWX) and not completed: an
	 * instruction fetch, an access Keel cannot decode, or any access of
	 * a guest configured with unclaimed:stop. Stop the guest. */
	guest_stop(g,
		   "%s guest-physical %#lx, outside its %lu MiB of RAM (no device there), at RIP %#lx (CS base "
		   "%#lx)%s%#lx",
		   access_words(q), gpa, g->ram_size >> 20, guest_rip(), vmread(VMCS_GUEST_CS_BASE),
		   (q & EPT_QUAL_GLA_VALID) ? ", linear address " : "", (q & EPT_QUAL_GLA_VALID) ? vmread(VMCS_GUEST_LINEAR_ADDR) : 0);
	return EXIT_STOPPED;
}

static enum exit_action exit_ept_misconfig(struct vcpu *v)
{
	guest_stop(v->guest, "EPT misconfiguration at guest-physical %#lx (a bug in Keel's EPT builder)",
		   vmread(VMCS_GUEST_PHYSICAL_ADDR));
	return EXIT_STOPPED;
}

/* MOV to CR4 that touched a bit Keel owns (vmcs.c's CR4 guest/host mask):
 * the checks the CPU's MOV to CR4 makes for those bits (SDM Vol. 2 MOV,
 * "Protected Mode Exceptions"); -1 for #GP. A bit Keel does not offer is
 * refused as on a CPU without the feature. */
static int guest_write_cr4(uint64_t val)
{
	uint64_t old = vmread(VMCS_GUEST_CR4);
	bool lma = vmread(VMCS_GUEST_IA32_EFER) & EFER_LMA;
	if (val & ~vmx_caps.guest_cr4_allowed)
		return -1;
	/* PCIDE: set only in IA-32e mode with CR3[11:0] = 0. (It must never
	 * reach the VMCS otherwise: VM entry requires the IA-32e-mode-guest
	 * control with it, SDM 26.3.1.1.) */
	if ((val & CR4_PCIDE) && !(old & CR4_PCIDE) && (!lma || (vmread(VMCS_GUEST_CR3) & 0xfff)))
		return -1;
	if (lma && !(val & CR4_PAE))
		return -1; /* IA-32e mode needs PAE */
	vmcs_set_guest_cr4(val);
	return 0;
}

static enum exit_action exit_cr_access(struct vcpu *v)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned cr = CR_QUAL_CR(q), type = CR_QUAL_TYPE(q), reg = CR_QUAL_GPR(q);
	uint64_t val = 0;

	if (type == CR_QUAL_TYPE_MOV_TO || type == CR_QUAL_TYPE_MOV_FROM)
		val = vcpu_gpr_read(v, reg);
	switch (type) {
	case CR_QUAL_TYPE_MOV_TO:
		if (cr == 0) {
			if (vcpu_write_cr0(v, val) < 0) { /* long_mode.c */
				vcpu_inject_exception(v, X86_EXC_GP, true, 0);
				return EXIT_RESUME;
			}
		} else if (cr == 4) {
			if (guest_write_cr4(val) < 0) {
				vcpu_inject_exception(v, X86_EXC_GP, true, 0);
				return EXIT_RESUME;
			}
		} else if (cr == 3) {
			if (vcpu_write_cr3(v, val) < 0) { /* long_mode.c: PAE PDPTEs */
				vcpu_inject_exception(v, X86_EXC_GP, true, 0);
				return EXIT_RESUME;
			}
		} else if (cr == 8) {
			/* CR8 exiting (no TPR shadow on this CPU): CR8 is TPR[7:4]. */
			if (val & ~0xfULL) {
				vcpu_inject_exception(v, X86_EXC_GP, true, 0);
				return EXIT_RESUME;
			}
			vlapic_set_tpr(&v->lapic, (uint8_t)(val << 4));
			v->guest->devices_dirty = true; /* an interrupt may be deliverable now */
		} else {
			guest_stop(v->guest, "MOV to CR%u at RIP %#lx is not supported", cr, guest_rip());
			return EXIT_STOPPED;
		}
		break;
	case CR_QUAL_TYPE_MOV_FROM: /* only CR3, and CR8 without a TPR shadow, exit */
		val = cr == 3 ? vmread(VMCS_GUEST_CR3) : cr == 8 ? (uint64_t)(vlapic_tpr(&v->lapic) >> 4) : 0;
		vcpu_gpr_write(v, reg, val);
		break;
	case CR_QUAL_TYPE_CLTS:
		vmcs_set_guest_cr0(vmread(VMCS_CR0_READ_SHADOW) & ~CR0_TS);
		break;
	case CR_QUAL_TYPE_LMSW: { /* loads CR0 bits 0-3, cannot clear PE */
		uint64_t src = CR_QUAL_LMSW_SOURCE(q), old = vmread(VMCS_CR0_READ_SHADOW);
		uint64_t nv = (old & ~0xeULL) | (src & 0xf) | (old & CR0_PE);
		vmcs_set_guest_cr0(nv);
		break;
	}
	}
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}

static enum exit_action exit_xsetbv(struct vcpu *v)
{
	/* XSETBV always exits (SDM 25.1.2); the CPU has already raised #UD
	 * for CR4.OSXSAVE = 0 and #GP for CPL > 0. Only XCR0 is writable, with
	 * the checks of SDM Vol. 2 XSETBV (xcr0_valid). */
	uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	if ((uint32_t)v->regs.rcx != 0 || vcpu_cpl() != 0 || vcpu_set_xcr0(v, val) < 0) {
		vcpu_inject_exception(v, X86_EXC_GP, true, 0);
		return EXIT_RESUME;
	}
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}

static const char *const guest_state_words[] = {
	[0] = "a guest-state field fails a consistency check (SDM 26.3.1)",
	[2] = "PDPTE loading failed (a PAE page-directory pointer is invalid)",
	[3] = "NMI injection blocked",
	[4] = "VMCS link pointer invalid",
};

static void dump_guest_state(void)
{
	kprintf("keel:   guest CR0 %#lx (shadow %#lx) CR4 %#lx (shadow %#lx) CR3 %#lx EFER %#lx\n",
		vmread(VMCS_GUEST_CR0), vmread(VMCS_CR0_READ_SHADOW), vmread(VMCS_GUEST_CR4),
		vmread(VMCS_CR4_READ_SHADOW), vmread(VMCS_GUEST_CR3), vmread(VMCS_GUEST_IA32_EFER));
	kprintf("keel:   RIP %#lx RSP %#lx RFLAGS %#lx activity %lu interruptibility %#lx entry-ctls %#lx\n",
		vmread(VMCS_GUEST_RIP), vmread(VMCS_GUEST_RSP), vmread(VMCS_GUEST_RFLAGS),
		vmread(VMCS_GUEST_ACTIVITY_STATE), vmread(VMCS_GUEST_INTERRUPTIBILITY), vmread(VMCS_ENTRY_CTLS));
	static const enum vmcs_seg shown[] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_TR, SEG_LDTR };
	for (unsigned i = 0; i < ARRAY_SIZE(shown); i++) {
		const struct vmcs_seg_fields *f = &vmcs_segs[shown[i]];
		kprintf("keel:   %-4s sel %#06lx base %#010lx limit %#010lx access %#06lx\n", f->name, vmread(f->sel),
			vmread(f->base), vmread(f->limit), vmread(f->ar));
	}
}

static enum exit_action exit_entry_failure(struct vcpu *v)
{
	uint32_t basic = v->exit_reason & 0xffff;
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	const char *words = q < ARRAY_SIZE(guest_state_words) && guest_state_words[q] ? guest_state_words[q]
										       : "unknown qualification";
	pr_err("guest %s: VM entry failed: %s (exit reason %u, qualification %lu: %s)\n", v->guest->name,
	       exit_reason_name(basic), basic, q, words);
	dump_guest_state();
	guest_stop(v->guest, "VM entry failed: %s", exit_reason_name(basic));
	return EXIT_STOPPED;
}

/* What the dispatcher knows of a reason besides its handler. */
enum {
	/* The CPU fills the exit qualification (SDM 28.2.1 lists these
	 * reasons; for the others it clears the field, and reading it would
	 * only cost a VMREAD). */
	EXIT_QUAL = 1u << 0,
	/* Caused by executing an instruction, so never during the delivery
	 * of an event: no IDT-vectoring information to read (SDM 28.2.4). */
	EXIT_INSN = 1u << 1,
	/* Quiet: the handler cannot raise an interrupt, touch a timer or
	 * change what the vCPU waits for, or it marks the guest's devices
	 * dirty when it did; the exit may go straight back (resume_directly).
	 * CPUID, RDMSR, VMCALL (a blocking hypercall changes the vCPU's
	 * state, which resume_directly checks); port I/O (exit_io marks a
	 * retimed timer or interrupt controller, or a moved interrupt line);
	 * emulated MMIO and the APIC's writes (mmio.c, apicv.c: a write that
	 * may move a timer or an interrupt's routing marks the devices dirty,
	 * an interrupt raised goes through the APIC bus, an injected page
	 * fault is a pending event). SeaBIOS's per-character debug output
	 * alone is two thirds of the exits of a boot, its device probing most
	 * of the rest. */
	EXIT_DIRECT = 1u << 2,
};

struct exit_kind {
	exit_handler_fn handle;
	uint8_t flags;
};

/* The one table: exit reason -> handler, and what the dispatcher needs. */
static const struct exit_kind exit_kinds[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = { exit_exception_nmi, EXIT_QUAL },
	[EXIT_REASON_EXTERNAL_INTERRUPT] = { exit_external_interrupt, 0 },
	[EXIT_REASON_TRIPLE_FAULT] = { exit_triple_fault, 0 },
	/* No INIT-signal exit: a guest's INIT IPIs are the APIC model's
	 * (hvm/core/guest.c, apic_bus_init), and Keel never sends a physical
	 * INIT to a CPU that runs guests; one would stop the guest as an
	 * unhandled exit. */
	[EXIT_REASON_INTERRUPT_WINDOW] = { exit_nothing, 0 },
	[EXIT_REASON_NMI_WINDOW] = { exit_nothing, 0 }, /* the NMI is injected before the next entry */
	[EXIT_REASON_TASK_SWITCH] = { exit_task_switch, EXIT_QUAL },
	[EXIT_REASON_CPUID] = { exit_cpuid, EXIT_INSN | EXIT_DIRECT },
	[EXIT_REASON_GETSEC] = { exit_ud_not_offered, EXIT_INSN },
	[EXIT_REASON_HLT] = { exit_hlt, EXIT_INSN },
	[EXIT_REASON_INVD] = { exit_skip, EXIT_INSN },
	[EXIT_REASON_RDPMC] = { exit_rdpmc, EXIT_INSN },
	[EXIT_REASON_VMCALL] = { exit_vmcall, EXIT_INSN | EXIT_DIRECT },
	[EXIT_REASON_VMCLEAR] = { exit_ud_not_offered, EXIT_QUAL | EXIT_INSN },
	[EXIT_REASON_VMLAUNCH] = { exit_ud_not_offered, EXIT_INSN },
	[EXIT_REASON_VMPTRLD] = { exit_ud_not_offered, EXIT_QUAL | EXIT_INSN },
	[EXIT_REASON_VMPTRST] = { exit_ud_not_offered, EXIT_QUAL | EXIT_INSN },
	[EXIT_REASON_VMREAD] = { exit_ud_not_offered, EXIT_QUAL | EXIT_INSN },
	[EXIT_REASON_VMRESUME] = { exit_ud_not_offered, EXIT_INSN },
	[EXIT_REASON_VMWRITE] = { exit_ud_not_offered, EXIT_QUAL | EXIT_INSN },
	[EXIT_REASON_VMXOFF] = { exit_ud_not_offered, EXIT_INSN },
	[EXIT_REASON_VMXON] = { exit_ud_not_offered, EXIT_QUAL | EXIT_INSN },
	[EXIT_REASON_CR_ACCESS] = { exit_cr_access, EXIT_QUAL | EXIT_INSN },
	[EXIT_REASON_IO_INSTRUCTION] = { exit_io, EXIT_QUAL | EXIT_INSN | EXIT_DIRECT },
	[EXIT_REASON_RDMSR] = { exit_rdmsr, EXIT_INSN | EXIT_DIRECT },
	[EXIT_REASON_WRMSR] = { exit_wrmsr, EXIT_INSN },
	[EXIT_REASON_INVALID_GUEST_STATE] = { exit_entry_failure, EXIT_QUAL },
	[EXIT_REASON_MSR_LOADING] = { exit_entry_failure, EXIT_QUAL },
	[EXIT_REASON_MWAIT] = { exit_ud_not_offered, EXIT_QUAL | EXIT_INSN }, /* hidden by CPUID: #UD */
	[EXIT_REASON_MONITOR] = { exit_ud_not_offered, EXIT_INSN },
	[EXIT_REASON_MACHINE_CHECK] = { exit_entry_failure, 0 },
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = { exit_nothing, 0 }, /* the next entry injects what waited */
	[EXIT_REASON_APIC_ACCESS] = { exit_apic_access, EXIT_QUAL | EXIT_DIRECT }, /* apicv.c */
	[EXIT_REASON_VIRTUALIZED_EOI] = { exit_virtualized_eoi, EXIT_QUAL },
	[EXIT_REASON_APIC_WRITE] = { exit_apic_write, EXIT_QUAL | EXIT_DIRECT }, /* timer writes */
	[EXIT_REASON_EPT_VIOLATION] = { exit_ept_violation, EXIT_QUAL | EXIT_DIRECT }, /* mmio.c */
	[EXIT_REASON_EPT_MISCONFIG] = { exit_ept_misconfig, 0 },
	[EXIT_REASON_INVEPT] = { exit_ud_not_offered, EXIT_QUAL | EXIT_INSN },
	[EXIT_REASON_PREEMPTION_TIMER] = { exit_nothing, 0 },
	[EXIT_REASON_INVVPID] = { exit_ud_not_offered, EXIT_QUAL | EXIT_INSN },
	[EXIT_REASON_WBINVD] = { exit_skip, EXIT_INSN },
	[EXIT_REASON_XSETBV] = { exit_xsetbv, EXIT_INSN },
	[EXIT_REASON_VMFUNC] = { exit_ud_not_offered, EXIT_INSN },
	/* RDRAND and RDSEED run natively (their exiting controls stay off,
	 * CPUID offers them): no handler, an exit would be reported. */
};

/* A reason without a handler: its qualification is read for the report,
 * and an event it interrupted is not assumed away. */
static const struct exit_kind unhandled_kind = { NULL, EXIT_QUAL };

/* After a quiet exit the scheduler has nothing to decide until the
 * deadline it armed at the last full VM entry (slice end or the nearest
 * device deadline): no event to re-inject, the vCPU still runnable, its
 * devices untouched. Then re-arm the preemption timer for the time left and
 * go straight back; anything else (another CPU waking this one, console
 * input) arrives as an interrupt exit or waits for that deadline. */
static bool resume_directly(struct vcpu *v, struct pcpu *pc)
{
	if (!sched_nothing_to_decide(v))
		return false;
	uint64_t now = rdtsc();
	if (now >= v->entry_deadline_tsc)
		return false;
	vmx_arm_preemption_timer(pc, (v->entry_deadline_tsc - now) >> vmx_caps.preemption_rate);
	if (console_pending())
		console_kick();
	v->entry_tsc = now; /* close enough: what is left is the return to entry.S */
	return true;
}

/* The entry of exit_kinds[] for this exit; unhandled_kind for a reason
 * without one, and for a VM-entry failure whose reason is not one of the
 * three handled as such. */
static const struct exit_kind *exit_kind_of(uint32_t reason)
{
	uint32_t basic = reason & 0xffff;
	const struct exit_kind *k = basic < EXIT_REASON_MAX ? &exit_kinds[basic] : &unhandled_kind;
	if ((reason & EXIT_REASON_ENTRY_FAILURE) && k->handle != exit_entry_failure)
		return &unhandled_kind;
	return k;
}

/* The exit's handler; an exit Keel has no handler for stops the guest,
 * which must stay stopped. */
static enum exit_action run_handler(struct vcpu *v, const struct exit_kind *k, uint32_t basic)
{
	struct guest *g = v->guest;
	if (!k->handle) {
		guest_stop(g, "unhandled VM exit: reason %u (%s), qualification %#lx, at RIP %#lx", basic,
			   exit_reason_name(basic), vmread(VMCS_EXIT_QUALIFICATION), vmread(VMCS_GUEST_RIP));
		return EXIT_STOPPED;
	}
	enum exit_action act = k->handle(v);
	if (__builtin_expect(act == EXIT_RESUME, 1))
		return act;
	if (act == EXIT_STOPPED && g->state == GUEST_RUNNING)
		guest_stop(g, "exit handler for reason %u gave up on the guest", basic);
	/* An INIT sent while this exit waited for the lock wins over the
	 * state the handler set (HLT would otherwise lose it). A handler that
	 * resumes left the sender's WAIT_SIPI in place. */
	if (act == EXIT_YIELD && v->init_pending && v->state != VCPU_STOPPED)
		v->state = VCPU_WAIT_SIPI;
	return act;
}

/* Every VM exit of every vCPU arrives here from entry.S, with the guest's
 * registers saved in v; the vCPU returned is entered next. The exit is
 * handled under its guest's lock only: exits of other guests, on other
 * CPUs, go on meanwhile. */
struct vcpu *vmx_exit_dispatch(struct vcpu *v)
{
	unsigned cpu = (unsigned)v->cpu; /* v is current on this CPU */
	struct pcpu *pc = &pcpus[cpu];
	struct guest *g = v->guest;
	v->exit_tsc = rdtsc();
	guest_lock(g, cpu);
	v->exit_reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	uint32_t basic = v->exit_reason & 0xffff;
	const struct exit_kind *k = exit_kind_of(v->exit_reason);
	v->exit_qual = k->flags & EXIT_QUAL ? vmread(VMCS_EXIT_QUALIFICATION) : 0;
	/* An event whose delivery the exit interrupted must be delivered again
	 * on the next entry (SDM 27.2.4); rarely one was. */
	v->event_pending = false;
	if (!(k->flags & EXIT_INSN)) {
		uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
		if (idt & INTR_INFO_VALID)
			vmx_intr_requeue_event(v, idt);
	}
	exit_stats_begin(v, basic);

	enum exit_action act = run_handler(v, k, basic);

	if (act == EXIT_RESUME && (k->flags & EXIT_DIRECT) && resume_directly(v, pc)) {
		exit_stats_end(v, basic, v->entry_tsc, 0);
		guest_unlock(g);
		return v;
	}
	/* A guest's own timer tick: fired and delivered without a scheduler
	 * pass when nothing else is due (sched_own_timer_tick). */
	if (act == EXIT_RESUME && basic == EXIT_REASON_PREEMPTION_TIMER && sched_own_timer_tick(v, cpu)) {
		if (console_pending())
			console_kick();
		v->entry_tsc = rdtsc();
		exit_stats_end(v, basic, v->entry_tsc, 0);
		guest_unlock(g);
		return v;
	}
	/* The scheduler takes the locks it needs, one at a time, and returns
	 * holding the next vCPU's guest lock. If that is another guest, g may
	 * have been stopped, torn down or rebuilt by another CPU meanwhile:
	 * exit_stats_end, under g's lock again, records nothing then. */
	guest_unlock(g);
	uint64_t idle = pc->idle_ticks;
	struct vcpu *next = sched_pick_next(cpu);
	uint64_t now = rdtsc();
	idle = pc->idle_ticks - idle;
	if (next->guest != g) {
		guest_unlock(next->guest);
		guest_lock(g, cpu);
	}
	exit_stats_end(v, basic, now, idle);
	guest_unlock(g);
	return next;
}


struct vcpu *vmx_entry_failed(struct vcpu *v, uint64_t rflags);

struct vcpu *vmx_entry_failed(struct vcpu *v, uint64_t rflags)
{
	static const char *const vm_errors[] = {
		[1] = "VMCALL executed in VMX root operation",
		[2] = "VMCLEAR with invalid physical address",
		[3] = "VMCLEAR with VMXON pointer",
		[4] = "VMLAUNCH with non-clear VMCS",
		[5] = "VMRESUME with non-launched VMCS",
		[6] = "VMRESUME after VMXOFF",
		[7] = "VM entry with invalid control field(s)",
		[8] = "VM entry with invalid host-state field(s)",
		[9] = "VMPTRLD with invalid physical address",
		[10] = "VMPTRLD with VMXON pointer",
		[11] = "VMPTRLD with incorrect VMCS revision identifier",
		[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
		[13] = "VMWRITE to read-only VMCS component",
		[15] = "VMXON executed in VMX root operation",
		[16] = "VM entry with invalid executive-VMCS pointer",
		[17] = "VM entry with non-launched executive VMCS",
		[26] = "VM entry with events blocked by MOV SS",
		[28] = "invalid operand to INVEPT/INVVPID",
	};
	struct guest *g = v->guest;
	unsigned cpu = (unsigned)v->cpu;
	guest_lock(g, cpu);
	if (rflags & RFLAGS_CF) {
		pr_err("guest %s vcpu %u: VM entry failed: no current VMCS (VMfailInvalid)\n", g->name, v->id);
	} else {
		uint32_t e = (uint32_t)vmread(VMCS_VM_INSTRUCTION_ERROR);
		const char *w = e < ARRAY_SIZE(vm_errors) && vm_errors[e] ? vm_errors[e] : "unknown error";
		pr_err("guest %s vcpu %u: %s failed: VM-instruction error %u: %s\n", g->name, v->id,
		       v->launched ? "VMRESUME" : "VMLAUNCH", e, w);
		if (e == 7 || e == 8)
			pr_err("  controls: pin %#lx proc %#lx proc2 %#lx exit %#lx entry %#lx\n",
			       vmread(VMCS_PIN_BASED_CTLS), vmread(VMCS_PROC_BASED_CTLS),
			       vmread(VMCS_PROC_BASED_CTLS2), vmread(VMCS_EXIT_CTLS), vmread(VMCS_ENTRY_CTLS));
		dump_guest_state();
	}
	guest_stop(g, "VM entry failed (see above)");
	guest_unlock(g);
	struct vcpu *next = sched_pick_next(cpu);
	guest_unlock(next->guest);
	return next;
}
