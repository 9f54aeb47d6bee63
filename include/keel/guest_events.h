/*
 * Requests a device model makes of the guest as a whole: reset (port 0xCF9,
 * keyboard controller 0xFE, port 0x92 bit 0), power-off/exit (port 0xF4,
 * ACPI S5), suspend to RAM (ACPI S3) and the wake from it.
 * The models only ask; Keel's guest lifecycle decides what happens.
 */
#ifndef KEEL_GUEST_EVENTS_H
#define KEEL_GUEST_EVENTS_H

struct guest_events {
	void (*request_reset)(void *ctx, const char *reason);
	void (*request_exit)(void *ctx, int status, const char *reason);
	void (*request_suspend)(void *ctx);
	void (*request_wake)(void *ctx);
	void *ctx;
};

static inline void guest_events_reset(const struct guest_events *e, const char *reason)
{
	if (e && e->request_reset)
		e->request_reset(e->ctx, reason);
}

static inline void guest_events_exit(const struct guest_events *e, int status, const char *reason)
{
	if (e && e->request_exit)
		e->request_exit(e->ctx, status, reason);
}

static inline void guest_events_suspend(const struct guest_events *e)
{
	if (e && e->request_suspend)
		e->request_suspend(e->ctx);
}

static inline void guest_events_wake(const struct guest_events *e)
{
	if (e && e->request_wake)
		e->request_wake(e->ctx);
}

#endif
