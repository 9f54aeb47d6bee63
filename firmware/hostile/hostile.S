/*
 * Hostile guests for the security tests (tests/boot/t-hostile-*.sh). One
 * program, built once per attack with -DATTACK=<name> (firmware.mk):
 * SeaBIOS loads sector 0 as an MBR; it reads the rest with INT 13h, enters
 * 32-bit flat protected mode with its own IDT (every exception is counted
 * and, where the attack expects one, execution resumes at resume_eip), then
 * runs its attack and reports on COM1 as "hostile: ...". Random choices come
 * from xorshift32 seeded by RDTSC; the seed is printed so a run can be
 * replayed (-DSEED=n fixes it).
 *
 * Attacks (what Keel is expected to do is in docs/security.md):
 *   ports    20000 random port accesses, sizes 1/2/4, then REP OUTSB of
 *            256 KiB and a REP INSB that runs off the end of guest RAM
 *   msr      random RDMSR/WRMSR, then writes to FEATURE_CONTROL, EFER,
 *            APIC_BASE and the SYSENTER MSRs, counting the #GPs
 *   cpu      random CPUID leaves, VMCALLs with random numbers/pointers,
 *            every VMX instruction (each must raise #UD), XSETBV (#GP
 *            for forbidden values, else XCR0 loaded),
 *            and RDTSCP returning the TSC_AUX value it wrote
 *   df       a double-fault storm: #GP's gate is not present, so every
 *            #GP becomes #DF, 1000 times
 *   triple   an empty IDT, then INT3: the CPU shuts down
 *   storm    PICs fully unmasked, PIT channel 0 with count 1, EOI spam
 *   ata      READ SECTORS with LBAs and counts beyond the disk, then a
 *            good one read by REP INSW into a buffer across 2 MiB
 *   fill     (isolation) fills its RAM from 1 MiB up with a 16-byte
 *            signature computed at run time (it is not in any image)
 *   scan     (isolation) plants the signature once in its own RAM, then
 *            scans all of its RAM three times, about a second apart, and
 *            counts matches (expected: exactly the one it planted), then
 *            reads just above its RAM
 *   flood    console output as fast as it can go: REP OUTSB of 2 KiB of
 *            text lines to debug port 0xE9 and one numbered line on COM1,
 *            forever
 *   reboot   prints 16 KiB to port 0xE9, then resets itself through
 *            port 0xCF9; Keel restarts it, and it does it again
 *   logflood first writes IA32_TSC and reads it back (RDTSC, RDMSR);
 *            then, forever, each action Keel logs for a guest: WRMSR
 *            IA32_APIC_BASE with another base, the hypercall-page MSR
 *            outside RAM, hvmloader's timeline mark again, an INIT IPI to
 *            its boot vCPU (reporting every 1024 rounds)
 *   pageperm at CPL 3 with IOPL 3 under 32-bit paging, REP INSB into a
 *            supervisor-only page, a read-only page (both must #PF with
 *            error code 7 and CR2) and a user page; ends through port 0xF4
 *   gpa      a read of guest-physical GPA (below 4 GiB: directly; at or
 *            above it: through a PAE 2 MiB page; GPA=top: the last 2 MiB
 *            the CPU's physical-address width allows, from CPUID 0x80000008)
 */
#define IMAGE_SECTORS 16
#define IMAGE_NAME "hostile"
#define IDT_BASE 0x1000		/* 64 gates */
#define PAE_PDPT 0x3000		/* the gpa attack's page tables */
#define PAE_PD0 0x4000
#define PAE_PD3 0x5000
#define RAM_END 0x2000000	/* the tests give these guests 32 MiB */
#define PLANT 0x1234560		/* where scan plants its control copy */

#include "boot_sector.inc"
#include "flat_gdt.inc"

	.code16
	.section .text
	.globl _start
_start:
	boot_sector_enter
	call com1_init
	call boot_load_rest
	protected_mode_enter main32

#include "com1.inc"
#include "disk_load.inc"
	flat_gdt_table
	boot_sector_signature

/* --- 32-bit part ------------------------------------------------------------ */
	.code32
main32:
	protected_mode_load_data
	movl $0x7000, %esp
	call idt_init
	lidt idt_desc
#ifdef SEED
	movl $SEED, %eax
#else
	rdtsc
	xorl $0x9e3779b9, %eax
	orl $1, %eax
#endif
	movl %eax, rng
	movl $msg_hello, %esi
	call puts32
	movl rng, %eax
	call puthex32
	movl $msg_crlf, %esi
	call puts32
	jmp ATTACK

/* Prints "hostile: <what> <n>\r\n": %esi = what, %eax = n. */
report:
	pushl %eax
	pushl %esi
	movl $msg_prefix, %esi
	call puts32
	popl %esi
	call puts32
	popl %eax
	call putdec32
	movl $msg_crlf, %esi
	call puts32
	ret

rand:				/* xorshift32 -> %eax */
	movl rng, %eax
	pushl %edx
	movl %eax, %edx
	shll $13, %edx
	xorl %edx, %eax
	movl %eax, %edx
	shrl $17, %edx
	xorl %edx, %eax
	movl %eax, %edx
	shll $5, %edx
	xorl %edx, %eax
	popl %edx
	movl %eax, rng
	ret

done:
	movl $msg_done, %esi
	call puts32
	cli
1:	hlt
	jmp 1b

/* --- ports ------------------------------------------------------------------ */
ports:
	movl $20000, %edi
