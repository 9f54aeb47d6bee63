/*
 * Where a guest's text goes (its UART, debug ports 0xE9/0x402). Device
 * models call guest_output_putc(); the sink buffers a line and hands it to
 * Keel's console with the guest's prefix, so lines of different guests never
 * interleave. Pure: unit tests give their own `emit` to capture lines.
 */
#ifndef KEEL_GUEST_OUTPUT_H
#define KEEL_GUEST_OUTPUT_H

#include <keel/types.h>

#define GUEST_LINE_MAX 200

struct guest_output {
	const char *prefix; /* e.g. "[g0] " */
	void (*emit)(void *ctx, const char *line, size_t len); /* line incl. prefix and '\n' */
	void *ctx;
	char line[GUEST_LINE_MAX];
	size_t len;
	uint64_t bytes; /* total bytes written by the guest */
};

void guest_output_init(struct guest_output *o, const char *prefix, void (*emit)(void *, const char *, size_t),
		       void *ctx);
void guest_output_putc(struct guest_output *o, uint8_t c);
void guest_output_flush(struct guest_output *o);

#endif
