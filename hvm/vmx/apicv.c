/*
 * APIC virtualization (SDM Vol. 3C chapter 29), where the CPU offers
 * "virtualize APIC accesses", "APIC-register virtualization" and
 * "virtual-interrupt delivery" together:
 *   - guest-physical 0xFEE00000 is mapped in the EPT to one APIC-access page
 *     (shared by every guest; the CPU never reads or writes it, since every
 *     access to it is either virtualized or exits);
 *   - reads of the APIC's registers are served from the vCPU's virtual-APIC
 *     page, which is the local APIC model's register page (hvm/dev/vlapic.c:
 *     one copy of the state), with no exit; so are TPR writes and EOIs;
 *   - writes that need the model (ICR, timer, LVT, SVR, ...) land in the
 *     page and then exit as trap-like APIC-write exits, qualified by the
 *     register's offset: no instruction to fetch and decode;
 *   - interrupts from the model are delivered by the CPU: before each entry
 *     RVI (highest IRR) and SVI (highest ISR) are written, and the CPU
 *     delivers as soon as the guest can take one (IRR -> ISR in the page);
 *   - the EOI of a level-triggered vector exits (the EOI-exit bitmap is the
 *     TMR), so the I/O APIC's remote IRR is cleared;
 *   - what is left exits as an APIC access (the current count, PPR, a write
 *     to a read-only register) and goes through the MMIO emulation.
 * Without all three controls, every access to the page is an EPT violation
 * emulated by hvm/vmx/mmio.c, as before, and interrupts are injected.
 *
 * A vCPU whose guest put its APIC in x2APIC mode (IA32_APIC_BASE.EXTD)
 * runs with "virtualize x2APIC mode" instead of "virtualize APIC accesses"
 * (SDM 25.6.2: never both) and its guest's x2APIC MSR bitmap: RDMSR of the
 * registers SDM 29.5 virtualizes (all but the current count) reads the same
 * page without an exit, WRMSR of the TPR, EOI and SELF IPI is virtualized,
 * every other x2APIC MSR exits to msr.c. The page leaves the guest's EPT
 * (an x2APIC does not decode it). Without that control an x2APIC vCPU keeps
 * the other two and every x2APIC MSR exits.
 */
#include <keel/console.h>
#include <keel/ept.h>
#include <keel/guest.h>
#include <keel/mm.h>
#include <keel/guest_devices.h>
#include <keel/string.h>
#include <keel/tsc.h>
#include <keel/vioapic.h>
#include <keel/vlapic.h>
#include <keel/vmx.h>
#include <x86/cpu.h>

#include "exit.h"
#include "vmx.h"

#define APICV_CTLS (PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY)

static void *apic_access_page;
/* "Virtualize x2APIC mode" may be used with the three above. */
static bool x2apic_virt;

void apicv_init(bool allowed)
{
	/* Virtual-interrupt delivery needs the TPR shadow and external-
	 * interrupt exiting (SDM 26.2.1.1); Keel uses the three together or
	 * none, so the guest's APIC has one behaviour per host. */
	bool all = (vmx_caps.proc2_ctls & APICV_CTLS) == APICV_CTLS &&
		   (vmx_caps.proc_ctls & PROC_USE_TPR_SHADOW) &&
		   (vmx_caps.pin_ctls & PIN_EXTERNAL_INTERRUPT_EXITING) && allowed;
	if (all && !apic_access_page) {
		apic_access_page = page_alloc(1);
		if (apic_access_page)
			memset(apic_access_page, 0, PAGE_SIZE);
	}
	vmx_caps.apicv = all && apic_access_page;
	if (!vmx_caps.apicv)
		vmx_caps.proc2_ctls &= ~(APICV_CTLS | PROC2_VIRTUALIZE_X2APIC);
	x2apic_virt = vmx_caps.apicv && ((vmx_caps.proc2 >> 32) & PROC2_VIRTUALIZE_X2APIC);
	kprintf("keel: vmx: apic-virtualization %s\n",
		vmx_caps.apicv ? "yes (APIC reads, TPR writes and EOIs do not exit)"
			       : !allowed ? "no (apicv=off)" : "no (emulated: every APIC access exits)");
	kprintf("keel: vmx: x2apic-virtualization %s\n",
		x2apic_virt ? "yes (x2APIC MSR reads, TPR, EOI and SELF IPI writes do not exit)"
			    : "no (x2APIC MSRs exit and are emulated)");
}