1:	call rand
	movl %eax, %edx
	andl $0xffff, %edx
	call port_excluded
	jc 3f
	shrl $16, %eax
	xorl %ecx, %ecx
	movb %al, %cl
	andb $7, %cl
	call rand			/* the value to write */
	cmpb $0, %cl
	je 10f
	cmpb $1, %cl
	je 11f
	cmpb $2, %cl
	je 12f
	cmpb $3, %cl
	je 13f
	cmpb $4, %cl
	je 14f
	outl %eax, %dx
	jmp 3f
10:	inb %dx, %al
	jmp 3f
11:	inw %dx, %ax
	jmp 3f
12:	inl %dx, %eax
	jmp 3f
13:	outb %al, %dx
	jmp 3f
14:	outw %ax, %dx
3:	decl %edi
	jnz 1b
	movl $msg_ports, %esi
	movl $20000, %eax
	call report
	/* A long string write inside RAM: Keel splits it over several exits. */
	cld
	movl $0x100000, %esi
	movl $0x40000, %ecx
	movw $0x80, %dx
	rep outsb
	movl $msg_outs, %esi
	movl $0x40000, %eax
	call report
	/* A string read that runs off the end of RAM. */
	movl $msg_ins, %esi
	movl $RAM_END, %eax
	call report
	movl $RAM_END - 64, %edi
	movl $4096, %ecx
	movw $0x80, %dx
	rep insb
	movl $msg_ins_back, %esi	/* not reached: Keel stops the guest */
	movl $0, %eax
	call report
	jmp done

/* CF=1 for ports this attack leaves alone, so that it keeps running and
 * the log stays readable: its own console and the debug consoles (it would
 * print garbage), and the ports that reset or end the guest. */
port_excluded:
	cmpw $0x3f8, %dx
	jb 1f
	cmpw $0x3ff, %dx
	jbe 9f
1:	cmpw $0xe9, %dx
	je 9f
	cmpw $0x402, %dx
	je 9f
	cmpw $0xcf9, %dx
	je 9f
	cmpw $0x92, %dx
	je 9f
	cmpw $0x60, %dx
	je 9f
	cmpw $0x64, %dx
	je 9f
	cmpw $0xf4, %dx
	je 9f
	clc
	ret
9:	stc
	ret

/* --- msr -------------------------------------------------------------------- */
msr:
	movl $2000, %edi
1:	call rand
	movl %eax, %ecx
	call rand
	testb $1, %al
	jz 2f
	movl $3f, resume_eip
	rdmsr
	jmp 3f
2:	movl %eax, %edx
	movl $3f, resume_eip
	wrmsr
3:	movl $0, resume_eip
	decl %edi
	jnz 1b
	movl $msg_msr_random, %esi
	movl exc_count + 13 * 4, %eax
	call report
	/* Named MSRs a guest must not be able to change under Keel. */
	movl $msr_targets, %ebx
4:	movl (%ebx), %ecx
	testl %ecx, %ecx
	jz 6f
	movl exc_count + 13 * 4, %ebp
	movl $0xffffffff, %eax		/* 0x00008000ffffffff: reserved bits */
	movl $0x00008000, %edx		/* set, and not a canonical address */
	movl $5f, resume_eip
	wrmsr
5:	movl $msg_msr_prefix, %esi
	call puts32
	movl %ecx, %eax
	call puthex32
	movl $msg_msr_gp, %esi
	cmpl exc_count + 13 * 4, %ebp
	jne 7f
	movl $msg_msr_ok, %esi
7:	call puts32
	addl $4, %ebx
	jmp 4b
6:	jmp done

msr_targets:
	.long 0x3a, 0xc0000080, 0x1b, 0x174, 0x175, 0x176, 0

/* --- cpu: CPUID, VMCALL, VMX instructions ------------------------------------- */
cpu:
	movl $5000, %edi
1:	call rand
	movl %eax, %ebx
	call rand
	movl %eax, %ecx
	movl %ebx, %eax
	cpuid
	decl %edi
	jnz 1b
	movl $msg_cpuid, %esi
	movl $5000, %eax
	call report
	movl $2000, %edi
2:	call rand
	movl %eax, %ebx			/* pointers: anywhere, unaligned */
	call rand
	movl %eax, %ecx
	call rand
	movl %eax, %edx
	call rand
	andl $0x7f, %eax		/* hypercall numbers, known and unknown */
	movl $3f, resume_eip
	vmcall
3:	movl $0, resume_eip
	decl %edi
	jnz 2b
	movl $msg_vmcall, %esi
	movl $2000, %eax
	call report
	/* Directed: xen_version sub-commands that write to a guest pointer,
	 * with pointers Keel must check (hvm/vmx/hypercall.c). */
	xorl %ebp, %ebp			/* cases with the expected result */
	movl $vmcall_cases, %edi
4:	cmpl $0, 4(%edi)
	je 6f
	movl $17, %eax			/* xen_version */
	movl 4(%edi), %ebx		/* sub-command */
	movl (%edi), %ecx		/* pointer */
	movl $5f, resume_eip
	vmcall
5:	movl $0, resume_eip
	cmpl 8(%edi), %eax
	jne 7f
	incl %ebp
	jmp 8f
7:	pushl %eax			/* name the case that went wrong */
	movl $msg_vmcall_bad, %esi
	call puts32
	movl (%edi), %eax
	call puthex32
	movl $msg_vmcall_got, %esi
	call puts32
	popl %eax
	call puthex32
	movl $msg_crlf, %esi
	call puts32
