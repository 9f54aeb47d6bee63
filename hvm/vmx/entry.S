/*
 * VM exit and VM entry.
 *
 * On a VM exit the CPU loads HOST_RSP, which points at a per-CPU slot
 * holding the current vCPU pointer (set by vmx_vcpu_load). We save the guest
 * GPRs into that vCPU, call vmx_exit_dispatch(vcpu) in C, and enter whatever
 * vCPU it returns: the same one, or another one the scheduler chose, whose
 * VMCS it has already made current. RSP, RIP and RFLAGS live in the VMCS.
 */
#include <keel/asm-offsets.h>

	.text
	.globl vmx_exit_entry
vmx_exit_entry:
	pushq %rax
	movq 8(%rsp), %rax		/* current vCPU */
	movq %rcx, VCPU_RCX(%rax)
	movq %rdx, VCPU_RDX(%rax)
	movq %rbx, VCPU_RBX(%rax)
	movq %rbp, VCPU_RBP(%rax)
	movq %rsi, VCPU_RSI(%rax)
	movq %rdi, VCPU_RDI(%rax)
	movq %r8, VCPU_R8(%rax)
	movq %r9, VCPU_R9(%rax)
	movq %r10, VCPU_R10(%rax)
	movq %r11, VCPU_R11(%rax)
	movq %r12, VCPU_R12(%rax)
	movq %r13, VCPU_R13(%rax)
	movq %r14, VCPU_R14(%rax)
	movq %r15, VCPU_R15(%rax)
	movq %cr2, %rbx
	movq %rbx, VCPU_CR2(%rax)
	popq %rbx
	movq %rbx, VCPU_RAX(%rax)
	movq $1, VCPU_LAUNCHED(%rax)
	/* RSP is now HOST_RSP (slot address, 16n+8): align for the C call. */
	subq $8, %rsp
	xorl %ebp, %ebp
	movq %rax, %rdi
	cld
	call vmx_exit_dispatch
	movq %rax, %rdi
	/* fall through */

/* void vmx_enter(struct vcpu *v): noreturn. */
	.globl vmx_enter
vmx_enter:
	pushq %rdi			/* kept for the failure path */
	movq VCPU_CR2(%rdi), %rax
	movq %rax, %cr2
	movq VCPU_RAX(%rdi), %rax
	movq VCPU_RCX(%rdi), %rcx
	movq VCPU_RDX(%rdi), %rdx
	movq VCPU_RBX(%rdi), %rbx
	movq VCPU_RBP(%rdi), %rbp
	movq VCPU_RSI(%rdi), %rsi
	movq VCPU_R8(%rdi), %r8
	movq VCPU_R9(%rdi), %r9
	movq VCPU_R10(%rdi), %r10
	movq VCPU_R11(%rdi), %r11
	movq VCPU_R12(%rdi), %r12
	movq VCPU_R13(%rdi), %r13
	movq VCPU_R14(%rdi), %r14
	movq VCPU_R15(%rdi), %r15
	cmpq $0, VCPU_LAUNCHED(%rdi)
	movq VCPU_RDI(%rdi), %rdi	/* mov leaves the flags alone */
	je 1f
	vmresume
	jmp 2f
1:	vmlaunch
2:	/* Only reached if the entry failed: CF=1 no valid VMCS, ZF=1 error
	 * number in VM_INSTRUCTION_ERROR. The guest registers are still in
	 * the vCPU structure, untouched. */
	pushfq
	popq %rsi
	popq %rdi
	andq $-16, %rsp
	call vmx_entry_failed		/* (vcpu, rflags) -> next vCPU */
	movq %rax, %rdi
	jmp vmx_enter
