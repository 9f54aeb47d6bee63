/* ATA/IDE primary channel (0x1F0-0x1F7, 0x3F6; IRQ 14) with one hard disk
 * (device 0) backed by a memory image. PIO, and DMA through the PIIX3's
 * bus-master IDE registers (hvm/dev/piix_ide.c) when the guest has a PCI
 * platform. Pure model. */
#ifndef KEEL_VATA_H
#define KEEL_VATA_H

#include <keel/dma_mem.h>
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
	uint8_t xfer_mode; /* SET FEATURES transfer mode: 0x08|PIO n, 0x20|MWDMA n, 0x40|UDMA n */

	/* Bus-master IDE (Intel 82371SB PIIX3 datasheet, 2.7 and 3.1), for
	 * both channels: [0] primary (this disk), [1] secondary (no drive).
	 * NULL mem: no PCI platform, the DMA commands abort. */
	const struct dma_mem *mem;
	uint8_t bm_cmd[2], bm_status[2];
	uint32_t bm_prd[2];
	bool dma_pending; /* a DMA command waits for the bus master's start bit */
	uint64_t dma_commands, dma_errors;
};

/* Bus-master IDE register offsets (from BAR4) and bits. */
#define BM_CMD 0x0
#define BM_STATUS 0x2
#define BM_PRD 0x4
#define BM_CHANNEL_STRIDE 0x8
#define BM_IO_SIZE 16
#define BM_CMD_START 0x01
#define BM_CMD_READ 0x08 /* "read/write control": 1 = the bus master writes memory (a device read) */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_INTR 0x04
#define BM_ST_DMA_CAP 0x60 /* drive 0/1 DMA capable: software's bits */
/* One physical region descriptor: base (bit 0 zero), byte count (0 means
 * 64 KiB; bit 0 zero) and end of table in bit 31 of the second dword. */
#define PRD_EOT 0x80000000u
/* A PRD table may not cross a 64 KiB boundary: at most 8192 entries. */
#define PRD_MAX_ENTRIES 8192

void vata_init(struct vata *a, const struct vata_disk *disk, struct irq_line irq, unsigned irq_no);
int vata_register(struct vata *a, struct io_bus *bus);
/* Gives the channel a bus master (DMA commands allowed from then on). */
void vata_attach_dma(struct vata *a, const struct dma_mem *mem);
/* The bus-master IDE registers, at offset off (0-15) of BAR4. */
uint32_t piix_ide_bm_read(struct vata *a, unsigned off, unsigned size);
void piix_ide_bm_write(struct vata *a, unsigned off, unsigned size, uint32_t val);
/* Runs the pending DMA command if the bus master is started (vata.c; the
 * bus master calls it when the guest sets the start bit). */
void vata_dma_kick(struct vata *a);
/* Moves len bytes between disk (the command's sectors) and the memory the
 * primary channel's PRD table describes, and sets the bus-master status as
 * the PIIX3 does at the end (piix_ide.c). to_memory: a device read. 0, or
 * -1 if the guest's PRD table or direction is bad (the status says error;
 * the guest was told why through mem->complain). */
int piix_ide_dma_transfer(struct vata *a, uint8_t *disk, uint64_t len, bool to_memory);
/* CHS geometry reported in IDENTIFY (16 heads, 63 sectors per track). */
void vata_geometry(uint64_t sectors, unsigned *cyls, unsigned *heads, unsigned *spt);

#endif
