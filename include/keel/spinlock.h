#ifndef KEEL_SPINLOCK_H
#define KEEL_SPINLOCK_H

#include <keel/types.h>
#include <x86/io.h>

typedef struct {
	volatile uint32_t locked;
} spinlock_t;

#define SPINLOCK_INIT { 0 }

static inline bool spin_trylock(spinlock_t *l) { return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE); }

static inline void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

static inline void spin_unlock(spinlock_t *l) { __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE); }

/* What a CPU spent waiting for the locks Keel's exits and scheduler take
 * (spin_lock_counted): `list` prints it and tools/bench's exit scaling
 * reads it. Only a lock that was taken when asked costs a TSC read. */
struct lock_wait {
	uint64_t waits; /* acquisitions that found the lock taken */
	uint64_t ticks; /* TSC ticks spent spinning in them */
};

static inline void spin_lock_counted(spinlock_t *l, struct lock_wait *w)
{
	if (__builtin_expect(spin_trylock(l), 1))
		return;
	uint64_t t0 = rdtsc();
	spin_lock(l);
	w->waits++;
	w->ticks += rdtsc() - t0;
}

#endif
