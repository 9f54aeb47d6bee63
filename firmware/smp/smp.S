/*
 * Keel's SMP test guest. SeaBIOS loads sector 0 to 0000:7C00 as an MBR; it
 * reads the other sectors of this image with INT 13h, enters 32-bit
 * protected mode, finds the MP table SeaBIOS copied into its F segment, and
 * starts every other CPU the table lists with INIT, SIPI, SIPI through the
 * local APIC's ICR. Each AP enters at 0800:0000 (vector 0x08), switches to
 * protected mode, reads its APIC id from its own local APIC and prints
 * "smp: AP APIC id N up" on COM1 under a spinlock. The BSP prints
 * "smp: all N CPUs up" once every AP has checked in.
 *
 * The APIC accesses use several MOV encodings on purpose (A1/A3 moffs,
 * C7/C6 with disp32, 89/8B with a base register): Keel emulates each one.
 */
#define LAPIC 0xfee00000
#define LAPIC_ID 0x20
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define IOAPIC 0xfec00000
#define IMAGE_SECTORS 8		/* the whole program: 4 KiB */
#define IMAGE_NAME "smp"
#define AP_ENTRY 0x8000		/* 4 KiB aligned: SIPI vector 0x08 */
#define MAX_CPUS 8

#include "boot_sector.inc"
#include "flat_gdt.inc"

	.code16
	.section .text
	.globl _start
_start:
	boot_sector_enter
	call com1_init
	call boot_load_rest
	jmp stage2

#include "com1.inc"
#include "disk_load.inc"
	boot_sector_signature

/* --- sector 1 on: the BSP enters protected mode ---------------------------- */
stage2:
	protected_mode_enter bsp32

	flat_gdt_table

/* --- the AP trampoline: CS = 0x0800, IP = 0 after the SIPI ------------------ */
	.org AP_ENTRY - 0x7c00
ap_entry:
	cli
	ljmp $0, $1f
1:	xorw %ax, %ax
	movw %ax, %ds
	protected_mode_enter ap32

	.code32
ap32:
	protected_mode_load_data
	/* A stack of its own: 1 KiB per AP below 0x70000, by ticket. */
	movl $1, %eax
	lock xaddl %eax, ap_ticket
	shll $10, %eax
	movl $0x70000, %esp
	subl %eax, %esp
	movl LAPIC + LAPIC_ID, %eax	/* A1: moffs load */
	shrl $24, %eax
	movl %eax, %ebx
	call lock_acquire
	movl $msg_ap, %esi
	call puts32
	movl %ebx, %eax
	call putdec32
	movl $msg_up, %esi
	call puts32
	call lock_release
	lock incl ap_count
1:	cli
	hlt
	jmp 1b

/* --- the BSP ------------------------------------------------------------------ */
bsp32:
	protected_mode_load_data
	movl $0x7000, %esp

	call find_mp_cpus		/* fills cpu_ids[], cpu_count */
	testl %eax, %eax
	jz no_mp
	movl $msg_mp, %esi
	call puts32
	movl cpu_count, %eax
	call putdec32
	movl $msg_cpus, %esi
	call puts32

	/* The BSP's own local APIC: software-enable it, read its id. */
	movl $0x1ff, LAPIC + LAPIC_SVR	/* C7 05: store immediate */
	movl $LAPIC, %esi
	movl LAPIC_ID(%esi), %eax	/* 8B 46: base + disp8 */
	shrl $24, %eax
	movl %eax, bsp_id
	call lock_acquire
	movl $msg_bsp, %esi
	call puts32
	movl bsp_id, %eax
	call putdec32
	movl $msg_up, %esi
	call puts32
	call lock_release

	/* The I/O APIC answers at 0xFEC00000: version register (index 1). */
	movb $1, IOAPIC			/* C6 05: byte store immediate */
	movl IOAPIC + 0x10, %eax
	movl %eax, %ebx
	call lock_acquire
	movl $msg_ioapic, %esi
	call puts32
	movzbl %bl, %eax
	call puthex32_byte
	movl $msg_pins, %esi
	call puts32
	movl %ebx, %eax
	shrl $16, %eax
	movzbl %al, %eax
	incl %eax
	call putdec32
	movl $msg_crlf, %esi
	call puts32
	call lock_release

	/* INIT, SIPI, SIPI to every other CPU of the MP table. */
	xorl %edi, %edi
start_next:
	cmpl cpu_count, %edi
	jae wait_aps
	movzbl cpu_ids(%edi), %eax
	incl %edi
	cmpl bsp_id, %eax
	je start_next
	shll $24, %eax
	movl %eax, LAPIC + LAPIC_ICR_HI	/* A3: moffs store */
	movl $0x00004500, LAPIC + LAPIC_ICR_LO	/* INIT, level assert */
	call icr_wait
	movl $LAPIC, %esi
	movl $0x00008500, %edx		/* INIT de-assert (level trigger) */
	movl %edx, LAPIC_ICR_LO(%esi)	/* 89 96: base + disp32 */
	call icr_wait
	movl $10000, %ecx
