/* Emits the offsets entry.S needs as "->NAME value" lines; the Makefile
 * turns them into build/include/keel/asm-offsets.h. */
#include <keel/cpu.h>
#include <keel/vcpu.h>

#define CONST(name, value) __asm__ volatile("\n.ascii \"->" #name " %c0\"" ::"i"(value))
#define OFFSET(name, type, member) CONST(name, offsetof(type, member))

void asm_offsets(void);
void asm_offsets(void)
{
	OFFSET(VCPU_RAX, struct vcpu, regs.rax);
	OFFSET(VCPU_RCX, struct vcpu, regs.rcx);
	OFFSET(VCPU_RDX, struct vcpu, regs.rdx);
	OFFSET(VCPU_RBX, struct vcpu, regs.rbx);
	OFFSET(VCPU_RBP, struct vcpu, regs.rbp);
	OFFSET(VCPU_RSI, struct vcpu, regs.rsi);
	OFFSET(VCPU_RDI, struct vcpu, regs.rdi);
	OFFSET(VCPU_R8, struct vcpu, regs.r8);
	OFFSET(VCPU_R9, struct vcpu, regs.r9);
	OFFSET(VCPU_R10, struct vcpu, regs.r10);
	OFFSET(VCPU_R11, struct vcpu, regs.r11);
	OFFSET(VCPU_R12, struct vcpu, regs.r12);
	OFFSET(VCPU_R13, struct vcpu, regs.r13);
	OFFSET(VCPU_R14, struct vcpu, regs.r14);
	OFFSET(VCPU_R15, struct vcpu, regs.r15);
	OFFSET(VCPU_CR2, struct vcpu, regs.cr2);
	OFFSET(VCPU_LAUNCHED, struct vcpu, launched);
	CONST(SEL_KERNEL_DATA, GDT_DATA);
}
