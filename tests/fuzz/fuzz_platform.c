/*
 * libFuzzer harness for a guest's whole I/O side: the port registry
 * (hvm/iobus.c) with every device model wired exactly as Keel wires them
 * (hvm/guest_devices.c: PIC, PIT, RTC, UART, 8042, ATA, fw_cfg, debug ports,
 * PCI), driven by a sequence of port accesses, string transfers, passing
 * time and interrupt acknowledges, as a hostile guest could issue them.
 *
 * Input: a 4-byte header, then operations.
 *   header[0]  RAM size: 8 + 2 * (b % 32) MiB (the CMOS and fw_cfg report it)
 *   header[1]  disk size, an index into disk_sectors[] below; the image is a
 *              heap block of exactly that many sectors, so AddressSanitizer
 *              reports any access outside it
 *   header[2..3]  clock at the start: u16 << 20 ns
 *   then each operation is an opcode byte (taken % 10) and its operands:
 *     0 P V      out byte V to port P         3 P   in byte from port P
 *     1 P V16    out word                     4 P   in word
 *     2 P V32    out dword                    5 P   in dword
 *     6 F P C16 [data]  string transfer: F bit 0 = INS (else OUTS), bits 1-2
 *                pick the size 1/2/4; C16 % (4096 / size) + 1 elements (at
 *                most a page, as hvm/vmx/io.c moves per step); OUTS takes its
 *                data from the input
 *     7 S T16    time passes: (T16 + 1) << (S % 31) ns
 *     8          interrupt acknowledge (INTA), if the PIC presents a vector
 *     9 B        byte B arrives on COM1's receive line
 *   P is a port: bytes below 0xF0 index ports[] (modulo its length; every
 *   claimed port and a few unclaimed neighbours); 0xF0 and above read a raw
 *   16-bit port.
 * FUZZ_TRACE=1 in the environment prints each operation as it runs.
 * After each operation the time-driven devices are updated as the scheduler
 * does before every VM entry, and every device's invariants are checked.
 *
 * The PCI bus is set up as hvmloader does it (loader/pci_setup.c: the IDE
 * bus master at 0xC000), and the bus master's DMA reaches a 64 KiB block
 * standing for guest RAM at 0-0xFFFF (anything else is outside RAM), filled
 * with a pattern, so PRD tables read from it point everywhere.
 *
 * A reset or exit request (ports 0xCF9, 0x64, 0x92, 0xF4) stops the guest as
 * guest_stop() does: the port registry is closed and the guest's RAM and
 * private disk are freed at once. The harness frees the string transfer's
 * buffer (a page of guest RAM) and poisons the disk there too, so any use
 * after the stop is reported; the platform is then built again
 * (guest_restart) and the operations go on.
 *
 *   make build/fuzz/fuzz_platform
 *   build/fuzz/fuzz_platform -max_total_time=60 tests/fuzz/corpus/platform
 */
#include <stdlib.h>
#include <string.h>

#include <keel/guest_devices.h>
#include <keel/pci_regs.h>
#include <sanitizer/asan_interface.h>

#include "device_invariants.h"
#include "fuzz_input.h"
#include "pci_setup.h"

static const uint16_t ports[] = {
	0x20,  0x21,  0xa0,  0xa1,  0x4d0, 0x4d1, 0x40,  0x41,  0x42,  0x43,  0x61,  0x70,  0x71,
	0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x60,  0x64,  0x92,  0x1f0, 0x1f1,
	0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7, 0x3f6, 0x3f7, 0xcf8, 0xcf9, 0xcfa, 0xcfb, 0xcfc,
	0xcfd, 0xcfe, 0xcff, 0x510, 0x511, 0x512, 0xe9,  0x402, 0x80,  0xf4,  0x170, 0x177, 0x376,
	0x1ef, 0x3f5, 0x50f, 0xcf7, 0x4cf, 0x4d2, 0x44,  0x72,  0x62,  0x91,  0x93,  0xe8,  0xea,
	0xc000, 0xc002, 0xc004, 0xc006, 0xc008, 0xc00a, 0xc00c, 0xc00f, 0xc010, 0xbfff,
};

static const uint32_t disk_sectors[] = { 1, 2, 16, 17, 63, 64, 65, 128, 1008, 1009, 2048, 4096 };

#define MAX_DISK_SECTORS 4096
#define MAX_RESTARTS 8

struct fuzz_platform {
	struct guest g;
	uint64_t now;
	unsigned disk_index; /* into disk_sectors[] */
	uint32_t sectors;
	bool stopped;
	uint8_t *page; /* guest RAM of the string transfer in progress */
	unsigned restarts;
};

static struct fuzz_platform fp;

/* The disk's contents before the guest writes: every byte differs from its
 * neighbours and every sector from the next. Built once. */
static const uint8_t *pristine_disk(void)
{
	static uint8_t *image;
	if (!image) {
		size_t n = (size_t)MAX_DISK_SECTORS * 512;
		image = malloc(n);
		for (size_t i = 0; i < n; i++)
			image[i] = (uint8_t)(i * 7 + (i >> 9));
	}
	return image;
}

/* One image per size, kept from run to run: allocating and filling up to
 * 2 MiB for every input (and again at every guest stop) made the harness
 * ten times slower. A stopped guest's disk is poisoned instead of freed, so
 * AddressSanitizer still reports any use of it after the stop; it is
 * restored from the pristine image before reuse if the guest wrote to it. */
static uint8_t *disk_cache[sizeof(disk_sectors) / sizeof(disk_sectors[0])];
static bool disk_dirty[sizeof(disk_sectors) / sizeof(disk_sectors[0])];

static uint8_t *disk_get(struct fuzz_platform *f)
{
	size_t bytes = (size_t)f->sectors * 512;
	uint8_t **d = &disk_cache[f->disk_index];
	if (!*d) {
		*d = malloc(bytes);
		disk_dirty[f->disk_index] = true;
	}
	ASAN_UNPOISON_MEMORY_REGION(*d, bytes);
	if (disk_dirty[f->disk_index])
		memcpy(*d, pristine_disk(), bytes);
	disk_dirty[f->disk_index] = false;
	return *d;
}

/* The guest is done with its disk (stopped, or the input ended). */
static void disk_put(struct fuzz_platform *f)
{
	if (f->g.ata.sectors_written)
		disk_dirty[f->disk_index] = true;
	ASAN_POISON_MEMORY_REGION(disk_cache[f->disk_index], (size_t)f->sectors * 512);
}

static uint64_t clock_now(void *ctx) { return ((struct fuzz_platform *)ctx)->now; }

#define DMA_RAM_SIZE 0x10000u
static uint8_t dma_ram[DMA_RAM_SIZE];

static bool dma_covers(void *ctx, uint64_t gpa, uint64_t len) { return gpa < DMA_RAM_SIZE && len <= DMA_RAM_SIZE - gpa; }

static bool dma_read(void *ctx, uint64_t gpa, void *dst, uint64_t len)
{
	if (!dma_covers(ctx, gpa, len))
		return false;
	memcpy(dst, dma_ram + gpa, len);
	return true;
}

static bool dma_write(void *ctx, uint64_t gpa, const void *src, uint64_t len)
{
	if (!dma_covers(ctx, gpa, len))
		return false;
	memcpy(dma_ram + gpa, src, len);
	return true;
}

static void dma_complain(void *ctx, const char *text)
{
	trace("complaint: %s\n", text);
	require(text[0] && !strchr(text, '\n'));
}

static uint32_t cfg_read(void *ctx, unsigned devfn, unsigned reg, unsigned size)
{
	struct io_bus *io = ctx;
	iobus_write(io, PCI_CONFIG_ADDRESS, 4, PCI_CONFIG_ENABLE | devfn << 8 | (reg & 0xfc));
	return iobus_read(io, (uint16_t)(PCI_CONFIG_DATA + (reg & 3)), size);
}

