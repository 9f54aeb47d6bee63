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
 * Shared by Keel (64-bit) and hvmloader (32-bit): fixed-width fields only.
 */
#ifndef KEEL_HVMLOADER_ABI_H
#define KEEL_HVMLOADER_ABI_H

#include <stdint.h>

#define HVMLOADER_LOAD_ADDR 0x00100000u
#define HVMLOADER_MAX_SIZE 0x00080000u /* 512 KiB: loader + stack + heap */
#define HVMLOADER_START_MAGIC 0x4c45454bu /* "KEEL" */
#define HVMLOADER_START_VERSION 1u

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
} __attribute__((packed));

/*
 * Keel's own hypercalls (VMCALL with EAX = number). They live far above the
 * Xen numbers SeaBIOS uses (Xen's are < 64), so the two never collide.
 */
#define KEEL_HC_BASE 0x4b450000u
/* EBX = a KEEL_MARK_* value: stamps the boot timeline. */
#define KEEL_HC_TIMELINE_MARK (KEEL_HC_BASE + 1)
#define KEEL_MARK_LOADER_START 1
#define KEEL_MARK_JUMP_TO_BIOS 2

#endif
