/* The PCI platform (hvm/dev/vpci.c), hvmloader's PCI set-up run against it
 * (loader/pci_setup.c), and the IDE bus master's DMA (hvm/dev/piix_ide.c,
 * hvm/dev/vata.c), including what a hostile guest would program. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fakes.h"
#include "pci_setup.h"
#include <keel/iobus.h>
#include <keel/pci_regs.h>
#include <keel/vata.h>
#include <keel/vpci.h>

#define SECTORS 4096
#define RAM_SIZE (1u << 20)
static struct io_bus bus;
static struct vata ata;
static struct vpci pci;
static struct fake_irq irq;
static uint8_t *disk, *ram;
static int complaints;
static char last_complaint[200];

static bool mem_covers(void *ctx, uint64_t gpa, uint64_t len) { return gpa < RAM_SIZE && len <= RAM_SIZE - gpa; }

static bool mem_read(void *ctx, uint64_t gpa, void *dst, uint64_t len)
{
	if (!mem_covers(ctx, gpa, len))
		return false;
	memcpy(dst, ram + gpa, len);
	return true;
}
static bool mem_write(void *ctx, uint64_t gpa, const void *src, uint64_t len)
{
	if (!mem_covers(ctx, gpa, len))
		return false;
	memcpy(ram + gpa, src, len);
	return true;
}
static void mem_complain(void *ctx, const char *text)
{
	complaints++;
	snprintf(last_complaint, sizeof(last_complaint), "%s", text);
}
static const struct dma_mem mem = { mem_read, mem_write, mem_complain, NULL, mem_covers };

static uint32_t cfg_read(void *ctx, unsigned devfn, unsigned reg, unsigned size)
{
	iobus_write(&bus, 0xcf8, 4, 0x80000000u | devfn << 8 | (reg & 0xfc));
	return iobus_read(&bus, (uint16_t)(0xcfc + (reg & 3)), size);
}
static void cfg_write(void *ctx, unsigned devfn, unsigned reg, unsigned size, uint32_t v)
{
	iobus_write(&bus, 0xcf8, 4, 0x80000000u | devfn << 8 | (reg & 0xfc));
	iobus_write(&bus, (uint16_t)(0xcfc + (reg & 3)), size, v);
}
static const struct pci_config_ops ops = { cfg_read, cfg_write, NULL };

static void out(uint16_t port, uint8_t v) { iobus_write(&bus, port, 1, v); }
static uint8_t in(uint16_t port) { return (uint8_t)iobus_read(&bus, port, 1); }

static void setup(bool with_pci)
{
	free(disk);
	free(ram);
	disk = malloc(SECTORS * 512);
	ram = calloc(1, RAM_SIZE);
	for (unsigned i = 0; i < SECTORS * 512; i++)
		disk[i] = (uint8_t)(i * 13 + i / 512);
	complaints = 0;
	iobus_init(&bus);
	struct vata_disk d = { disk, SECTORS, "TEST DISK" };
	vata_init(&ata, &d, fake_irq_line(&irq), 14);
	assert_int_equal(vata_register(&ata, &bus), 0);
	vpci_init(&pci, NULL);
	if (with_pci)
		vpci_add_piix(&pci, &ata, &mem);
	assert_int_equal(vpci_register(&pci, &bus), 0);
}

static void prd(unsigned i, uint32_t addr, uint32_t count, bool eot)
{
	uint32_t e[2] = { addr, (count & 0xffff) | (eot ? PRD_EOT : 0) };
	memcpy(ram + 0x1000 + 8 * i, e, 8);
}

/* LBA28 or LBA48 task file, then the command. */
static void ata_cmd(uint8_t cmd, uint64_t lba, unsigned count, bool lba48)
{
	if (lba48) {
		out(0x1f2, (uint8_t)(count >> 8));
		out(0x1f3, (uint8_t)(lba >> 24));
		out(0x1f4, (uint8_t)(lba >> 32));
		out(0x1f5, (uint8_t)(lba >> 40));
	}
	out(0x1f2, (uint8_t)count);
	out(0x1f3, (uint8_t)lba);
	out(0x1f4, (uint8_t)(lba >> 8));
	out(0x1f5, (uint8_t)(lba >> 16));
	out(0x1f6, lba48 ? 0x40 : (uint8_t)(0xe0 | ((lba >> 24) & 0x0f)));
	out(0x1f7, cmd);
}

static void bm_prepare(uint8_t dir)
{
	out(0xc000, 0);
	out(0xc002, 0x06);
	iobus_write(&bus, 0xc004, 4, 0x1000);
	out(0xc000, dir);
}

