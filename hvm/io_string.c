/*
 * Layout of a string I/O instruction's elements in guest memory (see
 * include/keel/io_string.h). Keel moves as many elements as lie whole in
 * one guest page per step, so one step never needs more than one host
 * pointer; an element that straddles a page is the caller's two-piece case.
 */
#include <keel/io_string.h>

uint64_t io_string_run(uint64_t gpa, uint64_t off, uint64_t amask, unsigned size, bool down, uint64_t todo)
{
	uint64_t in_page = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
	uint64_t before_wrap = (amask - off) + 1; /* 0 when amask is ~0 and off is 0: no wrap */
	if (in_page < size || (before_wrap && before_wrap < size))
		return 0;
	if (down)
		return 1; /* elements below this one are on lower addresses: one at a time */
	uint64_t n = in_page / size;
	if (before_wrap)
		n = MIN(n, before_wrap / size);
	return MIN(n, todo);
}
