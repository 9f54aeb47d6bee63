#include <keel/console.h>
#include <keel/tsc.h>
#include <x86/cpu.h>
#include <x86/io.h>

uint64_t tsc_hz;
struct cpuid_regs tsc_host_leaf15;
uint64_t tsc_boot;
uint64_t tsc_ns_mult;
uint64_t tsc_ns_inverse;

/* The PIT's input clock (8254 datasheet; the PC's 14.31818 MHz / 12). */
#define PIT_HZ 1193182u
#define PIT_CAL_COUNT 11932u /* 10 ms */

static uint64_t tsc_from_pit(void)
{
	/* Channel 2, mode 0, gate via port 0x61 bit 0, speaker off: OUT2
	 * (0x61 bit 5) goes high when the count expires. */
	uint8_t p61 = inb(0x61);
	outb(0x61, (p61 & ~0x02) | 0x01);
	outb(0x43, 0xb0);
	outb(0x42, PIT_CAL_COUNT & 0xff);
	outb(0x42, PIT_CAL_COUNT >> 8);
	uint64_t t0 = rdtsc();
	uint64_t spins = 0;
	while (!(inb(0x61) & 0x20)) {
		if (++spins > 100000000ULL) {
			outb(0x61, p61);
			return 0; /* no PIT (some modern machines): caller reports */
		}
	}
	uint64_t t1 = rdtsc();
	outb(0x61, p61);
	return (t1 - t0) * PIT_HZ / PIT_CAL_COUNT;
}

void tsc_init(void)
{
	uint32_t a, b, c, d, max;
	const char *src = "PIT calibration";

	cpuid(0, &max, &b, &c, &d);
	tsc_hz = 0;
	if (max >= 0x15) {
		cpuid(0x15, &a, &b, &c, &d);
		tsc_host_leaf15 = (struct cpuid_regs){ a, b, c, d };
		if (cpuid_leaf15_states_rate(tsc_host_leaf15)) {
			tsc_hz = (uint64_t)c * b / a;
			src = "CPUID 0x15";
		}
	}
	if (!tsc_hz)
		tsc_hz = tsc_from_pit();
	if (!tsc_hz && max >= 0x16) {
		cpuid(0x16, &a, &b, &c, &d);
		if (a) {
			tsc_hz = (uint64_t)a * 1000000;
			src = "CPUID 0x16 base frequency";
		}
	}
	if (!tsc_hz) {
		tsc_hz = 1000000000ULL;
		src = "a guess (no PIT, no CPUID leaf): timing will be wrong";
	}
	tsc_ns_mult = ((uint64_t)1000000000 << 32) / tsc_hz;
	tsc_ns_inverse = (uint64_t)(((unsigned __int128)tsc_hz << 32) / 1000000000u);

	cpuid(0x80000000, &max, &b, &c, &d);
	bool inv = false;
	if (max >= 0x80000007) {
		cpuid(0x80000007, &a, &b, &c, &d);
		inv = d & CPUID_80000007_EDX_INVARIANT_TSC;
	}
	pr_info("tsc: %lu.%03lu MHz (from %s), %s; Keel's entry at TSC %lu\n", tsc_hz / 1000000,
		(tsc_hz / 1000) % 1000, src, inv ? "invariant" : "not invariant: guest time may drift if the CPU changes frequency",
		tsc_boot);
}


