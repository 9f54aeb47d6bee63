/* hvmloader's table builders: the E820 map and the SeaBIOS info table,
 * checked the way SeaBIOS's validate_info checks it. */
#include <keel/acpi_wake.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/vioapic.h>
#include <keel/virq.h>
#include <keel/vlapic.h>

#include "acpi.h"
#include "e820.h"
#include "mptable.h"
#include "seabios_info.h"

static void test_e820_layouts(void **state)
{
	struct e820_entry e[8];
	unsigned n = e820_build(e, 8, 32ULL << 20, 0, 0xc0000, 0);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].start, 0);
	assert_int_equal(e[0].size, 0xa0000);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].start, 0xc0000);
	assert_int_equal(e[1].start + e[1].size, 0x100000);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].start, 0x100000);
	assert_int_equal(e[2].start + e[2].size, 32ULL << 20);
	/* Sorted and non-overlapping, with RAM above 4 GiB last. */
	n = e820_build(e, 8, 3000ULL << 20, 2ULL << 30, 0xe0000, 0);
	assert_int_equal(n, 4);
	for (unsigned i = 1; i < n; i++)
		assert_true(e[i].start >= e[i - 1].start + e[i - 1].size);
	assert_int_equal(e[3].start, 1ULL << 32);
	assert_int_equal(sizeof(struct e820_entry), 20);
	/* Nonsense in, nothing out. */
	assert_int_equal(e820_build(e, 8, 0x80000, 0, 0xc0000, 0), 0);
	assert_int_equal(e820_build(e, 8, 32 << 20, 0, 0xc1000, 0), 0);
	assert_int_equal(e820_build(e, 8, 32 << 20, 0, 0x100000, 0), 0);
	assert_int_equal(e820_build(e, 4, 32 << 20, 0, 0xc0000, 0), 0);
	/* The ACPI tables' page at the top of low RAM. */
	n = e820_build(e, 8, 32ULL << 20, 0, 0xc0000, 0x1000);
	assert_int_equal(n, 4);
	assert_int_equal(e[2].start + e[2].size, (32ULL << 20) - 0x1000);
	assert_int_equal(e[3].start, (32ULL << 20) - 0x1000);
	assert_int_equal(e[3].size, 0x1000);
	assert_int_equal(e[3].type, E820_ACPI);
	assert_int_equal(e820_build(e, 8, 32ULL << 20, 0, 0xc0000, 0x800), 0);
}

static void test_seabios_info(void **state)
{
	struct seabios_info si;
	uint32_t tables[SEABIOS_MAX_TABLES];
	assert_int_equal(sizeof(si), 32);
	seabios_info_init(&si, 0x10400, 0x10000, 3);
	assert_int_equal(seabios_info_add_table(&si, tables, 0xf0000), 0);
	for (int i = 1; i < SEABIOS_MAX_TABLES; i++)
		assert_int_equal(seabios_info_add_table(&si, tables, 0x1000 * i), 0);
	assert_int_equal(seabios_info_add_table(&si, tables, 0x9999), -1);
	seabios_info_finish(&si);
	assert_int_equal(seabios_info_check(&si, sizeof(si)), 0);
	assert_memory_equal(si.signature, "XenHVMSeaBIOS\0", 14);
	assert_int_equal(si.length, 32);
	/* SeaBIOS's own rule: the bytes [0, length) sum to zero. */
	uint8_t sum = 0;
	for (unsigned i = 0; i < si.length; i++)
		sum += ((uint8_t *)&si)[i];
	assert_int_equal(sum, 0);
	si.e820_nr++;
	assert_int_equal(seabios_info_check(&si, sizeof(si)), -3);
	si.e820_nr--;
	si.signature[0] = 'x';
	assert_int_equal(seabios_info_check(&si, sizeof(si)), -1);
}

static uint8_t bytesum(const void *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += ((const uint8_t *)p)[i];
	return s;
}

