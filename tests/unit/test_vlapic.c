/* Local APIC model: registers, priorities, IPIs (fixed, INIT, start-up,
 * shorthands, logical destinations), EOI and the timer. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <keel/vlapic.h>

#include "fakes.h"

struct platform {
	int inits[VLAPIC_MAX], starts[VLAPIC_MAX], kicks[VLAPIC_MAX];
	int start_vector[VLAPIC_MAX];
	int eois, eoi_vector;
	bool refuse_bsp_init;
};

static bool p_init(void *ctx, unsigned i)
{
	struct platform *p = ctx;
	if (i == 0 && p->refuse_bsp_init)
		return false;
	p->inits[i]++;
	return true;
}
static void p_start(void *ctx, unsigned i, uint8_t v)
{
	struct platform *p = ctx;
	p->starts[i]++;
	p->start_vector[i] = v;
}
static void p_kick(void *ctx, unsigned i) { ((struct platform *)ctx)->kicks[i]++; }
static void p_eoi(void *ctx, uint8_t v)
{
	struct platform *p = ctx;
	p->eois++;
	p->eoi_vector = v;
}
static const struct vlapic_bus_ops ops = { p_init, p_start, p_kick, p_eoi };

static struct fake_clock clk;
static struct platform plat;
static struct vlapic_bus bus;
static struct vlapic lapic[4];
static uint32_t pages[4][1024];

static void setup(unsigned n)
{
	fake_clock_init(&clk);
	memset(&plat, 0, sizeof(plat));
	vlapic_bus_init(&bus, &ops, &plat);
	for (unsigned i = 0; i < n; i++)
		vlapic_init(&lapic[i], &bus, i, &clk.vc, pages[i]);
}

static uint32_t rd(struct vlapic *l, uint32_t r) { return (uint32_t)vlapic_mmio_read(l, r, 4); }
static void wr(struct vlapic *l, uint32_t r, uint32_t v) { vlapic_mmio_write(l, r, 4, v); }
static void sw_enable(struct vlapic *l) { wr(l, APIC_REG_SVR, 0x1ff); }

static void test_reset_state(void **state)
{
	setup(2);
	assert_int_equal(rd(&lapic[0], APIC_REG_ID), 0);
	assert_int_equal(rd(&lapic[1], APIC_REG_ID), 1u << 24);
	assert_int_equal(rd(&lapic[0], APIC_REG_VERSION), VLAPIC_VERSION);
	assert_int_equal((rd(&lapic[0], APIC_REG_VERSION) >> 16) & 0xff, VLAPIC_NR_LVT - 1);
	assert_int_equal(rd(&lapic[0], APIC_REG_SVR), 0xff);
	assert_int_equal(rd(&lapic[0], APIC_REG_DFR), 0xffffffffu);
	/* BSP flag and enable bit in the base MSR; only vCPU 0 is the BSP. */
	assert_int_equal(vlapic_base_msr(&lapic[0]), 0xfee00000ULL | VLAPIC_BASE_ENABLE | VLAPIC_BASE_BSP);
	assert_int_equal(vlapic_base_msr(&lapic[1]), 0xfee00000ULL | VLAPIC_BASE_ENABLE);
	/* Virtual wire: the BSP takes 8259A interrupts through LINT0, an AP not. */
	assert_int_equal(rd(&lapic[0], APIC_REG_LVT_LINT0), 0x700);
	assert_true(vlapic_accepts_pic(&lapic[0]));
	assert_int_equal(rd(&lapic[1], APIC_REG_LVT_LINT0), APIC_LVT_MASKED);
	assert_false(vlapic_accepts_pic(&lapic[1]));
	assert_int_equal(rd(&lapic[1], APIC_REG_LVT_TIMER), APIC_LVT_MASKED);
	/* Byte reads see parts of a register; bytes 4-15 of a slot read 0. */
	assert_int_equal(vlapic_mmio_read(&lapic[1], APIC_REG_ID + 3, 1), 1);
	assert_int_equal(vlapic_mmio_read(&lapic[1], APIC_REG_ID + 4, 4), 0);
}

static void test_priority_and_eoi(void **state)
{
	setup(1);
	struct vlapic *l = &lapic[0];
	vlapic_set_irr(l, 0x41, false);
	assert_int_equal(vlapic_pending_vector(l), -1); /* software disabled */
	sw_enable(l);
	vlapic_set_irr(l, 0x31, false);
	assert_int_equal(vlapic_pending_vector(l), 0x41);
	assert_int_equal(rd(l, APIC_REG_IRR + 0x20), 1u << 1); /* vector 0x41: IRR word 2, bit 1 */
	/* TPR class 4 blocks vectors 0x40-0x4f and below. */
	wr(l, APIC_REG_TPR, 0x40);
	assert_int_equal(vlapic_pending_vector(l), -1);
	wr(l, APIC_REG_TPR, 0x30);
	assert_int_equal(vlapic_ack(l), 0x41);
	assert_int_equal(rd(l, APIC_REG_ISR + 0x20), 1u << 1);
	assert_int_equal(rd(l, APIC_REG_PPR), 0x40);
	/* 0x31 is below the in-service class: waits for the EOI. */
	assert_int_equal(vlapic_pending_vector(l), -1);
	vlapic_set_irr(l, 0x55, false);
	assert_int_equal(vlapic_ack(l), 0x55); /* nests above 0x41 */
	wr(l, APIC_REG_EOI, 0);
	assert_int_equal(rd(l, APIC_REG_ISR + 0x20), 1u << 1);
	wr(l, APIC_REG_EOI, 0);
	wr(l, APIC_REG_TPR, 0);
	assert_int_equal(vlapic_ack(l), 0x31);
	wr(l, APIC_REG_EOI, 0);
	assert_int_equal(plat.eois, 0); /* edge vectors do not go back to the I/O APIC */
	vlapic_set_irr(l, 0x60, true);
	assert_int_equal(vlapic_ack(l), 0x60);
	wr(l, APIC_REG_EOI, 0);
	assert_int_equal(plat.eois, 1);
	assert_int_equal(plat.eoi_vector, 0x60);
	/* Vectors 0-15 are illegal: ESR bit 6 after the next ESR write. */
	vlapic_set_irr(l, 5, false);
	assert_int_equal(vlapic_pending_vector(l), -1);
	wr(l, APIC_REG_ESR, 0);
	assert_int_equal(rd(l, APIC_REG_ESR), APIC_ESR_RECV_ILLEGAL_VECTOR);
}

