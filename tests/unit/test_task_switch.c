/* Hardware task switches as Keel emulates them (hvm/task_switch.c): JMP,
 * CALL and IRET between two 32-bit TSSes, a task gate with an error code,
 * and the faults of SDM Vol. 3A table 7-1 before and after the commit
 * point. Before, Keel stopped any guest that switched tasks. Memory is flat:
 * a linear address is an offset into mem[]. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/task_switch.h>
#include <x86/cpu.h>

#define MEM_SIZE 0x10000
static uint8_t mem[MEM_SIZE];

static bool rd(void *ctx, uint32_t la, void *buf, unsigned len)
{
	if ((uint64_t)la + len > MEM_SIZE)
		return false;
	memcpy(buf, mem + la, len);
	return true;
}

static bool wr(void *ctx, uint32_t la, const void *buf, unsigned len)
{
	if ((uint64_t)la + len > MEM_SIZE)
		return false;
	memcpy(mem + la, buf, len);
	return true;
}

static const struct ts_memory flat = { rd, wr, NULL };

static uint32_t get32(uint32_t la) { uint32_t v; memcpy(&v, mem + la, 4); return v; }
static uint16_t get16(uint32_t la) { uint16_t v; memcpy(&v, mem + la, 2); return v; }
static void put32(uint32_t la, uint32_t v) { memcpy(mem + la, &v, 4); }
static void put64(uint32_t la, uint64_t v) { memcpy(mem + la, &v, 8); }
static uint64_t get64(uint32_t la) { uint64_t v; memcpy(&v, mem + la, 8); return v; }

#define GDT 0x1000
#define TSS_A 0x2000
#define TSS_B 0x2100
#define LDT 0x3000

/* Selectors of the test GDT. */
enum {
	SEL_CODE = 0x08, SEL_DATA = 0x10, SEL_TSS_A = 0x18, SEL_TSS_B = 0x20, SEL_LDT = 0x28,
	SEL_CODE3 = 0x30 | 3, SEL_DATA3 = 0x38 | 3, SEL_TSS16 = 0x40, SEL_TSS_ABSENT = 0x48, SEL_TSS_SHORT = 0x50,
};

static uint64_t sys_desc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, bool present)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)type << 40) |
	       ((uint64_t)dpl << 45) | ((uint64_t)present << 47) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)(base >> 24) << 56);
}

/* B's initial state: a flat DPL-0 task at 0x5000 with its stack at 0x9000. */
static void write_tss_b(uint32_t eflags, uint16_t cs, uint16_t ss, uint16_t ds, uint16_t ldt)
{
	memset(mem + TSS_B, 0, 0x68);
	put32(TSS_B + 0x1c, 0x7000);
	put32(TSS_B + 0x20, 0x5000);
	put32(TSS_B + 0x24, eflags);
	for (unsigned i = 0; i < 8; i++)
		put32(TSS_B + 0x28 + 4 * i, 0x100 + i);
	put32(TSS_B + 0x28 + 4 * 4, 0x9000); /* ESP */
	put32(TSS_B + 0x48, ds);	       /* ES */
	put32(TSS_B + 0x4c, cs);
	put32(TSS_B + 0x50, ss);
	put32(TSS_B + 0x54, ds);
	put32(TSS_B + 0x60, ldt);
}

/* A running, B available; the CPU in flat 32-bit protected mode at CPL 0. */
static struct ts_state setup(void)
{
	memset(mem, 0, sizeof(mem));
	put64(GDT + 0x08, 0x00cf9b000000ffffULL);
	put64(GDT + 0x10, 0x00cf93000000ffffULL);
	put64(GDT + 0x18, sys_desc(TSS_A, 0x67, 0xb, 0, true));
	put64(GDT + 0x20, sys_desc(TSS_B, 0x67, 0x9, 0, true));
	put64(GDT + 0x28, sys_desc(LDT, 0xf, 0x2, 0, true));
	put64(GDT + 0x30, 0x00cffb000000ffffULL);
	put64(GDT + 0x38, 0x00cff3000000ffffULL);
	put64(GDT + 0x40, sys_desc(0x2200, 0x2b, 0x1, 0, true));
	put64(GDT + 0x48, sys_desc(0x2300, 0x67, 0x9, 0, false));
	put64(GDT + 0x50, sys_desc(0x2400, 0x40, 0x9, 0, true));
	put64(LDT + 0x00, 0x00409300a0000fffULL); /* data at 0xa000, limit 0xfff */
	write_tss_b(0x2, SEL_CODE, SEL_DATA, SEL_DATA, 0);
	struct ts_state s = {
		.eip = 0x1234, .eflags = 0x202, .cr0 = CR0_PE, .cr3 = 0x6000, .dr7 = 0x455,
		.gdt_base = GDT, .gdt_limit = 0x57, .idt_base = 0x4000, .idt_limit = 0x7ff,
	};
	for (unsigned i = 0; i < 8; i++)
		s.gpr[i] = 0xa0 + i;
	s.seg[TS_CS] = (struct ts_seg){ SEL_CODE, 0, 0xffffffff, 0xc09b };
	for (unsigned i = TS_ES; i <= TS_GS; i++)
		if (i != TS_CS)
			s.seg[i] = (struct ts_seg){ SEL_DATA, 0, 0xffffffff, 0xc093 };
	s.seg[TS_LDTR] = (struct ts_seg){ 0, 0, 0, TS_AR_UNUSABLE };
	s.seg[TS_TR] = (struct ts_seg){ SEL_TSS_A, TSS_A, 0x67, 0x8b };
	return s;
}

