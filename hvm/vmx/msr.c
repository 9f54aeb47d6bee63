/*
 * Guest MSR accesses. msr_table[] lists every MSR a guest may touch and
 * what Keel does; any other index gets #GP, as on a CPU without that MSR,
 * and is counted and logged (rate-limited) so a misbehaving guest shows.
 */
#include <keel/console.h>
#include <keel/guest.h>
#include <keel/mm.h>
#include <keel/string.h>
#include <keel/vmx.h>
#include <x86/cpu.h>
#include <x86/io.h>

#include "exit.h"
#include "vmcs.h"
#include "vmx.h"

#define MSR_XEN_HYPERCALL_PAGE 0x40000000u

enum msr_result { MSR_OK, MSR_GP };

typedef enum msr_result (*msr_read_fn)(struct vcpu *v, uint32_t msr, uint64_t *val);
typedef enum msr_result (*msr_write_fn)(struct vcpu *v, uint32_t msr, uint64_t val);

static enum msr_result rd_zero(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	*val = 0;
	return MSR_OK;
}
static enum msr_result wr_ignore(struct vcpu *v, uint32_t msr, uint64_t val) { return MSR_OK; }
static enum msr_result wr_gp(struct vcpu *v, uint32_t msr, uint64_t val) { return MSR_GP; }

/* The guest's TSC is the host's plus VMCS_TSC_OFFSET, which the CPU adds
 * to RDTSC/RDTSCP only with "use TSC offsetting" on (SDM 25.6.5); without
 * that control the field means nothing, and a write the guest's RDTSC would
 * not see is refused rather than half done. */
static bool tsc_offsetting(void) { return vmx_caps.proc_ctls & PROC_USE_TSC_OFFSETTING; }

static enum msr_result rd_tsc(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	*val = rdtsc() + (tsc_offsetting() ? vmread(VMCS_TSC_OFFSET) : 0);
	return MSR_OK;
}
static enum msr_result wr_tsc(struct vcpu *v, uint32_t msr, uint64_t val)
{
	if (!tsc_offsetting())
		return MSR_GP;
	/* One offset per vCPU: the guest's TSC becomes val from now on. */
	vmwrite(VMCS_TSC_OFFSET, val - rdtsc());
	return MSR_OK;
}

static enum msr_result rd_apic_base(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	*val = vlapic_base_msr(&v->lapic);
	return MSR_OK;
}

static enum msr_result wr_apic_base(struct vcpu *v, uint32_t msr, uint64_t val)
{
	/* The guest sees the host's MAXPHYADDR (CPUID 0x80000008, hvm/cpuid.c);
	 * address bits at or above it are reserved. */
	uint32_t a, b, c, d;
	cpuid_count(0x80000008, 0, &a, &b, &c, &d);
	int r = vlapic_set_base_msr(&v->lapic, val, a & 0xff);
	if (r < 0)
		return MSR_GP; /* reserved bits, or a transition the SDM forbids */
	apicv_apic_base_written(v);
	if (r > 0)
		guest_log(v->guest, GLOG_APIC_MOVE, LOG_WARN,
			  "vCPU %u: moving the local APIC to %#lx is not supported; it stays at %#lx", v->id,
			  (uint64_t)(val & ~0xfffULL), (uint64_t)VLAPIC_DEFAULT_BASE);
	return MSR_OK;
}

static enum msr_result rd_feature_control(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	/* Locked with VMX off: the guest's view of a CPU it cannot VMXON. */
	*val = FEATURE_CONTROL_LOCK;
	return MSR_OK;
}

/* IA32_MISC_ENABLE: the writable bits are kept per vCPU and read back, as
 * guests (and kvm-unit-tests' msr test) expect; the read-only bits say no
 * performance monitoring, BTS or PEBS, matching CPUID; a reserved bit or a
 * change of a read-only one is #GP, as on hardware. What a guest writes
 * changes nothing else: CPUID does not follow "limit CPUID maxval" (22) or
 * "XD bit disable" (34), as KVM does not either. */
static enum msr_result rd_misc_enable(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	*val = v->misc_enable;
	return MSR_OK;
}
static enum msr_result wr_misc_enable(struct vcpu *v, uint32_t msr, uint64_t val)
{
	if (val & ~(MISC_ENABLE_WRITABLE | MISC_ENABLE_READ_ONLY))
		return MSR_GP;
	if ((val ^ v->misc_enable) & MISC_ENABLE_READ_ONLY)
		return MSR_GP;
	v->misc_enable = val;
	return MSR_OK;
}

static enum msr_result rd_efer(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	*val = vcpu_efer(v);
	return MSR_OK;
}
static enum msr_result wr_efer(struct vcpu *v, uint32_t msr, uint64_t val)
{
	return vcpu_write_efer(v, val) < 0 ? MSR_GP : MSR_OK; /* long_mode.c */
}