/* The tables describe what Keel emulates. */
static void test_topology_matches_keel(void **state)
{
	assert_int_equal(TOPO_IOAPIC_ID, VIOAPIC_ID);
	assert_int_equal(TOPO_IOAPIC_ADDR, VIOAPIC_BASE);
	assert_int_equal(TOPO_LAPIC_ADDR, VLAPIC_DEFAULT_BASE);
	assert_int_equal(TOPO_IOAPIC_VERSION, VIOAPIC_VERSION);
	assert_int_equal(TOPO_LAPIC_VERSION, VLAPIC_VERSION & 0xff);
	for (unsigned irq = 0; irq < 16; irq++)
		assert_int_equal(topo_isa_gsi(irq), virq_isa_to_gsi(irq));
}

/* Parses the MP table the way a guest does and checks every entry. */
static void test_mptable(void **state)
{
	for (unsigned n = 1; n <= TOPO_MAX_CPUS; n++) {
		struct mp_float fp;
		uint8_t cfg[MP_CONFIG_MAX];
		struct topology t = { n, 0x000506e3, 0x0781abfd };
		memset(cfg, 0xcc, sizeof(cfg));
		size_t len = mptable_build(&fp, cfg, 0x10810, sizeof(cfg), &t);
		assert_true(len > 0 && len <= MP_CONFIG_MAX);
		assert_memory_equal(fp.signature, "_MP_", 4);
		assert_int_equal(sizeof(fp), 16);
		assert_int_equal(fp.length, 1);
		assert_int_equal(fp.revision, 4);
		assert_int_equal(fp.config, 0x10810);
		assert_int_equal(fp.feature[0], 0);
		assert_int_equal(bytesum(&fp, 16), 0);
		struct mp_config *h = (struct mp_config *)cfg;
		assert_memory_equal(h->signature, "PCMP", 4);
		assert_int_equal(h->length, len);
		assert_int_equal(bytesum(cfg, len), 0);
		assert_int_equal(h->lapic, 0xfee00000u);
		unsigned cpus = 0, bsp = 0, buses = 0, ioapics = 0, irqs = 0, lints = 0, seen_ids = 0;
		int irq0_pin = -1;
		uint8_t *p = cfg + sizeof(*h);
		for (unsigned i = 0; i < h->entries; i++) {
			assert_true(p < cfg + len);
			switch (p[0]) {
			case MP_PROCESSOR: {
				struct mp_processor *e = (struct mp_processor *)p;
				assert_true(e->flags & 1);
				assert_int_equal(e->apic_version, 0x14);
				assert_int_equal(e->signature, 0x000506e3);
				seen_ids |= 1u << e->apic_id;
				bsp += (e->flags & 2) ? 1 : 0;
				if (e->flags & 2)
					assert_int_equal(e->apic_id, 0);
				cpus++;
				p += 20;
				break;
			}
			case MP_BUS:
				assert_memory_equal(((struct mp_bus *)p)->name, "ISA   ", 6);
				buses++;
				p += 8;
				break;
			case MP_IOAPIC: {
				struct mp_ioapic *e = (struct mp_ioapic *)p;
				assert_int_equal(e->id, TOPO_IOAPIC_ID);
				assert_int_equal(e->address, 0xfec00000u);
				assert_int_equal(e->flags, 1);
				ioapics++;
				p += 8;
				break;
			}
			case MP_IOINTR: {
				struct mp_intr *e = (struct mp_intr *)p;
				assert_int_equal(e->dst_apic, TOPO_IOAPIC_ID);
				assert_int_not_equal(e->src_irq, 2);
				if (e->src_irq == 0)
					irq0_pin = e->dst_pin;
				else
					assert_int_equal(e->dst_pin, e->src_irq);
				irqs++;
				p += 8;
				break;
			}
			case MP_LINTR: {
				struct mp_intr *e = (struct mp_intr *)p;
				assert_int_equal(e->dst_apic, 0xff);
				assert_int_equal(e->dst_pin, e->kind == 3 ? 0 : 1); /* ExtINT LINT0, NMI LINT1 */
				lints++;
				p += 8;
				break;
			}
			default:
				fail_msg("unknown MP entry type %u", p[0]);
			}
		}
		assert_ptr_equal(p, cfg + len);
		assert_int_equal(cpus, n);
		assert_int_equal(seen_ids, (1u << n) - 1); /* APIC ids 0..n-1, once each */
		assert_int_equal(bsp, 1);
		assert_int_equal(buses, 1);
		assert_int_equal(ioapics, 1);
		assert_int_equal(irqs, 15);
		assert_int_equal(irq0_pin, 2);
		assert_int_equal(lints, 2);
	}
	struct mp_float fp;
	uint8_t cfg[MP_CONFIG_MAX];
	struct topology none = { 0, 0, 0 }, many = { 9, 0, 0 }, two = { 2, 0, 0 };
	assert_int_equal(mptable_build(&fp, cfg, 0, sizeof(cfg), &none), 0);
	assert_int_equal(mptable_build(&fp, cfg, 0, sizeof(cfg), &many), 0);
	assert_int_equal(mptable_build(&fp, cfg, 0, 100, &two), 0); /* does not fit */
}

