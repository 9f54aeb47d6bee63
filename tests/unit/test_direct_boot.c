/* Direct kernel boot's pure parts: kernel recognition, the multiboot1
 * header parser (ELF and a.out kludge) and information block, the Linux
 * setup-header checks and zero page. Images are built here byte by byte,
 * and every truncation of a good image must be refused or parsed within
 * bounds (ASan checks the latter). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <keel/kernel_image.h>

#include "e820.h"
#include "linux.h"
#include "multiboot1.h"
#include "start_info.h"

static uint8_t img[64 * 1024];
static char err[200];

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void mb1_header(uint32_t off, uint32_t flags)
{
	put32(img + off, MB1_HEADER_MAGIC);
	put32(img + off + 4, flags);
	put32(img + off + 8, -(MB1_HEADER_MAGIC + flags));
}

/* An ELF32 i386 executable: one PT_LOAD of filesz 0x800 / memsz 0x1800
 * at paddr 0x100000 (vaddr 0xc0100000), entry at vaddr + 0x20. */
static uint32_t make_elf(void)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\177ELF", 4);
	img[4] = 1; /* ELFCLASS32 */
	img[5] = 1; /* little-endian */
	img[6] = 1;
	put16(img + 16, 2);  /* ET_EXEC */
	put16(img + 18, 3);  /* EM_386 */
	put32(img + 20, 1);
	put32(img + 24, 0xc0100020); /* entry (virtual) */
	put32(img + 28, 52);         /* phoff */
	put16(img + 42, 32);         /* phentsize */
	put16(img + 44, 1);          /* phnum */
	uint8_t *ph = img + 52;
	put32(ph + 0, 1);            /* PT_LOAD */
	put32(ph + 4, 0x1000);       /* offset */
	put32(ph + 8, 0xc0100000);   /* vaddr */
	put32(ph + 12, 0x100000);    /* paddr */
	put32(ph + 16, 0x800);       /* filesz */
	put32(ph + 20, 0x1800);      /* memsz */
	mb1_header(0x1000, MB1_HF_PAGE_ALIGN | MB1_HF_MEMORY_INFO);
	return 0x1800;
}

static void test_kind(void **state)
{
	uint32_t len = make_elf();
	assert_int_equal(kernel_image_kind(img, len, err, sizeof(err)), KERNEL_MULTIBOOT1);
	assert_int_equal(mb1_find_header(img, len), 0x1000);
	/* A bad checksum is no header. */
	put32(img + 0x1008, 0);
	assert_int_equal(mb1_find_header(img, len), -1);
	assert_int_equal(kernel_image_kind(img, len, err, sizeof(err)), KERNEL_UNKNOWN);
	assert_non_null(strstr(err, "ELF file without a multiboot1 header"));
	/* Past the first 8 KiB it does not count. */
	memset(img, 0, sizeof(img));
	mb1_header(8192, 0);
	assert_int_equal(kernel_image_kind(img, sizeof(img), err, sizeof(err)), KERNEL_UNKNOWN);
	assert_non_null(strstr(err, "neither a multiboot1 kernel"));
	/* Multiboot2 only. */
	memset(img, 0, sizeof(img));
	put32(img + 64, MB2_HEADER_MAGIC);
	assert_int_equal(kernel_image_kind(img, sizeof(img), err, sizeof(err)), KERNEL_UNKNOWN);
	assert_non_null(strstr(err, "multiboot2 header only"));
	/* Linux: version and loaded-high checks. */
	memset(img, 0, sizeof(img));
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x1fe, 0xaa55);
	put16(img + 0x206, 0x0209);
	img[0x211] = 1;
	assert_int_equal(kernel_image_kind(img, sizeof(img), err, sizeof(err)), KERNEL_UNKNOWN);
	assert_non_null(strstr(err, "boot protocol 2.09; Keel needs 2.10"));
	put16(img + 0x206, 0x020a);
	assert_int_equal(kernel_image_kind(img, sizeof(img), err, sizeof(err)), KERNEL_LINUX);
	img[0x211] = 0;
	assert_int_equal(kernel_image_kind(img, sizeof(img), err, sizeof(err)), KERNEL_UNKNOWN);
	assert_non_null(strstr(err, "zImage"));
	/* Tiny and empty images. */
	assert_int_equal(kernel_image_kind(img, 0, err, sizeof(err)), KERNEL_UNKNOWN);
	assert_int_equal(kernel_image_kind(img, 3, err, sizeof(err)), KERNEL_UNKNOWN);
}

