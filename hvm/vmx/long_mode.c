/*
 * Entering and leaving IA-32e (long) mode in a guest: EFER.LME/LMA, CR0.PG
 * and the "IA-32e mode guest" VM-entry control kept consistent.
 *
 * A guest enters long mode by WRMSR EFER.LME=1 with paging off, then MOV
 * CR0 with PG=1; the CPU then sets EFER.LMA. With "load IA32_EFER" on VM
 * entry, the SDM requires LMA to equal the IA-32e-mode-guest control, and
 * LME to equal LMA when CR0.PG=1 (SDM 26.3.1.1); Bochs checks LME == LMA
 * even with paging off. So, as KVM does, Keel keeps a guest's LME in the
 * vCPU while paging is off and writes the VMCS's EFER without it; CR0.PG is
 * owned by Keel (vmcs.c's guest/host mask), so the MOV to CR0 that turns
 * paging on exits here, and Keel sets LME, LMA and the entry control
 * together.
 *
 * Owning CR0.PG has a cost: with EPT, the CPU takes a PAE guest's four
 * PDPTEs from the VMCS at VM entry (SDM 26.3.2.4), and a MOV to CR0 that
 * Keel emulates no longer loads them. Keel does it (load_pae_pdptes).
 */
#include <keel/guest.h>
#include <keel/vcpu.h>
#include <x86/cpu.h>
#include <x86/io.h>
#include <x86/vmx.h>

#include "vmcs.h"
#include "vmx.h"

uint64_t vcpu_efer(struct vcpu *v)
{
	uint64_t efer = vmread(VMCS_GUEST_IA32_EFER);
	return v->efer_lme ? efer | EFER_LME : efer;
}

int vcpu_write_efer(struct vcpu *v, uint64_t val)
{
	uint64_t old = vcpu_efer(v);
	if (val & ~(uint64_t)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
		return -1;
	/* LMA is read-only: the CPU sets it when paging is enabled with LME. */
	val = (val & ~EFER_LMA) | (old & EFER_LMA);
	if ((val ^ old) & EFER_LME && (vmread(VMCS_CR0_READ_SHADOW) & CR0_PG))
		return -1; /* SDM: changing LME with paging on is #GP */
	v->efer_lme = (val & EFER_LME) && !(val & EFER_LMA);
	vmwrite(VMCS_GUEST_IA32_EFER, v->efer_lme ? val & ~EFER_LME : val);
	return 0;
}

/* PDPTE bits that must be 0 when present: 1-2, 5-8 and those at or above
 * MAXPHYADDR (SDM 4.4.1). */
static uint64_t pdpte_reserved_bits(void)
{
	uint32_t a, b, c, d;
	cpuid(0x80000008, &a, &b, &c, &d);
	unsigned maxphy = a & 0xff;
	return 0x1e6ULL | (maxphy < 64 ? ~0ULL << maxphy : 0);
}

/* PAE paging turned on by an emulated MOV to CR0: the PDPTEs go from the
 * guest's CR3 into the VMCS, as the MOV itself would have loaded them. A
 * table outside RAM or a present entry with reserved bits is #GP. */
static int load_pae_pdptes(struct vcpu *v)
{
	uint64_t pdpte[4];
	uint64_t table = vmread(VMCS_GUEST_CR3) & 0xffffffe0u;
	if (!guest_read_phys(v->guest, table, pdpte, sizeof(pdpte)))
		return -1;
	uint64_t reserved = pdpte_reserved_bits();
	for (unsigned i = 0; i < 4; i++)
		if ((pdpte[i] & 1) && (pdpte[i] & reserved))
			return -1;
	vmwrite(VMCS_GUEST_PDPTE0, pdpte[0]);
	vmwrite(VMCS_GUEST_PDPTE1, pdpte[1]);
	vmwrite(VMCS_GUEST_PDPTE2, pdpte[2]);
	vmwrite(VMCS_GUEST_PDPTE3, pdpte[3]);
	return 0;
}

static void set_ia32e_mode(bool on)
{
	uint64_t ctls = vmread(VMCS_ENTRY_CTLS);
	vmwrite(VMCS_ENTRY_CTLS, on ? ctls | ENTRY_IA32E_MODE_GUEST : ctls & ~(uint64_t)ENTRY_IA32E_MODE_GUEST);
}

int vcpu_write_cr0(struct vcpu *v, uint64_t val)
{
	uint64_t old = vmread(VMCS_CR0_READ_SHADOW);
	uint64_t efer = vmread(VMCS_GUEST_IA32_EFER);
	if ((val & CR0_PG) && !(val & CR0_PE))
		return -1; /* SDM: PG without PE is #GP */
	if ((val & CR0_PG) && !(old & CR0_PG) && v->efer_lme) {
		/* Paging on with LME: IA-32e mode, which needs PAE. (CR4.PAE
		 * is the guest's own: the real CR4 has it, not the shadow.) */
		if (!(vmread(VMCS_GUEST_CR4) & CR4_PAE))
			return -1;
		v->efer_lme = false;
		vmwrite(VMCS_GUEST_IA32_EFER, efer | EFER_LME | EFER_LMA);
		set_ia32e_mode(true);
	} else if ((val & CR0_PG) && !(old & CR0_PG) && (vmread(VMCS_GUEST_CR4) & CR4_PAE)) {
		if (load_pae_pdptes(v) < 0)
			return -1;
	} else if (!(val & CR0_PG) && (old & CR0_PG) && (vmread(VMCS_GUEST_CR4) & CR4_PCIDE)) {
		return -1; /* SDM: clearing PG with CR4.PCIDE = 1 is #GP */
	} else if (!(val & CR0_PG) && (old & CR0_PG) && (efer & EFER_LMA)) {
		/* Paging off leaves IA-32e mode; LME stays set for the guest. */
		v->efer_lme = true;
		vmwrite(VMCS_GUEST_IA32_EFER, efer & ~(EFER_LME | EFER_LMA));
		set_ia32e_mode(false);
	}
	vmcs_set_guest_cr0(val);
	return 0;
}
