/*
 * Multiboot1 kernels (see multiboot1.h): the header, the ELF32 program
 * headers or the a.out-kludge address fields, and the information block.
 * The image is untrusted: every offset and size is checked against the
 * image length with 64-bit arithmetic so nothing wraps.
 */
#include <keel/format.h>
#include <keel/kernel_image.h>
#include <keel/string.h>

#include "multiboot1.h"

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1

struct elf32_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __attribute__((packed));

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __attribute__((packed));

/* The header's fields after magic, flags, checksum (used with flag 16). */
struct mb1_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} __attribute__((packed));

#define FOUR_GIB 0x100000000ULL

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

static int add_segment(struct mb1_kernel *k, uint32_t paddr, uint32_t off, uint32_t filesz, uint32_t memsz,
		       char *err, size_t errlen)
{
	if (k->nr_segments == MB1_MAX_SEGMENTS)
		return fail(err, errlen, "has more than %d loadable segments", MB1_MAX_SEGMENTS);
	/* Ending at 4 GiB exactly is refused too: [lowest, highest) is kept
	 * in 32 bits, and no guest has RAM there (the APIC and firmware do). */
	if ((uint64_t)paddr + memsz >= FOUR_GIB)
		return fail(err, errlen, "has a segment at %#x of %#x bytes that reaches 4 GiB", paddr, memsz);
	k->seg[k->nr_segments++] = (struct mb1_segment){ paddr, off, filesz, memsz };
	if (k->nr_segments == 1 || paddr < k->lowest)
		k->lowest = paddr;
	if (k->nr_segments == 1 || paddr + memsz > k->highest)
		k->highest = paddr + memsz;
	return 0;
}

static int parse_aout(const uint8_t *img, uint32_t len, uint32_t hoff, struct mb1_kernel *k, char *err,
		      size_t errlen)
{
	struct mb1_header h;
	if ((uint64_t)hoff + sizeof(h) > len)
		return fail(err, errlen, "sets header flag 16 (a.out kludge) but its header is cut short");
	memcpy(&h, img + hoff, sizeof(h));
	/* The header sits at header_addr once loaded; load_addr is where the
	 * file byte (hoff - (header_addr - load_addr)) goes. */
	if (h.load_addr > h.header_addr || h.header_addr - h.load_addr > hoff)
		return fail(err, errlen, "a.out kludge: load_addr %#x and header_addr %#x put the load start before "
				    "the beginning of the file", h.load_addr, h.header_addr);
	uint32_t file_off = hoff - (h.header_addr - h.load_addr);
	uint64_t file_len = h.load_end_addr ? (uint64_t)h.load_end_addr - h.load_addr : (uint64_t)len - file_off;
	if (h.load_end_addr && h.load_end_addr <= h.load_addr)
		return fail(err, errlen, "a.out kludge: load_end_addr %#x is not above load_addr %#x",
			    h.load_end_addr, h.load_addr);
	if (file_off + file_len > len)
		return fail(err, errlen, "a.out kludge: load_addr..load_end_addr (%#llx bytes) runs past the end of "
				    "the %u-byte file", (unsigned long long)file_len, len);
	uint64_t mem_len = file_len;
	if (h.bss_end_addr) {
		if (h.bss_end_addr < h.load_addr + file_len)
			return fail(err, errlen, "a.out kludge: bss_end_addr %#x is below the end of the loaded data",
				    h.bss_end_addr);
		mem_len = (uint64_t)h.bss_end_addr - h.load_addr;
	}
	if (h.entry_addr < h.load_addr || h.entry_addr >= h.load_addr + mem_len)
		return fail(err, errlen, "a.out kludge: entry_addr %#x is outside the loaded image %#x-%#llx",
			    h.entry_addr, h.load_addr, (unsigned long long)(h.load_addr + mem_len));
	k->entry = h.entry_addr;
	k->aout_kludge = 1;
	return add_segment(k, h.load_addr, file_off, (uint32_t)file_len, (uint32_t)mem_len, err, errlen);
}

