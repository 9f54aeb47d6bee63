/*
 * Speculation mitigations, the hardware half: read what the CPU enumerates,
 * let spec_choose() (hvm/spec_policy.c) decide, and apply the choice: the
 * entry flags entry.S tests before every VM entry, and the IBPB between
 * guests. The boot log says what was chosen and why.
 */
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/spec.h>
#include <x86/cpu.h>
#include <x86/io.h>

uint32_t spec_entry_flags;
static bool ibpb_on_switch;
/* Per CPU: the guest whose vCPU it ran last (NULL: none yet). */
static const void *last_guest[MAX_CPUS];

void spec_init(enum spec_verw_mode verw)
{
	struct cpu_info ci;
	struct spec_cpu c = { 0 };
	uint32_t a, b, cx, d;
	cpu_identify(&ci);
	c.intel = ci.intel;
	c.amd = !__builtin_strcmp(ci.vendor, "AuthenticAMD");
	cpuid(0, &a, &b, &cx, &d);
	if (a >= 7) {
		cpuid_count(7, 0, &a, &b, &cx, &d);
		c.leaf7_ebx = b;
		c.leaf7_edx = d;
	}
	cpuid(0x80000000, &a, &b, &cx, &d);
	if (a >= 0x80000008) {
		cpuid(0x80000008, &a, &b, &cx, &d);
		c.ext8_ebx = b;
	}
	if (c.leaf7_edx & CPUID7_EDX_ARCH_CAPABILITIES)
		c.arch_caps = rdmsr(MSR_IA32_ARCH_CAPABILITIES);

	struct spec_choice ch;
	spec_choose(&c, verw, &ch);
	spec_entry_flags = (ch.l1d_flush_on_entry ? SPEC_ENTRY_L1D_FLUSH : 0) | (ch.verw_on_entry ? SPEC_ENTRY_VERW : 0);
	ibpb_on_switch = ch.ibpb_on_switch;
	kprintf("keel: spec: ARCH_CAPABILITIES %#lx%s, CPUID.7 EDX %#x; on VM exit: registers cleared, RSB "
		"filled (always)\n",
		(uint64_t)c.arch_caps, (c.leaf7_edx & CPUID7_EDX_ARCH_CAPABILITIES) ? "" : " (not enumerated)",
		c.leaf7_edx);
	kprintf("keel: spec: L1D flush on VM entry: %s; VERW on VM entry: %s; IBPB between guests: %s\n", ch.l1d_why,
		ch.verw_why, ch.ibpb_why);
}

void spec_guest_switch(unsigned cpu, const void *g)
{
	if (cpu >= MAX_CPUS || last_guest[cpu] == g)
		return;
	/* The first guest on this CPU follows only Keel itself: no barrier. */
	if (ibpb_on_switch && last_guest[cpu])
		wrmsr(MSR_IA32_PRED_CMD, 1);
	last_guest[cpu] = g;
}
