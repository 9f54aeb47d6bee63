/* ATA disk model, with SeaBIOS's detection and transfer sequences
 * (src/hw/ata.c) and the error paths a hostile guest would try. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fakes.h"
#include <keel/iobus.h>
#include <keel/vata.h>

#define SECTORS 8192
static struct io_bus bus;
static struct vata ata;
static struct fake_irq irq;
static uint8_t *disk;

static void out(uint16_t port, uint8_t v) { iobus_write(&bus, port, 1, v); }
static uint8_t in(uint16_t port) { return (uint8_t)iobus_read(&bus, port, 1); }

static void setup(void)
{
	free(disk);
	disk = malloc(SECTORS * 512);
	for (unsigned i = 0; i < SECTORS * 512; i++)
		disk[i] = (uint8_t)(i * 7 + i / 512);
	iobus_init(&bus);
	struct vata_disk d = { disk, SECTORS, "TEST DISK" };
	vata_init(&ata, &d, fake_irq_line(&irq), 14);
	assert_int_equal(vata_register(&ata, &bus), 0);
}

/* rep insw through the string fast path, as the I/O exit handler does. */
static uint32_t insw(uint16_t *buf, uint32_t n)
{
	const struct io_range *r = iobus_find(&bus, 0x1f0);
	return r->read_string(r->dev, 0x1f0, 2, buf, n);
}

static void test_seabios_detect_and_identify(void **state)
{
	setup();
	assert_int_equal(in(0x1f7), 0x50); /* DRDY|DSC, not busy */
	/* No device 1: selected, it reads zero and ignores commands. */
	out(0x1f6, 0xb0);
	assert_int_equal(in(0x1f6), 0xb0);
	out(0x1f2, 0x55);
	out(0x1f3, 0xaa);
	assert_int_equal(in(0x1f2), 0x00);
	assert_int_equal(in(0x1f7), 0x00);
	assert_int_equal(in(0x3f6), 0x00);
	/* Device 0: registers read back. */
	out(0x1f6, 0xa0);
	out(0x1f2, 0x55);
	out(0x1f3, 0xaa);
	assert_int_equal(in(0x1f2), 0x55);
	assert_int_equal(in(0x1f3), 0xaa);
	/* Software reset, then the ATA signature. */
	out(0x3f6, 0x0e);
	assert_true(in(0x3f6) & 0x80);
	out(0x3f6, 0x0a);
	assert_int_equal(in(0x1f7), 0x50);
	assert_int_equal(in(0x1f2), 1);
	assert_int_equal(in(0x1f4), 0);
	assert_int_equal(in(0x1f5), 0);
	out(0x3f6, 0x08);
	/* IDENTIFY PACKET must abort on a hard disk. */
	out(0x1f7, 0xa1);
	assert_int_equal(in(0x1f7), 0x41);
	assert_int_equal(in(0x1f1), 0x04);
	/* IDENTIFY. */
	out(0x1f7, 0xec);
	assert_int_equal(in(0x1f7), 0x58);
	uint16_t id[256];
	assert_int_equal(insw(id, 256), 256);
	assert_int_equal(in(0x1f7), 0x50);
	assert_int_equal(id[1], SECTORS / 1008);
	assert_int_equal(id[3], 16);
	assert_int_equal(id[6], 63);
	assert_int_equal(id[60] | (uint32_t)id[61] << 16, SECTORS);
	assert_true(id[83] & (1 << 10));
	assert_int_equal(id[100], SECTORS);
	assert_int_equal(id[27], ('T' << 8) | 'E'); /* byte-swapped ASCII */
	uint8_t sum = 0;
	for (int i = 0; i < 512; i++)
		sum += ((uint8_t *)id)[i];
	assert_int_equal(sum, 0);
	assert_int_equal(id[255] & 0xff, 0xa5);
}

static void read28(uint32_t lba, uint8_t count)
{
	out(0x1f6, 0xe0 | (lba >> 24));
	out(0x1f1, 0);
	out(0x1f2, count);
	out(0x1f3, (uint8_t)lba);
	out(0x1f4, (uint8_t)(lba >> 8));
	out(0x1f5, (uint8_t)(lba >> 16));
	out(0x1f7, 0x20);
}

static void test_read_sectors_status_per_block(void **state)
{
	setup();
	read28(0, 3);
	uint8_t buf[3 * 512];
	for (int s = 0; s < 3; s++) {
		assert_int_equal(in(0x1f7) & 0x89, 0x08); /* DRQ, not BSY/ERR */
		assert_int_equal(insw((uint16_t *)(buf + s * 512), 256), 256);
		(void)in(0x3f6);
	}
	assert_int_equal(in(0x1f7) & 0x89, 0x00);
	assert_memory_equal(buf, disk, sizeof(buf));
	/* The same through single 16-bit reads (no fast path). */
	read28(100, 1);
	for (int i = 0; i < 256; i++) {
		uint16_t w = (uint16_t)iobus_read(&bus, 0x1f0, 2);
		assert_int_equal(w, disk[100 * 512 + 2 * i] | disk[100 * 512 + 2 * i + 1] << 8);
	}
	assert_int_equal(in(0x1f7), 0x50);
	assert_int_equal(ata.sectors_read, 4);
}

