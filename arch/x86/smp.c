/*
 * Starting the machine's other CPUs (the application processors, APs).
 *
 * The CPUs come from the ACPI MADT (found through the RSDP that GRUB passes
 * in a multiboot2 tag). For each, the boot CPU copies the real-mode
 * trampoline (arch/x86/ap_boot.S) to AP_TRAMPOLINE_PA, leaves a stack and a
 * CPU number in ap_boot_stack/ap_boot_cpu, and sends INIT-SIPI-SIPI. The AP
 * switches itself to long mode on Keel's page tables and calls ap_main(),
 * which loads its own GDT/TSS/IDT, enables its APIC and VMX (its own VMXON
 * region) and reports back; APs start one at a time, so the one stack/number
 * slot is enough. Then each waits in sched_run() for the guests.
 *
 * Anything missing (no RSDP, a broken MADT, an AP that does not answer or
 * cannot enter VMX) leaves Keel on the CPUs it has, with a line that says
 * why: never a hang.
 */
#include <keel/acpi.h>
#include <keel/apic.h>
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/format.h>
#include <keel/guest.h>
#include <keel/mm.h>
#include <keel/string.h>
#include <keel/tsc.h>
#include <keel/vmx.h>
#include <x86/io.h>

#define AP_TRAMPOLINE_PA 0x8000 /* also in ap_boot.S; below 1 MiB, page-aligned */
#define AP_STACK_PAGES 4
#define AP_ANSWER_MS 200

enum ap_state { AP_NOT_STARTED, AP_ONLINE, AP_FAILED };

extern const char ap_trampoline[], ap_trampoline_end[];
uint64_t ap_boot_stack;
uint32_t ap_boot_cpu;
unsigned nr_cpus_online = 1;
static volatile int ap_state[MAX_CPUS];

static unsigned cpus_parked;

void cpu_park(void)
{
	__atomic_add_fetch(&cpus_parked, 1, __ATOMIC_RELEASE);
	for (;;)
		__asm__ volatile("cli; hlt");
}

unsigned smp_stop_other_cpus(void)
{
	unsigned before = __atomic_load_n(&cpus_parked, __ATOMIC_ACQUIRE);
	if (!apic_send_nmi_all_but_self())
		return before;
	uint64_t t0 = rdtsc();
	while (__atomic_load_n(&cpus_parked, __ATOMIC_ACQUIRE) < nr_cpus_online - 1 && rdtsc() - t0 < tsc_hz / 10)
		cpu_relax();
	return __atomic_load_n(&cpus_parked, __ATOMIC_ACQUIRE);
}

__noreturn void ap_main(unsigned cpu);

void ap_main(unsigned cpu);

unsigned this_cpu(void)
{
	if (nr_cpus_online == 1)
		return 0;
	uint32_t id = apic_id();
	for (unsigned c = 0; c < nr_cpus_online; c++)
		if (pcpus[c].apic_id == id)
			return c;
	return 0;
}

void ap_main(unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
	pc->id = cpu;
	cpu_tables_init(pc);
	idt_load();
	apic_init_ap();
	if (vmx_enable_cpu(cpu) < 0) {
		__atomic_store_n(&ap_state[cpu], AP_FAILED, __ATOMIC_RELEASE);
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	sched_init_cpu(cpu);
	__atomic_store_n(&ap_state[cpu], AP_ONLINE, __ATOMIC_RELEASE);
	sched_run(cpu);
}

static const void *acpi_map(void *ctx, uint64_t pa, uint64_t len) { return mm_map_firmware(pa, len); }

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) { return a < b + blen && b < a + alen; }

/* The trampoline page must be RAM nobody else uses: the allocator never
 * hands out memory below 1 MiB, but the boot loader may have put its
 * information block or a module there. */
static bool trampoline_page_usable(const struct bootinfo *bi, char *why, size_t len)
{
	bool ram = false;
	for (unsigned i = 0; i < bi->nr_mmap; i++)
		if (bi->mmap[i].type == 1 && bi->mmap[i].base <= AP_TRAMPOLINE_PA &&
		    bi->mmap[i].base + bi->mmap[i].len >= AP_TRAMPOLINE_PA + PAGE_SIZE)
			ram = true;
	if (!ram) {
		ksnprintf(why, len, "page %#x is not RAM in the memory map", AP_TRAMPOLINE_PA);
		return false;
	}
	if (overlaps(bi->info_start, bi->info_end - bi->info_start, AP_TRAMPOLINE_PA, PAGE_SIZE)) {
		ksnprintf(why, len, "the boot information block uses page %#x", AP_TRAMPOLINE_PA);
		return false;
	}
	for (unsigned i = 0; i < bi->nr_modules; i++)
		if (overlaps(bi->modules[i].start, bi->modules[i].end - bi->modules[i].start, AP_TRAMPOLINE_PA,
			     PAGE_SIZE)) {
			ksnprintf(why, len, "module %s uses page %#x", bi->modules[i].name, AP_TRAMPOLINE_PA);
			return false;
		}
	return true;
}

