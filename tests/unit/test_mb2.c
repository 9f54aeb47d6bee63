/* Multiboot2 boot information: a block laid out as GRUB 2.06 builds it,
 * every malformation the parser checks for (each rejected with a reason),
 * the warnings, and a byte-flipping sweep under the sanitizers. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/bootinfo.h>

struct builder {
	uint8_t buf[8192] __attribute__((aligned(8)));
	size_t len;
};

static void put32(struct builder *b, uint32_t v) { memcpy(b->buf + b->len, &v, 4), b->len += 4; }
static void put64(struct builder *b, uint64_t v) { memcpy(b->buf + b->len, &v, 8), b->len += 8; }
static void put_bytes(struct builder *b, const void *p, size_t n) { memcpy(b->buf + b->len, p, n), b->len += n; }
static void pad8(struct builder *b)
{
	while (b->len % 8)
		b->buf[b->len++] = 0;
}
static void start(struct builder *b)
{
	memset(b, 0, sizeof(*b));
	b->len = 8;
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
static void set32(struct builder *b, size_t at, uint32_t v) { memcpy(b->buf + at, &v, 4); }
static size_t tag_string(struct builder *b, uint32_t type, const char *s)
{
	size_t at = tag_begin(b, type);
	put_bytes(b, s, strlen(s) + 1);
	tag_end(b, at);
	return at;
}
static size_t module(struct builder *b, uint32_t start, uint32_t end, const char *s)
{
	size_t at = tag_begin(b, 3);
	put32(b, start);
	put32(b, end);
	put_bytes(b, s, strlen(s) + 1);
	tag_end(b, at);
	return at;
}
static size_t mmap_tag(struct builder *b, const uint64_t (*map)[3], unsigned n)
{
	size_t at = tag_begin(b, 6);
	put32(b, 24);
	put32(b, 0);
	for (unsigned i = 0; i < n; i++) {
		put64(b, map[i][0]);
		put64(b, map[i][1]);
		put32(b, (uint32_t)map[i][2]);
		put32(b, 0);
	}
	tag_end(b, at);
	return at;
}
static const uint64_t one_ram[][3] = { { 0x100000, 0x7f00000, 1 } };
static void finish(struct builder *b)
{
	size_t at = tag_begin(b, 0);
	tag_end(b, at);
	set32(b, 0, (uint32_t)b->len);
}
static void rsdp_bytes(uint8_t *r, unsigned len, int revision)
{
	memset(r, 0, len);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "BOCHS ", 6);
	r[15] = (uint8_t)revision;
	uint8_t sum = 0;
	for (int i = 0; i < 20; i++)
		sum = (uint8_t)(sum + r[i]);
	r[8] = (uint8_t)-sum; /* the first 20 bytes sum to 0 */
	if (len == 36) {
		uint32_t l = 36;
		memcpy(r + 20, &l, 4);
		sum = 0;
		for (int i = 0; i < 36; i++)
			sum = (uint8_t)(sum + r[i]);
		r[32] = (uint8_t)-sum; /* extended checksum over all 36 */
	}
}

/* What GRUB 2.06 passed for `multiboot2 /boot/keel.elf <args>` plus
 * `module2 /boot/bios-256k.bin seabios` and `module2 /boot/mbr.img mbr.img`:
 * tags 21, 1, 2, 10, 3, 3, 6, 9, 4, 5, 8, 14, 0, modules page-aligned right
 * above the MBI. */
static const uint64_t grub_map[][3] = { { 0, 0x9fc00, 1 },		  { 0x9fc00, 0x400, 2 },
					{ 0xf0000, 0x10000, 2 },	  { 0x100000, 0x1fee0000, 1 },
					{ 0x1ffe0000, 0x20000, 2 },	  { 0xfeffc000, 0x4000, 2 },
					{ 0xfffc0000, 0x40000, 2 } };
