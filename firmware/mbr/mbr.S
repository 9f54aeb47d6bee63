/*
 * Keel's test boot sector. The BIOS loads it to 0000:7C00 and jumps to it
 * with DL = the boot drive. It checks both, programs COM1 itself (so it
 * depends on nothing but the UART), prints "MBR loaded" and halts. Unlike
 * the other test sectors it does not start with boot_sector_enter: it
 * reads CS:IP before making them canonical.
 * The CI boot tests wait for that line.
 */
#include "boot_sector.inc"

	.code16
	.section .text
	.globl _start
_start:
	cli
	/* Where are we? CS:IP from a call, before touching any segment. */
	call 1f
1:	popw %bx
	subw $(1b - _start), %bx
	movzwl %bx, %esi
	xorl %eax, %eax
	movw %cs, %ax
	shll $4, %eax
	addl %eax, %esi		/* linear address of _start */
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $0x7c00, %sp
	ljmp $0, $2f		/* canonical 0000:7Cxx from here on */
2:	movb %dl, boot_drive

	call com1_init

	cmpl $0x7c00, %esi
	jne bad_address
	cmpb $0x80, boot_drive
	jne bad_drive
	movw $msg_ok, %si
	call puts
halt:	cli
	hlt
	jmp halt

bad_address:
	movw $msg_addr, %si
	call puts
	jmp halt

bad_drive:
	movw $msg_dl, %si
	call puts
	movb boot_drive, %al
	shrb $4, %al
	call puthex
	movb boot_drive, %al
	call puthex
	movw $msg_dl2, %si
	call puts
	jmp halt

puthex:				/* low nibble of %al */
	andb $0x0f, %al
	addb $'0', %al
	cmpb $'9', %al
	jbe putc
	addb $('a' - '0' - 10), %al
	jmp putc

#include "com1.inc"

msg_ok:	.asciz "MBR loaded\r\n"
msg_addr: .asciz "MBR: loaded at wrong address (expected 0000:7C00)\r\n"
msg_dl:	.asciz "MBR: boot drive DL=0x"
msg_dl2: .asciz ", expected 0x80\r\n"
boot_drive: .byte 0

	/* Partition table: one primary Linux partition from LBA 2048 to the
	 * end of the 4 MiB image (CHS for a 255-head, 63-sector geometry). */
	.org 446
	.byte 0x80, 0x20, 0x21, 0x00	/* active; CHS 0/32/33 = LBA 2048 */
	.byte 0x83, 0x82, 0x02, 0x00	/* Linux; CHS 0/130/2 = LBA 8191 */
	.long 2048, 6144
	.fill 48, 1, 0
	boot_sector_signature
