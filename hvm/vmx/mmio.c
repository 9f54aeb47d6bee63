/*
 * Emulated MMIO: the local APIC page and the I/O APIC page are never mapped
 * in the EPT, so every access to them is an EPT violation. The handler
 * fetches the faulting instruction through the guest's page tables,
 * decodes it (hvm/x86_decode.c), performs the access on the device model
 * and moves RIP past the instruction. mmio_devices[] is the one list of
 * what is emulated. A load or store anywhere else outside RAM completes as
 * on a PC, where no device claims the bus cycle: the read gives all ones
 * (a master abort), the write is dropped (KVM with QEMU and Xen do the
 * same), and Keel logs it, rate-limited per guest. With the guest's
 * unclaimed:stop, or for an access Keel cannot decode or an instruction
 * fetch, the EPT-violation handler's rule applies: stop the guest, naming
 * the address and the access.
 */
#include <keel/console.h>
#include <keel/format.h>
#include <keel/guest.h>
#include <keel/string.h>
#include <keel/vioapic.h>
#include <keel/vlapic.h>
#include <keel/vmx.h>
#include <keel/x86_decode.h>
#include <x86/cpu.h>

#include "exit.h"
#include "vmx.h"

struct mmio_device {
	const char *name;
	uint64_t base, size;
	/* Whether the device decodes its page for this vCPU now. */
	bool (*present)(struct vcpu *v);
	uint64_t (*read)(struct vcpu *v, uint32_t offset, unsigned size);
	void (*write)(struct vcpu *v, uint32_t offset, unsigned size, uint64_t val);
};

/* Each vCPU sees its own local APIC at the same address. */
static bool lapic_present(struct vcpu *v) { return vlapic_mmio_decodes(&v->lapic); }
static uint64_t lapic_read(struct vcpu *v, uint32_t off, unsigned size)
{
	return vlapic_mmio_read(&v->lapic, off, size);
}
static void lapic_write(struct vcpu *v, uint32_t off, unsigned size, uint64_t val)
{
	uint64_t undeliverable = v->guest->apic_bus.undeliverable;
	vlapic_mmio_write(&v->lapic, off, size, val);
	vcpu_apic_written(v, undeliverable);
	v->guest->devices_dirty = true; /* the timer may have a new deadline */
}

static bool ioapic_present(struct vcpu *v) { return true; }
static uint64_t ioapic_read(struct vcpu *v, uint32_t off, unsigned size)
{
	return vioapic_mmio_read(&v->guest->ioapic, off, size);
}
static void ioapic_write(struct vcpu *v, uint32_t off, unsigned size, uint64_t val)
{
	vioapic_mmio_write(&v->guest->ioapic, off, size, (uint32_t)val);
	/* A write through the window may change a redirection entry:
	 * unmasking an input may end the wait for a tick that sat masked in
	 * the 8259A (guest_devices.c pit_tick_pending), so the PIT needs a
	 * deadline again or no tick ever comes (Linux's check_timer), and a
	 * vector may become level-triggered (the EOI-exit bitmap). Selecting
	 * a register changes nothing of that, and reads change nothing at
	 * all: those exits resume directly (exit.c). An interrupt the write
	 * sends marks the guest dirty through the APIC bus (sched_wake). */
	if ((off & (VIOAPIC_MMIO_SIZE - 1)) != IOAPIC_REGSEL)
		v->guest->devices_dirty = v->guest->ioapic_levels_stale = true;
}

static bool testdev_present(struct vcpu *v) { return v->guest->testdev_mem != NULL; }
static uint64_t testdev_read(struct vcpu *v, uint32_t off, unsigned size)
{
	return testdev_mmio_read(&v->guest->testdev, off, size);
}
static void testdev_write(struct vcpu *v, uint32_t off, unsigned size, uint64_t val)
{
	testdev_mmio_write(&v->guest->testdev, off, size, val);
}

/* Where nothing answers: all ones, writes dropped. */
static bool unclaimed_present(struct vcpu *v) { return !v->guest->cfg->unclaimed_stop; }
static uint64_t unclaimed_read(struct vcpu *v, uint32_t off, unsigned size) { return ~0ULL; }
static void unclaimed_write(struct vcpu *v, uint32_t off, unsigned size, uint64_t val) {}
static const struct mmio_device unclaimed = { "unclaimed address", 0, ~0ULL, unclaimed_present, unclaimed_read,
					      unclaimed_write };

/* The one table of emulated MMIO ranges. */
static const struct mmio_device mmio_devices[] = {
	{ "local APIC", VLAPIC_DEFAULT_BASE, VLAPIC_MMIO_SIZE, lapic_present, lapic_read, lapic_write },
	{ "I/O APIC", VIOAPIC_BASE, VIOAPIC_MMIO_SIZE, ioapic_present, ioapic_read, ioapic_write },
	{ "test device", TESTDEV_MMIO_BASE, TESTDEV_MMIO_SIZE, testdev_present, testdev_read, testdev_write },
};

