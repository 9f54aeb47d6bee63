/* hvmloader's own helpers, shared by its files (loader/main.c). */
#ifndef LOADER_LOADER_H
#define LOADER_LOADER_H

#include <stdint.h>

/* Text on the debug port 0xE9 (Keel prints it with the guest's prefix). */
void print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint32_t keel_hypercall(uint32_t nr, uint32_t arg);
/* The guest's memory map, one line per entry, on the debug port. */
struct e820_entry;
void e820_print(const struct e820_entry *e, unsigned n);

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

#endif
