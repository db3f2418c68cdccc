/* lwip_cases.h - a WebSocket/WAMP v1 client and the test cases both lwIP flavours run.

   The including file provides the transport on lwIP and the servers under test:

     static int  tp_connect(uint16_t port);                          client handle, or -1
     static int  tp_send(int cl, const void *data, size_t n);        all of it: 0, or -1
     static long tp_recv(int cl, void *buf, size_t cap, int timeout_ms);
                                                  bytes, 0 at EOF, -1 error, -2 timeout
     static void tp_close(int cl);
     static void tp_publish_async(const char *topic, const char *event_json);
                                                  wamp1_app_publish_async from "elsewhere"
     static uint64_t tp_now_ms(void);  static void tp_sleep(int ms);
     static uint16_t echo_port, wamp_port;        the servers' ports

   The echo server answers every message with the same message, and closes with 4001 when
   it receives the text "please close". It takes at most ECHO_MAX_CONNECTIONS connections.
   The WAMP server runs the demo routes (examples/demo_routes.h). Nothing here knows which
   flavour runs underneath. */
#ifndef LWIP_CASES_H
#define LWIP_CASES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ECHO_MAX_CONNECTIONS
#define ECHO_MAX_CONNECTIONS 4
#endif
#define WSC_BUF (160u * 1024u)

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

/* ---- WebSocket client ------------------------------------------------------ */

typedef struct wsc {
    int cl;
    size_t len;            /* received bytes not parsed yet */
    uint8_t buf[WSC_BUF];
} wsc;

static wsc wsc_pool[6];
static uint8_t scratch[WSC_BUF], scratch2[WSC_BUF];

/* RFC 6455, 1.3: the sample key and the accept value it must produce. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static size_t ws_frame(uint8_t *out, unsigned op, int fin, unsigned rsv, const void *payload,
                       size_t len, int masked) {
    static const uint8_t key[4] = {0x9b, 0x17, 0x4c, 0xe2};
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
    } else if (len)
        memcpy(out + n, p, len);
    return n + len;
}

static int ws_send(wsc *w, unsigned op, int fin, const void *data, size_t len) {
    size_t n = ws_frame(scratch2, op, fin, 0, data, len, 1);
    return tp_send(w->cl, scratch2, n);
}

static int ws_send_text(wsc *w, const char *s) { return ws_send(w, 1, 1, s, strlen(s)); }

/* Fill the buffer until it holds at least want bytes: 0, or -1 (EOF, error, timeout). */
static int wsc_fill(wsc *w, size_t want, int timeout_ms) {
    while (w->len < want) {
        long r = tp_recv(w->cl, w->buf + w->len, WSC_BUF - w->len, timeout_ms);
        if (r <= 0) return (int)(r == 0 ? -1 : r == -2 ? -2 : -1);
        w->len += (size_t)r;
    }
    return 0;
}

/* Read one frame: 0 with *op, *fin and payload[0..*plen), -1 EOF/error, -2 timeout. */
static int ws_read_frame(wsc *w, unsigned *op, int *fin, uint8_t *payload, size_t cap, size_t *plen,
                         int timeout_ms) {
    size_t hl = 2, len, i;
    int r;
    if ((r = wsc_fill(w, 2, timeout_ms)) != 0) return r;
    len = w->buf[1] & 0x7F;
    if (w->buf[1] & 0x80) return -1; /* servers never mask */
    if (len == 126) hl = 4;
    else if (len == 127) hl = 10;
    if ((r = wsc_fill(w, hl, timeout_ms)) != 0) return r;
    if (len == 126) len = (size_t)w->buf[2] << 8 | w->buf[3];
    else if (len == 127)
        for (len = 0, i = 0; i < 8; i++) len = len << 8 | w->buf[2 + i];
    if (hl + len > WSC_BUF || len > cap) return -1;
    if ((r = wsc_fill(w, hl + len, timeout_ms)) != 0) return r;
    *op = w->buf[0] & 15u;
    *fin = (w->buf[0] & 0x80) != 0;
    memcpy(payload, w->buf + hl, len);
    *plen = len;
    memmove(w->buf, w->buf + hl + len, w->len - hl - len);
    w->len -= hl + len;
    return 0;
}

