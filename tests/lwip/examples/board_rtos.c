/* board_rtos.c - the "board" under examples/lwip/rtos/main.c for make check: the RTOS is
   lwIP's unix port (pthreads, its own arch/cc.h and sys_arch), the Ethernet controller the
   TAP device of tap.h with a receive task. main() does what the example asks of a project's
   main(): example_start(), then the "scheduler" (here: the threads already run). */
#define _GNU_SOURCE
#include "tap.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

void example_start(void);

static void tap_rx_task(void *arg) {
    struct netif *n = (struct netif *)arg;
    unsigned char frame[1600];
    for (;;) {
        ssize_t len = read(tap_fd, frame, sizeof frame);
        if (len > 0) tap_deliver(n, frame, (size_t)len); /* input is tcpip_input: thread-safe */
        else if (len < 0 && errno != EINTR) tap_die("read");
    }
}

static void tap_start_rx(struct netif *n) {
    sys_thread_new("tap-rx", tap_rx_task, n, 0, DEFAULT_THREAD_PRIO);
}

int main(void) {
    example_start();
    for (;;) pause();
}
