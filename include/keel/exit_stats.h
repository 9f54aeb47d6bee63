/* What the console and a guest's stop report about its VM exits: the
 * statistics per reason and sub-key, and the per-vCPU trace (trace=N). */
#ifndef KEEL_EXIT_STATS_H
#define KEEL_EXIT_STATS_H

#include <keel/guest.h>
#include <keel/types.h>

/* "CPUID", "EPT violation", ...; "unknown" for a reason Keel has no name for. */
const char *exit_reason_name(uint32_t reason);
/* The statistics table of one guest on Keel's console. */
void exit_stats_print(const struct guest *g);
/* One exit reason's count and ticks in Keel: its own record plus its
 * sub-keys' (each exit is recorded once, under its sub-key if it has one). */
void exit_stats_reason(const struct guest *g, unsigned reason, uint64_t *count, uint64_t *ticks);
/* The last exits of one vCPU (trace=N), oldest first. */
void exit_trace_dump(struct vcpu *v);
/* A guest's boot timeline (include/keel/guest.h's marks) on the console. */
void guest_timeline_print(const struct guest *g);
/* "hvmloader running", ...: what a timeline mark (enum timeline_mark) is. */
const char *timeline_mark_name(unsigned mark);

/* The dispatcher's hooks (hvm/vmx/exit_stats.c): begin when an exit
 * arrives (v->exit_tsc, reason and qualification read), end when the CPU
 * is about to enter a vCPU again, at TSC `now`, having spent `idle` ticks
 * of that time idle in the scheduler (not the exit's). */
void exit_stats_end(struct vcpu *v, uint32_t basic, uint64_t now, uint64_t idle);
void exit_trace_record(struct vcpu *v);
void exit_stats_io_marks(struct vcpu *v);
/* Inline: every exit runs it, inside the time its statistics measure. */
static inline void exit_stats_begin(struct vcpu *v, uint32_t basic)
{
	v->run_ticks += v->exit_tsc - v->entry_tsc;
	if (v->trace)
		exit_trace_record(v);
	/* CPUID's sub-key, its leaf, read before the handler overwrites RAX
	 * (the MSR of RDMSR and WRMSR, in RCX, is still there at the end);
	 * what it means is looked up at the end, once the vCPU's entry time
	 * is taken. */
	if (basic == EXIT_REASON_CPUID)
		v->stat_key = (uint32_t)v->regs.rax;
	if (v->guest->io_marks_armed && basic == EXIT_REASON_IO_INSTRUCTION)
		exit_stats_io_marks(v);
}

#endif
