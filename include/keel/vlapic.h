/*
 * A guest's local APICs (xAPIC mode with its MMIO page at 0xFEE00000, or
 * x2APIC mode with its MSRs 0x800-0x8FF) and the
 * "APIC bus" that carries interprocessor interrupts and I/O APIC messages
 * between them. Pure model (hvm/dev/vlapic.c): it never touches VMX; the
 * platform hooks in struct vlapic_bus_ops do what needs the scheduler
 * (INIT, start-up, waking a halted vCPU, level EOIs to the I/O APIC).
 *
 * Concurrency: a vCPU's IRR may be set by another vCPU (an IPI) or by a
 * device (timer, I/O APIC), possibly on another physical CPU. IRR bits are
 * therefore set and cleared with atomic operations only, and a sender calls
 * ops->kick after setting them. Everything else in struct vlapic (ISR, TMR,
 * registers, the timer) is written by the owning vCPU's exits only, or by
 * the device update path of its guest, which the scheduler serialises per
 * guest. INIT resets the target's registers from the sender's exit: the
 * target is not running then on a one-CPU host; with several host CPUs the
 * platform must stop the target first (see docs/devices.md).
 */
#ifndef KEEL_VLAPIC_H
#define KEEL_VLAPIC_H

#include <keel/types.h>
#include <keel/vclock.h>

#define VLAPIC_DEFAULT_BASE 0xfee00000ULL
#define VLAPIC_MMIO_SIZE 0x1000u
/* Version register: version 0x14 (an integrated xAPIC), 6 LVT entries
 * (max LVT index 5 in bits 23:16), no EOI-broadcast suppression. */
#define VLAPIC_VERSION 0x00050014u
/* The timer counts at the "bus clock" divided by the DCR divisor. A guest's
 * bus clock is the core crystal its CPUID leaf 0x15 states (vlapic_bus's
 * timer_hz, set by hvm/core/guest.c), since kernels time the APIC timer from
 * that leaf; this is the default where none was set. */
#define VLAPIC_BUS_HZ 1000000000ULL
/* A periodic timer never fires faster than this (an initial count of 1
 * would ask for a billion interrupts a second). */
#define VLAPIC_MIN_PERIOD_NS 50000ULL

/* Register offsets in the MMIO page (SDM Vol. 3A, table 10-1). */
#define APIC_REG_ID 0x020
#define APIC_REG_VERSION 0x030
#define APIC_REG_TPR 0x080
#define APIC_REG_APR 0x090
#define APIC_REG_PPR 0x0a0
#define APIC_REG_EOI 0x0b0
#define APIC_REG_RRD 0x0c0
#define APIC_REG_LDR 0x0d0
#define APIC_REG_DFR 0x0e0
#define APIC_REG_SVR 0x0f0
#define APIC_REG_ISR 0x100
#define APIC_REG_TMR 0x180
#define APIC_REG_IRR 0x200
#define APIC_REG_ESR 0x280
#define APIC_REG_ICR_LO 0x300
#define APIC_REG_ICR_HI 0x310
#define APIC_REG_LVT_TIMER 0x320
#define APIC_REG_LVT_THERMAL 0x330
#define APIC_REG_LVT_PERF 0x340
#define APIC_REG_LVT_LINT0 0x350
#define APIC_REG_LVT_LINT1 0x360
#define APIC_REG_LVT_ERROR 0x370
#define APIC_REG_TIMER_ICR 0x380
#define APIC_REG_TIMER_CCR 0x390
#define APIC_REG_TIMER_DCR 0x3e0
/* x2APIC mode keeps the 64-bit ICR in one slot: destination (bits 63:32)
 * at 0x304, where VMX's x2APIC virtualization puts it too (SDM 29.5). */
#define APIC_REG_ICR_DEST_X2 0x304
#define APIC_REG_SELF_IPI 0x3f0 /* x2APIC mode only (MSR 0x83F) */