static bool busy(uint16_t sel) { return get64(GDT + (sel & ~7u)) & (1ULL << 41); }

static struct ts_result go(struct ts_state *s, uint16_t sel, enum ts_source src)
{
	struct ts_request req = { .sel = sel, .source = src };
	return task_switch(s, &req, &flat);
}

static void test_jmp(void **state)
{
	struct ts_state s = setup();
	struct ts_result r = go(&s, SEL_TSS_B, TS_FROM_JMP);
	assert_int_equal(r.status, TASK_SWITCH_DONE);
	/* The old task's state is in its TSS; it is no longer busy. */
	assert_int_equal(get32(TSS_A + 0x20), 0x1234);
	assert_int_equal(get32(TSS_A + 0x24), 0x202);
	assert_int_equal(get32(TSS_A + 0x28 + 3 * 4), 0xa3);
	assert_int_equal(get16(TSS_A + 0x4c), SEL_CODE);
	assert_false(busy(SEL_TSS_A));
	assert_true(busy(SEL_TSS_B));
	/* The new task runs: TR, registers, segments (marked accessed), CR0.TS. */
	assert_int_equal(s.seg[TS_TR].sel, SEL_TSS_B);
	assert_int_equal(s.seg[TS_TR].base, TSS_B);
	assert_int_equal(s.seg[TS_TR].ar & 0xf, 0xb);
	assert_int_equal(s.eip, 0x5000);
	assert_int_equal(s.eflags, 0x2);
	assert_int_equal(s.gpr[4], 0x9000);
	assert_int_equal(s.gpr[7], 0x107);
	assert_int_equal(s.seg[TS_CS].ar, 0xc09b);
	assert_int_equal(s.seg[TS_SS].limit, 0xffffffff);
	assert_true(s.seg[TS_FS].ar & TS_AR_UNUSABLE);
	assert_true(s.cr0 & CR0_TS);
	assert_int_equal(s.cr3, 0x6000); /* paging off: CR3 is not loaded */
	assert_int_equal(s.dr7, 0x400);  /* L0-L3, LE cleared */
	assert_int_equal(get16(TSS_B), 0); /* no back link */
}

static void test_call_then_iret(void **state)
{
	struct ts_state s = setup();
	s.cr0 |= CR0_PG;
	assert_int_equal(go(&s, SEL_TSS_B, TS_FROM_CALL).status, TASK_SWITCH_DONE);
	assert_true(s.eflags & RFLAGS_NT);
	assert_int_equal(get16(TSS_B), SEL_TSS_A);
	assert_true(busy(SEL_TSS_A));
	assert_true(busy(SEL_TSS_B));
	assert_int_equal(s.cr3, 0x7000);
	/* The nested task returns with IRET to the task in its back link. */
	s.eip = 0x5010;
	s.gpr[0] = 0x42;
	assert_int_equal(go(&s, get16(TSS_B), TS_FROM_IRET).status, TASK_SWITCH_DONE);
	assert_int_equal(s.seg[TS_TR].sel, SEL_TSS_A);
	assert_int_equal(s.eip, 0x1234);
	assert_int_equal(s.gpr[0], 0xa0);
	assert_false(busy(SEL_TSS_B));
	assert_true(busy(SEL_TSS_A));
	assert_int_equal(get32(TSS_B + 0x20), 0x5010);
	assert_int_equal(get32(TSS_B + 0x28), 0x42);
	assert_false(get32(TSS_B + 0x24) & RFLAGS_NT); /* saved without NT */
}

