/* Keel's time base: the TSC, converted to nanoseconds without division. */
#ifndef KEEL_TSC_H
#define KEEL_TSC_H

#include <keel/cpuid.h>
#include <keel/types.h>

extern uint64_t tsc_hz;
extern uint64_t tsc_boot; /* TSC at Keel's entry (boot timeline origin) */
/* The host's CPUID leaf 0x15 as it answered (tsc_hz comes from it when it
 * states the rate, cpuid_leaf15_states_rate; else it was measured). */
extern struct cpuid_regs tsc_host_leaf15;

/* Finds the TSC frequency: CPUID 0x15/0x16 where present, else counts TSC
 * ticks across 10 ms of the PIT (channel 2). Prints the source. */
void tsc_init(void);
uint64_t tsc_to_ns(uint64_t ticks);
uint64_t ns_to_tsc(uint64_t ns);
uint64_t now_ns(void); /* since boot */

#endif
