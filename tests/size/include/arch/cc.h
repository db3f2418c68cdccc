/* arch/cc.h for the firmware images of `make size` (Cortex-M, RISC-V; newlib or picolibc):
   no diagnostics output, assertions stop the CPU, random numbers from a "hardware RNG". */
#ifndef LWIP_ARCH_CC_H
#define LWIP_ARCH_CC_H

#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { for (;;) { } } while (0)

typedef unsigned int sys_prot_t;

unsigned int fw_rng(void);
#define LWIP_RAND() ((u32_t)fw_rng())

#endif /* LWIP_ARCH_CC_H */
