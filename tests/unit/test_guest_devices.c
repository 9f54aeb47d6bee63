/* The whole device set of a guest, as guest_devices_init() wires it: which
 * port accesses the exit path may finish without the scheduler's pass
 * (hvm/vmx/io.c): those that neither reprogram a timer or the interrupt
 * controller (io_range.retimes) nor move an interrupt line (the IRQ
 * router's change count). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fakes.h"
#include <keel/guest_devices.h>

static struct guest g;
static struct fake_clock clk;
static struct fake_guest fg;
static uint8_t disk[512 * 8];

static void build_with_ram(uint64_t ram);
static void build(void) { build_with_ram(32ULL << 20); }

static void build_with_ram(uint64_t ram)
{
	memset(&g, 0, sizeof(g));
	strcpy(g.prefix, "[t] ");
	g.ram_size = ram;
	g.ram = guest_ram_split(g.ram_size, GUEST_LOWMEM_MAX);
	g.nr_vcpus = 1;
	g.disk = disk;
	g.disk_bytes = sizeof(disk);
	fake_clock_init(&clk);
	fake_guest_init(&fg);
	g.clock = clk.vc;
	g.events = fg.ev;
	g.out = fg.out;
	g.dbg_out = fg.out;
	static const struct vrtc_time boot = { 2025, 1, 1, 0, 0, 0, 4 };
	assert_int_equal(guest_devices_init(&g, &boot, NULL), 0);
}

static bool retimes(uint16_t port, bool in) { return iobus_access_retimes(iobus_find(&g.io, port), in); }
static void out(uint16_t port, uint8_t v) { iobus_write(&g.io, port, 1, v); }
static uint8_t in(uint16_t port) { return (uint8_t)iobus_read(&g.io, port, 1); }

static void test_which_accesses_retime(void **state)
{
	build();
	/* The 8259A pair: every access (EOI, masks, poll-mode acknowledge). */
	assert_true(retimes(0x20, false) && retimes(0x20, true));
	assert_true(retimes(0x21, false) && retimes(0xa1, true));
	assert_true(retimes(0x4d0, false));
	/* PIT and port 0x61: writes program them, reads only compute. */
	assert_true(retimes(0x43, false) && retimes(0x40, false) && retimes(0x61, false));
	assert_false(retimes(0x40, true) || retimes(0x42, true) || retimes(0x61, true));
	/* RTC: only writes to its registers (rates, interrupt enables). */
	assert_false(retimes(0x70, false) || retimes(0x71, true));
	assert_true(retimes(0x71, false));
	/* Text, status polls, configuration space, unclaimed ports: never. */
	assert_false(retimes(0xe9, false) || retimes(0x402, false) || retimes(0x80, false));
	assert_false(retimes(0x3fd, true) || retimes(0x3f8, false) || retimes(0xcfc, true) || retimes(0x510, false));
	assert_false(retimes(0x2e9, false) || retimes(0x2e9, true));
}

/* The APIC bus's kick, as sched_wake does it: the guest becomes dirty. */
static void kick_marks_dirty(void *ctx, unsigned index) { ((struct guest *)ctx)->devices_dirty = true; }
static const struct vlapic_bus_ops wake_ops = { .kick = kick_marks_dirty };

/* A local APIC timer that fires during the update leaves the guest clean
 * (its wake-up was for what the update did), so the vCPU's next exit (the
 * guest rearming the timer) may resume directly; a rearm only brings the
 * cached deadline forward (guest_devices_deadline_at). */
