/* mb1test's shared helpers (firmware/mb1test/mb1test.c). */
#ifndef MB1TEST_H
#define MB1TEST_H

#include <stdint.h>

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Records a failure (printed as "mb1test: FAIL what") unless ok. */
void check(int ok, const char *what);

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* The failures check() has counted so far. */
unsigned mb1test_failures(void);
/* The first 16-byte-aligned address in 0xE0000-0xFFFFF that holds sig, or 0. */
uint32_t find_signature(const char *sig, unsigned len);
/* conform.c: the behaviours of conform=NAME[+NAME...]; ram_top: RAM size. */
void conform_test(const char *what, uint32_t ram_top);

/* highmem.c: write and read back both ends of [base, base+len) above
 * 4 GiB through PAE paging. */
void highmem_test(uint64_t base, uint64_t len);

/* irqtest.c: PIT interrupts through the I/O APIC or the 8259A. */
void irq_test(const char *mode);
/* apictest.c: the local APIC's IPIs, priorities, TPR, EOI and timer. */
void apic_test(void);
/* x2apictest.c: the local APIC in x2APIC mode (arg: vCPU count, or off). */
void x2apic_test(const char *arg);

#endif
