/*
 * Starting the machine's other CPUs (the application processors, APs).
 *
 * The CPUs come from the ACPI MADT (found through the RSDP that GRUB passes
 * in a multiboot2 tag, or through the EFI system table, arch/x86/main.c).
 * For each, the boot CPU copies the real-mode trampoline
 * (arch/x86/ap_boot.S) to a free page below 1 MiB taken from the memory map
 * (lib/ap_trampoline_page.c), offers one slot (a stack and a CPU number,
 * ap_boot_stacks/ap_boot_first_cpu) and sends INIT-SIPI-SIPI. The AP
 * switches itself to long mode on Keel's page tables and calls ap_main(),
 * which loads its own GDT/TSS/IDT, enables its APIC and VMX (its own VMXON
 * region) and reports back; APs start one at a time, so the one stack/number
 * slot is enough. Then each waits in sched_run() for the guests.
 *
 * A machine with no ACPI at all is started by broadcast instead
 * (start_by_broadcast). Anything else missing (a broken MADT, no free page
 * below 1 MiB, an AP that does not answer or cannot enter VMX) leaves Keel
 * on the CPUs it has, with a line that says why: never a hang.
 */
#include <keel/acpi.h>
#include <keel/ap_trampoline_page.h>
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

#define AP_STACK_PAGES 4
#define AP_ANSWER_MS 200

enum ap_state { AP_NOT_STARTED, AP_ONLINE, AP_FAILED };

extern const char ap_trampoline[], ap_trampoline_end[];
extern const uint32_t ap_trampoline_gdt_base_off, ap_trampoline_gdt_off;
static uint32_t trampoline_pa;
/* The slots ap_boot.S hands out (see there). */
uint64_t ap_boot_stacks[MAX_CPUS];
uint32_t ap_boot_next, ap_boot_slots, ap_boot_first_cpu;
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
	pc->apic_id = apic_id(); /* a broadcast start-up: the boot CPU did not know it */
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

