/* test_raw.c - wamp1.h on lwIP's raw API (NO_SYS=1, port/wamp1_lwip_raw.h), driven by a
   WebSocket/WAMP client of our own on the same lwIP, through lwIP's loopback interface.

   One thread, as on bare metal: every wait for the client pumps the "main loop" (loopback
   delivery, lwIP timers, both servers' polls), exactly what firmware does. */
#define _POSIX_C_SOURCE 200809L
#define WAMP1_MAX_CONNECTIONS 8
#define ECHO_MAX_CONNECTIONS 4
#define WAMP1_STATIC_MEMORY_SIZE 0
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
    (void)wamp1_app_poll(&app, 0);
    demo_sleeps_fire(&app, wamp1_server_now(wamp1_app_server(&app)));
    (void)demo_sleeps_timeout; /* the loop never blocks here */
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

typedef struct rclient {
    struct tcp_pcb *pcb;
    int used, connected, eof, failed;
    size_t len;
    uint8_t rx[256u * 1024u];
} rclient;

static rclient rcl[8];

static err_t rc_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    rclient *c = (rclient *)arg;
    struct pbuf *q;
    if (!p) {
        c->eof = 1;
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return ERR_OK;
    }
    for (q = p; q; q = q->next) {
        size_t n = q->len;
        if (n > sizeof c->rx - c->len) n = sizeof c->rx - c->len; /* cannot happen in these tests */
        memcpy(c->rx + c->len, q->payload, n);
        c->len += n;
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void rc_err(void *arg, err_t err) {
    rclient *c = (rclient *)arg;
    (void)err;
    c->pcb = NULL;
    c->failed = 1;
}

static err_t rc_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    rclient *c = (rclient *)arg;
    (void)pcb;
    if (err == ERR_OK) c->connected = 1;
    return ERR_OK;
}

static int tp_connect(uint16_t port) {
    ip_addr_t lo;
    rclient *c = NULL;
    uint64_t end;
    int i;
    for (i = 0; i < 8 && !c; i++)
        if (!rcl[i].used) c = &rcl[i];
    if (!c) return -1;
    c->used = 1;
    c->connected = c->eof = c->failed = 0;
    c->len = 0;
    c->pcb = tcp_new();
    if (!c->pcb) { c->used = 0; return -1; }
    tcp_arg(c->pcb, c);
    tcp_recv(c->pcb, rc_recv);
    tcp_err(c->pcb, rc_err);
    tcp_nagle_disable(c->pcb);
    IP_ADDR4(&lo, 127, 0, 0, 1);
    if (tcp_connect(c->pcb, &lo, port, rc_connected) != ERR_OK) {
        tcp_abort(c->pcb);
        c->used = 0;
        return -1;
    }
    end = tp_now_ms() + 3000;
    while (!c->connected && !c->failed && tp_now_ms() < end) pump();
    if (!c->connected) {
        if (c->pcb) tcp_abort(c->pcb);
        c->used = 0;
        return -1;
    }
    return (int)(c - rcl);
}

static int tp_send(int cl, const void *data, size_t n) {
    rclient *c = &rcl[cl];
    const uint8_t *p = (const uint8_t *)data;
    uint64_t end = tp_now_ms() + 10000;
    while (n) {
        size_t room;
        if (!c->pcb || c->failed) return -1;
        room = tcp_sndbuf(c->pcb);
        if (tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN - 4) room = 0;
        if (room > n) room = n;
        if (room > 8192) room = 8192;
        if (room && tcp_write(c->pcb, p, (u16_t)room, TCP_WRITE_FLAG_COPY) == ERR_OK) {
            tcp_output(c->pcb);
            p += room;
            n -= room;
        } else {
            tcp_output(c->pcb);
            if (tp_now_ms() > end) return -1;
            pump();
        }
    }
    pump();
    return 0;
}

static long tp_recv(int cl, void *buf, size_t cap, int timeout_ms) {
    rclient *c = &rcl[cl];
    uint64_t end = tp_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (c->len) {
            size_t n = c->len < cap ? c->len : cap;
            memcpy(buf, c->rx, n);
            memmove(c->rx, c->rx + n, c->len - n);
            c->len -= n;
            return (long)n;
        }
        if (c->eof) return 0;
        if (c->failed) return -1;
        if (tp_now_ms() >= end) return -2;
        pump();
    }
}

static void tp_close(int cl) {
    rclient *c = &rcl[cl];
    if (c->pcb) {
        tcp_arg(c->pcb, NULL);
        tcp_recv(c->pcb, NULL);
        tcp_err(c->pcb, NULL);
        if (tcp_close(c->pcb) != ERR_OK) tcp_abort(c->pcb);
    }
    c->pcb = NULL;
    c->used = 0;
    pump();
}

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
    demo_add_routes(&app);
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
    printf("lwip-raw: %d passed, %d failed\n", t_pass, t_fail);
    return t_fail ? 1 : 0;
}
