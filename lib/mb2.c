/*
 * Multiboot2 boot-information parser (multiboot2 specification, "Boot
 * information format").
 *
 * The block is a u32 total_size, a u32 reserved, then tags of {u32 type,
 * u32 size} each starting on an 8-byte boundary, ending with the end tag
 * (type 0, size 8). Nothing in it is trusted: every read is checked against
 * total_size, and total_size against what the caller says may be read, so
 * a truncated or corrupt block gives a reason, never a wild read. Which
 * oddities are errors and which are warnings is listed in bootinfo.h.
 */
#include <keel/bootinfo.h>
#include <keel/format.h>
#include <keel/string.h>
#include <stdarg.h>

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_EFI64_SYSTAB 12
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

#define MB2_FIXED_SIZE 8    /* total_size, reserved */
#define MB2_TAG_HEADER 8    /* type, size */
#define MB2_MIN_TOTAL 16    /* the fixed part and an end tag */
#define MB2_MMAP_ENTRY 24   /* u64 base, u64 length, u32 type, u32 reserved */
/* Framebuffer tag body: u64 address, u32 pitch, width, height, u8 bpp,
 * u8 type, u16 reserved; then, for direct RGB colour, the position and
 * size of the red, green and blue fields (one byte each). */
#define MB2_FB_COMMON 24
#define MB2_FB_RGB_INFO 6
#define RSDP_V1_SIZE 20     /* ACPI 1.0 RSDP */
#define RSDP_V2_SIZE 36     /* ACPI 2.0+ RSDP (XSDT address, extended checksum) */

/* Highest end Keel accepts for a memory-map entry: one page below 2^64, so
 * base + len never wraps in code that uses the map. */
#define MMAP_TOP 0xfffffffffffff000ULL

