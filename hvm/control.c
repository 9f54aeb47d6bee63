/*
 * Keel's serial control console: a line typed on COM1 is a command.
 *   help              this list
 *   list              guests, their state, memory, vCPUs, exits
 *   stats [NAME]      VM-exit statistics of one guest or of all
 *   stop NAME         stop a guest and free its memory
 *   restart NAME      stop it (if running) and boot it again from scratch
 * Guests have no keyboard here, so nothing typed is ever passed to a guest.
 */
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/format.h>
#include <keel/hvmloader_abi.h>
#include <keel/guest.h>
#include <keel/string.h>
#include <keel/tsc.h>
#include <x86/io.h>

#include "vmx/exit.h"

static char line[64];
static unsigned line_len;

static struct guest *find_guest(const char *name)
{
	for (unsigned i = 0; i < nr_guests; i++)
		if (guests[i] && !strcmp(guests[i]->name, name))
			return guests[i];
	return NULL;
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
		const struct keyed_stat *tab = r == EXIT_REASON_CPUID ? g->cpuid_stats
					       : (r == EXIT_REASON_RDMSR || r == EXIT_REASON_WRMSR) ? g->msr_stats
												 : NULL;
		for (unsigned i = 0; tab && i < KEYED_STATS && tab[i].s.count; i++) {
			if (r == EXIT_REASON_WRMSR || r == EXIT_REASON_RDMSR) {
				if (i == 0 && r == EXIT_REASON_WRMSR && g->exit_stats[EXIT_REASON_RDMSR].count)
					break; /* printed once, under RDMSR */
				ksnprintf(name, sizeof(name), "  MSR %#x", tab[i].key);
			} else {
				ksnprintf(name, sizeof(name), "  leaf %#x", tab[i].key);
			}
			stat_line(name, &tab[i].s);
		}
	}
	kprintf("keel:   unclaimed ports: %lu reads, %lu writes (last port %#x)\n", g->io.unclaimed_reads,
		g->io.unclaimed_writes, g->io.last_unclaimed_port);
}

void guest_timeline_print(struct guest *g)
{
	static const struct {
		unsigned mark;
		const char *what;
	} steps[] = {
		{ MARK_FIRST_ENTRY, "first VM entry (hvmloader)" },
		{ KEEL_MARK_LOADER_START, "hvmloader running" },
		{ KEEL_MARK_JUMP_TO_BIOS, "jump to F000:FFF0 (SeaBIOS)" },
		{ MARK_SEABIOS_DEBUG, "SeaBIOS's first debug output" },
		{ MARK_BOOT_SECTOR, "boot sector running (0x7C00)" },
		{ MARK_BOOT_SECTOR_COM1, "boot sector's first COM1 byte" },
		{ MARK_HALTED, "boot vCPU halted (cli; hlt)" },
	};
	kprintf("keel: boot timeline of guest %s (TSC ticks since Keel's entry at TSC %lu, %lu kHz):\n", g->name,
		tsc_boot, tsc_hz / 1000);
	kprintf("keel:   %-34s %14lu %10lu us\n", "guest created", g->created_tsc - tsc_boot,
		tsc_to_ns(g->created_tsc - tsc_boot) / 1000);
	for (unsigned i = 0; i < ARRAY_SIZE(steps); i++) {
		uint64_t t = g->marks[steps[i].mark];
		if (t)
			kprintf("keel:   %-34s %14lu %10lu us\n", steps[i].what, t - tsc_boot, tsc_to_ns(t - tsc_boot) / 1000);
	}
	uint64_t from = g->marks[KEEL_MARK_JUMP_TO_BIOS], to = g->marks[MARK_BOOT_SECTOR_COM1];
	if (from && to > from)
		kprintf("keel:   reset vector to boot sector output: %lu ticks; exits so far took %lu ticks in Keel\n",
			to - from, g->exit_ticks_total);
}

