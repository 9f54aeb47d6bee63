/*
 * One screen of the console's `top` from two snapshots of Keel's statistics
 * (include/keel/top.h). Rates (per second, % of one CPU) are differences
 * over the time between the snapshots; totals and the cost per exit are
 * the later snapshot's, the same figures `stats` prints. Plain ANSI: cursor
 * home first, each line cleared to its end, the rest of the screen cleared
 * last, so a serial terminal shows one steady table.
 */
#include <keel/format.h>
#include <keel/string.h>
#include <keel/top.h>
#include <stdarg.h>

#define ESC "\x1b"

struct screen {
	char *p;
	size_t size, len;
	bool full;
};

static void put(struct screen *s, const char *text)
{
	size_t n = strlen(text);
	if (s->full || s->len + n >= s->size) {
		s->full = true; /* cut short: whole lines, the first ones */
		return;
	}
	memcpy(s->p + s->len, text, n + 1);
	s->len += n;
}

/* One line: "keel: " and the text, cleared to the end of the line. */
static void __printf(2, 3) line(struct screen *s, const char *fmt, ...)
{
	char l[128];
	va_list ap;
	int n = ksnprintf(l, sizeof(l), "keel: ");
	va_start(ap, fmt);
	kvsnprintf(l + n, sizeof(l) - (size_t)n - 8, fmt, ap);
	va_end(ap);
	size_t len = strlen(l);
	memcpy(l + len, ESC "[K\n", 5);
	put(s, l);
}

static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	return c ? (uint64_t)((unsigned __int128)a * b / c) : 0;
}

static uint64_t delta(uint64_t now, uint64_t before) { return now > before ? now - before : 0; }

/* d of interval as a percentage with one decimal, into out. */
static const char *percent(char *out, size_t size, uint64_t d, uint64_t interval)
{
	uint64_t tenths = muldiv(d, 1000, interval);
	ksnprintf(out, size, "%lu.%lu", tenths / 10, tenths % 10);
	return out;
}

static const char *seconds(char *out, size_t size, uint64_t ticks, uint64_t hz)
{
	uint64_t cs = muldiv(ticks, 100, hz);
	ksnprintf(out, size, "%lu.%02lu", cs / 100, cs % 100);
	return out;
}

/* The same guest in the earlier snapshot, or NULL if it is new (created,
 * or restarted, since): its counts then start from zero. */
static const struct top_guest *before(const struct top_snapshot *prev, unsigned i, const struct top_guest *g)
{
	if (!prev || i >= prev->nr_guests)
		return NULL;
	const struct top_guest *p = &prev->guests[i];
	return p->state != TOP_GUEST_ABSENT && p->created_tsc == g->created_tsc ? p : NULL;
}

struct row {
	char label[40];
	const char *name; /* port ranges: to tell them apart */
	uint16_t base, count;
	uint64_t d, d_ticks, total, total_ticks;
};

/* Port ranges of different guests are merged by device and ports; ranges
 * past this many distinct ones are left out. */
#define TOP_MAX_ROWS (2 * TOP_PORT_SLOTS)
static struct row rows[TOP_MAX_ROWS > TOP_REASONS ? TOP_MAX_ROWS : TOP_REASONS];

static void row_add(struct row *r, const struct top_count *now, const struct top_count *was)
{
	r->d += delta(now->count, was ? was->count : 0);
	r->d_ticks += delta(now->ticks, was ? was->ticks : 0);
	r->total += now->count;
	r->total_ticks += now->ticks;
}

/* The first TOP_ROWS by rate over the interval, then by total. */
static void rows_print(struct screen *s, const char *title, unsigned n, uint64_t interval, uint64_t hz)
{
	char pct[16];
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0; j--) {
			struct row *a = &rows[j - 1], *b = &rows[j];
			if (a->d > b->d || (a->d == b->d && a->total >= b->total))
				break;
			struct row t = *a;
			*a = *b;
			*b = t;
		}
	line(s, "  %-30s %9s %10s %10s %6s", title, "/s", "total", "ticks/exit", "Keel%");
	for (unsigned i = 0; i < n && i < TOP_ROWS; i++) {
		const struct row *r = &rows[i];
		line(s, "  %-30s %9lu %10lu %10lu %6s", r->label, muldiv(r->d, hz, interval), r->total,
		     r->total ? r->total_ticks / r->total : 0, percent(pct, sizeof(pct), r->d_ticks, interval));
	}
}

static bool listed(const struct top_view *v, unsigned i) { return v->guest < 0 || (unsigned)v->guest == i; }

static bool same_range(const struct row *r, const struct top_range *rg)
{
	return r->base == rg->base && r->count == rg->count &&
	       (r->name == rg->name || (r->name && rg->name && !strcmp(r->name, rg->name)));
}

