/* Bugs the fuzzers (tests/fuzz/) found, each reproduced with the smallest
 * sequence that showed it. docs/security.md lists them. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fakes.h"
#include <keel/debugport.h>
#include <keel/iobus.h>
#include <keel/kernel_image.h>
#include <keel/vata.h>

#include "e820.h"
#include "seabios_info.h"
#include "start_info.h"

/*
 * fuzz_platform: `rep outsb` to the isa-debug-exit port 0xF4. The first
 * byte stops the guest, and guest_stop() frees its RAM at once; the string
 * loop went on reading the freed buffer and calling the stopped guest's
 * devices for every remaining element (heap-use-after-free under ASan).
 */
struct stopping_guest {
	struct fake_guest fg;
	struct io_bus bus;
	uint8_t *ram;
};

static void stop_and_free(void *ctx, int status, const char *why)
{
	struct stopping_guest *s = ctx;
	s->fg.exits++;
	iobus_close(&s->bus); /* what guest_stop() does, then it frees RAM */
	free(s->ram);
	s->ram = NULL;
}

static void test_outs_to_exit_port_stops_at_the_stop(void **state)
{
	static struct stopping_guest s;
	struct debugport d;
	fake_guest_init(&s.fg);
	s.fg.ev.request_exit = stop_and_free;
	s.fg.ev.ctx = &s;
	iobus_init(&s.bus);
	debugport_init(&d, &s.fg.out, &s.fg.ev);
	assert_int_equal(debugport_register(&d, &s.bus), 0);
	s.ram = malloc(6);
	memcpy(s.ram, "\x01\x02\x03\x04\x05\x06", 6);
	uint8_t *page = s.ram;

	uint32_t done = iobus_write_string(&s.bus, DEBUGPORT_EXIT, 1, page, 6);
	assert_int_equal(done, 1);       /* the element that stopped it */
	assert_int_equal(s.fg.exits, 1); /* and nothing after it */
	/* A stopped guest's bus takes nothing more. */
	iobus_write(&s.bus, DEBUGPORT_POST, 1, 0x55);
	assert_int_equal(debugport_last_post(&d), 0);
	assert_int_equal(iobus_read(&s.bus, DEBUGPORT_E9, 1), 0xff);
}

/*
 * fuzz_platform: a command written while the previous command's interrupt
 * was still pending (the guest had not read the status register). The
 * model cleared its "pending" flag but left the IRQ 14 line high, so the
 * interrupt of the new command was no new edge: the PIC (IRQ 14 is edge
 * triggered) never saw it, and a guest waiting for WRITE SECTORS to
 * complete would wait forever.
 */
static void test_ata_command_drops_intrq(void **state)
{
	static uint8_t disk[4 * 512];
	struct fake_irq irq;
	struct io_bus bus;
	struct vata a;
	struct vata_disk d = { disk, 4, "T" };
	iobus_init(&bus);
	vata_init(&a, &d, fake_irq_line(&irq), 14);
	assert_int_equal(vata_register(&a, &bus), 0);

	iobus_write(&bus, 0x1f7, 1, 0xec); /* IDENTIFY: data ready, IRQ */
	assert_int_equal(irq.rises[14], 1);
	for (int i = 0; i < 256; i++)
		(void)iobus_read(&bus, 0x1f0, 2); /* no status read: still pending */
	assert_int_equal(irq.level[14], 1);

	iobus_write(&bus, 0x1f6, 1, 0xe0); /* LBA 0, one sector */
	iobus_write(&bus, 0x1f2, 1, 1);
	for (uint16_t port = 0x1f3; port <= 0x1f5; port++)
		iobus_write(&bus, port, 1, 0);
	iobus_write(&bus, 0x1f7, 1, 0x30); /* WRITE SECTORS */
	assert_int_equal(irq.level[14], 0); /* the command cleared INTRQ */
	for (int i = 0; i < 256; i++)
		iobus_write(&bus, 0x1f0, 2, 0x1234);
	assert_int_equal(irq.rises[14], 2); /* completion: a new edge */
	assert_int_equal(iobus_read(&bus, 0x1f7, 1) & 0x89, 0x00); /* done, no error */
	assert_int_equal(disk[0], 0x34);
}

/*
 * fuzz_loader: seabios_info_check() summed `length` bytes (the table's own
 * field, up to 255) from a 32-byte structure, reading past whatever it was
 * given (heap-buffer-overflow under ASan). It now takes the number of bytes
 * available and rejects a length beyond them.
 */