1:	pause
	loop 1b
	movl $LAPIC + LAPIC_ICR_LO, %edx
	movl $(0x00004600 | (AP_ENTRY >> 12)), %ecx
	movl %ecx, (%edx)		/* 89 0a: start-up, vector 0x08 */
	call icr_wait
	movl %ecx, (%edx)		/* the second SIPI (ignored by a started AP) */
	call icr_wait
	jmp start_next

wait_aps:
	movl cpu_count, %ebx
	decl %ebx
	movl $0x10000000, %ecx
1:	cmpl ap_count, %ebx
	je all_up
	pause
	loop 1b
	call lock_acquire
	movl $msg_timeout, %esi
	call puts32
	movl ap_count, %eax
	call putdec32
	movl $msg_crlf, %esi
	call puts32
	call lock_release
	jmp halt32

all_up:
	call lock_acquire
	movl $msg_all, %esi
	call puts32
	movl cpu_count, %eax
	call putdec32
	movl $msg_cpus_up, %esi
	call puts32
	call lock_release
	jmp halt32

no_mp:
	movl $msg_nomp, %esi
	call puts32
halt32:
	cli
	hlt
	jmp halt32

/* Waits until the ICR's delivery-status bit reads idle. */
icr_wait:
	pushl %eax
1:	movl LAPIC + LAPIC_ICR_LO, %eax
	testl $0x1000, %eax
	jz 2f
	pause
	jmp 1b
2:	popl %eax
	ret

/* Finds the MP floating pointer in the F segment (16-byte steps, checksum),
 * then the processor entries of its configuration table. Returns EAX = 0
 * if there is none. */
find_mp_cpus:
	movl $0xf0000, %esi
1:	cmpl $0x100000, %esi
	jae 8f
	cmpl $0x5f504d5f, (%esi)	/* "_MP_" */
	jne 2f
	xorl %eax, %eax
	xorl %ecx, %ecx
3:	addb (%esi,%ecx), %al
	incl %ecx
	cmpl $16, %ecx
	jb 3b
	testb %al, %al
	jz 4f
2:	addl $16, %esi
	jmp 1b
4:	movl 4(%esi), %esi		/* configuration table */
	cmpl $0x504d4350, (%esi)	/* "PCMP" */
	jne 8f
	movzwl 34(%esi), %ecx		/* entry count */
	addl $44, %esi
5:	testl %ecx, %ecx
	jz 7f
	cmpb $0, (%esi)			/* processor entry: 20 bytes */
	jne 6f
	testb $1, 3(%esi)		/* enabled */
	jz 51f
	movl cpu_count, %eax
	cmpl $MAX_CPUS, %eax
	jae 51f
	movb 1(%esi), %dl
	movb %dl, cpu_ids(%eax)
	incl cpu_count
51:	addl $20, %esi
	decl %ecx
	jmp 5b
6:	addl $8, %esi			/* bus, I/O APIC, interrupt entries */
	decl %ecx
	jmp 5b
7:	movl $1, %eax
	ret
8:	xorl %eax, %eax
	ret

lock_acquire:
	pushl %eax
	movl $1, %eax
1:	xchgl %eax, print_lock
	testl %eax, %eax
	jz 2f
	pause
	jmp 1b
2:	popl %eax
	ret

lock_release:
	movl $0, print_lock
	ret

#include "com1_32.inc"

msg_mp:		.asciz "\r\nsmp: MP table lists "
msg_cpus:	.asciz " CPUs\r\n"
msg_bsp:	.asciz "smp: BSP APIC id "
msg_ap:		.asciz "smp: AP APIC id "
msg_up:		.asciz " up\r\n"
msg_ioapic:	.asciz "smp: I/O APIC version 0x"
msg_pins:	.asciz ", "
msg_crlf:	.asciz " inputs\r\n"
msg_all:	.asciz "smp: all "
msg_cpus_up:	.asciz " CPUs up\r\n"
msg_timeout:	.asciz "smp: timeout waiting for the APs; checked in: "
msg_nomp:	.asciz "smp: no MP table found in the F segment\r\n"

	.balign 4
print_lock:	.long 0
ap_ticket:	.long 1
ap_count:	.long 0
cpu_count:	.long 0
bsp_id:		.long 0
cpu_ids:	.fill MAX_CPUS, 1, 0

	.org IMAGE_SECTORS * 512 - 1
	.byte 0
