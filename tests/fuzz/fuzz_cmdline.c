/*
 * libFuzzer harness for Keel's command-line parser (lib/cmdline.c).
 *
 * The input becomes a NUL-terminated string in a heap buffer of exactly
 * its length plus one, so AddressSanitizer catches a read past the NUL.
 * The result must obey every rule config.h states; a violation aborts.
 *
 * Build and run (from the repository root; see docs/security.md):
 *   make build/fuzz/fuzz_cmdline
 *   build/fuzz/fuzz_cmdline -max_total_time=60 tests/fuzz/corpus/cmdline
 */
#include <stdlib.h>
#include <string.h>

#include <keel/config.h>

static void require(int cond)
{
	if (!cond)
		abort();
}

static void require_string(const char *s, size_t size) { require(memchr(s, 0, size) != NULL); }

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 15)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keel_config cfg;
	char *line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = 0;

	config_defaults(&cfg);
	config_parse_cmdline(&cfg, line);

	require(cfg.loglevel >= 0 && cfg.loglevel <= 3);
	require(cfg.trace_entries <= CONFIG_MAX_TRACE);
	require_string(cfg.seabios, sizeof(cfg.seabios));
	require_string(cfg.hvmloader, sizeof(cfg.hvmloader));
	require(cfg.seabios[0] && cfg.hvmloader[0]);
	require(cfg.nr_errors <= CONFIG_MAX_ERRORS);
	require(cfg.errors_dropped == 0 || cfg.nr_errors == CONFIG_MAX_ERRORS);
	for (unsigned i = 0; i < cfg.nr_errors; i++) {
		require_string(cfg.errors[i], sizeof(cfg.errors[i]));
		require(cfg.errors[i][0]);
	}
	require(cfg.nr_guests <= MAX_GUESTS);
	require(cfg.guests_ignored == 0 || cfg.nr_guests == MAX_GUESTS);
	for (unsigned i = 0; i < cfg.nr_guests; i++) {
		const struct guest_config *g = &cfg.guests[i];
		require_string(g->name, sizeof(g->name));
		require_string(g->disk, sizeof(g->disk));
		require_string(g->kernel, sizeof(g->kernel));
		require_string(g->ramdisk, sizeof(g->ramdisk));
		require_string(g->cmdline, sizeof(g->cmdline));
		require_string(g->error, sizeof(g->error));
		require(valid_name(g->name)); /* even an invalid guest has a usable name */
		if (!g->valid) {
			require(g->error[0]);
			continue;
		}
		require(g->error[0] == 0);
		require(g->mem_bytes >= GUEST_MEM_MIN && g->mem_bytes <= GUEST_MEM_MAX && g->mem_bytes % MiB(2) == 0);
		require(g->vcpus >= 1 && g->vcpus <= GUEST_MAX_VCPUS);
		require(!g->disk[0] != !g->kernel[0]); /* exactly one */
		require(!g->ramdisk[0] || g->kernel[0]);
		require(!strchr(g->disk, ',') && !strchr(g->disk, ' '));
		require(!strchr(g->kernel, ' ') && !strchr(g->ramdisk, ' '));
		for (unsigned j = 0; j < i; j++)
			require(strcmp(cfg.guests[j].name, g->name) != 0);
	}
	free(line);
	return 0;
}
