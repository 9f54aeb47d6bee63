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
	o->esc = GUEST_ESC_NONE;
	o->esc_len = 0;
	o->escapes_dropped = 0;
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

static void esc_end(struct guest_output *o)
{
	o->esc = GUEST_ESC_NONE;
	o->esc_len = 0;
	o->escapes_dropped++;
}

/* True if c belongs to an escape sequence (started, continued or ended by
 * it) and is therefore left out of the line. */
static bool esc_take(struct guest_output *o, uint8_t c)
{
	if (o->esc == GUEST_ESC_NONE) {
		if (c != 0x1b)
			return false;
		o->esc = GUEST_ESC_START;
		o->esc_len = 1;
		return true;
	}
	if (c < 0x20 || c >= 0x7f || o->esc_len >= GUEST_ESC_MAX) {
		/* Not part of any sequence: the sequence so far is dropped, c is
		 * shown (or replaced) as if no sequence had been open; an ESC
		 * starts the next one. */
		esc_end(o);
		return esc_take(o, c);
	}
	o->esc_len++;
	switch (o->esc) {
	case GUEST_ESC_START:
		if (c == '[')
			o->esc = GUEST_ESC_CSI;
		else if (c < 0x30)
			o->esc = GUEST_ESC_SHORT; /* an intermediate byte: ESC ( B */
		else
			esc_end(o); /* ESC c, ESC 7, ESC M... */
		break;
	case GUEST_ESC_SHORT:
		if (c >= 0x30)
			esc_end(o);
		break;
	case GUEST_ESC_CSI:
		if (c >= 0x40) /* final byte; 0x20-0x3F are parameters and intermediates */
			esc_end(o);
		break;
	case GUEST_ESC_NONE:
		break;
	}
	return true;
}

void guest_output_putc(struct guest_output *o, uint8_t c)
{
	o->bytes++;
	if (esc_take(o, c))
		return;
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