static void test_mb1_elf(void **state)
{
	struct mb1_kernel k;
	uint32_t len = make_elf();
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), 0);
	assert_int_equal(k.nr_segments, 1);
	assert_int_equal(k.entry, 0x100020); /* virtual entry made physical */
	assert_int_equal(k.seg[0].paddr, 0x100000);
	assert_int_equal(k.seg[0].file_off, 0x1000);
	assert_int_equal(k.seg[0].file_len, 0x800);
	assert_int_equal(k.seg[0].mem_len, 0x1800);
	assert_int_equal(k.lowest, 0x100000);
	assert_int_equal(k.highest, 0x101800);
	assert_false(k.aout_kludge);

	/* Each kind of bad image, with its message. */
	put32(img + 52 + 16, 0x2000); /* filesz > memsz */
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than p_memsz"));
	make_elf();
	put32(img + 52 + 4, 0x1100); /* segment past the end of the file */
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "runs past the end"));
	make_elf();
	put32(img + 24, 0x200000); /* entry outside */
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "entry point"));
	make_elf();
	img[4] = 2;
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "64-bit ELF"));
	make_elf();
	put16(img + 44, 0xffff); /* program headers past the end */
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "program headers outside"));
	make_elf();
	mb1_header(0x1000, MB1_HF_VIDEO_MODE);
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "video mode"));
	mb1_header(0x1000, 1u << 5);
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0x20"));
	make_elf();
	put32(img + 52 + 12, 0xfffff000); /* past 4 GiB */
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "4 GiB"));
	/* Ending at 4 GiB exactly wrapped [lowest, highest) to 0 (fuzz_kernel). */
	make_elf();
	uint32_t memsz;
	memcpy(&memsz, img + 52 + 20, 4);
	put32(img + 52 + 12, (uint32_t)(0x100000000ULL - memsz));
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "reaches 4 GiB"));

	/* Every truncation is refused or parsed inside the buffer. */
	make_elf();
	for (uint32_t n = 0; n <= len; n++) {
		int r = mb1_parse(img, n, &k, err, sizeof(err));
		if (r == 0)
			for (unsigned i = 0; i < k.nr_segments; i++)
				assert_true((uint64_t)k.seg[i].file_off + k.seg[i].file_len <= n);
	}
}

/* A flat binary linked at 0x100000, header at offset 0x40 (flag 16). */
static uint32_t make_aout(uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
	memset(img, 0, sizeof(img));
	mb1_header(0x40, MB1_HF_PAGE_ALIGN | MB1_HF_AOUT_KLUDGE);
	put32(img + 0x4c, 0x100040); /* header_addr */
	put32(img + 0x50, 0x100000); /* load_addr */
	put32(img + 0x54, load_end);
	put32(img + 0x58, bss_end);
	put32(img + 0x5c, entry);
	return 0x2000;
}

