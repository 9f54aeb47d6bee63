/*
 * Hardware task switches, emulated (include/keel/task_switch.h). The steps
 * and their order follow SDM Vol. 3A 7.3 ("Task Switching") and the
 * conditions of its table 7-1: every check that can fail is made before
 * the first write to guest memory where the SDM makes it before the
 * switch, so a fault then is the old task's; once TR is loaded, faults
 * belong to the new task.
 */
#include <keel/task_switch.h>
#include <x86/cpu.h>

/* The 32-bit TSS (SDM Vol. 3A figure 7-2). */
#define TSS_LINK 0x00
#define TSS_CR3 0x1c
#define TSS_EIP 0x20
#define TSS_EFLAGS 0x24
#define TSS_GPRS 0x28 /* EAX ... EDI */
#define TSS_SEGS 0x48 /* ES, CS, SS, DS, FS, GS */
#define TSS_LDT 0x60
#define TSS32_SIZE 0x68
#define TSS32_MIN_LIMIT 0x67

/* Descriptor fields, as bits of the 8-byte descriptor. */
#define DESC_ACCESSED (1ULL << 40)
#define DESC_TSS_BUSY (1ULL << 41)
#define DESC_PRESENT (1ULL << 47)
#define DESC_DPL(d) ((unsigned)((d) >> 45) & 3)
#define DESC_SYSTEM_TYPE(d) ((unsigned)((d) >> 40) & 0x1f) /* type with S: S = 0 for system descriptors */

/* System descriptor types (SDM Vol. 3A table 3-2). */
#define SYS_LDT 0x2
#define SYS_TSS16_AVAILABLE 0x1
#define SYS_TSS16_BUSY 0x3
#define SYS_TSS32_AVAILABLE 0x9
#define SYS_TSS32_BUSY 0xb

/* VMX access rights (SDM Vol. 3C 25.4.1). */
#define AR_TYPE_ACCESSED 0x1u
#define AR_TYPE_WRITABLE 0x2u /* data; "readable" for code */
#define AR_TYPE_CONFORMING 0x4u /* code */
#define AR_TYPE_CODE 0x8u
#define AR_S (1u << 4)
#define AR_DPL(ar) (((ar) >> 5) & 3)
#define AR_PRESENT (1u << 7)
#define AR_DB (1u << 14)
#define AR_VM86 0xf3u /* every segment in virtual-8086 mode (SDM 26.3.1.2) */

uint32_t desc_ar(uint64_t d) { return (uint32_t)((d >> 40) & 0xff) | (uint32_t)(((d >> 52) & 0xf) << 12); }

uint32_t desc_base(uint64_t d) { return (uint32_t)(((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24)); }

uint32_t desc_limit(uint64_t d)
{
	uint32_t limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16));
	return (d & (1ULL << 55)) ? (limit << 12) | 0xfff : limit;
}

static uint32_t get32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Where a descriptor is: 0, 1 when the selector is beyond its table's
 * limit (or names an unusable LDT), -1 when the read faulted. */
static int desc_address(const struct ts_state *s, uint16_t sel, uint32_t *la)
{
	uint32_t base = s->gdt_base, limit = s->gdt_limit;
	if (sel & 4) {
		if (s->seg[TS_LDTR].ar & TS_AR_UNUSABLE)
			return 1;
		base = s->seg[TS_LDTR].base;
		limit = s->seg[TS_LDTR].limit;
	}
	if ((uint32_t)(sel & ~7u) + 7 > limit)
		return 1;
	*la = base + (sel & ~7u);
	return 0;
}

static int read_desc(const struct ts_state *s, const struct ts_memory *mem, uint16_t sel, uint64_t *d, uint32_t *la)
{
	int r = desc_address(s, sel, la);
	if (r)
		return r;
	return mem->read(mem->ctx, *la, d, 8) ? 0 : -1;
}

static struct ts_result fault(unsigned vector, uint32_t error, bool switched)
{
	return (struct ts_result){ TASK_SWITCH_FAULT, vector, error, switched };
}

