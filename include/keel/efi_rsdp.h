/*
 * Finding the ACPI RSDP through the UEFI system table, for when the boot
 * loader passed the table's address (multiboot2 tag 12, "EFI 64-bit system
 * table pointer") but no ACPI tag of its own (tags 14/15). UEFI 2.10 4.3
 * (EFI_SYSTEM_TABLE), 4.6 (EFI_CONFIGURATION_TABLE and the ACPI GUIDs).
 *
 * Pure logic: memory is reached through an acpi_map_fn, so the parser runs
 * on the host in unit tests and the fuzzer. Nothing found there is trusted:
 * the table's signature and size, the entry count and every RSDP candidate
 * (signature, checksums) are checked before use.
 */
#ifndef KEEL_EFI_RSDP_H
#define KEEL_EFI_RSDP_H

#include <keel/acpi.h>
#include <keel/types.h>

/* "IBI SYST" read as a little-endian u64 (EFI_SYSTEM_TABLE_SIGNATURE). */
#define EFI_SYSTEM_TABLE_SIGNATURE 0x5453595320494249ULL
/* More configuration tables than any firmware installs: a bigger count
 * means the pointer does not lead to a system table. */
#define EFI_MAX_CONFIG_TABLES 1024

/* Copies the RSDP listed in the configuration tables of the 64-bit system
 * table at `systab_pa` into rsdp (36 bytes; *rsdp_len = 20 or 36, as the
 * multiboot2 ACPI tags give it). The ACPI 2.0 entry is preferred; the ACPI
 * 1.0 one is used when there is no valid 2.0 one. Returns 0, or -1 with the
 * reason in err ("the 9 configuration tables list no ACPI RSDP"). */
int efi_find_rsdp(uint64_t systab_pa, acpi_map_fn map, void *ctx, uint8_t rsdp[36], unsigned *rsdp_len, char *err,
		  size_t errlen);

#endif
