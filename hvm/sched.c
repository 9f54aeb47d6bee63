/*
 * The scheduler. Every VM exit ends in sched_pick_next(), which returns the
 * vCPU to enter next with its VMCS current on this CPU:
 *   - the same vCPU while it is runnable and its time slice lasts (most
 *     exits: no switch, no VMPTRLD);
 *   - otherwise the next runnable vCPU in round-robin order;
 *   - if none is runnable, the CPU waits for the nearest device deadline
 *     (a PIT/RTC tick) and wakes the halted vCPUs that have an interrupt.
 * Slices are enforced by the VMX-preemption timer, so a guest spinning with
 * interrupts off still gives the CPU back.
 */
#include <keel/apic.h>
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/guest.h>
#include <keel/guest_devices.h>
#include <keel/mm.h>
#include <keel/tsc.h>
#include <keel/vmx.h>
#include <x86/io.h>

#include "vmx/exit.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

#define SLICE_NS 10000000ULL /* 10 ms */

static uint8_t exit_stacks[MAX_CPUS][16384] __aligned(16);

void sched_init_cpu(unsigned cpu)
{
	pcpus[cpu].exit_stack_top = (uint64_t)(uintptr_t)&exit_stacks[cpu][sizeof(exit_stacks[cpu])];
}

void vmx_vcpu_load(struct vcpu *v, unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
	if (pc->current != v) {
		if (pc->current && pc->current->state != VCPU_STOPPED)
			vcpu_msrs_save(pc->current);
		if (v->cpu >= 0 && v->cpu != (int)cpu) {
			/* Moved from another CPU: that CPU has VMCLEARed it
			 * (launch state and cached data written back), so it
			 * must be launched again here (SDM 24.11.3). */
			v->launched = 0;
		}
		if (vmcs_load(virt_to_phys(v->vmcs)) < 0)
			panic("VMPTRLD of guest %s vcpu %u failed\n", v->guest->name, v->id);
		if (v->cpu != (int)cpu)
			vmcs_write_host_state(v, cpu);
		v->cpu = (int)cpu;
		vcpu_msrs_load(v);
		pc->current = v;
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

static unsigned rr_pos;
uint64_t sched_idle_ticks;

void console_poll(void);

struct vcpu *sched_pick_next(unsigned cpu)
{
	struct vcpu *cur = pcpus[cpu].current;
	bool announced_idle = false;

	for (;;) {
		uint64_t now = rdtsc();
		uint64_t next_deadline = NO_DEADLINE;
		unsigned running = 0;

		console_poll();
		console_kick();
		for (unsigned gi = 0; gi < nr_guests; gi++) {
			struct guest *g = guests[gi];
			if (g && g->restart_pending)
				guest_restart(g);
			if (!g || g->state != GUEST_RUNNING)
				continue;
			running++;
			uint64_t d = guest_devices_update(g, now_ns());
			if (d < next_deadline)
				next_deadline = d;
			for (unsigned i = 0; i < g->nr_vcpus; i++) {
				struct vcpu *v = &g->vcpus[i];
				if (v->state == VCPU_HALTED && vcpu_interrupt_ready(v))
					v->state = VCPU_RUNNABLE;
			}
		}

		if (cur && cur->state == VCPU_RUNNABLE && cur->guest->state == GUEST_RUNNING && now < cur->slice_end) {
			vmx_vcpu_load(cur, cpu);
			prepare_entry(cur, next_deadline, now);
			return cur;
		}

		unsigned n = vcpu_count();
		for (unsigned k = 1; k <= n; k++) {
			struct vcpu *v = vcpu_at((rr_pos + k) % n);
			if (v && v->state == VCPU_RUNNABLE && v->guest->state == GUEST_RUNNING) {
				rr_pos = (rr_pos + k) % n;
				v->slice_end = now + ns_to_tsc(SLICE_NS);
				vmx_vcpu_load(v, cpu);
				prepare_entry(v, next_deadline, now);
				return v;
			}
		}

		if (running == 0) {
			if (!announced_idle) {
				pr_info("no guest is running; Keel is idle (serial commands still work)\n");
				announced_idle = true;
			}
			next_deadline = now_ns() + 10000000ULL;
		}
		/* Nothing runnable: wait for the nearest deadline. */
		uint64_t until = next_deadline == NO_DEADLINE ? now + ns_to_tsc(10000000ULL)
							      : tsc_boot + ns_to_tsc(next_deadline);
		/* While console output is queued, wake every 1 ms to feed the
		 * UART (16 bytes take ~1.4 ms at 115200 baud). */
		if (console_pending() && until > now + tsc_hz / 1000)
			until = now + tsc_hz / 1000;
		uint64_t t0 = rdtsc();
		apic_idle_until(until);
		sched_idle_ticks += rdtsc() - t0;
		cur = NULL;
	}
}

void sched_run(void)
{
	struct vcpu *v = sched_pick_next(0);
	vmx_enter(v);
}
