/*
 * VMCALL: the Xen hypercalls SeaBIOS makes (only xen_version, SeaBIOS
 * src/fw/xen.c) and Keel's own (include/keel/hvmloader_abi.h). The table
 * below is the whole list; any other number returns -ENOSYS as Xen does.
 * Arguments follow Xen's 32-bit ABI: EAX number, EBX/ECX/EDX/ESI/EDI args,
 * result in EAX.
 */
#include <keel/console.h>
#include <keel/cpuid.h>
#include <keel/guest.h>
#include <keel/hvmloader_abi.h>
#include <keel/string.h>
#include <keel/tsc.h>
#include <x86/io.h>

#include "boot_sector_trap.h"
#include "exit.h"
#include "vmx.h"

#define XEN_ENOSYS 38
#define XEN_EPERM 1
#define XEN_EFAULT 14
#define XEN_EINVAL 22

#define HYPERVISOR_xen_version 17
#define XENVER_version 0
#define XENVER_extraversion 1
#define XENVER_compile_info 2
#define XENVER_capabilities 3
#define XENVER_changeset 4
#define XENVER_get_features 6

typedef int64_t (*hypercall_fn)(struct vcpu *v);

/* Copies to a guest pointer, which may be a linear address under paging. */
static bool copy_to_guest(struct vcpu *v, uint64_t la, const void *src, uint64_t len)
{
	const uint8_t *s = src;
	while (len) {
		uint64_t gpa;
		uint32_t pf;
		uint64_t n = MIN(len, PAGE_SIZE - (la & (PAGE_SIZE - 1)));
		/* A page the guest kernel could not write itself is -EFAULT. */
		if (vcpu_translate(v, la, PAGE_WRITE, &gpa, &pf) != PAGE_WALK_OK ||
		    !guest_write_phys(v->guest, gpa, s, n))
			return false;
		la += n;
		s += n;
		len -= n;
	}
	return true;
}

static int64_t hc_xen_version(struct vcpu *v)
{
	uint32_t cmd = (uint32_t)v->regs.rbx;
	uint64_t arg = (uint32_t)v->regs.rcx;
	char buf[64];

	switch (cmd) {
	case XENVER_version:
		return (XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR;
	case XENVER_extraversion: /* char[16] */
		memset(buf, 0, 16);
		kstrlcpy(buf, "-keel", 16);
		return copy_to_guest(v, arg, buf, 16) ? 0 : -XEN_EFAULT;
	case XENVER_capabilities: /* char[1024]: we write a short string */
		memset(buf, 0, sizeof(buf));
		kstrlcpy(buf, "hvm-3.0-x86_32 hvm-3.0-x86_64", sizeof(buf));
		return copy_to_guest(v, arg, buf, sizeof(buf)) ? 0 : -XEN_EFAULT;
	case XENVER_get_features: { /* struct { u32 index; u32 bitmap; } */
		uint32_t zero = 0;
		return copy_to_guest(v, arg + 4, &zero, 4) ? 0 : -XEN_EFAULT;
	}
	default:
		return -XEN_EINVAL;
	}
}

static int64_t hc_keel_mark(struct vcpu *v)
{
	/* The loader ABI's marks, translated: nothing else of Keel's
	 * timeline is the guest's to stamp. */
	struct guest *g = v->guest;
	enum timeline_mark m;
	switch ((uint32_t)v->regs.rbx) {
	case KEEL_MARK_LOADER_START:
		m = MARK_LOADER_START;
		break;
	case KEEL_MARK_HANDOVER:
		m = MARK_HANDOVER;
		break;
	default:
		return -XEN_EINVAL;
	}
	if (g->marks[m])
		return 0; /* a timeline mark is set, and logged, once per boot */
	timeline_mark(g, m, rdtsc());
	if (m == MARK_HANDOVER)
		boot_sector_trap_arm(g);
	if (m == MARK_HANDOVER && !g->persist.restart_unlogged)
		guest_log(g, GLOG_HANDOVER, LOG_INFO, "hvmloader hands over to %s (%lu us after guest creation)",
			  g->cfg->kernel[0] ? "the kernel" : "SeaBIOS at F000:FFF0",
			  tsc_to_ns(g->marks[m] - g->created_tsc) / 1000);
	return 0;
}

struct hypercall {
	uint32_t nr;
	hypercall_fn fn;
};

/* The one table of hypercalls. */
static const struct hypercall hypercalls[] = {
	{ HYPERVISOR_xen_version, hc_xen_version },
	{ KEEL_HC_TIMELINE_MARK, hc_keel_mark },
};

enum exit_action exit_vmcall(struct vcpu *v)
{
	uint32_t nr = (uint32_t)v->regs.rax;
	int64_t ret = -XEN_ENOSYS;

	if (vcpu_cpl() != 0) {
		ret = -XEN_EPERM; /* hypercalls are for the guest kernel only */
	} else {
		for (unsigned i = 0; i < ARRAY_SIZE(hypercalls); i++) {
			if (hypercalls[i].nr == nr) {
				ret = hypercalls[i].fn(v);
				break;
			}
		}
	}
	if (ret == -XEN_ENOSYS) {
		guest_log(v->guest, GLOG_HYPERCALL_UNKNOWN, LOG_INFO, "unknown hypercall %#x: -ENOSYS", nr);
	}
	v->regs.rax = (uint64_t)ret;
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}
