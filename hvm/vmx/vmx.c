/*
 * VMX capability probe, control selection and VMXON.
 *
 * Every control Keel sets is listed in vmx_features[] below, with whether
 * Keel can run without it. The capability MSRs decide: a control is set only
 * if its allowed-1 bit says the CPU supports it, and the allowed-0 bits the
 * CPU insists on are forced on (SDM Vol. 3C, appendix A.3-A.5). Nothing is
 * assumed from the CPU model, so Bochs, KVM's nested VMX and real parts all
 * take the same path.
 */
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/mm.h>
#include <keel/string.h>
#include <keel/vmx.h>
#include <x86/cpu.h>
#include <x86/io.h>

#include "vcpu_state.h"
#include "vmx.h"

struct vmx_caps vmx_caps;

enum ctl_field { CTL_PIN, CTL_PROC, CTL_PROC2, CTL_EXIT, CTL_ENTRY };

struct vmx_feature {
	const char *name;
	enum ctl_field field;
	uint32_t bit;
	bool required;
	const char *why;
};

/* The one table of VMX controls Keel uses (docs/hardware.md mirrors it). */
static const struct vmx_feature vmx_features[] = {
	{ "external-interrupt-exiting", CTL_PIN, PIN_EXTERNAL_INTERRUPT_EXITING, true,
	  "host interrupts must reach Keel, not the guest" },
	{ "nmi-exiting", CTL_PIN, PIN_NMI_EXITING, true, "host NMIs must reach Keel" },
	{ "virtual-nmis", CTL_PIN, PIN_VIRTUAL_NMIS, false,
	  "the CPU tracks the guest's NMI blocking, so NMI-window exiting can be used" },
	{ "preemption-timer", CTL_PIN, PIN_PREEMPTION_TIMER, true,
	  "time slices and virtual timer deadlines while a guest runs" },
	{ "interrupt-window-exiting", CTL_PROC, PROC_INTERRUPT_WINDOW_EXITING, true,
	  "inject PIC interrupts as soon as the guest can take them" },
	{ "nmi-window-exiting", CTL_PROC, PROC_NMI_WINDOW_EXITING, false,
	  "an NMI sent while the guest's NMI handler runs is delivered at its IRET (without it: at the next exit)" },
	{ "hlt-exiting", CTL_PROC, PROC_HLT_EXITING, true, "a halted guest gives its CPU back" },
	{ "mwait-exiting", CTL_PROC, PROC_MWAIT_EXITING, true,
	  "MWAIT would put the host CPU to sleep (CPUID hides it; #UD)" },
	{ "monitor-exiting", CTL_PROC, PROC_MONITOR_EXITING, true, "MONITOR is hidden like MWAIT (#UD)" },
	{ "rdpmc-exiting", CTL_PROC, PROC_RDPMC_EXITING, true, "a guest must not read the host's performance counters" },
	{ "tpr-shadow", CTL_PROC, PROC_USE_TPR_SHADOW, false,
	  "a guest's MOV CR8 reaches a per-vCPU page, not the host APIC (without it: CR8 exiting)" },
	{ "tsc-offsetting", CTL_PROC, PROC_USE_TSC_OFFSETTING, false, "a guest's WRMSR IA32_TSC moves its own TSC" },
	{ "io-bitmaps", CTL_PROC, PROC_USE_IO_BITMAPS, true, "trap the guest's port I/O" },
	{ "msr-bitmaps", CTL_PROC, PROC_USE_MSR_BITMAPS, true, "trap the guest's MSR accesses" },
	{ "secondary-controls", CTL_PROC, PROC_ACTIVATE_SECONDARY_CONTROLS, true, "EPT and unrestricted guest" },
	{ "ept", CTL_PROC2, PROC2_ENABLE_EPT, true, "each guest sees only its own memory" },
	{ "unrestricted-guest", CTL_PROC2, PROC2_UNRESTRICTED_GUEST, true,
	  "SeaBIOS and boot loaders run in real mode and big-real mode" },
	{ "vpid", CTL_PROC2, PROC2_ENABLE_VPID, false, "keeps TLB entries across VM exits (faster)" },
	{ "rdtscp", CTL_PROC2, PROC2_ENABLE_RDTSCP, false, "guests may use RDTSCP" },
	{ "virtualize-apic-accesses", CTL_PROC2, PROC2_VIRTUALIZE_APIC_ACCESSES, false,
	  "with the next two: guest APIC reads, TPR writes and EOIs without exits (hvm/vmx/apicv.c)" },
	{ "apic-register-virtualization", CTL_PROC2, PROC2_APIC_REGISTER_VIRT, false,
	  "APIC register reads from the virtual-APIC page; writes exit already decoded" },
	{ "virtual-interrupt-delivery", CTL_PROC2, PROC2_VIRTUAL_INTR_DELIVERY, false,
	  "the CPU delivers the guest APIC's interrupts and completes its EOIs" },
	{ "wbinvd-exiting", CTL_PROC2, PROC2_WBINVD_EXITING, false,
	  "a guest must not flush every cache of the host (without it, it can)" },
	{ "host-address-space-size", CTL_EXIT, EXIT_HOST_ADDR_SPACE_SIZE, true, "Keel runs in 64-bit mode" },
	{ "exit-save-debug-controls", CTL_EXIT, EXIT_SAVE_DEBUG_CONTROLS, true,
	  "guest DR7 and IA32_DEBUGCTL are kept in the VMCS" },
	{ "exit-save-efer", CTL_EXIT, EXIT_SAVE_IA32_EFER, true, "guest EFER is kept in the VMCS" },
	{ "exit-load-efer", CTL_EXIT, EXIT_LOAD_IA32_EFER, true, "Keel's EFER restored on exit" },
	{ "exit-save-pat", CTL_EXIT, EXIT_SAVE_IA32_PAT, false, "guest PAT kept in the VMCS" },
	{ "exit-load-pat", CTL_EXIT, EXIT_LOAD_IA32_PAT, false, "Keel's PAT restored on exit" },
	{ "entry-load-efer", CTL_ENTRY, ENTRY_LOAD_IA32_EFER, true, "guest EFER loaded on entry" },
	{ "entry-load-debug-controls", CTL_ENTRY, ENTRY_LOAD_DEBUG_CONTROLS, true,
	  "guest DR7 and IA32_DEBUGCTL loaded on entry" },
	{ "entry-load-pat", CTL_ENTRY, ENTRY_LOAD_IA32_PAT, false, "guest PAT loaded on entry" },
};