static void test_software_disable_masks_lvts(void **state)
{
	setup(2);
	struct vlapic *l = &lapic[1];
	wr(l, APIC_REG_LVT_LINT0, 0x700);
	assert_int_equal(rd(l, APIC_REG_LVT_LINT0), 0x700 | APIC_LVT_MASKED); /* still disabled */
	sw_enable(l);
	wr(l, APIC_REG_LVT_LINT0, 0x700);
	assert_int_equal(rd(l, APIC_REG_LVT_LINT0), 0x700);
	assert_true(vlapic_accepts_pic(l));
	wr(l, APIC_REG_SVR, 0xff);
	assert_true(rd(l, APIC_REG_LVT_LINT0) & APIC_LVT_MASKED);
	/* Read-only status bits stay the APIC's. */
	wr(l, APIC_REG_VERSION, 0);
	assert_int_equal(rd(l, APIC_REG_VERSION), VLAPIC_VERSION);
}

static void send(struct vlapic *l, uint8_t dest, uint32_t lo)
{
	wr(l, APIC_REG_ICR_HI, (uint32_t)dest << 24);
	wr(l, APIC_REG_ICR_LO, lo);
}

static void test_init_sipi(void **state)
{
	setup(4);
	/* INIT (assert), INIT de-assert (no effect), SIPI, SIPI to APIC 2. */
	wr(&lapic[2], APIC_REG_TPR, 0x20);
	send(&lapic[0], 2, (APIC_DM_INIT << 8) | APIC_ICR_LEVEL_ASSERT | APIC_ICR_TRIGGER_LEVEL);
	assert_int_equal(plat.inits[2], 1);
	assert_int_equal(rd(&lapic[2], APIC_REG_TPR), 0); /* registers reset */
	assert_int_equal(rd(&lapic[2], APIC_REG_ID), 2u << 24); /* ... but not the ID */
	send(&lapic[0], 2, (APIC_DM_INIT << 8) | APIC_ICR_TRIGGER_LEVEL);
	assert_int_equal(plat.inits[2], 1);
	send(&lapic[0], 2, (APIC_DM_STARTUP << 8) | 0x9a);
	assert_int_equal(plat.starts[2], 1);
	assert_int_equal(plat.start_vector[2], 0x9a);
	assert_int_equal(plat.starts[1] + plat.starts[3] + plat.starts[0], 0);
	assert_false(rd(&lapic[0], APIC_REG_ICR_LO) & APIC_ICR_BUSY);
	/* All-excluding-self: every AP, not the sender. */
	send(&lapic[0], 0, (APIC_SH_OTHERS << 18) | (APIC_DM_STARTUP << 8) | 0x10);
	assert_int_equal(plat.starts[0], 0);
	assert_int_equal(plat.starts[1] + plat.starts[2] + plat.starts[3], 4);
	/* INIT to the BSP, refused by the platform, leaves its APIC alone. */
	plat.refuse_bsp_init = true;
	wr(&lapic[0], APIC_REG_TPR, 0x20);
	send(&lapic[1], 0, (APIC_DM_INIT << 8) | APIC_ICR_LEVEL_ASSERT);
	assert_int_equal(rd(&lapic[0], APIC_REG_TPR), 0x20);
	assert_int_equal(plat.inits[0], 0);
	/* Refused, but it reached an APIC: not "undeliverable". */
	assert_int_equal(bus.undeliverable, 0);
}

