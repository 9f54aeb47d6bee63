/*
 * The guest's PCI bus (hvm/dev/vpci.c): configuration mechanism #1
 * (0xCF8/0xCFC), the reset control register 0xCF9, and, for a guest with a
 * disk, the i440FX host bridge, the PIIX3 ISA bridge and the PIIX3 IDE
 * function (include/keel/pci_regs.h) whose bus master is BAR4. Pure model.
 */
#ifndef KEEL_VPCI_H
#define KEEL_VPCI_H

#include <keel/guest_events.h>
#include <keel/iobus.h>
#include <keel/vata.h>

#define VPCI_FUNCTIONS 3

/* One function's 256-byte configuration space, and which bits of it the
 * guest may change. */
struct vpci_function {
	uint16_t devfn; /* PCI_BDF(0, dev, fn) */
	uint8_t cfg[256];
	uint8_t wmask[256];
};

struct vpci {
	const struct guest_events *events;
	struct io_bus *bus;
	uint32_t address;
	uint8_t rcr;
	unsigned nr_functions; /* 0: an empty bus (no disk, or ISA-only) */
	struct vpci_function fn[VPCI_FUNCTIONS];
	struct vata *ide;      /* the IDE function's primary channel */
	uint16_t bm_base;      /* where the bus-master range is registered; 0: nowhere yet */
	bool bm_stuck;         /* BAR4 was moved onto another device's ports: not moved */
	uint64_t config_reads, config_writes;
};

void vpci_init(struct vpci *p, const struct guest_events *events);
/* Adds the host bridge, the ISA bridge and the IDE function driving ide
 * (whose DMA goes through mem). */
void vpci_add_piix(struct vpci *p, struct vata *ide, const struct dma_mem *mem);
int vpci_register(struct vpci *p, struct io_bus *bus);
/* Configuration read or write of size 1, 2 or 4 at reg of devfn (bus 0),
 * as mechanism #1 delivers them: all ones from an absent function. */
uint32_t vpci_config_read(struct vpci *p, unsigned devfn, unsigned reg, unsigned size);
void vpci_config_write(struct vpci *p, unsigned devfn, unsigned reg, unsigned size, uint32_t val);

#endif
