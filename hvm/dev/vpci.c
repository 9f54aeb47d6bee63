/*
 * The guest's PCI bus is empty: every configuration read returns all ones
 * ("no device"). This is deliberate: SeaBIOS's ata_scan (src/hw/ata.c) uses
 * the legacy ISA ATA ports 0x1F0/0x3F6 only when its PCI device list is
 * empty, and Keel's disk is an ISA-style ATA device. A host bridge would be
 * a PCI device and turn that fallback off.
 */
#include <keel/string.h>
#include <keel/vpci.h>

void vpci_init(struct vpci *p, const struct guest_events *events)
{
	memset(p, 0, sizeof(*p));
	p->events = events;
}

static uint32_t pci_read(void *dev, uint16_t port, unsigned size)
{
	struct vpci *p = dev;
	if (port == 0xcf8 && size == 4)
		return p->address;
	if (port == 0xcf9 && size == 1)
		return p->rcr;
	if (port >= 0xcfc) {
		p->config_reads++;
		return 0xffffffffu;
	}
	return 0xffffffffu;
}

static void pci_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vpci *p = dev;
	if (port == 0xcf8 && size == 4) {
		p->address = val & 0x80fffffcu;
	} else if (port == 0xcf9 && size == 1) {
		/* Reset control register: RST_CPU (bit 2) performs the reset
		 * selected by SYS_RST (bit 1); either way the guest restarts. */
		p->rcr = (uint8_t)(val & 0x0a);
		if (val & 0x04)
			guest_events_reset(p->events, "port 0xCF9 reset");
	}
	/* configuration writes to absent devices are dropped */
}

int vpci_register(struct vpci *p, struct io_bus *bus)
{
	struct io_range r = { .base = 0xcf8, .count = 8, .name = "pci config", .dev = p, .read = pci_read,
			      .write = pci_write };
	return iobus_register(bus, &r);
}
