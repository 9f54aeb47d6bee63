/* A guest: its memory, its EPT, its devices and its vCPUs. */
#ifndef KEEL_GUEST_H
#define KEEL_GUEST_H

#include <keel/config.h>
#include <keel/cpu.h>
#include <keel/debugport.h>
#include <keel/dma_mem.h>
#include <keel/ept.h>
#include <keel/guest_ram.h>
#include <keel/fwcfg.h>
#include <keel/guest_events.h>
#include <keel/guest_log.h>
#include <keel/guest_output.h>
#include <keel/iobus.h>
#include <keel/output_budget.h>
#include <keel/restart_backoff.h>
#include <keel/spinlock.h>
#include <keel/testdev.h>
#include <keel/types.h>
#include <keel/vata.h>
#include <keel/vioapic.h>
#include <keel/virq.h>
#include <keel/vclock.h>
#include <keel/vcpu.h>
#include <keel/vkbc.h>
#include <keel/vpci.h>
#include <keel/vpic.h>
#include <keel/vpit.h>
#include <keel/vpm.h>
#include <keel/vrtc.h>
#include <keel/vuart.h>
#include <x86/vmx.h>

#define MAX_VCPUS 8
#define GUEST_CHUNK_SIZE LARGE_PAGE_SIZE /* guest RAM comes in whole 2 MiB chunks */

struct bootinfo;

#define EXIT_STATS_SLOTS (EXIT_REASON_MAX + 1)

enum guest_state { GUEST_RUNNING, GUEST_STOPPED };

/* One line of the exit statistics: TSC ticks from the VM exit to the next
 * VM entry (idle time excluded), with the last samples kept for a median. */
#define EXIT_STAT_SAMPLES 32
struct exit_stat {
	uint64_t count;
	uint64_t ticks;
	uint64_t min, max;
	uint32_t recent[EXIT_STAT_SAMPLES];
};

/* Breakdowns by CPUID leaf and MSR index (first come, first kept); `last`
 * is where the last lookup found its key (guests ask the same leaf or MSR
 * many times in a row). */
#define KEYED_STATS 24
struct keyed_stat {
	uint32_t key;
	struct exit_stat s;
};
struct keyed_stats {
	struct keyed_stat e[KEYED_STATS];
	unsigned last;
};

/* Keel's boot timeline of a guest (TSC of each first time), in the order
 * they come. Two are what hvmloader reports through the timeline-mark
 * hypercall (include/keel/hvmloader_abi.h's KEEL_MARK_*, which
 * hvm/vmx/hypercall.c translates); the others Keel sees itself. */
enum timeline_mark {
	MARK_FIRST_ENTRY,      /* first VM entry: hvmloader starts */
	MARK_LOADER_START,     /* hvmloader: running (KEEL_MARK_LOADER_START) */
	MARK_HANDOVER,         /* hvmloader: jumps to SeaBIOS or the kernel (KEEL_MARK_HANDOVER) */
	MARK_FIRST_OUTPUT,     /* first debug-port byte or console line after the handover */
	MARK_BOOT_SECTOR,      /* first fetch from the boot sector's page (boot_sector_trap.c) */
	MARK_BOOT_SECTOR_COM1, /* the boot sector's first COM1 byte */
	MARK_HALTED,           /* the boot vCPU halted with interrupts off */
	MARK_STOPPED,          /* the guest stopped (exited through port 0xF4, or was stopped) */
	NR_MARKS
};

struct guest {
	/* guest_lock(); first, and kept when a restart rebuilds the rest
	 * (guest_create), which happens with it held. */
	spinlock_t lock;
	unsigned index;
	char name[16];
	char prefix[24]; /* "[name] " for console lines */
	enum guest_state state;
	const struct guest_config *cfg;

	/* ram_size bytes of RAM, placed in the guest-physical space as ram
	 * says (guest_ram.h); ram_chunks[i] backs RAM offset i * 2 MiB.
	 * Consecutive chunks are often one larger host block (1 GiB where
	 * the allocator had one), each chunk is freed on its own. */
	uint64_t ram_size;
	struct guest_ram_layout ram;
	void **ram_chunks;
	unsigned chunk_array_pages;
	unsigned nr_chunks;
	struct ept ept;

	uint8_t *io_bitmap;  /* 8 KiB: bitmaps A and B, 1 = exit */
	uint8_t *msr_bitmap; /* 4 KiB, 1 = exit */
	uint8_t *msr_bitmap_x2apic; /* for vCPUs in x2APIC mode, with apicv (apicv.c); else NULL */

	/* Disk image: the module itself, or a private copy when several guests
	 * name the same module (writes must not leak between guests). Either
	 * way it is the guest's for its whole life: a restart keeps it (and
	 * what was written to it); see persist.disk. */
	uint8_t *disk;
	uint64_t disk_bytes;
	bool disk_private;

