/*
 * The console's `top`: a live view of the guests and their VM exits, in the
 * manner of kvm_stat and xentop. The console (hvm/core/control.c) copies Keel's
 * statistics into a snapshot about once a second; top_format() turns two
 * snapshots into one screen: rates are the difference of the two over the
 * time between them, totals are the later snapshot's (and agree with
 * `stats`). Pure, so unit tests feed it snapshots of their own.
 */
#ifndef KEEL_TOP_H
#define KEEL_TOP_H

#include <keel/config.h>
#include <keel/iobus.h>
#include <keel/types.h>
#include <x86/vmx.h>

#define TOP_REASONS (EXIT_REASON_MAX + 1) /* as the exit statistics (EXIT_STATS_SLOTS) */
#define TOP_PORT_SLOTS (IOBUS_MAX_RANGES + 1) /* port ranges; the last: unclaimed ports */
#define TOP_ROWS 8 /* exit reasons and port ranges shown */

enum top_guest_state { TOP_GUEST_ABSENT, TOP_GUEST_RUNNING, TOP_GUEST_HALTED, TOP_GUEST_STOPPED };

struct top_count {
	uint64_t count, ticks; /* exits, and Keel's TSC ticks for them */
};

struct top_range {
	const char *name; /* the device's; NULL for the unclaimed-ports slot */
	uint16_t base, count;
};

struct top_guest {
	enum top_guest_state state; /* halted: no vCPU runnable */
	char name[16];
	unsigned vcpus;
	uint64_t created_tsc; /* a restarted guest counts from zero again */
	uint64_t guest_ticks; /* TSC ticks its vCPUs spent in guest mode */
	uint64_t keel_ticks;  /* TSC ticks Keel spent on its exits (stats' "ticks in Keel") */
	uint64_t exits;
	struct top_count reasons[TOP_REASONS];
	struct top_count ports[TOP_PORT_SLOTS];
	struct top_range ranges[TOP_PORT_SLOTS];
};

struct top_snapshot {
	uint64_t tsc; /* when it was taken */
	unsigned nr_cpus;
	uint64_t idle_ticks; /* of all CPUs together */
	unsigned nr_guests;
	struct top_guest guests[MAX_GUESTS];
};

struct top_view {
	uint64_t tsc_hz;
	uint64_t boot_tsc; /* Keel's entry: the "previous snapshot" of the first frame */
	int guest;         /* the guest whose exits are listed; -1: all guests */
	unsigned frame;    /* shown in the header */
	const char *(*reason_name)(uint32_t reason);
};

/* One screen into buf (NUL-terminated, cut short rather than overflowing):
 * cursor home, lines of at most 80 columns each cleared to its end, and the
 * rest of the screen cleared. prev NULL: rates since Keel's entry. Returns
 * the length. */
size_t top_format(char *buf, size_t size, const struct top_snapshot *prev, const struct top_snapshot *cur,
		  const struct top_view *view);

#endif
