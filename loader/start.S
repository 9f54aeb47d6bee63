/*
 * hvmloader entry, at guest-physical 0x100000 in 32-bit protected mode with
 * paging off (include/keel/hvmloader_abi.h): EAX = magic, EBX = start info.
 * We load our own GDT, call loader_main(), then drop to real mode and jump
 * to SeaBIOS's reset vector F000:FFF0.
 */
#define SEL_CODE32 0x08
#define SEL_DATA32 0x10
#define SEL_CODE16 0x18
#define SEL_DATA16 0x20

	.section .text.start, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, %esi
	/* Zero .bss (our stack lives there). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl %esi, %eax
	/* The 16-bit code descriptor's base is the trampoline's address. */
	movl $trampoline16, %edx
	movl %edx, %ecx
	shll $16, %ecx
	orl $0xffff, %ecx
	movl %ecx, gdt_code16
	movl %edx, %ecx
	shrl $16, %ecx
	andl $0xff, %ecx
	orl $0x9a00, %ecx
	movl %edx, %edi
	andl $0xff000000, %edi
	orl %edi, %ecx
	movl %ecx, gdt_code16 + 4
	lgdt gdt_desc
	ljmp $SEL_CODE32, $1f
1:	movl $SEL_DATA32, %ecx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %ss
	movw %cx, %fs
	movw %cx, %gs
	movl $stack_top, %esp
	pushl %ebx
	pushl %eax
	call loader_main
	addl $8, %esp

	/* Into 16-bit protected mode: the 16-bit code segment's base is the
	 * trampoline itself, so it runs at offset 0 wherever we are linked. */
	lidt rm_idt_desc
	movl $SEL_DATA16, %ecx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %ss
	movw %cx, %fs
	movw %cx, %gs
	ljmp $SEL_CODE16, $0

	.code16
	.globl trampoline16
trampoline16:
	movl %cr0, %eax
	andl $~1, %eax		/* CR0.PE = 0: real mode from the next far jump */
	movl %eax, %cr0
	xorl %eax, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %edi, %edi
	xorl %ebp, %ebp
	xorl %esp, %esp
	ljmp $0xf000, $0xfff0

	.code32
	.section .data
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code, base 0, 4 GiB */
	.quad 0x00cf92000000ffff	/* 0x10: 32-bit data, base 0, 4 GiB */
gdt_code16:
	.quad 0			/* 0x18: 16-bit code, base = trampoline16 (set below) */
	.quad 0x000092000000ffff	/* 0x20: 16-bit data, base 0, 64 KiB */
gdt_end:
gdt_desc:
	.short gdt_end - gdt - 1
	.long gdt
rm_idt_desc:
	.short 0x3ff
	.long 0

	.section .bss
	.balign 16
stack:
	.skip 16384
stack_top:
