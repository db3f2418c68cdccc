/* board_raw.c - the "board" under examples/lwip/raw/main.c for make check: the TAP driver
   (tap.h), a millisecond clock and a random source. The example itself is compiled as
   shipped, with its own lwipopts.h and the template examples/lwip/arch/cc.h. */
#define _GNU_SOURCE
#include <time.h>
#include "tap.h"

static void tap_start_rx(struct netif *n) { (void)n; } /* frames come in through ethernetif_poll */

/* Called by the example's main loop: waits up to 1 ms for a frame, as a driver polling its
   MAC would find one or none. */
void ethernetif_poll(struct netif *n) {
    unsigned char frame[1600];
    struct pollfd pfd;
    ssize_t len;
    pfd.fd = tap_fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 1) <= 0) return;
    len = read(tap_fd, frame, sizeof frame);
    if (len > 0) tap_deliver(n, frame, (size_t)len);
}

u32_t sys_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (u32_t)((unsigned long long)ts.tv_sec * 1000u + (unsigned long long)ts.tv_nsec / 1000000u);
}

unsigned int board_random(void) {
    unsigned int r = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, &r, sizeof r) != (ssize_t)sizeof r) r = 0;
        close(fd);
    }
    return r;
}
