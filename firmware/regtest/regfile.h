/*
 * struct regfile's layout, shared by regs.S and regtest.c (the C struct
 * checks these offsets with static asserts), and the component bits.
 */
#ifndef REGTEST_REGFILE_H
#define REGTEST_REGFILE_H

#define COMP_X87 (1 << 0)    /* ST0-7 and the FPU control word */
#define COMP_SSE (1 << 1)    /* XMM0-15 and MXCSR */
#define COMP_AVX (1 << 2)    /* YMM0-15 (upper halves) */
#define COMP_AVX512 (1 << 3) /* ZMM0-31 and k0-7 */
#define COMP_DR (1 << 4)     /* DR0-3, DR6's B0-B3, DR7 (no breakpoint enabled) */
#define COMP_XSAVE (1 << 5)  /* XCR0 as read by XGETBV */
#define COMP_KQ (1 << 6)     /* k0-7 are 64 bits wide (AVX512BW): kmovq, else kmovw */
#define COMP_CR8 (1 << 7)    /* CR8, the task priority (64-bit mode only) */

#define RF_FX 0	      /* FXSAVE image, 512 bytes */
#define RF_ZMM 512    /* 32 x 64 bytes */
#define RF_K 2560     /* 8 x 8 */
#define RF_DR 2624    /* 4 x 8 */
#define RF_DR6 2656   /* 8 */
#define RF_ST 2664    /* 8 x 16, 10 used (80-bit extended) */
#define RF_FCW 2792   /* 2 */
#define RF_MXCSR 2796 /* 4 */
#define RF_XCR0 2800  /* 8 */
#define RF_CR8 2808   /* 8 */
#define RF_DR7 2816   /* 8 */
#define RF_SIZE 2880

#endif