/* A whole message (continuations joined); control frames are returned as they come. */
static int ws_read_msg(wsc *w, unsigned *op, uint8_t *out, size_t cap, size_t *len, int timeout_ms) {
    unsigned fop;
    int fin, r;
    size_t n, total = 0;
    *op = 0;
    for (;;) {
        r = ws_read_frame(w, &fop, &fin, out + total, cap - total, &n, timeout_ms);
        if (r) return r;
        if (fop >= 8) { /* control frame */
            if (total == 0) { *op = fop; *len = n; return 0; }
            continue; /* would interleave: not expected from this server */
        }
        if (fop != 0) *op = fop;
        total += n;
        if (fin) { *len = total; return 0; }
    }
}

/* Read a text message into a NUL-terminated string; 0 or -1. */
static int ws_read_text(wsc *w, char *out, size_t cap, int timeout_ms) {
    unsigned op;
    size_t n;
    if (ws_read_msg(w, &op, (uint8_t *)out, cap - 1, &n, timeout_ms) != 0) return -1;
    if (op != 1) return -1;
    out[n] = 0;
    return 0;
}

/* Read until the server's close frame: its code (0 without one), or -1. */
static int ws_read_close(wsc *w, int timeout_ms) {
    for (;;) {
        unsigned op;
        int fin;
        size_t n;
        if (ws_read_frame(w, &op, &fin, scratch, sizeof scratch, &n, timeout_ms) != 0) return -1;
        if (op == 8) return n >= 2 ? scratch[0] << 8 | scratch[1] : 0;
    }
}

/* After the close frame: does the server end the TCP connection? 1 yes (EOF or reset). */
static int ws_sees_eof(wsc *w, int timeout_ms) {
    for (;;) {
        long r = tp_recv(w->cl, scratch, sizeof scratch, timeout_ms);
        if (r == 0 || r == -1) return 1;
        if (r == -2) return 0;
        (void)w;
    }
}

static void wsc_close(wsc *w) {
    if (w->cl >= 0) tp_close(w->cl);
    w->cl = -1;
    w->len = 0;
}

/* Read an HTTP response head into out (NUL-terminated); what follows stays in w->buf. */
static int http_read_head(wsc *w, char *out, size_t cap, int timeout_ms) {
    for (;;) {
        size_t i;
        for (i = 3; i < w->len; i++) {
            if (memcmp(w->buf + i - 3, "\r\n\r\n", 4) == 0) {
                size_t n = i + 1 < cap ? i + 1 : cap - 1;
                memcpy(out, w->buf, n);
                out[n] = 0;
                memmove(w->buf, w->buf + i + 1, w->len - i - 1);
                w->len -= i + 1;
                return 0;
            }
        }
        {
            long r = tp_recv(w->cl, w->buf + w->len, WSC_BUF - w->len, timeout_ms);
            if (r <= 0) {
                if (w->len && w->len < cap) { /* the server closed after an incomplete head */
                    memcpy(out, w->buf, w->len);
                    out[w->len] = 0;
                    w->len = 0;
                    return 0;
                }
                return -1;
            }
            w->len += (size_t)r;
        }
    }
}

static wsc *wsc_connect(uint16_t port) {
    unsigned i;
    for (i = 0; i < sizeof wsc_pool / sizeof wsc_pool[0]; i++) {
        wsc *w = &wsc_pool[i];
        if (w->cl >= 0) continue;
        w->len = 0;
        w->cl = tp_connect(port);
        return w->cl >= 0 ? w : NULL;
    }
    return NULL;
}

/* Connect and send a request; the response head lands in head. */
static wsc *http_request(uint16_t port, const char *req, char *head, size_t cap) {
    wsc *w = wsc_connect(port);
    head[0] = 0;
    if (!w) return NULL;
    if (tp_send(w->cl, req, strlen(req)) != 0 || http_read_head(w, head, cap, 3000) != 0) {
        wsc_close(w);
        return NULL;
    }
    return w;
}