8:	addl $12, %edi
	jmp 4b
6:	cmpl $0x65656b2d, 0x10ff9	/* "-kee": the copy across a page boundary */
	jne 9f
	cmpw $0x006c, 0x10ffd		/* "l", NUL */
	jne 9f
	incl %ebp
9:	movl $msg_vmcall_ptr, %esi
	movl %ebp, %eax
	call report
	/* XSETBV, which Keel emulates once CR4.OSXSAVE is set (CPUID offers
	 * XSAVE on this CPU model): three writes the architecture forbids
	 * (XCR0 without x87, AVX without SSE, XCR1) must each raise #GP, and
	 * a valid one must reach XCR0, as XGETBV then shows. */
	movl exc_count + 13 * 4, %ebp
	movl $30f, resume_eip
	movl %cr4, %eax
	orl $1 << 18, %eax		/* CR4.OSXSAVE */
	movl %eax, %cr4
30:	movl $31f, resume_eip
	xorl %ecx, %ecx			/* XCR0 */
	xorl %edx, %edx
	xorl %eax, %eax			/* x87 bit clear */
	xsetbv
31:	movl $32f, resume_eip
	xorl %ecx, %ecx
	xorl %edx, %edx
	movl $5, %eax			/* x87 and AVX without SSE */
	xsetbv
32:	movl $33f, resume_eip
	movl $1, %ecx			/* XCR1: not writable */
	xorl %edx, %edx
	movl $1, %eax
	xsetbv
33:	movl $34f, resume_eip
	xorl %ecx, %ecx
	xorl %edx, %edx
	movl $3, %eax			/* x87 and SSE: valid */
	xsetbv
	xorl %ecx, %ecx
	xgetbv
	movl %eax, xcr0_read
	xorl %ecx, %ecx
	xorl %edx, %edx
	movl $1, %eax
	xsetbv
34:	movl $0, resume_eip
	movl %cr4, %eax
	andl $~(1 << 18), %eax
	movl %eax, %cr4
	movl exc_count + 13 * 4, %eax
	subl %ebp, %eax
	movl $msg_xsetbv, %esi
	call report
	movl xcr0_read, %eax
	movl $msg_xgetbv, %esi
	call report
	movl exc_count + 6 * 4, %ebp	/* #UDs before the VMX instructions */
	movl $vmx_area, %ebx
	movl $10f, resume_eip
	vmxon (%ebx)
10:	movl $11f, resume_eip
	vmptrld (%ebx)
11:	movl $12f, resume_eip
	vmclear (%ebx)
12:	movl $13f, resume_eip
	movl $0x4400, %eax
	vmread %eax, %ecx
13:	movl $14f, resume_eip
	vmwrite %ecx, %eax
14:	movl $15f, resume_eip
	movl $1, %eax
	invept (%ebx), %eax
15:	movl $16f, resume_eip
	invvpid (%ebx), %eax
16:	movl $17f, resume_eip
	vmlaunch
17:	movl $18f, resume_eip
	vmresume
18:	movl $19f, resume_eip
	vmxoff
19:	movl $msg_vmx_ud, %esi
	movl exc_count + 6 * 4, %eax
	subl %ebp, %eax
	call report
	/* RDTSCP, when CPUID offers it, returns this vCPU's IA32_TSC_AUX. */
	movl $0x80000001, %eax
	cpuid
	testl $1 << 27, %edx
	jz 22f
	movl $0xc0000103, %ecx		/* IA32_TSC_AUX */
	movl $1234567, %eax
	xorl %edx, %edx
	movl $23f, resume_eip
	wrmsr
23:	movl $0, resume_eip
	rdtscp
	movl %ecx, %eax
	movl $msg_tsc_aux, %esi
	call report
	jmp done
22:	movl $msg_no_rdtscp, %esi
	xorl %eax, %eax
	call report
	jmp done

	.balign 4
vmcall_cases:			/* pointer, xen_version sub-command, result */
	.long 0x00010ff9, 1, 0		/* unaligned, across a page boundary: done */
	.long 0x01ffffe0, 3, -14	/* 64 bytes across the end of RAM: -EFAULT */
	.long 0xe0000000, 1, -14	/* the MMIO hole */
	.long 0xfffffff8, 1, -14	/* wraps at 4 GiB */
	.long 0x01fffffc, 6, -14	/* writes at pointer + 4: just above RAM */
	.long 0x01fffff8, 6, 0		/* the last 4 bytes of RAM */
	.long 0, 0, 0

/* --- df: double-fault storm ---------------------------------------------------- */
df:
	/* Gate 13 (#GP) not present: a #GP then raises #NP... which is a
	 * contributory fault during delivery of another: #DF. */
	andb $0x7f, IDT_BASE + 13 * 8 + 5
	movl $1000, %edi
1:	movl $2f, resume_eip
	movl $0x1234, %ecx		/* an MSR no CPU has: #GP */
	rdmsr
2:	decl %edi
	jnz 1b
	movl $msg_df, %esi
	movl exc_count + 8 * 4, %eax
	call report
	jmp done

/* --- triple fault --------------------------------------------------------------- */
triple:
	movl $msg_triple, %esi
	call puts32
	lidt idt_empty
	int3
	movl $msg_triple_back, %esi	/* not reached */
	call puts32
	jmp done

