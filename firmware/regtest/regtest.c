/*
 * regtest: Keel's 64-bit register-state test kernel (issue #14: every
 * register a guest can see is that guest's own). Booted directly as a
 * multiboot1 kernel; entry.S switches to long mode. Its command line picks
 * what it does:
 *
 *   mode=regs (default)  seed=N rounds=N round_ms=N xcr0=MASK cr8=1
 *       Reads CPUID (XSAVE, AVX, AVX-512 F/BW, leaf 0xD's XCR0 bits), sets
 *       CR4.OSXSAVE and XCR0 with XSETBV (limited to MASK if given), fills
 *       x87 (ST0-7, FCW), MXCSR, XMM0-15, YMM0-15, ZMM0-31 and k0-7 where
 *       offered, DR0-3/DR6/DR7 (no breakpoint armed) and, with cr8=1, CR8
 *       (the task priority: interrupts stay off) with a pattern from the
 *       seed (from the
 *       command line, else RDTSC; every vCPU mixes in its number), then
 *       spins for rounds x round_ms of TSC time with interrupts off,
 *       re-reading and comparing every register each 2 ms. A gap of more
 *       than 4 ms between two RDTSCs in the spin means the vCPU was
 *       descheduled (counted and reported: the proof that other vCPUs ran
 *       on the same CPU in between). With several vCPUs (fw_cfg), the BSP
 *       starts the APs with INIT, SIPI, SIPI and each runs the same check
 *       with its own pattern.
 *       Prints "regs: cpuN round R ok ..." and at the end
 *       "regs: PASS <components> ...", or "regs: FAIL ..." naming the
 *       register, expected and found value; exits through port 0xF4
 *       (33 on success, 0x7f on failure).
 *   mode=cr8 [then=hlt|spin]
 *       Writes CR8 (the TPR) = 15, reads it back, says so, then halts with
 *       interrupts disabled (or spins): a hostile guest for the host APIC.
 *   mode=cache [loops=N]
 *       WBINVD and INVD N times, then RDPMC and CR4.PCE/CR4.PKE writes,
 *       each expected to raise #GP (caught by its IDT, reported with the
 *       vector; if CR4.PCE is accepted, RDPMC is tried again with it set),
 *       then halts (cli; hlt) so the console's 'stats' can run.
 */
#include <keel/format.h>
#include <keel/string.h>
#include <x86/io.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/cmdline_arg.h"
#include "regfile.h"

#define COM1 0x3f8
#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_NB_CPUS 0x05
#define EXIT_PORT 0xf4
#define EXIT_PASS 33
#define EXIT_FAIL 0x7f
#define LAPIC 0xfee00000ul
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_BUSY (1u << 12)
#define AP_TRAMPOLINE 0x8000
#define MAX_CPUS 4
#define MB1_INFO_CMDLINE (1u << 2)

#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_PCE (1ul << 8)
#define CR4_OSXSAVE (1ul << 18)
#define CR4_PKE (1ul << 22)
#define CR0_EM (1ul << 2)
#define CR0_MP (1ul << 1)
#define CR0_TS (1ul << 3)
#define CR0_NE (1ul << 5)

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_AVX512 (7ull << 5) /* opmask, ZMM_Hi256, Hi16_ZMM */

#define VEC_GP 13

struct regfile {
	uint8_t fx[512];
	uint8_t zmm[32][64];
	uint64_t k[8];
	uint64_t dr[4];
	uint64_t dr6;
	uint8_t st[8][16];
	uint16_t fcw;
	uint16_t pad;
	uint32_t mxcsr;
	uint64_t xcr0;
	uint64_t cr8;
	uint64_t dr7;
	uint8_t pad2[56];
} __attribute__((aligned(64)));
_Static_assert(offsetof(struct regfile, zmm) == RF_ZMM, "RF_ZMM");
_Static_assert(offsetof(struct regfile, k) == RF_K, "RF_K");
_Static_assert(offsetof(struct regfile, dr) == RF_DR, "RF_DR");
_Static_assert(offsetof(struct regfile, dr6) == RF_DR6, "RF_DR6");
_Static_assert(offsetof(struct regfile, st) == RF_ST, "RF_ST");
_Static_assert(offsetof(struct regfile, fcw) == RF_FCW, "RF_FCW");
_Static_assert(offsetof(struct regfile, mxcsr) == RF_MXCSR, "RF_MXCSR");
_Static_assert(offsetof(struct regfile, xcr0) == RF_XCR0, "RF_XCR0");
_Static_assert(offsetof(struct regfile, cr8) == RF_CR8, "RF_CR8");
_Static_assert(offsetof(struct regfile, dr7) == RF_DR7, "RF_DR7");
_Static_assert(sizeof(struct regfile) == RF_SIZE, "RF_SIZE");

