/*
 * Multiboot2 boot information parser (multiboot2 spec, "Boot information
 * format"). Everything is bounds-checked against total_size and `avail`;
 * a block that does not add up is rejected with a reason.
 */
#include <keel/bootinfo.h>
#include <keel/format.h>
#include <keel/string.h>

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void warn(struct bootinfo *bi, const char *msg)
{
	if (bi->nr_warnings < 8)
		kstrlcpy(bi->warnings[bi->nr_warnings++], msg, sizeof(bi->warnings[0]));
}

/* Copies a string that must end inside [p, p+len). */
static int copy_string(struct bootinfo *bi, char *dst, size_t dstlen, const uint8_t *p, size_t len, const char *what)
{
	size_t n = strnlen((const char *)p, len);
	if (n == len)
		return -1; /* not NUL-terminated within its tag */
	if (n >= dstlen) {
		char w[96];
		ksnprintf(w, sizeof(w), "%s is %zu bytes long; truncated to %zu", what, n, dstlen - 1);
		warn(bi, w);
	}
	size_t c = n < dstlen ? n : dstlen - 1;
	memcpy(dst, p, c);
	dst[c] = 0;
	return 0;
}

const char *mem_region_type_name(uint32_t type)
{
	switch (type) {
	case 1:
		return "RAM";
	case 3:
		return "ACPI reclaimable";
	case 4:
		return "ACPI NVS";
	case 5:
		return "bad RAM";
	default:
		return "reserved";
	}
}

#define FAIL(...)                                         \
	do {                                              \
		ksnprintf(err, errlen, __VA_ARGS__);      \
		return -1;                                \
	} while (0)

