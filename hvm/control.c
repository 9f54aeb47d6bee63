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
#include <keel/guest.h>
#include <keel/string.h>
#include <keel/tsc.h>

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

void exit_stats_print(struct guest *g)
{
	uint64_t total = 0, ticks = 0;
	for (unsigned r = 0; r < EXIT_STATS_SLOTS; r++) {
		total += g->exit_stats[r].count;
		ticks += g->exit_stats[r].ticks;
	}
	kprintf("keel: exit statistics of guest %s: %lu exits, %lu us in Keel\n", g->name, total,
		tsc_to_ns(ticks) / 1000);
	kprintf("keel:   %-26s %10s %12s %8s %8s %8s\n", "reason", "count", "ticks", "min", "avg", "max");
	for (unsigned r = 0; r < EXIT_STATS_SLOTS; r++) {
		const struct exit_stat *s = &g->exit_stats[r];
		if (!s->count)
			continue;
		kprintf("keel:   %-26s %10lu %12lu %8lu %8lu %8lu\n", exit_reason_name(r), s->count, s->ticks, s->min,
			s->ticks / s->count, s->max);
	}
	kprintf("keel:   unclaimed ports: %lu reads, %lu writes (last port %#x)\n", g->io.unclaimed_reads,
		g->io.unclaimed_writes, g->io.last_unclaimed_port);
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
			if (g)
				exit_stats_print(g);
			else
				kprintf("keel: stats: no guest named '%s' (try 'list')\n", arg);
		} else {
			for (unsigned i = 0; i < nr_guests; i++)
				if (guests[i])
					exit_stats_print(guests[i]);
		}
	} else if (!strcmp(cmd, "stop") || !strcmp(cmd, "restart")) {
		struct guest *g = arg && *arg ? find_guest(arg) : NULL;
		if (!g) {
			kprintf("keel: %s: no guest named '%s' (try 'list')\n", cmd, arg ? arg : "");
			return;
		}
		if (g->state == GUEST_RUNNING)
			guest_stop(g, "stopped from the console");
		if (!strcmp(cmd, "restart"))
			g->restart_pending = true;
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
