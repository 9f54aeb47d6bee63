/*
 * Start-up code of the application processors (the CPUs other than the one
 * GRUB started). arch/x86/smp.c copies ap_trampoline to a page below 1 MiB
 * and sends INIT-SIPI-SIPI; each AP starts here in real mode with CS = that
 * page's segment and IP = 0.
 *
 * It goes straight from real mode to long mode (SDM 9.8.5: PAE, LME, then PE
 * and PG together), using the page tables the BSP built in boot.S, which
 * identity-map the first 4 GiB, so the far jump can land in Keel's own text.
 * The page is chosen at run time (UEFI firmware may keep 0x8000 for
 * itself: lib/ap_trampoline_page.c), so the one absolute address inside,
 * the GDT's base in ap_gdt_desc, is filled in by smp.c after the copy
 * (ap_trampoline_gdt_base_off says where). ap_long_entry then takes a
 * slot: an atomic ticket from ap_boot_next picks its stack from
 * ap_boot_stacks[] and makes its CPU number ap_boot_first_cpu + ticket.
 * A start-up IPI to one CPU offers one slot; a broadcast one (no ACPI
 * MADT, arch/x86/smp.c) offers as many as Keel will use, and CPUs beyond
 * those halt here.
 */
#include <x86/cpu.h>
#include "long_mode.inc"

	.section .rodata
	.balign 16
	.code16
	.globl ap_trampoline, ap_trampoline_end, ap_trampoline_gdt_base_off, ap_trampoline_gdt_off
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
ap_gdt_base:
	.long 0				/* page + ap_trampoline_gdt_off, set by smp.c */
ap_far_target:
	.long ap_long_entry
	.short 0x08
ap_trampoline_end:

	.balign 4
ap_trampoline_gdt_base_off:
	.long ap_gdt_base - ap_trampoline
ap_trampoline_gdt_off:
	.long ap_gdt - ap_trampoline

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
	movl $1, %eax
	lock xaddl %eax, ap_boot_next(%rip)
	cmpl ap_boot_slots(%rip), %eax
	jae 1f				/* no slot left: this CPU is not used */
	leaq ap_boot_stacks(%rip), %rdx
	movq (%rdx,%rax,8), %rsp
	movl ap_boot_first_cpu(%rip), %edi
	addl %eax, %edi
	xorl %ebp, %ebp
	call ap_main
1:	cli
	hlt
	jmp 1b