/* Open a WebSocket; protocol may be NULL. NULL when the handshake failed. */
static wsc *ws_open(uint16_t port, const char *protocol) {
    char req[512], head[1024];
    wsc *w;
    snprintf(req, sizeof req,
             "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
             protocol ? "Sec-WebSocket-Protocol: " : "", protocol ? protocol : "", protocol ? "\r\n" : "");
    w = http_request(port, req, head, sizeof head);
    if (!w) return NULL;
    if (strncmp(head, "HTTP/1.1 101 ", 13) != 0 || !strstr(head, "Sec-WebSocket-Accept: " WS_ACCEPT "\r\n")) {
        printf("  handshake answer: %.80s\n", head);
        wsc_close(w);
        return NULL;
    }
    return w;
}

/* ---- WebSocket cases (echo server) ---------------------------------------- */

static void fill_pattern(uint8_t *p, size_t n, unsigned seed) {
    size_t i;
    for (i = 0; i < n; i++) p[i] = (uint8_t)('a' + (i * 7u + seed) % 26u);
}

static uint8_t msg_in[WSC_BUF], msg_out[WSC_BUF];

static void case_handshake(void) {
    char head[1024];
    wsc *w;
    t_case = "handshake";
    w = ws_open(echo_port, NULL);
    CHECK(w != NULL);
    if (w) wsc_close(w);
    /* plain HTTP, a wrong version, a wrong method */
    w = http_request(echo_port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", head, sizeof head);
    CHECK(w && strncmp(head, "HTTP/1.1 426 ", 13) == 0);
    if (w) wsc_close(w);
    w = http_request(echo_port,
                     "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 8\r\n\r\n",
                     head, sizeof head);
    CHECK(w && strncmp(head, "HTTP/1.1 426 ", 13) == 0 && strstr(head, "Sec-WebSocket-Version: 13"));
    if (w) wsc_close(w);
    w = http_request(echo_port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", head, sizeof head);
    CHECK(w && strncmp(head, "HTTP/1.1 405 ", 13) == 0);
    if (w) wsc_close(w);
}

static int echo_once(wsc *w, unsigned op, size_t n, unsigned seed) {
    unsigned rop;
    size_t got = 0;
    fill_pattern(msg_out, n, seed);
    if (ws_send(w, op, 1, msg_out, n) != 0) return 0;
    if (ws_read_msg(w, &rop, msg_in, sizeof msg_in, &got, 5000) != 0) return 0;
    return rop == op && got == n && memcmp(msg_in, msg_out, n) == 0;
}

static void case_echo_sizes(void) {
    static const size_t sizes[] = {0, 1, 125, 126, 127, 1000, 4096, 65535, 65536};
    unsigned i;
    wsc *w;
    t_case = "echo sizes";
    w = ws_open(echo_port, NULL);
    CHECK(w != NULL);
    if (!w) return;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int ok_text = echo_once(w, 1, sizes[i], i), ok_bin = echo_once(w, 2, sizes[i], i + 3);
        if (!ok_text || !ok_bin) printf("  size %lu: text %d binary %d\n", (unsigned long)sizes[i], ok_text, ok_bin);
        CHECK(ok_text);
        CHECK(ok_bin);
    }
    wsc_close(w);
}

static void case_fragmented(void) {
    wsc *w;
    unsigned op;
    size_t got = 0, i;
    t_case = "fragmented";
    w = ws_open(echo_port, NULL);
    CHECK(w != NULL);
    if (!w) return;
    /* 10,000 bytes in three fragments, a ping between the second and the third */
    fill_pattern(msg_out, 10000, 5);
    CHECK(ws_send(w, 1, 0, msg_out, 3000) == 0);
    CHECK(ws_send(w, 0, 0, msg_out + 3000, 3000) == 0);
    CHECK(ws_send(w, 9, 1, "mid", 3) == 0);
    CHECK(ws_send(w, 0, 1, msg_out + 6000, 4000) == 0);
    CHECK(ws_read_msg(w, &op, msg_in, sizeof msg_in, &got, 5000) == 0 && op == 10 && got == 3 &&
          memcmp(msg_in, "mid", 3) == 0);
    CHECK(ws_read_msg(w, &op, msg_in, sizeof msg_in, &got, 5000) == 0 && op == 1 && got == 10000 &&
          memcmp(msg_in, msg_out, 10000) == 0);
    /* 64 KiB in four binary fragments of 16 KiB */
    fill_pattern(msg_out, 65536, 9);
    for (i = 0; i < 4; i++) CHECK(ws_send(w, i ? 0 : 2, i == 3, msg_out + i * 16384, 16384) == 0);
    CHECK(ws_read_msg(w, &op, msg_in, sizeof msg_in, &got, 5000) == 0 && op == 2 && got == 65536 &&
          memcmp(msg_in, msg_out, 65536) == 0);
    /* UTF-8 split across fragments (U+20AC, E2 82 AC) */
    CHECK(ws_send(w, 1, 0, "price: \xE2\x82", 9) == 0);
    CHECK(ws_send(w, 0, 1, "\xAC", 1) == 0);
    CHECK(ws_read_msg(w, &op, msg_in, sizeof msg_in, &got, 5000) == 0 && op == 1 && got == 10 &&
          memcmp(msg_in, "price: \xE2\x82\xAC", 10) == 0);
    wsc_close(w);
}

static void case_ping_pong(void) {
    wsc *w;
    unsigned op;
    size_t got = 0;
    t_case = "ping/pong";
    w = ws_open(echo_port, NULL);
    CHECK(w != NULL);
    if (!w) return;
    CHECK(ws_send(w, 9, 1, "hello", 5) == 0);
    CHECK(ws_read_msg(w, &op, msg_in, sizeof msg_in, &got, 3000) == 0 && op == 10 && got == 5 &&
          memcmp(msg_in, "hello", 5) == 0);
    fill_pattern(msg_out, 125, 1); /* the largest control payload */
    CHECK(ws_send(w, 9, 1, msg_out, 125) == 0);
    CHECK(ws_read_msg(w, &op, msg_in, sizeof msg_in, &got, 3000) == 0 && op == 10 && got == 125 &&
          memcmp(msg_in, msg_out, 125) == 0);
    /* an unsolicited pong is ignored */
    CHECK(ws_send(w, 10, 1, "x", 1) == 0);
    CHECK(ws_send_text(w, "after pong") == 0);
    CHECK(ws_read_msg(w, &op, msg_in, sizeof msg_in, &got, 3000) == 0 && op == 1 && got == 10);
    wsc_close(w);
}

/* Send raw bytes on a fresh connection; expect a close frame with code, then the end. */
static void expect_close_after(const char *what, const uint8_t *bytes, size_t n, int code) {
    wsc *w = ws_open(echo_port, NULL);
    int got;
    if (!w) {
        CHECK(w != NULL);
        return;
    }
    CHECK(tp_send(w->cl, bytes, n) == 0);
    got = ws_read_close(w, 3000);
    if (got != code) printf("  %s: close code %d, expected %d\n", what, got, code);
    CHECK(got == code);
    CHECK(ws_sees_eof(w, 5000));
    wsc_close(w);
}

static void case_protocol_errors(void) {
    uint8_t b[256];
    size_t n;
    t_case = "protocol errors";
    n = ws_frame(b, 1, 1, 0, "abc", 3, 0);
    expect_close_after("unmasked", b, n, 1002);
    n = ws_frame(b, 3, 1, 0, "abc", 3, 1);
    expect_close_after("reserved opcode", b, n, 1002);
    n = ws_frame(b, 1, 1, 4, "abc", 3, 1);
    expect_close_after("RSV1", b, n, 1002);
    n = ws_frame(b, 0, 1, 0, "abc", 3, 1);
    expect_close_after("continuation first", b, n, 1002);
    n = ws_frame(b, 9, 0, 0, "abc", 3, 1);
    expect_close_after("fragmented ping", b, n, 1002);
    fill_pattern(msg_out, 126, 0);
    n = ws_frame(b, 9, 1, 0, msg_out, 126, 1);
    expect_close_after("ping of 126 bytes", b, n, 1002);
    n = ws_frame(b, 1, 0, 0, "ab", 2, 1);
    n += ws_frame(b + n, 1, 1, 0, "cd", 2, 1);
    expect_close_after("new message inside a fragmented one", b, n, 1002);
    n = ws_frame(b, 8, 1, 0, "\x03\xed", 2, 1); /* 1005 may not be sent */
    expect_close_after("close code 1005", b, n, 1002);
    n = ws_frame(b, 8, 1, 0, "\x03", 1, 1);
    expect_close_after("close payload of 1 byte", b, n, 1002);
    { /* a frame header announcing 1 MiB: beyond the message limit */
        static const uint8_t big[] = {0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4};
        expect_close_after("1 MiB frame", big, sizeof big, 1009);
    }
    t_case = "UTF-8";
    n = ws_frame(b, 1, 1, 0, "bad \xC0\xAF", 6, 1);
    expect_close_after("overlong", b, n, 1007);
    n = ws_frame(b, 1, 1, 0, "\xED\xA0\x80", 3, 1);
    expect_close_after("surrogate", b, n, 1007);
    n = ws_frame(b, 1, 0, 0, "ok \xE2\x82", 5, 1);
    n += ws_frame(b + n, 0, 1, 0, "\x28", 1, 1);
    expect_close_after("bad sequence across fragments", b, n, 1007);
    n = ws_frame(b, 1, 1, 0, "cut \xE2\x82", 6, 1);
    expect_close_after("message ends inside a character", b, n, 1007);
}

static void case_close_handshake(void) {
    wsc *w;
    t_case = "close handshake";
    /* client-initiated: the server answers with the same code, then ends the connection */
    w = ws_open(echo_port, NULL);
    CHECK(w != NULL);
    if (w) {
        CHECK(ws_send(w, 8, 1, "\x03\xe8" "bye", 5) == 0);
        CHECK(ws_read_close(w, 3000) == 1000);
        CHECK(ws_sees_eof(w, 5000));
        wsc_close(w);
    }
    /* server-initiated */
    w = ws_open(echo_port, NULL);
    CHECK(w != NULL);
    if (w) {
        CHECK(ws_send_text(w, "please close") == 0);
        CHECK(ws_read_close(w, 3000) == 4001);
        CHECK(ws_send(w, 8, 1, "\x0f\xa1", 2) == 0);
        CHECK(ws_sees_eof(w, 5000));
        wsc_close(w);
    }
    /* close without a code */
    w = ws_open(echo_port, NULL);
    CHECK(w != NULL);
    if (w) {
        CHECK(ws_send(w, 8, 1, "", 0) == 0);
        CHECK(ws_read_close(w, 3000) >= 0);
        CHECK(ws_sees_eof(w, 5000));
        wsc_close(w);
    }
}

static void case_pool_full(void) {
    wsc *w[ECHO_MAX_CONNECTIONS];
    char head[1024];
    wsc *extra;
    unsigned i, open = 0;
    t_case = "pool full";
    for (i = 0; i < ECHO_MAX_CONNECTIONS; i++) {
        w[i] = ws_open(echo_port, NULL);
        if (w[i]) open++;
    }
    CHECK(open == ECHO_MAX_CONNECTIONS);
    extra = http_request(echo_port,
                         "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                         head, sizeof head);
    CHECK(extra && strncmp(head, "HTTP/1.1 503 ", 13) == 0);
    if (extra) wsc_close(extra);
    /* the open ones still work */
    for (i = 0; i < ECHO_MAX_CONNECTIONS; i++)
        if (w[i]) {
            CHECK(echo_once(w[i], 1, 20, i));
            wsc_close(w[i]);
        }
}

/* ---- WAMP cases (demo routes) ---------------------------------------------- */

static char sid_a[64], sid_b[64];

/* Open a WAMP session: WELCOME's session id into sid. */
static wsc *wamp_open(char *sid, size_t cap) {
    char msg[512];
    const char *p, *q;
    wsc *w = ws_open(wamp_port, "wamp");
    if (!w) return NULL;
    if (ws_read_text(w, msg, sizeof msg, 3000) != 0 || strncmp(msg, "[0,\"", 4) != 0) {
        printf("  no WELCOME: %.100s\n", msg);
        wsc_close(w);
        return NULL;
    }
    p = msg + 4;
    q = strchr(p, '"');
    if (!q || (size_t)(q - p) >= cap || strncmp(q, "\",1,\"", 5) != 0) {
        wsc_close(w);
        return NULL;
    }
    memcpy(sid, p, (size_t)(q - p));
    sid[q - p] = 0;
    return w;
}

/* Send a message and expect exactly this answer. */
static int wamp_rt(wsc *w, const char *send, const char *expect) {
    char msg[4096];
    if (ws_send_text(w, send) != 0) return 0;
    if (ws_read_text(w, msg, sizeof msg, 3000) != 0) {
        printf("  %s: no answer\n", send);
        return 0;
    }
    if (strcmp(msg, expect) != 0) {
        printf("  %s\n    got      %s\n    expected %s\n", send, msg, expect);
        return 0;
    }
    return 1;
}

static int wamp_expect(wsc *w, const char *expect) {
    char msg[4096];
    if (ws_read_text(w, msg, sizeof msg, 3000) != 0) {
        printf("  expected %s, got nothing\n", expect);
        return 0;
    }
    if (strcmp(msg, expect) != 0) {
        printf("  got      %s\n  expected %s\n", msg, expect);
        return 0;
    }
    return 1;
}

/* A session on a server just (re)started: WELCOME, PREFIX, a CURIE call. */
static void wamp_session_once(void) {
    char sid[64];
    wsc *w = wamp_open(sid, sizeof sid);
    CHECK(w != NULL);
    if (!w) return;
    CHECK(ws_send_text(w, "[1,\"r\",\"http://wamp1.dev/rpc#\"]") == 0);
    CHECK(wamp_rt(w, "[2,\"a\",\"r:add\",2,3]", "[3,\"a\",5]"));
    wsc_close(w);
}

static void case_wamp_welcome(void) {
    char head[1024];
    wsc *w;
    t_case = "WAMP welcome";
    w = ws_open(wamp_port, "wamp");
    CHECK(w != NULL);
    if (w) {
        char msg[512];
        CHECK(ws_read_text(w, msg, sizeof msg, 3000) == 0 && strncmp(msg, "[0,\"", 4) == 0 &&
              strstr(msg, "\",1,\"wamp1.h/") != NULL);
        wsc_close(w);
    }
    /* the subprotocol is required */
    w = http_request(wamp_port,
                     "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     head, sizeof head);
    CHECK(w && strncmp(head, "HTTP/1.1 426 ", 13) == 0);
    if (w) wsc_close(w);
    w = http_request(wamp_port,
                     "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: chat, wamp\r\n\r\n",
                     head, sizeof head);
    CHECK(w && strncmp(head, "HTTP/1.1 101 ", 13) == 0 && strstr(head, "Sec-WebSocket-Protocol: wamp\r\n"));
    if (w) wsc_close(w);
}

static void case_wamp_calls(void) {
    char expect[256];
    wsc *w;
    t_case = "WAMP calls";
    w = wamp_open(sid_a, sizeof sid_a);
    CHECK(w != NULL);
    if (!w) return;
    CHECK(wamp_rt(w, "[2,\"c1\",\"http://wamp1.dev/rpc#add\",1,2]", "[3,\"c1\",3]"));
    CHECK(wamp_rt(w, "[2,\"c2\",\"http://wamp1.dev/rpc#add\",1.5,2.25]", "[3,\"c2\",3.75]"));
    CHECK(wamp_rt(w, "[2,\"c3\",\"http://wamp1.dev/rpc#add\",[10,20,12]]", "[3,\"c3\",42]"));
    CHECK(wamp_rt(w, "[2,\"c4\",\"http://wamp1.dev/rpc#echo\",\"x\",{\"a\":[1,2]},null]",
                  "[3,\"c4\",[\"x\",{\"a\":[1,2]},null]]"));
    CHECK(wamp_rt(w, "[2,\"c5\",\"http://wamp1.dev/rpc#fail\",7]",
                  "[4,\"c5\",\"http://wamp1.dev/error#fail\",\"requested failure\",[7]]"));
    {
        char msg[1024];
        CHECK(ws_send_text(w, "[2,\"c6\",\"http://wamp1.dev/rpc#nothing\"]") == 0);
        CHECK(ws_read_text(w, msg, sizeof msg, 3000) == 0 &&
              strncmp(msg, "[4,\"c6\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\"", 52) == 0);
        CHECK(ws_send_text(w, "[2,\"c7\",\"http://wamp1.dev/rpc#add\",\"one\"]") == 0);
        CHECK(ws_read_text(w, msg, sizeof msg, 3000) == 0 &&
              strncmp(msg, "[4,\"c7\",\"http://api.wamp.ws/error#invalid_argument\"", 51) == 0);
    }
    snprintf(expect, sizeof expect, "[3,\"c8\",\"%s\"]", sid_a);
    CHECK(wamp_rt(w, "[2,\"c8\",\"http://wamp1.dev/rpc#session\"]", expect));
    t_case = "WAMP CURIEs";
    CHECK(ws_send_text(w, "[1,\"calc\",\"http://wamp1.dev/rpc#\"]") == 0);
    CHECK(wamp_rt(w, "[2,\"c9\",\"calc:add\",20,22]", "[3,\"c9\",42]"));
    CHECK(wamp_rt(w, "[2,\"c10\",\"calc:echo\",\"curie\"]", "[3,\"c10\",[\"curie\"]]"));
    CHECK(ws_send_text(w, "[1,\"calc\",\"http://wamp1.dev/rpc#e\"]") == 0); /* redefined */
    CHECK(wamp_rt(w, "[2,\"c11\",\"calc:cho\",1]", "[3,\"c11\",[1]]"));
    t_case = "WAMP deferred call";
    {
        uint64_t t0 = tp_now_ms();
        CHECK(wamp_rt(w, "[2,\"c12\",\"http://wamp1.dev/rpc#sleep\",150]", "[3,\"c12\",150]"));
        CHECK(tp_now_ms() - t0 >= 140);
    }
    t_case = "WAMP malformed";
    CHECK(ws_send_text(w, "this is not JSON") == 0);
    CHECK(ws_send_text(w, "[99,\"x\"]") == 0);
    CHECK(wamp_rt(w, "[2,\"c13\",\"http://wamp1.dev/rpc#add\",2,2]", "[3,\"c13\",4]"));
    wsc_close(w);
}

static void case_wamp_pubsub(void) {
    wsc *a, *b;
    char expect[256], msg[512];
    t_case = "WAMP pubsub";
    a = wamp_open(sid_a, sizeof sid_a);
    b = wamp_open(sid_b, sizeof sid_b);
    CHECK(a != NULL && b != NULL);
    if (!a || !b) {
        if (a) wsc_close(a);
        if (b) wsc_close(b);
        return;
    }
    CHECK(strcmp(sid_a, sid_b) != 0);
    CHECK(ws_send_text(a, "[5,\"http://wamp1.dev/topic/chat\"]") == 0);
    CHECK(ws_send_text(b, "[1,\"t\",\"http://wamp1.dev/topic/\"]") == 0);
    CHECK(ws_send_text(b, "[5,\"t:chat\"]") == 0);
    /* a round trip on each makes sure the subscriptions are in */
    CHECK(wamp_rt(a, "[2,\"s1\",\"http://wamp1.dev/rpc#add\",1]", "[3,\"s1\",1]"));
    CHECK(wamp_rt(b, "[2,\"s2\",\"http://wamp1.dev/rpc#add\",2]", "[3,\"s2\",2]"));
    /* [7,T,E]: the publisher is left out */
    CHECK(ws_send_text(a, "[7,\"http://wamp1.dev/topic/chat\",{\"msg\":\"hi\"}]") == 0);
    CHECK(wamp_expect(b, "[8,\"http://wamp1.dev/topic/chat\",{\"msg\":\"hi\"}]"));
    CHECK(wamp_rt(a, "[2,\"s3\",\"http://wamp1.dev/rpc#add\",3]", "[3,\"s3\",3]"));
    /* [7,T,E,false]: everybody, publisher included; published through a CURIE */
    CHECK(ws_send_text(b, "[7,\"t:chat\",\"all\",false]") == 0);
    CHECK(wamp_expect(a, "[8,\"http://wamp1.dev/topic/chat\",\"all\"]"));
    CHECK(wamp_expect(b, "[8,\"http://wamp1.dev/topic/chat\",\"all\"]"));
    /* eligible list: only b */
    snprintf(msg, sizeof msg, "[7,\"http://wamp1.dev/topic/chat\",42,[],[\"%s\"]]", sid_b);
    CHECK(ws_send_text(a, msg) == 0);
    CHECK(wamp_expect(b, "[8,\"http://wamp1.dev/topic/chat\",42]"));
    /* an exclude list replaces "leave the publisher out": a excludes b and gets it itself */
    snprintf(msg, sizeof msg, "[7,\"http://wamp1.dev/topic/chat\",43,[\"%s\"]]", sid_b);
    CHECK(ws_send_text(a, msg) == 0);
    CHECK(wamp_expect(a, "[8,\"http://wamp1.dev/topic/chat\",43]"));
    CHECK(wamp_rt(b, "[2,\"s4\",\"http://wamp1.dev/rpc#add\",4]", "[3,\"s4\",4]"));
    /* publishing through an RPC (the caller is a subscriber too: EVENT and CALLRESULT) */
    CHECK(ws_send_text(a, "[2,\"s5\",\"http://wamp1.dev/rpc#publish\",\"http://wamp1.dev/topic/chat\",[1,2]]") == 0);
    {
        char m1[256], m2[256];
        int r1 = ws_read_text(a, m1, sizeof m1, 3000), r2 = ws_read_text(a, m2, sizeof m2, 3000);
        static const char ev[] = "[8,\"http://wamp1.dev/topic/chat\",[1,2]]", res[] = "[3,\"s5\",null]";
        CHECK(r1 == 0 && r2 == 0 &&
              ((!strcmp(m1, ev) && !strcmp(m2, res)) || (!strcmp(m1, res) && !strcmp(m2, ev))));
    }
    CHECK(wamp_expect(b, "[8,\"http://wamp1.dev/topic/chat\",[1,2]]"));
    /* and from outside the loop */
    tp_publish_async("http://wamp1.dev/topic/chat", "{\"from\":\"elsewhere\"}");
    CHECK(wamp_expect(a, "[8,\"http://wamp1.dev/topic/chat\",{\"from\":\"elsewhere\"}]"));
    CHECK(wamp_expect(b, "[8,\"http://wamp1.dev/topic/chat\",{\"from\":\"elsewhere\"}]"));
    /* b unsubscribes: a's next publication reaches nobody */
    CHECK(ws_send_text(b, "[6,\"t:chat\"]") == 0);
    CHECK(wamp_rt(b, "[2,\"s6\",\"http://wamp1.dev/rpc#add\",6]", "[3,\"s6\",6]"));
    CHECK(ws_send_text(a, "[7,\"http://wamp1.dev/topic/chat\",\"gone\"]") == 0);
    CHECK(wamp_rt(b, "[2,\"s7\",\"http://wamp1.dev/rpc#add\",7]", "[3,\"s7\",7]"));
    /* a topic no route matches is refused */
    CHECK(ws_send_text(b, "[5,\"http://other.example/topic\"]") == 0);
    CHECK(ws_send_text(a, "[7,\"http://other.example/topic\",1,false]") == 0);
    CHECK(wamp_rt(b, "[2,\"s8\",\"http://wamp1.dev/rpc#add\",8]", "[3,\"s8\",8]"));
    /* closing a drops its subscription: the stats say so */
    wsc_close(a);
    {
        int i, ok = 0;
        for (i = 0; i < 50 && !ok; i++) {
            snprintf(expect, sizeof expect, "[2,\"st%d\",\"http://wamp1.dev/rpc#stats\"]", i);
            if (ws_send_text(b, expect) != 0 || ws_read_text(b, msg, sizeof msg, 3000) != 0) break;
            ok = strstr(msg, "\"subscriptions\":0,") != NULL && strstr(msg, "\"topics\":0,") != NULL;
            if (!ok) tp_sleep(20);
        }
        if (!ok) printf("  stats: %s\n", msg);
        CHECK(ok);
    }
    wsc_close(b);
}

static void run_cases(void) {
    unsigned i;
    for (i = 0; i < sizeof wsc_pool / sizeof wsc_pool[0]; i++) wsc_pool[i].cl = -1;
    case_handshake();
    case_echo_sizes();
    case_fragmented();
    case_ping_pong();
    case_protocol_errors();
    case_close_handshake();
    case_pool_full();
    case_wamp_welcome();
    case_wamp_calls();
    t_case = "wamp prefix";
    wamp_session_once();
    case_wamp_pubsub();
}

#endif /* LWIP_CASES_H */
