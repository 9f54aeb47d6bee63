/* The host local APIC (xAPIC or x2APIC mode): its timer, to sleep until the next guest deadline
 * instead of spinning, and IPIs to start and wake the other CPUs
 * (arch/x86/apic.c). */
#ifndef KEEL_APIC_H
#define KEEL_APIC_H

#include <keel/acpi.h>
#include <keel/apic_mode.h>
#include <keel/types.h>

#define APIC_TIMER_VECTOR 0x20
#define APIC_WAKE_VECTOR 0x21 /* work for an idle CPU (apic_wake) */

/* Sets up the boot CPU's APIC in the mode apic_mode_choose() picks from
 * the CPU, the firmware's hand-over state, the MADT (`cpus`, NULL when it
 * could not be read) and the command line's apic= (`request`). */
void apic_init(enum apic_request request, const struct acpi_cpus *cpus);
/* True when Keel drives the APICs in x2APIC mode. */
bool apic_x2apic_mode(void);
bool apic_timer_usable(void);
/* Halts this CPU until `deadline_tsc` (or an earlier interrupt). */
void apic_idle_until(uint64_t deadline_tsc);
void apic_eoi(void);
/* Application processors: enable this CPU's APIC (apic_init ran on the BSP). */
void apic_init_ap(void);
bool apic_present(void);
uint32_t apic_id(void);
/* INIT-SIPI-SIPI to APIC id `dest`, starting it at `trampoline_pa` (a page
 * below 1 MiB). False if the APIC did not accept the IPIs. */
bool apic_start_ap(uint32_t dest, uint32_t trampoline_pa);
/* The same to every CPU but this one (destination shorthand "all
 * excluding self"): for machines whose firmware lists no CPUs. */
bool apic_start_all_other_cpus(uint32_t trampoline_pa);
/* Makes the CPU with APIC id `dest` look at its vCPU's state again: an
 * NMI, which is a VM exit in guest mode (NMI exiting) and, in Keel, makes
 * that CPU's next VM entry exit at once (vcpu_arch_kick_arrived). */
void apic_kick(uint32_t dest);
/* Ends the idle HLT of the CPU with APIC id `dest` (APIC_WAKE_VECTOR). */
void apic_wake(uint32_t dest);
/* NMI to every other CPU (the panic path); false without an APIC or when
 * the APIC did not accept it. */
bool apic_send_nmi_all_but_self(void);

#endif