static void grub_block(struct builder *b)
{
	start(b);
	size_t at = tag_begin(b, 21); /* load base address */
	put32(b, 0x200000);
	tag_end(b, at);
	tag_string(b, 1, "guest=name:g0,disk:mbr.img loglevel=debug");
	tag_string(b, 2, "GRUB 2.06-13+deb12u2");
	at = tag_begin(b, 10); /* APM */
	for (int i = 0; i < 5; i++)
		put32(b, 0);
	tag_end(b, at);
	module(b, 0x101000, 0x141000, "seabios");
	module(b, 0x141000, 0x142000, "mbr.img");
	mmap_tag(b, grub_map, 7);
	at = tag_begin(b, 9); /* ELF sections: none */
	put32(b, 0);
	put32(b, 64);
	put32(b, 0);
	tag_end(b, at);
	at = tag_begin(b, 4);
	put32(b, 639);
	put32(b, 523136);
	tag_end(b, at);
	at = tag_begin(b, 5); /* boot device */
	put32(b, 0xe0);
	put32(b, 0xffffffff);
	put32(b, 0xffffffff);
	tag_end(b, at);
	at = tag_begin(b, 8); /* framebuffer: EGA text */
	put64(b, 0xb8000);
	put32(b, 160);
	put32(b, 80);
	put32(b, 25);
	b->buf[b->len++] = 16;
	b->buf[b->len++] = 2;
	b->buf[b->len++] = 0;
	b->buf[b->len++] = 0;
	tag_end(b, at);
	at = tag_begin(b, 14);
	uint8_t r[20];
	rsdp_bytes(r, 20, 0);
	put_bytes(b, r, 20);
	tag_end(b, at);
	finish(b);
}

static struct bootinfo bi;
static char err[160];

static int parse(struct builder *b) { return mb2_parse(b->buf, sizeof(b->buf), 0x100000, &bi, err, sizeof(err)); }

static void expect_ok(struct builder *b)
{
	if (parse(b) != 0)
		fail_msg("unexpected error: %s", err);
}

