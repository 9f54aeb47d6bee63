/*
 * Where the application processors' start-up code goes. A start-up IPI
 * starts a CPU in real mode at vector << 12, so the code must sit in a
 * whole page of RAM below 1 MiB (SDM 8.4.4.1, 10.6.1 "Startup IPI").
 *
 * A legacy BIOS leaves almost all of 0x1000-0x9FFFF free; UEFI firmware
 * may keep much of it for itself (runtime services, reserved), and GRUB
 * may put the boot information or a module there. The page is chosen from
 * the multiboot2 memory map before anything is written below 1 MiB; Keel's
 * allocator never hands out memory below 1 MiB, so the page stays free.
 * Pure logic (unit-tested).
 */
#ifndef KEEL_AP_TRAMPOLINE_PAGE_H
#define KEEL_AP_TRAMPOLINE_PAGE_H

#include <keel/bootinfo.h>

/* The page used when it is free: where Keel has always put it. */
#define AP_TRAMPOLINE_PREFERRED 0x8000

/* Picks a 4 KiB page for the start-up code: AP_TRAMPOLINE_PREFERRED if it
 * is usable, else the lowest usable page from 0x1000 up to 1 MiB. Usable:
 * inside one RAM entry of the map, and not holding the boot information
 * block or any module. Returns 0 and the page in *pa, or -1 with the
 * reason in why (when there is none, so Keel runs on the boot CPU only). */
int ap_trampoline_page_find(const struct bootinfo *bi, uint64_t *pa, char *why, size_t whylen);

#endif
