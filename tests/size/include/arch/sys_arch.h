/* arch/sys_arch.h: the smallest sys_arch an RTOS port needs to link lwIP with NO_SYS=0.
   The handles are opaque pointers; tests/size/fw_platform.c has stub bodies. An image built
   on it links and has the size it would have, it does not run. */
#ifndef LWIP_ARCH_SYS_ARCH_H
#define LWIP_ARCH_SYS_ARCH_H

typedef void *sys_sem_t;
typedef void *sys_mutex_t;
typedef void *sys_mbox_t;
typedef void *sys_thread_t;

#define SYS_MBOX_NULL NULL
#define SYS_SEM_NULL NULL
#define sys_sem_valid(s) (*(s) != NULL)
#define sys_sem_set_invalid(s) (*(s) = NULL)
#define sys_mutex_valid(m) (*(m) != NULL)
#define sys_mutex_set_invalid(m) (*(m) = NULL)
#define sys_mbox_valid(m) (*(m) != NULL)
#define sys_mbox_set_invalid(m) (*(m) = NULL)

#endif /* LWIP_ARCH_SYS_ARCH_H */