static void test_mb1_aout(void **state)
{
	struct mb1_kernel k;
	uint32_t len = make_aout(0x101000, 0x103000, 0x100060);
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), 0);
	assert_true(k.aout_kludge);
	assert_int_equal(k.entry, 0x100060);
	assert_int_equal(k.seg[0].paddr, 0x100000);
	assert_int_equal(k.seg[0].file_off, 0);
	assert_int_equal(k.seg[0].file_len, 0x1000);
	assert_int_equal(k.seg[0].mem_len, 0x3000);
	/* load_end_addr 0: the whole file; bss_end_addr 0: no bss. */
	make_aout(0, 0, 0x100060);
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), 0);
	assert_int_equal(k.seg[0].file_len, len);
	assert_int_equal(k.seg[0].mem_len, len);
	/* Inconsistent address fields. */
	make_aout(0x103000, 0, 0x100060);
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "runs past the end"));
	make_aout(0x101000, 0x100800, 0x100060);
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bss_end_addr"));
	make_aout(0x101000, 0, 0x200000);
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "entry_addr"));
	make_aout(0x101000, 0, 0x100060);
	put32(img + 0x4c, 0x200000); /* header_addr far from load_addr */
	assert_int_equal(mb1_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "before the beginning"));
	make_aout(0x101000, 0, 0x100060);
	assert_int_equal(mb1_parse(img, 0x50, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cut short"));
}

static void test_mb1_info(void **state)
{
	static uint8_t buf[4096];
	struct e820_entry e[5];
	unsigned n = e820_build(e, 5, 64u << 20, 0, 0xa0000, 0);
	struct mb1_boot b = { e, n, "k.elf", "exit=3 x", 0x3fff000, 0x3fff01d, "rd.txt", "Keel hvmloader" };
	const uint32_t base = 0x10000;
	uint32_t used = mb1_info_build(buf, sizeof(buf), base, &b);
	assert_true(used > sizeof(struct mb1_info));
	struct mb1_info info;
	memcpy(&info, buf, sizeof(info));
	assert_int_equal(sizeof(info), 88);
	assert_int_equal(info.flags, MB1_INFO_MEMORY | MB1_INFO_MEM_MAP | MB1_INFO_CMDLINE | MB1_INFO_MODS |
					     MB1_INFO_LOADER_NAME);
	assert_int_equal(info.mem_lower, 640);
	assert_int_equal(info.mem_upper, 63 * 1024);
	/* Pointers are guest addresses inside the block; follow them. */
	/* The kernel's name is argv[0], as GRUB and QEMU give it. */
	assert_string_equal((char *)buf + (info.cmdline - base), "k.elf exit=3 x");
	assert_string_equal((char *)buf + (info.boot_loader_name - base), "Keel hvmloader");
	assert_int_equal(info.mods_count, 1);
	struct mb1_module m;
	memcpy(&m, buf + (info.mods_addr - base), sizeof(m));
	assert_int_equal(m.mod_start, 0x3fff000);
	assert_int_equal(m.mod_end, 0x3fff01d);
	assert_string_equal((char *)buf + (m.string - base), "rd.txt");
	/* The map: the E820 entries with size 20 in front of each. */
	assert_int_equal(info.mmap_length, n * 24);
	for (unsigned i = 0; i < n; i++) {
		struct mb1_mmap_entry me;
		memcpy(&me, buf + (info.mmap_addr - base) + 24 * i, sizeof(me));
		assert_int_equal(me.size, 20);
		assert_int_equal(me.addr, e[i].start);
		assert_int_equal(me.len, e[i].size);
		assert_int_equal(me.type, e[i].type);
	}
	/* No module, no command line: those flags are clear. */
	struct mb1_boot b2 = { e, n, NULL, NULL, 0, 0, NULL, NULL };
	assert_true(mb1_info_build(buf, sizeof(buf), base, &b2) > 0);
	memcpy(&info, buf, sizeof(info));
	assert_int_equal(info.flags, MB1_INFO_MEMORY | MB1_INFO_MEM_MAP);
	/* Only the name: the command line is the name alone, as GRUB gives it. */
	struct mb1_boot b4 = { e, n, "k.elf", NULL, 0, 0, NULL, NULL };
	assert_true(mb1_info_build(buf, sizeof(buf), base, &b4) > 0);
	memcpy(&info, buf, sizeof(info));
	assert_true(info.flags & MB1_INFO_CMDLINE);
	assert_string_equal((char *)buf + (info.cmdline - base), "k.elf");
	/* Too small a buffer: 0 at every size short of what it needs. */
	for (uint32_t s = 0; s < used; s++)
		assert_int_equal(mb1_info_build(buf, s, base, &b), 0);
	/* A map without RAM at 1 MiB cannot give mem_upper. */
	struct mb1_boot b3 = { e, 1, NULL, NULL, 0, 0, NULL, NULL };
	assert_int_equal(mb1_info_build(buf, sizeof(buf), base, &b3), 0);
}

/* A bzImage-shaped image: 4 setup sectors (+ boot sector), protocol 2.15. */
static uint32_t make_bzimage(void)
{
	memset(img, 0, sizeof(img));
	img[LX_SETUP_SECTS] = 4;
	put16(img + 0x1fe, 0xaa55);
	img[LX_JUMP] = 0xeb;
	img[LX_JUMP + 1] = 0x6a; /* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, 0x020f);
	img[LX_LOADFLAGS] = 0x01;
	put32(img + LX_CODE32_START, 0x100000);
	put32(img + LX_INITRD_ADDR_MAX, 0x7fffffff);
	put32(img + LX_KERNEL_ALIGNMENT, 0x200000);
	img[LX_RELOCATABLE] = 1;
	put32(img + LX_CMDLINE_SIZE, 2047);
	uint64_t pref = 0x1000000;
	memcpy(img + LX_PREF_ADDRESS, &pref, 8);
	put32(img + LX_INIT_SIZE, 0x3f98000);
	put32(img + 0x250, 0x12345678); /* payload_offset: copied as it is */
	return sizeof(img);
}

static void test_linux_header(void **state)
{
	struct linux_kernel k;
	uint32_t len = make_bzimage();
	assert_int_equal(linux_parse(img, len, &k, err, sizeof(err)), 0);
	assert_int_equal(k.version, 0x020f);
	assert_int_equal(k.setup_size, 5 * 512);
	assert_int_equal(k.pm_offset, 5 * 512);
	assert_int_equal(k.pm_size, len - 5 * 512);
	assert_int_equal(k.header_end, 0x26c);
	assert_int_equal(k.cmdline_max, 2047);
	/* Relocatable: it decompresses at its preferred 16 MiB. */
	assert_int_equal(linux_footprint_end(&k), 0x1000000 + 0x3f98000);
	img[LX_RELOCATABLE] = 0;
	assert_int_equal(linux_parse(img, len, &k, err, sizeof(err)), 0);
	assert_int_equal(linux_footprint_end(&k), 0x100000 + 0x3f98000);

	make_bzimage();
	put16(img + 0x206, 0x0208);
	assert_int_equal(linux_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2.08"));
	make_bzimage();
	img[LX_SETUP_SECTS] = 200; /* setup longer than the file */
	assert_int_equal(linux_parse(img, 0x8000, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "setup code"));
	make_bzimage();
	put32(img + LX_CODE32_START, 0x200000);
	assert_int_equal(linux_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "code32_start"));
	make_bzimage();
	put32(img + LX_INIT_SIZE, 0x100);
	assert_int_equal(linux_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "init_size"));
	make_bzimage();
	img[LX_JUMP + 1] = 0xf0; /* header claims to run into the E820 table */
	assert_int_equal(linux_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "setup header ending"));
	make_bzimage();
	mb1_header(0x100, 0);
	assert_int_equal(linux_parse(img, len, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "multiboot1 kernel"));
	/* Truncations: refused until the setup code and some code fit. */
	make_bzimage();
	for (uint32_t n = 0; n <= 5 * 512; n++)
		assert_int_equal(linux_parse(img, n, &k, err, sizeof(err)), -1);
	assert_int_equal(linux_parse(img, 5 * 512 + 1, &k, err, sizeof(err)), 0);
}

