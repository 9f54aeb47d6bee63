/*
 * What must hold for each device model after any sequence of port accesses,
 * whatever the guest did. Checked by the fuzzers after every operation.
 * Memory safety itself (the disk image, the transfer buffers) is checked by
 * AddressSanitizer: the harnesses allocate the disk with exactly its size.
 */
#ifndef TESTS_FUZZ_DEVICE_INVARIANTS_H
#define TESTS_FUZZ_DEVICE_INVARIANTS_H

#include <keel/fwcfg.h>
#include <keel/guest_output.h>
#include <keel/vata.h>
#include <keel/vkbc.h>
#include <keel/vpci.h>
#include <keel/vpic.h>
#include <keel/vpit.h>
#include <keel/vrtc.h>
#include <keel/vuart.h>

#include "fuzz_input.h"

#define ATA_ST_DRQ 0x08
#define ATA_DC_NIEN 0x02

static inline void check_ata(const struct vata *a)
{
	require(a->pos <= a->end && a->end <= sizeof(a->buf));
	require(a->end % 512 == 0);
	require(a->multiple <= VATA_MAX_MULTIPLE && (a->multiple & (a->multiple - 1)) == 0);
	/* The interrupt line follows "pending and not masked by nIEN". */
	require(a->irq_level == (a->irq_pending && !(a->devctl & ATA_DC_NIEN)));
	for (unsigned ch = 0; ch < 2; ch++) {
		require((a->bm_cmd[ch] & ~(BM_CMD_START | BM_CMD_READ)) == 0);
		require((a->bm_prd[ch] & 3) == 0);
	}
	if (a->dma_pending) {
		/* A DMA command waiting for the bus master: its sectors lie
		 * inside the image, and no PIO block is in flight. */
		require(a->mem && (a->status & ATA_ST_DRQ) && a->end == 0 && a->remaining >= 1);
		require(a->lba <= a->disk.sectors && a->remaining <= a->disk.sectors - a->lba);
	} else if ((a->status & ATA_ST_DRQ) && !a->identify) {
		/* A data block in flight lies inside the image. */
		require(a->block >= 1 && a->block <= VATA_MAX_MULTIPLE);
		require(a->end >= 512 && a->end <= a->block * 512u);
		require(a->end / 512 <= a->remaining);
		require(a->lba <= a->disk.sectors && a->remaining <= a->disk.sectors - a->lba);
	}
	if ((a->status & ATA_ST_DRQ) && a->identify)
		require(a->end == 512 && !a->writing); /* the IDENTIFY block */
}

static inline void check_pic(const struct vpic *p)
{
	for (int i = 0; i < 2; i++) {
		const struct vpic_chip *c = &p->chip[i];
		require(c->init_step <= 3);
		require(c->priority_add <= 7);
		require((c->vector_base & 7) == 0);
		require((c->elcr & ~c->elcr_mask) == 0);
	}
	int v = vpic_pending_vector(p);
	require(v >= -1 && v <= 255);
}

static inline void check_pit(const struct vpit *t)
{
	for (int i = 0; i < 3; i++) {
		const struct vpit_channel *c = &t->ch[i];
		require(c->reload >= 1 && c->reload <= 65536);
		require(c->mode <= 5);
		require(c->rw >= 1 && c->rw <= 3);
		require(c->bcd <= 1);
	}
	require((t->port61 & ~3) == 0);
}

static inline void check_rtc(const struct vrtc *r)
{
	require(r->index < 128);
	require((r->flags & ~0x70) == 0);
}

static inline void check_uart(const struct vuart *u)
{
	require(u->rx_len <= VUART_RX_SIZE && u->rx_head < VUART_RX_SIZE);
	require((u->ier & ~0x0f) == 0 && (u->mcr & ~0x1f) == 0);
}

static inline void check_kbc(const struct vkbc *k)
{
	require(k->q_len <= VKBC_QUEUE && k->q_head < VKBC_QUEUE);
}

static inline void check_fwcfg(const struct fwcfg *f)
{
	require(f->offset <= 0x10000);
	require(f->nr_items <= FWCFG_MAX_ITEMS && f->store_used <= FWCFG_STORE);
	for (unsigned i = 0; i < f->nr_items; i++)
		require((unsigned)f->items[i].off + f->items[i].len <= f->store_used);
}

static inline void check_pci(const struct vpci *p)
{
	require((p->address & ~0x80fffffcu) == 0);
	require(p->nr_functions == 0 || p->nr_functions == 3);
	/* BAR4 keeps its type bit; the bus master sits where it was put. */
	if (p->nr_functions)
		require((p->fn[2].cfg[0x20] & 0x0f) == 0x01);
	require(p->bm_base % 16 == 0);
}

static inline void check_output(const struct guest_output *o) { require(o->len < GUEST_LINE_MAX); }

#endif
