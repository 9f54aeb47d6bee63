/* What the console and a guest's stop report about its VM exits: the
 * statistics per reason and sub-key, and the per-vCPU trace (trace=N). */
#ifndef KEEL_EXIT_STATS_H
#define KEEL_EXIT_STATS_H

#include <keel/types.h>

struct guest;
struct vcpu;

/* "CPUID", "EPT violation", ...; "unknown" for a reason Keel has no name for. */
const char *exit_reason_name(uint32_t reason);
/* The statistics table of one guest on Keel's console. */
void exit_stats_print(struct guest *g);
/* The last exits of one vCPU (trace=N), oldest first. */
void exit_trace_dump(struct vcpu *v);

#endif
