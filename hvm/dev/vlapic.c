/*
 * Local APIC model (Intel SDM Vol. 3A, chapter 10): xAPIC mode through the
 * MMIO page, x2APIC mode (10.12) through MSRs 0x800-0x8FF. One per vCPU;
 * IPIs and I/O APIC messages travel on the guest's vlapic_bus.
 *
 * Reset state follows the SDM (LVT entries masked, SVR 0xFF, software
 * disabled) with one exception, as QEMU and Xen make it: the BSP's LINT0 is
 * ExtINT and unmasked (and LINT1 NMI), the "virtual wire" a BIOS would set
 * up. SeaBIOS's Xen path never programs the local APIC, and the 8259A's
 * interrupts must keep reaching the BSP through LINT0.
 *
 * The registers live in one 4 KiB page laid out as the APIC's MMIO page
 * (l->regs; SDM table 10-1): under VMX it is the vCPU's virtual-APIC page,
 * which the CPU itself reads and writes with APIC virtualization (TPR
 * shadow, virtual-interrupt delivery: IRR, ISR, PPR, EOI). The page is the
 * one copy of the architectural state, so the model and the CPU can never
 * disagree; struct vlapic keeps only what the page has no place for (the
 * timer's start, errors not yet latched into the ESR, a pending NMI).
 */
#include <keel/string.h>
#include <keel/vlapic.h>

/* --- the register page ------------------------------------------------------ */

/* A register at a page offset (a multiple of 16: its low 4 bytes). */
static uint32_t *reg(const struct vlapic *l, uint32_t off) { return &l->regs[off >> 2]; }
/* Word i (0-7) of the 256-bit IRR, ISR or TMR: at base + 16 * i. */
static uint32_t *word256(const struct vlapic *l, uint32_t base, unsigned i) { return reg(l, base + 16 * i); }

/* --- atomic bit helpers: IRR (and TMR, NMI) may change from other CPUs --- */

