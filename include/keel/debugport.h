/* Debug and test ports: 0xE9 (Bochs/Xen debug console) and 0x402 (QEMU
 * debugcon) print guest text; 0x80 records POST codes; 0xF4 is QEMU's
 * isa-debug-exit (a write of V ends the guest with status (V << 1) | 1). */
#ifndef KEEL_DEBUGPORT_H
#define KEEL_DEBUGPORT_H

#include <keel/guest_events.h>
#include <keel/guest_output.h>
#include <keel/iobus.h>

#define DEBUGPORT_E9 0xe9
#define DEBUGPORT_QEMU 0x402
#define DEBUGPORT_POST 0x80
#define DEBUGPORT_EXIT 0xf4

struct debugport {
	struct guest_output *out;
	const struct guest_events *events;
	uint8_t last_post;
	uint64_t post_writes;
};

void debugport_init(struct debugport *d, struct guest_output *out, const struct guest_events *events);
int debugport_register(struct debugport *d, struct io_bus *bus);
uint8_t debugport_last_post(const struct debugport *d);

#endif
