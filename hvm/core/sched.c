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
 * Locking (the order is in docs/scheduling.md): each guest has a lock
 * (guest_lock), held while Keel handles one of its exits and while a CPU
 * loads or prepares one of its vCPUs (a CPU releases the vCPU it holds
 * without it: vcpu_arch_put's ordering); each run queue has its
 * own. Guests on different CPUs never wait for each other's exits. The
 * scheduler holds at most one lock at a time, never a guest's lock while
 * it takes another guest's, and a run queue's only inside a guest's.
 */
#include <keel/apic.h>
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/guest.h>
#include <keel/guest_devices.h>
#include <keel/mm.h>
#include <keel/nmi.h>
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
static volatile bool sched_started;

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
	spinlock_t lock; /* n, pos and v[]; a vCPU's home and queued are its guest's */
	struct vcpu *v[RQ_MAX];
	unsigned n, pos;
};
static struct runqueue runqueues[MAX_CPUS];

/* Both with v's guest lock held (or before the scheduler starts). */
static void rq_add(unsigned cpu, struct vcpu *v)
{
	struct runqueue *q = &runqueues[cpu];
	spin_lock(&q->lock); /* rare (creation, migration): not counted */
	q->v[q->n++] = v;
	spin_unlock(&q->lock);
	v->home = cpu;
	v->queued = true;
}

static void rq_del(struct vcpu *v)
{
	struct runqueue *q = &runqueues[v->home];
	spin_lock(&q->lock);
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
	spin_unlock(&q->lock);
	v->queued = false;
}

void sched_add_vcpu(struct vcpu *v)
{
	/* The CPU with the fewest vCPUs at home (a glance: the counts may
	 * change meanwhile, which only makes the choice less even). */
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

/* Whether a vCPU other than v could run on this CPU now (a hint, like the
 * scans below: one made runnable meanwhile is seen at a later exit). */
static bool others_waiting(const struct vcpu *v, unsigned cpu)
{
	bool found = false;
	for (unsigned c = 0; c < nr_cpus_online && !found; c++) {
		struct runqueue *q = &runqueues[c];
		if (!__atomic_load_n(&q->n, __ATOMIC_RELAXED))
			continue;
		spin_lock_counted(&q->lock, &pcpus[cpu].lock_wait);
		for (unsigned i = 0; i < q->n && !found; i++)
			found = q->v[i] != v && can_run_here(q->v[i], cpu);
		spin_unlock(&q->lock);
	}
	return found;
}

/* v becomes this CPU's vCPU until the end of its slice or the nearest
 * device deadline, whichever comes first; the slice's end only if another
 * vCPU waits for the CPU (SLICE_ALONE_NS). With v's guest lock held. */
static void run_here(struct vcpu *v, unsigned cpu, uint64_t deadline_ns)
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
}

/* Runnable and not current on another CPU. Without v's guest lock it is
 * a hint (the scheduler's scans); with it, the answer. */
static bool can_run_here(struct vcpu *v, unsigned cpu)
{
	/* Acquire: pairs with vcpu_arch_put's release of v->cpu, so a CPU
	 * that goes on to load v sees what the last one saved. */
	int on = __atomic_load_n(&v->cpu, __ATOMIC_ACQUIRE);
	return v->state == VCPU_RUNNABLE && v->guest->state == GUEST_RUNNING && (on < 0 || on == (int)cpu);
}

/*
 * A guest that ticks (Linux: HZ=250 while busy, one-shot or periodic)
 * makes a preemption-timer exit for every tick of its vCPUs' APIC timers.
 * When nothing else is due, the scheduler pass such an exit would run
 * (every guest's devices, the run queues, the console, teardowns) decides
 * nothing: the same vCPU goes on. This takes that decision directly, with
 * the rules the pass follows:
 *   - what is due is an APIC timer of v's guest (its cached next
 *     deadline has come) and no other deadline has: the guest's PIT and
 *     RTC (under its lock: guest_devices_apic_timers_tick) and every
 *     other running guest's cached next deadline (read without their
 *     locks, as the scans below read run queues: a hint; a deadline
 *     another CPU moved earlier meanwhile is that CPU's to see, as on the
 *     direct path);
 *   - the timers fire in the model, v's and any other vCPU's of the
 *     guest that is due (a halted one is woken through the APIC bus, as
 *     the pass's device update would: sched_wake, which kicks the CPU it
 *     runs on or an idle one);
 *   - then the slice, as run_here decides it: if a vCPU waits for this
 *     CPU (others_waiting, asked after the timers fired: one may just
 *     have woken) and v's slice is over, the pass must pick, and runs
 *     with the timers already fired (its update finds nothing more to
 *     do); if v has the slice, the next stop is its end; alone, the same
 *     bound as run_here's (SLICE_ALONE_NS from now);
 * and the entry is prepared as after a pass (vcpu_arch_prepare_entry: the
 * interrupt injected, or with virtual-interrupt delivery RVI; the
 * preemption timer for the earlier of the slice's stop and the next
 * deadline of any guest).
 */
