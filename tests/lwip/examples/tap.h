/* tap.h - the "Ethernet controller" of the shipped lwIP examples when they run on Linux for
   make check: a TAP device in a network namespace of the test's own (tests/lwip/examples/run.sh
   runs everything under `unshare -n`). The example's lwIP sits at its default address
   192.168.0.50; this side of the wire is 192.168.0.1/24, where the test's client runs.

   Provides what examples/lwip/{raw,rtos}/main.c ask their project for: ethernetif_init(),
   example_log() and, for the bare-metal one, ethernetif_poll(), sys_now(), board_random(). */
#ifndef TAP_H
#define TAP_H

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/etharp.h"

#define TAP_NAME "wamp1ex0"
#define TAP_HOST_IP "192.168.0.1"
#define TAP_MASK "255.255.255.0"

static int tap_fd = -1;

void example_log(const char *line) {
    printf("log: %s\n", line);
    fflush(stdout);
}

static void tap_die(const char *what) {
    fprintf(stderr, "tap: %s: %s\n", what, strerror(errno));
    exit(3);
}

static void tap_set_addr(int s, unsigned long req, const char *addr) {
    struct ifreq ifr;
    struct sockaddr_in sin;
    memset(&ifr, 0, sizeof ifr);
    memset(&sin, 0, sizeof sin);
    strncpy(ifr.ifr_name, TAP_NAME, IFNAMSIZ - 1);
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin.sin_addr);
    memcpy(&ifr.ifr_addr, &sin, sizeof sin);
    if (ioctl(s, req, &ifr) != 0) tap_die("address of " TAP_NAME);
}

/* Creates the TAP device and gives the Linux side its address: the work of `ip tuntap add`,
   `ip addr add` and `ip link set up`, so the test needs no iproute2. */
static int tap_open(void) {
    struct ifreq ifr;
    int s;
    int fd = open("/dev/net/tun", O_RDWR);
    if (fd < 0) tap_die("/dev/net/tun");
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, TAP_NAME, IFNAMSIZ - 1);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) tap_die("TUNSETIFF");
    s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) tap_die("socket");
    tap_set_addr(s, SIOCSIFADDR, TAP_HOST_IP);
    tap_set_addr(s, SIOCSIFNETMASK, TAP_MASK);
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, TAP_NAME, IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) tap_die("SIOCGIFFLAGS");
    ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) tap_die("SIOCSIFFLAGS");
    close(s);
    return fd;
}

static err_t tap_linkoutput(struct netif *n, struct pbuf *p) {
    unsigned char frame[1600];
    u16_t len = pbuf_copy_partial(p, frame, sizeof frame, 0);
    (void)n;
    if (write(tap_fd, frame, len) != (ssize_t)len) return ERR_IF;
    return ERR_OK;
}

/* One frame from the wire into lwIP (netif->input: ethernet_input or tcpip_input). */
static void tap_deliver(struct netif *n, const unsigned char *frame, size_t len) {
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
    if (!p) return; /* out of pbufs: the frame is dropped, as a real MAC would */
    pbuf_take(p, frame, (u16_t)len);
    if (n->input(p, n) != ERR_OK) pbuf_free(p);
}

static void tap_start_rx(struct netif *n); /* per example: a task, or nothing */

err_t ethernetif_init(struct netif *n) {
    static const u8_t mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x50};
    tap_fd = tap_open();
    n->name[0] = 't';
    n->name[1] = 'p';
    n->output = etharp_output;
    n->linkoutput = tap_linkoutput;
    n->mtu = 1500;
    n->hwaddr_len = 6;
    memcpy(n->hwaddr, mac, 6);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    tap_start_rx(n);
    return ERR_OK;
}

#endif /* TAP_H */