static uint64_t ctl_caps(enum ctl_field f)
{
	switch (f) {
	case CTL_PIN:
		return vmx_caps.pin;
	case CTL_PROC:
		return vmx_caps.proc;
	case CTL_PROC2:
		return vmx_caps.proc2;
	case CTL_EXIT:
		return vmx_caps.exit;
	default:
		return vmx_caps.entry;
	}
}

static uint32_t *ctl_value(enum ctl_field f)
{
	switch (f) {
	case CTL_PIN:
		return &vmx_caps.pin_ctls;
	case CTL_PROC:
		return &vmx_caps.proc_ctls;
	case CTL_PROC2:
		return &vmx_caps.proc2_ctls;
	case CTL_EXIT:
		return &vmx_caps.exit_ctls;
	default:
		return &vmx_caps.entry_ctls;
	}
}

static bool ctl_supported(enum ctl_field f, uint32_t bit) { return (ctl_caps(f) >> 32) & bit; }

/* Choose controls: wanted bits that are allowed, plus the must-be-one bits. */
static int vmx_choose_controls(void)
{
	static const enum ctl_field fields[] = { CTL_PIN, CTL_PROC, CTL_PROC2, CTL_EXIT, CTL_ENTRY };
	int missing = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(fields); i++)
		*ctl_value(fields[i]) = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(vmx_features); i++) {
		const struct vmx_feature *f = &vmx_features[i];
		if (ctl_supported(f->field, f->bit)) {
			*ctl_value(f->field) |= f->bit;
		} else if (f->required) {
			pr_err("this CPU's VMX lacks the required control '%s' (needed because: %s)\n", f->name,
			       f->why);
			missing++;
		} else {
			pr_info("vmx: optional control '%s' not available; running without it\n", f->name);
		}
	}
	for (unsigned i = 0; i < ARRAY_SIZE(fields); i++) {
		uint64_t caps = ctl_caps(fields[i]);
		uint32_t *v = ctl_value(fields[i]);
		*v = (*v | (uint32_t)caps) & (uint32_t)(caps >> 32);
	}
	/* NMI-window exiting needs virtual NMIs (SDM 26.2.1.1). */
	if (!(vmx_caps.pin_ctls & PIN_VIRTUAL_NMIS))
		vmx_caps.proc_ctls &= ~PROC_NMI_WINDOW_EXITING;
	return missing ? -1 : 0;
}