/* Returns whether the bit was set already. */
static bool bit_set(const struct vlapic *l, uint32_t base, unsigned bit)
{
	return __atomic_fetch_or(word256(l, base, bit >> 5), 1u << (bit & 31), __ATOMIC_SEQ_CST) & (1u << (bit & 31));
}
static void bit_clear(const struct vlapic *l, uint32_t base, unsigned bit)
{
	__atomic_fetch_and(word256(l, base, bit >> 5), ~(1u << (bit & 31)), __ATOMIC_SEQ_CST);
}
static bool bit_test(const struct vlapic *l, uint32_t base, unsigned bit)
{
	return __atomic_load_n(word256(l, base, bit >> 5), __ATOMIC_SEQ_CST) & (1u << (bit & 31));
}
/* Highest set bit of a 256-bit register, or -1. */
static int highest(const struct vlapic *l, uint32_t base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = __atomic_load_n(word256(l, base, (unsigned)i), __ATOMIC_SEQ_CST);
		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

int vlapic_highest_irr(const struct vlapic *l) { return highest(l, APIC_REG_IRR); }
int vlapic_highest_isr(const struct vlapic *l) { return highest(l, APIC_REG_ISR); }

/* --- state ---------------------------------------------------------------- */

static uint64_t now(const struct vlapic *l) { return vclock_now(l->clock); }

bool vlapic_x2apic_mode(const struct vlapic *l)
{
	return (l->base_msr & (VLAPIC_BASE_ENABLE | VLAPIC_BASE_EXTD)) == (VLAPIC_BASE_ENABLE | VLAPIC_BASE_EXTD);
}

/* The APIC id in the current mode: 32 bits in x2APIC mode, else the
 * xAPIC's 8 (bits 31:24 of the register). */
static uint32_t apic_id(const struct vlapic *l)
{
	uint32_t id = *reg(l, APIC_REG_ID);
	return vlapic_x2apic_mode(l) ? id : id >> 24;
}

/* x2APIC mode's LDR, derived from the x2APIC ID (SDM 10.12.10.2): cluster
 * (id >> 4) in bits 31:16, one bit (1 << (id & 15)) in bits 15:0. */
static uint32_t x2apic_ldr(uint32_t id) { return ((id >> 4) << 16) | (1u << (id & 15)); }

/* The registers x2APIC mode lays out differently: the 32-bit ID (the
 * x2APIC ID, which is the vCPU number), the derived LDR, no DFR. */
static void enter_x2apic_layout(struct vlapic *l)
{
	*reg(l, APIC_REG_ID) = l->index;
	*reg(l, APIC_REG_LDR) = x2apic_ldr(l->index);
	*reg(l, APIC_REG_DFR) = 0;
}

static void reset_registers(struct vlapic *l)
{
	/* Everything but the ID (which INIT keeps, SDM 10.4.7.3) to 0 first:
	 * IRR, ISR, TMR, ICR, timer, ESR and the reserved bytes between. */
	uint32_t id = *reg(l, APIC_REG_ID);
	for (unsigned i = 0; i < VLAPIC_MMIO_SIZE / 4; i++)
		__atomic_store_n(&l->regs[i], 0, __ATOMIC_SEQ_CST);
	*reg(l, APIC_REG_ID) = id;
	*reg(l, APIC_REG_VERSION) = VLAPIC_VERSION;
	*reg(l, APIC_REG_DFR) = 0xffffffffu;
	*reg(l, APIC_REG_SVR) = 0xff;
	l->esr_pending = 0;
	for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
		*reg(l, APIC_REG_LVT_TIMER + 16 * i) = APIC_LVT_MASKED;
	if (l->base_msr & VLAPIC_BASE_BSP) {
		*reg(l, APIC_REG_LVT_LINT0) = APIC_DM_EXTINT << APIC_DM_SHIFT;
		*reg(l, APIC_REG_LVT_LINT1) = APIC_DM_NMI << APIC_DM_SHIFT;
	}
	__atomic_store_n(&l->nmi_pending, 0, __ATOMIC_SEQ_CST);
	l->timer_start_ns = 0;
	l->timer_deadline_ns = NO_DEADLINE;
	if (vlapic_x2apic_mode(l))
		enter_x2apic_layout(l); /* INIT keeps x2APIC mode (SDM 10.12.5.1) */
}

void vlapic_bus_init(struct vlapic_bus *bus, const struct vlapic_bus_ops *ops, void *ctx)
{
	memset(bus, 0, sizeof(*bus));
	bus->ops = ops;
	bus->ctx = ctx;
}

void vlapic_init(struct vlapic *l, struct vlapic_bus *bus, unsigned index, const struct vclock *clk,
		 uint32_t *regs_page)
{
	memset(l, 0, sizeof(*l));
	l->index = index;
	l->clock = clk;
	l->bus = bus;
	l->regs = regs_page;
	l->base_msr = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_ENABLE | (index == 0 ? VLAPIC_BASE_BSP : 0);
	*reg(l, APIC_REG_ID) = index << 24;
	reset_registers(l);
	if (bus && index < VLAPIC_MAX) {
		bus->apic[index] = l;
		if (bus->nr <= index)
			bus->nr = index + 1;
	}
}

void vlapic_init_reset(struct vlapic *l) { reset_registers(l); }

void vlapic_power_reset(struct vlapic *l)
{
	l->base_msr = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_ENABLE | (l->base_msr & VLAPIC_BASE_BSP);
	*reg(l, APIC_REG_ID) = l->index << 24;
	reset_registers(l);
}

bool vlapic_hw_enabled(const struct vlapic *l) { return l->base_msr & VLAPIC_BASE_ENABLE; }
bool vlapic_sw_enabled(const struct vlapic *l) { return vlapic_hw_enabled(l) && (*reg(l, APIC_REG_SVR) & APIC_SVR_ENABLE); }

uint64_t vlapic_base_msr(const struct vlapic *l) { return l->base_msr; }

/* The mode IA32_APIC_BASE's EN and EXTD select (SDM 10.12.5.1). */
enum apic_mode { MODE_DISABLED, MODE_XAPIC, MODE_X2APIC, MODE_INVALID };

static enum apic_mode base_mode(uint64_t base)
{
	bool en = base & VLAPIC_BASE_ENABLE, extd = base & VLAPIC_BASE_EXTD;
	return en ? (extd ? MODE_X2APIC : MODE_XAPIC) : (extd ? MODE_INVALID : MODE_DISABLED);
}

/* Figure 10-27: xAPIC <-> disabled, xAPIC -> x2APIC, x2APIC -> disabled;
 * never into the invalid state, never x2APIC -> xAPIC or disabled ->
 * x2APIC directly. Staying in a mode is allowed. */
static bool mode_transition_ok(enum apic_mode from, enum apic_mode to)
{
	if (to == MODE_INVALID)
		return false;
	if (from == to)
		return true;
	switch (from) {
	case MODE_XAPIC:
		return true;
	case MODE_X2APIC:
		return to == MODE_DISABLED;
	case MODE_DISABLED:
		return to == MODE_XAPIC;
	default:
		return false;
	}
}

int vlapic_set_base_msr(struct vlapic *l, uint64_t val, unsigned maxphyaddr)
{
	/* Bits 0-7 and 9 are reserved, and so is every address bit at or above
	 * MAXPHYADDR (SDM 10.4.4; 36 when the CPU does not say); EXTD too
	 * when x2APIC is not offered (CPUID.1:ECX[21] clear). */
	if (maxphyaddr < 36 || maxphyaddr > 52)
		maxphyaddr = 36;
	const uint64_t reserved = 0xffULL | (1ULL << 9) | ~((1ULL << maxphyaddr) - 1);
	if ((val & reserved) || ((val & VLAPIC_BASE_EXTD) && !(l->bus && l->bus->x2apic)))
		return -1;
	enum apic_mode from = base_mode(l->base_msr), to = base_mode(val);
	if (!mode_transition_ok(from, to))
		return -1;
	const uint64_t mode_bits = VLAPIC_BASE_ENABLE | VLAPIC_BASE_EXTD;
	l->base_msr = (l->base_msr & ~mode_bits) | (val & mode_bits);
	if (from != MODE_DISABLED && to == MODE_DISABLED) {
		/* SDM 10.4.3: state is lost, as at power-up; the xAPIC ID is
		 * the low 8 bits of the x2APIC ID (10.12.5.1). */
		if (from == MODE_X2APIC)
			*reg(l, APIC_REG_ID) = (l->index & 0xff) << 24;
		reset_registers(l);
	}
	if (from == MODE_XAPIC && to == MODE_X2APIC)
		enter_x2apic_layout(l); /* the other registers carry over */
	if ((val & ~0xfffULL) != VLAPIC_DEFAULT_BASE)
		return 1; /* the page stays at 0xFEE00000 */
	return 0;
}

/* --- priorities and delivery to the core ----------------------------------- */

uint32_t vlapic_ppr(const struct vlapic *l)
{
	int isrv = highest(l, APIC_REG_ISR);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0, tpr = vlapic_tpr(l);
	return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}

int vlapic_pending_vector(const struct vlapic *l)
{
	if (!vlapic_sw_enabled(l))
		return -1;
	int v = highest(l, APIC_REG_IRR);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (vlapic_ppr(l) & 0xf0))
		return -1;
	return v;
}

