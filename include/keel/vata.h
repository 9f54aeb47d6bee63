/* ATA/IDE primary channel (0x1F0-0x1F7, 0x3F6; IRQ 14) with one hard disk
 * (device 0) backed by a memory image. PIO only. Pure model. */
#ifndef KEEL_VATA_H
#define KEEL_VATA_H

#include <keel/iobus.h>
#include <keel/irq.h>

#define VATA_MAX_MULTIPLE 16

struct vata_disk {
	uint8_t *data;
	uint64_t sectors;
	const char *model;
};

struct vata {
	struct vata_disk disk;
	struct irq_line irq;
	unsigned irq_no;
	/* Task file; hob_* hold the previous ("high order") bytes (LBA48). */
	uint8_t feature, nsector, sector, lcyl, hcyl, select, status, error, devctl;
	uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
	bool irq_pending, irq_level, in_reset;
	/* PIO transfer in progress. */
	uint8_t buf[512 * VATA_MAX_MULTIPLE];
	uint32_t pos, end;      /* bytes of buf in this DRQ block */
	uint64_t lba, remaining; /* next sector to move, sectors left */
	unsigned block;          /* sectors per DRQ block */
	bool writing, identify;
	unsigned multiple;       /* SET MULTIPLE MODE value, 0 = off */
	uint64_t sectors_read, sectors_written, commands, errors, unknown_commands;
	uint8_t last_command;
};

void vata_init(struct vata *a, const struct vata_disk *disk, struct irq_line irq, unsigned irq_no);
int vata_register(struct vata *a, struct io_bus *bus);
/* CHS geometry reported in IDENTIFY (16 heads, 63 sectors per track). */
void vata_geometry(uint64_t sectors, unsigned *cyls, unsigned *heads, unsigned *spt);

#endif