/* The x2APIC's MSRs (SDM 10.12.1.2, table 10-6): MSR 0x800 + offset / 16. */
#define X2APIC_MSR_BASE 0x800u
#define X2APIC_MSR_END 0x8ffu
#define X2APIC_MSR_ID 0x802u
#define X2APIC_MSR_TPR 0x808u
#define X2APIC_MSR_PPR 0x80au
#define X2APIC_MSR_EOI 0x80bu
#define X2APIC_MSR_LDR 0x80du
#define X2APIC_MSR_ICR 0x830u
#define X2APIC_MSR_TIMER_CCR 0x839u
#define X2APIC_MSR_SELF_IPI 0x83fu

/* SVR, LVT and ICR fields. */
#define APIC_SVR_ENABLE (1u << 8)
#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_TIMER_PERIODIC (1u << 17)
#define APIC_LVT_REMOTE_IRR (1u << 14)
#define APIC_DM_SHIFT 8
#define APIC_DM_FIXED 0
#define APIC_DM_LOWEST 1
#define APIC_DM_SMI 2
#define APIC_DM_NMI 4
#define APIC_DM_INIT 5
#define APIC_DM_STARTUP 6
#define APIC_DM_EXTINT 7
#define APIC_ICR_DEST_LOGICAL (1u << 11)
#define APIC_ICR_BUSY (1u << 12)
#define APIC_ICR_LEVEL_ASSERT (1u << 14)
#define APIC_ICR_TRIGGER_LEVEL (1u << 15)
#define APIC_ICR_SHORTHAND_SHIFT 18
#define APIC_SH_NONE 0
#define APIC_SH_SELF 1
#define APIC_SH_ALL 2
#define APIC_SH_OTHERS 3

/* IA32_APIC_BASE bits (also in include/x86/cpu.h for the host side). */
#define VLAPIC_BASE_BSP (1ULL << 8)
#define VLAPIC_BASE_EXTD (1ULL << 10)
#define VLAPIC_BASE_ENABLE (1ULL << 11)

/* ESR bits (SDM 10.5.3). */
#define APIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define APIC_ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define APIC_ESR_ILLEGAL_REGISTER (1u << 7)

enum vlapic_lvt { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, VLAPIC_NR_LVT };

#define VLAPIC_MAX 8 /* = MAX_VCPUS */

/* One interrupt message on the APIC bus (an IPI, or an I/O APIC entry). */
struct vlapic_msg {
	uint8_t vector;
	uint8_t delivery;  /* APIC_DM_* */
	bool logical;      /* destination mode */
	bool level;        /* trigger mode level (sets TMR; EOI goes back) */
	bool assert;       /* level: assert (1) or de-assert (0), for INIT */
	uint8_t shorthand; /* APIC_SH_* (IPIs only) */
	uint32_t dest;     /* APIC id, logical mask, or all ones for all */
	bool x2apic_dest;  /* dest is 32-bit x2APIC format (an x2APIC's ICR);
			    * else 8-bit xAPIC format (broadcast 0xFF) */
};

struct vlapic_bus;

struct vlapic {
	unsigned index;           /* vCPU number; also the APIC id at reset */
	uint64_t base_msr;        /* IA32_APIC_BASE */
	/* The architectural registers: a 4 KiB page laid out as the APIC's
	 * MMIO page (table 10-1). Under VMX it is the virtual-APIC page, which
	 * the CPU reads and writes itself (TPR shadow, virtual-interrupt
	 * delivery): one copy, never two to keep in step. IRR and TMR words
	 * may be set from other CPUs: atomic operations only. */
	uint32_t *regs;
	uint32_t esr_pending;     /* errors since the last ESR write */
	uint64_t timer_start_ns;  /* when the current count was last loaded */
	uint64_t timer_deadline_ns; /* NO_DEADLINE when not counting */
	uint32_t nmi_pending;     /* atomic: NMI messages not yet delivered (at most 2) */
	const struct vclock *clock;
	struct vlapic_bus *bus;
	/* Statistics. */
	uint64_t ipis_sent, timer_fires, bad_accesses;
};

