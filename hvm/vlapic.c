/*
 * Local APIC model, xAPIC mode (Intel SDM Vol. 3A, chapter 10). One per
 * vCPU; IPIs and I/O APIC messages travel on the guest's vlapic_bus.
 *
 * Reset state follows the SDM (LVT entries masked, SVR 0xFF, software
 * disabled) with one exception, as QEMU and Xen make it: the BSP's LINT0 is
 * ExtINT and unmasked (and LINT1 NMI), the "virtual wire" a BIOS would set
 * up. SeaBIOS's Xen path never programs the local APIC, and the 8259A's
 * interrupts must keep reaching the BSP through LINT0.
 */
#include <keel/string.h>
#include <keel/vlapic.h>

/* --- atomic bit helpers: IRR (and TMR, NMI) may change from other CPUs --- */

static void bit_set(uint32_t *words, unsigned bit)
{
	__atomic_fetch_or(&words[bit >> 5], 1u << (bit & 31), __ATOMIC_SEQ_CST);
}
static void bit_clear(uint32_t *words, unsigned bit)
{
	__atomic_fetch_and(&words[bit >> 5], ~(1u << (bit & 31)), __ATOMIC_SEQ_CST);
}
static bool bit_test(const uint32_t *words, unsigned bit)
{
	return __atomic_load_n(&words[bit >> 5], __ATOMIC_SEQ_CST) & (1u << (bit & 31));
}
/* Highest set bit of a 256-bit register, or -1. */
static int highest(const uint32_t *words)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = __atomic_load_n(&words[i], __ATOMIC_SEQ_CST);
		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

/* --- state ---------------------------------------------------------------- */

static uint64_t now(const struct vlapic *l) { return vclock_now(l->clock); }

static void reset_registers(struct vlapic *l)
{
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
		l->lvt[i] = APIC_LVT_MASKED;
	if (l->base_msr & VLAPIC_BASE_BSP) {
		l->lvt[LVT_LINT0] = APIC_DM_EXTINT << APIC_DM_SHIFT;
		l->lvt[LVT_LINT1] = APIC_DM_NMI << APIC_DM_SHIFT;
	}
	for (unsigned i = 0; i < 8; i++) {
		__atomic_store_n(&l->irr[i], 0, __ATOMIC_SEQ_CST);
		l->isr[i] = 0;
		__atomic_store_n(&l->tmr[i], 0, __ATOMIC_SEQ_CST);
	}
	__atomic_store_n(&l->nmi_pending, 0, __ATOMIC_SEQ_CST);
	l->timer_icr = l->timer_dcr = 0;
	l->timer_start_ns = 0;
	l->timer_deadline_ns = NO_DEADLINE;
}

void vlapic_bus_init(struct vlapic_bus *bus, const struct vlapic_bus_ops *ops, void *ctx)
{
	memset(bus, 0, sizeof(*bus));
	bus->ops = ops;
	bus->ctx = ctx;
}

void vlapic_init(struct vlapic *l, struct vlapic_bus *bus, unsigned index, const struct vclock *clk)
{
	memset(l, 0, sizeof(*l));
	l->index = index;
	l->clock = clk;
	l->bus = bus;
	l->base_msr = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_ENABLE | (index == 0 ? VLAPIC_BASE_BSP : 0);
	l->id = index << 24;
	reset_registers(l);
	if (bus && index < VLAPIC_MAX) {
		bus->apic[index] = l;
		if (bus->nr <= index)
			bus->nr = index + 1;
	}
}

void vlapic_init_reset(struct vlapic *l) { reset_registers(l); }

bool vlapic_hw_enabled(const struct vlapic *l) { return l->base_msr & VLAPIC_BASE_ENABLE; }
bool vlapic_sw_enabled(const struct vlapic *l) { return vlapic_hw_enabled(l) && (l->svr & APIC_SVR_ENABLE); }

uint64_t vlapic_base_msr(const struct vlapic *l) { return l->base_msr; }

