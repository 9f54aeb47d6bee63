/*
 * The last step of a direct kernel boot. hvmloader copies these bytes to
 * TRAMPOLINE_ADDR (below 1 MiB) and jumps here, because the kernel's final
 * place (1 MiB) is where hvmloader itself runs. The code below therefore
 * never refers to hvmloader: absolute addresses are TRAMPOLINE_ADDR-based
 * (TR()), the inputs are the plan at DIRECT_PLAN_ADDR (direct_boot.h).
 *
 * It copies each image piece to its place, loads flat 4 GiB segments with
 * the selectors the Linux boot protocol requires (CS 0x10, DS/ES/SS 0x18),
 * sets EAX/EBX/ESI from the plan, clears the other registers and jumps to
 * the kernel: 32-bit protected mode, paging off, interrupts off.
 */
#define __ASSEMBLY__
#include "direct_boot.h"

#define TR(x) (TRAMPOLINE_ADDR + ((x) - trampoline_start))

	.section .text
	.code32
	.globl trampoline_start, trampoline_end
trampoline_start:
	cli
	cld
	movl $TRAMPOLINE_ADDR, %esp
	movl $DIRECT_PLAN_ADDR, %ebx
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

4:	lgdt TR(gdt_desc)
	ljmp $BOOT_CS, $TR(5f)
5:	movl $BOOT_DS, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $DIRECT_PLAN_ADDR, %ebp
	movl PLAN_ENTRY(%ebp), %ecx
	movl %ecx, TR(entry)
	movl PLAN_EAX(%ebp), %eax
	movl PLAN_EBX(%ebp), %ebx
	movl PLAN_ESI(%ebp), %esi
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %edi, %edi
	xorl %ebp, %ebp
	jmp *TR(entry)

	.balign 8
gdt:
	.quad 0
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x10: code, base 0, 4 GiB, 32-bit */
	.quad 0x00cf92000000ffff	/* 0x18: data, base 0, 4 GiB */
gdt_end:
gdt_desc:
	.short gdt_end - gdt - 1
	.long TR(gdt)
entry:
	.long 0
trampoline_end:
