/* board.c - startup code, vector table, SysTick, UART and stack measurement for the
   MPS2 AN386 (Cortex-M4) under QEMU's mps2-an386. Bare metal, no CMSIS: the few core
   registers used are defined here. */
#include "board.h"

#include <string.h>

#define REG(a) (*(volatile uint32_t *)(a))

/* Cortex-M4 core: SysTick (ARMv7-M ARM, B3.3) */
#define SYST_CSR  REG(0xE000E010u)
#define SYST_RVR  REG(0xE000E014u)
#define SYST_CVR  REG(0xE000E018u)

/* CMSDK APB UART */
#define UART_DATA    REG(BOARD_UART0_BASE + 0x00u)
#define UART_STATE   REG(BOARD_UART0_BASE + 0x04u) /* bit 0: transmit buffer full */
#define UART_CTRL    REG(BOARD_UART0_BASE + 0x08u) /* bit 0: transmit enable */
#define UART_BAUDDIV REG(BOARD_UART0_BASE + 0x10u)

#define STACK_PAINT 0xC5C5C5C5u

extern uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end;
extern uint32_t __stack_limit, __stack_top;

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void SysTick_Handler(void);

static volatile uint32_t ticks;
static uint32_t rng_state = 0x6d2b79f5u;

/* ---- startup ------------------------------------------------------------------------- */

/* Paints the stack below the caller's frame, copies .data, clears .bss, runs main(). */
__attribute__((noreturn)) void Reset_Handler(void) {
    uint32_t *p, *end;
    const uint32_t *src;
    uint32_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    end = (uint32_t *)(sp - 64u); /* leave this function's frame alone */
    for (p = &__stack_limit; p < end; p++) *p = STACK_PAINT;
    for (p = &__data_start, src = &__data_load; p < &__data_end;) *p++ = *src++;
    for (p = &__bss_start; p < &__bss_end;) *p++ = 0;
    /* the FPU (CPACR: CP10, CP11 full access): -mfloat-abi=soft does not use it, a hard-float
       build of the same sources would */
    REG(0xE000ED88u) |= 0xFu << 20;
    (void)main();
    for (;;) __asm volatile("wfi");
}

void Default_Handler(void) {
    board_puts("\r\nFAULT: unexpected exception\r\n");
    for (;;) { }
}

void HardFault_Handler(void) {
    board_puts("\r\nFAULT: hard fault\r\n");
    for (;;) { }
}

void SysTick_Handler(void) { ticks++; }

typedef void (*vector)(void);

/* Cortex-M4 exceptions, then the board's interrupts (only the LAN9118's is used) */
__attribute__((section(".vectors"), used)) static const vector vectors[16 + 32] = {
    (vector)(uintptr_t)&__stack_top,
    Reset_Handler,
    Default_Handler,   /* NMI */
    HardFault_Handler,
    Default_Handler,   /* MemManage */
    Default_Handler,   /* BusFault */
    Default_Handler,   /* UsageFault */
    0, 0, 0, 0,
    Default_Handler,   /* SVCall */
    Default_Handler,   /* DebugMonitor */
    0,
    Default_Handler,   /* PendSV */
    SysTick_Handler,
    [16 + BOARD_LAN9118_IRQ] = LAN9118_IRQHandler,
};

/* ---- board --------------------------------------------------------------------------- */

void board_init(void) {
    UART_BAUDDIV = BOARD_CPU_HZ / 38400u;
    UART_CTRL = 1u;
    SYST_RVR = BOARD_CPU_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
}

uint32_t board_ms(void) { return ticks; }

void board_wait_for_interrupt(void) { __asm volatile("wfi"); }

void board_irq_enable(unsigned irq) { REG(0xE000E100u + 4u * (irq / 32u)) = 1u << (irq % 32u); }

void board_puts(const char *s) {
    for (; *s; s++) {
        while (UART_STATE & 1u) { }
        UART_DATA = (uint8_t)*s;
    }
}

void board_putu(uint32_t v) {
    char b[11];
    int i = (int)sizeof b - 1;
    b[i] = 0;
    do {
        b[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v && i > 0);
    board_puts(b + i);
}

/* xorshift32, stirred with the tick counter's low bits at every received frame */
void board_random_stir(uint32_t v) {
    rng_state ^= v + SYST_CVR;
    if (!rng_state) rng_state = 0x6d2b79f5u;
}

uint32_t board_random(void) {
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

/* ---- stack --------------------------------------------------------------------------- */

size_t board_stack_size(void) { return (size_t)((uintptr_t)&__stack_top - (uintptr_t)&__stack_limit); }

size_t board_stack_used(void) {
    const uint32_t *p = &__stack_limit;
    while (p < &__stack_top && *p == STACK_PAINT) p++;
    return (size_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}