bool apicv_x2apic_msr_bitmap(void) { return x2apic_virt; }

int guest_arch_map_apic(struct guest *g)
{
	if (!vmx_caps.apicv)
		return 0;
	/* Readable and writable, never executable: a fetch from the APIC's
	 * page stays an EPT violation, which stops the guest with its name. */
	if (ept_map_range(&g->ept, VLAPIC_DEFAULT_BASE, virt_to_phys(apic_access_page), PAGE_SIZE,
			  EPT_READ | EPT_WRITE) < 0)
		return -1;
	g->apic_page_mapped = true;
	return 0;
}

/* The vCPU's controls and MSR bitmap for its APIC's mode (its VMCS is
 * current). */
static void set_x2apic_controls(struct vcpu *v, bool x2)
{
	uint32_t proc2 = vmx_caps.proc2_ctls;
	bool virt = x2 && x2apic_virt;
	if (virt)
		proc2 = (proc2 & ~PROC2_VIRTUALIZE_APIC_ACCESSES) | PROC2_VIRTUALIZE_X2APIC;
	vmwrite(VMCS_PROC_BASED_CTLS2, proc2);
	vmwrite(VMCS_MSR_BITMAP, virt_to_phys(virt ? v->guest->msr_bitmap_x2apic : v->guest->msr_bitmap));
	v->x2apic_controls = x2;
}

void apicv_apic_base_written(struct vcpu *v)
{
	/* A globally disabled APIC does not decode its page (SDM 10.4.3),
	 * nor does one in x2APIC mode (10.12.1.2): loads and stores there go
	 * to the bus, where nothing answers. The CPU would still virtualize
	 * them, so while any vCPU of the guest is not in xAPIC mode the page
	 * leaves the EPT: every access is then an EPT violation, emulated for
	 * the vCPUs in xAPIC mode (hvm/vmx/mmio.c) and unclaimed for the
	 * others. */
	struct guest *g = v->guest;
	if (!vmx_caps.apicv)
		return;
	bool x2 = vlapic_x2apic_mode(&v->lapic);
	if (x2 != v->x2apic_controls)
		set_x2apic_controls(v, x2);
	bool all_on = true;
	for (unsigned i = 0; i < g->nr_vcpus; i++)
		all_on = all_on && vlapic_mmio_decodes(&g->vcpus[i].lapic);
	if (all_on == g->apic_page_mapped)
		return;
	if (all_on)
		g->apic_page_mapped = ept_map_range(&g->ept, VLAPIC_DEFAULT_BASE, virt_to_phys(apic_access_page),
						    PAGE_SIZE, EPT_READ | EPT_WRITE) == 0;
	else
		g->apic_page_mapped = ept_unmap_range(&g->ept, VLAPIC_DEFAULT_BASE, PAGE_SIZE) != 0;
	/* Translations of the page cached on this CPU go; another CPU's vCPUs
	 * of the guest have their APIC on and are virtualized either way. */
	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept_single(ept_pointer(&g->ept));
	else
		invept_all();
}

void apicv_vmcs_init(struct vcpu *v)
{
	if (!vmx_caps.apicv)
		return;
	vmwrite(VMCS_APIC_ACCESS_ADDR, virt_to_phys(apic_access_page));
	for (unsigned i = 0; i < 4; i++)
		vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * i, 0);
	memset(v->eoi_exit, 0, sizeof(v->eoi_exit));
	vmwrite(VMCS_GUEST_INTR_STATUS, 0);
	v->x2apic_controls = false; /* vmcs.c wrote the xAPIC controls */
	if (vlapic_x2apic_mode(&v->lapic))
		set_x2apic_controls(v, true);
}

