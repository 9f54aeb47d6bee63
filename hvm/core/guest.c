/*
 * Guest lifecycle: create a guest from its configuration (RAM, EPT, devices,
 * hvmloader, vCPUs), and stop it without touching any other guest.
 */
#include <keel/acpi_wake.h>
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/format.h>
#include <keel/guest.h>
#include <keel/guest_devices.h>
#include <keel/guest_kernel.h>
#include <keel/hvmloader_abi.h>
#include <keel/mm.h>
#include <keel/restart_backoff.h>
#include <keel/string.h>
#include <keel/tsc.h>
#include <keel/exit_stats.h>
#include <keel/vcpu_arch.h>
#include <stdarg.h>
#include <x86/cpu.h>
#include <x86/io.h>


struct guest *guests[MAX_GUESTS_RUNNING];
unsigned nr_guests;

/* Guest-physical layout at creation (hvmloader ABI). */
#define GUEST_START_INFO_GPA HVMLOADER_START_INFO_ADDR
#define GUEST_FIRMWARE_GPA HVMLOADER_STAGING_ADDR
#define GUEST_MIN_RAM MiB(8)
#define SEABIOS_MAX_SIZE KiB(256)

static struct guest guest_storage[MAX_GUESTS_RUNNING];

/* --- guest memory ------------------------------------------------------ */

void *guest_phys_ptr(struct guest *g, uint64_t gpa, uint64_t len)
{
	uint64_t ram_off;
	if (!g->ram_chunks || !guest_ram_offset(&g->ram, gpa, len ? len : 1, &ram_off))
		return NULL;
	uint64_t chunk = ram_off / GUEST_CHUNK_SIZE, off = ram_off % GUEST_CHUNK_SIZE;
	if (len > GUEST_CHUNK_SIZE - off)
		return NULL; /* crosses a chunk: callers copy piecewise */
	return (uint8_t *)g->ram_chunks[chunk] + off;
}

/* Chunks never straddle the hole (both parts are whole chunks), so a copy
 * goes piece by piece, each piece inside one chunk and checked on its own. */
static bool guest_copy(struct guest *g, uint64_t gpa, void *buf, uint64_t len, bool to_guest)
{
	uint8_t *b = buf;
	uint64_t ram_off;
	if (len && !guest_ram_offset(&g->ram, gpa, len, &ram_off))
		return false;
	while (len) {
		uint64_t off = ram_off % GUEST_CHUNK_SIZE;
		uint64_t n = MIN(len, GUEST_CHUNK_SIZE - off);
		uint8_t *p = (uint8_t *)g->ram_chunks[ram_off / GUEST_CHUNK_SIZE] + off;
		if (to_guest)
			memcpy(p, b, n);
		else
			memcpy(b, p, n);
		ram_off += n;
		b += n;
		len -= n;
	}
	return true;
}

bool guest_write_phys(struct guest *g, uint64_t gpa, const void *src, uint64_t len)
{
	return guest_copy(g, gpa, (void *)src, len, true);
}

bool guest_read_phys(struct guest *g, uint64_t gpa, void *dst, uint64_t len)
{
	return guest_copy(g, gpa, dst, len, false);
}

static void *ept_alloc_table(void *ctx) { return page_alloc(1); }
static void ept_free_table(void *ctx, void *page) { page_free(page, 1); }

static void guest_free_memory(struct guest *g)
{
	if (g->ram_chunks) {
		for (unsigned i = 0; i < g->nr_chunks; i++)
			page_free(g->ram_chunks[i], GUEST_CHUNK_SIZE / PAGE_SIZE);
		page_free(g->ram_chunks, g->chunk_array_pages);
		g->ram_chunks = NULL;
	}
	if (g->ept.pml4)
		ept_destroy(&g->ept);
	guest_arch_destroy(g);
	/* The private disk copy stays (g->persist.disk): the guest's writes
	 * must survive its restart. */
	g->disk = NULL;
	if (g->testdev_mem)
		page_free(g->testdev_mem, TESTDEV_MMIO_SIZE / PAGE_SIZE);
	g->testdev_mem = NULL;
	for (unsigned i = 0; i < g->nr_vcpus; i++) {
		struct vcpu *v = &g->vcpus[i];
		sched_remove_vcpu(v);
		vcpu_arch_destroy(v);
		page_free(v->trace, ALIGN_UP(v->trace_len * sizeof(*v->trace), PAGE_SIZE) / PAGE_SIZE);
		v->trace = NULL;
	}
}

/* Says where a run of guest RAM is in host memory (loglevel=debug). */
static void guest_log_ram_run(struct guest *g, uint64_t gpa, uint64_t hpa, uint64_t len)
{
	if (len)
		pr_debug("guest %s: RAM %#lx-%#lx at host %#lx-%#lx\n", g->name, gpa, gpa + len - 1, hpa,
			 hpa + len - 1);
}