uint8_t vlapic_tpr_threshold(const struct vlapic *l)
{
	if (!vlapic_sw_enabled(l))
		return 0;
	int v = highest(l, APIC_REG_IRR);
	if (v < 0 || vlapic_pending_vector(l) >= 0)
		return 0; /* nothing waits, or it is deliverable already */
	/* Blocked by the TPR: deliverable once the TPR's class drops below
	 * the vector's. (Blocked by a higher vector in service instead: that
	 * vector's EOI exits anyway.) */
	uint8_t vclass = (uint8_t)((unsigned)v >> 4), tclass = (uint8_t)(vlapic_tpr(l) >> 4);
	return vclass <= tclass ? vclass : 0;
}

int vlapic_ack(struct vlapic *l)
{
	int v = vlapic_pending_vector(l);
	if (v < 0)
		return -1;
	bit_clear(l, APIC_REG_IRR, (unsigned)v);
	bit_set(l, APIC_REG_ISR, (unsigned)v);
	return v;
}

bool vlapic_accepts_pic(const struct vlapic *l)
{
	if (!vlapic_hw_enabled(l))
		return true; /* INTR goes to the core directly */
	uint32_t lint0 = *reg(l, APIC_REG_LVT_LINT0);
	return !(lint0 & APIC_LVT_MASKED) && ((lint0 >> APIC_DM_SHIFT) & 7) == APIC_DM_EXTINT;
}

/* nmi_pending moves by compare-and-swap: senders on other CPUs add to it
 * without the target's VMCS, the target takes from it. */
