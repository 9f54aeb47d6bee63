/* UART, 8042, fw_cfg, debug ports and the empty PCI bus, through their
 * ports as SeaBIOS drives them. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fakes.h"
#include <keel/debugport.h>
#include <keel/fwcfg.h>
#include <keel/iobus.h>
#include <keel/testdev.h>
#include <keel/vkbc.h>
#include <keel/vpci.h>
#include <keel/vuart.h>

static struct io_bus bus;
static struct fake_guest fg;
static struct fake_irq irq;

static void out(uint16_t port, uint8_t v) { iobus_write(&bus, port, 1, v); }
static uint8_t in(uint16_t port) { return (uint8_t)iobus_read(&bus, port, 1); }

static void test_uart_seabios_detect_and_output(void **state)
{
	struct vuart u;
	iobus_init(&bus);
	fake_guest_init(&fg);
	vuart_init(&u, 0x3f8, 4, fake_irq_line(&irq), &fg.out);
	assert_int_equal(vuart_register(&u, &bus), 0);
	/* SeaBIOS detect_serial: IER=2 reads back, IIR shows THR empty. */
	out(0x3f9, 0x02);
	assert_int_equal(in(0x3f9), 0x02);
	assert_int_equal(in(0x3fa) & 0x3f, 0x02);
	out(0x3f9, 0x00);
	/* DLAB, divisor, 8N1, scratch. */
	out(0x3fb, 0x80);
	out(0x3f8, 0x01);
	out(0x3f9, 0x00);
	assert_int_equal(in(0x3f8), 0x01);
	out(0x3fb, 0x03);
	out(0x3ff, 0x5a);
	assert_int_equal(in(0x3ff), 0x5a);
	assert_int_equal(in(0x3fd) & 0x60, 0x60);
	const char *msg = "MBR loaded\r\n";
	for (const char *p = msg; *p; p++)
		out(0x3f8, (uint8_t)*p);
	assert_string_equal(fg.text, "[t] MBR loaded\n");
	/* THRE interrupt reaches IRQ4 only with OUT2 set. */
	out(0x3f9, 0x02);
	assert_int_equal(irq.level[4], 0);
	out(0x3fc, 0x08);
	assert_int_equal(irq.level[4], 1);
	(void)in(0x3fa); /* reading IIR clears the THRE source */
	assert_int_equal(irq.level[4], 0);
	/* Input: DR and the received-data interrupt. */
	out(0x3f9, 0x01);
	assert_true(vuart_push_input(&u, 'k'));
	assert_int_equal(in(0x3fd) & 1, 1);
	assert_int_equal(irq.level[4], 1);
	assert_int_equal(in(0x3f8), 'k');
	assert_int_equal(irq.level[4], 0);
	/* The receive FIFO's room: what the console forwards at most. */
	assert_int_equal(vuart_rx_room(&u), VUART_RX_SIZE);
	for (unsigned i = 0; i < VUART_RX_SIZE; i++)
		assert_true(vuart_push_input(&u, (uint8_t)('a' + i % 26)));
	assert_int_equal(vuart_rx_room(&u), 0);
	assert_false(vuart_push_input(&u, 'z'));
	assert_int_equal(in(0x3f8), 'a');
	assert_int_equal(vuart_rx_room(&u), 1);
}

