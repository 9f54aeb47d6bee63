/* Architectural constants of the x86 CPU, named as in the Intel SDM
 * (Vol. 3A ch. 2 for control registers, Vol. 4 for MSRs). */
#ifndef X86_CPU_H
#define X86_CPU_H

#define CR0_PE (1UL << 0)
#define CR0_MP (1UL << 1)
#define CR0_EM (1UL << 2)
#define CR0_TS (1UL << 3)
#define CR0_ET (1UL << 4)
#define CR0_NE (1UL << 5)
#define CR0_WP (1UL << 16)
#define CR0_AM (1UL << 18)
#define CR0_NW (1UL << 29)
#define CR0_CD (1UL << 30)
#define CR0_PG (1UL << 31)

#define CR4_VME (1UL << 0)
#define CR4_PVI (1UL << 1)
#define CR4_TSD (1UL << 2)
#define CR4_DE (1UL << 3)
#define CR4_PSE (1UL << 4)
#define CR4_PAE (1UL << 5)
#define CR4_MCE (1UL << 6)
#define CR4_PGE (1UL << 7)
#define CR4_PCE (1UL << 8)
#define CR4_OSFXSR (1UL << 9)
#define CR4_OSXMMEXCPT (1UL << 10)
#define CR4_UMIP (1UL << 11)
#define CR4_LA57 (1UL << 12)
#define CR4_VMXE (1UL << 13)
#define CR4_SMXE (1UL << 14)
#define CR4_FSGSBASE (1UL << 16)
#define CR4_PCIDE (1UL << 17)
#define CR4_OSXSAVE (1UL << 18)
#define CR4_SMEP (1UL << 20)
#define CR4_SMAP (1UL << 21)
#define CR4_PKE (1UL << 22)

/* XCR0, the XSAVE feature-enabled mask (SDM Vol. 1 13.3): one bit per
 * state component. */
#define XCR0_X87 (1ULL << 0)
#define XCR0_SSE (1ULL << 1)
#define XCR0_AVX (1ULL << 2)  /* YMM upper halves */
#define XCR0_BNDREGS (1ULL << 3)
#define XCR0_BNDCSR (1ULL << 4)
#define XCR0_OPMASK (1ULL << 5)
#define XCR0_ZMM_HI256 (1ULL << 6)
#define XCR0_HI16_ZMM (1ULL << 7)
#define XCR0_PKRU (1ULL << 9)
#define XCR0_TILECFG (1ULL << 17)
#define XCR0_TILEDATA (1ULL << 18)
#define XCR0_AVX512 (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)

/* Debug registers after power-up, reset or INIT (SDM Vol. 3A 17.2). */
#define DR6_INIT 0xffff0ff0UL
#define DR7_INIT 0x400UL
/* DR7's local enables L0-L3 and LE: a task switch clears them (SDM Vol. 3A 18.2.4). */
#define DR7_LOCAL_ENABLES 0x155UL

#define RFLAGS_CF (1UL << 0)
#define RFLAGS_RESERVED1 (1UL << 1) /* always 1 */
#define RFLAGS_ZF (1UL << 6)
#define RFLAGS_TF (1UL << 8)
#define RFLAGS_IF (1UL << 9)
#define RFLAGS_RF (1UL << 16)
#define RFLAGS_DF (1UL << 10)
#define RFLAGS_IOPL (3UL << 12)
#define RFLAGS_NT (1UL << 14)
#define RFLAGS_VM (1UL << 17)
#define RFLAGS_AC (1UL << 18)

#define EFER_SCE (1UL << 0)
#define EFER_LME (1UL << 8)
#define EFER_LMA (1UL << 10)
#define EFER_NXE (1UL << 11)

/* MSR indices (SDM Vol. 4, table 2-2). */
#define MSR_IA32_TSC 0x010
#define MSR_IA32_PLATFORM_ID 0x017
#define MSR_IA32_APIC_BASE 0x01B
#define MSR_IA32_FEATURE_CONTROL 0x03A
#define MSR_IA32_TSC_ADJUST 0x03B
#define MSR_IA32_PRED_CMD 0x049 /* bit 0: IBPB */
#define MSR_IA32_BIOS_SIGN_ID 0x08B
#define MSR_IA32_MTRRCAP 0x0FE
#define MSR_IA32_ARCH_CAPABILITIES 0x10A
#define MSR_IA32_FLUSH_CMD 0x10B /* bit 0: L1D flush */
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MCG_CAP 0x179
#define MSR_IA32_MCG_STATUS 0x17A
#define MSR_IA32_MISC_ENABLE 0x1A0
/* Its bits (SDM Vol. 4 table 2-2): read-only 7 (performance monitoring
 * available), 11 (BTS unavailable), 12 (PEBS unavailable); writable 0
 * (fast strings), 3 (automatic thermal control), 16 (EIST), 18 (MONITOR
 * FSM), 22 (limit CPUID maxval), 23 (xTPR message disable), 34 (XD bit
 * disable); the others reserved. */