/* The largest block for guest-physical gpa with at most `size` bytes left
 * that the allocator has, from the top of memory: all of it if it can,
 * else half, and so on down to one 2 MiB chunk. A block of 1 GiB or more
 * at a 1 GiB-aligned gpa is asked for 1 GiB-aligned first, so the EPT
 * can map it with 1 GiB leaves; otherwise 2 MiB alignment gives 2 MiB
 * leaves. Sets *got to the block's size. */
static void *guest_alloc_block(uint64_t gpa, uint64_t size, uint64_t *got)
{
	for (uint64_t n = size;; n = ALIGN_UP(n / 2, GUEST_CHUNK_SIZE)) {
		void *p = NULL;
		if (gpa % GiB(1) == 0 && n >= GiB(1))
			p = page_alloc_high(n / PAGE_SIZE, GiB(1));
		if (!p)
			p = page_alloc_high(n / PAGE_SIZE, GUEST_CHUNK_SIZE);
		if (p || n == GUEST_CHUNK_SIZE) {
			*got = n;
			return p;
		}
	}
}

/* Backs the guest-physical range [gpa, gpa+size) (whole 2 MiB chunks) with
 * host blocks as large as there are (guest_alloc_block) and maps them. */
static int guest_alloc_range(struct guest *g, uint64_t gpa, uint64_t size)
{
	uint64_t run_gpa = gpa, run_hpa = 0, run_len = 0;
	while (size) {
		uint64_t n;
		void *p = guest_alloc_block(gpa, size, &n);
		if (!p)
			return -1;
		for (uint64_t i = 0; i < n; i += GUEST_CHUNK_SIZE)
			g->ram_chunks[g->nr_chunks++] = (uint8_t *)p + i;
		if (ept_map_range(&g->ept, gpa, virt_to_phys(p), n, EPT_READ | EPT_WRITE | EPT_EXEC) < 0)
			return -1;
		if (run_len && virt_to_phys(p) == run_hpa + run_len) {
			run_len += n;
		} else {
			guest_log_ram_run(g, run_gpa, run_hpa, run_len);
			run_gpa = gpa;
			run_hpa = virt_to_phys(p);
			run_len = n;
		}
		gpa += n;
		size -= n;
	}
	guest_log_ram_run(g, run_gpa, run_hpa, run_len);
	return 0;
}

static int guest_alloc_ram(struct guest *g, uint64_t bytes)
{
	g->ram_size = bytes;
	g->ram = guest_ram_split(bytes, g->cfg->lowmem_bytes);
	if (bytes > mm_free_bytes())
		return -1; /* refused before zeroing memory it could never use */
	g->nr_chunks = 0; /* counts the chunks allocated, so a failure frees only those */
	uint64_t chunks = bytes / GUEST_CHUNK_SIZE;
	g->chunk_array_pages = (unsigned)(ALIGN_UP(chunks * sizeof(void *), PAGE_SIZE) / PAGE_SIZE);
	g->ram_chunks = page_alloc(g->chunk_array_pages);
	if (!g->ram_chunks)
		return -1;
	g->ept.alloc_table = ept_alloc_table;
	g->ept.free_table = ept_free_table;
	g->ept.ctx = g;
	g->ept.allow_2m = vcpu_arch_large_pages();
	g->ept.allow_1g = vcpu_arch_huge_pages();
	if (ept_init(&g->ept) < 0)
		return -1;
	if (guest_alloc_range(g, 0, g->ram.below_4g) < 0)
		return -1;
	if (g->ram.above_4g && guest_alloc_range(g, HVMLOADER_HIGH_RAM_BASE, g->ram.above_4g) < 0)
		return -1;
	return 0;
}

/* --- events from device models ------------------------------------------ */

static void guest_console_emit(void *ctx, const char *line, size_t len)
{
	struct guest *g = ctx;
	/* Boot timeline: the first guest output after hvmloader handed over. */
	if (g->marks[MARK_HANDOVER])
		timeline_mark(g, MARK_FIRST_OUTPUT, rdtsc());
	/* Never console_write(): a guest printing faster than the UART would
	 * make Keel wait for the UART inside its exit, and no other guest
	 * would run meanwhile. Over its share, or with the queue full, the
	 * line is dropped and counted instead. */
	uint64_t now = now_ns();
	if (output_budget_take(&g->persist.out_budget, now, len) && !console_write_nowait(line, len))
		output_budget_drop(&g->persist.out_budget, len);
	guest_console_report(g, now, false);
}

void guest_log(struct guest *g, enum guest_log_kind kind, enum log_level lvl, const char *fmt, ...)
{
	if (!guest_log_count(&g->persist.log, kind) || (int)lvl > console_loglevel)
		return;
	char text[384];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	klog(lvl, "guest %s: %s (%lu so far)\n", g->name, text, g->persist.log.count[kind]);
}

