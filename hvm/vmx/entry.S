/*
 * VM exit and VM entry.
 *
 * On a VM exit the CPU loads HOST_RSP, which points at a per-CPU slot
 * holding the current vCPU pointer (set by vmx_vcpu_load). We save the guest
 * GPRs into that vCPU, call vmx_exit_dispatch(vcpu) in C, and enter whatever
 * vCPU it returns: the same one, or another one the scheduler chose, whose
 * VMCS it has already made current. RSP, RIP and RFLAGS live in the VMCS.
 *
 * Speculation (include/keel/spec.h, docs/security.md): once saved, the
 * guest's values are cleared from every general register before any C
 * runs, and the return-stack buffer is overwritten, on every exit. Before
 * an entry, as the CPU needs it (spec_entry_flags): an L1D flush, or VERW.
 */
#include <keel/asm-offsets.h>
#include <keel/spec.h>
#include <x86/cpu.h>

/*
 * Overwrites the return-stack buffer with 32 entries that point at a
 * speculation trap, so a RET in Keel whose prediction underflows into the
 * guest's entries cannot go where the guest wanted. Each CALL pushes one
 * entry (and 8 bytes of stack, dropped at the end). Clobbers ECX (left 0).
 */
.macro rsb_overwrite
	movl $16, %ecx
.Lrsb_loop\@:
	call .Lrsb_call1\@
.Lrsb_trap1\@:
	pause
	lfence
	jmp .Lrsb_trap1\@
.Lrsb_call1\@:
	call .Lrsb_call2\@
.Lrsb_trap2\@:
	pause
	lfence
	jmp .Lrsb_trap2\@
.Lrsb_call2\@:
	decl %ecx
	jnz .Lrsb_loop\@
	addq $(32 * 8), %rsp
	lfence			/* no speculation past a mispredicted loop end */
.endm

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
	/* Nothing of the guest's stays in a register (RAX holds the vCPU
	 * pointer): C code cannot use a guest value speculatively. The 32-bit
	 * XORs clear the whole registers. */
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %ebp, %ebp
	xorl %esi, %esi
	xorl %edi, %edi
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	rsb_overwrite
	/* RSP is now HOST_RSP (slot address, 16n+8): align for the C call. */
	subq $8, %rsp
	movq %rax, %rdi
	cld
	call vmx_exit_dispatch
	movq %rax, %rdi
	/* fall through */

/* void vmx_enter(struct vcpu *v): noreturn. */
	.globl vmx_enter
vmx_enter:
	pushq %rdi			/* kept for the failure path */
	testl $SPEC_ENTRY_L1D_FLUSH, spec_entry_flags(%rip)
	jz 3f
	/* L1TF: nothing of Keel's (or another guest's) stays in L1D for the
	 * guest to read through a non-present PTE of its own. */
	movl $MSR_IA32_FLUSH_CMD, %ecx
	movl $1, %eax
	xorl %edx, %edx
	wrmsr
3:	movq VCPU_CR2(%rdi), %rax
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
	testl $SPEC_ENTRY_VERW, spec_entry_flags(%rip)
	jz 4f
	/* MDS: VERW with a writable data selector clears the CPU's store,
	 * fill and load buffers (on CPUs enumerating MD_CLEAR), as late as
	 * possible, so Keel's data in them does not reach the guest. It
	 * changes ZF only; the LAUNCHED test comes after it. */
	verw verw_selector(%rip)
4:	cmpq $0, VCPU_LAUNCHED(%rdi)
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

	.section .rodata
	.balign 2
verw_selector:
	.word SEL_KERNEL_DATA