static void test_timer_fire_leaves_clean(void **state)
{
	static uint32_t page[1024];
	memset(&g, 0, sizeof(g));
	strcpy(g.prefix, "[t] ");
	g.ram_size = 32ULL << 20;
	g.nr_vcpus = 1;
	fake_clock_init(&clk);
	fake_guest_init(&fg);
	g.clock = clk.vc;
	g.events = fg.ev;
	g.out = fg.out;
	g.dbg_out = fg.out;
	static const struct vrtc_time boot = { 2025, 1, 1, 0, 0, 0, 4 };
	assert_int_equal(guest_devices_init(&g, &boot, &wake_ops), 0);
	g.apic_bus.ctx = &g;
	vlapic_init(&g.vcpus[0].lapic, &g.apic_bus, 0, &g.clock, page);
	g.vcpus[0].state = VCPU_RUNNABLE;
	struct vlapic *l = &g.vcpus[0].lapic;
	vlapic_mmio_write(l, APIC_REG_SVR, 4, 0x1ff);
	vlapic_mmio_write(l, APIC_REG_LVT_TIMER, 4, 0x40);
	vlapic_mmio_write(l, APIC_REG_TIMER_DCR, 4, 0xb);
	vlapic_mmio_write(l, APIC_REG_TIMER_ICR, 4, 1000); /* 1 us at the 1 GHz default bus */
	uint64_t due = vlapic_next_deadline_ns(l);
	g.devices_dirty = true;
	assert_int_equal(guest_devices_update(&g, clk.ns), due);
	assert_false(g.devices_dirty);
	clk.ns = due;
	g.devices_dirty = false;
	guest_devices_update(&g, clk.ns);
	assert_int_equal(vlapic_pending_vector(l), 0x40);
	assert_false(g.devices_dirty);
	/* Rearmed: the cached deadline moves forward, not back. */
	vlapic_mmio_write(l, APIC_REG_TIMER_ICR, 4, 500);
	guest_devices_deadline_at(&g, vlapic_next_deadline_ns(l));
	assert_int_equal(guest_devices_update(&g, clk.ns), clk.ns + 500);
	guest_devices_deadline_at(&g, clk.ns + 100000);
	assert_int_equal(guest_devices_update(&g, clk.ns), clk.ns + 500);
}

/* A timer exit of a guest that ticks (sched_own_timer_tick): every due
 * local APIC timer of the guest fires, the running vCPU's and a halted
 * one's (woken through the APIC bus), and the cached deadline is the
 * next; nothing changes while the guest is dirty or its PIT or RTC is
 * due, which is the scheduler pass's to do. */
static void test_apic_timers_tick(void **state)
{
	static uint32_t pages[2][1024];
	memset(&g, 0, sizeof(g));
	strcpy(g.prefix, "[t] ");
	g.ram_size = 32ULL << 20;
	g.nr_vcpus = 2;
	fake_clock_init(&clk);
	fake_guest_init(&fg);
	g.clock = clk.vc;
	g.events = fg.ev;
	g.out = fg.out;
	g.dbg_out = fg.out;
	static const struct vrtc_time boot = { 2025, 1, 1, 0, 0, 0, 4 };
	assert_int_equal(guest_devices_init(&g, &boot, &wake_ops), 0);
	g.apic_bus.ctx = &g;
	for (unsigned i = 0; i < 2; i++) {
		struct vlapic *l = &g.vcpus[i].lapic;
		vlapic_init(l, &g.apic_bus, i, &g.clock, pages[i]);
		g.vcpus[i].state = VCPU_RUNNABLE;
		vlapic_mmio_write(l, APIC_REG_SVR, 4, 0x1ff);
		vlapic_mmio_write(l, APIC_REG_TIMER_DCR, 4, 0xb);
		vlapic_mmio_write(l, APIC_REG_LVT_TIMER, 4, 0x40 | APIC_LVT_TIMER_PERIODIC);
	}
	struct vlapic *l0 = &g.vcpus[0].lapic, *l1 = &g.vcpus[1].lapic;
	vlapic_mmio_write(l0, APIC_REG_TIMER_ICR, 4, 4000000); /* 4 ms */
	vlapic_mmio_write(l1, APIC_REG_TIMER_ICR, 4, 3000000); /* 3 ms */
	g.devices_dirty = true;
	uint64_t t0 = clk.ns, next;
	assert_int_equal(guest_devices_update(&g, clk.ns), t0 + 3000000);
	/* Dirty: the pass's to do. */
	clk.ns = t0 + 4000000;
	g.devices_dirty = true;
	assert_false(guest_devices_apic_timers_tick(&g, clk.ns, &next));
	assert_int_equal(vlapic_pending_vector(l0), -1);
	/* Both due: both fire, each once, and the next period is cached. */
	g.devices_dirty = false;
	assert_true(guest_devices_apic_timers_tick(&g, clk.ns, &next));
	assert_int_equal(vlapic_pending_vector(l0), 0x40);
	assert_int_equal(vlapic_pending_vector(l1), 0x40);
	assert_int_equal(next, t0 + 6000000);
	assert_int_equal(g.next_deadline_ns, next);
	assert_false(g.devices_dirty);
	assert_int_equal(vlapic_ack(l0), 0x40);
	assert_int_equal(vlapic_ack(l1), 0x40);
	assert_true(guest_devices_apic_timers_tick(&g, clk.ns, &next));
	assert_int_equal(vlapic_pending_vector(l0), -1); /* not twice */
	/* The PIT due: the pass's too. */
	g.platform_deadline_ns = clk.ns;
	clk.ns = t0 + 6000000;
	assert_false(guest_devices_apic_timers_tick(&g, clk.ns, &next));
	assert_int_equal(vlapic_pending_vector(l1), -1);
}

