/*
 * libFuzzer harness for the MMIO instruction decoder (hvm/x86_decode.c),
 * which reads instruction bytes a guest controls.
 *
 * Input: byte 0 picks the CPU mode (16/32/64-bit), byte 1 how many of the
 * following bytes are available (a fetch may stop at a page end); the rest
 * are the instruction bytes, handed over in a heap block of exactly that
 * size, so ASan catches any read past what was given. A decoded
 * instruction must lie within those bytes and the architectural 15-byte
 * limit, and its fields must be in range; a failure must have a name.
 */
#include <stdlib.h>
#include <string.h>

#include <keel/x86_decode.h>

static void require(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	enum x86_mode mode = (enum x86_mode)(data[0] % 3);
	size_t avail = data[1] % 20;
	if (avail > size - 2)
		avail = size - 2;
	uint8_t *bytes = malloc(avail ? avail : 1);
	memcpy(bytes, data + 2, avail);
	struct x86_insn insn;
	memset(&insn, 0xa5, sizeof(insn));
	int r = x86_decode_mmio(bytes, (unsigned)avail, mode, &insn);
	if (r == X86_DECODE_OK) {
		require(insn.len >= 1 && insn.len <= avail && insn.len <= X86_MAX_INSN_LEN);
		require(insn.size == 1 || insn.size == 2 || insn.size == 4 || insn.size == 8);
		require(insn.size <= 4 || mode == X86_MODE_64);
		require(insn.reg < (mode == X86_MODE_64 ? 16 : 8));
		require(insn.reg_size >= insn.size || insn.op == X86_OP_STORE_IMM);
		require(insn.addr_size == 2 || insn.addr_size == 4 || insn.addr_size == 8);
		require(insn.seg <= X86_SEG_NONE);
		require(insn.op == X86_OP_LOAD || insn.op == X86_OP_STORE || insn.op == X86_OP_STORE_IMM);
		require(!insn.high_byte || (insn.size == 1 && insn.reg < 4));
	} else {
		const char *why = x86_decode_strerror(r);
		require(why && why[0]);
	}
	free(bytes);
	return 0;
}
