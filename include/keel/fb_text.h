/*
 * Text on a framebuffer: Keel's console on the screen GRUB set up
 * (multiboot2 framebuffer tag). Two kinds of framebuffer:
 *  - direct RGB (a linear framebuffer of 16, 24 or 32 bits per pixel):
 *    glyphs of the built-in 8x16 font (include/keel/font8x16.h);
 *  - EGA text (GRUB on a legacy BIOS without a graphics mode): character
 *    and attribute bytes, 80x25 at 0xB8000.
 *
 * Pure logic on a mapped buffer (unit-tested on a host array): no
 * hardware access, no locks. Drawing is cheap by construction: a character
 * touches only its own cell; when the text reaches the bottom, the screen
 * scrolls by a quarter of its rows in one memmove, so scrolling costs a
 * quarter of a screen copy per quarter screen of text rather than a whole
 * screen copy per line.
 */
#ifndef KEEL_FB_TEXT_H
#define KEEL_FB_TEXT_H

#include <keel/bootinfo.h>
#include <keel/types.h>

struct fb_text {
	uint8_t *base;       /* the mapped framebuffer */
	uint32_t pitch;      /* bytes per pixel row (per text row for EGA text) */
	unsigned bytes_pp;   /* 2, 3 or 4 (RGB); 2 per cell for EGA text */
	bool ega;            /* EGA text mode: cells, not pixels */
	unsigned cols, rows; /* the text grid */
	unsigned col, row;   /* where the next character goes */
	unsigned scroll_rows; /* rows moved at a time when the text reaches the bottom */
	uint32_t fg, bg;     /* pixel values (RGB) */
};

/* Whether Keel can draw on fb; false with the reason in why ("24-bit
 * indexed colour is not supported"). Checks the type, the depth, the
 * colour layout, that pitch holds a row, and that the whole buffer stays
 * below `limit` (the highest address Keel can map, exclusive). */
bool fb_text_usable(const struct boot_framebuffer *fb, uint64_t limit, char *why, size_t whylen);
/* Size in bytes of the framebuffer (pitch x height). */
uint64_t fb_text_bytes(const struct boot_framebuffer *fb);
/* Sets t up on fb (fb_text_usable() must have said yes), mapped at base,
 * and clears the screen. */
void fb_text_init(struct fb_text *t, const struct boot_framebuffer *fb, void *base);
/* Draws text: printable ASCII, '\n' (new line), '\r' (column 0), '\t' (to
 * the next multiple of 8); other bytes are drawn as '?'. */
void fb_text_write(struct fb_text *t, const char *s, size_t n);
/* Reads row `row` back from the framebuffer into out (cols + 1 bytes):
 * each cell compared with every glyph of the font, '?' for a cell that
 * matches none, trailing blanks removed. For tests and the 'screen'
 * console command: it shows what is really in video memory. */
void fb_text_read_row(const struct fb_text *t, unsigned row, char *out, size_t outlen);

#endif
