/* test_redis_lwip.c - the Redis bridge (port/wamp1_redis.h) on lwIP's socket API: the app's
   loop runs in a thread of its own over port/wamp1_lwip_sockets.h (lwip_poll), the bridge
   connects with wamp1_redis_lwip_connect, and the main thread plays Redis on an lwIP socket
   through 127.0.0.1: HELLO with AUTH, a PUBLISH in the wire format, messages from another
   node and from itself, and a reconnect after Redis closes the link. Debian's liblwip:
     gcc -isystem /usr/include/lwip tests/lwip/test_redis_lwip.c -llwip -lpthread */
#define _DEFAULT_SOURCE
#define WAMP1_MAX_CONNECTIONS 4
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_NO_STDIO_FILES
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "lwip/tcpip.h"
#include "lwip/netif.h"
#include "lwip/sockets.h"

#include "../../port/wamp1_lwip_sockets.h"
#include "../../port/wamp1_redis.h"

static int t_pass, t_fail;
#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (c) t_pass++;                                                                     \
        else { t_fail++; printf("FAIL line %d: %s\n", __LINE__, #c); }                       \
    } while (0)

#if !LWIP_HAVE_LOOPIF
static struct netif lo_netif;
static err_t lo_output(struct netif *n, struct pbuf *p, const ip4_addr_t *a) {
    (void)n; (void)p; (void)a;
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
static void tcpip_ready(void *arg) {
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

static wamp1_lwip_sockets lws;
static wamp1_port port_if;
static wamp1_app app;
static uint8_t mem[WAMP1_MAX_CONNECTIONS * 2u * 4096u];
static wamp1_redis redis;
static volatile int app_stop;
static wamp1_redis_stats seen;
static volatile int seen_done;

static void *app_thread(void *arg) {
    (void)arg;
    while (!app_stop) (void)wamp1_app_poll(&app, 50);
    return NULL;
}

static void take_stats(wamp1_app *a, void *arg) { /* in the loop */
    (void)a; (void)arg;
    wamp1_redis_get_stats(&redis, &seen);
    seen_done = 1;
}

static wamp1_redis_stats stats_now(void) {
    int i;
    seen_done = 0;
    (void)wamp1_app_post(&app, take_stats, NULL);
    for (i = 0; i < 200 && !seen_done; i++) usleep(5000);
    return seen;
}

/* read from s until want has arrived (1) or 2 s passed / something else came (0) */
static int expect(int s, const char *want) {
    static char buf[4096];
    size_t n = 0, w = strlen(want);
    int i;
    for (i = 0; i < 200 && n < w; i++) {
        struct pollfd pf;
        ssize_t r;
        pf.fd = s;
        pf.events = POLLIN;
        pf.revents = 0;
        if (lwip_poll(&pf, 1, 10) <= 0) continue;
        r = lwip_recv(s, buf + n, sizeof buf - 1 - n, 0);
        if (r <= 0) break;
        n += (size_t)r;
    }
    buf[n] = 0;
    if (n == w && memcmp(buf, want, w) == 0) return 1;
    printf("    want %s\n    got  %s\n", want, buf);
    return 0;
}

static int accept_one(int ls) {
    struct pollfd pf;
    pf.fd = ls;
    pf.events = POLLIN;
    pf.revents = 0;
    if (lwip_poll(&pf, 1, 3000) <= 0) return -1;
    return lwip_accept(ls, NULL, NULL);
}

static void say(int s, const char *m) { (void)lwip_send(s, m, strlen(m), 0); }

#define HELLO_AUTH "*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$2\r\npw\r\n"
#define HELLO_OK "%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n"

int main(void) {
    wamp1_app_config ac;
    wamp1_redis_config rc;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    pthread_t th;
    int ls, s, i, got = 0;
    uint16_t rport;
    wamp1_redis_stats st;
    if (sys_sem_new(&up, 0) != ERR_OK) return 2;
    tcpip_init(tcpip_ready, NULL);
    sys_sem_wait(&up);

    /* "Redis": a listening lwIP socket */
    ls = lwip_socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = lwip_htonl(0x7F000001UL);
    CHECK(ls >= 0 && lwip_bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && lwip_listen(ls, 4) == 0);
    CHECK(lwip_getsockname(ls, (struct sockaddr *)&a, &al) == 0);
    rport = lwip_ntohs(a.sin_port);

    memset(&ac, 0, sizeof ac);
    ac.server.port = &port_if;
    ac.server.memory = mem;
    ac.server.memory_size = sizeof mem;
    CHECK(wamp1_lwip_sockets_init(&lws, &port_if) == 0 && wamp1_app_init(&app, &ac) == 0);
    CHECK(wamp1_app_add_topic(&app, "http://t/{name}", NULL) == 0); /* publish_async needs a route */
    memset(&rc, 0, sizeof rc);
    rc.host = "127.0.0.1";
    rc.port = rport;
    rc.password = "pw";
    rc.node_id = "lw";
    rc.connect = wamp1_redis_lwip_connect;
    CHECK(wamp1_redis_start(&redis, &app, &rc) == 0);
    pthread_create(&th, NULL, app_thread, NULL);

    s = accept_one(ls);
    CHECK(s >= 0);
    CHECK(expect(s, HELLO_AUTH));
    say(s, HELLO_OK);
    /* a publish in the loop goes out as one PUBLISH (retried until the link is up) */
    for (i = 0; i < 20 && !got; i++) {
        struct pollfd pf;
        (void)wamp1_app_publish_async(&app, "http://t/x", "[1]", 3);
        pf.fd = s;
        pf.events = POLLIN;
        pf.revents = 0;
        got = lwip_poll(&pf, 1, 100) > 0;
    }
    CHECK(got && expect(s, "*3\r\n$7\r\nPUBLISH\r\n$16\r\nwamp1:http://t/x\r\n$15\r\n1 lw 16 0 - [1]\r\n"));
    say(s, ":0\r\n>3\r\n$7\r\nmessage\r\n$16\r\nwamp1:http://t/x\r\n$15\r\n1 xx 16 0 - [2]\r\n"
           ">3\r\n$7\r\nmessage\r\n$16\r\nwamp1:http://t/x\r\n$15\r\n1 lw 16 0 - [3]\r\n");
    for (i = 0; i < 50; i++) {
        st = stats_now();
        if (st.received == 1 && st.own == 1) break;
        usleep(10000);
    }
    CHECK(st.state == WAMP1_REDIS_UP && st.received == 1 && st.own == 1 && st.published == 1);
    /* Redis closes the link: the bridge comes back on its own */
    (void)lwip_close(s);
    s = accept_one(ls);
    CHECK(s >= 0);
    CHECK(expect(s, HELLO_AUTH));
    st = stats_now();
    CHECK(st.failures == 1);
    (void)lwip_close(s);

    app_stop = 1;
    pthread_join(th, NULL);
    wamp1_redis_stop(&redis);
    (void)wamp1_app_shutdown(&app, 0);
    (void)lwip_close(ls);
    printf("lwip-redis: %d passed, %d failed\n", t_pass, t_fail);
    return t_fail ? 1 : 0;
}