/* --- storm: interrupts as fast as the platform can make them -------------------- */
storm:
	/* PICs: ICW1-4, vectors 0x20/0x28, every line unmasked. */
	movb $0x11, %al
	outb %al, $0x20
	outb %al, $0xa0
	movb $0x20, %al
	outb %al, $0x21
	movb $0x28, %al
	outb %al, $0xa1
	movb $4, %al
	outb %al, $0x21
	movb $2, %al
	outb %al, $0xa1
	movb $1, %al
	outb %al, $0x21
	outb %al, $0xa1
	xorb %al, %al
	outb %al, $0x21
	outb %al, $0xa1
	/* PIT channel 0, mode 2, count 1 (the fastest it can be asked). */
	movb $0x34, %al
	outb %al, $0x43
	movb $1, %al
	outb %al, $0x40
	xorb %al, %al
	outb %al, $0x40
	movl $msg_storm_on, %esi
	call puts32
	sti
	movl $5, %ebx			/* report 5 times */
1:	movl irq_count, %edx
	addl $2000, %edx
2:	movb $0x20, %al			/* EOI spam between interrupts */
	outb %al, $0x20
	outb %al, $0xa0
	movl irq_count, %ecx
	cmpl %edx, %ecx
	jb 2b
	movl $msg_storm, %esi
	movl irq_count, %eax
	call report
	decl %ebx
	jnz 1b
	cli
	jmp done

/* --- ata: requests for sectors the disk does not have ----------------------------- */
#define ATA_CHUNK_BUF 0x1fff01
ata:
	xorl %ebp, %ebp			/* requests refused with ERR */
	movl $ata_requests, %ebx
1:	movl (%ebx), %eax		/* LBA28 */
	cmpl $0xffffffff, %eax
	je 4f
	movb 4(%ebx), %cl		/* count (0 = 256) */
	call ata_read_sectors
	testb $0x01, %al		/* ERR */
	jz 3f
	incl %ebp
3:	addl $8, %ebx
	jmp 1b
4:	movl $msg_ata, %esi
	movl %ebp, %eax
	call report
	/* A good read with REP INSW into a buffer at an odd address that runs
	 * across 2 MiB (a RAM chunk boundary in Keel): the word at 0x1fffff
	 * straddles it. Sector 1 is already at 0x7e00 (code, never written),
	 * so every byte can be compared. */
	movl $1, %eax			/* LBA 1 */
	movb $1, %cl
	call ata_read_sectors
	cld
	movl $ATA_CHUNK_BUF, %edi
	movl $256, %ecx
	movw $0x1f0, %dx
	rep insw
	xorl %eax, %eax			/* bytes equal to the sector at 0x7e00 */
	xorl %ecx, %ecx
6:	movb ATA_CHUNK_BUF(%ecx), %dl
	cmpb 0x7e00(%ecx), %dl
	jne 7f
	incl %eax
7:	incl %ecx
	cmpl $512, %ecx
	jb 6b
	movl $msg_ata_chunk, %esi
	call report
	jmp done

	.balign 4
ata_requests:			/* LBA, count: the disk is 4 MiB = 8192 sectors */
	.long 8192, 1
	.long 0x0fffffff, 1
	.long 8191, 2			/* starts inside, ends outside */
	.long 8000, 0			/* 256 sectors from 8000 */
	.long 0xffffffff, 0

/* READ SECTORS (PIO, LBA28) of CL sectors (0 = 256) from LBA EAX on the
 * primary channel's device 0; returns once BSY clears, with the status
 * register in AL. Clobbers EDX. */
ata_read_sectors:
	pushl %eax
	movw $0x1f6, %dx
	shrl $24, %eax
	andb $0x0f, %al
	orb $0xe0, %al			/* LBA, device 0, LBA 27:24 */
	outb %al, %dx
	movw $0x1f2, %dx
	movb %cl, %al
	outb %al, %dx
	popl %eax
	movw $0x1f3, %dx		/* LBA 7:0, 15:8, 23:16 */
	outb %al, %dx
	shrl $8, %eax
	incw %dx
	outb %al, %dx
	shrl $8, %eax
	incw %dx
	outb %al, %dx
	movw $0x1f7, %dx
	movb $0x20, %al			/* READ SECTORS */
	outb %al, %dx
1:	inb %dx, %al
	testb $0x80, %al		/* BSY */
	jnz 1b
	ret

/* --- flood: more console output than any console can take ------------------------ */
#define FLOOD_BUF 0x10000
#define FLOOD_LINES 32
flood_fill:
	/* 32 lines of 64 bytes: "hostile: flood (debug port) ....\n" */
	movl $FLOOD_BUF, %edi
	movl $FLOOD_LINES, %ebx
1:	leal 63(%edi), %ecx		/* where this line's newline goes */
	movl $msg_flood_line, %esi
2:	lodsb
	testb %al, %al
	jz 4f
	stosb
	jmp 2b
4:	cmpl %ecx, %edi
	jae 5f
	movb $'.', %al
	stosb
	jmp 4b
5:	movb $'\n', %al
	stosb
	decl %ebx
	jnz 1b
	ret

flood_block:			/* 2 KiB of lines to port 0xE9 */
	cld
	movl $FLOOD_BUF, %esi
	movl $FLOOD_LINES * 64, %ecx
	movw $0xe9, %dx
	rep outsb
	ret

flood:
	call flood_fill
	xorl %ebp, %ebp
6:	call flood_block
	incl %ebp
	movl $msg_flood, %esi
	movl %ebp, %eax
	call report
	jmp 6b

/* --- logflood: every Keel log line a guest can cause, forever -------------------- */
#define APIC_ICR_LO 0xfee00300
#define APIC_ICR_HI 0xfee00310
logflood:
	/* First, IA32_TSC: a write must move this vCPU's TSC, RDTSC included
	 * (not only RDMSR): 2^60 read back as high dword 0x10000000. */
	xorl %eax, %eax
	movl $0x10000000, %edx
	movl $0x10, %ecx
	wrmsr
	rdtsc
	movl %edx, %ebx
	movl $0x10, %ecx
	rdmsr
	pushl %edx
	movl $msg_tsc_rdtsc, %esi
	call puts32
	movl %ebx, %eax
	call puthex32
	movl $msg_tsc_rdmsr, %esi
	call puts32
	popl %eax
	call puthex32
	movl $msg_crlf, %esi
	call puts32
	xorl %ebp, %ebp			/* rounds */
1:	/* WRMSR IA32_APIC_BASE with another base (enabled, BSP): Keel keeps
	 * the APIC where it is and says so. */
	movl $0x1b, %ecx
	movl $0xfee01900, %eax
	xorl %edx, %edx
	wrmsr
	/* The hypercall-page MSR pointing outside RAM: #GP. */
	movl $0x40000000, %ecx
	movl $0x80000000, %eax
	xorl %edx, %edx
	movl $2f, resume_eip
	wrmsr
2:	movl $0, resume_eip
	/* hvmloader's "jump to the BIOS" timeline mark, again. */
	movl $0x4b450001, %eax
	movl $2, %ebx
	vmcall
	/* An INIT IPI to APIC id 0: its own, the boot vCPU. */
	movl $0, %eax
	movl %eax, APIC_ICR_HI
	movl $0x4500, %eax		/* INIT, level assert, physical */
	movl %eax, APIC_ICR_LO
	/* No "cli; hlt woken by a self-NMI": an NMI the guest sends itself
	 * is delivered at once, or right after the IRET of the NMI handler
	 * it was sent from (the architecture, and Keel since it uses NMI
	 * windows), never into a HLT that follows, so a lone vCPU cannot
	 * wake itself from cli; hlt to do it again. */
	incl %ebp
	testl $1023, %ebp
	jnz 1b
	movl $msg_logflood, %esi
	movl %ebp, %eax
	call report
	jmp 1b


/* --- pageperm: CPL-3 string I/O into pages it may not write --------------------- */
#define PP_PD 0x3000
#define PP_PT 0x4000
#define PP_TSS 0x5000
#define PP_GDT 0x5800
#define PP_SUPER 0x300000	/* supervisor-only */
#define PP_RO 0x301000		/* user, read-only */
#define PP_USER 0x302000	/* user, writable: the control */
pageperm:
	/* 32-bit paging, the first 4 MiB identity-mapped as user pages,
	 * except one supervisor-only and one read-only page. */
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	orl $7, %eax			/* P, R/W, U/S */
	movl %eax, PP_PT(,%ecx,4)
	incl %ecx
	cmpl $1024, %ecx
	jb 1b
	movl $PP_SUPER | 3, PP_PT + (PP_SUPER >> 12) * 4	/* P, R/W */
	movl $PP_RO | 5, PP_PT + (PP_RO >> 12) * 4		/* P, U/S */
	movl $PP_PT | 7, PP_PD
	movl $PP_PD, %eax
	movl %eax, %cr3
	movl %cr0, %eax
	orl $0x80010000, %eax		/* PG, WP */
	movl %eax, %cr0
	/* A GDT with ring-3 segments and a TSS (ring-0 stack for exceptions
	 * taken at CPL 3); selectors 0x08 and 0x10 stay what the IDT uses. */
	movl $0, PP_GDT
	movl $0, PP_GDT + 4
	movl $0x0000ffff, PP_GDT + 0x08
	movl $0x00cf9a00, PP_GDT + 0x0c
	movl $0x0000ffff, PP_GDT + 0x10
	movl $0x00cf9200, PP_GDT + 0x14
	movl $0x0000ffff, PP_GDT + 0x18	/* 0x1b: code, DPL 3 */
	movl $0x00cffa00, PP_GDT + 0x1c
	movl $0x0000ffff, PP_GDT + 0x20	/* 0x23: data, DPL 3 */
	movl $0x00cff200, PP_GDT + 0x24
	movl $(PP_TSS << 16) | 103, PP_GDT + 0x28	/* 0x28: 32-bit TSS */
	movl $0x00008900, PP_GDT + 0x2c
	movw $0x2f, pp_gdt_desc
	movl $PP_GDT, pp_gdt_desc + 2
	lgdt pp_gdt_desc
	movl $PP_TSS, %edi
	movl $26, %ecx
	xorl %eax, %eax
	cld
	rep stosl
	movl $0x7000, PP_TSS + 4	/* ESP0 */
	movl $SEL_DATA, PP_TSS + 8	/* SS0 */
	movw $104, PP_TSS + 102		/* no I/O bitmap: IOPL decides */
	movw $0x28, %ax
	ltr %ax
	/* To CPL 3 with IOPL 3, so it may use IN/OUT. */
	pushl $0x23
	pushl $0x6800
	pushfl
	orl $0x3000, (%esp)
	pushl $0x1b
	pushl $pageperm_user
	iret

