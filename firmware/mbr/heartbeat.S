/*
 * Test boot sector: prints "heartbeat N" about every half second of guest
 * time, waiting with sti; hlt for the BIOS tick counter (BDA 0040:006C),
 * which SeaBIOS's IRQ0 handler advances. So each line proves that the
 * virtual PIT fired and Keel injected the interrupt into this guest.
 */
#include "boot_sector.inc"

	.code16
	.globl _start
_start:
	boot_sector_enter
	call com1_init
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
	boot_sector_signature