static void test_seabios_info_length_beyond_buffer(void **state)
{
	struct seabios_info *si = malloc(sizeof(*si)); /* exactly 32 bytes */
	seabios_info_init(si, 0x10400, 0x10000, 3);
	seabios_info_finish(si);
	assert_int_equal(seabios_info_check(si, sizeof(*si)), 0);
	si->length = 200;
	si->checksum -= 200 - 32; /* keep the first 32 bytes summing to zero */
	assert_int_equal(seabios_info_check(si, sizeof(*si)), -2);
	assert_int_equal(seabios_info_check(si, 31), -2);
	free(si);
}

/*
 * fuzz_loader: hvmloader's check of where Keel staged SeaBIOS computed
 * firmware_paddr + firmware_size, which wraps past zero for an address near
 * 2^64, so a staging area "at" 0xFFFFFFFFFFFF0000 passed as inside RAM and
 * hvmloader would have copied from a truncated 32-bit address. RAM below
 * 4 GiB larger than 4 GiB passed too.
 */
static void test_start_info_staging_wraps(void **state)
{
	struct hvmloader_start_info si;
	char err[200];
	uint32_t bios_start = 0;
	memset(&si, 0, sizeof(si));
	si.magic = HVMLOADER_START_MAGIC;
	si.version = HVMLOADER_START_VERSION;
	si.size = sizeof(si);
	si.ram_below_4g = 32u << 20;
	si.firmware_paddr = 0x200000;
	si.firmware_size = 0x40000;
	assert_int_equal(start_info_check(HVMLOADER_START_MAGIC, &si, &bios_start, err, sizeof(err)), 0);
	assert_int_equal(bios_start, 0xc0000);

	si.firmware_paddr = 0xffffffffffff0000ULL;
	si.firmware_size = 0x10000;
	assert_int_equal(start_info_check(HVMLOADER_START_MAGIC, &si, &bios_start, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0xffffffffffff0000"));

	si.firmware_paddr = 0x200000;
	si.ram_below_4g = 1ULL << 40;
	assert_int_equal(start_info_check(HVMLOADER_START_MAGIC, &si, &bios_start, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "past the MMIO hole at 0xe0000000"));
}

/*
 * fuzz_loader: e820_build accepted any ram_above_4g, so RAM "above 4 GiB"
 * of 2^64 - 2^32 + 4096 bytes gave an entry whose end wrapped past zero,
 * a map SeaBIOS would have taken as it was. RAM above 4 GiB must now end
 * within the 52-bit physical address space.
 */
static void test_e820_above_4g_wraps(void **state)
{
	struct e820_entry e[5];
	uint64_t below = 32u << 20;
	assert_int_equal(e820_build(e, 5, below, 0ULL - (1ULL << 32) + 4096, 0xc0000, 0), 0);
	assert_int_equal(e820_build(e, 5, below, (1ULL << 52) - (1ULL << 32) + 1, 0xc0000, 0), 0);
	assert_int_equal(e820_build(e, 5, below, (1ULL << 52) - (1ULL << 32), 0xc0000, 0), 4);
	assert_int_equal(e[3].start + e[3].size, 1ULL << 52);
}

/*
 * kernel_image_kind: an image whose last bytes are the 'HdrS' signature at
 * 0x202 (0x206 bytes long) passed the length check and had its u16 version
 * read at 0x206, two bytes past its end (heap-buffer-overflow under ASan;
 * the fuzz_kernel seed kernel/hdrs-at-end). It is refused with a message.
 */
static void test_kernel_hdrs_at_end(void **state)
{
	const uint32_t len = 0x206;
	uint8_t *img = calloc(1, len); /* exactly its size: ASan sees a read past it */
	assert_non_null(img);
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
	char why[200] = "";
	assert_int_equal(kernel_image_kind(img, len, why, sizeof(why)), KERNEL_UNKNOWN);
	assert_non_null(strstr(why, "ends at 0x206, before the boot protocol version"));
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outs_to_exit_port_stops_at_the_stop),
		cmocka_unit_test(test_ata_command_drops_intrq),
		cmocka_unit_test(test_seabios_info_length_beyond_buffer),
		cmocka_unit_test(test_start_info_staging_wraps),
		cmocka_unit_test(test_e820_above_4g_wraps),
		cmocka_unit_test(test_kernel_hdrs_at_end),
	};
	return cmocka_run_group_tests_name("fuzz regressions", tests, NULL, NULL);
}
