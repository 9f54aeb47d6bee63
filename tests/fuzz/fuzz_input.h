/*
 * Helpers shared by the libFuzzer harnesses: a reader that turns the input
 * into small integers (zeros once it runs out, so every input is valid),
 * and require(), which names the broken invariant before aborting so the
 * crash report says what went wrong, not only where.
 */
#ifndef TESTS_FUZZ_INPUT_H
#define TESTS_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fin_u8(struct fuzz_input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fin_u16(struct fuzz_input *in)
{
	uint16_t lo = fin_u8(in);
	return (uint16_t)(lo | fin_u8(in) << 8);
}

static inline uint32_t fin_u32(struct fuzz_input *in)
{
	uint32_t lo = fin_u16(in);
	return lo | (uint32_t)fin_u16(in) << 16;
}

static inline uint64_t fin_u64(struct fuzz_input *in)
{
	uint64_t lo = fin_u32(in);
	return lo | (uint64_t)fin_u32(in) << 32;
}

/* Copies up to n bytes of input into dst and zero-fills the rest. */
static inline void fin_bytes(struct fuzz_input *in, void *dst, size_t n)
{
	uint8_t *d = dst;
	for (size_t i = 0; i < n; i++)
		d[i] = fin_u8(in);
}

/* FUZZ_TRACE=1 in the environment: the harnesses print each operation as
 * they decode it (to stderr), which turns a reproducer into a readable
 * sequence of port accesses. */
static inline bool fuzz_tracing(void)
{
	static int on = -1;
	if (on < 0) {
		const char *e = getenv("FUZZ_TRACE");
		on = e && *e && *e != '0';
	}
	return on;
}

#define trace(...)                                                                                                 \
	do {                                                                                                       \
		if (fuzz_tracing())                                                                                \
			fprintf(stderr, __VA_ARGS__);                                                              \
	} while (0)

#define require(cond)                                                                                              \
	do {                                                                                                       \
		if (!(cond)) {                                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);               \
			abort();                                                                                   \
		}                                                                                                  \
	} while (0)

#endif