/* What the platform does for the APIC bus (Keel: hvm/core/guest.c). */
struct vlapic_bus_ops {
	/* INIT message for apic `index`: false if the platform refuses it
	 * (Keel: the BSP); otherwise the APIC's registers are reset. */
	bool (*init)(void *ctx, unsigned index);
	/* Start-up message with this vector to apic `index`. */
	void (*startup)(void *ctx, unsigned index, uint8_t vector);
	/* Apic `index` has a new request (IRR or NMI): wake it if it sleeps. */
	void (*kick)(void *ctx, unsigned index);
	/* EOI of a level-triggered vector (for the I/O APIC's remote IRR). */
	void (*eoi_level)(void *ctx, uint8_t vector);
};

struct vlapic_bus {
	struct vlapic *apic[VLAPIC_MAX];
	unsigned nr;
	const struct vlapic_bus_ops *ops;
	void *ctx;
	uint64_t undeliverable; /* messages that matched no APIC */
	uint64_t timer_hz;      /* the timers' bus clock; 0: VLAPIC_BUS_HZ */
	bool x2apic;            /* x2APIC mode may be entered (CPUID offers it) */
};

void vlapic_bus_init(struct vlapic_bus *bus, const struct vlapic_bus_ops *ops, void *ctx);
/* Power-on state; apic 0 is the BSP. Adds the APIC to the bus. */
/* regs_page: 4 KiB (4-byte aligned; page-aligned for VMX), the registers'
 * home from now on (struct vlapic's regs). */
void vlapic_init(struct vlapic *l, struct vlapic_bus *bus, unsigned index, const struct vclock *clk,
		 uint32_t *regs_page);
/* Delivers a message to every APIC it names (src: the sender for the
 * self/others shorthands, NULL for the I/O APIC). Returns how many APICs
 * accepted it. */
unsigned vlapic_bus_deliver(struct vlapic_bus *bus, const struct vlapic *src, const struct vlapic_msg *m);

/* MMIO: offset within the page, size 1, 2, 4 or 8 bytes. */
uint64_t vlapic_mmio_read(struct vlapic *l, uint32_t offset, unsigned size);
void vlapic_mmio_write(struct vlapic *l, uint32_t offset, unsigned size, uint64_t val);

/* APIC virtualization (VMX "APIC-register virtualization"): the guest's
 * write to the register at offset is already in the page, unchecked (an
 * APIC-write VM exit, SDM 29.4.3.3); completes it as a write of that value
 * (masking, side effects: IPIs, the timer, ESR latching). */
void vlapic_apic_write(struct vlapic *l, uint32_t offset);
/* Virtual-interrupt delivery: the CPU performed the EOI of `vector` itself
 * (ISR bit cleared in the page) and exited because the EOI-exit bitmap
 * names it (SDM 29.1.4): tell the I/O APIC if it was level-triggered. */
void vlapic_eoi_done(struct vlapic *l, uint8_t vector);
/* The vectors whose EOI Keel must see: those accepted level-triggered
 * (TMR), as 4 x 64 bits for the EOI-exit bitmap fields. */
void vlapic_eoi_exit_bitmap(const struct vlapic *l, uint64_t bitmap[4]);
/* Highest vector requested (IRR) and in service (ISR), or -1: VMX's RVI
 * and SVI. */
int vlapic_highest_irr(const struct vlapic *l);
int vlapic_highest_isr(const struct vlapic *l);

/* IA32_APIC_BASE. */
uint64_t vlapic_base_msr(const struct vlapic *l);
/* -1: #GP (reserved bits: 0-7, 9, address bits at or above MAXPHYADDR;
 * EXTD when the bus does not offer x2APIC; a transition SDM 10.12.5.1
 * forbids: x2APIC -> xAPIC, disabled -> x2APIC, EN=0 with EXTD=1);
 * 1: accepted but the page stays at 0xFEE00000; 0: done. Entering x2APIC
 * mode makes the ID the 32-bit x2APIC ID and derives the LDR; leaving it
 * (through disabled) resets the registers. */