static void nmi_pending_update(struct vlapic *l, uint32_t (*next)(uint32_t))
{
	uint32_t old = __atomic_load_n(&l->nmi_pending, __ATOMIC_SEQ_CST);
	while (!__atomic_compare_exchange_n(&l->nmi_pending, &old, next(old), false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST))
		;
}
static uint32_t nmi_add(uint32_t n) { return n < 2 ? n + 1 : 2; }
static uint32_t nmi_sub(uint32_t n) { return n ? n - 1 : 0; }
static uint32_t nmi_one(uint32_t n) { return n > 1 ? 1 : n; }

bool vlapic_take_nmi(struct vlapic *l)
{
	if (!__atomic_load_n(&l->nmi_pending, __ATOMIC_SEQ_CST))
		return false;
	nmi_pending_update(l, nmi_sub);
	return true;
}

void vlapic_limit_nmi_to_one(struct vlapic *l) { nmi_pending_update(l, nmi_one); }

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
		bit_set(l, APIC_REG_TMR, vector);
	else
		bit_clear(l, APIC_REG_TMR, vector);
	/* A request already pending has had its kick: whoever set it woke
	 * the vCPU or made it exit, and its next entry sees the bit. A
	 * flood of one vector from another vCPU then costs the target one
	 * exit, not one per message. */
	if (!bit_set(l, APIC_REG_IRR, vector))
		kick(l);
}

static void raise_error(struct vlapic *l, uint32_t bit)
{
	l->esr_pending |= bit;
	uint32_t lvt = *reg(l, APIC_REG_LVT_ERROR);
	/* The error interrupt's own vector is checked to avoid recursion. */
	if (!(lvt & APIC_LVT_MASKED) && (lvt & 0xff) >= 16)
		vlapic_set_irr(l, lvt & 0xff, false);
}

/* The EOI of vector v reaches the I/O APIC if v was accepted as
 * level-triggered (its remote IRR waits for it). */
static void eoi_notify(struct vlapic *l, int v)
{
	if (bit_test(l, APIC_REG_TMR, (unsigned)v) && l->bus && l->bus->ops && l->bus->ops->eoi_level)
		l->bus->ops->eoi_level(l->bus->ctx, (uint8_t)v);
}

static void eoi(struct vlapic *l)
{
	int v = highest(l, APIC_REG_ISR);
	if (v < 0)
		return;
	bit_clear(l, APIC_REG_ISR, (unsigned)v);
	eoi_notify(l, v);
}

void vlapic_eoi_done(struct vlapic *l, uint8_t vector) { eoi_notify(l, vector); }

void vlapic_eoi_exit_bitmap(const struct vlapic *l, uint64_t bitmap[4])
{
	for (unsigned i = 0; i < 4; i++)
		bitmap[i] = __atomic_load_n(word256(l, APIC_REG_TMR, 2 * i), __ATOMIC_SEQ_CST) |
			    (uint64_t)__atomic_load_n(word256(l, APIC_REG_TMR, 2 * i + 1), __ATOMIC_SEQ_CST) << 32;
}

/* --- the APIC bus ---------------------------------------------------------- */

/* A destination in x2APIC mode (SDM 10.12.9, 10.12.10.2): all ones is a
 * broadcast; physical: the 32-bit x2APIC ID; logical: cluster in bits
 * 31:16, member bits in 15:0, matched against the derived LDR. An 8-bit
 * xAPIC-format destination (the I/O APIC's, or an xAPIC sender's) reaches
 * an x2APIC with 0xFF as broadcast and otherwise as the same number. */
static bool dest_matches_x2apic(const struct vlapic *a, const struct vlapic_msg *m)
{
	uint32_t bcast = m->x2apic_dest ? 0xffffffffu : 0xffu;
	if (m->dest == bcast)
		return true;
	if (!m->logical)
		return m->dest == apic_id(a);
	uint32_t ldr = *reg(a, APIC_REG_LDR);
	return (m->dest >> 16) == (ldr >> 16) && (m->dest & ldr & 0xffff);
}

