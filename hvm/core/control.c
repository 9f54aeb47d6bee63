/*
 * Keel's serial control console: a line typed on COM1 is a command.
 *   help              this list
 *   list              guests, their state, memory, vCPUs, exits
 *   stats [NAME]      VM-exit statistics of one guest or of all
 *   stop NAME         stop a guest and free its memory
 *   restart NAME      stop it (if running) and boot it again from scratch
 *   top [NAME]        a live view, refreshed every second until a key
 *   trace NAME        the last exits of each vCPU (trace=N), one per line
 * Guests have no keyboard here, so nothing typed is ever passed to a guest.
 *
 * Commands run from the scheduler on CPU 0 (console_poll), holding no
 * lock: what they read of a guest they copy under its lock (guest_lock)
 * and print afterwards, so a guest's exits on other CPUs never wait for
 * the console; `list` only glances at counters. They must never wait
 * either, as CPU 0 also runs guests. `top` is therefore not a loop but a state:
 * each poll either sees a key (top ends) or, once a second, copies the
 * statistics into a snapshot and prints one screen, then returns, and the
 * guests run on in between.
 */
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/format.h>
#include <keel/hvmloader_abi.h>
#include <keel/guest.h>
#include <keel/mm.h>
#include <keel/screen.h>
#include <keel/string.h>
#include <keel/top.h>
#include <keel/tsc.h>
#include <x86/io.h>

#include <keel/exit_stats.h>

static char line[64];
static unsigned line_len;

/* A guest's state as of one moment, for the printing commands (console on
 * CPU 0 only). */
static struct guest guest_copy;

static const struct guest *copy_guest(struct guest *g)
{
	guest_lock(g, 0);
	memcpy(&guest_copy, g, sizeof(guest_copy));
	guest_unlock(g);
	return &guest_copy;
}

static struct guest *find_guest(const char *name)
{
	for (unsigned i = 0; i < nr_guests; i++)
		if (guests[i] && !strcmp(guests[i]->name, name))
			return guests[i];
	return NULL;
}

