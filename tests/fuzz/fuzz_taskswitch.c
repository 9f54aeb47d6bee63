/*
 * libFuzzer harness for the hardware task switch Keel emulates
 * (hvm/task_switch.c): the GDT, the LDT, both TSSes and the IDT are the
 * guest's memory, every byte of them the guest's choice, as is the state
 * the switch starts from.
 *
 * Input: the request (source, selector, vector, INT n or not, error code
 * or not) in 6 bytes; GDTR and IDTR limits (2 bytes each; the tables sit at
 * 0x1000 and 0x2000); the TR, LDTR and SS access rights and bases and TR's
 * selector; then the guest's memory: the rest of the input, a heap copy of
 * exactly its size, so that an access past its end is ASan's to see (the
 * switch must go through the accessor, which refuses it).
 *
 * Checked: the status is one of the four; a fault is #GP, #TS, #NP or #SS
 * with a selector's error code (the IDT bit only for an INT n's gate); no switch leaves the state exactly
 * as it was; a switch leaves TR naming the requested TSS, busy, CR0.TS set,
 * EFLAGS bit 1 set, the local DR7 enables clear; the same input twice gives
 * the same answer.
 *
 *   make build/fuzz/fuzz_taskswitch
 *   build/fuzz/fuzz_taskswitch -max_total_time=60 tests/fuzz/corpus/taskswitch
 */
#include <stdlib.h>
#include <string.h>

#include <keel/task_switch.h>
#include <x86/cpu.h>

#include "fuzz_input.h"

struct ram {
	uint8_t *p;
	uint32_t size;
};

static bool rd(void *ctx, uint32_t la, void *buf, unsigned len)
{
	const struct ram *r = ctx;
	if (la > r->size || r->size - la < len)
		return false;
	memcpy(buf, r->p + la, len);
	return true;
}

static bool wr(void *ctx, uint32_t la, const void *buf, unsigned len)
{
	struct ram *r = ctx;
	if (la > r->size || r->size - la < len)
		return false;
	memcpy(r->p + la, buf, len);
	return true;
}

static struct ts_result run(const struct ts_state *start, const struct ts_request *req, const uint8_t *mem,
			    uint32_t size, struct ts_state *s)
{
	struct ram r = { malloc(size ? size : 1), size };
	memcpy(r.p, mem, size);
	const struct ts_memory m = { rd, wr, &r };
	*s = *start;
	struct ts_result res = task_switch(s, req, &m);
	free(r.p);
	return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t how = fin_u8(&in);
	struct ts_request req = {
		.source = (enum ts_source)(how & 3),
		.sw_interrupt = how & 4,
		.has_error = how & 8,
		.sel = fin_u16(&in),
		.vector = fin_u8(&in),
		.error = fin_u16(&in),
	};
	struct ts_state start = {
		.eip = 0x1234, .eflags = 0x202, .cr0 = CR0_PE | ((how & 16) ? CR0_PG : 0), .cr3 = 0x3000,
		.dr7 = 0x4ff, .gdt_base = 0x1000, .idt_base = 0x2000,
	};
	start.gdt_limit = fin_u16(&in);
	start.idt_limit = fin_u16(&in);
	for (unsigned i = 0; i < 8; i++)
		start.gpr[i] = 0x100 * i;
	for (unsigned i = TS_ES; i <= TS_GS; i++)
		start.seg[i] = (struct ts_seg){ 0x10, 0, 0xffffffff, 0xc093 };
	start.seg[TS_CS] = (struct ts_seg){ 0x08, 0, 0xffffffff, 0xc09b };
	start.seg[TS_SS].ar = 0xc093 | ((uint32_t)(how >> 5 & 3) << 5); /* the CPL */
	start.seg[TS_TR] = (struct ts_seg){ fin_u16(&in), fin_u16(&in), fin_u16(&in), fin_u8(&in) };
	start.seg[TS_LDTR] = (struct ts_seg){ 0x28, fin_u16(&in), fin_u16(&in), fin_u8(&in) | ((how & 128) ? TS_AR_UNUSABLE : 0) };
	uint32_t mem_size = (uint32_t)in.left;

	struct ts_state s, again;
	struct ts_result r = run(&start, &req, in.p, mem_size, &s);
	struct ts_result r2 = run(&start, &req, in.p, mem_size, &again);
	require(r.status == r2.status && r.fault_vector == r2.fault_vector && r.fault_error == r2.fault_error);
	require(!memcmp(&s, &again, sizeof(s)));
	require(r.status <= TASK_SWITCH_UNSUPPORTED);
	if (r.status == TASK_SWITCH_FAULT) {
		require(r.fault_vector == X86_EXC_GP || r.fault_vector == X86_EXC_TS || r.fault_vector == X86_EXC_NP ||
			r.fault_vector == X86_EXC_SS);
		/* A selector with EXT, or the IDT entry of the INT n (IDT bit 1). */
		require(r.fault_error <= 0xffff);
		require(!(r.fault_error & 2) || (req.sw_interrupt && r.fault_error == req.vector * 8 + 2u));
	}
	if (!r.switched)
		require(!memcmp(&s, &start, sizeof(s)));
	if (r.switched) {
		require(s.seg[TS_TR].sel == req.sel);
		require((s.seg[TS_TR].ar & 0xf) == 0xb);
		require(s.cr0 & CR0_TS);
		require(s.eflags & RFLAGS_RESERVED1);
		require(!(s.dr7 & DR7_LOCAL_ENABLES));
		if (r.status == TASK_SWITCH_DONE && (s.eflags & RFLAGS_VM))
			for (unsigned i = TS_ES; i <= TS_GS; i++)
				require(s.seg[i].ar == 0xf3 && s.seg[i].base == (uint32_t)s.seg[i].sel << 4);
	}
	return 0;
}
