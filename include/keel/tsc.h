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
/* Both conversions multiply by a 32.32 fixed-point factor: they run on
 * VM exits (every device model's clock reads now_ns), where a 128-bit
 * division would cost hundreds of cycles, and so does a call. */
extern uint64_t tsc_ns_mult;  /* ns = ticks * tsc_ns_mult >> 32 */
extern uint64_t tsc_ns_inverse; /* ticks = ns * tsc_ns_inverse >> 32 */
static inline uint64_t tsc_to_ns(uint64_t ticks) { return (uint64_t)(((unsigned __int128)ticks * tsc_ns_mult) >> 32); }
static inline uint64_t ns_to_tsc(uint64_t ns) { return (uint64_t)(((unsigned __int128)ns * tsc_ns_inverse) >> 32); }
static inline uint64_t now_ns(void) /* since boot */
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return tsc_to_ns((((uint64_t)hi << 32) | lo) - tsc_boot);
}

#endif
