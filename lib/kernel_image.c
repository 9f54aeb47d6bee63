/*
 * Which kind of kernel a module holds, from its headers only (see
 * include/keel/kernel_image.h). Every read is bounds-checked against len:
 * the image is whatever the user put in the GRUB module.
 */
#include <keel/format.h>
#include <keel/kernel_image.h>
#include <keel/string.h>

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

long mb1_find_header(const uint8_t *img, uint64_t len)
{
	uint64_t end = len < MB1_SEARCH_LEN ? len : MB1_SEARCH_LEN;
	for (uint64_t off = 0; off + 12 <= end; off += 4) {
		const uint8_t *h = img + off;
		if (rd32(h) == MB1_HEADER_MAGIC && (uint32_t)(rd32(h) + rd32(h + 4) + rd32(h + 8)) == 0)
			return (long)off;
	}
	return -1;
}

static int has_mb2_header(const uint8_t *img, uint64_t len)
{
	/* Multiboot2: 8-byte aligned within the first 32 KiB. */
	for (uint64_t off = 0; off + 16 <= len && off < 32768; off += 8)
		if (rd32(img + off) == MB2_HEADER_MAGIC)
			return 1;
	return 0;
}

enum kernel_kind kernel_image_kind(const uint8_t *img, uint64_t len, char *why, size_t whylen)
{
	if (mb1_find_header(img, len) >= 0)
		return KERNEL_MULTIBOOT1;
	if (len >= LINUX_HEADER_OFF + 4 && !memcmp(img + LINUX_HEADER_OFF, "HdrS", 4)) {
		if (len < LINUX_VERSION_OFF + 2) {
			/* The signature is the image's last 4 bytes: no version. */
			ksnprintf(why, whylen, "has the Linux 'HdrS' signature but ends at %#lx, before the boot protocol "
				  "version at 0x206 (truncated?)", (unsigned long)len);
			return KERNEL_UNKNOWN;
		}
		unsigned ver = rd16(img + LINUX_VERSION_OFF);
		if (rd16(img + LINUX_BOOT_FLAG_OFF) != 0xaa55) {
			ksnprintf(why, whylen, "has the Linux 'HdrS' signature but not the boot flag 0xAA55 at 0x1FE");
			return KERNEL_UNKNOWN;
		}
		if (ver < LINUX_MIN_VERSION) {
			ksnprintf(why, whylen,
				  "is a Linux kernel with boot protocol %u.%02u; Keel needs 2.10 or later (Linux 2.6.31+) "
				  "for the 32-bit entry",
				  ver >> 8, ver & 0xff);
			return KERNEL_UNKNOWN;
		}
		if (len <= LINUX_LOADFLAGS_OFF || !(img[LINUX_LOADFLAGS_OFF] & LINUX_LOADED_HIGH)) {
			ksnprintf(why, whylen, "is a Linux zImage (loaded below 1 MiB); Keel boots bzImages only");
			return KERNEL_UNKNOWN;
		}
		return KERNEL_LINUX;
	}
	if (has_mb2_header(img, len))
		ksnprintf(why, whylen,
			  "has a multiboot2 header only; Keel's direct boot takes multiboot1 kernels and Linux bzImages");
	else if (len >= 4 && !memcmp(img, "\177ELF", 4))
		ksnprintf(why, whylen,
			  "is an ELF file without a multiboot1 header (for Linux, give the bzImage, e.g. "
			  "/boot/vmlinuz-*, not vmlinux)");
	else
		ksnprintf(why, whylen,
			  "is neither a multiboot1 kernel (no valid header with magic 0x1BADB002 in its first 8 KiB) "
			  "nor a Linux bzImage (no 'HdrS' at offset 0x202)");
	return KERNEL_UNKNOWN;
}
