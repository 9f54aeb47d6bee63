/*
 * A guest's device set (see include/keel/guest_devices.h). The wiring is
 * that of a PC: the 8259 pair takes every ISA IRQ line, the PIT is IRQ 0,
 * the 8042 IRQ 1, COM1 IRQ 4, the RTC IRQ 8, the ACPI SCI IRQ 9 and the ATA
 * channel IRQ 14.
 */
#include <keel/guest_devices.h>

int guest_devices_init(struct guest *g, const struct vrtc_time *boot_time, const struct vlapic_bus_ops *apic_ops)
{
	iobus_init(&g->io);

	/* Every ISA IRQ goes to both the 8259A pair and the I/O APIC (which
	 * starts masked), as on a PC; the local APICs join the bus as the
	 * vCPUs are created. */
	vpic_init(&g->pic);
	vlapic_bus_init(&g->apic_bus, apic_ops, g);
	vioapic_init(&g->ioapic, &g->apic_bus);
	g->ioapic_levels_stale = true;
	g->irq_router = (struct virq_router){ .pic = &g->pic, .ioapic = &g->ioapic, .moved = &g->devices_dirty };
	struct irq_line irq = virq_line(&g->irq_router);
	vpit_init(&g->pit, &g->clock, irq);
	vrtc_init(&g->rtc, &g->clock, irq, boot_time);
	vrtc_set_memory(&g->rtc, g->ram.below_4g, g->ram.above_4g);
	g->rtc_alarms_seen = 0;
	vpm_init(&g->pm, &g->clock, irq, &g->events);
	vuart_init(&g->uart, 0x3f8, 4, irq, &g->out);
	vkbc_init(&g->kbc, irq, &g->events);
	/* A guest booted from a kernel has no disk: no ATA device at all. */
	struct vata_disk disk = { g->disk, g->disk_bytes / 512, "KEEL HARDDISK" };
	vata_init(&g->ata, &disk, irq, 14);
	debugport_init(&g->dbg, &g->dbg_out, &g->events);
	vpci_init(&g->pci, &g->events);
	/* A disk comes with the PCI platform: the PIIX3 IDE function is the
	 * ATA channel above, with a bus master for DMA (hvm/dev/vpci.c). */
	if (g->disk)
		vpci_add_piix(&g->pci, &g->ata, &g->dma);

	/* fw_cfg: no boot menu, SeaBIOS's screen on COM1 (see hvm/dev/fwcfg.c). */
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
	       vuart_register(&g->uart, &g->io) | vkbc_register(&g->kbc, &g->io) |
	       (g->disk ? vata_register(&g->ata, &g->io) : 0) |
	       debugport_register(&g->dbg, &g->io) | vpci_register(&g->pci, &g->io) |
	       (g->acpi_pm ? vpm_register(&g->pm, &g->io) : 0) |
	       fwcfg_register(&g->fwcfg, &g->io);
	if (g->testdev_mem) {
		testdev_init(&g->testdev, irq, g->testdev_mem);
		err |= testdev_register(&g->testdev, &g->io);
	}
	g->devices_dirty = true;
	return err ? -1 : 0;
}

/* True if no vCPU of g can react to a timer interrupt: each is stopped,
 * waits for a start-up IPI, or halted with interrupts off (cli; hlt). Only
 * an IPI from another of its vCPUs can change that, and the scheduler then
 * marks the devices dirty (sched_wake). Such a guest's timers need not
 * wake any CPU: a guest that programmed its PIT to the fastest rate and then
 * halted would otherwise keep the CPUs busy for nothing, slowing every
 * other guest. */
static bool guest_deaf(const struct guest *g)
{
	for (unsigned i = 0; i < g->nr_vcpus; i++) {
		const struct vcpu *v = &g->vcpus[i];
		if (v->state == VCPU_RUNNABLE || (v->state == VCPU_HALTED && v->halted_if))
			return false;
	}
	return g->nr_vcpus > 0;
}

/* The PIT's IRQ 0 is already waiting in the master 8259A (and the I/O APIC
 * does not route it): further ticks would only be coalesced into it, so
 * they need not wake anyone until the guest takes it (an interrupt
 * acknowledge or a port access marks the devices dirty). A guest spinning
 * with interrupts off and its PIT at the fastest rate costs nothing then. */
static bool pit_tick_pending(const struct guest *g)
{
	return vpic_irq_requested(&g->pic, 0) && vioapic_pin_masked(&g->ioapic, 2);
}

void guest_devices_deadline_at(struct guest *g, uint64_t deadline_ns)
{
	if (deadline_ns < g->next_deadline_ns)
		g->next_deadline_ns = deadline_ns;
}

/* The local APIC timers, fired where due (a write to one marks the guest
 * dirty); returns the guest's next deadline, the earliest of theirs and
 * `platform` (the PIT's and the RTC's), and records it. */
static uint64_t lapic_timers_update(struct guest *g, uint64_t platform)
{
	uint64_t d = platform;
	for (unsigned i = 0; i < g->nr_vcpus; i++) {
		vlapic_update(&g->vcpus[i].lapic);
		d = MIN(d, vlapic_next_deadline_ns(&g->vcpus[i].lapic));
	}
	/* Clean only now: an interrupt raised above wakes its vCPU through
	 * the APIC bus, which marks the guest dirty (sched_wake), for what
	 * this update has just taken into account. Left dirty, the next exit
	 * of the vCPU (Linux rearming its timer right after the tick) could
	 * never resume directly. */
	g->devices_dirty = false;
	g->next_deadline_ns = d;
	return d;
}

bool guest_devices_apic_timers_tick(struct guest *g, uint64_t now, uint64_t *next)
{
	/* guest_devices_update's deadlines, but only the local APICs' are
	 * updated: the PIT's and the RTC's are as the last update left them
	 * (only a port access moves them, and it marks the guest dirty; one
	 * computed from the clock then is if anything early, which only
	 * sends this tick the long way). */
	uint64_t d = g->platform_deadline_ns;
	if (g->devices_dirty || d <= now)
		return false;
	*next = lapic_timers_update(g, d);
	return true;
}

/* ACPI sees the RTC's alarms (RTC_STS, and the wake from S3). */
static void rtc_alarm_to_pm(struct guest *g)
{
	if (g->rtc.alarms != g->rtc_alarms_seen) {
		g->rtc_alarms_seen = g->rtc.alarms;
		vpm_rtc_alarm(&g->pm);
	}
}

uint64_t guest_devices_update(struct guest *g, uint64_t now)
{
	if (!g->devices_dirty && now < g->next_deadline_ns)
		return g->next_deadline_ns;
	if (guest_deaf(g)) {
		g->devices_dirty = false;
		/* Suspended to RAM with its RTC alarm as a wake event: only
		 * the RTC needs watching. */
		uint64_t d = NO_DEADLINE;
		if (vpm_wake_armed(&g->pm)) {
			vrtc_update(&g->rtc);
			rtc_alarm_to_pm(g);
			d = vrtc_next_deadline_ns(&g->rtc);
		}
		g->next_deadline_ns = g->platform_deadline_ns = d;
		return d;
	}
	vpit_update(&g->pit);
	vrtc_update(&g->rtc);
	rtc_alarm_to_pm(g);
	uint64_t d = pit_tick_pending(g) ? NO_DEADLINE : vpit_next_deadline_ns(&g->pit);
	d = MIN(d, vrtc_next_deadline_ns(&g->rtc));
	g->platform_deadline_ns = d;
	return lapic_timers_update(g, d);
}
