/* The host local APIC: Keel uses only its timer, to sleep until the next
 * guest deadline instead of spinning (arch/x86/apic.c). */
#ifndef KEEL_APIC_H
#define KEEL_APIC_H

#include <keel/types.h>

#define APIC_TIMER_VECTOR 0x20

void apic_init(void);
bool apic_timer_usable(void);
/* Halts this CPU until `deadline_tsc` (or an earlier interrupt). */
void apic_idle_until(uint64_t deadline_tsc);
void apic_eoi(void);

#endif