static void expect_error(struct builder *b, size_t avail, uint64_t phys, const char *needle)
{
	assert_int_equal(mb2_parse(b->buf, avail, phys, &bi, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static bool has_warning(const char *needle)
{
	for (unsigned i = 0; i < bi.nr_warnings; i++)
		if (strstr(bi.warnings[i], needle))
			return true;
	return false;
}

static void expect_warning(const char *needle)
{
	if (!has_warning(needle))
		fail_msg("no warning mentions \"%s\" (%u warnings; first: \"%s\")", needle, bi.nr_warnings,
			 bi.nr_warnings ? bi.warnings[0] : "");
}

static void test_grub_206_block(void **state)
{
	struct builder b;
	grub_block(&b);
	assert_int_equal(mb2_parse(b.buf, b.len, 0x100164, &bi, err, sizeof(err)), -1);
	assert_int_equal(mb2_parse(b.buf, b.len, 0x100160, &bi, err, sizeof(err)), 0); /* EBX seen from GRUB */
	assert_string_equal(bi.cmdline, "guest=name:g0,disk:mbr.img loglevel=debug");
	assert_string_equal(bi.loader_name, "GRUB 2.06-13+deb12u2");
	assert_int_equal(bi.info_start, 0x100160);
	assert_int_equal(bi.info_end, 0x100160 + b.len);
	assert_int_equal(bi.nr_modules, 2);
	assert_string_equal(bi.modules[0].name, "seabios");
	assert_string_equal(bi.modules[0].args, "");
	assert_int_equal(bi.modules[0].start, 0x101000);
	assert_int_equal(bi.modules[0].end, 0x141000);
	assert_string_equal(bi.modules[1].name, "mbr.img");
	assert_int_equal(bi.modules[1].end - bi.modules[1].start, 0x1000);
	assert_int_equal(bi.nr_mmap, 7);
	for (unsigned i = 0; i < 7; i++) {
		assert_int_equal(bi.mmap[i].base, grub_map[i][0]);
		assert_int_equal(bi.mmap[i].len, grub_map[i][1]);
		assert_int_equal(bi.mmap[i].type, grub_map[i][2]);
	}
	assert_true(bi.have_meminfo);
	assert_int_equal(bi.mem_lower_kb, 639);
	assert_int_equal(bi.mem_upper_kb, 523136);
	assert_int_equal(bi.rsdp_len, 20);
	assert_int_equal(bi.rsdp_revision, 0);
	assert_memory_equal(bi.rsdp, "RSD PTR ", 8);
	if (bi.nr_warnings)
		fail_msg("unexpected warning: %s", bi.warnings[0]);
	/* Exactly total_size available is enough. */
	assert_int_equal(mb2_parse(b.buf, b.len, 0, &bi, err, sizeof(err)), 0);
}

static void test_find_module(void **state)
{
	struct builder b;
	grub_block(&b);
	expect_ok(&b);
	const struct boot_module *m = bootinfo_find_module(&bi, "seabios");
	assert_non_null(m);
	assert_int_equal(m->start, 0x101000);
	m = bootinfo_find_module(&bi, "mbr.img");
	assert_non_null(m);
	assert_int_equal(m->start, 0x141000);
	assert_null(bootinfo_find_module(&bi, "hvmloader"));
	assert_null(bootinfo_find_module(&bi, "seabio"));
	assert_null(bootinfo_find_module(&bi, "seabios2"));
	assert_null(bootinfo_find_module(&bi, ""));
	assert_null(bootinfo_find_module(&bi, NULL));

	/* Name is the first word, args the rest; duplicates: the first wins,
	 * with a warning; a nameless module is found by nobody. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	module(&b, 0x200000, 0x300000, "  seabios   bios-256k.bin  extra\targs ");
	module(&b, 0x300000, 0x400000, "seabios other");
	module(&b, 0x400000, 0x400000, "");
	module(&b, 0x500000, 0x600000, "\thvmloader");
	finish(&b);
	expect_ok(&b);
	assert_int_equal(bi.nr_modules, 4);
	assert_string_equal(bi.modules[0].name, "seabios");
	assert_string_equal(bi.modules[0].args, "bios-256k.bin  extra\targs ");
	assert_ptr_equal(bootinfo_find_module(&bi, "seabios"), &bi.modules[0]);
	assert_ptr_equal(bootinfo_find_module(&bi, "hvmloader"), &bi.modules[3]);
	assert_string_equal(bi.modules[2].name, "");
	assert_int_equal(bi.modules[2].start, bi.modules[2].end); /* empty module: start == end is fine */
	expect_warning("both named \"seabios\"");
	expect_warning("has no name");
	assert_null(bootinfo_find_module(&bi, ""));
}

static void test_header_checks(void **state)
{
	struct builder b;
	grub_block(&b);
	expect_error(&b, sizeof(b.buf), 0x10004, "not 8-byte aligned");
	expect_error(&b, b.len - 8, 0x10000, "exceeds the");
	expect_error(&b, 8, 0x10000, "16-byte minimum");
	expect_error(&b, 0, 0x10000, "16-byte minimum");
	expect_error(&b, sizeof(b.buf), 0xfffffffffffffff8ULL, "wraps");

	char want[80];
	snprintf(want, sizeof(want), "total_size %zu exceeds the %zu bytes available", b.len, b.len - 8);
	expect_error(&b, b.len - 8, 0, want);

	set32(&b, 0, 8);
	expect_error(&b, sizeof(b.buf), 0, "total_size 8 is smaller than the 16-byte minimum");
	grub_block(&b);
	set32(&b, 0, (uint32_t)b.len - 4);
	expect_error(&b, sizeof(b.buf), 0, "not a multiple of 8");
	grub_block(&b);
	set32(&b, 0, 0xfffffff8u);
	expect_error(&b, sizeof(b.buf), 0, "exceeds");

	/* total_size smaller than the tags: the end tag is never reached, or
	 * a tag runs past it. */
	grub_block(&b);
	set32(&b, 0, 64);
	assert_int_equal(parse(&b), -1);
	grub_block(&b);
	set32(&b, 0, 16);
	expect_error(&b, sizeof(b.buf), 0, "runs past total_size 16");
}

static void test_tag_checks(void **state)
{
	struct builder b;
	/* The exact wording, for the first tag after a 0x40-byte command line. */
	start(&b);
	tag_string(&b, 1, "0123456789012345678901234567890123456789012345678901234"); /* 8 + 56 bytes */
	size_t at = tag_begin(&b, 6);
	assert_int_equal(at, 0x48);
	put32(&b, 24);
	tag_end(&b, at); /* size 12 */
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0,
		     "tag 6 at offset 0x48: size 12 is smaller than its header (memory map tags have 16)");

	/* A tag size below the 8-byte tag header. */
	grub_block(&b);
	set32(&b, 8 + 4, 4);
	expect_error(&b, sizeof(b.buf), 0, "tag 21 at offset 0x8: size 4 is smaller than its header");
	set32(&b, 8 + 4, 0);
	expect_error(&b, sizeof(b.buf), 0, "size 0 is smaller than its header");

	/* A tag whose size runs past total_size. */
	grub_block(&b);
	set32(&b, 8 + 4, 0x10000);
	expect_error(&b, sizeof(b.buf), 0, "runs past total_size");
	set32(&b, 8 + 4, 0xffffffffu);
	expect_error(&b, sizeof(b.buf), 0, "runs past total_size");

	/* No end tag. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	tag_string(&b, 1, "x");
	pad8(&b);
	set32(&b, 0, (uint32_t)b.len);
	expect_error(&b, sizeof(b.buf), 0, "no end tag");

	/* An end tag of the wrong size. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	at = tag_begin(&b, 0);
	put64(&b, 0);
	tag_end(&b, at);
	set32(&b, 0, (uint32_t)b.len);
	expect_error(&b, sizeof(b.buf), 0, "end tag at offset");

	/* Bytes after the end tag: ignored, with a warning. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	finish(&b);
	put64(&b, 0x1234);
	tag_string(&b, 1, "ignored");
	pad8(&b);
	set32(&b, 0, (uint32_t)b.len);
	expect_ok(&b);
	assert_string_equal(bi.cmdline, "");
	expect_warning("after the end tag");

	/* Unknown tags of any size are skipped, padding honoured. */
	start(&b);
	at = tag_begin(&b, 0x7777);
	put_bytes(&b, "abcde", 5); /* size 13: next tag at +16 */
	tag_end(&b, at);
	mmap_tag(&b, one_ram, 1);
	at = tag_begin(&b, 17); /* EFI memory map: not Keel's business */
	tag_end(&b, at);
	finish(&b);
	expect_ok(&b);
	assert_int_equal(bi.nr_mmap, 1);
}

static void test_strings(void **state)
{
	struct builder b;
	/* A command line without its NUL inside the tag. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	size_t at = tag_begin(&b, 1);
	put_bytes(&b, "abcdefgh", 8);
	tag_end(&b, at);
	finish(&b); /* the padding after it is zero, but outside the tag */
	expect_error(&b, sizeof(b.buf), 0, "command line is not NUL-terminated");
	/* An empty tag has no room for the NUL either. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	at = tag_begin(&b, 2);
	tag_end(&b, at);
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "boot loader name is not NUL-terminated");
	/* An empty string is fine; so are bytes after the NUL. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	at = tag_begin(&b, 1);
	put_bytes(&b, "hi\0junk", 7);
	tag_end(&b, at);
	tag_string(&b, 2, "");
	finish(&b);
	expect_ok(&b);
	assert_string_equal(bi.cmdline, "hi");
	assert_string_equal(bi.loader_name, "");

	/* Too long for Keel's copy: cut, with a warning. */
	static char big[1500];
	memset(big, 'x', sizeof(big) - 1);
	start(&b);
	mmap_tag(&b, one_ram, 1);
	tag_string(&b, 1, big);
	tag_string(&b, 2, "a boot loader with a name far longer than sixty-three characters, really");
	finish(&b);
	expect_ok(&b);
	assert_int_equal(strlen(bi.cmdline), sizeof(bi.cmdline) - 1);
	assert_int_equal(strlen(bi.loader_name), sizeof(bi.loader_name) - 1);
	expect_warning("command line is 1499 bytes long; only the first 1023 were kept");
	expect_warning("boot loader name is");

	/* A second command line is ignored. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	tag_string(&b, 1, "first");
	tag_string(&b, 1, "second");
	finish(&b);
	expect_ok(&b);
	assert_string_equal(bi.cmdline, "first");
	expect_warning("second command line tag");
}

static void test_modules(void **state)
{
	struct builder b;
	start(&b);
	mmap_tag(&b, one_ram, 1);
	module(&b, 0x2000, 0x1000, "m");
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "module end 0x1000 is below its start 0x2000");

	start(&b);
	mmap_tag(&b, one_ram, 1);
	size_t at = tag_begin(&b, 3);
	put32(&b, 0x1000);
	tag_end(&b, at); /* size 12 */
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "size 12 is smaller than its header (module tags have 16)");

	start(&b);
	mmap_tag(&b, one_ram, 1);
	at = tag_begin(&b, 3);
	put32(&b, 0x1000);
	put32(&b, 0x2000);
	put_bytes(&b, "noterm", 6);
	tag_end(&b, at);
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "module string is not NUL-terminated");

	start(&b);
	mmap_tag(&b, one_ram, 1);
	at = tag_begin(&b, 3);
	put32(&b, 0x1000);
	put32(&b, 0x2000);
	tag_end(&b, at); /* no string at all */
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "module string is not NUL-terminated");

	/* Long name and long args: cut, with warnings. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	module(&b, 0x1000, 0x2000,
	       "a-module-name-of-forty-characters-123456 "
	       "and arguments that go on and on for well over ninety-five characters in total, so they are cut short");
	finish(&b);
	expect_ok(&b);
	assert_int_equal(strlen(bi.modules[0].name), 31);
	assert_memory_equal(bi.modules[0].name, "a-module-name-of-forty-characte", 31);
	assert_int_equal(strlen(bi.modules[0].args), 95);
	expect_warning("module 0: name");
	expect_warning("arguments longer than 95");

	/* 33 modules: 32 kept, one warning. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	for (unsigned i = 0; i < 33; i++) {
		char name[16];
		snprintf(name, sizeof(name), "m%u", i);
		module(&b, 0x100000 + i * 0x1000, 0x101000 + i * 0x1000, name);
	}
	finish(&b);
	expect_ok(&b);
	assert_int_equal(bi.nr_modules, 32);
	assert_string_equal(bi.modules[31].name, "m31");
	assert_null(bootinfo_find_module(&bi, "m32"));
	expect_warning("more than 32 modules");
	assert_int_equal(bi.nr_warnings, 1);
}

static void test_memory_map(void **state)
{
	struct builder b;
	/* entry_size below 24, or not a multiple of 8. */
	unsigned bad_sizes[] = { 0, 16, 20, 28, 30 };
	for (unsigned i = 0; i < 5; i++) {
		start(&b);
		size_t at = tag_begin(&b, 6);
		put32(&b, bad_sizes[i]);
		put32(&b, 0);
		put_bytes(&b, (uint8_t[120]){ 0 }, 120);
		tag_end(&b, at);
		finish(&b);
		char want[40];
		snprintf(want, sizeof(want), "entry_size %u (must be", bad_sizes[i]);
		expect_error(&b, sizeof(b.buf), 0, want);
	}
	/* Entries that do not fill the tag exactly. */
	start(&b);
	size_t at = tag_begin(&b, 6);
	put32(&b, 24);
	put32(&b, 0);
	put_bytes(&b, (uint8_t[40]){ 0 }, 40);
	tag_end(&b, at);
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "40 bytes of memory-map entries are not a whole number of 24-byte entries");

	/* A larger entry_size (a later entry_version): the first 24 bytes of
	 * each entry are read. */
	start(&b);
	at = tag_begin(&b, 6);
	put32(&b, 32);
	put32(&b, 1);
	for (unsigned i = 0; i < 3; i++) {
		put64(&b, 0x100000ULL * (i + 1));
		put64(&b, 0x1000);
		put32(&b, i + 1);
		put32(&b, 0);
		put64(&b, 0xdeadbeefdeadbeefULL);
	}
	tag_end(&b, at);
	finish(&b);
	expect_ok(&b);
	assert_int_equal(bi.nr_mmap, 3);
	assert_int_equal(bi.mmap[2].base, 0x300000);
	assert_int_equal(bi.mmap[2].type, 3);

	/* Zero-length entries are dropped; an entry past 2^64 is clipped. */
	static const uint64_t odd[][3] = { { 0x1000, 0, 1 },
					   { 0x100000, 0x100000, 1 },
					   { 0xffffffff00000000ULL, 0x200000000ULL, 2 },
					   { 0xfffffffffffff000ULL, 0x1000, 2 } };
	start(&b);
	mmap_tag(&b, odd, 4);
	finish(&b);
	expect_ok(&b);
	assert_int_equal(bi.nr_mmap, 2);
	assert_int_equal(bi.mmap[1].base, 0xffffffff00000000ULL);
	assert_true(bi.mmap[1].base + bi.mmap[1].len > bi.mmap[1].base); /* no wrap */
	expect_warning("runs past the address space");

	/* More than 128 entries: 128 kept, one warning. */
	static uint64_t many[200][3];
	for (unsigned i = 0; i < 200; i++) {
		many[i][0] = 0x100000ULL * i;
		many[i][1] = 0x1000;
		many[i][2] = 1;
	}
	start(&b);
	mmap_tag(&b, many, 200);
	finish(&b);
	expect_ok(&b);
	assert_int_equal(bi.nr_mmap, BOOTINFO_MAX_MMAP);
	expect_warning("more than 128 memory-map entries");
	assert_int_equal(bi.nr_warnings, 1);

	/* A second map is ignored. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	mmap_tag(&b, grub_map, 7);
	finish(&b);
	expect_ok(&b);
	assert_int_equal(bi.nr_mmap, 1);
	expect_warning("second memory map");

	/* No map, or one with only empty entries. */
	start(&b);
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "no memory map");
	start(&b);
	mmap_tag(&b, (const uint64_t[][3]){ { 0x1000, 0, 1 } }, 1);
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "no non-empty entries");
	start(&b);
	at = tag_begin(&b, 6);
	put32(&b, 24);
	tag_end(&b, at);
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "size 12 is smaller than its header");

	assert_string_equal(mem_region_type_name(1), "RAM");
	assert_string_equal(mem_region_type_name(3), "ACPI reclaimable");
	assert_string_equal(mem_region_type_name(4), "ACPI NVS");
	assert_string_equal(mem_region_type_name(5), "bad RAM");
	assert_string_equal(mem_region_type_name(2), "reserved");
	assert_string_equal(mem_region_type_name(0xffffffffu), "reserved");
}

