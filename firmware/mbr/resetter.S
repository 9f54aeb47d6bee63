/*
 * Test boot sector: resets its own machine in each of the ways PC firmware
 * and kernels do, one per boot, counting boots in CMOS NVRAM byte 0x50
 * (battery-backed: a reset keeps it, so each boot knows which one it is):
 *   boot 1: port 0xCF9 (reset control register: system reset)
 *   boot 2: keyboard controller command 0xFE (pulse the reset line)
 *   boot 3: triple fault (an empty IDT, then an exception)
 *   boot 4: "reset-test: done", then QEMU's isa-debug-exit port 0xF4 with
 *           0x21, which ends the guest with status (0x21 << 1) | 1 = 67.
 */
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_BOOT_COUNT 0x50

#include "boot_sector.inc"

	.code16
	.globl _start
_start:
	boot_sector_enter
	call com1_init
	movb $CMOS_BOOT_COUNT, %al
	outb %al, $CMOS_INDEX
	inb $CMOS_DATA, %al
	incb %al
	movb %al, %bl
	movb $CMOS_BOOT_COUNT, %al
	outb %al, $CMOS_INDEX
	movb %bl, %al
	outb %al, $CMOS_DATA
	movw $msg_boot, %si
	call puts
	xorb %ah, %ah
	movb %bl, %al
	call putdec
	cmpb $1, %bl
	je reset_cf9
	cmpb $2, %bl
	je reset_kbc
	cmpb $3, %bl
	je reset_triple
	movw $msg_done, %si
	call puts
	movb $0x21, %al
	outb %al, $0xf4
	movw $msg_alive, %si	/* not reached: the exit port ends the guest */
	call puts
halt:	hlt
	jmp halt

reset_cf9:
	movw $msg_cf9, %si
	call puts
	movw $0xcf9, %dx
	movb $0x06, %al		/* SYS_RST | RST_CPU */
	outb %al, %dx
	jmp failed
reset_kbc:
	movw $msg_kbc, %si
	call puts
	movb $0xfe, %al
	outb %al, $0x64
	jmp failed
reset_triple:
	movw $msg_triple, %si
	call puts
	lidt idt_empty
	int $3
failed:
	movw $msg_alive, %si
	call puts
	jmp halt

#include "com1.inc"

idt_empty: .word 0
	.long 0
msg_boot: .asciz "reset-test: boot "
msg_cf9: .asciz ": resetting through port 0xCF9\r\n"
msg_kbc: .asciz ": resetting through the keyboard controller (0xFE)\r\n"
msg_triple: .asciz ": resetting by a triple fault\r\n"
msg_done: .asciz ": done, exiting through port 0xF4\r\n"
msg_alive: .asciz "reset-test: still running after the reset request\r\n"
	boot_sector_signature
