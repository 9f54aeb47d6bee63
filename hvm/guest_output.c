/* Line buffering of guest text with a per-guest prefix. */
#include <keel/guest_output.h>
#include <keel/string.h>

void guest_output_init(struct guest_output *o, const char *prefix, void (*emit)(void *, const char *, size_t),
		       void *ctx)
{
	o->prefix = prefix;
	o->emit = emit;
	o->ctx = ctx;
	o->len = 0;
	o->bytes = 0;
}

void guest_output_flush(struct guest_output *o)
{
	char buf[GUEST_LINE_MAX + 40];
	size_t plen = strnlen(o->prefix, 32);

	if (o->len == 0)
		return;
	memcpy(buf, o->prefix, plen);
	memcpy(buf + plen, o->line, o->len);
	buf[plen + o->len] = '\n';
	o->emit(o->ctx, buf, plen + o->len + 1);
	o->len = 0;
}

void guest_output_putc(struct guest_output *o, uint8_t c)
{
	o->bytes++;
	if (c == '\n') {
		if (o->len == 0) {
			/* An empty line still shows, with its prefix. */
			char buf[40];
			size_t plen = strnlen(o->prefix, 32);
			memcpy(buf, o->prefix, plen);
			buf[plen] = '\n';
			o->emit(o->ctx, buf, plen + 1);
			return;
		}
		guest_output_flush(o);
		return;
	}
	if (c == '\r' || c == 0)
		return;
	/* Control characters other than tab would garble the host terminal. */
	if ((c < 0x20 && c != '\t') || c == 0x7f)
		c = '.';
	o->line[o->len++] = (char)c;
	if (o->len == GUEST_LINE_MAX)
		guest_output_flush(o);
}
