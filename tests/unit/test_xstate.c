/* Extended state offered to guests: which XCR0 components, XSETBV's
 * checks, the XSAVE area sizes, and what CPUID leaves 1, 7 and 0xD say. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <keel/cpuid.h>
#include <keel/xstate.h>
#include <x86/cpu.h>

/* A Skylake-SP layout (the Bochs corei7_skylake_x model reports the same
 * standard offsets): AVX 256 bytes at 576, MPX, opmask 64 at 1088,
 * ZMM_Hi256 512 at 1152, Hi16_ZMM 1024 at 1664, PKRU 8 at 2688. */
static struct xstate_layout skylake(void)
{
	struct xstate_layout l = { 0 };
	l.size[2] = 256, l.offset[2] = 576;
	l.size[3] = 64, l.offset[3] = 960;
	l.size[4] = 64, l.offset[4] = 1024;
	l.size[5] = 64, l.offset[5] = 1088;
	l.size[6] = 512, l.offset[6] = 1152;
	l.size[7] = 1024, l.offset[7] = 1664;
	l.size[9] = 8, l.offset[9] = 2688;
	l.align64 = 0;
	l.sub1_eax = XSTATE_SUB1_XSAVEOPT | XSTATE_SUB1_XSAVEC | XSTATE_SUB1_XGETBV1;
	l.offered = xstate_offerable(0x2ff); /* x87..Hi16_ZMM and PKRU */
	return l;
}

static void test_offerable(void **state)
{
	/* MPX and PKRU are never offered; AVX-512 only whole and with AVX. */
	assert_int_equal(xstate_offerable(0x2ff), 0xe7);
	assert_int_equal(xstate_offerable(0x7), 0x7);
	assert_int_equal(xstate_offerable(0x3), 0x3);
	assert_int_equal(xstate_offerable(0x63), 0x3);   /* AVX-512 parts without AVX */
	assert_int_equal(xstate_offerable(0x67), 0x7);   /* Hi16_ZMM missing */
	assert_int_equal(xstate_offerable(0x5), 0x1);    /* AVX without SSE */
	assert_int_equal(xstate_offerable(0x6), 0);      /* no x87: nothing */
	assert_int_equal(xstate_offerable(0x60007), 0x7); /* AMX never */
}

static void test_xcr0_checks(void **state)
{
	/* SDM Vol. 2 XSETBV: bit 0 set, AVX with SSE, AVX-512 whole and with
	 * AVX, nothing beyond what is offered. */
	assert_true(xcr0_valid(0x1, 0xe7));
	assert_true(xcr0_valid(0x3, 0xe7));
	assert_true(xcr0_valid(0x7, 0xe7));
	assert_true(xcr0_valid(0xe7, 0xe7));
	assert_false(xcr0_valid(0x0, 0xe7));
	assert_false(xcr0_valid(0x2, 0xe7));
	assert_false(xcr0_valid(0x5, 0xe7));
	assert_false(xcr0_valid(0x27, 0xe7));
	assert_false(xcr0_valid(0xe3, 0xe7));
	assert_false(xcr0_valid(0x207, 0xe7)); /* PKRU: not offered */
	assert_false(xcr0_valid(0x1f, 0xe7));  /* MPX: not offered */
	assert_false(xcr0_valid(0x7, 0x3));    /* AVX not offered on this host */
	assert_false(xcr0_valid(1ULL << 63, 0xe7));
}

static void test_sizes(void **state)
{
	struct xstate_layout l = skylake();
	assert_int_equal(xstate_size(&l, 0x3), 576);
	assert_int_equal(xstate_size(&l, 0x7), 832);
	assert_int_equal(xstate_size(&l, 0xe7), 2688);
	assert_int_equal(xstate_compacted_size(&l, 0x3), 576);
	assert_int_equal(xstate_compacted_size(&l, 0x7), 832);
	assert_int_equal(xstate_compacted_size(&l, 0xe7), 576 + 256 + 64 + 512 + 1024);
	l.align64 = 1u << 5;
	assert_int_equal(xstate_compacted_size(&l, 0x27), 576 + 256 + 64); /* 832 is 64-aligned */
	l.size[2] = 250;
	assert_int_equal(xstate_compacted_size(&l, 0x27), 576 + 250 + 6 + 64);
}

static struct cpuid_guest_info guest(const struct xstate_layout *l, uint64_t xcr0, bool osxsave)
{
	return (struct cpuid_guest_info){ .vcpu_id = 0, .nr_vcpus = 1, .xstate = l, .xcr0 = xcr0, .osxsave = osxsave };
}