static bool dest_matches(const struct vlapic *a, const struct vlapic_msg *m)
{
	if (vlapic_x2apic_mode(a))
		return dest_matches_x2apic(a, m);
	/* An xAPIC target of an x2APIC-format message (a guest with APICs in
	 * both modes): its broadcast is all ones, other destinations above
	 * 8 bits name nobody here. */
	if (m->x2apic_dest && m->dest == 0xffffffffu)
		return true;
	if (m->dest > 0xff)
		return false;
	if (!m->logical)
		return m->dest == 0xff || m->dest == apic_id(a);
	if (m->dest == 0xff)
		return true;
	uint8_t ldr = *reg(a, APIC_REG_LDR) >> 24;
	if ((*reg(a, APIC_REG_DFR) >> 28) == 0xf) /* flat model: one bit per APIC */
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
		nmi_pending_update(a, nmi_add);
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
	unsigned n = 0, matched = 0;
	struct vlapic *lowest = NULL;
	for (unsigned i = 0; i < bus->nr; i++) {
		struct vlapic *a = bus->apic[i];
		if (!a || !targets(a, src, m))
			continue;
		matched++;
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
	/* Only a message no APIC's destination matched: one refused by its
	 * target (an INIT to the boot vCPU) did reach an APIC. */
	if (!matched)
		bus->undeliverable++;
	return n;
}

uint32_t vlapic_icr_dest(const struct vlapic *l)
{
	return vlapic_x2apic_mode(l) ? *reg(l, APIC_REG_ICR_DEST_X2) : *reg(l, APIC_REG_ICR_HI) >> 24;
}

static void send_ipi(struct vlapic *l)
{
	uint32_t lo = *reg(l, APIC_REG_ICR_LO);
	struct vlapic_msg m = {
		.vector = lo & 0xff,
		.delivery = (lo >> APIC_DM_SHIFT) & 7,
		.logical = lo & APIC_ICR_DEST_LOGICAL,
		.assert = lo & APIC_ICR_LEVEL_ASSERT,
		.level = lo & APIC_ICR_TRIGGER_LEVEL,
		.shorthand = (lo >> APIC_ICR_SHORTHAND_SHIFT) & 3,
		.dest = vlapic_icr_dest(l),
		.x2apic_dest = vlapic_x2apic_mode(l),
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
	uint32_t dcr = *reg(l, APIC_REG_TIMER_DCR);
	unsigned v = (dcr & 3) | ((dcr >> 1) & 4);
	return v == 7 ? 1 : 2ULL << v;
}

static bool timer_periodic(const struct vlapic *l) { return *reg(l, APIC_REG_LVT_TIMER) & APIC_LVT_TIMER_PERIODIC; }
static uint32_t timer_icr(const struct vlapic *l) { return *reg(l, APIC_REG_TIMER_ICR); }

static uint64_t bus_hz(const struct vlapic *l)
{
	return l->bus && l->bus->timer_hz ? l->bus->timer_hz : VLAPIC_BUS_HZ;
}

static uint64_t timer_period_ns(const struct vlapic *l)
{
	/* At most 2^32 x 128 ticks, whose nanoseconds before the division
	 * may need 128 bits; the counts an OS programs (Linux's one-shot
	 * tick at every tick) fit in 64, and a 64-bit division is a single
	 * instruction where the 128-bit one is a library call. */
	uint64_t ticks = (uint64_t)timer_icr(l) * timer_divisor(l);
	uint64_t p = ticks <= UINT64_MAX / 1000000000u
			     ? ticks * 1000000000u / bus_hz(l)
			     : (uint64_t)((unsigned __int128)ticks * 1000000000u / bus_hz(l));
	if (timer_periodic(l) && p < VLAPIC_MIN_PERIOD_NS)
		p = VLAPIC_MIN_PERIOD_NS;
	return p;
}

static void timer_start(struct vlapic *l)
{
	if (!timer_icr(l)) {
		l->timer_deadline_ns = NO_DEADLINE;
		return;
	}
	l->timer_start_ns = now(l);
	l->timer_deadline_ns = l->timer_start_ns + timer_period_ns(l);
}

static uint32_t timer_current_count(const struct vlapic *l)
{
	if (l->timer_deadline_ns == NO_DEADLINE || !timer_icr(l))
		return 0;
	uint64_t t = now(l), period = timer_period_ns(l);
	uint64_t elapsed = t > l->timer_start_ns ? t - l->timer_start_ns : 0;
	if (timer_periodic(l))
		elapsed %= period;
	else if (elapsed >= period)
		return 0;
	uint64_t left = (uint64_t)((unsigned __int128)(period - elapsed) * bus_hz(l) / 1000000000u / timer_divisor(l));
	return left > timer_icr(l) ? timer_icr(l) : (uint32_t)left;
}

void vlapic_update(struct vlapic *l)
{
	if (l->timer_deadline_ns == NO_DEADLINE)
		return;
	uint64_t t = now(l);
	if (t < l->timer_deadline_ns)
		return;
	l->timer_fires++;
	uint32_t lvt = *reg(l, APIC_REG_LVT_TIMER);
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

/* Registers software may read (SDM table 10-1); the rest raise an error. */
static bool readable(uint32_t off)
{
	if (off >= APIC_REG_ISR && off < APIC_REG_IRR + 0x80)
		return true; /* ISR, TMR, IRR */
	if (off >= APIC_REG_LVT_TIMER && off <= APIC_REG_TIMER_CCR)
		return true; /* LVT entries, initial and current count */
	switch (off) {
	case APIC_REG_ID: case APIC_REG_VERSION: case APIC_REG_TPR: case APIC_REG_APR: case APIC_REG_PPR:
	case APIC_REG_EOI: case APIC_REG_RRD: case APIC_REG_LDR: case APIC_REG_DFR: case APIC_REG_SVR:
	case APIC_REG_ESR: case APIC_REG_ICR_LO: case APIC_REG_ICR_HI: case APIC_REG_TIMER_DCR:
		return true;
	default:
		return false;
	}
}

static uint32_t reg_read(struct vlapic *l, uint32_t off)
{
	if (!readable(off)) {
		l->bad_accesses++;
		raise_error(l, APIC_ESR_ILLEGAL_REGISTER);
		return 0;
	}
	switch (off) {
	case APIC_REG_PPR:
		return vlapic_ppr(l); /* computed: the page's copy may be stale without virtual-interrupt delivery */
	case APIC_REG_APR:
	case APIC_REG_EOI:
	case APIC_REG_RRD:
		return 0;
	case APIC_REG_TIMER_CCR:
		return timer_current_count(l);
	default:
		return __atomic_load_n(reg(l, off), __ATOMIC_SEQ_CST);
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

/* A write of val to the register at off. (With APIC-register
 * virtualization the CPU has already stored val in the page, unchecked:
 * every case below stores what the register really holds.) */
static void reg_write(struct vlapic *l, uint32_t off, uint32_t val)
{
	if (off >= APIC_REG_LVT_TIMER && off <= APIC_REG_LVT_ERROR) {
		unsigned i = (off - APIC_REG_LVT_TIMER) >> 4;
		uint32_t v = val & lvt_writable[i];
		/* A software-disabled APIC keeps every LVT masked (SDM 10.4.7.2). */
		if (!(*reg(l, APIC_REG_SVR) & APIC_SVR_ENABLE))
			v |= APIC_LVT_MASKED;
		*reg(l, off) = v;
		return;
	}
	switch (off) {
	case APIC_REG_ID:
		*reg(l, off) = val & 0xff000000u;
		return;
	case APIC_REG_TPR:
		*reg(l, off) = val & 0xff;
		return;
	case APIC_REG_EOI:
		*reg(l, off) = 0;
		eoi(l);
		return;
	case APIC_REG_LDR:
		*reg(l, off) = val & 0xff000000u;
		return;
	case APIC_REG_DFR:
		*reg(l, off) = val | 0x0fffffffu;
		return;
	case APIC_REG_SVR:
		*reg(l, off) = val & 0x3ff;
		if (!(val & APIC_SVR_ENABLE))
			for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
				*reg(l, APIC_REG_LVT_TIMER + 16 * i) |= APIC_LVT_MASKED;
		return;
	case APIC_REG_ESR:
		/* A write latches the errors seen since the previous write. */
		*reg(l, off) = l->esr_pending;
		l->esr_pending = 0;
		return;
	case APIC_REG_ICR_HI:
		*reg(l, off) = val & 0xff000000u;
		return;
	case APIC_REG_ICR_LO:
		*reg(l, off) = val & 0x000ccfffu;
		send_ipi(l);
		return;
	case APIC_REG_TIMER_ICR:
		*reg(l, off) = val;
		timer_start(l);
		return;
	case APIC_REG_TIMER_DCR:
		*reg(l, off) = val & 0xb;
		return;
	case APIC_REG_VERSION:
	case APIC_REG_PPR:
	case APIC_REG_APR:
	case APIC_REG_RRD:
	case APIC_REG_TIMER_CCR:
		return; /* read-only */
	default:
		if (off >= APIC_REG_ISR && off < APIC_REG_IRR + 0x80)
			return; /* ISR, TMR, IRR are read-only */
		l->bad_accesses++;
		raise_error(l, APIC_ESR_ILLEGAL_REGISTER);
		return;
	}
}

void vlapic_apic_write(struct vlapic *l, uint32_t offset)
{
	offset &= (VLAPIC_MMIO_SIZE - 1) & ~15u;
	reg_write(l, offset, __atomic_load_n(reg(l, offset), __ATOMIC_SEQ_CST));
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

/* --- x2APIC MSRs (SDM 10.12.1.2, table 10-6) --------------------------------- */

/* The registers x2APIC mode has, by page offset; everything else in
 * 0x800-0x8FF (APR, RRD, DFR, ICR2, LVT CMCI, which Keel's 6-entry APIC
 * lacks, and the reserved slots) raises #GP either way. */
static bool x2apic_readable(uint32_t off)
{
	if (off >= APIC_REG_ISR && off < APIC_REG_IRR + 0x80)
		return true; /* ISR, TMR, IRR */
	if (off >= APIC_REG_LVT_TIMER && off <= APIC_REG_TIMER_CCR)
		return true; /* LVT entries, initial and current count */
	switch (off) {
	case APIC_REG_ID: case APIC_REG_VERSION: case APIC_REG_TPR: case APIC_REG_PPR: case APIC_REG_LDR:
	case APIC_REG_SVR: case APIC_REG_ESR: case APIC_REG_ICR_LO: case APIC_REG_TIMER_DCR:
		return true;
	default:
		return false;
	}
}

int vlapic_x2apic_read(struct vlapic *l, uint32_t msr, uint64_t *val)
{
	uint32_t off = vlapic_x2apic_offset(msr);
	if (!vlapic_x2apic_mode(l) || msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_END || !x2apic_readable(off))
		return -1; /* EOI and SELF IPI are write-only */
	if (off == APIC_REG_ICR_LO) {
		*val = *reg(l, APIC_REG_ICR_LO) | (uint64_t)*reg(l, APIC_REG_ICR_DEST_X2) << 32;
		return 0;
	}
	*val = reg_read(l, off);
	return 0;
}

int vlapic_x2apic_write(struct vlapic *l, uint32_t msr, uint64_t val)
{
	uint32_t off = vlapic_x2apic_offset(msr);
	if (!vlapic_x2apic_mode(l) || msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_END)
		return -1;
	if (msr == X2APIC_MSR_ICR) {
		/* One 64-bit write: destination in 63:32; no delivery-status
		 * bit (12) in x2APIC mode. */
		*reg(l, APIC_REG_ICR_DEST_X2) = (uint32_t)(val >> 32);
		*reg(l, APIC_REG_ICR_LO) = (uint32_t)val & 0x000ccfffu;
		send_ipi(l);
		return 0;
	}
	if (val >> 32)
		return -1; /* every other register is 32 bits */
	switch (off) {
	case APIC_REG_TPR:
		if (val & ~0xffULL)
			return -1;
		break;
	case APIC_REG_EOI:
	case APIC_REG_ESR:
		if (val)
			return -1; /* "a write of a non-zero value causes #GP" */
		break;
	case APIC_REG_SELF_IPI: {
		/* SELF IPI: a fixed, edge-triggered IPI to this APIC. */
		if (val & ~0xffULL)
			return -1;
		uint8_t vec = (uint8_t)val;
		if (vec < 16) {
			raise_error(l, APIC_ESR_SEND_ILLEGAL_VECTOR);
			return 0;
		}
		l->ipis_sent++;
		vlapic_set_irr(l, vec, false);
		return 0;
	}
	case APIC_REG_SVR:
	case APIC_REG_TIMER_ICR:
	case APIC_REG_TIMER_DCR:
		break;
	default:
		if (off >= APIC_REG_LVT_TIMER && off <= APIC_REG_LVT_ERROR)
			break;
		return -1; /* read-only (ID, version, PPR, LDR, ISR, TMR, IRR, current count) or absent */
	}
	reg_write(l, off, (uint32_t)val);
	return 0;
}
