/* hvmloader's own helpers, shared by its files (loader/main.c). */
#ifndef LOADER_LOADER_H
#define LOADER_LOADER_H

#include <stdint.h>

/* Text on the debug port 0xE9 (Keel prints it with the guest's prefix). */
void print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint32_t keel_hypercall(uint32_t nr, uint32_t arg);

#endif
