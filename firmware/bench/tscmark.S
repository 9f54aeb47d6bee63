/*
 * Benchmark boot sector: reads the TSC as its very first instruction, then
 * prints "MBR loaded tsc=N" on COM1 (N in decimal) and halts. tools/bench
 * boots it under Keel and on bare Bochs (SeaBIOS as Bochs's own ROM) and
 * compares the ticks from the reset vector to this point.
 */
#include "boot_sector.inc"

	.code16
	.globl _start
_start:
	rdtsc
	boot_sector_enter	/* keeps EDX:EAX */
	movl %eax, tsc_lo
	movl %edx, tsc_hi
	call com1_init
	movw $msg, %si
	call puts
	movl tsc_hi, %edx
	movl tsc_lo, %eax
	call putdec64
	movw $crlf, %si
	call puts
2:	cli
	hlt
	jmp 2b

/* %edx:%eax in decimal (the TSC stays below 2^63). */
putdec64:
	xorw %cx, %cx
3:	movl %eax, %esi		/* divide edx:eax by 10 in two steps */
	movl %edx, %eax
	xorl %edx, %edx
	movl $10, %ebx
	divl %ebx
	movl %eax, %edi		/* high quotient */
	movl %esi, %eax
	divl %ebx		/* edx = remainder */
	pushw %dx
	incw %cx
	movl %edi, %edx
	movl %eax, %esi
	orl %edx, %esi
	jnz 3b
4:	popw %ax
	addb $'0', %al
	call putc
	loop 4b
	ret

#include "com1.inc"

tsc_lo:	.long 0
tsc_hi:	.long 0
msg:	.asciz "MBR loaded tsc="
crlf:	.asciz "\r\n"
	boot_sector_signature