int vlapic_set_base_msr(struct vlapic *l, uint64_t val, unsigned maxphyaddr)
{
	/* Bits 0-7 and 9 are reserved, and so is every address bit at or above
	 * MAXPHYADDR (SDM 10.4.4; 36 when the CPU does not say); EXTD
	 * (x2APIC) is not offered (CPUID hides it). */
	if (maxphyaddr < 36 || maxphyaddr > 52)
		maxphyaddr = 36;
	const uint64_t reserved = 0xffULL | (1ULL << 9) | ~((1ULL << maxphyaddr) - 1);
	if ((val & reserved) || (val & VLAPIC_BASE_EXTD))
		return -1;
	bool was = vlapic_hw_enabled(l), on = val & VLAPIC_BASE_ENABLE;
	l->base_msr = (l->base_msr & ~VLAPIC_BASE_ENABLE) | (on ? VLAPIC_BASE_ENABLE : 0);
	if (was && !on)
		reset_registers(l); /* SDM 10.4.3: state is lost, as at power-up */
	if ((val & ~0xfffULL) != VLAPIC_DEFAULT_BASE)
		return 1; /* the page stays at 0xFEE00000 */
	return 0;
}

/* --- priorities and delivery to the core ----------------------------------- */

uint32_t vlapic_ppr(const struct vlapic *l)
{
	int isrv = highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

int vlapic_pending_vector(const struct vlapic *l)
{
	if (!vlapic_sw_enabled(l))
		return -1;
	int v = highest(l->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (vlapic_ppr(l) & 0xf0))
		return -1;
	return v;
}

uint8_t vlapic_tpr_threshold(const struct vlapic *l)
{
	if (!vlapic_sw_enabled(l))
		return 0;
	int v = highest(l->irr);
	if (v < 0 || vlapic_pending_vector(l) >= 0)
		return 0; /* nothing waits, or it is deliverable already */
	/* Blocked by the TPR: deliverable once the TPR's class drops below
	 * the vector's. (Blocked by a higher vector in service instead: that
	 * vector's EOI exits anyway.) */
	uint8_t vclass = (uint8_t)((unsigned)v >> 4), tclass = (uint8_t)(l->tpr >> 4);
	return vclass <= tclass ? vclass : 0;
}

int vlapic_ack(struct vlapic *l)
{
	int v = vlapic_pending_vector(l);
	if (v < 0)
		return -1;
	bit_clear(l->irr, (unsigned)v);
	bit_set(l->isr, (unsigned)v);
	return v;
}

bool vlapic_accepts_pic(const struct vlapic *l)
{
	if (!vlapic_hw_enabled(l))
		return true; /* INTR goes to the core directly */
	uint32_t lint0 = l->lvt[LVT_LINT0];
	return !(lint0 & APIC_LVT_MASKED) && ((lint0 >> APIC_DM_SHIFT) & 7) == APIC_DM_EXTINT;
}

bool vlapic_take_nmi(struct vlapic *l) { return __atomic_exchange_n(&l->nmi_pending, 0, __ATOMIC_SEQ_CST); }

static void kick(struct vlapic *l)
{
	if (l->bus && l->bus->ops && l->bus->ops->kick)
		l->bus->ops->kick(l->bus->ctx, l->index);
}

static void raise_error(struct vlapic *l, uint32_t bit);

void vlapic_set_irr(struct vlapic *l, uint8_t vector, bool level)
{
	if (vector < 16) {
		raise_error(l, APIC_ESR_RECV_ILLEGAL_VECTOR);
		return;
	}
	if (level)
		bit_set(l->tmr, vector);
	else
		bit_clear(l->tmr, vector);
	bit_set(l->irr, vector);
	kick(l);
}

static void raise_error(struct vlapic *l, uint32_t bit)
{
	l->esr_pending |= bit;
	uint32_t lvt = l->lvt[LVT_ERROR];
	/* The error interrupt's own vector is checked to avoid recursion. */
	if (!(lvt & APIC_LVT_MASKED) && (lvt & 0xff) >= 16)
		vlapic_set_irr(l, lvt & 0xff, false);
}

static void eoi(struct vlapic *l)
{
	int v = highest(l->isr);
	if (v < 0)
		return;
	bit_clear(l->isr, (unsigned)v);
	if (bit_test(l->tmr, (unsigned)v) && l->bus && l->bus->ops && l->bus->ops->eoi_level)
		l->bus->ops->eoi_level(l->bus->ctx, (uint8_t)v);
}

/* --- the APIC bus ---------------------------------------------------------- */

static bool dest_matches(const struct vlapic *a, const struct vlapic_msg *m)
{
	if (!m->logical)
		return m->dest == 0xff || m->dest == (a->id >> 24);
	if (m->dest == 0xff)
		return true;
	uint8_t ldr = a->ldr >> 24;
	if ((a->dfr >> 28) == 0xf) /* flat model: one bit per APIC */
		return ldr & m->dest;
	/* Cluster model: cluster in bits 7:4, members in bits 3:0. */
	return (m->dest >> 4) == (ldr >> 4) && (m->dest & ldr & 0xf);
}

static bool targets(const struct vlapic *a, const struct vlapic *src, const struct vlapic_msg *m)
{
	if (!vlapic_hw_enabled(a))
		return false;
	switch (m->shorthand) {
	case APIC_SH_SELF:
		return a == src;
	case APIC_SH_ALL:
		return true;
	case APIC_SH_OTHERS:
		return a != src;
	default:
		return dest_matches(a, m);
	}
}

static bool accept(struct vlapic_bus *bus, struct vlapic *a, const struct vlapic_msg *m)
{
	switch (m->delivery) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		vlapic_set_irr(a, m->vector, m->level);
		return true;
	case APIC_DM_NMI:
		__atomic_store_n(&a->nmi_pending, 1, __ATOMIC_SEQ_CST);
		kick(a);
		return true;
	case APIC_DM_INIT:
		/* "INIT level de-assert" (level trigger, level 0) only
		 * synchronises arbitration IDs on old parts: no effect. */
		if (m->level && !m->assert)
			return true;
		if (bus->ops && bus->ops->init && !bus->ops->init(bus->ctx, a->index))
			return false;
		reset_registers(a);
		return true;
	case APIC_DM_STARTUP:
		if (bus->ops && bus->ops->startup)
			bus->ops->startup(bus->ctx, a->index, m->vector);
		return true;
	default: /* SMI, ExtINT and reserved modes: not delivered */
		return false;
	}
}

