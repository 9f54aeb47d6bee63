/*
 * Guest linear -> guest-physical translation for the places Keel touches
 * guest memory through a guest's pointer (string I/O, hypercall buffers,
 * the instruction bytes of an MMIO access): the guest's paging state from
 * the VMCS, handed to the pure walk (hvm/page_walk.c), which checks the
 * access rights as the CPU does. A refused access is the guest's #PF.
 */
#include <keel/guest.h>
#include <x86/cpu.h>
#include <x86/io.h>

#include "exit.h"
#include "vmx.h"

static bool read_entry(void *ctx, uint64_t gpa, unsigned size, uint64_t *e)
{
	*e = 0;
	return guest_read_phys(ctx, gpa, e, size);
}

/* The guest sees the host's physical-address width (hvm/cpuid.c). */
static unsigned maxphyaddr(void)
{
	static unsigned width;
	if (!width) {
		uint32_t a, b, c, d;
		cpuid(0x80000008, &a, &b, &c, &d);
		width = a & 0xff;
	}
	return width;
}

static enum page_walk_status translate(struct vcpu *v, uint64_t la, enum page_access acc, bool implicit,
				      uint64_t *gpa, uint32_t *pf_error)
{
	struct page_walk_mode m = {
		.cr0 = vmread(VMCS_GUEST_CR0),
		.cr3 = vmread(VMCS_GUEST_CR3),
		.cr4 = vmread(VMCS_GUEST_CR4),
		.efer = vmread(VMCS_GUEST_IA32_EFER),
		/* The CPU's own accesses to descriptor tables and TSSes are
		 * supervisor accesses at any CPL, and SMAP applies to them as
		 * to an explicit access with AC clear (SDM 4.6). */
		.cpl = implicit ? 0 : vcpu_cpl(),
		.ac = !implicit && (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_AC),
		.maxphyaddr = maxphyaddr(),
	};
	*pf_error = 0;
	return page_walk(&m, la, acc, read_entry, v->guest, gpa, pf_error);
}

enum page_walk_status vcpu_translate(struct vcpu *v, uint64_t la, enum page_access acc, uint64_t *gpa,
				     uint32_t *pf_error)
{
	return translate(v, la, acc, false, gpa, pf_error);
}

enum page_walk_status vcpu_translate_implicit(struct vcpu *v, uint64_t la, enum page_access acc, uint64_t *gpa,
					      uint32_t *pf_error)
{
	return translate(v, la, acc, true, gpa, pf_error);
}

void vcpu_inject_page_fault(struct vcpu *v, uint64_t la, uint32_t error)
{
	v->regs.cr2 = la; /* entry.S loads it into CR2 before the VM entry */
	vcpu_inject_exception(v, X86_EXC_PF, true, error);
}
