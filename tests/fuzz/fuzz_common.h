/* Shared pieces of the libFuzzer targets that drive the engine through the test port:
 * the library and the test port, a failing-check macro, a reader over the fuzzer's
 * bytes, client frame encoding, and validators for what the server writes (HTTP
 * responses, server frames, close payloads).
 *
 * A target sets its WAMP1_* limits, then includes this file. WAMP1_FUZZ_HEADER may name
 * another copy of wamp1.h to build against (e.g. -DWAMP1_FUZZ_HEADER='"/tmp/x/wamp1.h"'). */
#ifndef WAMP1_FUZZ_COMMON_H
#define WAMP1_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(x)                                                                         \
    do {                                                                                   \
        if (!(x)) {                                                                        \
            fprintf(stderr, "REQUIRE failed %s:%d: %s\n", __FILE__, __LINE__, #x);         \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#define WAMP1_ASSERT(x) REQUIRE(x)
#define WAMP1_IMPLEMENTATION
#ifdef WAMP1_FUZZ_HEADER
#include WAMP1_FUZZ_HEADER
#else
#include "../../wamp1.h"
#endif
#include "../../port/wamp1_testport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_UNUSED __attribute__((unused))
#define FZ_FN static FZ_UNUSED

/* ---- reading the fuzzer's bytes ---------------------------------------- */

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

FZ_FN uint8_t fz_u8(fz_in *in) {
    uint8_t v;
    if (!in->n) return 0;
    v = *in->p++;
    in->n--;
    return v;
}

FZ_FN uint16_t fz_u16(fz_in *in) {
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}

/* Up to n bytes; returns how many are there. */
FZ_FN size_t fz_take(fz_in *in, size_t n, const uint8_t **out) {
    if (n > in->n) n = in->n;
    *out = in->p;
    in->p += n;
    in->n -= n;
    return n;
}

/* Piece sizes for writing a byte stream in parts: the mode picks the scale (all at once,
   byte by byte, up to 4, 16, 64, 512 or 4096 bytes), the rest of the seed the sizes. */
typedef struct fz_split {
    uint32_t rng;
    unsigned mode;
} fz_split;

FZ_FN void fz_split_init(fz_split *sp, uint8_t seed) {
    sp->mode = seed & 7u;
    sp->rng = 0x9E3779B9u * (uint32_t)(seed + 1u);
}

FZ_FN size_t fz_split_next(fz_split *sp, size_t left) {
    static const size_t scale[8] = {0, 1, 4, 16, 64, 512, 4096, 2};
    size_t k;
    if (sp->mode == 0) return left;
    sp->rng ^= sp->rng << 13;
    sp->rng ^= sp->rng >> 17;
    sp->rng ^= sp->rng << 5;
    k = 1 + sp->rng % scale[sp->mode];
    return k < left ? k : left;
}

/* ---- client side ------------------------------------------------------- */

FZ_UNUSED static const char fz_upgrade[] =
    "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

FZ_UNUSED static const char fz_upgrade_wamp[] =
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Protocol: wamp\r\nSec-WebSocket-Version: 13\r\n\r\n";

/* A masked client frame: b0 is the first byte as it is (FIN, RSV, opcode); the length
   takes its shortest form unless `lenform` asks for the 16-bit (1) or 64-bit (2) form.
   Returns the frame length; out needs len + 14 bytes. */
FZ_FN size_t fz_frame(uint8_t *out, uint8_t b0, const uint8_t *payload, size_t len, int masked,
                       const uint8_t key[4], int lenform) {
    size_t n = 0, i;
    out[n++] = b0;
    if (len < 126 && lenform == 0) out[n++] = (uint8_t)((masked ? 0x80 : 0) | len);
    else if (len <= 0xFFFF && lenform <= 1) {
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
        for (i = 0; i < len; i++) out[n + i] = (uint8_t)(payload[i] ^ key[i & 3]);
    } else if (len) memcpy(out + n, payload, len);
    return n + len;
}

/* ---- checking what the server wrote ------------------------------------ */

FZ_FN int fz_utf8_ok(const uint8_t *p, size_t n) {
    uint32_t st = 0;
    return wamp1_utf8_validate(&st, p, n) == n && wamp1_utf8_complete(st);
}

/* A server frame. */
typedef struct fz_sframe {
    unsigned op, fin, rsv, masked;
    size_t len;
    const uint8_t *payload;
    size_t total;
} fz_sframe;

/* 1: a whole frame at buf, 0: more bytes needed. */
FZ_FN int fz_parse_frame(const uint8_t *buf, size_t n, fz_sframe *f) {
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
        REQUIRE(len >= 126); /* shortest form */
        h = 4;
    } else if (len == 127) {
        if (n < 10) return 0;
        len = 0;
        for (i = 0; i < 8; i++) len = len << 8 | buf[2 + i];
        REQUIRE(len > 0xFFFF && !(len >> 63));
        h = 10;
    }
    if (f->masked) h += 4;
    if (n < h || n - h < len) return 0;
    f->len = (size_t)len;
    f->payload = buf + h;
    f->total = h + (size_t)len;
    return 1;
}

/* Rules every frame a server sends must follow. Returns the close code for a close frame
   (1005 when it has no payload), 0 for other frames. */
FZ_FN int fz_check_server_frame(const fz_sframe *f) {
    REQUIRE(!f->masked);
    REQUIRE(f->rsv == 0);
    REQUIRE(f->op == 1 || f->op == 2 || f->op == 8 || f->op == 9 || f->op == 10);
    REQUIRE(f->fin); /* this server never fragments */
    if (f->op >= 8) REQUIRE(f->len <= 125);
    if (f->op == 1) REQUIRE(fz_utf8_ok(f->payload, f->len));
    if (f->op == 8) {
        int code;
        if (f->len == 0) return 1005;
        REQUIRE(f->len >= 2);
        code = f->payload[0] << 8 | f->payload[1];
        REQUIRE(wamp1_close_code_valid(code));
        REQUIRE(fz_utf8_ok(f->payload + 2, f->len - 2));
        return code;
    }
    return 0;
}

/* An HTTP response head: status line, headers, empty line. Returns the head length
   (0: not complete yet) and the status; *clen gets Content-Length (-1 if none). */
FZ_FN size_t fz_http_head(const uint8_t *b, size_t n, int *status, long *clen) {
    size_t i, end = 0;
    for (i = 3; i < n; i++)
        if (b[i - 3] == '\r' && b[i - 2] == '\n' && b[i - 1] == '\r' && b[i] == '\n') {
            end = i + 1;
            break;
        }
    if (!end) return 0;
    REQUIRE(end >= 17 && memcmp(b, "HTTP/1.1 ", 9) == 0);
    REQUIRE(b[9] >= '1' && b[9] <= '5' && b[10] >= '0' && b[10] <= '9' && b[11] >= '0' && b[11] <= '9');
    REQUIRE(b[12] == ' ');
    *status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
    *clen = -1;
    /* every line ends in CRLF, no bare CR or LF, no control bytes */
    for (i = 0; i < end; i++) {
        if (b[i] == '\n') REQUIRE(i > 0 && b[i - 1] == '\r');
        if (b[i] == '\r') REQUIRE(i + 1 < end && b[i + 1] == '\n');
        REQUIRE(b[i] >= 0x20 || b[i] == '\r' || b[i] == '\n');
    }
    {
        static const char cl[] = "\r\nContent-Length: ";
        for (i = 0; i + sizeof cl - 1 < end; i++)
            if (memcmp(b + i, cl, sizeof cl - 1) == 0) {
                size_t k = i + sizeof cl - 1;
                long v = 0;
                REQUIRE(*clen == -1); /* only one */
                REQUIRE(b[k] >= '0' && b[k] <= '9');
                while (b[k] >= '0' && b[k] <= '9') v = v * 10 + (b[k++] - '0');
                REQUIRE(b[k] == '\r');
                *clen = v;
            }
    }
    return end;
}

FZ_FN int fz_has(const uint8_t *b, size_t n, const char *s) {
    size_t k = strlen(s), i;
    for (i = 0; i + k <= n; i++)
        if (memcmp(b + i, s, k) == 0) return 1;
    return 0;
}

/* What one client has received so far, checked as it grows: one HTTP response; after a
   101 only server frames; after a close frame nothing. */
typedef struct fz_stream {
    uint8_t buf[1u << 16];
    size_t len;      /* bytes not consumed yet */
    int status;      /* 0 until the response head is complete */
    long body_left;  /* body bytes of a non-101 response still to come */
    int closed;      /* a close frame was seen; its code */
    int complete;    /* a non-101 response arrived whole */
    uint8_t head[4096]; /* the response head, once complete */
    size_t head_len;
    unsigned long frames, texts, pongs, pings;
    /* every frame is handed to this callback once checked */
    void (*on_frame)(void *ctx, const fz_sframe *f);
    void *ctx;
} fz_stream;

FZ_FN void fz_stream_reset(fz_stream *s) {
    void (*cb)(void *, const fz_sframe *) = s->on_frame;
    void *ctx = s->ctx;
    memset(s, 0, sizeof *s);
    s->on_frame = cb;
    s->ctx = ctx;
}

/* Consume and check what is buffered (a failed check aborts). */
FZ_FN void fz_stream_consume(fz_stream *s) {
    for (;;) {
        if (s->status == 0) {
            long clen;
            size_t h = fz_http_head(s->buf, s->len, &s->status, &clen);
            if (!h) {
                REQUIRE(s->len < 4096); /* a head is never that long */
                /* what is there must look like the start of a response */
                if (s->len >= 9) REQUIRE(memcmp(s->buf, "HTTP/1.1 ", 9) == 0);
                return;
            }
            if (s->status == 100) { /* the go-ahead for a POST body (Expect: 100-continue) */
                REQUIRE(clen == -1 && h == 25);
                memmove(s->buf, s->buf + h, s->len - h);
                s->len -= h;
                s->status = 0;
                continue;
            }
            memcpy(s->head, s->buf, h);
            s->head_len = h;
            if (s->status == 101) {
                REQUIRE(clen == -1);
                REQUIRE(fz_has(s->buf, h, "\r\nUpgrade: websocket\r\n"));
                REQUIRE(fz_has(s->buf, h, "\r\nConnection: Upgrade\r\n"));
                REQUIRE(fz_has(s->buf, h, "\r\nSec-WebSocket-Accept: "));
            } else {
                REQUIRE(s->status >= 200);
                REQUIRE(clen >= 0);
                REQUIRE(fz_has(s->buf, h, "\r\nConnection: close\r\n"));
                s->body_left = clen;
            }
            memmove(s->buf, s->buf + h, s->len - h);
            s->len -= h;
            continue;
        }
        if (s->status != 101) {
            size_t k = s->len < (size_t)s->body_left ? s->len : (size_t)s->body_left;
            s->body_left -= (long)k;
            memmove(s->buf, s->buf + k, s->len - k);
            s->len -= k;
            if (s->body_left == 0) s->complete = 1;
            REQUIRE(s->len == 0); /* nothing after the response body */
            return;
        }
        {
            fz_sframe f;
            int code;
            if (!fz_parse_frame(s->buf, s->len, &f)) {
                REQUIRE(s->len < sizeof s->buf / 2); /* a frame never gets that long here */
                return;
            }
            REQUIRE(!s->closed); /* nothing after a close frame */
            code = fz_check_server_frame(&f);
            s->frames++;
            if (f.op == 8) s->closed = code;
            else if (f.op == 9) s->pings++;
            else if (f.op == 10) s->pongs++;
            else s->texts++;
            if (s->on_frame) s->on_frame(s->ctx, &f);
            memmove(s->buf, s->buf + f.total, s->len - f.total);
            s->len -= f.total;
        }
    }
}

/* Move what the server wrote to client cl into s and check it. */
FZ_FN size_t fz_stream_pull(fz_stream *s, wamp1_testport *tp, int cl) {
    size_t got = 0, n;
    do {
        n = wamp1_testport_read(tp, cl, s->buf + s->len, sizeof s->buf - s->len);
        s->len += n;
        got += n;
        fz_stream_consume(s);
    } while (n);
    return got;
}

#endif
