/*
 * PCI configuration space (PCI Local Bus Specification 3.0, 6.1) and the
 * devices of the guest platform Keel presents, as Xen HVM and QEMU's "pc"
 * machine do: an i440FX host bridge at 00:00.0, a PIIX3 ISA bridge at
 * 00:01.0 and its IDE function at 00:01.1. Shared by the model
 * (hvm/dev/vpci.c) and hvmloader's PCI setup (loader/pci_setup.c).
 */
#ifndef KEEL_PCI_REGS_H
#define KEEL_PCI_REGS_H

/* Configuration mechanism #1 (PCI 3.0, 3.2.2.3.2). */
#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_CONFIG_ENABLE 0x80000000u
#define PCI_BDF(bus, dev, fn) ((uint32_t)(bus) << 8 | (uint32_t)(dev) << 3 | (uint32_t)(fn))

/* Type 0 header. */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_HEADER_TYPE 0x0e
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_BASE_ADDRESS_4 0x20
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_HEADER_TYPE_MULTI_FUNCTION 0x80
#define PCI_BASE_ADDRESS_SPACE_IO 0x1
#define PCI_BASE_ADDRESS_IO_MASK (~0x3u)
#define PCI_BASE_ADDRESS_MEM_MASK (~0xfu)
#define PCI_BASE_ADDRESS_MEM_TYPE_64 0x4

#define PCI_VENDOR_INTEL 0x8086
#define PCI_DEVICE_I440FX 0x1237  /* 82441FX PMC, host bridge */
#define PCI_DEVICE_PIIX3_ISA 0x7000
#define PCI_DEVICE_PIIX3_IDE 0x7010
#define PCI_CLASS_BRIDGE_HOST 0x0600
#define PCI_CLASS_BRIDGE_ISA 0x0601
#define PCI_CLASS_STORAGE_IDE 0x0101
/* Programming interface of an IDE controller: both channels in
 * compatibility mode (legacy ports, IRQ 14/15), bus master capable. */
#define PCI_IDE_PROG_COMPAT_BM 0x80

/* PIIX3 function 0: PIRQ[A-D] route control (82371SB datasheet 2.2.12):
 * bits 3:0 the ISA IRQ, bit 7 set = routing disabled. */
#define PIIX_PIRQ_ROUTE 0x60
#define PIIX_PIRQ_DISABLED 0x80
/* PIIX3 function 1: IDE timing, bit 15 = the channel's decode enable
 * (82371SB 2.4.8; Linux's ata_piix skips a channel without it). */
#define PIIX_IDETIM_PRIMARY 0x40
#define PIIX_IDETIM_SECONDARY 0x42
#define PIIX_IDETIM_DECODE_ENABLE 0x8000

/* Where the platform's functions are. */
#define PCI_DEVFN_HOST_BRIDGE PCI_BDF(0, 0, 0)
#define PCI_DEVFN_PIIX3_ISA PCI_BDF(0, 1, 0)
#define PCI_DEVFN_PIIX3_IDE PCI_BDF(0, 1, 1)

#endif
