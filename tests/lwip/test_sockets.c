/* test_sockets.c - wamp1.h on lwIP's socket API (NO_SYS=0, port/wamp1_lwip_sockets.h), driven
   by a WebSocket/WAMP client of our own on lwIP sockets in the same process, through
   127.0.0.1 on lwIP's loopback.

   Built twice by run.sh: against Debian's liblwip (lwip_poll(); that build has no loopif, so
   this test adds a loopback netif of its own) and against lwIP built from source with
   tests/lwip/sockets/lwipopts.h (lwip_select() with WAMP1_LWIP_USE_SELECT; lwIP's loopif).
   Each server runs its loop in a thread of its own, blocked in lwip_poll()/lwip_select();
   the main thread is the client, and publishes "from another task" through the port's
   lock and wake-up. */
#define _DEFAULT_SOURCE
#define WAMP1_MAX_CONNECTIONS 8
#define ECHO_MAX_CONNECTIONS 4
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_NO_STDIO_FILES
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "lwip/tcpip.h"
#include "lwip/netif.h"
#include "lwip/sockets.h"

#include "../../port/wamp1_lwip_sockets.h"
#include "../../examples/demo_routes.h"

#ifndef TEST_NAME
#define TEST_NAME "lwip-sockets"
#endif

static uint64_t tp_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void tp_sleep(int ms) { usleep((useconds_t)ms * 1000u); }

/* ---- lwIP bring-up ------------------------------------------------------------ */

#if !LWIP_HAVE_LOOPIF
/* A netif that owns 127.0.0.1: lwIP loops packets to its own address back (netif_loop_output)
   and never hands them to the driver, so the driver only drops what is not for us. */
static struct netif lo_netif;

static err_t lo_output(struct netif *n, struct pbuf *p, const ip4_addr_t *a) {
    (void)n;
    (void)p;
    (void)a;
    return ERR_OK;
}

static err_t lo_init(struct netif *n) {
    n->name[0] = 'l';
    n->name[1] = 'o';
    n->output = lo_output;
    return ERR_OK;
}
#endif

static sys_sem_t up;

static void tcpip_ready(void *arg) { /* in the tcpip thread, core locked */
    (void)arg;
#if !LWIP_HAVE_LOOPIF
    {
        ip4_addr_t ip, mask, gw;
        IP4_ADDR(&ip, 127, 0, 0, 1);
        IP4_ADDR(&mask, 255, 0, 0, 0);
        IP4_ADDR(&gw, 127, 0, 0, 1);
        netif_add(&lo_netif, &ip, &mask, &gw, NULL, lo_init, tcpip_input);
        netif_set_default(&lo_netif);
        netif_set_up(&lo_netif);
        netif_set_link_up(&lo_netif);
    }
#endif
    sys_sem_signal(&up);
}

/* ---- the servers, each in its own thread -------------------------------------------- */

static wamp1_lwip_sockets echo_lws, wamp_lws;
static wamp1_port echo_port_if, wamp_port_if;
static wamp1_server echo_srv;
static wamp1_app app;
static uint8_t echo_mem[ECHO_MAX_CONNECTIONS * 2u * 80u * 1024u];
static uint8_t wamp_mem[6u * 2u * 4096u];
static uint16_t echo_port, wamp_port;
static volatile int app_stop;

static void echo_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user) {
    (void)user;
    if (op == WAMP1_OP_TEXT && len == 12 && memcmp(data, "please close", 12) == 0) {
        wamp1_conn_close(c, 4001, "asked to");
        return;
    }
    (void)wamp1_conn_send(c, op, data, len);
}

static void *echo_thread(void *arg) {
    (void)arg;
    (void)wamp1_server_run(&echo_srv); /* blocks in the port's wait() until stopped */
    (void)wamp1_server_shutdown(&echo_srv, 1000);
    return NULL;
}

static void *app_thread(void *arg) {
    (void)arg;
    while (!app_stop) {
        (void)wamp1_app_poll(&app, -1); /* until a socket, a due timer or a wake-up */
    }
    (void)wamp1_app_shutdown(&app, 1000);
    return NULL;
}

/* ---- the client: blocking lwIP sockets in the main thread ----------------------------- */

static int tp_connect(uint16_t port) {
    struct sockaddr_in a;
    int s = lwip_socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (s < 0) return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = lwip_htons(port);
    a.sin_addr.s_addr = lwip_htonl(0x7F000001UL);
    if (lwip_connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        lwip_close(s);
        return -1;
    }
    (void)lwip_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return s;
}

