/* Reads the machine's RTC once at boot, to start each guest's clock at the
 * real date and time. */
#include <keel/console.h>
#include <keel/vrtc.h>
#include <x86/io.h>

static uint8_t cmos_read(uint8_t idx)
{
	outb(0x70, idx | 0x80); /* keep NMIs masked while we poke CMOS */
	return inb(0x71);
}

static unsigned bcd(uint8_t v, bool binary) { return binary ? v : (v >> 4) * 10 + (v & 15); }

void host_rtc_read(struct vrtc_time *t);
void host_rtc_read(struct vrtc_time *t)
{
	/* Wait out an update in progress (register A bit 7), bounded. */
	for (int i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
		;
	uint8_t b = cmos_read(0x0b);
	bool binary = b & 0x04, h24 = b & 0x02;
	t->sec = bcd(cmos_read(0x00), binary);
	t->min = bcd(cmos_read(0x02), binary);
	uint8_t hr = cmos_read(0x04);
	bool pm = hr & 0x80;
	t->hour = bcd(hr & 0x7f, binary);
	if (!h24) {
		t->hour %= 12;
		if (pm)
			t->hour += 12;
	}
	t->wday = bcd(cmos_read(0x06), binary);
	t->day = bcd(cmos_read(0x07), binary);
	t->month = bcd(cmos_read(0x08), binary);
	unsigned century = bcd(cmos_read(0x32), binary);
	t->year = (century ? century : 20) * 100 + bcd(cmos_read(0x09), binary);
	outb(0x70, 0x0d); /* leave NMIs enabled, index on a harmless register */
}
