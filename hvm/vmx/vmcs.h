#ifndef HVM_VMX_VMCS_H
#define HVM_VMX_VMCS_H

#include <keel/vcpu.h>

/* Segment registers in the encoding's order (the "sreg" field of

 * MOV Sreg: ES, CS, SS, DS, FS, GS), then LDTR and TR: the one table of their guest
 * VMCS fields (SDM Vol. 3C appendix B). */
enum vmcs_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, NR_VMCS_SEGS };
struct vmcs_seg_fields {
	const char *name;
	uint32_t sel, base, limit, ar;
};
extern const struct vmcs_seg_fields vmcs_segs[NR_VMCS_SEGS];

int vmcs_create(struct vcpu *v, unsigned cpu);
void vmcs_write_host_state(struct vcpu *v, unsigned cpu);
void vmcs_set_guest_loader_state(struct vcpu *v, uint32_t entry, uint32_t start_info);
void vmcs_set_guest_real_mode(struct vcpu *v, uint16_t cs_sel, uint64_t cs_base, uint16_t ip);
void vmcs_set_guest_cr0(uint64_t val);
void vmcs_set_guest_cr4(uint64_t val);
uint64_t vmcs_guest_cr0(uint64_t shadow);
uint64_t vmcs_guest_cr4(uint64_t shadow);

/* The guest's EFER, CR0 and CR3 writes, with long-mode entry and exit
 * (long_mode.c). The writes return -1 where the CPU raises #GP. */
uint64_t vcpu_efer(struct vcpu *v);
int vcpu_write_efer(struct vcpu *v, uint64_t val);
int vcpu_write_cr0(struct vcpu *v, uint64_t val);
int vcpu_write_cr3(struct vcpu *v, uint64_t val);

/* Enter v; never returns (the next VM exit arrives in entry.S). */
__noreturn void vmx_enter(struct vcpu *v);

#endif