struct mb1_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

void regs_load(const struct regfile *r, unsigned comp);
void regs_store(struct regfile *r, unsigned comp);
void regtest_main(uint32_t magic, const struct mb1_info *info);
void regtest_ap_main(unsigned cpu);
struct trap_frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};
void regtest_trap(struct trap_frame *f);
extern const uint64_t isr_table[32];
extern const char trampoline[], trampoline_end[];

/* --- port I/O, COM1, exit ------------------------------------------------- */

/* CPUID into an array: EAX, EBX, ECX, EDX. */
static inline void cpuid_regs(uint32_t leaf, uint32_t sub, uint32_t r[4]) { cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]); }

static volatile int say_lock;

static void putc_com1(char c)
{
	while (!(inb(COM1 + 5) & 0x20)) /* LSR.THRE */
		;
	outb(COM1, (uint8_t)c);
}

/* One line at a time, whole: the vCPUs share COM1. */
static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	while (__atomic_exchange_n(&say_lock, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	for (int i = 0; i < n && i < (int)sizeof(buf) - 1; i++) {
		if (buf[i] == '\n')
			putc_com1('\r');
		putc_com1(buf[i]);
	}
	__atomic_store_n(&say_lock, 0, __ATOMIC_RELEASE);
}

static __attribute__((noreturn)) void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static __attribute__((noreturn)) void exit_with(uint8_t code)
{
	say("regtest: exit %u through port 0xf4\n", code);
	outb(EXIT_PORT, code);
	halt_forever();
}

/* --- command line ------------------------------------------------------------ */

static const char *cmdline = "";

static void arg(const char *key, char *out, unsigned outlen) { cmdline_arg(cmdline, key, out, outlen); }

/* key=N (decimal, or hex with 0x) or def. */
static uint64_t arg_num(const char *key, uint64_t def)
{
	char s[24];
	arg(key, s, sizeof(s));
	if (!s[0])
		return def;
	uint64_t v = 0;
	const char *p = s;
	unsigned base = 10;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (; *p; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
			d = (unsigned)((*p | 0x20) - 'a' + 10);
		else
			break;
		v = v * base + d;
	}
	return v;
}

/* --- exceptions ----------------------------------------------------------------- */

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));
static struct idt_entry idt[32] __attribute__((aligned(16)));

/* A test that expects a fault sets resume_rip (where to continue) and
 * reads caught_vector (-1: nothing was raised). */
static volatile uint64_t resume_rip;
static volatile int caught_vector = -1;

void regtest_trap(struct trap_frame *f)
{
	if (resume_rip) {
		caught_vector = (int)f->vector;
		f->rip = resume_rip;
		resume_rip = 0;
		return;
	}
	say("regtest: FAIL unexpected exception, vector %lu, error code %#lx, at RIP %#lx\n", f->vector, f->error,
	    f->rip);
	exit_with(EXIT_FAIL);
}

static void idt_load(void)
{
	static int built;
	if (!built) {
		for (int i = 0; i < 32; i++) {
			uint64_t a = isr_table[i];
			idt[i] = (struct idt_entry){ .off_lo = (uint16_t)a, .sel = 0x18, .type = 0x8e,
						     .off_mid = (uint16_t)(a >> 16), .off_hi = (uint32_t)(a >> 32) };
		}
		built = 1;
	}
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) p = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" ::"m"(p));
}

/* Runs the instruction(s) in insn with resume_rip just past them; returns
 * the vector raised (-1 if none). */
