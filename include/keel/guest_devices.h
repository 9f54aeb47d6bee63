/*
 * The PC platform of one guest: which device models it has, at which ports,
 * on which interrupt lines, and what fw_cfg holds. Pure (no hardware
 * access): Keel's guest lifecycle (hvm/core/guest.c) and scheduler (hvm/core/sched.c)
 * call it, and so do the fuzzers (tests/fuzz/), so they exercise exactly
 * the device set a guest gets.
 */
#ifndef KEEL_GUEST_DEVICES_H
#define KEEL_GUEST_DEVICES_H

#include <keel/guest.h>

/*
 * Creates every device model of g and registers its ports. Reads
 * g->ram_size and g->ram, g->nr_vcpus, g->disk, g->disk_bytes; g->clock, g->events,
 * g->dma, g->out and g->dbg_out must be set up by the caller. boot_time is the RTC's
 * date at clock time 0; apic_ops connects the guest's APIC bus to its vCPUs
 * (INIT, start-up, wake-ups; NULL in the fuzzers, which have no vCPUs).
 * Returns 0, or -1 if a port range could not be
 * registered (a bug in Keel, not in the guest).
 */
int guest_devices_init(struct guest *g, const struct vrtc_time *boot_time, const struct vlapic_bus_ops *apic_ops);

/*
 * Lets the time-driven devices (PIT, RTC, local APIC timers) raise what is due at `now_ns` and
 * returns the absolute time of their next deadline (NO_DEADLINE if none).
 * Nothing can be due before the cached deadline unless the guest touched a
 * port since (g->devices_dirty), so most calls cost a comparison.
 */
uint64_t guest_devices_update(struct guest *g, uint64_t now_ns);
/* A device's next deadline moved to deadline_ns without anything else
 * changing (a local APIC timer rearmed): the cached deadline becomes the
 * earlier of the two, without a full update. A deadline that moved later
 * leaves an early one cached, which only costs one update when it comes. */
void guest_devices_deadline_at(struct guest *g, uint64_t deadline_ns);
/*
 * The common timer exit of a guest that ticks: vCPU `self`'s local APIC
 * timer has come (at now_ns) and nothing else of the guest's devices has
 * (the PIT, the RTC, the other vCPUs' APIC timers: all later, and the
 * guest not dirty). Then the timer fires (its vector in the IRR, the next
 * period armed), the cached deadline is the guest's next, *next, and it
 * returns true: what guest_devices_update would have done, for the one
 * device that was due. Else it changes nothing and returns false.
 */
bool guest_devices_own_timer_tick(struct guest *g, unsigned self, uint64_t now_ns, uint64_t *next);

#endif
