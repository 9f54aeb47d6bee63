/* Text on a framebuffer (lib/fb_text.c) drawn into host memory: what is
 * written reads back from the pixels, at 32, 24 and 16 bits per pixel and
 * in EGA text; lines wrap and scroll; framebuffers Keel cannot draw on are
 * refused with a reason; the font's glyphs are all distinct. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/fb_text.h>
#include <keel/font8x16.h>

static struct boot_framebuffer rgb_fb(unsigned bpp, unsigned w, unsigned h)
{
	struct boot_framebuffer fb = { .present = true, .addr = 0xe0000000, .width = w, .height = h,
				       .bpp = (uint8_t)bpp, .type = MB2_FB_TYPE_RGB };
	fb.pitch = w * bpp / 8 + 64; /* padding after each row, as real cards have */
	static const uint8_t l32[6] = { 16, 8, 8, 8, 0, 8 }, l16[6] = { 11, 5, 5, 6, 0, 5 };
	memcpy(fb.rgb, bpp == 16 ? l16 : l32, 6);
	return fb;
}

static void expect_row(const struct fb_text *t, unsigned row, const char *want)
{
	char got[256];
	fb_text_read_row(t, row, got, sizeof(got));
	if (strcmp(got, want))
		fail_msg("row %u reads \"%s\", expected \"%s\"", row, got, want);
}

static void check_depth(unsigned bpp)
{
	struct boot_framebuffer fb = rgb_fb(bpp, 160, 64); /* 20 x 4 cells */
	char why[128];
	assert_true(fb_text_usable(&fb, 1ULL << 32, why, sizeof(why)));
	uint8_t *mem = malloc(fb_text_bytes(&fb));
	memset(mem, 0xa5, fb_text_bytes(&fb));
	struct fb_text t;
	fb_text_init(&t, &fb, mem);
	assert_int_equal(t.cols, 20);
	assert_int_equal(t.rows, 4);
	expect_row(&t, 0, "");
	fb_text_write(&t, "keel: hello\n[g0] MBR loaded\tX\n", 30);
	expect_row(&t, 0, "keel: hello");
	expect_row(&t, 1, "[g0] MBR loaded X");
	/* The padding after each row is never written. */
	for (unsigned y = 0; y < fb.height; y++)
		assert_int_equal(mem[y * fb.pitch + fb.width * bpp / 8], 0xa5);
	/* A long line wraps; reaching the bottom scrolls by one row (4/4). */
	fb_text_write(&t, "abcdefghijklmnopqrstuvwxyz\n", 27);
	expect_row(&t, 0, "[g0] MBR loaded X");
	expect_row(&t, 1, "abcdefghijklmnopqrst");
	expect_row(&t, 2, "uvwxyz");
	expect_row(&t, 3, "");
	/* Bytes outside printable ASCII show as '?'. */
	fb_text_write(&t, "\x01\xff~", 3);
	expect_row(&t, 3, "??~");
	/* A pixel changed behind Keel's back makes its cell unreadable. */
	mem[3 * 16 * fb.pitch + 4 * fb.pitch + 2 * 8 * (bpp / 8)] ^= 0x55;
	expect_row(&t, 3, "???");
	free(mem);
}

static void test_rgb_depths(void **state)
{
	check_depth(32);
	check_depth(24);
	check_depth(16);
}

static void test_ega_text(void **state)
{
	struct boot_framebuffer fb = { .present = true, .addr = 0xb8000, .width = 80, .height = 25, .pitch = 160,
				       .bpp = 16, .type = MB2_FB_TYPE_EGA_TEXT };
	char why[128];
	assert_true(fb_text_usable(&fb, 1ULL << 32, why, sizeof(why)));
	static uint8_t mem[160 * 25];
	struct fb_text t;
	fb_text_init(&t, &fb, mem);
	for (int i = 0; i < 30; i++) {
		char line[16];
		int n = snprintf(line, sizeof(line), "line %d\n", i);
		fb_text_write(&t, line, (size_t)n);
	}
	/* 30 lines on 25 rows: the 25th newline scrolled by 6 rows. */
	expect_row(&t, 0, "line 6");
	expect_row(&t, 23, "line 29");
	expect_row(&t, 24, "");
	assert_int_equal(mem[1], 0x07);
}

static void expect_unusable(struct boot_framebuffer fb, const char *needle)
{
	char why[128] = "";
	assert_false(fb_text_usable(&fb, 1ULL << 32, why, sizeof(why)));
	if (!strstr(why, needle))
		fail_msg("reason \"%s\" does not mention \"%s\"", why, needle);
}

static void test_unusable(void **state)
{
	struct boot_framebuffer fb = rgb_fb(32, 640, 480);
	fb.present = false;
	expect_unusable(fb, "no framebuffer");
	fb = rgb_fb(8, 640, 480);
	expect_unusable(fb, "8 bits per pixel");
	fb = rgb_fb(32, 640, 480);
	fb.type = MB2_FB_TYPE_INDEXED;
	expect_unusable(fb, "indexed colour");
	fb = rgb_fb(32, 640, 480);
	fb.rgb[0] = 30;
	expect_unusable(fb, "does not fit");
	fb = rgb_fb(32, 640, 480);
	fb.pitch = 100;
	expect_unusable(fb, "does not add up");
	fb = rgb_fb(32, 640, 480);
	fb.addr = 0xfff00000;
	expect_unusable(fb, "outside what Keel maps");
	fb = rgb_fb(32, 4, 480);
	expect_unusable(fb, "does not add up");
}

static void test_glyphs_distinct(void **state)
{
	for (unsigned a = FONT_FIRST; a <= FONT_LAST; a++)
		for (unsigned b = a + 1; b <= FONT_LAST; b++)
			if (!memcmp(font8x16[a - FONT_FIRST], font8x16[b - FONT_FIRST], FONT_HEIGHT))
				fail_msg("glyphs '%c' and '%c' are the same", a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rgb_depths),
		cmocka_unit_test(test_ega_text),
		cmocka_unit_test(test_unusable),
		cmocka_unit_test(test_glyphs_distinct),
	};
	return cmocka_run_group_tests_name("fb_text", tests, NULL, NULL);
}