#define MISC_ENABLE_FAST_STRING (1ULL << 0)
#define MISC_ENABLE_BTS_UNAVAIL (1ULL << 11)
#define MISC_ENABLE_PEBS_UNAVAIL (1ULL << 12)
#define MISC_ENABLE_READ_ONLY ((1ULL << 7) | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)
#define MISC_ENABLE_WRITABLE \
	((1ULL << 0) | (1ULL << 3) | (1ULL << 16) | (1ULL << 18) | (1ULL << 22) | (1ULL << 23) | (1ULL << 34))
/* Keel's guests: fast strings on; no performance monitoring, BTS or PEBS. */
#define MISC_ENABLE_RESET (MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)
#define MSR_IA32_PAT 0x277
#define MSR_IA32_MTRR_DEF_TYPE 0x2FF
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_VMCS_ENUM 0x48A
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48C
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48D
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48E
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48F
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_TSC_DEADLINE 0x6E0
#define MSR_IA32_EFER 0xC0000080
#define MSR_IA32_STAR 0xC0000081
#define MSR_IA32_LSTAR 0xC0000082
#define MSR_IA32_CSTAR 0xC0000083
#define MSR_IA32_FMASK 0xC0000084
#define MSR_IA32_FS_BASE 0xC0000100
#define MSR_IA32_GS_BASE 0xC0000101
#define MSR_IA32_KERNEL_GS_BASE 0xC0000102
#define MSR_IA32_TSC_AUX 0xC0000103

/* IA32_FEATURE_CONTROL bits (SDM Vol. 3C 23.7). */
#define FEATURE_CONTROL_LOCK (1UL << 0)
#define FEATURE_CONTROL_VMX_IN_SMX (1UL << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1UL << 2)

/* IA32_APIC_BASE bits. */
#define APIC_BASE_BSP (1UL << 8)
#define APIC_BASE_X2APIC (1UL << 10)
#define APIC_BASE_ENABLE (1UL << 11)

/* CPUID feature bits. */
#define CPUID_1_ECX_VMX (1U << 5)
#define CPUID_1_ECX_SMX (1U << 6)
#define CPUID_1_ECX_FMA (1U << 12)
#define CPUID_1_ECX_PCID (1U << 17)
#define CPUID_1_ECX_X2APIC (1U << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1U << 24)
#define CPUID_1_ECX_XSAVE (1U << 26)
#define CPUID_1_ECX_OSXSAVE (1U << 27)
#define CPUID_1_ECX_AVX (1U << 28)
#define CPUID_1_ECX_F16C (1U << 29)
#define CPUID_1_ECX_HYPERVISOR (1U << 31)
#define CPUID_1_EDX_FXSR (1U << 24)
#define CPUID_1_EDX_TSC (1U << 4)
#define CPUID_1_EDX_MSR (1U << 5)
#define CPUID_1_EDX_APIC (1U << 9)
#define CPUID_80000001_EDX_LM (1U << 29)
#define CPUID_80000001_EDX_PDPE1GB (1U << 26)
#define CPUID_80000007_EDX_INVARIANT_TSC (1U << 8)

/* Exception vectors (SDM Vol. 3A table 6-1). */
#define X86_EXC_DE 0
#define X86_EXC_DB 1
#define X86_EXC_NMI 2
#define X86_EXC_BP 3
#define X86_EXC_OF 4
#define X86_EXC_BR 5
#define X86_EXC_UD 6
#define X86_EXC_NM 7
#define X86_EXC_DF 8
#define X86_EXC_TS 10
#define X86_EXC_NP 11
#define X86_EXC_SS 12
#define X86_EXC_GP 13
#define X86_EXC_PF 14
#define X86_EXC_MF 16
#define X86_EXC_AC 17
#define X86_EXC_MC 18
#define X86_EXC_XM 19
#define X86_EXC_VE 20

/* Page-table entry bits (SDM Vol. 3A 4.5). */
#define PTE_P (1UL << 0)
#define PTE_RW (1UL << 1)
#define PTE_US (1UL << 2)
#define PTE_PWT (1UL << 3)
#define PTE_PCD (1UL << 4)
#define PTE_PS (1UL << 7)
#define PTE_G (1UL << 8)
#define PTE_NX (1UL << 63)

#endif
