/*
 * CPUID policy. The guest sees the host CPU minus what Keel does not
 * virtualize: VMX (no nested VMX), SMX, monitor/mwait, TSC-deadline (the
 * local APIC's bit follows IA32_APIC_BASE.EN as on hardware; x2APIC is
 * offered unless the guest has x2apic:off, with leaf 0xB's topology: one
 * thread per core, one core per vCPU, x2APIC ID = vCPU number), MTRRs, performance monitoring, thermal/power leaves, and every
 * extended-state component Keel does not switch per vCPU (MPX, PKRU, AMX,
 * the supervisor components). XSAVE, AVX, AVX2 and AVX-512 are offered when
 * the host has them (include/keel/xstate.h), with leaf 0xD describing
 * exactly the offered components. The hypervisor bit is set, and leaves
 * 0x40000000-2 carry the Xen signature SeaBIOS's Xen path requires
 * (SeaBIOS src/fw/xen.c: signature, >= 2 more leaves, hypercall page count
 * and MSR) while the firmware runs; from the boot sector on (and for a
 * kernel booted directly) leaf 0x40000000 is Keel's own, claiming nothing.
 */
#include <keel/cpuid.h>
#include <keel/xstate.h>
#include <x86/cpu.h>

#define L1_ECX_MONITOR (1u << 3)
#define L1_ECX_DSCPL (1u << 4)
#define L1_ECX_VMX (1u << 5)
#define L1_ECX_SMX (1u << 6)
#define L1_ECX_EST (1u << 7)
#define L1_ECX_TM2 (1u << 8)
#define L1_ECX_SDBG (1u << 11)
#define L1_ECX_PDCM (1u << 15)
#define L1_ECX_DCA (1u << 18)
#define L1_ECX_X2APIC (1u << 21)
#define L1_ECX_TSC_DEADLINE (1u << 24)
#define L1_ECX_XSAVE (1u << 26)
#define L1_ECX_OSXSAVE (1u << 27)
#define L1_ECX_AVX (1u << 28)
#define L1_ECX_F16C (1u << 29)
#define L1_ECX_FMA (1u << 12)
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_EDX_APIC (1u << 9)
#define L1_EDX_MTRR (1u << 12)
#define L1_EDX_ACPI (1u << 22)
#define L1_EDX_DS (1u << 21)
#define L1_EDX_HTT (1u << 28)
#define L1_EDX_TM (1u << 29)
#define L1_EDX_PBE (1u << 31)

/* Leaf 7 EBX features that need nothing from the hypervisor. */
#define L7_EBX_ALLOWED                                                                                          \
	((1u << 0) /* FSGSBASE */ | (1u << 3) /* BMI1 */ | (1u << 7) /* SMEP */ | (1u << 8) /* BMI2 */ |      \
	 (1u << 9) /* ERMS */ | (1u << 18) /* RDSEED */ | (1u << 19) /* ADX */ | (1u << 20) /* SMAP */ |        \
	 (1u << 23) /* CLFLUSHOPT */ | (1u << 29) /* SHA */)

/* Leaf 7 features that are instructions on state Keel switches once the
 * guest has the matching XCR0 components: AVX2 and the VEX-encoded crypto
 * forms with AVX; the AVX-512 families with AVX-512. */
#define L7_EBX_AVX2 (1u << 5)
#define L7_ECX_WITH_AVX ((1u << 8) /* GFNI */ | (1u << 9) /* VAES */ | (1u << 10) /* VPCLMULQDQ */)
#define L7_EBX_AVX512                                                                                            \
	((1u << 16) /* F */ | (1u << 17) /* DQ */ | (1u << 21) /* IFMA */ | (1u << 26) /* PF */ |               \
	 (1u << 27) /* ER */ | (1u << 28) /* CD */ | (1u << 30) /* BW */ | (1u << 31) /* VL */)
#define L7_ECX_AVX512                                                                                            \
	((1u << 1) /* VBMI */ | (1u << 6) /* VBMI2 */ | (1u << 11) /* VNNI */ | (1u << 12) /* BITALG */ |      \
	 (1u << 14) /* VPOPCNTDQ */)
#define L7_EDX_AVX512 ((1u << 2) /* 4VNNIW */ | (1u << 3) /* 4FMAPS */ | (1u << 8) /* VP2INTERSECT */ | (1u << 23) /* FP16 */)

#define EXT1_EDX_RDTSCP (1u << 27)

static uint64_t offered_xcr0(const struct cpuid_guest_info *gi) { return gi->xstate ? gi->xstate->offered : 0; }

