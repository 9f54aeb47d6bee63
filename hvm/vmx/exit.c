/*
 * The VM-exit dispatcher. exit_handlers[] is the one list of every exit
 * reason Keel handles; anything else stops the guest with the reason, the
 * qualification and the guest RIP.
 */
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/format.h>
#include <keel/guest.h>
#include <keel/hvmloader_abi.h>
#include <keel/mm.h>
#include <keel/tsc.h>
#include <keel/vmx.h>
#include <x86/cpu.h>
#include <x86/io.h>

#include "exit.h"
#include "vcpu_state.h"
#include "vmcs.h"
#include "vmx.h"

static const char *const exit_names[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = "exception or NMI",
	[EXIT_REASON_EXTERNAL_INTERRUPT] = "external interrupt",
	[EXIT_REASON_TRIPLE_FAULT] = "triple fault",
	[EXIT_REASON_INIT] = "INIT signal",
	[EXIT_REASON_SIPI] = "start-up IPI",
	[EXIT_REASON_INTERRUPT_WINDOW] = "interrupt window",
	[EXIT_REASON_NMI_WINDOW] = "NMI window",
	[EXIT_REASON_TASK_SWITCH] = "task switch",
	[EXIT_REASON_CPUID] = "CPUID",
	[EXIT_REASON_GETSEC] = "GETSEC",
	[EXIT_REASON_HLT] = "HLT",
	[EXIT_REASON_INVD] = "INVD",
	[EXIT_REASON_INVLPG] = "INVLPG",
	[EXIT_REASON_RDPMC] = "RDPMC",
	[EXIT_REASON_RDTSC] = "RDTSC",
	[EXIT_REASON_RSM] = "RSM",
	[EXIT_REASON_VMCALL] = "VMCALL",
	[EXIT_REASON_VMCLEAR] = "VMCLEAR",
	[EXIT_REASON_VMLAUNCH] = "VMLAUNCH",
	[EXIT_REASON_VMPTRLD] = "VMPTRLD",
	[EXIT_REASON_VMPTRST] = "VMPTRST",
	[EXIT_REASON_VMREAD] = "VMREAD",
	[EXIT_REASON_VMRESUME] = "VMRESUME",
	[EXIT_REASON_VMWRITE] = "VMWRITE",
	[EXIT_REASON_VMXOFF] = "VMXOFF",
	[EXIT_REASON_VMXON] = "VMXON",
	[EXIT_REASON_CR_ACCESS] = "control-register access",
	[EXIT_REASON_DR_ACCESS] = "debug-register access",
	[EXIT_REASON_IO_INSTRUCTION] = "I/O instruction",
	[EXIT_REASON_RDMSR] = "RDMSR",
	[EXIT_REASON_WRMSR] = "WRMSR",
	[EXIT_REASON_INVALID_GUEST_STATE] = "VM entry failure: invalid guest state",
	[EXIT_REASON_MSR_LOADING] = "VM entry failure: MSR loading",
	[EXIT_REASON_MWAIT] = "MWAIT",
	[EXIT_REASON_MONITOR_TRAP_FLAG] = "monitor trap flag",
	[EXIT_REASON_MONITOR] = "MONITOR",
	[EXIT_REASON_PAUSE] = "PAUSE",
	[EXIT_REASON_MACHINE_CHECK] = "VM entry failure: machine check",
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = "TPR below threshold",
	[EXIT_REASON_APIC_ACCESS] = "APIC access",
	[EXIT_REASON_GDTR_IDTR] = "GDTR/IDTR access",
	[EXIT_REASON_LDTR_TR] = "LDTR/TR access",
	[EXIT_REASON_EPT_VIOLATION] = "EPT violation",
	[EXIT_REASON_EPT_MISCONFIG] = "EPT misconfiguration",
	[EXIT_REASON_INVEPT] = "INVEPT",
	[EXIT_REASON_RDTSCP] = "RDTSCP",
	[EXIT_REASON_PREEMPTION_TIMER] = "preemption timer",
	[EXIT_REASON_INVVPID] = "INVVPID",
	[EXIT_REASON_WBINVD] = "WBINVD",
	[EXIT_REASON_XSETBV] = "XSETBV",
	[EXIT_REASON_RDRAND] = "RDRAND",
	[EXIT_REASON_INVPCID] = "INVPCID",
	[EXIT_REASON_VMFUNC] = "VMFUNC",
	[EXIT_REASON_RDSEED] = "RDSEED",
	[EXIT_REASON_XSAVES] = "XSAVES",
	[EXIT_REASON_XRSTORS] = "XRSTORS",
};