bool apicv_prepare_entry(struct vcpu *v)
{
	/* RVI and SVI from the page (SDM 29.1.1): the CPU then delivers the
	 * highest requested vector above the PPR when the guest can take it,
	 * and evaluates again after each EOI and TPR write. */
	if (vlapic_x2apic_mode(&v->lapic) != v->x2apic_controls)
		apicv_apic_base_written(v); /* a RESET (S3 wake) left x2APIC mode */
	int irr = vlapic_highest_irr(&v->lapic), isr = vlapic_highest_isr(&v->lapic);
	if (!vlapic_sw_enabled(&v->lapic))
		irr = -1; /* a disabled APIC delivers nothing (its IRR stays) */
	uint16_t status = (uint16_t)((irr < 0 ? 0 : irr) | (isr < 0 ? 0 : isr) << 8);
	vmwrite(VMCS_GUEST_INTR_STATUS, status);
	/* A vector above the PPR that the guest cannot take yet (interrupts
	 * off or shadowed, or an event injected now, whose handler starts
	 * with them off) waits for an interrupt-window exit; the entry after
	 * it lets the CPU deliver. On hardware this only costs that exit:
	 * the CPU would deliver at the window itself (SDM 29.2.2). Bochs
	 * (2.7, and 3.0 still) delivers a recognised virtual interrupt when
	 * a host interrupt arrives, IF or not, instead of the external-
	 * interrupt exit: kicks are NMIs for that reason (apic_kick), but a
	 * wake-up (apic_wake) or the host timer of an idle CPU can still be
	 * pending when it enters a guest. With interrupt-window exiting set
	 * the CPU recognises no virtual interrupt (29.2.1). */
	unsigned ppr_class = MAX((unsigned)vlapic_tpr(&v->lapic) & 0xf0, isr < 0 ? 0u : (unsigned)isr & 0xf0);
	bool window = irr >= 0 && ((unsigned)irr & 0xf0) > ppr_class &&
		      (v->event_pending || !vmx_guest_interruptible());
	/* The EOI-exit bitmap: the TMR as it is now, and every vector the
	 * I/O APIC sends level-triggered. A level-triggered request set from
	 * another host CPU while this vCPU runs lands in the TMR only then;
	 * the CPU may deliver it before the kick's exit (it re-reads the IRR
	 * after delivering another vector), and its EOI must still exit or
	 * the I/O APIC's remote IRR stays set and the line is dead. The EOI
	 * of such a vector that was not accepted as level-triggered exits for
	 * nothing (eoi_notify checks the TMR). The I/O APIC's part is
	 * computed again only after a write through its window (mmio.c),
	 * which is rare: its 24 entries were most of this function's time. */
	struct guest *g = v->guest;
	if (g->ioapic_levels_stale) {
		memset(g->ioapic_levels, 0, sizeof(g->ioapic_levels));
		vioapic_level_vectors(&g->ioapic, g->ioapic_levels);
		g->ioapic_levels_stale = false;
	}
	uint64_t bitmap[4];
	vlapic_eoi_exit_bitmap(&v->lapic, bitmap);
	for (unsigned i = 0; i < 4; i++) {
		bitmap[i] |= g->ioapic_levels[i];
		if (bitmap[i] != v->eoi_exit[i]) {
			vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * i, bitmap[i]);
			v->eoi_exit[i] = bitmap[i];
		}
	}
	return window;
}

/* A write to the timer's registers only moves its deadline: the guest's
 * cached device deadline and this entry's preemption timer are brought
 * forward if it is earlier, and the exit may resume directly (exit.c).
 * An OS reprograms its one-shot timer at every tick (Linux at HZ=250
 * while busy): that is most of its APIC writes. */