static enum msr_result rd_pat(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	*val = (vmx_caps.entry_ctls & ENTRY_LOAD_IA32_PAT) ? vmread(VMCS_GUEST_IA32_PAT) : v->pat;
	return MSR_OK;
}
static enum msr_result wr_pat(struct vcpu *v, uint32_t msr, uint64_t val)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (val >> (i * 8)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return MSR_GP;
	}
	if (vmx_caps.entry_ctls & ENTRY_LOAD_IA32_PAT)
		vmwrite(VMCS_GUEST_IA32_PAT, val);
	v->pat = val;
	return MSR_OK;
}

static enum msr_result rd_sysenter(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	*val = vmread(msr == MSR_IA32_SYSENTER_CS	 ? VMCS_GUEST_IA32_SYSENTER_CS
		      : msr == MSR_IA32_SYSENTER_ESP ? VMCS_GUEST_IA32_SYSENTER_ESP
						     : VMCS_GUEST_IA32_SYSENTER_EIP);
	return MSR_OK;
}
/* Addresses in these MSRs must be canonical: the CPU raises #GP for
 * anything else, and a non-canonical value in the VMCS would make the next
 * VM entry fail its guest-state checks (SDM 26.3.1.1). 48-bit linear
 * addresses (no 5-level paging for guests). */
static bool canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

static enum msr_result wr_sysenter(struct vcpu *v, uint32_t msr, uint64_t val)
{
	if (msr == MSR_IA32_SYSENTER_CS)
		val = (uint32_t)val;
	else if (!canonical(val))
		return MSR_GP;
	vmwrite(msr == MSR_IA32_SYSENTER_CS	 ? VMCS_GUEST_IA32_SYSENTER_CS
		: msr == MSR_IA32_SYSENTER_ESP ? VMCS_GUEST_IA32_SYSENTER_ESP
					       : VMCS_GUEST_IA32_SYSENTER_EIP,
		val);
	return MSR_OK;
}

static enum msr_result rd_fsgs(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	*val = vmread(msr == MSR_IA32_FS_BASE ? VMCS_GUEST_FS_BASE : VMCS_GUEST_GS_BASE);
	return MSR_OK;
}
static enum msr_result wr_fsgs(struct vcpu *v, uint32_t msr, uint64_t val)
{
	if (!canonical(val))
		return MSR_GP;
	vmwrite(msr == MSR_IA32_FS_BASE ? VMCS_GUEST_FS_BASE : VMCS_GUEST_GS_BASE, val);
	return MSR_OK;
}

/* Xen's hypercall-page MSR (CPUID 0x40000002 EBX): the value is the page's
 * guest-physical address, the low 12 bits the page index (only 0 exists).
 * Keel fills the page with 32-byte stubs "mov $n,%eax; vmcall; ret". */
static enum msr_result wr_hypercall_page(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct guest *g = v->guest;
	uint64_t gpa = val & ~0xfffULL;
	if (val & 0xfff)
		return MSR_GP;
	uint8_t *page = guest_phys_ptr(g, gpa, PAGE_SIZE);
	if (!page)
		return MSR_GP; /* outside RAM: refused and logged like any bad value */
	memset(page, 0xcc, PAGE_SIZE);
	for (unsigned i = 0; i < PAGE_SIZE / 32; i++) {
		uint8_t *s = page + i * 32;
		s[0] = 0xb8; /* mov $i, %eax */
		s[1] = (uint8_t)i;
		s[2] = s[3] = s[4] = 0;
		s[5] = 0x0f; /* vmcall */
		s[6] = 0x01;
		s[7] = 0xc1;
		s[8] = 0xc3; /* ret */
	}
	g->hypercall_page_gpa = gpa;
	pr_debug("guest %s: hypercall page at %#lx\n", g->name, gpa);
	return MSR_OK;
}

/* The x2APIC's registers, MSRs 0x800-0x8FF (hvm/dev/vlapic.c has the
 * rules: #GP outside x2APIC mode and for absent, read-only or write-only
 * registers). With "virtualize x2APIC mode" (apicv.c) most reads and the
 * TPR, EOI and SELF IPI writes never come here. */
static enum msr_result rd_x2apic(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	return vlapic_x2apic_read(&v->lapic, msr, val) < 0 ? MSR_GP : MSR_OK;
}
static enum msr_result wr_x2apic(struct vcpu *v, uint32_t msr, uint64_t val)
{
	uint64_t undeliverable = v->guest->apic_bus.undeliverable;
	if (vlapic_x2apic_write(&v->lapic, msr, val) < 0)
		return MSR_GP;
	vcpu_apic_reg_written(v, vlapic_x2apic_offset(msr), undeliverable);
	return MSR_OK;
}