static void test_fixed_ipis_and_destinations(void **state)
{
	setup(4);
	for (int i = 0; i < 4; i++)
		sw_enable(&lapic[i]);
	/* Physical destination. */
	send(&lapic[0], 3, 0x50);
	assert_int_equal(vlapic_pending_vector(&lapic[3]), 0x50);
	assert_int_equal(plat.kicks[3], 1);
	/* The same vector again while it is pending: no new kick (the first
	 * one's exit sees it); once taken, the next request kicks again. */
	send(&lapic[0], 3, 0x50);
	assert_int_equal(plat.kicks[3], 1);
	assert_int_equal(vlapic_ack(&lapic[3]), 0x50);
	send(&lapic[0], 3, 0x50);
	assert_int_equal(plat.kicks[3], 2);
	vlapic_ack(&lapic[3]);
	vlapic_mmio_write(&lapic[3], APIC_REG_EOI, 4, 0);
	vlapic_mmio_write(&lapic[3], APIC_REG_EOI, 4, 0);
	assert_int_equal(vlapic_pending_vector(&lapic[1]), -1);
	/* Self. */
	send(&lapic[1], 0, (APIC_SH_SELF << 18) | 0x51);
	assert_int_equal(vlapic_pending_vector(&lapic[1]), 0x51);
	/* All including self. */
	send(&lapic[2], 0, (APIC_SH_ALL << 18) | 0x52);
	for (int i = 0; i < 4; i++)
		assert_int_equal(vlapic_pending_vector(&lapic[i]), 0x52);
	/* Logical flat: LDR bit per CPU; destination 0x0a = CPUs 1 and 3. */
	for (int i = 0; i < 4; i++)
		wr(&lapic[i], APIC_REG_LDR, (1u << i) << 24);
	send(&lapic[0], 0x0a, APIC_ICR_DEST_LOGICAL | 0x70);
	assert_int_equal(vlapic_pending_vector(&lapic[1]), 0x70);
	assert_int_equal(vlapic_pending_vector(&lapic[3]), 0x70);
	assert_int_equal(vlapic_pending_vector(&lapic[2]), 0x52);
	/* Logical cluster: cluster 1, members 0x3 = the APICs with LDR 0x11, 0x12. */
	for (int i = 0; i < 4; i++) {
		wr(&lapic[i], APIC_REG_DFR, 0x0fffffff);
		wr(&lapic[i], APIC_REG_LDR, (uint32_t)((i < 2 ? 0x10 : 0x20) | (1u << (i & 1))) << 24);
	}
	send(&lapic[0], 0x13, APIC_ICR_DEST_LOGICAL | 0x80);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), 0x80);
	assert_int_equal(vlapic_pending_vector(&lapic[1]), 0x80);
	assert_int_equal(vlapic_pending_vector(&lapic[2]), 0x52);
	/* Physical broadcast 0xFF. */
	send(&lapic[0], 0xff, 0x90);
	for (int i = 0; i < 4; i++)
		assert_int_equal(vlapic_pending_vector(&lapic[i]), 0x90);
	/* Nobody there: counted. */
	send(&lapic[0], 7, 0x91);
	assert_int_equal(bus.undeliverable, 1);
	/* Illegal vector: the sender's ESR, nothing sent. */
	send(&lapic[0], 1, 0x05);
	wr(&lapic[0], APIC_REG_ESR, 0);
	assert_int_equal(rd(&lapic[0], APIC_REG_ESR), APIC_ESR_SEND_ILLEGAL_VECTOR);
	/* NMI. */
	send(&lapic[0], 2, APIC_DM_NMI << 8);
	assert_true(vlapic_take_nmi(&lapic[2]));
	assert_false(vlapic_take_nmi(&lapic[2]));
	/* Two NMIs before the vCPU ran: both kept; a third merges. */
	for (int i = 0; i < 3; i++)
		send(&lapic[i == 1 ? 1 : 0], 2, APIC_DM_NMI << 8);
	assert_true(vlapic_take_nmi(&lapic[2]));
	assert_true(vlapic_take_nmi(&lapic[2]));
	assert_false(vlapic_take_nmi(&lapic[2]));
	/* Inside its NMI handler a CPU latches only one. */
	send(&lapic[0], 2, APIC_DM_NMI << 8);
	send(&lapic[1], 2, APIC_DM_NMI << 8);
	vlapic_limit_nmi_to_one(&lapic[2]);
	assert_true(vlapic_take_nmi(&lapic[2]));
	assert_false(vlapic_take_nmi(&lapic[2]));
}

static void test_lowest_priority(void **state)
{
	setup(3);
	for (int i = 0; i < 3; i++) {
		sw_enable(&lapic[i]);
		wr(&lapic[i], APIC_REG_LDR, 0x01000000);
		wr(&lapic[i], APIC_REG_TPR, 0x30);
	}
	wr(&lapic[2], APIC_REG_TPR, 0x10);
	send(&lapic[0], 0x01, APIC_ICR_DEST_LOGICAL | (APIC_DM_LOWEST << 8) | 0x44);
	assert_int_equal(vlapic_pending_vector(&lapic[2]), 0x44);
	assert_int_equal(rd(&lapic[0], APIC_REG_IRR + 0x20) | rd(&lapic[1], APIC_REG_IRR + 0x20), 0);
}

static void test_timer(void **state)
{
	setup(1);
	struct vlapic *l = &lapic[0];
	sw_enable(l);
	/* One-shot, divide by 16 (DCR 3): 1000 ticks = 16 us at the 1 GHz bus. */
	wr(l, APIC_REG_TIMER_DCR, 3);
	wr(l, APIC_REG_LVT_TIMER, 0xe0);
	wr(l, APIC_REG_TIMER_ICR, 1000);
	uint64_t t0 = clk.ns;
	assert_int_equal(vlapic_next_deadline_ns(l), t0 + 16000);
	assert_int_equal(rd(l, APIC_REG_TIMER_CCR), 1000);
	clk.ns += 8000;
	assert_int_equal(rd(l, APIC_REG_TIMER_CCR), 500);
	vlapic_update(l);
	assert_int_equal(vlapic_pending_vector(l), -1);
	clk.ns += 8000;
	vlapic_update(l);
	assert_int_equal(vlapic_pending_vector(l), 0xe0);
	assert_int_equal(vlapic_next_deadline_ns(l), NO_DEADLINE);
	assert_int_equal(rd(l, APIC_REG_TIMER_CCR), 0);
	assert_int_equal(vlapic_ack(l), 0xe0);
	wr(l, APIC_REG_EOI, 0);
	/* Periodic, divide by 1 (DCR 0xB): 100000 ticks = 100 us. */
	wr(l, APIC_REG_TIMER_DCR, 0xb);
	wr(l, APIC_REG_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | 0xe1);
	wr(l, APIC_REG_TIMER_ICR, 100000);
	t0 = clk.ns;
	clk.ns += 100000;
	vlapic_update(l);
	assert_int_equal(vlapic_ack(l), 0xe1);
	wr(l, APIC_REG_EOI, 0);
	assert_int_equal(vlapic_next_deadline_ns(l), t0 + 200000);
	/* Three periods missed while descheduled: one interrupt, next deadline
	 * on the period grid after now. */
	clk.ns = t0 + 450000;
	vlapic_update(l);
	assert_int_equal(l->timer_fires, 3); /* the one-shot, then two periodic */
	assert_int_equal(vlapic_next_deadline_ns(l), t0 + 500000);
	assert_int_equal(rd(l, APIC_REG_TIMER_CCR), 50000);
	/* Masked: counts, no interrupt. */
	assert_int_equal(vlapic_ack(l), 0xe1);
	wr(l, APIC_REG_EOI, 0);
	wr(l, APIC_REG_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | APIC_LVT_MASKED | 0xe1);
	clk.ns = t0 + 500000;
	vlapic_update(l);
	assert_int_equal(vlapic_pending_vector(l), -1);
	/* A tiny periodic count is clamped. */
	wr(l, APIC_REG_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | 0xe1);
	wr(l, APIC_REG_TIMER_ICR, 1);
	assert_int_equal(vlapic_next_deadline_ns(l), clk.ns + VLAPIC_MIN_PERIOD_NS);
	/* Initial count 0 stops it. */
	wr(l, APIC_REG_TIMER_ICR, 0);
	assert_int_equal(vlapic_next_deadline_ns(l), NO_DEADLINE);
}