static int tp_send(int cl, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    while (n) {
        ssize_t r = lwip_send(cl, p, n, 0);
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static long tp_recv(int cl, void *buf, size_t cap, int timeout_ms) {
    ssize_t r;
#if LWIP_SOCKET_POLL
    struct pollfd pf;
    pf.fd = cl;
    pf.events = POLLIN;
    pf.revents = 0;
    r = lwip_poll(&pf, 1, timeout_ms);
#else
    fd_set rd;
    struct timeval tv;
    FD_ZERO(&rd);
    FD_SET(cl, &rd);
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    r = lwip_select(cl + 1, &rd, NULL, NULL, &tv);
#endif
    if (r == 0) return -2;
    if (r < 0) return -1;
    r = lwip_recv(cl, buf, cap, 0);
    return r > 0 ? (long)r : r == 0 ? 0 : -1;
}

static void tp_close(int cl) { (void)lwip_close(cl); }

static void tp_publish_async(const char *topic, const char *event_json) {
    (void)wamp1_app_publish_async(&app, topic, event_json, strlen(event_json));
}

#include "lwip_cases.h"

int main(void) {
    wamp1_config ec;
    wamp1_app_config ac;
    pthread_t te, ta;
    int ok = 1;
    if (sys_sem_new(&up, 0) != ERR_OK) return 2;
    tcpip_init(tcpip_ready, NULL);
    sys_sem_wait(&up);

    memset(&ec, 0, sizeof ec);
    ec.port = &echo_port_if;
    ec.host = "127.0.0.1";
    ec.max_connections = ECHO_MAX_CONNECTIONS;
    ec.recv_buffer_size = ec.send_buffer_size = 80u * 1024u;
    ec.memory = echo_mem;
    ec.memory_size = sizeof echo_mem;
    ec.close_timeout_ms = 1000;
    ec.cb.on_message = echo_message;
    if (wamp1_lwip_sockets_init(&echo_lws, &echo_port_if) != 0 || wamp1_server_init(&echo_srv, &ec) != 0 ||
        wamp1_server_listen(&echo_srv) != 0)
        ok = 0;
    echo_port = wamp1_server_port(&echo_srv);

    memset(&ac, 0, sizeof ac);
    ac.server.port = &wamp_port_if;
#if LWIP_IPV6
    ac.server.host = "::"; /* dual stack: the IPv4 client still gets in */
#else
    ac.server.host = "0.0.0.0";
#endif
    ac.server.max_connections = 6;
    ac.server.memory = wamp_mem;
    ac.server.memory_size = sizeof wamp_mem;
    if (wamp1_lwip_sockets_init(&wamp_lws, &wamp_port_if) != 0 || wamp1_app_init(&app, &ac) != 0 ||
        wamp1_app_listen(&app) != 0)
        ok = 0;
    if (demo_add_routes(&app) != 0) ok = 0;
    wamp_port = wamp1_server_port(wamp1_app_server(&app));

    t_case = "setup";
    CHECK(ok && echo_port != 0 && wamp_port != 0 && echo_port != wamp_port);
    { /* hosts the port refuses */
        static const char *const bad[] = {"300.1.1.1", "1.2.3", "1.2.3.4.5", "localhost", "1..2.3"};
        unsigned i;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            wamp1_socket s;
            uint16_t b;
            CHECK(echo_port_if.listen(echo_port_if.ctx, bad[i], 0, &s, &b) == -1);
        }
    }
    if (!ok) {
        printf(TEST_NAME ": %d passed, %d failed\n", t_pass, t_fail);
        return 1;
    }
    pthread_create(&te, NULL, echo_thread, NULL);
    pthread_create(&ta, NULL, app_thread, NULL);

    run_cases();

    /* stop both loops from this thread: wake-ups through the UDP pair */
    t_case = "stop";
    {
        uint64_t t0 = tp_now_ms();
        wamp1_server_stop(&echo_srv);
        app_stop = 1;
        wamp1_app_stop(&app);
        pthread_join(te, NULL);
        pthread_join(ta, NULL);
        CHECK(tp_now_ms() - t0 < 3000);
    }
    wamp1_lwip_sockets_free(&echo_lws);
    wamp1_lwip_sockets_free(&wamp_lws);
    printf(TEST_NAME ": %d passed, %d failed\n", t_pass, t_fail);
    return t_fail ? 1 : 0;
}
