/*
 * What Keel records about a guest's VM exits, in one place: the statistics
 * per exit reason and sub-key (CPUID leaf, MSR, port range) with Keel's
 * ticks, the per-vCPU exit trace (trace=N), and the boot timeline marks
 * that exits reveal. The dispatcher (exit.c) calls exit_stats_begin when
 * an exit arrives and exit_stats_end when the vCPU (or the next one) is
 * about to be entered; the console prints the tables (exit_stats_print,
 * guest_timeline_print) and top reads them.
 */
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/exit_stats.h>
#include <keel/format.h>
#include <keel/guest.h>
#include <keel/string.h>
#include <keel/tsc.h>
#include <x86/io.h>
#include <x86/vmx.h>

#include "exit.h"
#include "vmx.h"

static const char *const exit_names[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = "exception or NMI",
	[EXIT_REASON_EXTERNAL_INTERRUPT] = "external interrupt",
	[EXIT_REASON_TRIPLE_FAULT] = "triple fault",
	[EXIT_REASON_INIT] = "INIT signal",
	[EXIT_REASON_SIPI] = "start-up IPI",
	[EXIT_REASON_INTERRUPT_WINDOW] = "interrupt window",
	[EXIT_REASON_NMI_WINDOW] = "NMI window",
	[EXIT_REASON_TASK_SWITCH] = "task switch",
	[EXIT_REASON_CPUID] = "CPUID",
	[EXIT_REASON_GETSEC] = "GETSEC",
	[EXIT_REASON_HLT] = "HLT",
	[EXIT_REASON_INVD] = "INVD",
	[EXIT_REASON_INVLPG] = "INVLPG",
	[EXIT_REASON_RDPMC] = "RDPMC",
	[EXIT_REASON_RDTSC] = "RDTSC",
	[EXIT_REASON_RSM] = "RSM",
	[EXIT_REASON_VMCALL] = "VMCALL",
	[EXIT_REASON_VMCLEAR] = "VMCLEAR",
	[EXIT_REASON_VMLAUNCH] = "VMLAUNCH",
	[EXIT_REASON_VMPTRLD] = "VMPTRLD",
	[EXIT_REASON_VMPTRST] = "VMPTRST",
	[EXIT_REASON_VMREAD] = "VMREAD",
	[EXIT_REASON_VMRESUME] = "VMRESUME",
	[EXIT_REASON_VMWRITE] = "VMWRITE",
	[EXIT_REASON_VMXOFF] = "VMXOFF",
	[EXIT_REASON_VMXON] = "VMXON",
	[EXIT_REASON_CR_ACCESS] = "control-register access",
	[EXIT_REASON_DR_ACCESS] = "debug-register access",
	[EXIT_REASON_IO_INSTRUCTION] = "I/O instruction",
	[EXIT_REASON_RDMSR] = "RDMSR",
	[EXIT_REASON_WRMSR] = "WRMSR",
	[EXIT_REASON_INVALID_GUEST_STATE] = "VM entry failure: invalid guest state",
	[EXIT_REASON_MSR_LOADING] = "VM entry failure: MSR loading",
	[EXIT_REASON_MWAIT] = "MWAIT",
	[EXIT_REASON_MONITOR_TRAP_FLAG] = "monitor trap flag",
	[EXIT_REASON_MONITOR] = "MONITOR",
	[EXIT_REASON_PAUSE] = "PAUSE",
	[EXIT_REASON_MACHINE_CHECK] = "VM entry failure: machine check",
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = "TPR below threshold",
	[EXIT_REASON_APIC_ACCESS] = "APIC access",
	[EXIT_REASON_VIRTUALIZED_EOI] = "virtualized EOI",
	[EXIT_REASON_APIC_WRITE] = "APIC write",
	[EXIT_REASON_GDTR_IDTR] = "GDTR/IDTR access",
	[EXIT_REASON_LDTR_TR] = "LDTR/TR access",
	[EXIT_REASON_EPT_VIOLATION] = "EPT violation",
	[EXIT_REASON_EPT_MISCONFIG] = "EPT misconfiguration",
	[EXIT_REASON_INVEPT] = "INVEPT",
	[EXIT_REASON_RDTSCP] = "RDTSCP",
	[EXIT_REASON_PREEMPTION_TIMER] = "preemption timer",
	[EXIT_REASON_INVVPID] = "INVVPID",
	[EXIT_REASON_WBINVD] = "WBINVD",
	[EXIT_REASON_XSETBV] = "XSETBV",
	[EXIT_REASON_RDRAND] = "RDRAND",
	[EXIT_REASON_INVPCID] = "INVPCID",
	[EXIT_REASON_VMFUNC] = "VMFUNC",
	[EXIT_REASON_RDSEED] = "RDSEED",
	[EXIT_REASON_XSAVES] = "XSAVES",
	[EXIT_REASON_XRSTORS] = "XRSTORS",
};

const char *exit_reason_name(uint32_t reason)
{
	reason &= 0xffff;
	if (reason < EXIT_REASON_MAX && exit_names[reason])
		return exit_names[reason];
	return "unknown";
}

void exit_trace_record(struct vcpu *v)
{
	struct exit_trace_entry *e = &v->trace[v->trace_pos];
	e->tsc = v->exit_tsc;
	e->reason = v->exit_reason;
	e->qual = v->exit_qual;
	e->rip = vmread(VMCS_GUEST_RIP);
	v->trace_pos = (v->trace_pos + 1) % v->trace_len;
	v->trace_total++;
}

static void stat_add(struct exit_stat *s, uint64_t t)
{
	s->recent[s->count % EXIT_STAT_SAMPLES] = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
	s->count++;
	s->ticks += t;
	if (!s->min || t < s->min)
		s->min = t;
	if (t > s->max)
		s->max = t;
}

/* The entry for key (claimed if new), or NULL when the table is full:
 * then the exit is recorded under its reason alone. */
static struct exit_stat *keyed(struct keyed_stats *t, uint32_t key)
{
	struct keyed_stat *e = &t->e[t->last];
	if (e->key == key && e->s.count)
		return &e->s;
	for (unsigned i = 0; i < KEYED_STATS; i++) {
		e = &t->e[i];
		if (e->s.count && e->key != key)
			continue;
		e->key = key; /* a new entry is claimed once it counts an exit */
		t->last = i;
		return &e->s;
	}
	return NULL;
}

/* Boot-timeline marks that I/O exits reveal. The boot sector's start is
 * marked by its trap (boot_sector_trap.c), so the firmware's exits, most
 * of a boot's, read no guest state here. */
void exit_stats_io_marks(struct vcpu *v)
{
	struct guest *g = v->guest;
	uint16_t port = IO_QUAL_PORT(v->exit_qual);
	if (v->exit_qual & IO_QUAL_IN)
		return;
	if (port == 0xe9 || port == 0x402)
		timeline_mark(g, MARK_FIRST_OUTPUT, v->exit_tsc);
	else if (port == 0x3f8 && g->marks[MARK_BOOT_SECTOR]) {
		uint64_t lin = vmread(VMCS_GUEST_CS_BASE) + vmread(VMCS_GUEST_RIP);
		if (lin >= 0x7c00 && lin < 0x7e00)
			timeline_mark(g, MARK_BOOT_SECTOR_COM1, v->exit_tsc);
	}
}

/* Where an exit is recorded: its sub-key's slot (port range, CPUID leaf,
 * MSR) or else its reason's. One record per exit. */
static struct exit_stat *stat_slot(struct vcpu *v, uint32_t basic)
{
	struct guest *g = v->guest;
	struct exit_stat *s = NULL;
	if (basic == EXIT_REASON_IO_INSTRUCTION) {
		const struct io_range *r = iobus_find(&g->io, IO_QUAL_PORT(v->exit_qual));
		return &g->io_stats[r ? (unsigned)(r - g->io.ranges) : IOBUS_MAX_RANGES];
	}
	if (basic == EXIT_REASON_CPUID)
		s = keyed(&g->cpuid_stats, v->stat_key);
	else if (basic == EXIT_REASON_RDMSR)
		s = keyed(&g->rdmsr_stats, (uint32_t)v->regs.rcx);
	else if (basic == EXIT_REASON_WRMSR)
		s = keyed(&g->wrmsr_stats, (uint32_t)v->regs.rcx);
	return s ? s : &g->exit_stats[basic];
}

void exit_stats_end(struct vcpu *v, uint32_t basic, uint64_t now, uint64_t idle)
{
	struct guest *g = v->guest;
	/* Not for a guest stopped, or stopped and restarted, meanwhile. */
	if (g->state == GUEST_RUNNING && g->created_tsc < v->exit_tsc && basic < EXIT_STATS_SLOTS) {
		uint64_t t = now - v->exit_tsc - idle;
		stat_add(stat_slot(v, basic), t);
		g->exit_ticks_total += t;
	}
}

/* The parts a reason's figures are the sum of: its own record and its
 * sub-keys'. Returns how many (at most 1 + IOBUS_MAX_RANGES + 1). */
static unsigned reason_parts(const struct guest *g, unsigned r, const struct exit_stat **parts)
{
	unsigned n = 0;
	parts[n++] = &g->exit_stats[r];
	const struct keyed_stats *t = r == EXIT_REASON_CPUID  ? &g->cpuid_stats
				      : r == EXIT_REASON_RDMSR ? &g->rdmsr_stats
				      : r == EXIT_REASON_WRMSR ? &g->wrmsr_stats
							       : NULL;
	for (unsigned i = 0; t && i < KEYED_STATS; i++)
		parts[n++] = &t->e[i].s;
	for (unsigned i = 0; r == EXIT_REASON_IO_INSTRUCTION && i <= IOBUS_MAX_RANGES; i++)
		parts[n++] = &g->io_stats[i];
	return n;
}

void exit_stats_reason(const struct guest *g, unsigned r, uint64_t *count, uint64_t *ticks)
{
	const struct exit_stat *parts[IOBUS_MAX_RANGES + 2];
	unsigned n = reason_parts(g, r, parts);
	*count = *ticks = 0;
	for (unsigned i = 0; i < n; i++) {
		*count += parts[i]->count;
		*ticks += parts[i]->ticks;
	}
}

static uint64_t median_of(uint32_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) /* insertion sort: the console's, n is small */
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint32_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n ? v[n / 2] : 0;
}

/* A reason's line: the sums, and the median of its parts' recent samples
 * (up to MERGED_SAMPLES of them). */
#define MERGED_SAMPLES 256
static void stat_line(const char *what, const struct exit_stat *s);
static void reason_line(const struct guest *g, unsigned r)
{
	const struct exit_stat *parts[IOBUS_MAX_RANGES + 2];
	unsigned n = reason_parts(g, r, parts), m = 0;
	uint32_t samples[MERGED_SAMPLES];
	struct exit_stat sum = { 0, 0, 0, 0, { 0 } };
	for (unsigned i = 0; i < n; i++) {
		const struct exit_stat *p = parts[i];
		if (!p->count)
			continue;
		sum.count += p->count;
		sum.ticks += p->ticks;
		if (!sum.min || p->min < sum.min)
			sum.min = p->min;
		if (p->max > sum.max)
			sum.max = p->max;
		unsigned k = p->count < EXIT_STAT_SAMPLES ? (unsigned)p->count : EXIT_STAT_SAMPLES;
		for (unsigned j = 0; j < k && m < MERGED_SAMPLES; j++)
			samples[m++] = p->recent[j];
	}
	kprintf("keel:   %-30s %9lu %12lu %7lu %7lu %8lu\n", exit_reason_name(r), sum.count, sum.ticks, sum.min,
		median_of(samples, m), sum.max);
}

static uint64_t median(const struct exit_stat *s)
{
	uint32_t v[EXIT_STAT_SAMPLES];
	unsigned n = s->count < EXIT_STAT_SAMPLES ? (unsigned)s->count : EXIT_STAT_SAMPLES;
	memcpy(v, s->recent, n * sizeof(v[0]));
	return median_of(v, n);
}

static void stat_line(const char *what, const struct exit_stat *s)
{
	kprintf("keel:   %-30s %9lu %12lu %7lu %7lu %8lu\n", what, s->count, s->ticks, s->min, median(s), s->max);
}

