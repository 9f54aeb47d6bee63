/* Guest text on Keel's console (hvm/guest_output.c): escape sequences are
 * dropped whole and counted, the text around them kept, and no ESC byte
 * (nor other control character) ever reaches the operator's terminal,
 * whatever bytes the guest writes. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/guest_output.h>

static char out[65536];
static size_t out_len;
static unsigned nlines;

static void capture(void *ctx, const char *line, size_t len)
{
	assert_true(out_len + len < sizeof(out));
	memcpy(out + out_len, line, len);
	out_len += len;
	out[out_len] = 0;
	nlines++;
}

static void start(struct guest_output *o)
{
	out_len = 0;
	out[0] = 0;
	nlines = 0;
	guest_output_init(o, "[g] ", capture, NULL);
}

static void put(struct guest_output *o, const char *s)
{
	for (; *s; s++)
		guest_output_putc(o, (uint8_t)*s);
}

/* What SeaBIOS's serial console writes first, as `make run` showed it:
 * "[g0] .c.[?7l.[2J.[0mSeaBIOS (version ...)". */
static void test_seabios_screen_setup(void **state)
{
	struct guest_output o;
	start(&o);
	put(&o, "\x1b" "c\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2-debian-1.16.2-1)\n");
	assert_string_equal(out, "[g] SeaBIOS (version 1.16.2-debian-1.16.2-1)\n");
	assert_int_equal(o.escapes_dropped, 4);
}

static void test_csi_parameters_intermediates_final(void **state)
{
	struct guest_output o;
	start(&o);
	/* Cursor position with two parameters; colour; DECSCUSR has an
	 * intermediate byte (space) before its final 'q'. */
	put(&o, "a\x1b[12;40Hb\x1b[1;31;44mc\x1b[2 qd\x1b[>0;1c" "e\n");
	assert_string_equal(out, "[g] abcde\n");
	assert_int_equal(o.escapes_dropped, 4);
	/* The final byte can be any of 0x40-0x7E, '@' and '~' included. */
	start(&o);
	put(&o, "x\x1b[2@y\x1b[3~z\n");
	assert_string_equal(out, "[g] xyz\n");
	assert_int_equal(o.escapes_dropped, 2);
}

static void test_short_escape_forms(void **state)
{
	struct guest_output o;
	start(&o);
	/* ESC 7 / ESC 8 (save/restore cursor), ESC M (reverse index), ESC =
	 * (keypad), ESC ( B (charset: an intermediate, then the final). */
	put(&o, "1\x1b" "72\x1b" "83\x1bM4\x1b=5\x1b(B6\x1b#87\n");
	assert_string_equal(out, "[g] 1234567\n");
	assert_int_equal(o.escapes_dropped, 6);
}

static void test_sequence_split_across_writes(void **state)
{
	struct guest_output o;
	start(&o);
	/* One byte per write (as the UART and the debug port deliver them),
	 * and a line flushed in between: the state lives in the sink. */
	put(&o, "left\x1b");
	put(&o, "[");
	put(&o, "1");
	put(&o, ";2");
	guest_output_flush(&o); /* "left" goes out; the sequence stays open */
	put(&o, "Hright\n");
	assert_string_equal(out, "[g] left\n[g] right\n");
	assert_int_equal(o.escapes_dropped, 1);
	/* A sequence cut by the end of a long line is still dropped whole. */
	start(&o);
	for (int i = 0; i < GUEST_LINE_MAX - 1; i++)
		guest_output_putc(&o, 'x');
	put(&o, "\x1b[0m");
	assert_int_equal(nlines, 0);
	put(&o, "y");
	assert_int_equal(nlines, 1);
	assert_int_equal(o.escapes_dropped, 1);
}

static void test_control_inside_sequence(void **state)
{
	struct guest_output o;
	start(&o);
	/* A newline ends an unfinished sequence and is still a newline; an ESC
	 * inside one starts the next. */
	put(&o, "a\x1b[12\nb\x1b[3\x1b[4mc\n");
	assert_string_equal(out, "[g] a\n[g] bc\n");
	assert_int_equal(o.escapes_dropped, 3);
	/* Other controls: the sequence ends, the control shows as '.'. */
	start(&o);
	put(&o, "d\x1b\x01" "e\n");
	assert_string_equal(out, "[g] d.e\n");
	assert_int_equal(o.escapes_dropped, 1);
}

static void test_endless_sequence_is_cut(void **state)
{
	struct guest_output o;
	start(&o);
	/* A guest cannot hide its text behind a sequence that never ends:
	 * after GUEST_ESC_MAX bytes the rest is text again. */
	put(&o, "\x1b[");
	for (int i = 0; i < GUEST_ESC_MAX - 2; i++)
		guest_output_putc(&o, '1');
	put(&o, "seen\n");
	assert_string_equal(out, "[g] seen\n");
	assert_int_equal(o.escapes_dropped, 1);
}

static void test_no_escape_byte_ever_reaches_the_console(void **state)
{
	struct guest_output o;
	srand(20);
	for (int round = 0; round < 200; round++) {
		start(&o);
		for (int i = 0; i < 300; i++) {
			/* Escape-heavy noise: ESC, '[', digits, finals and anything. */
			static const uint8_t pick[] = { 0x1b, 0x1b, '[', '1', ';', 'm', 'H', ' ', '(', '\n', 0x9b, 0x7f };
			uint8_t c = rand() % 3 ? pick[rand() % sizeof(pick)] : (uint8_t)rand();
			guest_output_putc(&o, c);
		}
		guest_output_flush(&o);
		for (size_t k = 0; k < out_len; k++) {
			uint8_t c = (uint8_t)out[k];
			assert_true(c != 0x1b);
			assert_true(c >= 0x20 ? c != 0x7f : (c == '\n' || c == '\t'));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seabios_screen_setup),
		cmocka_unit_test(test_csi_parameters_intermediates_final),
		cmocka_unit_test(test_short_escape_forms),
		cmocka_unit_test(test_sequence_split_across_writes),
		cmocka_unit_test(test_control_inside_sequence),
		cmocka_unit_test(test_endless_sequence_is_cut),
		cmocka_unit_test(test_no_escape_byte_ever_reaches_the_console),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
