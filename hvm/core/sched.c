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
 * How a vCPU is put on a CPU, taken off it and entered is the back end's
 * (include/keel/vcpu_arch.h, hvm/vmx/vcpu.c): a vCPU is current on at most
 * one CPU, and a CPU that switches away from a vCPU, or goes idle while
 * other CPUs could run it, releases it first (vcpu_arch_put), so any CPU
 * may load any vCPU that is not current somewhere.
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
#include <keel/mm.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <keel/tsc.h>
#include <keel/vcpu_arch.h>
#include <x86/io.h>


#define SLICE_NS 10000000ULL /* 10 ms */
/* A vCPU that no other vCPU waits for on this CPU runs past its slice's end
 * without an exit there, for at most this long: the slice end would only
 * pick it again (100 preemption-timer exits a second of a one-vCPU guest
 * for nothing). The bound is for a vCPU woken meanwhile by another CPU,
 * which does not interrupt this one (on one CPU the wake-up is an exit
 * here, and the slice counts again). */
#define SLICE_ALONE_NS 100000000ULL /* 100 ms */

static uint8_t exit_stacks[MAX_CPUS][16384] __aligned(16);
static spinlock_t hv_big_lock = SPINLOCK_INIT;
static volatile bool sched_started;

void hv_lock(void) { spin_lock(&hv_big_lock); }
void hv_unlock(void) { spin_unlock(&hv_big_lock); }

void sched_init_cpu(unsigned cpu)
{
	pcpus[cpu].exit_stack_top = (uint64_t)(uintptr_t)&exit_stacks[cpu][sizeof(exit_stacks[cpu])];
}

/* Per-CPU run queues: the vCPUs whose home is that CPU, and the
 * round-robin position among them. A vCPU is on exactly one queue from its
 * creation to its guest's teardown; a CPU with nothing runnable of its own
 * takes a runnable vCPU from another's queue, which moves it here. */
#define RQ_MAX (MAX_GUESTS_RUNNING * MAX_VCPUS)
struct runqueue {
	struct vcpu *v[RQ_MAX];
	unsigned n, pos;
};
static struct runqueue runqueues[MAX_CPUS];

static void rq_add(unsigned cpu, struct vcpu *v)
{
	struct runqueue *q = &runqueues[cpu];
	q->v[q->n++] = v;
	v->home = cpu;
	v->queued = true;
}

static void rq_del(struct vcpu *v)
{
	struct runqueue *q = &runqueues[v->home];
	for (unsigned i = 0; i < q->n; i++) {
		if (q->v[i] != v)
			continue;
		memmove(&q->v[i], &q->v[i + 1], (q->n - i - 1) * sizeof(q->v[0]));
		q->n--;
		/* pos is the last one picked: keep the next in turn next. */
		if (q->n && q->pos >= i)
			q->pos = (q->pos + q->n - 1) % q->n;
		else if (!q->n)
			q->pos = 0;
		break;
	}
	v->queued = false;
}

void sched_add_vcpu(struct vcpu *v)
{
	/* The CPU with the fewest vCPUs at home. */
	unsigned best = 0;
	for (unsigned c = 1; c < nr_cpus_online; c++)
		if (runqueues[c].n < runqueues[best].n)
			best = c;
	rq_add(best, v);
}