pageperm_user:
	movw $0x23, %ax
	movw %ax, %ds
	movw %ax, %es
	movl $PP_SUPER, %edi
	movl $msg_pp_super, %esi
	call pageperm_try
	movl $PP_RO, %edi
	movl $msg_pp_ro, %esi
	call pageperm_try
	movl $PP_USER, %edi
	movl $msg_pp_user, %esi
	call pageperm_try
	movl $msg_done, %esi
	call puts32
	movb $33, %al			/* end through isa-debug-exit: status 67 */
	outb %al, $0xf4
1:	jmp 1b

/* REP INSB of 16 bytes from port 0x80 at %edi; prints %esi then either the
 * #PF (error code, CR2) or that nothing faulted (ECX left). */
pageperm_try:
	movl exc_count + 14 * 4, %ebx
	movl $0, last_cr2
	pushl %esi
	movl $16, %ecx
	movw $0x80, %dx
	movl $1f, resume_eip
	rep insb
1:	movl $0, resume_eip
	popl %esi
	pushl %ecx
	call puts32
	popl %ecx
	cmpl exc_count + 14 * 4, %ebx
	je 2f
	movl $msg_pp_pf, %esi
	call puts32
	movl last_error, %eax
	call puthex32
	movl $msg_pp_cr2, %esi
	call puts32
	movl last_cr2, %eax
	call puthex32
	jmp 3f
2:	movl $msg_pp_nofault, %esi
	call puts32
	movl %ecx, %eax
	call puthex32
3:	movl $msg_crlf, %esi
	call puts32
	ret

/* --- reboot: a fresh start (and console share?) every time ---------------------- */
reboot:
	call flood_fill
	movl $8, %ebp			/* 16 KiB, then reset */
1:	call flood_block
	decl %ebp
	jnz 1b
	movl $msg_reboot, %esi
	call puts32
	movb $0x06, %al			/* RST_CPU | SYS_RST */
	movw $0xcf9, %dx
	outb %al, %dx
	movl $msg_reboot_back, %esi
	call puts32
	jmp done

/* --- gpa: one access outside guest RAM ------------------------------------------- */
#ifdef GPA
#if defined(GPA_exec)
#define GPA_VERB "executing at"
#elif defined(GPA_write)
#define GPA_VERB "writing to"
#else
#define GPA_VERB "reading"
#endif
gpa:
#ifdef GPA_TOP
	movl $0x80000008, %eax
	cpuid
	movzbl %al, %ecx		/* MAXPHYADDR, > 32 on any CPU with VMX */
	subl $32, %ecx
	movl $1, %eax
	shll %cl, %eax
	decl %eax
	movl %eax, gpa_hi		/* 2^MAXPHYADDR - 2 MiB */
	movl $0xffe00000, gpa_lo
#endif
	movl $msg_gpa, %esi
	call puts32
	movl gpa_hi, %eax
	call puthex32
	movl gpa_lo, %eax
	call puthex32
	movl $msg_crlf, %esi
	call puts32
#if !defined(GPA_TOP) && (GPA >> 32) == 0
	movl $GPA & 0xffffffff, %ebx
#else
	/* PAE paging: the first 2 MiB identity-mapped (this code), and the
	 * 2 MiB page holding GPA at linear 0xC0000000. An address above the
	 * CPU's physical-address width sets reserved bits in the PDE: then the
	 * guest's own page walk faults (#PF, RSVD) before EPT is consulted. */
	movl $PAE_PD0 | 1, PAE_PDPT
	movl $0, PAE_PDPT + 4
	movl $PAE_PD3 | 1, PAE_PDPT + 24
	movl $0, PAE_PDPT + 28
	movl $0x83, PAE_PD0		/* P, RW, PS: 0-2 MiB */
	movl $0, PAE_PD0 + 4
	movl gpa_lo, %eax
	andl $0xffe00000, %eax
	orl $0x83, %eax
	movl %eax, PAE_PD3
	movl gpa_hi, %eax
	movl %eax, PAE_PD3 + 4
	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl $PAE_PDPT, %eax
	movl %eax, %cr3
	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	movl gpa_lo, %ebx
	andl $0x1fffff, %ebx
	addl $0xc0000000, %ebx
#endif
	movl $gpa_refused, resume_eip	/* only the guest's own #PF comes here */
#if defined(GPA_exec)
	call *%ebx
#elif defined(GPA_write)
	movl $0x6b65656c, (%ebx)
#else
	movl (%ebx), %eax
#endif
	movl $msg_gpa_back, %esi	/* not reached */
	call puts32
	jmp done
gpa_refused:
	movl $msg_gpa_pf, %esi
	movl last_vector, %eax
	call report
	movl $msg_gpa_pf_err, %esi
	movl last_error, %eax
	call report
	jmp done
#endif

/* --- isolation: fill and scan ------------------------------------------------------- */
/* The signature: four xorshift32 values from a fixed seed, so both guests
 * compute the same 16 bytes and neither image contains them. */
#define SIGNATURE_SEED 0x6b65656c	/* fixed, so both guests agree */
make_signature:
	pushl %eax
	movl rng, %eax
	pushl %eax
	movl $SIGNATURE_SEED, rng
	call rand
	movl %eax, signature
	call rand
	movl %eax, signature + 4
	call rand
	movl %eax, signature + 8
	call rand
	movl %eax, signature + 12
	popl %eax
	movl %eax, rng
	popl %eax
	ret

/* "hostile: isolation: signature from seed 0x...: 0x... 0x... 0x... 0x...",
 * as text: the 16 bytes themselves are never written anywhere but RAM. */
