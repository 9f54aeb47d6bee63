/*
 * VMCS set-up for one vCPU. Each field written has the SDM rule that makes
 * it necessary next to it (Vol. 3C ch. 24-26).
 */
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/guest.h>
#include <keel/hvmloader_abi.h>
#include <keel/mm.h>
#include <keel/string.h>
#include <keel/vmx.h>
#include <x86/cpu.h>
#include <x86/io.h>

#include "exit.h"
#include "vmcs.h"
#include "vmx.h"

extern char vmx_exit_entry[];

/* Host state: what the CPU loads on every VM exit (SDM 27.5). Depends on
 * the physical CPU, so it is rewritten when a vCPU moves. */
void vmcs_write_host_state(struct vcpu *v, unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SEL, GDT_CODE64);
	vmwrite(VMCS_HOST_SS_SEL, GDT_DATA);
	vmwrite(VMCS_HOST_DS_SEL, GDT_DATA);
	vmwrite(VMCS_HOST_ES_SEL, GDT_DATA);
	vmwrite(VMCS_HOST_FS_SEL, 0);
	vmwrite(VMCS_HOST_GS_SEL, 0);
	/* SDM 26.2.3: host TR must be non-null. */
	vmwrite(VMCS_HOST_TR_SEL, GDT_TSS);
	vmwrite(VMCS_HOST_FS_BASE, 0);
	vmwrite(VMCS_HOST_GS_BASE, 0);
	vmwrite(VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&pc->tss);
	vmwrite(VMCS_HOST_GDTR_BASE, (uint64_t)(uintptr_t)pc->gdt);
	vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
	vmwrite(VMCS_HOST_IA32_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_IA32_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_IA32_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	if (vmx_caps.exit_ctls & EXIT_LOAD_IA32_PAT)
		vmwrite(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	/* entry.S finds the vCPU in the slot HOST_RSP points at. */
	vmwrite(VMCS_HOST_RSP, pc->exit_stack_top - 8);
	vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
}

const struct vmcs_seg_fields vmcs_segs[NR_VMCS_SEGS] = {
	[SEG_ES] = { "ES", VMCS_GUEST_ES_SEL, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR },
	[SEG_CS] = { "CS", VMCS_GUEST_CS_SEL, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR },
	[SEG_SS] = { "SS", VMCS_GUEST_SS_SEL, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR },
	[SEG_DS] = { "DS", VMCS_GUEST_DS_SEL, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR },
	[SEG_FS] = { "FS", VMCS_GUEST_FS_SEL, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR },
	[SEG_GS] = { "GS", VMCS_GUEST_GS_SEL, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR },
	[SEG_LDTR] = { "LDTR", VMCS_GUEST_LDTR_SEL, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR },
	[SEG_TR] = { "TR", VMCS_GUEST_TR_SEL, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR },
};

static void seg(enum vmcs_seg s, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	vmwrite(vmcs_segs[s].sel, sel);
	vmwrite(vmcs_segs[s].base, base);
	vmwrite(vmcs_segs[s].limit, limit);
	vmwrite(vmcs_segs[s].ar, ar);
}

/* The data segments (all but CS) alike. */
static void data_segs(uint16_t sel, uint32_t limit, uint32_t ar)
{
	static const enum vmcs_seg data[] = { SEG_DS, SEG_ES, SEG_SS, SEG_FS, SEG_GS };
	for (unsigned i = 0; i < ARRAY_SIZE(data); i++)
		seg(data[i], sel, 0, limit, ar);
}

/* Real-mode segment as after reset or SIPI: base = sel << 4 except CS. */
#define AR_CODE_RM 0x9b  /* present, S, type 11 (exec/read, accessed) */
#define AR_DATA_RM 0x93  /* present, S, type 3 (read/write, accessed) */
#define AR_CODE_32 0xc09b /* + D/B, G */
#define AR_DATA_32 0xc093
#define AR_TSS_BUSY 0x8b
#define AR_LDT 0x82

uint64_t vmcs_guest_cr0(uint64_t shadow)
{
	/* With unrestricted guest, PE and PG may be 0 (SDM 26.3.1.1); every
	 * other CR0_FIXED0 bit (NE) must stay 1 whatever the guest wants. */
	uint64_t fixed0 = vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG);
	return (shadow | fixed0) & vmx_caps.cr0_fixed1;
}

uint64_t vmcs_guest_cr4(uint64_t shadow) { return (shadow | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1; }

void vmcs_set_guest_cr0(uint64_t val)
{
	vmwrite(VMCS_CR0_READ_SHADOW, val);
	vmwrite(VMCS_GUEST_CR0, vmcs_guest_cr0(val));
}

void vmcs_set_guest_cr4(uint64_t val)
{
	vmwrite(VMCS_CR4_READ_SHADOW, val);
	vmwrite(VMCS_GUEST_CR4, vmcs_guest_cr4(val));
}

static void vmcs_common_guest_state(void)
{
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmwrite(VMCS_GUEST_IA32_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_IA32_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_IA32_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_IA32_EFER, 0);
	if (vmx_caps.entry_ctls & ENTRY_LOAD_IA32_PAT)
		vmwrite(VMCS_GUEST_IA32_PAT, 0x0007040600070406ULL); /* power-on PAT */
	/* SDM 26.3.1.5: the link pointer must be all ones unless shadowing. */
	vmwrite(VMCS_VMCS_LINK_POINTER, ~0ULL);
	vmwrite(VMCS_GUEST_CR3, 0);
	seg(SEG_LDTR, 0, 0, 0xffff, AR_LDT);
	/* SDM 26.3.1.2: TR must be usable and busy, even in real mode. */
	seg(SEG_TR, 0, 0, 0xffff, AR_TSS_BUSY);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1);
	vmwrite(VMCS_ENTRY_CTLS, vmx_caps.entry_ctls & ~ENTRY_IA32E_MODE_GUEST);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
}

/* The hvmloader ABI (include/keel/hvmloader_abi.h): 32-bit flat protected
 * mode, paging off, EAX = magic, EBX = start info. */
void vmcs_set_guest_loader_state(struct vcpu *v, uint32_t entry, uint32_t start_info)
{
	vmcs_common_guest_state();
	seg(SEG_CS, 0x08, 0, 0xffffffff, AR_CODE_32);
	data_segs(0x10, 0xffffffff, AR_DATA_32);
	vmcs_set_guest_cr0(CR0_PE | CR0_ET);
	vmcs_set_guest_cr4(0);
	vmwrite(VMCS_GUEST_RIP, entry);
	vmwrite(VMCS_GUEST_RSP, 0);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rax = HVMLOADER_START_MAGIC;
	v->regs.rbx = start_info;
}

/* Real mode at CS:IP with CS base = cs_base (reset: F000:FFF0 with base
 * FFFF0000; SIPI: VV00:0000). */
void vmcs_set_guest_real_mode(struct vcpu *v, uint16_t cs_sel, uint64_t cs_base, uint16_t ip)
{
	vmcs_common_guest_state();
	seg(SEG_CS, cs_sel, cs_base, 0xffff, AR_CODE_RM);
	data_segs(0, 0xffff, AR_DATA_RM);
	vmcs_set_guest_cr0(CR0_ET | CR0_CD | CR0_NW);
	vmcs_set_guest_cr4(0);
	vmwrite(VMCS_GUEST_RIP, ip);
	vmwrite(VMCS_GUEST_RSP, 0);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rdx = 0x600; /* reset value of EDX: family 6 */
}

/* Allocates the VMCS, makes it current on this CPU and writes every
 * control and host field. Guest state is set by the callers above. */
int vmcs_create(struct vcpu *v, unsigned cpu)
{
	struct guest *g = v->guest;

	v->vmcs = vmx_alloc_pages(1);
	if (!v->vmcs)
		return -1;
	/* SDM 24.2: the first dword holds the VMCS revision identifier. */
	*(uint32_t *)v->vmcs = VMX_BASIC_REVISION(vmx_caps.basic);
	if (vmcs_clear(virt_to_phys(v->vmcs)) < 0 || vmcs_load(virt_to_phys(v->vmcs)) < 0) {
		pr_err("guest %s: VMCLEAR/VMPTRLD of a new VMCS failed\n", g->name);
		return -1;
	}
	v->cpu = (int)cpu;
	v->launched = 0;
	pcpus[cpu].current = v;

	vmwrite(VMCS_PIN_BASED_CTLS, vmx_caps.pin_ctls);
	vmwrite(VMCS_PROC_BASED_CTLS, vmx_caps.proc_ctls & ~(PROC_INTERRUPT_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING));
	vmwrite(VMCS_PROC_BASED_CTLS2, vmx_caps.proc2_ctls);
	vmwrite(VMCS_EXIT_CTLS, vmx_caps.exit_ctls);
	vmwrite(VMCS_ENTRY_CTLS, vmx_caps.entry_ctls & ~ENTRY_IA32E_MODE_GUEST);
	vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	vmwrite(VMCS_PF_ERROR_CODE_MASK, 0);
	vmwrite(VMCS_PF_ERROR_CODE_MATCH, 0);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_IO_BITMAP_A, virt_to_phys(g->io_bitmap));
	vmwrite(VMCS_IO_BITMAP_B, virt_to_phys(g->io_bitmap) + PAGE_SIZE);
	vmwrite(VMCS_MSR_BITMAP, virt_to_phys(g->msr_bitmap));
	vmwrite(VMCS_EPT_POINTER, ept_pointer(&g->ept));
	if (vmx_caps.proc2_ctls & PROC2_ENABLE_VPID)
		vmwrite(VMCS_VPID, v->vpid);
	vmwrite(VMCS_TSC_OFFSET, 0);
	/* CR0.NE and the CR4 bits VMX fixes (VMXE) or Keel does not offer
	 * (vmx.c's guest_cr4_allowed, and CR4.PCIDE, whose rules exit.c checks)
	 * belong to Keel: the guest reads its own view from the shadows and a
	 * write that would change them exits (SDM 25.6.6). So does CR0.PG:
	 * turning paging on or off may enter or leave long mode (long_mode.c). */
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, (vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG)) | CR0_PG);
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, ~vmx_caps.guest_cr4_allowed | CR4_PCIDE);
	/* The TPR shadow: MOV CR8 reads and writes v->vapic's TPR byte; a
	 * write below the threshold exits so a waiting interrupt goes in
	 * (hvm/vmx/vcpu_state.c). */
	if (vmx_caps.proc_ctls & PROC_USE_TPR_SHADOW) {
		vmwrite(VMCS_VIRTUAL_APIC_ADDR, virt_to_phys(v->vapic));
		vmwrite(VMCS_TPR_THRESHOLD, 0);
	}
	apicv_vmcs_init(v);
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, 0xffffffff);
	vmcs_write_host_state(v, cpu);
	return 0;
}
