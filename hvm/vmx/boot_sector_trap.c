/*
 * The firmware's hand-over to the boot sector, seen by Keel.
 *
 * SeaBIOS's Xen path needs the Xen CPUID leaves, but an OS must not see
 * them (it would use Xen's PV interfaces, which Keel does not have). The
 * moment between the two is INT 19h's far jump to 0000:7C00. Keel catches
 * the first instruction fetched from the boot sector's page (0x7000-0x7FFF)
 * after hvmloader's hand-over: that page is mapped read/write but not
 * executable from the hand-over on, so the fetch is an EPT violation (SDM
 * 28.3.3.2), whatever the boot sector does first (no I/O or CPUID exit is
 * needed). Nothing of the firmware runs there: SeaBIOS's POST stack lies
 * below 0x7000 and it only clears that page before the boot (startBoot).
 * The fault restores execute permission, so it happens once per boot; from
 * then until the guest is reset CPUID 0x40000000 is Keel's own leaf
 * (hvm/cpuid.c).
 */
#include <keel/console.h>
#include <keel/guest.h>
#include <keel/mm.h>
#include <keel/vmx.h>
#include <x86/vmx.h>

#include "boot_sector_trap.h"
#include "vmx.h"

#define BOOT_SECTOR_PAGE 0x7000ULL

/* This CPU may hold the page's old permissions (TLBs tagged with the
 * guest's EPTP, SDM 28.4.3.1). Other CPUs matter little: the guest's other
 * vCPUs still wait for their start-up IPI at the hand-over, and a stale
 * restrictive entry elsewhere faults once more and is flushed then. */
static void flush_ept(struct guest *g)
{
	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept_single(ept_pointer(&g->ept));
	else if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_ALL)
		invept_all();
}

static int map_boot_page(struct guest *g, uint64_t perms)
{
	uint64_t hpa;
	if (!ept_translate(&g->ept, BOOT_SECTOR_PAGE, &hpa, NULL, NULL))
		return -1;
	if (ept_map_range(&g->ept, BOOT_SECTOR_PAGE, hpa & ~(uint64_t)(PAGE_SIZE - 1), PAGE_SIZE, perms) < 0)
		return -1;
	flush_ept(g);
	return 0;
}

void boot_sector_trap_arm(struct guest *g)
{
	/* A kernel booted directly never sees the Xen leaves at all. */
	if (g->cfg->kernel[0] || g->boot_sector_trap_armed || g->os_started)
		return;
	if (map_boot_page(g, EPT_READ | EPT_WRITE) < 0) {
		/* Only out of memory for one EPT table page: the OS would
		 * then see Xen's leaves, so say it. */
		pr_warn("guest %s: cannot watch for the boot sector (out of memory): the OS will see Xen's CPUID "
			"leaves\n", g->name);
		return;
	}
	g->boot_sector_trap_armed = true;
}

bool boot_sector_trap_hit(struct vcpu *v, uint64_t gpa, uint64_t qual)
{
	struct guest *g = v->guest;
	if (!(qual & EPT_QUAL_FETCH) || (gpa & ~(uint64_t)(PAGE_SIZE - 1)) != BOOT_SECTOR_PAGE)
		return false;
	if (!g->boot_sector_trap_armed) {
		if (!g->os_started)
			return false;
		flush_ept(g); /* stale entry from before the trap was lifted */
		return true;
	}
	g->boot_sector_trap_armed = false;
	g->os_started = true;
	timeline_mark(g, MARK_BOOT_SECTOR, v->exit_tsc);
	if (map_boot_page(g, EPT_RWX) < 0) {
		guest_stop(g, "cannot map its boot sector executable again (out of memory for an EPT table)");
		return true;
	}
	if (!g->persist.restart_unlogged)
		guest_log(g, GLOG_HANDOVER, LOG_INFO,
			  "boot sector running at %#lx: CPUID 0x40000000 is Keel's leaf from now on, not Xen's", gpa);
	return true;
}
