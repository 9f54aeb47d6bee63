/* MMIO instruction decoder: a table of encodings (checked against GNU as
 * and objdump) and what each must decode to, in 64-, 32- and 16-bit mode,
 * then the errors the EPT handler turns into a stopped guest. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/x86_decode.h>

enum { L = X86_OP_LOAD, S = X86_OP_STORE, I = X86_OP_STORE_IMM };

struct case_ {
	const char *text;
	enum x86_mode mode;
	uint8_t bytes[15];
	uint8_t len, op, size, reg_size, reg;
	bool high_byte;
	uint64_t imm;
	enum x86_seg seg;
};

#define M64 X86_MODE_64
#define M32 X86_MODE_32
#define M16 X86_MODE_16
#define NOSEG X86_SEG_NONE

static const struct case_ cases[] = {
	{ "movl %eax,0x300(%rbx)", M64, { 0x89, 0x83, 0x00, 0x03, 0x00, 0x00 }, 6, S, 4, 4, 0, false, 0, NOSEG },
	{ "movl 0x20(%rdi),%ecx", M64, { 0x8b, 0x4f, 0x20 }, 3, L, 4, 4, 1, false, 0, NOSEG },
	{ "movq %r9,(%rax)", M64, { 0x4c, 0x89, 0x08 }, 3, S, 8, 8, 9, false, 0, NOSEG },
	{ "movl $0x1ff,0xf0(%rax)", M64, { 0xc7, 0x80, 0xf0, 0, 0, 0, 0xff, 0x01, 0, 0 }, 10, I, 4, 4, 0, false, 0x1ff, NOSEG },
	{ "movq $-1,(%rax)", M64, { 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff }, 7, I, 8, 8, 0, false, ~0ULL, NOSEG },
	{ "movabsl 0xfee00020,%eax", M64, { 0xa1, 0x20, 0x00, 0xe0, 0xfe, 0, 0, 0, 0 }, 9, L, 4, 4, 0, false, 0, NOSEG },
	{ "movl 0xfee00020,%eax (SIB, no base)", M64, { 0x8b, 0x04, 0x25, 0x20, 0x00, 0xe0, 0xfe }, 7, L, 4, 4, 0, false, 0, NOSEG },
	{ "movb %sil,(%rdx)", M64, { 0x40, 0x88, 0x32 }, 3, S, 1, 1, 6, false, 0, NOSEG },
	{ "movb %dh,(%rdx)", M64, { 0x88, 0x32 }, 2, S, 1, 1, 2, true, 0, NOSEG },
	{ "movl 0x10(%rip),%eax", M64, { 0x8b, 0x05, 0x10, 0, 0, 0 }, 6, L, 4, 4, 0, false, 0, NOSEG },
	{ "movl (%rax,%rcx,4),%r10d", M64, { 0x44, 0x8b, 0x14, 0x88 }, 4, L, 4, 4, 10, false, 0, NOSEG },
	{ "movzbl (%rax),%eax", M64, { 0x0f, 0xb6, 0x00 }, 3, L, 1, 4, 0, false, 0, NOSEG },
	{ "movzwl 0x2(%rax),%edx", M64, { 0x0f, 0xb7, 0x50, 0x02 }, 4, L, 2, 4, 2, false, 0, NOSEG },
	{ "movsbq (%rax),%rcx", M64, { 0x48, 0x0f, 0xbe, 0x08 }, 4, L, 1, 8, 1, false, 0, NOSEG },
	{ "movw %ax,(%rbx)", M64, { 0x66, 0x89, 0x03 }, 3, S, 2, 2, 0, false, 0, NOSEG },
	{ "movl %gs:0x10,%eax", M64, { 0x65, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0 }, 8, L, 4, 4, 0, false, 0, X86_SEG_GS },
	{ "movw $0x1234,(%rax)", M64, { 0x66, 0xc7, 0x00, 0x34, 0x12 }, 5, I, 2, 2, 0, false, 0x1234, NOSEG },
	{ "movb $0x5,(%rax)", M64, { 0xc6, 0x00, 0x05 }, 3, I, 1, 1, 0, false, 5, NOSEG },
	{ "REX.W then 66: REX wins for size", M64, { 0x66, 0x48, 0x89, 0x03 }, 4, S, 8, 8, 0, false, 0, NOSEG },
	{ "REX before a prefix is ignored", M64, { 0x48, 0x66, 0x89, 0x03 }, 4, S, 2, 2, 0, false, 0, NOSEG },
	{ "addr32 movl 0x10(%eax),%eax", M64, { 0x67, 0x8b, 0x40, 0x10 }, 4, L, 4, 4, 0, false, 0, NOSEG },

	{ "mov %eax,0xfee000b0", M32, { 0xa3, 0xb0, 0x00, 0xe0, 0xfe }, 5, S, 4, 4, 0, false, 0, NOSEG },
	{ "mov 0xfee00020,%eax", M32, { 0xa1, 0x20, 0x00, 0xe0, 0xfe }, 5, L, 4, 4, 0, false, 0, NOSEG },
	{ "movl $0x0,0xfee000b0", M32, { 0xc7, 0x05, 0xb0, 0x00, 0xe0, 0xfe, 0, 0, 0, 0 }, 10, I, 4, 4, 0, false, 0, NOSEG },
	{ "mov %edx,0x300(%ebx)", M32, { 0x89, 0x93, 0x00, 0x03, 0, 0 }, 6, S, 4, 4, 2, false, 0, NOSEG },
	{ "mov 0x10(%esp),%eax", M32, { 0x8b, 0x44, 0x24, 0x10 }, 4, L, 4, 4, 0, false, 0, NOSEG },
	{ "mov 0x0(%ebp),%eax", M32, { 0x8b, 0x45, 0x00 }, 3, L, 4, 4, 0, false, 0, NOSEG },
	{ "mov 0x20(,%ecx,4),%eax", M32, { 0x8b, 0x04, 0x8d, 0x20, 0, 0, 0 }, 7, L, 4, 4, 0, false, 0, NOSEG },
	{ "mov %ax,(%ebx)", M32, { 0x66, 0x89, 0x03 }, 3, S, 2, 2, 0, false, 0, NOSEG },
	{ "mov (%bx,%si),%ax (addr16)", M32, { 0x67, 0x66, 0x8b, 0x00 }, 4, L, 2, 2, 0, false, 0, NOSEG },
	{ "mov %fs:0x300(%ebx),%edi", M32, { 0x64, 0x8b, 0xbb, 0x00, 0x03, 0, 0 }, 7, L, 4, 4, 7, false, 0, X86_SEG_FS },

	{ "mov %eax,%es:(%edi)", M16, { 0x26, 0x67, 0x66, 0x89, 0x07 }, 5, S, 4, 4, 0, false, 0, X86_SEG_ES },
	{ "mov 0x20,%ax", M16, { 0xa1, 0x20, 0x00 }, 3, L, 2, 2, 0, false, 0, NOSEG },
	{ "addr32 mov 0xfee00020,%eax", M16, { 0x67, 0x66, 0xa1, 0x20, 0x00, 0xe0, 0xfe }, 7, L, 4, 4, 0, false, 0, NOSEG },
	{ "mov 0x0(%bp),%al", M16, { 0x8a, 0x46, 0x00 }, 3, L, 1, 1, 0, false, 0, NOSEG },
	{ "mov 0x1234,%bl", M16, { 0x8a, 0x1e, 0x34, 0x12 }, 4, L, 1, 1, 3, false, 0, NOSEG },
	{ "movw $0x5,0x10(%bx,%si)", M16, { 0xc7, 0x40, 0x10, 0x05, 0x00 }, 5, I, 2, 2, 0, false, 5, NOSEG },
	{ "mov %ah,%ds:(%bx)", M16, { 0x3e, 0x88, 0x27 }, 3, S, 1, 1, 0, true, 0, X86_SEG_DS },
};

static void test_table(void **state)
{
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct case_ *c = &cases[i];
		struct x86_insn in;
		int r = x86_decode_mmio(c->bytes, c->len, c->mode, &in);
		if (r != X86_DECODE_OK || in.len != c->len || in.op != c->op || in.size != c->size ||
		    in.reg_size != c->reg_size || in.seg != c->seg ||
		    (c->op == I ? in.imm != c->imm : (in.reg != c->reg || in.high_byte != c->high_byte)))
			fail_msg("case %u '%s': r=%d len %u op %u size %u reg_size %u reg %u high %d imm %#llx seg %u", i,
				 c->text, r, in.len, in.op, in.size, in.reg_size, in.reg, in.high_byte,
				 (unsigned long long)in.imm, in.seg);
		/* Every byte is needed: one fewer is "truncated". */
		assert_int_equal(x86_decode_mmio(c->bytes, c->len - 1u, c->mode, &in), X86_DECODE_TRUNCATED);
	}
}

