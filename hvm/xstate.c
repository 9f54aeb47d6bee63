/*
 * Extended state (XSAVE) rules: which components guests get, area sizes,
 * and XSETBV's checks. Pure logic (include/keel/xstate.h).
 */
#include <keel/xstate.h>
#include <x86/cpu.h>

uint64_t xstate_offerable(uint64_t host_mask)
{
	uint64_t m = host_mask & (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512);
	if (!(m & XCR0_X87))
		return 0; /* no XSAVE worth the name */
	if (!(m & XCR0_SSE))
		m &= ~(XCR0_AVX | XCR0_AVX512);
	if (!(m & XCR0_AVX) || (m & XCR0_AVX512) != XCR0_AVX512)
		m &= ~XCR0_AVX512;
	return m;
}

uint32_t xstate_size(const struct xstate_layout *l, uint64_t mask)
{
	uint32_t end = XSTATE_BASE_BYTES;
	for (unsigned i = 2; i < XSTATE_COMPONENTS; i++)
		if ((mask >> i) & 1 && l->offset[i] + l->size[i] > end)
			end = l->offset[i] + l->size[i];
	return end;
}

uint32_t xstate_compacted_size(const struct xstate_layout *l, uint64_t mask)
{
	uint32_t end = XSTATE_BASE_BYTES;
	for (unsigned i = 2; i < XSTATE_COMPONENTS; i++) {
		if (!((mask >> i) & 1))
			continue;
		if ((l->align64 >> i) & 1)
			end = (end + 63) & ~63u;
		end += l->size[i];
	}
	return end;
}

bool xcr0_valid(uint64_t val, uint64_t offered)
{
	if (!(val & XCR0_X87) || (val & ~offered))
		return false;
	if ((val & XCR0_AVX) && !(val & XCR0_SSE))
		return false;
	uint64_t avx512 = val & XCR0_AVX512;
	if (avx512 && (avx512 != XCR0_AVX512 || !(val & XCR0_AVX)))
		return false;
	return true;
}