unsigned vlapic_bus_deliver(struct vlapic_bus *bus, const struct vlapic *src, const struct vlapic_msg *m)
{
	unsigned n = 0;
	struct vlapic *lowest = NULL;
	for (unsigned i = 0; i < bus->nr; i++) {
		struct vlapic *a = bus->apic[i];
		if (!a || !targets(a, src, m))
			continue;
		if (m->delivery == APIC_DM_LOWEST && m->shorthand == APIC_SH_NONE) {
			/* Lowest priority: the matching APIC with the lowest
			 * processor priority takes it (first one on ties). */
			if (!lowest || vlapic_ppr(a) < vlapic_ppr(lowest))
				lowest = a;
			continue;
		}
		n += accept(bus, a, m);
	}
	if (lowest)
		n += accept(bus, lowest, m);
	if (!n)
		bus->undeliverable++;
	return n;
}

static void send_ipi(struct vlapic *l)
{
	struct vlapic_msg m = {
		.vector = l->icr_lo & 0xff,
		.delivery = (l->icr_lo >> APIC_DM_SHIFT) & 7,
		.logical = l->icr_lo & APIC_ICR_DEST_LOGICAL,
		.assert = l->icr_lo & APIC_ICR_LEVEL_ASSERT,
		.level = l->icr_lo & APIC_ICR_TRIGGER_LEVEL,
		.shorthand = (l->icr_lo >> APIC_ICR_SHORTHAND_SHIFT) & 3,
		.dest = l->icr_hi >> 24,
	};
	if ((m.delivery == APIC_DM_FIXED || m.delivery == APIC_DM_LOWEST) && m.vector < 16) {
		raise_error(l, APIC_ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	l->ipis_sent++;
	if (l->bus)
		vlapic_bus_deliver(l->bus, l, &m);
	/* Delivery is immediate, so the delivery-status bit reads idle. */
}

/* --- timer ------------------------------------------------------------------- */

static uint64_t timer_divisor(const struct vlapic *l)
{
	/* DCR bits 0, 1 and 3 (SDM figure 10-10): 2^(v+1), and 7 means 1. */
	unsigned v = (l->timer_dcr & 3) | ((l->timer_dcr >> 1) & 4);
	return v == 7 ? 1 : 2ULL << v;
}

static bool timer_periodic(const struct vlapic *l) { return l->lvt[LVT_TIMER] & APIC_LVT_TIMER_PERIODIC; }

static uint64_t bus_hz(const struct vlapic *l)
{
	return l->bus && l->bus->timer_hz ? l->bus->timer_hz : VLAPIC_BUS_HZ;
}

static uint64_t timer_period_ns(const struct vlapic *l)
{
	/* At most 2^32 x 128 ticks: 128-bit before the division. */
	unsigned __int128 ticks = (unsigned __int128)l->timer_icr * timer_divisor(l);
	uint64_t p = (uint64_t)(ticks * 1000000000u / bus_hz(l));
	if (timer_periodic(l) && p < VLAPIC_MIN_PERIOD_NS)
		p = VLAPIC_MIN_PERIOD_NS;
	return p;
}

static void timer_start(struct vlapic *l)
{
	if (!l->timer_icr) {
		l->timer_deadline_ns = NO_DEADLINE;
		return;
	}
	l->timer_start_ns = now(l);
	l->timer_deadline_ns = l->timer_start_ns + timer_period_ns(l);
}

static uint32_t timer_current_count(const struct vlapic *l)
{
	if (l->timer_deadline_ns == NO_DEADLINE || !l->timer_icr)
		return 0;
	uint64_t t = now(l), period = timer_period_ns(l);
	uint64_t elapsed = t > l->timer_start_ns ? t - l->timer_start_ns : 0;
	if (timer_periodic(l))
		elapsed %= period;
	else if (elapsed >= period)
		return 0;
	uint64_t left = (uint64_t)((unsigned __int128)(period - elapsed) * bus_hz(l) / 1000000000u / timer_divisor(l));
	return left > l->timer_icr ? l->timer_icr : (uint32_t)left;
}

void vlapic_update(struct vlapic *l)
{
	if (l->timer_deadline_ns == NO_DEADLINE)
		return;
	uint64_t t = now(l);
	if (t < l->timer_deadline_ns)
		return;
	l->timer_fires++;
	uint32_t lvt = l->lvt[LVT_TIMER];
	if (!(lvt & APIC_LVT_MASKED))
		vlapic_set_irr(l, lvt & 0xff, false);
	if (timer_periodic(l)) {
		/* Periods missed while the guest was not running coalesce
		 * into this one interrupt. */
		uint64_t period = timer_period_ns(l);
		l->timer_deadline_ns += period * ((t - l->timer_deadline_ns) / period + 1);
	} else {
		l->timer_deadline_ns = NO_DEADLINE;
	}
}

uint64_t vlapic_next_deadline_ns(const struct vlapic *l) { return l->timer_deadline_ns; }

/* --- MMIO ---------------------------------------------------------------------- */

static uint32_t reg_read(struct vlapic *l, uint32_t reg)
{
	if (reg >= APIC_REG_ISR && reg < APIC_REG_ISR + 0x80)
		return l->isr[(reg - APIC_REG_ISR) >> 4];
	if (reg >= APIC_REG_TMR && reg < APIC_REG_TMR + 0x80)
		return __atomic_load_n(&l->tmr[(reg - APIC_REG_TMR) >> 4], __ATOMIC_SEQ_CST);
	if (reg >= APIC_REG_IRR && reg < APIC_REG_IRR + 0x80)
		return __atomic_load_n(&l->irr[(reg - APIC_REG_IRR) >> 4], __ATOMIC_SEQ_CST);
	if (reg >= APIC_REG_LVT_TIMER && reg <= APIC_REG_LVT_ERROR)
		return l->lvt[(reg - APIC_REG_LVT_TIMER) >> 4];
	switch (reg) {
	case APIC_REG_ID:
		return l->id;
	case APIC_REG_VERSION:
		return VLAPIC_VERSION;
	case APIC_REG_TPR:
		return l->tpr;
	case APIC_REG_PPR:
		return vlapic_ppr(l);
	case APIC_REG_APR:
	case APIC_REG_EOI:
	case APIC_REG_RRD:
		return 0;
	case APIC_REG_LDR:
		return l->ldr;
	case APIC_REG_DFR:
		return l->dfr;
	case APIC_REG_SVR:
		return l->svr;
	case APIC_REG_ESR:
		return l->esr;
	case APIC_REG_ICR_LO:
		return l->icr_lo;
	case APIC_REG_ICR_HI:
		return l->icr_hi;
	case APIC_REG_TIMER_ICR:
		return l->timer_icr;
	case APIC_REG_TIMER_CCR:
		return timer_current_count(l);
	case APIC_REG_TIMER_DCR:
		return l->timer_dcr;
	default:
		l->bad_accesses++;
		raise_error(l, APIC_ESR_ILLEGAL_REGISTER);
		return 0;
	}
}

/* Bits software may write in each LVT entry (the rest read as 0, or are
 * status bits the APIC owns). TSC-deadline mode is not offered. */
static const uint32_t lvt_writable[VLAPIC_NR_LVT] = {
	[LVT_TIMER] = 0x300ff,  /* vector, mask, periodic */
	[LVT_THERMAL] = 0x107ff, /* vector, delivery mode, mask */
	[LVT_PERF] = 0x107ff,
	[LVT_LINT0] = 0x1a7ff,  /* + polarity, trigger */
	[LVT_LINT1] = 0x1a7ff,
	[LVT_ERROR] = 0x100ff,
};

static void reg_write(struct vlapic *l, uint32_t reg, uint32_t val)
{
	if (reg >= APIC_REG_LVT_TIMER && reg <= APIC_REG_LVT_ERROR) {
		unsigned i = (reg - APIC_REG_LVT_TIMER) >> 4;
		uint32_t v = val & lvt_writable[i];
		/* A software-disabled APIC keeps every LVT masked (SDM 10.4.7.2). */
		if (!(l->svr & APIC_SVR_ENABLE))
			v |= APIC_LVT_MASKED;
		l->lvt[i] = v | (l->lvt[i] & APIC_LVT_REMOTE_IRR & ~lvt_writable[i]);
		return;
	}
	switch (reg) {
	case APIC_REG_ID:
		l->id = val & 0xff000000u;
		return;
	case APIC_REG_TPR:
		l->tpr = val & 0xff;
		return;
	case APIC_REG_EOI:
		eoi(l);
		return;
	case APIC_REG_LDR:
		l->ldr = val & 0xff000000u;
		return;
	case APIC_REG_DFR:
		l->dfr = val | 0x0fffffffu;
		return;
	case APIC_REG_SVR:
		l->svr = val & 0x3ff;
		if (!(l->svr & APIC_SVR_ENABLE))
			for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
				l->lvt[i] |= APIC_LVT_MASKED;
		return;
	case APIC_REG_ESR:
		/* A write latches the errors seen since the previous write. */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return;
	case APIC_REG_ICR_HI:
		l->icr_hi = val & 0xff000000u;
		return;
	case APIC_REG_ICR_LO:
		l->icr_lo = val & 0x000ccfffu;
		send_ipi(l);
		return;
	case APIC_REG_TIMER_ICR:
		l->timer_icr = val;
		timer_start(l);
		return;
	case APIC_REG_TIMER_DCR:
		l->timer_dcr = val & 0xb;
		return;
	case APIC_REG_VERSION:
	case APIC_REG_PPR:
	case APIC_REG_APR:
	case APIC_REG_RRD:
	case APIC_REG_TIMER_CCR:
		return; /* read-only */
	default:
		if (reg >= APIC_REG_ISR && reg < APIC_REG_IRR + 0x80)
			return; /* ISR, TMR, IRR are read-only */
		l->bad_accesses++;
		raise_error(l, APIC_ESR_ILLEGAL_REGISTER);
		return;
	}
}

uint64_t vlapic_mmio_read(struct vlapic *l, uint32_t offset, unsigned size)
{
	offset &= VLAPIC_MMIO_SIZE - 1;
	unsigned sub = offset & 15;
	/* Registers are 32 bits in the first 4 bytes of each 16-byte slot. */
	if (sub >= 4)
		return 0;
	uint64_t v = reg_read(l, offset & ~15u) >> (8 * sub);
	return size >= 8 ? v : v & ((1ULL << (8 * size)) - 1);
}

void vlapic_mmio_write(struct vlapic *l, uint32_t offset, unsigned size, uint64_t val)
{
	offset &= VLAPIC_MMIO_SIZE - 1;
	/* The SDM leaves other access widths undefined: only aligned 32-bit
	 * (or wider) writes take effect; the rest are counted and dropped. */
	if ((offset & 15) || size < 4) {
		l->bad_accesses++;
		return;
	}
	reg_write(l, offset, (uint32_t)val);
}