static void test_empty_bus_without_disk(void **state)
{
	setup(false);
	assert_int_equal(cfg_read(NULL, 0, 0, 4), 0xffffffffu);
	struct pci_setup_result r;
	pci_setup(&ops, &r);
	assert_int_equal(r.nr_functions, 0);
	/* DMA commands abort on an ISA-only platform. */
	ata_cmd(0xc8, 0, 1, false);
	assert_int_equal(in(0x1f7), 0x41);
}

static void test_hvmloader_setup(void **state)
{
	setup(true);
	struct pci_setup_result r;
	pci_setup(&ops, &r);
	assert_int_equal(r.nr_functions, 3);
	assert_int_equal(r.unassigned, 0);
	assert_int_equal(r.fn[0].devfn, PCI_DEVFN_HOST_BRIDGE);
	assert_int_equal(r.fn[0].device, PCI_DEVICE_I440FX);
	assert_int_equal(r.fn[1].class, PCI_CLASS_BRIDGE_ISA);
	assert_int_equal(r.fn[2].device, PCI_DEVICE_PIIX3_IDE);
	assert_int_equal(r.fn[2].bar[4], 0xc001);
	assert_int_equal(r.fn[2].bar_size[4], 16);
	assert_int_equal(r.fn[2].line, 14);
	for (unsigned b = 0; b < 4; b++)
		assert_int_equal(r.fn[2].bar[b], 0);
	uint8_t want[4] = PCI_PIRQ_IRQS;
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(r.pirq[i], want[i]);
		assert_int_equal(cfg_read(NULL, PCI_DEVFN_PIIX3_ISA, PIIX_PIRQ_ROUTE + i, 1), want[i]);
	}
	uint16_t cmd = (uint16_t)cfg_read(NULL, PCI_DEVFN_PIIX3_IDE, PCI_COMMAND, 2);
	assert_int_equal(cmd & (PCI_COMMAND_IO | PCI_COMMAND_MASTER), PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	assert_int_equal(cfg_read(NULL, PCI_DEVFN_PIIX3_IDE, PIIX_IDETIM_PRIMARY, 2), PIIX_IDETIM_DECODE_ENABLE);
	assert_int_equal(cfg_read(NULL, PCI_DEVFN_PIIX3_IDE, PCI_INTERRUPT_LINE, 1), 14);
	assert_int_equal(cfg_read(NULL, PCI_DEVFN_PIIX3_IDE, PCI_CLASS_PROG, 1), PCI_IDE_PROG_COMPAT_BM);
	/* The bus master answers at BAR4. */
	iobus_write(&bus, 0xc004, 4, 0x12345677);
	assert_int_equal(iobus_read(&bus, 0xc004, 4), 0x12345674);
	/* Identification is read-only; absent functions float. */
	cfg_write(NULL, PCI_DEVFN_HOST_BRIDGE, PCI_VENDOR_ID, 4, 0);
	assert_int_equal(cfg_read(NULL, PCI_DEVFN_HOST_BRIDGE, PCI_VENDOR_ID, 4), 0x12378086);
	assert_int_equal(cfg_read(NULL, PCI_BDF(0, 2, 0), 0, 4), 0xffffffffu);
	assert_int_equal(cfg_read(NULL, PCI_BDF(0, 1, 2), 0, 4), 0xffffffffu);
	/* Bus 1 does not exist. */
	iobus_write(&bus, 0xcf8, 4, 0x80010000u);
	assert_int_equal(iobus_read(&bus, 0xcfc, 4), 0xffffffffu);
}

static void test_bar_moves_and_conflicts(void **state)
{
	setup(true);
	struct pci_setup_result r;
	pci_setup(&ops, &r);
	cfg_write(NULL, PCI_DEVFN_PIIX3_IDE, PCI_BASE_ADDRESS_4, 4, 0xd000);
	assert_int_equal(cfg_read(NULL, PCI_DEVFN_PIIX3_IDE, PCI_BASE_ADDRESS_4, 4), 0xd001);
	iobus_write(&bus, 0xd004, 4, 0x2000);
	assert_int_equal(iobus_read(&bus, 0xd004, 4), 0x2000);
	assert_int_equal(iobus_read(&bus, 0xc004, 4), 0xffffffffu); /* left behind */
	/* Sizing reads back the size mask. */
	cfg_write(NULL, PCI_DEVFN_PIIX3_IDE, PCI_BASE_ADDRESS_4, 4, 0xffffffffu);
	assert_int_equal(cfg_read(NULL, PCI_DEVFN_PIIX3_IDE, PCI_BASE_ADDRESS_4, 4), 0xfffffff1u);
	/* On top of the ATA ports: refused, the ATA ports still work. */
	cfg_write(NULL, PCI_DEVFN_PIIX3_IDE, PCI_BASE_ADDRESS_4, 4, 0x1f0);
	assert_int_equal(in(0x1f7), 0x50);
	assert_int_equal(iobus_read(&bus, 0xd004, 4), 0xffffffffu);
	/* Somewhere free again: reachable. */
	cfg_write(NULL, PCI_DEVFN_PIIX3_IDE, PCI_BASE_ADDRESS_4, 4, 0xe000);
	assert_int_equal(iobus_read(&bus, 0xe004, 4), 0x2000);
	/* I/O decode off: gone. */
	cfg_write(NULL, PCI_DEVFN_PIIX3_IDE, PCI_COMMAND, 2, 0);
	assert_int_equal(iobus_read(&bus, 0xe004, 4), 0xffffffffu);
}

