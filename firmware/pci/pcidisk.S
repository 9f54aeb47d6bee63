/*
 * Keel's PCI/IDE test guest (tests/boot/t-pci-disk.sh). SeaBIOS boots it
 * from the disk through the PIIX3 IDE function; it then
 *  1. enumerates PCI bus 0 through 0xCF8/0xCFC and prints every function,
 *  2. finds the IDE function (class 0101), checks that hvmloader gave BAR4
 *     an I/O address and turned on I/O decode and bus mastering,
 *  3. reads its own 8 sectors by READ DMA and by READ DMA EXT and compares
 *     them with what the BIOS loaded,
 *  4. keeps a boot count in LBA 100: reads it by DMA, writes count + 1 by
 *     WRITE DMA, reads the sector back by PIO and compares,
 *  5. points a PRD entry outside its RAM and expects the bus master's error
 *     bit and an aborted command (Keel logs it; nothing else happens),
 *  6. prints "pcidisk: boot N ok"; on boot 1 it resets through port 0xCF9
 *     (the disk must keep the count: writes last across a restart), on
 *     boot 2 it exits through port 0xF4 with status 2.
 * Any failure prints "pcidisk: FAIL ..." and halts. Real mode throughout:
 * every buffer is below 64 KiB, and nothing in the image's own 4 KiB at
 * 0x7C00 is written (step 3 compares it with the disk).
 */
#define IMAGE_SECTORS 8
#define IMAGE_NAME "pcidisk"
#define PRD 0x1000		/* the PRD table */
#define BUF_A 0x2000		/* 4 KiB each */
#define BUF_B 0x3000
#define BUF_C 0x4000
#define BUF_D 0x5000
#define VAR_BM 0x0600		/* word: bus-master base port */
#define VAR_IDE 0x0602		/* word: the IDE function's devfn */
#define VAR_COUNT 0x0604	/* dword: the boot count */
#define COUNT_LBA 100
#define ATA_DATA 0x1f0
#define ATA_STATUS 0x1f7

#include "boot_sector.inc"

	.code16
	.section .text
	.globl _start
_start:
	boot_sector_enter
	call com1_init
	call boot_load_rest
	jmp main

#include "com1.inc"
#include "disk_load.inc"
	boot_sector_signature

/* --- helpers ------------------------------------------------------------- */

fail:				/* %si = what failed */
	pushw %si
	movw $msg_fail, %si
	call puts
	popw %si
	call puts
	movw $msg_nl, %si
	call puts
1:	cli
	hlt
	jmp 1b

puthex4:			/* %ax as 4 hex digits */
	pushw %cx
	movw $4, %cx
1:	rolw $4, %ax
	pushw %ax
	andb $0x0f, %al
	addb $'0', %al
	cmpb $'9', %al
	jbe 2f
	addb $('a' - '0' - 10), %al
2:	call putc
	popw %ax
	loop 1b
	popw %cx
	ret

/* PCI configuration dword read: %bx = devfn, %cl = register; -> %eax. */
pci_read32:
	pushw %dx
	movzwl %bx, %eax
	shll $8, %eax
	movb %cl, %al
	andb $0xfc, %al
	orl $0x80000000, %eax
	movw $0xcf8, %dx
	outl %eax, %dx
	movw $0xcfc, %dx
	inl %dx, %eax
	popw %dx
	ret

/* DMA command: %eax = LBA, %cx = sectors (<= 8), %bl = ATA command,
 * %bh = bus-master direction (8: to memory), %edi = buffer.
 * -> %al = ATA status, %ah = bus-master status. */
dma_cmd:
	pushl %eax
	movl %edi, PRD
	movzwl %cx, %edx
	shll $9, %edx
	orl $0x80000000, %edx	/* end of table */
	movl %edx, PRD + 4
	movw VAR_BM, %dx
	xorb %al, %al
	outb %al, %dx		/* stop */
	addw $2, %dx
	movb $0x06, %al		/* clear error and interrupt */
	outb %al, %dx
	addw $2, %dx
	movl $PRD, %eax
	outl %eax, %dx
	movw VAR_BM, %dx
	movb %bh, %al
	outb %al, %dx		/* direction, not started */
	popl %eax
	call ata_taskfile
	movw VAR_BM, %dx
	movb %bh, %al
	orb $1, %al
	outb %al, %dx		/* start */
	addw $2, %dx
	movl $1000000, %esi
1:	inb %dx, %al
	testb $0x04, %al	/* interrupt: the transfer ended */
	jnz 2f
	decl %esi
	jnz 1b
	movw $msg_timeout, %si
	jmp fail