bool sched_own_timer_tick(struct vcpu *v, unsigned cpu)
{
	struct guest *g = v->guest;
	if (!sched_nothing_to_decide(v) || v->init_pending)
		return false;
	uint64_t now = rdtsc(), now_ns = tsc_to_ns(now - tsc_boot);
	if (g->next_deadline_ns > now_ns)
		return false; /* not its timers (the slice, another guest's device) */
	uint64_t others = NO_DEADLINE;
	for (unsigned gi = 0; gi < nr_guests; gi++) {
		struct guest *o = guests[gi];
		if (!o || o == g || __atomic_load_n(&o->state, __ATOMIC_RELAXED) != GUEST_RUNNING)
			continue;
		others = MIN(others, __atomic_load_n(&o->next_deadline_ns, __ATOMIC_RELAXED));
	}
	if (others <= now_ns)
		return false;
	uint64_t own;
	if (!guest_devices_apic_timers_tick(g, now_ns, &own))
		return false;
	uint64_t stop;
	if (others_waiting(v, cpu)) {
		if (now >= v->slice_end)
			return false;
		stop = v->slice_end;
	} else {
		stop = now + ns_to_tsc(SLICE_ALONE_NS);
	}
	others = MIN(others, own);
	if (others != NO_DEADLINE)
		stop = MIN(stop, tsc_boot + ns_to_tsc(others));
	vcpu_arch_prepare_entry(v, stop);
	return true;
}

/* This CPU lets go of the vCPU it holds (VMCLEAR: any CPU may load it
 * next). Without its guest's lock: vcpu_arch_put publishes the release
 * with release ordering, the vCPU's CPU first and this CPU's current vCPU
 * last, so a CPU that finds no CPU holding a guest's vCPUs (under the
 * guest's lock) may tear the guest down, and one that finds v->cpu < 0
 * may load it. */
static inline __attribute__((always_inline)) void put_current(unsigned cpu) { vcpu_arch_put(cpu); }

/* A vCPU a scan found, and its guest as the run queue said while it held
 * the vCPU (a scan must not follow v->guest later: the vCPU may leave the
 * queue meanwhile and its guest be rebuilt, which clears it for a moment). */
struct candidate {
	struct vcpu *v;
	struct guest *g;
	unsigned at; /* its place in its run queue */
};

/* How try_run places the vCPU: on with the slice it has (the vCPU this CPU
 * holds, its slice not over), for a new slice from its own queue, or for a
 * new slice moved here from another CPU's queue. */
enum placement { CONTINUE, NEW_SLICE, MIGRATE };

/* Makes v this CPU's vCPU if it can run here (checked again under its
 * guest's lock: another CPU may have taken it, or its guest stopped, since
 * a scan saw it). On success its guest's lock stays held, for
 * sched_pick_next's caller. */
static bool try_run(struct candidate c, unsigned cpu, uint64_t deadline_ns, uint64_t now, enum placement how)
{
	struct vcpu *v = c.v;
	/* The vCPU this CPU holds, if another, is released by
	 * vcpu_arch_load (no lock needed: put_current), inside the switch's
	 * time that `list` and make bench count. */
	guest_lock(c.g, cpu);
	if (v->guest != c.g || !can_run_here(v, cpu)) {
		guest_unlock(c.g);
		return false;
	}
	if (how != CONTINUE)
		v->slice_end = now + ns_to_tsc(SLICE_NS);
	if (how == MIGRATE && v->home != cpu) {
		rq_del(v);
		rq_add(cpu, v);
	}
	run_here(v, cpu, deadline_ns);
	return true;
}

/* Wakes idle CPUs so they look for work (a vCPU became runnable). The
 * fence pairs with the one in sched_pick_next: either the idle CPU sees
 * the vCPU runnable in its last look, or this CPU sees it idle and kicks. */
static void kick_idle_cpus(unsigned self)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned c = 0; c < nr_cpus_online; c++)
		if (c != self && __atomic_load_n(&pcpus[c].idle, __ATOMIC_RELAXED))
			apic_wake(pcpus[c].apic_id);
}

/* Gets v's attention on the CPU where it is in guest mode, if that is
 * another CPU: the kick (an NMI, nmi_kick) makes it exit, so it sees its
 * new state (an interrupt, an INIT) now rather than at the end of its
 * slice. */
void sched_kick_vcpu(struct vcpu *v)
{
	int on = __atomic_load_n(&v->cpu, __ATOMIC_RELAXED);
	if (nr_cpus_online > 1 && on >= 0 && (unsigned)on != this_cpu())
		nmi_kick((unsigned)on);
}

/* Called by the APIC bus after it set a request for v (IRR, start-up),
 * with v's guest lock held. */
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

/* The next runnable vCPU of this CPU's queue after the last one picked
 * (a hint: try_run decides). */
