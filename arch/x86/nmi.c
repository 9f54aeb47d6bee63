/* NMIs on Keel's CPUs: kicks and the platform's (include/keel/nmi.h). */
#include <keel/apic.h>
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/nmi.h>
#include <x86/io.h>

void nmi_kick(unsigned cpu)
{
	/* Counted before the NMI can arrive (the locked add orders it before
	 * the ICR write, which in x2APIC mode is not serializing). */
	__atomic_fetch_add(&pcpus[cpu].nmi.kicks_sent, 1, __ATOMIC_SEQ_CST);
	apic_kick(pcpus[cpu].apic_id);
}

static uint8_t read_nmi_sc(void) { return inb(PORT_NMI_SC); }

void nmi_arrived(unsigned cpu)
{
	struct pcpu_nmis *n = &pcpus[cpu].nmi;
	uint8_t status = 0;
	switch (nmi_classify(&n->kicks_taken, __atomic_load_n(&n->kicks_sent, __ATOMIC_ACQUIRE), read_nmi_sc,
			     &status)) {
	case NMI_KICK:
		break;
	case NMI_PLATFORM_ERROR:
		/* Clear the latch (setting the disable bit clears it, clearing
		 * it again re-enables the source), or the next NMI would look
		 * like the same error. */
		outb(PORT_NMI_SC, (status & NMI_SC_WRITABLE) | NMI_SC_SERR_DISABLE | NMI_SC_IOCHK_DISABLE);
		outb(PORT_NMI_SC, status & NMI_SC_WRITABLE & ~(NMI_SC_SERR_DISABLE | NMI_SC_IOCHK_DISABLE));
		n->platform_status = status;
		__atomic_store_n(&n->platform, n->platform + 1, __ATOMIC_RELEASE);
		break;
	case NMI_UNEXPLAINED:
		n->unexplained++;
		break;
	}
}

void nmi_report(unsigned cpu)
{
	struct pcpu_nmis *n = &pcpus[cpu].nmi;
	uint32_t seen = __atomic_load_n(&n->platform, __ATOMIC_ACQUIRE);
	if (seen == n->platform_reported)
		return;
	uint8_t s = n->platform_status;
	pr_warn("cpu%u: NMI from the platform: port 0x61 = %#x (%s%s%s): the hardware reports an error; its event "
		"log or the BMC says which (%u so far)\n",
		cpu, s, s & NMI_SC_SERR ? "SERR#: PCI system or memory error" : "",
		(s & NMI_SC_SERR) && (s & NMI_SC_IOCHK) ? ", " : "", s & NMI_SC_IOCHK ? "IOCHK#: I/O channel check" : "",
		seen);
	n->platform_reported = seen;
}