static void test_faults_before_the_switch(void **state)
{
	struct ts_state s = setup(), before = s;
	struct ts_result r;
	/* JMP to a busy TSS, IRET to an available one. */
	r = go(&s, SEL_TSS_A, TS_FROM_JMP);
	assert_int_equal(r.status, TASK_SWITCH_FAULT);
	assert_int_equal(r.fault_vector, X86_EXC_GP);
	assert_int_equal(r.fault_error, SEL_TSS_A);
	r = go(&s, SEL_TSS_B, TS_FROM_IRET);
	assert_int_equal(r.fault_vector, X86_EXC_TS);
	/* Not present, too short, beyond the GDT, in the LDT, not a TSS. */
	r = go(&s, SEL_TSS_ABSENT, TS_FROM_JMP);
	assert_int_equal(r.fault_vector, X86_EXC_NP);
	assert_int_equal(r.fault_error, SEL_TSS_ABSENT);
	r = go(&s, SEL_TSS_SHORT, TS_FROM_CALL);
	assert_int_equal(r.fault_vector, X86_EXC_TS);
	r = go(&s, 0x58, TS_FROM_JMP);
	assert_int_equal(r.fault_vector, X86_EXC_GP);
	r = go(&s, SEL_TSS_B | 4, TS_FROM_JMP);
	assert_int_equal(r.fault_vector, X86_EXC_GP);
	r = go(&s, SEL_DATA, TS_FROM_JMP);
	assert_int_equal(r.fault_vector, X86_EXC_GP);
	/* CPL 3 may not JMP to a DPL-0 TSS. */
	s.seg[TS_SS].ar = 0xc0f3;
	r = go(&s, SEL_TSS_B, TS_FROM_JMP);
	assert_int_equal(r.fault_vector, X86_EXC_GP);
	s.seg[TS_SS].ar = before.seg[TS_SS].ar;
	/* Nothing changed, in the CPU or in memory. */
	assert_false(r.switched);
	assert_memory_equal(&s, &before, sizeof(s));
	assert_true(busy(SEL_TSS_A));
	assert_false(busy(SEL_TSS_B));
	assert_int_equal(get32(TSS_A + 0x20), 0);
	/* 80286 TSSes are not emulated. */
	assert_int_equal(go(&s, SEL_TSS16, TS_FROM_JMP).status, TASK_SWITCH_UNSUPPORTED);
}

static void test_faults_in_the_new_task(void **state)
{
	/* A data segment for CS: #TS in the new task, which is already current. */
	struct ts_state s = setup();
	write_tss_b(0x2, SEL_DATA, SEL_DATA, SEL_DATA, 0);
	struct ts_result r = go(&s, SEL_TSS_B, TS_FROM_JMP);
	assert_int_equal(r.status, TASK_SWITCH_FAULT);
	assert_int_equal(r.fault_vector, X86_EXC_TS);
	assert_int_equal(r.fault_error, SEL_DATA);
	assert_true(r.switched);
	assert_int_equal(s.seg[TS_TR].sel, SEL_TSS_B);
	assert_int_equal(s.eip, 0x5000);
	/* A DPL-3 stack for CPL 0. */
	s = setup();
	write_tss_b(0x2, SEL_CODE, SEL_DATA3, SEL_DATA, 0);
	r = go(&s, SEL_TSS_B, TS_FROM_JMP);
	assert_int_equal(r.fault_vector, X86_EXC_TS);
	assert_int_equal(r.fault_error, SEL_DATA3 & ~3);
	/* A null SS. */
	s = setup();
	write_tss_b(0x2, SEL_CODE, 0, SEL_DATA, 0);
	r = go(&s, SEL_TSS_B, TS_FROM_JMP);
	assert_int_equal(r.fault_vector, X86_EXC_TS);
	/* An LDT selector that is not an LDT. */
	s = setup();
	write_tss_b(0x2, SEL_CODE, SEL_DATA, SEL_DATA, SEL_DATA);
	r = go(&s, SEL_TSS_B, TS_FROM_JMP);
	assert_int_equal(r.fault_vector, X86_EXC_TS);
	assert_int_equal(r.fault_error, SEL_DATA);
	/* A user task: CPL 3 from its CS, DS at DPL 0 refused. */
	s = setup();
	write_tss_b(0x2, SEL_CODE3, SEL_DATA3, SEL_DATA | 3, 0);
	r = go(&s, SEL_TSS_B, TS_FROM_JMP);
	assert_int_equal(r.fault_vector, X86_EXC_TS);
	assert_int_equal(r.fault_error, SEL_DATA);
}