static void test_linux_zero_page(void **state)
{
	static uint8_t zp[LINUX_ZERO_PAGE_SIZE];
	struct linux_kernel k;
	uint32_t len = make_bzimage();
	assert_int_equal(linux_parse(img, len, &k, err, sizeof(err)), 0);
	struct e820_entry e[5];
	unsigned n = e820_build(e, 5, 192u << 20, 0, 0xa0000, 0);
	struct linux_boot b = { e, n, 0x11000, 0xbffd000, 0x2800 };
	memset(zp, 0xcc, sizeof(zp));
	assert_int_equal(linux_zero_page_build(zp, img, &k, &b), 0);
	/* The image's header is there (a field the loader does not own). */
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(get32(zp + 0x250), 0x12345678);
	assert_int_equal(zp[LX_SETUP_SECTS], 4);
	/* What the loader writes. */
	assert_int_equal(zp[LX_TYPE_OF_LOADER], 0xff);
	assert_int_equal(zp[LX_LOADFLAGS], 0x01);
	assert_int_equal(get32(zp + LX_CODE32_START), 0x100000);
	assert_int_equal(get32(zp + LX_CMD_LINE_PTR), 0x11000);
	assert_int_equal(get32(zp + LX_RAMDISK_IMAGE), 0xbffd000);
	assert_int_equal(get32(zp + LX_RAMDISK_SIZE), 0x2800);
	assert_int_equal(zp[LX_VID_MODE], 0xff);
	assert_int_equal(zp[LX_VID_MODE + 1], 0xff);
	/* Everything outside the header and the fields above is zero. */
	assert_int_equal(zp[0], 0);
	assert_int_equal(zp[0x1f0], 0);
	assert_int_equal(zp[0x26c], 0);
	assert_int_equal(zp[0xfff], 0);
	/* E820, as the guest's map. */
	assert_int_equal(zp[LX_E820_ENTRIES], n);
	for (unsigned i = 0; i < n; i++)
		assert_memory_equal(zp + LX_E820_TABLE + 20 * i, &e[i], 20);
	assert_int_equal(zp[LX_E820_TABLE + 20 * n], 0);
	/* No initrd: both fields zero. */
	b.initrd_size = 0;
	assert_int_equal(linux_zero_page_build(zp, img, &k, &b), 0);
	assert_int_equal(get32(zp + LX_RAMDISK_IMAGE), 0);
	assert_int_equal(get32(zp + LX_RAMDISK_SIZE), 0);
	/* More E820 entries than the zero page holds. */
	b.e820_nr = LX_E820_MAX + 1;
	assert_int_equal(linux_zero_page_build(zp, img, &k, &b), -1);
}

