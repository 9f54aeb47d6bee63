/*
 * A guest's device set (see include/keel/guest_devices.h). The wiring is
 * that of a PC: the 8259 pair takes every ISA IRQ line, the PIT is IRQ 0,
 * the 8042 IRQ 1, COM1 IRQ 4, the RTC IRQ 8 and the ATA channel IRQ 14.
 */
#include <keel/guest_devices.h>

int guest_devices_init(struct guest *g, const struct vrtc_time *boot_time)
{
	iobus_init(&g->io);

	vpic_init(&g->pic);
	struct irq_line irq = vpic_irq_line(&g->pic);
	vpit_init(&g->pit, &g->clock, irq);
	vrtc_init(&g->rtc, &g->clock, irq, boot_time);
	vrtc_set_memory(&g->rtc, g->ram_size, 0);
	vuart_init(&g->uart, 0x3f8, 4, irq, &g->out);
	vkbc_init(&g->kbc, irq, &g->events);
	struct vata_disk disk = { g->disk, g->disk_bytes / 512, "KEEL HARDDISK" };
	vata_init(&g->ata, &disk, irq, 14);
	debugport_init(&g->dbg, &g->dbg_out, &g->events);
	vpci_init(&g->pci, &g->events);

	/* fw_cfg: no boot menu, SeaBIOS's screen on COM1 (see hvm/fwcfg.c). */
	fwcfg_init(&g->fwcfg);
	uint16_t zero16 = 0, ncpu = (uint16_t)g->nr_vcpus, sercon = 0x3f8;
	uint64_t ram = g->ram_size;
	uint8_t zero8 = 0;
	int err = fwcfg_add_bytes(&g->fwcfg, FW_CFG_BOOT_MENU, &zero16, 2) |
		  fwcfg_add_bytes(&g->fwcfg, FW_CFG_NB_CPUS, &ncpu, 2) |
		  fwcfg_add_bytes(&g->fwcfg, FW_CFG_MAX_CPUS, &ncpu, 2) |
		  fwcfg_add_bytes(&g->fwcfg, FW_CFG_RAM_SIZE, &ram, 8) |
		  fwcfg_add_file(&g->fwcfg, "etc/sercon-port", &sercon, 2) |
		  fwcfg_add_file(&g->fwcfg, "etc/screen-and-debug", &zero8, 1);

	err |= vpic_register(&g->pic, &g->io) | vpit_register(&g->pit, &g->io) | vrtc_register(&g->rtc, &g->io) |
	       vuart_register(&g->uart, &g->io) | vkbc_register(&g->kbc, &g->io) | vata_register(&g->ata, &g->io) |
	       debugport_register(&g->dbg, &g->io) | vpci_register(&g->pci, &g->io) |
	       fwcfg_register(&g->fwcfg, &g->io);
	g->devices_dirty = true;
	return err ? -1 : 0;
}

uint64_t guest_devices_update(struct guest *g, uint64_t now)
{
	if (!g->devices_dirty && now < g->next_deadline_ns)
		return g->next_deadline_ns;
	g->devices_dirty = false;
	vpit_update(&g->pit);
	vrtc_update(&g->rtc);
	uint64_t d = vpit_next_deadline_ns(&g->pit);
	uint64_t r = vrtc_next_deadline_ns(&g->rtc);
	g->next_deadline_ns = MIN(d, r);
	return g->next_deadline_ns;
}
