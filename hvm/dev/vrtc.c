/*
 * MC146818 model (Motorola MC146818A data sheet) with the PC CMOS layout.
 * The time is kept as seconds since 1970 plus the virtual clock, and
 * converted to the registers on each read.
 */
#include <keel/string.h>
#include <keel/vrtc.h>

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define A_UIP 0x80
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define NS 1000000000ULL
#define UIP_NS 244000ULL /* UIP is set 244 us before each update */
#define CMOS_CENTURY 0x32

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, struct vrtc_time *t)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	t->day = doy - (153 * mp + 2) / 5 + 1;
	t->month = mp < 10 ? mp + 3 : mp - 9;
	t->year = (unsigned)(y + (t->month <= 2));
}

static int64_t now_secs(const struct vrtc *r, uint64_t *frac_ns)
{
	uint64_t now = vclock_now(r->clock), d = now > r->base_ns ? now - r->base_ns : 0;
	if (frac_ns)
		*frac_ns = d % NS;
	return r->base_secs + (int64_t)(d / NS);
}

static void secs_to_time(int64_t s, struct vrtc_time *t)
{
	int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
	int64_t rem = s - days * 86400;
	civil_from_days(days, t);
	t->hour = (unsigned)(rem / 3600);
	t->min = (unsigned)(rem / 60 % 60);
	t->sec = (unsigned)(rem % 60);
	t->wday = (unsigned)(((days % 7) + 7 + 4) % 7) + 1; /* 1970-01-01 was a Thursday */
}

static int64_t time_to_secs(const struct vrtc_time *t)
{
	return days_from_civil(t->year, t->month ? t->month : 1, t->day ? t->day : 1) * 86400 + t->hour * 3600 +
	       t->min * 60 + t->sec;
}

static void set_time_at(struct vrtc *r, const struct vrtc_time *t, uint64_t at_ns)
{
	r->base_ns = at_ns;
	r->base_secs = time_to_secs(t);
	r->last_update_sec = r->base_secs;
}

static void set_time(struct vrtc *r, const struct vrtc_time *t) { set_time_at(r, t, vclock_now(r->clock)); }

static uint8_t to_bcd(unsigned v) { return (uint8_t)(((v / 10) % 10) << 4 | (v % 10)); }
static unsigned from_bcd(uint8_t v) { return (v >> 4) * 10 + (v & 15); }

static uint8_t encode(const struct vrtc *r, unsigned v)
{
	return (r->cmos[REG_B] & B_DM_BINARY) ? (uint8_t)v : to_bcd(v);
}
static unsigned decode(const struct vrtc *r, uint8_t v) { return (r->cmos[REG_B] & B_DM_BINARY) ? v : from_bcd(v); }

static uint8_t encode_hour(const struct vrtc *r, unsigned h)
{
	if (r->cmos[REG_B] & B_24H)
		return encode(r, h);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return encode(r, h12) | (h >= 12 ? 0x80 : 0);
}

static unsigned decode_hour(const struct vrtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_24H)
		return decode(r, v);
	unsigned h = decode(r, v & 0x7f) % 12;
	return (v & 0x80) ? h + 12 : h;
}

static void checksum_update(struct vrtc *r)
{
	/* The standard PC checksum: sum of bytes 0x10-0x2D, big-endian at 0x2E. */
	uint16_t sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->cmos[i];
	r->cmos[0x2e] = sum >> 8;
	r->cmos[0x2f] = sum & 0xff;
}

void vrtc_init(struct vrtc *r, const struct vclock *clk, struct irq_line irq8, const struct vrtc_time *base)
{
	memset(r, 0, sizeof(*r));
	r->clock = clk;
	r->irq = irq8;
	r->cmos[REG_A] = 0x26; /* 32.768 kHz divider, 1024 Hz periodic rate */
	r->cmos[REG_B] = B_24H;
	r->cmos[REG_D] = 0x80; /* valid RAM and time */
	r->cmos[0x10] = 0x00;  /* no floppy drives */
	r->cmos[0x12] = 0x00;  /* no legacy hard-disk types: the disk is found by probing */
	r->cmos[0x14] = 0x06;  /* equipment: no floppy, math coprocessor, EGA/VGA */
	r->cmos[0x38] = 0x01;  /* SeaBIOS (QEMU builds): skip the floppy boot signature check */
	r->cmos[0x39] = 0x01;  /* ata0-0 uses LBA translation (SeaBIOS get_translation) */
	r->cmos[0x3d] = 0x02;  /* boot order: hard disk first */
	/* The base time is the time at clock 0 (Keel's boot), so guests
	 * created later still start at the right time. */
	set_time_at(r, base, 0);
	r->last_update_sec = now_secs(r, NULL);
	struct vrtc_time t;
	secs_to_time(r->base_secs, &t);
	r->cmos[CMOS_CENTURY] = to_bcd(t.year / 100);
	r->cmos[0x37] = r->cmos[CMOS_CENTURY];
	checksum_update(r);
}

void vrtc_set_memory(struct vrtc *r, uint64_t below, uint64_t above)
{
	uint64_t ext_kb = below > 0x100000 ? (below - 0x100000) >> 10 : 0;
	if (ext_kb > 0xffff)
		ext_kb = 0xffff;
	uint64_t over16 = below > 0x1000000 ? (below - 0x1000000) >> 16 : 0;
	if (over16 > 0xffff)
		over16 = 0xffff;
	uint64_t over4g = above >> 16;
	r->cmos[0x15] = 640 & 0xff; /* base memory in KiB */
	r->cmos[0x16] = 640 >> 8;
	r->cmos[0x17] = r->cmos[0x30] = ext_kb & 0xff;
	r->cmos[0x18] = r->cmos[0x31] = (uint8_t)(ext_kb >> 8);
	r->cmos[0x34] = over16 & 0xff;
	r->cmos[0x35] = (uint8_t)(over16 >> 8);
	r->cmos[0x5b] = over4g & 0xff;
	r->cmos[0x5c] = (over4g >> 8) & 0xff;
	r->cmos[0x5d] = (over4g >> 16) & 0xff;
	checksum_update(r);
}

bool vrtc_nmi_masked(const struct vrtc *r) { return r->nmi_masked; }

static uint64_t periodic_ns(const struct vrtc *r)
{
	unsigned rate = r->cmos[REG_A] & 0x0f;
	if (!rate || ((r->cmos[REG_A] >> 4) & 7) != 2)
		return 0;
	if (rate <= 2)
		rate += 7; /* rates 1 and 2 alias 8 and 9 (data sheet table 4) */
	return (NS << (rate - 1)) / 32768;
}

static void raise(struct vrtc *r, uint8_t flag)
{
	r->flags |= flag;
	uint8_t enabled = r->cmos[REG_B] & (B_PIE | B_AIE | B_UIE);
	if (flag & enabled) { /* C flag bits line up with their B enable bits */
		r->irqs++;
		irq_line_pulse(&r->irq, 8);
	}
}

static bool alarm_match(const struct vrtc *r, const struct vrtc_time *t)
{
	/* 0xC0-0xFF in an alarm byte means "don't care". */
	uint8_t as = r->cmos[1], am = r->cmos[3], ah = r->cmos[5];
	return ((as & 0xc0) == 0xc0 || decode(r, as) == t->sec) && ((am & 0xc0) == 0xc0 || decode(r, am) == t->min) &&
	       ((ah & 0xc0) == 0xc0 || decode_hour(r, ah) == t->hour);
}

void vrtc_update(struct vrtc *r)
{
	uint64_t now = vclock_now(r->clock);
	uint64_t p = periodic_ns(r);
	if (p && (r->cmos[REG_B] & B_PIE)) {
		if (!r->next_periodic_ns)
			r->next_periodic_ns = now + p;
		if (now >= r->next_periodic_ns) {
			r->next_periodic_ns += ((now - r->next_periodic_ns) / p + 1) * p;
			raise(r, C_PF);
		}
	} else {
		r->next_periodic_ns = 0;
	}
	if (r->cmos[REG_B] & B_SET)
		return; /* updates are inhibited while SET is on */
	int64_t s = now_secs(r, NULL);
	if (s != r->last_update_sec) {
		r->last_update_sec = s;
		struct vrtc_time t;
		secs_to_time(s, &t);
		raise(r, C_UF);
		if (alarm_match(r, &t)) {
			r->alarms++;
			raise(r, C_AF);
		}
	}
}

uint64_t vrtc_next_deadline_ns(const struct vrtc *r)
{
	uint64_t d = NO_DEADLINE;
	if ((r->cmos[REG_B] & B_PIE) && periodic_ns(r))
		d = r->next_periodic_ns ? r->next_periodic_ns : vclock_now(r->clock) + periodic_ns(r);
	if (r->cmos[REG_B] & (B_UIE | B_AIE)) {
		uint64_t now = vclock_now(r->clock);
		uint64_t since = now > r->base_ns ? now - r->base_ns : 0;
		uint64_t next_sec = r->base_ns + (since / NS + 1) * NS;
		if (next_sec < d)
			d = next_sec;
	}
	return d;
}

static uint8_t reg_read(struct vrtc *r, unsigned idx)
{
	struct vrtc_time t;
	uint64_t frac;
	switch (idx) {
	case 0x00:
	case 0x02:
	case 0x04:
	case 0x06:
	case 0x07:
	case 0x08:
	case 0x09:
		secs_to_time(now_secs(r, NULL), &t);
		if (idx == 0)
			return encode(r, t.sec);
		if (idx == 2)
			return encode(r, t.min);
		if (idx == 4)
			return encode_hour(r, t.hour);
		if (idx == 6)
			return encode(r, t.wday);
		if (idx == 7)
			return encode(r, t.day);
		if (idx == 8)
			return encode(r, t.month);
		return encode(r, t.year % 100);
	case CMOS_CENTURY:
		secs_to_time(now_secs(r, NULL), &t);
		return encode(r, t.year / 100);
	case REG_A:
		now_secs(r, &frac);
		return (r->cmos[REG_A] & 0x7f) | (!(r->cmos[REG_B] & B_SET) && frac >= NS - UIP_NS ? A_UIP : 0);
	case REG_C: {
		vrtc_update(r);
		uint8_t c = r->flags;
		if (c & (r->cmos[REG_B] & (B_PIE | B_AIE | B_UIE)))
			c |= C_IRQF;
		r->flags = 0; /* reading C acknowledges */
		return c;
	}
	case REG_D:
		return 0x80;
	default:
		return r->cmos[idx];
	}
}

static void reg_write(struct vrtc *r, unsigned idx, uint8_t v)
{
	struct vrtc_time t;
	switch (idx) {
	case 0x00:
	case 0x02:
	case 0x04:
	case 0x06:
	case 0x07:
	case 0x08:
	case 0x09:
	case CMOS_CENTURY:
		secs_to_time(now_secs(r, NULL), &t);
		if (idx == 0)
			t.sec = decode(r, v) % 60;
		else if (idx == 2)
			t.min = decode(r, v) % 60;
		else if (idx == 4)
			t.hour = decode_hour(r, v) % 24;
		else if (idx == 7)
			t.day = decode(r, v);
		else if (idx == 8)
			t.month = decode(r, v);
		else if (idx == 9)
			t.year = t.year / 100 * 100 + decode(r, v) % 100;
		else if (idx == CMOS_CENTURY)
			t.year = decode(r, v) * 100 + t.year % 100;
		if (t.month < 1 || t.month > 12)
			t.month = 1;
		if (t.day < 1 || t.day > 31)
			t.day = 1;
		set_time(r, &t);
		if (idx == CMOS_CENTURY)
			r->cmos[idx] = v;
		break;
	case REG_A:
		r->cmos[REG_A] = v & 0x7f;
		r->next_periodic_ns = 0;
		break;
	case REG_B:
		r->cmos[REG_B] = v;
		break;
	case REG_C:
	case REG_D:
		break; /* read-only */
	default:
		r->cmos[idx] = v;
		if (idx >= 0x10 && idx <= 0x2d)
			checksum_update(r);
	}
}

uint8_t vrtc_cmos_peek(struct vrtc *r, unsigned idx) { return idx < 128 ? r->cmos[idx] : 0xff; }

static uint32_t rtc_read(void *dev, uint16_t port, unsigned size)
{
	struct vrtc *r = dev;
	if (port == 0x70)
		return 0xff; /* the index register is write-only */
	return reg_read(r, r->index);
}

static void rtc_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vrtc *r = dev;
	if (port == 0x70) {
		r->index = val & 0x7f;
		r->nmi_masked = val & 0x80; /* bit 7 gates NMIs on a PC */
	} else {
		reg_write(r, r->index, (uint8_t)val);
	}
}

int vrtc_register(struct vrtc *r, struct io_bus *bus)
{
	/* Two ranges, so that only writes to the registers (rates and
	 * interrupt enables in A and B) count as reprogramming a timer, not
	 * the index writes that precede every CMOS read. */
	struct io_range idx = { .base = 0x70, .count = 1, .name = "rtc index", .dev = r, .read = rtc_read,
				.write = rtc_write };
	struct io_range data = { .base = 0x71, .count = 1, .retimes = IO_RETIMES_WRITE, .name = "rtc data",
				 .dev = r, .read = rtc_read, .write = rtc_write };
	return (iobus_register(bus, &idx) || iobus_register(bus, &data)) ? -1 : 0;
}
