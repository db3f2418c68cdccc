/* examples/lwip/raw/main.c - the WAMP v1 demo on bare metal: lwIP's raw API (NO_SYS=1) and
   port/wamp1_lwip_raw.h, one main loop, no RTOS.

   What your project adds: the startup code of your part, lwIP's core (the C files of
   src/core and src/core/ipv4, and src/netif/ethernet.c), your arch/cc.h, this folder's
   lwipopts.h, and an Ethernet driver with
       err_t ethernetif_init(struct netif *netif);    set up the MAC, fill in the netif
       void  ethernetif_poll(struct netif *netif);    pass received frames to netif->input()
       u32_t sys_now(void);                           a millisecond tick (e.g. SysTick)
   (the names of ST's and NXP's lwIP templates). Clients connect to ws://EXAMPLE_IP:8080/
   with the subprotocol "wamp"; the routes are those of examples/demo_routes.h.

   With -DEXAMPLE_WEB -Ibuild (after `make build/demo_web_gz.h`) it serves the demo page at
   http://EXAMPLE_IP:8080/ too, from flash: the gzip copies of the page and wamp1.js (10.5 KiB)
   through port/wamp1_http.h; a whole answer goes through a send buffer, so those are 8 KiB. */
#define WAMP1_MAX_CONNECTIONS 4
#define WAMP1_RECV_BUFFER_SIZE 1024
#ifdef EXAMPLE_WEB
#define WAMP1_SEND_BUFFER_SIZE 8192
#else
#define WAMP1_SEND_BUFFER_SIZE 1024
#endif
#define WAMP1_MAX_TOPICS 16
#define WAMP1_MAX_ROUTES 12 /* the demo's 9 routes; small builds default to 8 */
#define WAMP1_NO_SESSION
#define WAMP1_NO_STDIO_FILES
#define WAMP1_IMPLEMENTATION
#include "../../../wamp1.h"

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "../../../port/wamp1_lwip_raw.h"
#include "../../demo_routes.h"
#ifdef EXAMPLE_WEB
#include "../../../port/wamp1_http.h"
#include "demo_web_gz.h" /* demo_web_files[]: make build/demo_web_gz.h */

static const wamp1_http_site site = {demo_web_files, DEMO_WEB_COUNT, NULL, NULL, 0, NULL};

static void on_http(wamp1_conn *c, const wamp1_request *req, void *user) {
    (void)user;
    (void)wamp1_http_serve(c, req, &site);
}
#endif

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
void ethernetif_poll(struct netif *netif);
void example_log(const char *line);

/* Every error of the server, including a full table at setup, comes here with a reason. */
static void example_error(wamp1_app *a, wamp1_conn *c, wamp1_error e, const char *why, void *user) {
    (void)a; (void)c; (void)e; (void)user;
    example_log(why);
}

/* A setup step failed: say which; main() returns into your startup code's endless loop. */
static int example_stop(const char *what) {
    example_log(what);
    return 1;
}

static struct netif eth;
static wamp1_lwip_raw lwr;
static wamp1_port port;
static wamp1_app app;

int main(void) {
    wamp1_app_config cfg;
    ip4_addr_t ip, mask, gw;

    lwip_init();
    EXAMPLE_IP4(&ip, EXAMPLE_IP);
    EXAMPLE_IP4(&mask, EXAMPLE_MASK);
    EXAMPLE_IP4(&gw, EXAMPLE_GW);
    if (!netif_add(&eth, &ip, &mask, &gw, NULL, ethernetif_init, ethernet_input))
        return example_stop("example: the Ethernet driver did not start (ethernetif_init)");
    netif_set_default(&eth);
    netif_set_up(&eth);

    if (wamp1_lwip_raw_init(&lwr, &port) != 0) return example_stop("example: wamp1_lwip_raw_init failed");
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.host = "0.0.0.0";
    cfg.server.listen_port = EXAMPLE_PORT;
    cfg.server.keepalive_ms = 30000;
#ifdef EXAMPLE_WEB
    cfg.server.cb.on_http = on_http;
#endif
    cfg.server.drop_request = 1; /* no web sessions: the whole buffer stays for messages */
    cfg.on_error = example_error;
    if (wamp1_app_init(&app, &cfg) != 0)
        return example_stop("example: wamp1_app_init failed (reason above)");
    if (demo_add_routes(&app) != 0) /* a table too small: the reason names its macro */
        return example_stop("example: a route was refused (reason above)");
    if (wamp1_app_listen(&app) != 0)
        return example_stop("example: cannot listen on EXAMPLE_PORT (reason above)");
    example_log("example: WAMP v1 server listening");

    for (;;) {
        ethernetif_poll(&eth);       /* frames in */
        sys_check_timeouts();        /* lwIP's timers: retransmissions, ARP, delayed ACKs */
        (void)wamp1_app_poll(&app, 0); /* never blocks with this port; fires due timers */
    }
}
