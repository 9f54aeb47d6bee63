/*
 * Parser of Keel's command line; the syntax is documented in config.h.
 *
 * The input is never modified and never read past its NUL: words and items
 * are handled as (pointer, length) slices, and every copy into a fixed
 * field is checked for length first.
 */
#include <keel/config.h>
#include <keel/format.h>
#include <keel/string.h>
#include <stdarg.h>

/* A piece of the command line: not NUL-terminated. */
struct slice {
	const char *p;
	size_t len;
};

/* Shown in messages: at most this many characters of a value. */
#define SHOW 40

static bool slice_is(struct slice s, const char *word) { return strlen(word) == s.len && !strncmp(s.p, word, s.len); }
static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void cfg_error(struct keel_config *cfg, const char *fmt, ...) __printf(2, 3);
static void cfg_error(struct keel_config *cfg, const char *fmt, ...)
{
	va_list ap;
	if (cfg->nr_errors >= CONFIG_MAX_ERRORS) {
		cfg->errors_dropped++;
		return;
	}
	va_start(ap, fmt);
	kvsnprintf(cfg->errors[cfg->nr_errors++], sizeof(cfg->errors[0]), fmt, ap);
	va_end(ap);
}

/* Marks the guest invalid; the first error is the one kept. */
static void guest_error(struct guest_config *g, const char *fmt, ...) __printf(2, 3);
static void guest_error(struct guest_config *g, const char *fmt, ...)
{
	va_list ap;
	if (!g->valid)
		return;
	g->valid = false;
	va_start(ap, fmt);
	kvsnprintf(g->error, sizeof(g->error), fmt, ap);
	va_end(ap);
}

void config_defaults(struct keel_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->loglevel = 2;
	cfg->max_cpus = CONFIG_MAX_CPUS;
	cfg->serial = true;
	kstrlcpy(cfg->seabios, "seabios", sizeof(cfg->seabios));
	kstrlcpy(cfg->hvmloader, "hvmloader", sizeof(cfg->hvmloader));
}

/* A whole slice of decimal digits, without overflow. */
static bool parse_uint(struct slice s, uint64_t *out)
{
	uint64_t v = 0;
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s.p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Digits, then at most one of K/M/G (either case); no suffix means MiB. */
static bool parse_size(struct slice s, uint64_t *bytes)
{
	uint64_t mult = MiB(1), v;
	if (s.len > 0) {
		switch (s.p[s.len - 1]) {
		case 'K':
		case 'k':
			mult = KiB(1);
			s.len--;
			break;
		case 'M':
		case 'm':
			s.len--;
			break;
		case 'G':
		case 'g':
			mult = GiB(1);
			s.len--;
			break;
		}
	}
	if (!parse_uint(s, &v) || v > UINT64_MAX / mult)
		return false;
	*bytes = v * mult;
	return true;
}

/* Copies a module name: 1 to dstlen-1 characters. */
static bool copy_name(char *dst, size_t dstlen, struct slice v)
{
	if (v.len == 0 || v.len >= dstlen)
		return false;
	memcpy(dst, v.p, v.len);
	dst[v.len] = 0;
	return true;
}

static bool valid_guest_name(struct slice v)
{
	if (v.len == 0 || v.len > 15)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* The keys of a guest spec, in the order of the bits in `seen`. */
static const char *const guest_keys[] = { "name",    "disk",     "kernel",   "ramdisk",   "mem",    "vcpus",
					   "cmdline", "on_reset", "selftest", "unclaimed", "testdev", "acpi", "lowmem", "x2apic" };
enum {
	K_NAME,
	K_DISK,
	K_KERNEL,
	K_RAMDISK,
	K_MEM,
	K_VCPUS,
	K_CMDLINE,
	K_ON_RESET,
	K_SELFTEST,
	K_UNCLAIMED,
	K_TESTDEV,
	K_ACPI,
	K_LOWMEM,
	K_X2APIC,
	K_COUNT
};

static int guest_key(struct slice k)
{
	for (int i = 0; i < K_COUNT; i++)
		if (slice_is(k, guest_keys[i]))
			return i;
	return -1;
}

static void guest_module(struct guest_config *g, char *dst, size_t dstlen, const char *key, struct slice v)
{
	/* A module's name is the first word of its GRUB module line: a quoted
	 * blank could never match one. */
	for (size_t i = 0; i < v.len; i++)
		if (v.p[i] == ' ' || v.p[i] == '\t') {
			guest_error(g, "%s:%.*s has a blank; module names (the first word of GRUB's module line) have none",
				    key, (int)MIN(v.len, SHOW), v.p);
			return;
		}
	if (!copy_name(dst, dstlen, v))
		guest_error(g, "%s:%.*s is not a module name of 1-%zu characters", key, (int)MIN(v.len, SHOW), v.p,
			    dstlen - 1);
}

static void guest_item(struct guest_config *g, int key, struct slice v)
{
	uint64_t n;
	int vl = (int)MIN(v.len, SHOW);
	switch (key) {
	case K_NAME:
		if (valid_guest_name(v))
			copy_name(g->name, sizeof(g->name), v);
		else
			guest_error(g, "name:%.*s is not 1-15 characters of A-Z a-z 0-9 _ -", vl, v.p);
		break;
	case K_DISK:
		guest_module(g, g->disk, sizeof(g->disk), "disk", v);
		break;
	case K_KERNEL:
		guest_module(g, g->kernel, sizeof(g->kernel), "kernel", v);
		break;
	case K_RAMDISK:
		guest_module(g, g->ramdisk, sizeof(g->ramdisk), "ramdisk", v);
		break;
	case K_CMDLINE:
		if (v.len >= sizeof(g->cmdline)) {
			guest_error(g, "cmdline: is %zu characters long, more than %zu", v.len, sizeof(g->cmdline) - 1);
		} else {
			memcpy(g->cmdline, v.p, v.len);
			g->cmdline[v.len] = 0;
		}
		break;
	case K_MEM:
		if (!parse_size(v, &n))
			guest_error(g, "mem:%.*s is not a size (e.g. 32M, 1G)", vl, v.p);
		else if (n < GUEST_MEM_MIN || n > GUEST_MEM_MAX)
			guest_error(g, "mem:%.*s is out of range (8M to 1024G)", vl, v.p);
		else if (n % MiB(2))
			guest_error(g, "mem:%.*s is not a multiple of 2 MiB", vl, v.p); /* guest RAM comes in 2 MiB chunks */
		else
			g->mem_bytes = n;
		break;
	case K_LOWMEM:
		if (!parse_size(v, &n))
			guest_error(g, "lowmem:%.*s is not a size (e.g. 32M, 1G)", vl, v.p);
		else if (n < GUEST_MEM_MIN || n > GUEST_LOWMEM_MAX)
			guest_error(g, "lowmem:%.*s is out of range (8M to 3584M)", vl, v.p);
		else if (n % MiB(2))
			guest_error(g, "lowmem:%.*s is not a multiple of 2 MiB", vl, v.p);
		else
			g->lowmem_bytes = n;
		break;
	case K_VCPUS:
		if (!parse_uint(v, &n) || n < 1 || n > GUEST_MAX_VCPUS)
			guest_error(g, "vcpus:%.*s must be 1 to %d", vl, v.p, GUEST_MAX_VCPUS);
		else
			g->vcpus = (unsigned)n;
		break;
	case K_ON_RESET:
		if (slice_is(v, "restart"))
			g->on_reset_restart = true;
		else if (slice_is(v, "stop"))
			g->on_reset_restart = false;
		else
			guest_error(g, "on_reset:%.*s must be restart or stop", vl, v.p);
		break;
	case K_UNCLAIMED:
		if (slice_is(v, "complete"))
			g->unclaimed_stop = false;
		else if (slice_is(v, "stop"))
			g->unclaimed_stop = true;
		else
			guest_error(g, "unclaimed:%.*s must be complete or stop", vl, v.p);
		break;
	case K_TESTDEV:
		if (slice_is(v, "on"))
			g->testdev = true;
		else if (slice_is(v, "off"))
			g->testdev = false;
		else
			guest_error(g, "testdev:%.*s must be on or off", vl, v.p);
		break;
	case K_X2APIC:
		if (slice_is(v, "on"))
			g->x2apic_off = false;
		else if (slice_is(v, "off"))
			g->x2apic_off = true;
		else
			guest_error(g, "x2apic:%.*s must be on or off", vl, v.p);
		break;
	case K_ACPI:
		if (slice_is(v, "pm"))
			g->acpi_pm = true;
		else if (slice_is(v, "basic"))
			g->acpi_pm = false;
		else
			guest_error(g, "acpi:%.*s must be pm or basic", vl, v.p);
		break;
	case K_SELFTEST:
		if (slice_is(v, "bad-vmcs"))
			g->selftest_bad_vmcs = true;
		else
			guest_error(g, "selftest:%.*s is unknown (known: bad-vmcs)", vl, v.p);
		break;
	}
}

/* The name a spec asks for, if it has a valid name: item (for messages
 * about a guest that is not stored). */
static bool spec_name(struct slice spec, struct slice *name)
{
	size_t i = 0;
	while (i < spec.len) {
		size_t s = i;
		while (i < spec.len && spec.p[i] != ',')
			i++;
		struct slice item = { spec.p + s, i - s };
		i++;
		if (item.len > 5 && !strncmp(item.p, "name:", 5)) {
			*name = (struct slice){ item.p + 5, item.len - 5 };
			return valid_guest_name(*name);
		}
		if (item.len >= 8 && !strncmp(item.p, "cmdline:", 8))
			return false;
	}
	return false;
}

static void parse_guest(struct keel_config *cfg, struct slice spec)
{
	if (cfg->nr_guests >= MAX_GUESTS) {
		struct slice name;
		unsigned idx = cfg->nr_guests + cfg->guests_ignored++;
		if (spec_name(spec, &name))
			cfg_error(cfg, "guest=: more than %d guests; guest '%.*s' is ignored", MAX_GUESTS, (int)name.len,
				  name.p);
		else
			cfg_error(cfg, "guest=: more than %d guests; guest 'g%u' is ignored", MAX_GUESTS, idx);
		return;
	}
	unsigned idx = cfg->nr_guests++;
	struct guest_config *g = &cfg->guests[idx];
	memset(g, 0, sizeof(*g));
	g->valid = true;
	g->mem_bytes = GUEST_MEM_DEFAULT;
	g->lowmem_bytes = GUEST_LOWMEM_MAX;
	g->vcpus = 1;
	g->on_reset_restart = true;
	ksnprintf(g->name, sizeof(g->name), "g%u", idx);

	unsigned seen = 0;
	size_t i = 0;
	while (i < spec.len) {
		size_t start = i;
		while (i < spec.len && spec.p[i] != ',' && spec.p[i] != ':')
			i++;
		struct slice k = { spec.p + start, i - start };
		if (i == spec.len || spec.p[i] == ',') {
			if (k.len) /* an empty item (",,", a trailing ',') says nothing */
				guest_error(g, "'%.*s' is not key:value", (int)MIN(k.len, SHOW), k.p);
			i++;
			continue;
		}
		i++; /* the ':' */
		int key = guest_key(k);
		size_t vstart = i;
		while (i < spec.len && (key == K_CMDLINE || spec.p[i] != ','))
			i++; /* cmdline: takes the rest, commas and all */
		struct slice v = { spec.p + vstart, i - vstart };
		i++; /* the ',' */
		if (key < 0) {
			guest_error(g, "unknown key '%.*s' (known: name disk kernel ramdisk mem vcpus cmdline on_reset "
				       "unclaimed testdev acpi x2apic selftest)", (int)MIN(k.len, SHOW), k.p);
			continue;
		}
		if (seen & (1u << key)) {
			guest_error(g, "%s: is given twice", guest_keys[key]);
			continue;
		}
		seen |= 1u << key;
		guest_item(g, key, v);
	}

	if (!g->disk[0] && !g->kernel[0])
		guest_error(g, "no disk:MODULE (or kernel:MODULE) given");
	if (g->disk[0] && g->kernel[0])
		guest_error(g, "give disk: or kernel:, not both");
	if (g->ramdisk[0] && !g->kernel[0])
		guest_error(g, "ramdisk: needs kernel:");
	if (g->cmdline[0] && !g->kernel[0])
		guest_error(g, "cmdline: needs kernel:");
	for (unsigned j = 0; j < idx; j++)
		if (!strcmp(cfg->guests[j].name, g->name))
			guest_error(g, "the name '%s' is already used by guest %u", g->name, j);
}

static void parse_word(struct keel_config *cfg, struct slice w)
{
	const char *eq = memchr(w.p, '=', w.len);
	if (!eq) {
		cfg_error(cfg, "'%.*s' is not key=value", (int)MIN(w.len, SHOW), w.p);
		return;
	}
	struct slice k = { w.p, (size_t)(eq - w.p) };
	struct slice v = { eq + 1, w.len - k.len - 1 };
	int vl = (int)MIN(v.len, SHOW);

	if (slice_is(k, "guest")) {
		parse_guest(cfg, v);
	} else if (slice_is(k, "loglevel")) {
		static const char *const names[] = { "err", "warn", "info", "debug" };
		int level = -1;
		for (int i = 0; i < 4; i++)
			if (slice_is(v, names[i]))
				level = i;
		if (v.len == 1 && v.p[0] >= '0' && v.p[0] <= '3')
			level = v.p[0] - '0';
		if (level < 0)
			cfg_error(cfg, "loglevel=%.*s must be 0-3 or err/warn/info/debug", vl, v.p);
		else
			cfg->loglevel = level;
	} else if (slice_is(k, "trace")) {
		uint64_t n;
		if (!parse_uint(v, &n) || n > CONFIG_MAX_TRACE)
			cfg_error(cfg, "trace=%.*s must be 0 to %d", vl, v.p, CONFIG_MAX_TRACE);
		else
			cfg->trace_entries = (unsigned)n;
	} else if (slice_is(k, "cpus")) {
		uint64_t n;
		if (!parse_uint(v, &n) || n < 1 || n > CONFIG_MAX_CPUS)
			cfg_error(cfg, "cpus=%.*s must be 1 to %d", vl, v.p, CONFIG_MAX_CPUS);
		else
			cfg->max_cpus = (unsigned)n;
	} else if (slice_is(k, "seabios") || slice_is(k, "hvmloader")) {
		bool sb = slice_is(k, "seabios");
		char *dst = sb ? cfg->seabios : cfg->hvmloader;
		if (!copy_name(dst, sizeof(cfg->seabios), v))
			cfg_error(cfg, "%s=%.*s is not a module name of 1-%zu characters", sb ? "seabios" : "hvmloader",
				  vl, v.p, sizeof(cfg->seabios) - 1);
	} else if (slice_is(k, "serial")) {
		if (slice_is(v, "on"))
			cfg->serial = true;
		else if (slice_is(v, "off"))
			cfg->serial = false;
		else
			cfg_error(cfg, "serial=%.*s must be on or off", vl, v.p);
	} else if (slice_is(k, "verw")) {
		static const char *const modes[] = { "auto", "on", "off" };
		int mode = -1;
		for (int i = 0; i < 3; i++)
			if (slice_is(v, modes[i]))
				mode = i;
		if (mode < 0)
			cfg_error(cfg, "verw=%.*s must be auto, on or off", vl, v.p);
		else
			cfg->verw = mode;
	} else if (slice_is(k, "apic")) {
		/* The order of enum apic_request (include/keel/apic_mode.h). */
		static const char *const modes[] = { "auto", "xapic", "x2apic" };
		int mode = -1;
		for (int i = 0; i < 3; i++)
			if (slice_is(v, modes[i]))
				mode = i;
		if (mode < 0)
			cfg_error(cfg, "apic=%.*s must be auto, xapic or x2apic", vl, v.p);
		else
			cfg->apic = mode;
	} else if (slice_is(k, "screen")) {
		/* screen=off: no console on the framebuffer even where GRUB set
		 * one up (a serial-only run, or a screen too slow to draw on). */
		if (slice_is(v, "on") || slice_is(v, "off"))
			cfg->no_screen = slice_is(v, "off");
		else
			cfg_error(cfg, "screen=%.*s must be on or off", vl, v.p);
	} else if (slice_is(k, "apicv")) {
		/* apicv=off: emulate every guest APIC access even where the CPU
		 * could virtualize them (tests, comparisons). */
		if (slice_is(v, "on") || slice_is(v, "off"))
			cfg->no_apicv = slice_is(v, "off");
		else
			cfg_error(cfg, "apicv=%.*s must be on or off", vl, v.p);
	} else {
		cfg_error(cfg, "unknown option '%.*s' (known: guest loglevel trace cpus seabios hvmloader serial verw "
			  "apic apicv screen)",
			  (int)MIN(k.len, SHOW), k.p);
	}
}

/* A word with quotes or backslashes, as GRUB writes an argument that has
 * blanks in it ("guest=...,cmdline:console=ttyS0 quiet", with \\, \" and
 * \' escaped: grub_create_loader_cmdline), without them. */
#define WORD_MAX 1024
static bool unquote(struct slice w, char *out, size_t *len)
{
	size_t n = 0;
	for (size_t i = 0; i < w.len; i++) {
		char c = w.p[i];
		if (c == '"')
			continue;
		if (c == '\\' && i + 1 < w.len)
			c = w.p[++i];
		if (n == WORD_MAX)
			return false;
		out[n++] = c;
	}
	*len = n;
	return true;
}

void config_parse_cmdline(struct keel_config *cfg, const char *cmdline)
{
	static char word[WORD_MAX];
	const char *p = cmdline;
	while (*p) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		const char *w = p;
		bool quoted = false, special = false;
		while (*p && (quoted || !is_blank(*p))) {
			if (*p == '\\' && p[1]) {
				p += 2;
				special = true;
				continue;
			}
			if (*p == '"') {
				quoted = !quoted;
				special = true;
			}
			p++;
		}
		struct slice s = { w, (size_t)(p - w) };
		if (special) {
			size_t n;
			if (!unquote(s, word, &n)) {
				cfg_error(cfg, "'%.*s...' is longer than %d characters", SHOW, w, WORD_MAX);
				continue;
			}
			s = (struct slice){ word, n };
		}
		parse_word(cfg, s);
	}
}
