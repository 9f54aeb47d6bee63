/* Test boot sector: announces itself, then spins forever with interrupts
 * off. Only the VMX-preemption timer can take the CPU back from it. */
	.code16
	.globl _start
_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %ss
	movw $0x7c00, %sp
	ljmp $0, $1f
1:	call com1_init
	movw $msg, %si
	call puts
	cli
2:	jmp 2b

#include "com1.inc"

msg:	.asciz "spinner: spinning with interrupts off\r\n"
	.org 510
	.byte 0x55, 0xaa
