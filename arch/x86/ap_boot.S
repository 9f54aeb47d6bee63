/*
 * Start-up code of the application processors (the CPUs other than the one
 * GRUB started). arch/x86/smp.c copies ap_trampoline to a page below 1 MiB
 * and sends INIT-SIPI-SIPI; each AP starts here in real mode with CS = that
 * page's segment and IP = 0.
 *
 * It goes straight from real mode to long mode (SDM 9.8.5: PAE, LME, then PE
 * and PG together), using the page tables the BSP built in boot.S, which
 * identity-map the first 4 GiB, so the far jump can land in Keel's own text.
 * Everything the trampoline needs is a link-time constant: it has no data
 * filled in at run time. ap_long_entry then takes the stack and CPU number
 * the BSP left in smp.c's ap_boot_stack / ap_boot_cpu.
 */
#include <x86/cpu.h>
#include "long_mode.inc"

#define AP_TRAMPOLINE_PA 0x8000

	.section .rodata
	.balign 16
	.code16
	.globl ap_trampoline, ap_trampoline_end
ap_trampoline:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl ap_gdt_desc - ap_trampoline
	ENABLE_LONG_MODE
	ljmpl *(ap_far_target - ap_trampoline)

	.balign 8
ap_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
ap_gdt_end:
ap_gdt_desc:
	.short ap_gdt_end - ap_gdt - 1
	.long AP_TRAMPOLINE_PA + (ap_gdt - ap_trampoline)
ap_far_target:
	.long ap_long_entry
	.short 0x08
ap_trampoline_end:

	.text
	.code64
ap_long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq ap_boot_stack(%rip), %rsp
	xorl %ebp, %ebp
	movl ap_boot_cpu(%rip), %edi
	call ap_main
1:	cli
	hlt
	jmp 1b
