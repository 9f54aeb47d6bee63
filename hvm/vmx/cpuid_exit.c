#include <keel/cpuid.h>
#include <keel/tsc.h>
#include <keel/vmx.h>
#include <x86/cpu.h>
#include <x86/io.h>

#include "exit.h"
#include "vcpu_state.h"
#include "vmx.h"

enum exit_action exit_cpuid(struct vcpu *v)
{
	uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
	struct cpuid_regs h = { 0, 0, 0, 0 };
	struct cpuid_guest_info gi = {
		.vcpu_id = v->id,
		.nr_vcpus = v->guest->nr_vcpus,
		.xstate = &guest_xstate,
		.xcr0 = v->xcr0,
		.osxsave = leaf == 1 && (vmread(VMCS_GUEST_CR4) & CR4_OSXSAVE), /* only leaf 1 shows it */
		.rdtscp = vmx_caps.proc2_ctls & PROC2_ENABLE_RDTSCP,
		.apic = vlapic_hw_enabled(&v->lapic),
		.no_xen = v->guest->cfg->kernel[0] != 0,
		.tsc_hz = tsc_hz,
		.host_tsc_leaves = cpuid_leaf15_states_rate(tsc_host_leaf15),
	};

	if (leaf < 0x40000000 || leaf >= 0x80000000)
		cpuid_count(leaf, sub, &h.eax, &h.ebx, &h.ecx, &h.edx);
	struct cpuid_regs r = cpuid_guest_filter(leaf, sub, h, &gi);
	/* CPUID writes the full 64-bit registers with zero-extension. */
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}
