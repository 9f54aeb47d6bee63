/* Test boot sector: announces itself, then spins forever with interrupts
 * off. Only the VMX-preemption timer can take the CPU back from it. */
#include "boot_sector.inc"

	.code16
	.globl _start
_start:
	boot_sector_enter
	call com1_init
	movw $msg, %si
	call puts
	cli
2:	jmp 2b

#include "com1.inc"

msg:	.asciz "spinner: spinning with interrupts off\r\n"
	boot_sector_signature