struct mb2_parser {
	const uint8_t *base;
	uint32_t total;
	struct bootinfo *bi;
	char *err;
	size_t errlen;
	bool seen_cmdline, seen_loader, seen_meminfo, seen_mmap;
	bool warned_modules, warned_mmap;
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v)); /* the caller's buffer need not be aligned */
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static int fail(struct mb2_parser *mp, const char *fmt, ...) __printf(2, 3);
static int fail(struct mb2_parser *mp, const char *fmt, ...)
{
	va_list ap;
	if (mp->err && mp->errlen) {
		va_start(ap, fmt);
		kvsnprintf(mp->err, mp->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Records a warning once; identical ones are not repeated. */
static void warn(struct bootinfo *bi, const char *fmt, ...) __printf(2, 3);
static void warn(struct bootinfo *bi, const char *fmt, ...)
{
	char msg[sizeof(bi->warnings[0])];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (unsigned i = 0; i < bi->nr_warnings; i++)
		if (!strcmp(bi->warnings[i], msg))
			return;
	if (bi->nr_warnings < BOOTINFO_MAX_WARNINGS)
		kstrlcpy(bi->warnings[bi->nr_warnings++], msg, sizeof(msg));
	else
		bi->warnings_dropped++;
}

const char *mem_region_type_name(uint32_t type)
{
	switch (type) {
	case MEM_RAM:
		return "RAM";
	case MEM_ACPI_RECLAIM:
		return "ACPI reclaimable";
	case MEM_ACPI_NVS:
		return "ACPI NVS";
	case MEM_BAD:
		return "bad RAM";
	default:
		return "reserved";
	}
}

static const char *tag_name(uint32_t type)
{
	switch (type) {
	case MB2_TAG_CMDLINE:
		return "command line";
	case MB2_TAG_LOADER_NAME:
		return "boot loader name";
	case MB2_TAG_MODULE:
		return "module";
	case MB2_TAG_MEMINFO:
		return "basic memory info";
	case MB2_TAG_MMAP:
		return "memory map";
	case MB2_TAG_ACPI_OLD:
		return "ACPI 1.0 RSDP";
	case MB2_TAG_ACPI_NEW:
		return "ACPI 2.0 RSDP";
	case MB2_TAG_FRAMEBUFFER:
		return "framebuffer";
	case MB2_TAG_EFI64_SYSTAB:
		return "EFI 64-bit system table";
	default:
		return "unknown";
	}
}

/* A tag shorter than its fixed fields: the header counts the 8 bytes of
 * type and size plus those fields (16 for a memory map: entry_size and
 * entry_version; the whole RSDP for tags 14/15). */
static int too_small(struct mb2_parser *mp, uint32_t type, uint32_t off, size_t blen, size_t need)
{
	return fail(mp, "tag %u at offset %#x: size %zu is smaller than its header (%s tags have %zu)", type, off,
		    blen + MB2_TAG_HEADER, tag_name(type), need + MB2_TAG_HEADER);
}

/* Length of the NUL-terminated string at p, which must end before p+len;
 * -1 if there is no NUL in [p, p+len). */
static long bounded_strlen(const uint8_t *p, size_t len)
{
	const uint8_t *nul = memchr(p, 0, len);
	return nul ? (long)(nul - p) : -1;
}

/* Copies n bytes of string into dst (dstlen bytes), cutting if needed;
 * returns true if it was cut. */
static bool copy_cut(char *dst, size_t dstlen, const uint8_t *src, size_t n)
{
	size_t c = n < dstlen ? n : dstlen - 1;
	memcpy(dst, src, c);
	dst[c] = 0;
	return c < n;
}

static bool is_blank(uint8_t c) { return c == ' ' || c == '\t'; }

/* Tag 1 or 2: a NUL-terminated string. */
static int parse_string_tag(struct mb2_parser *mp, uint32_t type, uint32_t off, const uint8_t *body, size_t blen)
{
	struct bootinfo *bi = mp->bi;
	bool cmd = type == MB2_TAG_CMDLINE;
	long n = bounded_strlen(body, blen);
	if (n < 0)
		return fail(mp, "tag %u at offset %#x: the %s is not NUL-terminated within the tag", type, off,
			    tag_name(type));
	bool *seen = cmd ? &mp->seen_cmdline : &mp->seen_loader;
	if (*seen) {
		warn(bi, "a second %s tag (offset %#x) was ignored", tag_name(type), off);
		return 0;
	}
	*seen = true;
	char *dst = cmd ? bi->cmdline : bi->loader_name;
	size_t dstlen = cmd ? sizeof(bi->cmdline) : sizeof(bi->loader_name);
	if (copy_cut(dst, dstlen, body, (size_t)n))
		warn(bi, "the %s is %ld bytes long; only the first %zu were kept", tag_name(type), n, dstlen - 1);
	return 0;
}

/* Tag 3: u32 mod_start, u32 mod_end (exclusive), then "NAME ARGS..." (the
 * words after the file name on GRUB's module2 line). */
static int parse_module(struct mb2_parser *mp, uint32_t off, const uint8_t *body, size_t blen)
{
	struct bootinfo *bi = mp->bi;
	if (blen < 8)
		return too_small(mp, MB2_TAG_MODULE, off, blen, 8);
	uint32_t start = rd32(body), end = rd32(body + 4);
	if (end < start)
		return fail(mp, "tag 3 at offset %#x: module end %#x is below its start %#x", off, end, start);
	const uint8_t *s = body + 8;
	long slen = bounded_strlen(s, blen - 8);
	if (slen < 0)
		return fail(mp, "tag 3 at offset %#x: the module string is not NUL-terminated within the tag", off);
	if (bi->nr_modules == BOOTINFO_MAX_MODULES) {
		if (!mp->warned_modules)
			warn(bi, "more than %d modules; the rest are ignored", BOOTINFO_MAX_MODULES);
		mp->warned_modules = true;
		return 0;
	}
	unsigned idx = bi->nr_modules++;
	struct boot_module *m = &bi->modules[idx];
	m->start = start;
	m->end = end;

	size_t i = 0, n = (size_t)slen;
	while (i < n && is_blank(s[i]))
		i++;
	size_t name_at = i;
	while (i < n && !is_blank(s[i]))
		i++;
	if (copy_cut(m->name, sizeof(m->name), s + name_at, i - name_at))
		warn(bi, "module %u: name \"%.40s...\" is longer than %zu characters; cut", idx, m->name,
		     sizeof(m->name) - 1);
	while (i < n && is_blank(s[i]))
		i++;
	if (copy_cut(m->args, sizeof(m->args), s + i, n - i))
		warn(bi, "module %u (%.31s): arguments longer than %zu characters; cut", idx, m->name,
		     sizeof(m->args) - 1);
	if (!m->name[0])
		warn(bi, "module %u at %#x has no name; no guest can refer to it", idx, start);
	for (unsigned j = 0; j < idx && m->name[0]; j++)
		if (!strcmp(bi->modules[j].name, m->name))
			warn(bi, "modules %u and %u are both named \"%.31s\"; the first is used", j, idx, m->name);
	return 0;
}

/* Tag 4: u32 mem_lower, u32 mem_upper, both in KiB. */
static int parse_meminfo(struct mb2_parser *mp, uint32_t off, const uint8_t *body, size_t blen)
{
	if (blen < 8)
		return too_small(mp, MB2_TAG_MEMINFO, off, blen, 8);
	if (mp->seen_meminfo) {
		warn(mp->bi, "a second basic memory info tag (offset %#x) was ignored", off);
		return 0;
	}
	mp->seen_meminfo = true;
	mp->bi->have_meminfo = true;
	mp->bi->mem_lower_kb = rd32(body);
	mp->bi->mem_upper_kb = rd32(body + 4);
	return 0;
}

/* Tag 6: u32 entry_size, u32 entry_version, then entries of entry_size
 * bytes, of which Keel reads the first 24 (later versions may append). */
static int parse_mmap(struct mb2_parser *mp, uint32_t off, const uint8_t *body, size_t blen)
{
	struct bootinfo *bi = mp->bi;
	if (blen < 8)
		return too_small(mp, MB2_TAG_MMAP, off, blen, 8);
	uint32_t esize = rd32(body);
	if (esize < MB2_MMAP_ENTRY || esize % 8)
		return fail(mp, "tag 6 at offset %#x: memory-map entry_size %u (must be >= 24 and a multiple of 8)", off,
			    esize);
	size_t bytes = blen - 8;
	if (bytes % esize)
		return fail(mp, "tag 6 at offset %#x: %zu bytes of memory-map entries are not a whole number of "
				"%u-byte entries", off, bytes, esize);
	if (mp->seen_mmap) {
		warn(bi, "a second memory map tag (offset %#x) was ignored", off);
		return 0;
	}
	mp->seen_mmap = true;
	size_t n = bytes / esize;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = body + 8 + i * esize;
		uint64_t base = rd64(e), len = rd64(e + 8);
		uint32_t type = rd32(e + 16);
		if (len == 0)
			continue;
		if (base >= MMAP_TOP || len > MMAP_TOP - base) {
			warn(bi, "memory-map entry %zu (%#llx, length %#llx) runs past the address space; clipped", i,
			     (unsigned long long)base, (unsigned long long)len);
			if (base >= MMAP_TOP)
				continue;
			len = MMAP_TOP - base;
		}
		if (bi->nr_mmap == BOOTINFO_MAX_MMAP) {
			if (!mp->warned_mmap)
				warn(bi, "more than %d memory-map entries; the rest are ignored", BOOTINFO_MAX_MMAP);
			mp->warned_mmap = true;
			break;
		}
		bi->mmap[bi->nr_mmap++] = (struct mem_region){ .base = base, .len = len, .type = type };
	}
	return 0;
}

static uint8_t byte_sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Tags 14/15: a copy of the RSDP. The ACPI 2.0 one wins whatever the order,
 * since only it carries the XSDT address. */
static int parse_rsdp(struct mb2_parser *mp, uint32_t type, uint32_t off, const uint8_t *body, size_t blen)
{
	struct bootinfo *bi = mp->bi;
	size_t need = type == MB2_TAG_ACPI_NEW ? RSDP_V2_SIZE : RSDP_V1_SIZE;
	if (blen < need)
		return too_small(mp, type, off, blen, need);
	if (memcmp(body, "RSD PTR ", 8))
		warn(bi, "the %s tag does not start with \"RSD PTR \"", tag_name(type));
	else if (byte_sum(body, RSDP_V1_SIZE) || (need == RSDP_V2_SIZE && byte_sum(body, RSDP_V2_SIZE)))
		warn(bi, "the RSDP in the %s tag has a bad checksum", tag_name(type));
	if (bi->rsdp_len == RSDP_V2_SIZE && type == MB2_TAG_ACPI_OLD)
		return 0;
	memcpy(bi->rsdp, body, need);
	bi->rsdp_len = (unsigned)need;
	bi->rsdp_revision = body[15];
	return 0;
}

/* Tag 12: u64 physical address of the EFI system table (GRUB passes it on
 * UEFI machines; the RSDP may be found through it, lib/efi_rsdp.c). */
static int parse_efi64_systab(struct mb2_parser *mp, uint32_t off, const uint8_t *body, size_t blen)
{
	if (blen < 8)
		return too_small(mp, MB2_TAG_EFI64_SYSTAB, off, blen, 8);
	if (!mp->bi->efi_systab)
		mp->bi->efi_systab = rd64(body);
	return 0;
}

/* Tag 8: the framebuffer the loader set up. Copied as given; whether Keel
 * can draw on it is decided by fb_text_check() (include/keel/fb_text.h). */
static int parse_framebuffer(struct mb2_parser *mp, uint32_t off, const uint8_t *body, size_t blen)
{
	struct boot_framebuffer *fb = &mp->bi->fb;
	if (blen < MB2_FB_COMMON)
		return too_small(mp, MB2_TAG_FRAMEBUFFER, off, blen, MB2_FB_COMMON);
	if (fb->present) {
		warn(mp->bi, "a second framebuffer tag (offset %#x) was ignored", off);
		return 0;
	}
	fb->present = true;
	fb->addr = rd64(body);
	fb->pitch = rd32(body + 8);
	fb->width = rd32(body + 12);
	fb->height = rd32(body + 16);
	fb->bpp = body[20];
	fb->type = body[21];
	if (fb->type == MB2_FB_TYPE_RGB) {
		/* Without its colour layout an RGB framebuffer cannot be drawn
		 * on; that is no reason to refuse the rest of the block. */
		if (blen < MB2_FB_COMMON + MB2_FB_RGB_INFO) {
			warn(mp->bi, "the framebuffer tag (offset %#x) has no colour layout; no screen output", off);
			fb->present = false;
			return 0;
		}
		memcpy(fb->rgb, body + MB2_FB_COMMON, MB2_FB_RGB_INFO);
	}
	return 0;
}

static int parse_tags(struct mb2_parser *mp)
{
	uint32_t off = MB2_FIXED_SIZE;
	while (off < mp->total) {
		/* off and total are multiples of 8, so a whole header fits. */
		const uint8_t *t = mp->base + off;
		uint32_t type = rd32(t), size = rd32(t + 4);
		if (size < MB2_TAG_HEADER)
			return fail(mp, "tag %u at offset %#x: size %u is smaller than its header", type, off, size);
		if (size > mp->total - off)
			return fail(mp, "tag %u at offset %#x: size %u runs past total_size %u", type, off, size,
				    mp->total);
		const uint8_t *body = t + MB2_TAG_HEADER;
		size_t blen = size - MB2_TAG_HEADER;
		int r = 0;
		switch (type) {
		case MB2_TAG_END:
			if (size != MB2_TAG_HEADER)
				return fail(mp, "end tag at offset %#x has size %u, not 8", off, size);
			if (mp->total - off > MB2_TAG_HEADER)
				warn(mp->bi, "%u bytes after the end tag were ignored", mp->total - off - MB2_TAG_HEADER);
			return 0;
		case MB2_TAG_CMDLINE:
		case MB2_TAG_LOADER_NAME:
			r = parse_string_tag(mp, type, off, body, blen);
			break;
		case MB2_TAG_MODULE:
			r = parse_module(mp, off, body, blen);
			break;
		case MB2_TAG_MEMINFO:
			r = parse_meminfo(mp, off, body, blen);
			break;
		case MB2_TAG_MMAP:
			r = parse_mmap(mp, off, body, blen);
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			r = parse_rsdp(mp, type, off, body, blen);
			break;
		case MB2_TAG_FRAMEBUFFER:
			r = parse_framebuffer(mp, off, body, blen);
			break;
		case MB2_TAG_EFI64_SYSTAB:
			r = parse_efi64_systab(mp, off, body, blen);
			break;
		default:
			break; /* boot device, ELF sections, EFI memory map, ...: Keel has no use for them */
		}
		if (r < 0)
			return r;
		/* Tags are padded to 8 bytes; size <= total - off and both are
		 * multiples of 8, so this neither wraps nor passes total. */
		off += (size + 7) & ~7u;
	}
	return fail(mp, "no end tag within total_size %u", mp->total);
}

int mb2_parse(const void *info, size_t avail, uint64_t info_phys, struct bootinfo *bi, char *err, size_t errlen)
{
	struct mb2_parser mp = { .base = info, .bi = bi, .err = err, .errlen = errlen };

	memset(bi, 0, sizeof(*bi));
	if (err && errlen)
		err[0] = 0;
	/* The specification puts the block on an 8-byte boundary; anything else
	 * means EBX did not point at a multiboot2 block. */
	if (info_phys & 7)
		return fail(&mp, "the information block at %#llx is not 8-byte aligned",
			    (unsigned long long)info_phys);
	if (avail < MB2_MIN_TOTAL)
		return fail(&mp, "only %zu bytes available, less than the 16-byte minimum", avail);
	uint32_t total = rd32(mp.base);
	if (total < MB2_MIN_TOTAL)
		return fail(&mp, "total_size %u is smaller than the 16-byte minimum", total);
	if (total > avail)
		return fail(&mp, "total_size %u exceeds the %zu bytes available", total, avail);
	if (total % 8)
		return fail(&mp, "total_size %u is not a multiple of 8", total);
	if (info_phys > UINT64_MAX - total)
		return fail(&mp, "the information block at %#llx wraps around the address space",
			    (unsigned long long)info_phys);
	mp.total = total;
	bi->info_start = info_phys;
	bi->info_end = info_phys + total;

	if (parse_tags(&mp) < 0)
		return -1;
	if (!mp.seen_mmap)
		return fail(&mp, "no memory map (tag 6): Keel cannot tell where RAM is");
	if (bi->nr_mmap == 0)
		return fail(&mp, "the memory map (tag 6) has no non-empty entries: Keel cannot tell where RAM is");
	return 0;
}

const struct boot_module *bootinfo_find_module(const struct bootinfo *bi, const char *name)
{
	if (!name || !name[0])
		return NULL;
	for (unsigned i = 0; i < bi->nr_modules; i++)
		if (!strcmp(bi->modules[i].name, name))
			return &bi->modules[i];
	return NULL;
}
