/* Tests of port/wamp1_win32.h over real Winsock sockets on the loopback interface (run under
   wine or on Windows). FD_SETSIZE is 8 and the pool holds 24 connections, so every wait()
   with more than 8 sockets goes through the chunked path.
   Prints one line per failure, then "win32-port: N passed, M failed". */
#define FD_SETSIZE 8
#include "../../port/wamp1_win32.h"
#define WAMP1_MAX_CONNECTIONS 24
#define WAMP1_NO_WAMP
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"
#include "../../port/wamp1_win32.h"

#include <stdio.h>

#if WAMP1_WIN32_FITS
#error "this test needs more sockets than one fd_set holds"
#endif

static int passed, failed;
static const char *current = "";

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (cond) passed++;                                                                  \
        else {                                                                               \
            failed++;                                                                        \
            printf("FAIL %s (line %d): %s\n", current, __LINE__, #cond);                     \
        }                                                                                    \
    } while (0)

static wamp1_win32 win;
static wamp1_port port;

#define NCLIENTS 20

/* A blocking client connected to 127.0.0.1:p, or INVALID_SOCKET. */
static SOCKET client(int family, uint16_t p) {
    SOCKET s = socket(family, SOCK_STREAM, IPPROTO_TCP);
    if (s == INVALID_SOCKET) return s;
    if (family == AF_INET) {
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(p);
        if (connect(s, (struct sockaddr *)&a, (int)sizeof a) == 0) return s;
    } else {
        struct sockaddr_in6 a;
        memset(&a, 0, sizeof a);
        a.sin6_family = AF_INET6;
        a.sin6_addr.s6_addr[15] = 1;
        a.sin6_port = htons(p);
        if (connect(s, (struct sockaddr *)&a, (int)sizeof a) == 0) return s;
    }
    closesocket(s);
    return INVALID_SOCKET;
}

/* Accept one connection, waiting up to 2 s for it. */
static int accept_one(wamp1_socket ls, wamp1_socket *out, wamp1_addr *peer) {
    int i;
    for (i = 0; i < 200; i++) {
        int r = port.accept(port.ctx, ls, out, peer);
        if (r != WAMP1_IO_WOULDBLOCK) return r;
        Sleep(10);
    }
    return WAMP1_IO_WOULDBLOCK;
}

static void test_clock_and_random(void) {
    uint64_t t0, t1;
    uint8_t a[32], b[32], zero[32];
    current = "clock_and_random";
    t0 = port.now_ms(port.ctx);
    Sleep(60);
    t1 = port.now_ms(port.ctx);
    CHECK(t1 >= t0 + 40 && t1 < t0 + 2000);
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    memset(zero, 0, sizeof zero);
    CHECK(port.random(port.ctx, a, sizeof a) == 0);
    CHECK(port.random(port.ctx, b, sizeof b) == 0);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(memcmp(a, zero, sizeof a) != 0);
    port.lock(port.ctx);
    port.unlock(port.ctx);
}