static bool start_one(unsigned cpu, uint32_t id)
{
	void *stack = page_alloc(AP_STACK_PAGES);
	if (!stack) {
		pr_warn("smp: out of memory for the stack of cpu%u (APIC id %u); not started\n", cpu, id);
		return false;
	}
	pcpus[cpu].apic_id = id;
	ap_boot_stacks[0] = (uint64_t)(uintptr_t)stack + AP_STACK_PAGES * PAGE_SIZE;
	ap_boot_first_cpu = cpu;
	ap_boot_slots = 1;
	ap_boot_next = 0;
	ap_state[cpu] = AP_NOT_STARTED;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!apic_start_ap(id, trampoline_pa)) {
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

/* The MADT's CPU list, read once by smp_find_cpus() before the APIC is set
 * up (its x2APIC entries choose the APIC mode) and used by smp_start_aps(). */
static struct acpi_cpus madt_cpus;
static bool madt_read;
static char madt_why[160];

const struct acpi_cpus *smp_find_cpus(const struct bootinfo *bi)
{
	if (!bi->rsdp_len) {
		ksnprintf(madt_why, sizeof(madt_why), "the boot loader passed no ACPI RSDP");
		return NULL;
	}
	char err[128];
	if (acpi_find_cpus(bi->rsdp, bi->rsdp_len, acpi_map, NULL, &madt_cpus, err, sizeof(err)) < 0) {
		ksnprintf(madt_why, sizeof(madt_why), "cannot list the CPUs from ACPI: %s", err);
		return NULL;
	}
	madt_read = true;
	return &madt_cpus;
}

/* Copies the start-up code to a free page below 1 MiB. */
static bool place_trampoline(const struct bootinfo *bi)
{
	char err[128];
	uint64_t page;
	if (ap_trampoline_page_find(bi, &page, err, sizeof(err)) < 0) {
		pr_warn("smp: no page below 1 MiB for the start-up code of the other CPUs: %s; running on the boot "
			"CPU only\n", err);
		return false;
	}
	trampoline_pa = (uint32_t)page;
	uint8_t *t = phys_to_virt(trampoline_pa);
	memcpy(t, ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
	uint32_t gdt_base = trampoline_pa + ap_trampoline_gdt_off;
	memcpy(t + ap_trampoline_gdt_base_off, &gdt_base, sizeof(gdt_base));
	pr_debug("smp: start-up code at %#x\n", trampoline_pa);
	return true;
}

/* No ACPI at all (seen with OVMF in Bochs, which installs no ACPI tables
 * without QEMU's fw_cfg): nothing lists the CPUs, so start every other CPU
 * at once with broadcast IPIs, as MP-table-era systems were probed. Each
 * takes a slot (ap_boot.S); CPUs beyond Keel's limit halt in the
 * trampoline. Real UEFI and BIOS machines have an MADT, and never get here. */
static void start_by_broadcast(unsigned limit)
{
	unsigned slots = 0;
	pr_info("smp: no ACPI tables, so no list of CPUs: starting every other CPU with broadcast start-up IPIs\n");
	while (slots + 1 < limit) {
		void *stack = page_alloc(AP_STACK_PAGES);
		if (!stack) {
			pr_warn("smp: out of memory for CPU stacks after %u; not offering more\n", slots);
			break;
		}
		ap_boot_stacks[slots++] = (uint64_t)(uintptr_t)stack + AP_STACK_PAGES * PAGE_SIZE;
	}
	for (unsigned c = 1; c <= slots; c++)
		ap_state[c] = AP_NOT_STARTED;
	ap_boot_first_cpu = 1;
	ap_boot_next = 0;
	ap_boot_slots = slots;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!apic_start_all_other_cpus(trampoline_pa)) {
		pr_warn("smp: the local APIC did not send the broadcast start-up IPIs; running on the boot CPU only\n");
		return;
	}
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < tsc_hz / 1000 * AP_ANSWER_MS)
		cpu_relax();
	unsigned answered = __atomic_load_n(&ap_boot_next, __ATOMIC_ACQUIRE);
	/* CPUs 0..nr_cpus_online-1 run the scheduler: count the online ones
	 * up to the first that is not. */
	unsigned cpu = 1;
	while (cpu <= slots && __atomic_load_n(&ap_state[cpu], __ATOMIC_ACQUIRE) == AP_ONLINE) {
		pr_info("smp: cpu%u (APIC id %u) online, in VMX operation\n", cpu, pcpus[cpu].apic_id);
		cpu++;
	}
	if (cpu <= slots && cpu - 1 < MIN(answered, slots))
		pr_warn("smp: cpu%u answered but %s; CPUs from it on are not used\n", cpu,
			ap_state[cpu] == AP_FAILED ? "cannot enter VMX (see above)" : "did not finish starting");
	if (answered > slots)
		pr_info("smp: %u more CPU%s answered; not used (Keel runs at most %u; cpus= on the command line)\n",
			answered - slots, answered - slots == 1 ? "" : "s", limit);
	nr_cpus_online = cpu;
	pr_info("smp: %u CPU%s online\n", nr_cpus_online, nr_cpus_online == 1 ? "" : "s");
}

void smp_start_aps(const struct bootinfo *bi, unsigned max_cpus)
{
	pcpus[0].apic_id = apic_id();
	if (max_cpus <= 1) {
		pr_info("smp: cpus=1: running on the boot CPU only\n");
		return;
	}
	if (!madt_read && bi->rsdp_len) {
		pr_warn("smp: %s; running on the boot CPU only\n", madt_why);
		return;
	}
	if (!apic_present()) {
		pr_warn("smp: no usable local APIC to start the other CPUs with; running on the boot CPU only\n");
		return;
	}
	if (!madt_read) {
		if (place_trampoline(bi))
			start_by_broadcast(MIN(max_cpus, (unsigned)MAX_CPUS));
		return;
	}
	const struct acpi_cpus cpus = madt_cpus;
	pr_info("smp: ACPI lists %u usable CPU%s%s\n", cpus.nr, cpus.nr == 1 ? "" : "s",
		cpus.nr_disabled ? " (and some disabled ones)" : "");
	if (cpus.nr <= 1 || !place_trampoline(bi))
		return;

	unsigned limit = MIN(max_cpus, (unsigned)MAX_CPUS), slot = 1, skipped = 0;
	for (unsigned i = 0; i < cpus.nr; i++) {
		uint32_t id = cpus.apic_id[i];
		if (id == pcpus[0].apic_id)
			continue;
		if (slot >= limit) {
			skipped++;
			continue;
		}
		if (id > XAPIC_MAX_ID && !apic_x2apic_mode()) {
			pr_warn("smp: APIC id %u needs x2APIC mode, which this CPU does not offer; cpu not started\n", id);
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