static void test_kbc_self_test_a20_reset(void **state)
{
	struct vkbc k;
	iobus_init(&bus);
	fake_guest_init(&fg);
	vkbc_init(&k, fake_irq_line(&irq), &fg.ev);
	assert_int_equal(vkbc_register(&k, &bus), 0);
	/* SeaBIOS i8042_flush: nothing queued. */
	assert_int_equal(in(0x64) & 0x01, 0);
	out(0x64, 0xaa);
	assert_int_equal(in(0x64) & 0x01, 1);
	assert_int_equal(in(0x60), 0x55);
	out(0x64, 0xab);
	assert_int_equal(in(0x60), 0x00);
	/* Keyboard reset: ACK then BAT passed. */
	out(0x60, 0xff);
	assert_int_equal(in(0x60), 0xfa);
	assert_int_equal(in(0x60), 0xaa);
	/* Command byte round trip. */
	out(0x64, 0x60);
	out(0x60, 0x45);
	out(0x64, 0x20);
	assert_int_equal(in(0x60), 0x45);
	/* A20 through the output port, and through port 0x92. */
	out(0x64, 0xd1);
	out(0x60, 0xdd);
	assert_false(vkbc_a20_enabled(&k));
	out(0x92, 0x02);
	assert_true(vkbc_a20_enabled(&k));
	assert_int_equal(fg.resets, 0);
	out(0x64, 0xfe);
	assert_int_equal(fg.resets, 1);
	assert_non_null(strstr(fg.reason, "0xFE"));
	out(0x92, 0x03);
	assert_int_equal(fg.resets, 2);
}

static void test_kbc_aux_port(void **state)
{
	struct vkbc k;
	iobus_init(&bus);
	fake_guest_init(&fg);
	vkbc_init(&k, fake_irq_line(&irq), &fg.ev);
	assert_int_equal(vkbc_register(&k, &bus), 0);
	/* Linux's i8042_check_aux: the AUX loopback (0xD3) answers at once,
	 * flagged as AUX data; no IRQ 12 while the command byte disables it. */
	out(0x64, 0xd3);
	out(0x60, 0x5a);
	assert_int_equal(in(0x64) & 0x21, 0x21);
	assert_int_equal(in(0x60), 0x5a);
	assert_int_equal(in(0x64) & 0x21, 0);
	assert_int_equal(irq.rises[12], 0);
	/* With AUX interrupts on (command byte bit 1): IRQ 12, not IRQ 1. */
	out(0x64, 0x60);
	out(0x60, 0x47);
	unsigned kbd_pulses = irq.rises[1];
	out(0x64, 0xd3);
	out(0x60, 0xa5);
	assert_int_equal(irq.rises[12], 1);
	assert_int_equal(irq.rises[1], kbd_pulses);
	assert_int_equal(in(0x60), 0xa5);
	/* A byte for the absent mouse times out: 0xFE with the time-out bit. */
	out(0x64, 0xd4);
	out(0x60, 0xf2);
	assert_int_equal(in(0x64) & 0x61, 0x61);
	assert_int_equal(in(0x60), 0xfe);
	/* Keyboard bytes carry neither bit. */
	out(0x60, 0xf2);
	assert_int_equal(in(0x64) & 0x61, 0x01);
	assert_int_equal(in(0x60), 0xfa);
}

static uint8_t cfg_byte(uint16_t key, unsigned skip)
{
	iobus_write(&bus, 0x510, 2, key);
	uint8_t b = 0;
	for (unsigned i = 0; i <= skip; i++)
		b = in(0x511);
	return b;
}