static void cmd_list(void)
{
	kprintf("keel: %-16s %-8s %8s %6s %12s %6s\n", "guest", "state", "RAM MiB", "vCPUs", "exits", "POST");
	for (unsigned i = 0; i < nr_guests; i++) {
		struct guest *g = guests[i];
		if (!g)
			continue;
		uint64_t exits = 0;
		for (unsigned r = 0; r < EXIT_STATS_SLOTS; r++)
			exits += g->exit_stats[r].count;
		kprintf("keel: %-16s %-8s %8lu %6u %12lu   0x%02x\n", g->name,
			g->state == GUEST_RUNNING ? "running" : "stopped", g->ram_size >> 20, g->nr_vcpus, exits,
			debugport_last_post(&g->dbg));
		static const char *const vstate[] = { "runnable", "halted", "wait-SIPI", "stopped" };
		for (unsigned k = 0; g->state == GUEST_RUNNING && k < g->nr_vcpus; k++) {
			struct vcpu *v = &g->vcpus[k];
			char where[24] = "";
			if (v->cpu >= 0)
				ksnprintf(where, sizeof(where), ", loaded on cpu%d", v->cpu);
			kprintf("keel:   vcpu%u %-9s home cpu%u%s, %lu migrations\n", k, vstate[v->state], v->home, where,
				v->migrations);
		}
	}
	uint64_t up = rdtsc() - tsc_boot;
	for (unsigned c = 0; c < nr_cpus_online; c++) {
		struct vcpu *cur = pcpus[c].current;
		char holds[40] = "holds no vCPU";
		if (cur)
			ksnprintf(holds, sizeof(holds), "holds %s/vcpu%u", cur->guest->name, cur->id);
		const struct pcpu *pc = &pcpus[c];
		kprintf("keel: cpu%u (APIC id %u): %s, %lu vCPU switches (%lu ticks each), idle %lu%%\n", c,
			pc->apic_id, holds, pc->switches, pc->switches ? pc->switch_ticks / pc->switches : 0,
			up ? pc->idle_ticks * 100 / up : 0);
		/* The registers VMX does not switch (hvm/vmx/vcpu_state.c). */
		kprintf("keel:   vCPU register state: %lu saves (%lu ticks each), %lu restores (%lu ticks each)\n",
			pc->state_saves, pc->state_saves ? pc->state_save_ticks / pc->state_saves : 0,
			pc->state_restores, pc->state_restores ? pc->state_restore_ticks / pc->state_restores : 0);
	}
}

static void run_command(char *cmd)
{
	char *arg = strchr(cmd, ' ');
	if (arg) {
		*arg++ = 0;
		while (*arg == ' ')
			arg++;
	}
	if (!*cmd)
		return;
	if (!strcmp(cmd, "help")) {
		kprintf("keel: commands: list | stats [NAME] | stop NAME | restart NAME | help\n");
	} else if (!strcmp(cmd, "list")) {
		cmd_list();
	} else if (!strcmp(cmd, "stats")) {
		if (arg && *arg) {
			struct guest *g = find_guest(arg);
			if (g) {
				exit_stats_print(g);
				guest_timeline_print(g);
			}
			else
				kprintf("keel: stats: no guest named '%s' (try 'list')\n", arg);
		} else {
			for (unsigned i = 0; i < nr_guests; i++)
				if (guests[i])
					exit_stats_print(guests[i]);
		}
		kprintf("keel: end of stats\n"); /* for scripts (tools/bench) */
	} else if (!strcmp(cmd, "stop") || !strcmp(cmd, "restart")) {
		struct guest *g = arg && *arg ? find_guest(arg) : NULL;
		if (!g) {
			kprintf("keel: %s: no guest named '%s' (try 'list')\n", cmd, arg ? arg : "");
			return;
		}
		if (!strcmp(cmd, "restart"))
			guest_request_restart(g);
		else if (g->state == GUEST_RUNNING)
			guest_stop(g, "stopped from the console");
	} else {
		kprintf("keel: unknown command '%s' (try 'help')\n", cmd);
	}
}

void console_poll(void)
{
	int c;
	while ((c = serial_getc()) >= 0) {
		if (c == '\r' || c == '\n') {
			line[line_len] = 0;
			line_len = 0;
			run_command(line);
		} else if ((c == 8 || c == 127) && line_len) {
			line_len--;
		} else if (c >= 0x20 && c < 0x7f && line_len < sizeof(line) - 1) {
			line[line_len++] = (char)c;
		}
	}
}
