#ifndef HVM_VMX_VMCS_H
#define HVM_VMX_VMCS_H

#include <keel/vcpu.h>

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

/* Make v's VMCS current on `cpu` (VMCLEAR on the old CPU first when it
 * moved) and point the exit slot at it. */
void vmx_vcpu_load(struct vcpu *v, unsigned cpu);
/* Enter v; never returns (the next VM exit arrives in entry.S). */
__noreturn void vmx_enter(struct vcpu *v);

#endif