2:	movb %al, %ah
	movw VAR_BM, %dx
	movb %bh, %al
	outb %al, %dx		/* stop */
	movw $ATA_STATUS, %dx
	inb %dx, %al
	ret

/* Task file for %eax = LBA, %cx = count, %bl = command (LBA48 for the EXT
 * commands 0x25/0x35/0x24). */
ata_taskfile:
	pushl %eax
	movw $0x1f6, %dx
	movb $0xe0, %al
	outb %al, %dx
	popl %eax
	cmpb $0x25, %bl
	je 1f
	cmpb $0x35, %bl
	je 1f
	cmpb $0x24, %bl
	je 1f
	jmp 2f
1:	pushl %eax		/* LBA48: the high bytes first */
	movw $0x1f2, %dx
	movb %ch, %al
	outb %al, %dx
	popl %eax
	pushl %eax
	shrl $24, %eax
	movw $0x1f3, %dx
	outb %al, %dx
	xorb %al, %al
	incw %dx
	outb %al, %dx
	incw %dx
	outb %al, %dx
	movw $0x1f6, %dx
	movb $0x40, %al
	outb %al, %dx
	popl %eax
2:	movw $0x1f3, %dx
	outb %al, %dx
	incw %dx
	shrl $8, %eax
	outb %al, %dx
	incw %dx
	shrl $8, %eax
	outb %al, %dx
	movw $0x1f2, %dx
	pushw %ax
	movb %cl, %al
	outb %al, %dx
	popw %ax
	movw $ATA_STATUS, %dx
	movb %bl, %al
	outb %al, %dx
	ret

/* Compare %cx bytes at %si and %di; ZF set if equal. */
compare:
	pushw %es
	xorw %ax, %ax
	movw %ax, %es
	cld
	repe cmpsb
	popw %es
	ret

/* --- the test ------------------------------------------------------------ */
main:
	movw $0xffff, VAR_IDE
	/* 1. Enumerate bus 0. */
	xorw %bx, %bx
enum:	movb $0, %cl
	call pci_read32
	cmpw $0xffff, %ax
	je enum_next
	pushl %eax
	movw $msg_pci, %si
	call puts
	movw %bx, %ax
	shrw $3, %ax
	call puthex4
	movb $'.', %al
	call putc
	movw %bx, %ax
	andw $7, %ax
	call puthex4
	movb $' ', %al
	call putc
	popl %eax
	pushl %eax
	call puthex4
	movb $':', %al
	call putc
	popl %eax
	shrl $16, %eax
	call puthex4
	movb $0x08, %cl
	call pci_read32
	shrl $16, %eax
	pushw %ax
	movw $msg_class, %si
	call puts
	popw %ax
	cmpw $0x0101, %ax
	jne 1f
	movw %bx, VAR_IDE
1:	call puthex4
	movw $msg_nl, %si
	call puts
enum_next:
	incw %bx
	cmpw $256, %bx
	jb enum

	/* 2. The IDE function: BAR4, decode, bus mastering. */
	movw VAR_IDE, %bx
	cmpw $0xffff, %bx
	jne 1f
	movw $msg_noide, %si
	jmp fail
1:	movb $0x20, %cl
	call pci_read32
	testb $1, %al
	jz bad_bar
	andl $0xfffc, %eax
	jz bad_bar
	movw %ax, VAR_BM
	movb $0x04, %cl
	call pci_read32
	andb $0x05, %al
	cmpb $0x05, %al
	je 2f
	movw $msg_cmd, %si
	jmp fail
bad_bar:
	movw $msg_bar, %si
	jmp fail
2:	movw $msg_bm, %si
	call puts
	movw VAR_BM, %ax
	call puthex4
	movw $msg_nl, %si
	call puts

	/* 3. Its own sectors by READ DMA and READ DMA EXT. */
	xorl %eax, %eax
	movw $8, %cx
	movw $0x08c8, %bx
	movl $BUF_A, %edi
	call dma_cmd
	call check_ok
	movw $0x7c00, %si
	movw $BUF_A, %di
	movw $4096, %cx
	call compare
	je 1f
	movw $msg_cmp_dma, %si
	jmp fail
1:	xorl %eax, %eax
	movw $8, %cx
	movw $0x0825, %bx
	movl $BUF_B, %edi
	call dma_cmd
	call check_ok
	movw $0x7c00, %si
	movw $BUF_B, %di
	movw $4096, %cx
	call compare
	je 1f
	movw $msg_cmp_ext, %si
	jmp fail
