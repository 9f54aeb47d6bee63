/*
 * Where a guest resumes from ACPI S3: what firmware does on a PC's wake,
 * done by Keel for its guests. Find the RSDP in the BIOS area
 * (0xE0000-0xFFFFF, ACPI 6.5 5.2.5.1), follow the RSDT to the FADT and
 * the FADT to the FACS, and read its firmware waking vector (5.2.10): the
 * boot vCPU restarts in real mode at CS = vector >> 4, IP = vector & 0xF.
 * The tables are guest memory and may have been overwritten, so every step
 * is checked. Pure: memory is read through a callback.
 */
#ifndef KEEL_ACPI_WAKE_H
#define KEEL_ACPI_WAKE_H

#include <keel/types.h>

typedef bool (*acpi_wake_read_fn)(void *ctx, uint64_t gpa, void *buf, uint32_t len);

/* 0 and *vector, or -1 with the reason in why (a static string). */
int acpi_find_waking_vector(acpi_wake_read_fn read, void *ctx, uint32_t *vector, const char **why);

#endif