static bool timer_register(uint32_t off)
{
	return off == APIC_REG_TIMER_ICR || off == APIC_REG_TIMER_DCR || off == APIC_REG_LVT_TIMER;
}

static void timer_rearmed(struct vcpu *v)
{
	uint64_t ns = vlapic_next_deadline_ns(&v->lapic);
	if (ns == NO_DEADLINE)
		return;
	guest_devices_deadline_at(v->guest, ns);
	uint64_t tsc = tsc_boot + ns_to_tsc(ns);
	if (tsc < v->entry_deadline_tsc)
		v->entry_deadline_tsc = tsc; /* resume_directly arms the timer for it */
}

void vcpu_apic_written(struct vcpu *v, uint64_t undeliverable_before)
{
	/* An IPI to an APIC id no vCPU has is dropped, as on an APIC bus
	 * where nobody accepts the message; the guest hears nothing of it,
	 * its owner gets a line (a probe, or a kernel that counted CPUs
	 * wrong). */
	struct guest *g = v->guest;
	if (g->apic_bus.undeliverable != undeliverable_before)
		guest_log(g, GLOG_IPI_NOWHERE, LOG_INFO,
			  "vCPU %u: IPI (ICR %#x, destination %#x) matched no local APIC: dropped", v->id,
			  v->lapic.regs[APIC_REG_ICR_LO >> 2], vlapic_icr_dest(&v->lapic));
}

void vcpu_apic_reg_written(struct vcpu *v, uint32_t off, uint64_t undeliverable_before)
{
	vcpu_apic_written(v, undeliverable_before);
	if (timer_register(off))
		timer_rearmed(v);
	else
		v->guest->devices_dirty = true; /* an IPI, a mask, an enable: re-evaluate */
}

enum exit_action exit_apic_write(struct vcpu *v)
{
	/* Trap-like (SDM 29.4.3.3): the write is in the page and RIP is past
	 * the instruction; the model completes it. */
	uint32_t off = (uint32_t)APIC_ACCESS_QUAL_OFFSET(v->exit_qual) & ~15u;
	uint64_t undeliverable = v->guest->apic_bus.undeliverable;
	vlapic_apic_write(&v->lapic, off);
	vcpu_apic_reg_written(v, off, undeliverable);
	return v->guest->state == GUEST_RUNNING ? EXIT_RESUME : EXIT_STOPPED;
}

enum exit_action exit_virtualized_eoi(struct vcpu *v)
{
	/* Trap-like: the CPU has done the EOI (SDM 29.1.4); the I/O APIC must
	 * hear of it for its remote IRR. */
	vlapic_eoi_done(&v->lapic, (uint8_t)v->exit_qual);
	v->guest->devices_dirty = true; /* a level line still asserted fires again */
	return EXIT_RESUME;
}

enum exit_action exit_apic_access(struct vcpu *v)
{
	/* Fault-like: an access the CPU does not virtualize (the timer's
	 * current count, PPR, a read-only or reserved register). It is
	 * emulated as the EPT violation would be, by decoding the instruction. */
	uint64_t q = v->exit_qual;
	unsigned type = APIC_ACCESS_QUAL_TYPE(q);
	enum exit_action act;
	if (type == APIC_ACCESS_LINEAR_READ || type == APIC_ACCESS_LINEAR_WRITE) {
		uint64_t gpa = VLAPIC_DEFAULT_BASE + APIC_ACCESS_QUAL_OFFSET(q);
		if (vmx_mmio_handle(v, gpa, type == APIC_ACCESS_LINEAR_WRITE ? EPT_QUAL_WRITE : EPT_QUAL_READ, &act))
			return act;
	}
	guest_stop(v->guest,
		   "APIC access Keel cannot emulate: type %u at offset %#lx (an instruction fetch, an access "
		   "during event delivery or a guest-physical one: page tables in the APIC's page), RIP %#lx",
		   type, APIC_ACCESS_QUAL_OFFSET(q), vmread(VMCS_GUEST_RIP));
	return EXIT_STOPPED;
}
