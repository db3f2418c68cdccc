/* The loop over the real POSIX port (epoll on Linux; poll() when built with
   -DWAMP1_POSIX_POLL): application timers in real time, a watched pipe and socket, many
   idle connections beside an active one, and a server started again on the same port. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#define WAMP1_MAX_CONNECTIONS 600
#define WAMP1_RECV_BUFFER_SIZE 2048
#define WAMP1_SEND_BUFFER_SIZE 4096
#define WAMP1_SMALL_DEFAULTS 0
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_IMPLEMENTATION
#include "../wamp1.h"
#include "../port/wamp1_posix.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>

static wamp1_posix posix;
static wamp1_port port;
static wamp1_server srv;
static wamp1_config cfg;
static uint8_t mem[64 * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
static int opened;

static void on_open(wamp1_conn *c, void *u) { (void)c; (void)u; opened++; }
static void on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *u) {
    (void)u;
    (void)wamp1_conn_send(c, op, d, n);
}

static uint64_t now_ms(void) { return port.now_ms(port.ctx); }

static void start(void) {
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.host = "127.0.0.1";
    cfg.cb.on_open = on_open;
    cfg.cb.on_message = on_message;
    cfg.drop_request = 1;
    /* 600 connections share 64 buffers of each kind */
    cfg.recv_buffers = 64;
    cfg.send_buffers = 64;
    cfg.memory = mem;
    cfg.memory_size = sizeof mem;
    if (wamp1_server_init(&srv, &cfg) != 0 || wamp1_server_listen(&srv) != 0) {
        printf("FAIL: server setup\n");
        exit(1);
    }
}

static int dial(void) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(wamp1_server_port(&srv));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    (void)wamp1__posix_nonblock(fd);
    return fd;
}

/* Poll the server until fd has n bytes for us (or 2 s pass); returns what arrived. */
static size_t await(int fd, uint8_t *buf, size_t n) {
    size_t got = 0;
    uint64_t end = now_ms() + 2000;
    while (got < n && now_ms() < end) {
        ssize_t r;
        wamp1_server_poll(&srv, 5);
        r = recv(fd, buf + got, n - got, 0);
        if (r > 0) got += (size_t)r;
        else if (r == 0) break;
    }
    return got;
}

static int handshake(int fd) {
    static uint8_t resp[512];
    size_t n;
    if (send(fd, t_upgrade, sizeof t_upgrade - 1, 0) != (ssize_t)(sizeof t_upgrade - 1)) return 0;
    n = await(fd, resp, 129); /* the 101 answer to t_upgrade */
    return n == 129 && memcmp(resp, "HTTP/1.1 101 ", 13) == 0;
}

/* ---- timers ---- */

static int ticks;
static uint64_t first_at;
static void on_tick(wamp1_server *s, wamp1_timer_id t, void *user) {
    (void)t;
    (void)user;
    if (!ticks) first_at = wamp1_server_now(s);
    ticks++;
}

TEST(test_real_timers) {
    uint64_t t0;
    wamp1_timer_id once, every;
    start();
    ticks = 0;
    t0 = now_ms();
    once = wamp1_timer_start(&srv, 60, 0, on_tick, NULL);
    CHECK(once.id != 0);
    /* the wait sleeps until the timer is due, not longer */
    while (ticks == 0 && now_ms() - t0 < 2000) wamp1_server_poll(&srv, -1);
    CHECK_EQ_INT(ticks, 1);
    CHECK(first_at - t0 >= 60 && first_at - t0 < 1000);
    every = wamp1_timer_start(&srv, 20, 20, on_tick, NULL);
    t0 = now_ms();
    while (ticks < 6 && now_ms() - t0 < 2000) wamp1_server_poll(&srv, -1);
    CHECK_EQ_INT(ticks, 6);
    CHECK(now_ms() - t0 >= 90);
    CHECK_EQ_INT(wamp1_timer_stop(&srv, every), 0);
    wamp1_server_shutdown(&srv, 100);
}

/* ---- a watched pipe and socket ---- */

static int watch_calls;
static unsigned watch_events;
static void on_watch(wamp1_server *s, wamp1_socket sock, unsigned events, void *user) {
    char b[16];
    (void)s;
    (void)user;
    watch_calls++;
    watch_events = events;
    if (events & WAMP1_POLLIN) (void)read(sock, b, sizeof b);
}