static void test_errors(void **state)
{
	struct x86_insn in;
	static const uint8_t reg_form[] = { 0x89, 0xc0 };
	assert_int_equal(x86_decode_mmio(reg_form, 2, M32, &in), X86_DECODE_NOT_MEMORY);
	static const uint8_t rep_movs[] = { 0xf3, 0xa5 };
	assert_int_equal(x86_decode_mmio(rep_movs, 2, M32, &in), X86_DECODE_UNSUPPORTED);
	static const uint8_t add[] = { 0x01, 0x03 };
	assert_int_equal(x86_decode_mmio(add, 2, M32, &in), X86_DECODE_UNSUPPORTED);
	static const uint8_t c7_reg1[] = { 0xc7, 0x08, 0, 0, 0, 0 };
	assert_int_equal(x86_decode_mmio(c7_reg1, 6, M32, &in), X86_DECODE_UNSUPPORTED);
	static const uint8_t lock_mov[] = { 0xf0, 0x89, 0x03 };
	assert_int_equal(x86_decode_mmio(lock_mov, 3, M32, &in), X86_DECODE_UNSUPPORTED);
	/* 0x48 is REX.W only in 64-bit mode; in 32-bit mode it is DEC EAX. */
	static const uint8_t dec[] = { 0x48, 0x89, 0x03 };
	assert_int_equal(x86_decode_mmio(dec, 3, M32, &in), X86_DECODE_UNSUPPORTED);
	static const uint8_t other_0f[] = { 0x0f, 0x01, 0x00 };
	assert_int_equal(x86_decode_mmio(other_0f, 3, M32, &in), X86_DECODE_UNSUPPORTED);
	/* More than 15 bytes of prefixes: never a valid instruction. */
	uint8_t many[20];
	memset(many, 0x66, sizeof(many));
	assert_int_equal(x86_decode_mmio(many, sizeof(many), M32, &in), X86_DECODE_TRUNCATED);
	assert_int_equal(x86_decode_mmio(many, 0, M32, &in), X86_DECODE_TRUNCATED);
	assert_string_equal(x86_decode_strerror(X86_DECODE_UNSUPPORTED), "instruction not supported for MMIO emulation");
}

/* Every byte string of up to 4 bytes decodes or fails cleanly, and a
 * success never claims more bytes than it was given. */
static void test_exhaustive_short(void **state)
{
	uint8_t b[4];
	struct x86_insn in;
	unsigned ok = 0;
	for (unsigned m = 0; m < 3; m++)
		for (uint32_t v = 0; v < (1u << 24); v += 7) {
			b[0] = (uint8_t)v;
			b[1] = (uint8_t)(v >> 8);
			b[2] = (uint8_t)(v >> 16);
			b[3] = 0x5a;
			int r = x86_decode_mmio(b, 4, (enum x86_mode)m, &in);
			if (r == X86_DECODE_OK) {
				assert_true(in.len >= 1 && in.len <= 4);
				assert_true(in.size == 1 || in.size == 2 || in.size == 4 || in.size == 8);
				ok++;
			} else {
				assert_true(r == X86_DECODE_TRUNCATED || r == X86_DECODE_UNSUPPORTED ||
					    r == X86_DECODE_NOT_MEMORY);
			}
		}
	assert_true(ok > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_exhaustive_short),
	};
	return cmocka_run_group_tests_name("x86_decode", tests, NULL, NULL);
}
