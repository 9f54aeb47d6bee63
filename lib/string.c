/* The few libc string functions Keel needs. GCC may emit calls to
 * memcpy/memset/memmove/memcmp even with -ffreestanding, so they exist
 * under their standard names. */
#include <keel/string.h>

#ifndef KEEL_HOST_TEST
#ifdef __x86_64__
#define WORD_COPY "rep movsq"
#define WORD_STORE "rep stosq"
#else
#define WORD_COPY "rep movsl"
#define WORD_STORE "rep stosl"
#endif

/* Word-sized string instructions: emulators (and older CPUs) cost one step
 * per iteration, so zeroing a guest's RAM byte by byte is 8 times slower. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *ret = dst;
	size_t words = n / sizeof(long), rest = n % sizeof(long);
	__asm__ volatile(WORD_COPY : "+D"(dst), "+S"(src), "+c"(words)::"memory");
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(rest)::"memory");
	return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *ret = dst;
	unsigned long pattern = (unsigned char)c * (~0UL / 0xff);
	size_t words = n / sizeof(long), rest = n % sizeof(long);
	__asm__ volatile(WORD_STORE : "+D"(dst), "+c"(words) : "a"(pattern) : "memory");
	__asm__ volatile("rep stosb" : "+D"(dst), "+c"(rest) : "a"(pattern) : "memory");
	return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	for (size_t i = 0; i < n; i++)
		if (p[i] != q[i])
			return p[i] - q[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	for (size_t i = 0; i < n; i++)
		if (p[i] == (unsigned char)c)
			return (void *)(p + i);
	return NULL;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}
#endif

size_t kstrlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