/* The CPU mode the instruction was decoded in: 64-bit code segment in
 * IA-32e mode, else CS.D (SDM 3.4.5), which is 0 in real mode after reset
 * or SIPI. */
static enum x86_mode guest_mode(void)
{
	uint64_t ar = vmread(VMCS_GUEST_CS_AR);
	if ((vmread(VMCS_GUEST_IA32_EFER) & EFER_LMA) && (ar & (1u << 13)))
		return X86_MODE_64;
	return (ar & (1u << 14)) ? X86_MODE_32 : X86_MODE_16;
}

/* Copies up to X86_MAX_INSN_LEN bytes at the guest's CS:RIP; returns how
 * many could be fetched (an instruction may end before a page it may not
 * fetch from; then pf_la and pf_error say where and why, else pf_error
 * is ~0). */
static unsigned fetch_insn(struct vcpu *v, enum x86_mode mode, uint8_t *buf, uint64_t *la_out, uint64_t *pf_la,
			   uint32_t *pf_error)
{
	uint64_t la = vmread(VMCS_GUEST_RIP);
	if (mode != X86_MODE_64)
		la = (vmread(VMCS_GUEST_CS_BASE) + la) & 0xffffffffULL;
	*la_out = la;
	*pf_la = 0;
	*pf_error = ~0u;
	unsigned got = 0;
	while (got < X86_MAX_INSN_LEN) {
		uint64_t gpa, cur = la + got;
		uint32_t pf;
		unsigned n = (unsigned)MIN((uint64_t)(X86_MAX_INSN_LEN - got), PAGE_SIZE - (cur & (PAGE_SIZE - 1)));
		enum page_walk_status st = vcpu_translate(v, cur, PAGE_FETCH, &gpa, &pf);
		if (st == PAGE_WALK_FAULT) {
			*pf_la = cur;
			*pf_error = pf;
		}
		if (st != PAGE_WALK_OK || !guest_read_phys(v->guest, gpa, buf + got, n))
			break;
		got += n;
	}
	return got;
}

static const char *mode_name(enum x86_mode m)
{
	return m == X86_MODE_64 ? "64-bit" : m == X86_MODE_32 ? "32-bit" : "16-bit";
}

/* The fast path: an OS touches its APIC from a handful of instructions
 * (Linux: the EOI, the timer's initial count, the ICR), so the last ones
 * seen are kept decoded per vCPU. A hit needs the same linear address,
 * CR3 and mode, and the same bytes at the guest-physical address they
 * were fetched from (one read instead of a page walk and a decode). Like a
 * TLB entry, it assumes the code page's translation did not change under
 * the same CR3; if a guest remaps its own code page there, only its own
 * emulated access can differ from the instruction it ran. */
static struct mmio_insn_cache *cache_slot(struct vcpu *v, uint64_t la)
{
	return &v->mmio_cache[(la ^ (la >> 7)) % MMIO_INSN_CACHE_SLOTS];
}

static bool cache_lookup(struct vcpu *v, uint64_t la, enum x86_mode mode, struct x86_insn *in)
{
	struct mmio_insn_cache *c = cache_slot(v, la);
	uint8_t now[X86_MAX_INSN_LEN];
	if (!c->valid || c->la != la || c->mode != mode || c->cr3 != vmread(VMCS_GUEST_CR3))
		return false;
	if (!guest_read_phys(v->guest, c->gpa, now, c->insn.len) || memcmp(now, c->bytes, c->insn.len))
		return false;
	*in = c->insn;
	return true;
}

static void cache_store(struct vcpu *v, uint64_t la, enum x86_mode mode, const uint8_t *bytes,
			const struct x86_insn *in)
{
	/* Only an instruction within one page: its bytes are then at one
	 * guest-physical address. */
	uint64_t gpa;
	uint32_t pf;
	if ((la & (PAGE_SIZE - 1)) + in->len > PAGE_SIZE ||
	    vcpu_translate(v, la, PAGE_FETCH, &gpa, &pf) != PAGE_WALK_OK)
		return;
	struct mmio_insn_cache *c = cache_slot(v, la);
	c->la = la;
	c->cr3 = vmread(VMCS_GUEST_CR3);
	c->gpa = gpa;
	c->mode = (uint8_t)mode;
	c->insn = *in;
	memcpy(c->bytes, bytes, in->len);
	c->valid = true;
}

static uint64_t insn_linear(enum x86_mode mode)
{
	uint64_t la = vmread(VMCS_GUEST_RIP);
	return mode == X86_MODE_64 ? la : (vmread(VMCS_GUEST_CS_BASE) + la) & 0xffffffffULL;
}