int vlapic_set_base_msr(struct vlapic *l, uint64_t val, unsigned maxphyaddr);
/* The APIC is globally enabled (IA32_APIC_BASE.EN). */
bool vlapic_hw_enabled(const struct vlapic *l);
/* Enabled in x2APIC mode (EN and EXTD): registers are MSRs, the MMIO page
 * does not decode. */
bool vlapic_x2apic_mode(const struct vlapic *l);
/* Enabled in xAPIC mode: the page at 0xFEE00000 decodes. */
static inline bool vlapic_mmio_decodes(const struct vlapic *l)
{
	return vlapic_hw_enabled(l) && !vlapic_x2apic_mode(l);
}

/* x2APIC MSRs 0x800-0x8FF (SDM 10.12.1.2): 0 done, -1 #GP (not in x2APIC
 * mode, a reserved or absent register, a read of a write-only one, a write
 * to a read-only one, reserved bits set where the SDM says #GP). */
int vlapic_x2apic_read(struct vlapic *l, uint32_t msr, uint64_t *val);
int vlapic_x2apic_write(struct vlapic *l, uint32_t msr, uint64_t val);
/* The page offset an x2APIC MSR maps to ((msr & 0xff) << 4). */
static inline uint32_t vlapic_x2apic_offset(uint32_t msr) { return (msr & 0xffu) << 4; }
/* The destination of the last ICR write, in the current mode's format. */
uint32_t vlapic_icr_dest(const struct vlapic *l);
bool vlapic_sw_enabled(const struct vlapic *l);

/* Interrupt delivery to the vCPU. */
/* Highest pending vector above the processor priority, or -1. */
int vlapic_pending_vector(const struct vlapic *l);
/* The CPU takes that vector: IRR -> ISR. Returns the vector. */
int vlapic_ack(struct vlapic *l);
/* Whether the 8259A's INTR reaches this CPU (LINT0 as ExtINT, unmasked,
 * or the APIC globally disabled, when INTR goes straight to the core). */
bool vlapic_accepts_pic(const struct vlapic *l);
/* Takes a pending NMI (returns true once per NMI message kept). Two are
 * kept: a vCPU does not run the moment an NMI is sent, so a second one
 * sent before the first was delivered must not merge into it (watchdogs,
 * and kvm-unit-tests' "multiple nmi", send them from two CPUs at once). */
bool vlapic_take_nmi(struct vlapic *l);
/* Keeps at most one pending NMI: for a CPU already inside its NMI handler,
 * which latches one NMI until its IRET (SDM 6.7.1). */
void vlapic_limit_nmi_to_one(struct vlapic *l);
/* Sets IRR for `vector` (a fixed interrupt from a local source or a test). */
void vlapic_set_irr(struct vlapic *l, uint8_t vector, bool level);
uint32_t vlapic_ppr(const struct vlapic *l);
/* The task-priority register, also reachable as CR8 (bits 7:4 = CR8). */
static inline uint8_t vlapic_tpr(const struct vlapic *l) { return (uint8_t)l->regs[APIC_REG_TPR >> 2]; }
static inline void vlapic_set_tpr(struct vlapic *l, uint8_t tpr) { l->regs[APIC_REG_TPR >> 2] = tpr; }
/* For a TPR shadow (VMX's TPR threshold, SDM 29.1.2): the priority class
 * below which the guest's TPR must fall for the highest requested vector to
 * become deliverable, or 0 when lowering the TPR would deliver nothing. */
uint8_t vlapic_tpr_threshold(const struct vlapic *l);

/* Timer: raises the LVT timer vector if its deadline passed. */
void vlapic_update(struct vlapic *l);
/* Absolute ns of the next timer interrupt, or NO_DEADLINE. */
uint64_t vlapic_next_deadline_ns(const struct vlapic *l);

/* INIT: every register to its power-on value except the ID and the base
 * MSR (SDM 10.4.7.3); x2APIC mode stays (SDM 10.12.5.1), with its LDR. */
void vlapic_init_reset(struct vlapic *l);
/* RESET (the CPU's, e.g. waking from S3): also xAPIC mode, enabled, the
 * reset APIC id (SDM 10.12.5.1). */
void vlapic_power_reset(struct vlapic *l);

#endif