static void test_ldt_and_user_task(void **state)
{
	struct ts_state s = setup();
	write_tss_b(0x2, SEL_CODE3, SEL_DATA3, 0x4 | 3, SEL_LDT);
	put64(LDT, 0x0040f300a0000fffULL); /* DPL-3 data at 0xa000 */
	assert_int_equal(go(&s, SEL_TSS_B, TS_FROM_JMP).status, TASK_SWITCH_DONE);
	assert_int_equal(s.seg[TS_LDTR].base, LDT);
	assert_int_equal(s.seg[TS_DS].base, 0xa000);
	assert_int_equal(s.seg[TS_DS].limit, 0xfff);
	assert_int_equal(s.seg[TS_CS].ar & 0x60, 0x60); /* DPL 3 */
	assert_true(get64(LDT) & (1ULL << 40));	/* marked accessed */
}

static void test_vm86_task(void **state)
{
	struct ts_state s = setup();
	write_tss_b(0x2 | RFLAGS_VM, 0x1000, 0x2000, 0x3000, 0);
	assert_int_equal(go(&s, SEL_TSS_B, TS_FROM_JMP).status, TASK_SWITCH_DONE);
	assert_int_equal(s.seg[TS_CS].base, 0x10000);
	assert_int_equal(s.seg[TS_SS].base, 0x20000);
	assert_int_equal(s.seg[TS_DS].limit, 0xffff);
	assert_int_equal(s.seg[TS_DS].ar, 0xf3);
}

static void test_task_gate(void **state)
{
	/* #GP through a task gate: the error code on the new task's stack. */
	struct ts_state s = setup();
	struct ts_request req = { .sel = SEL_TSS_B, .source = TS_FROM_GATE, .vector = 13, .has_error = true,
				  .error = 0x1234 };
	assert_int_equal(task_switch(&s, &req, &flat).status, TASK_SWITCH_DONE);
	assert_int_equal(s.gpr[4], 0x9000 - 4);
	assert_int_equal(get32(0x9000 - 4), 0x1234);
	assert_true(s.eflags & RFLAGS_NT);
	assert_int_equal(get16(TSS_B), SEL_TSS_A);
	/* An external event's fault carries EXT. */
	s = setup();
	req = (struct ts_request){ .sel = SEL_TSS_ABSENT, .source = TS_FROM_GATE, .vector = 8 };
	struct ts_result r = task_switch(&s, &req, &flat);
	assert_int_equal(r.fault_vector, X86_EXC_NP);
	assert_int_equal(r.fault_error, SEL_TSS_ABSENT | 1);
	/* INT n from CPL 3 through a DPL-0 task gate: #GP(vector * 8 + 2). */
	s = setup();
	s.seg[TS_SS].ar = 0xc0f3;
	put64(0x4000 + 0x40 * 8, ((uint64_t)SEL_TSS_B << 16) | (0x85ULL << 40));
	req = (struct ts_request){ .sel = SEL_TSS_B, .source = TS_FROM_GATE, .sw_interrupt = true, .vector = 0x40 };
	r = task_switch(&s, &req, &flat);
	assert_int_equal(r.fault_vector, X86_EXC_GP);
	assert_int_equal(r.fault_error, 0x40 * 8 + 2);
	assert_false(busy(SEL_TSS_B));
}

static void test_memory_fault(void **state)
{
	/* A TSS beyond memory: the accessor's fault is reported as such. */
	struct ts_state s = setup();
	put64(GDT + 0x20, sys_desc(MEM_SIZE - 0x10, 0x67, 0x9, 0, true));
	struct ts_result r = go(&s, SEL_TSS_B, TS_FROM_JMP);
	assert_int_equal(r.status, TASK_SWITCH_MEMORY);
	assert_false(r.switched);
	assert_true(busy(SEL_TSS_A));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jmp),
		cmocka_unit_test(test_call_then_iret),
		cmocka_unit_test(test_faults_before_the_switch),
		cmocka_unit_test(test_faults_in_the_new_task),
		cmocka_unit_test(test_ldt_and_user_task),
		cmocka_unit_test(test_vm86_task),
		cmocka_unit_test(test_task_gate),
		cmocka_unit_test(test_memory_fault),
	};
	return cmocka_run_group_tests_name("task switch", tests, NULL, NULL);
}
