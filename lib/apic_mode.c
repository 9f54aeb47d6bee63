/* Choosing the host APIC mode; see include/keel/apic_mode.h. */
#include <keel/apic_mode.h>
#include <keel/format.h>

enum apic_mode apic_mode_choose(const struct apic_mode_facts *f, char *why, size_t whylen)
{
	if (!f->cpu_has_x2apic) {
		if (f->request == APIC_REQUEST_X2APIC)
			ksnprintf(why, whylen, "apic=x2apic asked for, but the CPU has no x2APIC (CPUID.1:ECX[21]=0)");
		else if (f->max_apic_id > XAPIC_MAX_ID)
			ksnprintf(why, whylen, "the CPU has no x2APIC; CPUs with ids above %u cannot be started",
				  XAPIC_MAX_ID);
		else
			ksnprintf(why, whylen, "the CPU has no x2APIC");
		return APIC_MODE_XAPIC;
	}
	if (f->max_apic_id > XAPIC_MAX_ID) {
		ksnprintf(why, whylen, "APIC id %u is above %u, beyond what xAPIC mode addresses%s", f->max_apic_id,
			  XAPIC_MAX_ID, f->request == APIC_REQUEST_XAPIC ? " (apic=xapic overridden)" : "");
		return APIC_MODE_X2APIC;
	}
	if (f->request == APIC_REQUEST_XAPIC) {
		ksnprintf(why, whylen, "apic=xapic on the command line%s",
			  f->firmware_x2apic ? " (leaving the firmware's x2APIC mode)" : "");
		return APIC_MODE_XAPIC;
	}
	if (f->request == APIC_REQUEST_X2APIC) {
		ksnprintf(why, whylen, "apic=x2apic on the command line");
		return APIC_MODE_X2APIC;
	}
	if (f->firmware_x2apic) {
		ksnprintf(why, whylen, "the firmware handed over in x2APIC mode");
		return APIC_MODE_X2APIC;
	}
	if (f->madt_x2apic) {
		ksnprintf(why, whylen, "the ACPI MADT describes the CPUs with x2APIC entries");
		return APIC_MODE_X2APIC;
	}
	ksnprintf(why, whylen, "the firmware handed over in xAPIC mode and nothing calls for x2APIC");
	return APIC_MODE_XAPIC;
}
