/*
 * Entry of regtest, Keel's 64-bit register-state test kernel: a flat
 * multiboot1 binary (a.out-kludge header, flag 16) loaded at 1 MiB. The
 * loader enters it in 32-bit protected mode without paging; it maps the
 * low 4 GiB with 2 MiB pages (identity), turns on long mode and calls
 * regtest_main(magic, info) in 64-bit mode.
 *
 * APs (started by start_aps() in regtest.c with INIT, SIPI, SIPI) enter
 * the real-mode trampoline copied to AP_TRAMPOLINE, go to protected mode,
 * then through ap32 below to long mode on the same page tables, and call
 * regtest_ap_main() on a stack of its own (ap_stacks, by arrival).
 */
#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS ((1 << 0) | (1 << 1) | (1 << 16))
#define AP_TRAMPOLINE 0x8000
#define CR0_PE (1 << 0)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18

	.section .multiboot, "a"
	.balign 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header	/* header_addr */
	.long __load_start	/* load_addr */
	.long __load_end	/* load_end_addr */
	.long __bss_end		/* bss_end_addr */
	.long _start		/* entry_addr */

	.text
	.code32
	.globl _start
_start:
	cli
	movl %eax, mb_magic
	movl %ebx, mb_info
	movl $boot_stack_top, %esp

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 512
	 * 2 MiB pages each: 0-4 GiB identity (the local APIC at 0xFEE00000
	 * included). The tables are in .bss, which the loader zeroed. */
	movl $pdpt + 3, pml4		/* present, writable */
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $pd + 3, %eax
	movl %eax, pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax			/* present, writable, 2 MiB page */
	movl %eax, pd(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	lgdt gdt_ptr
	ljmp $SEL_CODE32, $ap32_common
	/* ap32_common returns here in 64-bit mode through long64. */

/* Shared by the BSP and the APs: 32-bit protected mode -> long mode. */
ap32_common:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $long64

	.code64
long64:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	/* The first CPU here is the BSP; every later one is an AP. */
	movl $1, %eax
	lock xaddl %eax, cpus_entered
	testl %eax, %eax
	jnz ap64
	movq $boot_stack_top, %rsp
	movl mb_magic, %edi
	movl mb_info, %esi
	call regtest_main
3:	cli
	hlt
	jmp 3b

ap64:
	/* 16 KiB of stack per AP, by arrival: AP n (1..) uses the nth. */
	movl %eax, %ecx
	shlq $14, %rcx
	leaq ap_stacks(%rcx), %rsp
	movl %eax, %edi			/* this AP's number, 1.. */
	call regtest_ap_main
4:	cli
	hlt
	jmp 4b

/*
 * The AP trampoline: start_aps() copies trampoline..trampoline_end to
 * AP_TRAMPOLINE (SIPI vector 0x08: CS 0x0800, IP 0). Position-dependent
 * addresses inside it are computed relative to AP_TRAMPOLINE.
 */
	.globl trampoline, trampoline_end
	.code16
trampoline:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl AP_TRAMPOLINE + (tramp_gdt_ptr - trampoline)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $ap32_common
	.balign 8
tramp_gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
trampoline_end:

	.data
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
mb_magic: .long 0
mb_info: .long 0
cpus_entered: .long 0

	.bss
	.balign 4096
pml4:	.skip 4096
pdpt:	.skip 4096
pd:	.skip 4 * 4096
	.balign 16
	.skip 16384
boot_stack_top:
ap_stacks:	/* AP n's stack ends at ap_stacks + n * 16 KiB */
	.skip 4 * 16384