#define TRY(insn, ...)                                                                                                   \
	({                                                                                                             \
		caught_vector = -1;                                                                                    \
		__asm__ volatile("leaq 1f(%%rip), %%r11\n\tmovq %%r11, %[rr]\n\t" insn "\n1:\n\tmovq $0, %[rr]"          \
				 : [rr] "=m"(resume_rip) __VA_ARGS__ : "r11", "memory");                               \
		caught_vector;                                                                                         \
	})

/* --- control registers --------------------------------------------------------- */

/* read_cr0/4 and write_cr0/4: <x86/io.h>. */

/* --- the register check ----------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* What this machine offers, and what the check covers (same for every vCPU). */
static unsigned comp;
static uint64_t xcr0;
static uint64_t tsc_khz;
static uint64_t seed0;
static unsigned rounds, round_ms;

struct cpu_check {
	struct regfile expect, found;
	uint64_t seed;
	unsigned checks, desched, failed;
	unsigned done; /* set last, with release order: the counts are final */
};
static struct cpu_check cpu_checks[MAX_CPUS];
static volatile unsigned aps_up;

static void fill_pattern(struct regfile *r, uint64_t seed)
{
	uint64_t s = seed;
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 8; i++) {
		/* A normal 80-bit value: explicit integer bit set, a biased
		 * exponent near 0x3fff, a random sign. */
		uint64_t m = splitmix(&s) | (1ull << 63), e = splitmix(&s);
		uint16_t se = (uint16_t)(0x3f80 + (e & 0xff)) | (uint16_t)((e >> 8 & 1) << 15);
		memcpy(r->st[i], &m, 8);
		memcpy(r->st[i] + 8, &se, 2);
	}
	uint64_t c = splitmix(&s);
	static const uint16_t pc[3] = { 0, 2, 3 }; /* 1 is reserved */
	r->fcw = (uint16_t)(0x007f | pc[c % 3] << 8 | (c >> 8 & 3) << 10);
	r->mxcsr = 0x1f80 | (uint32_t)(c >> 16 & 3) << 13 | (uint32_t)(c >> 20 & 1) << 15;
	for (int i = 0; i < 32; i++)
		for (int j = 0; j < 64; j += 8) {
			uint64_t v = splitmix(&s);
			memcpy(&r->zmm[i][j], &v, 8);
		}
	for (int i = 0; i < 8; i++)
		r->k[i] = splitmix(&s);
	if (!(comp & COMP_KQ))
		for (int i = 0; i < 8; i++)
			r->k[i] &= 0xffff;
	/* Canonical, 8-byte aligned breakpoint addresses (DR7 stays 0: no
	 * breakpoint is armed); DR6 with B0-B3 from the pattern. */
	for (int i = 0; i < 4; i++)
		r->dr[i] = splitmix(&s) & 0x00007ffffffffff8ull;
	r->dr6 = 0xffff0ff0 | (splitmix(&s) & 0xf);
	/* DR7: L0-3/G0-3 and GD clear (nothing armed, DR accesses do not
	 * trap), bit 10 set as it reads; each breakpoint's R/W from 00, 01, 11
	 * (10 needs CR4.DE) and LEN from the pattern, and LE/GE. */
	uint64_t d = splitmix(&s);
	static const unsigned rw[3] = { 0, 1, 3 };
	r->dr7 = 0x400 | (d & 0x300);
	for (int i = 0; i < 4; i++)
		r->dr7 |= (uint64_t)(rw[(d >> (16 + 4 * i)) % 3] | ((d >> (40 + 2 * i)) & 3) << 2) << (16 + 4 * i);
	/* CR8: 1-15, never the reset value 0. */
	r->cr8 = 1 + splitmix(&s) % 15;
	r->xcr0 = xcr0;
}

static unsigned vec_regs(void) { return comp & COMP_AVX512 ? 32 : (comp & (COMP_SSE | COMP_AVX)) ? 16 : 0; }
static unsigned vec_bytes(void) { return comp & COMP_AVX512 ? 64 : comp & COMP_AVX ? 32 : 16; }
static const char *vec_name(void) { return comp & COMP_AVX512 ? "zmm" : comp & COMP_AVX ? "ymm" : "xmm"; }

/* Compares found with expect; prints each difference (at most 12) as
 * "regs: FAIL cpuN round R: <register> expected X found Y". */
static unsigned compare(unsigned cpu, unsigned round, const struct regfile *e, const struct regfile *f, int quiet)
{
	unsigned bad = 0;
#define DIFF(name, ...)                                                                                           \
	do {                                                                                                     \
		if (bad++ < 12 && !quiet)                                                                        \
			say("regs: FAIL cpu%u round %u: " name "\n", cpu, round, __VA_ARGS__);                   \
	} while (0)
	if (comp & COMP_X87) {
		uint16_t fcw;
		memcpy(&fcw, f->fx, 2);
		if (fcw != e->fcw)
			DIFF("fcw expected %#x found %#x", e->fcw, fcw);
		for (int i = 0; i < 8; i++) {
			const uint8_t *st = f->fx + 32 + 16 * i;
			if (memcmp(st, e->st[i], 10)) {
				uint64_t em, fm;
				uint16_t ex, fx;
				memcpy(&em, e->st[i], 8);
				memcpy(&ex, e->st[i] + 8, 2);
				memcpy(&fm, st, 8);
				memcpy(&fx, st + 8, 2);
				DIFF("st%d expected %04x:%016lx found %04x:%016lx", i, ex, em, fx, fm);
			}
		}
	}
	if (comp & COMP_SSE) {
		uint32_t mxcsr;
		memcpy(&mxcsr, f->fx + 24, 4);
		if (mxcsr != e->mxcsr)
			DIFF("mxcsr expected %#x found %#x", e->mxcsr, mxcsr);
	}
	for (unsigned i = 0; i < vec_regs(); i++)
		for (unsigned j = 0; j < vec_bytes(); j += 8) {
			uint64_t ev, fv;
			memcpy(&ev, &e->zmm[i][j], 8);
			memcpy(&fv, &f->zmm[i][j], 8);
			if (ev != fv)
				DIFF("%s%u bytes %u-%u expected %#018lx found %#018lx", vec_name(), i, j, j + 7, ev, fv);
		}
	if (comp & COMP_AVX512)
		for (int i = 0; i < 8; i++)
			if (e->k[i] != f->k[i])
				DIFF("k%d expected %#lx found %#lx", i, e->k[i], f->k[i]);
	if (comp & COMP_DR) {
		for (int i = 0; i < 4; i++)
			if (e->dr[i] != f->dr[i])
				DIFF("dr%d expected %#lx found %#lx", i, e->dr[i], f->dr[i]);
		if (e->dr6 != f->dr6)
			DIFF("dr6 expected %#lx found %#lx", e->dr6, f->dr6);
		if (e->dr7 != f->dr7)
			DIFF("dr7 expected %#lx found %#lx", e->dr7, f->dr7);
	}
	if ((comp & COMP_CR8) && e->cr8 != f->cr8)
		DIFF("cr8 expected %lu found %lu", e->cr8, f->cr8);
	if ((comp & COMP_XSAVE) && e->xcr0 != f->xcr0)
		DIFF("xcr0 expected %#lx found %#lx", e->xcr0, f->xcr0);
#undef DIFF
	return bad;
}

static void comp_names(char *buf, unsigned len)
{
	ksnprintf(buf, len, "%s%s%s%s%s%s%s", comp & COMP_X87 ? "x87 " : "", comp & COMP_SSE ? "sse " : "",
		  comp & COMP_AVX ? "avx " : "", comp & COMP_AVX512 ? "avx512 " : "", comp & COMP_DR ? "dr " : "",
		  comp & COMP_XSAVE ? "xcr0 " : "", comp & COMP_CR8 ? "cr8" : "");
	size_t n = strlen(buf);
	if (n && buf[n - 1] == ' ')
		buf[n - 1] = 0;
}

/* Per-vCPU FPU/SSE enable: CR0.MP|NE, not EM/TS; CR4.OSFXSR|OSXMMEXCPT,
 * and OSXSAVE with XCR0 when XSAVE is used. */