static void test_lba48_and_write(void **state)
{
	setup();
	/* WRITE SECTORS EXT of 2 sectors at LBA 5000: HOB bytes first. */
	out(0x1f2, 0);
	out(0x1f3, 0);
	out(0x1f4, 0);
	out(0x1f5, 0);
	out(0x1f2, 2);
	out(0x1f3, 5000 & 0xff);
	out(0x1f4, 5000 >> 8);
	out(0x1f5, 0);
	out(0x1f6, 0xe0);
	out(0x1f7, 0x34);
	assert_int_equal(in(0x1f7) & 0x89, 0x08);
	for (int i = 0; i < 512; i++)
		iobus_write(&bus, 0x1f0, 2, 0xbeef);
	assert_int_equal(in(0x1f7), 0x50);
	assert_int_equal(disk[5000 * 512], 0xef);
	assert_int_equal(disk[5002 * 512 - 1], 0xbe);
	assert_int_equal(disk[5002 * 512], (uint8_t)(5002 * 512 * 7 + 5002)); /* untouched */
	/* HOB readback. */
	out(0x3f6, 0x80);
	assert_int_equal(in(0x1f2), 0);
	out(0x3f6, 0x00);
	assert_int_equal(in(0x1f2), 2);
}

static void test_multiple_mode(void **state)
{
	setup();
	out(0x1f2, 4);
	out(0x1f7, 0xc4); /* READ MULTIPLE before SET MULTIPLE: abort */
	assert_int_equal(in(0x1f7) & 0x01, 0x01);
	out(0x1f2, 3);
	out(0x1f7, 0xc6); /* not a power of two */
	assert_int_equal(in(0x1f1), 0x04);
	out(0x1f2, 4);
	out(0x1f7, 0xc6);
	assert_int_equal(in(0x1f7), 0x50);
	read28(8, 6);
	out(0x1f7, 0xc4);
	uint8_t buf[6 * 512];
	assert_int_equal(insw((uint16_t *)buf, 4 * 256), 4 * 256); /* one DRQ block of 4 */
	assert_int_equal(in(0x1f7) & 0x89, 0x08);
	assert_int_equal(insw((uint16_t *)(buf + 2048), 2 * 256), 2 * 256);
	assert_int_equal(in(0x1f7), 0x50);
	assert_memory_equal(buf, disk + 8 * 512, sizeof(buf));
}

static void test_out_of_range_never_touches_memory(void **state)
{
	setup();
	read28(SECTORS - 1, 2); /* runs past the end */
	assert_int_equal(in(0x1f7) & 0x09, 0x01);
	assert_int_equal(in(0x1f1), 0x14); /* IDNF|ABRT */
	read28(0x0fffffff, 1);
	assert_int_equal(in(0x1f7) & 0x01, 0x01);
	/* No data phase after an error: reads float, writes are dropped. */
	assert_int_equal(iobus_read(&bus, 0x1f0, 2), 0xffff);
	out(0x1f6, 0xe0);
	out(0x1f2, 0); /* LBA28 count 0 = 256 sectors from near the end */
	out(0x1f3, 0xff);
	out(0x1f4, (SECTORS - 10) >> 8);
	out(0x1f5, 0);
	out(0x1f7, 0x30);
	assert_int_equal(in(0x1f7) & 0x01, 0x01);
	/* CHS out of geometry. */
	out(0x1f6, 0xa0 | 15);
	out(0x1f3, 64);
	out(0x1f2, 1);
	out(0x1f7, 0x20);
	assert_int_equal(in(0x1f7) & 0x01, 0x01);
	/* Unknown command: abort, counted. */
	out(0x1f6, 0xa0);
	out(0x1f7, 0xff);
	assert_int_equal(in(0x1f1), 0x04);
	assert_int_equal(ata.unknown_commands, 1);
}

static void test_irq14_and_nien(void **state)
{
	setup();
	out(0x3f6, 0x0a); /* SeaBIOS: nIEN around the command ... */
	read28(0, 1);
	assert_int_equal(irq.level[14], 0);
	out(0x3f6, 0x08); /* ... then interrupts on again: the pending one shows */
	assert_int_equal(irq.level[14], 1);
	(void)in(0x3f6); /* alternate status does not acknowledge */
	assert_int_equal(irq.level[14], 1);
	(void)in(0x1f7);
	assert_int_equal(irq.level[14], 0);
	uint16_t b[256];
	insw(b, 256);
	read28(0, 1); /* interrupts enabled: raised at once */
	assert_int_equal(irq.level[14], 1);
	out(0x3f6, 0x0a);
	assert_int_equal(irq.level[14], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seabios_detect_and_identify),
		cmocka_unit_test(test_read_sectors_status_per_block),
		cmocka_unit_test(test_lba48_and_write),
		cmocka_unit_test(test_multiple_mode),
		cmocka_unit_test(test_out_of_range_never_touches_memory),
		cmocka_unit_test(test_irq14_and_nien),
	};
	int rc = cmocka_run_group_tests_name("vata", tests, NULL, NULL);
	free(disk);
	return rc;
}
