/* Port registry, guest line output and the CPUID policy. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <keel/cpuid.h>
#include <keel/guest_output.h>
#include <keel/iobus.h>

struct fake_dev {
	uint32_t last_write;
	uint16_t last_port;
	unsigned last_size;
};

static uint32_t fake_read(void *dev, uint16_t port, unsigned size) { return 0x12345678u + port; }
static void fake_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct fake_dev *d = dev;
	d->last_write = val;
	d->last_port = port;
	d->last_size = size;
}

static void test_iobus_dispatch(void **state)
{
	struct io_bus bus;
	struct fake_dev d = { 0 };
	iobus_init(&bus);
	struct io_range r = { .base = 0x40, .count = 4, .name = "pit", .dev = &d, .read = fake_read, .write = fake_write };
	assert_int_equal(iobus_register(&bus, &r), 0);
	/* Reads are masked to the access size. */
	assert_int_equal(iobus_read(&bus, 0x41, 1), (0x12345678u + 0x41) & 0xff);
	assert_int_equal(iobus_read(&bus, 0x43, 2), (0x12345678u + 0x43) & 0xffff);
	iobus_write(&bus, 0x42, 1, 0xabcd);
	assert_int_equal(d.last_write, 0xcd);
	assert_int_equal(d.last_port, 0x42);
	/* Unclaimed ports float to all ones and are counted. */
	assert_int_equal(iobus_read(&bus, 0x44, 1), 0xff);
	assert_int_equal(iobus_read(&bus, 0x3f, 4), 0xffffffffu);
	iobus_write(&bus, 0x1234, 2, 1);
	assert_int_equal(bus.unclaimed_reads, 2);
	assert_int_equal(bus.unclaimed_writes, 1);
	assert_int_equal(bus.last_unclaimed_port, 0x1234);
}

static void test_iobus_overlap_and_limits(void **state)
{
	struct io_bus bus;
	iobus_init(&bus);
	struct io_range a = { .base = 0x1f0, .count = 8, .read = fake_read };
	struct io_range b = { .base = 0x1f7, .count = 2, .read = fake_read };
	struct io_range c = { .base = 0xffff, .count = 2, .read = fake_read };
	struct io_range zero = { .base = 0x10, .count = 0 };
	assert_int_equal(iobus_register(&bus, &a), 0);
	assert_int_equal(iobus_register(&bus, &b), -1);
	assert_int_equal(iobus_register(&bus, &c), -1);
	assert_int_equal(iobus_register(&bus, &zero), -1);
	for (unsigned i = 1; i < IOBUS_MAX_RANGES; i++) {
		struct io_range r = { .base = (uint16_t)(0x2000 + i * 4), .count = 4, .read = fake_read };
		assert_int_equal(iobus_register(&bus, &r), 0);
	}
	struct io_range extra = { .base = 0x9000, .count = 1, .read = fake_read };
	assert_int_equal(iobus_register(&bus, &extra), -1);
	assert_non_null(iobus_find(&bus, 0x1f3));
	assert_null(iobus_find(&bus, 0x1f8));
}

static char lines[8][256];
static int nlines;
static void capture(void *ctx, const char *line, size_t len)
{
	assert_true(nlines < 8);
	memcpy(lines[nlines], line, len);
	lines[nlines][len] = 0;
	nlines++;
}

static void test_guest_output_lines(void **state)
{
	struct guest_output o;
	nlines = 0;
	guest_output_init(&o, "[g1] ", capture, NULL);
	const char *text = "MBR loaded\r\nsecond\x01line\n\npartial";
	for (const char *p = text; *p; p++)
		guest_output_putc(&o, (uint8_t)*p);
	assert_int_equal(nlines, 3);
	assert_string_equal(lines[0], "[g1] MBR loaded\n");
	assert_string_equal(lines[1], "[g1] second.line\n");
	assert_string_equal(lines[2], "[g1] \n");
	guest_output_flush(&o);
	assert_int_equal(nlines, 4);
	assert_string_equal(lines[3], "[g1] partial\n");
	/* A very long line is cut into pieces, each with its prefix. */
	nlines = 0;
	for (int i = 0; i < GUEST_LINE_MAX + 10; i++)
		guest_output_putc(&o, 'x');
	assert_int_equal(nlines, 1);
	assert_int_equal(strlen(lines[0]), 5 + GUEST_LINE_MAX + 1);
}

