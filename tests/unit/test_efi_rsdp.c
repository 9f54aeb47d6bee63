/* UEFI boots: the RSDP found through the EFI system table (lib/efi_rsdp.c)
 * from a fake physical memory laid out as OVMF leaves it, every check that
 * must refuse a broken table with a reason; and the multiboot2 tags GRUB
 * adds on UEFI and for a framebuffer (12 and 8, lib/mb2.c). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <keel/bootinfo.h>
#include <keel/efi_rsdp.h>

#define MEM_SIZE 0x4000
#define SYSTAB_PA 0x1000
#define TABLES_PA 0x2000
#define RSDP20_PA 0x3000
#define RSDP10_PA 0x3100

static uint8_t mem[MEM_SIZE];
static uint8_t rsdp[36];
static unsigned rsdp_len;
static char err[160];

static const uint8_t guid20[16] = { 0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
				    0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 };
static const uint8_t guid10[16] = { 0x30, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11,
				    0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d };
static const uint8_t guid_smbios[16] = { 0x31, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11,
					 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d };

static const void *map(void *ctx, uint64_t pa, uint64_t len)
{
	if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
		return NULL;
	return mem + pa;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void fix_sum(uint8_t *p, unsigned len, unsigned at)
{
	uint8_t s = 0;
	p[at] = 0;
	for (unsigned i = 0; i < len; i++)
		s += p[i];
	p[at] = (uint8_t)-s;
}

static void make_rsdp(uint64_t pa, int revision, uint32_t rsdt)
{
	uint8_t *r = mem + pa;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "KEELTS", 6);
	r[15] = (uint8_t)revision;
	put32(r + 16, rsdt);
	fix_sum(r, 20, 8);
	if (revision >= 2) {
		put32(r + 20, 36);
		put64(r + 24, 0x1800);
		fix_sum(r, 36, 32);
	}
}

static void set_entry(unsigned i, const uint8_t *guid, uint64_t table)
{
	memcpy(mem + TABLES_PA + i * 24, guid, 16);
	put64(mem + TABLES_PA + i * 24 + 16, table);
}

/* OVMF-like: an SMBIOS entry, then ACPI 1.0, then ACPI 2.0. */
static int setup(void **state)
{
	memset(mem, 0, sizeof(mem));
	put64(mem + SYSTAB_PA, EFI_SYSTEM_TABLE_SIGNATURE);
	put32(mem + SYSTAB_PA + 8, 0x20046);
	put32(mem + SYSTAB_PA + 12, 120);
	put64(mem + SYSTAB_PA + 104, 3);
	put64(mem + SYSTAB_PA + 112, TABLES_PA);
	set_entry(0, guid_smbios, 0x3800);
	set_entry(1, guid10, RSDP10_PA);
	set_entry(2, guid20, RSDP20_PA);
	make_rsdp(RSDP20_PA, 2, 0x1400);
	make_rsdp(RSDP10_PA, 0, 0x1500);
	return 0;
}

static int find(void) { return efi_find_rsdp(SYSTAB_PA, map, NULL, rsdp, &rsdp_len, err, sizeof(err)); }