static void test_meminfo_and_rsdp(void **state)
{
	struct builder b;
	start(&b);
	mmap_tag(&b, one_ram, 1);
	size_t at = tag_begin(&b, 4);
	put32(&b, 639);
	tag_end(&b, at);
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "size 12 is smaller than its header (basic memory info tags have 16)");

	/* Tag 15 wins over tag 14, in either order. */
	uint8_t v1[20], v2[36];
	rsdp_bytes(v1, 20, 0);
	rsdp_bytes(v2, 36, 2);
	for (int order = 0; order < 2; order++) {
		start(&b);
		mmap_tag(&b, one_ram, 1);
		for (int k = 0; k < 2; k++) {
			bool new_one = (k == 0) == (order == 0);
			at = tag_begin(&b, new_one ? 15 : 14);
			put_bytes(&b, new_one ? v2 : v1, new_one ? 36 : 20);
			tag_end(&b, at);
		}
		finish(&b);
		expect_ok(&b);
		assert_int_equal(bi.rsdp_len, 36);
		assert_int_equal(bi.rsdp_revision, 2);
		assert_memory_equal(bi.rsdp, v2, 36);
		assert_int_equal(bi.nr_warnings, 0);
	}
	/* Too short; bad checksum (kept, with a warning); wrong signature. */
	start(&b);
	mmap_tag(&b, one_ram, 1);
	at = tag_begin(&b, 15);
	put_bytes(&b, v2, 20);
	tag_end(&b, at);
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "size 28 is smaller than its header (ACPI 2.0 RSDP tags have 44)");
	start(&b);
	mmap_tag(&b, one_ram, 1);
	at = tag_begin(&b, 14);
	put_bytes(&b, v1, 19);
	tag_end(&b, at);
	finish(&b);
	expect_error(&b, sizeof(b.buf), 0, "ACPI 1.0 RSDP tags have 28");
	v1[8]++;
	start(&b);
	mmap_tag(&b, one_ram, 1);
	at = tag_begin(&b, 14);
	put_bytes(&b, v1, 20);
	tag_end(&b, at);
	finish(&b);
	expect_ok(&b);
	assert_int_equal(bi.rsdp_len, 20);
	expect_warning("bad checksum");
	v1[0] = 'X';
	start(&b);
	mmap_tag(&b, one_ram, 1);
	at = tag_begin(&b, 14);
	put_bytes(&b, v1, 20);
	tag_end(&b, at);
	finish(&b);
	expect_ok(&b);
	expect_warning("does not start with");
}