1:	movw $msg_read_ok, %si
	call puts

	/* 4. The boot count: DMA read, DMA write, PIO read back. */
	movl $COUNT_LBA, %eax
	movw $1, %cx
	movw $0x08c8, %bx
	movl $BUF_C, %edi
	call dma_cmd
	call check_ok
	movl BUF_C + 4, %eax
	cmpl $0x4c45454b, BUF_C	/* "KEEL": a count is there */
	je 1f
	xorl %eax, %eax
1:	incl %eax
	movl %eax, VAR_COUNT
	movl $0x4c45454b, BUF_C
	movl %eax, BUF_C + 4
	movl $COUNT_LBA, %eax
	movw $1, %cx
	movw $0x00ca, %bx	/* WRITE DMA; the bus master reads memory */
	movl $BUF_C, %edi
	call dma_cmd
	call check_ok
	movl $COUNT_LBA, %eax	/* READ SECTORS (PIO) into BUF_D */
	movw $1, %cx
	movb $0x20, %bl
	call ata_taskfile
	call wait_drq
	movw $BUF_D, %di
	movw $ATA_DATA, %dx
	movw $256, %cx
	cld
	rep insw
	movw $BUF_C, %si
	movw $BUF_D, %di
	movw $512, %cx
	call compare
	je 1f
	movw $msg_cmp_write, %si
	jmp fail
1:	movw $msg_write_ok, %si
	call puts

	/* 5. A PRD entry outside RAM: refused with the error bit. */
	xorl %eax, %eax
	movw $1, %cx
	movw $0x08c8, %bx
	movl $0xf0000000, %edi
	call dma_cmd
	testb $0x02, %ah	/* bus-master error */
	jz 1f
	testb $0x01, %al	/* ATA ERR */
	jz 1f
	movw $msg_hostile_ok, %si
	call puts
	jmp 2f
1:	movw $msg_hostile, %si
	jmp fail

	/* 6. Report, then reset (boot 1) or exit (boot 2). */
2:	movw $msg_boot, %si
	call puts
	movw VAR_COUNT, %ax
	call putdec
	movw $msg_ok, %si
	call puts
	cmpw $1, VAR_COUNT
	jne 3f
	movw $0xcf9, %dx
	movb $0x06, %al
	outb %al, %dx
	jmp .
3:	movw VAR_COUNT, %ax
	outb %al, $0xf4
	cli
	hlt
	jmp 3b

check_ok:			/* after dma_cmd: no errors, interrupt seen */
	testb $0x01, %al
	jnz 1f
	testb $0x02, %ah
	jnz 1f
	ret
1:	pushw %ax
	movw $msg_dma_err, %si
	call puts
	popw %ax
	call puthex4
	movw $msg_nl, %si
	call puts
	movw $msg_dma_err2, %si
	jmp fail

wait_drq:
	movw $ATA_STATUS, %dx
	movl $1000000, %ecx
1:	inb %dx, %al
	testb $0x80, %al
	jnz 2f
	testb $0x08, %al
	jnz 3f
2:	decl %ecx
	jnz 1b
	movw $msg_timeout, %si
	jmp fail
3:	ret

msg_fail:	.asciz "pcidisk: FAIL "
msg_nl:		.asciz "\r\n"
msg_pci:	.asciz "pcidisk: pci 00:"
msg_class:	.asciz " class "
msg_noide:	.asciz "no IDE function (class 0101) on bus 0"
msg_bar:	.asciz "IDE BAR4 is not an assigned I/O BAR"
msg_cmd:	.asciz "IDE command register lacks I/O decode or bus master"
msg_bm:		.asciz "pcidisk: bus master at port 0x"
msg_timeout:	.asciz "timeout waiting for the disk"
msg_cmp_dma:	.asciz "READ DMA data differ from the disk"
msg_cmp_ext:	.asciz "READ DMA EXT data differ from the disk"
msg_cmp_write:	.asciz "WRITE DMA data did not reach the disk"
msg_read_ok:	.asciz "pcidisk: READ DMA and READ DMA EXT match the disk\r\n"
msg_write_ok:	.asciz "pcidisk: WRITE DMA reached the disk (read back by PIO)\r\n"
msg_hostile_ok:	.asciz "pcidisk: DMA outside RAM refused with an error\r\n"
msg_hostile:	.asciz "DMA to an address outside RAM did not fail"
msg_dma_err:	.asciz "pcidisk: status (bus master, ATA) 0x"
msg_dma_err2:	.asciz "DMA command failed"
msg_boot:	.asciz "pcidisk: boot "
msg_ok:		.asciz " ok\r\n"

	.org IMAGE_SECTORS * 512