static struct candidate pick_own(unsigned cpu)
{
	struct runqueue *q = &runqueues[cpu];
	struct candidate found = { NULL, NULL, 0 };
	spin_lock_counted(&q->lock, &pcpus[cpu].lock_wait);
	for (unsigned k = 1; k <= q->n; k++) {
		unsigned i = (q->pos + k) % q->n;
		if (can_run_here(q->v[i], cpu)) {
			found = (struct candidate){ q->v[i], q->v[i]->guest, i };
			break;
		}
	}
	spin_unlock(&q->lock);
	return found;
}

/* The runnable vCPU no CPU holds, in another CPU's queue, that has had
 * the least time in guest mode (a hint, as above). */
static struct candidate least_run_other(unsigned cpu)
{
	struct candidate best = { NULL, NULL, 0 };
	for (unsigned c = 0; c < nr_cpus_online; c++) {
		struct runqueue *q = &runqueues[c];
		if (c == cpu || !__atomic_load_n(&q->n, __ATOMIC_RELAXED))
			continue;
		spin_lock_counted(&q->lock, &pcpus[cpu].lock_wait);
		for (unsigned i = 0; i < q->n; i++) {
			struct vcpu *v = q->v[i];
			if (can_run_here(v, cpu) && (!best.v || v->run_ticks < best.v->run_ticks))
				best = (struct candidate){ v, v->guest, i };
		}
		spin_unlock(&q->lock);
	}
	return best;
}

/* What this CPU runs next: the next of its own queue, unless a vCPU of
 * another queue has had half a slice less time in guest mode (or there
 * is nothing here): then that one moves here. Without the first rule,
 * 3 vCPUs on 2 CPUs would split as 1 + 2 for good, one vCPU with a CPU to
 * itself; with it they share. Evenly loaded CPUs rarely trade vCPUs.
 * Returns the vCPU made current and prepared, its guest's lock held, or
 * NULL. */
static struct vcpu *pick(unsigned cpu, uint64_t deadline_ns, uint64_t now)
{
	struct candidate own = pick_own(cpu), other = least_run_other(cpu);
	bool other_first =
		other.v && (!own.v || other.v->run_ticks + ns_to_tsc(SLICE_NS / 2) < own.v->run_ticks);
	if (other_first && try_run(other, cpu, deadline_ns, now, MIGRATE))
		return other.v;
	if (own.v && try_run(own, cpu, deadline_ns, now, NEW_SLICE)) {
		struct runqueue *q = &runqueues[cpu];
		spin_lock(&q->lock);
		if (own.at < q->n && q->v[own.at] == own.v)
			q->pos = own.at;
		spin_unlock(&q->lock);
		return own.v;
	}
	if (!other_first && other.v && try_run(other, cpu, deadline_ns, now, MIGRATE))
		return other.v;
	return NULL;
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
		 * and their devices' timers (hvm/core/guest.c). Each takes the
		 * lock of one guest at a time. */
		if (cpu == 0)
			console_poll();
		console_kick();
		nmi_report(cpu);
		struct vcpu *cur = pc->current;
		if (cur && cur->guest->state != GUEST_RUNNING)
			put_current(cpu);
		if (guests_lifecycle(cpu)) {
			put_current(cpu); /* a restart creates VMCSs on this CPU */
			guests_lifecycle(cpu);
		}
		uint64_t next_deadline = guests_tick(now_ns(), &running, cpu);

		cur = pc->current;
		if (cur && now < cur->slice_end && can_run_here(cur, cpu) &&
		    try_run((struct candidate){ cur, cur->guest, 0 }, cpu, next_deadline, now, CONTINUE))
			return cur;
		struct vcpu *next = pick(cpu, next_deadline, now);
		if (next)
			return next;

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
			put_current(cpu);
		uint64_t until = next_deadline == NO_DEADLINE ? now + ns_to_tsc(10000000ULL)
							      : tsc_boot + ns_to_tsc(next_deadline);
		/* While console output is queued, wake every 1 ms to feed the
		 * UART (16 bytes take ~1.4 ms at 115200 baud). */
		if (console_pending() && until > now + tsc_hz / 1000)
			until = now + tsc_hz / 1000;
		uint64_t t0 = rdtsc();
		/* Idle from now on for sched_wake's kicks; then one more look,
		 * for a vCPU made runnable before this CPU said so (the fence
		 * pairs with kick_idle_cpus'). */
		__atomic_store_n(&pc->idle, true, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		next = nr_cpus_online > 1 ? pick(cpu, next_deadline, now) : NULL;
		if (next) {
			__atomic_store_n(&pc->idle, false, __ATOMIC_RELAXED);
			return next;
		}
		apic_idle_until(until);
		__atomic_store_n(&pc->idle, false, __ATOMIC_RELAXED);
		pc->idle_ticks += rdtsc() - t0;
	}
}

void sched_start(void) { __atomic_store_n(&sched_started, true, __ATOMIC_RELEASE); }

void sched_run(unsigned cpu)
{
	while (!__atomic_load_n(&sched_started, __ATOMIC_ACQUIRE))
		cpu_relax();
	struct vcpu *v = sched_pick_next(cpu);
	guest_unlock(v->guest);
	vcpu_arch_enter(v);
}
