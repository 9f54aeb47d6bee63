/*
 * libFuzzer harness for the RSDP search through the UEFI system table
 * (lib/efi_rsdp.c), which follows pointers GRUB passes from the firmware.
 *
 * The input is a small physical memory with the system table at address 0x40
 * (its first 0x40 bytes are free for the fuzzer to place tables in too).
 * Each mapping is a heap copy of exactly the requested length, so
 * AddressSanitizer catches a read past what the parser asked for. A
 * failure must give a reason; a success must be a 20- or 36-byte RSDP.
 *
 *   make build/fuzz/fuzz_efi_rsdp
 *   build/fuzz/fuzz_efi_rsdp -max_total_time=60 tests/fuzz/corpus/efi_rsdp
 */
#include <stdlib.h>
#include <string.h>

#include <keel/efi_rsdp.h>

#define MAX_MAPS 2048

struct mem {
	const uint8_t *data;
	size_t size;
	void *maps[MAX_MAPS];
	unsigned nr_maps;
};

static const void *map(void *ctx, uint64_t pa, uint64_t len)
{
	struct mem *m = ctx;
	if (pa >= m->size || len > m->size - pa || m->nr_maps == MAX_MAPS)
		return NULL;
	void *copy = malloc(len ? len : 1);
	memcpy(copy, m->data + pa, len);
	m->maps[m->nr_maps++] = copy;
	return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mem m;
	m.data = data;
	m.size = size;
	m.nr_maps = 0;
	uint8_t rsdp[36];
	unsigned len = 99;
	char err[160];
	err[0] = 0;
	int rc = efi_find_rsdp(0x40, map, &m, rsdp, &len, err, sizeof(err));
	if (rc < 0 && (!memchr(err, 0, sizeof(err)) || !err[0] || len != 0))
		abort(); /* a failure always says why, and returns nothing */
	if (rc == 0 && ((len != 20 && len != 36) || memcmp(rsdp, "RSD PTR ", 8)))
		abort();
	for (unsigned i = 0; i < m.nr_maps; i++)
		free(m.maps[i]);
	return 0;
}
