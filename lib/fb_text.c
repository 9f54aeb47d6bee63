/* Text on a framebuffer; see include/keel/fb_text.h. */
#include <keel/fb_text.h>
#include <keel/font8x16.h>
#include <keel/format.h>
#include <keel/string.h>

#define EGA_ATTR 0x07 /* light grey on black */

uint64_t fb_text_bytes(const struct boot_framebuffer *fb) { return (uint64_t)fb->pitch * fb->height; }

/* A colour field must fit the pixel, with a size of 1-8 bits. */
static bool field_ok(uint8_t pos, uint8_t size, unsigned bpp) { return size >= 1 && size <= 8 && pos + size <= bpp; }

bool fb_text_usable(const struct boot_framebuffer *fb, uint64_t limit, char *why, size_t whylen)
{
	if (!fb->present) {
		ksnprintf(why, whylen, "the boot loader described no framebuffer");
		return false;
	}
	if (fb->type == MB2_FB_TYPE_EGA_TEXT) {
		if (fb->width < 1 || fb->height < 1 || fb->width > 1024 || fb->height > 1024 ||
		    fb->pitch < fb->width * 2) {
			ksnprintf(why, whylen, "EGA text screen %ux%u with pitch %u does not add up", fb->width,
				  fb->height, fb->pitch);
			return false;
		}
	} else if (fb->type == MB2_FB_TYPE_RGB) {
		if (fb->bpp != 16 && fb->bpp != 24 && fb->bpp != 32) {
			ksnprintf(why, whylen, "%u bits per pixel is not supported (16, 24 or 32 are)", fb->bpp);
			return false;
		}
		for (int i = 0; i < 3; i++)
			if (!field_ok(fb->rgb[2 * i], fb->rgb[2 * i + 1], fb->bpp)) {
				ksnprintf(why, whylen, "colour field %d (position %u, size %u) does not fit a %u-bit pixel",
					  i, fb->rgb[2 * i], fb->rgb[2 * i + 1], fb->bpp);
				return false;
			}
		if (fb->width < FONT_WIDTH || fb->height < FONT_HEIGHT || fb->width > 16384 || fb->height > 16384 ||
		    fb->pitch < (uint64_t)fb->width * (fb->bpp / 8)) {
			ksnprintf(why, whylen, "%ux%u pixels with pitch %u does not add up", fb->width, fb->height,
				  fb->pitch);
			return false;
		}
	} else {
		ksnprintf(why, whylen, "framebuffer type %u (%s) is not supported", fb->type,
			  fb->type == MB2_FB_TYPE_INDEXED ? "indexed colour" : "unknown");
		return false;
	}
	uint64_t bytes = fb_text_bytes(fb);
	if (!fb->addr || fb->addr >= limit || bytes > limit - fb->addr) {
		ksnprintf(why, whylen, "the framebuffer at %#lx (%lu bytes) is outside what Keel maps", fb->addr, bytes);
		return false;
	}
	return true;
}

/* The pixel value of a colour given as 8-bit red, green and blue. */
static uint32_t pixel(const struct boot_framebuffer *fb, uint8_t r, uint8_t g, uint8_t b)
{
	const uint8_t c[3] = { r, g, b };
	uint32_t v = 0;
	for (int i = 0; i < 3; i++)
		v |= (uint32_t)(c[i] >> (8 - fb->rgb[2 * i + 1])) << fb->rgb[2 * i];
	return v;
}

static void clear_rows(struct fb_text *t, unsigned from, unsigned n);

void fb_text_init(struct fb_text *t, const struct boot_framebuffer *fb, void *base)
{
	memset(t, 0, sizeof(*t));
	t->base = base;
	t->pitch = fb->pitch;
	t->ega = fb->type == MB2_FB_TYPE_EGA_TEXT;
	if (t->ega) {
		t->bytes_pp = 2;
		t->cols = fb->width;
		t->rows = fb->height;
	} else {
		t->bytes_pp = fb->bpp / 8;
		t->cols = fb->width / FONT_WIDTH;
		t->rows = fb->height / FONT_HEIGHT;
		t->fg = pixel(fb, 0xc0, 0xc0, 0xc0);
		t->bg = pixel(fb, 0, 0, 0);
	}
	t->scroll_rows = t->rows >= 4 ? t->rows / 4 : 1;
	clear_rows(t, 0, t->rows);
}

/* Bytes from the start of one text row to the next. */
static size_t row_bytes(const struct fb_text *t) { return (size_t)t->pitch * (t->ega ? 1 : FONT_HEIGHT); }

static void put_pixel(uint8_t *p, unsigned bytes_pp, uint32_t v)
{
	if (bytes_pp == 4) {
		memcpy(p, &v, 4);
	} else {
		for (unsigned i = 0; i < bytes_pp; i++)
			p[i] = (uint8_t)(v >> (8 * i));
	}
}