static void test_cpuid_leaf_d(void **state)
{
	struct xstate_layout l = skylake();
	struct cpuid_guest_info gi = guest(&l, 0x7, true);
	struct cpuid_regs host0 = { 0x2ff, 2696, 2696, 0 };
	struct cpuid_regs r = cpuid_guest_filter(0xd, 0, host0, &gi);
	assert_int_equal(r.eax, 0xe7);
	assert_int_equal(r.edx, 0);
	assert_int_equal(r.ebx, 832);  /* what the guest's XCR0 enables */
	assert_int_equal(r.ecx, 2688); /* everything offered */
	/* Sub-leaf 1: no XSAVES, no supervisor components. */
	r = cpuid_guest_filter(0xd, 1, (struct cpuid_regs){ 0xf, 0x988, 0x100, 0 }, &gi);
	assert_int_equal(r.eax, 0x7);
	assert_int_equal(r.ebx, 832);
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
	/* Offered components: the host's size and offset; others zero. */
	r = cpuid_guest_filter(0xd, 6, (struct cpuid_regs){ 512, 1152, 0, 0 }, &gi);
	assert_int_equal(r.eax, 512);
	assert_int_equal(r.ebx, 1152);
	r = cpuid_guest_filter(0xd, 9, (struct cpuid_regs){ 8, 2688, 0, 0 }, &gi);
	assert_int_equal(r.eax, 0);
	r = cpuid_guest_filter(0xd, 3, (struct cpuid_regs){ 64, 960, 0, 0 }, &gi);
	assert_int_equal(r.eax, 0);
	r = cpuid_guest_filter(0xd, 63, (struct cpuid_regs){ 1, 1, 1, 1 }, &gi);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	/* No XSAVE for guests: the whole leaf is zero. */
	struct cpuid_guest_info none = guest(NULL, 1, false);
	r = cpuid_guest_filter(0xd, 0, host0, &none);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void test_cpuid_feature_bits(void **state)
{
	struct xstate_layout l = skylake();
	struct cpuid_regs host1 = { 0x50654, 0, CPUID_1_ECX_XSAVE | CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_AVX |
							  CPUID_1_ECX_F16C | CPUID_1_ECX_FMA | CPUID_1_ECX_VMX,
				    0 };
	/* Leaf 1: XSAVE offered; OSXSAVE follows the guest's CR4, not the host's. */
	struct cpuid_guest_info gi = guest(&l, 1, false);
	struct cpuid_regs r = cpuid_guest_filter(1, 0, host1, &gi);
	assert_true(r.ecx & CPUID_1_ECX_XSAVE);
	assert_false(r.ecx & CPUID_1_ECX_OSXSAVE);
	assert_true(r.ecx & CPUID_1_ECX_AVX);
	assert_false(r.ecx & CPUID_1_ECX_VMX);
	gi.osxsave = true;
	assert_true(cpuid_guest_filter(1, 0, host1, &gi).ecx & CPUID_1_ECX_OSXSAVE);
	/* Leaf 7: AVX2 and AVX-512F with their components; PKU never. */
	struct cpuid_regs host7 = { 0, (1u << 5) | (1u << 16) | (1u << 0), (1u << 3) | (1u << 1), 0 };
	r = cpuid_guest_filter(7, 0, host7, &gi);
	assert_true(r.ebx & (1u << 5));
	assert_true(r.ebx & (1u << 16));
	assert_true(r.ecx & (1u << 1));   /* AVX512_VBMI */
	assert_false(r.ecx & (1u << 3));  /* PKU */
	/* A host whose AVX-512 is not offered: no AVX-512 bits. */
	l.offered = 0x7;
	r = cpuid_guest_filter(7, 0, host7, &gi);
	assert_true(r.ebx & (1u << 5));
	assert_false(r.ebx & (1u << 16));
	assert_false(r.ecx & (1u << 1));
	/* No XSAVE at all: no XSAVE, OSXSAVE, AVX, FMA, F16C, AVX2. */
	struct cpuid_guest_info none = guest(NULL, 1, true);
	r = cpuid_guest_filter(1, 0, host1, &none);
	assert_int_equal(r.ecx & (CPUID_1_ECX_XSAVE | CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_AVX | CPUID_1_ECX_F16C |
				  CPUID_1_ECX_FMA),
			 0);
	assert_false(cpuid_guest_filter(7, 0, host7, &none).ebx & (1u << 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offerable),
		cmocka_unit_test(test_xcr0_checks),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_cpuid_leaf_d),
		cmocka_unit_test(test_cpuid_feature_bits),
	};
	return cmocka_run_group_tests_name("xstate", tests, NULL, NULL);
}
