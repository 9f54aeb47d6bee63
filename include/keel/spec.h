/*
 * Speculative-execution mitigations at the guest boundary: which ones this
 * CPU needs, decided from what it enumerates (CPUID leaf 7, CPUID
 * 0x80000008, IA32_ARCH_CAPABILITIES), and the hooks that apply them.
 * docs/security.md has the table of vulnerability classes.
 *
 * Always, on every VM exit (hvm/vmx/entry.S): the guest's general registers
 * are cleared once saved, so no guest value reaches Keel's C code to be
 * used speculatively, and the return-stack buffer is filled with harmless
 * entries, so a RET in Keel never predicts a target the guest planted.
 * Where the CPU needs and offers them (spec_choose): an L1D flush or a VERW
 * (MDS buffer clearing) just before VM entry, and an IBPB when a CPU goes
 * from one guest's vCPU to another guest's.
 */
#ifndef KEEL_SPEC_H
#define KEEL_SPEC_H

/* Flags entry.S tests before VM entry (spec_entry_flags). */
#define SPEC_ENTRY_L1D_FLUSH 1
#define SPEC_ENTRY_VERW 2

#ifndef __ASSEMBLY__
#include <keel/types.h>

/* CPUID.(EAX=7,ECX=0) */
#define CPUID7_EBX_RTM (1u << 11)
#define CPUID7_EDX_MD_CLEAR (1u << 10)       /* VERW clears the CPU's buffers */
#define CPUID7_EDX_IBRS_IBPB (1u << 26)      /* IA32_SPEC_CTRL, IA32_PRED_CMD */
#define CPUID7_EDX_L1D_FLUSH (1u << 28)      /* IA32_FLUSH_CMD */
#define CPUID7_EDX_ARCH_CAPABILITIES (1u << 29)
/* CPUID 0x80000008 EBX (AMD) */
#define CPUID_EXT8_EBX_IBPB (1u << 12)
/* IA32_ARCH_CAPABILITIES */
#define ARCH_CAP_RDCL_NO (1ULL << 0)            /* not affected by Meltdown, nor L1TF */
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ULL << 3) /* no L1D flush needed on VM entry */
#define ARCH_CAP_MDS_NO (1ULL << 5)
#define ARCH_CAP_TAA_NO (1ULL << 8)

/* What the CPU says about itself. */
struct spec_cpu {
	bool intel, amd;
	uint32_t leaf7_ebx, leaf7_edx;
	uint32_t ext8_ebx;
	uint64_t arch_caps; /* 0 when CPUID does not enumerate the MSR */
};

/* What Keel does about it, and why (for the boot line). */
struct spec_choice {
	bool l1tf_affected, mds_affected;
	bool l1d_flush_on_entry, verw_on_entry, ibpb_on_switch;
	const char *l1d_why, *verw_why, *ibpb_why;
};

/* Keel's command line, verw=: as the CPU needs, always, never. */
enum spec_verw_mode { SPEC_VERW_AUTO, SPEC_VERW_ON, SPEC_VERW_OFF };

/* Pure: the choice for a CPU (host unit-tested). */
void spec_choose(const struct spec_cpu *cpu, enum spec_verw_mode verw, struct spec_choice *out);

#ifndef KEEL_HOST_TEST
extern uint32_t spec_entry_flags;

/* Reads the CPU's enumeration, decides, prints two lines (hvm/vmx/spec.c). */
void spec_init(enum spec_verw_mode verw);
/* Called when `cpu` loads a vCPU of guest g: IBPB if the vCPU it ran
 * before on that CPU belonged to another guest (and the CPU offers it). */
void spec_guest_switch(unsigned cpu, const void *g);
#endif
#endif /* __ASSEMBLY__ */

#endif