	struct vclock clock;
	struct io_bus io;
	struct guest_output out;     /* COM1 */
	struct guest_output dbg_out; /* debug ports 0xE9/0x402 */
	struct guest_events events;
	struct dma_mem dma; /* its RAM as the IDE bus master reaches it */
	struct vpic pic;
	struct vpit pit;
	struct vrtc rtc;
	struct vpm pm;     /* its ports exist with acpi:pm only (acpi_pm) */
	bool acpi_pm;
	uint64_t rtc_alarms_seen; /* vrtc.alarms already passed to pm */
	struct vuart uart;
	struct vkbc kbc;
	struct vata ata;
	struct fwcfg fwcfg;
	struct debugport dbg;
	struct vpci pci;
	/* QEMU's pc-testdev, with testdev:on only: testdev_mem (its 64 KiB of
	 * MMIO) is NULL otherwise. */
	struct testdev testdev;
	uint8_t *testdev_mem;
	struct vlapic_bus apic_bus; /* the vCPUs' local APICs and the I/O APIC */
	struct vioapic ioapic;
	struct virq_router irq_router; /* ISA IRQs to the 8259A pair and the I/O APIC */

	struct vcpu vcpus[MAX_VCPUS];
	unsigned nr_vcpus;

	uint64_t hypercall_page_gpa;
	/* The firmware handed over to the boot sector (hvm/vmx/boot_sector_trap.c):
	 * CPUID shows Keel's leaf instead of Xen's until the guest is reset. */
	bool boot_sector_trap_armed;
	bool os_started;
	bool reset_requested;
	bool warm_restart;    /* the restart is the guest's own reset: CMOS NVRAM survives */
	bool restart_pending; /* the scheduler restarts it */
	bool teardown_pending; /* stopped; memory freed once no CPU holds its vCPUs */
	int exit_status; /* from port 0xF4, -1 if none */
	char stop_reason[160];

	/* Each exit is recorded once (hvm/vmx/exit_stats.c): under its
	 * sub-key when it has one (port range, CPUID leaf, MSR), else under
	 * its reason; a reason's figures are the sum (exit_stats_reason). */
	struct exit_stat exit_stats[EXIT_STATS_SLOTS];
	struct exit_stat io_stats[IOBUS_MAX_RANGES + 1]; /* by port range; last: unclaimed */
	struct keyed_stats cpuid_stats, rdmsr_stats, wrmsr_stats;
	uint64_t exit_ticks_total;
	uint64_t next_deadline_ns; /* of its timers; recomputed after port I/O */
	uint64_t platform_deadline_ns; /* of those but the local APICs' (PIT, RTC), as of the last update */
	bool apic_page_mapped;     /* the APIC-access page is in its EPT (hvm/vmx/apicv.c) */
	/* The I/O APIC's level-triggered vectors for the EOI-exit bitmap
	 * (hvm/vmx/apicv.c), computed again only after a write that may have
	 * changed a redirection entry set ioapic_levels_stale. */
	bool ioapic_levels_stale;
	uint64_t ioapic_levels[4];
	bool devices_dirty;
	uint64_t created_tsc;
	uint64_t marks[NR_MARKS]; /* boot timeline (TSC) */
	/* From the jump to SeaBIOS to the boot sector's first COM1 byte,
	 * I/O exits may reveal timeline marks (exit_stats_io_marks): one
	 * byte for the exit path to test. */
	bool io_marks_armed;
	uint64_t ram_overhead_bytes; /* Keel memory for this guest besides its RAM */

	/* What survives a restart, so that resetting itself buys a guest
	 * nothing (guest_create keeps this member, clears the rest). */
	struct guest_persist {
		struct output_budget out_budget; /* its share of Keel's console (both outputs) */
		/* What Keel logged on its behalf, by kind (guest_log.h).
		 * count[GLOG_RESTART] is its number of resets; after the
		 * first 8 (then the 10th, 100th...), a restart is logged in one
		 * line instead of six (restart_unlogged). */
		struct guest_log_counts log;
		bool restart_unlogged;
		struct restart_backoff backoff; /* a guest resetting in a loop waits */
		uint64_t restart_not_before_ns;
		/* Its private disk copy, made at its first creation and never
		 * reloaded from the module: writes last across restarts, as
		 * on a real disk (NULL: it uses the module itself, which
		 * nothing reloads either). */
		uint8_t *disk;
	} persist;
};

#define MAX_GUESTS_RUNNING MAX_GUESTS
extern struct guest *guests[MAX_GUESTS_RUNNING];
extern unsigned nr_guests;

void guests_create_all(const struct keel_config *cfg, const struct bootinfo *bi);
/* Stops a guest (its vCPUs never run again) and frees its memory. Other
 * guests are not touched. */
void guest_stop(struct guest *g, const char *fmt, ...) __printf(2, 3);
/* Boots a stopped guest again from its configuration (fresh RAM, devices,
 * SeaBIOS), as a reset does on a real machine. */