static void test_listen(void) {
    wamp1_socket ls, ls2, ls6, s;
    uint16_t p = 0, p2 = 0, p6 = 0;
    wamp1_addr peer;
    SOCKET c;
    current = "listen";
    CHECK(port.listen(port.ctx, "127.0.0.1", 0, &ls, &p) == 0);
    CHECK(p != 0);
    /* the port is taken: a second listener is refused */
    CHECK(port.listen(port.ctx, "127.0.0.1", p, &ls2, &p2) == -1);
    CHECK(port.accept(port.ctx, ls, &s, &peer) == WAMP1_IO_WOULDBLOCK);
    c = client(AF_INET, p);
    CHECK(c != INVALID_SOCKET);
    CHECK(accept_one(ls, &s, &peer) == 0);
    CHECK(peer.family == 4 && peer.bytes[0] == 127 && peer.bytes[3] == 1 && peer.port != 0);
    port.close(port.ctx, s);
    closesocket(c);
    port.close(port.ctx, ls);
    CHECK(port.listen(port.ctx, "no-such-host.invalid", 0, &ls2, &p2) == -1);

    /* "::" takes IPv6 and IPv4 clients */
    current = "listen_dual_stack";
    CHECK(port.listen(port.ctx, "::", 0, &ls6, &p6) == 0);
    c = client(AF_INET6, p6);
    CHECK(c != INVALID_SOCKET);
    CHECK(accept_one(ls6, &s, &peer) == 0);
    CHECK(peer.family == 6 && peer.bytes[15] == 1);
    port.close(port.ctx, s);
    closesocket(c);
    c = client(AF_INET, p6);
    CHECK(c != INVALID_SOCKET);
    CHECK(accept_one(ls6, &s, &peer) == 0);
    /* seen as ::ffff:127.0.0.1 */
    CHECK(peer.family == 6 && peer.bytes[10] == 0xff && peer.bytes[11] == 0xff && peer.bytes[12] == 127);
    port.close(port.ctx, s);
    closesocket(c);
    port.close(port.ctx, ls6);
}

