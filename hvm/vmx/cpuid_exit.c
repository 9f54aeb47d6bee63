/*
 * CPUID exits: the host's answer filtered by the policy (hvm/cpuid.c).
 * Most leaves' answers never change for a vCPU, and guests ask the same
 * leaves again and again (a kernel's feature checks, firmware's probing,
 * timing loops), so the answer is kept per vCPU after the first time: a
 * cached leaf costs neither the host's CPUID nor the policy. Leaves 1
 * (OSXSAVE follows CR4, the APIC bit follows IA32_APIC_BASE), 0xD
 * (sizes follow XCR0) and the hypervisor range 0x400000xx (Xen's leaves
 * become Keel's when the boot sector starts, hvm/vmx/boot_sector_trap.c)
 * are computed every time.
 */
#include <keel/cpuid.h>
#include <keel/tsc.h>
#include <keel/vmx.h>
#include <x86/cpu.h>
#include <x86/io.h>

#include "exit.h"
#include "vcpu_state.h"
#include "vmx.h"

static struct cpuid_regs cpuid_for_guest(struct vcpu *v, uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs h = { 0, 0, 0, 0 };
	struct cpuid_guest_info gi = {
		.vcpu_id = v->id,
		.nr_vcpus = v->guest->nr_vcpus,
		.xstate = &guest_xstate,
		.xcr0 = v->xcr0,
		.osxsave = leaf == 1 && (vmread(VMCS_GUEST_CR4) & CR4_OSXSAVE), /* only leaf 1 shows it */
		.rdtscp = vmx_caps.proc2_ctls & PROC2_ENABLE_RDTSCP,
		.apic = vlapic_hw_enabled(&v->lapic),
		.x2apic = v->guest->apic_bus.x2apic,
		.no_xen = v->guest->cfg->kernel[0] != 0 || v->guest->os_started,
		.tsc_hz = tsc_hz,
		.host_tsc_leaves = cpuid_leaf15_states_rate(tsc_host_leaf15),
	};
	if (leaf < 0x40000000 || leaf >= 0x80000000)
		cpuid_count(leaf, sub, &h.eax, &h.ebx, &h.ecx, &h.edx);
	return cpuid_guest_filter(leaf, sub, h, &gi);
}

enum exit_action exit_cpuid(struct vcpu *v)
{
	uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
	struct cpuid_regs r;
	if (leaf == 1 || leaf == 0xd || (leaf & 0xffffff00u) == CPUID_XEN_BASE) {
		r = cpuid_for_guest(v, leaf, sub);
	} else {
		struct cpuid_cache_entry *e = &v->cpuid_cache[(leaf ^ (leaf >> 28) ^ (sub * 5)) % CPUID_CACHE_SLOTS];
		if (!e->valid || e->leaf != leaf || e->subleaf != sub) {
			r = cpuid_for_guest(v, leaf, sub);
			*e = (struct cpuid_cache_entry){ leaf, sub, { r.eax, r.ebx, r.ecx, r.edx }, true };
		}
		r = (struct cpuid_regs){ e->regs[0], e->regs[1], e->regs[2], e->regs[3] };
	}
	/* CPUID writes the full 64-bit registers with zero-extension. */
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}
