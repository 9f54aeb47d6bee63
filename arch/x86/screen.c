/*
 * Keel's console on the framebuffer; see include/keel/screen.h.
 *
 * The queue: the console hands every byte to screen_queue() under its own
 * lock, on any CPU, VM exits included, so that only copies into a ring;
 * when the ring is full the text is dropped and counted, and a note says
 * so on the screen. Drawing takes the ring's bytes a chunk at a time and
 * draws them with no lock held but its own "drawing" flag (one CPU at a
 * time; another that finds it taken goes on with what it was doing).
 *
 * The framebuffer must lie below 4 GiB, in Keel's identity map. Its
 * mapping keeps the page tables' write-back type: the firmware's MTRRs
 * make video memory uncached or write-combining, and that type wins.
 */
#include <keel/console.h>
#include <keel/fb_text.h>
#include <keel/format.h>
#include <keel/mm.h>
#include <keel/screen.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <keel/tsc.h>
#include <x86/io.h>

#define RING_SIZE 32768
/* Bytes drawn between looks at the deadline: 64 characters are about
 * 64 x 16 x 8 pixel stores; a scroll (a quarter screen's memmove) may come
 * on top. */
#define CHUNK 64

static struct fb_text text;
static bool active;
static char ring[RING_SIZE];
static size_t ring_head, ring_len;
static uint64_t dropped;
static spinlock_t ring_lock = SPINLOCK_INIT;
static int drawing; /* 1 while a CPU draws */

static void screen_queue(const char *s, size_t n)
{
	spin_lock(&ring_lock);
	if (ring_len + n > RING_SIZE) {
		dropped += n;
	} else {
		/* The index in a local: stores to a char array would make the
		 * compiler reload the globals per byte. */
		size_t tail = ring_head + ring_len;
		for (size_t i = 0; i < n; i++)
			ring[(tail + i) % RING_SIZE] = s[i];
		ring_len += n;
	}
	spin_unlock(&ring_lock);
}

/* Takes up to CHUNK bytes from the ring (and the count of dropped bytes). */
static size_t ring_take(char *buf, uint64_t *lost)
{
	spin_lock(&ring_lock);
	size_t n = MIN(ring_len, (size_t)CHUNK);
	for (size_t i = 0; i < n; i++)
		buf[i] = ring[(ring_head + i) % RING_SIZE];
	ring_head = (ring_head + n) % RING_SIZE;
	ring_len -= n;
	*lost = dropped;
	dropped = 0;
	spin_unlock(&ring_lock);
	return n;
}

void screen_draw_pending(uint64_t deadline_tsc)
{
	if (!active || !__atomic_load_n(&ring_len, __ATOMIC_RELAXED))
		return;
	if (__atomic_exchange_n(&drawing, 1, __ATOMIC_ACQUIRE))
		return;
	char buf[CHUNK];
	uint64_t lost;
	size_t n;
	while ((n = ring_take(buf, &lost)) != 0) {
		if (lost) {
			char note[80];
			int len = ksnprintf(note, sizeof(note), "\n[screen: %lu bytes not shown: too much output]\n", lost);
			fb_text_write(&text, note, (size_t)len);
		}
		fb_text_write(&text, buf, n);
		if (rdtsc() >= deadline_tsc)
			break;
	}
	__atomic_store_n(&drawing, 0, __ATOMIC_RELEASE);
}

/* Before halting and in a panic: what is queued must reach the screen,
 * the last lines most of all (there may be no serial port to read them
 * on). Another CPU drawing finishes its chunk within microseconds; wait up
 * to 50 ms for it rather than give up. */
static void screen_flush(void)
{
	uint64_t t0 = rdtsc();
	while (__atomic_load_n(&drawing, __ATOMIC_ACQUIRE) && rdtsc() - t0 < tsc_hz / 20)
		cpu_relax();
	screen_draw_pending(UINT64_MAX);
}

static const struct console_backend screen_backend = { .queue = screen_queue, .flush = screen_flush };

void screen_capture_early(void) { console_set_mirror(&screen_backend); }

/* No screen after all: stop copying, forget what was kept. */
static void screen_off(void)
{
	console_set_mirror(NULL);
	spin_lock(&ring_lock);
	ring_len = 0;
	dropped = 0;
	spin_unlock(&ring_lock);
}

void screen_init(const struct bootinfo *bi, bool off)
{
	char why[128];
	if (off) {
		screen_off();
		pr_info("screen: off (screen=off); output on the serial port only\n");
		return;
	}
	if (!bi->fb.present) {
		screen_off();
		pr_info("screen: the boot loader set up no framebuffer; output on the serial port only\n");
		return;
	}
	if (!fb_text_usable(&bi->fb, GiB(4), why, sizeof(why))) {
		screen_off();
		pr_warn("screen: cannot draw on the framebuffer: %s; output on the serial port only ('set "
			"gfxpayload=640x480x32' or '=text' in GRUB's entry picks another mode)\n", why);
		return;
	}
	fb_text_init(&text, &bi->fb, phys_to_virt(bi->fb.addr));
	active = true;
	console_set_mirror(&screen_backend);
	if (bi->fb.type == MB2_FB_TYPE_EGA_TEXT)
		pr_info("screen: console on the %ux%u text screen at %#lx too\n", bi->fb.width, bi->fb.height,
			bi->fb.addr);
	else
		pr_info("screen: console on the %ux%u framebuffer at %#lx (%u bits per pixel, %ux%u characters) too\n",
			bi->fb.width, bi->fb.height, bi->fb.addr, bi->fb.bpp, text.cols, text.rows);
	static const char note[] = "keel: screen: output only; console commands are on COM1\n";
	screen_queue(note, sizeof(note) - 1);
}

void screen_print_readback(void)
{
	if (!active) {
		kprintf("keel: screen: no screen in use\n");
		return;
	}
	screen_flush();
	/* Read while nobody draws, so the rows are one picture. */
	while (__atomic_exchange_n(&drawing, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	kprintf("keel: screen: %u rows of %u characters, read back from video memory:\n", text.rows, text.cols);
	char row[256];
	for (unsigned r = 0; r < text.rows; r++) {
		fb_text_read_row(&text, r, row, sizeof(row));
		kprintf("keel: screen %2u|%s\n", r, row);
	}
	__atomic_store_n(&drawing, 0, __ATOMIC_RELEASE);
	kprintf("keel: end of screen\n");
}