static struct ts_result memory_failed(bool switched) { return (struct ts_result){ .status = TASK_SWITCH_MEMORY, .switched = switched }; }

/* Load one of the new task's segment registers in protected mode (SDM 7.3
 * step 12 and table 7-1): CS and SS must be present and usable at the new
 * CPL, data segments readable and within their privilege. */
static struct ts_result load_segment(struct ts_state *s, const struct ts_memory *mem, enum ts_seg_reg r, uint16_t sel,
				     unsigned cpl, uint32_t ext)
{
	uint32_t err = (sel & 0xfffc) | ext;
	if (!(sel & ~3u)) {
		if (r == TS_CS || r == TS_SS)
			return fault(X86_EXC_TS, err, true);
		s->seg[r] = (struct ts_seg){ sel, 0, 0, TS_AR_UNUSABLE };
		return (struct ts_result){ .status = TASK_SWITCH_DONE };
	}
	uint64_t d;
	uint32_t la;
	int got = read_desc(s, mem, sel, &d, &la);
	if (got < 0)
		return memory_failed(true);
	if (got > 0)
		return fault(X86_EXC_TS, err, true);
	uint32_t ar = desc_ar(d), type = ar & 0xf;
	unsigned dpl = AR_DPL(ar), rpl = sel & 3;
	if (!(ar & AR_S))
		return fault(X86_EXC_TS, err, true);
	bool code = type & AR_TYPE_CODE;
	switch (r) {
	case TS_CS:
		if (!code || ((type & AR_TYPE_CONFORMING) ? dpl > cpl : dpl != cpl))
			return fault(X86_EXC_TS, err, true);
		if (!(ar & AR_PRESENT))
			return fault(X86_EXC_NP, err, true);
		break;
	case TS_SS:
		if (code || !(type & AR_TYPE_WRITABLE) || rpl != cpl || dpl != cpl)
			return fault(X86_EXC_TS, err, true);
		if (!(ar & AR_PRESENT))
			return fault(X86_EXC_SS, err, true);
		break;
	default:
		if (code && !(type & AR_TYPE_WRITABLE))
			return fault(X86_EXC_TS, err, true); /* execute-only code */
		if ((!code || !(type & AR_TYPE_CONFORMING)) && dpl < (cpl > rpl ? cpl : rpl))
			return fault(X86_EXC_TS, err, true);
		if (!(ar & AR_PRESENT))
			return fault(X86_EXC_NP, err, true);
		break;
	}
	if (!(d & DESC_ACCESSED)) {
		/* The CPU marks a descriptor accessed when it loads it. */
		uint8_t access = (uint8_t)(d >> 40) | 1;
		if (!mem->write(mem->ctx, la + 5, &access, 1))
			return memory_failed(true);
	}
	s->seg[r] = (struct ts_seg){ sel, desc_base(d), desc_limit(d), ar | AR_TYPE_ACCESSED };
	return (struct ts_result){ .status = TASK_SWITCH_DONE };
}

static struct ts_result load_ldt(struct ts_state *s, const struct ts_memory *mem, uint16_t sel, uint32_t ext)
{
	uint32_t err = (sel & 0xfffc) | ext;
	if (!(sel & ~3u)) {
		s->seg[TS_LDTR] = (struct ts_seg){ sel, 0, 0, TS_AR_UNUSABLE };
		return (struct ts_result){ .status = TASK_SWITCH_DONE };
	}
	if (sel & 4)
		return fault(X86_EXC_TS, err, true); /* an LDT's descriptor is in the GDT */
	uint64_t d;
	uint32_t la;
	int got = read_desc(s, mem, sel, &d, &la);
	if (got < 0)
		return memory_failed(true);
	if (got > 0 || DESC_SYSTEM_TYPE(d) != SYS_LDT || !(d & DESC_PRESENT))
		return fault(X86_EXC_TS, err, true);
	s->seg[TS_LDTR] = (struct ts_seg){ sel, desc_base(d), desc_limit(d), desc_ar(d) };
	return (struct ts_result){ .status = TASK_SWITCH_DONE };
}

