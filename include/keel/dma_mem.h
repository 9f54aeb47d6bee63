/*
 * Guest memory as a DMA-capable device model sees it: copies to and from
 * guest-physical addresses that fail (return false) for any byte outside
 * the guest's RAM, a check of a range, and a place to say what the guest
 * programmed wrong.
 * Keel connects it to guest_read_phys/guest_write_phys and guest_log; the
 * host tests and fuzzers connect it to a buffer.
 */
#ifndef KEEL_DMA_MEM_H
#define KEEL_DMA_MEM_H

#include <keel/types.h>

struct dma_mem {
	bool (*read)(void *ctx, uint64_t gpa, void *dst, uint64_t len);
	bool (*write)(void *ctx, uint64_t gpa, const void *src, uint64_t len);
	/* One line about bad programming by the guest (no newline); the
	 * receiver rate-limits it. */
	void (*complain)(void *ctx, const char *text);
	void *ctx;
	/* True if every byte of [gpa, gpa + len) is the guest's RAM: a device
	 * checks a whole transfer before it moves anything. */
	bool (*covers)(void *ctx, uint64_t gpa, uint64_t len);
};

#endif