static uint32_t get_pixel(const uint8_t *p, unsigned bytes_pp)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < bytes_pp; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void draw_cell(struct fb_text *t, unsigned col, unsigned row, char ch)
{
	if (t->ega) {
		uint8_t *cell = t->base + (size_t)row * t->pitch + col * 2;
		cell[0] = (uint8_t)ch;
		cell[1] = EGA_ATTR;
		return;
	}
	const uint8_t *glyph = font8x16[(uint8_t)ch - FONT_FIRST];
	uint8_t *p = t->base + (size_t)row * row_bytes(t) + (size_t)col * FONT_WIDTH * t->bytes_pp;
	for (unsigned y = 0; y < FONT_HEIGHT; y++, p += t->pitch) {
		if (t->bytes_pp == 4) {
			/* The usual case, kept to a store per pixel. */
			uint32_t px[FONT_WIDTH];
			for (unsigned x = 0; x < FONT_WIDTH; x++)
				px[x] = glyph[y] & (0x80 >> x) ? t->fg : t->bg;
			memcpy(p, px, sizeof(px));
			continue;
		}
		for (unsigned x = 0; x < FONT_WIDTH; x++)
			put_pixel(p + x * t->bytes_pp, t->bytes_pp, glyph[y] & (0x80 >> x) ? t->fg : t->bg);
	}
}

static void clear_rows(struct fb_text *t, unsigned from, unsigned n)
{
	if (!t->ega && t->bg == 0) {
		/* Black: one fill per pixel row (string stores), not a cell at
		 * a time; the padding after each row is left alone. */
		uint8_t *p = t->base + (size_t)from * row_bytes(t);
		for (unsigned y = 0; y < n * FONT_HEIGHT; y++, p += t->pitch)
			memset(p, 0, (size_t)t->cols * FONT_WIDTH * t->bytes_pp);
		return;
	}
	for (unsigned r = from; r < from + n; r++)
		for (unsigned c = 0; c < t->cols; c++)
			draw_cell(t, c, r, ' ');
}

/* Moves the text up by scroll_rows rows: one memmove of the rows that
 * stay, then the freed rows at the bottom are cleared. */
static void scroll(struct fb_text *t)
{
	unsigned n = t->scroll_rows, keep = t->rows - n;
	memmove(t->base, t->base + (size_t)n * row_bytes(t), (size_t)keep * row_bytes(t));
	clear_rows(t, keep, n);
	t->row = keep;
}

static void new_line(struct fb_text *t)
{
	t->col = 0;
	if (++t->row == t->rows)
		scroll(t);
}

void fb_text_write(struct fb_text *t, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\n') {
			new_line(t);
			continue;
		}
		if (c == '\r') {
			t->col = 0;
			continue;
		}
		if (c == '\t') {
			unsigned next = (t->col + 8) & ~7u;
			while (t->col < next && t->col < t->cols)
				draw_cell(t, t->col++, t->row, ' ');
		} else {
			if (c < FONT_FIRST || c > FONT_LAST)
				c = '?';
			draw_cell(t, t->col++, t->row, c);
		}
		if (t->col >= t->cols)
			new_line(t); /* a long line wraps */
	}
}

/* The character whose glyph the cell at (col, row) shows, or '?'. */
static char read_cell(const struct fb_text *t, unsigned col, unsigned row)
{
	if (t->ega) {
		char c = (char)t->base[(size_t)row * t->pitch + col * 2];
		return c >= FONT_FIRST && c <= FONT_LAST ? c : '?';
	}
	uint8_t bits[FONT_HEIGHT];
	const uint8_t *p = t->base + (size_t)row * row_bytes(t) + (size_t)col * FONT_WIDTH * t->bytes_pp;
	for (unsigned y = 0; y < FONT_HEIGHT; y++, p += t->pitch) {
		bits[y] = 0;
		for (unsigned x = 0; x < FONT_WIDTH; x++) {
			uint32_t v = get_pixel(p + x * t->bytes_pp, t->bytes_pp);
			if (v == t->fg)
				bits[y] |= (uint8_t)(0x80 >> x);
			else if (v != t->bg)
				return '?'; /* neither colour Keel draws with */
		}
	}
	for (unsigned c = FONT_FIRST; c <= FONT_LAST; c++)
		if (!memcmp(bits, font8x16[c - FONT_FIRST], FONT_HEIGHT))
			return (char)c;
	return '?';
}

void fb_text_read_row(const struct fb_text *t, unsigned row, char *out, size_t outlen)
{
	size_t n = 0;
	if (!outlen)
		return;
	for (unsigned c = 0; c < t->cols && n + 1 < outlen && row < t->rows; c++)
		out[n++] = read_cell(t, c, row);
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = 0;
}