/* The bus clock is the guest's CPUID 0x15 crystal: at 50 MHz (Bochs's TSC)
 * a tick is 20 ns, and the current count follows. */
static void test_timer_bus_clock(void **state)
{
	setup(1);
	bus.timer_hz = 50000000;
	struct vlapic *l = &lapic[0];
	sw_enable(l);
	wr(l, APIC_REG_TIMER_DCR, 0xb); /* divide by 1 */
	wr(l, APIC_REG_LVT_TIMER, 0xe0);
	wr(l, APIC_REG_TIMER_ICR, 200000); /* 4 ms: Linux's period for HZ=250 */
	uint64_t t0 = clk.ns;
	assert_int_equal(vlapic_next_deadline_ns(l), t0 + 4000000);
	clk.ns += 1000000;
	assert_int_equal(rd(l, APIC_REG_TIMER_CCR), 150000);
	/* The largest count and divisor: 2^32 x 128 ticks, no overflow. */
	wr(l, APIC_REG_TIMER_DCR, 0xa); /* divide by 128 */
	wr(l, APIC_REG_TIMER_ICR, 0xffffffffu);
	assert_int_equal(vlapic_next_deadline_ns(l) - clk.ns, 0xffffffffULL * 128 * 20);
	assert_int_equal(rd(l, APIC_REG_TIMER_CCR), 0xffffffffu);
}

static void test_base_msr(void **state)
{
	setup(2);
	struct vlapic *l = &lapic[1];
	assert_int_equal(vlapic_set_base_msr(l, 0xfee00000ULL | VLAPIC_BASE_ENABLE, 36), 0);
	/* x2APIC and reserved bits: #GP. */
	assert_int_equal(vlapic_set_base_msr(l, 0xfee00000ULL | VLAPIC_BASE_ENABLE | VLAPIC_BASE_EXTD, 36), -1);
	assert_int_equal(vlapic_set_base_msr(l, 0xfee00000ULL | VLAPIC_BASE_ENABLE | 1, 36), -1);
	/* Address bits at or above MAXPHYADDR are reserved; below it they
	 * only ask to move the page. */
	assert_int_equal(vlapic_set_base_msr(l, (1ULL << 36) | 0xfee00000ULL | VLAPIC_BASE_ENABLE, 36), -1);
	assert_int_equal(vlapic_set_base_msr(l, (1ULL << 45) | 0xfee00000ULL | VLAPIC_BASE_ENABLE, 46), 1);
	assert_int_equal(vlapic_set_base_msr(l, (1ULL << 46) | 0xfee00000ULL | VLAPIC_BASE_ENABLE, 46), -1);
	assert_int_equal(vlapic_set_base_msr(l, 0x00008000ffffffffULL, 46), -1);
	assert_int_equal(vlapic_set_base_msr(l, (1ULL << 40) | 0xfee00000ULL | VLAPIC_BASE_ENABLE, 0), -1);
	/* Moving the page is refused; it stays at 0xFEE00000. */
	assert_int_equal(vlapic_set_base_msr(l, 0xfed00000ULL | VLAPIC_BASE_ENABLE, 36), 1);
	assert_int_equal(vlapic_base_msr(l) & ~0xfffULL, 0xfee00000ULL);
	/* The BSP flag is not the guest's to change. */
	assert_int_equal(vlapic_set_base_msr(l, 0xfee00000ULL | VLAPIC_BASE_ENABLE | VLAPIC_BASE_BSP, 36), 0);
	assert_false(vlapic_base_msr(l) & VLAPIC_BASE_BSP);
	/* Global disable: state lost, no interrupts, INTR goes to the core. */
	sw_enable(l);
	vlapic_set_irr(l, 0x40, false);
	assert_int_equal(vlapic_set_base_msr(l, 0xfee00000ULL, 36), 0);
	assert_false(vlapic_hw_enabled(l));
	assert_int_equal(vlapic_pending_vector(l), -1);
	assert_true(vlapic_accepts_pic(l));
	assert_int_equal(rd(l, APIC_REG_SVR), 0xff);
	/* A disabled APIC takes no IPIs. */
	send(&lapic[0], 1, 0x50);
	assert_int_equal(bus.undeliverable, 1);
}

