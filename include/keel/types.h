/* Fixed-width types for Keel. Freestanding builds get them from the
 * compiler's <stdint.h>/<stddef.h>/<stdbool.h>, which need no libc. */
#ifndef KEEL_TYPES_H
#define KEEL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t; /* host-physical address */
typedef uint64_t gpa_t;   /* guest-physical address */

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096UL
#define LARGE_PAGE_SIZE (2UL << 20)

#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))

/* The bits an access of `bytes` bytes (1, 2, 4 or 8) carries. */
static inline uint64_t width_mask(unsigned bytes) { return bytes >= 8 ? ~0ULL : (1ULL << (bytes * 8)) - 1; }
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((uint64_t)(a) - 1)) == 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))

#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)

#endif
