/* 16550A UART (one per guest at COM1). Output goes to the guest's console
 * line; input comes from vuart_push_input(). Pure model. */
#ifndef KEEL_VUART_H
#define KEEL_VUART_H

#include <keel/guest_output.h>
#include <keel/iobus.h>
#include <keel/irq.h>

#define VUART_RX_SIZE 64

struct vuart {
	uint16_t base;
	unsigned irq_no;
	struct irq_line irq;
	struct guest_output *out;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending; /* THR-empty interrupt armed */
	uint8_t rx[VUART_RX_SIZE];
	unsigned rx_head, rx_len;
	bool irq_level;
	uint64_t tx_bytes, rx_dropped;
};

void vuart_init(struct vuart *u, uint16_t base, unsigned irq_no, struct irq_line irq, struct guest_output *out);
int vuart_register(struct vuart *u, struct io_bus *bus);
bool vuart_push_input(struct vuart *u, uint8_t byte);
/* Bytes vuart_push_input would take now (its receive FIFO's free room). */
unsigned vuart_rx_room(const struct vuart *u);

#endif
