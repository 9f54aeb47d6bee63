/*
 * Benchmark boot sector (like kvm-unit-tests' vmexit test): times single
 * instructions that exit to the hypervisor, with RDTSC right before and
 * right after each one, N times each, and prints the median and 99th
 * percentile in TSC ticks:
 *   "bench: <kind> median M p99 P n N"
 * Kinds: nop (no instruction: the cost of the measurement itself), cpuid
 * (leaf 0), in (port 0x61), vmcall (an unknown hypercall, -ENOSYS), and hlt:
 * PIT channel 0 is armed for 1 ms (mode 0), then STI; HLT until its IRQ 0;
 * reported is the time from arming to resuming minus 1 ms (measured against
 * PIT channel 2 first), i.e. how late the wake-up comes.
 * First, the exit rate (tools/bench's "exit scaling": several copies at once
 * on as many host CPUs): CPUID leaf 0, then IN from port 0x61, each in a
 * loop for RATE_WINDOWS windows of 2^RATE_SHIFT TSC ticks, counting the
 * round trips that complete in each window:
 *   "bench: rate <kind> window W count N"
 * The windows are aligned on the TSC's value (W is TSC >> RATE_SHIFT;
 * under Keel a guest reads the host's TSC, which all host CPUs share), so
 * copies running at once count in the same windows and are compared window
 * by window, whenever each copy got there.
 * Ends with "bench: done".
 */
#define N 512
#define N_HLT 64
#define SAMPLES_SEG 0x1000	/* 0x10000: N dwords */
#define IMAGE_SECTORS 3
#define RATE_SHIFT 20		/* windows of 1 Mi ticks: 21 ms at 50 M ticks/s */
#define RATE_WINDOWS 16
#define IMAGE_NAME "bench"

#include "boot_sector.inc"

/* Times setup + insn (up to two instructions, possibly none) N times into
 * the samples at ES:0, each sample between two RDTSCs with nothing else in
 * between (a call would add its own cost to every sample), and reports them
 * as kind. */
.macro time_exit kind, setup, insn
	movw $N, %bp
	xorw %di, %di
2:	rdtsc
	movl %eax, %esi
	\setup
	\insn
	rdtsc
	subl %esi, %eax
	stosl
	decw %bp
	jnz 2b
	movw $\kind, %si
	movw $N, %cx
	call report
.endm

/* Counts setup + insn per TSC window (see the top), RATE_WINDOWS windows
 * from the next window boundary, into (window, count) pairs at ES:0, and
 * prints them. The loop reads the TSC after each round trip: that RDTSC
 * (and the count) is part of every iteration. CPUID clobbers EAX-EDX, so
 * the count lives in ESI and the window in memory. */
.macro rate_phase kind, setup, insn
	xorw %di, %di
	movw $RATE_WINDOWS, %bp
	call rate_align
	xorl %esi, %esi
2:	\setup
	\insn
	incl %esi
	rdtsc
	shrdl $RATE_SHIFT, %edx, %eax
	cmpl rate_window, %eax
	je 2b
	movl %eax, %ebx
	movl rate_window, %eax
	stosl
	movl %esi, %eax
	stosl
	movl %ebx, rate_window
	xorl %esi, %esi
	decw %bp
	jnz 2b
	movw $\kind, %si
	call rate_report
.endm

	.code16
	.globl _start
_start:
	boot_sector_enter
	call com1_init
	call boot_load_rest
	jmp main

#include "com1.inc"
#include "disk_load.inc"
	boot_sector_signature

main:
	movw $SAMPLES_SEG, %ax
	movw %ax, %es
	movw $irq0, 0x20	/* IVT entry 8: IRQ 0 under SeaBIOS's PIC setup */
	movw $0, 0x22

	/* The rates first: the PIT's channel 2 is still unprogrammed, as
	 * for the timed IN below (the HLT part programs it), and Keel's
	 * statistics keep the last exits, which are then the timed ones. */
	rate_phase k_cpuid, "xorl %eax, %eax", cpuid
	rate_phase k_in, "inb $0x61, %al"

	time_exit k_nop
	time_exit k_cpuid, "xorl %eax, %eax", cpuid	/* leaf 0 */
	time_exit k_in, "inb $0x61, %al"
	time_exit k_vmcall, "movl $0x7f, %eax", vmcall	/* unknown: -ENOSYS */

	/* hlt: first, TSC ticks per ms against PIT channel 2 (10 ms). */
	inb $0x61, %al
	andb $0xfc, %al
	orb $1, %al		/* gate 2 on, speaker off */
	outb %al, $0x61
	movb $0xb0, %al		/* channel 2, lo/hi, mode 0 */
	outb %al, $0x43
	movb $(11932 & 0xff), %al
	outb %al, $0x42
	movb $(11932 >> 8), %al
	outb %al, $0x42
	rdtsc
	movl %eax, %esi
3:	inb $0x61, %al
	testb $0x20, %al	/* OUT 2 */
	jz 3b
	rdtsc
	subl %esi, %eax
	xorl %edx, %edx
	movl $10, %ebx
	divl %ebx
	movl %eax, ticks_per_ms
	movw $N_HLT, %bp
	xorw %di, %di
4:	movb $0x30, %al		/* channel 0, lo/hi, mode 0 */
	outb %al, $0x43
	movb $(1193 & 0xff), %al
	outb %al, $0x40
	movb $(1193 >> 8), %al
	outb %al, $0x40		/* counting starts now */
	rdtsc
	movl %eax, %esi
	sti
	hlt
	cli
	rdtsc
	subl %esi, %eax
	subl ticks_per_ms, %eax
	jns 5f
	xorl %eax, %eax
5:	stosl
	decw %bp
	jnz 4b
	movw $k_hlt, %si
	movw $N_HLT, %cx
	call report
	movw $msg_done, %si
	call puts
6:	cli
	hlt
	jmp 6b

irq0:
	pushw %ax
	movb $0x20, %al
	outb %al, $0x20
	popw %ax
	iret

/* Sorts the %cx samples at es:0 (insertion sort) and prints
 * "bench: <%si> median M p99 P n N". */
report:
	pushw %cx
	movw $1, %bx
1:	cmpw %cx, %bx
	jae 4f
	movw %bx, %di
	shlw $2, %di
	movl %es:(%di), %eax
2:	testw %di, %di
	jz 3f
	movl %es:-4(%di), %edx
	cmpl %eax, %edx
	jbe 3f
	movl %edx, %es:(%di)
	subw $4, %di
	jmp 2b
3:	movl %eax, %es:(%di)
	incw %bx
	jmp 1b
4:	pushw %si
	movw $msg_bench, %si
	call puts
	popw %si
	call puts
	movw $msg_median, %si
	call puts
	popw %cx
	movw %cx, %bx
	shrw $1, %bx
	shlw $2, %bx
	movl %es:(%bx), %eax
	call putdec32
	movw $msg_p99, %si
	call puts
	movw %cx, %ax
	movw $99, %dx
	mulw %dx
	movw $100, %bx
	divw %bx
	movw %ax, %bx
	shlw $2, %bx
	movl %es:(%bx), %eax
	call putdec32
	movw $msg_n, %si
	call puts
	movzwl %cx, %eax
	call putdec32
	movw $crlf, %si
	call puts
	ret

/* Waits for the TSC to enter a new window; rate_window is that window. */
rate_align:
	rdtsc
	shrdl $RATE_SHIFT, %edx, %eax
	movl %eax, %ebx
1:	rdtsc
	shrdl $RATE_SHIFT, %edx, %eax
	cmpl %ebx, %eax
	je 1b
	movl %eax, rate_window
	ret

/* Prints the RATE_WINDOWS (window, count) pairs at es:0 for kind %si. */
rate_report:
	xorw %di, %di
	movw $RATE_WINDOWS, %bp
1:	pushw %si
	movw $msg_rate, %si
	call puts
	popw %si
	pushw %si
	call puts
	movw $msg_window, %si
	call puts
	movl %es:(%di), %eax
	call putdec32
	movw $msg_count, %si
	call puts
	movl %es:4(%di), %eax
	call putdec32
	movw $crlf, %si
	call puts
	popw %si
	addw $8, %di
	decw %bp
	jnz 1b
	ret

putdec32:			/* %eax */
	pushw %cx
	xorw %cx, %cx
	movl $10, %ebx
1:	xorl %edx, %edx
	divl %ebx
	pushw %dx
	incw %cx
	testl %eax, %eax
	jnz 1b
2:	popw %ax
	addb $'0', %al
	call putc
	loop 2b
	popw %cx
	ret

ticks_per_ms: .long 0
rate_window: .long 0
msg_rate: .asciz "bench: rate "
msg_window: .asciz " window "
msg_count: .asciz " count "
msg_bench: .asciz "bench: "
k_nop:	.asciz "nop"
k_cpuid: .asciz "cpuid"
k_in:	.asciz "in"
k_vmcall: .asciz "vmcall"
k_hlt:	.asciz "hlt"
msg_median: .asciz " median "
msg_p99: .asciz " p99 "
msg_n:	.asciz " n "
msg_done: .asciz "bench: done\r\n"
crlf:	.asciz "\r\n"
	.org IMAGE_SECTORS * 512 - 1
	.byte 0
