/*
 * regtest's exception entry: one stub per vector 0-31 pushes a zero error
 * code where the CPU pushes none, then the vector; isr_common saves the
 * general registers and calls regtest_trap(frame), which may change the
 * saved RIP (a test that expects the fault resumes past it).
 */
	.text
	.code64
.macro isr_stub vec
isr_\vec:
	/* The CPU pushes an error code for 8, 10-14, 17, 21, 29, 30. */
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
.endm

.irp v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	isr_stub \v
.endr

isr_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	movq %rsp, %rdi
	/* 16-byte stack alignment for the call: the frame is 9 + 2 + 5
	 * quadwords (the CPU aligns RSP to 16 before pushing its 5). */
	call regtest_trap
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
.irp v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad isr_\v
.endr
