/* Which speculation mitigations Keel applies at the guest boundary, from
 * the CPU's own enumeration (hvm/spec_policy.c): the L1D flush and VERW on
 * VM entry only where the CPU is affected and offers them, off where
 * IA32_ARCH_CAPABILITIES says it is not affected; IBPB between guests
 * where offered. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/spec.h>

#define MD_CLEAR CPUID7_EDX_MD_CLEAR
#define L1D CPUID7_EDX_L1D_FLUSH
#define IBPB CPUID7_EDX_IBRS_IBPB
#define ARCHCAP CPUID7_EDX_ARCH_CAPABILITIES

static struct spec_choice choose_mode(struct spec_cpu c, enum spec_verw_mode mode)
{
	struct spec_choice o;
	memset(&o, 0xa5, sizeof(o)); /* every field must be written */
	spec_choose(&c, mode, &o);
	return o;
}

static struct spec_choice choose(struct spec_cpu c) { return choose_mode(c, SPEC_VERW_AUTO); }

static void test_old_intel_with_microcode(void **state)
{
	/* Skylake with the 2019 microcode: no ARCH_CAPABILITIES, L1D_FLUSH
	 * and MD_CLEAR offered. Flush L1D (which also clears the buffers). */
	struct spec_choice o = choose((struct spec_cpu){ .intel = true, .leaf7_edx = MD_CLEAR | L1D | IBPB });
	assert_true(o.l1tf_affected);
	assert_true(o.mds_affected);
	assert_true(o.l1d_flush_on_entry);
	assert_false(o.verw_on_entry);
	assert_non_null(strstr(o.verw_why, "L1D flush clears"));
	assert_true(o.ibpb_on_switch);
}

static void test_old_intel_without_microcode(void **state)
{
	/* Affected, but nothing to do it with: said so, nothing turned on
	 * (an IA32_FLUSH_CMD write would #GP). */
	struct spec_choice o = choose((struct spec_cpu){ .intel = true });
	assert_true(o.l1tf_affected);
	assert_false(o.l1d_flush_on_entry);
	assert_false(o.verw_on_entry);
	assert_false(o.ibpb_on_switch);
	assert_non_null(strstr(o.l1d_why, "no L1D flush"));
	assert_non_null(strstr(o.verw_why, "no MD_CLEAR"));
	assert_non_null(strstr(o.ibpb_why, "no IBPB"));
}

static void test_cascade_lake(void **state)
{
	/* RDCL_NO and MDS_NO, but TSX without TAA_NO: VERW for TAA. */
	struct spec_choice o = choose((struct spec_cpu){ .intel = true, .leaf7_ebx = CPUID7_EBX_RTM,
							 .leaf7_edx = MD_CLEAR | L1D | IBPB | ARCHCAP,
							 .arch_caps = ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO });
	assert_false(o.l1tf_affected);
	assert_false(o.l1d_flush_on_entry);
	assert_true(o.verw_on_entry);
	/* The same without TSX, or with TAA_NO: nothing on entry. */
	o = choose((struct spec_cpu){ .intel = true, .leaf7_edx = MD_CLEAR | L1D | IBPB | ARCHCAP,
				      .arch_caps = ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO });
	assert_false(o.verw_on_entry);
	assert_non_null(strstr(o.verw_why, "not affected"));
	o = choose((struct spec_cpu){ .intel = true, .leaf7_ebx = CPUID7_EBX_RTM,
				      .leaf7_edx = MD_CLEAR | L1D | IBPB | ARCHCAP,
				      .arch_caps = ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO });
	assert_false(o.verw_on_entry);
	assert_false(o.l1d_flush_on_entry);
	assert_true(o.ibpb_on_switch);
}

static void test_skip_l1d_flush(void **state)
{
	/* A hypervisor below (or the CPU) says no flush is needed: then VERW
	 * still clears the MDS buffers. */
	struct spec_choice o = choose((struct spec_cpu){ .intel = true, .leaf7_edx = MD_CLEAR | L1D | ARCHCAP,
							 .arch_caps = ARCH_CAP_SKIP_L1DFL_VMENTRY });
	assert_true(o.l1tf_affected);
	assert_false(o.l1d_flush_on_entry);
	assert_non_null(strstr(o.l1d_why, "SKIP_L1DFL_VMENTRY"));
	assert_true(o.verw_on_entry);
}

static void test_amd(void **state)
{
	/* Not affected by L1TF or MDS, whatever the bits say; IBPB from
	 * 0x80000008 EBX. */
	struct spec_choice o = choose((struct spec_cpu){ .amd = true, .leaf7_edx = MD_CLEAR | L1D,
							 .ext8_ebx = CPUID_EXT8_EBX_IBPB });
	assert_false(o.l1tf_affected);
	assert_false(o.mds_affected);
	assert_false(o.l1d_flush_on_entry);
	assert_false(o.verw_on_entry);
	assert_true(o.ibpb_on_switch);
	o = choose((struct spec_cpu){ .amd = true });
	assert_false(o.ibpb_on_switch);
}

static void test_verw_override(void **state)
{
	/* verw=on: VERW on entry even on a CPU that does not need it (how
	 * the boot tests run the path in Bochs); verw=off: never. */
	struct spec_cpu amd = { .amd = true };
	struct spec_choice o = choose_mode(amd, SPEC_VERW_ON);
	assert_true(o.verw_on_entry);
	assert_string_equal(o.verw_why, "on (verw=on)");
	struct spec_cpu skx = { .intel = true, .leaf7_edx = MD_CLEAR };
	assert_true(choose(skx).verw_on_entry);
	o = choose_mode(skx, SPEC_VERW_OFF);
	assert_false(o.verw_on_entry);
	assert_non_null(strstr(o.verw_why, "although the CPU is affected"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_intel_with_microcode),
		cmocka_unit_test(test_old_intel_without_microcode),
		cmocka_unit_test(test_cascade_lake),
		cmocka_unit_test(test_skip_l1d_flush),
		cmocka_unit_test(test_amd),
		cmocka_unit_test(test_verw_override),
	};
	return cmocka_run_group_tests_name("speculation policy", tests, NULL, NULL);
}