/* Leaf 0x15: the host's when it states the TSC rate; else a crystal at the
 * TSC rate with a small integer ratio, so that Linux's 32-bit product
 * crystal_khz * EBX does not overflow. Leaf 0x16: the host's if its leaf
 * 0x15 stated the rate, else Keel's rate in MHz; leaf 0 reaches both. */
static void test_cpuid_tsc_leaves(void **state)
{
	struct cpuid_guest_info gi = { .vcpu_id = 0, .nr_vcpus = 1 };
	struct cpuid_regs host15 = { 2, 184, 24000000, 0 }, host16 = { 3500, 3900, 100, 0 };
	struct cpuid_regs r = cpuid_guest_filter(0x15, 0, host15, &gi); /* rate unknown: as they are */
	assert_int_equal(r.ecx, 24000000);
	r = cpuid_guest_filter(0, 0, (struct cpuid_regs){ 0xd, 0, 0, 0 }, &gi);
	assert_int_equal(r.eax, 0xd);

	gi.tsc_hz = 50001234; /* Bochs: a 50 MHz TSC, measured; the host's leaf empty */
	r = cpuid_guest_filter(0x15, 0, (struct cpuid_regs){ 0, 0, 0, 0 }, &gi);
	uint32_t crystal_khz = r.ecx / 1000;
	assert_int_equal(crystal_khz * r.ebx / r.eax, 50001); /* Linux's tsc_khz, in 32 bits */
	assert_int_equal(r.ecx, 50001234);
	r = cpuid_guest_filter(0x16, 0, host16, &gi);
	assert_int_equal(r.eax, 50);
	assert_int_equal(r.ebx, 50);
	r = cpuid_guest_filter(0, 0, (struct cpuid_regs){ 0xd, 0, 0, 0 }, &gi);
	assert_int_equal(r.eax, 0x16);
	r = cpuid_guest_filter(0, 0, (struct cpuid_regs){ 0x20, 0, 0, 0 }, &gi);
	assert_int_equal(r.eax, 0x16);
	/* A host whose highest leaf is below 0x15 answers with that leaf's
	 * data (Bochs's Sandy Bridge: leaf 0xD's 7, 0x340, 0x340): not a
	 * rate, and not the crystal the APIC timer runs at. */
	r = cpuid_guest_filter(0x15, 0, (struct cpuid_regs){ 7, 0x340, 0x340, 0 }, &gi);
	assert_int_equal(r.ecx, 50001234);
	assert_int_equal(r.eax, 1);

	/* A host that states it (24 MHz x 184/2 = 2.208 GHz): passed on. */
	gi.tsc_hz = 2208000000ULL;
	gi.host_tsc_leaves = true;
	r = cpuid_guest_filter(0x15, 0, host15, &gi);
	assert_memory_equal(&r, &host15, sizeof(r));
	r = cpuid_guest_filter(0x16, 0, host16, &gi);
	assert_int_equal(r.eax, 3500);

	/* Measured above 2^32 Hz: the crystal halves, the ratio doubles. */
	r = cpuid_tsc_leaf(5200000000ULL, (struct cpuid_regs){ 0, 0, 0, 0 });
	assert_int_equal(r.eax, 1);
	assert_int_equal(r.ebx, 2);
	crystal_khz = r.ecx / 1000;
	assert_int_equal(crystal_khz * r.ebx / r.eax, 5200000);
}

static void test_cpuid_xen_leaves(void **state)
{
	struct cpuid_guest_info gi = { .vcpu_id = 0, .nr_vcpus = 1 };
	struct cpuid_regs h = { 0, 0, 0, 0 };
	struct cpuid_regs r = cpuid_guest_filter(0x40000000, 0, h, &gi);
	char sig[13];
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = 0;
	assert_string_equal(sig, "XenVMMXenVMM");
	/* SeaBIOS panics unless there are at least two more leaves. */
	assert_true(r.eax - 0x40000000 >= 2);
	r = cpuid_guest_filter(0x40000002, 0, h, &gi);
	assert_int_equal(r.eax, 1);
	assert_int_equal(r.ebx, 0x40000000);
	r = cpuid_guest_filter(0x40000003, 0, h, &gi);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	/* A directly booted kernel, or an OS after the boot sector, sees no
	 * Xen at all: Keel's own leaf and nothing after it. */
	gi.no_xen = true;
	r = cpuid_guest_filter(0x40000000, 0, h, &gi);
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	assert_string_equal(sig, "KeelKeelKeel");
	assert_int_equal(r.eax, 0x40000000);
	for (uint32_t leaf = 0x40000001; leaf <= 0x40000002; leaf++) {
		r = cpuid_guest_filter(leaf, 0, h, &gi);
		assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	}
}

