/* Keel's C entry: from the multiboot2 hand-off to the scheduler. */
#include <keel/apic.h>
#include <keel/bootinfo.h>
#include <keel/config.h>
#include <keel/console.h>
#include <keel/spec.h>
#include <keel/cpu.h>
#include <keel/efi_rsdp.h>
#include <keel/guest.h>
#include <keel/mm.h>
#include <keel/screen.h>
#include <keel/string.h>
#include <keel/tsc.h>
#include <keel/vmx.h>
#include <keel/vrtc.h>

extern struct vrtc_time keel_boot_time;
void host_rtc_read(struct vrtc_time *t);
#include <x86/io.h>

#define MB2_BOOT_MAGIC 0x36d76289u

static struct bootinfo bootinfo;
struct keel_config keel_config;

__noreturn void kmain(uint32_t magic, uint32_t info_phys);

static __noreturn void halt_forever(void)
{
	console_flush();
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void print_banner(void)
{
	struct cpu_info ci;
	cpu_identify(&ci);
	kprintf("\nKeel hypervisor %s (multiboot2, x86-64, Intel VMX)\n", KEEL_VERSION);
	kprintf("keel: cpu: %s family %#x model %#x stepping %u \"%s\"\n", ci.vendor, ci.family, ci.model,
		ci.stepping, ci.brand);
}

static void print_memory_and_modules(const struct bootinfo *bi)
{
	uint64_t ram = 0;
	for (unsigned i = 0; i < bi->nr_mmap; i++) {
		const struct mem_region *r = &bi->mmap[i];
		if (r->type == 1)
			ram += r->len;
		pr_debug("mem: %016lx-%016lx %s\n", r->base, r->base + r->len - 1, mem_region_type_name(r->type));
	}
	kprintf("keel: memory: %lu MiB of RAM in %u map entries\n", ram >> 20, bi->nr_mmap);
	kprintf("keel: modules: %u\n", bi->nr_modules);
	for (unsigned i = 0; i < bi->nr_modules; i++) {
		const struct boot_module *m = &bi->modules[i];
		kprintf("keel:   module %-12s %8lu KiB at %#lx%s%s\n", m->name, (m->end - m->start) >> 10, m->start,
			m->args[0] ? "  args: " : "", m->args);
	}
	if (bi->rsdp_len)
		pr_info("acpi: RSDP revision %d from the boot loader\n", bi->rsdp_revision);
	for (unsigned i = 0; i < bi->nr_warnings; i++)
		pr_warn("boot information: %s\n", bi->warnings[i]);
}

static const void *firmware_map(void *ctx, uint64_t pa, uint64_t len) { return mm_map_firmware(pa, len); }

/* GRUB on UEFI passes the RSDP in its ACPI tags when it finds one; when it
 * does not (seen with OVMF in Bochs), the EFI system table it also passes
 * lists the ACPI tables among its configuration tables. */
static void find_rsdp_through_efi(struct bootinfo *bi)
{
	char err[160];
	if (bi->rsdp_len || !bi->efi_systab)
		return;
	if (efi_find_rsdp(bi->efi_systab, firmware_map, NULL, bi->rsdp, &bi->rsdp_len, err, sizeof(err)) < 0) {
		pr_warn("acpi: no RSDP from the boot loader, and none through the EFI system table at %#lx: %s\n",
			bi->efi_systab, err);
		return;
	}
	bi->rsdp_revision = bi->rsdp[15];
	pr_info("acpi: RSDP revision %d from the EFI system table (the boot loader passed no ACPI tag)\n",
		bi->rsdp_revision);
}

/* magic: boot.S has checked it is multiboot2's before coming here. */
void kmain(uint32_t magic, uint32_t info_phys)
{
	extern uint64_t tsc_boot;
	tsc_boot = rdtsc();

	pcpus[0].id = 0;
	cpu_tables_init(&pcpus[0]);
	idt_init();
	idt_load();
	console_init();
	screen_capture_early();
	print_banner();

	char err[160];
	if (mb2_parse(phys_to_virt(info_phys), MiB(1), info_phys, &bootinfo, err, sizeof(err)) < 0) {
		pr_err("the boot information from the boot loader is unusable: %s\n", err);
		pr_err("boot Keel with GRUB 2 ('multiboot2 /boot/keel.elf ...'). Halted.\n");
		halt_forever();
	}

	config_defaults(&keel_config);
	config_parse_cmdline(&keel_config, bootinfo.cmdline);
	console_loglevel = keel_config.loglevel;
	kprintf("keel: command line: %s\n", bootinfo.cmdline[0] ? bootinfo.cmdline : "(empty)");
	for (unsigned i = 0; i < keel_config.nr_errors; i++)
		pr_err("command line: %s\n", keel_config.errors[i]);
	screen_init(&bootinfo, keel_config.no_screen);

	print_memory_and_modules(&bootinfo);
	uint64_t free = mm_init(&bootinfo);
	kprintf("keel: allocator: %lu MiB free for guests and Keel (RAM up to %#lx, %lu MiB above 4 GiB)\n",
		free >> 20, mm_ram_top(), mm_ram_above_4g() >> 20);
	find_rsdp_through_efi(&bootinfo);

	tsc_init();
	host_rtc_read(&keel_boot_time);
	apic_init(keel_config.apic, smp_find_cpus(&bootinfo));

	if (vmx_probe() < 0) {
		pr_err("no guest can run without VMX. Keel halted (nothing else to do).\n");
		halt_forever();
	}
	if (vmx_enable_cpu(0) < 0)
		halt_forever();
	kprintf("keel: vmx: VMX operation entered on cpu0 (VMCS revision %#x)\n",
		(unsigned)(vmx_caps.basic & 0x7fffffff));
	spec_init(keel_config.verw); /* speculation mitigations at the guest boundary */
	apicv_init(!keel_config.no_apicv); /* APIC virtualization where offered (hvm/vmx/apicv.c) */

	sched_init_cpu(0);
	smp_start_aps(&bootinfo, keel_config.max_cpus);
	guests_create_all(&keel_config, &bootinfo);
	sched_start();
	sched_run(0); /* never returns */
}