static int parse_elf(const uint8_t *img, uint32_t len, struct mb1_kernel *k, char *err, size_t errlen)
{
	struct elf32_ehdr eh;
	if (len < sizeof(eh) || memcmp(img, "\177ELF", 4))
		return fail(err, errlen, "is neither an ELF file nor flagged for the a.out kludge (header flag 16)");
	memcpy(&eh, img, sizeof(eh));
	if (eh.ident[EI_CLASS] == ELFCLASS64)
		return fail(err, errlen, "is a 64-bit ELF; multiboot1 kernels here must be ELF32 (or use the a.out "
				    "kludge, header flag 16)");
	if (eh.ident[EI_CLASS] != ELFCLASS32 || eh.ident[EI_DATA] != ELFDATA2LSB || eh.machine != EM_386 ||
	    eh.type != ET_EXEC)
		return fail(err, errlen, "is not a little-endian i386 ELF32 executable (class %u, machine %u, type %u)",
			    eh.ident[EI_CLASS], eh.machine, eh.type);
	if (eh.phentsize < sizeof(struct elf32_phdr) || eh.phnum == 0 ||
	    (uint64_t)eh.phoff + (uint64_t)eh.phnum * eh.phentsize > len)
		return fail(err, errlen, "has ELF program headers outside the file (phoff %#x, %u x %u bytes)", eh.phoff,
			    eh.phnum, eh.phentsize);
	k->entry = eh.entry;
	int entry_found = 0;
	for (unsigned i = 0; i < eh.phnum; i++) {
		struct elf32_phdr ph;
		memcpy(&ph, img + eh.phoff + (uint64_t)i * eh.phentsize, sizeof(ph));
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.filesz > ph.memsz)
			return fail(err, errlen, "ELF segment %u has p_filesz %#x larger than p_memsz %#x", i, ph.filesz,
				    ph.memsz);
		if ((uint64_t)ph.offset + ph.filesz > len)
			return fail(err, errlen, "ELF segment %u (offset %#x, %#x bytes) runs past the end of the %u-byte "
					    "file", i, ph.offset, ph.filesz, len);
		/* Multiboot loads at the physical address; an entry point given
		 * as a virtual address inside a segment is translated, as GRUB
		 * does. */
		if (eh.entry >= ph.vaddr && eh.entry - ph.vaddr < ph.memsz && !entry_found) {
			k->entry = eh.entry - ph.vaddr + ph.paddr;
			entry_found = 1;
		}
		if (add_segment(k, ph.paddr, ph.offset, ph.filesz, ph.memsz, err, errlen) < 0)
			return -1;
	}
	if (k->nr_segments == 0)
		return fail(err, errlen, "has no loadable ELF segment");
	if (!entry_found)
		return fail(err, errlen, "has its ELF entry point %#x outside every loadable segment", eh.entry);
	return 0;
}

int mb1_parse(const uint8_t *img, uint32_t len, struct mb1_kernel *k, char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	long hoff = mb1_find_header(img, len);
	if (hoff < 0)
		return fail(err, errlen, "has no multiboot1 header (magic 0x1BADB002, valid checksum) in its first 8 KiB");
	uint32_t flags;
	memcpy(&flags, img + hoff + 4, 4);
	k->header_flags = flags;
	uint32_t unknown = flags & 0xffffu & ~(MB1_HF_PAGE_ALIGN | MB1_HF_MEMORY_INFO | MB1_HF_VIDEO_MODE);
	if (unknown)
		return fail(err, errlen, "requires features this loader does not know (header flags %#x)", unknown);
	if (flags & MB1_HF_VIDEO_MODE)
		return fail(err, errlen, "requires a video mode (header flag 2); Keel's guests have no display");
	if (flags & MB1_HF_AOUT_KLUDGE)
		return parse_aout(img, len, (uint32_t)hoff, k, err, errlen);
	return parse_elf(img, len, k, err, errlen);
}

/* --- the information block ------------------------------------------------ */

struct area {
	uint8_t *buf;
	uint32_t size, used, base;
};

