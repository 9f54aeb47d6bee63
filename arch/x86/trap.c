/* Exceptions in Keel itself are bugs: print everything that helps find the
 * bug, then halt this CPU. Nothing is allowed to become a silent triple fault. */
#include <keel/apic.h>
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/nmi.h>
#include <keel/vcpu_arch.h>
#include <x86/cpu.h>
#include <x86/io.h>

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
	"#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor overrun",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection",
};

void trap_handle(struct trap_frame *f);

void trap_handle(struct trap_frame *f)
{
	const char *name = f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] : "unexpected interrupt";

	if (f->vector >= 32) {
		/* External interrupt: only the APIC timer is enabled, and it
		 * just ends an idle HLT. */
		apic_eoi();
		return;
	}
	if (f->vector == X86_EXC_NMI) {
		/* Another CPU panicked: stop here, never to return (NMIs stay
		 * blocked, as no IRET follows). */
		if (panic_in_progress())
			cpu_park();
		/* Otherwise a kick (nmi_kick) that found this CPU in Keel, or
		 * the platform's (counted, and reported later: a lock may be
		 * held by the code this NMI interrupted). Either way the
		 * current vCPU looks at its state before it runs on. */
		nmi_arrived(this_cpu());
		vcpu_arch_kick_arrived(this_cpu());
		return;
	}
	kprintf("\nkeel: FATAL: CPU exception %lu (%s) in the hypervisor, error code %#lx\n", f->vector, name,
		f->error_code);
	kprintf("  rip %016lx  cs %04lx  rflags %016lx\n", f->rip, f->cs, f->rflags);
	kprintf("  rsp %016lx  ss %04lx  cr2 %016lx  cr3 %016lx\n", f->rsp, f->ss, read_cr2(), read_cr3());
	kprintf("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	kprintf("  rsi %016lx  rdi %016lx  rbp %016lx\n", f->rsi, f->rdi, f->rbp);
	kprintf("  r8  %016lx  r9  %016lx  r10 %016lx  r11 %016lx\n", f->r8, f->r9, f->r10, f->r11);
	kprintf("  r12 %016lx  r13 %016lx  r14 %016lx  r15 %016lx\n", f->r12, f->r13, f->r14, f->r15);
	kprintf("  cr0 %016lx  cr4 %016lx\n", read_cr0(), read_cr4());
	uint64_t *sp = (uint64_t *)f->rsp;
	if (f->rsp >= 0x1000 && f->rsp < GiB(4) - 64) {
		kprintf("  stack:");
		for (int i = 0; i < 8; i++)
			kprintf(" %016lx", sp[i]);
		kprintf("\n");
	}
	panic("this is a bug in Keel; please report it with the lines above\n");
}
