/*
 * Recognising a directly booted kernel (guest=...,kernel:MODULE) by its
 * headers: a multiboot1 kernel, or a Linux bzImage with boot protocol 2.10
 * or later. Pure: used by Keel (to refuse a wrong module before the guest
 * is built) and by hvmloader (which parses the image fully; loader/).
 */
#ifndef KEEL_KERNEL_IMAGE_H
#define KEEL_KERNEL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum kernel_kind { KERNEL_UNKNOWN, KERNEL_MULTIBOOT1, KERNEL_LINUX };

/* Multiboot (version 0.6.96) header: 4-byte aligned within the first
 * 8192 bytes of the image; magic + flags + checksum == 0 (mod 2^32). */
#define MB1_HEADER_MAGIC 0x1badb002u
#define MB1_SEARCH_LEN 8192u
#define MB2_HEADER_MAGIC 0xe85250d6u

/* Linux boot protocol (Documentation/x86/boot.rst): the setup header. */
#define LINUX_BOOT_FLAG_OFF 0x1fe  /* u16 0xAA55 */
#define LINUX_HEADER_OFF 0x202     /* "HdrS" */
#define LINUX_VERSION_OFF 0x206    /* u16, e.g. 0x020f = 2.15 */
#define LINUX_LOADFLAGS_OFF 0x211
#define LINUX_LOADED_HIGH 0x01     /* a bzImage: protected-mode part at 1 MiB */
#define LINUX_MIN_VERSION 0x020a   /* 2.10: the documented 32-bit entry with
				      kernel_alignment, cmdline_size, init_size */

/* Offset of a valid multiboot1 header, or -1. */
long mb1_find_header(const uint8_t *img, uint64_t len);

/* The kind of kernel in img; KERNEL_UNKNOWN with a sentence in why (which
 * names the problem, not the guest or module: callers add those). */
enum kernel_kind kernel_image_kind(const uint8_t *img, uint64_t len, char *why, size_t whylen);

#endif
