/* The firmware's hand-over to the boot sector (boot_sector_trap.c). */
#ifndef KEEL_VMX_BOOT_SECTOR_TRAP_H
#define KEEL_VMX_BOOT_SECTOR_TRAP_H

#include <keel/guest.h>

/* Called at hvmloader's hand-over to SeaBIOS: the boot sector's page stops
 * being executable, so its first instruction is seen. */
void boot_sector_trap_arm(struct guest *g);
/* From the EPT-violation handler: true if this violation was the trap (the
 * guest resumes at the same instruction). */
bool boot_sector_trap_hit(struct vcpu *v, uint64_t gpa, uint64_t qual);

#endif