static void cpu_enable_fp(void)
{
	write_cr0((read_cr0() | CR0_MP | CR0_NE) & ~(CR0_EM | CR0_TS));
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (comp & COMP_XSAVE) {
		write_cr4(cr4 | CR4_OSXSAVE);
		__asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
	} else {
		write_cr4(cr4);
	}
}

/* The positive control: loads the pattern with one register changed, one
 * register of each component in turn, and checks that compare() sees
 * exactly that one difference; then reloads the pattern. Returns the
 * number of changes compare() missed (or saw wrongly). */
static unsigned control_check(unsigned cpu, struct cpu_check *c)
{
	static struct regfile planted[MAX_CPUS];
	struct regfile *p = &planted[cpu];
	const char *missed[12];
	unsigned n = 0, bad = 0;
	for (unsigned k = 0;; k++) {
		memcpy(p, &c->expect, sizeof(*p));
		const char *what = 0;
		unsigned lane = vec_bytes() - 8, last = vec_regs() - 1;
		switch (k) {
		case 0: if (comp & COMP_X87) { p->st[3][5] ^= 0x10; what = "st3"; } break;
		case 1: if (comp & COMP_X87) { p->fcw ^= 0x800; what = "fcw"; } break;
		case 2: if (comp & COMP_SSE) { p->mxcsr ^= 0x2000; what = "mxcsr"; } break;
		case 3: if (comp & COMP_SSE) { p->zmm[0][0] ^= 1; what = "vector reg 0, low lane"; } break;
		case 4: if (vec_regs()) { p->zmm[last][lane + 7] ^= 0x80; what = "last vector reg, top lane"; } break;
		case 5: if (comp & COMP_AVX512) { p->k[7] ^= 0x8000; what = "k7"; } break;
		case 6: if (comp & COMP_DR) { p->dr[2] ^= 0x1000; what = "dr2"; } break;
		case 7: if (comp & COMP_DR) { p->dr7 ^= 0x3u << 30; what = "dr7"; } break;
		case 8: if (comp & COMP_CR8) { p->cr8 = p->cr8 == 15 ? 14 : p->cr8 + 1; what = "cr8"; } break;
		default: break;
		}
		if (k > 8)
			break;
		if (!what)
			continue;
		regs_load(p, comp);
		regs_store(&c->found, comp);
		n++;
		if (compare(cpu, 0, &c->expect, &c->found, 1) != 1 && bad < 12)
			missed[bad++] = what;
	}
	regs_load(&c->expect, comp);
	say("regs: cpu%u control: %u planted changes, %u detected\n", cpu, n, n - bad);
	for (unsigned i = 0; i < bad; i++)
		say("regs: FAIL cpu%u control: a change of %s was not seen as exactly one difference\n", cpu, missed[i]);
	return bad;
}

/* Fills this vCPU's registers, then checks them every 2 ms for rounds x
 * round_ms of TSC time, spinning with interrupts off in between. */
static void regs_run(unsigned cpu)
{
	struct cpu_check *c = &cpu_checks[cpu];
	c->seed = seed0 ^ (0x5851f42d4c957f2dull * cpu);
	cpu_enable_fp();
	fill_pattern(&c->expect, c->seed);
	say("regs: cpu%u seed %#lx, pattern xmm0 %#018lx, dr0 %#lx\n", cpu, c->seed,
	    *(const uint64_t *)c->expect.zmm[0], c->expect.dr[0]);
	__asm__ volatile("cli");
	regs_load(&c->expect, comp);
	if (comp & COMP_DR) {
		/* DR6's reserved bits read as the CPU defines them: take them
		 * from the first read, but B0-B3 must be the pattern's. */
		regs_store(&c->found, COMP_DR);
		if ((c->found.dr6 & 0xf) != (c->expect.dr6 & 0xf)) {
			say("regs: FAIL cpu%u: dr6 B0-B3 written %#lx, read back %#lx\n", cpu, c->expect.dr6 & 0xf,
			    c->found.dr6);
			c->failed = 1;
		}
		c->expect.dr6 = c->found.dr6;
	}
	if (!c->failed && control_check(cpu, c))
		c->failed = 1;
	uint64_t check_every = tsc_khz * 2, gap = tsc_khz * 4;
	for (unsigned r = 1; r <= rounds && !c->failed; r++) {
		uint64_t now = rdtsc(), last = now, end = now + tsc_khz * round_ms, next = now + check_every;
		while (now < end && !c->failed) {
			now = rdtsc();
			if (now - last > gap)
				c->desched++;
			last = now;
			if (now < next)
				continue;
			regs_store(&c->found, comp);
			c->checks++;
			if (compare(cpu, r, &c->expect, &c->found, 0))
				c->failed = 1;
			now = last = rdtsc();
			next = now + check_every;
		}
		if (!c->failed && (r % 10 == 0 || r == rounds))
			say("regs: cpu%u round %u ok, checks %u, descheduled %u\n", cpu, r, c->checks, c->desched);
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE); /* after its counts */
}

