/* The ACPI RSDP from the UEFI configuration tables; see include/keel/efi_rsdp.h. */
#include <keel/efi_rsdp.h>
#include <keel/format.h>
#include <keel/string.h>

/* EFI_SYSTEM_TABLE, 64-bit: a 24-byte EFI_TABLE_HEADER (u64 Signature, u32
 * Revision, HeaderSize, CRC32, Reserved), then pointers and UINTNs; the
 * two fields Keel reads are NumberOfTableEntries and ConfigurationTable. */
#define SYSTAB_HEADER_SIZE_OFF 12
#define SYSTAB_NR_TABLES_OFF 104
#define SYSTAB_TABLES_OFF 112
#define SYSTAB_SIZE 120
/* EFI_CONFIGURATION_TABLE: EFI_GUID VendorGuid (16 bytes), VOID *VendorTable. */
#define CONFIG_TABLE_SIZE 24
#define RSDP_V1_SIZE 20
#define RSDP_V2_SIZE 36

/* The GUIDs in their in-memory form: Data1 (u32), Data2, Data3 (u16),
 * little-endian, then Data4's eight bytes as written.
 * ACPI_20_TABLE_GUID 8868e871-e4f1-11d3-bc22-0080c73c8881,
 * ACPI_TABLE_GUID    eb9d2d30-2d88-11d3-9a16-0090273fc14d. */
static const uint8_t acpi20_guid[16] = { 0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
					 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 };
static const uint8_t acpi10_guid[16] = { 0x30, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11,
					 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d };

static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static uint8_t byte_sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Copies the RSDP at pa if it is one: signature, the ACPI 1.0 checksum,
 * and for revision 2+ the length and extended checksum. Returns its size
 * (20 or 36) or 0 with the reason in why. */
static unsigned take_rsdp(uint64_t pa, acpi_map_fn map, void *ctx, uint8_t out[RSDP_V2_SIZE], char *why,
			  size_t whylen)
{
	unsigned mapped = RSDP_V2_SIZE;
	const uint8_t *r = pa ? map(ctx, pa, RSDP_V2_SIZE) : NULL;
	if (!r) {
		/* An ACPI 1.0 RSDP may end where readable memory does. */
		mapped = RSDP_V1_SIZE;
		r = pa ? map(ctx, pa, RSDP_V1_SIZE) : NULL;
	}
	if (!r) {
		ksnprintf(why, whylen, "the RSDP at %#lx cannot be reached", pa);
		return 0;
	}
	if (memcmp(r, "RSD PTR ", 8) != 0) {
		ksnprintf(why, whylen, "no \"RSD PTR \" signature at %#lx", pa);
		return 0;
	}
	if (byte_sum(r, RSDP_V1_SIZE)) {
		ksnprintf(why, whylen, "the RSDP at %#lx has a bad checksum", pa);
		return 0;
	}
	unsigned n = RSDP_V1_SIZE;
	if (r[15] >= 2) {
		if (mapped < RSDP_V2_SIZE) {
			ksnprintf(why, whylen, "the ACPI 2.0 RSDP at %#lx runs past readable memory", pa);
			return 0;
		}
		uint32_t len = get32(r + 20);
		if (len < RSDP_V2_SIZE || byte_sum(r, RSDP_V2_SIZE)) {
			ksnprintf(why, whylen, "the ACPI 2.0 RSDP at %#lx has a bad length (%u) or extended checksum",
				  pa, len);
			return 0;
		}
		n = RSDP_V2_SIZE;
	}
	memcpy(out, r, n);
	return n;
}

int efi_find_rsdp(uint64_t systab_pa, acpi_map_fn map, void *ctx, uint8_t rsdp[36], unsigned *rsdp_len, char *err,
		  size_t errlen)
{
	*rsdp_len = 0;
	const uint8_t *st = systab_pa ? map(ctx, systab_pa, SYSTAB_SIZE) : NULL;
	if (!st) {
		ksnprintf(err, errlen, "the EFI system table at %#lx cannot be reached", systab_pa);
		return -1;
	}
	if (get64(st) != EFI_SYSTEM_TABLE_SIGNATURE) {
		ksnprintf(err, errlen, "no EFI system table signature at %#lx", systab_pa);
		return -1;
	}
	uint32_t hsize = get32(st + SYSTAB_HEADER_SIZE_OFF);
	if (hsize < SYSTAB_SIZE) {
		ksnprintf(err, errlen, "the EFI system table at %#lx is %u bytes, too small for its configuration "
			  "tables", systab_pa, hsize);
		return -1;
	}
	uint64_t nr = get64(st + SYSTAB_NR_TABLES_OFF), tables = get64(st + SYSTAB_TABLES_OFF);
	if (nr > EFI_MAX_CONFIG_TABLES) {
		ksnprintf(err, errlen, "the EFI system table claims %lu configuration tables (at most %u expected)",
			  nr, EFI_MAX_CONFIG_TABLES);
		return -1;
	}
	if (nr == 0 || !tables) {
		ksnprintf(err, errlen, "the EFI system table lists no configuration tables");
		return -1;
	}
	/* Find both entries first (the map may reuse its window), then check. */
	uint64_t acpi20 = 0, acpi10 = 0;
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t pa = tables + i * CONFIG_TABLE_SIZE;
		if (pa < tables) {
			ksnprintf(err, errlen, "the EFI configuration tables wrap around the address space");
			return -1;
		}
		const uint8_t *e = map(ctx, pa, CONFIG_TABLE_SIZE);
		if (!e) {
			ksnprintf(err, errlen, "EFI configuration table %lu at %#lx cannot be reached", i, pa);
			return -1;
		}
		if (!acpi20 && !memcmp(e, acpi20_guid, 16))
			acpi20 = get64(e + 16);
		else if (!acpi10 && !memcmp(e, acpi10_guid, 16))
			acpi10 = get64(e + 16);
	}
	char why20[96] = "", why10[96] = "";
	if (acpi20 && (*rsdp_len = take_rsdp(acpi20, map, ctx, rsdp, why20, sizeof(why20))))
		return 0;
	if (acpi10 && (*rsdp_len = take_rsdp(acpi10, map, ctx, rsdp, why10, sizeof(why10))))
		return 0;
	if (!acpi20 && !acpi10)
		ksnprintf(err, errlen, "the %lu EFI configuration tables list no ACPI RSDP", nr);
	else
		ksnprintf(err, errlen, "%s%s%s", why20, why20[0] && why10[0] ? "; " : "", why10);
	return -1;
}
