/*
 * ACPI tables describing the APICs: RSDP -> RSDT and XSDT -> MADT. The MADT
 * has one processor local APIC entry per vCPU (ACPI UID = APIC id = vCPU
 * number), the I/O APIC with GSI base 0, the usual interrupt source
 * override ISA IRQ 0 -> GSI 2 (bus default polarity and trigger), and the
 * local APIC NMI on LINT1 of every processor.
 *
 * With power management (acpi:pm), also a FADT naming the PM1a registers
 * of hvm/dev/vpm.c, a FACS (the OS's waking vector for S3) and the DSDT of
 * loader/dsdt.asl. The FADT names no PM timer: SeaBIOS would take it as its
 * clock and read it, one VM exit each time, wherever it waits.
 */
#include "acpi.h"
#include "dsdt_aml.h"

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

/* A Generic Address Structure for system I/O ports (ACPI 5.2.3.2). */
static void gas_io(uint8_t *p, uint16_t port, uint8_t bits, uint8_t access_size)
{
	uint8_t g[12] = { 1 /* system I/O */, bits, 0, access_size };
	uint64_t a = port;
	put(g + 4, &a, 8);
	put(p, g, 12);
}

static void put32_at(uint8_t *p, size_t off, uint32_t v) { put(p + off, &v, 4); }

/* FADT revision 3 (ACPI 2.0 layout, 244 bytes: 5.2.9). */
static void fadt_build(uint8_t *p, uint32_t facs_pa, uint32_t dsdt_pa)
{
	for (size_t i = 0; i < ACPI_FADT_LENGTH; i++)
		p[i] = 0;
	put32_at(p, 36, facs_pa); /* FIRMWARE_CTRL (X_FIRMWARE_CTRL stays 0) */
	put32_at(p, 40, dsdt_pa);
	uint16_t sci = VPM_SCI_IRQ;
	put(p + 46, &sci, 2);
	/* SMI_CMD 0: no SMI handler; the platform is in ACPI mode from reset. */
	put32_at(p, 56, VPM_PM1A_EVT);
	put32_at(p, 64, VPM_PM1A_CNT);
	p[88] = 4; /* PM1_EVT_LEN */
	p[89] = 2; /* PM1_CNT_LEN */
	uint16_t no_c2 = 101, no_c3 = 1001; /* above the maximum: C2 and C3 not supported */
	put(p + 96, &no_c2, 2);
	put(p + 98, &no_c3, 2);
	p[108] = 0x32; /* CENTURY: the CMOS byte (hvm/dev/vrtc.c) */
	uint16_t boot_arch = ACPI_IAPC_LEGACY_DEVICES | ACPI_IAPC_8042;
	put(p + 109, &boot_arch, 2);
	put32_at(p, 112, ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_PWR_BUTTON | ACPI_FADT_SLP_BUTTON |
				 ACPI_FADT_RESET_REG_SUP);
	gas_io(p + 116, 0xcf9, 8, 1); /* RESET_REG: the PCI reset control port (hvm/dev/vpci.c) */
	p[128] = 0x06;		      /* RESET_VALUE: hard reset */
	uint64_t dsdt64 = dsdt_pa;
	put(p + 140, &dsdt64, 8); /* X_DSDT */
	gas_io(p + 148, VPM_PM1A_EVT, 32, 2);
	gas_io(p + 172, VPM_PM1A_CNT, 16, 2);
	header((struct acpi_header *)p, "FACP", ACPI_FADT_LENGTH, 3);
	finish(p);
}

/* FACS (5.2.10): 64 bytes, no checksum. */
static void facs_build(uint8_t *p)
{
	for (size_t i = 0; i < ACPI_FACS_LENGTH; i++)
		p[i] = 0;
	put(p, "FACS", 4);
	put32_at(p, 4, ACPI_FACS_LENGTH);
	p[32] = 1; /* version: X_FIRMWARE_WAKING_VECTOR exists */
}

size_t acpi_build(struct acpi_rsdp *rsdp, void *tables, uint32_t tables_pa, size_t max, const struct topology *t,
		  bool power_management)
{
	if (t->nr_cpus == 0 || t->nr_cpus > TOPO_MAX_CPUS)
		return 0;
	const size_t hdr = sizeof(struct acpi_header);
	const unsigned n = power_management ? 2 : 1; /* tables the RSDT and XSDT list */
	size_t madt_len = hdr + 8 + 8 * t->nr_cpus + 12 + 10 + 6;
	size_t rsdt_off = 0, xsdt_off = (hdr + 4 * n + 7) & ~(size_t)7, madt_off = xsdt_off + hdr + 8 * n;
	size_t fadt_off = madt_off + madt_len;
	size_t facs_off = (fadt_off + ACPI_FADT_LENGTH + 63) & ~(size_t)63; /* 64-byte aligned */
	size_t dsdt_off = facs_off + ACPI_FACS_LENGTH, end = power_management ? dsdt_off + sizeof(dsdt_aml) : fadt_off;
	if (end > max)
		return 0;
	uint8_t *base = tables;
	uint32_t pa[2] = { tables_pa + (uint32_t)madt_off, tables_pa + (uint32_t)fadt_off };

	madt_build(base + madt_off, t);
	if (power_management) {
		fadt_build(base + fadt_off, tables_pa + (uint32_t)facs_off, tables_pa + (uint32_t)dsdt_off);
		facs_build(base + facs_off);
		put(base + dsdt_off, dsdt_aml, sizeof(dsdt_aml));
	}

	struct acpi_header *rsdt = (struct acpi_header *)(base + rsdt_off);
	header(rsdt, "RSDT", (uint32_t)(hdr + 4 * n), 1);
	put(base + rsdt_off + hdr, pa, 4 * n);
	finish(rsdt);

	struct acpi_header *xsdt = (struct acpi_header *)(base + xsdt_off);
	header(xsdt, "XSDT", (uint32_t)(hdr + 8 * n), 1);
	for (unsigned i = 0; i < n; i++) {
		uint64_t pa64 = pa[i];
		put(base + xsdt_off + hdr + 8 * i, &pa64, 8);
	}
	finish(xsdt);

	struct acpi_rsdp r = { { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ' }, 0, { 'K', 'E', 'E', 'L', ' ', ' ' }, 2,
			       tables_pa + (uint32_t)rsdt_off, sizeof(struct acpi_rsdp), tables_pa + (uint64_t)xsdt_off,
			       0, { 0, 0, 0 } };
	put(rsdp, &r, sizeof(r));
	rsdp->checksum = (uint8_t)-sum(rsdp, 20);
	rsdp->ext_checksum = (uint8_t)-sum(rsdp, sizeof(*rsdp));
	return end;
}
