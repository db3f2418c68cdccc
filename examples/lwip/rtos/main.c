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
   publishes. Your project also provides
       void  example_log(const char *line);           one line of text out (e.g. a UART)
   ../README.md says where lwIP comes from and what arch/cc.h must hold (../arch/cc.h is a
   template; an RTOS port of lwIP usually brings its own). Clients connect to
   ws://EXAMPLE_IP:8080/ with the subprotocol "wamp". Every setup step is checked: one that
   fails says why through example_log() and the server task ends there. */
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
void example_log(const char *line);

static struct netif eth;
static wamp1_lwip_sockets lws;
static wamp1_port port;
static wamp1_app app;

static void sensor_task(void *arg);

/* Every error of the server, including a full table at setup, comes here with a reason. */
static void example_error(wamp1_app *a, wamp1_conn *c, wamp1_error e, const char *why, void *user) {
    (void)a; (void)c; (void)e; (void)user;
    example_log(why);
}

static void server_task(void *arg) {
    wamp1_app_config cfg;
    (void)arg;
    if (wamp1_lwip_sockets_init(&lws, &port) != 0) {
        example_log("example: wamp1_lwip_sockets_init failed (no socket for the wake-up pair?)");
        return;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.host = "0.0.0.0";
    cfg.server.listen_port = EXAMPLE_PORT;
    cfg.server.keepalive_ms = 30000;
    cfg.server.drop_request = 1; /* no web sessions: the whole buffer stays for messages */
    cfg.on_error = example_error;
    if (wamp1_app_init(&app, &cfg) != 0) {
        example_log("example: wamp1_app_init failed (reason above)");
        return;
    }
    if (demo_add_routes(&app) != 0) { /* a table too small: the reason names its macro */
        example_log("example: a route was refused (reason above)");
        return;
    }
    if (wamp1_app_listen(&app) != 0) {
        example_log("example: cannot listen on EXAMPLE_PORT (reason above)");
        return;
    }
    sys_thread_new("sensor", sensor_task, NULL, 512, DEFAULT_THREAD_PRIO);
    example_log("example: WAMP v1 server listening");
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
    if (!netif_add(&eth, &ip, &mask, &gw, NULL, ethernetif_init, tcpip_input)) {
        example_log("example: the Ethernet driver did not start (ethernetif_init)");
        return;
    }
    netif_set_default(&eth);
    netif_set_up(&eth);
    sys_thread_new("wamp1", server_task, NULL, 2048, DEFAULT_THREAD_PRIO);
}

void example_start(void) { tcpip_init(tcpip_ready, NULL); }