static void test_acpi(void **state)
{
	const uint32_t pa = 0x01fff000;
	for (unsigned n = 1; n <= TOPO_MAX_CPUS; n++) {
		struct acpi_rsdp r;
		uint8_t area[4096];
		struct topology t = { n, 0, 0 };
		size_t used = acpi_build(&r, area, pa, sizeof(area), &t, false);
		assert_true(used > 0 && used <= sizeof(area));
		assert_memory_equal(r.signature, "RSD PTR ", 8);
		assert_int_equal(sizeof(r), 36);
		assert_int_equal(bytesum(&r, 20), 0);
		assert_int_equal(bytesum(&r, 36), 0);
		assert_int_equal(r.revision, 2);
		assert_int_equal(r.length, 36);
		/* RSDT and XSDT each point to the one MADT. */
		struct acpi_header *rsdt = (struct acpi_header *)(area + (r.rsdt - pa));
		struct acpi_header *xsdt = (struct acpi_header *)(area + (r.xsdt - pa));
		assert_memory_equal(rsdt->signature, "RSDT", 4);
		assert_memory_equal(xsdt->signature, "XSDT", 4);
		assert_int_equal(rsdt->length, 36 + 4);
		assert_int_equal(xsdt->length, 36 + 8);
		assert_int_equal(bytesum(rsdt, rsdt->length), 0);
		assert_int_equal(bytesum(xsdt, xsdt->length), 0);
		uint32_t madt_pa;
		uint64_t madt_pa64;
		memcpy(&madt_pa, (uint8_t *)rsdt + 36, 4);
		memcpy(&madt_pa64, (uint8_t *)xsdt + 36, 8);
		assert_int_equal(madt_pa, madt_pa64);
		struct acpi_header *madt = (struct acpi_header *)(area + (madt_pa - pa));
		assert_memory_equal(madt->signature, "APIC", 4);
		assert_int_equal(bytesum(madt, madt->length), 0);
		assert_true(madt_pa - pa + madt->length == used);
		uint32_t lapic_addr, flags;
		memcpy(&lapic_addr, (uint8_t *)madt + 36, 4);
		memcpy(&flags, (uint8_t *)madt + 40, 4);
		assert_int_equal(lapic_addr, 0xfee00000u);
		assert_int_equal(flags, MADT_PCAT_COMPAT);
		unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0, ids = 0;
		for (uint8_t *e = (uint8_t *)madt + 44; e < (uint8_t *)madt + madt->length; e += e[1]) {
			assert_true(e[1] >= 2);
			uint32_t v;
			switch (e[0]) {
			case MADT_LAPIC:
				assert_int_equal(e[1], 8);
				assert_int_equal(e[2], e[3]); /* UID = APIC id */
				assert_int_equal(e[4] & 1, 1);
				ids |= 1u << e[3];
				lapics++;
				break;
			case MADT_IOAPIC:
				assert_int_equal(e[1], 12);
				assert_int_equal(e[2], TOPO_IOAPIC_ID);
				memcpy(&v, e + 4, 4);
				assert_int_equal(v, 0xfec00000u);
				memcpy(&v, e + 8, 4);
				assert_int_equal(v, 0);
				ioapics++;
				break;
			case MADT_ISO:
				assert_int_equal(e[1], 10);
				assert_int_equal(e[2], 0);
				assert_int_equal(e[3], 0);
				memcpy(&v, e + 4, 4);
				assert_int_equal(v, 2); /* IRQ0 -> GSI 2 */
				isos++;
				break;
			case MADT_LAPIC_NMI:
				assert_int_equal(e[1], 6);
				assert_int_equal(e[2], 0xff);
				assert_int_equal(e[5], 1);
				nmis++;
				break;
			default:
				fail_msg("unknown MADT entry type %u", e[0]);
			}
		}
		assert_int_equal(lapics, n);
		assert_int_equal(ids, (1u << n) - 1);
		assert_int_equal(ioapics, 1);
		assert_int_equal(isos, 1);
		assert_int_equal(nmis, 1);
	}
	struct acpi_rsdp r;
	uint8_t small[64];
	struct topology two = { 2, 0, 0 }, none = { 0, 0, 0 };
	assert_int_equal(acpi_build(&r, small, pa, sizeof(small), &two, false), 0);
	assert_int_equal(acpi_build(&r, small, pa, sizeof(small), &none, false), 0);
}

