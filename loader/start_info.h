/* hvmloader's checks of what Keel hands it (struct hvmloader_start_info):
 * pure, so the unit tests and the fuzzers run them on the host. */
#ifndef LOADER_START_INFO_H
#define LOADER_START_INFO_H

#include <keel/hvmloader_abi.h>
#include <stddef.h>

#define LOADER_BIOS_END 0x100000u /* SeaBIOS must end at 1 MiB */
#define LOADER_BIOS_MAX 0x40000u  /* and is at most 256 KiB */

/*
 * Checks the start information (magic in EAX and in the block, version,
 * size) and where the SeaBIOS image is staged. On success returns 0 and sets
 * *bios_start, where the image must be copied so that it ends at 1 MiB (0
 * for a directly booted kernel, which has no SeaBIOS image). On
 * failure returns -1 with a sentence naming the problem in err.
 */
int start_info_check(uint32_t magic, const struct hvmloader_start_info *si, uint32_t *bios_start, char *err,
		     size_t errlen);

#endif