static void cfg_write(void *ctx, unsigned devfn, unsigned reg, unsigned size, uint32_t v)
{
	struct io_bus *io = ctx;
	iobus_write(io, PCI_CONFIG_ADDRESS, 4, PCI_CONFIG_ENABLE | devfn << 8 | (reg & 0xfc));
	iobus_write(io, (uint16_t)(PCI_CONFIG_DATA + (reg & 3)), size, v);
}

/* What guest_stop() does to memory: RAM and a private disk go back to the
 * allocator while the device call that asked for the stop is still running. */
static void stop(struct fuzz_platform *f)
{
	if (f->stopped)
		return;
	f->stopped = true;
	iobus_close(&f->g.io);
	free(f->page);
	f->page = NULL;
	disk_put(f);
}

static void request_reset(void *ctx, const char *reason)
{
	require(reason && reason[0]);
	stop(ctx);
}

static void request_exit(void *ctx, int status, const char *reason)
{
	require(reason && reason[0] && (status & 1));
	stop(ctx);
}

static void emit(void *ctx, const char *line, size_t len)
{
	trace("output: %.*s", (int)len, line);
	/* A whole line: the prefix, at most GUEST_LINE_MAX characters, '\n'. */
	require(len >= 1 && len <= strlen("[fz] ") + GUEST_LINE_MAX + 1 && line[len - 1] == '\n');
	require(memchr(line, 0, len) == NULL);
}

static void platform_build(struct fuzz_platform *f, uint64_t ram)
{
	struct guest *g = &f->g;
	memset(g, 0, sizeof(*g));
	strcpy(g->name, "fz");
	strcpy(g->prefix, "[fz] ");
	g->ram_size = ram;
	g->nr_vcpus = 1;
	g->disk_bytes = (uint64_t)f->sectors * 512;
	g->disk = disk_get(f);
	g->clock = (struct vclock){ clock_now, f };
	g->events = (struct guest_events){ .request_reset = request_reset, .request_exit = request_exit, .ctx = f };
	g->dma = (struct dma_mem){ dma_read, dma_write, dma_complain, f, dma_covers };
	for (unsigned i = 0; i < DMA_RAM_SIZE; i++)
		dma_ram[i] = (uint8_t)(i * 37 + (i >> 8));
	guest_output_init(&g->out, g->prefix, emit, f);
	guest_output_init(&g->dbg_out, g->prefix, emit, f);
	static const struct vrtc_time boot = { 2025, 1, 1, 0, 0, 0, 4 };
	require(guest_devices_init(g, &boot, NULL) == 0);
	/* What hvmloader does before the guest's own code runs. */
	static struct pci_setup_result pr;
	struct pci_config_ops ops = { cfg_read, cfg_write, &g->io };
	pci_setup(&ops, &pr);
	require(pr.nr_functions == 3 && pr.fn[2].bar[4] == (PCI_IO_START | PCI_BASE_ADDRESS_SPACE_IO));
	/* vCPU 0's local APIC, as guest creation sets it up (its timer takes
	 * part in guest_devices_update). */
	static uint32_t lapic_page[1024];
	vlapic_init(&g->vcpus[0].lapic, &g->apic_bus, 0, &g->clock, lapic_page);
	f->stopped = false;
}

static void check_all(struct fuzz_platform *f)
{
	struct guest *g = &f->g;
	check_ata(&g->ata);
	check_pic(&g->pic);
	check_pit(&g->pit);
	check_rtc(&g->rtc);
	check_uart(&g->uart);
	check_kbc(&g->kbc);
	check_fwcfg(&g->fwcfg);
	check_pci(&g->pci);
	check_output(&g->out);
	check_output(&g->dbg_out);
}

/* What the scheduler does before every VM entry. */
static void update_devices(struct fuzz_platform *f)
{
	struct guest *g = &f->g;
	uint64_t pit_irqs = g->pit.irqs, rtc_irqs = g->rtc.irqs;
	uint64_t d = guest_devices_update(g, f->now);
	/* At most one PIT period and one of each RTC event per update, and the
	 * next deadline lies in the future (else the scheduler would spin). */
	require(g->pit.irqs - pit_irqs <= 1);
	require(g->rtc.irqs - rtc_irqs <= 3);
	require(d == NO_DEADLINE || d > f->now);
}