/* --- APs ------------------------------------------------------------------------- */

static inline void lapic_write(unsigned reg, uint32_t v) { *(volatile uint32_t *)(LAPIC + reg) = v; }
static inline uint32_t lapic_read(unsigned reg) { return *(volatile uint32_t *)(LAPIC + reg); }

static void icr_send(uint32_t apic_id, uint32_t lo)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, lo);
	for (uint64_t t = rdtsc() + tsc_khz * 100; lapic_read(LAPIC_ICR_LO) & ICR_BUSY;)
		if (rdtsc() > t)
			break;
}

/* INIT, SIPI, SIPI to APIC ids 1..cpus-1 (as in the MP table Keel's
 * hvmloader builds); returns when all are up or after a second. */
static unsigned start_aps(unsigned cpus)
{
	memcpy((void *)AP_TRAMPOLINE, trampoline, (size_t)(trampoline_end - trampoline));
	lapic_write(LAPIC_SVR, 0x1ff);
	for (unsigned id = 1; id < cpus; id++) {
		icr_send(id, 0x00004500); /* INIT, level assert */
		icr_send(id, 0x00008500); /* INIT de-assert */
		icr_send(id, 0x00004600 | (AP_TRAMPOLINE >> 12));
		icr_send(id, 0x00004600 | (AP_TRAMPOLINE >> 12));
	}
	for (uint64_t t = rdtsc() + tsc_khz * 1000; aps_up + 1 < cpus && rdtsc() < t;)
		__asm__ volatile("pause");
	return aps_up + 1;
}

void regtest_ap_main(unsigned cpu)
{
	idt_load();
	__atomic_add_fetch(&aps_up, 1, __ATOMIC_SEQ_CST);
	if (cpu >= MAX_CPUS)
		halt_forever();
	regs_run(cpu);
	halt_forever();
}

/* --- modes ----------------------------------------------------------------------- */

static void probe(void)
{
	uint32_t r[4], r7[4] = { 0 }, rd[4] = { 0 };
	cpuid_regs(0, 0, r);
	uint32_t max = r[0];
	cpuid_regs(1, 0, r);
	int xsave = !!(r[2] & (1u << 26)), avx = !!(r[2] & (1u << 28));
	if (max >= 7)
		cpuid_regs(7, 0, r7);
	int avx512f = !!(r7[1] & (1u << 16)), avx512bw = !!(r7[1] & (1u << 30));
	if (xsave && max >= 0xd)
		cpuid_regs(0xd, 0, rd);
	uint64_t supported = (uint64_t)rd[3] << 32 | rd[0];
	say("regs: cpuid: xsave %d avx %d avx512f %d avx512bw %d, leaf 0xd xcr0 bits %#lx\n", xsave, avx, avx512f,
	    avx512bw, supported);

	/* CR8 only when asked (cr8=1): on a Keel where CR8 reached the host's
	 * APIC, a task priority of 2 or more masks Keel's own timer and console
	 * interrupts, and the run would hang instead of failing by name (that
	 * case is mode=cr8's, beside a heartbeat guest). */
	comp = COMP_X87 | COMP_SSE | COMP_DR | (arg_num("cr8", 0) ? COMP_CR8 : 0);
	if (xsave) {
		uint64_t mask = arg_num("xcr0", ~0ull);
		xcr0 = XCR0_X87 | XCR0_SSE;
		if (avx && (supported & XCR0_AVX) && (mask & XCR0_AVX))
			xcr0 |= XCR0_AVX;
		if ((xcr0 & XCR0_AVX) && avx512f && (supported & XCR0_AVX512) == XCR0_AVX512 &&
		    (mask & XCR0_AVX512) == XCR0_AVX512)
			xcr0 |= XCR0_AVX512;
		comp |= COMP_XSAVE;
		if (xcr0 & XCR0_AVX)
			comp |= COMP_AVX;
		if (xcr0 & XCR0_AVX512)
			comp |= COMP_AVX512 | (avx512bw ? COMP_KQ : 0);
	}

	/* The TSC rate: CPUID 0x15 (crystal x ratio), else 0x16's base MHz,
	 * else Bochs's 50 MHz. */
	tsc_khz = 0;
	if (max >= 0x15) {
		cpuid_regs(0x15, 0, r);
		if (r[0] && r[1] && r[2])
			tsc_khz = (uint64_t)r[2] * r[1] / r[0] / 1000;
	}
	if (!tsc_khz && max >= 0x16) {
		cpuid_regs(0x16, 0, r);
		tsc_khz = (uint64_t)(r[0] & 0xffff) * 1000;
	}
	if (!tsc_khz)
		tsc_khz = 50000;
}

