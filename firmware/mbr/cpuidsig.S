/*
 * Checks what an OS sees in CPUID 0x40000000 once the firmware has handed
 * over to the boot sector: Keel's own leaf ("KeelKeelKeel", EAX =
 * 0x40000000, nothing after it), not the Xen signature SeaBIOS needed
 * during POST. Prints "cpuid: Keel leaf ok" or the 12 bytes it found.
 * tests/boot/t-cpuid-handover.sh.
 */
#include "boot_sector.inc"

	.code16
	.section .text
	.globl _start
_start:
	boot_sector_enter
	call com1_init
	movl $0x40000000, %eax
	cpuid
	movl %ebx, sig
	movl %ecx, sig + 4
	movl %edx, sig + 8
	cmpl $0x40000000, %eax
	jne bad
	cmpl $0x6c65654b, %ebx		/* "Keel" */
	jne bad
	cmpl %ebx, %ecx
	jne bad
	cmpl %ebx, %edx
	jne bad
	movl $0x40000001, %eax		/* Xen's version leaf: gone */
	cpuid
	orl %ebx, %eax
	orl %ecx, %eax
	orl %edx, %eax
	jnz bad
	movw $msg_ok, %si
	call puts
	jmp halt
bad:	movw $msg_bad, %si
	call puts
	movw $sig, %si
	call puts
	movw $msg_nl, %si
	call puts
halt:	cli
	hlt
	jmp halt

#include "com1.inc"

msg_ok:	.asciz "cpuid: Keel leaf ok\r\n"
msg_bad: .asciz "cpuid: leaf 0x40000000 says "
msg_nl:	.asciz "\r\n"
sig:	.fill 13, 1, 0

	boot_sector_signature