const char *exit_reason_name(uint32_t reason)
{
	reason &= 0xffff;
	if (reason < EXIT_REASON_MAX && exit_names[reason])
		return exit_names[reason];
	return "unknown";
}

void vcpu_skip_instruction(struct vcpu *v)
{
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTRUCTION_LEN));
	/* The instruction completed, so blocking by STI / MOV SS ends (SDM 25.4.2). */
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

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

unsigned vcpu_cpl(void) { return (vmread(VMCS_GUEST_SS_AR) >> 5) & 3; }

static uint64_t guest_rip(void) { return vmread(VMCS_GUEST_RIP); }

/* --- simple handlers -------------------------------------------------- */

static enum exit_action exit_hlt(struct vcpu *v)
{
	vcpu_skip_instruction(v);
	v->halted_if = vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF;
	if (!v->halted_if) {
		pr_info("guest %s: vCPU %u halted with interrupts disabled (cli; hlt) at RIP %#lx: it sleeps until "
			"stopped or restarted\n",
			v->guest->name, v->id, vmread(VMCS_GUEST_RIP));
		if (v->id == 0 && !v->guest->marks[MARK_HALTED]) {
			v->guest->marks[MARK_HALTED] = v->exit_tsc;
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
	if ((info & (7u << 8)) == INTR_TYPE_NMI) {
		/* A host NMI arrived while the guest ran: another CPU panicked
		 * (stop here, the guest with us), or the platform sent one. */
		if (panic_in_progress())
			cpu_park();
		pr_warn("guest %s: host NMI during guest execution\n", v->guest->name);
		return EXIT_RESUME;
	}
	guest_stop(v->guest, "unexpected exception exit (vector %u) at RIP %#lx", info & 0xff, guest_rip());
	return EXIT_STOPPED;
}

static enum exit_action exit_triple_fault(struct vcpu *v)
{
	/* A PC's chipset answers the CPU's shutdown cycle with a reset, so a
	 * triple fault is a reset request: on_reset: decides (hvm/guest.c). */
	struct guest *g = v->guest;
	char why[96];
	ksnprintf(why, sizeof(why), "triple fault at RIP %#lx, CS base %#lx, CR0 %#lx", guest_rip(),
		  vmread(VMCS_GUEST_CS_BASE), vmread(VMCS_CR0_READ_SHADOW));
	guest_events_reset(&g->events, why);
	return EXIT_STOPPED;
}

static enum exit_action exit_vmx_instruction(struct vcpu *v)
{
	/* Keel offers no nested VMX (nor GETSEC, MONITOR/MWAIT, VMFUNC): CPUID
	 * hides them, and the instructions raise #UD as on a CPU without them.
	 * A guest that tries anyway is probing: say so, rate-limited. */
	struct guest *g = v->guest;
	if (guest_log_allowed(&g->ud_insn_count))
		pr_info("guest %s: %s at RIP %#lx: #UD injected (not offered to guests; %lu so far)\n", g->name,
			exit_reason_name(v->exit_reason), guest_rip(), g->ud_insn_count);
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
	unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	uint64_t *gpr[16] = { &v->regs.rax, &v->regs.rcx, &v->regs.rdx, &v->regs.rbx, NULL,
			      &v->regs.rbp, &v->regs.rsi, &v->regs.rdi, &v->regs.r8, &v->regs.r9,
			      &v->regs.r10, &v->regs.r11, &v->regs.r12, &v->regs.r13, &v->regs.r14,
			      &v->regs.r15 };
	uint64_t val = 0;

	if (type == 0 || type == 1)
		val = reg == 4 ? vmread(VMCS_GUEST_RSP) : *gpr[reg];
	switch (type) {
	case 0: /* MOV to CR */
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
			vmwrite(VMCS_GUEST_CR3, val);
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
	case 1: /* MOV from CR (only CR3, and CR8 without a TPR shadow, exit) */
		val = cr == 3 ? vmread(VMCS_GUEST_CR3) : cr == 8 ? (uint64_t)(vlapic_tpr(&v->lapic) >> 4) : 0;
		if (reg == 4)
			vmwrite(VMCS_GUEST_RSP, val);
		else
			*gpr[reg] = val;
		break;
	case 2: /* CLTS */
		vmcs_set_guest_cr0(vmread(VMCS_CR0_READ_SHADOW) & ~CR0_TS);
		break;
	case 3: { /* LMSW: loads CR0 bits 0-3, cannot clear PE */
		uint64_t src = (q >> 16) & 0xffff, old = vmread(VMCS_CR0_READ_SHADOW);
		uint64_t nv = (old & ~0xeULL) | (src & 0xf) | (old & CR0_PE);
		vmcs_set_guest_cr0(nv);
		break;
	}
	}
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}

static enum exit_action exit_init(struct vcpu *v)
{
	/* INIT puts an AP into wait-for-SIPI; on the BSP it is a reset. */
	if (v->id == 0) {
		guest_stop(v->guest, "INIT signal to the boot vCPU");
		return EXIT_STOPPED;
	}
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
	v->state = VCPU_WAIT_SIPI;
	return EXIT_YIELD;
}

static enum exit_action exit_task_switch(struct vcpu *v)
{
	guest_stop(v->guest, "hardware task switch at RIP %#lx (not supported by Keel)", guest_rip());
	return EXIT_STOPPED;
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
	static const struct {
		const char *n;
		uint32_t sel, base, limit, ar;
	} segs[] = {
		{ "CS", VMCS_GUEST_CS_SEL, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR },
		{ "SS", VMCS_GUEST_SS_SEL, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR },
		{ "DS", VMCS_GUEST_DS_SEL, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR },
		{ "ES", VMCS_GUEST_ES_SEL, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR },
		{ "TR", VMCS_GUEST_TR_SEL, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR },
		{ "LDTR", VMCS_GUEST_LDTR_SEL, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(segs); i++)
		kprintf("keel:   %-4s sel %#06lx base %#010lx limit %#010lx access %#06lx\n", segs[i].n,
			vmread(segs[i].sel), vmread(segs[i].base), vmread(segs[i].limit), vmread(segs[i].ar));
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

/* The one table: exit reason -> handler. */
static const exit_handler_fn exit_handlers[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = exit_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = exit_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = exit_triple_fault,
	[EXIT_REASON_INIT] = exit_init,
	[EXIT_REASON_INTERRUPT_WINDOW] = exit_nothing,
	[EXIT_REASON_NMI_WINDOW] = exit_nothing, /* the NMI is injected before the next entry */
	[EXIT_REASON_TASK_SWITCH] = exit_task_switch,
	[EXIT_REASON_CPUID] = exit_cpuid,
	[EXIT_REASON_GETSEC] = exit_vmx_instruction,
	[EXIT_REASON_HLT] = exit_hlt,
	[EXIT_REASON_INVD] = exit_skip,
	[EXIT_REASON_RDPMC] = exit_rdpmc,
	[EXIT_REASON_VMCALL] = exit_vmcall,
	[EXIT_REASON_VMCLEAR] = exit_vmx_instruction,
	[EXIT_REASON_VMLAUNCH] = exit_vmx_instruction,
	[EXIT_REASON_VMPTRLD] = exit_vmx_instruction,
	[EXIT_REASON_VMPTRST] = exit_vmx_instruction,
	[EXIT_REASON_VMREAD] = exit_vmx_instruction,
	[EXIT_REASON_VMRESUME] = exit_vmx_instruction,
	[EXIT_REASON_VMWRITE] = exit_vmx_instruction,
	[EXIT_REASON_VMXOFF] = exit_vmx_instruction,
	[EXIT_REASON_VMXON] = exit_vmx_instruction,
	[EXIT_REASON_CR_ACCESS] = exit_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = exit_io,
	[EXIT_REASON_RDMSR] = exit_rdmsr,
	[EXIT_REASON_WRMSR] = exit_wrmsr,
	[EXIT_REASON_INVALID_GUEST_STATE] = exit_entry_failure,
	[EXIT_REASON_MSR_LOADING] = exit_entry_failure,
	[EXIT_REASON_MWAIT] = exit_vmx_instruction, /* hidden by CPUID: #UD */
	[EXIT_REASON_MONITOR] = exit_vmx_instruction,
	[EXIT_REASON_MACHINE_CHECK] = exit_entry_failure,
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = exit_nothing, /* the next entry injects what waited */
	[EXIT_REASON_EPT_VIOLATION] = exit_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = exit_ept_misconfig,
	[EXIT_REASON_INVEPT] = exit_vmx_instruction,
	[EXIT_REASON_PREEMPTION_TIMER] = exit_nothing,
	[EXIT_REASON_INVVPID] = exit_vmx_instruction,
	[EXIT_REASON_WBINVD] = exit_skip,
	[EXIT_REASON_XSETBV] = exit_xsetbv,
	[EXIT_REASON_VMFUNC] = exit_vmx_instruction,
	/* RDRAND and RDSEED run natively (their exiting controls stay off,
	 * CPUID offers them): no handler, an exit would be reported. */
};

static void trace_record(struct vcpu *v)
{
	struct exit_trace_entry *e = &v->trace[v->trace_pos];
	e->tsc = v->exit_tsc;
	e->reason = v->exit_reason;
	e->qual = v->exit_qual;
	e->rip = vmread(VMCS_GUEST_RIP);
	v->trace_pos = (v->trace_pos + 1) % v->trace_len;
	v->trace_total++;
}

struct vcpu *vmx_exit_dispatch(struct vcpu *v);

static void stat_add(struct exit_stat *s, uint64_t t)
{
	s->recent[s->count % EXIT_STAT_SAMPLES] = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
	s->count++;
	s->ticks += t;
	if (!s->min || t < s->min)
		s->min = t;
	if (t > s->max)
		s->max = t;
}

static struct exit_stat *keyed(struct keyed_stat *tab, uint32_t key)
{
	for (unsigned i = 0; i < KEYED_STATS; i++) {
		if (tab[i].s.count && tab[i].key == key)
			return &tab[i].s;
		if (!tab[i].s.count) {
			tab[i].key = key;
			return &tab[i].s;
		}
	}
	return NULL; /* table full: only the per-reason line counts it */
}

static void exit_stats_record(struct vcpu *v, uint32_t basic, uint32_t key, uint64_t t)
{
	struct guest *g = v->guest;
	stat_add(&g->exit_stats[basic], t);
	g->exit_ticks_total += t;
	struct exit_stat *s = NULL;
	if (basic == EXIT_REASON_CPUID)
		s = keyed(g->cpuid_stats, key);
	else if (basic == EXIT_REASON_RDMSR || basic == EXIT_REASON_WRMSR)
		s = keyed(g->msr_stats, key | (basic == EXIT_REASON_WRMSR ? 0 : 0));
	else if (basic == EXIT_REASON_IO_INSTRUCTION)
		s = &g->io_stats[key];
	if (s)
		stat_add(s, t);
}

/* Boot-timeline marks that I/O exits reveal; returns the port-range index
 * for the statistics (IOBUS_MAX_RANGES: unclaimed). */
static uint32_t io_exit_marks(struct vcpu *v)
{
	struct guest *g = v->guest;
	uint16_t port = IO_QUAL_PORT(v->exit_qual);
	bool out = !(v->exit_qual & IO_QUAL_IN);
	uint64_t now = v->exit_tsc;
	if (out && (port == 0xe9 || port == 0x402) && g->marks[KEEL_MARK_JUMP_TO_BIOS] && !g->marks[MARK_SEABIOS_DEBUG])
		g->marks[MARK_SEABIOS_DEBUG] = now;
	uint64_t lin = 0;
	if (g->marks[KEEL_MARK_JUMP_TO_BIOS] && !g->marks[MARK_BOOT_SECTOR_COM1])
		lin = vmread(VMCS_GUEST_CS_BASE) + vmread(VMCS_GUEST_RIP);
	if (lin >= 0x7c00 && lin < 0x7e00) {
		if (!g->marks[MARK_BOOT_SECTOR])
			g->marks[MARK_BOOT_SECTOR] = now;
		if (out && port == 0x3f8 && !g->marks[MARK_BOOT_SECTOR_COM1])
			g->marks[MARK_BOOT_SECTOR_COM1] = now;
	}
	const struct io_range *r = iobus_find(&g->io, port);
	return r ? (uint32_t)(r - g->io.ranges) : IOBUS_MAX_RANGES;
}

/* Exits whose handling cannot raise an interrupt, touch a timer or change
 * what the vCPU waits for: CPUID, RDMSR, VMCALL (a blocking hypercall would
 * change the vCPU's state, which resume_directly checks), and port I/O,
 * whose handler marks the guest's devices dirty when an access did any of
 * that (exit_io: a timer or the interrupt controller reprogrammed, an
 * interrupt line moved). SeaBIOS's per-character debug output alone is two
 * thirds of the exits of a boot, its device probing most of the rest. */
static bool quiet_exit(uint32_t basic)
{
	return basic == EXIT_REASON_CPUID || basic == EXIT_REASON_RDMSR || basic == EXIT_REASON_VMCALL ||
	       basic == EXIT_REASON_IO_INSTRUCTION;
}

/* After a quiet exit the scheduler has nothing to decide until the
 * deadline it armed at the last full VM entry (slice end or the nearest
 * device deadline): no event to re-inject, the vCPU still runnable, its
 * devices untouched. Then re-arm the preemption timer for the time left and
 * go straight back; anything else (another CPU waking this one, console
 * input) arrives as an interrupt exit or waits for that deadline. */
static bool resume_directly(struct vcpu *v)
{
	struct guest *g = v->guest;
	if (v->event_pending || v->state != VCPU_RUNNABLE || g->state != GUEST_RUNNING || g->devices_dirty ||
	    g->restart_pending)
		return false;
	uint64_t now = rdtsc();
	if (now >= v->entry_deadline_tsc)
		return false;
	uint64_t ticks = (v->entry_deadline_tsc - now) >> vmx_caps.preemption_rate;
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffULL ? 0xffffffffULL : ticks);
	console_kick();
	return true;
}

struct vcpu *vmx_exit_dispatch(struct vcpu *v)
{
	struct guest *g = v->guest;
	unsigned cpu = (unsigned)v->cpu; /* v is current on this CPU */
	v->exit_tsc = rdtsc();
	hv_lock();
	v->exit_reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	v->exit_qual = vmread(VMCS_EXIT_QUALIFICATION);
	uint32_t basic = v->exit_reason & 0xffff;
	vcpu_tpr_from_shadow(v); /* the guest may have written CR8 */

	/* An event whose delivery the exit interrupted must be delivered again
	 * on the next entry (SDM 27.2.4). */
	vmx_intr_save_pending_event(v);
	if (v->trace)
		trace_record(v);

	/* What the statistics break this exit down by, read before the handler
	 * changes the registers. */
	uint64_t idle_before = pcpus[cpu].idle_ticks;
	uint32_t key = 0;
	if (basic == EXIT_REASON_CPUID)
		key = (uint32_t)v->regs.rax;
	else if (basic == EXIT_REASON_RDMSR || basic == EXIT_REASON_WRMSR)
		key = (uint32_t)v->regs.rcx;
	else if (basic == EXIT_REASON_IO_INSTRUCTION)
		key = io_exit_marks(v);

	enum exit_action act;
	exit_handler_fn h = basic < EXIT_REASON_MAX ? exit_handlers[basic] : NULL;
	if ((v->exit_reason & EXIT_REASON_ENTRY_FAILURE) && basic != EXIT_REASON_INVALID_GUEST_STATE &&
	    basic != EXIT_REASON_MSR_LOADING && basic != EXIT_REASON_MACHINE_CHECK)
		h = NULL;
	if (h) {
		act = h(v);
	} else {
		guest_stop(g, "unhandled VM exit: reason %u (%s), qualification %#lx, at RIP %#lx", basic,
			   exit_reason_name(basic), v->exit_qual, vmread(VMCS_GUEST_RIP));
		act = EXIT_STOPPED;
	}
	/* A handler that says it stopped the guest must have done so. */
	if (act == EXIT_STOPPED && g->state == GUEST_RUNNING)
		guest_stop(g, "exit handler for reason %u gave up on the guest", basic);
	/* An INIT sent while this exit waited for the lock wins over the
	 * state the handler set (HLT would otherwise lose it). A handler that
	 * resumes left the sender's WAIT_SIPI in place. */
	if (act == EXIT_YIELD && v->init_pending && v->state != VCPU_STOPPED)
		v->state = VCPU_WAIT_SIPI;

	if (act == EXIT_RESUME && quiet_exit(basic) && resume_directly(v)) {
		v->entry_tsc = rdtsc();
		exit_stats_record(v, basic, key, v->entry_tsc - v->exit_tsc);
		hv_unlock();
		return v;
	}

	struct vcpu *next = sched_pick_next(cpu);
	/* (Not for a guest stopped, or stopped and restarted, meanwhile.) */
	if (g->state == GUEST_RUNNING && g->created_tsc < v->exit_tsc && basic < EXIT_STATS_SLOTS)
		exit_stats_record(v, basic, key, rdtsc() - v->exit_tsc - (pcpus[cpu].idle_ticks - idle_before));
	hv_unlock();
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
	hv_lock();
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
	struct vcpu *next = sched_pick_next(cpu);
	hv_unlock();
	return next;
}