static void cmd_list(void)
{
	kprintf("keel: %-16s %-8s %8s %6s %12s %6s\n", "guest", "state", "RAM MiB", "vCPUs", "exits", "POST");
	for (unsigned i = 0; i < nr_guests; i++) {
		struct guest *g = guests[i];
		if (!g)
			continue;
		uint64_t exits = 0;
		for (unsigned r = 0; r < EXIT_STATS_SLOTS; r++) {
			uint64_t count, ticks;
			exit_stats_reason(g, r, &count, &ticks);
			exits += count;
		}
		kprintf("keel: %-16s %-8s %8lu %6u %12lu   0x%02x\n", g->name,
			g->state == GUEST_RUNNING ? "running" : "stopped", g->ram_size >> 20, g->nr_vcpus, exits,
			debugport_last_post(&g->dbg));
		static const char *const vstate[] = { "runnable", "halted", "wait-SIPI", "stopped" };
		for (unsigned k = 0; g->state == GUEST_RUNNING && k < g->nr_vcpus; k++) {
			struct vcpu *v = &g->vcpus[k];
			char where[24] = "";
			if (v->cpu >= 0)
				ksnprintf(where, sizeof(where), ", loaded on cpu%d", v->cpu);
			/* What a halted vCPU waits for (racy reads of another
			 * CPU's vCPU: for a person looking at a hang). */
			char timer[32] = "no timer";
			uint64_t dl = vlapic_next_deadline_ns(&v->lapic), now = now_ns();
			if (dl != NO_DEADLINE)
				ksnprintf(timer, sizeof(timer), dl > now ? "timer in %lu us" : "timer due %lu us ago",
					  (dl > now ? dl - now : now - dl) / 1000);
			kprintf("keel:   vcpu%u %-9s home cpu%u%s, %lu migrations; IF %u at HLT, IRR %d ISR %d, %s\n", k,
				vstate[v->state], v->home, where, v->migrations, v->halted_if,
				vlapic_highest_irr(&v->lapic), vlapic_highest_isr(&v->lapic), timer);
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
		kprintf("keel:   lock waits: %lu, %lu ticks in all\n", pc->lock_wait.waits, pc->lock_wait.ticks);
		kprintf("keel:   NMIs: %u kicks sent here, %u taken; %u unexplained, %u platform errors\n",
			pc->nmi.kicks_sent, pc->nmi.kicks_taken, pc->nmi.unexplained, pc->nmi.platform);
	}
	kprintf("keel: end of list\n"); /* for scripts (tools/bench) */
}


/* --- top ---------------------------------------------------------------- */

static struct {
	bool on;
	int guest; /* index, -1: all */
	unsigned frame;
	unsigned latest; /* snaps[latest] is the last screen's snapshot */
	uint64_t next_tsc;
	struct top_snapshot snaps[2];
	char screen[8192];
} top;

static enum top_guest_state top_state(const struct guest *g)
{
	if (g->state != GUEST_RUNNING)
		return TOP_GUEST_STOPPED;
	for (unsigned k = 0; k < g->nr_vcpus; k++)
		if (g->vcpus[k].state == VCPU_RUNNABLE)
			return TOP_GUEST_RUNNING;
	return TOP_GUEST_HALTED;
}

static void top_snapshot_take(struct top_snapshot *s)
{
	s->tsc = rdtsc();
	s->nr_cpus = nr_cpus_online;
	s->idle_ticks = 0;
	for (unsigned c = 0; c < nr_cpus_online; c++)
		s->idle_ticks += pcpus[c].idle_ticks;
	s->nr_guests = nr_guests;
	for (unsigned i = 0; i < nr_guests; i++) {
		struct top_guest *t = &s->guests[i];
		struct guest *g = guests[i];
		if (!g) {
			t->state = TOP_GUEST_ABSENT;
			continue;
		}
		guest_lock(g, 0);
		t->state = top_state(g);
		memcpy(t->name, g->name, sizeof(t->name));
		t->vcpus = g->nr_vcpus;
		t->created_tsc = g->created_tsc;
		t->guest_ticks = 0;
		for (unsigned k = 0; k < g->nr_vcpus; k++)
			t->guest_ticks += g->vcpus[k].run_ticks;
		t->keel_ticks = g->exit_ticks_total;
		t->exits = 0;
		for (unsigned r = 0; r < TOP_REASONS; r++) {
			exit_stats_reason(g, r, &t->reasons[r].count, &t->reasons[r].ticks);
			t->exits += t->reasons[r].count;
		}
		for (unsigned k = 0; k < TOP_PORT_SLOTS; k++) {
			t->ports[k].count = g->io_stats[k].count;
			t->ports[k].ticks = g->io_stats[k].ticks;
			const struct io_range *r = k < g->io.nr_ranges ? &g->io.ranges[k] : NULL;
			t->ranges[k] = (struct top_range){ r ? r->name : NULL, r ? r->base : 0, r ? r->count : 0 };
		}
		guest_unlock(g);
	}
}

/* One screen; the first one's rates are since Keel's entry. A screen that
 * does not fit in the console's queue (guests printing a lot) is skipped,
 * not waited for. */
static void top_refresh(void)
{
	const struct top_snapshot *prev = top.frame ? &top.snaps[top.latest] : NULL;
	unsigned next = top.frame ? top.latest ^ 1 : 0;
	top_snapshot_take(&top.snaps[next]);
	struct top_view view = { tsc_hz, tsc_boot, top.guest, top.frame + 1, exit_reason_name };
	size_t n = top_format(top.screen, sizeof(top.screen), prev, &top.snaps[next], &view);
	top.latest = next;
	top.frame++;
	top.next_tsc = top.snaps[next].tsc + tsc_hz;
	console_write_nowait(top.screen, n);
}

static void cmd_top(const char *arg)
{
	top.guest = -1;
	if (arg && *arg) {
		struct guest *g = find_guest(arg);
		if (!g) {
			kprintf("keel: top: no guest named '%s' (try 'list')\n", arg);
			return;
		}
		top.guest = (int)g->index;
	}
	top.on = true;
	top.frame = 0;
	top_refresh();
}

/* --- exit trace ----------------------------------------------------------
 * trace=N keeps each vCPU's last N exits (hvm/vmx/exit.c). Dumped as lines
 * a script can read (tools/exit-timeline), TSC in ticks since Keel's entry:
 *   keel: trace of guest NAME: ...            the guest, once
 *   keel: trace mark TSC WHAT                 its boot timeline
 *   keel: trace of vCPU N: K exits ...        each vCPU, then
 *   keel: trace reason R NAME                 the exit reasons in it
 *   keel: trace VCPU TSC REASON QUAL RIP      one exit, oldest first
 *   keel: end of trace
 */

/* The legend: which exit reasons a dump has (bits), one line for each. */
static void trace_legend_add(uint64_t seen[2], const struct exit_trace_entry *e)
{
	uint32_t r = e->reason & 0xffff;
	if (r < 128)
		seen[r / 64] |= 1ULL << (r % 64);
}

static size_t trace_legend(const uint64_t seen[2], char *buf, size_t size)
{
	size_t len = 0;
	for (uint32_t r = 0; r < 128 && len < size; r++)
		if (seen[r / 64] & (1ULL << (r % 64)))
			len += (size_t)ksnprintf(buf + len, size - len, "keel: trace reason %u %s\n", r, exit_reason_name(r));
	return len < size ? len : size - 1;
}

static size_t trace_line(char *buf, size_t size, unsigned vcpu, const struct exit_trace_entry *e)
{
	return (size_t)ksnprintf(buf, size, "keel: trace %u %lu %u %#lx %#lx\n", vcpu, e->tsc - tsc_boot,
				 e->reason & 0xffff, e->qual, e->rip);
}

static unsigned trace_kept(const struct vcpu *v)
{
	return v->trace_total < v->trace_len ? (unsigned)v->trace_total : v->trace_len;
}

/* The i-th oldest exit kept. */
static const struct exit_trace_entry *trace_at(const struct vcpu *v, unsigned i)
{
	return &v->trace[(v->trace_pos + v->trace_len - trace_kept(v) + i) % v->trace_len];
}

static void trace_vcpu_header(const struct vcpu *v, char *buf, size_t size)
{
	ksnprintf(buf, size, "keel: trace of vCPU %u: %u exits, the last of %lu (fields: vcpu tsc reason qual rip)\n",
		  v->id, trace_kept(v), v->trace_total);
}

/* At a guest's stop, each vCPU in turn: at once, whatever it costs (the
 * console may wait). Any CPU may stop a guest, so the buffer is its own. */
void exit_trace_dump(struct vcpu *v)
{
	char buf[160];
	uint64_t seen[2] = { 0, 0 };
	unsigned n = trace_kept(v);
	if (v->id == 0)
		kprintf("keel: trace of guest %s: TSC %lu Hz, ticks since Keel's entry\n", v->guest->name, tsc_hz);
	trace_vcpu_header(v, buf, sizeof(buf));
	console_write(buf, strlen(buf));
	for (unsigned i = 0; i < n; i++)
		trace_legend_add(seen, trace_at(v, i));
	for (uint32_t r = 0; r < 128; r++)
		if (seen[r / 64] & (1ULL << (r % 64)))
			kprintf("keel: trace reason %u %s\n", r, exit_reason_name(r));
	for (unsigned i = 0; i < n; i++)
		console_write(buf, trace_line(buf, sizeof(buf), v->id, trace_at(v, i)));
	if (v->id + 1 == v->guest->nr_vcpus)
		kprintf("keel: end of trace\n");
}

/* The console's 'trace NAME': each vCPU's ring is copied (the guest goes on
 * exiting, or may stop and free it) and sent a batch at a time, only while
 * the console has nothing else queued: a dump of thousands of exits takes
 * seconds of UART time and must neither hold up the scheduler nor crowd
 * out guest lines. */
#define TRACE_BATCH 40
static struct {
	bool on;
	struct guest *g;
	uint64_t created_tsc;
	unsigned vcpu;                /* the one being sent */
	struct exit_trace_entry *copy; /* its exits, oldest first */
	uint64_t copy_pages;
	unsigned n, next;
	char buf[4096];
} tr;

static void trace_copy_free(void)
{
	if (tr.copy)
		page_free(tr.copy, tr.copy_pages);
	tr.copy = NULL;
}

/* Copies the next vCPU's ring (under its guest's lock) and queues its
 * header; false when done. */
static bool trace_next_vcpu(void)
{
	struct guest *g = tr.g;
	trace_copy_free();
	guest_lock(g, 0);
	if (tr.vcpu >= g->nr_vcpus) {
		guest_unlock(g);
		return false;
	}
	if (g->created_tsc != tr.created_tsc || g->state != GUEST_RUNNING) {
		guest_unlock(g);
		kprintf("keel: trace: guest %s stopped or restarted meanwhile; the rest of its trace is gone\n", g->name);
		return false;
	}
	struct vcpu *v = &g->vcpus[tr.vcpu];
	tr.n = trace_kept(v);
	tr.next = 0;
	tr.copy_pages = ALIGN_UP((uint64_t)tr.n * sizeof(*tr.copy), PAGE_SIZE) / PAGE_SIZE;
	tr.copy = tr.n ? page_alloc(tr.copy_pages) : NULL;
	if (tr.n && !tr.copy) {
		guest_unlock(g);
		kprintf("keel: trace: no memory for a copy of %u exits\n", tr.n);
		return false;
	}
	uint64_t seen[2] = { 0, 0 };
	for (unsigned i = 0; i < tr.n; i++) {
		tr.copy[i] = *trace_at(v, i);
		trace_legend_add(seen, &tr.copy[i]);
	}
	trace_vcpu_header(v, tr.buf, sizeof(tr.buf));
	guest_unlock(g);
	console_write(tr.buf, strlen(tr.buf));
	console_write(tr.buf, trace_legend(seen, tr.buf, sizeof(tr.buf)));
	return true;
}

static void trace_end(void)
{
	trace_copy_free();
	tr.on = false;
	kprintf("keel: end of trace\n");
}

static void trace_pump(void)
{
	if (console_pending())
		return;
	for (unsigned k = 0; k < TRACE_BATCH; k++) {
		if (tr.next == tr.n) {
			tr.vcpu++;
			if (!trace_next_vcpu()) {
				trace_end();
				return;
			}
			continue;
		}
		size_t len = trace_line(tr.buf, sizeof(tr.buf), tr.vcpu, &tr.copy[tr.next++]);
		console_write(tr.buf, len);
	}
}

static void cmd_trace(const char *arg)
{
	struct guest *g = arg && *arg ? find_guest(arg) : NULL;
	if (!g) {
		kprintf("keel: trace: no guest named '%s' (try 'list')\n", arg ? arg : "");
		return;
	}
	if (tr.on) {
		kprintf("keel: trace: a trace is being sent already\n");
		return;
	}
	const struct guest *c = copy_guest(g);
	if (c->state != GUEST_RUNNING) {
		kprintf("keel: trace: guest %s is stopped (its trace was printed when it stopped)\n", c->name);
		return;
	}
	if (!c->vcpus[0].trace) {
		kprintf("keel: trace: guest %s keeps no trace: start Keel with trace=N (N exits per vCPU)\n", c->name);
		return;
	}
	tr.on = true;
	tr.g = g;
	tr.created_tsc = c->created_tsc;
	kprintf("keel: trace of guest %s: TSC %lu Hz, ticks since Keel's entry\n", c->name, tsc_hz);
	kprintf("keel: trace mark %lu guest created\n", c->created_tsc - tsc_boot);
	for (unsigned m = 0; m < NR_MARKS; m++)
		if (c->marks[m])
			kprintf("keel: trace mark %lu %s\n", c->marks[m] - tsc_boot, timeline_mark_name(m));
	tr.vcpu = 0;
	if (!trace_next_vcpu())
		trace_end();
}

/*
 * `console NAME`: the console's input goes to that guest's COM1 (its
 * 16550's receive FIFO and IRQ 4) instead of to Keel's commands, until
 * Ctrl-] (as in telnet and virsh console). Typed bytes reach the guest a
 * few at a time, and only once it has read the previous ones: a BIOS
 * console (SeaBIOS's sercon, under GRUB or iPXE) moves each byte into a
 * keyboard buffer of 15 keys and loses what does not fit, so a line sent
 * whole, as keel-run and a paste send it, would lose its end. The rest waits
 * here; while this queue is full the host UART keeps it. The guest's
 * unfinished line (a prompt) is shown once it has been quiet for a moment,
 * as it would be on a terminal.
 */
#define CONSOLE_ESCAPE 0x1d /* Ctrl-] */
#define INPUT_BYTES_PER_MS 1 /* ~1000 bytes/s: far above typing */
#define INPUT_BURST 4
#define PROMPT_QUIET_NS 200000000ULL
static struct {
	struct guest *g; /* NULL: input is Keel's commands */
	uint8_t queue[256];
	unsigned len;
	bool told_stopped;
	bool skip_lf; /* the LF of the CR LF that ended `console NAME` */
	uint64_t last_push_ns;
	uint64_t out_bytes, out_changed_ns; /* the guest's output, as last seen */
} attach;

static void cmd_console(const char *arg)
{
	struct guest *g = arg && *arg ? find_guest(arg) : NULL;
	if (!g) {
		kprintf("keel: console: no guest named '%s' (try 'list')\n", arg ? arg : "");
		return;
	}
	attach.g = g;
	attach.len = 0;
	attach.told_stopped = false;
	attach.skip_lf = true;
	attach.out_bytes = 0;
	kprintf("keel: console: typing goes to guest %s's COM1 now; Ctrl-] returns to Keel's commands\n", g->name);
}

/* Shows the attached guest's unfinished line once it has been quiet
 * (g's lock held). */
static void show_prompt(struct guest *g, uint64_t now)
{
	if (g->out.bytes != attach.out_bytes) {
		attach.out_bytes = g->out.bytes;
		attach.out_changed_ns = now;
	} else if (g->out.len && now - attach.out_changed_ns >= PROMPT_QUIET_NS) {
		guest_output_flush(&g->out);
	}
}

static void forward_input(void)
{
	struct guest *g = attach.g;
	int c;
	while (attach.len < sizeof(attach.queue) && (c = serial_getc()) >= 0) {
		if (c == CONSOLE_ESCAPE) {
			attach.g = NULL;
			kprintf("keel: console: back to Keel's commands (guest %s runs on)\n", g->name);
			return;
		}
		if (c == '\n' && attach.skip_lf) {
			attach.skip_lf = false;
			continue;
		}
		attach.skip_lf = false;
		attach.queue[attach.len++] = (uint8_t)c;
	}
	unsigned n = 0;
	uint64_t now = now_ns();
	uint64_t allowed = (now - attach.last_push_ns) / 1000000 * INPUT_BYTES_PER_MS;
	guest_lock(g, 0);
	show_prompt(g, now);
	bool running = g->state == GUEST_RUNNING;
	if (attach.len && running && vuart_rx_room(&g->uart) == VUART_RX_SIZE) {
		n = (unsigned)MIN((uint64_t)MIN(attach.len, INPUT_BURST), allowed);
		for (unsigned i = 0; i < n; i++)
			vuart_push_input(&g->uart, attach.queue[i]);
		/* IRQ 4 through the I/O APIC wakes its target by itself (the
		 * APIC bus); through the PIC it is vCPU 0's (ExtINT). */
		if (n) {
			sched_wake(&g->vcpus[0]);
			attach.last_push_ns = now;
		}
	}
	guest_unlock(g);
	if (!attach.len)
		return;
	if (!running) {
		if (!attach.told_stopped)
			kprintf("keel: console: guest %s is not running: input dropped (Ctrl-] returns to Keel's "
				"commands)\n",
				g->name);
		attach.told_stopped = true;
		attach.len = 0;
		return;
	}
	attach.told_stopped = false;
	memmove(attach.queue, attach.queue + n, attach.len - n);
	attach.len -= n;
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
		kprintf("keel: commands: list | stats [NAME] | top [NAME] | trace NAME | console NAME | stop NAME | "
			"restart NAME | screen | help\n");
	} else if (!strcmp(cmd, "list")) {
		cmd_list();
	} else if (!strcmp(cmd, "stats")) {
		if (arg && *arg) {
			struct guest *g = find_guest(arg);
			if (g) {
				const struct guest *c = copy_guest(g);
				exit_stats_print(c);
				guest_timeline_print(c);
			}
			else
				kprintf("keel: stats: no guest named '%s' (try 'list')\n", arg);
		} else {
			for (unsigned i = 0; i < nr_guests; i++)
				if (guests[i])
					exit_stats_print(copy_guest(guests[i]));
		}
		kprintf("keel: end of stats\n"); /* for scripts (tools/bench) */
	} else if (!strcmp(cmd, "trace")) {
		cmd_trace(arg);
	} else if (!strcmp(cmd, "top")) {
		cmd_top(arg);
	} else if (!strcmp(cmd, "console")) {
		cmd_console(arg);
	} else if (!strcmp(cmd, "screen")) {
		screen_print_readback();
	} else if (!strcmp(cmd, "stop") || !strcmp(cmd, "restart")) {
		struct guest *g = arg && *arg ? find_guest(arg) : NULL;
		if (!g) {
			kprintf("keel: %s: no guest named '%s' (try 'list')\n", cmd, arg ? arg : "");
			return;
		}
		/* Its vCPUs may be in guest mode on other CPUs: they see the
		 * stop at their next exit, and the teardown waits for them
		 * (guests_lifecycle). */
		guest_lock(g, 0);
		if (!strcmp(cmd, "restart"))
			guest_request_restart(g);
		else if (g->state == GUEST_RUNNING)
			guest_stop(g, "stopped from the console");
		guest_unlock(g);
	} else {
		kprintf("keel: unknown command '%s' (try 'help')\n", cmd);
	}
}

void console_poll(void)
{
	int c;
	if (tr.on)
		trace_pump();
	while (top.on) {
		/* Enter alone does not end it: a terminal may send CR LF for the
		 * line that started it. Any other key does, and is used up. */
		c = serial_getc();
		if (c == '\r' || c == '\n')
			continue;
		if (c >= 0) {
			top.on = false;
			kprintf("keel: top ended after %u screens\n", top.frame);
			break;
		}
		if ((int64_t)(rdtsc() - top.next_tsc) >= 0)
			top_refresh();
		return;
	}
	if (attach.g) {
		forward_input();
		return;
	}
	while ((c = serial_getc()) >= 0) {
		if (c == '\r' || c == '\n') {
			line[line_len] = 0;
			line_len = 0;
			run_command(line);
			if (attach.g)
				return; /* what follows is the guest's */
		} else if ((c == 8 || c == 127) && line_len) {
			line_len--;
		} else if (c >= 0x20 && c < 0x7f && line_len < sizeof(line) - 1) {
			line[line_len++] = (char)c;
		}
	}
}
