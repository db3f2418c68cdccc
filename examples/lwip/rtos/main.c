/* examples/lwip/rtos/main.c - the WAMP v1 demo on an RTOS: lwIP's socket API (NO_SYS=0)
   and port/wamp1_lwip_sockets.h, the server in a task of its own.

   What your project adds: the RTOS and lwIP's sys_arch for it (FreeRTOS, Zephyr, ...),
   lwIP (the C files of src/core, src/core/ipv4 and src/api, and src/netif/ethernet.c), your
   arch/cc.h, this
   folder's lwipopts.h, and an Ethernet driver with
       err_t ethernetif_init(struct netif *netif);    set up the MAC and its receive task
   Then call example_start() from main() before starting the scheduler (for FreeRTOS:
   example_start(); vTaskStartScheduler();). The server task blocks in lwip_poll() (build
   with -DWAMP1_LWIP_USE_SELECT for lwip_select()); sensor_task shows how another task
   publishes. Clients connect to ws://EXAMPLE_IP:8080/ with the subprotocol "wamp". */
#define WAMP1_MAX_CONNECTIONS 4
#define WAMP1_RECV_BUFFER_SIZE 1024
#define WAMP1_SEND_BUFFER_SIZE 1024
#define WAMP1_MAX_TOPICS 16
#define WAMP1_MAX_ROUTES 12 /* the demo's 9 routes; small builds default to 8 */
#define WAMP1_NO_SESSION
#define WAMP1_NO_STDIO_FILES
#define WAMP1_IMPLEMENTATION
#include "../../../wamp1.h"

#include "lwip/tcpip.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "netif/ethernet.h"

#include "../../../port/wamp1_lwip_sockets.h"
#include "../../demo_routes.h"

#ifndef EXAMPLE_IP
#define EXAMPLE_IP 192, 168, 0, 50
#define EXAMPLE_MASK 255, 255, 255, 0
#define EXAMPLE_GW 192, 168, 0, 1
#endif
#define EXAMPLE_IP4_(p, a, b, c, d) IP4_ADDR(p, a, b, c, d)
#define EXAMPLE_IP4(p, x) EXAMPLE_IP4_(p, x)
#ifndef EXAMPLE_PORT
#define EXAMPLE_PORT 8080
#endif

err_t ethernetif_init(struct netif *netif);
void example_start(void);

static struct netif eth;
static wamp1_lwip_sockets lws;
static wamp1_port port;
static wamp1_app app;

static void sensor_task(void *arg);

static void server_task(void *arg) {
    wamp1_app_config cfg;
    (void)arg;
    if (wamp1_lwip_sockets_init(&lws, &port) != 0) return;
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.host = "0.0.0.0";
    cfg.server.listen_port = EXAMPLE_PORT;
    cfg.server.keepalive_ms = 30000;
    if (wamp1_app_init(&app, &cfg) != 0) return;
    if (demo_add_routes(&app) != 0) return; /* WAMP1_MAX_ROUTES too small: see demo_routes.h */
    if (wamp1_app_listen(&app) != 0) return;
    sys_thread_new("sensor", sensor_task, NULL, 512, DEFAULT_THREAD_PRIO);
    for (;;) /* sleeps in lwip_poll() until a socket, a due timer (rpc#sleep too) or a wake-up */
        (void)wamp1_app_poll(&app, -1);
}

/* Another task: publishes a reading every second through the server's queue. */
static void sensor_task(void *arg) {
    unsigned n = 0;
    (void)arg;
    for (;;) {
        char ev[32];
        size_t len = 0;
        unsigned v = n++, d = 1;
        sys_msleep(1000);
        while (v / d >= 10) d *= 10;
        ev[len++] = '{'; memcpy(ev + len, "\"n\":", 4); len += 4;
        for (; d; d /= 10) ev[len++] = (char)('0' + v / d % 10);
        ev[len++] = '}';
        (void)wamp1_app_publish_async(&app, "http://wamp1.dev/topic/sensor", ev, len);
    }
}

static void tcpip_ready(void *arg) { /* in the tcpip thread */
    ip4_addr_t ip, mask, gw;
    (void)arg;
    EXAMPLE_IP4(&ip, EXAMPLE_IP);
    EXAMPLE_IP4(&mask, EXAMPLE_MASK);
    EXAMPLE_IP4(&gw, EXAMPLE_GW);
    netif_add(&eth, &ip, &mask, &gw, NULL, ethernetif_init, tcpip_input);
    netif_set_default(&eth);
    netif_set_up(&eth);
    sys_thread_new("wamp1", server_task, NULL, 2048, DEFAULT_THREAD_PRIO);
}

void example_start(void) { tcpip_init(tcpip_ready, NULL); }
