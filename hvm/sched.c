/*
 * The scheduler. Every VM exit ends in sched_pick_next(cpu), which returns
 * the vCPU this physical CPU enters next, with its VMCS current here:
 *   - the same vCPU while it is runnable and its time slice lasts (most
 *     exits: no switch, no VMPTRLD);
 *   - otherwise the next runnable vCPU of this CPU's run queue (the vCPUs
 *     whose home is this CPU), round-robin;
 *   - otherwise a runnable vCPU no CPU holds, taken from another CPU's run
 *     queue (it migrates: its home becomes this CPU);
 *   - if there is none, the CPU halts until the nearest device deadline (a
 *     PIT/RTC tick) and wakes the halted vCPUs that have an interrupt.
 * Slices are enforced by the VMX-preemption timer, so a guest spinning with
 * interrupts off still gives the CPU back.
 *
 * A VMCS is active on at most one CPU, and only while it is that CPU's
 * current vCPU: a CPU that switches away from a vCPU, or goes idle while
 * other CPUs could run it, VMCLEARs it first (vcpu_put). So any CPU may load
 * any vCPU that is not current somewhere, and the launch state is always
 * right (SDM 24.11.3: VMCLEAR before a VMCS moves to another processor).
 *
 * Locking: one lock, hv_lock, serialises everything Keel does outside guest
 * mode (exit handlers, device models, scheduling, guest creation and
 * teardown). The CPUs run guests in parallel; only their time in Keel is
 * serialised, which is a small share (see docs/scheduling.md). The lock is
 * taken at the top of vmx_exit_dispatch and dropped just before VM entry,
 * and while a CPU is idle.
 */
#include <keel/apic.h>
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/guest.h>
#include <keel/guest_devices.h>
#include <keel/mm.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <keel/tsc.h>
#include <keel/vmx.h>
#include <x86/io.h>

#include "vmx/exit.h"
#include "vmx/vcpu_state.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

#define SLICE_NS 10000000ULL /* 10 ms */

static uint8_t exit_stacks[MAX_CPUS][16384] __aligned(16);
static spinlock_t hv_big_lock = SPINLOCK_INIT;
static volatile bool sched_started;

void hv_lock(void) { spin_lock(&hv_big_lock); }
void hv_unlock(void) { spin_unlock(&hv_big_lock); }

void sched_init_cpu(unsigned cpu)
{
	pcpus[cpu].exit_stack_top = (uint64_t)(uintptr_t)&exit_stacks[cpu][sizeof(exit_stacks[cpu])];
}

/* Home CPUs for new vCPUs, spread round-robin. */
unsigned sched_place_vcpu(void)
{
	static unsigned next;
	return next++ % nr_cpus_online;
}

void vcpu_put(unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
	struct vcpu *v = pc->current;
	if (!v)
		return;
	if (v->state != VCPU_STOPPED)
		vcpu_state_save(v, cpu);
	vmcs_clear(virt_to_phys(v->vmcs));
	v->launched = 0;
	v->cpu = -1;
	pc->current = NULL;
}

/* Guest-linear and guest-physical translations cached for this vCPU's
 * VPID/EPTP on this CPU may be stale: it may have run elsewhere since, or
 * be a restarted guest reusing the VPID and an EPT root address. */
static void vcpu_flush_tlb(struct vcpu *v)
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

#ifdef KEEL_PANIC_TEST
/* Only in build/keel-panic-test.elf (tests/boot/t-panic-smp.sh), never in
 * keel.elf: a deliberate panic on the CPU that loads the guest named
 * "panic" three seconds after it first ran, to check that a panic stops
 * every CPU. */
static void panic_test_hook(struct vcpu *v, unsigned cpu)
{
	static uint64_t first;
	if (strcmp(v->guest->name, "panic") != 0)
		return;
	uint64_t now = rdtsc();
	if (!first)
		first = now;
	else if (now - first > 3 * tsc_hz)
		panic("test: deliberate panic on cpu%u (KEEL_PANIC_TEST build)\n", cpu);
}
#endif

void vmx_vcpu_load(struct vcpu *v, unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
#ifdef KEEL_PANIC_TEST
	panic_test_hook(v, cpu);
#endif
	if (pc->current != v) {
		uint64_t t0 = rdtsc();
		vcpu_put(cpu);
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
		vcpu_flush_tlb(v);
		v->cpu = (int)cpu;
		vcpu_state_load(v, cpu);
		pc->current = v;
		pc->switches++;
		pc->switch_ticks += rdtsc() - t0;
	}
	*(struct vcpu **)(uintptr_t)(pc->exit_stack_top - 8) = v;
}

static void prepare_entry(struct vcpu *v, uint64_t deadline_ns, uint64_t now)
{
	vmx_intr_prepare_entry(v);
	uint64_t stop = v->slice_end;
	if (deadline_ns != NO_DEADLINE) {
		uint64_t dl = tsc_boot + ns_to_tsc(deadline_ns);
		if (dl < stop)
			stop = dl;
	}
	uint64_t ticks = stop > now ? (stop - now) >> vmx_caps.preemption_rate : 0;
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffULL ? 0xffffffffULL : ticks);
	v->entry_deadline_tsc = stop;
	v->entry_tsc = rdtsc();
	if (!v->guest->marks[MARK_FIRST_ENTRY])
		v->guest->marks[MARK_FIRST_ENTRY] = v->entry_tsc;
}

/* All vCPUs, in guest order. */
static struct vcpu *vcpu_at(unsigned i)
{
	unsigned n = 0;
	for (unsigned gi = 0; gi < nr_guests; gi++) {
		struct guest *g = guests[gi];
		if (!g)
			continue;
		if (i < n + g->nr_vcpus)
			return &g->vcpus[i - n];
		n += g->nr_vcpus;
	}
	return NULL;
}

static unsigned vcpu_count(void)
{
	unsigned n = 0;
	for (unsigned gi = 0; gi < nr_guests; gi++)
		if (guests[gi])
			n += guests[gi]->nr_vcpus;
	return n;
}

/* Runnable and not current on another CPU. */
static bool can_run_here(struct vcpu *v, unsigned cpu)
{
	return v->state == VCPU_RUNNABLE && v->guest->state == GUEST_RUNNING && (v->cpu < 0 || v->cpu == (int)cpu);
}

static bool guest_on_some_cpu(struct guest *g)
{
	for (unsigned c = 0; c < nr_cpus_online; c++)
		if (pcpus[c].current && pcpus[c].current->guest == g)
			return true;
	return false;
}

/* Stopped guests are torn down once no CPU holds one of their vCPUs (a
 * vCPU of it may still be in guest mode on another CPU until its next
 * exit); restarts wait for the teardown. */
static void guests_housekeeping(void)
{
	for (unsigned gi = 0; gi < nr_guests; gi++) {
		struct guest *g = guests[gi];
		if (!g)
			continue;
		if (g->teardown_pending && !guest_on_some_cpu(g))
			guest_teardown(g);
		if (g->restart_pending && !g->teardown_pending)
			guest_restart(g);
	}
}

/* Wakes idle CPUs so they look for work (a vCPU became runnable). */
static void kick_idle_cpus(unsigned self)
{
	for (unsigned c = 0; c < nr_cpus_online; c++)
		if (c != self && pcpus[c].idle)
			apic_send_ipi(pcpus[c].apic_id, APIC_KICK_VECTOR);
}

/* Gets v's attention on the CPU where it is in guest mode, if that is
 * another CPU: the kick IPI makes it exit, so it sees its new state (an
 * interrupt, an INIT) now rather than at the end of its slice. */
void sched_kick_vcpu(struct vcpu *v)
{
	if (nr_cpus_online > 1 && v->cpu >= 0 && (unsigned)v->cpu != this_cpu())
		apic_send_ipi(pcpus[v->cpu].apic_id, APIC_KICK_VECTOR);
}

/* Called by the APIC bus after it set a request for v (IRR, start-up),
 * with hv_lock held. */
