/* PCI configuration mechanism #1 (0xCF8/0xCFC) with no devices, and the
 * reset control register 0xCF9. */
#ifndef KEEL_VPCI_H
#define KEEL_VPCI_H

#include <keel/guest_events.h>
#include <keel/iobus.h>

struct vpci {
	const struct guest_events *events;
	uint32_t address;
	uint8_t rcr;
	uint64_t config_reads;
};

void vpci_init(struct vpci *p, const struct guest_events *events);
int vpci_register(struct vpci *p, struct io_bus *bus);

#endif
