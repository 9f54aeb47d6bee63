/*
 * Keel's console on the screen, for machines without a serial port: the
 * framebuffer GRUB describes (multiboot2 tag 8) shows Keel's log and the
 * guests' lines, alongside COM1 (arch/x86/screen.c; the drawing itself is
 * lib/fb_text.c). Output only: console commands stay on the serial port.
 *
 * Text is queued by the console and drawn later, by a CPU with nothing to
 * run (apic_idle_until) or when the console is flushed, never on a guest's
 * VM exit: an exit only copies bytes into the screen's queue.
 */
#ifndef KEEL_SCREEN_H
#define KEEL_SCREEN_H

#include <keel/bootinfo.h>
#include <keel/types.h>

/* Keeps a copy of the console's output from the start (the banner comes
 * before the boot information says whether there is a screen). */
void screen_capture_early(void);
/* Starts drawing on bi's framebuffer if Keel can, what was kept first;
 * else stops keeping a copy (prints why). */
void screen_init(const struct bootinfo *bi, bool off);
/* Draws queued text until the queue is empty or the TSC passes deadline;
 * returns at once if another CPU is drawing. */
void screen_draw_pending(uint64_t deadline_tsc);
/* Prints what the screen shows, read back from video memory (the 'screen'
 * console command). */
void screen_print_readback(void);

#endif
