#include "seabios_info.h"

static void copy(void *d, const void *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		((uint8_t *)d)[i] = ((const uint8_t *)s)[i];
}

void seabios_info_init(struct seabios_info *si, uint32_t tables, uint32_t e820, uint32_t e820_nr)
{
	copy(si->signature, SEABIOS_INFO_SIGNATURE, sizeof(si->signature)); /* includes the NUL */
	si->length = sizeof(*si);
	si->checksum = 0;
	si->tables = tables;
	si->tables_nr = 0;
	si->e820 = e820;
	si->e820_nr = e820_nr;
}

int seabios_info_add_table(struct seabios_info *si, uint32_t *tables, uint32_t table_addr)
{
	if (si->tables_nr >= SEABIOS_MAX_TABLES)
		return -1;
	tables[si->tables_nr++] = table_addr;
	return 0;
}

void seabios_info_finish(struct seabios_info *si)
{
	uint8_t sum = 0;
	const uint8_t *p = (const uint8_t *)si;
	si->checksum = 0;
	for (unsigned i = 0; i < si->length; i++)
		sum += p[i];
	si->checksum = (uint8_t)-sum;
}

int seabios_info_check(const void *table, size_t avail)
{
	const struct seabios_info *si = table;
	const uint8_t *p = table;
	uint8_t sum = 0;
	if (avail < sizeof(*si))
		return -2;
	for (unsigned i = 0; i < sizeof(si->signature); i++)
		if (si->signature[i] != SEABIOS_INFO_SIGNATURE[i])
			return -1;
	if (si->length < sizeof(*si) || si->length > avail)
		return -2;
	for (unsigned i = 0; i < si->length; i++)
		sum += p[i];
	return sum ? -3 : 0;
}
