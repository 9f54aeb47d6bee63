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
 * boundary or the wrap: then it is moved alone, in pieces.
 */
uint64_t io_string_run(uint64_t gpa, uint64_t off, uint64_t amask, unsigned size, bool down, uint64_t todo);

/* Bytes of a straddling element that lie in gpa's page (the rest follow at
 * the next linear address, on the next page). */
static inline unsigned io_string_first_piece(uint64_t gpa, unsigned size)
{
	uint64_t left = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
	return left < size ? (unsigned)left : size;
}

#endif