static uint16_t fwcfg_read16(uint16_t key)
{
	outw(FW_CFG_SEL, key);
	uint16_t lo = inb(FW_CFG_DATA);
	return (uint16_t)(lo | inb(FW_CFG_DATA) << 8);
}

/* XSAVEC, where CPUID offers it, must write the compacted format that
 * XRSTOR reads: the AVX state first after the header, at byte 576, and
 * the header's bytes 16-63 left zero (SDM Vol. 1 13.4.3). Bochs 2.7's
 * XSAVEC writes it at 416, YMM7's upper half over the header; Keel must
 * then not offer XSAVEC (Linux lost its YMM registers to the #GP of the
 * next XRSTOR). Checked on the BSP with YMM7 all ones; false on a fault. */
static bool xsavec_ok(void)
{
	static uint8_t img[576 + 256] __attribute__((aligned(64)));
	uint32_t r[4];
	cpuid_regs(0xd, 1, r);
	if (!(comp & COMP_AVX) || !(r[0] & 2)) {
		say("regs: xsavec not offered\n");
		return true;
	}
	cpu_enable_fp();
	memset(img, 0, sizeof(img));
	__asm__ volatile("vpcmpeqb %%ymm7, %%ymm7, %%ymm7\n\txsavec64 %0"
			 : "+m"(img)
			 : "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32))
			 : "memory");
	for (unsigned i = 528; i < 576; i++)
		if (img[i]) {
			say("regs: FAIL xsavec wrote byte %u of the XSAVE header (%#x): XRSTOR would fault\n", i, img[i]);
			return false;
		}
	if (img[576 + 7 * 16] != 0xff) {
		say("regs: FAIL xsavec did not put YMM7's upper half at byte %u\n", 576 + 7 * 16);
		return false;
	}
	say("regs: xsavec ok\n");
	return true;
}

static void mode_regs(void)
{
	probe();
	if (!xsavec_ok())
		exit_with(EXIT_FAIL);
	seed0 = arg_num("seed", 0);
	if (!seed0)
		seed0 = rdtsc() * 0x2545f4914f6cdd1dull | 1;
	rounds = (unsigned)arg_num("rounds", 100);
	round_ms = (unsigned)arg_num("round_ms", 40);
	unsigned cpus = fwcfg_read16(FW_CFG_NB_CPUS);
	if (cpus < 1)
		cpus = 1;
	if (cpus > MAX_CPUS)
		cpus = MAX_CPUS;
	char names[64];
	comp_names(names, sizeof(names));
	say("regs: seed %#lx, tsc %lu kHz, %u round(s) of %u ms, vCPUs %u, xcr0 %#lx, testing %s\n", seed0, tsc_khz,
	    rounds, round_ms, cpus, xcr0, names);
	if (cpus > 1) {
		unsigned up = start_aps(cpus);
		say("regs: %u of %u vCPUs up\n", up, cpus);
		if (up != cpus) {
			say("regs: FAIL only %u of %u vCPUs started\n", up, cpus);
			exit_with(EXIT_FAIL);
		}
	}
	regs_run(0);
	unsigned checks = 0, desched = 0, failed = 0;
	for (unsigned i = 0; i < cpus; i++) {
		while (!__atomic_load_n(&cpu_checks[i].done, __ATOMIC_ACQUIRE))
			__asm__ volatile("pause");
		checks += cpu_checks[i].checks;
		desched += cpu_checks[i].desched;
		failed |= cpu_checks[i].failed;
	}
	if (failed) {
		say("regs: FAIL (see above)\n");
		exit_with(EXIT_FAIL);
	}
	say("regs: PASS %s (vCPUs %u, checks %u, descheduled %u)\n", names, cpus, checks, desched);
	exit_with(EXIT_PASS);
}

