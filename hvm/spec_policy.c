/*
 * Which speculation mitigations this CPU needs at the guest boundary, from
 * its own enumeration (include/keel/spec.h). The rules, after Intel's
 * guidance for L1TF and MDS and what Xen and KVM do:
 *   - L1TF: Intel CPUs are affected unless ARCH_CAPABILITIES says RDCL_NO.
 *     A hypervisor flushes L1D before VM entry (IA32_FLUSH_CMD), unless
 *     SKIP_L1DFL_VMENTRY says the CPU (or the hypervisor below) need not.
 *   - MDS (and TAA, its TSX variant): Intel CPUs are affected unless MDS_NO
 *     (and, with TSX, TAA_NO). VERW clears the buffers only on CPUs that
 *     enumerate MD_CLEAR; the L1D flush clears them too on those CPUs, so
 *     VERW is not needed when the flush is done.
 *   - Branch-target injection across guests: an IBPB on a switch between
 *     guests, where the CPU offers IA32_PRED_CMD (Intel leaf 7 EDX[26],
 *     AMD 0x80000008 EBX[12]).
 * AMD CPUs are not affected by L1TF or MDS.
 */
#include <keel/spec.h>

static void choose_l1d(const struct spec_cpu *c, struct spec_choice *o)
{
	o->l1tf_affected = c->intel && !(c->arch_caps & ARCH_CAP_RDCL_NO);
	if (!c->intel)
		o->l1d_why = "not affected (not an Intel CPU)";
	else if (!o->l1tf_affected)
		o->l1d_why = "not affected (RDCL_NO)";
	else if (c->arch_caps & ARCH_CAP_SKIP_L1DFL_VMENTRY)
		o->l1d_why = "not needed (SKIP_L1DFL_VMENTRY)";
	else if (!(c->leaf7_edx & CPUID7_EDX_L1D_FLUSH))
		o->l1d_why = "affected, but the CPU offers no L1D flush (CPUID.7:EDX[28]; update its microcode)";
	else {
		o->l1d_flush_on_entry = true;
		o->l1d_why = "on (affected by L1TF)";
	}
}

static void choose_verw(const struct spec_cpu *c, enum spec_verw_mode mode, struct spec_choice *o)
{
	bool taa = c->intel && (c->leaf7_ebx & CPUID7_EBX_RTM) && !(c->arch_caps & ARCH_CAP_TAA_NO);
	o->mds_affected = c->intel && (!(c->arch_caps & ARCH_CAP_MDS_NO) || taa);
	if (mode == SPEC_VERW_ON) {
		o->verw_on_entry = true; /* VERW exists on every x86 CPU; it clears buffers only with MD_CLEAR */
		o->verw_why = "on (verw=on)";
	} else if (mode == SPEC_VERW_OFF)
		o->verw_why = o->mds_affected ? "off (verw=off), although the CPU is affected" : "off (verw=off)";
	else if (!c->intel)
		o->verw_why = "not affected (not an Intel CPU)";
	else if (!o->mds_affected)
		o->verw_why = "not affected (MDS_NO, and TAA_NO or no TSX)";
	else if (!(c->leaf7_edx & CPUID7_EDX_MD_CLEAR))
		o->verw_why = "affected, but VERW does not clear buffers here (no MD_CLEAR; update its microcode)";
	else if (o->l1d_flush_on_entry)
		o->verw_why = "not needed (the L1D flush clears the buffers)";
	else {
		o->verw_on_entry = true;
		o->verw_why = "on (affected by MDS/TAA)";
	}
}

void spec_choose(const struct spec_cpu *c, enum spec_verw_mode verw, struct spec_choice *o)
{
	*o = (struct spec_choice){ 0 };
	choose_l1d(c, o);
	choose_verw(c, verw, o);
	o->ibpb_on_switch = (c->intel && (c->leaf7_edx & CPUID7_EDX_IBRS_IBPB)) ||
			    (c->amd && (c->ext8_ebx & CPUID_EXT8_EBX_IBPB));
	o->ibpb_why = o->ibpb_on_switch ? "on" : "off (the CPU offers no IBPB)";
}
