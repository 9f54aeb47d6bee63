/*
 * NMIs on Keel's CPUs (arch/x86/nmi.c). Keel sends them itself as kicks
 * (why NMIs: docs/scheduling.md, "Kicks are NMIs"); the platform sends
 * them for hardware errors, latched in port 0x61. A kick is counted by its
 * sender before the NMI goes out, so the CPU taking one can tell the two
 * apart: the platform's are reported, never mistaken for kicks.
 */
#ifndef KEEL_NMI_H
#define KEEL_NMI_H

#include <keel/types.h>

/* Port 0x61, NMI status and control (NMI_SC in Intel's chipset datasheets,
 * port B on the PC/AT): the platform's NMI sources, latched until cleared. */
#define PORT_NMI_SC 0x61
#define NMI_SC_SERR 0x80	       /* SERR#: a PCI system error (the AT's memory parity) */
#define NMI_SC_IOCHK 0x40	       /* IOCHK#: an I/O channel check */
#define NMI_SC_IOCHK_DISABLE 0x08      /* 1 clears IOCHK and masks its NMIs */
#define NMI_SC_SERR_DISABLE 0x04       /* 1 clears SERR and masks its NMIs */
#define NMI_SC_WRITABLE 0x0f	       /* the bits a write keeps (speaker gate and data too) */

enum nmi_kind {
	NMI_KICK,	    /* one or more kicks sent since the last one taken */
	NMI_PLATFORM_ERROR, /* port 0x61 reports SERR or IOCHK */
	NMI_UNEXPLAINED	    /* neither: a second NMI for kicks already taken, or a watchdog */
};

/* What an NMI was, given how many kicks were sent to this CPU and how
 * many it has taken (updated: a kick's NMI covers every kick sent before
 * it, as NMIs do not queue). Port 0x61 is read only when no kick is
 * outstanding: on hardware that read is slow, and Keel nested pays an
 * exit for it. */
static inline enum nmi_kind nmi_classify(uint32_t *taken, uint32_t sent, uint8_t (*read_status)(void),
					 uint8_t *status)
{
	if (*taken != sent) {
		*taken = sent;
		return NMI_KICK;
	}
	*status = read_status();
	return *status & (NMI_SC_SERR | NMI_SC_IOCHK) ? NMI_PLATFORM_ERROR : NMI_UNEXPLAINED;
}

/* Sends a kick to CPU `cpu` (apic_kick), counted first. */
void nmi_kick(unsigned cpu);
/* In the NMI handler, or after a VM exit for an NMI (NMIs still blocked):
 * counts what it was and, for the platform's, clears port 0x61's latch.
 * Takes no lock and prints nothing (the NMI may have interrupted either). */
void nmi_arrived(unsigned cpu);
/* Prints, from an ordinary context, the platform's NMIs on this CPU not
 * reported yet. */
void nmi_report(unsigned cpu);

#endif
