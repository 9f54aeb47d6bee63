/* Test doubles shared by the device-model tests. */
#ifndef TESTS_FAKES_H
#define TESTS_FAKES_H

#include <keel/guest_events.h>
#include <keel/guest_output.h>
#include <keel/irq.h>
#include <keel/vclock.h>
#include <string.h>

/* A clock the test moves by hand. */
struct fake_clock {
	uint64_t ns;
	struct vclock vc;
};
static uint64_t fake_now(void *ctx) { return ((struct fake_clock *)ctx)->ns; }
static inline void fake_clock_init(struct fake_clock *c)
{
	c->ns = 1000000;
	c->vc.now_ns = fake_now;
	c->vc.ctx = c;
}

/* An interrupt line that records levels and rising edges. */
struct fake_irq {
	int level[24]; /* ISA IRQs 0-15; the test device's lines go to 23 */
	int rises[24];
};
static void fake_irq_set(void *ctx, unsigned irq, int level)
{
	struct fake_irq *f = ctx;
	if (level && !f->level[irq])
		f->rises[irq]++;
	f->level[irq] = level;
}
static inline struct irq_line fake_irq_line(struct fake_irq *f)
{
	memset(f, 0, sizeof(*f));
	return (struct irq_line){ fake_irq_set, f };
}

/* Guest text capture and event recorder. */
struct fake_guest {
	char text[4096];
	size_t len;
	int resets, exits, exit_status, suspends, wakes;
	char reason[128];
	struct guest_output out;
	struct guest_events ev;
};
static void fake_emit(void *ctx, const char *line, size_t len)
{
	struct fake_guest *g = ctx;
	if (g->len + len < sizeof(g->text)) {
		memcpy(g->text + g->len, line, len);
		g->len += len;
		g->text[g->len] = 0;
	}
}
static void fake_reset(void *ctx, const char *why)
{
	struct fake_guest *g = ctx;
	g->resets++;
	strncpy(g->reason, why, sizeof(g->reason) - 1);
}
static void fake_exit(void *ctx, int status, const char *why)
{
	struct fake_guest *g = ctx;
	g->exits++;
	g->exit_status = status;
	strncpy(g->reason, why, sizeof(g->reason) - 1);
}
static void fake_suspend(void *ctx) { ((struct fake_guest *)ctx)->suspends++; }
static void fake_wake(void *ctx) { ((struct fake_guest *)ctx)->wakes++; }
static inline void fake_guest_init(struct fake_guest *g)
{
	memset(g, 0, sizeof(*g));
	guest_output_init(&g->out, "[t] ", fake_emit, g);
	g->ev = (struct guest_events){ fake_reset, fake_exit, fake_suspend, fake_wake, g };
}

#endif
