/*
 * Guest linear -> guest-physical translation for the few places Keel reads
 * guest pointers (string I/O, hypercall buffers). It walks the guest's own
 * page tables in guest memory: 32-bit, PAE and 4-level (SDM Vol. 3A ch. 4).
 * Permission bits are not checked: the guest could access the memory anyway.
 */
#include <keel/guest.h>
#include <x86/cpu.h>

#include "exit.h"
#include "vmx.h"

static bool read_entry(struct guest *g, uint64_t gpa, unsigned size, uint64_t *e)
{
	*e = 0;
	return guest_read_phys(g, gpa, e, size);
}

bool vcpu_linear_to_gpa(struct vcpu *v, uint64_t la, bool write, uint64_t *gpa)
{
	struct guest *g = v->guest;
	uint64_t cr0 = vmread(VMCS_GUEST_CR0), cr4 = vmread(VMCS_GUEST_CR4), cr3 = vmread(VMCS_GUEST_CR3);
	uint64_t efer = vmread(VMCS_GUEST_IA32_EFER), e;
	const uint64_t addr = 0x000ffffffffff000ULL;

	if (!(cr0 & CR0_PG)) {
		*gpa = la & 0xffffffffULL;
		return true;
	}
	if (efer & EFER_LMA) {
		uint64_t table = cr3 & addr;
		for (int level = 4; level >= 1; level--) {
			unsigned shift = 12 + 9 * (level - 1);
			if (!read_entry(g, table + ((la >> shift) & 511) * 8, 8, &e) || !(e & PTE_P))
				return false;
			if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
				uint64_t psize = 1ULL << shift;
				*gpa = (e & addr & ~(psize - 1)) | (la & (psize - 1));
				return true;
			}
			table = e & addr;
		}
		return false;
	}
	la &= 0xffffffffULL;
	if (cr4 & CR4_PAE) {
		if (!read_entry(g, (cr3 & 0xffffffe0ULL) + ((la >> 30) & 3) * 8, 8, &e) || !(e & PTE_P))
			return false;
		if (!read_entry(g, (e & addr) + ((la >> 21) & 511) * 8, 8, &e) || !(e & PTE_P))
			return false;
		if (e & PTE_PS) {
			*gpa = (e & addr & ~0x1fffffULL) | (la & 0x1fffff);
			return true;
		}
		if (!read_entry(g, (e & addr) + ((la >> 12) & 511) * 8, 8, &e) || !(e & PTE_P))
			return false;
		*gpa = (e & addr) | (la & 0xfff);
		return true;
	}
	if (!read_entry(g, (cr3 & 0xfffff000ULL) + (la >> 22) * 4, 4, &e) || !(e & PTE_P))
		return false;
	if ((e & PTE_PS) && (cr4 & CR4_PSE)) {
		/* 4 MiB page; bits 20:13 give physical bits 39:32 (PSE-36). */
		*gpa = (e & 0xffc00000ULL) | ((e >> 13) & 0xffULL) << 32 | (la & 0x3fffff);
		return true;
	}
	if (!read_entry(g, (e & 0xfffff000ULL) + ((la >> 12) & 1023) * 4, 4, &e) || !(e & PTE_P))
		return false;
	*gpa = (e & 0xfffff000ULL) | (la & 0xfff);
	return true;
}
