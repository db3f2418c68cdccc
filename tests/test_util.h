/* Test helpers: a tiny check framework and a WebSocket client played over the test port. */
#ifndef WAMP1_TEST_UTIL_H
#define WAMP1_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define T_UNUSED __attribute__((unused))
#else
#define T_UNUSED
#endif

static int t_passed, t_failed;
static const char *t_current = "";

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (cond) t_passed++;                                                                \
        else {                                                                               \
            t_failed++;                                                                      \
            printf("FAIL %s (%s:%d): %s\n", t_current, __FILE__, __LINE__, #cond);            \
        }                                                                                    \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                   \
    do {                                                                                     \
        long long t_a = (long long)(a), t_b = (long long)(b);                                \
        if (t_a == t_b) t_passed++;                                                          \
        else {                                                                               \
            t_failed++;                                                                      \
            printf("FAIL %s (%s:%d): %s == %lld, expected %lld\n", t_current, __FILE__,      \
                   __LINE__, #a, t_a, t_b);                                                  \
        }                                                                                    \
    } while (0)

#define TEST(name) static void name(void)
#define RUN(name)                                                                            \
    do {                                                                                     \
        t_current = #name;                                                                   \
        name();                                                                              \
    } while (0)

T_UNUSED static int t_summary(const char *suite) {
#if defined(WAMP1_TESTPORT_EVENTS) && defined(WAMP1_TESTPORT_H_INCLUDED)
    /* event-driven builds: the loop never watched a socket twice, changed or unwatched one
       it did not watch, or closed one still watched */
    if (wamp1_testport_watch_misuse) {
        printf("FAIL %s: %lu misuses of the event-driven port interface\n", suite, wamp1_testport_watch_misuse);
        t_failed++;
    } else t_passed++;
#endif
    printf("%s: %d passed, %d failed\n", suite, t_passed, t_failed);
    return t_failed ? 1 : 0;
}

/* ---- client side frames ------------------------------------------------ */

/* Build a masked client frame; rsv is the 3 RSV bits (0-7); returns its length. */
T_UNUSED static size_t t_frame(uint8_t *out, unsigned op, int fin, unsigned rsv, const void *payload,
                      size_t len, int masked) {
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    const uint8_t *p = (const uint8_t *)payload;
    size_t n = 0, i;
    out[n++] = (uint8_t)((fin ? 0x80 : 0) | ((rsv & 7u) << 4) | (op & 15u));
    if (len < 126) out[n++] = (uint8_t)((masked ? 0x80 : 0) | len);
    else if (len <= 0xFFFF) {
        out[n++] = (uint8_t)((masked ? 0x80 : 0) | 126);
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    } else {
        out[n++] = (uint8_t)((masked ? 0x80 : 0) | 127);
        for (i = 0; i < 8; i++) out[n++] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    }
    if (masked) {
        memcpy(out + n, key, 4);
        n += 4;
        for (i = 0; i < len; i++) out[n + i] = (uint8_t)(p[i] ^ key[i & 3]);
    } else if (len) memcpy(out + n, p, len);
    return n + len;
}

/* A server frame parsed from the client's receive buffer. */
typedef struct t_sframe {
    unsigned op, fin, rsv, masked;
    size_t len;
    const uint8_t *payload;
    size_t total; /* bytes the frame took */
} t_sframe;

/* Parse one server frame from buf; 1 when complete, 0 when more bytes are needed. */
T_UNUSED static int t_parse_frame(const uint8_t *buf, size_t n, t_sframe *f) {
    size_t h = 2, i;
    uint64_t len;
    if (n < 2) return 0;
    f->fin = buf[0] >> 7;
    f->rsv = (buf[0] >> 4) & 7u;
    f->op = buf[0] & 15u;
    f->masked = buf[1] >> 7;
    len = buf[1] & 127u;
    if (len == 126) {
        if (n < 4) return 0;
        len = (uint64_t)buf[2] << 8 | buf[3];
        h = 4;
    } else if (len == 127) {
        if (n < 10) return 0;
        len = 0;
        for (i = 0; i < 8; i++) len = len << 8 | buf[2 + i];
        h = 10;
    }
    if (n < h + len) return 0;
    f->len = (size_t)len;
    f->payload = buf + h;
    f->total = h + (size_t)len;
    return 1;
}

/* ---- a test server over the test port ---------------------------------- */

#define T_CLIENT_BUF (512u * 1024u)

typedef struct t_client {
    int h;                 /* test port handle */
    uint8_t in[T_CLIENT_BUF];
    size_t in_len;
} t_client;

static const char t_upgrade[] =
    "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

#endif
