/* 8042 keyboard controller (0x60/0x64) with a present but silent keyboard
 * and an AUX (mouse) port with nothing plugged in,
 * and the "fast A20" port 0x92. Resets requested through either go to
 * guest_events. Pure model. */
#ifndef KEEL_VKBC_H
#define KEEL_VKBC_H

#include <keel/guest_events.h>
#include <keel/iobus.h>
#include <keel/irq.h>

#define VKBC_QUEUE 16

struct vkbc {
	const struct guest_events *events;
	struct irq_line irq;
	uint8_t cmd_byte;
	uint8_t pending_cmd; /* controller command waiting for its data byte */
	uint8_t kbd_pending; /* keyboard command waiting for a parameter */
	bool sys_flag, last_was_cmd, a20;
	uint8_t port92;
	uint16_t queue[VKBC_QUEUE]; /* output buffer: byte, status bits (AUX data, time-out) << 8 */
	unsigned q_head, q_len;
	uint64_t resets_requested;
};

void vkbc_init(struct vkbc *k, struct irq_line irq, const struct guest_events *events);
int vkbc_register(struct vkbc *k, struct io_bus *bus);
bool vkbc_a20_enabled(const struct vkbc *k);

#endif