/* hvmloader's start-info check takes a kernel instead of SeaBIOS: no
 * firmware image then, and never both. */
/* A guest with RAM above 4 GiB: mem_upper is the RAM from 1 MiB up to the
 * hole (the multiboot1 definition: up to the first hole), and the map and
 * Linux's E820 table carry the entry at 4 GiB. */
static void test_ram_above_4g_in_boot_info(void **state)
{
	static uint8_t buf[4096], zp[LINUX_ZERO_PAGE_SIZE];
	struct e820_entry e[5];
	unsigned n = e820_build(e, 5, 0xe0000000, 3ULL << 30, 0xa0000, 0);
	assert_int_equal(n, 4);
	struct mb1_boot b = { e, n, "k.elf", "", 0, 0, NULL, "Keel hvmloader" };
	assert_true(mb1_info_build(buf, sizeof(buf), 0x10000, &b) > 0);
	struct mb1_info info;
	memcpy(&info, buf, sizeof(info));
	assert_int_equal(info.mem_upper, (0xe0000000 - 0x100000) >> 10);
	struct mb1_mmap_entry me;
	memcpy(&me, buf + (info.mmap_addr - 0x10000) + 24 * 3, sizeof(me));
	assert_int_equal(me.size, 20);
	assert_int_equal(me.addr, 1ULL << 32);
	assert_int_equal(me.len, 3ULL << 30);
	assert_int_equal(me.type, E820_RAM);

	struct linux_kernel k;
	uint32_t len = make_bzimage();
	assert_int_equal(linux_parse(img, len, &k, err, sizeof(err)), 0);
	struct linux_boot lb = { e, n, 0x11000, 0, 0 };
	assert_int_equal(linux_zero_page_build(zp, img, &k, &lb), 0);
	assert_int_equal(zp[LX_E820_ENTRIES], 4);
	assert_memory_equal(zp + LX_E820_TABLE + 20 * 3, &e[3], 20);
	uint64_t start, size;
	memcpy(&start, zp + LX_E820_TABLE + 60, 8);
	memcpy(&size, zp + LX_E820_TABLE + 68, 8);
	assert_int_equal(start, 1ULL << 32);
	assert_int_equal(size, 3ULL << 30);
}

static void test_start_info_kernel(void **state)
{
	struct hvmloader_start_info si;
	uint32_t bios_start = 1;
	memset(&si, 0, sizeof(si));
	si.magic = HVMLOADER_START_MAGIC;
	si.version = HVMLOADER_START_VERSION;
	si.size = sizeof(si);
	si.ram_below_4g = 64u << 20;
	si.kernel_paddr = 0x3000000;
	si.kernel_size = 0x10000;
	assert_int_equal(start_info_check(HVMLOADER_START_MAGIC, &si, &bios_start, err, sizeof(err)), 0);
	assert_int_equal(bios_start, 0);
	si.firmware_paddr = HVMLOADER_STAGING_ADDR;
	si.firmware_size = 0x40000;
	assert_int_equal(start_info_check(HVMLOADER_START_MAGIC, &si, &bios_start, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "both a kernel and a SeaBIOS image"));
	si.kernel_size = 0; /* the firmware path again */
	assert_int_equal(start_info_check(HVMLOADER_START_MAGIC, &si, &bios_start, err, sizeof(err)), 0);
	assert_int_equal(bios_start, 0xc0000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind),          cmocka_unit_test(test_mb1_elf),
		cmocka_unit_test(test_mb1_aout),      cmocka_unit_test(test_mb1_info),
		cmocka_unit_test(test_start_info_kernel), cmocka_unit_test(test_ram_above_4g_in_boot_info),
		cmocka_unit_test(test_linux_header),  cmocka_unit_test(test_linux_zero_page),
	};
	return cmocka_run_group_tests_name("direct_boot", tests, NULL, NULL);
}
