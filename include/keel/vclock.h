/*
 * Time as device models see it. Models are pure state machines: they never
 * read the TSC themselves but ask this clock, so host unit tests can drive
 * time by hand. In Keel the clock is the host TSC converted to nanoseconds.
 */
#ifndef KEEL_VCLOCK_H
#define KEEL_VCLOCK_H

#include <keel/types.h>

struct vclock {
	uint64_t (*now_ns)(void *ctx);
	void *ctx;
};

static inline uint64_t vclock_now(const struct vclock *c) { return c->now_ns(c->ctx); }

#define NO_DEADLINE UINT64_MAX

#endif
