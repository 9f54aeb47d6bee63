/*
 * A guest's own paging, as the CPU applies it: linear address to
 * guest-physical through the guest's page tables (32-bit, PAE and 4-level;
 * SDM Vol. 3A ch. 4), with the access rights of section 4.6 (U/S, R/W with
 * CR0.WP, XD with EFER.NXE, SMEP, SMAP) and the page-fault error code of
 * section 4.7 when the access is not allowed. Keel walks the tables when it
 * touches guest memory on the guest's behalf (string I/O, hypercall
 * buffers, the instruction bytes of an MMIO access), so it must refuse
 * what the CPU would refuse. Pure: the tables are read through a callback
 * (host unit-tested).
 */
#ifndef KEEL_PAGE_WALK_H
#define KEEL_PAGE_WALK_H

#include <keel/types.h>

/* The guest state the walk depends on. */
struct page_walk_mode {
	uint64_t cr0, cr3, cr4, efer;
	unsigned cpl;      /* 3: user-mode access (SDM 4.6) */
	bool ac;           /* RFLAGS.AC: SMAP lets explicit supervisor accesses through */
	unsigned maxphyaddr; /* physical-address width: bits at or above it are reserved */
};

enum page_access { PAGE_READ, PAGE_WRITE, PAGE_FETCH };

enum page_walk_status {
	PAGE_WALK_OK,
	PAGE_WALK_FAULT,    /* the CPU would raise #PF: *error is its error code */
	PAGE_WALK_NO_TABLE, /* a paging structure is outside the guest's RAM */
};

/* #PF error code bits (SDM 4.7). */
#define PF_ERR_P (1u << 0)    /* 0: not present; 1: protection or reserved bit */
#define PF_ERR_W (1u << 1)    /* a write */
#define PF_ERR_U (1u << 2)    /* a user-mode access */
#define PF_ERR_RSVD (1u << 3) /* a reserved bit set in a paging entry */
#define PF_ERR_I (1u << 4)    /* an instruction fetch (with NXE or SMEP) */

/* Reads a paging entry of `size` bytes (4 or 8) at guest-physical gpa;
 * false if it is not in the guest's RAM. */
typedef bool (*page_walk_read_fn)(void *ctx, uint64_t gpa, unsigned size, uint64_t *entry);

/*
 * Translates la for an access of kind acc in mode m. PAGE_WALK_OK: *gpa is
 * the guest-physical address. PAGE_WALK_FAULT: *error is the #PF error code
 * (CR2 = la). Paging off: the address is its own (truncated to 32 bits).
 * The PAE PDPTEs are read from memory at CR3, as the CPU loaded them at the
 * last MOV to CR3/CR0/CR4 (Keel keeps the VMCS copies equal to them).
 */
enum page_walk_status page_walk(const struct page_walk_mode *m, uint64_t la, enum page_access acc,
				page_walk_read_fn read, void *ctx, uint64_t *gpa, uint32_t *error);

/* PAE paging (not IA-32e): CR0.PG, CR4.PAE, EFER.LMA=0. In this mode the
 * CPU takes the four PDPTEs from memory only when CR3, CR0 or CR4 is
 * loaded, and with EPT a VM entry takes them from the VMCS (SDM 4.4.1,
 * 26.3.2.4): whoever emulates those loads must load them too. */
bool paging_is_pae(uint64_t cr0, uint64_t cr4, uint64_t efer);

/* Reads the four PDPTEs at cr3 (bits 31:5) into pdpte[]: 0, or -1 if the
 * table is outside RAM or a present entry has a reserved bit set (bits
 * 1-2, 5-8, 63, or at or above maxphyaddr), which makes the MOV #GP. */
int pae_pdptes_read(uint64_t cr3, unsigned maxphyaddr, page_walk_read_fn read, void *ctx, uint64_t pdpte[4]);

#endif