static void test_io(void) {
    wamp1_socket ls, s;
    uint16_t p = 0;
    wamp1_addr peer;
    SOCKET c;
    char buf[16];
    current = "io";
    CHECK(port.listen(port.ctx, "127.0.0.1", 0, &ls, &p) == 0);
    c = client(AF_INET, p);
    CHECK(accept_one(ls, &s, &peer) == 0);
    CHECK(port.recv(port.ctx, s, buf, sizeof buf) == WAMP1_IO_WOULDBLOCK);
    CHECK(send(c, "abc", 3, 0) == 3);
    Sleep(50);
    CHECK(port.recv(port.ctx, s, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
    CHECK(port.send(port.ctx, s, "xy", 2) == 2);
    CHECK(recv(c, buf, (int)sizeof buf, 0) == 2 && memcmp(buf, "xy", 2) == 0);
    port.shutdown(port.ctx, s);
    CHECK(recv(c, buf, (int)sizeof buf, 0) == 0); /* FIN */
    closesocket(c);
    Sleep(50);
    CHECK(port.recv(port.ctx, s, buf, sizeof buf) == 0);
    port.close(port.ctx, s);
    port.close(port.ctx, ls);
}

static DWORD WINAPI wake_later(LPVOID arg) {
    (void)arg;
    Sleep(150);
    port.wake(port.ctx);
    return 0;
}

static void test_wake(void) {
    wamp1_pollfd f;
    uint64_t t0, t;
    HANDLE th;
    current = "wake";
    f.fd = port.wake_fd(port.ctx);
    f.events = WAMP1_POLLIN;
    CHECK(f.fd != INVALID_SOCKET);
    t0 = port.now_ms(port.ctx);
    CHECK(port.wait(port.ctx, &f, 1, 60) == 0);
    t = port.now_ms(port.ctx) - t0;
    CHECK(t >= 40 && t < 1000);
    th = CreateThread(NULL, 0, wake_later, NULL, 0, NULL);
    CHECK(th != NULL);
    t0 = port.now_ms(port.ctx);
    CHECK(port.wait(port.ctx, &f, 1, 5000) == 1 && (f.revents & WAMP1_POLLIN));
    t = port.now_ms(port.ctx) - t0;
    CHECK(t >= 100 && t < 2000);
    if (th) {
        (void)WaitForSingleObject(th, 5000);
        CloseHandle(th);
    }
    port.wake(port.ctx);
    port.wake(port.ctx);
    port.wake_drain(port.ctx);
    CHECK(port.wait(port.ctx, &f, 1, 0) == 0);
}

/* More sockets than FD_SETSIZE: readiness anywhere is found, no entry is reported twice. */
static void test_wait_chunks(void) {
    wamp1_socket ls, srv[NCLIENTS];
    SOCKET cl[NCLIENTS];
    wamp1_pollfd f[NCLIENTS + 1];
    uint16_t p = 0;
    wamp1_addr peer;
    unsigned i, n = NCLIENTS + 1;
    int r, k, hits;
    uint64_t t0, t;
    current = "wait_chunks";
    CHECK(port.listen(port.ctx, "127.0.0.1", 0, &ls, &p) == 0);
    for (i = 0; i < NCLIENTS; i++) {
        cl[i] = client(AF_INET, p);
        CHECK(cl[i] != INVALID_SOCKET);
        CHECK(accept_one(ls, &srv[i], &peer) == 0);
    }
    f[0].fd = port.wake_fd(port.ctx);
    f[0].events = WAMP1_POLLIN;
    for (i = 0; i < NCLIENTS; i++) {
        f[i + 1].fd = srv[i];
        f[i + 1].events = WAMP1_POLLIN;
    }
    t0 = port.now_ms(port.ctx);
    CHECK(port.wait(port.ctx, f, n, 80) == 0);
    t = port.now_ms(port.ctx) - t0;
    CHECK(t >= 60 && t < 1000);
    /* one socket in each chunk, the last one included */
    for (k = 3; k <= NCLIENTS; k += 8) {
        unsigned want = (unsigned)(k > NCLIENTS ? NCLIENTS : k);
        CHECK(send(cl[want - 1], "z", 1, 0) == 1);
        t0 = port.now_ms(port.ctx);
        r = port.wait(port.ctx, f, n, 3000);
        t = port.now_ms(port.ctx) - t0;
        CHECK(r == 1);
        CHECK(t < 1000);
        for (i = 0, hits = 0; i < n; i++)
            if (f[i].revents) hits += (i == want && f[i].revents == WAMP1_POLLIN) ? 1 : 100;
        CHECK(hits == 1);
        {
            char b;
            CHECK(port.recv(port.ctx, srv[want - 1], &b, 1) == 1);
        }
    }
    /* the last entry is readable too */
    CHECK(send(cl[NCLIENTS - 1], "z", 1, 0) == 1);
    CHECK(port.wait(port.ctx, f, n, 3000) == 1 && f[n - 1].revents == WAMP1_POLLIN);
    {
        char b;
        CHECK(port.recv(port.ctx, srv[NCLIENTS - 1], &b, 1) == 1);
    }
    /* writable sockets in the second and third chunk, and a wake-up at once */
    f[10].events = WAMP1_POLLOUT;
    f[20].events = WAMP1_POLLIN | WAMP1_POLLOUT;
    port.wake(port.ctx);
    r = port.wait(port.ctx, f, n, 3000);
    CHECK(r == 3);
    CHECK(f[0].revents == WAMP1_POLLIN && f[10].revents == WAMP1_POLLOUT &&
          f[20].revents == WAMP1_POLLOUT);
    port.wake_drain(port.ctx);
    f[10].events = f[20].events = WAMP1_POLLIN;
    /* a closed socket is reported, as poll() does, with POLLNVAL */
    current = "wait_invalid";
    port.close(port.ctx, srv[5]);
    r = port.wait(port.ctx, f, 8, 100);
    CHECK(r == 1 && f[6].revents == WAMP1_POLLNVAL);
    f[6].fd = INVALID_SOCKET; /* skipped, as poll() skips negative fds */
    CHECK(port.wait(port.ctx, f, 8, 10) == 0);
    for (i = 0; i < NCLIENTS; i++) {
        if (i != 5) port.close(port.ctx, srv[i]);
        closesocket(cl[i]);
    }
    port.close(port.ctx, ls);
    /* nothing to wait for: just the timeout */
    current = "wait_nothing";
    f[0].fd = INVALID_SOCKET;
    t0 = port.now_ms(port.ctx);
    CHECK(port.wait(port.ctx, f, 1, 50) == 0);
    CHECK(port.now_ms(port.ctx) - t0 >= 30);
}

/* ---- a whole echo server on the port, with more clients than one fd_set holds ---------- */

static void on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user) {
    (void)user;
    (void)wamp1_conn_send(c, op, data, len);
}

static int recv_until(wamp1_server *s, SOCKET c, char *buf, int cap, const char *needle, int minlen) {
    int got = 0, i;
    u_long one = 1;
    (void)ioctlsocket(c, (long)FIONBIO, &one);
    for (i = 0; i < 300; i++) {
        int r;
        (void)wamp1_server_poll(s, 10);
        r = recv(c, buf + got, cap - 1 - got, 0);
        if (r > 0) got += r;
        else if (r == 0) break;
        buf[got] = 0;
        if (needle && strstr(buf, needle)) return got;
        if (!needle && got >= minlen) return got;
    }
    return got;
}

static void test_echo_server(void) {
    static wamp1_server s;
    wamp1_config cfg;
    SOCKET cl[NCLIENTS];
    char buf[1024], req[512];
    unsigned i;
    int ok_hs = 0, ok_echo = 0, ok_close = 0;
    current = "echo_server";
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.host = "127.0.0.1";
    cfg.cb.on_message = on_message;
    CHECK(wamp1_server_init(&s, &cfg) == 0);
    CHECK(wamp1_server_listen(&s) == 0);
    for (i = 0; i < NCLIENTS; i++) {
        int n = snprintf(req, sizeof req,
                         "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n");
        cl[i] = client(AF_INET, wamp1_server_port(&s));
        if (cl[i] == INVALID_SOCKET) continue;
        (void)send(cl[i], req, n, 0);
        if (recv_until(&s, cl[i], buf, (int)sizeof buf, "\r\n\r\n", 0) > 0 &&
            strncmp(buf, "HTTP/1.1 101", 12) == 0 && strstr(buf, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
            ok_hs++;
    }
    CHECK(ok_hs == NCLIENTS);
    /* every client sends at once, then all answers are collected */
    for (i = 0; i < NCLIENTS; i++) {
        uint8_t fr[16];
        static const uint8_t key[4] = {1, 2, 3, 4};
        int k;
        fr[0] = 0x81;
        fr[1] = 0x80 | 5;
        memcpy(fr + 2, key, 4);
        for (k = 0; k < 5; k++) fr[6 + k] = (uint8_t)("hello"[k] ^ key[k & 3]);
        (void)send(cl[i], (const char *)fr, 11, 0);
    }
    for (i = 0; i < NCLIENTS; i++) {
        int got = recv_until(&s, cl[i], buf, (int)sizeof buf, NULL, 7);
        if (got == 7 && (uint8_t)buf[0] == 0x81 && buf[1] == 5 && memcmp(buf + 2, "hello", 5) == 0) ok_echo++;
    }
    CHECK(ok_echo == NCLIENTS);
    /* shutdown: each open WebSocket gets close 1001 (the clients do not answer here, so the
       server gives up after the timeout and closes the sockets) */
    wamp1_server_stop(&s);
    (void)wamp1_server_shutdown(&s, 100);
    for (i = 0; i < NCLIENTS; i++) {
        int got = 0, k, r;
        for (k = 0; k < 100 && got < 4; k++) {
            r = recv(cl[i], buf + got, (int)sizeof buf - got, 0);
            if (r > 0) got += r;
            else if (r == 0) break;
            else Sleep(10);
        }
        if (got >= 4 && (uint8_t)buf[0] == 0x88 && (uint8_t)buf[2] == 0x03 && (uint8_t)buf[3] == 0xE9)
            ok_close++;
        closesocket(cl[i]);
    }
    CHECK(ok_close == NCLIENTS);
}

int main(void) {
    if (wamp1_win32_init(&win, &port) != 0) {
        printf("FAIL init: wamp1_win32_init\nwin32-port: 0 passed, 1 failed\n");
        return 1;
    }
    test_clock_and_random();
    test_listen();
    test_io();
    test_wake();
    test_wait_chunks();
    test_echo_server();
    wamp1_win32_free(&win);
    printf("win32-port: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
