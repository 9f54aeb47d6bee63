/*
 * libFuzzer harness for the ATA disk model (hvm/dev/vata.c) and its PIIX3
 * bus master (hvm/dev/piix_ide.c): task-file values, commands, PIO data
 * transfers in every width, software resets, bus-master registers and PRD
 * tables for DMA, with a small disk image and a shadow copy of what the
 * disk must hold.
 *
 * Input: a 1-byte header, then operations.
 *   header[0]  disk size: disk_sectors[b % N]; the image is a heap block of
 *              exactly that size, so AddressSanitizer reports any access
 *              outside it
 *   then each operation is an opcode byte (taken % 10) and its operands:
 *     0 F R[6]   task file: R = feature, count, sector, cyl low, cyl high,
 *                select, written to 0x1F1-0x1F6; with F bit 0 each of the
 *                first five is written twice (the first value becomes the
 *                HOB byte, as LBA48 commands need)
 *     1 C        command C: an index into commands[] below, or the raw
 *                byte when C >= 0xE0
 *     2 S N16    N16 % 1100 + 1 single reads of the data port, size 1/2/4 (S)
 *     3 S N16    the same as one string transfer (rep insb/insw/insd)
 *     4 S N16 [data]  single writes of the data port
 *     5 S N16 [data]  one string write (rep outs)
 *     6 V        device control 0x3F6 (nIEN, SRST, HOB)
 *     7 P        read a register: 0x1F1-0x1F7 or 0x3F6 (P % 8)
 *     8 R V32    bus-master register write: offset R % 16, size 1/2/4 by
 *                (R >> 4) % 3, value V32 (start, direction, status, PRD)
 *     9 I A32 C16 F  PRD entry I % 16 of the table at 0x1000 in the 64 KiB
 *                of "guest RAM": address A32 (mostly inside RAM: F bit 1
 *                clear takes A32 % 64 KiB), byte count C16, end of table
 *                when F bit 0
 *
 * Checked after every operation, besides the model's own invariants
 * (tests/fuzz/device_invariants.h):
 *   - a data block ready to be read holds the disk's sectors at the LBA
 *     being read, as the shadow copy has them;
 *   - the only sectors that change are the ones a write command completed;
 *   - IDENTIFY data has its signature, checksum and the disk's capacity;
 *   - DMA reaches guest RAM only through the accessor, which refuses any
 *     byte outside it (AddressSanitizer watches the 64 KiB block).
 *
 *   make build/fuzz/fuzz_ata
 *   build/fuzz/fuzz_ata -max_total_time=60 tests/fuzz/corpus/ata
 */
#include <stdlib.h>
#include <string.h>

#include <keel/iobus.h>
#include <keel/vata.h>

#include "device_invariants.h"
#include "fuzz_input.h"

static const uint32_t disk_sectors[] = { 1, 2, 3, 16, 17, 63, 64, 65, 100, 1009 };
#define MAX_SECTORS 1009

/* What firmware and boot loaders send, plus neighbours of each. */
static const uint8_t commands[] = {
	0xec, 0xa1, 0x20, 0x21, 0x24, 0x29, 0xc4, 0x30, 0x31, 0x34, 0x39, 0xc5, 0xc6, 0x40, 0x41,
	0x42, 0xe5, 0x90, 0x91, 0xef, 0xe7, 0xea, 0xe0, 0xe1, 0xe2, 0xe3, 0x00, 0x10, 0x1f, 0x70,
	0x7f, 0xc8, 0xca, 0x25, 0x35, 0xa0, 0xf8, 0x27, 0x08, 0xe6,
};

static struct io_bus bus;
static struct vata ata;
static uint8_t *disk, *shadow;
static uint32_t sectors;

static void irq_set(void *ctx, unsigned irq, int level) { require(irq == 14); }

#define RAM_SIZE 0x10000u
static uint8_t *ram;

static bool ram_covers(void *ctx, uint64_t gpa, uint64_t len) { return gpa < RAM_SIZE && len <= RAM_SIZE - gpa; }

static bool ram_read(void *ctx, uint64_t gpa, void *dst, uint64_t len)
{
	if (!ram_covers(ctx, gpa, len))
		return false;
	memcpy(dst, ram + gpa, len);
	return true;
}

static bool ram_write(void *ctx, uint64_t gpa, const void *src, uint64_t len)
{
	if (!ram_covers(ctx, gpa, len))
		return false;
	memcpy(ram + gpa, src, len);
	return true;
}

static void complain(void *ctx, const char *text) { require(text[0] && !strchr(text, '\n')); }

static const struct dma_mem dma = { ram_read, ram_write, complain, NULL, ram_covers };

/* IDENTIFY DEVICE data as the model holds it when the command completes. */
static void check_identify(const struct vata *a)
{
	const uint8_t *b = a->buf;
	uint8_t sum = 0;
	for (int i = 0; i < 512; i++)
		sum += b[i];
	require(sum == 0 && b[510] == 0xa5);
	uint32_t lba28 = (uint32_t)(b[120] | b[121] << 8 | b[122] << 16 | (uint32_t)b[123] << 24);
	uint64_t lba48 = 0;
	for (int i = 7; i >= 0; i--)
		lba48 = lba48 << 8 | b[200 + i];
	require(lba28 == sectors && lba48 == sectors);
}

