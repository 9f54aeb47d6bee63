/*
 * Direct kernel boot in hvmloader: where things go in low guest memory,
 * and the plan the trampoline (trampoline.S) carries out once hvmloader
 * itself may be overwritten. Shared by C and assembly.
 *
 *   0x07000-0x07fff  the trampoline's stack (grows down from 0x8000)
 *   0x08000-0x087ff  the trampoline, copied here from hvmloader
 *   0x08800-0x08fff  the plan (struct direct_plan)
 *   0x10000-0x10fff  boot information: the multiboot1 block, or Linux's zero page
 *   0x11000-0x17fff  multiboot1: the block's memory map and strings;
 *                    Linux: the command line (at most 0x800 bytes used)
 *
 * A multiboot1 kernel with a segment in that memory (e.g. a real-mode
 * test linked at 0x8000) gets the same layout elsewhere in the low 640
 * KiB, where none of its segments is (direct_boot.c low_areas[]).
 */
#ifndef LOADER_DIRECT_BOOT_H
#define LOADER_DIRECT_BOOT_H

#define TRAMPOLINE_ADDR 0x8000
#define TRAMPOLINE_MAX 0x800 /* the plan follows: TRAMPOLINE_ADDR + TRAMPOLINE_MAX */
#define TRAMPOLINE_STACK 0x1000 /* below the trampoline */
#define TRAMPOLINE_AREA_END 0x1000 /* trampoline and plan: up to its address + this */
#define DIRECT_INFO_ADDR 0x10000
#define DIRECT_INFO_SIZE 0x8000
#define LINUX_CMDLINE_ADDR 0x11000
#define DIRECT_MAX_COPIES 9

/* struct direct_plan, for the assembly. */
#define PLAN_NR 0
#define PLAN_COPY 4
#define PLAN_ENTRY (PLAN_COPY + 16 * DIRECT_MAX_COPIES)
#define PLAN_EAX (PLAN_ENTRY + 4)
#define PLAN_EBX (PLAN_ENTRY + 8)
#define PLAN_ESI (PLAN_ENTRY + 12)

/* The trampoline's flat segments: the selectors the Linux boot protocol
 * names for its 32-bit entry (__BOOT_CS, __BOOT_DS); multiboot1 takes any. */
#define BOOT_CS 0x10
#define BOOT_DS 0x18

#ifndef __ASSEMBLY__
#include <keel/hvmloader_abi.h>
#include <stdint.h>

/* Copy len bytes from src to dst (overlap allowed), then zero `zero`
 * bytes after them. */
struct direct_copy {
	uint32_t dst, src, len, zero;
};

struct direct_plan {
	uint32_t nr;
	struct direct_copy copy[DIRECT_MAX_COPIES];
	uint32_t entry, eax, ebx, esi;
};

_Static_assert(__builtin_offsetof(struct direct_plan, entry) == PLAN_ENTRY, "plan layout");
_Static_assert(__builtin_offsetof(struct direct_plan, esi) == PLAN_ESI, "plan layout");

/* Boots the staged kernel; returns only with an error in err. */
void direct_boot(const struct hvmloader_start_info *si, char *err, unsigned errlen);
#endif

#endif