static uint16_t get_port(struct fuzz_input *in)
{
	uint8_t b = fin_u8(in);
	if (b >= 0xf0)
		return fin_u16(in);
	return ports[b % (sizeof(ports) / sizeof(ports[0]))];
}

static void string_op(struct fuzz_platform *f, struct fuzz_input *in)
{
	uint8_t flags = fin_u8(in);
	bool ins = flags & 1;
	unsigned size = 1u << ((flags >> 1) % 3);
	uint16_t port = get_port(in);
	uint32_t count = fin_u16(in) % (4096 / size) + 1;
	size_t bytes = (size_t)count * size;

	f->page = malloc(bytes);
	if (ins)
		memset(f->page, 0xcc, bytes);
	else
		fin_bytes(in, f->page, bytes);
	/* Like hvm/vmx/io.c: call again until every element has moved or the
	 * guest has been stopped. */
	uint32_t left = count, moved = 0;
	while (left && !f->stopped) {
		uint8_t *p = f->page + (size_t)moved * size;
		uint32_t done = ins ? iobus_read_string(&f->g.io, port, size, p, left)
				    : iobus_write_string(&f->g.io, port, size, p, left);
		require(done >= 1 && done <= left);
		moved += done;
		left -= done;
	}
	free(f->page);
	trace("%s%c port %#x x%u: %u moved%s\n", ins ? "ins" : "outs", "?bw?d"[size], port, count, moved,
	      f->stopped ? " (guest stopped)" : "");
	f->page = NULL;
}

static void one_op(struct fuzz_platform *f, struct fuzz_input *in)
{
	struct guest *g = &f->g;
	uint8_t op = fin_u8(in) % 10;
	uint16_t port;
	uint32_t v;

	switch (op) {
	case 0:
	case 1:
	case 2: {
		unsigned size = 1u << op;
		port = get_port(in);
		v = size == 1 ? fin_u8(in) : size == 2 ? fin_u16(in) : fin_u32(in);
		iobus_write(&g->io, port, size, v);
		trace("out%c %#x <- %#x\n", "?bw?l"[size], port, v);
		g->devices_dirty = true;
		break;
	}
	case 3:
	case 4:
	case 5: {
		unsigned size = 1u << (op - 3);
		port = get_port(in);
		v = iobus_read(&g->io, port, size);
		trace("in%c  %#x -> %#x\n", "?bw?l"[size], port, v);
		require(size == 4 || v < (1u << (8 * size)));
		g->devices_dirty = true;
		break;
	}
	case 6:
		string_op(f, in);
		g->devices_dirty = true;
		break;
	case 7: {
		unsigned shift = fin_u8(in) % 31;
		f->now += ((uint64_t)fin_u16(in) + 1) << shift;
		trace("time %llu ns\n", (unsigned long long)f->now);
		break;
	}
	case 8: {
		int want = vpic_pending_vector(&g->pic);
		if (want >= 0) {
			/* The vector injected is the one the PIC said it would present. */
			int got = vpic_ack(&g->pic);
			trace("inta -> vector %#x\n", got);
			require(got == want);
		}
		break;
	}
	case 9:
		v = fin_u8(in);
		trace("com1 receives %#x\n", v);
		vuart_push_input(&g->uart, (uint8_t)v);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct fuzz_platform *f = &fp;
	uint64_t ram = (8 + 2 * (uint64_t)(fin_u8(&in) % 32)) << 20;
	f->disk_index = fin_u8(&in) % (sizeof(disk_sectors) / sizeof(disk_sectors[0]));
	f->sectors = disk_sectors[f->disk_index];
	f->now = (uint64_t)fin_u16(&in) << 20;
	f->restarts = 0;
	platform_build(f, ram);
	check_all(f);

	while (in.left) {
		one_op(f, &in);
		if (f->stopped) {
			trace("guest stopped: platform built again\n");
			if (++f->restarts > MAX_RESTARTS)
				return 0;
			platform_build(f, ram); /* guest_restart: a fresh platform */
		}
		update_devices(f);
		check_all(f);
	}
	disk_put(f);
	return 0;
}
