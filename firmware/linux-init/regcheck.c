/*
 * keel-regcheck: /init of the slow tier's register-state initramfs
 * (tests/boot/slow/t-linux-regs.sh, issue #14). It fills XMM0-15, or
 * YMM0-15 when the CPU offers AVX and Linux enabled it (CPUID.1:ECX
 * OSXSAVE and AVX, XGETBV(0) with SSE and AVX state), with a pattern from
 * its seed (regseed=N on the kernel command line, which Linux hands to
 * init as an environment variable; else the TSC), then for regsecs=N
 * seconds (default 5) of CLOCK_MONOTONIC stores and compares them again
 * and again. Between two checks Linux may take interrupts and Keel may run
 * another guest on the same CPU: neither may change these registers.
 *
 * Prints "keel-regcheck: PASS xmm|ymm (checks N, seconds S, gaps G)" (G:
 * pauses over 5 ms between two checks, i.e. times this guest did not run)
 * or "keel-regcheck: FAIL ymmI bytes ... expected X found Y", waits until
 * the UART has sent it, and ends the guest through port 0xF4 with 0x2a
 * (PASS) or 0x7f (FAIL), as keel-init does.
 *
 * x86-64 Linux only, no libc; built with -mgeneral-regs-only, so only the
 * asm below touches the vector registers.
 */
#include "linux_sys.h"

#define CLOCK_MONOTONIC 1
#define EXIT_PASS 0x2a
#define EXIT_FAIL 0x7f

typedef unsigned long u64;
typedef unsigned int u32;




static void say_num(u64 n, int hex)
{
	char buf[24];
	int i = sizeof(buf) - 1;
	unsigned base = hex ? 16 : 10;
	buf[i] = 0;
	do
		buf[--i] = "0123456789abcdef"[n % base];
	while ((n /= base) && i > 2);
	if (hex) {
		buf[--i] = 'x';
		buf[--i] = '0';
	}
	say(buf + i);
}

static __attribute__((noreturn)) void finish(unsigned char code) { end_guest("keel-regcheck", code); }

static u64 now_ns(void)
{
	struct { long sec, nsec; } ts;
	syscall3(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0);
	return (u64)ts.sec * 1000000000ul + (u64)ts.nsec;
}

static u64 splitmix(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ul);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ul;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebul;
	return z ^ (z >> 31);
}

/* NAME=value from init's environment, or 0. */
static const char *env(char **envp, const char *name)
{
	for (; *envp; envp++) {
		const char *e = *envp, *n = name;
		while (*n && *e == *n)
			e++, n++;
		if (!*n && *e == '=')
			return e + 1;
	}
	return 0;
}

static u64 parse_num(const char *s, u64 def)
{
	if (!s || !*s)
		return def;
	u64 v = 0;
	unsigned base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			d = (unsigned)((*s | 0x20) - 'a' + 10);
		else
			break;
		v = v * base + d;
	}
	return v;
}

static unsigned char expect[16][32] __attribute__((aligned(32))), found[16][32] __attribute__((aligned(32)));

#define REGS16(m) m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7) m(8) m(9) m(10) m(11) m(12) m(13) m(14) m(15)
#define LOAD_Y(i) "vmovdqu " #i "*32(%0), %%ymm" #i "\n\t"
#define STORE_Y(i) "vmovdqu %%ymm" #i ", " #i "*32(%0)\n\t"
#define LOAD_X(i) "movdqu " #i "*32(%0), %%xmm" #i "\n\t"
#define STORE_X(i) "movdqu %%xmm" #i ", " #i "*32(%0)\n\t"

static void load(int avx)
{
	if (avx)
		__asm__ volatile(REGS16(LOAD_Y)::"r"(expect) : "memory");
	else
		__asm__ volatile(REGS16(LOAD_X)::"r"(expect) : "memory");
}

static void store(int avx)
{
	if (avx)
		__asm__ volatile(REGS16(STORE_Y)::"r"(found) : "memory");
	else
		__asm__ volatile(REGS16(STORE_X)::"r"(found) : "memory");
}

static int avx_usable(void)
{
	u32 a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 27)) || !(c & (1u << 28))) /* OSXSAVE, AVX */
		return 0;
	u32 lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6; /* SSE and AVX state enabled by Linux */
}

void regcheck_main(long *sp) __attribute__((noreturn, used));
void regcheck_main(long *sp)
{
	long argc = sp[0];
	char **envp = (char **)(sp + 1 + argc + 1);
	u64 seed = parse_num(env(envp, "regseed"), 0), secs = parse_num(env(envp, "regsecs"), 5);
	if (!seed) {
		u32 lo, hi;
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		seed = ((u64)hi << 32 | lo) * 0x2545f4914f6cdd1dul | 1;
	}
	int avx = avx_usable();
	const char *what = avx ? "ymm" : "xmm";
	unsigned width = avx ? 32 : 16;
	u64 s = seed;
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 32; j += 8) {
			u64 v = splitmix(&s);
			__builtin_memcpy(&expect[i][j], &v, 8);
		}
	say("keel-regcheck: seed ");
	say_num(seed, 1);
	say(", checking ");
	say(what);
	say("0-15 for ");
	say_num(secs, 0);
	say(" s\n");

	u64 start = now_ns(), last = start, t = start, checks = 0, gaps = 0;
	load(avx);
	while (t - start < secs * 1000000000ul) {
		store(avx);
		checks++;
		for (int i = 0; i < 16; i++)
			for (unsigned j = 0; j < width; j += 8) {
				u64 e, f;
				__builtin_memcpy(&e, &expect[i][j], 8);
				__builtin_memcpy(&f, &found[i][j], 8);
				if (e == f)
					continue;
				say("keel-regcheck: FAIL ");
				say(what);
				say_num((u64)i, 0);
				say(" bytes ");
				say_num(j, 0);
				say("-");
				say_num(j + 7, 0);
				say(" expected ");
				say_num(e, 1);
				say(" found ");
				say_num(f, 1);
				say(" after checks ");
				say_num(checks, 0);
				say("\n");
				finish(EXIT_FAIL);
			}
		t = now_ns();
		if (t - last > 5000000ul)
			gaps++;
		last = t;
	}
	say("keel-regcheck: PASS ");
	say(what);
	say(" (checks ");
	say_num(checks, 0);
	say(", seconds ");
	say_num(secs, 0);
	say(", gaps ");
	say_num(gaps, 0);
	say(")\n");
	finish(EXIT_PASS);
}

/* The kernel enters init with RSP at argc; keep it for regcheck_main. */
__asm__(".globl _start\n_start:\n\tmovq %rsp, %rdi\n\tandq $-16, %rsp\n\tcall regcheck_main\n");