print_signature:
	movl $msg_sig, %esi
	call puts32
	movl $SIGNATURE_SEED, %eax
	call puthex32
	movl $msg_sig_colon, %esi
	call puts32
	xorl %ebx, %ebx
1:	movl $msg_sig_word, %esi
	call puts32
	movl signature(,%ebx,4), %eax
	call puthex32
	incl %ebx
	cmpl $4, %ebx
	jb 1b
	movl $msg_crlf, %esi
	call puts32
	ret

fill:
	call make_signature
	call print_signature
	movl $0x100000, %edi
1:	movl $signature, %esi
	movl $4, %ecx
	rep movsl
	cmpl $RAM_END - 0x100000, %edi
	jb 1b
	movl $msg_filled, %esi
	movl $(RAM_END - 0x200000) / 16, %eax
	call report
	jmp done

scan:
	call make_signature
	call print_signature
	movl $signature, %esi		/* the positive control */
	movl $PLANT, %edi
	movl $4, %ecx
	rep movsl
	movl $3, %ebp
1:	xorl %ebx, %ebx			/* matches this pass */
	xorl %edi, %edi
2:	movl signature, %eax
	cmpl (%edi), %eax
	jne 3f
	movl signature + 4, %eax
	cmpl 4(%edi), %eax
	jne 3f
	movl signature + 8, %eax
	cmpl 8(%edi), %eax
	jne 3f
	movl signature + 12, %eax
	cmpl 12(%edi), %eax
	jne 3f
	cmpl $signature, %edi		/* its own copy to compare with */
	je 3f
	incl %ebx
	movl %edi, last_match
3:	addl $4, %edi
	cmpl $RAM_END - 12, %edi
	jb 2b
	movl $msg_scan, %esi
	movl %ebx, %eax
	call report
	movl $msg_scan_at, %esi
	movl last_match, %eax
	call report
	/* About a second of guest time between passes. */
	rdtsc
	movl %eax, %ecx
	addl $50000000, %ecx
4:	rdtsc
	subl %ecx, %eax
	js 4b
	decl %ebp
	jnz 1b
	movl $msg_scan_out, %esi
	movl $RAM_END, %eax
	call report
	movl RAM_END, %eax		/* Keel stops the guest here */
	movl $msg_gpa_back, %esi
	call puts32
	jmp done

/* --- exceptions and interrupts ----------------------------------------------------- */
.macro EXC vec, err
exc\vec:
	.if \err == 0
	pushl $0
	.endif
	pushl $\vec
	jmp exc_common
.endm
EXC 0,0; EXC 1,0; EXC 2,0; EXC 3,0; EXC 4,0; EXC 5,0; EXC 6,0; EXC 7,0
EXC 8,1; EXC 9,0; EXC 10,1; EXC 11,1; EXC 12,1; EXC 13,1; EXC 14,1; EXC 15,0
EXC 16,0; EXC 17,1; EXC 18,0; EXC 19,0

/* Counts the exception; resumes at resume_eip if the attack set one (and
 * clears it), else reports an unexpected exception and stops. */
exc_common:
	pushl %eax
	movl 8(%esp), %eax		/* error code (0 if none) */
	movl %eax, last_error
	movl %cr2, %eax			/* the address of a #PF */
	movl %eax, last_cr2
	movl 4(%esp), %eax		/* vector */
	movl %eax, last_vector
	incl exc_count(,%eax,4)
	movl resume_eip, %eax
	testl %eax, %eax
	jz 1f
	movl %eax, 12(%esp)		/* the frame's EIP */
	movl $0, resume_eip
	popl %eax
	addl $8, %esp
	iret
1:	movl $msg_unexpected, %esi
	call puts32
	movl 4(%esp), %eax
	call putdec32
	movl $msg_at, %esi
	call puts32
	movl 12(%esp), %eax
	call puthex32
	movl $msg_crlf, %esi
	call puts32
	cli
2:	hlt
	jmp 2b

irq_master:
	incl irq_count
	pushl %eax
	movb $0x20, %al
	outb %al, $0x20
	popl %eax
	iret
irq_slave:
	incl irq_count
	pushl %eax
	movb $0x20, %al
	outb %al, $0xa0
	outb %al, $0x20
	popl %eax
	iret

idt_init:
	xorl %ecx, %ecx
1:	cmpl $20, %ecx
	jb 2f
	movl $exc_unexpected_stub, %eax
	cmpl $0x20, %ecx
	jb 3f
	movl $irq_master, %eax
	cmpl $0x28, %ecx
	jb 3f
	movl $irq_slave, %eax
	cmpl $0x30, %ecx
	jb 3f
	movl $exc_unexpected_stub, %eax
	jmp 3f
2:	movl exc_table(,%ecx,4), %eax
3:	movw %ax, IDT_BASE(,%ecx,8)
	movw $SEL_CODE, IDT_BASE + 2(,%ecx,8)
	movw $0x8e00, IDT_BASE + 4(,%ecx,8)
	shrl $16, %eax
	movw %ax, IDT_BASE + 6(,%ecx,8)
	incl %ecx
	cmpl $64, %ecx
	jb 1b
	ret

exc_unexpected_stub:
	pushl $0
	pushl $99
	jmp exc_common

/* --- 32-bit console --------------------------------------------------------------- */
#include "com1_32.inc"

	.balign 4
