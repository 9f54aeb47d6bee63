/* hvmloader's PCI set-up (pci_setup.c): pure, with configuration space
 * reached through callbacks (port I/O in hvmloader, the model in tests). */
#ifndef LOADER_PCI_SETUP_H
#define LOADER_PCI_SETUP_H

#include <keel/types.h>

struct pci_config_ops {
	uint32_t (*read)(void *ctx, unsigned devfn, unsigned reg, unsigned size);
	void (*write)(void *ctx, unsigned devfn, unsigned reg, unsigned size, uint32_t val);
	void *ctx;
};

/* The PCI hole: guest RAM below 4 GiB ends at or below its start (the
 * E820 map says so), and memory BARs come from it, below the I/O APIC. */
#define PCI_MMIO_START 0xe0000000u
#define PCI_MMIO_END 0xfec00000u
/* I/O BARs from 0xC000 up, clear of every ISA port, as Xen's hvmloader. */
#define PCI_IO_START 0xc000u
#define PCI_IO_END 0x10000u
/* PIRQ A-D -> ISA IRQs 5, 10, 11, 5: the IRQs no ISA device of Keel's
 * platform uses (Xen's hvmloader picks from the same set). */
#define PCI_PIRQ_IRQS { 5, 10, 11, 5 }

#define PCI_SETUP_MAX_FUNCTIONS 32
#define PCI_SETUP_BARS 6

struct pci_setup_function {
	uint16_t devfn, vendor, device, class;
	uint8_t pin, line;
	uint32_t bar[PCI_SETUP_BARS];      /* as assigned (with the type bits), 0: none */
	uint32_t bar_size[PCI_SETUP_BARS];
};

struct pci_setup_result {
	unsigned nr_functions;
	struct pci_setup_function fn[PCI_SETUP_MAX_FUNCTIONS];
	uint8_t pirq[4];
	unsigned unassigned; /* BARs that did not fit (64-bit, or the window full) */
};

/* Enumerates bus 0, assigns every BAR, enables decoding, programs the
 * PIIX3's PIRQ routes and IDE decode, and sets each function's interrupt
 * line. Fills r with what it did. */
void pci_setup(const struct pci_config_ops *ops, struct pci_setup_result *r);

#endif
