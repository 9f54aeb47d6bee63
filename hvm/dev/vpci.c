/*
 * The guest's PCI bus: configuration mechanism #1 (PCI 3.0, 3.2.2.3.2) and
 * the reset control register 0xCF9.
 *
 * A guest with a disk gets the platform Xen HVM and QEMU's "pc" machine
 * present: an i440FX host bridge (00:00.0), the PIIX3 ISA bridge (00:01.0,
 * with its PIRQ route registers) and the PIIX3 IDE function (00:01.1) in
 * compatibility mode: its channels are the legacy ports 0x1F0/0x3F6 and
 * 0x170/0x376 on IRQ 14 and 15, which vata.c serves whatever the PCI
 * configuration says (so ISA-era software keeps working), plus the bus
 * master at BAR4, a 16-port I/O range that follows wherever the guest puts
 * BAR4 while I/O decode is on. hvmloader assigns BAR4 and the interrupt
 * routing (loader/pci_setup.c); SeaBIOS's Xen path only enumerates.
 *
 * A guest without a disk (a kernel booted directly) keeps an empty bus:
 * every read is all ones.
 *
 * Each function is 256 bytes of configuration space plus a mask of the
 * bits the guest may write: identification and class are read-only, the
 * command register takes I/O, memory and bus master, BAR4 takes its
 * address bits (the low four stay 0001: a 16-byte I/O BAR), and the
 * device-specific registers from 0x40 up are plain storage (PAM and SMRAM
 * on the host bridge, PIRQ routes on the ISA bridge, IDE timings), which
 * is all a guest needs of them here: Keel's memory map does not change
 * with PAM, and the interrupt lines in use are ISA IRQs.
 */
#include <keel/pci_regs.h>
#include <keel/string.h>
#include <keel/vpci.h>

void vpci_init(struct vpci *p, const struct guest_events *events)
{
	memset(p, 0, sizeof(*p));
	p->events = events;
}

static void put16(uint8_t *c, unsigned reg, uint16_t v)
{
	c[reg] = (uint8_t)v;
	c[reg + 1] = (uint8_t)(v >> 8);
}

static uint32_t get32(const uint8_t *c, unsigned reg)
{
	return (uint32_t)c[reg] | (uint32_t)c[reg + 1] << 8 | (uint32_t)c[reg + 2] << 16 | (uint32_t)c[reg + 3] << 24;
}

static struct vpci_function *add_function(struct vpci *p, unsigned devfn, uint16_t device, uint16_t class,
					  uint8_t prog, uint8_t header)
{
	struct vpci_function *f = &p->fn[p->nr_functions++];
	f->devfn = (uint16_t)devfn;
	put16(f->cfg, PCI_VENDOR_ID, PCI_VENDOR_INTEL);
	put16(f->cfg, PCI_DEVICE_ID, device);
	put16(f->cfg, PCI_CLASS_DEVICE, class);
	f->cfg[PCI_CLASS_PROG] = prog;
	f->cfg[PCI_HEADER_TYPE] = header;
	put16(f->cfg, PCI_STATUS, 0x0280); /* fast back-to-back capable, medium DEVSEL timing */
	f->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	f->wmask[0x0d] = 0xff; /* latency timer */
	f->wmask[PCI_INTERRUPT_LINE] = 0xff;
	for (unsigned r = 0x40; r < 256; r++)
		f->wmask[r] = 0xff;
	return f;
}

