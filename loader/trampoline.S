/*
 * The last step of a direct kernel boot. hvmloader copies these bytes to a
 * free spot below 1 MiB (direct_boot.c: TRAMPOLINE_ADDR, or elsewhere when
 * the kernel wants that memory) with the plan right after them, and calls
 * here, because the kernel's final place may be where hvmloader itself
 * runs. The code is position-independent and never refers to hvmloader:
 * it finds its own address with a call, the plan at that address +
 * TRAMPOLINE_MAX (direct_boot.h), and uses the TRAMPOLINE_STACK bytes below
 * itself as its stack.
 *
 * It copies each image piece to its place, loads flat 4 GiB segments with
 * the selectors the Linux boot protocol requires (CS 0x10, DS/ES/SS 0x18),
 * sets EAX/EBX/ESI from the plan, clears the other registers and jumps to
 * the kernel: 32-bit protected mode, paging off, interrupts off.
 */
#define __ASSEMBLY__
#include "direct_boot.h"

	.section .text
	.code32
	.globl trampoline_start, trampoline_end
trampoline_start:
	cli
	cld
	call 0f			/* hvmloader's stack is still good here */
0:	popl %ebx
	subl $(0b - trampoline_start), %ebx	/* where this copy runs */
	movl %ebx, %esp		/* the stack grows down below it */
	addl $TRAMPOLINE_MAX, %ebx		/* the plan */
	pushl %ebx
	movl PLAN_NR(%ebx), %edx
	leal PLAN_COPY(%ebx), %ebp
1:	testl %edx, %edx
	jz 4f
	movl 0(%ebp), %edi	/* dst */
	movl 4(%ebp), %esi	/* src */
	movl 8(%ebp), %ecx	/* len */
	cmpl %esi, %edi
	ja 2f
	/* dst <= src: forward, dwords then the remaining bytes. */
	movl %ecx, %eax
	shrl $2, %ecx
	rep movsl
	movl %eax, %ecx
	andl $3, %ecx
	rep movsb
	jmp 3f
2:	/* dst > src: backward, so an overlap is copied correctly. */
	leal -1(%esi,%ecx), %esi
	leal -1(%edi,%ecx), %edi
	std
	rep movsb
	cld
3:	/* then zeros (a segment's bss) */
	movl 0(%ebp), %edi
	addl 8(%ebp), %edi
	movl 12(%ebp), %ecx
	xorl %eax, %eax
	rep stosb
	addl $16, %ebp
	decl %edx
	jmp 1b

4:	popl %ebx		/* the plan */
	call 5f
5:	popl %eax
	leal (gdt - 5b)(%eax), %ecx	/* the GDT's linear address */
	pushl %ecx
	pushw $(gdt_end - gdt - 1)
	lgdt (%esp)
	addl $6, %esp
	leal (6f - 5b)(%eax), %ecx
	pushl $BOOT_CS
	pushl %ecx
	lret
6:	movl $BOOT_DS, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	pushl PLAN_ENTRY(%ebx)	/* ret goes there */
	movl PLAN_EAX(%ebx), %eax
	movl PLAN_ESI(%ebx), %esi
	movl PLAN_EBX(%ebx), %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %edi, %edi
	xorl %ebp, %ebp
	ret

	.balign 8
gdt:
	.quad 0
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x10: code, base 0, 4 GiB, 32-bit */
	.quad 0x00cf92000000ffff	/* 0x18: data, base 0, 4 GiB */
gdt_end:
trampoline_end:
