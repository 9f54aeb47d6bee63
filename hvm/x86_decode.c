/*
 * Decoder of MMIO loads and stores (Intel SDM Vol. 2, chapter 2: prefixes,
 * REX, ModRM, SIB, displacement, immediate). Anything outside the short
 * list in include/keel/x86_decode.h is reported as unsupported; the caller
 * stops the guest with the bytes rather than guessing.
 */
#include <keel/string.h>
#include <keel/x86_decode.h>

const char *x86_decode_strerror(int err)
{
	switch (err) {
	case X86_DECODE_OK:
		return "ok";
	case X86_DECODE_TRUNCATED:
		return "instruction truncated";
	case X86_DECODE_NOT_MEMORY:
		return "register operand where memory was expected";
	default:
		return "instruction not supported for MMIO emulation";
	}
}

/* Length of ModRM + SIB + displacement starting at p (ModRM at p[0]). */
static int modrm_len(const uint8_t *p, unsigned avail, unsigned addr_size)
{
	if (avail < 1)
		return X86_DECODE_TRUNCATED;
	uint8_t modrm = p[0];
	unsigned mod = modrm >> 6, rm = modrm & 7, len = 1;
	if (mod == 3)
		return X86_DECODE_NOT_MEMORY;
	if (addr_size == 2) {
		/* 16-bit addressing (SDM table 2-1): no SIB; [disp16] when
		 * mod=0, rm=6. */
		if (mod == 1)
			len += 1;
		else if (mod == 2 || (mod == 0 && rm == 6))
			len += 2;
		return len <= avail ? (int)len : X86_DECODE_TRUNCATED;
	}
	/* 32/64-bit addressing (SDM tables 2-2, 2-3). */
	if (rm == 4) {
		if (avail < 2)
			return X86_DECODE_TRUNCATED;
		uint8_t sib = p[1];
		len += 1;
		if (mod == 0 && (sib & 7) == 5)
			len += 4; /* no base: disp32 */
	}
	if (mod == 1)
		len += 1;
	else if (mod == 2 || (mod == 0 && rm == 5))
		len += 4; /* disp32 (RIP-relative in 64-bit mode) */
	return len <= avail ? (int)len : X86_DECODE_TRUNCATED;
}

static uint64_t read_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int x86_decode_mmio(const uint8_t *bytes, unsigned avail, enum x86_mode mode, struct x86_insn *out)
{
	unsigned i = 0;
	bool opsize_prefix = false, addrsize_prefix = false;
	uint8_t rex = 0;

	memset(out, 0, sizeof(*out));
	out->seg = X86_SEG_NONE;
	if (avail > X86_MAX_INSN_LEN)
		avail = X86_MAX_INSN_LEN;

	/* Legacy prefixes, then (64-bit mode) one REX right before the opcode. */
	for (;; i++) {
		if (i >= avail)
			return X86_DECODE_TRUNCATED;
		uint8_t b = bytes[i];
		switch (b) {
		case 0x66:
			opsize_prefix = true;
			rex = 0; /* a REX not directly before the opcode is ignored */
			continue;
		case 0x67:
			addrsize_prefix = true;
			rex = 0;
			continue;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			out->seg = (enum x86_seg)((b >> 3) & 3);
			rex = 0;
			continue;
		case 0x64:
			out->seg = X86_SEG_FS;
			rex = 0;
			continue;
		case 0x65:
			out->seg = X86_SEG_GS;
			rex = 0;
			continue;
		case 0xf0: /* LOCK MOV is #UD; REP/REPNE MOV is not a string op */
		case 0xf2:
		case 0xf3:
			return X86_DECODE_UNSUPPORTED;
		default:
			break;
		}
		if (mode == X86_MODE_64 && (b & 0xf0) == 0x40) {
			rex = b;
			continue;
		}
		break;
	}

	bool rex_w = rex & 8, rex_r = rex & 4;
	unsigned addr_size, op_size;
	switch (mode) {
	case X86_MODE_16:
		addr_size = addrsize_prefix ? 4 : 2;
		op_size = opsize_prefix ? 4 : 2;
		break;
	case X86_MODE_32:
		addr_size = addrsize_prefix ? 2 : 4;
		op_size = opsize_prefix ? 2 : 4;
		break;
	default:
		addr_size = addrsize_prefix ? 4 : 8;
		op_size = rex_w ? 8 : opsize_prefix ? 2 : 4;
		break;
	}
	out->addr_size = (uint8_t)addr_size;

	uint8_t op = bytes[i++];
	out->opcode = op;
	bool two_byte = false;
	if (op == 0x0f) {
		if (i >= avail)
			return X86_DECODE_TRUNCATED;
		op = bytes[i++];
		out->opcode = op;
		two_byte = true;
	}

	if (!two_byte && op >= 0xa0 && op <= 0xa3) {
		/* MOV with a direct address (moffs) of address-size bytes. */
		if (i + addr_size > avail)
			return X86_DECODE_TRUNCATED;
		out->size = (op & 1) ? (uint8_t)op_size : 1;
		out->reg_size = out->size;
		out->reg = 0; /* AL / eAX / rAX */
		out->op = op < 0xa2 ? X86_OP_LOAD : X86_OP_STORE;
		out->len = (uint8_t)(i + addr_size);
		return X86_DECODE_OK;
	}

	bool byte_op;
	if (two_byte) {
		if (op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf)
			return X86_DECODE_UNSUPPORTED;
		/* MOVZX / MOVSX: memory byte or word into a wider register. */
		out->op = X86_OP_LOAD;
		out->size = (op & 1) ? 2 : 1;
		out->reg_size = (uint8_t)op_size;
		out->sign_extend = op >= 0xbe;
		byte_op = false;
	} else {
		switch (op) {
		case 0x88: /* MOV r/m8, r8 */
		case 0x89: /* MOV r/m, r */
			out->op = X86_OP_STORE;
			break;
		case 0x8a: /* MOV r8, r/m8 */
		case 0x8b: /* MOV r, r/m */
			out->op = X86_OP_LOAD;
			break;
		case 0xc6: /* MOV r/m8, imm8 */
		case 0xc7: /* MOV r/m, imm16/32 */
			out->op = X86_OP_STORE_IMM;
			break;
		default:
			return X86_DECODE_UNSUPPORTED;
		}
		byte_op = !(op & 1);
		out->size = byte_op ? 1 : (uint8_t)op_size;
		out->reg_size = out->size;
	}

	if (i >= avail)
		return X86_DECODE_TRUNCATED;
	uint8_t modrm = bytes[i];
	int ml = modrm_len(bytes + i, avail - i, addr_size);
	if (ml < 0)
		return ml;
	unsigned reg = (modrm >> 3) & 7;
	i += (unsigned)ml;

	if (out->op == X86_OP_STORE_IMM) {
		if (reg != 0)
			return X86_DECODE_UNSUPPORTED; /* C6/C7 /1-/7 are other instructions */
		unsigned isz = out->size > 4 ? 4 : out->size;
		if (i + isz > avail)
			return X86_DECODE_TRUNCATED;
		uint64_t imm = read_le(bytes + i, isz);
		if (out->size == 8 && (imm & 0x80000000u))
			imm |= 0xffffffff00000000ULL; /* imm32 sign-extended to 64 */
		out->imm = imm;
		i += isz;
	} else {
		out->reg = (uint8_t)(reg | (rex_r ? 8 : 0));
		/* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
		if (byte_op && !rex && reg >= 4) {
			out->high_byte = true;
			out->reg = (uint8_t)(reg - 4);
		}
	}
	out->len = (uint8_t)i;
	return X86_DECODE_OK;
}
