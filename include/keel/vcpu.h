/* A virtual CPU: its saved registers (entry.S fills them), its VMCS and its
 * scheduling state. */
#ifndef KEEL_VCPU_H
#define KEEL_VCPU_H

#include <keel/types.h>
#include <keel/vlapic.h>
#include <keel/x86_decode.h>

/* An instruction that accessed emulated MMIO, decoded (hvm/vmx/mmio.c):
 * where it was (linear address, CR3, mode), where its bytes are in guest
 * memory and what they were. */
struct mmio_insn_cache {
	uint64_t la, cr3, gpa;
	uint8_t bytes[X86_MAX_INSN_LEN];
	uint8_t mode; /* enum x86_mode */
	bool valid;
	struct x86_insn insn;
};
#define MMIO_INSN_CACHE_SLOTS 4

struct guest;

/* Guest GPRs not held in the VMCS (RSP, RIP, RFLAGS are). Offsets are
 * exported to entry.S by hvm/vmx/asm-offsets.c. */
struct vcpu_regs {
	uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t cr2;
};

enum vcpu_state {
	VCPU_RUNNABLE,
	VCPU_HALTED,    /* HLT: waits for an interrupt it can take */
	VCPU_WAIT_SIPI, /* AP before INIT-SIPI */
	VCPU_STOPPED,
};

/* Syscall MSRs are not part of the VMCS: they are passed through to the
 * guest and switched in software when another vCPU runs on this CPU. */
struct vcpu_msrs {
	uint64_t star, lstar, cstar, fmask, kernel_gs_base, tsc_aux;
};

/* Answers CPUID gave this vCPU for leaves that do not change while it runs
 * (all but 1 and 0xD, which follow its CR4, APIC and XCR0): direct-mapped
 * by leaf and sub-leaf, filled on first use (hvm/vmx/cpuid_exit.c). */
#define CPUID_CACHE_SLOTS 16
struct cpuid_cache_entry {
	uint32_t leaf, subleaf;
	uint32_t regs[4];
	bool valid;
};

struct exit_trace_entry {
	uint64_t tsc, rip, qual;
	uint32_t reason;
};

struct vcpu {
	struct vcpu_regs regs; /* must stay first: entry.S addresses it */
	uint64_t launched;     /* VMLAUNCH done since the last VMCLEAR */
	struct guest *guest;
	unsigned id;
	uint16_t vpid;
	void *vmcs;
	int cpu; /* physical CPU whose current VMCS this is, -1 if cleared */
	unsigned home;  /* the CPU whose run queue it is on */
	int last_cpu;   /* CPU it last ran on (host state in the VMCS is for it), -1 never */
	uint32_t ran_on; /* bit per CPU it has run on */
	uint64_t migrations;
	enum vcpu_state state;
	bool queued;    /* on its home CPU's run queue (hvm/core/sched.c) */

	/* Current exit, read once by the dispatcher. */
	uint32_t exit_reason;
	uint64_t exit_qual;
	uint64_t exit_tsc;
	uint64_t entry_tsc;
	uint64_t entry_deadline_tsc; /* the preemption timer armed at the last full entry ends here */
	uint32_t stat_key;           /* a CPUID exit's leaf, for its statistics (hvm/vmx/exit_stats.c) */

	bool halted_if;     /* RFLAGS.IF when it executed HLT */
	bool halted_nmi_blocked; /* inside its NMI handler then: a pending NMI does not end the halt */
	bool event_pending; /* VMCS_ENTRY_INTR_INFO holds an event to deliver */
	uint64_t slice_end;  /* TSC at which this vCPU's slice ends */
	uint64_t run_ticks;  /* TSC ticks in guest mode so far (the scheduler's fairness, top) */
	struct vcpu_msrs msrs;
	uint64_t pat;
	uint64_t misc_enable; /* IA32_MISC_ENABLE (hvm/vmx/msr.c) */

	/* Registers VMX does not switch (hvm/vmx/vcpu_state.c): the x87/SSE/
	 * AVX state (an XSAVE or FXSAVE image), XCR0, DR0-DR3 and DR6. They
	 * stay in the CPU's registers while the vCPU is in Keel; they are
	 * saved when another vCPU takes the CPU and restored only if one did. */
	void *xsave_area;   /* a page */
	uint64_t xcr0;
	uint64_t dr[4], dr6;
	int regs_cpu;       /* CPU whose registers were last loaded with this state, -1 none */
	/* Virtual-APIC page (SDM 29.1): the home of the local APIC model's
	 * registers (lapic.regs points here), which the CPU reads and writes
	 * itself with the TPR shadow (MOV CR8, never the host's APIC) and APIC
	 * virtualization (hvm/vmx/apicv.c). */
	uint8_t *vapic;
	uint8_t tpr_threshold; /* as last written to the VMCS */
	uint64_t eoi_exit[4];  /* EOI-exit bitmap as last written to the VMCS (apicv.c) */
	bool x2apic_controls;  /* the VMCS has the x2APIC-mode controls and MSR bitmap (apicv.c) */
	struct mmio_insn_cache mmio_cache[MMIO_INSN_CACHE_SLOTS];
	bool init_pending;     /* an INIT arrived; applied by the vCPU's own exit path */
	struct cpuid_cache_entry cpuid_cache[CPUID_CACHE_SLOTS];
	bool efer_lme; /* the guest set EFER.LME; kept out of the VMCS until paging is on (hvm/vmx/long_mode.c) */

	/* Its local APIC (hvm/dev/vlapic.c). A start-up IPI to a vCPU waiting
	 * for one sets start_pending and the real-mode start address (vector
	 * V: V00:0000; the wake from ACPI S3: the FACS waking vector); the
	 * vCPU's next entry (vmx_intr_prepare_entry, its VMCS current) puts it
	 * in real mode there. */
	struct vlapic lapic;
	bool start_pending;
	uint16_t start_cs, start_ip;

	/* Exit trace ring (trace=N on the command line); NULL when off. */
	struct exit_trace_entry *trace;
	unsigned trace_len, trace_pos;
	uint64_t trace_total;
};

#endif
