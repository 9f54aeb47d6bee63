/*
 * Test boot sector: reads lines from COM1 by its receive interrupt. It
 * prints "echo: ready", then waits with sti; hlt. Each IRQ 4 (vector 0x0C
 * under SeaBIOS's PIC set-up) drains the receive FIFO into a line; at CR
 * the main loop prints "echo: got 'LINE' after N interrupts". A line thus
 * proves that Keel delivered typed bytes to this guest's UART and woke it
 * from HLT with the UART's interrupt. Every other interrupt stays masked:
 * SeaBIOS's IRQ 0 handler reads COM1 for its serial console.
 */
#include "boot_sector.inc"

#define LINE_MAX 60
#define COM1 0x3f8 /* as com1.inc, which comes after the code */

	.code16
	.globl _start
_start:
	boot_sector_enter
	call com1_init
	movw $irq4, 0x30	/* IVT entry 0x0C */
	movw $0, 0x32
	movw $COM1 + 1, %dx	/* IER: received-data interrupt */
	movb $0x01, %al
	outb %al, %dx
	movw $COM1 + 4, %dx	/* MCR: OUT2 gates the interrupt to the PIC */
	movb $0x08, %al
	outb %al, %dx
	/* IRQ 4 only: SeaBIOS's timer handler polls COM1 for its serial
	 * console and would take the typed bytes into its keyboard buffer. */
	movb $0xef, %al
	outb %al, $0x21
	movw $msg_ready, %si
	call puts
wait:
	sti
	hlt
	cli
	cmpb $0, line_done
	je wait
	movw $msg_got, %si
	call puts
	movw $line, %si
	call puts
	movw $msg_after, %si
	call puts
	movw irq_count, %ax
	call putdec
	movw $msg_irqs, %si
	call puts
	movw $0, line_len
	movb $0, line_done
	jmp wait

irq4:
	pushaw
	pushw %ds
	xorw %ax, %ax
	movw %ax, %ds
	incw irq_count
1:	movw $COM1 + 5, %dx
	inb %dx, %al
	testb $0x01, %al	/* LSR: data ready */
	jz 3f
	movw $COM1, %dx
	inb %dx, %al
	cmpb $'\n', %al
	je 1b
	movw line_len, %bx
	cmpb $'\r', %al
	jne 2f
	movb $0, line(%bx)
	movb $1, line_done
	jmp 1b
2:	cmpw $LINE_MAX, %bx
	jae 1b
	movb %al, line(%bx)
	incw line_len
	jmp 1b
3:	movb $0x20, %al		/* EOI to the master PIC */
	outb %al, $0x20
	popw %ds
	popaw
	iret

#include "com1.inc"

msg_ready: .asciz "echo: ready\r\n"
msg_got: .asciz "echo: got '"
msg_after: .asciz "' after "
msg_irqs: .asciz " interrupts\r\n"
irq_count: .word 0
line_len: .word 0
line_done: .byte 0
	boot_sector_signature
line = 0x600
