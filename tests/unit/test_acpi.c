/* MADT processor enumeration from a fake physical memory: RSDP v1 (RSDT)
 * and v2 (XSDT), LAPIC and x2APIC entries, disabled and online-capable
 * processors, the address override, and every broken table the parser
 * must refuse with a reason instead of reading out of bounds. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <keel/acpi.h>

#define MEM_SIZE 0x4000
#define RSDT_PA 0x1000
#define XSDT_PA 0x1800
#define MADT_PA 0x2000
#define FACP_PA 0x3000

static uint8_t mem[MEM_SIZE];
static uint8_t rsdp[36];
static uint32_t madt_len;

static const void *map(void *ctx, uint64_t pa, uint64_t len)
{
	if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
		return NULL;
	return mem + pa;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void fix_checksum(uint8_t *t, uint32_t len, unsigned at)
{
	uint8_t sum = 0;
	t[at] = 0;
	for (uint32_t i = 0; i < len; i++)
		sum += t[i];
	t[at] = (uint8_t)-sum;
}

static void sdt_header(uint8_t *t, const char *sig, uint32_t len)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = 1;
	memcpy(t + 10, "KEELTS", 6);
}

static void finish_madt(void) { put32(mem + MADT_PA + 4, madt_len), fix_checksum(mem + MADT_PA, madt_len, 9); }

static void madt_add(const uint8_t *e, uint8_t len)
{
	memcpy(mem + MADT_PA + madt_len, e, len);
	madt_len += len;
	finish_madt();
}

static void add_lapic(uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t e[8] = { 0, 8, uid, apic_id };
	put32(e + 4, flags);
	madt_add(e, 8);
}

static void add_x2apic(uint32_t apic_id, uint32_t flags)
{
	uint8_t e[16] = { 9, 16 };
	put32(e + 4, apic_id);
	put32(e + 8, flags);
	madt_add(e, 16);
}

/* RSDP rev 0 -> RSDT [FACP, MADT]; RSDP rev 2 -> XSDT [FACP, MADT]. */
static int setup(void **state)
{
	memset(mem, 0, sizeof(mem));
	memset(rsdp, 0, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "KEELTS", 6);
	put32(rsdp + 16, RSDT_PA);
	fix_checksum(rsdp, 20, 8);

	sdt_header(mem + FACP_PA, "FACP", 36);
	fix_checksum(mem + FACP_PA, 36, 9);
	sdt_header(mem + RSDT_PA, "RSDT", 44);
	put32(mem + RSDT_PA + 36, FACP_PA);
	put32(mem + RSDT_PA + 40, MADT_PA);
	fix_checksum(mem + RSDT_PA, 44, 9);
	sdt_header(mem + XSDT_PA, "XSDT", 52);
	put64(mem + XSDT_PA + 36, FACP_PA);
	put64(mem + XSDT_PA + 44, MADT_PA);
	fix_checksum(mem + XSDT_PA, 52, 9);

	sdt_header(mem + MADT_PA, "APIC", 44);
	put32(mem + MADT_PA + 36, 0xfee00000);
	put32(mem + MADT_PA + 40, 1);
	madt_len = 44;
	finish_madt();
	return 0;
}

static void use_xsdt(void)
{
	rsdp[15] = 2;
	put32(rsdp + 20, 36);
	put64(rsdp + 24, XSDT_PA);
	fix_checksum(rsdp, 20, 8);
	fix_checksum(rsdp, 36, 32);
}

static int find(struct acpi_cpus *c, char *err)
{
	return acpi_find_cpus(rsdp, 36, map, NULL, c, err, 128);
}

static void test_rsdt_lapics(void **state)
{
	add_lapic(0, 0, 1);
	add_lapic(1, 2, 1);
	add_lapic(2, 4, 0); /* disabled, not online-capable */
	add_lapic(3, 6, 2); /* online-capable */
	uint8_t ioapic[12] = { 1, 12, 0, 0 };
	madt_add(ioapic, 12);
	struct acpi_cpus c;
	char err[128] = "";
	assert_int_equal(find(&c, err), 0);
	assert_int_equal(c.nr, 3);
	assert_int_equal(c.apic_id[0], 0);
	assert_int_equal(c.apic_id[1], 2);
	assert_int_equal(c.apic_id[2], 6);
	assert_int_equal(c.nr_disabled, 1);
	assert_int_equal(c.nr_ioapics, 1);
	assert_int_equal(c.lapic_base, 0xfee00000);
	assert_true(c.pcat_compat);
	assert_int_equal(c.nr_x2apic_entries, 0);
	assert_int_equal(c.max_apic_id, 6); /* the disabled one does not count */
}