int mb2_parse(const void *info, size_t avail, uint64_t info_phys, struct bootinfo *bi, char *err, size_t errlen)
{
	const uint8_t *base = info;
	bool end_seen = false;

	memset(bi, 0, sizeof(*bi));
	if (info_phys & 7)
		FAIL("the information block at %#lx is not 8-byte aligned", (unsigned long)info_phys);
	if (avail < 16)
		FAIL("only %zu bytes available, less than the 16-byte minimum", avail);
	uint32_t total = rd32(base);
	if (total < 16)
		FAIL("total_size %u is smaller than the 16-byte minimum", total);
	if (total > avail)
		FAIL("total_size %u exceeds the %zu bytes available", total, avail);
	if (total & 7)
		FAIL("total_size %u is not a multiple of 8", total);
	bi->info_start = info_phys;
	bi->info_end = info_phys + total;

	size_t off = 8;
	while (off < total) {
		if (total - off < 8)
			FAIL("tag at offset %#zx: header does not fit in total_size %u", off, total);
		const uint8_t *t = base + off;
		uint32_t type = rd32(t), size = rd32(t + 4);
		if (size < 8)
			FAIL("tag %u at offset %#zx: size %u is smaller than its header", type, off, size);
		if (size > total - off)
			FAIL("tag %u at offset %#zx: size %u runs past total_size %u", type, off, size, total);
		const uint8_t *body = t + 8;
		size_t blen = size - 8;

		switch (type) {
		case MB2_TAG_END:
			if (size != 8)
				FAIL("end tag at offset %#zx has size %u, expected 8", off, size);
			end_seen = true;
			break;
		case MB2_TAG_CMDLINE:
			if (copy_string(bi, bi->cmdline, sizeof(bi->cmdline), body, blen, "the command line") < 0)
				FAIL("command-line tag at offset %#zx is not NUL-terminated", off);
			break;
		case MB2_TAG_LOADER_NAME:
			if (copy_string(bi, bi->loader_name, sizeof(bi->loader_name), body, blen, "the loader name") <
			    0)
				FAIL("loader-name tag at offset %#zx is not NUL-terminated", off);
			break;
		case MB2_TAG_MODULE: {
			if (blen < 8)
				FAIL("module tag at offset %#zx: size %u is too small", off, size);
			uint32_t start = rd32(body), end = rd32(body + 4);
			if (end < start)
				FAIL("module tag at offset %#zx: end %#x is below start %#x", off, end, start);
			if (bi->nr_modules == BOOTINFO_MAX_MODULES) {
				warn(bi, "more than 32 modules; the rest are ignored");
				break;
			}
			struct boot_module *m = &bi->modules[bi->nr_modules];
			char s[128];
			if (copy_string(bi, s, sizeof(s), body + 8, blen - 8, "a module string") < 0)
				FAIL("module tag at offset %#zx: string is not NUL-terminated", off);
			/* The string after the file name: "NAME [ARGS...]". */
			const char *p = s;
			while (*p == ' ')
				p++;
			size_t n = 0;
			while (p[n] && p[n] != ' ')
				n++;
			if (n >= sizeof(m->name)) {
				warn(bi, "a module name is longer than 31 characters; truncated");
				n = sizeof(m->name) - 1;
			}
			memcpy(m->name, p, n);
			m->name[n] = 0;
			p += n;
			while (*p && *p != ' ')
				p++;
			while (*p == ' ')
				p++;
			kstrlcpy(m->args, p, sizeof(m->args));
			m->start = start;
			m->end = end;
			bi->nr_modules++;
			break;
		}
		case MB2_TAG_MEMINFO:
			if (blen < 8)
				FAIL("basic memory tag at offset %#zx: size %u is too small", off, size);
			bi->have_meminfo = true;
			bi->mem_lower_kb = rd32(body);
			bi->mem_upper_kb = rd32(body + 4);
			break;
		case MB2_TAG_MMAP: {
			if (blen < 8)
				FAIL("memory-map tag at offset %#zx: size %u is too small", off, size);
			uint32_t esize = rd32(body);
			if (esize < 24 || esize % 8)
				FAIL("memory-map tag at offset %#zx: entry_size %u (must be >= 24, a multiple of 8)", off,
				     esize);
			size_t n = (blen - 8) / esize;
			if ((blen - 8) % esize)
				warn(bi, "the memory map has a partial entry at its end; ignored");
			for (size_t i = 0; i < n; i++) {
				const uint8_t *e = body + 8 + i * esize;
				if (bi->nr_mmap == BOOTINFO_MAX_MMAP) {
					warn(bi, "more than 128 memory-map entries; the rest are ignored");
					break;
				}
				uint64_t b = rd64(e), l = rd64(e + 8);
				if (l == 0)
					continue;
				if (b + l < b)
					FAIL("memory-map entry %zu (%#lx + %#lx) wraps around", i, (unsigned long)b,
					     (unsigned long)l);
				bi->mmap[bi->nr_mmap++] = (struct mem_region){ b, l, rd32(e + 16) };
			}
			break;
		}
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW: {
			size_t need = type == MB2_TAG_ACPI_OLD ? 20 : 36;
			if (blen < need)
				FAIL("ACPI RSDP tag %u at offset %#zx: %zu bytes, expected %zu", type, off, blen, need);
			/* The new (ACPI 2.0+) RSDP wins over the old one. */
			if (bi->rsdp_len == 0 || type == MB2_TAG_ACPI_NEW) {
				memcpy(bi->rsdp, body, need);
				bi->rsdp_len = (unsigned)need;
				bi->rsdp_revision = body[15];
			}
			break;
		}
		default:
			break; /* other tags: not needed by Keel */
		}
		if (end_seen)
			break;
		off += (size + 7) & ~7u;
	}
	if (!end_seen)
		FAIL("no end tag within total_size %u", total);
	if (bi->nr_mmap == 0)
		FAIL("no memory map (tag 6): Keel cannot tell where RAM is");
	return 0;
}

const struct boot_module *bootinfo_find_module(const struct bootinfo *bi, const char *name)
{
	for (unsigned i = 0; i < bi->nr_modules; i++)
		if (!strcmp(bi->modules[i].name, name))
			return &bi->modules[i];
	return NULL;
}
