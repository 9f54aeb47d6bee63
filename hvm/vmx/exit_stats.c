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

static void trace_record(struct vcpu *v)
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

static struct exit_stat *keyed(struct keyed_stat *tab, uint32_t key)
{
	for (unsigned i = 0; i < KEYED_STATS; i++) {
		if (tab[i].s.count && tab[i].key == key)
			return &tab[i].s;
		if (!tab[i].s.count) {
			tab[i].key = key;
			return &tab[i].s;
		}
	}
	return NULL; /* table full: only the per-reason line counts it */
}

static void record(struct vcpu *v, uint32_t basic, uint32_t key, uint64_t t)
{
	struct guest *g = v->guest;
	stat_add(&g->exit_stats[basic], t);
	g->exit_ticks_total += t;
	struct exit_stat *s = NULL;
	if (basic == EXIT_REASON_CPUID)
		s = keyed(g->cpuid_stats, key);
	else if (basic == EXIT_REASON_RDMSR)
		s = keyed(g->rdmsr_stats, key);
	else if (basic == EXIT_REASON_WRMSR)
		s = keyed(g->wrmsr_stats, key);
	else if (basic == EXIT_REASON_IO_INSTRUCTION)
		s = &g->io_stats[key];
	if (s)
		stat_add(s, t);
}

/* Boot-timeline marks that I/O exits reveal; returns the port-range index
 * for the statistics (IOBUS_MAX_RANGES: unclaimed). */
static uint32_t io_exit_marks(struct vcpu *v)
{
	struct guest *g = v->guest;
	uint16_t port = IO_QUAL_PORT(v->exit_qual);
	bool out = !(v->exit_qual & IO_QUAL_IN);
	uint64_t now = v->exit_tsc;
	if (g->marks[MARK_HANDOVER] && !g->marks[MARK_BOOT_SECTOR_COM1]) {
		/* The firmware's debug ports, and code at 0x7C00: the boot sector. */
		if (out && (port == 0xe9 || port == 0x402))
			timeline_mark(g, MARK_FIRST_OUTPUT, now);
		uint64_t lin = vmread(VMCS_GUEST_CS_BASE) + vmread(VMCS_GUEST_RIP);
		if (lin >= 0x7c00 && lin < 0x7e00) {
			timeline_mark(g, MARK_BOOT_SECTOR, now);
			if (out && port == 0x3f8)
				timeline_mark(g, MARK_BOOT_SECTOR_COM1, now);
		}
	}
	const struct io_range *r = iobus_find(&g->io, port);
	return r ? (uint32_t)(r - g->io.ranges) : IOBUS_MAX_RANGES;
}

void exit_stats_begin(struct vcpu *v, uint32_t basic)
{
	struct guest *g = v->guest;
	g->guest_mode_ticks += v->exit_tsc - v->entry_tsc;
	v->run_ticks += v->exit_tsc - v->entry_tsc;
	if (v->trace)
		trace_record(v);
	/* What the statistics break this exit down by, read before the
	 * handler changes the registers. */
	v->stat_idle_before = pcpus[v->cpu].idle_ticks;
	if (basic == EXIT_REASON_CPUID)
		v->stat_key = (uint32_t)v->regs.rax;
	else if (basic == EXIT_REASON_RDMSR || basic == EXIT_REASON_WRMSR)
		v->stat_key = (uint32_t)v->regs.rcx;
	else if (basic == EXIT_REASON_IO_INSTRUCTION)
		v->stat_key = io_exit_marks(v);
}

void exit_stats_end(struct vcpu *v, uint32_t basic, unsigned cpu, uint64_t now)
{
	struct guest *g = v->guest;
	/* Not for a guest stopped, or stopped and restarted, meanwhile; the
	 * time this CPU spent idle in the scheduler is not the exit's. */
	if (g->state == GUEST_RUNNING && g->created_tsc < v->exit_tsc && basic < EXIT_STATS_SLOTS)
		record(v, basic, v->stat_key, now - v->exit_tsc - (pcpus[cpu].idle_ticks - v->stat_idle_before));
}

static uint64_t median(const struct exit_stat *s)
{
	uint32_t v[EXIT_STAT_SAMPLES];
	unsigned n = s->count < EXIT_STAT_SAMPLES ? (unsigned)s->count : EXIT_STAT_SAMPLES;
	memcpy(v, s->recent, n * sizeof(v[0]));
	for (unsigned i = 1; i < n; i++) /* insertion sort: n <= 32 */
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint32_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n ? v[n / 2] : 0;
}

static void stat_line(const char *what, const struct exit_stat *s)
{
	kprintf("keel:   %-30s %9lu %12lu %7lu %7lu %8lu\n", what, s->count, s->ticks, s->min, median(s), s->max);
}

void exit_stats_print(struct guest *g)
{
	uint64_t total = 0;
	char name[48];
	for (unsigned r = 0; r < EXIT_STATS_SLOTS; r++)
		total += g->exit_stats[r].count;
	kprintf("keel: exit statistics of guest %s: %lu exits, %lu ticks in Keel (TSC %lu kHz; min/median of the "
		"last %u/max)\n",
		g->name, total, g->exit_ticks_total, tsc_hz / 1000, EXIT_STAT_SAMPLES);
	kprintf("keel:   %-30s %9s %12s %7s %7s %8s\n", "exit", "count", "ticks", "min", "median", "max");
	for (unsigned r = 0; r < EXIT_STATS_SLOTS; r++) {
		if (!g->exit_stats[r].count)
			continue;
		stat_line(exit_reason_name(r), &g->exit_stats[r]);
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
		const struct keyed_stat *tab = r == EXIT_REASON_CPUID  ? g->cpuid_stats
					       : r == EXIT_REASON_RDMSR ? g->rdmsr_stats
					       : r == EXIT_REASON_WRMSR ? g->wrmsr_stats
									: NULL;
		for (unsigned i = 0; tab && i < KEYED_STATS && tab[i].s.count; i++) {
			ksnprintf(name, sizeof(name), r == EXIT_REASON_CPUID ? "  leaf %#x" : "  MSR %#x", tab[i].key);
			stat_line(name, &tab[i].s);
		}
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

void guest_timeline_print(struct guest *g)
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