TEST(test_watch_pipe) {
    int p[2], sp[2], i;
    start();
    CHECK_EQ_INT(pipe(p), 0);
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    (void)wamp1__posix_nonblock(p[0]);
    watch_calls = 0;
    CHECK_EQ_INT(wamp1_watch(&srv, p[0], WAMP1_POLLIN, on_watch, NULL), 0);
    for (i = 0; i < 3; i++) wamp1_server_poll(&srv, 0);
    CHECK_EQ_INT(watch_calls, 0);
    CHECK_EQ_INT((int)write(p[1], "x", 1), 1);
    for (i = 0; i < 3 && !watch_calls; i++) wamp1_server_poll(&srv, 100);
    CHECK_EQ_INT(watch_calls, 1);
    CHECK_EQ_INT((int)watch_events, WAMP1_POLLIN);
    /* a socket watched for writing is writable at once */
    CHECK_EQ_INT(wamp1_watch(&srv, sp[0], 0, on_watch, NULL), 0);
    wamp1_server_poll(&srv, 0);
    CHECK_EQ_INT(watch_calls, 1);
    CHECK_EQ_INT(wamp1_watch_events(&srv, sp[0], WAMP1_POLLOUT), 0);
    wamp1_server_poll(&srv, 100);
    CHECK_EQ_INT(watch_calls, 2);
    CHECK_EQ_INT((int)watch_events, WAMP1_POLLOUT);
    CHECK_EQ_INT(wamp1_unwatch(&srv, sp[0]), 0);
    CHECK_EQ_INT(wamp1_unwatch(&srv, p[0]), 0);
    CHECK_EQ_INT((int)write(p[1], "y", 1), 1);
    wamp1_server_poll(&srv, 20);
    CHECK_EQ_INT(watch_calls, 2);
    close(p[0]); close(p[1]); close(sp[0]); close(sp[1]);
    wamp1_server_shutdown(&srv, 100);
}

/* ---- many idle connections beside an active one, sharing 64 buffers ---- */

TEST(test_many_idle_one_active) {
    static int fds[520];
    int n = 0, i, ok = 0;
    struct rlimit rl;
    wamp1_stats st;
    start();
    opened = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1200) {
        rl.rlim_cur = rl.rlim_max < 1200 ? rl.rlim_max : 1200;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (i = 0; i < 520; i++) {
        fds[i] = dial();
        if (fds[i] < 0 || !handshake(fds[i])) break;
        n++;
    }
    CHECK_EQ_INT(n, 520);
    CHECK_EQ_INT(opened, n);
    wamp1_server_stats(&srv, &st);
    CHECK_EQ_INT((int)st.connections, n);
    CHECK_EQ_INT((int)(st.recv_buffers_used + st.send_buffers_used), 0);
    for (i = 0; i < 200 && n == 520; i++) {
        uint8_t f[64], back[64];
        char msg[16];
        int len = snprintf(msg, sizeof msg, "m%d", i);
        size_t k = t_frame(f, 1, 1, 0, msg, (size_t)len, 1);
        if (send(fds[i % 7], f, k, 0) != (ssize_t)k) break;
        if (await(fds[i % 7], back, (size_t)len + 2) == (size_t)len + 2 && memcmp(back + 2, msg, (size_t)len) == 0)
            ok++;
    }
    CHECK_EQ_INT(ok, 200);
    wamp1_server_stats(&srv, &st);
    CHECK_EQ_INT((int)(st.recv_buffers_used + st.send_buffers_used), 0);
    /* every connection sends half a message at once: 64 receive buffers cannot hold 520
       partial messages, so most wait; when the halves are completed, every echo arrives */
    if (n == 520) {
        static uint8_t f[2048], back[2048];
        static char msg[1200];
        size_t k;
        int done = 0;
        uint64_t end;
        memset(msg, 'p', sizeof msg);
        k = t_frame(f, 1, 1, 0, msg, sizeof msg, 1);
        for (i = 0; i < n; i++) (void)send(fds[i], f, 600, 0);
        for (i = 0; i < 20; i++) wamp1_server_poll(&srv, 5);
        wamp1_server_stats(&srv, &st);
        CHECK_EQ_INT((int)st.recv_buffers_used, 64);
        CHECK(st.buffer_waits > 0);
        for (i = 0; i < n; i++) (void)send(fds[i], f + 600, k - 600, 0);
        end = now_ms() + 5000;
        {
            static size_t got[520];
            memset(got, 0, sizeof got);
            while (done < n && now_ms() < end) {
                wamp1_server_poll(&srv, 5);
                for (i = 0; i < n; i++) {
                    ssize_t r;
                    if (got[i] == sizeof msg + 4) continue;
                    r = recv(fds[i], back, sizeof msg + 4 - got[i], 0);
                    if (r > 0 && (got[i] += (size_t)r) == sizeof msg + 4) done++;
                }
            }
        }
        CHECK_EQ_INT(done, n);
        wamp1_server_stats(&srv, &st);
        CHECK_EQ_INT((int)st.connections, n);
        CHECK_EQ_INT((int)(st.recv_buffers_used + st.send_buffers_used), 0);
    }
    for (i = 0; i < n; i++) close(fds[i]);
    for (i = 0; i < 50 && st.connections; i++) {
        wamp1_server_poll(&srv, 10);
        wamp1_server_stats(&srv, &st);
    }
    CHECK_EQ_INT((int)st.connections, 0);
    wamp1_server_shutdown(&srv, 100);
}

int main(void) {
    if (wamp1_posix_init(&posix, &port) != 0) return 1;
#ifdef WAMP1_POSIX_POLL
    CHECK(strcmp(wamp1_posix_backend(&port), "poll") == 0);
#elif defined(__linux__)
    CHECK(strcmp(wamp1_posix_backend(&port), "epoll") == 0);
#endif
    RUN(test_real_timers);
    RUN(test_watch_pipe); /* each test starts a server again on the same port */
    RUN(test_many_idle_one_active);
    wamp1_posix_free(&posix);
    return t_summary("posix");
}