/* Reserves n bytes (4-byte aligned); returns the offset, or -1. */
static long take(struct area *a, uint32_t n)
{
	uint32_t off = (a->used + 3) & ~3u;
	if (off > a->size || n > a->size - off)
		return -1;
	a->used = off + n;
	return off;
}

static long put_string(struct area *a, const char *s)
{
	size_t n = strlen(s) + 1;
	long off = n > 0xffffffu ? -1 : take(a, (uint32_t)n);
	if (off >= 0)
		memcpy(a->buf + off, s, n);
	return off;
}

uint32_t mb1_info_build(uint8_t *buf, uint32_t size, uint32_t base, const struct mb1_boot *b)
{
	struct area a = { buf, size, 0, base };
	long info_off = take(&a, sizeof(struct mb1_info));
	if (info_off < 0)
		return 0;
	struct mb1_info info;
	memset(&info, 0, sizeof(info));

	/* mem_lower: RAM at 0 (up to 640 KiB); mem_upper: the RAM range that
	 * starts at 1 MiB, as the specification defines them. */
	uint64_t lower = 0, upper = 0;
	for (unsigned i = 0; i < b->e820_nr; i++) {
		const struct e820_entry *e = &b->e820[i];
		if (e->type != E820_RAM)
			continue;
		if (e->start == 0)
			lower = e->size < 0xa0000 ? e->size : 0xa0000;
		if (e->start == 0x100000)
			upper = e->size;
	}
	if (!lower || !upper)
		return 0;
	info.flags = MB1_INFO_MEMORY | MB1_INFO_MEM_MAP;
	info.mem_lower = (uint32_t)(lower >> 10);
	info.mem_upper = upper >> 10 > 0xffffffffULL ? 0xffffffffu : (uint32_t)(upper >> 10);

	long mmap_off = take(&a, b->e820_nr * (uint32_t)sizeof(struct mb1_mmap_entry));
	if (mmap_off < 0)
		return 0;
	for (unsigned i = 0; i < b->e820_nr; i++) {
		struct mb1_mmap_entry m = { 20, b->e820[i].start, b->e820[i].size, b->e820[i].type };
		memcpy(buf + mmap_off + i * sizeof(m), &m, sizeof(m));
	}
	info.mmap_addr = base + (uint32_t)mmap_off;
	info.mmap_length = b->e820_nr * (uint32_t)sizeof(struct mb1_mmap_entry);

	if (b->cmdline || b->kernel_name) {
		const char *name = b->kernel_name ? b->kernel_name : "", *args = b->cmdline ? b->cmdline : "";
		size_t nlen = strlen(name), alen = strlen(args);
		long off = nlen + alen > 0xfffffu ? -1 : take(&a, (uint32_t)(nlen + 1 + alen + 1));
		if (off < 0)
			return 0;
		/* "NAME ARGS", "NAME" or "ARGS" */
		memcpy(buf + off, name, nlen);
		uint32_t at = (uint32_t)nlen + (nlen && alen ? 1 : 0);
		buf[off + nlen] = ' ';
		memcpy(buf + off + at, args, alen + 1);
		info.flags |= MB1_INFO_CMDLINE;
		info.cmdline = base + (uint32_t)off;
	}
	if (b->mod_end) {
		long moff = take(&a, sizeof(struct mb1_module));
		long soff = put_string(&a, b->mod_string ? b->mod_string : "");
		if (moff < 0 || soff < 0)
			return 0;
		struct mb1_module m = { b->mod_start, b->mod_end, base + (uint32_t)soff, 0 };
		memcpy(buf + moff, &m, sizeof(m));
		info.flags |= MB1_INFO_MODS;
		info.mods_count = 1;
		info.mods_addr = base + (uint32_t)moff;
	}
	if (b->loader_name) {
		long off = put_string(&a, b->loader_name);
		if (off < 0)
			return 0;
		info.flags |= MB1_INFO_LOADER_NAME;
		info.boot_loader_name = base + (uint32_t)off;
	}
	memcpy(buf + info_off, &info, sizeof(info));
	return a.used;
}
