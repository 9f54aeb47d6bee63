/*
 * hvmloader's PCI set-up: what Xen's hvmloader does on this path
 * (tools/firmware/hvmloader/pci.c), because SeaBIOS's Xen path enumerates
 * the bus but assigns nothing.
 *
 * 1. PIIX3 PIRQ A-D routed to ISA IRQs 5, 10, 11 and 5.
 * 2. Every function on bus 0: each BAR sized (write all ones, read back),
 *    then given an aligned address: I/O BARs from 0xC000, memory BARs from
 *    the PCI hole at 0xE0000000 (RAM below 4 GiB stops there). 64-bit
 *    memory BARs get an address below 4 GiB as well. A BAR that does not
 *    fit is left at 0 and counted.
 * 3. Decoding on (command I/O and memory as the BARs need), bus mastering
 *    for the IDE function, and the PIIX3 IDE's decode-enable bits (IDETIM
 *    bit 15 of both channels: Linux's ata_piix skips a channel without it).
 * 4. Interrupt line: for a function with an INTx pin, the ISA IRQ its PIRQ
 *    is routed to (the usual swizzle: pin + slot); a compatibility-mode
 *    IDE function has no pin and uses IRQ 14, which the line says.
 */
#include <keel/pci_regs.h>

#include "pci_setup.h"

static uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) & ~(a - 1); }

static void setup_bars(const struct pci_config_ops *ops, struct pci_setup_function *f, uint32_t *io_next,
		       uint32_t *mem_next, unsigned *unassigned, uint16_t *cmd)
{
	for (unsigned b = 0; b < PCI_SETUP_BARS; b++) {
		unsigned reg = PCI_BASE_ADDRESS_0 + 4 * b;
		uint32_t old = ops->read(ops->ctx, f->devfn, reg, 4);
		ops->write(ops->ctx, f->devfn, reg, 4, 0xffffffffu);
		uint32_t probe = ops->read(ops->ctx, f->devfn, reg, 4);
		ops->write(ops->ctx, f->devfn, reg, 4, old);
		if (probe == 0 || probe == 0xffffffffu)
			continue; /* no BAR here */
		bool io = probe & PCI_BASE_ADDRESS_SPACE_IO;
		bool mem64 = !io && (probe & 0x6) == PCI_BASE_ADDRESS_MEM_TYPE_64;
		uint32_t mask = io ? (probe & PCI_BASE_ADDRESS_IO_MASK) : (probe & PCI_BASE_ADDRESS_MEM_MASK);
		if (io)
			mask |= 0xffff0000u; /* I/O BARs may implement only 16 bits */
		uint32_t size = ~mask + 1;
		uint32_t *next = io ? io_next : mem_next, end = io ? PCI_IO_END : PCI_MMIO_END;
		uint32_t base = size ? align_up(*next, size) : 0;
		if (!size || base < *next || base > end || end - base < size) {
			(*unassigned)++;
			if (mem64)
				b++;
			continue;
		}
		*next = base + size;
		ops->write(ops->ctx, f->devfn, reg, 4, base | (probe & (io ? 0x3u : 0xfu)));
		f->bar[b] = ops->read(ops->ctx, f->devfn, reg, 4);
		f->bar_size[b] = size;
		*cmd |= io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
		if (mem64) {
			ops->write(ops->ctx, f->devfn, reg + 4, 4, 0); /* the high half: below 4 GiB */
			b++;
		}
	}
}

void pci_setup(const struct pci_config_ops *ops, struct pci_setup_result *r)
{
	static const uint8_t pirq_irq[4] = PCI_PIRQ_IRQS;
	uint32_t io_next = PCI_IO_START, mem_next = PCI_MMIO_START;
	r->nr_functions = 0;
	r->unassigned = 0;
	for (unsigned i = 0; i < 4; i++)
		r->pirq[i] = PIIX_PIRQ_DISABLED;

	for (unsigned devfn = 0; devfn < 256; devfn++) {
		uint32_t id = ops->read(ops->ctx, devfn, PCI_VENDOR_ID, 4);
		uint16_t vendor = (uint16_t)id, device = (uint16_t)(id >> 16);
		if (vendor == 0xffff || vendor == 0) {
			if ((devfn & 7) == 0)
				devfn += 7; /* no function 0: no device in this slot */
			continue;
		}
		if (r->nr_functions == PCI_SETUP_MAX_FUNCTIONS)
			break;
		struct pci_setup_function *f = &r->fn[r->nr_functions++];
		*f = (struct pci_setup_function){ .devfn = (uint16_t)devfn, .vendor = vendor, .device = device };
		f->class = (uint16_t)ops->read(ops->ctx, devfn, PCI_CLASS_DEVICE, 2);
		uint8_t header = (uint8_t)ops->read(ops->ctx, devfn, PCI_HEADER_TYPE, 1);

		if (vendor == PCI_VENDOR_INTEL && device == PCI_DEVICE_PIIX3_ISA) {
			for (unsigned p = 0; p < 4; p++) {
				ops->write(ops->ctx, devfn, PIIX_PIRQ_ROUTE + p, 1, pirq_irq[p]);
				r->pirq[p] = (uint8_t)ops->read(ops->ctx, devfn, PIIX_PIRQ_ROUTE + p, 1);
			}
		}

		uint16_t cmd = (uint16_t)ops->read(ops->ctx, devfn, PCI_COMMAND, 2);
		if ((header & 0x7f) == 0)
			setup_bars(ops, f, &io_next, &mem_next, &r->unassigned, &cmd);

		f->pin = (uint8_t)ops->read(ops->ctx, devfn, PCI_INTERRUPT_PIN, 1);
		if (f->class == PCI_CLASS_STORAGE_IDE) {
			cmd |= PCI_COMMAND_MASTER;
			if (vendor == PCI_VENDOR_INTEL) {
				ops->write(ops->ctx, devfn, PIIX_IDETIM_PRIMARY, 2, PIIX_IDETIM_DECODE_ENABLE);
				ops->write(ops->ctx, devfn, PIIX_IDETIM_SECONDARY, 2, PIIX_IDETIM_DECODE_ENABLE);
			}
		}
		if (f->pin >= 1 && f->pin <= 4) {
			unsigned slot = devfn >> 3;
			f->line = pirq_irq[(f->pin - 1 + slot) & 3];
		} else if (f->class == PCI_CLASS_STORAGE_IDE) {
			f->line = 14;
		} else {
			f->line = 0;
		}
		if (f->pin || f->class == PCI_CLASS_STORAGE_IDE)
			ops->write(ops->ctx, devfn, PCI_INTERRUPT_LINE, 1, f->line);
		ops->write(ops->ctx, devfn, PCI_COMMAND, 2, cmd);

		/* A single-function device has nothing at functions 1-7. */
		if ((devfn & 7) == 0 && !(header & PCI_HEADER_TYPE_MULTI_FUNCTION))
			devfn += 7;
	}
}