void guest_console_report(struct guest *g, uint64_t now, bool final)
{
	struct output_budget *b = &g->persist.out_budget;
	switch (output_budget_report_due(b, now, final)) {
	case OUTPUT_REPORT_START:
		pr_warn("guest %s: console output dropped: it prints more than its share (%lu bytes/s, bursts of %lu) "
			"or the console is full; counted here every %llu s while it lasts\n",
			g->name, b->rate, b->burst, OUTPUT_REPORT_NS / 1000000000ULL);
		break;
	case OUTPUT_REPORT_SUMMARY:
		pr_warn("guest %s: %lu lines (%lu bytes) of its console output dropped in the last %lu ms (%lu lines, "
			"%lu bytes in all)\n",
			g->name, b->lines, b->bytes, (now - b->report_ns) / 1000000, b->total_lines, b->total_bytes);
		output_budget_reported(b, now);
		break;
	case OUTPUT_REPORT_NONE:
		break;
	}
}

static void guest_request_reset(void *ctx, const char *reason)
{
	struct guest *g = ctx;
	if (g->state != GUEST_RUNNING)
		return;
	if (g->cfg->on_reset_restart) {
		/* A guest resetting itself in a loop would otherwise print six
		 * Keel lines per reset, without end, and rebuild itself as fast
		 * as it can: it backs off (restart_backoff.h). */
		bool first;
		uint64_t now = now_ns(), delay = restart_backoff_next(&g->persist.backoff, now, &first);
		g->persist.restart_not_before_ns = now + delay;
		if (first)
			pr_warn("guest %s: resets itself in a loop (%u restarts, each within %llu s of the last): further "
				"restarts wait, from %llu s doubling up to %llu s, until it runs %llu s\n",
				g->name, RESTART_FREE_QUICK + 1, RESTART_QUICK_NS / 1000000000ULL,
				RESTART_DELAY_FIRST_NS / 1000000000ULL, RESTART_DELAY_MAX_NS / 1000000000ULL,
				RESTART_QUICK_NS / 1000000000ULL);
		g->persist.restart_unlogged = !guest_log_count(&g->persist.log, GLOG_RESTART);
		if (!g->persist.restart_unlogged) {
			char when[32] = "";
			if (delay)
				ksnprintf(when, sizeof(when), " in %lu s", (uint64_t)(delay / 1000000000ULL));
			pr_info("guest %s: reset requested (%s): restarting%s (restart %lu%s)\n", g->name, reason, when,
				g->persist.log.count[GLOG_RESTART],
				g->persist.log.count[GLOG_RESTART] > 8 ? "; the restarts in between were not logged" : "");
		}
		g->reset_requested = true;
		guest_stop(g, "reset (%s)", reason);
	} else {
		guest_stop(g, "reset requested (%s) and on_reset is 'stop'", reason);
	}
}

static void guest_request_exit(void *ctx, int status, const char *reason)
{
	struct guest *g = ctx;
	g->exit_status = status;
	guest_stop(g, "guest exited with status %d (%s)", status, reason);
}

/* ACPI S3: every vCPU stops as at INIT; the devices keep their state (the
 * RTC keeps time), memory is untouched. Only the wake event the guest
 * enabled (its RTC alarm, hvm/dev/vpm.c) brings it back. */
static void guest_request_suspend(void *ctx)
{
	struct guest *g = ctx;
	pr_info("guest %s: suspended to RAM (ACPI S3)%s\n", g->name,
		vpm_wake_armed(&g->pm) ? "; its RTC alarm wakes it" : " with no wake event enabled: it sleeps until a "
									 "console restart or stop");
	for (unsigned i = 0; i < g->nr_vcpus; i++) {
		struct vcpu *v = &g->vcpus[i];
		v->start_pending = false;
		v->init_pending = true;
		v->state = VCPU_WAIT_SIPI;
		sched_kick_vcpu(v);
	}
	g->devices_dirty = true;
}

static bool read_guest_phys(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	return guest_read_phys(ctx, gpa, buf, len);
}

/* The wake: the CPUs come out of reset (their local APICs too) and the
 * boot vCPU runs the OS's waking vector, which firmware would jump to. */
static void guest_request_wake(void *ctx)
{
	struct guest *g = ctx;
	uint32_t vector;
	const char *why;
	if (acpi_find_waking_vector(read_guest_phys, g, &vector, &why) < 0) {
		pr_warn("guest %s: woken from ACPI S3, but %s: restarting it instead\n", g->name, why);
		guest_request_reset(g, "wake from S3 with no waking vector");
		return;
	}
	for (unsigned i = 0; i < g->nr_vcpus; i++)
		vlapic_power_reset(&g->vcpus[i].lapic);
	struct vcpu *bsp = &g->vcpus[0];
	bsp->start_cs = (uint16_t)(vector >> 4);
	bsp->start_ip = (uint16_t)(vector & 0xf);
	__atomic_store_n(&bsp->start_pending, true, __ATOMIC_RELEASE);
	vpm_resumed(&g->pm);
	pr_info("guest %s: woken from ACPI S3 by its RTC alarm: boot vCPU at %04x:%04x\n", g->name, bsp->start_cs,
		bsp->start_ip);
	sched_wake(bsp);
}

