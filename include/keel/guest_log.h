/* Keel's log lines that a guest can cause, and their per-guest limit.
 *
 * Whatever a guest can repeat without end (probe MSRs, call unknown
 * hypercalls, move its APIC, INIT its boot vCPU, halt with interrupts off
 * and wake by NMI...) is logged through guest_log(): the first 8 times of
 * each kind, then the 10th, 100th, 1000th..., with the count. The counts
 * live in struct guest_log_counts, which a restart carries over, so a reset
 * buys no fresh allowance. Nothing else in Keel logs on a guest's behalf,
 * except the lines of a guest's creation and stop, which the restart
 * back-off and quiet restarts (hvm/core/guest.c) bound in the same way.
 */
#ifndef KEEL_GUEST_LOG_H
#define KEEL_GUEST_LOG_H

#include <keel/console.h>
#include <keel/types.h>

enum guest_log_kind {
	GLOG_MSR_UNKNOWN,       /* RDMSR/WRMSR of an MSR Keel does not offer */
	GLOG_MSR_REFUSED,       /* a value Keel refuses (e.g. a hypercall page outside RAM) */
	GLOG_APIC_MOVE,         /* WRMSR IA32_APIC_BASE with another base */
	GLOG_HYPERCALL_UNKNOWN, /* VMCALL with a number not in the table */
	GLOG_HANDOVER,          /* hvmloader's timeline mark "jump to the BIOS/kernel" */
	GLOG_UD_INSN,           /* VMX instructions, XSETBV...: #UD */
	GLOG_INIT_BOOT_VCPU,    /* INIT IPI to the boot vCPU */
	GLOG_IPI_NOWHERE,       /* an IPI whose destination matched no local APIC */
	GLOG_HALT_CLI,          /* cli; hlt */
	GLOG_RESTART,           /* a reset it asked for */
	GLOG_UNCLAIMED,         /* a load or store where no RAM or device answers */
	GLOG_DEVICE_PROGRAMMING, /* a device programmed to do the impossible (DMA outside RAM...) */
	GLOG_NR
};

struct guest_log_counts {
	uint64_t count[GLOG_NR];
};

/* Whether the n-th event (n >= 1) of a kind is logged: 1-8, then 10, 100,
 * 1000... So n events cost at most 8 + log10(n) lines. */
static inline bool guest_log_due(uint64_t n)
{
	if (n <= 8)
		return true;
	while (n % 10 == 0)
		n /= 10;
	return n == 1;
}

/* Counts one more event of `kind` in c; true if it is to be logged. */
static inline bool guest_log_count(struct guest_log_counts *c, enum guest_log_kind kind)
{
	return guest_log_due(++c->count[kind]);
}

struct guest;
/* The one way to log something a guest did: counts it and, when due,
 * prints "keel: guest NAME: <text> (N so far)". fmt has no newline. */
void guest_log(struct guest *g, enum guest_log_kind kind, enum log_level lvl, const char *fmt, ...) __printf(4, 5);

#endif
