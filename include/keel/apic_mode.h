/*
 * Which mode Keel drives the host's local APICs in: xAPIC (registers in
 * the MMIO page, 8-bit APIC ids) or x2APIC (registers as MSRs 0x800-0x8FF,
 * 32-bit ids; SDM 10.12). Pure logic, unit-tested; arch/x86/apic.c applies
 * the answer on every CPU.
 *
 * x2APIC is used when the CPU offers it (CPUID.1:ECX.x2APIC[21]) and
 *  - the firmware handed over in x2APIC mode (leaving it needs the APIC
 *    disabled first, and firmware that chose it may have ids above 255 or
 *    interrupt remapping that relies on it), or
 *  - the MADT lists x2APIC entries (type 9: the firmware describes the
 *    CPUs by 32-bit id), or a CPU's id is above 254 (an xAPIC cannot
 *    address it: 255 is the broadcast id), or
 *  - the command line says apic=x2apic.
 * apic=xapic keeps xAPIC mode (Keel leaves a firmware's x2APIC mode, as it
 * did before it knew x2APIC), except where a CPU's id needs x2APIC.
 */
#ifndef KEEL_APIC_MODE_H
#define KEEL_APIC_MODE_H

#include <keel/types.h>

enum apic_mode { APIC_MODE_XAPIC, APIC_MODE_X2APIC };
/* The command line's apic= (lib/cmdline.c). */
enum apic_request { APIC_REQUEST_AUTO, APIC_REQUEST_XAPIC, APIC_REQUEST_X2APIC };

/* The largest id an xAPIC can send an IPI to (0xFF is the broadcast id). */
#define XAPIC_MAX_ID 254

struct apic_mode_facts {
	bool cpu_has_x2apic;   /* CPUID.1:ECX[21] */
	bool firmware_x2apic;  /* IA32_APIC_BASE.EXTD[10] was set at hand-over */
	bool madt_x2apic;      /* the MADT has type-9 (local x2APIC) entries */
	uint32_t max_apic_id;  /* the largest id of a usable CPU in the MADT (0 if none) */
	enum apic_request request;
};

/* The mode to use, and in why a sentence saying which fact decided it
 * ("the firmware handed over in x2APIC mode"). */
enum apic_mode apic_mode_choose(const struct apic_mode_facts *f, char *why, size_t whylen);

#endif
