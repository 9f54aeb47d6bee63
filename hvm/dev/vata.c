/*
 * ATA device model (ATA/ATAPI-7 vol. 1 and 2). The command set is what
 * BIOSes, boot loaders and Linux's ata_piix use: IDENTIFY, READ/WRITE
 * SECTORS (and EXT), READ/WRITE MULTIPLE, SET MULTIPLE MODE, READ/WRITE DMA
 * (and EXT, through the PIIX3 bus master, hvm/dev/piix_ide.c), SET FEATURES
 * (transfer mode), FLUSH CACHE, and the housekeeping commands they send. Every transfer is checked against the image size before any
 * byte moves: an out-of-range request ends in IDNF|ABRT, never in an access
 * outside the image.
 */
#include <keel/string.h>
#include <keel/vata.h>

#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DSC 0x10
#define ST_DF 0x20
#define ST_DRDY 0x40
#define ST_BSY 0x80
#define ST_IDLE (ST_DRDY | ST_DSC)
#define ER_ABRT 0x04
#define ER_IDNF 0x10
#define DC_NIEN 0x02
#define DC_SRST 0x04
#define DC_HOB 0x80
#define SEL_DEV1 0x10
#define SEL_LBA 0x40

void vata_geometry(uint64_t sectors, unsigned *cyls, unsigned *heads, unsigned *spt)
{
	uint64_t c = sectors / (16 * 63);
	*cyls = (unsigned)(c > 16383 ? 16383 : c ? c : 1);
	*heads = 16;
	*spt = 63;
}

static void set_irq(struct vata *a)
{
	bool level = a->irq_pending && !(a->devctl & DC_NIEN);
	if (level != a->irq_level) {
		a->irq_level = level;
		irq_line_set(&a->irq, a->irq_no, level);
	}
}

static void raise_irq(struct vata *a)
{
	a->irq_pending = true;
	set_irq(a);
}

static void signature(struct vata *a)
{
	/* Task file after reset/diagnostic for an ATA (non-packet) device. */
	a->nsector = 1;
	a->sector = 1;
	a->lcyl = 0;
	a->hcyl = 0;
	a->error = 0x01; /* diagnostic passed */
}

void vata_init(struct vata *a, const struct vata_disk *disk, struct irq_line irq, unsigned irq_no)
{
	memset(a, 0, sizeof(*a));
	a->disk = *disk;
	a->irq = irq;
	a->irq_no = irq_no;
	a->status = ST_IDLE;
	a->select = 0xa0;
	signature(a);
}

static void put_string(uint16_t *w, unsigned first, unsigned words, const char *s)
{
	/* ATA strings: two characters per word, the first in the high byte,
	 * padded with spaces. */
	size_t n = strlen(s);
	for (unsigned i = 0; i < words * 2; i++) {
		char c = i < n ? s[i] : ' ';
		if (i % 2 == 0)
			w[first + i / 2] = (uint16_t)((uint8_t)c << 8);
		else
			w[first + i / 2] |= (uint8_t)c;
	}
}

static void build_identify(struct vata *a)
{
	uint16_t w[256];
	unsigned c, h, s;
	uint64_t n = a->disk.sectors;
	memset(w, 0, sizeof(w));
	vata_geometry(n, &c, &h, &s);
	w[0] = 0x0040; /* fixed (non-removable) ATA device */
	w[1] = (uint16_t)c;
	w[3] = (uint16_t)h;
	w[6] = (uint16_t)s;
	put_string(w, 10, 10, "KEEL00000001");
	put_string(w, 23, 4, "0.1");
	put_string(w, 27, 20, a->disk.model ? a->disk.model : "KEEL HARDDISK");
	w[47] = 0x8000 | VATA_MAX_MULTIPLE;
	w[49] = 0x0200; /* LBA supported */
	w[53] = 0x0001; /* words 54-58 valid */
	if (a->mem) {
		/* DMA: multiword modes 0-2 and Ultra DMA modes 0-5, with the
		 * one SET FEATURES selected marked (ATA-7 vol. 1, 6.16.15). */
		w[49] |= 0x0100;
		w[53] |= 0x0006; /* words 64-70 and 88 valid */
		w[63] = 0x0007 | ((a->xfer_mode & 0xf8) == 0x20 ? 0x100u << (a->xfer_mode & 7) : 0);
		w[64] = 0x0003; /* PIO modes 3 and 4 */
		w[65] = w[66] = w[67] = w[68] = 120; /* ns: the fastest cycle times */
		w[88] = 0x003f | ((a->xfer_mode & 0xf8) == 0x40 ? 0x100u << (a->xfer_mode & 7) : 0);
	}
	w[54] = (uint16_t)c;
	w[55] = (uint16_t)h;
	w[56] = (uint16_t)s;
	uint32_t chs = c * h * s;
	w[57] = (uint16_t)chs;
	w[58] = (uint16_t)(chs >> 16);
	w[59] = a->multiple ? (uint16_t)(0x0100 | a->multiple) : 0;
	uint32_t lba28 = n > 0x0fffffff ? 0x0fffffff : (uint32_t)n;
	w[60] = (uint16_t)lba28;
	w[61] = (uint16_t)(lba28 >> 16);
	w[80] = 0x00f0; /* ATA-4 to ATA-7 */
	w[82] = 0x4000;
	w[83] = 0x4000 | (1u << 10) | (1u << 12) | (1u << 13); /* LBA48, FLUSH CACHE (EXT) */
	w[84] = 0x4000;
	w[85] = 0x4000;
	w[86] = (1u << 10) | (1u << 12) | (1u << 13);
	w[87] = 0x4000;
	w[100] = (uint16_t)n;
	w[101] = (uint16_t)(n >> 16);
	w[102] = (uint16_t)(n >> 32);
	w[103] = (uint16_t)(n >> 48);
	w[255] = 0x00a5; /* integrity word: signature 0xA5, checksum in the high byte */
	uint8_t sum = 0;
	for (unsigned i = 0; i < 256; i++) {
		a->buf[2 * i] = (uint8_t)w[i];
		a->buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
	}
	for (unsigned i = 0; i < 511; i++)
		sum += a->buf[i];
	a->buf[511] = (uint8_t)-sum; /* all 512 bytes sum to 0 */
}

static void abort_cmd(struct vata *a, uint8_t err)
{
	a->status = ST_DRDY | ST_ERR; /* 0x41, as firmware sees from real disks */
	a->error = err;
	a->end = a->pos = 0;
	a->remaining = 0;
	a->errors++;
	raise_irq(a);
}

static void complete(struct vata *a)
{
	a->status = ST_IDLE;
	a->error = 0;
	raise_irq(a);
}

static void load_block(struct vata *a)
{
	unsigned n = a->remaining < a->block ? (unsigned)a->remaining : a->block;
	if (!a->writing)
		memcpy(a->buf, a->disk.data + a->lba * 512, (size_t)n * 512);
	a->pos = 0;
	a->end = n * 512;
	a->status = ST_IDLE | ST_DRQ;
}

/* The current DRQ block has been moved by the guest. */
static void block_done(struct vata *a)
{
	if (a->identify) {
		a->identify = false;
		a->end = a->pos = 0;
		a->status = ST_IDLE;
		return;
	}
	unsigned n = a->end / 512;
	if (a->writing) {
		memcpy(a->disk.data + a->lba * 512, a->buf, (size_t)n * 512);
		a->sectors_written += n;
	} else {
		a->sectors_read += n;
	}
	a->lba += n;
	a->remaining -= n;
	a->end = a->pos = 0;
	if (a->remaining) {
		load_block(a);
		raise_irq(a);
	} else {
		a->status = ST_IDLE;
		if (a->writing)
			raise_irq(a); /* writes interrupt on completion */
	}
}

static bool get_lba(struct vata *a, bool lba48, uint64_t *lba, uint64_t *count)
{
	if (lba48) {
		*lba = (uint64_t)a->hob_hcyl << 40 | (uint64_t)a->hob_lcyl << 32 | (uint64_t)a->hob_sector << 24 |
		       (uint64_t)a->hcyl << 16 | (uint64_t)a->lcyl << 8 | a->sector;
		*count = (uint64_t)a->hob_nsector << 8 | a->nsector;
		if (!*count)
			*count = 65536;
		return true;
	}
	*count = a->nsector ? a->nsector : 256;
	if (a->select & SEL_LBA) {
		*lba = (uint64_t)(a->select & 0x0f) << 24 | (uint64_t)a->hcyl << 16 | (uint64_t)a->lcyl << 8 | a->sector;
		return true;
	}
	unsigned c, h, s;
	vata_geometry(a->disk.sectors, &c, &h, &s);
	unsigned cyl = (unsigned)a->hcyl << 8 | a->lcyl, head = a->select & 0x0f, sect = a->sector;
	if (sect == 0 || sect > s || head >= h)
		return false;
	*lba = ((uint64_t)cyl * h + head) * s + sect - 1;
	return true;
}

static void start_rw(struct vata *a, bool write, bool lba48, bool multiple)
{
	uint64_t lba, count;
	if (multiple && !a->multiple) {
		abort_cmd(a, ER_ABRT); /* READ/WRITE MULTIPLE before SET MULTIPLE */
		return;
	}
	if (!get_lba(a, lba48, &lba, &count) || lba >= a->disk.sectors || count > a->disk.sectors - lba) {
		abort_cmd(a, ER_IDNF | ER_ABRT);
		return;
	}
	a->lba = lba;
	a->remaining = count;
	a->block = multiple ? a->multiple : 1;
	a->writing = write;
	a->identify = false;
	load_block(a);
	if (!write)
		raise_irq(a); /* data ready; writes wait for the first block */
}

/* READ/WRITE DMA (EXT): checked like PIO, then the data moves when the bus
 * master is started, which the guest may do before or after this command
 * (Linux's libata: command, then start). */
static void start_dma(struct vata *a, bool write, bool lba48)
{
	uint64_t lba, count;
	if (!a->mem) {
		a->unknown_commands++;
		abort_cmd(a, ER_ABRT); /* no bus master: an ISA-only platform */
		return;
	}
	if (!get_lba(a, lba48, &lba, &count) || lba >= a->disk.sectors || count > a->disk.sectors - lba) {
		abort_cmd(a, ER_IDNF | ER_ABRT);
		return;
	}
	a->lba = lba;
	a->remaining = count;
	a->writing = write;
	a->identify = false;
	a->dma_pending = true;
	a->dma_commands++;
	a->status = ST_IDLE | ST_DRQ; /* ready for the transfer */
	vata_dma_kick(a);
}

void vata_dma_kick(struct vata *a)
{
	if (!a->dma_pending || !(a->bm_cmd[0] & BM_CMD_START))
		return;
	a->dma_pending = false;
	uint64_t n = a->remaining;
	if (piix_ide_dma_transfer(a, a->disk.data + a->lba * 512, n * 512, !a->writing) < 0) {
		a->dma_errors++;
		abort_cmd(a, ER_ABRT);
		return;
	}
	if (a->writing)
		a->sectors_written += n;
	else
		a->sectors_read += n;
	a->lba += n;
	a->remaining = 0;
	complete(a);
}

void vata_attach_dma(struct vata *a, const struct dma_mem *mem) { a->mem = mem; }

/* SET FEATURES (ATA-7 vol. 1, 6.49). */
static void set_features(struct vata *a)
{
	switch (a->feature) {
	case 0x03: { /* set transfer mode, from the sector count */
		uint8_t m = a->nsector;
		bool ok = m <= 0x01 || (m >= 0x08 && m <= 0x0c) ||
			  (a->mem && ((m >= 0x20 && m <= 0x22) || (m >= 0x40 && m <= 0x45)));
		if (!ok) {
			abort_cmd(a, ER_ABRT);
			return;
		}
		a->xfer_mode = m;
		break;
	}
	default: /* write cache, look-ahead, reverting to defaults: nothing to change */
		break;
	}
	complete(a);
}

static void command(struct vata *a, uint8_t cmd)
{
	a->commands++;
	a->last_command = cmd;
	if (a->select & SEL_DEV1)
		return; /* no device 1: commands to it are ignored */
	/* Writing the command register clears INTRQ (ATA-7 vol. 2, 5.2.9):
	 * the line must drop now, so that the interrupt this command raises
	 * later is a new edge for the PIC even if the last one was never
	 * acknowledged by a status read. */
	a->irq_pending = false;
	set_irq(a);
	a->end = a->pos = 0;
	a->dma_pending = false; /* a new command replaces one that never started */
	switch (cmd) {
	case 0xec: /* IDENTIFY DEVICE */
		build_identify(a);
		a->identify = true;
		a->writing = false;
		a->pos = 0;
		a->end = 512;
		a->status = ST_IDLE | ST_DRQ;
		raise_irq(a);
		break;
	case 0x20:
	case 0x21:
		start_rw(a, false, false, false);
		break;
	case 0x24:
		start_rw(a, false, true, false);
		break;
	case 0xc4:
		start_rw(a, false, false, true);
		break;
	case 0x29:
		start_rw(a, false, true, true);
		break;
	case 0x30:
	case 0x31:
		start_rw(a, true, false, false);
		break;
	case 0x34:
		start_rw(a, true, true, false);
		break;
	case 0xc5:
		start_rw(a, true, false, true);
		break;
	case 0x39:
		start_rw(a, true, true, true);
		break;
	case 0xc6: /* SET MULTIPLE MODE: 0 disables, else a power of two */
		if (a->nsector > VATA_MAX_MULTIPLE || (a->nsector & (a->nsector - 1))) {
			abort_cmd(a, ER_ABRT);
		} else {
			a->multiple = a->nsector;
			complete(a);
		}
		break;
	case 0x40:
	case 0x41:
	case 0x42: { /* READ VERIFY: range check only */
		uint64_t lba, count;
		if (!get_lba(a, cmd == 0x42, &lba, &count) || lba >= a->disk.sectors ||
		    count > a->disk.sectors - lba)
			abort_cmd(a, ER_IDNF | ER_ABRT);
		else
			complete(a);
		break;
	}
	case 0xe5: /* CHECK POWER MODE: active */
		a->nsector = 0xff;
		complete(a);
		break;
	case 0x90: /* EXECUTE DEVICE DIAGNOSTIC */
		signature(a);
		a->status = ST_IDLE;
		raise_irq(a);
		break;
	case 0xc8:
	case 0xc9:
		start_dma(a, false, false);
		break;
	case 0x25:
		start_dma(a, false, true);
		break;
	case 0xca:
	case 0xcb:
		start_dma(a, true, false);
		break;
	case 0x35:
		start_dma(a, true, true);
		break;
	case 0xef:
		set_features(a);
		break;
	case 0x91: /* INITIALIZE DEVICE PARAMETERS */
	case 0xe7: /* FLUSH CACHE: writes reach the image at once */
	case 0xea: /* FLUSH CACHE EXT */
	case 0xe0:
	case 0xe1:
	case 0xe2:
	case 0xe3: /* standby / idle */
	case 0x00: /* NOP */
		complete(a);
		break;
	default:
		if ((cmd & 0xf0) == 0x10 || (cmd & 0xf0) == 0x70) { /* RECALIBRATE, SEEK */
			complete(a);
			break;
		}
		/* IDENTIFY PACKET DEVICE (0xA1), PACKET, DMA and the rest: a hard
		 * disk without them aborts, which is how firmware tells an ATA
		 * disk from an ATAPI drive. */
		if (cmd != 0xa1)
			a->unknown_commands++;
		abort_cmd(a, ER_ABRT);
	}
}

static bool dev1(const struct vata *a) { return a->select & SEL_DEV1; }

static uint32_t data_read(struct vata *a, unsigned size)
{
	uint32_t v = 0;
	if (!(a->status & ST_DRQ) || a->writing || a->dma_pending)
		return size == 4 ? 0xffffffffu : 0xffff;
	for (unsigned i = 0; i < size && a->pos < a->end; i++)
		v |= (uint32_t)a->buf[a->pos++] << (8 * i);
	if (a->pos >= a->end)
		block_done(a);
	return v;
}

static void data_write(struct vata *a, unsigned size, uint32_t v)
{
	if (!(a->status & ST_DRQ) || !a->writing || a->dma_pending)
		return;
	for (unsigned i = 0; i < size && a->pos < a->end; i++)
		a->buf[a->pos++] = (uint8_t)(v >> (8 * i));
	if (a->pos >= a->end)
		block_done(a);
}

static uint32_t ata_read(void *dev, uint16_t port, unsigned size)
{
	struct vata *a = dev;
	if (port == 0x3f6) /* alternate status: no side effects */
		return dev1(a) ? 0 : a->status;
	unsigned reg = port - 0x1f0;
	if (reg == 0)
		return data_read(a, size);
	bool hob = a->devctl & DC_HOB;
	if (dev1(a) && reg != 6)
		return 0; /* no device 1: the bus reads zero (as QEMU does) */
	switch (reg) {
	case 1:
		return hob ? a->hob_feature : a->error;
	case 2:
		return hob ? a->hob_nsector : a->nsector;
	case 3:
		return hob ? a->hob_sector : a->sector;
	case 4:
		return hob ? a->hob_lcyl : a->lcyl;
	case 5:
		return hob ? a->hob_hcyl : a->hcyl;
	case 6:
		return a->select;
	default: /* 7: status; reading it acknowledges the interrupt */
		a->irq_pending = false;
		set_irq(a);
		return a->status;
	}
}

static void ata_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vata *a = dev;
	uint8_t v = (uint8_t)val;
	if (port == 0x3f6) {
		bool was_reset = a->devctl & DC_SRST;
		a->devctl = v;
		if (v & DC_SRST) {
			a->status = ST_BSY;
			a->in_reset = true;
			a->dma_pending = false; /* a reset ends any command, DMA included */
		} else if (was_reset) {
			/* End of software reset: idle, with the signature. */
			a->in_reset = false;
			a->status = ST_IDLE;
			a->end = a->pos = 0;
			a->remaining = 0;
			a->identify = false;
			a->dma_pending = false;
			signature(a);
		}
		set_irq(a);
		return;
	}
	unsigned reg = port - 0x1f0;
	if (reg == 0) {
		data_write(a, size, val);
		return;
	}
	a->devctl &= ~DC_HOB; /* a task-file write clears HOB (ATA-7 6.20) */
	switch (reg) {
	case 1:
		a->hob_feature = a->feature;
		a->feature = v;
		break;
	case 2:
		a->hob_nsector = a->nsector;
		a->nsector = v;
		break;
	case 3:
		a->hob_sector = a->sector;
		a->sector = v;
		break;
	case 4:
		a->hob_lcyl = a->lcyl;
		a->lcyl = v;
		break;
	case 5:
		a->hob_hcyl = a->hcyl;
		a->hcyl = v;
		break;
	case 6:
		a->select = v | 0xa0; /* bits 7 and 5 are obsolete, read as 1 */
		break;
	default:
		if (!a->in_reset)
			command(a, v);
	}
}

static uint32_t ata_read_string(void *dev, uint16_t port, unsigned size, void *buf, uint32_t count)
{
	struct vata *a = dev;
	uint8_t *p = buf;
	uint32_t done = 0;
	if (port != 0x1f0)
		return 0;
	while (done < count && (a->status & ST_DRQ) && !a->writing && !a->dma_pending) {
		uint32_t n = (a->end - a->pos) / size;
		if (n == 0)
			break;
		if (n > count - done)
			n = count - done;
		memcpy(p + done * size, a->buf + a->pos, (size_t)n * size);
		a->pos += n * size;
		done += n;
		if (a->pos >= a->end)
			block_done(a);
	}
	return done;
}

static uint32_t ata_write_string(void *dev, uint16_t port, unsigned size, const void *buf, uint32_t count)
{
	struct vata *a = dev;
	const uint8_t *p = buf;
	uint32_t done = 0;
	if (port != 0x1f0)
		return 0;
	while (done < count && (a->status & ST_DRQ) && a->writing && !a->dma_pending) {
		uint32_t n = (a->end - a->pos) / size;
		if (n == 0)
			break;
		if (n > count - done)
			n = count - done;
		memcpy(a->buf + a->pos, p + done * size, (size_t)n * size);
		a->pos += n * size;
		done += n;
		if (a->pos >= a->end)
			block_done(a);
	}
	return done;
}

int vata_register(struct vata *a, struct io_bus *bus)
{
	struct io_range cmd = { .base = 0x1f0, .count = 8, .name = "ata0", .dev = a, .read = ata_read,
				.write = ata_write, .read_string = ata_read_string,
				.write_string = ata_write_string };
	struct io_range ctl = { .base = 0x3f6, .count = 1, .name = "ata0 control", .dev = a, .read = ata_read,
				.write = ata_write };
	return (iobus_register(bus, &cmd) || iobus_register(bus, &ctl)) ? -1 : 0;
}
