/*
 * ACPI tables describing the APICs: RSDP -> RSDT and XSDT -> MADT. The MADT
 * has one processor local APIC entry per vCPU (ACPI UID = APIC id = vCPU
 * number), the I/O APIC with GSI base 0, the usual interrupt source
 * override ISA IRQ 0 -> GSI 2 (bus default polarity and trigger), and the
 * local APIC NMI on LINT1 of every processor. No FADT or DSDT: Keel offers
 * no ACPI power management.
 */
#include "acpi.h"

static void put(void *dst, const void *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)dst)[i] = ((const uint8_t *)src)[i];
}

static uint8_t sum(const void *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += ((const uint8_t *)p)[i];
	return s;
}

static void header(struct acpi_header *h, const char sig[4], uint32_t length, uint8_t revision)
{
	static const struct acpi_header tmpl = { { 0 }, 0, 0, 0, { 'K', 'E', 'E', 'L', ' ', ' ' },
						 { 'K', 'E', 'E', 'L', 'H', 'V', 'M', ' ' }, 1, { 'K', 'E', 'E', 'L' }, 1 };
	put(h, &tmpl, sizeof(tmpl));
	put(h->signature, sig, 4);
	h->length = length;
	h->revision = revision;
}

static void finish(void *table)
{
	struct acpi_header *h = table;
	h->checksum = 0;
	h->checksum = (uint8_t)-sum(table, h->length);
}

static uint8_t *madt_build(uint8_t *p, const struct topology *t)
{
	struct acpi_header *h = (struct acpi_header *)p;
	uint8_t *e = p + sizeof(*h);
	uint32_t lapic = TOPO_LAPIC_ADDR, flags = MADT_PCAT_COMPAT;
	put(e, &lapic, 4);
	put(e + 4, &flags, 4);
	e += 8;
	for (unsigned i = 0; i < t->nr_cpus; i++) {
		uint8_t l[8] = { MADT_LAPIC, 8, (uint8_t)i, (uint8_t)i, 1, 0, 0, 0 }; /* flags: enabled */
		put(e, l, 8);
		e += 8;
	}
	uint8_t io[12] = { MADT_IOAPIC, 12, TOPO_IOAPIC_ID, 0 };
	uint32_t addr = TOPO_IOAPIC_ADDR, gsi_base = 0;
	put(io + 4, &addr, 4);
	put(io + 8, &gsi_base, 4);
	put(e, io, 12);
	e += 12;
	uint8_t iso[10] = { MADT_ISO, 10, 0 /* ISA */, 0 /* IRQ 0 */ };
	uint32_t gsi = topo_isa_gsi(0);
	put(iso + 4, &gsi, 4); /* flags (bytes 8-9) 0: conforms to the bus */
	put(e, iso, 10);
	e += 10;
	uint8_t nmi[6] = { MADT_LAPIC_NMI, 6, 0xff /* all processors */, 0, 0, 1 /* LINT1 */ };
	put(e, nmi, 6);
	e += 6;
	header(h, "APIC", (uint32_t)(e - p), 4);
	finish(h);
	return e;
}

size_t acpi_build(struct acpi_rsdp *rsdp, void *tables, uint32_t tables_pa, size_t max, const struct topology *t)
{
	if (t->nr_cpus == 0 || t->nr_cpus > TOPO_MAX_CPUS)
		return 0;
	const size_t hdr = sizeof(struct acpi_header);
	size_t madt_len = hdr + 8 + 8 * t->nr_cpus + 12 + 10 + 6;
	size_t rsdt_off = 0, xsdt_off = (hdr + 4 + 7) & ~(size_t)7, madt_off = xsdt_off + hdr + 8;
	if (madt_off + madt_len > max)
		return 0;
	uint8_t *base = tables;
	uint32_t madt_pa = tables_pa + (uint32_t)madt_off;

	madt_build(base + madt_off, t);

	struct acpi_header *rsdt = (struct acpi_header *)(base + rsdt_off);
	header(rsdt, "RSDT", (uint32_t)(hdr + 4), 1);
	put(base + rsdt_off + hdr, &madt_pa, 4);
	finish(rsdt);

	struct acpi_header *xsdt = (struct acpi_header *)(base + xsdt_off);
	uint64_t madt_pa64 = madt_pa;
	header(xsdt, "XSDT", (uint32_t)(hdr + 8), 1);
	put(base + xsdt_off + hdr, &madt_pa64, 8);
	finish(xsdt);

	struct acpi_rsdp r = { { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ' }, 0, { 'K', 'E', 'E', 'L', ' ', ' ' }, 2,
			       tables_pa + (uint32_t)rsdt_off, sizeof(struct acpi_rsdp), tables_pa + (uint64_t)xsdt_off,
			       0, { 0, 0, 0 } };
	put(rsdp, &r, sizeof(r));
	rsdp->checksum = (uint8_t)-sum(rsdp, 20);
	rsdp->ext_checksum = (uint8_t)-sum(rsdp, sizeof(*rsdp));
	return madt_off + madt_len;
}
