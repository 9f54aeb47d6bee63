/*
 * libFuzzer harness for the MADT processor enumeration (lib/acpi.c).
 *
 * The input is a small physical memory: its first 36 bytes are also the
 * RSDP copy the boot loader would pass, and the whole input is the memory
 * the root tables and the MADT are "mapped" from. Each mapping is handed out
 * as a heap copy of exactly the requested length, so AddressSanitizer
 * catches any read past what the parser asked for. The result must stay
 * within its documented bounds.
 *
 * Build and run (from the repository root):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DKEEL_HOST_TEST -Iinclude \
 *       tests/fuzz/fuzz_acpi.c lib/acpi.c lib/string.c lib/format.c -o build/fuzz_acpi
 *   build/fuzz_acpi -max_total_time=20 tests/fuzz/corpus/acpi
 */
#include <stdlib.h>
#include <string.h>

#include <keel/acpi.h>

struct mem {
	const uint8_t *data;
	size_t size;
	void *maps[16];
	unsigned nr_maps;
};

static const void *map(void *ctx, uint64_t pa, uint64_t len)
{
	struct mem *m = ctx;
	if (pa >= m->size || len > m->size - pa || m->nr_maps == 16)
		return NULL;
	void *copy = malloc(len ? len : 1);
	memcpy(copy, m->data + pa, len);
	m->maps[m->nr_maps++] = copy;
	return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t rsdp[36] = { 0 };
	memcpy(rsdp, data, size < 36 ? size : 36);
	struct mem m = { data, size, { 0 }, 0 };
	struct acpi_cpus cpus;
	char err[128];
	err[0] = 0;
	int rc = acpi_find_cpus(rsdp, size < 20 ? (unsigned)size : (size < 36 ? 20 : 36), map, &m, &cpus, err,
				sizeof(err));
	if (rc < 0 && (!memchr(err, 0, sizeof(err)) || !err[0]))
		abort(); /* a failure always says why */
	if (rc == 0 && cpus.nr > ACPI_MAX_CPUS)
		abort();
	for (unsigned i = 0; i < m.nr_maps; i++)
		free(m.maps[i]);
	return 0;
}
