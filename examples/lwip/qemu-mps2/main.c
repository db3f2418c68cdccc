/* main.c - the WAMP v1 demo as bare-metal firmware for the MPS2 AN386 board (Cortex-M4,
   SMSC LAN9118 Ethernet), as QEMU's mps2-an386 emulates it: lwIP's raw API (NO_SYS=1),
   port/wamp1_lwip_raw.h, one main loop, no RTOS.

   The library is built with the configuration `make size` measures for its Cortex-M4 WAMP
   image (4 connections, 1 KiB buffers, 16 topics, the small-build defaults, no sessions, no
   stdio, no error texts...): tests/qemu/run.sh takes the flags from tests/size/run.sh. The
   routes are those of examples/demo_routes.h that fit the default 8 routes of that build,
   plus one of the board's own:
       http://wamp1.dev/rpc#add, #echo, #stats     as in the demo
       http://wamp1.dev/topic/{name}               the broker
       http://wamp1.dev/rpc#stack                  [bytes of stack used so far, stack size]
                                                   (also printed on the UART)
   Address: FW_IP (default 10.0.2.15/24, gateway 10.0.2.2: QEMU's user-mode network),
   port FW_PORT (default 80); keepalive ping every FW_KEEPALIVE_MS (default 30000).

   UART 0 (QEMU's serial port) says "wamp1: ready ..." once it listens. */
#include "board.h"

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "../../../wamp1.h" /* its implementation: wamp1_impl.c */

static volatile int fw_events; /* set by lwIP's callbacks through the port: work for the loop */
#define WAMP1_LWIP_RAW_EVENT() (fw_events = 1)
#include "../../../port/wamp1_lwip_raw.h"

/* the demo's handlers; the routes not registered here are left unused */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "../../demo_routes.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#ifndef FW_IP
#define FW_IP 10, 0, 2, 15
#define FW_MASK 255, 255, 255, 0
#define FW_GW 10, 0, 2, 2
#endif
#define FW_IP4_(p, a, b, c, d) IP4_ADDR(p, a, b, c, d)
#define FW_IP4(p, x) FW_IP4_(p, x)
#ifndef FW_PORT
#define FW_PORT 80
#endif
#ifndef FW_KEEPALIVE_MS
#define FW_KEEPALIVE_MS 30000
#endif

err_t ethernetif_init(struct netif *netif);
int ethernetif_poll(struct netif *netif);

static struct netif eth;
static wamp1_lwip_raw lwr;
static wamp1_port port;
static wamp1_app app;

u32_t sys_now(void) { return board_ms(); }

static void print_stack(void) {
    board_puts("wamp1: stack used ");
    board_putu((uint32_t)board_stack_used());
    board_puts(" of ");
    board_putu((uint32_t)board_stack_size());
    board_puts(" bytes\r\n");
}

static wamp1_call_status rpc_stack(wamp1_call *call, void *user) {
    wamp1_jwriter *w = wamp1_call_result_begin(call);
    (void)user;
    wamp1_jw_array_begin(w);
    wamp1_jw_int(w, (int64_t)board_stack_used());
    wamp1_jw_int(w, (int64_t)board_stack_size());
    wamp1_jw_array_end(w);
    wamp1_call_result_end(call);
    print_stack();
    return WAMP1_CALL_OK;
}

/* Everything the library refuses is reported here: its number on the UART. */
static void on_error(wamp1_app *a, wamp1_conn *c, wamp1_error e, const char *reason, void *user) {
    (void)a;
    (void)c;
    (void)reason;
    (void)user;
    board_puts("wamp1: error ");
    board_putu((uint32_t)e);
    board_puts("\r\n");
}

static int add_routes(void) {
    static const wamp1_handler h_add = {rpc_add, 0, 0, 0, 0}, h_echo = {rpc_echo, 0, 0, 0, 0},
                               h_stats = {rpc_stats, 0, 0, 0, 0}, h_stack = {rpc_stack, 0, 0, 0, 0},
                               h_topic = {0, 0, 0, 0, 0};
    if (wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#add", &h_add) != 0) return -1;
    if (wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#echo", &h_echo) != 0) return -1;
    if (wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#stats", &h_stats) != 0) return -1;
    if (wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#stack", &h_stack) != 0) return -1;
    if (wamp1_app_add_topic(&app, "http://wamp1.dev/topic/{name}", &h_topic) != 0) return -1;
    return 0;
}

static void fail(const char *what) {
    board_puts("wamp1: FAILED: ");
    board_puts(what);
    board_puts("\r\n");
    for (;;) board_wait_for_interrupt();
}

/* Brings up lwIP and the server. Not inlined: its frame (the configuration) is gone before
   the loop runs, so the loop's stack starts from main()'s small frame. */
static __attribute__((noinline)) void setup(void) {
    wamp1_app_config cfg;
    ip4_addr_t ip, mask, gw;

    lwip_init();
    FW_IP4(&ip, FW_IP);
    FW_IP4(&mask, FW_MASK);
    FW_IP4(&gw, FW_GW);
    if (!netif_add(&eth, &ip, &mask, &gw, NULL, ethernetif_init, ethernet_input))
        fail("no LAN9118 at its address");
    netif_set_default(&eth);
    netif_set_up(&eth);
    netif_set_link_up(&eth);

    wamp1_lwip_raw_init(&lwr, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.host = "0.0.0.0";
    cfg.server.listen_port = FW_PORT;
    cfg.server.keepalive_ms = FW_KEEPALIVE_MS;
    cfg.server.drop_request = 1; /* no sessions here: the whole 768-byte message limit, whatever
                                    the size of the client's upgrade request */
    cfg.lenient_subprotocol = 1; /* handshakes that offer no subprotocol are served too */
    cfg.on_error = on_error;
    if (wamp1_app_init(&app, &cfg) != 0) fail("wamp1_app_init");
    if (add_routes() != 0) fail("routes");
    if (wamp1_app_listen(&app) != 0) fail("listen");
    board_puts("wamp1: ready on ");
    board_puts(ip4addr_ntoa(&ip));
    board_puts(" port ");
    board_putu(FW_PORT);
    board_puts("\r\n");
}

int main(void) {
    board_init();
    board_puts("\r\nwamp1: mps2-an386 firmware, lwIP " LWIP_VERSION_STRING "\r\n");
    setup();
    print_stack();

    for (;;) {
        int frames;
        fw_events = 0;
        frames = ethernetif_poll(&eth);  /* frames in */
        sys_check_timeouts();            /* lwIP's timers: retransmissions, ARP, delayed ACKs */
        (void)wamp1_app_poll(&app, 0);   /* never blocks with this port; fires due timers */
        if (!frames && !fw_events) board_wait_for_interrupt(); /* a frame or the next tick */
    }
}
