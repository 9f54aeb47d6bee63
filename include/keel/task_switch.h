/*
 * Hardware task switches (SDM Vol. 3A 7.3), which VMX always hands to the
 * hypervisor (a "task switch" VM exit, SDM Vol. 3C 26.4.2): a far JMP or
 * CALL to a TSS or task gate, an IRET with EFLAGS.NT set, or an interrupt
 * or exception whose IDT entry is a task gate. 32-bit OSes use them for
 * #DF and NMI handlers that need a known-good stack.
 *
 * Pure: the processor state is a plain structure and guest memory is
 * reached through callbacks with linear addresses (the caller translates
 * them through the guest's paging), so the whole switch is host
 * unit-tested. Only 32-bit TSSes are emulated; a 16-bit TSS (80286) is
 * refused with TASK_SWITCH_UNSUPPORTED.
 */
#ifndef KEEL_TASK_SWITCH_H
#define KEEL_TASK_SWITCH_H

#include <keel/types.h>

/* ES, CS, SS, DS, FS, GS in the encoding's order, then LDTR and TR. */
enum ts_seg_reg { TS_ES, TS_CS, TS_SS, TS_DS, TS_FS, TS_GS, TS_LDTR, TS_TR, TS_NR_SEGS };

/* A segment register as VMX keeps it: access rights in the VMCS format
 * (descriptor bits 40-47 and 52-55, bit 16 "unusable"). */
struct ts_seg {
	uint16_t sel;
	uint32_t base, limit, ar;
};
#define TS_AR_UNUSABLE (1u << 16)

struct ts_state {
	uint32_t eip, eflags;
	uint32_t gpr[8]; /* EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI */
	struct ts_seg seg[TS_NR_SEGS];
	uint32_t cr0, cr3, dr7;
	uint32_t gdt_base, gdt_limit, idt_base, idt_limit;
};

/* What started the switch: the exit qualification's bits 31:30. */
enum ts_source { TS_FROM_CALL, TS_FROM_IRET, TS_FROM_JMP, TS_FROM_GATE };

/* Guest memory by linear address, always as a supervisor (the CPU's
 * implicit accesses to descriptor tables and TSSes). A callback returns
 * false when the access faults; it has recorded the fault for its caller. */
struct ts_memory {
	bool (*read)(void *ctx, uint32_t la, void *buf, unsigned len);
	bool (*write)(void *ctx, uint32_t la, const void *buf, unsigned len);
	void *ctx;
};

struct ts_request {
	uint16_t sel;          /* the new TSS's selector */
	enum ts_source source;
	bool sw_interrupt;     /* TS_FROM_GATE by INT n / INT3 / INTO: the gate's DPL is checked */
	unsigned vector;       /* TS_FROM_GATE: the IDT vector */
	bool has_error;        /* TS_FROM_GATE by an exception with an error code: pushed on the new stack */
	uint32_t error;
};

enum ts_status {
	TASK_SWITCH_DONE,
	TASK_SWITCH_FAULT,       /* raise fault_vector(fault_error); *s is the task to raise it in */
	TASK_SWITCH_MEMORY,      /* a memory callback failed; *s is the task it failed in */
	TASK_SWITCH_UNSUPPORTED, /* a 16-bit TSS */
};

struct ts_result {
	enum ts_status status;
	unsigned fault_vector;
	uint32_t fault_error;
	bool switched; /* the new task's state is in *s (the fault, if any, is the new task's) */
};

/* Switch *s to the task req->sel names, reading and writing the TSSes and
 * the GDT through mem. Before the commit point (SDM 7.3, step 10: loading
 * TR) a fault leaves *s as it was; after it, *s is the new task. */
struct ts_result task_switch(struct ts_state *s, const struct ts_request *req, const struct ts_memory *mem);

/* The VMX access-rights form of an 8-byte descriptor, and its base and
 * (granularity-expanded) limit. */
uint32_t desc_ar(uint64_t d);
uint32_t desc_base(uint64_t d);
uint32_t desc_limit(uint64_t d);

#endif
