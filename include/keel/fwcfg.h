/* QEMU's firmware configuration interface, traditional (non-DMA) form:
 * selector 0x510, data 0x511. Pure model. */
#ifndef KEEL_FWCFG_H
#define KEEL_FWCFG_H

#include <keel/iobus.h>

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20

#define FWCFG_MAX_ITEMS 24
#define FWCFG_STORE 2048

struct fwcfg_item {
	uint16_t key;
	uint16_t len;
	uint16_t off; /* into store */
	char name[56]; /* files only */
};

struct fwcfg {
	struct fwcfg_item items[FWCFG_MAX_ITEMS];
	unsigned nr_items, nr_files;
	uint8_t store[FWCFG_STORE];
	unsigned store_used;
	uint16_t selector;
	uint32_t offset;
	uint64_t reads;
};

void fwcfg_init(struct fwcfg *f);
int fwcfg_add_bytes(struct fwcfg *f, uint16_t key, const void *data, uint16_t len);
int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, uint16_t len);
int fwcfg_register(struct fwcfg *f, struct io_bus *bus);
/* Reads the current item at the current offset (also used by tests). */
uint8_t fwcfg_read_byte(struct fwcfg *f);

#endif