static void mode_cr8(void)
{
	uint64_t v = 15, back;
	__asm__ volatile("mov %1, %%cr8\n\tmov %%cr8, %0" : "=r"(back) : "r"(v));
	char then[8];
	arg("then", then, sizeof(then));
	say("cr8: wrote 15, reads back %lu; now %s\n", back, strcmp(then, "spin") ? "halting (cli; hlt)" : "spinning");
	if (!strcmp(then, "spin"))
		for (;;)
			__asm__ volatile("pause");
	halt_forever();
}

static void mode_cache(void)
{
	unsigned loops = (unsigned)arg_num("loops", 200);
	for (unsigned i = 0; i < loops; i++)
		__asm__ volatile("wbinvd; invd" ::: "memory");
	say("cache: WBINVD and INVD executed %u times each\n", loops);

	uint32_t lo = 0, hi = 0; /* EDX:EAX */
	int vec = TRY("rdpmc", , "=a"(lo), "=d"(hi) : "c"(0));
	if (vec < 0)
		say("cache: RDPMC counter 0: no fault, read %#lx\n", (uint64_t)hi << 32 | lo);
	else
		say("cache: RDPMC counter 0: exception vector %d%s\n", vec, vec == VEC_GP ? " (#GP) caught" : "");

	uint64_t cr4 = read_cr4();
	static const struct { const char *name; uint64_t bit; } bits[] = { { "PCE", CR4_PCE }, { "PKE", CR4_PKE } };
	for (unsigned i = 0; i < 2; i++) {
		uint64_t want = cr4 | bits[i].bit;
		vec = TRY("mov %[v], %%cr4", : [v] "r"(want));
		if (vec < 0) {
			say("cache: CR4.%s set: no fault, CR4 now %#lx\n", bits[i].name, read_cr4());
			if (bits[i].bit == CR4_PCE) {
				/* PCE only opens RDPMC to CPL 3: at CPL 0 it must
				 * still fault, the counters being the host's. */
				vec = TRY("rdpmc", , "=a"(lo), "=d"(hi) : "c"(0));
				say("cache: RDPMC with CR4.PCE set: %s%d%s\n", vec < 0 ? "no fault, vector " : "exception vector ",
				    vec, vec == VEC_GP ? " (#GP) caught" : "");
			}
			write_cr4(cr4);
		} else {
			say("cache: CR4.%s set: exception vector %d%s\n", bits[i].name, vec,
			    vec == VEC_GP ? " (#GP) caught" : "");
		}
	}
	say("cache: done\n");
	halt_forever();
}

void regtest_main(uint32_t magic, const struct mb1_info *info)
{
	idt_load();
	if (magic == 0x2badb002 && (info->flags & MB1_INFO_CMDLINE))
		cmdline = (const char *)(uintptr_t)info->cmdline;
	say("regtest: 64-bit, cmdline '%s'\n", cmdline);
	char mode[16];
	arg("mode", mode, sizeof(mode));
	if (!mode[0] || !strcmp(mode, "regs"))
		mode_regs();
	else if (!strcmp(mode, "cr8"))
		mode_cr8();
	else if (!strcmp(mode, "cache"))
		mode_cache();
	say("regtest: FAIL unknown mode '%s'\n", mode);
	exit_with(EXIT_FAIL);
}
