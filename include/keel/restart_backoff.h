/*
 * Back-off for a guest that resets itself in a loop (on_reset:restart, a
 * triple fault or port 0xCF9 right after boot): each restart rebuilds its
 * RAM, SeaBIOS and devices, so a tight loop costs the other guests CPU time
 * without end. A restart is "quick" when the guest ran less than
 * RESTART_QUICK_NS since the previous one; after RESTART_FREE_QUICK quick
 * restarts in a row, each further one waits, 1 s, then twice as long each
 * time, up to RESTART_DELAY_MAX_NS. A guest that runs RESTART_QUICK_NS or
 * longer starts afresh. Pure: unit-tested on the host.
 */
#ifndef KEEL_RESTART_BACKOFF_H
#define KEEL_RESTART_BACKOFF_H

#include <keel/types.h>

#define RESTART_QUICK_NS 10000000000ULL      /* 10 s */
#define RESTART_FREE_QUICK 5u
#define RESTART_DELAY_FIRST_NS 1000000000ULL /* 1 s */
#define RESTART_DELAY_MAX_NS 60000000000ULL  /* 60 s */

struct restart_backoff {
	uint64_t last_ns;  /* when the guest last (re)started; 0: never restarted */
	unsigned quick;    /* quick restarts in a row */
	uint64_t delay_ns; /* the last delay given (0: none) */
};

/* A restart is requested at now_ns: returns how long to wait before it.
 * *first is set when this is the first delay of a loop (log it once). */
uint64_t restart_backoff_next(struct restart_backoff *b, uint64_t now_ns, bool *first);

#endif
