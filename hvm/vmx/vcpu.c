/*
 * A vCPU on Intel VMX: the back end of include/keel/vcpu_arch.h. Creating
 * and destroying a vCPU's VMCS, making it current on a CPU and releasing
 * it, preparing and performing the VM entry. The scheduler (hvm/core/
 * sched.c) decides which vCPU runs where; this file is how.
 *
 * A VMCS is active on at most one CPU, and only while it is that CPU's
 * current vCPU: a CPU that switches away from a vCPU, or goes idle while
 * other CPUs could run it, VMCLEARs it first (vcpu_arch_put). So any CPU
 * may load any vCPU that is not current somewhere, and the launch state is
 * always right (SDM 24.11.3: VMCLEAR before a VMCS moves to another
 * processor).
 */
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/guest.h>
#include <keel/hvmloader_abi.h>
#include <keel/mm.h>
#include <keel/spec.h>
#include <keel/string.h>
#include <keel/tsc.h>
#include <keel/vcpu_arch.h>
#include <keel/vmx.h>
#include <x86/io.h>

#include "exit.h"
#include "vcpu_state.h"
#include "vmcs.h"
#include "vmx.h"

bool vcpu_arch_large_pages(void) { return vmx_caps.ept_2m; }
bool vcpu_arch_huge_pages(void) { return vmx_caps.ept_1g; }

int guest_arch_create(struct guest *g)
{
	g->io_bitmap = vmx_alloc_pages(2);
	g->msr_bitmap = vmx_alloc_pages(1);
	if (!g->io_bitmap || !g->msr_bitmap)
		return -1;
	/* Every port exits (SDM 25.6.4: bit set = exit). A device that wanted
	 * to pass a port through would clear its bit here; none does. */
	memset(g->io_bitmap, 0xff, 2 * PAGE_SIZE);
	msr_bitmap_init(g->msr_bitmap);
	if (apicv_x2apic_msr_bitmap()) {
		g->msr_bitmap_x2apic = vmx_alloc_pages(1);
		if (!g->msr_bitmap_x2apic)
			return -1;
		msr_bitmap_init_x2apic(g->msr_bitmap_x2apic);
	}
	return 0;
}

void guest_arch_destroy(struct guest *g)
{
	page_free(g->io_bitmap, 2);
	page_free(g->msr_bitmap, 1);
	if (g->msr_bitmap_x2apic)
		page_free(g->msr_bitmap_x2apic, 1);
	g->io_bitmap = g->msr_bitmap = g->msr_bitmap_x2apic = NULL;
}

int vcpu_arch_create(struct vcpu *v, enum vcpu_start start)
{
	/* The new VMCS is made current here to fill it in, then cleared so any
	 * CPU can load it. */
	unsigned cpu = this_cpu();
	struct guest *g = v->guest;
	vcpu_arch_put(cpu);
	if (vcpu_state_alloc(v) < 0 || vmcs_create(v, cpu) < 0) {
		pcpus[cpu].current = NULL;
		return -1;
	}
	if (start == VCPU_START_LOADER) {
		vmcs_set_guest_loader_state(v, HVMLOADER_LOAD_ADDR, HVMLOADER_START_INFO_ADDR);
		if (g->cfg->selftest_bad_vmcs) {
			/* Test hook: TR must be usable (SDM 26.3.1.2), so the first
			 * VM entry fails its guest-state checks. */
			pr_warn("guest %s: selftest: TR marked unusable in the VMCS\n", g->name);
			vmwrite(VMCS_GUEST_TR_AR, VMX_AR_UNUSABLE);
		}
	} else {
		vmcs_set_guest_real_mode(v, 0, 0, 0);
		vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
	}
	vmcs_clear(virt_to_phys(v->vmcs));
	v->cpu = -1;
	pcpus[cpu].current = NULL;
	return 0;
}

void vcpu_arch_destroy(struct vcpu *v)
{
	if (v->vmcs) {
		/* No CPU holds it (the scheduler made sure), so it is inactive;
		 * VMCLEAR anyway before the page is reused, in case creation
		 * failed half-way (SDM 24.11.1). */
		vmcs_clear(virt_to_phys(v->vmcs));
		if (v->cpu >= 0 && pcpus[v->cpu].current == v)
			pcpus[v->cpu].current = NULL;
		v->cpu = -1;
		page_free(v->vmcs, 1);
		v->vmcs = NULL;
	}
	vcpu_state_free(v);
}

