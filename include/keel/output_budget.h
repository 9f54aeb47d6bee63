/*
 * A guest's share of Keel's console: a token bucket of bytes. Every guest
 * line costs its length; a guest that prints faster than its rate (after a
 * burst) has lines dropped and counted instead of queued, so one guest can
 * neither fill the console queue nor make Keel wait for the UART on its
 * behalf (which would stop the other guests). The counts are reported in a
 * few lines: when dropping starts, then a summary at most every
 * OUTPUT_REPORT_NS while it goes on. Pure: unit-tested on the host.
 */
#ifndef KEEL_OUTPUT_BUDGET_H
#define KEEL_OUTPUT_BUDGET_H

#include <keel/types.h>

/* 115200 baud 8N1 moves 11520 bytes a second; each guest may use a sixth
 * of that on average, and burst to 16 KiB (SeaBIOS's whole boot log, a boot
 * loader's menu). */
#define OUTPUT_RATE_BYTES 2048u
#define OUTPUT_BURST_BYTES 16384u
#define OUTPUT_REPORT_NS 5000000000ULL

struct output_budget {
	uint64_t rate, burst; /* bytes per second; bucket size */
	uint64_t tokens;
	uint64_t last_ns;     /* time up to which tokens were added */
	/* Drops since the last report, and in all. */
	uint64_t lines, bytes, total_lines, total_bytes;
	uint64_t report_ns;   /* when the last report was made */
	bool reported_start;  /* the "dropping" line has been printed */
};

enum output_report {
	OUTPUT_REPORT_NONE,
	OUTPUT_REPORT_START,   /* first drop: say that dropping started */
	OUTPUT_REPORT_SUMMARY, /* lines/bytes since the last report */
};

void output_budget_init(struct output_budget *b, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* Takes len bytes of the budget at time now_ns; false (and the line counted
 * as dropped) if the guest has used up its share. */
bool output_budget_take(struct output_budget *b, uint64_t now_ns, uint64_t len);
/* Counts a line dropped for another reason (the console queue is full). */
void output_budget_drop(struct output_budget *b, uint64_t len);
/* What to report now, if anything; marks it reported (the caller prints
 * b->lines/bytes for a summary before calling output_budget_reported). */
enum output_report output_budget_report_due(struct output_budget *b, uint64_t now_ns, bool final);
void output_budget_reported(struct output_budget *b, uint64_t now_ns);

#endif