static void test_fwcfg_signature_and_files(void **state)
{
	struct fwcfg f;
	iobus_init(&bus);
	fwcfg_init(&f);
	assert_int_equal(fwcfg_register(&f, &bus), 0);
	uint16_t sercon = 0x3f8, zero = 0;
	assert_int_equal(fwcfg_add_bytes(&f, FW_CFG_BOOT_MENU, &zero, 2), 0);
	assert_int_equal(fwcfg_add_file(&f, "etc/sercon-port", &sercon, 2), 0);
	assert_int_equal(fwcfg_add_file(&f, "etc/screen-and-debug", &zero, 1), 0);
	/* qemu_cfg_init: "QEMU", then the ID: no DMA bit. */
	iobus_write(&bus, 0x510, 2, 0);
	char sig[5] = { (char)in(0x511), (char)in(0x511), (char)in(0x511), (char)in(0x511), 0 };
	assert_string_equal(sig, "QEMU");
	assert_int_equal(cfg_byte(FW_CFG_ID, 0) & 2, 0);
	/* File directory: big-endian count, then entries; find by name. */
	iobus_write(&bus, 0x510, 2, FW_CFG_FILE_DIR);
	uint32_t count = 0;
	for (int i = 0; i < 4; i++)
		count = count << 8 | in(0x511);
	assert_int_equal(count, 2);
	int found = 0;
	for (uint32_t e = 0; e < count; e++) {
		uint8_t ent[64];
		for (int i = 0; i < 64; i++)
			ent[i] = in(0x511);
		uint32_t size = (uint32_t)ent[0] << 24 | ent[1] << 16 | ent[2] << 8 | ent[3];
		uint16_t sel = (uint16_t)(ent[4] << 8 | ent[5]);
		if (!strcmp((char *)ent + 8, "etc/sercon-port")) {
			assert_int_equal(size, 2);
			assert_int_equal(cfg_byte(sel, 0), 0xf8);
			assert_int_equal(cfg_byte(sel, 1), 0x03);
			found = 1;
		}
	}
	assert_true(found);
	assert_int_equal(cfg_byte(FW_CFG_BOOT_MENU, 0), 0);
	assert_int_equal(cfg_byte(0x8000, 0), 0); /* unknown keys read zero */
	assert_int_equal(cfg_byte(FW_CFG_SIGNATURE, 10), 0); /* past the end */
	assert_int_equal(fwcfg_add_file(&f, "etc/sercon-port-is-a-name-far-too-long-for-fw-cfg-to-hold-it", &zero, 2),
			 -1);
}

static void test_debug_ports_and_exit(void **state)
{
	struct debugport d;
	iobus_init(&bus);
	fake_guest_init(&fg);
	debugport_init(&d, &fg.out, &fg.ev);
	assert_int_equal(debugport_register(&d, &bus), 0);
	assert_int_equal(in(0xe9), 0xe9);
	const char *s = "hi\n";
	for (const char *p = s; *p; p++)
		out(0xe9, (uint8_t)*p);
	for (const char *p = "qemu\n"; *p; p++)
		out(0x402, (uint8_t)*p);
	assert_string_equal(fg.text, "[t] hi\n[t] qemu\n");
	out(0x80, 0x2b);
	assert_int_equal(debugport_last_post(&d), 0x2b);
	out(0xf4, 0x10);
	assert_int_equal(fg.exits, 1);
	assert_int_equal(fg.exit_status, (0x10 << 1) | 1);
}

static void test_pci_empty_and_reset(void **state)
{
	struct vpci p;
	iobus_init(&bus);
	fake_guest_init(&fg);
	vpci_init(&p, &fg.ev);
	assert_int_equal(vpci_register(&p, &bus), 0);
	iobus_write(&bus, 0xcf8, 4, 0x80000000); /* bus 0 dev 0 fn 0, vendor id */
	assert_int_equal(iobus_read(&bus, 0xcf8, 4), 0x80000000);
	assert_int_equal(iobus_read(&bus, 0xcfc, 2), 0xffff); /* no device */
	assert_int_equal(iobus_read(&bus, 0xcfc, 4), 0xffffffffu);
	out(0xcf9, 0x02);
	assert_int_equal(fg.resets, 0);
	out(0xcf9, 0x06);
	assert_int_equal(fg.resets, 1);
	assert_non_null(strstr(fg.reason, "0xCF9"));
}

/* QEMU's pc-testdev as kvm-unit-tests uses it: the data register at every
 * width and offset, the interrupt lines, the 64 KiB of MMIO; it registers
 * beside the debug port 0xE9 (Keel leaves out QEMU's 0xE8 window). */