void guest_restart(struct guest *g);
/* The console's restart: stops g if it runs, then builds it again as a new
 * machine, without the back-off a reset loop gets. */
void guest_request_restart(struct guest *g);
/* Stamps a timeline mark the first time it happens. */
static inline void timeline_mark(struct guest *g, enum timeline_mark m, uint64_t tsc)
{
	if (g->marks[m])
		return;
	g->marks[m] = tsc;
	if (m == MARK_HANDOVER || m == MARK_BOOT_SECTOR_COM1)
		g->io_marks_armed = m == MARK_HANDOVER;
}
/* Reports the guest's dropped console lines when due (output_budget.h);
 * final: whatever is left, at stop. */
void guest_console_report(struct guest *g, uint64_t now_ns, bool final);
/* Copy to/from guest-physical memory; false if any byte is outside RAM. */
bool guest_write_phys(struct guest *g, uint64_t gpa, const void *src, uint64_t len);
bool guest_read_phys(struct guest *g, uint64_t gpa, void *dst, uint64_t len);
/* Host pointer for [gpa, gpa+len) if it lies in one chunk, else NULL. */
void *guest_phys_ptr(struct guest *g, uint64_t gpa, uint64_t len);

/* Frees a stopped guest's memory (the scheduler calls it once no CPU holds
 * one of its vCPUs). */
void guest_teardown(struct guest *g);
/* Called by the scheduler on CPU `cpu` as time passes, holding no lock
 * (each takes one guest's lock at a time): guests_lifecycle tears down
 * stopped guests no CPU holds and restarts those due; a restart creates
 * VMCSs on this CPU, so it waits for a pass on which this CPU holds no
 * vCPU (true: let go of yours and call again); guests_tick
 * runs every running guest's device timers, wakes the halted vCPUs that
 * now have an interrupt, counts the running guests into *running and
 * returns the nearest device deadline (ns, or NO_DEADLINE). */
bool guests_lifecycle(unsigned cpu);
uint64_t guests_tick(uint64_t now_ns, unsigned *running, unsigned cpu);
/* The serial control console (hvm/core/control.c): reads what was typed. */
void console_poll(void);

/* Each guest's lock: its devices, its vCPUs' states and VMCSs, its
 * statistics, its stop, teardown and restart. Held through each of its
 * exits, and by the scheduler while it loads, prepares or releases one of
 * its vCPUs. The lock order, for the whole of Keel (docs/scheduling.md):
 * a guest's lock, then a run queue's, then the allocator's or the
 * console's, never two of one kind at once. `cpu` is the caller's CPU,
 * whose lock_wait counts the time spent waiting. */
static inline void guest_lock(struct guest *g, unsigned cpu) { spin_lock_counted(&g->lock, &pcpus[cpu].lock_wait); }
static inline void guest_unlock(struct guest *g) { spin_unlock(&g->lock); }

/* Scheduler (hvm/core/sched.c). sched_pick_next is called holding no lock
 * and returns the vCPU to enter, current on this CPU and prepared, with
 * its guest's lock held (the caller drops it before the VM entry). */
void sched_init_cpu(unsigned cpu);
/* A new vCPU joins a CPU's run queue (the least loaded); it leaves when
 * its guest is torn down. */
void sched_add_vcpu(struct vcpu *v);
void sched_remove_vcpu(struct vcpu *v);
void sched_start(void); /* guests exist: CPUs may enter the scheduler */
__noreturn void sched_run(unsigned cpu);
struct vcpu *sched_pick_next(unsigned cpu);
/* Makes v runnable if it waits for something that has now arrived: an
 * interrupt it can take (halted), or a start-up IPI (wait-for-SIPI), and
 * kicks an idle CPU to run it. Safe to call for any vCPU at any time; it
 * never wakes a vCPU spuriously. */
void sched_wake(struct vcpu *v);
/* Makes v exit guest mode soon if it runs on another CPU. */
void sched_kick_vcpu(struct vcpu *v);
/* A preemption-timer exit of v (current here, its guest's lock held) that
 * only its own local APIC timer caused: fires that timer, prepares the
 * entry (the interrupt delivered, the preemption timer armed for what
 * comes next) and returns true, so v resumes without a scheduler pass.
 * False, with nothing changed, if anything else may be due. */
bool sched_own_timer_tick(struct vcpu *v, unsigned cpu);
/* Whether, after an exit of v (its guest's lock held), the scheduler has
 * nothing to decide before v runs again, as far as v's own state goes: no
 * event to re-inject, v still runnable, its guest running (a restart is
 * only ever pending for a stopped guest) and its devices untouched since
 * the last look. The exit paths that skip a scheduler pass (the exit
 * dispatcher's direct resume, sched_own_timer_tick) start from this. */
static inline bool sched_nothing_to_decide(const struct vcpu *v)
{
	const struct guest *g = v->guest;
	return !v->event_pending && v->state == VCPU_RUNNABLE && g->state == GUEST_RUNNING && !g->devices_dirty;
}

#endif
