/*
 * How the next elements of a string I/O instruction (INS/OUTS, with or
 * without REP) lie in guest memory: how many whole elements can be moved
 * through one pointer, or that the next element straddles a page boundary
 * and must be moved in two pieces (each page is translated on its own, and
 * two guest-physical pages need not be in the same 2 MiB RAM chunk).
 * Pure: compiled into the host unit tests.
 */
#ifndef KEEL_IO_STRING_H
#define KEEL_IO_STRING_H

#include <keel/types.h>

/*
 * gpa: guest-physical address of the next element; off: its offset in the
 * segment (RSI/RDI masked to the address size); amask: the address-size
 * mask (0xffff, 0xffffffff, ~0); size: 1, 2 or 4; down: RFLAGS.DF; todo:
 * elements still to move in this exit (>= 1).
 * Returns the number of elements (>= 1) that lie whole in gpa's page and
 * before the address-size wrap, or 0 when the next element straddles a page
 * boundary or the wrap: then it is moved alone, byte by byte (each byte at
 * io_string_linear(base, off + i, ...)).
 */
uint64_t io_string_run(uint64_t gpa, uint64_t off, uint64_t amask, unsigned size, bool down, uint64_t todo);

/* Segment registers as the exit's instruction information numbers them. */
enum { IO_SEG_ES, IO_SEG_CS, IO_SEG_SS, IO_SEG_DS, IO_SEG_FS, IO_SEG_GS };

/* The base of segment seg (base: the VMCS's) for a string instruction: in
 * 64-bit mode only FS and GS have one; the others count as 0 (SDM Vol. 1
 * 3.4.2.1, Vol. 3A 3.2.4). */
static inline uint64_t io_string_seg_base(unsigned seg, uint64_t base, bool mode64)
{
	return mode64 && seg != IO_SEG_FS && seg != IO_SEG_GS ? 0 : base;
}

/* Linear address of the byte at offset off in the segment: the offset
 * wraps at the address size (amask: 0xffff with 16-bit addressing, so
 * SI=0xffff plus one is 0, not 0x10000), and outside 64-bit mode the
 * linear address wraps at 4 GiB. */
static inline uint64_t io_string_linear(uint64_t base, uint64_t off, uint64_t amask, bool mode64)
{
	uint64_t la = base + (off & amask);
	return mode64 ? la : la & 0xffffffffULL;
}

#endif