struct msr_entry {
	uint32_t index;
	const char *name;
	msr_read_fn read;
	msr_write_fn write;
};

static const struct msr_entry x2apic_msrs = { X2APIC_MSR_BASE, "x2APIC register", rd_x2apic, wr_x2apic };

/* The one table of MSRs guests may use. */
static const struct msr_entry msr_table[] = {
	{ MSR_IA32_TSC, "IA32_TSC", rd_tsc, wr_tsc },
	{ MSR_IA32_PLATFORM_ID, "IA32_PLATFORM_ID", rd_zero, wr_gp },
	{ MSR_IA32_APIC_BASE, "IA32_APIC_BASE", rd_apic_base, wr_apic_base },
	{ MSR_IA32_FEATURE_CONTROL, "IA32_FEATURE_CONTROL", rd_feature_control, wr_gp },
	{ MSR_IA32_BIOS_SIGN_ID, "IA32_BIOS_SIGN_ID", rd_zero, wr_ignore },
	{ 0x79, "IA32_BIOS_UPDT_TRIG", rd_zero, wr_ignore },
	{ MSR_IA32_MTRRCAP, "IA32_MTRRCAP", rd_zero, wr_gp },
	{ MSR_IA32_SYSENTER_CS, "IA32_SYSENTER_CS", rd_sysenter, wr_sysenter },
	{ MSR_IA32_SYSENTER_ESP, "IA32_SYSENTER_ESP", rd_sysenter, wr_sysenter },
	{ MSR_IA32_SYSENTER_EIP, "IA32_SYSENTER_EIP", rd_sysenter, wr_sysenter },
	{ MSR_IA32_MCG_CAP, "IA32_MCG_CAP", rd_zero, wr_gp },
	{ MSR_IA32_MCG_STATUS, "IA32_MCG_STATUS", rd_zero, wr_ignore },
	{ MSR_IA32_MISC_ENABLE, "IA32_MISC_ENABLE", rd_misc_enable, wr_misc_enable },
	{ MSR_IA32_PAT, "IA32_PAT", rd_pat, wr_pat },
	{ MSR_IA32_MTRR_DEF_TYPE, "IA32_MTRR_DEF_TYPE", rd_zero, wr_ignore },
	{ MSR_IA32_EFER, "IA32_EFER", rd_efer, wr_efer },
	{ MSR_IA32_FS_BASE, "IA32_FS_BASE", rd_fsgs, wr_fsgs },
	{ MSR_IA32_GS_BASE, "IA32_GS_BASE", rd_fsgs, wr_fsgs },
	{ MSR_XEN_HYPERCALL_PAGE, "Xen hypercall page", rd_zero, wr_hypercall_page },
};

static const struct msr_entry *msr_lookup(uint32_t msr)
{
	if (msr >= X2APIC_MSR_BASE && msr <= X2APIC_MSR_END)
		return &x2apic_msrs;
	for (unsigned i = 0; i < ARRAY_SIZE(msr_table); i++)
		if (msr_table[i].index == msr)
			return &msr_table[i];
	return NULL;
}

/* A #GP for an MSR access: logged (rate-limited per guest) with the MSR's
 * name when Keel knows it, so a misbehaving guest is visible in the log. */
static void msr_refused(struct vcpu *v, const struct msr_entry *e, uint32_t msr, bool write, uint64_t val)
{
	struct guest *g = v->guest;
	if (!e)
		guest_log(g, GLOG_MSR_UNKNOWN, LOG_INFO, "%s of unsupported MSR %#x at RIP %#lx: #GP injected",
			  write ? "WRMSR" : "RDMSR", msr, vmread(VMCS_GUEST_RIP));
	else if (write)
		guest_log(g, GLOG_MSR_REFUSED, LOG_INFO, "WRMSR %s (%#x) value %#lx at RIP %#lx refused: #GP injected",
			  e->name, msr, val, vmread(VMCS_GUEST_RIP));
	else
		guest_log(g, GLOG_MSR_REFUSED, LOG_INFO, "RDMSR %s (%#x) at RIP %#lx refused: #GP injected", e->name,
			  msr, vmread(VMCS_GUEST_RIP));
}

enum exit_action exit_rdmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	const struct msr_entry *e = msr_lookup(msr);
	uint64_t val;
	if (!e || e->read(v, msr, &val) != MSR_OK) {
		msr_refused(v, e, msr, false, 0);
		vcpu_inject_exception(v, X86_EXC_GP, true, 0);
		return EXIT_RESUME;
	}
	v->regs.rax = (uint32_t)val;
	v->regs.rdx = val >> 32;
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}

