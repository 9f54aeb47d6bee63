/* printf-style formatting into a buffer, independent of any output device.
 * Supports: %d %i %u %x %X %o %c %s %p %%, flags '-' '0' ' ' '+' '#',
 * width and precision (also '*'), length modifiers hh h l ll z t j. */
#ifndef KEEL_FORMAT_H
#define KEEL_FORMAT_H

#include <keel/types.h>
#include <stdarg.h>

/* Returns the length the full output would have had, like C99 vsnprintf. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
