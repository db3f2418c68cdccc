/* tls_lwip.c - the TLS transport (port/wamp1_mbedtls.h) over both lwIP ports, with a TLS
   client (mbedTLS's client side) on the same lwIP in the same process.

   tls_lwip CERT.pem KEY.pem

   Built by tests/tls/run_lwip.sh in two flavours:
     -DTLS_LWIP_RAW   port/wamp1_lwip_raw.h, lwIP built from source with NO_SYS=1: one
                      thread; the client's waits pump the "main loop" (loopback delivery,
                      lwIP timers, the server's poll), as firmware does
     (default)        port/wamp1_lwip_sockets.h on lwIP's socket API (NO_SYS=0): the server
                      loop runs in a thread of its own blocked in lwip_poll()/lwip_select(),
                      the client uses blocking lwIP sockets in the main thread
   The server is a WebSocket echo (the text "please close" is answered with close 4001).
   The certificate and key are handed over as buffers, as firmware would. Prints one line per
   failed check and ends with "NAME: N passed, M failed". */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#define WAMP1_MAX_CONNECTIONS 6
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_NO_WAMP
#define WAMP1_NO_STDIO_FILES
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* the host's random source stands in for a hardware RNG */
static int host_random(void *buf, size_t n) {
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got;
    if (!f) return -1;
    got = fread(buf, 1, n, f);
    fclose(f);
    return got == n ? 0 : -1;
}
#define WAMP1_LWIP_RANDOM(buf, n) host_random(buf, n)

#ifdef TLS_LWIP_RAW
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
static void test_idle(int ms);
#define WAMP1_LWIP_RAW_IDLE(ms) test_idle(ms)
#include "../../port/wamp1_lwip_raw.h"
#define TEST_NAME "tls-lwip-raw"
#else
#include <pthread.h>
#include <unistd.h>
#include "lwip/tcpip.h"
#include "lwip/netif.h"
#include "lwip/sockets.h"
#include "../../port/wamp1_lwip_sockets.h"
#ifndef TEST_NAME
#define TEST_NAME "tls-lwip-sockets"
#endif
#endif

#include "../../port/wamp1_mbedtls.h"
#include <mbedtls/entropy.h>

static int t_pass, t_fail;
static const char *t_case = "";

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (cond) t_pass++;                                                                  \
        else {                                                                               \
            t_fail++;                                                                        \
            printf("FAIL %s (%s:%d): %s\n", t_case, __FILE__, __LINE__, #cond);              \
            fflush(stdout);                                                                  \
        }                                                                                    \
    } while (0)

static wamp1_server srv;
static wamp1_tls tls;
static wamp1_port plain_if, secure_if;
static uint16_t srv_port;

static void echo_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user) {
    (void)user;
    if (op == WAMP1_OP_TEXT && len == 12 && memcmp(data, "please close", 12) == 0) {
        wamp1_conn_close(c, 4001, "asked to");
        return;
    }
    (void)wamp1_conn_send(c, op, data, len);
}

static void on_tls_error(void *user, wamp1_socket s, int err, const char *where) {
    char msg[160];
    (void)user;
    if (!getenv("WAMP1_TLS_VERBOSE")) return;
    wamp1_tls_strerror(err, msg, sizeof msg);
    printf("  (server: TLS %s failed on socket %ld: %s)\n", where, (long)s, msg);
}

/* ==== the transport under the client: tp_connect/tp_send/tp_recv/tp_close ==================== */

#ifdef TLS_LWIP_RAW

static wamp1_lwip_raw lwr;

