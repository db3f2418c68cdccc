/* arch/cc.h of the QEMU mps2-an386 firmware (arm-none-eabi-gcc, newlib-nano): no
   diagnostics output, an assertion stops the CPU, random numbers from board.c. */
#ifndef LWIP_ARCH_CC_H
#define LWIP_ARCH_CC_H

#include "board.h"

#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { board_puts("\r\nFAULT: lwIP assertion\r\n"); for (;;) { } } while (0)
#define LWIP_RAND() ((u32_t)board_random())

#endif /* LWIP_ARCH_CC_H */