static void expect_error(const char *needle)
{
	assert_int_equal(find(), -1);
	assert_int_equal(rsdp_len, 0);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_acpi20_preferred(void **state)
{
	assert_int_equal(find(), 0);
	assert_int_equal(rsdp_len, 36);
	assert_memory_equal(rsdp, mem + RSDP20_PA, 36);
}

static void test_acpi10_only(void **state)
{
	put64(mem + SYSTAB_PA + 104, 2); /* the ACPI 2.0 entry is gone */
	assert_int_equal(find(), 0);
	assert_int_equal(rsdp_len, 20);
	assert_memory_equal(rsdp, mem + RSDP10_PA, 20);
}

static void test_bad_acpi20_falls_back(void **state)
{
	mem[RSDP20_PA + 30] ^= 1; /* extended checksum now wrong */
	assert_int_equal(find(), 0);
	assert_int_equal(rsdp_len, 20);
	/* Both broken: both reasons. */
	mem[RSDP10_PA] = 'X';
	expect_error("extended checksum");
	if (!strstr(err, "signature"))
		fail_msg("error \"%s\" does not give the ACPI 1.0 entry's reason", err);
}

static void test_system_table_checks(void **state)
{
	assert_int_equal(efi_find_rsdp(0, map, NULL, rsdp, &rsdp_len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot be reached"));
	assert_int_equal(efi_find_rsdp(MEM_SIZE - 8, map, NULL, rsdp, &rsdp_len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot be reached"));
	mem[SYSTAB_PA] = 'X';
	expect_error("no EFI system table signature");
	setup(NULL);
	put32(mem + SYSTAB_PA + 12, 64);
	expect_error("too small");
	setup(NULL);
	put64(mem + SYSTAB_PA + 104, EFI_MAX_CONFIG_TABLES + 1);
	expect_error("configuration tables");
	put64(mem + SYSTAB_PA + 104, 0);
	expect_error("lists no configuration tables");
	setup(NULL);
	put64(mem + SYSTAB_PA + 104, 1000); /* runs off the end of memory */
	expect_error("cannot be reached");
	setup(NULL);
	put64(mem + SYSTAB_PA + 112, 0xfffffffffffffff0ULL);
	put64(mem + SYSTAB_PA + 104, 4);
	expect_error("");
	setup(NULL);
	put64(mem + SYSTAB_PA + 104, 1); /* SMBIOS only */
	expect_error("the 1 EFI configuration tables list no ACPI RSDP");
	/* A revision-2 RSDP whose last 16 bytes are past the end of memory
	 * (found by fuzz_efi_rsdp: the 20-byte fallback mapping was read as
	 * 36 bytes). */
	setup(NULL);
	make_rsdp(MEM_SIZE - 20, 0, 0x1400);
	mem[MEM_SIZE - 20 + 15] = 2;
	fix_sum(mem + MEM_SIZE - 20, 20, 8);
	set_entry(2, guid20, MEM_SIZE - 20);
	set_entry(1, guid10, 0);
	expect_error("runs past readable memory");
	setup(NULL);
	set_entry(2, guid20, MEM_SIZE + 0x1000);
	set_entry(1, guid10, 0);
	expect_error("cannot be reached");
}

/* Flipping any byte of the system table, the entries or the RSDPs never
 * reads outside memory (the sanitizers watch) and always gives an answer
 * that holds together. */
static void test_every_byte_flip_is_safe(void **state)
{
	static const unsigned spans[][2] = { { SYSTAB_PA, 120 }, { TABLES_PA, 72 }, { RSDP20_PA, 36 }, { RSDP10_PA, 20 } };
	unsigned ok = 0, bad = 0;
	for (unsigned s = 0; s < 4; s++)
		for (unsigned i = 0; i < spans[s][1]; i++)
			for (unsigned v = 0; v < 3; v++) {
				setup(NULL);
				static const uint8_t vals[] = { 0x00, 0xff, 0x80 };
				mem[spans[s][0] + i] = vals[v];
				if (find() == 0) {
					ok++;
					assert_true(rsdp_len == 20 || rsdp_len == 36);
					assert_memory_equal(rsdp, "RSD PTR ", 8);
				} else {
					bad++;
					assert_true(strlen(err) > 0);
				}
			}
	assert_true(ok > 0 && bad > 0);
}

/* Multiboot2 tags 12 and 8, in a block with the memory map Keel needs. */
static uint8_t block[512] __attribute__((aligned(8)));
static size_t blen;

static void tag(uint32_t type, const void *body, uint32_t n)
{
	put32(block + blen, type);
	put32(block + blen + 4, 8 + n);
	if (n)
		memcpy(block + blen + 8, body, n);
	blen += (8 + n + 7) & ~7u;
}

static void start_block(void)
{
	memset(block, 0, sizeof(block));
	blen = 8;
	uint8_t mmap[8 + 24] = { 24 };
	put64(mmap + 8 + 8, 0x9f000);
	put32(mmap + 8 + 16, 1);
	tag(6, mmap, sizeof(mmap));
}

static int parse_block(struct bootinfo *bi)
{
	tag(0, NULL, 0);
	put32(block, (uint32_t)blen);
	return mb2_parse(block, blen, 0x100000, bi, err, sizeof(err));
}

static void test_mb2_efi_systab_tag(void **state)
{
	static struct bootinfo bi;
	uint8_t body[8];
	start_block();
	put64(body, 0x7f9ee018);
	tag(12, body, 8);
	assert_int_equal(parse_block(&bi), 0);
	assert_int_equal(bi.efi_systab, 0x7f9ee018);
	start_block();
	tag(12, body, 4);
	assert_int_equal(parse_block(&bi), -1);
	assert_non_null(strstr(err, "EFI 64-bit system table"));
}

static void fb_body(uint8_t *b, uint8_t type)
{
	memset(b, 0, 32);
	put64(b, 0xe0000000);
	put32(b + 8, 4096);
	put32(b + 12, 1024);
	put32(b + 16, 768);
	b[20] = 32;
	b[21] = type;
	static const uint8_t rgb[6] = { 16, 8, 8, 8, 0, 8 };
	memcpy(b + 24, rgb, 6);
}

static void test_mb2_framebuffer_tag(void **state)
{
	static struct bootinfo bi;
	uint8_t body[32];
	fb_body(body, MB2_FB_TYPE_RGB);
	start_block();
	tag(8, body, 30);
	assert_int_equal(parse_block(&bi), 0);
	assert_true(bi.fb.present);
	assert_int_equal(bi.fb.addr, 0xe0000000);
	assert_int_equal(bi.fb.pitch, 4096);
	assert_int_equal(bi.fb.width, 1024);
	assert_int_equal(bi.fb.height, 768);
	assert_int_equal(bi.fb.bpp, 32);
	assert_int_equal(bi.fb.rgb[0], 16);
	assert_int_equal(bi.fb.rgb[4], 0);
	/* RGB without its colour layout: warned about, not drawn on, and the
	 * rest of the block still counts. */
	start_block();
	tag(8, body, 24);
	assert_int_equal(parse_block(&bi), 0);
	assert_false(bi.fb.present);
	assert_int_equal(bi.nr_warnings, 1);
	assert_non_null(strstr(bi.warnings[0], "colour layout"));
	/* EGA text: no colour layout needed. */
	fb_body(body, MB2_FB_TYPE_EGA_TEXT);
	start_block();
	tag(8, body, 24);
	assert_int_equal(parse_block(&bi), 0);
	assert_true(bi.fb.present);
	assert_int_equal(bi.fb.type, MB2_FB_TYPE_EGA_TEXT);
	/* Shorter than the common part: the block is refused. */
	start_block();
	tag(8, body, 16);
	assert_int_equal(parse_block(&bi), -1);
	assert_non_null(strstr(err, "framebuffer"));
	/* A second one is ignored with a warning. */
	fb_body(body, MB2_FB_TYPE_RGB);
	start_block();
	tag(8, body, 30);
	body[20] = 16;
	tag(8, body, 30);
	assert_int_equal(parse_block(&bi), 0);
	assert_int_equal(bi.fb.bpp, 32);
	assert_non_null(strstr(bi.warnings[0], "second framebuffer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_acpi20_preferred, setup),
		cmocka_unit_test_setup(test_acpi10_only, setup),
		cmocka_unit_test_setup(test_bad_acpi20_falls_back, setup),
		cmocka_unit_test_setup(test_system_table_checks, setup),
		cmocka_unit_test_setup(test_every_byte_flip_is_safe, setup),
		cmocka_unit_test(test_mb2_efi_systab_tag),
		cmocka_unit_test(test_mb2_framebuffer_tag),
	};
	return cmocka_run_group_tests_name("efi_rsdp", tests, NULL, NULL);
}
