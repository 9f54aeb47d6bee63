/* The value of key=... in a test kernel's command line ("" if absent):
 * shared by the C test kernels (mb1test, regtest). Needs <keel/string.h>. */
#ifndef FIRMWARE_COMMON_CMDLINE_ARG_H
#define FIRMWARE_COMMON_CMDLINE_ARG_H

static void cmdline_arg(const char *cmdline, const char *key, char *out, unsigned outlen)
{
	size_t klen = strlen(key);
	out[0] = 0;
	for (const char *p = cmdline; p && *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			unsigned n = 0;
			p += klen + 1;
			while (*p && *p != ' ' && n + 1 < outlen)
				out[n++] = *p++;
			out[n] = 0;
			return;
		}
		while (*p && *p != ' ')
			p++;
	}
}

#endif
