/* The FACS waking vector of a guest's ACPI tables (include/keel/acpi_wake.h). */
#include <keel/acpi_wake.h>
#include <keel/string.h>

#define BIOS_AREA 0xe0000u
#define BIOS_AREA_END 0x100000u
#define SDT_HEADER 36
#define MAX_RSDT_ENTRIES 64
#define FADT_FIRMWARE_CTRL 36
#define FACS_WAKING_VECTOR 12
#define FACS_MIN_LENGTH 64

static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static bool sums_to_zero(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < n; i++)
		s += p[i];
	return s == 0;
}

int acpi_find_waking_vector(acpi_wake_read_fn read, void *ctx, uint32_t *vector, const char **why)
{
	uint8_t rsdp[20];
	uint32_t rsdt = 0;
	for (uint32_t a = BIOS_AREA; a < BIOS_AREA_END && !rsdt; a += 16) {
		if (read(ctx, a, rsdp, sizeof(rsdp)) && !memcmp(rsdp, "RSD PTR ", 8) && sums_to_zero(rsdp, 20))
			rsdt = get32(rsdp + 16);
	}
	if (!rsdt) {
		*why = "no RSDP in 0xE0000-0xFFFFF";
		return -1;
	}
	uint8_t hdr[SDT_HEADER];
	if (!read(ctx, rsdt, hdr, sizeof(hdr)) || memcmp(hdr, "RSDT", 4) || get32(hdr + 4) < SDT_HEADER) {
		*why = "the RSDP's RSDT is not an RSDT";
		return -1;
	}
	uint32_t entries = (get32(hdr + 4) - SDT_HEADER) / 4;
	for (uint32_t i = 0; i < entries && i < MAX_RSDT_ENTRIES; i++) {
		uint8_t e[4], fadt[FADT_FIRMWARE_CTRL + 4], facs[FACS_WAKING_VECTOR + 4];
		if (!read(ctx, rsdt + SDT_HEADER + 4 * i, e, 4) || !read(ctx, get32(e), fadt, sizeof(fadt)) ||
		    memcmp(fadt, "FACP", 4))
			continue;
		uint32_t facs_pa = get32(fadt + FADT_FIRMWARE_CTRL);
		if (!read(ctx, facs_pa, facs, sizeof(facs)) || memcmp(facs, "FACS", 4) ||
		    get32(facs + 4) < FACS_MIN_LENGTH) {
			*why = "the FADT's FACS is not a FACS";
			return -1;
		}
		*vector = get32(facs + FACS_WAKING_VECTOR);
		if (!*vector || *vector >= BIOS_AREA_END) {
			*why = "the FACS has no real-mode waking vector";
			return -1;
		}
		return 0;
	}
	*why = "the RSDT lists no FADT";
	return -1;
}
