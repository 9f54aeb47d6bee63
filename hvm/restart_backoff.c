/* Restart back-off for guests that reset in a loop (include/keel/restart_backoff.h). */
#include <keel/restart_backoff.h>

uint64_t restart_backoff_next(struct restart_backoff *b, uint64_t now_ns, bool *first)
{
	*first = false;
	/* How long it ran since it last started (the delay is not running). */
	bool quick = b->last_ns && now_ns - b->last_ns < RESTART_QUICK_NS;
	if (!quick) {
		b->quick = 0;
		b->delay_ns = 0;
	} else {
		b->quick++;
	}
	uint64_t delay = 0;
	if (b->quick > RESTART_FREE_QUICK) {
		*first = b->delay_ns == 0;
		delay = b->delay_ns ? b->delay_ns * 2 : RESTART_DELAY_FIRST_NS;
		if (delay > RESTART_DELAY_MAX_NS)
			delay = RESTART_DELAY_MAX_NS;
		b->delay_ns = delay;
	}
	b->last_ns = now_ns + delay;
	return delay;
}