exc_table:
	.long exc0, exc1, exc2, exc3, exc4, exc5, exc6, exc7, exc8, exc9
	.long exc10, exc11, exc12, exc13, exc14, exc15, exc16, exc17, exc18, exc19
idt_desc:
	.word 64 * 8 - 1
	.long IDT_BASE
idt_empty:
	.word 0
	.long 0
rng:		.long 0
resume_eip:	.long 0
irq_count:	.long 0
exc_count:	.fill 100, 4, 0
vmx_area:	.fill 16, 1, 0
signature:	.fill 16, 1, 0
last_match:	.long 0
last_vector:	.long 0
last_error:	.long 0
last_cr2:	.long 0
xcr0_read:	.long 0
pp_gdt_desc:	.fill 6, 1, 0
#ifdef GPA
gpa_lo:		.long GPA & 0xffffffff
gpa_hi:		.long GPA >> 32
#endif

msg_hello:	.asciz "\r\nhostile: attack " ATTACK_NAME ", seed 0x"
msg_prefix:	.asciz "hostile: "
msg_crlf:	.asciz "\r\n"
msg_done:	.asciz "hostile: done\r\n"
msg_ports:	.asciz "ports: random accesses done: "
msg_outs:	.asciz "ports: rep outsb inside RAM done, bytes: "
msg_ins:	.asciz "ports: rep insb across the end of RAM at "
msg_ins_back:	.asciz "ports: rep insb across the end of RAM came back "
msg_msr_random:	.asciz "msr: #GP for random RDMSR/WRMSR (of 2000): "
msg_msr_prefix:	.asciz "hostile: msr: write of 0x00008000ffffffff to MSR 0x"
msg_msr_gp:	.asciz ": #GP\r\n"
msg_msr_ok:	.asciz ": accepted\r\n"
msg_cpuid:	.asciz "cpu: random CPUIDs done: "
msg_vmcall:	.asciz "cpu: random VMCALLs done: "
msg_vmcall_ptr:	.asciz "cpu: VMCALL pointer cases with the expected result (of 7): "
msg_vmcall_bad:	.asciz "hostile: cpu: VMCALL pointer case 0x"
msg_vmcall_got:	.asciz " returned 0x"
msg_vmx_ud:	.asciz "cpu: VMX instructions that raised #UD (of 10): "
msg_xsetbv:	.asciz "cpu: XSETBV with a forbidden value, #GP (of 3): "
msg_xgetbv:	.asciz "cpu: XCR0 after XSETBV 3: "
msg_tsc_aux:	.asciz "cpu: RDTSCP after WRMSR TSC_AUX 1234567, ECX: "
msg_no_rdtscp:	.asciz "cpu: RDTSCP not offered: "
msg_df:		.asciz "df: double faults taken (of 1000): "
msg_triple:	.asciz "hostile: triple fault now\r\n"
msg_triple_back: .asciz "hostile: still running after the triple fault\r\n"
msg_storm_on:	.asciz "hostile: storm: PIC unmasked, PIT count 1, EOI spam\r\n"
msg_storm:	.asciz "storm: interrupts taken: "
msg_ata:	.asciz "ata: bad requests refused with ERR (of 4): "
msg_ata_chunk:	.asciz "ata: REP INSW across 2 MiB at 0x1fff01, bytes matching the sector (of 512): "
msg_flood_line:	.asciz "hostile: flood (debug port) "
msg_flood:	.asciz "flood: blocks of 2 KiB sent to port 0xE9: "
msg_logflood:	.asciz "logflood: rounds of Keel-logged actions: "
msg_pp_super:	.asciz "hostile: pageperm: CPL3 rep insb into a supervisor-only page:"
msg_pp_ro:	.asciz "hostile: pageperm: CPL3 rep insb into a read-only page:"
msg_pp_user:	.asciz "hostile: pageperm: CPL3 rep insb into a user page:"
msg_pp_pf:	.asciz " #PF, error code 0x"
msg_pp_cr2:	.asciz ", CR2 0x"
msg_pp_nofault:	.asciz " no fault, ECX 0x"
msg_tsc_rdtsc:	.asciz "hostile: tsc: after WRMSR IA32_TSC 2^60, RDTSC high 0x"
msg_tsc_rdmsr:	.asciz ", RDMSR high 0x"
#ifdef GPA
msg_gpa:	.asciz "hostile: " GPA_VERB " guest-physical 0x"
#endif
msg_reboot:	.asciz "hostile: reboot: 16 KiB printed, resetting through port 0xCF9\r\n"
msg_reboot_back: .asciz "hostile: reboot: the reset did not happen\r\n"
msg_gpa_back:	.asciz "hostile: the access outside RAM came back\r\n"
msg_gpa_pf:	.asciz "gpa: the CPU refused the address itself, exception: "
msg_gpa_pf_err:	.asciz "gpa: error code: "
msg_sig:	.asciz "hostile: isolation: signature from seed 0x"
msg_sig_colon:	.asciz ":"
msg_sig_word:	.asciz " 0x"
msg_filled:	.asciz "isolation: RAM from 1 MiB filled with the signature, copies: "
msg_scan:	.asciz "isolation: scan: matches of the signature in all of RAM: "
msg_scan_at:	.asciz "isolation: scan: last match at: "
msg_scan_out:	.asciz "isolation: reading just above RAM at "
msg_unexpected:	.asciz "hostile: unexpected exception "
msg_at:		.asciz " at EIP 0x"

	.org IMAGE_SECTORS * 512 - 1
	.byte 0