void sched_wake(struct vcpu *v)
{
	if (v->guest->state != GUEST_RUNNING)
		return;
	v->guest->devices_dirty = true; /* it may no longer be deaf to its timers */
	if (v->state == VCPU_WAIT_SIPI && __atomic_load_n(&v->start_pending, __ATOMIC_ACQUIRE))
		v->state = VCPU_RUNNABLE;
	else if (v->state == VCPU_HALTED && vcpu_interrupt_ready(v))
		v->state = VCPU_RUNNABLE;
	if (nr_cpus_online > 1) {
		if (v->state == VCPU_RUNNABLE)
			kick_idle_cpus(this_cpu());
		sched_kick_vcpu(v);
	}
}

void console_poll(void);

struct vcpu *sched_pick_next(unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
	bool announced_idle = false;

	for (;;) {
		uint64_t now = rdtsc();
		uint64_t next_deadline = NO_DEADLINE;
		unsigned running = 0;

		if (cpu == 0)
			console_poll();
		console_kick();
		if (pc->current && pc->current->guest->state != GUEST_RUNNING)
			vcpu_put(cpu);
		guests_housekeeping();
		for (unsigned gi = 0; gi < nr_guests; gi++) {
			struct guest *g = guests[gi];
			if (!g || g->state != GUEST_RUNNING)
				continue;
			running++;
			if (g->out_budget.lines) /* its dropped console lines, even if it went quiet */
				guest_console_report(g, now_ns(), false);
			uint64_t d = guest_devices_update(g, now_ns());
			if (d < next_deadline)
				next_deadline = d;
			for (unsigned i = 0; i < g->nr_vcpus; i++) {
				struct vcpu *v = &g->vcpus[i];
				if (v->state == VCPU_HALTED && vcpu_interrupt_ready(v))
					v->state = VCPU_RUNNABLE;
			}
		}

		struct vcpu *cur = pc->current;
		if (cur && can_run_here(cur, cpu) && now < cur->slice_end) {
			vmx_vcpu_load(cur, cpu);
			prepare_entry(cur, next_deadline, now);
			return cur;
		}

		/* This CPU's run queue first, then any vCPU no CPU holds. */
		unsigned n = vcpu_count();
		struct vcpu *pick = NULL;
		for (int pass = 0; pass < 2 && !pick; pass++) {
			for (unsigned k = 1; k <= n; k++) {
				unsigned i = (pc->rr_pos + k) % n;
				struct vcpu *v = vcpu_at(i);
				if (v && can_run_here(v, cpu) && (pass == 1 || v->home == cpu)) {
					pc->rr_pos = i;
					pick = v;
					break;
				}
			}
		}
		if (pick) {
			pick->home = cpu;
			pick->slice_end = now + ns_to_tsc(SLICE_NS);
			vmx_vcpu_load(pick, cpu);
			prepare_entry(pick, next_deadline, now);
			return pick;
		}

		if (running == 0) {
			if (!announced_idle && cpu == 0) {
				pr_info("no guest is running; Keel is idle (serial commands still work)\n");
				announced_idle = true;
			}
			next_deadline = now_ns() + 10000000ULL;
		}
		/* Nothing runnable: release the vCPU this CPU holds, so another
		 * CPU can take it when it wakes, and wait for the nearest
		 * deadline (or a kick). */
		if (nr_cpus_online > 1)
			vcpu_put(cpu);
		uint64_t until = next_deadline == NO_DEADLINE ? now + ns_to_tsc(10000000ULL)
							      : tsc_boot + ns_to_tsc(next_deadline);
		/* While console output is queued, wake every 1 ms to feed the
		 * UART (16 bytes take ~1.4 ms at 115200 baud). */
		if (console_pending() && until > now + tsc_hz / 1000)
			until = now + tsc_hz / 1000;
		uint64_t t0 = rdtsc();
		pc->idle = true;
		hv_unlock();
		apic_idle_until(until);
		hv_lock();
		pc->idle = false;
		pc->idle_ticks += rdtsc() - t0;
	}
}

void sched_start(void) { __atomic_store_n(&sched_started, true, __ATOMIC_RELEASE); }

void sched_run(unsigned cpu)
{
	while (!__atomic_load_n(&sched_started, __ATOMIC_ACQUIRE))
		cpu_relax();
	hv_lock();
	struct vcpu *v = sched_pick_next(cpu);
	hv_unlock();
	vmx_enter(v);
}
