/* Per-physical-CPU state and descriptor tables (arch/x86/). */
#ifndef KEEL_CPU_H
#define KEEL_CPU_H

#include <keel/spinlock.h>
#include <keel/types.h>

#define MAX_CPUS 8
#define GDT_CODE64 0x08
#define GDT_DATA 0x10
#define GDT_TSS 0x18

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

struct vcpu;

/* NMIs taken by a CPU (include/keel/nmi.h). */
struct pcpu_nmis {
	uint32_t kicks_sent;	     /* by other CPUs, counted before sending */
	uint32_t kicks_taken;	     /* kicks covered by the NMIs taken */
	uint32_t unexplained;	     /* neither a kick nor a platform error */
	uint32_t platform;	     /* platform errors (port 0x61) */
	uint32_t platform_reported;  /* of those, printed (nmi_report) */
	uint8_t platform_status;     /* port 0x61 at the last one */
};

struct pcpu {
	unsigned id;
	uint32_t apic_id;
	uint64_t gdt[5];
	struct tss64 tss;
	void *vmxon_region;
	struct vcpu *current; /* vCPU whose VMCS is loaded here */
	uint64_t exit_stack_top; /* HOST_RSP for VM exits */
	bool idle;            /* halted waiting for work (hvm/core/sched.c) */
	bool kicked;          /* a kick came while in Keel (vcpu_arch_kick_arrived) */
	struct pcpu_nmis nmi;
	uint64_t idle_ticks;  /* TSC ticks spent waiting for work */
	uint64_t switches;    /* VMCS loads (vCPU switches) */
	uint64_t switch_ticks; /* spent in them: VMCLEAR, VMPTRLD, flushes, vcpu_state */
	/* Whose x87/SSE/AVX, debug registers and syscall MSRs are in this
	 * CPU's registers, and its XCR0 (hvm/vmx/vcpu_state.c). */
	struct vcpu *regs_owner;
	uint64_t xcr0;
	uint64_t state_saves, state_restores;   /* counts */
	uint64_t state_save_ticks, state_restore_ticks;
	struct lock_wait lock_wait; /* the exit path's and scheduler's locks */
} __attribute__((aligned(512)));
/* A power of two: every exit finds its CPU's entry with a shift, not a
 * multiplication, and no two CPUs' entries share a cache line. */
_Static_assert(sizeof(struct pcpu) == 512, "struct pcpu outgrew 512 bytes: raise its alignment");

extern struct pcpu pcpus[MAX_CPUS];
extern unsigned nr_cpus_online; /* CPUs 0..nr-1 run the scheduler */

/* Starts the other CPUs listed in the ACPI MADT (arch/x86/smp.c), at most
 * max_cpus in all; each enables VMX and waits in sched_run(). */
struct bootinfo;
struct acpi_cpus;
/* Reads the CPU list from the ACPI MADT (through bi's RSDP); NULL, with the
 * reason kept for smp_start_aps() to print, when there is none. */
const struct acpi_cpus *smp_find_cpus(const struct bootinfo *bi);
void smp_start_aps(const struct bootinfo *bi, unsigned max_cpus);
/* Index of the CPU this runs on (0 until the APs are up). */
unsigned this_cpu(void);

/* After a panic (lib/console.c): sends every other CPU an NMI, whose
 * handler sees panic_in_progress() and parks that CPU in cpu_park(); waits
 * up to 100 ms for them. Returns how many CPUs said they stopped. */
unsigned smp_stop_other_cpus(void);
/* This CPU stops for good: interrupts off, HLT forever (an NMI would only
 * come back here). Counted for smp_stop_other_cpus. */
__noreturn void cpu_park(void);

void cpu_tables_init(struct pcpu *c);
void idt_init(void);
void idt_load(void);

struct cpu_info {
	char vendor[13];
	char brand[49];
	unsigned family, model, stepping;
	bool intel;
	bool invariant_tsc;
};
void cpu_identify(struct cpu_info *ci);

/* Register frame pushed by arch/x86/isr.S. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

#endif
