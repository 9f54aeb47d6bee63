/* Multiboot2 boot information: a block laid out as GRUB 2.06 builds it,
 * and malformed ones, each rejected with a reason. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/bootinfo.h>

struct builder {
	uint8_t buf[4096] __attribute__((aligned(8)));
	size_t len;
};

static void put32(struct builder *b, uint32_t v) { memcpy(b->buf + b->len, &v, 4), b->len += 4; }
static void put64(struct builder *b, uint64_t v) { memcpy(b->buf + b->len, &v, 8), b->len += 8; }
static void pad8(struct builder *b)
{
	while (b->len % 8)
		b->buf[b->len++] = 0;
}
static size_t tag_begin(struct builder *b, uint32_t type)
{
	pad8(b);
	size_t at = b->len;
	put32(b, type);
	put32(b, 0);
	return at;
}
static void tag_end(struct builder *b, size_t at)
{
	uint32_t size = (uint32_t)(b->len - at);
	memcpy(b->buf + at + 4, &size, 4);
}
static void tag_string(struct builder *b, uint32_t type, const char *s)
{
	size_t at = tag_begin(b, type);
	memcpy(b->buf + b->len, s, strlen(s) + 1);
	b->len += strlen(s) + 1;
	tag_end(b, at);
}
static void module(struct builder *b, uint32_t start, uint32_t end, const char *s)
{
	size_t at = tag_begin(b, 3);
	put32(b, start);
	put32(b, end);
	memcpy(b->buf + b->len, s, strlen(s) + 1);
	b->len += strlen(s) + 1;
	tag_end(b, at);
}
static void finish(struct builder *b)
{
	size_t at = tag_begin(b, 0);
	tag_end(b, at);
	uint32_t total = (uint32_t)b->len;
	memcpy(b->buf, &total, 4);
}

/* Tag order GRUB 2.06 was seen to emit: 21, 1, 2, 10, 3, 3, 6, 9, 4, 5, 8, 14, 0. */
static void grub_block(struct builder *b)
{
	memset(b, 0, sizeof(*b));
	b->len = 8;
	size_t at = tag_begin(b, 21);
	put32(b, 0x100000);
	tag_end(b, at);
	tag_string(b, 1, "guest=name:g0,disk:mbr.img loglevel=debug");
	tag_string(b, 2, "GRUB 2.06-13+deb12u2");
	at = tag_begin(b, 10);
	for (int i = 0; i < 5; i++)
		put32(b, 0);
	tag_end(b, at);
	module(b, 0x236000, 0x237b2c, "hvmloader");
	module(b, 0x238000, 0x278000, "seabios bios-256k extra args");
	at = tag_begin(b, 6);
	put32(b, 24);
	put32(b, 0);
	uint64_t map[][3] = { { 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0xf0000, 0x10000, 2 },
			      { 0x100000, 0x1fef0000, 1 }, { 0x1fff0000, 0x10000, 3 }, { 0xfffc0000, 0x40000, 2 } };
	for (unsigned i = 0; i < 6; i++) {
		put64(b, map[i][0]);
		put64(b, map[i][1]);
		put32(b, (uint32_t)map[i][2]);
		put32(b, 0);
	}
	tag_end(b, at);
	at = tag_begin(b, 9);
	put32(b, 0);
	put32(b, 64);
	put32(b, 0);
	tag_end(b, at);
	at = tag_begin(b, 4);
	put32(b, 639);
	put32(b, 523200);
	tag_end(b, at);
	at = tag_begin(b, 5);
	put32(b, 0xe0);
	put32(b, 0xffffffff);
	put32(b, 0xffffffff);
	tag_end(b, at);
	at = tag_begin(b, 14);
	uint8_t rsdp[20] = "RSD PTR \0BOCHS \0";
	uint8_t sum = 0;
	for (int i = 0; i < 20; i++)
		sum += rsdp[i];
	rsdp[8] = (uint8_t)-sum; /* checksum byte: all 20 bytes sum to 0 */
	memcpy(b->buf + b->len, rsdp, 20);
	b->len += 20;
	tag_end(b, at);
	finish(b);
}

static struct bootinfo bi;
static char err[160];

