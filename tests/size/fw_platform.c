/* fw_platform.c - the board under the size images: a millisecond tick, a "hardware RNG", a
   netif driver that exchanges frames with a pretend DMA buffer, and (NO_SYS=0) the
   smallest sys_arch that links. Nothing here runs for real; it only has to be the size a
   real one would roughly be, and be the same in the measured and the baseline image. */
#include "fw.h"

#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/ip4.h"

volatile u32_t fw_ticks;          /* incremented by the SysTick interrupt */
volatile unsigned int fw_rng_reg; /* the RNG's data register */
static u8_t dma_rx[1536], dma_tx[1536];
static volatile u16_t dma_rx_len, dma_tx_len;

u32_t sys_now(void) { return fw_ticks; }
unsigned int fw_rng(void) { return fw_rng_reg; }
void fw_idle(void) { }

static err_t fw_output(struct netif *n, struct pbuf *p, const ip4_addr_t *a) {
    (void)n;
    (void)a;
    dma_tx_len = pbuf_copy_partial(p, dma_tx, sizeof dma_tx, 0);
    return ERR_OK;
}

err_t fw_netif_init(struct netif *n) {
    n->name[0] = 'e';
    n->name[1] = 'n';
    n->output = fw_output;
    n->mtu = 1500;
    return ERR_OK;
}

void fw_netif_poll(struct netif *n) {
    u16_t len = dma_rx_len;
    struct pbuf *p;
    if (!len) return;
    p = pbuf_alloc(PBUF_RAW, len, PBUF_POOL);
    if (p) {
        (void)pbuf_take(p, dma_rx, len);
        if (n->input(p, n) != ERR_OK) (void)pbuf_free(p);
    }
    dma_rx_len = 0;
}

#if SYS_LIGHTWEIGHT_PROT
sys_prot_t sys_arch_protect(void) { return 0; }  /* interrupts off, old state */
void sys_arch_unprotect(sys_prot_t pval) { (void)pval; }
#endif

#if !NO_SYS
/* An RTOS kernel stands behind these; the stubs keep the image linkable. */
static int kernel_obj;
void sys_init(void) { }
err_t sys_sem_new(sys_sem_t *sem, u8_t count) { (void)count; *sem = &kernel_obj; return ERR_OK; }
void sys_sem_signal(sys_sem_t *sem) { (void)sem; }
u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout) { (void)sem; (void)timeout; return 0; }
void sys_sem_free(sys_sem_t *sem) { *sem = NULL; }
err_t sys_mutex_new(sys_mutex_t *m) { *m = &kernel_obj; return ERR_OK; }
void sys_mutex_lock(sys_mutex_t *m) { (void)m; }
void sys_mutex_unlock(sys_mutex_t *m) { (void)m; }
void sys_mutex_free(sys_mutex_t *m) { *m = NULL; }
err_t sys_mbox_new(sys_mbox_t *mb, int size) { (void)size; *mb = &kernel_obj; return ERR_OK; }
void sys_mbox_post(sys_mbox_t *mb, void *msg) { (void)mb; (void)msg; }
err_t sys_mbox_trypost(sys_mbox_t *mb, void *msg) { (void)mb; (void)msg; return ERR_OK; }
err_t sys_mbox_trypost_fromisr(sys_mbox_t *mb, void *msg) { (void)mb; (void)msg; return ERR_OK; }
u32_t sys_arch_mbox_fetch(sys_mbox_t *mb, void **msg, u32_t timeout) {
    (void)mb; (void)timeout; *msg = NULL; return 0;
}
u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mb, void **msg) { (void)mb; *msg = NULL; return 0; }
void sys_mbox_free(sys_mbox_t *mb) { *mb = NULL; }
sys_thread_t sys_thread_new(const char *name, lwip_thread_fn thread, void *arg, int stacksize, int prio) {
    (void)name; (void)stacksize; (void)prio;
    thread(arg);
    return &kernel_obj;
}
#endif
