/* arch/cc.h template for lwIP 2.1 on bare metal (examples/lwip/raw) with gcc or clang:
   Cortex-M, RISC-V or any other 32-bit part with newlib or picolibc. Copy it into your
   project's include path as arch/cc.h and adjust the marked lines.

   lwIP's src/include/lwip/arch.h fills in everything else: the u8_t..u32_t types from
   <stdint.h>, little-endian byte order (define BYTE_ORDER BIG_ENDIAN here otherwise),
   packed structures the gcc way. An RTOS port of lwIP (FreeRTOS, Zephyr, ...) ships its own
   arch/cc.h together with its sys_arch.h: use that one instead. */
#ifndef LWIP_ARCH_CC_H
#define LWIP_ARCH_CC_H

/* errno values from the C library's <errno.h> (lwIP's own list otherwise) */
#define LWIP_ERRNO_STDINCLUDE 1

/* lwIP's diagnostics: nothing, so that no printf or stdio is linked. To see them, point
   this at your UART's printf: #define LWIP_PLATFORM_DIAG(x) do { board_printf x; } while (0) */
#define LWIP_PLATFORM_DIAG(x) do { } while (0)

/* A failed lwIP assertion (only when LWIP_NOASSERT is 0): stop where a debugger or the
   watchdog finds it. */
#define LWIP_PLATFORM_ASSERT(x) do { (void)(x); for (;;) { } } while (0)

/* Needed only with SYS_LIGHTWEIGHT_PROT 1 (interrupts that call into lwIP or post to the
   server): the type your sys_arch_protect() returns, e.g. the saved PRIMASK. */
typedef unsigned int sys_prot_t;

/* Random numbers for TCP's initial sequence numbers and ports, and (through the raw-API
   port's default WAMP1_LWIP_RANDOM) for WAMP session ids: your hardware RNG. */
unsigned int board_random(void);
#define LWIP_RAND() ((u32_t)board_random())

#endif /* LWIP_ARCH_CC_H */