static void test_warnings_are_bounded(void **state)
{
	/* Many distinct warnings: 8 kept, the rest counted. */
	struct builder b;
	start(&b);
	mmap_tag(&b, one_ram, 1);
	for (unsigned i = 0; i < 12; i++) {
		char s[80];
		snprintf(s, sizeof(s), "dup%u", i % 6); /* six pairs of duplicates */
		module(&b, 0x1000, 0x2000, s);
	}
	finish(&b);
	expect_ok(&b);
	assert_int_equal(bi.nr_warnings, 6);
	start(&b); /* arguments too long: one distinct warning per module */
	mmap_tag(&b, one_ram, 1);
	for (unsigned i = 0; i < 12; i++) {
		char s[160];
		snprintf(s, sizeof(s), "m%u %0120u", i, 0);
		module(&b, 0x1000, 0x2000, s);
	}
	finish(&b);
	expect_ok(&b);
	assert_int_equal(bi.nr_warnings, BOOTINFO_MAX_WARNINGS);
	assert_int_equal(bi.warnings_dropped, 4);
	for (unsigned i = 0; i < bi.nr_warnings; i++)
		assert_true(strlen(bi.warnings[i]) < sizeof(bi.warnings[i]));

	/* err may be NULL, or tiny. */
	start(&b);
	finish(&b);
	assert_int_equal(mb2_parse(b.buf, sizeof(b.buf), 0, &bi, NULL, 0), -1);
	char tiny[6];
	assert_int_equal(mb2_parse(b.buf, sizeof(b.buf), 0, &bi, tiny, sizeof(tiny)), -1);
	assert_string_equal(tiny, "no me");
}

