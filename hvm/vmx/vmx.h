/* VMX primitives for the hardware layer of hvm/vmx/ only. */
#ifndef HVM_VMX_VMX_H
#define HVM_VMX_VMX_H

#include <keel/types.h>
#include <x86/vmx.h>

/* Zeroed pages for the VMXON region, a VMCS or a structure a VMCS points
 * to (bitmaps, virtual-APIC page): below 4 GiB when IA32_VMX_BASIC bit 48
 * asks for it (SDM Vol. 3D A.1), anywhere otherwise. NULL when out. */
void *vmx_alloc_pages(uint64_t npages);

/* VMX instructions report failure through RFLAGS: CF=1 VMfailInvalid (no
 * current VMCS), ZF=1 VMfailValid (reason in VM_INSTRUCTION_ERROR). */
static inline int vmx_on(paddr_t pa)
{
	uint8_t fail;
	__asm__ volatile("vmxon %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return fail ? -1 : 0;
}
static inline int vmcs_clear(paddr_t pa)
{
	uint8_t fail;
	__asm__ volatile("vmclear %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return fail ? -1 : 0;
}
static inline int vmcs_load(paddr_t pa)
{
	uint8_t fail;
	__asm__ volatile("vmptrld %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return fail ? -1 : 0;
}
static inline uint64_t vmread(uint64_t field)
{
	uint64_t v;
	__asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
	return v;
}
static inline void vmwrite(uint64_t field, uint64_t v)
{
	__asm__ volatile("vmwrite %1, %0" ::"r"(field), "rm"(v) : "cc");
}

struct invept_desc {
	uint64_t eptp, reserved;
};
static inline void invept_single(uint64_t eptp)
{
	struct invept_desc d = { eptp, 0 };
	__asm__ volatile("invept %0, %1" ::"m"(d), "r"(1UL) : "cc", "memory");
}
static inline void invept_all(void)
{
	struct invept_desc d = { 0, 0 };
	__asm__ volatile("invept %0, %1" ::"m"(d), "r"(2UL) : "cc", "memory");
}
struct invvpid_desc {
	uint64_t vpid, gla;
};
static inline void invvpid_single(uint16_t vpid)
{
	struct invvpid_desc d = { vpid, 0 };
	__asm__ volatile("invvpid %0, %1" ::"m"(d), "r"(1UL) : "cc", "memory");
}
static inline void invvpid_all(void)
{
	struct invvpid_desc d = { 0, 0 };
	__asm__ volatile("invvpid %0, %1" ::"m"(d), "r"(2UL) : "cc", "memory");
}

#endif
