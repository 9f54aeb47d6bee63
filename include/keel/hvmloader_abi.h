/*
 * The contract between Keel and hvmloader (loader/).
 *
 * Keel copies build/hvmloader.bin (a flat 32-bit binary) to guest-physical
 * HVMLOADER_LOAD_ADDR and the SeaBIOS image to some page-aligned address in
 * guest RAM above it, writes a struct hvmloader_start_info into guest RAM and
 * enters the vCPU at HVMLOADER_LOAD_ADDR in 32-bit protected mode, paging
 * off, flat 4 GiB CS/DS/ES/SS (base 0), interrupts off, with
 *   EAX = HVMLOADER_START_MAGIC
 *   EBX = guest-physical address of struct hvmloader_start_info
 * and every other GPR zero. hvmloader sets up its own stack.
 *
 * Two paths (docs/boot-flow.md shows them side by side):
 *
 *  - firmware path (guest=...,disk:MODULE): firmware_size != 0, SeaBIOS is
 *    staged at HVMLOADER_STAGING_ADDR; hvmloader places it below 1 MiB and
 *    jumps to F000:FFF0.
 *  - direct kernel boot (guest=...,kernel:MODULE[,ramdisk:MODULE][,cmdline:TEXT]):
 *    kernel_size != 0 and firmware_size == 0. Keel copies the module bytes
 *    as they are, unparsed, to these places in guest RAM:
 *      ramdisk   ends at the top of RAM (ram_below_4g), starts page-aligned;
 *      kernel    page-aligned, ends below the ramdisk (or at the top of RAM);
 *      cmdline   NUL-terminated at HVMLOADER_CMDLINE_ADDR (at most
 *                HVMLOADER_CMDLINE_MAX bytes with the NUL);
 *    both kernel and ramdisk lie at or above HVMLOADER_STAGING_ADDR. hvmloader
 *    recognises the kernel (multiboot1 or a Linux bzImage), places it and the
 *    boot information, and enters it; it trusts none of these fields and
 *    checks each against RAM before use.
 *
 * Shared by Keel (64-bit) and hvmloader (32-bit): fixed-width fields only.
 */
#ifndef KEEL_HVMLOADER_ABI_H
#define KEEL_HVMLOADER_ABI_H

#include <stdint.h>

#define HVMLOADER_LOAD_ADDR 0x00100000u
#define HVMLOADER_MAX_SIZE 0x00080000u /* 512 KiB: loader + stack + heap */
#define HVMLOADER_START_MAGIC 0x4c45454bu /* "KEEL" */
#define HVMLOADER_START_VERSION 2u
/* The start info's page; the kernel command line is in its second half. */
#define HVMLOADER_START_INFO_ADDR 0x001ff000u
#define HVMLOADER_CMDLINE_ADDR 0x001ff800u
#define HVMLOADER_CMDLINE_MAX 0x800u
/* Where images are staged: SeaBIOS here; kernel and ramdisk at or above. */
#define HVMLOADER_STAGING_ADDR 0x00200000u

/* hvmloader_start_info.flags */
#define HVMLOADER_FLAG_ACPI_PM (1u << 0) /* FADT, FACS, DSDT: ACPI power management (hvm/dev/vpm.c) */

struct hvmloader_start_info {
	uint32_t magic;          /* HVMLOADER_START_MAGIC */
	uint32_t version;        /* HVMLOADER_START_VERSION */
	uint32_t size;           /* sizeof(struct hvmloader_start_info) */
	uint32_t nr_vcpus;
	uint64_t ram_below_4g;   /* bytes of RAM at guest-physical 0 */
	uint64_t ram_above_4g;   /* bytes of RAM at guest-physical 4 GiB */
	uint64_t firmware_paddr; /* SeaBIOS image staged in guest RAM */
	uint64_t firmware_size;
	char guest_name[16];     /* NUL-terminated */
	/* Version 2: direct kernel boot; all zero on the firmware path. */
	uint64_t kernel_paddr;
	uint64_t kernel_size;
	uint64_t ramdisk_paddr;
	uint64_t ramdisk_size;   /* 0: no ramdisk */
	uint64_t cmdline_paddr;  /* 0: no command line */
	uint32_t cmdline_size;   /* bytes including the NUL */
	uint32_t flags;          /* HVMLOADER_FLAG_* */
	char kernel_name[32];    /* the GRUB module names, for messages */
	char ramdisk_name[32];
} __attribute__((packed));

/*
 * Keel's own hypercalls (VMCALL with EAX = number). They live far above the
 * Xen numbers SeaBIOS uses (Xen's are < 64), so the two never collide.
 */
#define KEEL_HC_BASE 0x4b450000u
/* EBX = a KEEL_MARK_* value: stamps the boot timeline. */
#define KEEL_HC_TIMELINE_MARK (KEEL_HC_BASE + 1)
#define KEEL_MARK_LOADER_START 1
#define KEEL_MARK_HANDOVER 2 /* jumping to SeaBIOS, or to a directly booted kernel */

#endif