static void exit_tables(struct screen *s, const struct top_snapshot *prev, const struct top_snapshot *cur,
			const struct top_view *v, uint64_t interval)
{
	char title[48];
	if (v->guest < 0)
		ksnprintf(title, sizeof(title), "exits of all guests");
	else
		ksnprintf(title, sizeof(title), "exits of %s", cur->guests[v->guest].name);
	unsigned n = 0;
	for (uint32_t r = 0; r < TOP_REASONS; r++) {
		struct row *row = &rows[n];
		memset(row, 0, sizeof(*row));
		ksnprintf(row->label, sizeof(row->label), "%s", v->reason_name(r));
		for (unsigned i = 0; i < cur->nr_guests; i++) {
			const struct top_guest *g = &cur->guests[i];
			if (g->state == TOP_GUEST_ABSENT || !listed(v, i))
				continue;
			const struct top_guest *p = before(prev, i, g);
			row_add(row, &g->reasons[r], p ? &p->reasons[r] : NULL);
		}
		if (row->total)
			n++;
	}
	line(s, "%s", "");
	rows_print(s, title, n, interval, v->tsc_hz);

	/* Port ranges (as stats names them), one line per device and ports
	 * over all the guests listed. */
	n = 0;
	for (unsigned i = 0; i < cur->nr_guests; i++) {
		const struct top_guest *g = &cur->guests[i];
		if (g->state == TOP_GUEST_ABSENT || !listed(v, i))
			continue;
		const struct top_guest *p = before(prev, i, g);
		for (unsigned k = 0; k < TOP_PORT_SLOTS; k++) {
			const struct top_range *rg = &g->ranges[k];
			if (!g->ports[k].count)
				continue;
			unsigned j = 0;
			while (j < n && !same_range(&rows[j], rg))
				j++;
			if (j == TOP_MAX_ROWS)
				continue;
			if (j == n) {
				struct row *row = &rows[n++];
				memset(row, 0, sizeof(*row));
				row->name = rg->name;
				row->base = rg->base;
				row->count = rg->count;
				if (rg->name)
					ksnprintf(row->label, sizeof(row->label), "  %s %#x-%#x", rg->name, rg->base,
						  rg->base + rg->count - 1);
				else
					ksnprintf(row->label, sizeof(row->label), "  unclaimed ports");
			}
			row_add(&rows[j], &g->ports[k], p ? &p->ports[k] : NULL);
		}
	}
	if (n)
		rows_print(s, "I/O exits by port range", n, interval, v->tsc_hz);
}

size_t top_format(char *buf, size_t size, const struct top_snapshot *prev, const struct top_snapshot *cur,
		  const struct top_view *v)
{
	static const char *const state_names[] = {
		[TOP_GUEST_ABSENT] = "-",
		[TOP_GUEST_RUNNING] = "running",
		[TOP_GUEST_HALTED] = "halted",
		[TOP_GUEST_STOPPED] = "stopped",
	};
	struct screen s = { buf, size, 0, false };
	char a[16], b[16], c[16];
	if (!size)
		return 0;
	buf[0] = 0;
	uint64_t since = prev ? prev->tsc : v->boot_tsc;
	uint64_t interval = delta(cur->tsc, since);
	if (!interval)
		interval = 1;

	put(&s, ESC "[H");
	uint64_t idle = delta(cur->idle_ticks, prev ? prev->idle_ticks : 0);
	line(&s, "top %u: up %s s, rates over %s s, %u CPU%s %s%% idle (a key ends)", v->frame,
	     seconds(a, sizeof(a), delta(cur->tsc, v->boot_tsc), v->tsc_hz), seconds(b, sizeof(b), interval, v->tsc_hz),
	     cur->nr_cpus, cur->nr_cpus == 1 ? "" : "s",
	     percent(c, sizeof(c), idle, interval * (cur->nr_cpus ? cur->nr_cpus : 1)));
	line(&s, "%-16s %-8s %5s %6s %6s %9s %12s", "guest", "state", "vCPUs", "CPU%", "Keel%", "exits/s", "exits");
	for (unsigned i = 0; i < cur->nr_guests; i++) {
		const struct top_guest *g = &cur->guests[i];
		if (g->state == TOP_GUEST_ABSENT)
			continue;
		const struct top_guest *p = before(prev, i, g);
		uint64_t t0 = since > g->created_tsc ? since : g->created_tsc;
		uint64_t gi = delta(cur->tsc, t0);
		uint64_t dk = delta(g->keel_ticks, p ? p->keel_ticks : 0);
		uint64_t dg = delta(g->guest_ticks, p ? p->guest_ticks : 0);
		uint64_t de = delta(g->exits, p ? p->exits : 0);
		line(&s, "%-16s %-8s %5u %6s %6s %9lu %12lu", g->name, state_names[g->state], g->vcpus,
		     percent(a, sizeof(a), dg + dk, gi), percent(b, sizeof(b), dk, gi), muldiv(de, v->tsc_hz, gi),
		     g->exits);
	}
	if (v->guest < 0 || (unsigned)v->guest < cur->nr_guests)
		exit_tables(&s, prev, cur, v, interval);
	put(&s, ESC "[J");
	return s.len;
}