static bool set_busy(const struct ts_state *s, const struct ts_memory *mem, uint16_t sel, bool busy)
{
	uint64_t d;
	uint32_t la;
	if (read_desc(s, mem, sel & ~4u, &d, &la))
		return false;
	d = busy ? d | DESC_TSS_BUSY : d & ~DESC_TSS_BUSY;
	return mem->write(mem->ctx, la, &d, 8);
}

/* Steps 8-9: the old task's dynamic state into its TSS. */
static bool save_old_task(const struct ts_state *s, const struct ts_memory *mem, uint32_t eflags)
{
	uint32_t base = s->seg[TS_TR].base;
	uint32_t words[2 + 8];
	words[0] = s->eip;
	words[1] = eflags;
	for (unsigned i = 0; i < 8; i++)
		words[2 + i] = s->gpr[i];
	if (!mem->write(mem->ctx, base + TSS_EIP, words, sizeof(words)))
		return false;
	for (unsigned i = TS_ES; i <= TS_GS; i++)
		if (!mem->write(mem->ctx, base + TSS_SEGS + 4 * i, &s->seg[i].sel, 2))
			return false;
	return true;
}

struct ts_result task_switch(struct ts_state *s, const struct ts_request *req, const struct ts_memory *mem)
{
	const bool iret = req->source == TS_FROM_IRET, nests = req->source == TS_FROM_CALL || req->source == TS_FROM_GATE;
	/* Faults raised while delivering an external event carry EXT (SDM 6.13). */
	const uint32_t ext = req->source == TS_FROM_GATE && !req->sw_interrupt;
	const unsigned cpl = AR_DPL(s->seg[TS_SS].ar);
	const uint32_t sel_err = (req->sel & 0xfffc) | ext;
	const unsigned bad_tss = iret ? X86_EXC_TS : X86_EXC_GP;

	if (req->source == TS_FROM_GATE && req->sw_interrupt) {
		/* INT n reaches a task gate only from a CPL its DPL allows. */
		uint64_t gate;
		if (req->vector * 8 + 7 > s->idt_limit)
			return fault(X86_EXC_GP, req->vector * 8 + 2, false);
		if (!mem->read(mem->ctx, s->idt_base + req->vector * 8, &gate, 8))
			return memory_failed(false);
		if (cpl > DESC_DPL(gate))
			return fault(X86_EXC_GP, req->vector * 8 + 2, false);
	}

	/* Steps 1-4: the new TSS's descriptor, from the GDT only. */
	if (req->sel & 4)
		return fault(bad_tss, sel_err, false);
	uint64_t desc;
	uint32_t desc_la;
	int got = read_desc(s, mem, req->sel, &desc, &desc_la);
	if (got < 0)
		return memory_failed(false);
	if (got > 0)
		return fault(bad_tss, sel_err, false);
	unsigned type = DESC_SYSTEM_TYPE(desc);
	if (type == SYS_TSS16_AVAILABLE || type == SYS_TSS16_BUSY)
		return (struct ts_result){ .status = TASK_SWITCH_UNSUPPORTED };
	if (type != (iret ? SYS_TSS32_BUSY : SYS_TSS32_AVAILABLE))
		return fault(bad_tss, sel_err, false);
	if (!(desc & DESC_PRESENT))
		return fault(X86_EXC_NP, sel_err, false);
	if (desc_limit(desc) < TSS32_MIN_LIMIT)
		return fault(X86_EXC_TS, sel_err, false);
	/* A far JMP or CALL: the TSS's DPL must allow CPL and RPL. */
	if ((req->source == TS_FROM_JMP || req->source == TS_FROM_CALL) &&
	    (cpl > DESC_DPL(desc) || (req->sel & 3u) > DESC_DPL(desc)))
		return fault(X86_EXC_GP, sel_err, false);
	if ((s->seg[TS_TR].ar & 0xf) != SYS_TSS32_BUSY)
		return (struct ts_result){ .status = TASK_SWITCH_UNSUPPORTED }; /* leaving a 16-bit TSS */
	if (s->seg[TS_TR].limit < TSS32_MIN_LIMIT)
		return fault(X86_EXC_TS, (s->seg[TS_TR].sel & 0xfffc) | ext, false);