static void test_every_truncation_is_safe(void **state)
{
	/* The block cut short anywhere, in a heap buffer of exactly that size:
	 * an error, never a read past it (ASan checks the latter). */
	struct builder b;
	grub_block(&b);
	for (size_t cut = 0; cut < b.len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, b.buf, cut);
		assert_int_equal(mb2_parse(copy, cut, 0, &bi, err, sizeof(err)), -1);
		assert_true(strlen(err) > 0);
		free(copy);
	}
}

static void test_every_byte_flip_is_safe(void **state)
{
	/* Each byte of the GRUB block set to a few interesting values: a parse
	 * or an error, and if a parse, a sane result. */
	struct builder b;
	grub_block(&b);
	static const uint8_t vals[] = { 0x00, 0x01, 0x07, 0x08, 0x0f, 0x10, 0x7f, 0x80, 0xfe, 0xff };
	uint8_t *copy = malloc(b.len);
	unsigned ok = 0, bad = 0;
	for (size_t i = 0; i < b.len; i++) {
		for (size_t v = 0; v < sizeof(vals); v++) {
			memcpy(copy, b.buf, b.len);
			copy[i] = vals[v];
			if (mb2_parse(copy, b.len, 0, &bi, err, sizeof(err)) == 0) {
				ok++;
				assert_true(bi.nr_modules <= BOOTINFO_MAX_MODULES);
				assert_true(bi.nr_mmap >= 1 && bi.nr_mmap <= BOOTINFO_MAX_MMAP);
				assert_true(strlen(bi.cmdline) < sizeof(bi.cmdline));
				for (unsigned m = 0; m < bi.nr_modules; m++)
					assert_true(bi.modules[m].start <= bi.modules[m].end);
			} else {
				bad++;
				assert_true(strlen(err) > 0);
			}
		}
	}
	free(copy);
	assert_true(ok > 0 && bad > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grub_206_block),
		cmocka_unit_test(test_find_module),
		cmocka_unit_test(test_header_checks),
		cmocka_unit_test(test_tag_checks),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_modules),
		cmocka_unit_test(test_memory_map),
		cmocka_unit_test(test_meminfo_and_rsdp),
		cmocka_unit_test(test_warnings_are_bounded),
		cmocka_unit_test(test_every_truncation_is_safe),
		cmocka_unit_test(test_every_byte_flip_is_safe),
	};
	return cmocka_run_group_tests_name("mb2", tests, NULL, NULL);
}
