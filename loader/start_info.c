/* Validation of Keel's start information (see start_info.h). hvmloader
 * checks what Keel also checks: it does not trust it. */
#include <keel/format.h>

#include "start_info.h"

int start_info_check(uint32_t magic, const struct hvmloader_start_info *si, uint32_t *bios_start, char *err,
		     size_t errlen)
{
	if (magic != HVMLOADER_START_MAGIC || si->magic != HVMLOADER_START_MAGIC) {
		ksnprintf(err, errlen, "bad start magic (EAX %#x, info %#x): not started by Keel?", magic, si->magic);
		return -1;
	}
	if (si->version != HVMLOADER_START_VERSION || si->size < sizeof(*si)) {
		ksnprintf(err, errlen, "start info version %u size %u; this loader needs version %u (rebuild)",
			  si->version, si->size, HVMLOADER_START_VERSION);
		return -1;
	}
	if (si->ram_below_4g > HVMLOADER_LOW_RAM_LIMIT) {
		ksnprintf(err, errlen, "RAM below 4 GiB given as %#llx bytes, past the MMIO hole at %#x",
			  (unsigned long long)si->ram_below_4g, HVMLOADER_LOW_RAM_LIMIT);
		return -1;
	}
	/* A directly booted kernel has no SeaBIOS; direct_boot() checks where
	 * the kernel, ramdisk and command line are staged. */
	if (si->kernel_size) {
		if (si->firmware_size || si->firmware_paddr) {
			ksnprintf(err, errlen, "start info names both a kernel and a SeaBIOS image (%u bytes)",
				  (unsigned)si->firmware_size);
			return -1;
		}
		*bios_start = 0;
		return 0;
	}
	/* The SeaBIOS image: whole 64 KiB blocks, at most 256 KiB, staged in
	 * RAM away from where it must go. */
	uint64_t fw = si->firmware_paddr, fsize = si->firmware_size;
	if (fsize == 0 || fsize % 0x10000 || fsize > LOADER_BIOS_MAX) {
		ksnprintf(err, errlen,
			  "SeaBIOS image is %u bytes; expected a multiple of 64 KiB, at most 256 KiB (use "
			  "/usr/share/seabios/bios-256k.bin)",
			  (unsigned)fsize);
		return -1;
	}
	/* fw + fsize would wrap past zero for a huge fw: compare without it
	 * (below 1 MiB the sum cannot wrap). */
	uint32_t start = LOADER_BIOS_END - (uint32_t)fsize;
	if (fw > si->ram_below_4g || fsize > si->ram_below_4g - fw || (fw < LOADER_BIOS_END && fw + fsize > start)) {
		ksnprintf(err, errlen, "SeaBIOS staged at %#llx (+%#x) is outside RAM or overlaps %#x-%#x",
			  (unsigned long long)fw, (unsigned)fsize, start, LOADER_BIOS_END);
		return -1;
	}
	*bios_start = start;
	return 0;
}