u32_t sys_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (u32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static uint64_t tp_now_ms(void) { return sys_now(); }

/* One turn of the firmware's main loop. */
static void pump(void) {
    netif_poll_all();
    sys_check_timeouts();
    (void)wamp1_server_poll(&srv, 0);
}

static void test_idle(int ms) {
    (void)ms;
    netif_poll_all();
    sys_check_timeouts();
}

#define RCLIENT_SLOTS 6
#include "../lwip/raw_client.h"

static void tp_settle(void) {
    int i;
    for (i = 0; i < 50; i++) pump();
}

#else /* sockets */

static wamp1_lwip_sockets lws;

static uint64_t tp_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#if !LWIP_HAVE_LOOPIF
/* Debian's liblwip has no loopif: a netif that owns 127.0.0.1 (lwIP loops packets to its own
   address back and never hands them to the driver). */
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

static void *server_thread(void *arg) {
    (void)arg;
    (void)wamp1_server_run(&srv); /* blocks in the port's wait() until stopped */
    (void)wamp1_server_shutdown(&srv, 1000);
    return NULL;
}

#endif

/* ==== the TLS client: mbedTLS's client side over tp_* ============================================ */

static mbedtls_entropy_context c_entropy;
static mbedtls_ctr_drbg_context c_drbg;
static mbedtls_x509_crt c_ca;
static mbedtls_ssl_config c_conf;

typedef struct tcl {
    int cl;
    int timeout_ms;
    mbedtls_ssl_context ssl;
    size_t len; /* plaintext received, not parsed yet */
    uint8_t buf[160u * 1024u];
} tcl;

static tcl clients[3];
static uint8_t msg_in[160u * 1024u], msg_out[160u * 1024u], frame_buf[160u * 1024u];

static int bio_send(void *ctx, const unsigned char *buf, size_t len) {
    tcl *c = (tcl *)ctx;
    return tp_send(c->cl, buf, len) == 0 ? (int)len : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len) {
    tcl *c = (tcl *)ctx;
    long r = tp_recv(c->cl, buf, len, c->timeout_ms);
    if (r >= 0) return (int)r;
    return r == -2 ? MBEDTLS_ERR_SSL_TIMEOUT : MBEDTLS_ERR_NET_RECV_FAILED;
}

static int client_setup(const unsigned char *ca, size_t ca_len) {
    static const unsigned char pers[] = "tls_lwip client";
    mbedtls_entropy_init(&c_entropy);
    mbedtls_ctr_drbg_init(&c_drbg);
    mbedtls_x509_crt_init(&c_ca);
    mbedtls_ssl_config_init(&c_conf);
    if (mbedtls_ctr_drbg_seed(&c_drbg, mbedtls_entropy_func, &c_entropy, pers, sizeof pers - 1) != 0) return -1;
    if (mbedtls_x509_crt_parse(&c_ca, ca, ca_len) != 0) return -1;
    if (mbedtls_ssl_config_defaults(&c_conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        return -1;
    mbedtls_ssl_conf_authmode(&c_conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&c_conf, &c_ca, NULL);
    mbedtls_ssl_conf_rng(&c_conf, mbedtls_ctr_drbg_random, &c_drbg);
    return 0;
}

static void client_teardown(void) {
    mbedtls_ssl_config_free(&c_conf);
    mbedtls_x509_crt_free(&c_ca);
    mbedtls_ctr_drbg_free(&c_drbg);
    mbedtls_entropy_free(&c_entropy);
}

static void tcl_drop(tcl *c) {
    if (c->cl >= 0) tp_close(c->cl);
    mbedtls_ssl_free(&c->ssl);
    c->cl = -1;
}

/* TCP connect and TLS handshake, the server's certificate verified for "localhost". */
static tcl *tls_connect(void) {
    unsigned i;
    tcl *c = NULL;
    int r;
    for (i = 0; i < sizeof clients / sizeof clients[0] && !c; i++)
        if (clients[i].cl < 0) c = &clients[i];
    if (!c) return NULL;
    c->len = 0;
    c->timeout_ms = 5000;
    mbedtls_ssl_init(&c->ssl);
    c->cl = tp_connect(srv_port);
    if (c->cl < 0 || mbedtls_ssl_setup(&c->ssl, &c_conf) != 0 ||
        mbedtls_ssl_set_hostname(&c->ssl, "localhost") != 0) {
        tcl_drop(c);
        return NULL;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    while ((r = mbedtls_ssl_handshake(&c->ssl)) != 0) {
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        printf("  client handshake failed: -0x%04x\n", (unsigned)-r);
        tcl_drop(c);
        return NULL;
    }
    if (mbedtls_ssl_get_verify_result(&c->ssl) != 0) {
        printf("  certificate not verified\n");
        tcl_drop(c);
        return NULL;
    }
    return c;
}

static int tls_write_all(tcl *c, const void *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    while (n) {
        int r = mbedtls_ssl_write(&c->ssl, p, n);
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Plaintext into c->buf until it holds want bytes: 0, -1 (error/EOF), -3 close_notify */
static int tls_fill(tcl *c, size_t want) {
    while (c->len < want) {
        int r = mbedtls_ssl_read(&c->ssl, c->buf + c->len, sizeof c->buf - c->len);
        if (r > 0) {
            c->len += (size_t)r;
            continue;
        }
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return -3;
        return -1;
    }
    return 0;
}

static size_t ws_frame(uint8_t *out, unsigned op, int fin, const void *payload, size_t len) {
    static const uint8_t key[4] = {0x3c, 0xa1, 0x5e, 0x07};
    const uint8_t *p = (const uint8_t *)payload;
    size_t n = 0, i;
    out[n++] = (uint8_t)((fin ? 0x80 : 0) | (op & 15u));
    if (len < 126) out[n++] = (uint8_t)(0x80 | len);
    else if (len <= 0xFFFF) {
        out[n++] = 0x80 | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    } else {
        out[n++] = 0x80 | 127;
        for (i = 0; i < 8; i++) out[n++] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    }
    memcpy(out + n, key, 4);
    n += 4;
    for (i = 0; i < len; i++) out[n + i] = (uint8_t)(p[i] ^ key[i & 3]);
    return n + len;
}

static int ws_send(tcl *c, unsigned op, int fin, const void *data, size_t len) {
    return tls_write_all(c, frame_buf, ws_frame(frame_buf, op, fin, data, len));
}

/* One frame: 0 with *op, *fin and out[0..*plen); or tls_fill's error. */
static int ws_read_frame(tcl *c, unsigned *op, int *fin, uint8_t *out, size_t cap, size_t *plen) {
    size_t hl = 2, len, i;
    int r;
    if ((r = tls_fill(c, 2)) != 0) return r;
    if (c->buf[1] & 0x80) return -1; /* servers never mask */
    len = c->buf[1] & 0x7Fu;
    if (len == 126) hl = 4;
    else if (len == 127) hl = 10;
    if ((r = tls_fill(c, hl)) != 0) return r;
    if (len == 126) len = (size_t)c->buf[2] << 8 | c->buf[3];
    else if (len == 127)
        for (len = 0, i = 0; i < 8; i++) len = len << 8 | c->buf[2 + i];
    if (len > cap || hl + len > sizeof c->buf) return -1;
    if ((r = tls_fill(c, hl + len)) != 0) return r;
    *op = c->buf[0] & 15u;
    *fin = (c->buf[0] & 0x80) != 0;
    memcpy(out, c->buf + hl, len);
    *plen = len;
    memmove(c->buf, c->buf + hl + len, c->len - hl - len);
    c->len -= hl + len;
    return 0;
}

/* A whole message; control frames are returned as they come. */
static int ws_read_msg(tcl *c, unsigned *op, uint8_t *out, size_t cap, size_t *len) {
    size_t total = 0, n;
    unsigned fop;
    int fin, r;
    *op = 0;
    for (;;) {
        if ((r = ws_read_frame(c, &fop, &fin, out + total, cap - total, &n)) != 0) return r;
        if (fop >= 8) {
            if (total == 0) { *op = fop; *len = n; return 0; }
            continue;
        }
        if (fop != 0) *op = fop;
        total += n;
        if (fin) { *len = total; return 0; }
    }
}

#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* TLS, then the WebSocket upgrade. */
static tcl *wss_open(void) {
    static const char req[] = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: " WS_KEY "\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n";
    tcl *c = tls_connect();
    size_t i;
    if (!c) return NULL;
    if (tls_write_all(c, req, sizeof req - 1) != 0) goto fail;
    for (;;) {
        for (i = 3; i < c->len; i++)
            if (memcmp(c->buf + i - 3, "\r\n\r\n", 4) == 0) break;
        if (i < c->len) break;
        if (tls_fill(c, c->len + 1) != 0) goto fail;
    }
    if (memcmp(c->buf, "HTTP/1.1 101 ", 13) != 0) {
        printf("  upgrade answer: %.60s\n", (const char *)c->buf);
        goto fail;
    }
    c->buf[i] = 0;
    if (!strstr((const char *)c->buf, "Sec-WebSocket-Accept: " WS_ACCEPT "\r\n")) goto fail;
    memmove(c->buf, c->buf + i + 1, c->len - i - 1);
    c->len -= i + 1;
    return c;
fail:
    tcl_drop(c);
    return NULL;
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed) {
    size_t i;
    for (i = 0; i < n; i++) p[i] = (uint8_t)('a' + (i * 7u + seed) % 26u);
}

static int echo_once(tcl *c, unsigned op, size_t n, unsigned seed) {
    unsigned rop;
    size_t got = 0;
    fill_pattern(msg_out, n, seed);
    if (ws_send(c, op, 1, msg_out, n) != 0) return 0;
    if (ws_read_msg(c, &rop, msg_in, sizeof msg_in, &got) != 0) return 0;
    return rop == op && got == n && memcmp(msg_in, msg_out, n) == 0;
}

/* After the close frames: the server's close_notify, then the end of the stream. */
static int sees_close_notify(tcl *c) {
    uint8_t b[64];
    int r;
    do r = mbedtls_ssl_read(&c->ssl, b, sizeof b);
    while (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE);
    return r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY;
}

/* ==== the cases ===================================================================================== */

static void case_handshake(void) {
    tcl *c;
    t_case = "handshake";
    c = tls_connect();
    CHECK(c != NULL);
    if (!c) return;
    CHECK(mbedtls_ssl_get_version(&c->ssl) != NULL && strcmp(mbedtls_ssl_get_version(&c->ssl), "TLSv1.2") == 0);
    {   /* plain HTTP over TLS: 426 from the server */
        static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
        CHECK(tls_write_all(c, req, sizeof req - 1) == 0);
        CHECK(tls_fill(c, 13) == 0 && memcmp(c->buf, "HTTP/1.1 426 ", 13) == 0);
    }
    tcl_drop(c);
    c = wss_open();
    CHECK(c != NULL);
    if (c) tcl_drop(c);
}

static void case_echo(void) {
    static const size_t sizes[] = {0, 1, 125, 126, 1000, 16384, 16385, 65535, 65536};
    unsigned i;
    tcl *c;
    t_case = "echo";
    c = wss_open();
    CHECK(c != NULL);
    if (!c) return;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int ok_text = echo_once(c, 1, sizes[i], i), ok_bin = echo_once(c, 2, sizes[i], i + 3);
        if (!ok_text || !ok_bin)
            printf("  size %lu: text %d binary %d\n", (unsigned long)sizes[i], ok_text, ok_bin);
        CHECK(ok_text);
        CHECK(ok_bin);
    }
    {   /* 64 KiB in four fragments, a ping in the middle */
        unsigned op;
        size_t got = 0, k;
        fill_pattern(msg_out, 65536, 11);
        CHECK(ws_send(c, 2, 0, msg_out, 16384) == 0);
        CHECK(ws_send(c, 0, 0, msg_out + 16384, 16384) == 0);
        CHECK(ws_send(c, 9, 1, "mid", 3) == 0);
        for (k = 2; k < 4; k++) CHECK(ws_send(c, 0, k == 3, msg_out + k * 16384, 16384) == 0);
        CHECK(ws_read_msg(c, &op, msg_in, sizeof msg_in, &got) == 0 && op == 10 && got == 3);
        fill_pattern(msg_out, 65536, 11);
        CHECK(ws_read_msg(c, &op, msg_in, sizeof msg_in, &got) == 0 && op == 2 && got == 65536 &&
              memcmp(msg_in, msg_out, 65536) == 0);
    }
    {   /* several messages in one write: one TLS record, many frames */
        uint8_t *p = frame_buf;
        size_t n = 0, got = 0;
        unsigned op, k;
        int ok = 1;
        for (k = 0; k < 40; k++) {
            char m[16];
            int ml = snprintf(m, sizeof m, "pipelined %02u", k);
            n += ws_frame(p + n, 1, 1, m, (size_t)ml);
        }
        CHECK(tls_write_all(c, frame_buf, n) == 0);
        for (k = 0; k < 40 && ok; k++) {
            char m[16];
            int ml = snprintf(m, sizeof m, "pipelined %02u", k);
            ok = ws_read_msg(c, &op, msg_in, sizeof msg_in, &got) == 0 && op == 1 &&
                 got == (size_t)ml && memcmp(msg_in, m, got) == 0;
        }
        CHECK(ok);
    }
    {   /* the client closes: 1000 comes back, then close_notify */
        unsigned op;
        size_t got = 0;
        uint8_t code[2] = {0x03, 0xe8};
        CHECK(ws_send(c, 8, 1, code, 2) == 0);
        CHECK(ws_read_msg(c, &op, msg_in, sizeof msg_in, &got) == 0 && op == 8 && got >= 2 &&
              msg_in[0] == 0x03 && msg_in[1] == 0xe8);
        CHECK(sees_close_notify(c));
    }
    tcl_drop(c);
}

static void case_two_clients(void) {
    tcl *a, *b;
    unsigned i;
    int ok = 1;
    t_case = "two clients";
    a = wss_open();
    b = wss_open();
    CHECK(a != NULL && b != NULL);
    if (a && b)
        for (i = 0; i < 10 && ok; i++) ok = echo_once(i % 2 ? a : b, 1 + i % 2, 1000u + i * 3000u, i);
    CHECK(ok);
    if (a) tcl_drop(a);
    if (b) tcl_drop(b);
}

static void case_server_close(void) {
    tcl *c;
    unsigned op;
    size_t got = 0;
    t_case = "server closes";
    c = wss_open();
    CHECK(c != NULL);
    if (!c) return;
    CHECK(ws_send(c, 1, 1, "please close", 12) == 0);
    CHECK(ws_read_msg(c, &op, msg_in, sizeof msg_in, &got) == 0 && op == 8 && got >= 2 &&
          (msg_in[0] << 8 | msg_in[1]) == 4001);
    CHECK(ws_send(c, 8, 1, msg_in, 2) == 0);
    CHECK(sees_close_notify(c));
    tcl_drop(c);
}

static void case_garbage(void) {
    static const char plain[] = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    uint8_t junk[2048];
    tcl *good;
    int k;
    t_case = "not TLS";
    good = wss_open();
    CHECK(good != NULL);
    for (k = 0; k < 2; k++) {
        int cl = tp_connect(srv_port);
        long r = 0;
        uint64_t end = tp_now_ms() + 5000;
        CHECK(cl >= 0);
        if (cl < 0) continue;
        if (k == 0) CHECK(tp_send(cl, plain, sizeof plain - 1) == 0);
        else {
            fill_pattern(junk, sizeof junk, 7);
            CHECK(tp_send(cl, junk, sizeof junk) == 0);
        }
        /* the server drops it: whatever it says (an alert), then the end */
        while (tp_now_ms() < end) {
            r = tp_recv(cl, junk, sizeof junk, 500);
            if (r == 0 || r == -1) break;
        }
        CHECK(r == 0 || r == -1);
        tp_close(cl);
        if (good) CHECK(echo_once(good, 1, 100, (unsigned)k));
    }
    if (good) tcl_drop(good);
}

static void case_shutdown(void) {
    tcl *c;
    unsigned op;
    size_t got = 0;
    uint64_t t0;
    t_case = "shutdown";
    c = wss_open();
    CHECK(c != NULL);
    if (!c) return;
    CHECK(echo_once(c, 1, 300, 1));
    t0 = tp_now_ms();
#ifdef TLS_LWIP_RAW
    (void)wamp1_server_shutdown(&srv, 500); /* pumps lwIP through the idle hook */
#else
    wamp1_server_stop(&srv); /* from this thread: the port's wake-up */
#endif
    CHECK(ws_read_msg(c, &op, msg_in, sizeof msg_in, &got) == 0 && op == 8 && got >= 2 &&
          (msg_in[0] << 8 | msg_in[1]) == 1001);
    (void)ws_send(c, 8, 1, msg_in, 2);
    CHECK(tp_now_ms() - t0 < 3000);
    tcl_drop(c);
}

/* ==== main ============================================================================================ */

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (unsigned char *)malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv) {
    wamp1_config cfg;
    unsigned char *cert, *key;
    size_t cert_len = 0, key_len = 0, mem_size;
    void *mem;
    unsigned i;
    int ok = 1;
#ifndef TLS_LWIP_RAW
    pthread_t th;
#endif
    if (argc != 3) {
        fprintf(stderr, "usage: tls_lwip CERT.pem KEY.pem\n");
        return 2;
    }
    cert = read_file(argv[1], &cert_len);
    key = read_file(argv[2], &key_len);
    if (!cert || !key) {
        fprintf(stderr, "tls_lwip: cannot read the certificate or the key\n");
        return 2;
    }
    for (i = 0; i < sizeof clients / sizeof clients[0]; i++) clients[i].cl = -1;

#ifdef TLS_LWIP_RAW
    lwip_init();
    wamp1_lwip_raw_init(&lwr, &plain_if);
#else
    if (sys_sem_new(&up, 0) != ERR_OK) return 2;
    tcpip_init(tcpip_ready, NULL);
    sys_sem_wait(&up);
    if (wamp1_lwip_sockets_init(&lws, &plain_if) != 0) ok = 0;
#endif
    t_case = "setup";
    /* PEM buffers without their NUL, as firmware might embed them */
    CHECK(ok && wamp1_tls_init(&tls, &plain_if, &secure_if, cert, cert_len, key, key_len) == 0);
    tls.on_error = on_tls_error;
    CHECK(client_setup(cert, cert_len + 1) == 0);

    memset(&cfg, 0, sizeof cfg);
    cfg.port = &secure_if;
    cfg.host = "127.0.0.1";
    cfg.max_connections = WAMP1_MAX_CONNECTIONS;
    cfg.recv_buffer_size = cfg.send_buffer_size = 80u * 1024u;
    cfg.max_message_size = 70000;
    cfg.close_timeout_ms = 1000;
    cfg.handshake_timeout_ms = 5000;
    cfg.cb.on_message = echo_message;
    mem_size = wamp1_server_memory_size(&cfg);
    mem = malloc(mem_size);
    cfg.memory = mem;
    cfg.memory_size = mem_size;
    CHECK(mem && wamp1_server_init(&srv, &cfg) == 0 && wamp1_server_listen(&srv) == 0);
    srv_port = wamp1_server_port(&srv);
    CHECK(srv_port != 0);
    if (t_fail) {
        printf(TEST_NAME ": %d passed, %d failed\n", t_pass, t_fail);
        return 1;
    }
#ifndef TLS_LWIP_RAW
    pthread_create(&th, NULL, server_thread, NULL);
#endif

    case_handshake();
    case_echo();
    case_two_clients();
    case_server_close();
    case_garbage();
    case_shutdown();

#ifndef TLS_LWIP_RAW
    pthread_join(th, NULL);
#else
    tp_settle();
#endif
    t_case = "after";
    if (tls.stats.active != 0 || tls.stats.handshakes < 8)
        printf("  stats: accepted %lu, handshakes %lu, handshake errors %lu, errors %lu, active %u\n",
               (unsigned long)tls.stats.accepted, (unsigned long)tls.stats.handshakes,
               (unsigned long)tls.stats.handshake_errors, (unsigned long)tls.stats.errors,
               (unsigned)tls.stats.active);
    CHECK(tls.stats.active == 0);
    CHECK(tls.stats.handshakes >= 8);
    CHECK(tls.stats.handshake_errors >= 2); /* the plain HTTP and the garbage clients */
#ifdef TLS_LWIP_RAW
    CHECK(wamp1_lwip_raw_used(&lwr) == 0);
#endif
    wamp1_tls_free(&tls);
    client_teardown();
#ifndef TLS_LWIP_RAW
    wamp1_lwip_sockets_free(&lws);
#endif
    free(mem);
    free(cert);
    free(key);
    printf(TEST_NAME ": %d passed, %d failed\n", t_pass, t_fail);
    return t_fail ? 1 : 0;
}
