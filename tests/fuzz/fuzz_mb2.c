/*
 * libFuzzer harness for the multiboot2 parser (lib/mb2.c) and what Keel
 * makes of its memory map (lib/physmem.c).
 *
 * The input is the information block itself, copied into a heap buffer of
 * exactly its size so AddressSanitizer catches any read past `avail`. The
 * first byte of the input also picks the physical address passed, so the
 * alignment and wrap-around checks are reached too. When the parse
 * succeeds, the result must hold together, and so must the RAM plan made
 * from its memory map (sorted, disjoint, whole pages, inside RAM entries
 * and outside every other entry, below the address limit); a violation
 * aborts.
 *
 * Build and run (from the repository root; see docs/security.md):
 *   make build/fuzz/fuzz_mb2
 *   build/fuzz/fuzz_mb2 -max_total_time=60 tests/fuzz/corpus/mb2
 */
#include <stdlib.h>
#include <string.h>

#include <keel/bootinfo.h>
#include <keel/physmem.h>
#include <keel/fb_text.h>

static void require(int cond)
{
	if (!cond)
		abort();
}

static void require_string(const char *s, size_t size) { require(memchr(s, 0, size) != NULL); }

static int inside(uint64_t a, const struct mem_region *r) { return a >= r->base && a - r->base < r->len; }

static void check_plan(const struct bootinfo *bi, unsigned bits)
{
	static struct physmem_plan p;
	unsigned n = physmem_plan(bi->mmap, bi->nr_mmap, bits, &p);
	require(n == p.nr_ram && n <= PHYSMEM_MAX_RANGES);
	uint64_t sum = 0, limit = bits >= 36 && bits <= 46 ? 1ULL << bits : (bits > 46 && bits <= 52 ? PHYSMEM_LIMIT : 1ULL << 36);
	for (unsigned i = 0; i < n; i++) {
		const struct physmem_range *r = &p.ram[i];
		require(r->base < r->end && r->end <= limit && !(r->base % 4096) && !(r->end % 4096));
		require(i == 0 || r->base > p.ram[i - 1].end);
		sum += r->end - r->base;
		/* both ends of the range: in RAM, in nothing else */
		uint64_t probe[2] = { r->base, r->end - 1 };
		for (unsigned k = 0; k < 2; k++) {
			int ram = 0;
			for (unsigned j = 0; j < bi->nr_mmap; j++)
				if (inside(probe[k], &bi->mmap[j])) {
					require(bi->mmap[j].type == MEM_RAM);
					ram = 1;
				}
			require(ram);
		}
	}
	require(sum == p.ram_bytes && p.ram_top == (n ? p.ram[n - 1].end : 0) && p.map_top >= p.ram_top);
	require(p.nr_warnings <= PHYSMEM_MAX_WARNINGS);
	for (unsigned i = 0; i < p.nr_warnings; i++)
		require_string(p.warnings[i], sizeof(p.warnings[i]));
}

/* A framebuffer the screen console accepts is drawn on, in a heap buffer
 * of exactly its size: text, wrapping and scrolling stay inside it. */
static void draw_on(const struct boot_framebuffer *fb)
{
	char why[128];
	if (!fb_text_usable(fb, 1ULL << 32, why, sizeof(why))) {
		require(why[0] != 0);
		return;
	}
	uint64_t bytes = fb_text_bytes(fb);
	if (bytes > (1u << 20))
		return; /* keep each run fast */
	uint8_t *mem = malloc(bytes);
	struct fb_text t;
	fb_text_init(&t, fb, mem);
	static const char text[] = "keel: a line\n\ta tab, then a line long enough to wrap on a narrow screen\r\n";
	for (unsigned i = 0; i < t.rows + 2; i++)
		fb_text_write(&t, text, sizeof(text) - 1);
	char row[64];
	fb_text_read_row(&t, 0, row, sizeof(row));
	require_string(row, sizeof(row));
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bootinfo bi;
	char err[160];
	uint8_t *copy = malloc(size ? size : 1);
	if (size)
		memcpy(copy, data, size);

	static const uint64_t phys[] = { 0x100000, 0x100160, 0x100004, 0xfffffffffffffff8ULL };
	uint64_t info_phys = phys[size ? data[size - 1] % 4 : 0];
	memset(err, 'x', sizeof(err));
	int r = mb2_parse(copy, size, info_phys, &bi, err, sizeof(err));
	require(r == 0 || r == -1);
	require_string(err, sizeof(err));
	if (r < 0) {
		require(err[0] != 0); /* a reason is always given */
	} else {
		require(size >= 16 && (info_phys & 7) == 0);
		require(bi.info_start == info_phys && bi.info_end > bi.info_start);
		require(bi.info_end - bi.info_start <= size);
		require_string(bi.cmdline, sizeof(bi.cmdline));
		require_string(bi.loader_name, sizeof(bi.loader_name));
		require(bi.nr_mmap >= 1 && bi.nr_mmap <= BOOTINFO_MAX_MMAP);
		for (unsigned i = 0; i < bi.nr_mmap; i++)
			require(bi.mmap[i].len > 0 && bi.mmap[i].base + bi.mmap[i].len > bi.mmap[i].base);
		require(bi.nr_modules <= BOOTINFO_MAX_MODULES);
		for (unsigned i = 0; i < bi.nr_modules; i++) {
			const struct boot_module *m = &bi.modules[i];
			require(m->start <= m->end && m->end <= 0xffffffffULL);
			require_string(m->name, sizeof(m->name));
			require_string(m->args, sizeof(m->args));
			require(strchr(m->name, ' ') == NULL);
			const struct boot_module *f = bootinfo_find_module(&bi, m->name);
			require(m->name[0] ? f != NULL && f <= m : f == NULL);
		}
		require(bi.rsdp_len == 0 || bi.rsdp_len == 20 || bi.rsdp_len == 36);
		require(bi.nr_warnings <= BOOTINFO_MAX_WARNINGS);
		for (unsigned i = 0; i < bi.nr_warnings; i++)
			require_string(bi.warnings[i], sizeof(bi.warnings[i]));
		for (unsigned i = 0; i < bi.nr_mmap; i++)
			require(mem_region_type_name(bi.mmap[i].type) != NULL);
		check_plan(&bi, size ? 30u + data[0] % 26u : 36); /* widths 30-55, absurd ones included */
		draw_on(&bi.fb);
	}
	free(copy);
	return 0;
}
