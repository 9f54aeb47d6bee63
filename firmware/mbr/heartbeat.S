/*
 * Test boot sector: prints "heartbeat N" about every half second of guest
 * time, waiting with sti; hlt for the BIOS tick counter (BDA 0040:006C),
 * which SeaBIOS's IRQ0 handler advances. So each line proves that the
 * virtual PIT fired and Keel injected the interrupt into this guest.
 */
	.code16
	.globl _start
_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $0x7c00, %sp
	ljmp $0, $1f
1:	call com1_init
	movw $msg_start, %si
	call puts
	movw $1, %bp
beat:
	movl 0x46c, %ebx
	addl $9, %ebx		/* 9 ticks of 18.2 Hz: ~0.5 s */
wait:
	sti
	hlt
	cli
	cmpl %ebx, 0x46c
	jb wait
	movw $msg_beat, %si
	call puts
	movw %bp, %ax
	call putdec
	movw $crlf, %si
	call puts
	incw %bp
	jmp beat

#include "com1.inc"

msg_start: .asciz "heartbeat: waiting for timer ticks\r\n"
msg_beat: .asciz "heartbeat "
crlf:	.asciz "\r\n"
	.org 510
	.byte 0x55, 0xaa