static void test_cpuid_hides_vmx(void **state)
{
	struct cpuid_guest_info gi = { .vcpu_id = 2, .nr_vcpus = 4 };
	struct cpuid_regs h = { 0x000506e3, 0x00100800, 0xffffffff, 0xffffffff };
	struct cpuid_regs r = cpuid_guest_filter(1, 0, h, &gi);
	assert_int_equal(r.ecx & (1u << 5), 0);  /* VMX */
	assert_int_equal(r.ecx & (1u << 6), 0);  /* SMX */
	assert_int_equal(r.ecx & (1u << 26), 0); /* XSAVE */
	assert_true(r.ecx & (1u << 31));         /* hypervisor */
	assert_int_equal(r.ebx >> 24, 2);        /* APIC id = vCPU id */
	assert_int_equal((r.ebx >> 16) & 0xff, 4);
	assert_int_equal(r.eax, 0x000506e3);
	r = cpuid_guest_filter(7, 0, (struct cpuid_regs){ 0, 0xffffffff, 0xffffffff, 0xffffffff }, &gi);
	assert_int_equal(r.ebx & (1u << 5), 0); /* AVX2 */
	assert_int_equal(r.ecx, 0);
	r = cpuid_guest_filter(0x12, 0, (struct cpuid_regs){ 1, 2, 3, 4 }, &gi); /* SGX: hidden */
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	/* The local APIC bit follows IA32_APIC_BASE.EN; x2APIC stays hidden. */
	r = cpuid_guest_filter(1, 0, h, &gi);
	assert_int_equal(r.edx & (1u << 9), 0);
	gi.apic = true;
	r = cpuid_guest_filter(1, 0, h, &gi);
	assert_true(r.edx & (1u << 9));
	assert_int_equal(r.ecx & (1u << 21), 0);
	r = cpuid_guest_filter(1, 0, (struct cpuid_regs){ 0x000506e3, 0x00100800, 0, 0 }, &gi);
	assert_true(r.edx & (1u << 9)); /* even if the host hid its own */
	/* Leaf 0xB is empty without x2APIC (x2apic:off). */
	r = cpuid_guest_filter(0xb, 0, (struct cpuid_regs){ 1, 2, 0x100, 7 }, &gi);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void test_cpuid_x2apic_topology(void **state)
{
	struct cpuid_guest_info gi = { .vcpu_id = 2, .nr_vcpus = 3, .x2apic = true };
	struct cpuid_regs h = { 0x000506e3, 0x00100800, 0, 0xffffffff };
	/* Offered even where the host hides its own (Keel emulates it). */
	struct cpuid_regs r = cpuid_guest_filter(1, 0, h, &gi);
	assert_true(r.ecx & (1u << 21));
	assert_int_equal(r.ebx >> 24, 2);
	/* SMT level: one thread, shift 0, x2APIC ID in EDX. */
	r = cpuid_guest_filter(0xb, 0, h, &gi);
	assert_int_equal(r.eax, 0);
	assert_int_equal(r.ebx, 1);
	assert_int_equal(r.ecx, 0x100);
	assert_int_equal(r.edx, 2);
	/* Core level: 3 vCPUs, their IDs in 2 bits. */
	r = cpuid_guest_filter(0xb, 1, h, &gi);
	assert_int_equal(r.eax, 2);
	assert_int_equal(r.ebx, 3);
	assert_int_equal(r.ecx, 0x201);
	assert_int_equal(r.edx, 2);
	/* Past the last level: type 0 (invalid), the subleaf echoed. */
	r = cpuid_guest_filter(0xb, 2, h, &gi);
	assert_int_equal(r.eax | r.ebx, 0);
	assert_int_equal(r.ecx, 2);
	assert_int_equal(r.edx, 2);
	/* One vCPU: shift 0 at both levels. */
	assert_int_equal(cpuid_topology_leaf(1, 0, 1).eax, 0);
	assert_int_equal(cpuid_topology_leaf(1, 0, 8).eax, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iobus_dispatch),
		cmocka_unit_test(test_iobus_overlap_and_limits),
		cmocka_unit_test(test_guest_output_lines),
		cmocka_unit_test(test_cpuid_xen_leaves),
		cmocka_unit_test(test_cpuid_tsc_leaves),
		cmocka_unit_test(test_cpuid_hides_vmx),
		cmocka_unit_test(test_cpuid_x2apic_topology),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
