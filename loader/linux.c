/*
 * Linux boot protocol, 32-bit entry (see linux.h). The image is untrusted:
 * every field read from it is checked against the image length.
 */
#include <keel/format.h>
#include <keel/kernel_image.h>
#include <keel/string.h>

#include "linux.h"

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int linux_parse(const uint8_t *img, uint32_t len, struct linux_kernel *k, char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	enum kernel_kind kind = kernel_image_kind(img, len, err, errlen);
	if (kind != KERNEL_LINUX) {
		if (kind == KERNEL_MULTIBOOT1)
			ksnprintf(err, errlen, "is a multiboot1 kernel, not a Linux bzImage");
		return -1;
	}
	if (len < LX_INIT_SIZE + 4) {
		ksnprintf(err, errlen, "is cut short inside its Linux setup header (%u bytes)", len);
		return -1;
	}
	k->version = rd16(img + LINUX_VERSION_OFF);
	k->header_end = 0x202u + img[LX_JUMP + 1];
	if (k->header_end < LX_INIT_SIZE + 4 || k->header_end > LX_E820_TABLE) {
		ksnprintf(err, errlen, "has a Linux setup header ending at %#x, outside 0x264-0x2d0", k->header_end);
		return -1;
	}
	unsigned sects = img[LX_SETUP_SECTS] ? img[LX_SETUP_SECTS] : 4; /* 0 means 4 (old kernels) */
	k->setup_size = (sects + 1) * 512u;
	if (k->setup_size >= len) {
		ksnprintf(err, errlen, "says its setup code is %u bytes but the whole file is %u", k->setup_size, len);
		return -1;
	}
	k->pm_offset = k->setup_size;
	k->pm_size = len - k->setup_size;
	k->code32_start = rd32(img + LX_CODE32_START);
	k->initrd_addr_max = rd32(img + LX_INITRD_ADDR_MAX);
	k->kernel_alignment = rd32(img + LX_KERNEL_ALIGNMENT);
	k->relocatable = img[LX_RELOCATABLE] != 0;
	k->cmdline_max = rd32(img + LX_CMDLINE_SIZE);
	k->init_size = rd32(img + LX_INIT_SIZE);
	memcpy(&k->pref_address, img + LX_PREF_ADDRESS, 8);
	if (k->code32_start != LINUX_LOAD_ADDR) {
		ksnprintf(err, errlen, "wants its protected-mode code at %#x (code32_start); Keel loads bzImages at 1 MiB",
			  k->code32_start);
		return -1;
	}
	if (k->init_size < k->pm_size) {
		ksnprintf(err, errlen, "has init_size %#x smaller than its protected-mode code (%#x bytes)", k->init_size,
			  k->pm_size);
		return -1;
	}
	if (k->initrd_addr_max < 0x100000) {
		ksnprintf(err, errlen, "has initrd_addr_max %#x below 1 MiB", k->initrd_addr_max);
		return -1;
	}
	return 0;
}

uint64_t linux_footprint_end(const struct linux_kernel *k)
{
	uint64_t start = k->code32_start;
	/* A relocatable kernel decompresses at its preferred address if it
	 * was loaded below it (arch/x86/boot/compressed/head_64.S); with
	 * KASLR it may go elsewhere, but only into RAM the E820 map offers
	 * and away from the initrd and command line it is told about. */
	if (k->relocatable && k->pref_address > start && k->pref_address < 0x100000000ULL)
		start = k->pref_address;
	return start + k->init_size;
}

int linux_zero_page_build(uint8_t *zp, const uint8_t *img, const struct linux_kernel *k, const struct linux_boot *b)
{
	if (b->e820_nr > LX_E820_MAX)
		return -1;
	memset(zp, 0, LINUX_ZERO_PAGE_SIZE);
	/* The setup header is copied from the image as it is, then the
	 * fields a boot loader owns are written. */
	memcpy(zp + LX_HEADER_START, img + LX_HEADER_START, k->header_end - LX_HEADER_START);
	zp[LX_TYPE_OF_LOADER] = LINUX_LOADER_TYPE_UNDEFINED;
	zp[LX_LOADFLAGS] = LINUX_LOADED_HIGH; /* no heap (that is for the 16-bit entry), no quiet */
	zp[LX_VID_MODE] = 0xff;               /* "normal": no mode change (0xFFFF) */
	zp[LX_VID_MODE + 1] = 0xff;
	wr32(zp + LX_CODE32_START, k->code32_start);
	wr32(zp + LX_CMD_LINE_PTR, b->cmdline_addr);
	wr32(zp + LX_RAMDISK_IMAGE, b->initrd_size ? b->initrd_addr : 0);
	wr32(zp + LX_RAMDISK_SIZE, b->initrd_size);
	zp[LX_E820_ENTRIES] = (uint8_t)b->e820_nr;
	for (unsigned i = 0; i < b->e820_nr; i++)
		memcpy(zp + LX_E820_TABLE + 20 * i, &b->e820[i], 20);
	return 0;
}