static void test_bad_accesses(void **state)
{
	setup(1);
	struct vlapic *l = &lapic[0];
	/* Unaligned and narrow writes are dropped and counted. */
	vlapic_mmio_write(l, APIC_REG_TPR, 1, 0x50);
	vlapic_mmio_write(l, APIC_REG_TPR + 2, 4, 0x50);
	assert_int_equal(rd(l, APIC_REG_TPR), 0);
	assert_int_equal(l->bad_accesses, 2);
	/* A reserved register: ESR "illegal register address". */
	rd(l, 0x3f0);
	wr(l, APIC_REG_ESR, 0);
	assert_int_equal(rd(l, APIC_REG_ESR), APIC_ESR_ILLEGAL_REGISTER);
	wr(l, APIC_REG_ESR, 0);
	assert_int_equal(rd(l, APIC_REG_ESR), 0);
	/* 8-byte read: the register in the low half. */
	assert_int_equal(vlapic_mmio_read(l, APIC_REG_VERSION, 8), VLAPIC_VERSION);
}

/* The TPR threshold a TPR shadow needs: the class of the highest request
 * that only the TPR holds back, and never above the TPR's own class. */
/* The page is the state: registers at their MMIO offsets, as VMX's
 * virtual-APIC page has them, so the CPU and the model share them. */
static void test_register_page_layout(void **state)
{
	setup(1);
	struct vlapic *l = &lapic[0];
	sw_enable(l);
	assert_int_equal(pages[0][APIC_REG_VERSION / 4], VLAPIC_VERSION);
	assert_int_equal(pages[0][APIC_REG_SVR / 4], 0x1ff);
	vlapic_set_irr(l, 0x41, true);
	assert_int_equal(pages[0][(APIC_REG_IRR + 0x20) / 4], 1u << 1); /* vector 0x41: word 2, bit 1 */
	assert_int_equal(pages[0][(APIC_REG_TMR + 0x20) / 4], 1u << 1);
	assert_int_equal(vlapic_highest_irr(l), 0x41);
	assert_int_equal(vlapic_highest_isr(l), -1);
	assert_int_equal(vlapic_ack(l), 0x41);
	assert_int_equal(pages[0][(APIC_REG_ISR + 0x20) / 4], 1u << 1);
	assert_int_equal(vlapic_highest_isr(l), 0x41);
	/* The CPU writes the TPR (MOV CR8): the model sees it. */
	pages[0][APIC_REG_TPR / 4] = 0x70;
	assert_int_equal(vlapic_tpr(l), 0x70);
	assert_int_equal(vlapic_ppr(l), 0x70);
	/* What INIT resets is in the page too; the ID is kept. */
	pages[0][APIC_REG_ID / 4] = 5u << 24;
	vlapic_init_reset(l);
	assert_int_equal(pages[0][APIC_REG_ID / 4], 5u << 24);
	assert_int_equal(pages[0][APIC_REG_SVR / 4], 0xff);
	assert_int_equal(vlapic_highest_isr(l), -1);
}

/* APIC virtualization: the CPU stored the guest's value, unchecked; the
 * model completes the write (masks, side effects). */
static void test_apic_write_exit(void **state)
{
	setup(2);
	struct vlapic *l = &lapic[0];
	sw_enable(l);
	sw_enable(&lapic[1]);
	/* LVT: reserved and read-only bits dropped. */
	pages[0][APIC_REG_LVT_TIMER / 4] = 0xffffffffu;
	vlapic_apic_write(l, APIC_REG_LVT_TIMER);
	assert_int_equal(rd(l, APIC_REG_LVT_TIMER), 0x300ff);
	/* ICR: the IPI goes out (fixed, vector 0x50, to APIC 1). */
	pages[0][APIC_REG_ICR_HI / 4] = 1u << 24;
	pages[0][APIC_REG_ICR_LO / 4] = 0x50;
	vlapic_apic_write(l, APIC_REG_ICR_LO + 2); /* any byte of the register */
	assert_int_equal(vlapic_pending_vector(&lapic[1]), 0x50);
	assert_int_equal(plat.kicks[1], 1);
	/* Timer: the initial count starts it. */
	pages[0][APIC_REG_TIMER_DCR / 4] = 0xb;
	vlapic_apic_write(l, APIC_REG_TIMER_DCR);
	pages[0][APIC_REG_TIMER_ICR / 4] = 1000;
	vlapic_apic_write(l, APIC_REG_TIMER_ICR);
	assert_true(vlapic_next_deadline_ns(l) != NO_DEADLINE);
	/* ESR: a write latches the errors so far, whatever was written. */
	wr(l, 0x3f0, 1); /* an illegal register */
	pages[0][APIC_REG_ESR / 4] = 0xffffffffu;
	vlapic_apic_write(l, APIC_REG_ESR);
	assert_int_equal(rd(l, APIC_REG_ESR), APIC_ESR_ILLEGAL_REGISTER);
	/* SVR: disabling masks every LVT. */
	pages[0][APIC_REG_SVR / 4] = 0xff;
	vlapic_apic_write(l, APIC_REG_SVR);
	assert_true(rd(l, APIC_REG_LVT_TIMER) & APIC_LVT_MASKED);
}

/* Virtual-interrupt delivery: the CPU does the EOI; the model only tells
 * the I/O APIC, and only for vectors accepted level-triggered, which is
 * what the EOI-exit bitmap names. */
