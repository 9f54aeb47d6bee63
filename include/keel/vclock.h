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

#if defined(KEEL_HOST_TEST) || !defined(__x86_64__) /* host tests; the loader's table constants */
static inline uint64_t vclock_now(const struct vclock *c) { return c->now_ns(c->ctx); }
#else
#include <keel/tsc.h>
/* In Keel every guest's clock is the host's (hvm/core/guest.c sets no
 * other): read inline, as the exit path asks it for every PIT, RTC and
 * APIC timer access, rather than through the pointer. */
static inline uint64_t vclock_now(const struct vclock *c)
{
	(void)c;
	return now_ns();
}
#endif

#define NO_DEADLINE UINT64_MAX

#endif