/* Guest memory for the waking-vector search: the RSDP in the BIOS area,
 * the tables at 0x1fff000. */
static uint8_t wake_bios[0x20000], wake_tables[4096];

static bool wake_read(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	if (gpa >= 0xe0000 && gpa + len <= 0x100000) {
		memcpy(buf, wake_bios + (gpa - 0xe0000), len);
		return true;
	}
	if (gpa >= 0x01fff000 && gpa + len <= 0x01fff000 + sizeof(wake_tables)) {
		memcpy(buf, wake_tables + (gpa - 0x01fff000), len);
		return true;
	}
	return false;
}

static void test_acpi_power_management(void **state)
{
	/* acpi:pm: the FADT (listed by RSDT and XSDT) names the PM1a
	 * registers of hvm/dev/vpm.c, its FACS and the DSDT. */
	const uint32_t pa = 0x01fff000;
	struct acpi_rsdp r;
	struct topology t = { 2, 0, 0 };
	memset(wake_tables, 0, sizeof(wake_tables));
	size_t used = acpi_build(&r, wake_tables, pa, sizeof(wake_tables), &t, true);
	assert_true(used > 0 && used <= sizeof(wake_tables));
	struct acpi_header *rsdt = (struct acpi_header *)(wake_tables + (r.rsdt - pa));
	struct acpi_header *xsdt = (struct acpi_header *)(wake_tables + (r.xsdt - pa));
	assert_int_equal(rsdt->length, 36 + 2 * 4);
	assert_int_equal(xsdt->length, 36 + 2 * 8);
	assert_int_equal(bytesum(rsdt, rsdt->length), 0);
	assert_int_equal(bytesum(xsdt, xsdt->length), 0);
	uint32_t fadt_pa, facs_pa, dsdt_pa, v;
	uint64_t x;
	memcpy(&fadt_pa, (uint8_t *)rsdt + 40, 4);
	memcpy(&x, (uint8_t *)xsdt + 44, 8);
	assert_int_equal(fadt_pa, x);
	uint8_t *fadt = wake_tables + (fadt_pa - pa);
	assert_memory_equal(fadt, "FACP", 4);
	assert_int_equal(((struct acpi_header *)fadt)->length, 244);
	assert_int_equal(bytesum(fadt, 244), 0);
	memcpy(&facs_pa, fadt + 36, 4);
	memcpy(&dsdt_pa, fadt + 40, 4);
	memcpy(&x, fadt + 140, 8);
	assert_int_equal(x, dsdt_pa);
	memcpy(&v, fadt + 56, 4);
	assert_int_equal(v, VPM_PM1A_EVT);
	memcpy(&v, fadt + 64, 4);
	assert_int_equal(v, VPM_PM1A_CNT);
	memcpy(&v, fadt + 76, 4);
	assert_int_equal(v, 0); /* no PM timer: SeaBIOS would poll it */
	assert_int_equal(fadt[88], 4);
	assert_int_equal(fadt[89], 2);
	uint16_t sci;
	memcpy(&sci, fadt + 46, 2);
	assert_int_equal(sci, VPM_SCI_IRQ);
	assert_int_equal(facs_pa % 64, 0);
	uint8_t *facs = wake_tables + (facs_pa - pa);
	assert_memory_equal(facs, "FACS", 4);
	memcpy(&v, facs + 4, 4);
	assert_int_equal(v, 64);
	struct acpi_header *dsdt = (struct acpi_header *)(wake_tables + (dsdt_pa - pa));
	assert_memory_equal(dsdt->signature, "DSDT", 4);
	assert_int_equal(bytesum(dsdt, dsdt->length), 0);
	assert_true(dsdt_pa - pa + dsdt->length == used);
	/* Without it, there is no FADT, and everything fits where it did. */
	uint8_t small[0x200];
	assert_true(acpi_build(&r, small, pa, sizeof(small), &t, false) > 0);
	assert_int_equal(acpi_build(&r, small, pa, sizeof(small), &t, true), 0);

	/* The wake: the FACS waking vector the OS wrote, found as firmware
	 * would find it, with every step checked. */
	memset(wake_bios, 0, sizeof(wake_bios));
	acpi_build(&r, wake_tables, pa, sizeof(wake_tables), &t, true);
	uint32_t vector;
	const char *why;
	assert_int_equal(acpi_find_waking_vector(wake_read, NULL, &vector, &why), -1);
	assert_string_equal(why, "no RSDP in 0xE0000-0xFFFFF");
	memcpy(wake_bios + 0x10400, &r, sizeof(r));
	assert_int_equal(acpi_find_waking_vector(wake_read, NULL, &vector, &why), -1);
	assert_string_equal(why, "the FACS has no real-mode waking vector");
	v = 0x9a010;
	memcpy(facs + 12, &v, 4);
	assert_int_equal(acpi_find_waking_vector(wake_read, NULL, &vector, &why), 0);
	assert_int_equal(vector, 0x9a010);
	memcpy(facs, "FACZ", 4);
	assert_int_equal(acpi_find_waking_vector(wake_read, NULL, &vector, &why), -1);
	assert_string_equal(why, "the FADT's FACS is not a FACS");
	memcpy(fadt, "FACX", 4);
	assert_int_equal(acpi_find_waking_vector(wake_read, NULL, &vector, &why), -1);
	assert_string_equal(why, "the RSDT lists no FADT");
	((uint8_t *)&r)[8] ^= 1; /* bad RSDP checksum */
	memcpy(wake_bios + 0x10400, &r, sizeof(r));
	assert_int_equal(acpi_find_waking_vector(wake_read, NULL, &vector, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topology_matches_keel),
		cmocka_unit_test(test_mptable),
		cmocka_unit_test(test_acpi),
		cmocka_unit_test(test_acpi_power_management),
		cmocka_unit_test(test_e820_layouts),
		cmocka_unit_test(test_seabios_info),
	};
	return cmocka_run_group_tests_name("loader tables", tests, NULL, NULL);
}