static void test_dma_read_write(void **state)
{
	setup(true);
	struct pci_setup_result r;
	pci_setup(&ops, &r);
	/* READ DMA of 3 sectors over two regions; the start comes after
	 * the command, as libata does it. */
	prd(0, 0x4000, 1024, false);
	prd(1, 0x8000, 512, true);
	bm_prepare(BM_CMD_READ);
	ata_cmd(0xc8, 10, 3, false);
	assert_int_equal(in(0x3f6) & 0x08, 0x08); /* DRQ: waiting for the bus master */
	out(0xc000, BM_CMD_READ | BM_CMD_START);
	assert_int_equal(in(0xc002) & 7, BM_ST_INTR); /* done, table used up */
	assert_int_equal(irq.level[14], 1);
	assert_int_equal(in(0x1f7), 0x50);
	assert_memory_equal(ram + 0x4000, disk + 10 * 512, 1024);
	assert_memory_equal(ram + 0x8000, disk + 12 * 512, 512);
	/* READ DMA EXT with the bus master started first; a longer table
	 * leaves it active. */
	prd(0, 0x10000, 0, true); /* 64 KiB */
	bm_prepare(BM_CMD_READ);
	out(0xc000, BM_CMD_READ | BM_CMD_START);
	ata_cmd(0x25, 4000, 8, true);
	assert_int_equal(in(0xc002) & 7, BM_ST_INTR | BM_ST_ACTIVE);
	assert_int_equal(in(0x1f7), 0x50);
	assert_memory_equal(ram + 0x10000, disk + 4000 * 512, 8 * 512);
	/* WRITE DMA EXT. */
	memset(ram + 0x20000, 0x5a, 1024);
	prd(0, 0x20000, 1024, true);
	bm_prepare(0);
	ata_cmd(0x35, 7, 2, true);
	out(0xc000, BM_CMD_START);
	assert_int_equal(in(0x1f7), 0x50);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(disk[7 * 512 + i], 0x5a);
	assert_int_equal(ata.sectors_written, 2);
	assert_int_equal(complaints, 0);
}