static void test_eoi_exit_bitmap(void **state)
{
	setup(1);
	struct vlapic *l = &lapic[0];
	sw_enable(l);
	vlapic_set_irr(l, 0x41, true);
	vlapic_set_irr(l, 0xe1, false);
	uint64_t bm[4];
	vlapic_eoi_exit_bitmap(l, bm);
	assert_true(bm[1] == 1ULL << 1 && bm[0] == 0 && bm[2] == 0 && bm[3] == 0);
	vlapic_eoi_done(l, 0xe1);
	assert_int_equal(plat.eois, 0);
	vlapic_eoi_done(l, 0x41);
	assert_int_equal(plat.eois, 1);
	assert_int_equal(plat.eoi_vector, 0x41);
}

static void test_tpr_threshold(void **state)
{
	setup(1);
	struct vlapic *l = &lapic[0];
	sw_enable(l);
	assert_int_equal(vlapic_tpr_threshold(l), 0); /* nothing requested */
	vlapic_set_tpr(l, 0x80);
	vlapic_set_irr(l, 0x51, false);
	assert_int_equal(vlapic_pending_vector(l), -1);
	assert_int_equal(vlapic_tpr_threshold(l), 5); /* deliverable once TPR[7:4] < 5 */
	vlapic_set_tpr(l, 0x40);
	assert_int_equal(vlapic_pending_vector(l), 0x51);
	assert_int_equal(vlapic_tpr_threshold(l), 0); /* deliverable now */
	/* Held back by a vector in service, not by the TPR: lowering the TPR
	 * would deliver nothing, so no threshold. */
	assert_int_equal(vlapic_ack(l), 0x51);
	vlapic_set_tpr(l, 0);
	vlapic_set_irr(l, 0x52, false);
	assert_int_equal(vlapic_tpr_threshold(l), 0);
	/* Software-disabled APIC: nothing is delivered, whatever the TPR. */
	setup(1);
	vlapic_set_tpr(l, 0xf0);
	vlapic_set_irr(l, 0x31, false);
	assert_int_equal(vlapic_tpr_threshold(l), 0);
	/* MMIO and CR8 see the same register. */
	sw_enable(l);
	assert_int_equal(rd(l, APIC_REG_TPR), 0xf0);
	assert_int_equal(vlapic_tpr_threshold(l), 3);
	wr(l, APIC_REG_TPR, 0x20);
	assert_int_equal(vlapic_tpr(l), 0x20);
}

/* --- x2APIC mode ---------------------------------------------------------- */

#define BASE_X2 (0xfee00000ULL | VLAPIC_BASE_ENABLE | VLAPIC_BASE_EXTD)
#define BASE_X (0xfee00000ULL | VLAPIC_BASE_ENABLE)

static void x2_enter(struct vlapic *l) { assert_int_equal(vlapic_set_base_msr(l, BASE_X2, 36), 0); }
static uint64_t x2rd(struct vlapic *l, uint32_t msr)
{
	uint64_t v = 0xdeadbeef;
	assert_int_equal(vlapic_x2apic_read(l, msr, &v), 0);
	return v;
}
static void x2wr(struct vlapic *l, uint32_t msr, uint64_t v) { assert_int_equal(vlapic_x2apic_write(l, msr, v), 0); }
static bool x2gp_rd(struct vlapic *l, uint32_t msr)
{
	uint64_t v;
	return vlapic_x2apic_read(l, msr, &v) == -1;
}
static bool x2gp_wr(struct vlapic *l, uint32_t msr, uint64_t v) { return vlapic_x2apic_write(l, msr, v) == -1; }

static void test_x2apic_state_machine(void **state)
{
	setup(2);
	struct vlapic *l = &lapic[1];
	/* Not offered: EXTD is a reserved bit. */
	assert_int_equal(vlapic_set_base_msr(l, BASE_X2, 36), -1);
	bus.x2apic = true;
	/* xAPIC mode: the MSRs do not exist. */
	assert_true(x2gp_rd(l, X2APIC_MSR_ID));
	assert_true(x2gp_wr(l, X2APIC_MSR_TPR, 0));
	/* EN=0 with EXTD=1 is the invalid state: #GP from anywhere. */
	assert_int_equal(vlapic_set_base_msr(l, 0xfee00000ULL | VLAPIC_BASE_EXTD, 36), -1);
	/* xAPIC -> x2APIC: the ID becomes the 32-bit x2APIC ID, the LDR is
	 * derived, the other registers carry over. */
	sw_enable(l);
	wr(l, APIC_REG_TPR, 0x20);
	x2_enter(l);
	assert_true(vlapic_x2apic_mode(l));
	assert_false(vlapic_mmio_decodes(l));
	assert_int_equal(vlapic_base_msr(l), BASE_X2);
	assert_int_equal(x2rd(l, X2APIC_MSR_ID), 1);
	assert_int_equal(x2rd(l, X2APIC_MSR_LDR), 0x2);
	assert_int_equal(x2rd(l, X2APIC_MSR_TPR), 0x20);
	assert_int_equal(x2rd(l, 0x80f), 0x1ff);
	/* The page holds what VMX's x2APIC virtualization reads: the 32-bit
	 * ID at 0x20, the LDR at 0xD0. */
	assert_int_equal(pages[1][APIC_REG_ID >> 2], 1);
	assert_int_equal(pages[1][APIC_REG_LDR >> 2], 2);
	/* Writing it again is allowed; x2APIC -> xAPIC directly is #GP. */
	x2_enter(l);
	assert_int_equal(vlapic_set_base_msr(l, BASE_X, 36), -1);
	assert_true(vlapic_x2apic_mode(l));
	/* x2APIC -> disabled: state lost; disabled -> x2APIC is #GP;
	 * disabled -> xAPIC, with the 8-bit ID again. */
	assert_int_equal(vlapic_set_base_msr(l, 0xfee00000ULL, 36), 0);
	assert_false(vlapic_hw_enabled(l));
	assert_int_equal(vlapic_set_base_msr(l, BASE_X2, 36), -1);
	assert_int_equal(vlapic_set_base_msr(l, BASE_X, 36), 0);
	assert_true(vlapic_mmio_decodes(l));
	assert_int_equal(rd(l, APIC_REG_ID), 1u << 24);
	assert_int_equal(rd(l, APIC_REG_SVR), 0xff);
	assert_int_equal(rd(l, APIC_REG_DFR), 0xffffffffu);
	/* INIT keeps x2APIC mode and the LDR; RESET goes back to xAPIC. */
	x2_enter(l);
	x2wr(l, 0x80f, 0x1ff);
	vlapic_init_reset(l);
	assert_true(vlapic_x2apic_mode(l));
	assert_int_equal(x2rd(l, X2APIC_MSR_LDR), 0x2);
	assert_int_equal(x2rd(l, 0x80f), 0xff);
	vlapic_power_reset(l);
	assert_int_equal(vlapic_base_msr(l), BASE_X);
	assert_int_equal(rd(l, APIC_REG_ID), 1u << 24);
	vlapic_power_reset(&lapic[0]);
	assert_int_equal(vlapic_base_msr(&lapic[0]), 0xfee00900ULL);
}

