/*
 * I/O-instruction exits: decode the qualification (SDM table 28-5) and pass
 * the access to the guest's port registry. String forms (INS/OUTS, with or
 * without REP) are finished in as few exits as possible: a whole page worth
 * of elements per exit, through the device's string fast path when it has
 * one, so `rep insw` of a sector is one exit, not 256. An element that
 * straddles a page (an odd buffer address) is moved alone, in two pieces,
 * so a buffer may cross 2 MiB RAM chunks; anything outside RAM is refused.
 */
#include <keel/console.h>
#include <keel/guest.h>
#include <keel/io_string.h>
#include <keel/string.h>
#include <x86/cpu.h>

#include "exit.h"
#include "vmcs.h"
#include "vmx.h"

/* Upper bound on elements per exit, so a huge REP count cannot keep Keel
 * away from other vCPUs: the instruction simply restarts (REP string
 * instructions are restartable by design, SDM Vol. 2 "REP"). */
#define IO_STRING_MAX_PER_EXIT 8192u


static enum exit_action io_string_refuse(struct vcpu *v, bool in, uint64_t bytes, uint64_t gpa)
{
	struct guest *g = v->guest;
	guest_stop(g, "%s of %lu bytes at guest-physical %#lx crosses the end of its %lu MiB of RAM (RIP %#lx)",
		   in ? "INS" : "OUTS", bytes, gpa, g->ram_size >> 20, vmread(VMCS_GUEST_RIP));
	return EXIT_STOPPED;
}

/*
 * The guest-physical address of la for the instruction's access to memory
 * (INS writes it, OUTS reads it), as the CPU's own page walk would give it.
 * A page the guest may not access this way (not present, supervisor-only at
 * CPL 3, read-only, SMAP...) is the guest's #PF, injected here, with
 * RCX/RSI/RDI as the elements already moved left them: REP string
 * instructions are restartable (SDM Vol. 2, "REP"). Returns false when the
 * access cannot go on (*act says how the exit ends).
 */
static bool io_string_translate(struct vcpu *v, bool in, uint64_t la, uint64_t *gpa, enum exit_action *act)
{
	uint32_t pf;
	switch (vcpu_translate(v, la, in ? PAGE_WRITE : PAGE_READ, gpa, &pf)) {
	case PAGE_WALK_OK:
		return true;
	case PAGE_WALK_FAULT:
		vcpu_inject_page_fault(v, la, pf);
		*act = EXIT_RESUME;
		return false;
	default:
		guest_stop(v->guest, "%s at linear %#lx: the guest's page tables are outside its RAM (RIP %#lx)",
			   in ? "INS" : "OUTS", la, vmread(VMCS_GUEST_RIP));
		*act = EXIT_STOPPED;
		return false;
	}
}

/*
 * One element that straddles a page boundary or the address-size wrap:
 * each byte is translated on its own (the pages need not be adjacent, nor
 * in the same 2 MiB RAM chunk; with 16-bit addressing the byte after
 * offset 0xffff is at offset 0), and all are checked to be RAM before the
 * device is touched, so a refused INS does not consume data. Returns false
 * when the exit ends (*act); else *done is the elements moved (0 or 1).
 */
static bool io_string_straddling(struct vcpu *v, uint16_t port, unsigned size, bool in, uint64_t base, uint64_t off,
				 uint64_t amask, bool mode64, uint64_t *done, enum exit_action *act)
{
	struct guest *g = v->guest;
	uint8_t *p[4];
	for (unsigned i = 0; i < size; i++) {
		uint64_t gpa, la = io_string_linear(base, off + i, amask, mode64);
		if (!io_string_translate(v, in, la, &gpa, act))
			return false;
		p[i] = guest_phys_ptr(g, gpa, 1);
		if (!p[i]) {
			*act = io_string_refuse(v, in, size, gpa);
			return false;
		}
	}
	uint8_t elem[4];
	if (in) {
		*done = iobus_read_string(&g->io, port, size, elem, 1);
		if (*done && g->state == GUEST_RUNNING) /* else its RAM may be gone */
			for (unsigned i = 0; i < size; i++)
				*p[i] = elem[i];
	} else {
		for (unsigned i = 0; i < size; i++)
			elem[i] = *p[i];
		*done = iobus_write_string(&g->io, port, size, elem, 1);
	}
	return true;
}

/* Out of line: inlined, its frame and spills would be paid by every
 * single IN and OUT too (SeaBIOS's debug output is two thirds of a boot's
 * exits). */
__attribute__((noinline)) static enum exit_action io_string(struct vcpu *v, uint16_t port, unsigned size, bool in,
								bool rep)
{
	struct guest *g = v->guest;
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);
	unsigned asz = (info >> 7) & 7; /* 0: 16-bit, 1: 32-bit, 2: 64-bit addressing */
	uint64_t amask = asz == 0 ? 0xffffULL : asz == 1 ? 0xffffffffULL : ~0ULL;
	unsigned segr = in ? IO_SEG_ES : (info >> 15) & 7; /* INS always uses ES */
	if (segr > IO_SEG_GS)
		segr = IO_SEG_DS;
	/* 64-bit mode: IA-32e mode and CS.L (SDM 5.2.1). */
	bool mode64 = (vmread(VMCS_GUEST_IA32_EFER) & EFER_LMA) && (vmread(VMCS_GUEST_CS_AR) & (1u << 13));
	/* The instruction information's segment numbers are the encoding's,
	 * like vmcs_segs[] (and IO_SEG_*). */
	uint64_t base = io_string_seg_base(segr, vmread(vmcs_segs[segr].base), mode64);
	bool down = vmread(VMCS_GUEST_RFLAGS) & RFLAGS_DF;
	uint64_t *idx = in ? &v->regs.rdi : &v->regs.rsi;
	uint64_t count = rep ? (v->regs.rcx & amask) : 1;

	if (count == 0) {
		vcpu_skip_instruction(v);
		return EXIT_RESUME;
	}
	uint64_t todo = MIN(count, IO_STRING_MAX_PER_EXIT);
	while (todo) {
		uint64_t off = *idx & amask;
		uint64_t la = io_string_linear(base, off, amask, mode64), gpa;
		enum exit_action act;
		if (!io_string_translate(v, in, la, &gpa, &act))
			return act;
		uint64_t n = io_string_run(gpa, off, amask, size, down, todo), done;
		if (n) {
			uint8_t *p = guest_phys_ptr(g, gpa, n * size);
			if (!p)
				return io_string_refuse(v, in, n * size, gpa);
			done = in ? iobus_read_string(&g->io, port, size, p, (uint32_t)n)
				  : iobus_write_string(&g->io, port, size, p, (uint32_t)n);
		} else {
			if (!io_string_straddling(v, port, size, in, base, off, amask, mode64, &done, &act))
				return act;
		}
		uint64_t step = done * size;
		*idx = (*idx & ~amask) | ((down ? off - step : off + step) & amask);
		if (rep)
			v->regs.rcx = (v->regs.rcx & ~amask) | (((v->regs.rcx & amask) - done) & amask);
		todo -= done;
		count -= done;
		if (g->state != GUEST_RUNNING)
			return EXIT_STOPPED; /* a device stopped the guest */
	}
	if (count == 0)
		vcpu_skip_instruction(v);
	return EXIT_RESUME;
}

/* Out of line too: a string access is rare next to single ones, and it
 * looks the port up itself (its devices' string paths). */
__attribute__((noinline)) static enum exit_action exit_io_string(struct vcpu *v, uint64_t q)
{
	struct guest *g = v->guest;
	uint16_t port = IO_QUAL_PORT(q);
	bool in = q & IO_QUAL_IN;
	if (iobus_access_retimes(iobus_find(&g->io, port), in))
		g->devices_dirty = true;
	return io_string(v, port, IO_QUAL_SIZE(q), in, q & IO_QUAL_REP);
}

/*
 * A single IN or OUT: the most frequent exit of a firmware boot (SeaBIOS's
 * debug text) and of many device drivers' polls, so it is written for the
 * instruction count: the port is looked up once (for the access and for
 * whether it retimes), the device is called directly (iobus_read_at's
 * rules, inline: a closed bus or an unclaimed port floats to all ones, a
 * write there is dropped and counted), and little is kept across the
 * device's call.
 */
enum exit_action exit_io(struct vcpu *v)
{
	/* The width's mask by the qualification's size field (0: 1 byte,
	 * 1: 2 bytes, 3: 4 bytes; the CPU reports no other). */
	static const uint32_t width[8] = { 0xff, 0xffff, 0, 0xffffffff };
	if (v->exit_qual & IO_QUAL_STRING)
		return exit_io_string(v, v->exit_qual);
	/* v->exit_qual and v->guest are read again after each call rather
	 * than kept: fewer registers to save and restore around this. */
	const struct io_range *r = iobus_find(&v->guest->io, IO_QUAL_PORT(v->exit_qual));
	uint64_t q = v->exit_qual;
	struct guest *g = v->guest;
	struct io_bus *bus = &g->io;
	uint16_t port = IO_QUAL_PORT(q);
	bool in = q & IO_QUAL_IN;
	/* The scheduler looks at the guest's timers and interrupts again
	 * before this vCPU runs (the exit cannot take the direct path) if the
	 * access may reprogram a timer or the interrupt controller (the
	 * range's retimes flag for this direction); an interrupt line the
	 * access moves marks it through the router (virq.c). Most accesses
	 * do neither: debug text, UART status polls, CMOS and PCI reads,
	 * fw_cfg. Marked before the call, so nothing of r is needed after. */
	if (r && (r->retimes & (in ? IO_RETIMES_READ : IO_RETIMES_WRITE)))
		g->devices_dirty = true;

	if (in) {
		uint32_t val = 0xffffffff;
		if (bus->closed)
			;
		else if (r && r->read)
			val = r->read(r->dev, port, IO_QUAL_SIZE(q));
		else
			iobus_count_unclaimed(bus, port, false);
		/* A 32-bit result zero-extends into RAX; 8 and 16 bits merge. */
		uint32_t mask = width[v->exit_qual & 7];
		v->regs.rax = mask == 0xffffffff ? val : (v->regs.rax & ~(uint64_t)mask) | (val & mask);
	} else {
		if (bus->closed)
			;
		else if (r && r->write)
			r->write(r->dev, port, IO_QUAL_SIZE(q), (uint32_t)v->regs.rax & width[q & 7]);
		else
			iobus_count_unclaimed(bus, port, true);
	}
	if (v->guest->state != GUEST_RUNNING)
		return EXIT_STOPPED;
	vcpu_skip_instruction(v);
	return EXIT_RESUME;
}