/* Leaf 0xD: the offered components only, sizes computed for them. */
static struct cpuid_regs xstate_leaf(uint32_t subleaf, struct cpuid_regs h, const struct cpuid_guest_info *gi)
{
	struct cpuid_regs z = { 0, 0, 0, 0 };
	const struct xstate_layout *l = gi->xstate;
	uint64_t offered = offered_xcr0(gi);
	if (!offered)
		return z;
	switch (subleaf) {
	case 0:
		/* EBX: the area for what XCR0 enables now; ECX: for everything. */
		return (struct cpuid_regs){ (uint32_t)offered, xstate_size(l, gi->xcr0), xstate_size(l, offered),
					    (uint32_t)(offered >> 32) };
	case 1:
		/* No XSAVES (IA32_XSS is not offered): EBX is the compacted
		 * size for XCR0 alone, ECX/EDX (supervisor bits) are 0. */
		return (struct cpuid_regs){ h.eax & l->sub1_eax, xstate_compacted_size(l, gi->xcr0), 0, 0 };
	default:
		if (subleaf >= XSTATE_COMPONENTS || !((offered >> subleaf) & 1))
			return z;
		return (struct cpuid_regs){ l->size[subleaf], l->offset[subleaf], h.ecx & 2u, 0 };
	}
}

struct cpuid_regs cpuid_tsc_leaf(uint64_t tsc_hz, struct cpuid_regs host)
{
	/* The guest's TSC is the host's (no offset, no scaling), so a host
	 * leaf that states its rate is right as it is. */
	if (cpuid_leaf15_states_rate(host))
		return host;
	/* Else a crystal at the TSC rate itself (halved until it fits ECX):
	 * the ratio stays a small integer, so a kernel's 32-bit arithmetic
	 * (Linux: crystal_khz * EBX / EAX) neither overflows nor rounds. */
	uint32_t ratio = 1;
	while (tsc_hz / ratio > 0xffffffffu)
		ratio *= 2;
	return (struct cpuid_regs){ 1, ratio, (uint32_t)(tsc_hz / ratio), 0 };
}

struct cpuid_regs cpuid_topology_leaf(uint32_t subleaf, unsigned vcpu_id, unsigned nr_vcpus)
{
	/* Leaf 0xB (SDM Vol. 2A, CPUID): level 0 is SMT with one thread per
	 * core (shift 0), level 1 the cores: the package's vCPUs, their IDs
	 * in the low ceil(log2(N)) bits, so "x2APIC ID >> shift" is the same
	 * package for all. Leaf 1 EBX[23:16] and leaf 4 EAX[31:26] say N
	 * too. EDX is the x2APIC ID at every subleaf; ECX[7:0] echoes it. */
	unsigned shift = 0;
	while ((1u << shift) < nr_vcpus)
		shift++;
	switch (subleaf) {
	case 0:
		return (struct cpuid_regs){ 0, 1, 0 | (1u << 8), vcpu_id };
	case 1:
		return (struct cpuid_regs){ shift, nr_vcpus, 1 | (2u << 8), vcpu_id };
	default:
		return (struct cpuid_regs){ 0, 0, subleaf & 0xff, vcpu_id };
	}
}

