/*
 * fw_cfg, as SeaBIOS 1.16 reads it on its Xen path: qemu_cfg_init
 * (src/fw/paravirt.c) runs because the 256 KiB build has CONFIG_QEMU, probes
 * the "QEMU" signature through the selector/data ports, checks the ID for
 * DMA (bit 1 clear: Keel offers only the byte interface), and turns every
 * legacy key and directory file into a romfile. Keel uses that to switch the
 * boot menu off (legacy key 0x0E, read as romfile "etc/show-boot-menu" by
 * interactive_bootmenu in src/boot.c), to send SeaBIOS's screen output to
 * COM1 ("etc/sercon-port", read by sercon_setup in src/sercon.c), and to keep
 * that screen text off the debug port ("etc/screen-and-debug" = 0). Unknown
 * keys read as zeros, which SeaBIOS takes as "nothing there".
 */
#include <keel/fwcfg.h>
#include <keel/string.h>

void fwcfg_init(struct fwcfg *f)
{
	memset(f, 0, sizeof(*f));
	static const uint8_t sig[4] = { 'Q', 'E', 'M', 'U' };
	static const uint8_t id[4] = { 1, 0, 0, 0 }; /* traditional interface, no DMA */
	fwcfg_add_bytes(f, FW_CFG_SIGNATURE, sig, 4);
	fwcfg_add_bytes(f, FW_CFG_ID, id, 4);
}

static struct fwcfg_item *find(struct fwcfg *f, uint16_t key)
{
	for (unsigned i = 0; i < f->nr_items; i++)
		if (f->items[i].key == key)
			return &f->items[i];
	return NULL;
}

int fwcfg_add_bytes(struct fwcfg *f, uint16_t key, const void *data, uint16_t len)
{
	if (f->nr_items == FWCFG_MAX_ITEMS || len > FWCFG_STORE - f->store_used || find(f, key))
		return -1;
	struct fwcfg_item *it = &f->items[f->nr_items++];
	it->key = key;
	it->len = len;
	it->off = (uint16_t)f->store_used;
	it->name[0] = 0;
	memcpy(f->store + f->store_used, data, len);
	f->store_used += len;
	return 0;
}

int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, uint16_t len)
{
	if (strlen(name) >= sizeof(f->items[0].name))
		return -1;
	uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + f->nr_files);
	if (fwcfg_add_bytes(f, key, data, len) < 0)
		return -1;
	kstrlcpy(f->items[f->nr_items - 1].name, name, sizeof(f->items[0].name));
	f->nr_files++;
	return 0;
}

/* Byte `off` of the file directory: be32 count, then 64-byte entries
 * { be32 size, be16 select, u16 reserved, char name[56] }. */
static uint8_t dir_byte(const struct fwcfg *f, uint32_t off)
{
	if (off < 4)
		return (uint8_t)(f->nr_files >> (8 * (3 - off)));
	off -= 4;
	unsigned idx = off / 64, o = off % 64, n = 0;
	for (unsigned i = 0; i < f->nr_items; i++) {
		const struct fwcfg_item *it = &f->items[i];
		if (it->key < FW_CFG_FILE_FIRST)
			continue;
		if (n++ != idx)
			continue;
		if (o < 4)
			return (uint8_t)(it->len >> (8 * (3 - o)));
		if (o < 6)
			return (uint8_t)(it->key >> (8 * (5 - o)));
		if (o < 8)
			return 0;
		return (uint8_t)it->name[o - 8];
	}
	return 0;
}

uint8_t fwcfg_read_byte(struct fwcfg *f)
{
	uint32_t off = f->offset;
	f->reads++;
	if (f->offset < 0x10000)
		f->offset++;
	if (f->selector == FW_CFG_FILE_DIR)
		return off < 4 + 64 * f->nr_files ? dir_byte(f, off) : 0;
	struct fwcfg_item *it = find(f, f->selector);
	if (!it || off >= it->len)
		return 0;
	return f->store[it->off + off];
}

static uint32_t fw_read(void *dev, uint16_t port, unsigned size)
{
	struct fwcfg *f = dev;
	if (port == 0x510)
		return f->selector;
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)fwcfg_read_byte(f) << (8 * i);
	return v;
}

static uint32_t fw_read_string(void *dev, uint16_t port, unsigned size, void *buf, uint32_t count)
{
	if (port != 0x511)
		return 0;
	uint8_t *p = buf;
	for (uint32_t i = 0; i < count * size; i++)
		p[i] = fwcfg_read_byte(dev);
	return count;
}

static void fw_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct fwcfg *f = dev;
	if (port == 0x510) {
		f->selector = (uint16_t)val;
		f->offset = 0;
	}
	/* data writes are not supported by the traditional interface */
}

int fwcfg_register(struct fwcfg *f, struct io_bus *bus)
{
	struct io_range r = { .base = 0x510, .count = 2, .name = "fw_cfg", .dev = f, .read = fw_read,
			      .write = fw_write, .read_string = fw_read_string };
	return iobus_register(bus, &r);
}