enum exit_action exit_wrmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	const struct msr_entry *e = msr_lookup(msr);
	if (!e || e->write(v, msr, val) != MSR_OK) {
		msr_refused(v, e, msr, true, val);
		vcpu_inject_exception(v, X86_EXC_GP, true, 0);
		return EXIT_RESUME;
	}
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}

/* MSRs outside the VMCS that a guest may use without exits; Keel does not
 * use them itself, and switches them when vCPUs share a CPU (sched.c). */
static const uint32_t msr_passthrough[] = {
	MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK, MSR_IA32_KERNEL_GS_BASE,
};

/* IA32_TSC_AUX, what RDTSCP returns in ECX, is per vCPU like the MSRs
 * above, but it exists only when the CPU has RDTSCP; Keel offers RDTSCP to
 * guests (CPUID, hvm/cpuid.c) exactly when it enables it in the VMCS. Not
 * offered: the MSR stays trapped and refused with #GP. */
static bool tsc_aux_per_vcpu(void) { return vmx_caps.proc2_ctls & PROC2_ENABLE_RDTSCP; }

static void msr_bitmap_pass(uint8_t *bitmap, uint32_t msr)
{
	uint32_t m = msr & 0x1fff;
	bitmap[1024 + m / 8] &= ~(1u << (m % 8));
	bitmap[3072 + m / 8] &= ~(1u << (m % 8));
}

void msr_bitmap_init(uint8_t *bitmap)
{
	/* Layout (SDM 25.6.9): read-low, read-high, write-low, write-high,
	 * 1 KiB each; "high" covers 0xC0000000-0xC0001FFF. */
	memset(bitmap, 0xff, PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(msr_passthrough); i++)
		msr_bitmap_pass(bitmap, msr_passthrough[i]);
	if (tsc_aux_per_vcpu())
		msr_bitmap_pass(bitmap, MSR_IA32_TSC_AUX);
}

void msr_bitmap_init_x2apic(uint8_t *bitmap)
{
	/* With "virtualize x2APIC mode", APIC-register virtualization and
	 * virtual-interrupt delivery (SDM 29.5), an x2APIC MSR whose bit is
	 * clear is read from the virtual-APIC page (the model's registers) for
	 * the registers listed below, and TPR, EOI and SELF IPI writes are
	 * virtualized. Any other x2APIC MSR with a clear bit would reach the
	 * host's own APIC, so those bits stay set: the current count (computed
	 * by the model), the absent and write-only registers (#GP) and every
	 * other write. */
	static const uint32_t reads[] = { 0x802, 0x803, 0x808, 0x80a, 0x80d, 0x80f, 0x828, 0x830,
					  0x832, 0x833, 0x834, 0x835, 0x836, 0x837, 0x838, 0x83e };
	static const uint32_t writes[] = { X2APIC_MSR_TPR, X2APIC_MSR_EOI, X2APIC_MSR_SELF_IPI };
	msr_bitmap_init(bitmap);
	for (unsigned i = 0; i < ARRAY_SIZE(reads); i++)
		bitmap[reads[i] / 8] &= ~(1u << (reads[i] % 8));
	for (uint32_t m = 0x810; m <= 0x827; m++) /* ISR, TMR, IRR */
		bitmap[m / 8] &= ~(1u << (m % 8));
	for (unsigned i = 0; i < ARRAY_SIZE(writes); i++)
		bitmap[2048 + writes[i] / 8] &= ~(1u << (writes[i] % 8));
}

void vcpu_msrs_save(struct vcpu *v)
{
	v->msrs.star = rdmsr(MSR_IA32_STAR);
	v->msrs.lstar = rdmsr(MSR_IA32_LSTAR);
	v->msrs.cstar = rdmsr(MSR_IA32_CSTAR);
	v->msrs.fmask = rdmsr(MSR_IA32_FMASK);
	v->msrs.kernel_gs_base = rdmsr(MSR_IA32_KERNEL_GS_BASE);
	if (tsc_aux_per_vcpu())
		v->msrs.tsc_aux = rdmsr(MSR_IA32_TSC_AUX);
}

void vcpu_msrs_load(struct vcpu *v)
{
	wrmsr(MSR_IA32_STAR, v->msrs.star);
	wrmsr(MSR_IA32_LSTAR, v->msrs.lstar);
	wrmsr(MSR_IA32_CSTAR, v->msrs.cstar);
	wrmsr(MSR_IA32_FMASK, v->msrs.fmask);
	wrmsr(MSR_IA32_KERNEL_GS_BASE, v->msrs.kernel_gs_base);
	if (tsc_aux_per_vcpu())
		wrmsr(MSR_IA32_TSC_AUX, v->msrs.tsc_aux);
}