static uint64_t guest_clock_ns(void *ctx)
{
	(void)ctx;
	return now_ns();
}

/* --- the APIC bus: what INIT, start-up and new interrupts do to vCPUs --- */

static bool apic_bus_init(void *ctx, unsigned index)
{
	struct guest *g = ctx;
	if (index >= g->nr_vcpus)
		return false;
	struct vcpu *v = &g->vcpus[index];
	if (index == 0) {
		/* On a PC an INIT to the BSP restarts the firmware; Keel does not
		 * emulate that, so the boot vCPU ignores it. */
		guest_log(g, GLOG_INIT_BOOT_VCPU, LOG_INFO, "INIT IPI to the boot vCPU ignored");
		return false;
	}
	/* Wait for a start-up IPI. The scheduler no longer picks it; its VMCS
	 * guest state is rewritten when the start-up IPI comes. init_pending
	 * keeps the INIT if the target is in the middle of an exit of its own
	 * that would set another state (HLT), see vmx_exit_dispatch. */
	v->start_pending = false;
	v->init_pending = true;
	v->state = VCPU_WAIT_SIPI;
	sched_kick_vcpu(v); /* if it runs on another CPU, stop it now */
	return true;
}

static void apic_bus_startup(void *ctx, unsigned index, uint8_t vector)
{
	struct guest *g = ctx;
	if (index >= g->nr_vcpus)
		return;
	struct vcpu *v = &g->vcpus[index];
	/* A start-up IPI to a CPU that is not waiting for one is ignored
	 * (SDM 8.4.4.1: the second SIPI of INIT-SIPI-SIPI usually is). */
	if (v->state != VCPU_WAIT_SIPI || v->start_pending)
		return;
	v->start_cs = (uint16_t)(vector << 8);
	v->start_ip = 0;
	__atomic_store_n(&v->start_pending, true, __ATOMIC_RELEASE);
	pr_debug("guest %s: vCPU %u started at %04x:0000\n", g->name, index, vector << 8);
	sched_wake(v);
}

static void apic_bus_kick(void *ctx, unsigned index)
{
	struct guest *g = ctx;
	if (index < g->nr_vcpus)
		sched_wake(&g->vcpus[index]);
}

static void apic_bus_eoi_level(void *ctx, uint8_t vector)
{
	struct guest *g = ctx;
	vioapic_eoi(&g->ioapic, vector);
}

static const struct vlapic_bus_ops apic_bus_ops = {
	.init = apic_bus_init,
	.startup = apic_bus_startup,
	.kick = apic_bus_kick,
	.eoi_level = apic_bus_eoi_level,
};

/* --- validation of what a guest needs -------------------------------------- */

static const struct bootinfo *boot_info;
static const struct keel_config *keel_cfg;

static const struct boot_module *need_module(const char *guest, const char *what, const char *name)
{
	const struct boot_module *m = bootinfo_find_module(boot_info, name);
	if (!m) {
		pr_err("guest %s: no GRUB module named '%s' for its %s; add 'module2 /boot/FILE %s' to the GRUB "
		       "entry, or fix the name\n",
		       guest, name, what, name);
		return NULL;
	}
	if (m->end <= m->start) {
		pr_err("guest %s: module '%s' (%s) is empty\n", guest, name, what);
		return NULL;
	}
	return m;
}

/* Checks SeaBIOS's image: SeaBIOS ROMs are a whole number of 64 KiB
 * blocks, and Keel maps at most 256 KiB below 1 MiB (0xC0000-0xFFFFF). */
int seabios_check_size(uint64_t size, char *why, size_t len);
int seabios_check_size(uint64_t size, char *why, size_t len)
{
	if (size == 0 || size % KiB(64) || size > SEABIOS_MAX_SIZE) {
		ksnprintf(why, len,
			  "the SeaBIOS image is %lu bytes; it must be a non-zero multiple of 64 KiB and at most 256 "
			  "KiB (Debian's /usr/share/seabios/bios-256k.bin is right; bios.bin lacks Xen support)",
			  size);
		return -1;
	}
	return 0;
}

/* --- devices --------------------------------------------------------------- */

struct vrtc_time keel_boot_time;

static bool guest_dma_read(void *ctx, uint64_t gpa, void *dst, uint64_t len)
{
	return guest_read_phys(ctx, gpa, dst, len);
}
static bool guest_dma_write(void *ctx, uint64_t gpa, const void *src, uint64_t len)
{
	return guest_write_phys(ctx, gpa, src, len);
}
static bool guest_dma_covers(void *ctx, uint64_t gpa, uint64_t len)
{
	struct guest *g = ctx;
	uint64_t off;
	return g->ram_chunks && guest_ram_offset(&g->ram, gpa, len ? len : 1, &off);
}
static void guest_dma_complain(void *ctx, const char *text)
{
	guest_log(ctx, GLOG_DEVICE_PROGRAMMING, LOG_WARN, "%s", text);
}

