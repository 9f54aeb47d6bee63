/*
 * MP tables (Intel MultiProcessor Specification 1.4, chapter 4): one
 * processor entry per vCPU, the ISA bus, the I/O APIC, one I/O interrupt
 * entry per ISA IRQ (IRQ 0 on input 2, IRQ 2, the cascade, left out) and
 * the local interrupts of the virtual wire: ExtINT on LINT0, NMI on LINT1.
 */
#include "mptable.h"

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

size_t mptable_build(struct mp_float *fp, void *cfg, uint32_t cfg_pa, size_t cfg_max, const struct topology *t)
{
	if (t->nr_cpus == 0 || t->nr_cpus > TOPO_MAX_CPUS)
		return 0;
	size_t need = sizeof(struct mp_config) + t->nr_cpus * sizeof(struct mp_processor) + sizeof(struct mp_bus) +
		      sizeof(struct mp_ioapic) + (TOPO_ISA_IRQS - 1 + 2) * sizeof(struct mp_intr);
	if (need > cfg_max || need > MP_CONFIG_MAX)
		return 0;

	uint8_t *p = (uint8_t *)cfg + sizeof(struct mp_config);
	uint16_t entries = 0;
	for (unsigned i = 0; i < t->nr_cpus; i++) {
		struct mp_processor e = { MP_PROCESSOR, (uint8_t)i, TOPO_LAPIC_VERSION, (uint8_t)(1 | (i == 0 ? 2 : 0)),
					  t->cpu_signature, t->cpu_features, { 0, 0 } };
		put(p, &e, sizeof(e));
		p += sizeof(e);
		entries++;
	}
	struct mp_bus bus = { MP_BUS, 0, { 'I', 'S', 'A', ' ', ' ', ' ' } };
	put(p, &bus, sizeof(bus));
	p += sizeof(bus);
	entries++;
	struct mp_ioapic io = { MP_IOAPIC, TOPO_IOAPIC_ID, TOPO_IOAPIC_VERSION, 1, TOPO_IOAPIC_ADDR };
	put(p, &io, sizeof(io));
	p += sizeof(io);
	entries++;
	for (unsigned irq = 0; irq < TOPO_ISA_IRQS; irq++) {
		if (irq == 2)
			continue; /* the 8259A cascade: never an interrupt */
		struct mp_intr e = { MP_IOINTR, 0, 0, 0, (uint8_t)irq, TOPO_IOAPIC_ID, (uint8_t)topo_isa_gsi(irq) };
		put(p, &e, sizeof(e));
		p += sizeof(e);
		entries++;
	}
	struct mp_intr lint0 = { MP_LINTR, 3, 0, 0, 0, 0xff, 0 }; /* ExtINT -> LINT0 */
	struct mp_intr lint1 = { MP_LINTR, 1, 0, 0, 0, 0xff, 1 }; /* NMI -> LINT1 */
	put(p, &lint0, sizeof(lint0));
	p += sizeof(lint0);
	put(p, &lint1, sizeof(lint1));
	p += sizeof(lint1);
	entries += 2;

	size_t len = (size_t)(p - (uint8_t *)cfg);
	struct mp_config h = { { 'P', 'C', 'M', 'P' }, (uint16_t)len, 4, 0, { 'K', 'E', 'E', 'L', ' ', ' ', ' ', ' ' },
			       { 'K', 'E', 'E', 'L', ' ', 'H', 'V', 'M', ' ', ' ', ' ', ' ' }, 0, 0, entries,
			       TOPO_LAPIC_ADDR, 0, 0, 0 };
	put(cfg, &h, sizeof(h));
	((struct mp_config *)cfg)->checksum = (uint8_t)-sum(cfg, len);

	struct mp_float f = { { '_', 'M', 'P', '_' }, cfg_pa, 1, 4, 0, { 0, 0, 0, 0, 0 } };
	put(fp, &f, sizeof(f));
	fp->checksum = (uint8_t)-sum(fp, sizeof(*fp));
	return len;
}