void sched_remove_vcpu(struct vcpu *v)
{
	if (v->queued)
		rq_del(v);
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

static bool can_run_here(struct vcpu *v, unsigned cpu);

/* Whether a vCPU other than v could run on this CPU now. */
static bool others_waiting(const struct vcpu *v, unsigned cpu)
{
	for (unsigned c = 0; c < nr_cpus_online; c++)
		for (unsigned i = 0; i < runqueues[c].n; i++)
			if (runqueues[c].v[i] != v && can_run_here(runqueues[c].v[i], cpu))
				return true;
	return false;
}

/* v becomes this CPU's vCPU until the end of its slice or the nearest
 * device deadline, whichever comes first; the slice's end only if another
 * vCPU waits for the CPU (SLICE_ALONE_NS). */
static struct vcpu *run_here(struct vcpu *v, unsigned cpu, uint64_t deadline_ns)
{
#ifdef KEEL_PANIC_TEST
	panic_test_hook(v, cpu);
#endif
	vcpu_arch_load(v, cpu);
	uint64_t stop = v->slice_end;
	if (!others_waiting(v, cpu))
		stop = rdtsc() + ns_to_tsc(SLICE_ALONE_NS);
	if (deadline_ns != NO_DEADLINE) {
		uint64_t dl = tsc_boot + ns_to_tsc(deadline_ns);
		if (dl < stop)
			stop = dl;
	}
	vcpu_arch_prepare_entry(v, stop);
	v->entry_tsc = rdtsc();
	timeline_mark(v->guest, MARK_FIRST_ENTRY, v->entry_tsc);
	return v;
}

/* Runnable and not current on another CPU. */
static bool can_run_here(struct vcpu *v, unsigned cpu)
{
	return v->state == VCPU_RUNNABLE && v->guest->state == GUEST_RUNNING && (v->cpu < 0 || v->cpu == (int)cpu);
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

/* The next runnable vCPU of this CPU's queue after the last one picked. */
static struct vcpu *pick_own(unsigned cpu)
{
	struct runqueue *q = &runqueues[cpu];
	for (unsigned k = 1; k <= q->n; k++) {
		unsigned i = (q->pos + k) % q->n;
		if (can_run_here(q->v[i], cpu)) {
			q->pos = i;
			return q->v[i];
		}
	}
	return NULL;
}

/* The runnable vCPU no CPU holds, in another CPU's queue, that has had
 * the least time in guest mode, or NULL. */
static struct vcpu *least_run_other(unsigned cpu)
{
	struct vcpu *best = NULL;
	for (unsigned c = 0; c < nr_cpus_online; c++) {
		struct runqueue *q = &runqueues[c];
		for (unsigned i = 0; c != cpu && i < q->n; i++) {
			struct vcpu *v = q->v[i];
			if (can_run_here(v, cpu) && (!best || v->run_ticks < best->run_ticks))
				best = v;
		}
	}
	return best;
}

/* What this CPU runs next: the next of its own queue, unless a vCPU of
 * another queue has had half a slice less time in guest mode (or there
 * is nothing here): then that one moves here. Without the first rule,
 * 3 vCPUs on 2 CPUs would split as 1 + 2 for good, one vCPU with a CPU to
 * itself; with it they share. Evenly loaded CPUs rarely trade vCPUs. */
static struct vcpu *pick(unsigned cpu)
{
	struct vcpu *own = pick_own(cpu), *other = least_run_other(cpu);
	if (!other || (own && other->run_ticks + ns_to_tsc(SLICE_NS / 2) >= own->run_ticks))
		return own;
	rq_del(other);
	rq_add(cpu, other);
	return other;
}

struct vcpu *sched_pick_next(unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
	bool announced_idle = false;

	for (;;) {
		uint64_t now = rdtsc();
		unsigned running = 0;

		/* What is not scheduling but must happen as time passes: the
		 * console (hvm/core/control.c), guests' teardown and restarts
		 * and their devices' timers (hvm/core/guest.c). */
		if (cpu == 0)
			console_poll();
		console_kick();
		if (pc->current && pc->current->guest->state != GUEST_RUNNING)
			vcpu_arch_put(cpu);
		guests_lifecycle();
		uint64_t next_deadline = guests_tick(now_ns(), &running);

		struct vcpu *cur = pc->current;
		if (cur && can_run_here(cur, cpu) && now < cur->slice_end)
			return run_here(cur, cpu, next_deadline);
		struct vcpu *next = pick(cpu);
		if (next) {
			next->slice_end = now + ns_to_tsc(SLICE_NS);
			return run_here(next, cpu, next_deadline);
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
			vcpu_arch_put(cpu);
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
	vcpu_arch_enter(v);
}