struct cpuid_regs cpuid_guest_filter(uint32_t leaf, uint32_t subleaf, struct cpuid_regs h,
				     const struct cpuid_guest_info *gi)
{
	struct cpuid_regs z = { 0, 0, 0, 0 };

	/* Only SeaBIOS's Xen path needs the Xen leaves; an OS would take them
	 * for a real Xen and use PV interfaces Keel does not have (Linux:
	 * "Hypervisor detected: Xen HVM", then memory_op hypercalls and a
	 * BUG). It sees Keel's leaf instead: a name and no further leaves,
	 * which no OS knows, so it runs as on bare metal. */
	if (gi->no_xen && leaf >= CPUID_XEN_BASE && leaf <= CPUID_XEN_BASE + 2)
		return leaf == CPUID_XEN_BASE ? (struct cpuid_regs){ CPUID_KEEL_BASE, CPUID_KEEL_SIGNATURE,
								     CPUID_KEEL_SIGNATURE, CPUID_KEEL_SIGNATURE }
					      : z;
	switch (leaf) {
	case 0:
		if (h.eax > 0x16 || gi->tsc_hz)
			h.eax = 0x16;
		return h;
	case 1:
		h.ecx &= ~(L1_ECX_MONITOR | L1_ECX_DSCPL | L1_ECX_VMX | L1_ECX_SMX | L1_ECX_EST | L1_ECX_TM2 |
			   L1_ECX_SDBG | L1_ECX_PDCM | L1_ECX_DCA | L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE |
			   L1_ECX_XSAVE | L1_ECX_OSXSAVE);
		if (!(offered_xcr0(gi) & XCR0_AVX))
			h.ecx &= ~(L1_ECX_AVX | L1_ECX_F16C | L1_ECX_FMA);
		if (offered_xcr0(gi))
			h.ecx |= L1_ECX_XSAVE | (gi->osxsave ? L1_ECX_OSXSAVE : 0);
		h.ecx |= L1_ECX_HYPERVISOR;
		if (gi->x2apic)
			h.ecx |= L1_ECX_X2APIC;
		h.edx &= ~(L1_EDX_APIC | L1_EDX_MTRR | L1_EDX_ACPI | L1_EDX_DS | L1_EDX_TM | L1_EDX_PBE);
		if (gi->apic)
			h.edx |= L1_EDX_APIC;
		/* EBX: initial APIC id in 31:24, logical CPUs per package in 23:16. */
		h.ebx = (h.ebx & 0x0000ffffu) | ((gi->vcpu_id & 0xff) << 24) | ((gi->nr_vcpus & 0xff) << 16);
		if (gi->nr_vcpus > 1)
			h.edx |= L1_EDX_HTT;
		else
			h.edx &= ~L1_EDX_HTT;
		return h;
	case 2: /* cache descriptors: harmless */
		return h;
	case 4:
		/* Cache topology; cores per package (31:26) must agree with the
		 * vCPU count, threads sharing (25:14) likewise. */
		h.eax &= 0x3fff;
		if (h.eax & 0x1f)
			h.eax |= ((gi->nr_vcpus - 1) & 0x3f) << 26;
		return h;
	case 7: {
		if (subleaf != 0)
			return z;
		h.eax = 0;
		uint32_t ebx = L7_EBX_ALLOWED, ecx = 0, edx = 0;
		if (offered_xcr0(gi) & XCR0_AVX) {
			ebx |= L7_EBX_AVX2;
			ecx |= L7_ECX_WITH_AVX;
		}
		if (offered_xcr0(gi) & XCR0_AVX512) {
			ebx |= L7_EBX_AVX512;
			ecx |= L7_ECX_AVX512;
			edx |= L7_EDX_AVX512;
		}
		h.ebx &= ebx;
		h.ecx &= ecx;
		h.edx &= edx;
		return h;
	}
	case 0xb:
		return gi->x2apic ? cpuid_topology_leaf(subleaf, gi->vcpu_id, gi->nr_vcpus) : z;
	case 0xd:
		return xstate_leaf(subleaf, h, gi);
	case 0x15:
		/* Only a host leaf 0x15 that exists counts: above the host's
		 * highest basic leaf CPUID returns that leaf's data (Bochs's
		 * Sandy Bridge: leaf 0xD's sizes, an 832 Hz "crystal"), while
		 * Keel's local APIC timer runs at the TSC rate then. */
		return gi->tsc_hz ? cpuid_tsc_leaf(gi->tsc_hz, gi->host_tsc_leaves ? h : z) : h;
	case 0x16:
		/* Base and maximum MHz: the host's when its leaf 0x15 stated the
		 * TSC rate; else Keel's measured rate, so that nothing takes a
		 * brand frequency for the TSC's (in Bochs: 3.5 GHz for a TSC that
		 * runs at tens of MHz). */
		if (!gi->tsc_hz || gi->host_tsc_leaves)
			return h;
		return (struct cpuid_regs){ (uint32_t)(gi->tsc_hz / 1000000), (uint32_t)(gi->tsc_hz / 1000000), 0, 0 };
	case 0x40000000:
		/* "XenVMMXenVMM" in EBX, ECX, EDX; EAX = the highest leaf. */
		return (struct cpuid_regs){ CPUID_XEN_BASE + 2, 0x566e6558, 0x65584d4d, 0x4d4d566e };
	case 0x40000001:
		return (struct cpuid_regs){ (XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR, 0, 0, 0 };
	case 0x40000002:
		/* One hypercall page, installed through MSR 0x40000000. */
		return (struct cpuid_regs){ 1, CPUID_XEN_HYPERCALL_MSR, 0, 0 };
	case 0x80000000:
		if (h.eax > 0x80000008)
			h.eax = 0x80000008;
		return h;
	case 0x80000001:
		if (!gi->rdtscp)
			h.edx &= ~EXT1_EDX_RDTSCP;
		/* Keep LM, NX, SYSCALL, LAHF/SAHF, LZCNT, PREFETCHW. */
		h.ecx &= (1u << 0) | (1u << 5) | (1u << 8);
		h.edx &= (1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) | (1u << 29);
		return h;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004:
	case 0x80000006:
	case 0x80000008:
		return h;
	case 0x80000007:
		h.eax = h.ebx = h.ecx = 0;
		h.edx &= CPUID_80000007_EDX_INVARIANT_TSC;
		return h;
	default:
		return z;
	}
}
