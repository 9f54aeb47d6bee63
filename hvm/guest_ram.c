/* Where a guest's RAM is in its physical address space (guest_ram.h). */
#include <keel/guest_ram.h>

struct guest_ram_layout guest_ram_split(uint64_t total, uint64_t low_limit)
{
	if (low_limit > HVMLOADER_LOW_RAM_LIMIT)
		low_limit = HVMLOADER_LOW_RAM_LIMIT;
	if (total <= low_limit)
		return (struct guest_ram_layout){ total, 0 };
	return (struct guest_ram_layout){ low_limit, total - low_limit };
}

bool guest_ram_offset(const struct guest_ram_layout *l, uint64_t gpa, uint64_t len, uint64_t *off)
{
	if (len == 0)
		return false;
	if (gpa < l->below_4g) {
		if (len > l->below_4g - gpa)
			return false;
		*off = gpa;
		return true;
	}
	if (gpa < HVMLOADER_HIGH_RAM_BASE)
		return false; /* the hole */
	uint64_t rel = gpa - HVMLOADER_HIGH_RAM_BASE;
	if (rel >= l->above_4g || len > l->above_4g - rel)
		return false;
	*off = l->below_4g + rel;
	return true;
}

uint64_t guest_ram_gpa(const struct guest_ram_layout *l, uint64_t off)
{
	return off < l->below_4g ? off : HVMLOADER_HIGH_RAM_BASE + (off - l->below_4g);
}

bool guest_gpa_is_ram(const struct guest_ram_layout *l, uint64_t gpa)
{
	uint64_t off;
	return guest_ram_offset(l, gpa, 1, &off);
}