static int guest_init_devices(struct guest *g)
{
	g->dma = (struct dma_mem){ guest_dma_read, guest_dma_write, guest_dma_complain, g, guest_dma_covers };
	g->clock = (struct vclock){ guest_clock_ns, g };
	g->events = (struct guest_events){ guest_request_reset, guest_request_exit, guest_request_suspend,
					    guest_request_wake, g };
	guest_output_init(&g->out, g->prefix, guest_console_emit, g);
	guest_output_init(&g->dbg_out, g->prefix, guest_console_emit, g);
	if (guest_devices_init(g, &keel_boot_time, &apic_bus_ops) < 0) {
		pr_err("guest %s: device set-up failed (port conflict or table full): a bug in Keel\n", g->name);
		return -1;
	}
	/* The local APIC timers count at the crystal CPUID 0x15 states. */
	g->apic_bus.timer_hz = cpuid_tsc_leaf(tsc_hz, tsc_host_leaf15).ecx;
	/* x2APIC mode unless the guest has x2apic:off (CPUID follows). */
	g->apic_bus.x2apic = !g->cfg->x2apic_off;
	return 0;
}

/* --- creation ------------------------------------------------------------ */

/* bios (firmware path) or kernel (direct boot) is NULL. */
static int guest_load_images(struct guest *g, const struct boot_module *loader, const struct boot_module *bios,
			     const struct boot_module *kernel, const struct boot_module *ramdisk)
{
	uint64_t lsize = loader->end - loader->start, bsize = bios ? bios->end - bios->start : 0;
	char why[200];

	if (lsize > HVMLOADER_MAX_SIZE) {
		pr_err("guest %s: hvmloader module is %lu KiB, more than the %u KiB window at %#x\n", g->name,
		       lsize >> 10, HVMLOADER_MAX_SIZE >> 10, HVMLOADER_LOAD_ADDR);
		return -1;
	}
	if (bios && seabios_check_size(bsize, why, sizeof(why)) < 0) {
		pr_err("guest %s: %s\n", g->name, why);
		return -1;
	}
	guest_write_phys(g, HVMLOADER_LOAD_ADDR, phys_to_virt(loader->start), lsize);
	if (bios)
		guest_write_phys(g, GUEST_FIRMWARE_GPA, phys_to_virt(bios->start), bsize);

	struct hvmloader_start_info si;
	memset(&si, 0, sizeof(si));
	si.magic = HVMLOADER_START_MAGIC;
	si.version = HVMLOADER_START_VERSION;
	si.size = sizeof(si);
	si.nr_vcpus = g->nr_vcpus;
	si.flags = g->acpi_pm ? HVMLOADER_FLAG_ACPI_PM : 0;
	si.ram_below_4g = g->ram.below_4g;
	si.ram_above_4g = g->ram.above_4g;
	si.firmware_paddr = bios ? GUEST_FIRMWARE_GPA : 0;
	si.firmware_size = bsize;
	kstrlcpy(si.guest_name, g->name, sizeof(si.guest_name));
	if (kernel && guest_stage_kernel(g, kernel, ramdisk, g->cfg->cmdline, &si) < 0)
		return -1;
	guest_write_phys(g, GUEST_START_INFO_GPA, &si, sizeof(si));
	return 0;
}

