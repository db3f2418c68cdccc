/* test_raw.c - wamp1.h on lwIP's raw API (NO_SYS=1, port/wamp1_lwip_raw.h), driven by a
   WebSocket/WAMP client of our own on the same lwIP, through lwIP's loopback interface.

   One thread, as on bare metal: every wait for the client pumps the "main loop" (loopback
   delivery, lwIP timers, both servers' polls), exactly what firmware does. */
#define _POSIX_C_SOURCE 200809L
#define WAMP1_MAX_CONNECTIONS 8
#define ECHO_MAX_CONNECTIONS 4
#define WAMP1_STATIC_MEMORY_SIZE (2u * 2u * 4096u) /* the restart case's echo server */
#define WAMP1_NO_STDIO_FILES
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"

#include <time.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

/* wait() with a timeout (wamp1_server_shutdown) keeps lwIP going through this hook */
static void test_idle(int ms);
#define WAMP1_LWIP_RAW_IDLE(ms) test_idle(ms)
#include "../../port/wamp1_lwip_raw.h"
#include "../../examples/demo_routes.h"

/* ---- the clock lwIP and the port use ---------------------------------------- */

u32_t sys_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (u32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static uint64_t tp_now_ms(void) { return sys_now(); }

/* ---- the servers ------------------------------------------------------------ */

static wamp1_lwip_raw echo_lwr, wamp_lwr;
static wamp1_port echo_port_if, wamp_port_if;
static wamp1_server echo_srv;
static wamp1_app app;
static uint8_t echo_mem[ECHO_MAX_CONNECTIONS * 2u * 80u * 1024u];
static uint8_t wamp_mem[6u * 2u * 4096u];
static uint16_t echo_port, wamp_port;

static void echo_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user) {
    (void)user;
    if (op == WAMP1_OP_TEXT && len == 12 && memcmp(data, "please close", 12) == 0) {
        wamp1_conn_close(c, 4001, "asked to");
        return;
    }
    (void)wamp1_conn_send(c, op, data, len);
}

/* One turn of the firmware's main loop. */
static void pump(void) {
    netif_poll_all(); /* loopback delivery: the "driver" of this test */
    sys_check_timeouts();
    (void)wamp1_server_poll(&echo_srv, 0);
    (void)wamp1_app_poll(&app, 0); /* never blocks here; fires due timers */
}

static void test_idle(int ms) {
    (void)ms;
    netif_poll_all();
    sys_check_timeouts();
}

static void tp_sleep(int ms) {
    uint64_t end = tp_now_ms() + (uint64_t)ms;
    while (tp_now_ms() < end) pump();
}

/* ---- the client on the raw API ---------------------------------------------------- */

#include "raw_client.h"

static void tp_publish_async(const char *topic, const char *event_json) {
    (void)wamp1_app_publish_async(&app, topic, event_json, strlen(event_json));
}

#include "lwip_cases.h"

int main(void) {
    wamp1_config ec;
    wamp1_app_config ac;
    int ok = 1;
    lwip_init();
    wamp1_lwip_raw_init(&echo_lwr, &echo_port_if);
    wamp1_lwip_raw_init(&wamp_lwr, &wamp_port_if);

    memset(&ec, 0, sizeof ec);
    ec.port = &echo_port_if;
    ec.host = "127.0.0.1";
    ec.max_connections = ECHO_MAX_CONNECTIONS;
    ec.recv_buffer_size = ec.send_buffer_size = 80u * 1024u;
    ec.memory = echo_mem;
    ec.memory_size = sizeof echo_mem;
    ec.close_timeout_ms = 1000;
    ec.cb.on_message = echo_message;
    if (wamp1_server_init(&echo_srv, &ec) != 0 || wamp1_server_listen(&echo_srv) != 0) ok = 0;
    echo_port = wamp1_server_port(&echo_srv);

    memset(&ac, 0, sizeof ac);
    ac.server.port = &wamp_port_if;
    ac.server.host = "0.0.0.0";
    ac.server.max_connections = 6;
    ac.server.memory = wamp_mem;
    ac.server.memory_size = sizeof wamp_mem;
    if (wamp1_app_init(&app, &ac) != 0 || wamp1_app_listen(&app) != 0) ok = 0;
    if (demo_add_routes(&app) != 0) ok = 0;
    wamp_port = wamp1_server_port(wamp1_app_server(&app));

    t_case = "setup";
    CHECK(ok && echo_port != 0 && wamp_port != 0 && echo_port != wamp_port);
    { /* hosts the port refuses, without using up a slot */
        static const char *const bad[] = {"300.1.1.1", "1.2.3", "1.2.3.4.5", "localhost", "1..2.3"};
        unsigned i, used = wamp1_lwip_raw_used(&echo_lwr);
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            wamp1_socket s;
            uint16_t b;
            CHECK(echo_port_if.listen(echo_port_if.ctx, bad[i], 0, &s, &b) == -1);
        }
        CHECK(wamp1_lwip_raw_used(&echo_lwr) == used);
    }
    if (ok) run_cases();

    /* shutting down returns every table slot and pcb */
    t_case = "shutdown";
    {
        int i;
        for (i = 0; i < 50; i++) pump();
        (void)wamp1_server_shutdown(&echo_srv, 500);
        (void)wamp1_app_shutdown(&app, 500);
        CHECK(wamp1_lwip_raw_used(&echo_lwr) == 0);
        CHECK(wamp1_lwip_raw_used(&wamp_lwr) == 0);
    }

    /* firmware restarts its server after a link loss or a new address: init, shutdown and
       init again, on the same port, with cfg.memory (the app) and the built-in block (an
       echo server), twice */
    t_case = "restart";
    {
        int round;
        wamp1_config bc;
        for (round = 0; round < 2; round++) {
            ac.server.listen_port = wamp_port;
            CHECK(wamp1_app_init(&app, &ac) == 0);
            CHECK(demo_add_routes(&app) == 0);
            CHECK(wamp1_app_listen(&app) == 0);
            CHECK(wamp1_server_port(wamp1_app_server(&app)) == wamp_port);
            wamp_session_once();
            (void)wamp1_app_shutdown(&app, 500);
            CHECK(wamp1_lwip_raw_used(&wamp_lwr) == 0);

            memset(&bc, 0, sizeof bc);
            bc.port = &echo_port_if;
            bc.host = "127.0.0.1";
            bc.listen_port = echo_port;
            bc.max_connections = 2;
            bc.recv_buffer_size = bc.send_buffer_size = 4096;
            bc.cb.on_message = echo_message; /* memory NULL: the built-in block */
            CHECK(wamp1_server_init(&echo_srv, &bc) == 0);
            CHECK(wamp1_server_listen(&echo_srv) == 0);
            {
                wsc *w = ws_open(echo_port, NULL);
                CHECK(w != NULL && echo_once(w, 1, 1000, (unsigned)round));
                if (w) wsc_close(w);
            }
            (void)wamp1_server_shutdown(&echo_srv, 500);
            CHECK(wamp1_lwip_raw_used(&echo_lwr) == 0);
        }
    }
    printf("lwip-raw: %d passed, %d failed\n", t_pass, t_fail);
    return t_fail ? 1 : 0;
}