static void test_x2apic_registers(void **state)
{
	setup(1);
	bus.x2apic = true;
	struct vlapic *l = &lapic[0];
	x2_enter(l);
	x2wr(l, 0x80f, 0x1ff);
	assert_int_equal(x2rd(l, 0x803), VLAPIC_VERSION);
	/* Absent in x2APIC mode: APR, EOI read, RRD, DFR, ICR2, LVT CMCI,
	 * SELF IPI read, reserved slots. */
	static const uint32_t absent_rd[] = { 0x800, 0x801, 0x809, 0x80b, 0x80c, 0x80e, 0x82f, 0x831, 0x83f, 0x840, 0x8ff };
	for (unsigned i = 0; i < sizeof(absent_rd) / sizeof(absent_rd[0]); i++)
		assert_true(x2gp_rd(l, absent_rd[i]));
	/* Read-only and absent registers: writes are #GP. */
	static const uint32_t ro_wr[] = { 0x802, 0x803, 0x80a, 0x80d, 0x80e, 0x810, 0x818, 0x820, 0x831, 0x839, 0x82f, 0x809 };
	for (unsigned i = 0; i < sizeof(ro_wr) / sizeof(ro_wr[0]); i++)
		assert_true(x2gp_wr(l, ro_wr[i], 0));
	/* Reserved bits: TPR 63:8, EOI and ESR non-zero, SELF IPI 63:8, the
	 * upper half of every 32-bit register. */
	assert_true(x2gp_wr(l, X2APIC_MSR_TPR, 0x100));
	assert_true(x2gp_wr(l, X2APIC_MSR_EOI, 1));
	assert_true(x2gp_wr(l, 0x828, 1));
	assert_true(x2gp_wr(l, X2APIC_MSR_SELF_IPI, 0x100));
	assert_true(x2gp_wr(l, 0x832, 1ULL << 32));
	/* TPR and PPR. */
	x2wr(l, X2APIC_MSR_TPR, 0x50);
	assert_int_equal(x2rd(l, X2APIC_MSR_PPR), 0x50);
	x2wr(l, X2APIC_MSR_TPR, 0);
	/* SELF IPI: IRR, delivery, ISR through the MSRs, EOI. */
	x2wr(l, X2APIC_MSR_SELF_IPI, 0x61);
	assert_int_equal(x2rd(l, 0x820 + 3), 1u << 1);
	assert_int_equal(vlapic_ack(l), 0x61);
	assert_int_equal(x2rd(l, 0x810 + 3), 1u << 1);
	x2wr(l, X2APIC_MSR_EOI, 0);
	assert_int_equal(x2rd(l, 0x810 + 3), 0);
	/* An illegal SELF IPI vector: ESR. */
	x2wr(l, X2APIC_MSR_SELF_IPI, 5);
	x2wr(l, 0x828, 0);
	assert_int_equal(x2rd(l, 0x828), APIC_ESR_SEND_ILLEGAL_VECTOR);
	/* The ICR is one 64-bit register: destination 63:32, no busy bit. */
	x2wr(l, X2APIC_MSR_ICR, (0ULL << 32) | 0x1000 | 0x62);
	assert_int_equal(x2rd(l, X2APIC_MSR_ICR), 0x62);
	assert_int_equal(vlapic_pending_vector(l), 0x62);
	x2wr(l, X2APIC_MSR_ICR, (0x1234ULL << 32) | 0x63);
	assert_int_equal(x2rd(l, X2APIC_MSR_ICR), (0x1234ULL << 32) | 0x63);
	assert_int_equal(vlapic_icr_dest(l), 0x1234);
	assert_int_equal(bus.undeliverable, 1);
	/* The timer through its MSRs. */
	x2wr(l, 0x83e, 0xb);
	x2wr(l, 0x832, 0x70);
	x2wr(l, 0x838, 1000);
	assert_int_equal(x2rd(l, 0x838), 1000);
	assert_int_equal(x2rd(l, 0x839), 1000);
	clk.ns += 400;
	assert_int_equal(x2rd(l, 0x839), 600);
	clk.ns += 600;
	vlapic_update(l);
	assert_int_equal(l->timer_fires, 1);
	/* LVT write masking as in xAPIC mode. */
	x2wr(l, 0x835, 0xffffffff);
	assert_int_equal(x2rd(l, 0x835), 0x1a7ff);
}

