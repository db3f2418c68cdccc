/* board.h - the MPS2 AN386 board (Cortex-M4) as QEMU's mps2-an386 emulates it: what the
   firmware's main.c uses from board.c and lan9118.c. */
#ifndef BOARD_H
#define BOARD_H

#include <stddef.h>
#include <stdint.h>

/* Peripherals (AN386 application note; QEMU hw/arm/mps2.c) */
#define BOARD_UART0_BASE   0x40004000u /* CMSDK APB UART 0: QEMU's first serial port */
#define BOARD_LAN9118_BASE 0x40200000u /* SMSC LAN9118 Ethernet controller */
#define BOARD_LAN9118_IRQ  13u         /* its interrupt line on the NVIC */
#define BOARD_CPU_HZ       25000000u   /* the system clock SysTick counts */

void board_init(void);                  /* SysTick at 1 kHz, UART 0 at 38400 8N1 */
uint32_t board_ms(void);                /* milliseconds since board_init() */
void board_wait_for_interrupt(void);    /* WFI: sleeps until the next tick at the latest */
void board_irq_enable(unsigned irq);    /* NVIC: the board's interrupt line irq on */
void LAN9118_IRQHandler(void);          /* lan9118.c */
void board_puts(const char *s);         /* UART 0, blocking */
void board_putu(uint32_t v);            /* decimal */
uint32_t board_random(void);            /* not for secrets: there is no hardware RNG */
void board_random_stir(uint32_t v);     /* mixes in an unpredictable value (frame timing) */

/* The stack is painted with a pattern at reset; the high-water mark is how many bytes from
   its top have been written since (interrupt handlers included, they share it). */
size_t board_stack_size(void);
size_t board_stack_used(void);

#endif /* BOARD_H */