static void check_transfer(const struct vata *a, unsigned op, uint64_t written_before)
{
	/* Sectors completed by a write since the last operation: the model
	 * advances its LBA past each. They end at the LBA now, wherever they
	 * began: a DMA write issued to a bus master already started moves its
	 * data during the command, from the LBA the command itself set. */
	uint64_t n = a->sectors_written - written_before;
	if (n) {
		require(n <= a->lba && a->lba <= sectors);
		uint64_t first = a->lba - n;
		memcpy(shadow + first * 512, disk + first * 512, n * 512);
	}
	if (op == 1 || op == 4 || op == 5 || op == 8) /* the operations that could write */
		require(memcmp(disk, shadow, (size_t)sectors * 512) == 0);
	/* A read block that has not been touched yet is the disk's data. */
	if ((a->status & ATA_ST_DRQ) && !a->writing && !a->identify && a->pos == 0)
		require(memcmp(a->buf, shadow + a->lba * 512, a->end) == 0);
}

static void data_ops(struct fuzz_input *in, unsigned op)
{
	unsigned size = 1u << (fin_u8(in) % 3);
	uint32_t n = fin_u16(in) % 1100 + 1;
	size_t bytes = (size_t)n * size;
	uint8_t *buf = malloc(bytes);
	if (op >= 4)
		fin_bytes(in, buf, bytes);
	else
		memset(buf, 0xcc, bytes);
	switch (op) {
	case 2:
		for (uint32_t i = 0; i < n; i++) {
			uint32_t v = iobus_read(&bus, 0x1f0, size);
			memcpy(buf + (size_t)i * size, &v, size);
		}
		break;
	case 3:
		for (uint32_t done = 0; done < n;) {
			uint32_t k = iobus_read_string(&bus, 0x1f0, size, buf + (size_t)done * size, n - done);
			require(k >= 1 && k <= n - done);
			done += k;
		}
		break;
	case 4:
		for (uint32_t i = 0; i < n; i++) {
			uint32_t v = 0;
			memcpy(&v, buf + (size_t)i * size, size);
			iobus_write(&bus, 0x1f0, size, v);
		}
		break;
	case 5:
		for (uint32_t done = 0; done < n;) {
			uint32_t k = iobus_write_string(&bus, 0x1f0, size, buf + (size_t)done * size, n - done);
			require(k >= 1 && k <= n - done);
			done += k;
		}
		break;
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	sectors = disk_sectors[fin_u8(&in) % (sizeof(disk_sectors) / sizeof(disk_sectors[0]))];
	static uint8_t *pristine;
	if (!pristine) { /* every byte differs from its neighbours, every sector from the next */
		pristine = malloc(MAX_SECTORS * 512);
		for (size_t i = 0; i < MAX_SECTORS * 512; i++)
			pristine[i] = (uint8_t)(i * 7 + (i >> 9));
	}
	disk = malloc((size_t)sectors * 512);
	shadow = malloc((size_t)sectors * 512);
	memcpy(disk, pristine, (size_t)sectors * 512);
	memcpy(shadow, pristine, (size_t)sectors * 512);

	iobus_init(&bus);
	struct vata_disk d = { disk, sectors, "FUZZ DISK" };
	vata_init(&ata, &d, (struct irq_line){ irq_set, NULL }, 14);
	require(vata_register(&ata, &bus) == 0);
	ram = calloc(1, RAM_SIZE);
	vata_attach_dma(&ata, &dma);

	while (in.left) {
		uint64_t written_before = ata.sectors_written;
		unsigned op = fin_u8(&in) % 10;
		switch (op) {
		case 0: {
			bool twice = fin_u8(&in) & 1;
			for (uint16_t port = 0x1f1; port <= 0x1f6; port++) {
				if (twice && port != 0x1f6)
					iobus_write(&bus, port, 1, fin_u8(&in));
				iobus_write(&bus, port, 1, fin_u8(&in));
			}
			break;
		}
		case 1: {
			uint8_t c = fin_u8(&in);
			uint8_t cmd = c >= 0xe0 ? fin_u8(&in) : commands[c % sizeof(commands)];
			iobus_write(&bus, 0x1f7, 1, cmd);
			trace("command %#x\n", cmd);
			if ((ata.status & ATA_ST_DRQ) && ata.identify)
				check_identify(&ata);
			break;
		}
		case 2:
		case 3:
		case 4:
		case 5:
			data_ops(&in, op);
			break;
		case 6:
			iobus_write(&bus, 0x3f6, 1, fin_u8(&in));
			break;
		case 7: {
			static const uint16_t regs[] = { 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7, 0x3f6 };
			require(iobus_read(&bus, regs[fin_u8(&in) % 8], 1) <= 0xff);
			break;
		}
		case 8: {
			uint8_t r = fin_u8(&in);
			uint32_t v = fin_u32(&in);
			unsigned off = r % 16, size = 1u << ((r >> 4) % 3);
			if (off + size > 16)
				size = 1;
			piix_ide_bm_write(&ata, off, size, v);
			require(piix_ide_bm_read(&ata, off, size) <= (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1));
			break;
		}
		case 9: {
			unsigned i = fin_u8(&in) % 16;
			uint32_t a = fin_u32(&in), c = fin_u16(&in);
			uint8_t fl = fin_u8(&in);
			if (!(fl & 2))
				a %= RAM_SIZE;
			uint32_t e[2] = { a, c | ((fl & 1) ? PRD_EOT : 0) };
			memcpy(ram + 0x1000 + 8 * i, e, 8);
			break;
		}
		}
		trace("op %u: status %#x error %#x lba %llu remaining %llu pos %u/%u\n", op, ata.status, ata.error,
		      (unsigned long long)ata.lba, (unsigned long long)ata.remaining, ata.pos, ata.end);
		check_ata(&ata);
		check_transfer(&ata, op, written_before);
	}
	free(disk);
	free(shadow);
	free(ram);
	return 0;
}
