/*
 * libFuzzer harness for the local APIC model (hvm/dev/vlapic.c), both
 * modes: up to four APICs on one bus, driven by the guest's accesses
 * (MMIO reads/writes, x2APIC MSR reads/writes, IA32_APIC_BASE writes),
 * the CPU's side (acknowledging a vector, APIC-write completions), INIT,
 * RESET, I/O APIC messages and time.
 *
 * Input: byte 0 = APIC count - 1 (mod 4), byte 1 bit 0 = x2APIC offered;
 * then operations, each an opcode byte (mod 10) and its operands.
 *
 * Invariants checked after every operation, for every APIC:
 *   - IA32_APIC_BASE is never EN=0 with EXTD=1, and never EXTD when x2APIC
 *     is not offered;
 *   - in x2APIC mode the page holds the 32-bit x2APIC ID (= the index) and
 *     the derived LDR, the MMIO page does not decode, and reading the ID
 *     and LDR through their MSRs gives those values; outside it every
 *     x2APIC MSR access is refused;
 *   - the pending vector is -1 or 16-255 and above the PPR's class, and
 *     acknowledging gives that same vector.
 */
#include <string.h>

#include <keel/vlapic.h>

#include "fuzz_input.h"

#define NR 4

static uint64_t clock_ns;
static uint64_t clock_now(void *ctx) { return clock_ns; }
static const struct vclock clk = { clock_now, NULL };

static bool p_init(void *ctx, unsigned i) { return i != 0; }
static void p_start(void *ctx, unsigned i, uint8_t v) {}
static void p_kick(void *ctx, unsigned i) {}
static void p_eoi(void *ctx, uint8_t v) {}
static const struct vlapic_bus_ops ops = { p_init, p_start, p_kick, p_eoi };

static struct vlapic_bus bus;
static struct vlapic lapic[NR];
static uint32_t pages[NR][1024];

static void check_apic(struct vlapic *l, unsigned i)
{
	uint64_t base = vlapic_base_msr(l), v;
	require(!((base & VLAPIC_BASE_EXTD) && !(base & VLAPIC_BASE_ENABLE))); /* IA32_APIC_BASE in the invalid state */
	require(bus.x2apic || !(base & VLAPIC_BASE_EXTD)); /* EXTD set though x2APIC is not offered */
	if (vlapic_x2apic_mode(l)) {
		require(!vlapic_mmio_decodes(l)); /* the MMIO page decodes in x2APIC mode */
		require(pages[i][APIC_REG_ID >> 2] == i); /* x2APIC ID in the page is not the index */
		require(pages[i][APIC_REG_LDR >> 2] == (((i >> 4) << 16) | (1u << (i & 15)))); /* LDR not derived */
		require(vlapic_x2apic_read(l, X2APIC_MSR_ID, &v) == 0 && v == i); /* RDMSR 0x802 is not the x2APIC ID */
		require(vlapic_x2apic_read(l, X2APIC_MSR_EOI, &v) == -1); /* RDMSR of the write-only EOI succeeded */
	} else {
		require(vlapic_x2apic_read(l, X2APIC_MSR_TPR, &v) == -1); /* an x2APIC MSR read outside x2APIC mode */
	}
	int p = vlapic_pending_vector(l);
	require(p == -1 || (p >= 16 && p <= 255)); /* pending vector out of range */
	if (p >= 0)
		require(((uint32_t)p & 0xf0) > (vlapic_ppr(l) & 0xf0)); /* pending vector not above the PPR */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	unsigned n = fin_u8(&in) % NR + 1;
	clock_ns = 0;
	vlapic_bus_init(&bus, &ops, NULL);
	bus.x2apic = fin_u8(&in) & 1;
	for (unsigned i = 0; i < n; i++)
		vlapic_init(&lapic[i], &bus, i, &clk, pages[i]);
	while (in.left) {
		uint8_t op = fin_u8(&in) % 10;
		struct vlapic *l = &lapic[fin_u8(&in) % n];
		uint64_t v;
		switch (op) {
		case 0: /* MMIO write, as mmio.c: only while the page decodes */
			v = fin_u16(&in);
			if (vlapic_mmio_decodes(l))
				vlapic_mmio_write(l, (uint32_t)v & 0xfff, 4, fin_u32(&in));
			break;
		case 1:
			v = fin_u16(&in);
			if (vlapic_mmio_decodes(l))
				(void)vlapic_mmio_read(l, (uint32_t)v & 0xfff, 1u << (fin_u8(&in) % 4));
			break;
		case 2: {
			uint32_t msr = X2APIC_MSR_BASE + fin_u8(&in);
			v = fin_u64(&in);
			(void)vlapic_x2apic_write(l, msr, v);
			break;
		}
		case 3: {
			uint32_t msr = X2APIC_MSR_BASE + fin_u8(&in);
			(void)vlapic_x2apic_read(l, msr, &v);
			break;
		}
		case 4: /* IA32_APIC_BASE: mostly the mode bits */
			v = VLAPIC_DEFAULT_BASE | ((uint64_t)(fin_u8(&in) & 0x0f) << 8);
			if (fin_u8(&in) == 0xff)
				v ^= fin_u64(&in);
			(void)vlapic_set_base_msr(l, v, 36 + fin_u8(&in) % 17);
			break;
		case 5: {
			int want = vlapic_pending_vector(l);
			int got = vlapic_ack(l);
			require(got == want); /* vlapic_ack took another vector than the pending one */
			break;
		}
		case 6:
			clock_ns += (uint64_t)fin_u16(&in) << (fin_u8(&in) % 24);
			vlapic_update(l);
			break;
		case 7:
			if (fin_u8(&in) & 1)
				vlapic_init_reset(l);
			else
				vlapic_power_reset(l);
			break;
		case 8: { /* an I/O APIC message */
			struct vlapic_msg m = { .vector = fin_u8(&in), .delivery = fin_u8(&in) % 2, .dest = fin_u8(&in) };
			m.logical = m.dest & 1;
			(void)vlapic_bus_deliver(&bus, NULL, &m);
			break;
		}
		case 9: /* an APIC-write completion (APIC-register virtualization) */
			if (vlapic_mmio_decodes(l))
				vlapic_apic_write(l, fin_u16(&in) & 0xff0);
			break;
		}
		for (unsigned i = 0; i < n; i++)
			check_apic(&lapic[i], i);
	}
	return 0;
}