static enum exit_action emulate(struct vcpu *v, const struct mmio_device *d, uint64_t gpa, uint64_t qual)
{
	struct guest *g = v->guest;
	uint8_t bytes[X86_MAX_INSN_LEN];
	enum x86_mode mode = guest_mode();
	uint64_t la = insn_linear(mode);
	uint64_t pf_la = 0;
	uint32_t pf_error = ~0u;
	struct x86_insn in;
	unsigned got = 0;
	int err = X86_DECODE_OK;
	bool write = qual & EPT_QUAL_WRITE;
	bool hit = cache_lookup(v, la, mode, &in);
	if (!hit) {
		got = fetch_insn(v, mode, bytes, &la, &pf_la, &pf_error);
		err = got ? x86_decode_mmio(bytes, got, mode, &in) : X86_DECODE_TRUNCATED;
	}

	if (err == X86_DECODE_TRUNCATED && pf_error != ~0u) {
		/* Its bytes run into a page it may not fetch from (another
		 * vCPU changed the tables since): the CPU's fetch faults. */
		vcpu_inject_page_fault(v, pf_la, pf_error);
		return EXIT_RESUME;
	}

	if (err == X86_DECODE_OK && (in.op != X86_OP_LOAD) != write)
		err = X86_DECODE_UNSUPPORTED; /* e.g. XCHG, or a read-modify-write */
	if (err == X86_DECODE_OK && gpa + in.size > d->base + d->size)
		err = X86_DECODE_UNSUPPORTED;
	if (err == X86_DECODE_OK && !hit)
		cache_store(v, la, mode, bytes, &in);
	if (err != X86_DECODE_OK) {
		char hex[3 * X86_MAX_INSN_LEN + 1];
		unsigned n = 0;
		for (unsigned i = 0; i < got; i++)
			n += (unsigned)ksnprintf(hex + n, sizeof(hex) - n, "%s%02x", i ? " " : "", bytes[i]);
		hex[n] = 0;
		/* The details first, on a line of their own: the stop reason
		 * is kept short. */
		pr_err("guest %s vCPU %u: %s of the %s at %#lx by the instruction at linear %#lx (%s code), bytes: %s\n",
		       g->name, v->id, write ? "write" : "read", d->name, gpa, la, mode_name(mode),
		       got ? hex : "none readable");
		guest_stop(g, "cannot emulate the %s of the %s at guest-physical %#lx: %s", write ? "write" : "read",
			   d->name, gpa, x86_decode_strerror(err));
		return EXIT_STOPPED;
	}

	uint32_t off = (uint32_t)(gpa - d->base);
	if (d == &unclaimed)
		guest_log(g, GLOG_UNCLAIMED, LOG_WARN,
			  "vCPU %u: %u-byte %s guest-physical %#lx, where no RAM or device answers (RIP %#lx): %s, as "
			  "on a PC's bus (unclaimed:stop stops the guest instead)",
			  v->id, in.size, write ? "write to" : "read from", gpa, vmread(VMCS_GUEST_RIP),
			  write ? "dropped" : "read as all ones");
	if (in.op == X86_OP_LOAD) {
		uint64_t val = d->read(v, off, in.size) & width_mask(in.size);
		if (in.sign_extend && (val >> (8 * in.size - 1)) & 1)
			val |= ~width_mask(in.size);
		val &= width_mask(in.reg_size);
		uint64_t old = vcpu_gpr_read(v, in.reg);
		if (in.high_byte)
			val = (old & ~0xff00ULL) | (val << 8);
		else if (in.reg_size < 4)
			val = (old & ~width_mask(in.reg_size)) | val;
		/* A 32-bit destination zero-extends to 64 bits (SDM 3.4.1.1). */
		vcpu_gpr_write(v, in.reg, val);
	} else {
		uint64_t val = in.op == X86_OP_STORE_IMM ? in.imm : vcpu_gpr_read(v, in.reg) >> (in.high_byte ? 8 : 0);
		d->write(v, off, in.size, val & width_mask(in.size));
	}

	uint64_t rip = vmread(VMCS_GUEST_RIP) + in.len;
	if (mode != X86_MODE_64)
		rip &= mode == X86_MODE_32 ? 0xffffffffULL : 0xffffULL;
	vmwrite(VMCS_GUEST_RIP, rip);
	/* The instruction completed: STI / MOV SS blocking ends (SDM 25.4.2). */
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	return g->state == GUEST_RUNNING ? EXIT_RESUME : EXIT_STOPPED;
}

bool vmx_mmio_handle(struct vcpu *v, uint64_t gpa, uint64_t qual, enum exit_action *act)
{
	if (qual & EPT_QUAL_FETCH)
		return false; /* executing device registers: the stop path names it */
	for (unsigned i = 0; i < ARRAY_SIZE(mmio_devices); i++) {
		const struct mmio_device *d = &mmio_devices[i];
		if (gpa >= d->base && gpa - d->base < d->size && d->present(v)) {
			*act = emulate(v, d, gpa, qual);
			return true;
		}
	}
	/* Guest RAM is mapped RWX: this violation is outside it. */
	if (!guest_gpa_is_ram(&v->guest->ram, gpa) && unclaimed.present(v)) {
		*act = emulate(v, &unclaimed, gpa, qual);
		return true;
	}
	return false;
}