static void test_grub_block(void **state)
{
	struct builder b;
	grub_block(&b);
	assert_int_equal(mb2_parse(b.buf, sizeof(b.buf), 0x10000, &bi, err, sizeof(err)), 0);
	assert_string_equal(bi.cmdline, "guest=name:g0,disk:mbr.img loglevel=debug");
	assert_string_equal(bi.loader_name, "GRUB 2.06-13+deb12u2");
	assert_int_equal(bi.nr_modules, 2);
	assert_string_equal(bi.modules[1].name, "seabios");
	assert_string_equal(bi.modules[1].args, "bios-256k extra args");
	assert_int_equal(bi.modules[1].start, 0x238000);
	assert_int_equal(bi.modules[1].end, 0x278000);
	assert_non_null(bootinfo_find_module(&bi, "hvmloader"));
	assert_null(bootinfo_find_module(&bi, "mbr.img"));
	assert_int_equal(bi.nr_mmap, 6);
	assert_int_equal(bi.mmap[3].base, 0x100000);
	assert_int_equal(bi.mmap[3].type, 1);
	assert_true(bi.have_meminfo);
	assert_int_equal(bi.mem_lower_kb, 639);
	assert_int_equal(bi.rsdp_len, 20);
	assert_memory_equal(bi.rsdp, "RSD PTR ", 8);
	assert_int_equal(bi.info_start, 0x10000);
	assert_int_equal(bi.info_end, 0x10000 + b.len);
	if (bi.nr_warnings)
		fail_msg("unexpected warning: %s", bi.warnings[0]);
}

static void expect_error(struct builder *b, size_t avail, uint64_t phys, const char *needle)
{
	assert_int_equal(mb2_parse(b->buf, avail, phys, &bi, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_malformed(void **state)
{
	struct builder b;
	grub_block(&b);
	expect_error(&b, sizeof(b.buf), 0x10004, "not 8-byte aligned");
	expect_error(&b, b.len - 8, 0x10000, "exceeds");
	expect_error(&b, 8, 0x10000, "16-byte minimum");

	/* total_size smaller than the tags: the end tag is never reached. */
	grub_block(&b);
	uint32_t total = 64;
	memcpy(b.buf, &total, 4);
	assert_int_equal(mb2_parse(b.buf, sizeof(b.buf), 0, &bi, err, sizeof(err)), -1);

	/* A tag whose size runs past total_size. */
	grub_block(&b);
	uint32_t big = 0x10000;
	memcpy(b.buf + 8 + 4, &big, 4);
	expect_error(&b, sizeof(b.buf), 0, "runs past total_size");

	/* A tag size below its header. */
	grub_block(&b);
	uint32_t tiny = 4;
	memcpy(b.buf + 8 + 4, &tiny, 4);
	expect_error(&b, sizeof(b.buf), 0, "smaller than its header");

	/* No end tag. */
	memset(&b, 0, sizeof(b));
	b.len = 8;
	tag_string(&b, 1, "x");
	pad8(&b);
	total = (uint32_t)b.len;
	memcpy(b.buf, &total, 4);
	expect_error(&b, sizeof(b.buf), 0, "no end tag");

	/* A command line without its NUL. */
	memset(&b, 0, sizeof(b));
	b.len = 8;
	size_t at = tag_begin(&b, 1);
	memcpy(b.buf + b.len, "abcdefgh", 8);
	b.len += 8;
	tag_end(&b, at);
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "not NUL-terminated");

	/* A module whose end is below its start. */
	memset(&b, 0, sizeof(b));
	b.len = 8;
	module(&b, 0x2000, 0x1000, "m");
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "below start");

	/* A memory map with a bad entry size, and one missing altogether. */
	memset(&b, 0, sizeof(b));
	b.len = 8;
	at = tag_begin(&b, 6);
	put32(&b, 20);
	put32(&b, 0);
	tag_end(&b, at);
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "entry_size 20");
	memset(&b, 0, sizeof(b));
	b.len = 8;
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "no memory map");
}

static void test_every_truncation_is_safe(void **state)
{
	/* Cutting the block anywhere gives an error or a parse, never a read
	 * beyond what is available (ASan checks the latter). */
	struct builder b;
	grub_block(&b);
	for (size_t cut = 0; cut < b.len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, b.buf, cut);
		assert_int_equal(mb2_parse(copy, cut, 0, &bi, err, sizeof(err)), -1);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grub_block),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_every_truncation_is_safe),
	};
	return cmocka_run_group_tests_name("mb2", tests, NULL, NULL);
}