static bool start_one(unsigned cpu, uint32_t id)
{
	void *stack = page_alloc(AP_STACK_PAGES);
	if (!stack) {
		pr_warn("smp: out of memory for the stack of cpu%u (APIC id %u); not started\n", cpu, id);
		return false;
	}
	pcpus[cpu].apic_id = id;
	ap_boot_stack = (uint64_t)(uintptr_t)stack + AP_STACK_PAGES * PAGE_SIZE;
	ap_boot_cpu = cpu;
	ap_state[cpu] = AP_NOT_STARTED;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!apic_start_ap(id, AP_TRAMPOLINE_PA)) {
		pr_warn("smp: the local APIC did not send the start-up IPIs to APIC id %u; cpu not started\n", id);
		page_free(stack, AP_STACK_PAGES);
		return false;
	}
	uint64_t t0 = rdtsc();
	int st;
	while ((st = __atomic_load_n(&ap_state[cpu], __ATOMIC_ACQUIRE)) == AP_NOT_STARTED &&
	       rdtsc() - t0 < tsc_hz / 1000 * AP_ANSWER_MS)
		cpu_relax();
	if (st == AP_FAILED) {
		pr_warn("smp: cpu%u (APIC id %u) cannot enter VMX (see above); it stays halted\n", cpu, id);
		return false; /* its stack stays: the halted CPU still points at it */
	}
	if (st != AP_ONLINE) {
		pr_warn("smp: cpu with APIC id %u did not answer the start-up IPIs within %u ms; not used\n", id,
			AP_ANSWER_MS);
		return false; /* it may still wake up later: keep its stack */
	}
	pr_info("smp: cpu%u (APIC id %u) online, in VMX operation\n", cpu, id);
	return true;
}

void smp_start_aps(const struct bootinfo *bi, unsigned max_cpus)
{
	pcpus[0].apic_id = apic_id();
	if (max_cpus <= 1) {
		pr_info("smp: cpus=1: running on the boot CPU only\n");
		return;
	}
	if (!bi->rsdp_len) {
		pr_info("smp: the boot loader passed no ACPI RSDP; running on the boot CPU only\n");
		return;
	}
	struct acpi_cpus cpus;
	char err[128];
	if (acpi_find_cpus(bi->rsdp, bi->rsdp_len, acpi_map, NULL, &cpus, err, sizeof(err)) < 0) {
		pr_warn("smp: cannot list the CPUs from ACPI: %s; running on the boot CPU only\n", err);
		return;
	}
	pr_info("smp: ACPI lists %u usable CPU%s%s\n", cpus.nr, cpus.nr == 1 ? "" : "s",
		cpus.nr_disabled ? " (and some disabled ones)" : "");
	if (cpus.nr <= 1)
		return;
	if (!apic_present()) {
		pr_warn("smp: no usable local APIC to start the other CPUs with; running on the boot CPU only\n");
		return;
	}
	if (!trampoline_page_usable(bi, err, sizeof(err))) {
		pr_warn("smp: cannot start the other CPUs: %s; running on the boot CPU only\n", err);
		return;
	}
	memcpy(phys_to_virt(AP_TRAMPOLINE_PA), ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));

	unsigned limit = MIN(max_cpus, (unsigned)MAX_CPUS), slot = 1, skipped = 0;
	for (unsigned i = 0; i < cpus.nr; i++) {
		uint32_t id = cpus.apic_id[i];
		if (id == pcpus[0].apic_id)
			continue;
		if (slot >= limit) {
			skipped++;
			continue;
		}
		if (id > 0xff) {
			pr_warn("smp: APIC id %u needs x2APIC mode, which Keel does not use; cpu not started\n", id);
			continue;
		}
		/* CPUs 0..nr_cpus_online-1 run the scheduler, so stop at the
		 * first failure rather than leave a hole. */
		if (!start_one(slot, id)) {
			pr_warn("smp: not starting further CPUs\n");
			break;
		}
		nr_cpus_online = ++slot;
	}
	if (skipped)
		pr_info("smp: %u more CPU%s not used (Keel runs at most %u; cpus= on the command line)\n", skipped,
			skipped == 1 ? "" : "s", limit);
	pr_info("smp: %u CPU%s online\n", nr_cpus_online, nr_cpus_online == 1 ? "" : "s");
}