static void test_x2apic_destinations(void **state)
{
	setup(4);
	bus.x2apic = true;
	for (int i = 0; i < 4; i++) {
		x2_enter(&lapic[i]);
		x2wr(&lapic[i], 0x80f, 0x1ff);
	}
	/* Physical: the 32-bit ID; 0x102 is not APIC 2 (no truncation). */
	x2wr(&lapic[0], X2APIC_MSR_ICR, (3ULL << 32) | 0x50);
	assert_int_equal(vlapic_pending_vector(&lapic[3]), 0x50);
	x2wr(&lapic[0], X2APIC_MSR_ICR, (0x102ULL << 32) | 0x51);
	assert_int_equal(vlapic_pending_vector(&lapic[2]), -1);
	assert_int_equal(bus.undeliverable, 1);
	/* Logical: cluster 0, members 1 and 2 (LDR 0x2, 0x4). */
	x2wr(&lapic[0], X2APIC_MSR_ICR, (0x6ULL << 32) | APIC_ICR_DEST_LOGICAL | 0x52);
	assert_int_equal(vlapic_pending_vector(&lapic[1]), 0x52);
	assert_int_equal(vlapic_pending_vector(&lapic[2]), 0x52);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), -1);
	/* Cluster 1 has nobody here. */
	x2wr(&lapic[0], X2APIC_MSR_ICR, (0x10001ULL << 32) | APIC_ICR_DEST_LOGICAL | 0x53);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), -1);
	assert_int_equal(bus.undeliverable, 2);
	/* Broadcast all ones, physical and logical; 0xFF alone is APIC 0xFF. */
	x2wr(&lapic[0], X2APIC_MSR_ICR, (0xffULL << 32) | 0x54);
	assert_int_equal(bus.undeliverable, 3);
	x2wr(&lapic[0], X2APIC_MSR_ICR, (0xffffffffULL << 32) | 0x55);
	for (int i = 0; i < 4; i++)
		assert_int_equal(vlapic_pending_vector(&lapic[i]), 0x55);
	x2wr(&lapic[0], X2APIC_MSR_ICR, (0xffffffffULL << 32) | APIC_ICR_DEST_LOGICAL | 0x56);
	for (int i = 0; i < 4; i++)
		assert_int_equal(vlapic_pending_vector(&lapic[i]), 0x56);
	/* Shorthand all-but-self. */
	x2wr(&lapic[2], X2APIC_MSR_ICR, (APIC_SH_OTHERS << 18) | 0x57);
	assert_int_equal(vlapic_pending_vector(&lapic[2]), 0x56);
	assert_int_equal(vlapic_pending_vector(&lapic[3]), 0x57);
	/* The I/O APIC's 8-bit destinations: physical 2, broadcast 0xFF. */
	struct vlapic_msg m = { .vector = 0x60, .dest = 2 };
	assert_int_equal(vlapic_bus_deliver(&bus, NULL, &m), 1);
	assert_int_equal(vlapic_pending_vector(&lapic[2]), 0x60);
	m = (struct vlapic_msg){ .vector = 0x61, .dest = 0xff };
	assert_int_equal(vlapic_bus_deliver(&bus, NULL, &m), 4);
	/* INIT and start-up to another vCPU by x2APIC ID. */
	x2wr(&lapic[0], X2APIC_MSR_ICR, (1ULL << 32) | (APIC_DM_INIT << 8) | APIC_ICR_LEVEL_ASSERT);
	assert_int_equal(plat.inits[1], 1);
	assert_true(vlapic_x2apic_mode(&lapic[1]));
	x2wr(&lapic[0], X2APIC_MSR_ICR, (1ULL << 32) | (APIC_DM_STARTUP << 8) | 0x9a);
	assert_int_equal(plat.starts[1], 1);
	assert_int_equal(plat.start_vector[1], 0x9a);
	/* A mixed guest: an xAPIC sender's 8-bit destination reaches an
	 * x2APIC by its ID; an x2APIC's broadcast reaches an xAPIC. */
	setup(2);
	bus.x2apic = true;
	sw_enable(&lapic[0]);
	x2_enter(&lapic[1]);
	x2wr(&lapic[1], 0x80f, 0x1ff);
	send(&lapic[0], 1, 0x70);
	assert_int_equal(vlapic_pending_vector(&lapic[1]), 0x70);
	x2wr(&lapic[1], X2APIC_MSR_ICR, (0xffffffffULL << 32) | 0x71);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), 0x71);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_priority_and_eoi),
		cmocka_unit_test(test_software_disable_masks_lvts),
		cmocka_unit_test(test_init_sipi),
		cmocka_unit_test(test_fixed_ipis_and_destinations),
		cmocka_unit_test(test_lowest_priority),
		cmocka_unit_test(test_timer),
		cmocka_unit_test(test_timer_bus_clock),
		cmocka_unit_test(test_base_msr),
		cmocka_unit_test(test_bad_accesses),
		cmocka_unit_test(test_tpr_threshold),
		cmocka_unit_test(test_register_page_layout),
		cmocka_unit_test(test_apic_write_exit),
		cmocka_unit_test(test_eoi_exit_bitmap),
		cmocka_unit_test(test_x2apic_state_machine),
		cmocka_unit_test(test_x2apic_registers),
		cmocka_unit_test(test_x2apic_destinations),
	};
	return cmocka_run_group_tests_name("vlapic", tests, NULL, NULL);
}
