/*
 * The extended processor state a guest may enable with XSETBV (x87, SSE,
 * AVX, AVX-512) and the XSAVE layout CPUID leaf 0xD describes: pure logic,
 * host unit-tested. The hardware half (saving and restoring it when vCPUs
 * share a CPU) is hvm/vmx/vcpu_state.c.
 */
#ifndef KEEL_XSTATE_H
#define KEEL_XSTATE_H

#include <keel/types.h>

/* Components 0-18 (x87 .. AMX tile data) are all the SDM defines today. */
#define XSTATE_COMPONENTS 19
/* The legacy region (512 bytes) and the XSAVE header (64) come first. */
#define XSTATE_LEGACY_BYTES 512u
#define XSTATE_HEADER_BYTES 64u
#define XSTATE_BASE_BYTES (XSTATE_LEGACY_BYTES + XSTATE_HEADER_BYTES)

/* What Keel knows of the host's XSAVE, read from CPUID leaf 0xD once. */
struct xstate_layout {
	uint64_t offered;                     /* XCR0 bits guests may set; 0: no XSAVE for guests */
	uint32_t offset[XSTATE_COMPONENTS];   /* standard-format offset (sub-leaf i EBX) */
	uint32_t size[XSTATE_COMPONENTS];     /* bytes (sub-leaf i EAX) */
	uint32_t align64;                     /* bit i: 64-byte aligned when compacted (sub-leaf i ECX bit 1) */
	uint32_t sub1_eax;                    /* sub-leaf 1 EAX features offered (XSAVEOPT, XSAVEC, XGETBV1) */
};

/* Leaf 0xD sub-leaf 1 EAX bits. */
#define XSTATE_SUB1_XSAVEOPT (1u << 0)
#define XSTATE_SUB1_XSAVEC (1u << 1)
#define XSTATE_SUB1_XGETBV1 (1u << 2)
#define XSTATE_SUB1_XSAVES (1u << 3)

/* Of the components the host's XCR0 may enable, those Keel switches per
 * vCPU and offers: x87, SSE, AVX, and AVX-512's three together. MPX, PKRU,
 * AMX and the supervisor components are never offered. A component whose
 * prerequisite is missing is dropped (AVX needs SSE, AVX-512 needs AVX). */
uint64_t xstate_offerable(uint64_t host_mask);
/* Bytes of a standard-format XSAVE area holding the components in mask. */
uint32_t xstate_size(const struct xstate_layout *l, uint64_t mask);
/* The same for the compacted format (XSAVEC). */
uint32_t xstate_compacted_size(const struct xstate_layout *l, uint64_t mask);
/* Whether XSETBV may load val into XCR0 (SDM Vol. 2 XSETBV: bit 0 set; AVX
 * only with SSE; the three AVX-512 bits together and only with AVX; no bit
 * outside what CPUID offers). */
bool xcr0_valid(uint64_t val, uint64_t offered);

#endif
