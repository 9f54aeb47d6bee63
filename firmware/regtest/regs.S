/*
 * regs_load(const struct regfile *r, unsigned comp) puts r's values into
 * the registers of the components in comp; regs_store(struct regfile *r,
 * unsigned comp) reads them back into r. Offsets and component bits are
 * those of struct regfile in regtest.h (checked there by static asserts).
 *
 * Between a load and a store, regtest.c touches no x87/SSE/AVX register
 * (it is built with -mgeneral-regs-only) nor a debug register.
 */
#include "regfile.h"

	.text
	.code64

	.globl regs_load
regs_load:
	testl $COMP_X87, %esi
	jz 1f
	fninit
	fldcw RF_FCW(%rdi)
	/* ST0 ends up holding st[0]: push st[7] first. */
.irp i,7,6,5,4,3,2,1,0
	fldt RF_ST + \i * 16(%rdi)
.endr
1:	testl $COMP_SSE, %esi
	jz 2f
	ldmxcsr RF_MXCSR(%rdi)
2:	testl $COMP_AVX512, %esi
	jz 3f
.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 RF_ZMM + \i * 64(%rdi), %zmm\i
.endr
	testl $COMP_KQ, %esi
	jz 2f
.irp i,0,1,2,3,4,5,6,7
	kmovq RF_K + \i * 8(%rdi), %k\i
.endr
	jmp 5f
2:
.irp i,0,1,2,3,4,5,6,7
	kmovw RF_K + \i * 8(%rdi), %k\i
.endr
	jmp 5f
3:	testl $COMP_AVX, %esi
	jz 4f
.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu RF_ZMM + \i * 64(%rdi), %ymm\i
.endr
	jmp 5f
4:	testl $COMP_SSE, %esi
	jz 5f
.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu RF_ZMM + \i * 64(%rdi), %xmm\i
.endr
5:	testl $COMP_DR, %esi
	jz 6f
	movq RF_DR + 0(%rdi), %rax
	movq %rax, %db0
	movq RF_DR + 8(%rdi), %rax
	movq %rax, %db1
	movq RF_DR + 16(%rdi), %rax
	movq %rax, %db2
	movq RF_DR + 24(%rdi), %rax
	movq %rax, %db3
	movq RF_DR6(%rdi), %rax
	movq %rax, %db6
	movq RF_DR7(%rdi), %rax
	movq %rax, %db7
6:	testl $COMP_CR8, %esi
	jz 7f
	movq RF_CR8(%rdi), %rax
	movq %rax, %cr8
7:	ret

	.globl regs_store
regs_store:
	testl $(COMP_X87 | COMP_SSE), %esi
	jz 1f
	/* FCW, ST0-7, MXCSR (and XMM0-15, unused: stored below). */
	fxsave RF_FX(%rdi)
1:	testl $COMP_AVX512, %esi
	jz 3f
.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 %zmm\i, RF_ZMM + \i * 64(%rdi)
.endr
	testl $COMP_KQ, %esi
	jz 2f
.irp i,0,1,2,3,4,5,6,7
	kmovq %k\i, RF_K + \i * 8(%rdi)
.endr
	jmp 5f
2:
.irp i,0,1,2,3,4,5,6,7
	kmovw %k\i, RF_K + \i * 8(%rdi)
.endr
	jmp 5f
3:	testl $COMP_AVX, %esi
	jz 4f
.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu %ymm\i, RF_ZMM + \i * 64(%rdi)
.endr
	jmp 5f
4:	testl $COMP_SSE, %esi
	jz 5f
.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu %xmm\i, RF_ZMM + \i * 64(%rdi)
.endr
5:	testl $COMP_DR, %esi
	jz 6f
	movq %db0, %rax
	movq %rax, RF_DR + 0(%rdi)
	movq %db1, %rax
	movq %rax, RF_DR + 8(%rdi)
	movq %db2, %rax
	movq %rax, RF_DR + 16(%rdi)
	movq %db3, %rax
	movq %rax, RF_DR + 24(%rdi)
	movq %db6, %rax
	movq %rax, RF_DR6(%rdi)
	movq %db7, %rax
	movq %rax, RF_DR7(%rdi)
6:	testl $COMP_XSAVE, %esi
	jz 7f
	xorl %ecx, %ecx
	xgetbv
	movl %eax, RF_XCR0(%rdi)
	movl %edx, RF_XCR0 + 4(%rdi)
7:	testl $COMP_CR8, %esi
	jz 8f
	movq %cr8, %rax
	movq %rax, RF_CR8(%rdi)
8:	ret
