/*
 * The one interface between the hardware-independent core (hvm/core/:
 * guests, scheduler) and the virtualization back end that runs a vCPU
 * (hvm/vmx/vcpu.c for Intel VMX). The core never sees a VMCS: it creates
 * and destroys vCPUs, puts one on a CPU and takes it off, and asks for it
 * to be entered. docs/architecture.md shows where each call is made.
 *
 * Rules the back end keeps: a vCPU's hardware context is active on at most
 * one CPU, and only while it is that CPU's current vCPU (vcpu_arch_put
 * releases it), so any CPU may load any vCPU no CPU holds.
 */
#ifndef KEEL_VCPU_ARCH_H
#define KEEL_VCPU_ARCH_H

#include <keel/types.h>
#include <keel/vcpu.h>

struct guest;

/* A guest's structures shared by its vCPUs (VMX: the I/O and MSR bitmaps):
 * -1 when out of memory. Freed by guest_arch_destroy (safe on a half-built
 * guest). */
int guest_arch_create(struct guest *g);
void guest_arch_destroy(struct guest *g);
/* Maps what the back end needs in the guest's EPT once its RAM is mapped
 * (VMX with APIC virtualization: the APIC-access page at 0xFEE00000). 0 or
 * -1 when out of memory. */
int guest_arch_map_apic(struct guest *g);

/* How a new vCPU starts. */
enum vcpu_start {
	VCPU_START_LOADER,   /* the boot vCPU: hvmloader's 32-bit entry (include/keel/hvmloader_abi.h) */
	VCPU_START_WAIT_SIPI /* an AP: waits for INIT and a start-up IPI */
};

/* Allocates the vCPU's hardware context and sets its start state; no CPU
 * holds it afterwards. -1 when out of memory (the message is the caller's). */
int vcpu_arch_create(struct vcpu *v, enum vcpu_start start);
/* Frees it; no CPU may hold it (the scheduler makes sure). */
void vcpu_arch_destroy(struct vcpu *v);

/* Makes v current on `cpu` (releasing the vCPU the CPU held, and taking v
 * from the CPU that last ran it), with every register of v's in place. */
void vcpu_arch_load(struct vcpu *v, unsigned cpu);
/* Releases the vCPU `cpu` holds, if any, saving what the hardware does not. */
void vcpu_arch_put(unsigned cpu);
/* Right before entering v (current here): deliver what is pending, and
 * bring v back to Keel by TSC `stop` at the latest. */
void vcpu_arch_prepare_entry(struct vcpu *v, uint64_t stop);
/* Enters v; never returns (its next exit arrives in the back end). */
__noreturn void vcpu_arch_enter(struct vcpu *v);
/* A kick (apic_kick) reached `cpu` in Keel, from the NMI handler: the
 * vCPU it enters next exits at once, so a state read before the kick is
 * read again. (In guest mode the kick's NMI is a VM exit itself.) */
void vcpu_arch_kick_arrived(unsigned cpu);

/* Whether a halted vCPU has an interrupt (or NMI) it would take now. */
bool vcpu_interrupt_ready(struct vcpu *v);
/* Whether the back end maps guest RAM with 2 MiB pages where it can. */
bool vcpu_arch_large_pages(void);
/* Whether it can map guest RAM with 1 GiB pages too. */
bool vcpu_arch_huge_pages(void);

#endif