void vpci_add_piix(struct vpci *p, struct vata *ide, const struct dma_mem *mem)
{
	p->nr_functions = 0;
	struct vpci_function *f = add_function(p, PCI_DEVFN_HOST_BRIDGE, PCI_DEVICE_I440FX, PCI_CLASS_BRIDGE_HOST, 0, 0);
	f->cfg[PCI_REVISION_ID] = 0x02;
	f->cfg[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	f = add_function(p, PCI_DEVFN_PIIX3_ISA, PCI_DEVICE_PIIX3_ISA, PCI_CLASS_BRIDGE_ISA, 0,
			 PCI_HEADER_TYPE_MULTI_FUNCTION);
	f->cfg[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	for (unsigned i = 0; i < 4; i++) {
		f->cfg[PIIX_PIRQ_ROUTE + i] = PIIX_PIRQ_DISABLED; /* the datasheet's reset value */
		f->wmask[PIIX_PIRQ_ROUTE + i] = PIIX_PIRQ_DISABLED | 0x0f;
	}

	f = add_function(p, PCI_DEVFN_PIIX3_IDE, PCI_DEVICE_PIIX3_IDE, PCI_CLASS_STORAGE_IDE, PCI_IDE_PROG_COMPAT_BM, 0);
	f->cfg[PCI_BASE_ADDRESS_4] = PCI_BASE_ADDRESS_SPACE_IO;
	f->wmask[PCI_BASE_ADDRESS_4] = 0xf0;
	f->wmask[PCI_BASE_ADDRESS_4 + 1] = 0xff;
	f->wmask[PCI_BASE_ADDRESS_4 + 2] = 0xff;
	f->wmask[PCI_BASE_ADDRESS_4 + 3] = 0xff;
	p->ide = ide;
	vata_attach_dma(ide, mem);
}

static struct vpci_function *find_function(struct vpci *p, unsigned devfn)
{
	for (unsigned i = 0; i < p->nr_functions; i++)
		if (p->fn[i].devfn == devfn)
			return &p->fn[i];
	return NULL;
}

uint32_t vpci_config_read(struct vpci *p, unsigned devfn, unsigned reg, unsigned size)
{
	struct vpci_function *f = find_function(p, devfn);
	p->config_reads++;
	if (!f)
		return 0xffffffffu;
	uint32_t v = 0;
	for (unsigned i = 0; i < size && reg + i < 256; i++)
		v |= (uint32_t)f->cfg[reg + i] << (8 * i);
	return v;
}

/* The bus master's ports: where BAR4 says while I/O decode is on. */
static uint32_t bm_port_read(void *dev, uint16_t port, unsigned size)
{
	struct vpci *p = dev;
	const struct vpci_function *f = find_function(p, PCI_DEVFN_PIIX3_IDE);
	if (!f || !(f->cfg[PCI_COMMAND] & PCI_COMMAND_IO) || p->bm_stuck)
		return 0xffffffffu;
	return piix_ide_bm_read(p->ide, port - p->bm_base, size);
}

static void bm_port_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vpci *p = dev;
	const struct vpci_function *f = find_function(p, PCI_DEVFN_PIIX3_IDE);
	if (!f || !(f->cfg[PCI_COMMAND] & PCI_COMMAND_IO) || p->bm_stuck)
		return;
	piix_ide_bm_write(p->ide, port - p->bm_base, size, val);
}

/* After a write to the IDE function: put the bus-master range where BAR4
 * now points. A BAR on top of another device's ports (or past 0xFFFF)
 * leaves the bus master unreachable until the guest moves it somewhere
 * free, as a real conflict would make it useless. */
static void ide_bar_update(struct vpci *p, const struct vpci_function *f)
{
	uint32_t bar = get32(f->cfg, PCI_BASE_ADDRESS_4) & ~0xfu;
	if (!(f->cfg[PCI_COMMAND] & PCI_COMMAND_IO) || bar == 0 || bar == p->bm_base)
		return;
	if (bar + BM_IO_SIZE > 0x10000 || !p->bus) {
		p->bm_stuck = true;
		return;
	}
	int err;
	if (!p->bm_base) {
		struct io_range r = { .base = (uint16_t)bar, .count = BM_IO_SIZE, .name = "ide bus master",
				      .dev = p, .read = bm_port_read, .write = bm_port_write };
		err = iobus_register(p->bus, &r);
	} else {
		err = iobus_move(p->bus, p, p->bm_base, (uint16_t)bar);
	}
	p->bm_stuck = err != 0;
	if (!err)
		p->bm_base = (uint16_t)bar;
}

void vpci_config_write(struct vpci *p, unsigned devfn, unsigned reg, unsigned size, uint32_t val)
{
	struct vpci_function *f = find_function(p, devfn);
	p->config_writes++;
	if (!f)
		return; /* configuration writes to absent functions are dropped */
	for (unsigned i = 0; i < size && reg + i < 256; i++) {
		uint8_t m = f->wmask[reg + i];
		f->cfg[reg + i] = (uint8_t)((f->cfg[reg + i] & ~m) | ((val >> (8 * i)) & m));
	}
	if (devfn == PCI_DEVFN_PIIX3_IDE)
		ide_bar_update(p, f);
}

static uint32_t pci_read(void *dev, uint16_t port, unsigned size)
{
	struct vpci *p = dev;
	if (port == PCI_CONFIG_ADDRESS && size == 4)
		return p->address;
	if (port == 0xcf9 && size == 1)
		return p->rcr;
	if (port >= PCI_CONFIG_DATA) {
		/* Bus 0 only; the low address bits pick the byte lanes. */
		if (!(p->address & PCI_CONFIG_ENABLE) || (p->address >> 16 & 0xff)) {
			p->config_reads++;
			return 0xffffffffu;
		}
		return vpci_config_read(p, p->address >> 8 & 0xff, (p->address & 0xfc) + (port & 3), size);
	}
	return 0xffffffffu;
}

static void pci_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vpci *p = dev;
	if (port == PCI_CONFIG_ADDRESS && size == 4) {
		p->address = val & 0x80fffffcu;
	} else if (port == 0xcf9 && size == 1) {
		/* Reset control register: RST_CPU (bit 2) performs the reset
		 * selected by SYS_RST (bit 1); either way the guest restarts. */
		p->rcr = (uint8_t)(val & 0x0a);
		if (val & 0x04)
			guest_events_reset(p->events, "port 0xCF9 reset");
	} else if (port >= PCI_CONFIG_DATA && (p->address & PCI_CONFIG_ENABLE) && !(p->address >> 16 & 0xff)) {
		vpci_config_write(p, p->address >> 8 & 0xff, (p->address & 0xfc) + (port & 3), size, val);
	}
}

int vpci_register(struct vpci *p, struct io_bus *bus)
{
	struct io_range r = { .base = PCI_CONFIG_ADDRESS, .count = 8, .name = "pci config", .dev = p,
			      .read = pci_read, .write = pci_write };
	p->bus = bus;
	return iobus_register(bus, &r);
}