/*
 * Needs no lock: only this CPU writes pc->current and the vCPU's launch
 * state and registers while it holds the vCPU, and nothing can free or
 * rebuild a vCPU that a CPU holds. Two stores with release ordering
 * publish the release, in this order:
 *  - v->cpu = -1 last of what touches v: a CPU that then loads v (under
 *    its guest lock, having read v->cpu with acquire ordering) finds the
 *    saved registers and the VMCS written back (VMCLEAR: SDM 24.11.3),
 *    as the lock's release used to guarantee;
 *  - pc->current = NULL last of all: a CPU that sees it clear (a teardown,
 *    guest_on_some_cpu, acquire) knows this CPU is done with v's memory.
 * Under a guest's lock, "a CPU holds one of its vCPUs" can thus turn
 * false at any moment but never true (loads take the lock), which is all
 * a teardown needs.
 */
void vcpu_arch_put(unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
	struct vcpu *v = pc->current;
	if (!v)
		return;
	/* A stop racing with this read only decides whether registers are
	 * saved that nobody will load again. */
	if (__atomic_load_n(&v->state, __ATOMIC_RELAXED) != VCPU_STOPPED)
		vcpu_state_save(v, cpu);
	vmcs_clear(virt_to_phys(v->vmcs));
	v->launched = 0;
	__atomic_store_n(&v->cpu, -1, __ATOMIC_RELEASE);
	__atomic_store_n(&pc->current, NULL, __ATOMIC_RELEASE);
}

/* Guest-linear and guest-physical translations cached for this vCPU's
 * VPID/EPTP on this CPU may be stale: it may have run elsewhere since, or
 * be a restarted guest reusing the VPID and an EPT root address. */
static void flush_tlb(struct vcpu *v)
{
	if (vmx_caps.vpid) {
		if (vmx_caps.ept_vpid & VPID_CAP_INVVPID_SINGLE)
			invvpid_single(v->vpid);
		else
			invvpid_all();
	}
	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept_single(ept_pointer(&v->guest->ept));
	else if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_ALL)
		invept_all();
}

void vcpu_arch_load(struct vcpu *v, unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
	if (pc->current != v) {
		uint64_t t0 = rdtsc();
		vcpu_arch_put(cpu);
		spec_guest_switch(cpu, v->guest); /* IBPB between guests (hvm/vmx/spec.c) */
		if (vmcs_load(virt_to_phys(v->vmcs)) < 0)
			panic("VMPTRLD of guest %s vcpu %u failed\n", v->guest->name, v->id);
		if (v->last_cpu != (int)cpu) {
			vmcs_write_host_state(v, cpu);
			if (v->last_cpu >= 0)
				v->migrations++;
			v->last_cpu = (int)cpu;
			if (nr_cpus_online > 1 && !(v->ran_on & (1u << cpu)))
				pr_info("guest %s: vCPU %u runs on cpu%u\n", v->guest->name, v->id, cpu);
			v->ran_on |= 1u << cpu;
		}
		flush_tlb(v);
		v->cpu = (int)cpu;
		vcpu_state_load(v, cpu);
		pc->current = v;
		pc->switches++;
		pc->switch_ticks += rdtsc() - t0;
	}
	/* entry.S finds the vCPU in the slot HOST_RSP points at. */
	*(struct vcpu **)(uintptr_t)(pc->exit_stack_top - 8) = v;
}

void vcpu_arch_prepare_entry(struct vcpu *v, uint64_t stop)
{
	vmx_intr_prepare_entry(v);
	/* The VMX-preemption timer brings the vCPU back at `stop` (its slice's
	 * end or the nearest device deadline) even if it spins with
	 * interrupts off. */
	uint64_t now = rdtsc();
	uint64_t ticks = stop > now ? (stop - now) >> vmx_caps.preemption_rate : 0;
	vmx_arm_preemption_timer(&pcpus[v->cpu], ticks);
	v->entry_deadline_tsc = stop;
}


void vcpu_arch_kick_arrived(unsigned cpu)
{
	/* A kick asks a CPU to look at its vCPU's state (an interrupt, an
	 * INIT) before it runs the guest any further. In Keel that look may
	 * be over already, the entry prepared from the state as it was: the
	 * current VMCS's preemption timer is set to 0, so its entry exits
	 * before the guest's first instruction, and the flag covers an
	 * entry still to write its timer (vmx_arm_preemption_timer). Without
	 * a current VMCS the VMWRITE only fails. */
	__atomic_store_n(&pcpus[cpu].kicked, true, __ATOMIC_RELAXED);
	if (__atomic_load_n(&pcpus[cpu].current, __ATOMIC_RELAXED))
		vmwrite(VMCS_PREEMPTION_TIMER_VALUE, 0);
}

void vcpu_arch_enter(struct vcpu *v) { vmx_enter(v); }