/* A moved interrupt line marks the guest's devices dirty through the
 * router, so the exit that moved it takes the scheduler's pass. */
static void test_irq_line_moves_mark_devices_dirty(void **state)
{
	build();
	g.devices_dirty = false;
	/* SeaBIOS's kind of traffic moves no line. */
	out(0xe9, 'x');
	out(0x3f8, 'y');
	(void)in(0x3fd);
	out(0x70, 0x10);
	(void)in(0x71);
	(void)in(0x64);
	assert_false(g.devices_dirty);
	/* The UART's THR-empty interrupt through OUT2 raises IRQ 4. */
	out(0x3f9, 0x02);
	out(0x3fc, 0x08);
	assert_true(g.devices_dirty);
	g.devices_dirty = false;
	(void)in(0x3fa); /* reading IIR clears the source: the line drops */
	assert_true(g.devices_dirty);
	/* With its interrupt enabled in the command byte, the keyboard
	 * controller's self-test answer pulses IRQ 1: a pulse counts. */
	out(0x64, 0x60);
	out(0x60, 0x01);
	g.devices_dirty = false;
	out(0x64, 0xaa);
	assert_true(g.devices_dirty);
}

/* SeaBIOS reads the RAM above 4 GiB from CMOS 0x5B-0x5D (64 KiB units)
 * when fw_cfg has no etc/e820 file, and adds it to the E820 map
 * hvmloader gave it: both must say the same. */
static uint8_t cmos(uint8_t reg)
{
	out(0x70, reg);
	return in(0x71);
}

static void test_cmos_describes_ram_above_4g(void **state)
{
	build_with_ram(6ULL << 30);
	uint64_t over4g = (uint64_t)cmos(0x5b) << 16 | (uint64_t)cmos(0x5c) << 24 | (uint64_t)cmos(0x5d) << 32;
	assert_int_equal(over4g, g.ram.above_4g);
	assert_int_equal(over4g, (6ULL << 30) - 0xe0000000);
	/* 64 KiB units of RAM between 16 MiB and the hole */
	assert_int_equal(cmos(0x34) | cmos(0x35) << 8, (0xe0000000 - (16 << 20)) >> 16);
	build();
	assert_int_equal(cmos(0x5b) | cmos(0x5c) | cmos(0x5d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_which_accesses_retime),
		cmocka_unit_test(test_irq_line_moves_mark_devices_dirty),
		cmocka_unit_test(test_cmos_describes_ram_above_4g),
		cmocka_unit_test(test_timer_fire_leaves_clean),
		cmocka_unit_test(test_apic_timers_tick),
	};
	return cmocka_run_group_tests_name("guest_devices", tests, NULL, NULL);
}