	uint8_t next[TSS32_SIZE];
	const uint32_t next_base = desc_base(desc);
	if (!mem->read(mem->ctx, next_base, next, sizeof(next)))
		return memory_failed(false);

	/* Steps 7-9: the old task leaves (not busy after JMP and IRET; its
	 * saved EFLAGS without NT after IRET). */
	const uint16_t old_sel = s->seg[TS_TR].sel;
	if (!nests && !set_busy(s, mem, old_sel, false))
		return memory_failed(false);
	if (!save_old_task(s, mem, iret ? s->eflags & ~(uint32_t)RFLAGS_NT : s->eflags))
		return memory_failed(false);

	/* Steps 10-11: the new task, linked back to the old one when nested,
	 * busy unless it is the one an IRET returns to (already busy). */
	uint32_t eflags = get32(next + TSS_EFLAGS);
	if (nests) {
		eflags |= RFLAGS_NT;
		if (!mem->write(mem->ctx, next_base + TSS_LINK, &old_sel, 2))
			return memory_failed(false);
	}
	if (!iret && !set_busy(s, mem, req->sel, true))
		return memory_failed(false);

	/* The commit point: TR names the new task; faults from here on are its own. */
	s->seg[TS_TR] = (struct ts_seg){ req->sel, next_base, desc_limit(desc), desc_ar(desc | DESC_TSS_BUSY) };
	s->cr0 |= CR0_TS;
	s->dr7 &= ~(uint32_t)DR7_LOCAL_ENABLES;
	if (s->cr0 & CR0_PG)
		s->cr3 = get32(next + TSS_CR3);
	s->eip = get32(next + TSS_EIP);
	s->eflags = eflags | RFLAGS_RESERVED1;
	for (unsigned i = 0; i < 8; i++)
		s->gpr[i] = get32(next + TSS_GPRS + 4 * i);
	uint16_t sels[TS_GS + 1];
	for (unsigned i = TS_ES; i <= TS_GS; i++)
		sels[i] = s->seg[i].sel = get16(next + TSS_SEGS + 4 * i);

	struct ts_result r = load_ldt(s, mem, get16(next + TSS_LDT), ext);
	if (r.status != TASK_SWITCH_DONE)
		return r;
	if (s->eflags & RFLAGS_VM) {
		for (unsigned i = TS_ES; i <= TS_GS; i++)
			s->seg[i] = (struct ts_seg){ sels[i], (uint32_t)sels[i] << 4, 0xffff, AR_VM86 };
	} else {
		/* CS first: its RPL is the new CPL the others are checked against. */
		static const enum ts_seg_reg order[] = { TS_CS, TS_SS, TS_ES, TS_DS, TS_FS, TS_GS };
		unsigned new_cpl = sels[TS_CS] & 3;
		for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			r = load_segment(s, mem, order[i], sels[order[i]], new_cpl, ext);
			if (r.status != TASK_SWITCH_DONE)
				return r;
		}
	}

	if (req->source == TS_FROM_GATE && req->has_error) {
		/* The exception's error code goes on the new task's stack. */
		uint32_t esp = s->gpr[4] - 4;
		if (!(s->seg[TS_SS].ar & AR_DB))
			esp = (s->gpr[4] & 0xffff0000u) | (esp & 0xffff);
		uint32_t off = (s->seg[TS_SS].ar & AR_DB) ? esp : (esp & 0xffff);
		if (!mem->write(mem->ctx, s->seg[TS_SS].base + off, &req->error, 4))
			return memory_failed(true);
		s->gpr[4] = esp;
	}
	return (struct ts_result){ TASK_SWITCH_DONE, 0, 0, true };
}
