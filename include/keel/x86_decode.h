/*
 * A small x86 instruction decoder for the instructions guests use on MMIO
 * (loads and stores: MOV 88/89/8A/8B/C6/C7, MOV moffs A0-A3, MOVZX/MOVSX
 * 0F B6/B7/BE/BF) in 16-, 32- and 64-bit mode, with operand-size,
 * address-size and segment prefixes and REX. Pure (hvm/x86_decode.c): it
 * sees instruction bytes and the CPU mode, never the guest. The guest-
 * physical address comes from the EPT violation, so the decoder only needs
 * the instruction's length, direction, width and register or immediate.
 */
#ifndef KEEL_X86_DECODE_H
#define KEEL_X86_DECODE_H

#include <keel/types.h>

#define X86_MAX_INSN_LEN 15

enum x86_mode { X86_MODE_16, X86_MODE_32, X86_MODE_64 };

enum x86_mmio_op {
	X86_OP_LOAD,      /* register <- memory */
	X86_OP_STORE,     /* memory <- register */
	X86_OP_STORE_IMM, /* memory <- immediate */
};

enum x86_decode_error {
	X86_DECODE_OK = 0,
	X86_DECODE_TRUNCATED = -1,   /* needs more bytes than given */
	X86_DECODE_UNSUPPORTED = -2, /* not an instruction this decoder knows */
	X86_DECODE_NOT_MEMORY = -3,  /* a register-only form (ModRM.mod = 3) */
};

/* Segment override prefixes, as the SDM numbers the segment registers. */
enum x86_seg { X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS, X86_SEG_NONE };

struct x86_insn {
	uint8_t len;        /* bytes, prefixes included */
	enum x86_mmio_op op;
	uint8_t size;       /* bytes of memory accessed: 1, 2, 4, 8 */
	uint8_t reg_size;   /* bytes of the register operand (> size for MOVZX/MOVSX) */
	uint8_t reg;        /* GPR number 0-15 in SDM order (0 = rAX ... 4 = rSP) */
	bool high_byte;     /* bits 15:8 of reg 0-3: AH, CH, DH, BH (8-bit, no REX) */
	bool sign_extend;   /* MOVSX */
	uint64_t imm;       /* STORE_IMM: the value, sign-extended to `size` */
	enum x86_seg seg;   /* segment override, X86_SEG_NONE if absent */
	uint8_t addr_size;  /* 2, 4 or 8 */
	uint8_t opcode;     /* primary opcode (second byte for 0F xx) */
};

/* Decodes one instruction from bytes[0..avail). Returns X86_DECODE_OK or a
 * negative enum x86_decode_error. */
int x86_decode_mmio(const uint8_t *bytes, unsigned avail, enum x86_mode mode, struct x86_insn *out);
/* Words for an error, for the message that stops the guest. */
const char *x86_decode_strerror(int err);

#endif