static void test_xsdt_x2apic_and_override(void **state)
{
	use_xsdt();
	add_lapic(0, 1, 1);
	add_x2apic(1, 1);    /* same processor listed twice: counted once */
	add_x2apic(300, 1);  /* beyond 8 bits: only an x2APIC entry can say it */
	uint8_t ovr[12] = { 5, 12 };
	put64(ovr + 4, 0x1fee00000ULL);
	madt_add(ovr, 12);
	struct acpi_cpus c;
	char err[128] = "";
	assert_int_equal(find(&c, err), 0);
	assert_int_equal(c.nr, 2);
	assert_int_equal(c.apic_id[0], 1);
	assert_int_equal(c.apic_id[1], 300);
	assert_int_equal(c.lapic_base, 0x1fee00000ULL);
	/* What chooses the host APIC mode (include/keel/apic_mode.h): the
	 * type-9 entries, and the largest id. */
	assert_int_equal(c.nr_x2apic_entries, 2);
	assert_int_equal(c.max_apic_id, 300);
}

static void test_xsdt_bad_checksum_falls_back_to_rsdt(void **state)
{
	use_xsdt();
	rsdp[32] ^= 1; /* extended checksum broken: the RSDT is still good */
	add_lapic(0, 0, 1);
	struct acpi_cpus c;
	char err[128] = "";
	assert_int_equal(find(&c, err), 0);
	assert_int_equal(c.nr, 1);
}

static void test_many_cpus_capped(void **state)
{
	for (unsigned i = 0; i < ACPI_MAX_CPUS + 5; i++)
		add_x2apic(i, 1);
	struct acpi_cpus c;
	char err[128] = "";
	assert_int_equal(find(&c, err), 0);
	assert_int_equal(c.nr, ACPI_MAX_CPUS);
	assert_int_equal(c.nr_dropped, 5);
}

static void expect_error(const char *needle)
{
	struct acpi_cpus c;
	char err[128] = "";
	assert_int_equal(find(&c, err), -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_bad_rsdp(void **state)
{
	rsdp[0] = 'X';
	expect_error("RSDP");
	setup(NULL);
	rsdp[8] ^= 1;
	expect_error("RSDP: bad checksum");
	setup(NULL);
	put32(rsdp + 16, 0);
	fix_checksum(rsdp, 20, 8);
	expect_error("no root table");
	struct acpi_cpus c;
	char err[128];
	assert_int_equal(acpi_find_cpus(rsdp, 8, map, NULL, &c, err, sizeof(err)), -1);
}

static void test_bad_tables(void **state)
{
	mem[RSDT_PA + 20] ^= 1;
	expect_error("RSDT at 0x1000: bad checksum");

	setup(NULL);
	put32(rsdp + 16, 0x10000000); /* outside memory */
	fix_checksum(rsdp, 20, 8);
	expect_error("cannot be reached");

	setup(NULL);
	put32(mem + RSDT_PA + 4, 0x7fffffff);
	fix_checksum(mem + RSDT_PA, 44, 9);
	expect_error("implausible length");

	setup(NULL);
	put32(mem + RSDT_PA + 4, 40); /* MADT pointer no longer listed */
	fix_checksum(mem + RSDT_PA, 40, 9);
	expect_error("lists no MADT");

	setup(NULL);
	memcpy(mem + RSDT_PA, "XSDT", 4);
	fix_checksum(mem + RSDT_PA, 44, 9);
	expect_error("wrong signature");

	setup(NULL);
	mem[MADT_PA + 12] ^= 1;
	expect_error("MADT at 0x2000: bad checksum");
}

static void test_bad_madt_entries(void **state)
{
	uint8_t zero_len[2] = { 0, 0 };
	madt_add(zero_len, 2);
	expect_error("bad length 0");

	setup(NULL);
	add_lapic(0, 0, 1);
	mem[MADT_PA + 45] = 200; /* the entry claims to run past the table */
	finish_madt();
	expect_error("bad length 200");

	setup(NULL);
	uint8_t one[1] = { 0 };
	madt_add(one, 1);
	expect_error("cut off");

	/* A MADT whose length leaves no room for its fixed part. */
	setup(NULL);
	madt_len = 40;
	finish_madt();
	expect_error("shorter than its fixed part");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rsdt_lapics, setup),
		cmocka_unit_test_setup(test_xsdt_x2apic_and_override, setup),
		cmocka_unit_test_setup(test_xsdt_bad_checksum_falls_back_to_rsdt, setup),
		cmocka_unit_test_setup(test_many_cpus_capped, setup),
		cmocka_unit_test_setup(test_bad_rsdp, setup),
		cmocka_unit_test_setup(test_bad_tables, setup),
		cmocka_unit_test_setup(test_bad_madt_entries, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