void exit_stats_print(const struct guest *g)
{
	uint64_t total = 0;
	char name[48];
	for (unsigned r = 0; r < EXIT_STATS_SLOTS; r++) {
		uint64_t count, ticks;
		exit_stats_reason(g, r, &count, &ticks);
		total += count;
	}
	kprintf("keel: exit statistics of guest %s: %lu exits, %lu ticks in Keel (TSC %lu kHz; min/median of the "
		"last %u/max)\n",
		g->name, total, g->exit_ticks_total, tsc_hz / 1000, EXIT_STAT_SAMPLES);
	kprintf("keel:   %-30s %9s %12s %7s %7s %8s\n", "exit", "count", "ticks", "min", "median", "max");
	for (unsigned r = 0; r < EXIT_STATS_SLOTS; r++) {
		uint64_t count, ticks;
		exit_stats_reason(g, r, &count, &ticks);
		if (!count)
			continue;
		reason_line(g, r);
		if (r == EXIT_REASON_IO_INSTRUCTION) {
			for (unsigned i = 0; i <= IOBUS_MAX_RANGES; i++) {
				if (!g->io_stats[i].count)
					continue;
				if (i < g->io.nr_ranges)
					ksnprintf(name, sizeof(name), "  %s %#x-%#x", g->io.ranges[i].name, g->io.ranges[i].base,
						  g->io.ranges[i].base + g->io.ranges[i].count - 1);
				else
					ksnprintf(name, sizeof(name), "  unclaimed ports");
				stat_line(name, &g->io_stats[i]);
			}
		}
		const struct keyed_stats *tab = r == EXIT_REASON_CPUID  ? &g->cpuid_stats
						: r == EXIT_REASON_RDMSR ? &g->rdmsr_stats
						: r == EXIT_REASON_WRMSR ? &g->wrmsr_stats
									 : NULL;
		for (unsigned i = 0; tab && i < KEYED_STATS && tab->e[i].s.count; i++) {
			ksnprintf(name, sizeof(name), r == EXIT_REASON_CPUID ? "  leaf %#x" : "  MSR %#x", tab->e[i].key);
			stat_line(name, &tab->e[i].s);
		}
		if (tab && g->exit_stats[r].count)
			stat_line("  others (table full)", &g->exit_stats[r]);
	}
	kprintf("keel:   unclaimed ports: %lu reads, %lu writes (last port %#x)\n", g->io.unclaimed_reads,
		g->io.unclaimed_writes, g->io.last_unclaimed_port);
	kprintf("keel:   guest text: %lu bytes, %lu terminal escape sequences left out\n", g->out.bytes + g->dbg_out.bytes,
		g->out.escapes_dropped + g->dbg_out.escapes_dropped);
}

static const char *const mark_names[NR_MARKS] = {
	[MARK_FIRST_ENTRY] = "first VM entry (hvmloader)",
	[MARK_LOADER_START] = "hvmloader running",
	[MARK_HANDOVER] = "jump to F000:FFF0 (SeaBIOS)",
	[MARK_FIRST_OUTPUT] = "SeaBIOS's first debug output",
	[MARK_BOOT_SECTOR] = "boot sector running (0x7C00)",
	[MARK_BOOT_SECTOR_COM1] = "boot sector's first COM1 byte",
	[MARK_HALTED] = "boot vCPU halted (cli; hlt)",
	[MARK_STOPPED] = "guest stopped",
};

const char *timeline_mark_name(unsigned mark) { return mark < NR_MARKS ? mark_names[mark] : "?"; }

void guest_timeline_print(const struct guest *g)
{
	kprintf("keel: boot timeline of guest %s (TSC ticks since Keel's entry at TSC %lu, %lu kHz):\n", g->name,
		tsc_boot, tsc_hz / 1000);
	kprintf("keel:   %-34s %14lu %10lu us\n", "guest created", g->created_tsc - tsc_boot,
		tsc_to_ns(g->created_tsc - tsc_boot) / 1000);
	for (unsigned m = 0; m < NR_MARKS; m++) {
		uint64_t t = g->marks[m];
		if (t)
			kprintf("keel:   %-34s %14lu %10lu us\n", mark_names[m], t - tsc_boot, tsc_to_ns(t - tsc_boot) / 1000);
	}
	uint64_t from = g->marks[MARK_HANDOVER], to = g->marks[MARK_BOOT_SECTOR_COM1];
	if (from && to > from)
		kprintf("keel:   reset vector to boot sector output: %lu ticks; exits so far took %lu ticks in Keel\n",
			to - from, g->exit_ticks_total);
}