static int guest_setup_disk(struct guest *g, const struct boot_module *disk)
{
	uint64_t bytes = disk->end - disk->start;
	if (bytes % 512) {
		pr_err("guest %s: disk image '%s' is %lu bytes, not a whole number of 512-byte sectors\n", g->name,
		       disk->name, bytes);
		return -1;
	}
	/* Two guests on one module each get a private copy, so one guest's
	 * writes never reach another. */
	unsigned users = 0;
	for (unsigned i = 0; i < keel_cfg->nr_guests; i++)
		if (keel_cfg->guests[i].valid && !strcmp(keel_cfg->guests[i].disk, g->cfg->disk))
			users++;
	g->disk_bytes = bytes;
	if (users > 1) {
		/* Made once, kept across restarts (guest_persist). */
		if (!g->persist.disk) {
			g->persist.disk = page_alloc(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
			if (!g->persist.disk) {
				pr_err("guest %s: not enough memory for a private copy of disk '%s' (%lu KiB)\n",
				       g->name, disk->name, bytes >> 10);
				return -1;
			}
			memcpy(g->persist.disk, phys_to_virt(disk->start), bytes);
		}
		g->disk = g->persist.disk;
		g->disk_private = true;
	} else {
		g->disk = phys_to_virt(disk->start);
		g->disk_private = false;
	}
	return 0;
}

static int guest_create_vcpus(struct guest *g)
{
	for (unsigned i = 0; i < g->nr_vcpus; i++) {
		struct vcpu *v = &g->vcpus[i];
		memset(v, 0, sizeof(*v));
		v->guest = g;
		v->id = i;
		v->cpu = -1;
		v->last_cpu = -1;
		sched_add_vcpu(v);
		v->vpid = (uint16_t)(1 + g->index * MAX_VCPUS + i);
		v->pat = 0x0007040600070406ULL;
		v->misc_enable = MISC_ENABLE_RESET;
		if (keel_cfg->trace_entries) {
			v->trace_len = keel_cfg->trace_entries;
			v->trace = page_alloc(ALIGN_UP(v->trace_len * sizeof(*v->trace), PAGE_SIZE) / PAGE_SIZE);
			if (!v->trace)
				v->trace_len = 0;
		}
		/* vCPU 0 starts in hvmloader, the others wait for INIT-SIPI. */
		if (vcpu_arch_create(v, i == 0 ? VCPU_START_LOADER : VCPU_START_WAIT_SIPI) < 0) {
			pr_err("guest %s: cannot create vCPU %u: out of memory for its VMCS and register pages\n",
			       g->name, i);
			return -1;
		}
		/* The APIC's registers live in the vCPU's virtual-APIC page,
		 * which the CPU reads and writes too (hvm/dev/vlapic.c). */
		vlapic_init(&v->lapic, &g->apic_bus, i, &g->clock, (uint32_t *)v->vapic);
		v->state = i == 0 ? VCPU_RUNNABLE : VCPU_WAIT_SIPI;
	}
	return 0;
}

static int guest_build(struct guest *g, const struct guest_config *gc)
{
	const struct boot_module *loader = need_module(g->name, "hvmloader", keel_cfg->hvmloader);
	/* A guest boots its disk through SeaBIOS, or a kernel directly. */
	const struct boot_module *bios = gc->disk[0] ? need_module(g->name, "SeaBIOS image", keel_cfg->seabios) : NULL;
	const struct boot_module *disk = gc->disk[0] ? need_module(g->name, "disk", gc->disk) : NULL;
	const struct boot_module *kernel = gc->kernel[0] ? need_module(g->name, "kernel", gc->kernel) : NULL;
	const struct boot_module *ramdisk = gc->ramdisk[0] ? need_module(g->name, "ramdisk", gc->ramdisk) : NULL;
	if (!loader || (gc->disk[0] && (!bios || !disk)) || (gc->kernel[0] && !kernel) || (gc->ramdisk[0] && !ramdisk))
		return -1;
	if (!disk && !kernel) {
		pr_err("guest %s: neither disk: nor kernel: given\n", g->name);
		return -1;
	}
	if (gc->mem_bytes < GUEST_MIN_RAM || gc->mem_bytes % GUEST_CHUNK_SIZE) {
		pr_err("guest %s: mem:%luM is not supported: give at least 8 MiB, in whole 2 MiB steps\n", g->name,
		       gc->mem_bytes >> 20);
		return -1;
	}

	if (guest_arch_create(g) < 0 || guest_alloc_ram(g, gc->mem_bytes) < 0 || guest_arch_map_apic(g) < 0) {
		pr_err("guest %s: not enough memory for %lu MiB of RAM (%lu MiB free, largest 2 MiB-aligned run "
		       "%lu MiB); give it less with mem:, or boot fewer guests\n",
		       g->name, gc->mem_bytes >> 20, mm_free_bytes() >> 20, mm_largest_free_run(MiB(2)) >> 20);
		return -1;
	}
	if (gc->testdev && !(g->testdev_mem = page_alloc(TESTDEV_MMIO_SIZE / PAGE_SIZE))) {
		pr_err("guest %s: not enough memory for the test device's %u KiB\n", g->name, TESTDEV_MMIO_SIZE >> 10);
		return -1;
	}
	g->acpi_pm = gc->acpi_pm;
	if ((disk && guest_setup_disk(g, disk) < 0) || guest_load_images(g, loader, bios, kernel, ramdisk) < 0)
		return -1;
	if (guest_init_devices(g) < 0)
		return -1;
	if (guest_create_vcpus(g) < 0)
		return -1;
	return 0;
}

static int guest_create(struct guest *g, const struct guest_config *gc, unsigned index, bool restart)
{
	struct guest_persist keep = g->persist;
	/* All but the lock, which a restart holds. */
	_Static_assert(offsetof(struct guest, lock) == 0, "struct guest's lock comes first");
	memset((uint8_t *)g + sizeof(g->lock), 0, sizeof(*g) - sizeof(g->lock));
	if (restart)
		g->persist = keep;
	else
		output_budget_init(&g->persist.out_budget, OUTPUT_RATE_BYTES, OUTPUT_BURST_BYTES, now_ns());
	g->index = index;
	g->cfg = gc;
	g->exit_status = -1;
	kstrlcpy(g->name, gc->name, sizeof(g->name));
	ksnprintf(g->prefix, sizeof(g->prefix), "[%s] ", g->name);
	g->nr_vcpus = gc->vcpus;
	g->created_tsc = rdtsc();
	g->state = GUEST_STOPPED;
	uint64_t free_before = mm_free_bytes();
	bool had_disk_copy = g->persist.disk != NULL; /* a restart reuses it */
	if (guest_build(g, gc) < 0) {
		guest_free_memory(g);
		return -1;
	}
	g->ram_overhead_bytes = free_before - mm_free_bytes() - g->ram_size -
				(g->disk_private && !had_disk_copy ? ALIGN_UP(g->disk_bytes, PAGE_SIZE) : 0);
	g->state = GUEST_RUNNING;
	if (g->persist.restart_unlogged)
		return 0;
	/* What it boots: a kernel directly, or a disk through SeaBIOS. */
	char boots[160];
	if (gc->kernel[0])
		ksnprintf(boots, sizeof(boots), "kernel %s%s%s (direct boot)", gc->kernel,
			  gc->ramdisk[0] ? ", ramdisk " : "", gc->ramdisk);
	else
		ksnprintf(boots, sizeof(boots), "disk %s (%lu KiB%s)", gc->disk, g->disk_bytes >> 10,
			  g->disk_private ? ", private copy" : "");
	pr_info("guest %s: created: %lu MiB RAM, %u vCPU%s, %s, EPT %lu table pages, %lu KiB of Keel memory besides "
		"RAM\n",
		g->name, g->ram_size >> 20, g->nr_vcpus, g->nr_vcpus > 1 ? "s" : "", boots, g->ept.nr_table_pages,
		g->ram_overhead_bytes >> 10);
	return 0;
}

void guests_create_all(const struct keel_config *cfg, const struct bootinfo *bi)
{
	boot_info = bi;
	keel_cfg = cfg;
	unsigned ok = 0;
	uint64_t free_before = mm_free_bytes();

	if (cfg->nr_guests == 0)
		pr_warn("no guests configured: add guest=name:NAME,disk:MODULE to Keel's command line\n");
	for (unsigned i = 0; i < cfg->nr_guests && i < MAX_GUESTS_RUNNING; i++) {
		const struct guest_config *gc = &cfg->guests[i];
		if (!gc->valid) {
			pr_err("guest %s: not started: %s\n", gc->name[0] ? gc->name : "?", gc->error);
			continue;
		}
		struct guest *g = &guest_storage[nr_guests];
		guests[nr_guests++] = g;
		if (guest_create(g, gc, nr_guests - 1, false) < 0) {
			pr_err("guest %s: not started (see above); the other guests are not affected\n", gc->name);
			continue;
		}
		ok++;
	}
	pr_info("%u of %u guest%s started, using %lu KiB (RAM, disk copies, Keel's structures); %lu KiB left\n", ok,
		cfg->nr_guests, cfg->nr_guests == 1 ? "" : "s", (free_before - mm_free_bytes()) >> 10,
		mm_free_bytes() >> 10);
}

/* --- stop and restart -------------------------------------------------------- */

void guest_stop(struct guest *g, const char *fmt, ...)
{
	va_list ap;
	if (g->state != GUEST_RUNNING)
		return;
	va_start(ap, fmt);
	kvsnprintf(g->stop_reason, sizeof(g->stop_reason), fmt, ap);
	va_end(ap);
	g->state = GUEST_STOPPED;
	timeline_mark(g, MARK_STOPPED, rdtsc()); /* the end of a benchmarked run (tools/bench) */
	/* Its RAM is freed below, maybe while a string I/O instruction is
	 * still moving data from it: the port registry takes nothing more. */
	iobus_close(&g->io);
	guest_output_flush(&g->out);
	guest_output_flush(&g->dbg_out);
	if (!g->reset_requested) /* a restart keeps counting (guest_persist) */
		guest_console_report(g, now_ns(), true);
	for (unsigned i = 0; i < g->nr_vcpus; i++)
		g->vcpus[i].state = VCPU_STOPPED;
	if (!g->reset_requested)
		g->persist.restart_unlogged = false; /* stopped or restarted by Keel or its console: say so */
	if (!g->persist.restart_unlogged) {
		pr_info("guest %s stopped: %s\n", g->name, g->stop_reason);
		pr_info("guest %s: last POST code 0x%02x\n", g->name, debugport_last_post(&g->dbg));
	}
	if (!g->reset_requested) {
		for (unsigned i = 0; i < g->nr_vcpus; i++)
			if (g->vcpus[i].trace)
				exit_trace_dump(&g->vcpus[i]);
		exit_stats_print(g);
	}
	/* Its vCPUs may still be in guest mode on other CPUs: the scheduler
	 * frees the memory once none holds one (guest_teardown). */
	g->teardown_pending = true;
	if (g->reset_requested) {
		g->reset_requested = false;
		g->restart_pending = true;
		g->warm_restart = true;
	}
}

void guest_teardown(struct guest *g)
{
	uint64_t before = mm_free_bytes();
	guest_free_memory(g);
	g->teardown_pending = false;
	/* Quiet for a guest about to restart (a reset loop must not flood). */
	if (g->restart_pending)
		pr_debug("guest %s: %lu KiB returned to the allocator\n", g->name, (mm_free_bytes() - before) >> 10);
	else
		pr_info("guest %s: %lu KiB returned to the allocator (%lu KiB free)\n", g->name,
			(mm_free_bytes() - before) >> 10, mm_free_bytes() >> 10);
}

static bool guest_on_some_cpu(struct guest *g)
{
	for (unsigned c = 0; c < nr_cpus_online; c++) {
		struct vcpu *cur = __atomic_load_n(&pcpus[c].current, __ATOMIC_ACQUIRE);
		if (cur && cur->guest == g)
			return true;
	}
	return false;
}

static bool lifecycle_work(const struct guest *g)
{
	return g && (__atomic_load_n(&g->teardown_pending, __ATOMIC_RELAXED) ||
		     __atomic_load_n(&g->restart_pending, __ATOMIC_RELAXED));
}

bool guests_lifecycle(unsigned cpu)
{
	/* Stopped guests are torn down once no CPU holds one of their vCPUs
	 * (a vCPU of it may still be in guest mode on another CPU until its
	 * next exit); restarts wait for the teardown. A CPU sets its current
	 * vCPU under that vCPU's guest lock and clears it last of all it does
	 * with the vCPU (vcpu_arch_put, release ordering), so under g's lock
	 * guest_on_some_cpu can only turn false: when it says false, no CPU
	 * uses g's vCPUs any more. */
	bool must_let_go = false;
	for (unsigned gi = 0; gi < nr_guests; gi++) {
		struct guest *g = guests[gi];
		if (!lifecycle_work(g))
			continue;
		guest_lock(g, cpu);
		if (g->teardown_pending && !guest_on_some_cpu(g))
			guest_teardown(g);
		/* Creating its vCPUs makes their VMCSs current here for a
		 * moment: only on a CPU that holds no vCPU. guest_restart
		 * itself waits out a reset loop's back-off. */
		else if (g->restart_pending && !g->teardown_pending &&
			 !(g->warm_restart && now_ns() < g->persist.restart_not_before_ns)) {
			if (pcpus[cpu].current)
				must_let_go = true;
			else
				guest_restart(g);
		}
		guest_unlock(g);
	}
	return must_let_go;
}

uint64_t guests_tick(uint64_t now, unsigned *running, unsigned cpu)
{
	uint64_t next = NO_DEADLINE;
	for (unsigned gi = 0; gi < nr_guests; gi++) {
		struct guest *g = guests[gi];
		if (!g || __atomic_load_n(&g->state, __ATOMIC_RELAXED) != GUEST_RUNNING)
			continue;
		guest_lock(g, cpu);
		if (g->state != GUEST_RUNNING) {
			guest_unlock(g);
			continue;
		}
		(*running)++;
		if (g->persist.out_budget.lines) /* its dropped console lines, even if it went quiet */
			guest_console_report(g, now, false);
		uint64_t d = guest_devices_update(g, now);
		if (d < next)
			next = d;
		/* A device may have raised what a halted vCPU waits for. */
		for (unsigned i = 0; i < g->nr_vcpus; i++) {
			struct vcpu *v = &g->vcpus[i];
			if (v->state == VCPU_HALTED && vcpu_interrupt_ready(v))
				v->state = VCPU_RUNNABLE;
		}
		guest_unlock(g);
	}
	return next;
}

void guest_request_restart(struct guest *g)
{
	if (g->state == GUEST_RUNNING)
		guest_stop(g, "stopped from the console");
	/* A new machine, at once: no back-off, no NVRAM carried over. */
	g->warm_restart = false;
	g->persist.restart_unlogged = false;
	memset(&g->persist.backoff, 0, sizeof(g->persist.backoff));
	g->persist.restart_not_before_ns = 0;
	g->restart_pending = true;
}

void guest_restart(struct guest *g)
{
	if (g->warm_restart && now_ns() < g->persist.restart_not_before_ns)
		return; /* backing off (guest_request_reset); the scheduler asks again */
	g->restart_pending = false;
	if (g->state == GUEST_RUNNING)
		return;
	unsigned index = g->index;
	const struct guest_config *gc = g->cfg;
	/* A PC's reset keeps the battery-backed CMOS RAM (0x0E-0x7F): firmware
	 * and boot loaders keep state there across a reboot. A restart from
	 * the console is a new machine. */
	bool warm = g->warm_restart;
	uint8_t nvram[sizeof(g->rtc.cmos)];
	memcpy(nvram, g->rtc.cmos, sizeof(nvram));
	if (!g->persist.restart_unlogged)
		pr_info("guest %s: restarting\n", gc->name);
	if (guest_create(g, gc, index, true) < 0) {
		pr_err("guest %s: restart failed (see above)\n", gc->name);
		return;
	}
	if (warm)
		memcpy(g->rtc.cmos + VRTC_NVRAM_FIRST, nvram + VRTC_NVRAM_FIRST, sizeof(nvram) - VRTC_NVRAM_FIRST);
}