/* The CR4 bits a guest may set: what the CPU allows in VMX operation
 * (CR4_FIXED1) and Keel offers through CPUID. Every other bit is owned by
 * Keel (the CR4 guest/host mask), so setting it exits and raises #GP as on
 * a CPU without the feature: VMXE and SMXE (no nested VMX or SMX), PKE (no
 * PKRU switching), LA57, UMIP, CET and the rest CPUID hides. */
static uint64_t guest_cr4_allowed(void)
{
	uint32_t a, b, c, d;
	uint64_t allowed = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE |
			   CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_FSGSBASE | CR4_SMEP | CR4_SMAP;
	cpuid(1, &a, &b, &c, &d);
	if (c & CPUID_1_ECX_PCID)
		allowed |= CR4_PCIDE;
	if (guest_xstate.offered)
		allowed |= CR4_OSXSAVE;
	return allowed & vmx_caps.cr4_fixed1 & ~(uint64_t)CR4_VMXE;
}

static const char *yesno(bool b) { return b ? "yes" : "no"; }

int vmx_probe(void)
{
	struct cpu_info ci;
	uint32_t a, b, c, d;

	cpu_identify(&ci);
	cpuid(1, &a, &b, &c, &d);
	bool has_vmx = c & CPUID_1_ECX_VMX;
	kprintf("keel: vmx: vmx %s\n", yesno(has_vmx));
	if (!has_vmx) {
		if (!ci.intel)
			pr_err("VMX is not available: this CPU is %s, without Intel VT-x (CPUID.1:ECX.VMX=0). "
			       "Keel needs an Intel CPU with VT-x; AMD SVM is not supported. Under QEMU, TCG does not "
			       "emulate VMX: use Bochs, or -enable-kvm -cpu host on an Intel host with nested VMX.\n",
			       ci.vendor);
		else
			pr_err("VMX is not available: CPUID.1:ECX.VMX=0. The CPU lacks VT-x or a hypervisor below "
			       "hides it (for nested use: kvm_intel nested=1 and -cpu host).\n");
		return -1;
	}

	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		pr_err("VMX is not available: the firmware locked IA32_FEATURE_CONTROL (%#lx) with VMX disabled. "
		       "Enable 'Intel Virtualization Technology' (VT-x) in the BIOS/UEFI setup and power-cycle.\n",
		       fc);
		return -1;
	}

	vmx_caps.basic = rdmsr(MSR_IA32_VMX_BASIC);
	vmx_caps.true_ctls = vmx_caps.basic & VMX_BASIC_TRUE_CTLS;
	vmx_caps.misc = rdmsr(MSR_IA32_VMX_MISC);
	vmx_caps.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	vmx_caps.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	vmx_caps.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	vmx_caps.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	/* With the "true" MSRs some default-1 controls (CR3 exiting...) may be
	 * cleared (SDM A.2). */
	vmx_caps.pin = rdmsr(vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	vmx_caps.proc = rdmsr(vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	vmx_caps.exit = rdmsr(vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	vmx_caps.entry = rdmsr(vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	vmx_caps.proc2 = (vmx_caps.proc >> 32) & PROC_ACTIVATE_SECONDARY_CONTROLS
				 ? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2)
				 : 0;
	bool has_ept_vpid_msr = (vmx_caps.proc2 >> 32) & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID);
	vmx_caps.ept_vpid = has_ept_vpid_msr ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;

	vmx_caps.ept = ctl_supported(CTL_PROC2, PROC2_ENABLE_EPT) && (vmx_caps.ept_vpid & EPT_CAP_PWL4) &&
		       (vmx_caps.ept_vpid & EPT_CAP_MEMTYPE_WB);
	vmx_caps.unrestricted = ctl_supported(CTL_PROC2, PROC2_UNRESTRICTED_GUEST);
	vmx_caps.vpid = ctl_supported(CTL_PROC2, PROC2_ENABLE_VPID) && (vmx_caps.ept_vpid & VPID_CAP_INVVPID);
	vmx_caps.preemption_timer = ctl_supported(CTL_PIN, PIN_PREEMPTION_TIMER);
	vmx_caps.preemption_rate = VMX_MISC_PREEMPTION_RATE(vmx_caps.misc);
	vmx_caps.ept_2m = vmx_caps.ept_vpid & EPT_CAP_2MB_PAGE;
	vmx_caps.ept_1g = vmx_caps.ept_vpid & EPT_CAP_1GB_PAGE;

	kprintf("keel: vmx: ept %s\n", yesno(vmx_caps.ept));
	kprintf("keel: vmx: unrestricted-guest %s\n", yesno(vmx_caps.unrestricted));
	kprintf("keel: vmx: vpid %s\n", yesno(vmx_caps.vpid));
	kprintf("keel: vmx: preemption-timer %s (rate: 1 tick per %u TSC ticks)\n", yesno(vmx_caps.preemption_timer),
		1u << vmx_caps.preemption_rate);
	kprintf("keel: vmx: true-controls %s\n", yesno(vmx_caps.true_ctls));
	pr_debug("vmx: basic %#lx misc %#lx ept/vpid %#lx\n", vmx_caps.basic, vmx_caps.misc, vmx_caps.ept_vpid);
	pr_debug("vmx: pin %#lx proc %#lx proc2 %#lx exit %#lx entry %#lx\n", vmx_caps.pin, vmx_caps.proc,
		 vmx_caps.proc2, vmx_caps.exit, vmx_caps.entry);

	if (!vmx_caps.ept && ctl_supported(CTL_PROC2, PROC2_ENABLE_EPT)) {
		pr_err("VMX is not usable: EPT lacks 4-level walks or write-back tables (IA32_VMX_EPT_VPID_CAP %#lx)\n",
		       vmx_caps.ept_vpid);
		return -1;
	}
	if (vmx_choose_controls() < 0) {
		pr_err("VMX is not usable on this CPU: required controls are missing (listed above). Try a newer "
		       "CPU model, or under KVM make sure nested VMX exposes them.\n");
		return -1;
	}
	if (!vmx_caps.vpid)
		vmx_caps.proc2_ctls &= ~PROC2_ENABLE_VPID;
	/* Without a TPR shadow, MOV CR8 must exit, or a guest would write the
	 * host's own TPR (SDM 25.1.3). Every VMX CPU can exit on it. */
	if (!(vmx_caps.proc_ctls & PROC_USE_TPR_SHADOW))
		vmx_caps.proc_ctls |= PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
	vcpu_state_probe();
	vmx_caps.guest_cr4_allowed = guest_cr4_allowed();
	/* Bits 31:0 of IA32_VMX_BASIC hold the revision; a VMCS must fit a page. */
	uint32_t vmcs_size = (vmx_caps.basic >> 32) & 0x1fff;
	if (vmcs_size > PAGE_SIZE) {
		pr_err("VMX is not usable: VMCS size %u exceeds a page\n", vmcs_size);
		return -1;
	}
	return 0;
}

void *vmx_alloc_pages(uint64_t npages)
{
	if (vmx_caps.basic & VMX_BASIC_PHYS_ADDR_32)
		return page_alloc_below(npages, GiB(4));
	return page_alloc(npages);
}

int vmx_enable_cpu(unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FEATURE_CONTROL_LOCK)) {
		/* Firmware left it unlocked: enable VMX outside SMX and lock,
		 * as the SDM (23.7) requires before VMXON. */
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCK);
	}

	/* CR0/CR4 must honour the VMX fixed bits in VMX operation (SDM 23.8). */
	uint64_t cr0 = read_cr0(), cr4 = read_cr4() | CR4_VMXE;
	cr0 = (cr0 | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1;
	cr4 = (cr4 | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;
	write_cr0(cr0);
	write_cr4(cr4);

	if (!pc->vmxon_region) {
		pc->vmxon_region = vmx_alloc_pages(1);
		if (!pc->vmxon_region) {
			pr_err("cpu%u: out of memory for the VMXON region\n", cpu);
			return -1;
		}
	}
	*(uint32_t *)pc->vmxon_region = VMX_BASIC_REVISION(vmx_caps.basic);
	if (vmx_on(virt_to_phys(pc->vmxon_region)) < 0) {
		pr_err("cpu%u: VMXON failed (CR0 %#lx CR4 %#lx FEATURE_CONTROL %#lx): is another hypervisor "
		       "already using VMX?\n",
		       cpu, read_cr0(), read_cr4(), rdmsr(MSR_IA32_FEATURE_CONTROL));
		return -1;
	}
	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_ALL)
		invept_all();
	vcpu_state_enable_cpu(cpu);
	return 0;
}