static void test_testdev_ports_lines_and_memory(void **state)
{
	static uint8_t mem[TESTDEV_MMIO_SIZE];
	struct testdev t;
	struct debugport d;
	iobus_init(&bus);
	fake_guest_init(&fg);
	debugport_init(&d, &fg.out, &fg.ev);
	assert_int_equal(debugport_register(&d, &bus), 0);
	memset(mem, 0xaa, sizeof(mem));
	testdev_init(&t, fake_irq_line(&irq), mem);
	assert_int_equal(testdev_register(&t, &bus), 0);
	/* realmode's I/O tests: what is written at 0xe0 reads back, per width. */
	iobus_write(&bus, 0xe0, 4, 0x12345678);
	assert_int_equal(iobus_read(&bus, 0xe0, 4), 0x12345678);
	assert_int_equal(iobus_read(&bus, 0xe0, 2), 0x5678);
	assert_int_equal(iobus_read(&bus, 0xe0, 1), 0x78);
	assert_int_equal(iobus_read(&bus, 0xe2, 2), 0x1234);
	assert_int_equal(iobus_read(&bus, 0xe3, 1), 0x12);
	iobus_write(&bus, 0xe1, 1, 0xab);
	assert_int_equal(iobus_read(&bus, 0xe0, 4), 0x1234ab78);
	iobus_write(&bus, 0xe2, 2, 0xbeef);
	assert_int_equal(iobus_read(&bus, 0xe0, 4), 0xbeefab78);
	/* Bytes past the register's end: dropped, and read as ones. */
	iobus_write(&bus, 0xe3, 4, 0x99887766);
	assert_int_equal(iobus_read(&bus, 0xe0, 4), 0x66efab78);
	assert_int_equal(iobus_read(&bus, 0xe3, 2), 0xff66);
	/* The flush port only counts. */
	iobus_write(&bus, 0xe4, 4, 0x1000);
	assert_int_equal(t.flushes, 1);
	assert_int_equal(iobus_read(&bus, 0xe0, 4), 0x66efab78);
	/* Interrupt lines: level follows the byte written, 0-23. */
	iobus_write(&bus, 0x2000 + 14, 1, 1);
	assert_int_equal(irq.level[14], 1);
	iobus_write(&bus, 0x2000 + 14, 1, 0);
	assert_int_equal(irq.level[14], 0);
	assert_int_equal(irq.rises[14], 1);
	iobus_write(&bus, 0x2000 + 23, 1, 0x80);
	assert_int_equal(irq.level[23], 1);
	assert_int_equal(t.levels[23], 1);
	/* MMIO: zeroed at init, reads back what was written, any width. */
	assert_int_equal(testdev_mmio_read(&t, 0, 8), 0);
	testdev_mmio_write(&t, 0x10, 4, 0xdeadbeef);
	testdev_mmio_write(&t, 0x14, 2, 0x1234);
	assert_int_equal(testdev_mmio_read(&t, 0x10, 8), 0x1234deadbeefULL);
	assert_int_equal(testdev_mmio_read(&t, 0x13, 1), 0xde);
	testdev_mmio_write(&t, TESTDEV_MMIO_SIZE - 8, 8, 0x0102030405060708ULL);
	assert_int_equal(testdev_mmio_read(&t, TESTDEV_MMIO_SIZE - 8, 8), 0x0102030405060708ULL);
	/* Past the end: nothing written, zero read (the caller never asks). */
	testdev_mmio_write(&t, TESTDEV_MMIO_SIZE - 4, 8, ~0ULL);
	assert_int_equal(testdev_mmio_read(&t, TESTDEV_MMIO_SIZE - 4, 8), 0);
	assert_int_equal(testdev_mmio_read(&t, TESTDEV_MMIO_SIZE - 4, 4), 0x01020304);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uart_seabios_detect_and_output),
		cmocka_unit_test(test_kbc_self_test_a20_reset),
		cmocka_unit_test(test_kbc_aux_port),
		cmocka_unit_test(test_fwcfg_signature_and_files),
		cmocka_unit_test(test_debug_ports_and_exit),
		cmocka_unit_test(test_pci_empty_and_reset),
		cmocka_unit_test(test_testdev_ports_lines_and_memory),
	};
	return cmocka_run_group_tests_name("small devices", tests, NULL, NULL);
}
