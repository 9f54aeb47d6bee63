/*
 * Multiboot2 header and the 32-bit entry point.
 *
 * GRUB enters here in 32-bit protected mode, paging off, with
 * EAX = 0x36d76289 and EBX = physical address of the boot information.
 * GDTR, IDTR and ESP are undefined (multiboot2 spec 3.3), so nothing
 * touches a segment register or the stack before we load our own.
 *
 * We check the magic and long-mode support, identity-map the first
 * 4 GiB with 2 MiB pages, enable long mode and jump to kmain(). RAM above
 * 4 GiB is mapped later, once the memory map says where it is (mm_init,
 * arch/x86/mm.c).
 */
#include <x86/cpu.h>
#include "long_mode.inc"

#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define MB2_BOOT_MAGIC 0x36d76289
#define COM1 0x3f8

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* Information request: we need the memory map (6); the ACPI RSDP (14,
	 * 15), the EFI system table (12, for the RSDP on UEFI) and the
	 * framebuffer (8) are used when given. The tag is marked optional so
	 * an old loader that lacks one type still boots us; the parser then
	 * reports what is missing. */
	.balign 8
	.short 1, 1
	.long 8 + 4 * 7
	.long 1, 3, 6, 8, 12, 14, 15
	/* Framebuffer request (tag 5), optional: 640x480 at 32 bits per
	 * pixel if the loader can set a graphics mode (GRUB needs its video
	 * drivers loaded: 'insmod all_video'), else whatever it has (EGA
	 * text on a legacy BIOS). Keel's console is drawn there too
	 * (arch/x86/screen.c), for machines without a serial port. */
	.balign 8
	.short 5, 1
	.long 20
	.long 640, 480, 32
	/* End tag. */
	.balign 8
	.short 0, 0
	.long 8
mb2_header_end:

	/* A multiboot (v1) header too, with no requests: a loader that uses
	 * it enters _start with EAX = 0x2badb002, and Keel then explains that
	 * it needs multiboot2 instead of failing obscurely. */
	.balign 4
	.long 0x1badb002
	.long 0
	.long -0x1badb002

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl $boot_stack_top, %esp
	movl %eax, mb2_boot_magic
	movl %ebx, mb2_boot_info

	call early_uart_init

	cmpl $MB2_BOOT_MAGIC, %eax
	je 1f
	movl $msg_bad_magic, %esi
	call early_puts
	movl mb2_boot_magic, %eax
	call early_puthex
	movl $msg_bad_magic2, %esi
	call early_puts
	jmp early_halt
1:
	/* Long mode needs CPUID leaf 0x80000001 EDX.LM. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	testl $CPUID_80000001_EDX_LM, %edx
	jz no_long_mode

	/* Identity-map 0..4 GiB: PML4[0] -> PDPT, PDPT[0..3] -> boot_pd[0..3],
	 * each PD entry a 2 MiB page. The tables are in .bss, zeroed below. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	movl $boot_pdpt, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, boot_pml4

	movl $boot_pd, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl $boot_pdpt, %edi
	movl $4, %ecx
2:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 2b

	movl $boot_pd, %edi
	movl $(PTE_P | PTE_RW | PTE_PS), %eax
	xorl %edx, %edx
	movl $2048, %ecx
3:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $0x200000, %eax
	adcl $0, %edx
	addl $8, %edi
	loop 3b

	ENABLE_LONG_MODE

	lgdt boot_gdt_desc
	ljmp $0x08, $long_entry

no_long_mode:
	movl $msg_no_lm, %esi
	call early_puts
early_halt:
	cli
	hlt
	jmp early_halt

/* 16550 at 115200 8N1, polled. GRUB may not have touched the UART. */
early_uart_init:
	pushl %eax
	pushl %edx
	movw $(COM1 + 1), %dx
	xorb %al, %al
	outb %al, %dx		/* IER = 0 */
	movw $(COM1 + 3), %dx
	movb $0x80, %al
	outb %al, %dx		/* DLAB */
	movw $(COM1 + 0), %dx
	movb $1, %al
	outb %al, %dx		/* divisor 1 = 115200 */
	movw $(COM1 + 1), %dx
	xorb %al, %al
	outb %al, %dx
	movw $(COM1 + 3), %dx
	movb $0x03, %al
	outb %al, %dx		/* 8N1 */
	movw $(COM1 + 2), %dx
	movb $0xc7, %al
	outb %al, %dx		/* FIFO on, cleared */
	movw $(COM1 + 4), %dx
	movb $0x03, %al
	outb %al, %dx		/* DTR | RTS */
	popl %edx
	popl %eax
	ret

early_putc:			/* %al = char */
	pushl %edx
	pushl %eax
	movw $(COM1 + 5), %dx
1:	inb %dx, %al
	testb $0x20, %al
	jz 1b
	popl %eax
	movw $COM1, %dx
	outb %al, %dx
	popl %edx
	ret

early_puts:			/* %esi = NUL-terminated string */
	pushl %eax
1:	lodsb
	testb %al, %al
	jz 2f
	call early_putc
	jmp 1b
2:	popl %eax
	ret

early_puthex:			/* %eax = value */
	pushl %ecx
	pushl %ebx
	movl %eax, %ebx
	movl $8, %ecx
1:	roll $4, %ebx
	movl %ebx, %eax
	andl $0xf, %eax
	movb hexdigits(%eax), %al
	call early_putc
	loop 1b
	popl %ebx
	popl %ecx
	ret

	.code64
long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl mb2_boot_magic, %edi
	movl mb2_boot_info, %esi
	call kmain
1:	cli
	hlt
	jmp 1b

	.section .rodata
msg_bad_magic:
	.asciz "\r\nkeel: fatal: not started by a multiboot2 loader (EAX=0x"
msg_bad_magic2:
	.ascii ", expected 0x36d76289).\r\n"
	.ascii "keel: load keel.elf with GRUB's 'multiboot2' command (not 'multiboot'"
	.asciz " or 'linux'). Halted.\r\n"
msg_no_lm:
	.asciz "\r\nkeel: fatal: this CPU has no 64-bit long mode (CPUID 0x80000001 EDX.LM=0). Halted.\r\n"
hexdigits:
	.ascii "0123456789abcdef"

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
boot_gdt_end:
boot_gdt_desc:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .data
	.globl mb2_boot_magic, mb2_boot_info
	.balign 4
mb2_boot_magic: .long 0
mb2_boot_info: .long 0

	.section .bss
	.balign 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd: .skip 4 * 4096
	.globl boot_stack_top
boot_stack: .skip 16384
boot_stack_top:
