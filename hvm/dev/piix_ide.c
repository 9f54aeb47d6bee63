/*
 * The PIIX3 IDE function's bus master (Intel 82371FB/SB datasheet, 2.7
 * "Bus Master IDE I/O registers", and the SFF-8038i Bus Master IDE
 * programming interface): per channel a command register (start, direction),
 * a status register (active, error, interrupt, the drives' DMA-capable
 * bits) and the address of a physical region descriptor (PRD) table in
 * guest memory. The ATA model (vata.c) calls piix_ide_dma_transfer when a
 * DMA command meets a started bus master; the data moves at once.
 *
 * Everything the PRD table says comes from the guest: the whole table is
 * checked first (every region in the guest's RAM, enough of them), so a
 * failing command moves nothing; each region is then copied through the
 * dma_mem accessor, which refuses any byte outside the guest's RAM. The
 * walk stops after PRD_MAX_ENTRIES, and a table that ends before the
 * command's data, or a direction that contradicts the command, ends the
 * command with the error bit and one line naming the cause.
 */
#include <keel/format.h>
#include <keel/string.h>
#include <keel/vata.h>

static void complain(struct vata *a, const char *fmt, ...) __printf(2, 3);
static void complain(struct vata *a, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (a->mem && a->mem->complain)
		a->mem->complain(a->mem->ctx, line);
}

/* The end of a transfer as the PIIX3 reports it: interrupt set; active
 * cleared only if the PRD table ran out (a table longer than the data
 * leaves it set, which drivers accept). */
static void bm_finish(struct vata *a, bool error, bool table_done)
{
	a->bm_status[0] |= BM_ST_INTR;
	if (error)
		a->bm_status[0] |= BM_ST_ERROR;
	if (error || table_done)
		a->bm_status[0] &= (uint8_t)~BM_ST_ACTIVE;
}

/* Walks the PRD table for a transfer of len bytes: with copy false only
 * checks that it covers them, in the guest's RAM, within PRD_MAX_ENTRIES
 * (naming what is wrong); with copy true moves the data. *table_done: the
 * last region used ends the table and was used whole. */
static bool prd_walk(struct vata *a, uint8_t *disk, uint64_t len, bool to_memory, bool copy, bool *table_done)
{
	uint64_t done = 0;
	uint32_t prd = a->bm_prd[0];
	for (unsigned i = 0; i < PRD_MAX_ENTRIES; i++, prd += 8) {
		uint32_t e[2];
		if (!a->mem->read(a->mem->ctx, prd, e, sizeof(e))) {
			complain(a, "IDE DMA: PRD table entry %u at guest-physical %#x is outside RAM", i, prd);
			return false;
		}
		uint32_t base = e[0] & ~1u;
		uint32_t count = e[1] & 0xfffe;
		if (!count)
			count = 0x10000;
		bool eot = e[1] & PRD_EOT;
		uint64_t n = MIN((uint64_t)count, len - done);
		bool ok = !copy	      ? a->mem->covers(a->mem->ctx, base, n)
			  : to_memory ? a->mem->write(a->mem->ctx, base, disk + done, n)
				      : a->mem->read(a->mem->ctx, base, disk + done, n);
		if (!ok) {
			complain(a, "IDE DMA: PRD entry %u points at guest-physical %#x+%#lx, outside RAM", i, base, n);
			return false;
		}
		done += n;
		if (done == len) {
			*table_done = eot && n == count;
			return true;
		}
		if (eot)
			break;
	}
	complain(a, "IDE DMA: PRD table at %#x describes fewer bytes than the command's %lu", a->bm_prd[0], len);
	return false;
}

int piix_ide_dma_transfer(struct vata *a, uint8_t *disk, uint64_t len, bool to_memory)
{
	if (!!(a->bm_cmd[0] & BM_CMD_READ) != to_memory) {
		complain(a, "IDE DMA: bus master direction is %s memory but the command is a %s",
			 to_memory ? "from" : "to", to_memory ? "read" : "write");
		bm_finish(a, true, true);
		return -1;
	}
	/* The whole table is checked before any byte moves, so a command that
	 * fails changed neither the disk nor the guest's memory. The guest
	 * could rewrite the table between the passes only from another vCPU,
	 * and the copy pass still refuses any byte outside its RAM. */
	bool table_done = false;
	if (!prd_walk(a, disk, len, to_memory, false, &table_done) ||
	    !prd_walk(a, disk, len, to_memory, true, &table_done)) {
		bm_finish(a, true, true);
		return -1;
	}
	bm_finish(a, false, table_done);
	return 0;
}

uint32_t piix_ide_bm_read(struct vata *a, unsigned off, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size && off + i < BM_IO_SIZE; i++) {
		unsigned o = off + i, ch = o / BM_CHANNEL_STRIDE, r = o % BM_CHANNEL_STRIDE;
		uint8_t b = 0;
		if (r == BM_CMD)
			b = a->bm_cmd[ch];
		else if (r == BM_STATUS)
			b = a->bm_status[ch];
		else if (r >= BM_PRD)
			b = (uint8_t)(a->bm_prd[ch] >> (8 * (r - BM_PRD)));
		v |= (uint32_t)b << (8 * i);
	}
	return v;
}

static void bm_write_byte(struct vata *a, unsigned o, uint8_t b)
{
	unsigned ch = o / BM_CHANNEL_STRIDE, r = o % BM_CHANNEL_STRIDE;
	if (r == BM_CMD) {
		bool was = a->bm_cmd[ch] & BM_CMD_START;
		a->bm_cmd[ch] = b & (BM_CMD_START | BM_CMD_READ);
		if (!(b & BM_CMD_START)) {
			a->bm_status[ch] &= (uint8_t)~BM_ST_ACTIVE; /* stopping aborts the transfer */
		} else if (!was) {
			a->bm_status[ch] |= BM_ST_ACTIVE;
			if (ch == 0)
				vata_dma_kick(a);
		}
	} else if (r == BM_STATUS) {
		/* Error and interrupt are cleared by writing 1; the DMA-capable
		 * bits are plain storage; active is read-only. */
		uint8_t s = a->bm_status[ch];
		s &= (uint8_t)~(b & (BM_ST_ERROR | BM_ST_INTR));
		s = (uint8_t)((s & ~BM_ST_DMA_CAP) | (b & BM_ST_DMA_CAP));
		a->bm_status[ch] = s;
	} else if (r >= BM_PRD) {
		unsigned shift = 8 * (r - BM_PRD);
		uint32_t v = (a->bm_prd[ch] & ~(0xffu << shift)) | (uint32_t)b << shift;
		a->bm_prd[ch] = v & ~3u; /* the table is dword aligned */
	}
}

void piix_ide_bm_write(struct vata *a, unsigned off, unsigned size, uint32_t val)
{
	/* Byte by byte, low to high: a wider access is the same as its
	 * bytes written in address order. */
	for (unsigned i = 0; i < size && off + i < BM_IO_SIZE; i++)
		bm_write_byte(a, off + i, (uint8_t)(val >> (8 * i)));
}