static void test_dma_hostile(void **state)
{
	setup(true);
	struct pci_setup_result r;
	pci_setup(&ops, &r);
	uint8_t before[512];
	memcpy(before, disk, 512);
	/* A region outside RAM. */
	prd(0, 0xf0000000u, 512, true);
	bm_prepare(BM_CMD_READ);
	ata_cmd(0xc8, 0, 1, false);
	out(0xc000, BM_CMD_READ | BM_CMD_START);
	assert_int_equal(in(0xc002) & 7, BM_ST_INTR | BM_ST_ERROR);
	assert_int_equal(in(0x1f7), 0x41);
	assert_int_equal(complaints, 1);
	assert_non_null(strstr(last_complaint, "outside RAM"));
	/* A region that runs off the end of RAM: nothing copied. */
	prd(0, RAM_SIZE - 512, 1024, true);
	bm_prepare(BM_CMD_READ);
	ata_cmd(0xc8, 0, 2, false);
	out(0xc000, BM_CMD_READ | BM_CMD_START);
	assert_int_equal(in(0x1f7), 0x41);
	/* The PRD table itself outside RAM. */
	bm_prepare(BM_CMD_READ);
	iobus_write(&bus, 0xc004, 4, 0xfffffff0u);
	ata_cmd(0xc8, 0, 1, false);
	out(0xc000, BM_CMD_READ | BM_CMD_START);
	assert_int_equal(in(0x1f7), 0x41);
	/* A table shorter than the data. */
	prd(0, 0x4000, 512, true);
	bm_prepare(BM_CMD_READ);
	ata_cmd(0xc8, 0, 4, false);
	out(0xc000, BM_CMD_READ | BM_CMD_START);
	assert_int_equal(in(0xc002) & 7, BM_ST_INTR | BM_ST_ERROR);
	assert_int_equal(in(0x1f7), 0x41);
	/* A table with no end: 8192 tiny entries, then refused. */
	for (unsigned i = 0; i < PRD_MAX_ENTRIES && 0x1000 + 8 * i < RAM_SIZE - 8; i++)
		prd(i, 0x4000, 2, false);
	bm_prepare(BM_CMD_READ);
	ata_cmd(0x25, 0, 0, true); /* 65536 sectors: more than the disk */
	assert_int_equal(in(0x1f7), 0x41);
	assert_int_equal(in(0x1f1), 0x14); /* IDNF|ABRT before any transfer */
	ata_cmd(0x25, 0, 64, true); /* 32 KiB; the table gives 16 KiB */
	out(0xc000, BM_CMD_READ | BM_CMD_START);
	assert_int_equal(in(0x1f7), 0x41);
	/* The direction contradicts the command: a WRITE DMA that would
	 * have the bus master write memory. */
	prd(0, 0x4000, 512, true);
	bm_prepare(BM_CMD_READ);
	ata_cmd(0xca, 0, 1, false);
	out(0xc000, BM_CMD_READ | BM_CMD_START);
	assert_int_equal(in(0x1f7), 0x41);
	assert_memory_equal(disk, before, 512);
	/* A WRITE DMA whose second region is outside RAM: refused before any
	 * byte moves, so not even its first sector reached the disk (a fuzz
	 * find: the copy used to stop at the bad region). */
	uint8_t two[1024];
	memcpy(two, disk, sizeof(two));
	uint64_t written = ata.sectors_written;
	memset(ram + 0x4000, 0xa5, 512);
	prd(0, 0x4000, 512, false);
	prd(1, 0xf0000000u, 512, true);
	bm_prepare(0);
	ata_cmd(0xca, 0, 2, false);
	out(0xc000, BM_CMD_START);
	assert_int_equal(in(0xc002) & 7, BM_ST_INTR | BM_ST_ERROR);
	assert_int_equal(in(0x1f7), 0x41);
	assert_memory_equal(disk, two, sizeof(two));
	assert_int_equal(ata.sectors_written, written);
	/* PIO reads while a DMA command waits give nothing. */
	bm_prepare(BM_CMD_READ);
	ata_cmd(0xc8, 0, 1, false);
	assert_int_equal(iobus_read(&bus, 0x1f0, 2), 0xffff);
	/* Still a working disk afterwards. */
	out(0xc000, BM_CMD_READ | BM_CMD_START);
	assert_int_equal(in(0x1f7), 0x50);
	assert_memory_equal(ram + 0x4000, disk, 512);
}

static void test_identify_and_set_features(void **state)
{
	setup(true);
	uint16_t id[256];
	out(0x1f6, 0xa0);
	out(0x1f7, 0xec);
	for (unsigned i = 0; i < 256; i++)
		id[i] = (uint16_t)iobus_read(&bus, 0x1f0, 2);
	assert_int_equal(id[49] & 0x0100, 0x0100);
	assert_int_equal(id[63] & 0x0007, 0x0007);
	assert_int_equal(id[88] & 0x003f, 0x003f);
	/* SET FEATURES: MWDMA2 selected, then shown in word 63. */
	out(0x1f1, 0x03);
	out(0x1f2, 0x22);
	out(0x1f7, 0xef);
	assert_int_equal(in(0x1f7), 0x50);
	out(0x1f7, 0xec);
	for (unsigned i = 0; i < 256; i++)
		id[i] = (uint16_t)iobus_read(&bus, 0x1f0, 2);
	assert_int_equal(id[63] & 0x0700, 0x0400);
	assert_int_equal(id[88] & 0xff00, 0);
	/* A mode that does not exist aborts. */
	out(0x1f1, 0x03);
	out(0x1f2, 0x47);
	out(0x1f7, 0xef);
	assert_int_equal(in(0x1f7), 0x41);
	/* FLUSH CACHE (EXT) complete. */
	out(0x1f7, 0xe7);
	assert_int_equal(in(0x1f7), 0x50);
	out(0x1f7, 0xea);
	assert_int_equal(in(0x1f7), 0x50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_bus_without_disk),
		cmocka_unit_test(test_hvmloader_setup),
		cmocka_unit_test(test_bar_moves_and_conflicts),
		cmocka_unit_test(test_dma_read_write),
		cmocka_unit_test(test_dma_hostile),
		cmocka_unit_test(test_identify_and_set_features),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(disk);
	free(ram);
	return rc;
}
