/* MADT processor enumeration; see include/keel/acpi.h. */
#include <keel/acpi.h>
#include <keel/format.h>
#include <keel/string.h>

#define SDT_HEADER_LEN 36
#define MADT_ENTRIES_OFF 44 /* header, local APIC address, flags */
#define MADT_PCAT_COMPAT 1u

enum madt_type {
	MADT_LOCAL_APIC = 0,
	MADT_IO_APIC = 1,
	MADT_LAPIC_ADDR_OVERRIDE = 5,
	MADT_LOCAL_X2APIC = 9,
};
#define MADT_LAPIC_ENABLED 1u
#define MADT_LAPIC_ONLINE_CAPABLE 2u

static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static bool checksum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum += p[i];
	return sum == 0;
}

/* Maps a whole system description table after checking its header. */
static const uint8_t *map_sdt(acpi_map_fn map, void *ctx, uint64_t pa, const char *what, char *err, size_t errlen)
{
	const uint8_t *h = map(ctx, pa, SDT_HEADER_LEN);
	if (!h) {
		ksnprintf(err, errlen, "%s at %#lx cannot be reached", what, pa);
		return NULL;
	}
	uint32_t len = get32(h + 4);
	if (len < SDT_HEADER_LEN || len > MiB(1)) {
		ksnprintf(err, errlen, "%s at %#lx: implausible length %u", what, pa, len);
		return NULL;
	}
	const uint8_t *t = map(ctx, pa, len);
	if (!t) {
		ksnprintf(err, errlen, "%s at %#lx (%u bytes) cannot be reached", what, pa, len);
		return NULL;
	}
	if (!checksum_ok(t, len)) {
		ksnprintf(err, errlen, "%s at %#lx: bad checksum", what, pa);
		return NULL;
	}
	return t;
}

static void add_cpu(struct acpi_cpus *out, uint32_t apic_id, uint32_t flags)
{
	if (!(flags & (MADT_LAPIC_ENABLED | MADT_LAPIC_ONLINE_CAPABLE))) {
		out->nr_disabled++;
		return;
	}
	for (unsigned i = 0; i < out->nr; i++)
		if (out->apic_id[i] == apic_id)
			return; /* listed as both LAPIC and x2APIC */
	if (apic_id > out->max_apic_id)
		out->max_apic_id = apic_id;
	if (out->nr == ACPI_MAX_CPUS) {
		out->nr_dropped++;
		return;
	}
	out->apic_id[out->nr++] = apic_id;
}

static int parse_madt(const uint8_t *t, struct acpi_cpus *out, char *err, size_t errlen)
{
	uint32_t len = get32(t + 4);
	if (len < MADT_ENTRIES_OFF) {
		ksnprintf(err, errlen, "MADT is %u bytes, shorter than its fixed part", len);
		return -1;
	}
	out->lapic_base = get32(t + 36);
	out->pcat_compat = get32(t + 40) & MADT_PCAT_COMPAT;
	for (uint32_t off = MADT_ENTRIES_OFF; off < len;) {
		if (len - off < 2) {
			ksnprintf(err, errlen, "MADT entry at offset %u is cut off", off);
			return -1;
		}
		uint8_t type = t[off], elen = t[off + 1];
		if (elen < 2 || elen > len - off) {
			ksnprintf(err, errlen, "MADT entry at offset %u has bad length %u", off, elen);
			return -1;
		}
		const uint8_t *e = t + off;
		if (type == MADT_LOCAL_APIC && elen >= 8)
			add_cpu(out, e[3], get32(e + 4));
		else if (type == MADT_LOCAL_X2APIC && elen >= 16) {
			out->nr_x2apic_entries++;
			add_cpu(out, get32(e + 4), get32(e + 8));
		}
		else if (type == MADT_IO_APIC && elen >= 12)
			out->nr_ioapics++;
		else if (type == MADT_LAPIC_ADDR_OVERRIDE && elen >= 12)
			out->lapic_base = get64(e + 4);
		off += elen;
	}
	return 0;
}

int acpi_find_cpus(const uint8_t *rsdp, unsigned rsdp_len, acpi_map_fn map, void *ctx, struct acpi_cpus *out,
		   char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (rsdp_len < 20 || memcmp(rsdp, "RSD PTR ", 8) != 0) {
		ksnprintf(err, errlen, "no valid RSDP (signature missing)");
		return -1;
	}
	if (!checksum_ok(rsdp, 20)) {
		ksnprintf(err, errlen, "RSDP: bad checksum");
		return -1;
	}
	/* ACPI 2.0+: prefer the XSDT (64-bit pointers) when it is there. */
	uint64_t root = get32(rsdp + 16);
	unsigned ptr_size = 4;
	const char *root_name = "RSDT";
	if (rsdp[15] >= 2 && rsdp_len >= 36) {
		uint32_t xlen = get32(rsdp + 20);
		if (xlen >= 36 && xlen <= rsdp_len && checksum_ok(rsdp, xlen) && get64(rsdp + 24)) {
			root = get64(rsdp + 24);
			ptr_size = 8;
			root_name = "XSDT";
		}
	}
	if (!root) {
		ksnprintf(err, errlen, "RSDP points to no root table");
		return -1;
	}
	const uint8_t *rt = map_sdt(map, ctx, root, root_name, err, errlen);
	if (!rt)
		return -1;
	if (memcmp(rt, ptr_size == 8 ? "XSDT" : "RSDT", 4) != 0) {
		ksnprintf(err, errlen, "%s at %#lx: wrong signature", root_name, root);
		return -1;
	}
	uint32_t n = (get32(rt + 4) - SDT_HEADER_LEN) / ptr_size;
	/* Copy the pointers: mapping a listed table may reuse the root's
	 * mapping slot. */
	uint64_t ptrs[64];
	if (n > ARRAY_SIZE(ptrs))
		n = ARRAY_SIZE(ptrs);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = rt + SDT_HEADER_LEN + i * ptr_size;
		ptrs[i] = ptr_size == 8 ? get64(p) : get32(p);
	}
	for (uint32_t i = 0; i < n; i++) {
		if (!ptrs[i])
			continue;
		const uint8_t *h = map(ctx, ptrs[i], 4);
		if (!h || memcmp(h, "APIC", 4) != 0)
			continue;
		const uint8_t *madt = map_sdt(map, ctx, ptrs[i], "MADT", err, errlen);
		if (!madt)
			return -1;
		return parse_madt(madt, out, err, errlen);
	}
	ksnprintf(err, errlen, "the %s lists no MADT", root_name);
	return -1;
}
