/*
 * Where a guest's text goes (its UART, debug ports 0xE9/0x402). Device
 * models call guest_output_putc(); the sink buffers a line and hands it to
 * Keel's console with the guest's prefix, so lines of different guests never
 * interleave. Pure: unit tests give their own `emit` to capture lines.
 *
 * A guest must never drive the operator's terminal, so no ESC byte (nor any
 * other control character but tab) reaches the console. SeaBIOS and boot
 * loaders draw their screens with ANSI sequences: whole sequences are
 * dropped, keeping the text around them, and counted (`escapes_dropped`).
 * Recognised (ECMA-48): CSI, ESC [ params (0x30-0x3F)* intermediates
 * (0x20-0x2F)* final (0x40-0x7E); and the short forms, ESC intermediates*
 * final (0x30-0x7E), e.g. ESC c, ESC 7, ESC ( B. A control character inside
 * a sequence ends it (dropped) and then counts as itself; so does a
 * sequence longer than GUEST_ESC_MAX bytes (the rest is shown as text).
 */
#ifndef KEEL_GUEST_OUTPUT_H
#define KEEL_GUEST_OUTPUT_H

#include <keel/types.h>

#define GUEST_LINE_MAX 200
#define GUEST_ESC_MAX 32

enum guest_esc_state { GUEST_ESC_NONE, GUEST_ESC_START, GUEST_ESC_SHORT, GUEST_ESC_CSI };

struct guest_output {
	const char *prefix; /* e.g. "[g0] " */
	void (*emit)(void *ctx, const char *line, size_t len); /* line incl. prefix and '\n' */
	void *ctx;
	char line[GUEST_LINE_MAX];
	size_t len;
	uint64_t bytes; /* total bytes written by the guest */
	enum guest_esc_state esc; /* inside an escape sequence (which kind) */
	unsigned esc_len;         /* its bytes so far */
	uint64_t escapes_dropped; /* escape sequences left out of its lines */
};

void guest_output_init(struct guest_output *o, const char *prefix, void (*emit)(void *, const char *, size_t),
		       void *ctx);
void guest_output_putc(struct guest_output *o, uint8_t c);
void guest_output_flush(struct guest_output *o);

#endif
