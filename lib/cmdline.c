/* Parser of Keel's command line; the syntax is documented in config.h. */
#include <keel/config.h>
#include <keel/format.h>
#include <keel/string.h>
#include <stdarg.h>

static void cfg_error(struct keel_config *cfg, const char *fmt, ...) __printf(2, 3);
static void cfg_error(struct keel_config *cfg, const char *fmt, ...)
{
	va_list ap;
	if (cfg->nr_errors >= CONFIG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	kvsnprintf(cfg->errors[cfg->nr_errors++], sizeof(cfg->errors[0]), fmt, ap);
	va_end(ap);
}

static void guest_error(struct guest_config *g, const char *fmt, ...) __printf(2, 3);
static void guest_error(struct guest_config *g, const char *fmt, ...)
{
	va_list ap;
	if (!g->valid)
		return; /* keep the first error */
	g->valid = false;
	va_start(ap, fmt);
	kvsnprintf(g->error, sizeof(g->error), fmt, ap);
	va_end(ap);
}

void config_defaults(struct keel_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->loglevel = 2;
	kstrlcpy(cfg->seabios, "seabios", sizeof(cfg->seabios));
	kstrlcpy(cfg->hvmloader, "hvmloader", sizeof(cfg->hvmloader));
}

/* Parses a decimal number; returns false on junk or overflow. */
static bool parse_u64(const char *s, size_t len, uint64_t *out, size_t *used)
{
	uint64_t v = 0;
	size_t i = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		i++;
	}
	if (i == 0)
		return false;
	*out = v;
	*used = i;
	return true;
}

static bool parse_size(const char *s, size_t len, uint64_t *bytes)
{
	uint64_t v;
	size_t n;
	if (!parse_u64(s, len, &v, &n))
		return false;
	uint64_t mult = MiB(1);
	if (n < len) {
		if (n + 1 != len)
			return false;
		switch (s[n]) {
		case 'K':
		case 'k':
			mult = KiB(1);
			break;
		case 'M':
		case 'm':
			mult = MiB(1);
			break;
		case 'G':
		case 'g':
			mult = GiB(1);
			break;
		default:
			return false;
		}
	}
	if (v > UINT64_MAX / mult)
		return false;
	*bytes = v * mult;
	return true;
}

static bool copy_value(char *dst, size_t dstlen, const char *v, size_t len)
{
	if (len == 0 || len >= dstlen)
		return false;
	memcpy(dst, v, len);
	dst[len] = 0;
	return true;
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

static void parse_guest(struct keel_config *cfg, const char *spec, size_t len)
{
	if (cfg->nr_guests >= MAX_GUESTS) {
		cfg_error(cfg, "more than %d guest= entries; the rest are ignored", MAX_GUESTS);
		return;
	}
	unsigned idx = cfg->nr_guests++;
	struct guest_config *g = &cfg->guests[idx];
	memset(g, 0, sizeof(*g));
	g->valid = true;
	g->mem_bytes = MiB(32);
	g->vcpus = 1;
	g->on_reset_restart = true;
	ksnprintf(g->name, sizeof(g->name), "g%u", idx);

	size_t i = 0;
	while (i < len) {
		size_t ks = i;
		while (i < len && spec[i] != ':' && spec[i] != ',')
			i++;
		size_t klen = i - ks;
		const char *key = spec + ks;
		if (i >= len || spec[i] != ':') {
			guest_error(g, "'%.*s' is not key:value", (int)klen, key);
			while (i < len && spec[i] != ',')
				i++;
			i++;
			continue;
		}
		i++; /* ':' */
		size_t vs = i;
		bool rest = klen == 7 && !strncmp(key, "cmdline", 7);
		while (i < len && (rest || spec[i] != ','))
			i++;
		const char *val = spec + vs;
		size_t vlen = i - vs;
		i++; /* ',' */

#define KEY(s) (klen == sizeof(s) - 1 && !strncmp(key, s, klen))
		if (KEY("name")) {
			if (!copy_value(g->name, sizeof(g->name), val, vlen) || !valid_name(g->name)) {
				ksnprintf(g->name, sizeof(g->name), "g%u", idx);
				guest_error(g, "name:%.*s is not 1-15 characters of A-Z a-z 0-9 _ -", (int)vlen, val);
			}
		} else if (KEY("disk")) {
			if (!copy_value(g->disk, sizeof(g->disk), val, vlen))
				guest_error(g, "disk: needs a module name of 1-31 characters");
		} else if (KEY("kernel")) {
			if (!copy_value(g->kernel, sizeof(g->kernel), val, vlen))
				guest_error(g, "kernel: needs a module name of 1-31 characters");
		} else if (KEY("ramdisk")) {
			if (!copy_value(g->ramdisk, sizeof(g->ramdisk), val, vlen))
				guest_error(g, "ramdisk: needs a module name of 1-31 characters");
		} else if (KEY("cmdline")) {
			if (vlen >= sizeof(g->cmdline))
				guest_error(g, "cmdline: is longer than %zu characters", sizeof(g->cmdline) - 1);
			else
				copy_value(g->cmdline, sizeof(g->cmdline), val, vlen);
		} else if (KEY("mem")) {
			uint64_t b;
			if (!parse_size(val, vlen, &b))
				guest_error(g, "mem:%.*s is not a size (e.g. 32M, 1G)", (int)vlen, val);
			else if (b < MiB(8) || b > GiB(3))
				guest_error(g, "mem:%.*s is out of range (8M to 3G)", (int)vlen, val);
			else if (b % MiB(2))
				guest_error(g, "mem:%.*s is not a multiple of 2 MiB", (int)vlen, val);
			else
				g->mem_bytes = b;
		} else if (KEY("vcpus")) {
			uint64_t n;
			size_t used;
			if (!parse_u64(val, vlen, &n, &used) || used != vlen || n < 1 || n > 8)
				guest_error(g, "vcpus:%.*s must be 1 to 8", (int)vlen, val);
			else
				g->vcpus = (unsigned)n;
		} else if (KEY("on_reset")) {
			if (vlen == 7 && !strncmp(val, "restart", 7))
				g->on_reset_restart = true;
			else if (vlen == 4 && !strncmp(val, "stop", 4))
				g->on_reset_restart = false;
			else
				guest_error(g, "on_reset:%.*s must be restart or stop", (int)vlen, val);
		} else {
			guest_error(g, "unknown key '%.*s' (known: name disk mem vcpus kernel ramdisk cmdline on_reset)",
				    (int)klen, key);
		}
#undef KEY
	}
	if (g->valid && !g->disk[0] && !g->kernel[0])
		guest_error(g, "no disk:MODULE (or kernel:MODULE) given");
	if (g->valid && g->disk[0] && g->kernel[0])
		guest_error(g, "give disk: or kernel:, not both");
	for (unsigned j = 0; j < idx; j++)
		if (!strcmp(cfg->guests[j].name, g->name))
			guest_error(g, "the name '%s' is already used by guest %u", g->name, j);
}

void config_parse_cmdline(struct keel_config *cfg, const char *cmdline)
{
	const char *p = cmdline;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		size_t wlen = (size_t)(p - w);
		const char *eq = memchr(w, '=', wlen);
		if (!eq) {
			cfg_error(cfg, "'%.*s' is not key=value", (int)wlen, w);
			continue;
		}
		size_t klen = (size_t)(eq - w), vlen = wlen - klen - 1;
		const char *v = eq + 1;
#define KEY(s) (klen == sizeof(s) - 1 && !strncmp(w, s, klen))
		if (KEY("guest")) {
			parse_guest(cfg, v, vlen);
		} else if (KEY("loglevel")) {
			static const char *const names[] = { "err", "warn", "info", "debug" };
			int lvl = -1;
			for (int i = 0; i < 4; i++)
				if (strlen(names[i]) == vlen && !strncmp(v, names[i], vlen))
					lvl = i;
			if (vlen == 1 && v[0] >= '0' && v[0] <= '3')
				lvl = v[0] - '0';
			if (lvl < 0)
				cfg_error(cfg, "loglevel=%.*s must be 0-3 or err/warn/info/debug", (int)vlen, v);
			else
				cfg->loglevel = lvl;
		} else if (KEY("trace")) {
			uint64_t n;
			size_t used;
			if (!parse_u64(v, vlen, &n, &used) || used != vlen || n > 4096)
				cfg_error(cfg, "trace=%.*s must be 0 to 4096", (int)vlen, v);
			else
				cfg->trace_entries = (unsigned)n;
		} else if (KEY("seabios")) {
			if (!copy_value(cfg->seabios, sizeof(cfg->seabios), v, vlen))
				cfg_error(cfg, "seabios= needs a module name of 1-31 characters");
		} else if (KEY("hvmloader")) {
			if (!copy_value(cfg->hvmloader, sizeof(cfg->hvmloader), v, vlen))
				cfg_error(cfg, "hvmloader= needs a module name of 1-31 characters");
		} else {
			cfg_error(cfg, "unknown option '%.*s' (known: guest loglevel trace seabios hvmloader)", (int)klen, w);
		}
#undef KEY
	}
}
