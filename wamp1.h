/* wamp1.h - a WAMP v1 and WebSocket (RFC 6455) server in one header.
                                                       no malloc, no dependency beyond libc

   @@DOC@@
*/
#ifndef WAMP1_H_INCLUDED
#define WAMP1_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ======================================================================== */
/*  Configuration                                                           */
/* ======================================================================== */

#ifndef WAMP1_API
#define WAMP1_API extern
#endif
#ifndef WAMP1_MAX_CONNECTIONS
#define WAMP1_MAX_CONNECTIONS 16
#endif
#ifndef WAMP1_RECV_BUFFER_SIZE
#define WAMP1_RECV_BUFFER_SIZE 4096
#endif
#ifndef WAMP1_SEND_BUFFER_SIZE
#define WAMP1_SEND_BUFFER_SIZE 4096
#endif
#ifndef WAMP1_STATIC_MEMORY_SIZE
#define WAMP1_STATIC_MEMORY_SIZE \
    (WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE))
#endif
#ifndef WAMP1_MAX_HEADER_SIZE
#define WAMP1_MAX_HEADER_SIZE 4096
#endif
#ifndef WAMP1_MAX_HEADERS
#define WAMP1_MAX_HEADERS 32
#endif
#ifndef WAMP1_HANDSHAKE_TIMEOUT_MS
#define WAMP1_HANDSHAKE_TIMEOUT_MS 10000
#endif
#ifndef WAMP1_CLOSE_TIMEOUT_MS
#define WAMP1_CLOSE_TIMEOUT_MS 3000
#endif
#ifndef WAMP1_REJECT_SLOTS
#define WAMP1_REJECT_SLOTS 8
#endif
#ifndef WAMP1_MAX_LISTENERS
#define WAMP1_MAX_LISTENERS 2
#endif
#ifndef WAMP1_SOCKET
#define WAMP1_SOCKET int
#endif
#ifndef WAMP1_INVALID_SOCKET
#define WAMP1_INVALID_SOCKET (-1)
#endif
#ifndef WAMP1_LOG
#define WAMP1_LOG(msg) ((void)0)
#endif

/* ======================================================================== */
/*  Types                                                                   */
/* ======================================================================== */

#ifdef __cplusplus
extern "C" {
#endif

typedef WAMP1_SOCKET wamp1_socket;
typedef struct wamp1_server wamp1_server;
typedef struct wamp1_conn wamp1_conn;

/* A handle to a connection that stays safe to keep: index + generation. */
typedef struct wamp1_conn_id { uint32_t id; } wamp1_conn_id;

/* A peer address: IPv4 (family 4, bytes[0..3]) or IPv6 (family 6). */
typedef struct wamp1_addr {
    uint8_t family;
    uint8_t bytes[16];
    uint16_t port;
} wamp1_addr;

/* Readiness entry handed to the port's wait(); same layout as struct pollfd. */
typedef struct wamp1_pollfd {
    wamp1_socket fd;
    short events;
    short revents;
} wamp1_pollfd;

enum {
    WAMP1_POLLIN = 0x001,
    WAMP1_POLLOUT = 0x004,
    WAMP1_POLLERR = 0x008,
    WAMP1_POLLHUP = 0x010,
    WAMP1_POLLNVAL = 0x020
};

/* Port return codes for recv/send/accept. */
enum { WAMP1_IO_ERROR = -1, WAMP1_IO_WOULDBLOCK = -2 };

/* The port: everything the loop needs from the operating system / IP stack. */
typedef struct wamp1_port {
    void *ctx;
    /* Bind and listen; *bound gets the real port (for port 0). 0 or -1. */
    int (*listen)(void *ctx, const char *host, uint16_t port, wamp1_socket *out, uint16_t *bound);
    /* 0 with *out set, WAMP1_IO_WOULDBLOCK, or WAMP1_IO_ERROR. */
    int (*accept)(void *ctx, wamp1_socket ls, wamp1_socket *out, wamp1_addr *peer);
    /* bytes (>0), 0 at end of stream, WAMP1_IO_WOULDBLOCK or WAMP1_IO_ERROR. */
    long (*recv)(void *ctx, wamp1_socket s, void *buf, size_t n);
    /* bytes written (>=0), WAMP1_IO_WOULDBLOCK or WAMP1_IO_ERROR. */
    long (*send)(void *ctx, wamp1_socket s, const void *buf, size_t n);
    /* Half-close the sending side (FIN). May be NULL. */
    void (*shutdown)(void *ctx, wamp1_socket s);
    void (*close)(void *ctx, wamp1_socket s);
    /* Wait for readiness of fds[0..n) at most timeout_ms (-1: forever); number ready or <0. */
    int (*wait)(void *ctx, wamp1_pollfd *fds, unsigned n, int timeout_ms);
    uint64_t (*now_ms)(void *ctx);
    /* Fill buf with n random bytes; 0 or -1. */
    int (*random)(void *ctx, void *buf, size_t n);
    /* Socket that becomes readable after wake(); WAMP1_INVALID_SOCKET if none. */
    wamp1_socket (*wake_fd)(void *ctx);
    /* Wake the loop from another thread or a signal handler. May be NULL. */
    void (*wake)(void *ctx);
    /* Consume the wake-up once the loop saw it. May be NULL. */
    void (*wake_drain)(void *ctx);
} wamp1_port;

typedef enum wamp1_opcode {
    WAMP1_OP_CONTINUATION = 0x0,
    WAMP1_OP_TEXT = 0x1,
    WAMP1_OP_BINARY = 0x2,
    WAMP1_OP_CLOSE = 0x8,
    WAMP1_OP_PING = 0x9,
    WAMP1_OP_PONG = 0xA
} wamp1_opcode;

/* Close codes (RFC 6455, 7.4.1). */
enum {
    WAMP1_CLOSE_NORMAL = 1000,
    WAMP1_CLOSE_GOING_AWAY = 1001,
    WAMP1_CLOSE_PROTOCOL_ERROR = 1002,
    WAMP1_CLOSE_UNSUPPORTED = 1003,
    WAMP1_CLOSE_NO_STATUS = 1005,
    WAMP1_CLOSE_ABNORMAL = 1006,
    WAMP1_CLOSE_INVALID_DATA = 1007,
    WAMP1_CLOSE_POLICY = 1008,
    WAMP1_CLOSE_TOO_BIG = 1009,
    WAMP1_CLOSE_INTERNAL = 1011
};

/* What the error hook is told. */
typedef enum wamp1_error {
    WAMP1_ERR_NONE = 0,
    WAMP1_ERR_HTTP,          /* the handshake was refused with an HTTP status */
    WAMP1_ERR_HANDSHAKE_TIMEOUT,
    WAMP1_ERR_PROTOCOL,      /* WebSocket protocol violation (1002) */
    WAMP1_ERR_INVALID_UTF8,  /* 1007 */
    WAMP1_ERR_TOO_BIG,       /* 1009 */
    WAMP1_ERR_CLOSE_TIMEOUT,
    WAMP1_ERR_KEEPALIVE,     /* no pong to the previous ping */
    WAMP1_ERR_SLOW_CONSUMER, /* send buffer full */
    WAMP1_ERR_DROPPED,       /* a message was dropped (slow-consumer drop policy) */
    WAMP1_ERR_POOL_FULL,     /* connection pool full: 503 */
    WAMP1_ERR_IO,            /* the socket failed or the peer vanished */
    WAMP1_ERR_MALFORMED,     /* a message the application layer rejected */
    WAMP1_ERR_LIMIT          /* a pool or table of the application layer is full */
} wamp1_error;

/* Slow-consumer policy: what happens when a send buffer cannot take a message. */
enum { WAMP1_SLOW_CLOSE = 0, WAMP1_SLOW_DROP = 1 };

/* A parsed HTTP request; valid only during the callback that receives it. */
typedef struct wamp1_http_header {
    const char *name, *value;
    uint16_t name_len, value_len;
} wamp1_http_header;

typedef struct wamp1_request {
    const char *method, *target, *path, *query;
    uint16_t method_len, target_len, path_len, query_len;
    uint8_t version_minor;
    uint8_t header_count;
    wamp1_http_header headers[WAMP1_MAX_HEADERS];
    const char *subprotocol; /* selected one, or NULL */
    uint16_t subprotocol_len;
} wamp1_request;

/* Application callbacks: all optional. */
typedef struct wamp1_callbacks {
    /* Upgrade request passed every WebSocket check: return 0 to accept, or an HTTP status
       (401, 403, ...) to refuse it. */
    int (*on_request)(wamp1_conn *c, const wamp1_request *req, void *user);
    /* A request without "Upgrade: websocket". Answer with wamp1_conn_http_respond(); when
       the callback is NULL or does not answer, the client gets 426. */
    void (*on_http)(wamp1_conn *c, const wamp1_request *req, void *user);
    void (*on_open)(wamp1_conn *c, void *user);
    /* A complete message (text is valid UTF-8). data is valid during the call only. */
    void (*on_message)(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user);
    /* The WebSocket closed (once per on_open): the peer's code, or 1006 without one. */
    void (*on_close)(wamp1_conn *c, int code, void *user);
    /* Every rejected input, timeout and overflow. c may be NULL (pool full). */
    void (*on_error)(wamp1_conn *c, wamp1_error err, const char *reason, void *user);
    /* A client did not answer the previous keepalive ping; it is being closed. */
    void (*on_keepalive_timeout)(wamp1_conn *c, void *user);
    /* Called after every loop iteration (for deferred work). */
    void (*on_tick)(wamp1_server *s, uint64_t now_ms, void *user);
} wamp1_callbacks;

/* Server configuration: zero means "default" everywhere. */
typedef struct wamp1_config {
    const wamp1_port *port;        /* required */
    const char *host;              /* default "127.0.0.1" */
    uint16_t listen_port;          /* 0: let the system pick */
    uint32_t max_connections;      /* default and at most WAMP1_MAX_CONNECTIONS */
    uint32_t recv_buffer_size;     /* per connection, default WAMP1_RECV_BUFFER_SIZE */
    uint32_t send_buffer_size;     /* per connection, default WAMP1_SEND_BUFFER_SIZE */
    void *memory;                  /* buffer memory; NULL: the static block */
    size_t memory_size;
    uint32_t max_header_size;      /* default WAMP1_MAX_HEADER_SIZE, at most the receive buffer */
    uint32_t max_message_size;     /* default and at most recv_buffer_size - 256 */
    uint32_t max_frame_size;       /* default max_message_size */
    uint32_t handshake_timeout_ms; /* default WAMP1_HANDSHAKE_TIMEOUT_MS */
    uint32_t close_timeout_ms;     /* default WAMP1_CLOSE_TIMEOUT_MS */
    uint32_t keepalive_ms;         /* ping interval; 0: off */
    const char *subprotocol;       /* required subprotocol (e.g. "wamp"); NULL: none */
    int subprotocol_optional;      /* accept handshakes that do not offer it */
    int slow_consumer;             /* WAMP1_SLOW_CLOSE (default) or WAMP1_SLOW_DROP */
    wamp1_callbacks cb;
    void *user;
} wamp1_config;

typedef struct wamp1_stats {
    uint32_t connections, connections_max, connections_peak;
    uint64_t accepted, rejected_full, handshakes, messages_in, messages_out;
    uint64_t bytes_in, bytes_out, dropped_messages, slow_consumers_closed, protocol_errors;
} wamp1_stats;

/* ======================================================================== */
/*  API                                                                     */
/* ======================================================================== */

/* Server life cycle. */
WAMP1_API size_t wamp1_server_memory_size(const wamp1_config *cfg);
WAMP1_API int wamp1_server_init(wamp1_server *s, const wamp1_config *cfg);
WAMP1_API int wamp1_server_listen(wamp1_server *s);
WAMP1_API uint16_t wamp1_server_port(const wamp1_server *s);
WAMP1_API int wamp1_server_poll(wamp1_server *s, int timeout_ms);
WAMP1_API int wamp1_server_run(wamp1_server *s);
WAMP1_API void wamp1_server_stop(wamp1_server *s); /* async-signal-safe */
WAMP1_API int wamp1_server_shutdown(wamp1_server *s, uint32_t timeout_ms);
WAMP1_API void wamp1_server_wake(wamp1_server *s);
WAMP1_API uint64_t wamp1_server_now(const wamp1_server *s);
WAMP1_API void wamp1_server_stats(const wamp1_server *s, wamp1_stats *out);
WAMP1_API void *wamp1_server_user(const wamp1_server *s);
WAMP1_API int wamp1_server_set_max_connections(wamp1_server *s, uint32_t n);
/* Iterate open WebSocket connections: pass NULL first. */
WAMP1_API wamp1_conn *wamp1_server_next_conn(wamp1_server *s, wamp1_conn *prev);

/* Connections. */
WAMP1_API wamp1_conn_id wamp1_conn_handle(const wamp1_conn *c);
WAMP1_API wamp1_conn *wamp1_conn_lookup(wamp1_server *s, wamp1_conn_id id);
WAMP1_API wamp1_server *wamp1_conn_server(const wamp1_conn *c);
WAMP1_API const wamp1_addr *wamp1_conn_peer(const wamp1_conn *c);
WAMP1_API void wamp1_conn_set_user(wamp1_conn *c, void *user);
WAMP1_API void *wamp1_conn_user(const wamp1_conn *c);
WAMP1_API int wamp1_conn_is_open(const wamp1_conn *c);
/* Send a whole message. 0, or -1 when it cannot be queued (slow-consumer policy applied). */
WAMP1_API int wamp1_conn_send(wamp1_conn *c, wamp1_opcode op, const void *data, size_t len);
WAMP1_API int wamp1_conn_send_text(wamp1_conn *c, const char *text, size_t len);
WAMP1_API int wamp1_conn_send_binary(wamp1_conn *c, const void *data, size_t len);
/* Queue an already encoded server frame (fan-out: encode once, copy to each receiver). */
WAMP1_API int wamp1_conn_send_frame(wamp1_conn *c, const void *frame, size_t len);
/* Start the close handshake (code 0 sends a close frame without a code). */
WAMP1_API void wamp1_conn_close(wamp1_conn *c, int code, const char *reason);
/* Answer a plain HTTP request (from on_http) and close after it. */
WAMP1_API void wamp1_conn_http_respond(wamp1_conn *c, int status, const char *content_type,
                                       const void *body, size_t len);
/* Bytes queued for sending / free in the send buffer. */
WAMP1_API size_t wamp1_conn_send_pending(const wamp1_conn *c);
WAMP1_API size_t wamp1_conn_send_space(const wamp1_conn *c);

/* Frames and helpers, usable on their own. */
/* Server frame header for a payload of len bytes; returns its size (2, 4 or 10). */
WAMP1_API size_t wamp1_frame_header(uint8_t out[10], wamp1_opcode op, int fin, uint64_t len);
/* Incremental UTF-8 validation: *state starts at 0; returns the number of bytes accepted
   (== n when all are valid so far), so a return below n is the offset of the first bad
   byte. wamp1_utf8_complete() tells whether the text ended on a character boundary. */
WAMP1_API size_t wamp1_utf8_validate(uint32_t *state, const uint8_t *p, size_t n);
WAMP1_API int wamp1_utf8_complete(uint32_t state);
WAMP1_API int wamp1_close_code_valid(int code);
WAMP1_API void wamp1_sha1(const void *data, size_t len, uint8_t out[20]);
WAMP1_API size_t wamp1_base64_encode(const uint8_t *in, size_t n, char *out);
/* Sec-WebSocket-Accept for a key (28 characters + NUL). */
WAMP1_API void wamp1_ws_accept_key(const char *key, size_t key_len, char out[29]);
/* Header value lookup (case-insensitive name); NULL if absent. */
WAMP1_API const char *wamp1_request_header(const wamp1_request *r, const char *name, size_t *len);
WAMP1_API const char *wamp1_http_status_text(int status);

/* ======================================================================== */
/*  Internal state (visible so it can be allocated statically)              */
/* ======================================================================== */

struct wamp1_conn {
    wamp1_server *srv;
    void *user;
    uint8_t *rbuf, *sbuf;
    uint64_t frame_left;  /* payload bytes of the current data frame still to come */
    uint64_t deadline;    /* ms; 0 none */
    uint32_t rlen, rpos;  /* raw bytes [rpos, rlen) not parsed yet */
    uint32_t mbase, mlen; /* message payload at [mbase, mbase + mlen) */
    uint32_t shead, stail;
    uint32_t utf8;
    wamp1_socket sock;
    wamp1_addr peer;
    uint16_t gen;
    uint16_t close_code;  /* code received from the peer */
    uint8_t state, flags;
    uint8_t fop, msg_op;  /* opcode of the current frame / message (0: none) */
    uint8_t mask[4];
    uint8_t mask_pos, ffin;
};

typedef struct wamp1__rejected {
    wamp1_socket sock;
    uint64_t deadline;
} wamp1__rejected;

struct wamp1_server {
    wamp1_config cfg;
    const wamp1_port *port;
    wamp1_stats stats;
    uint8_t *memory;
    uint64_t now, next_ping;
    uint32_t nconns;      /* slots carved */
    uint32_t open_conns;  /* non-free slots */
    uint32_t limit;       /* run-time connection limit */
    uint32_t max_message, max_frame, max_header;
    volatile int stop;
    int shutting_down;
    uint16_t bound_port;
    uint8_t nlisten;
    wamp1_socket listeners[WAMP1_MAX_LISTENERS];
    wamp1__rejected rejects[WAMP1_REJECT_SLOTS];
    wamp1_pollfd pfds[WAMP1_MAX_CONNECTIONS + WAMP1_MAX_LISTENERS + WAMP1_REJECT_SLOTS + 1];
    uint16_t pfd_conn[WAMP1_MAX_CONNECTIONS + WAMP1_MAX_LISTENERS + WAMP1_REJECT_SLOTS + 1];
    wamp1_conn conns[WAMP1_MAX_CONNECTIONS];
};

#ifdef __cplusplus
}
#endif

#endif /* WAMP1_H_INCLUDED */

/* ======================================================================== */
/* ======================================================================== */
/*  Implementation                                                          */
/* ======================================================================== */
/* ======================================================================== */

#if defined(WAMP1_IMPLEMENTATION) && !defined(WAMP1__IMPLEMENTED)
#define WAMP1__IMPLEMENTED

#ifndef WAMP1_ASSERT
#include <assert.h>
#define WAMP1_ASSERT(c) assert(c)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/*  Small helpers                                                           */
/* ------------------------------------------------------------------------ */

static char wamp1__lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static int wamp1__ieq(const char *a, size_t an, const char *b) {
    size_t i;
    for (i = 0; i < an; i++) {
        if (b[i] == 0 || wamp1__lower(a[i]) != wamp1__lower(b[i])) return 0;
    }
    return b[an] == 0;
}

/* Writes the decimal form of v; returns its length (at most 20). */
static size_t wamp1__utoa(uint64_t v, char *out) {
    char tmp[20];
    size_t n = 0, i;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v);
    for (i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

static int wamp1__is_tchar(unsigned char c) {
    if (c >= '0' && c <= '9') return 1;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", (int)c) != NULL;
}

static int wamp1__is_ws(char c) { return c == ' ' || c == '\t'; }

/* Is token tok (case-insensitive) an element of the comma-separated list v? */
static int wamp1__list_has(const char *v, size_t n, const char *tok) {
    size_t i = 0, tl = strlen(tok);
    while (i < n) {
        size_t s, e;
        while (i < n && (wamp1__is_ws(v[i]) || v[i] == ',')) i++;
        s = i;
        while (i < n && v[i] != ',') i++;
        e = i;
        while (e > s && wamp1__is_ws(v[e - 1])) e--;
        if (e - s == tl && wamp1__ieq(v + s, tl, tok)) return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/*  SHA-1 (FIPS 180-4) and base64, for the handshake                        */
/* ------------------------------------------------------------------------ */

typedef struct wamp1__sha1 {
    uint32_t h[5];
    uint64_t total;
    uint8_t block[64];
    size_t used;
} wamp1__sha1;

static uint32_t wamp1__rol(uint32_t v, unsigned n) { return (v << n) | (v >> (32u - n)); }

static void wamp1__sha1_block(wamp1__sha1 *s, const uint8_t *p) {
    uint32_t w[16], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    unsigned i;
    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (i = 0; i < 80; i++) {
        uint32_t f, k, t;
        if (i >= 16) {
            t = w[(i + 13) & 15] ^ w[(i + 8) & 15] ^ w[(i + 2) & 15] ^ w[i & 15];
            w[i & 15] = wamp1__rol(t, 1);
        }
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999u; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1u; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
        else { f = b ^ c ^ d; k = 0xCA62C1D6u; }
        t = wamp1__rol(a, 5) + f + e + k + w[i & 15];
        e = d; d = c; c = wamp1__rol(b, 30); b = a; a = t;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e;
}

static void wamp1__sha1_init(wamp1__sha1 *s) {
    s->h[0] = 0x67452301u; s->h[1] = 0xEFCDAB89u; s->h[2] = 0x98BADCFEu;
    s->h[3] = 0x10325476u; s->h[4] = 0xC3D2E1F0u;
    s->total = 0; s->used = 0;
}

static void wamp1__sha1_add(wamp1__sha1 *s, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    s->total += n;
    while (n) {
        size_t k = 64 - s->used;
        if (k > n) k = n;
        memcpy(s->block + s->used, p, k);
        s->used += k; p += k; n -= k;
        if (s->used == 64) { wamp1__sha1_block(s, s->block); s->used = 0; }
    }
}

static void wamp1__sha1_done(wamp1__sha1 *s, uint8_t out[20]) {
    uint64_t bits = s->total * 8u;
    uint8_t pad = 0x80, len[8];
    unsigned i;
    wamp1__sha1_add(s, &pad, 1);
    pad = 0;
    while (s->used != 56) wamp1__sha1_add(s, &pad, 1);
    for (i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
    wamp1__sha1_add(s, len, 8);
    for (i = 0; i < 20; i++) out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

WAMP1_API void wamp1_sha1(const void *data, size_t len, uint8_t out[20]) {
    wamp1__sha1 s;
    wamp1__sha1_init(&s);
    wamp1__sha1_add(&s, data, len);
    wamp1__sha1_done(&s, out);
}

static const char wamp1__b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

WAMP1_API size_t wamp1_base64_encode(const uint8_t *in, size_t n, char *out) {
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = wamp1__b64[v >> 18]; out[o++] = wamp1__b64[(v >> 12) & 63];
        out[o++] = wamp1__b64[(v >> 6) & 63]; out[o++] = wamp1__b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0u);
        out[o++] = wamp1__b64[v >> 18]; out[o++] = wamp1__b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? wamp1__b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
    return o;
}

static int wamp1__b64_val(char c) {
    const char *p = c ? strchr(wamp1__b64, c) : NULL;
    return p ? (int)(p - wamp1__b64) : -1;
}

/* A Sec-WebSocket-Key must be the base64 form of exactly 16 bytes. */
static int wamp1__key_ok(const char *k, size_t n) {
    size_t i;
    if (n != 24 || k[22] != '=' || k[23] != '=') return 0;
    for (i = 0; i < 22; i++)
        if (wamp1__b64_val(k[i]) < 0) return 0;
    return (wamp1__b64_val(k[21]) & 15) == 0; /* no stray bits past byte 16 */
}

WAMP1_API void wamp1_ws_accept_key(const char *key, size_t key_len, char out[29]) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    wamp1__sha1 s;
    uint8_t d[20];
    wamp1__sha1_init(&s);
    wamp1__sha1_add(&s, key, key_len);
    wamp1__sha1_add(&s, guid, sizeof guid - 1);
    wamp1__sha1_done(&s, d);
    wamp1_base64_encode(d, 20, out);
}

/* ------------------------------------------------------------------------ */
/*  UTF-8: incremental, fail-fast                                           */
/* ------------------------------------------------------------------------ */

/* state: bits 0-1 continuation bytes still needed, bits 8-15 lowest and 16-23 highest
   value allowed for the next byte (this is what rejects overlongs, surrogates and
   code points above U+10FFFF as early as the byte that makes them impossible). */
WAMP1_API size_t wamp1_utf8_validate(uint32_t *state, const uint8_t *p, size_t n) {
    uint32_t need = *state & 3u, lo = (*state >> 8) & 0xFFu, hi = (*state >> 16) & 0xFFu;
    size_t i = 0;
    while (i < n) {
        uint32_t b = p[i];
        if (need == 0) {
            if (b < 0x80) {
                /* ASCII run: skip quickly */
                i++;
                while (i + 4 <= n && ((p[i] | p[i + 1] | p[i + 2] | p[i + 3]) & 0x80) == 0) i += 4;
                continue;
            }
            if (b < 0xC2) break;
            if (b < 0xE0) { need = 1; lo = 0x80; hi = 0xBF; }
            else if (b < 0xF0) {
                need = 2;
                lo = b == 0xE0 ? 0xA0 : 0x80;
                hi = b == 0xED ? 0x9F : 0xBF;
            } else if (b < 0xF5) {
                need = 3;
                lo = b == 0xF0 ? 0x90 : 0x80;
                hi = b == 0xF4 ? 0x8F : 0xBF;
            } else break;
        } else {
            if (b < lo || b > hi) break;
            need--; lo = 0x80; hi = 0xBF;
        }
        i++;
    }
    *state = need | lo << 8 | hi << 16;
    return i;
}

WAMP1_API int wamp1_utf8_complete(uint32_t state) { return (state & 3u) == 0; }

WAMP1_API int wamp1_close_code_valid(int code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* ------------------------------------------------------------------------ */
/*  Frames                                                                  */
/* ------------------------------------------------------------------------ */

WAMP1_API size_t wamp1_frame_header(uint8_t out[10], wamp1_opcode op, int fin, uint64_t len) {
    out[0] = (uint8_t)((fin ? 0x80 : 0) | ((unsigned)op & 0x0F));
    if (len < 126) { out[1] = (uint8_t)len; return 2; }
    if (len <= 0xFFFF) {
        out[1] = 126; out[2] = (uint8_t)(len >> 8); out[3] = (uint8_t)len;
        return 4;
    } else {
        unsigned i;
        out[1] = 127;
        for (i = 0; i < 8; i++) out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        return 10;
    }
}

/* ------------------------------------------------------------------------ */
/*  HTTP status texts (only those the library sends)                        */
/* ------------------------------------------------------------------------ */

WAMP1_API const char *wamp1_http_status_text(int status) {
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

WAMP1_API const char *wamp1_request_header(const wamp1_request *r, const char *name, size_t *len) {
    unsigned i;
    for (i = 0; i < r->header_count; i++) {
        if (wamp1__ieq(r->headers[i].name, r->headers[i].name_len, name)) {
            if (len) *len = r->headers[i].value_len;
            return r->headers[i].value;
        }
    }
    if (len) *len = 0;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/*  Connections: states, buffers, sending                                   */
/* ------------------------------------------------------------------------ */

enum {
    WAMP1__FREE = 0,
    WAMP1__HTTP,    /* reading the upgrade request */
    WAMP1__OPEN,    /* WebSocket open */
    WAMP1__CLOSING, /* our close frame sent, waiting for the peer's */
    WAMP1__FLUSH,   /* write what is queued, then half-close */
    WAMP1__LINGER   /* half-closed: discard input until EOF or the deadline */
};

enum {
    WAMP1__F_PING_OUT = 1,   /* keepalive ping without pong yet */
    WAMP1__F_CLOSE_SENT = 2, /* a close frame is queued */
    WAMP1__F_OPENED = 4,     /* on_open was called */
    WAMP1__F_WRITE_FAIL = 8, /* the socket failed to write: stop writing */
    WAMP1__F_EOF = 16        /* the peer half-closed while we still write */
};

static void wamp1__report(wamp1_server *s, wamp1_conn *c, wamp1_error e, const char *why) {
    WAMP1_LOG(why);
    if (s->cfg.cb.on_error) s->cfg.cb.on_error(c, e, why, s->cfg.user);
}

/* Bytes of every send buffer kept for control frames (pong, close), so that a close
   frame still fits when data filled the buffer. */
#define WAMP1__CONTROL_RESERVE 128u

static uint32_t wamp1__send_free(const wamp1_conn *c) {
    uint32_t used = (c->stail - c->shead) + WAMP1__CONTROL_RESERVE;
    return used >= c->srv->cfg.send_buffer_size ? 0u : c->srv->cfg.send_buffer_size - used;
}

/* Room for n more bytes at the end of the send buffer (leaving `keep` bytes free), or NULL. */
static uint8_t *wamp1__send_reserve(wamp1_conn *c, size_t n, uint32_t keep) {
    uint32_t cap = c->srv->cfg.send_buffer_size;
    if (n + keep > cap - (c->stail - c->shead)) return NULL;
    if (n > cap - c->stail) {
        memmove(c->sbuf, c->sbuf + c->shead, c->stail - c->shead);
        c->stail -= c->shead;
        c->shead = 0;
    }
    return c->sbuf + c->stail;
}

static int wamp1__send_raw(wamp1_conn *c, const void *p, size_t n) {
    uint8_t *d = wamp1__send_reserve(c, n, WAMP1__CONTROL_RESERVE);
    if (!d) return -1;
    if (n) memcpy(d, p, n);
    c->stail += (uint32_t)n;
    return 0;
}

static void wamp1__set_deadline(wamp1_conn *c, uint32_t ms) {
    c->deadline = c->srv->now + (ms ? ms : 1u);
}

/* Stop reading new messages: send what is queued, then half-close and drain. */
static void wamp1__to_flush(wamp1_conn *c) {
    if (c->state == WAMP1__FLUSH || c->state == WAMP1__LINGER || c->state == WAMP1__FREE) return;
    c->state = WAMP1__FLUSH;
    wamp1__set_deadline(c, c->srv->cfg.close_timeout_ms);
}

static int wamp1__queue_frame(wamp1_conn *c, wamp1_opcode op, const void *data, size_t len) {
    uint8_t h[10];
    size_t hl = wamp1_frame_header(h, op, 1, len);
    uint8_t *d = wamp1__send_reserve(c, hl + len, op >= WAMP1_OP_CLOSE ? 0u : WAMP1__CONTROL_RESERVE);
    if (!d) return -1;
    memcpy(d, h, hl);
    if (len) memcpy(d + hl, data, len);
    c->stail += (uint32_t)(hl + len);
    return 0;
}

/* Queue a close frame. Control frames bypass the slow-consumer policy: when even a
   close frame does not fit, the connection is simply dropped after what is queued. */
static void wamp1__queue_close(wamp1_conn *c, int code, const char *reason) {
    uint8_t p[125];
    size_t n = 0;
    if (c->flags & WAMP1__F_CLOSE_SENT) return;
    c->flags |= WAMP1__F_CLOSE_SENT;
    if (code) {
        p[0] = (uint8_t)(code >> 8); p[1] = (uint8_t)code; n = 2;
        if (reason) {
            size_t rl = strlen(reason);
            if (rl > 123) rl = 123;
            memcpy(p + 2, reason, rl);
            n += rl;
        }
    }
    (void)wamp1__queue_frame(c, WAMP1_OP_CLOSE, p, n);
}

/* Fail the WebSocket connection: close frame with code, no waiting for the answer. */
static void wamp1__fail(wamp1_conn *c, int code, wamp1_error e, const char *why) {
    wamp1_server *s = c->srv;
    if (c->state == WAMP1__FLUSH || c->state == WAMP1__LINGER || c->state == WAMP1__FREE) return;
    if (e == WAMP1_ERR_PROTOCOL || e == WAMP1_ERR_INVALID_UTF8 || e == WAMP1_ERR_TOO_BIG)
        s->stats.protocol_errors++;
    wamp1__report(s, c, e, why);
    if (c->close_code == 0) c->close_code = WAMP1_CLOSE_ABNORMAL;
    wamp1__queue_close(c, code, why);
    wamp1__to_flush(c);
}

static void wamp1__http_error(wamp1_conn *c, int status, const char *why) {
    static const char extra426[] =
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
    char buf[256];
    size_t n = 0;
    const char *text = wamp1_http_status_text(status);
    const char *extra = status == 426 ? extra426 : status == 405 ? "Allow: GET\r\n" : "";
    size_t tl = strlen(text), el = strlen(extra);
    memcpy(buf, "HTTP/1.1 ", 9); n = 9;
    n += wamp1__utoa((uint64_t)status, buf + n);
    buf[n++] = ' ';
    memcpy(buf + n, text, tl); n += tl;
    memcpy(buf + n, "\r\n", 2); n += 2;
    memcpy(buf + n, extra, el); n += el;
    {
        static const char tail[] = "Content-Type: text/plain\r\nContent-Length: ";
        memcpy(buf + n, tail, sizeof tail - 1); n += sizeof tail - 1;
        n += wamp1__utoa(tl + 1, buf + n);
        memcpy(buf + n, "\r\nConnection: close\r\n\r\n", 23); n += 23;
        memcpy(buf + n, text, tl); n += tl;
        buf[n++] = '\n';
    }
    wamp1__report(c->srv, c, WAMP1_ERR_HTTP, why);
    c->shead = c->stail = 0;
    (void)wamp1__send_raw(c, buf, n);
    wamp1__to_flush(c);
}

WAMP1_API void wamp1_conn_http_respond(wamp1_conn *c, int status, const char *content_type,
                                       const void *body, size_t len) {
    char h[192];
    size_t n = 0, tl;
    const char *text = wamp1_http_status_text(status);
    if (!c || c->state != WAMP1__HTTP) return;
    if (!content_type) content_type = "text/plain";
    memcpy(h, "HTTP/1.1 ", 9); n = 9;
    n += wamp1__utoa((uint64_t)status, h + n);
    h[n++] = ' ';
    tl = strlen(text);
    if (tl > 40) tl = 40;
    memcpy(h + n, text, tl); n += tl;
    memcpy(h + n, "\r\nContent-Type: ", 16); n += 16;
    tl = strlen(content_type);
    if (tl > 64) tl = 64;
    memcpy(h + n, content_type, tl); n += tl;
    memcpy(h + n, "\r\nContent-Length: ", 18); n += 18;
    n += wamp1__utoa(len, h + n);
    memcpy(h + n, "\r\nConnection: close\r\n\r\n", 23); n += 23;
    c->shead = c->stail = 0;
    if (wamp1__send_raw(c, h, n) != 0 || wamp1__send_raw(c, body, len) != 0) {
        c->shead = c->stail = 0;
        wamp1__http_error(c, 500, "response larger than the send buffer");
        return;
    }
    wamp1__to_flush(c);
}

/* A message does not fit the send buffer: apply the slow-consumer policy. */
static int wamp1__overflow(wamp1_conn *c, size_t need) {
    wamp1_server *s = c->srv;
    if (s->cfg.slow_consumer == WAMP1_SLOW_DROP && need <= s->cfg.send_buffer_size) {
        s->stats.dropped_messages++;
        wamp1__report(s, c, WAMP1_ERR_DROPPED, "send buffer full: message dropped");
        return -1;
    }
    s->stats.slow_consumers_closed++;
    /* make room for the close frame: the queued data is never going to be read in time */
    wamp1__fail(c, WAMP1_CLOSE_POLICY, WAMP1_ERR_SLOW_CONSUMER,
                need > s->cfg.send_buffer_size ? "message larger than the send buffer"
                                                : "slow consumer: send buffer full");
    return -1;
}

WAMP1_API int wamp1_conn_send(wamp1_conn *c, wamp1_opcode op, const void *data, size_t len) {
    if (!c || c->state != WAMP1__OPEN || (c->flags & WAMP1__F_CLOSE_SENT)) return -1;
    if (wamp1__queue_frame(c, op, data, len) != 0) return wamp1__overflow(c, len + 10);
    c->srv->stats.messages_out++;
    return 0;
}

WAMP1_API int wamp1_conn_send_text(wamp1_conn *c, const char *text, size_t len) {
    return wamp1_conn_send(c, WAMP1_OP_TEXT, text, len);
}

WAMP1_API int wamp1_conn_send_binary(wamp1_conn *c, const void *data, size_t len) {
    return wamp1_conn_send(c, WAMP1_OP_BINARY, data, len);
}

WAMP1_API int wamp1_conn_send_frame(wamp1_conn *c, const void *frame, size_t len) {
    if (!c || c->state != WAMP1__OPEN || (c->flags & WAMP1__F_CLOSE_SENT)) return -1;
    if (wamp1__send_raw(c, frame, len) != 0) return wamp1__overflow(c, len);
    c->srv->stats.messages_out++;
    return 0;
}

WAMP1_API void wamp1_conn_close(wamp1_conn *c, int code, const char *reason) {
    if (!c) return;
    if (c->state == WAMP1__HTTP) { wamp1__to_flush(c); return; }
    if (c->state != WAMP1__OPEN) return;
    wamp1__queue_close(c, code, reason);
    c->state = WAMP1__CLOSING;
    wamp1__set_deadline(c, c->srv->cfg.close_timeout_ms);
}

WAMP1_API size_t wamp1_conn_send_pending(const wamp1_conn *c) { return c->stail - c->shead; }
WAMP1_API size_t wamp1_conn_send_space(const wamp1_conn *c) { return wamp1__send_free(c); }

WAMP1_API wamp1_conn_id wamp1_conn_handle(const wamp1_conn *c) {
    wamp1_conn_id id;
    id.id = c ? ((uint32_t)c->gen << 16 | (uint32_t)(c - c->srv->conns + 1)) : 0u;
    return id;
}

WAMP1_API wamp1_conn *wamp1_conn_lookup(wamp1_server *s, wamp1_conn_id id) {
    uint32_t idx = (id.id & 0xFFFFu);
    wamp1_conn *c;
    if (idx == 0 || idx > s->nconns) return NULL;
    c = &s->conns[idx - 1];
    if (c->gen != (uint16_t)(id.id >> 16) || c->state == WAMP1__FREE) return NULL;
    return c;
}

WAMP1_API wamp1_server *wamp1_conn_server(const wamp1_conn *c) { return c->srv; }
WAMP1_API const wamp1_addr *wamp1_conn_peer(const wamp1_conn *c) { return &c->peer; }
WAMP1_API void wamp1_conn_set_user(wamp1_conn *c, void *user) { c->user = user; }
WAMP1_API void *wamp1_conn_user(const wamp1_conn *c) { return c->user; }
WAMP1_API int wamp1_conn_is_open(const wamp1_conn *c) {
    return c && c->state == WAMP1__OPEN && !(c->flags & WAMP1__F_CLOSE_SENT);
}

/* ------------------------------------------------------------------------ */
/*  The HTTP upgrade request                                                */
/* ------------------------------------------------------------------------ */

/* Find the end of the header block incrementally; returns its length or 0. */
static uint32_t wamp1__http_end(wamp1_conn *c) {
    uint32_t i;
    /* resume a few bytes back so that a terminator split across reads is found */
    i = c->rpos > 3 ? c->rpos - 3 : 0;
    for (; i < c->rlen; i++) {
        if (c->rbuf[i] != '\n') continue;
        if (i >= 1 && c->rbuf[i - 1] == '\n') return i + 1;
        if (i >= 2 && c->rbuf[i - 1] == '\r' && c->rbuf[i - 2] == '\n') return i + 1;
    }
    c->rpos = c->rlen;
    return 0;
}

/* Parse the header block [0, end) into req; 0 or an HTTP status. */
static int wamp1__http_parse(wamp1_conn *c, uint32_t end, wamp1_request *r) {
    char *p = (char *)c->rbuf;
    uint32_t i = 0, ls, le;
    memset(r, 0, sizeof *r);
    /* request line */
    le = 0;
    while (le < end && p[le] != '\n') le++;
    ls = le;
    if (le > 0 && p[le - 1] == '\r') le--;
    {
        uint32_t a = 0, b, d;
        while (a < le && wamp1__is_tchar((unsigned char)p[a])) a++;
        if (a == 0 || a >= le || p[a] != ' ') return 400;
        b = a + 1;
        while (b < le && p[b] != ' ') {
            if ((unsigned char)p[b] <= 0x20 || p[b] == 0x7F) return 400;
            b++;
        }
        if (b == a + 1 || b >= le) return 400;
        d = b + 1;
        if (le - d != 8 || memcmp(p + d, "HTTP/", 5) != 0 || p[d + 5] < '0' || p[d + 5] > '9' ||
            p[d + 6] != '.' || p[d + 7] < '0' || p[d + 7] > '9')
            return 400;
        r->method = p; r->method_len = (uint16_t)a;
        r->target = p + a + 1; r->target_len = (uint16_t)(b - a - 1);
        r->version_minor = (uint8_t)(p[d + 7] - '0');
        if (p[d + 5] == '0' || (p[d + 5] == '1' && p[d + 7] == '0')) return 505;
        if (p[d + 5] != '1') return 505;
        r->path = r->target; r->path_len = r->target_len;
        {
            uint16_t q;
            for (q = 0; q < r->target_len; q++) {
                if (r->target[q] == '?') {
                    r->path_len = q;
                    r->query = r->target + q + 1;
                    r->query_len = (uint16_t)(r->target_len - q - 1);
                    break;
                }
            }
        }
    }
    /* header lines */
    i = ls + 1;
    while (i < end) {
        uint32_t n, v, ve;
        le = i;
        while (le < end && p[le] != '\n') le++;
        ve = le;
        if (ve > i && p[ve - 1] == '\r') ve--;
        if (ve == i) break; /* the empty line */
        n = i;
        while (n < ve && wamp1__is_tchar((unsigned char)p[n])) n++;
        if (n == i || n >= ve || p[n] != ':') return 400; /* also rejects obs-fold */
        v = n + 1;
        while (v < ve && wamp1__is_ws(p[v])) v++;
        while (ve > v && wamp1__is_ws(p[ve - 1])) ve--;
        {
            uint32_t k;
            for (k = v; k < ve; k++) {
                unsigned char ch = (unsigned char)p[k];
                if ((ch < 0x20 && ch != '\t') || ch == 0x7F) return 400;
            }
        }
        if (r->header_count >= WAMP1_MAX_HEADERS) return 431;
        {
            wamp1_http_header *h = &r->headers[r->header_count++];
            h->name = p + i; h->name_len = (uint16_t)(n - i);
            h->value = p + v; h->value_len = (uint16_t)(ve - v);
        }
        i = le + 1;
    }
    if (!wamp1__ieq(r->method, r->method_len, "GET")) return 405;
    {
        unsigned k, hosts = 0;
        for (k = 0; k < r->header_count; k++)
            if (wamp1__ieq(r->headers[k].name, r->headers[k].name_len, "host")) hosts++;
        if (hosts != 1) return 400;
    }
    return 0;
}

/* Does any header called name contain token tok in its list? */
static int wamp1__header_has(const wamp1_request *r, const char *name, const char *tok) {
    unsigned k;
    for (k = 0; k < r->header_count; k++) {
        const wamp1_http_header *h = &r->headers[k];
        if (wamp1__ieq(h->name, h->name_len, name) && wamp1__list_has(h->value, h->value_len, tok))
            return 1;
    }
    return 0;
}

static void wamp1__open(wamp1_conn *c);

/* The header block is complete: check it and answer 101 or an error. */
static void wamp1__handshake(wamp1_conn *c, uint32_t end) {
    wamp1_server *s = c->srv;
    wamp1_request req;
    const char *key, *ver;
    size_t key_len = 0, ver_len = 0;
    int st = wamp1__http_parse(c, end, &req);
    if (st) { wamp1__http_error(c, st, "malformed or refused HTTP request"); return; }
    if (!wamp1__header_has(&req, "upgrade", "websocket")) {
        if (s->cfg.cb.on_http) {
            s->cfg.cb.on_http(c, &req, s->cfg.user);
            if (c->state != WAMP1__HTTP) return;
        }
        wamp1__http_error(c, 426, "not a WebSocket upgrade request");
        return;
    }
    if (!wamp1__header_has(&req, "connection", "upgrade")) {
        wamp1__http_error(c, 400, "Connection header without the upgrade token");
        return;
    }
    ver = wamp1_request_header(&req, "sec-websocket-version", &ver_len);
    if (!ver || ver_len != 2 || ver[0] != '1' || ver[1] != '3') {
        wamp1__http_error(c, 426, "unsupported Sec-WebSocket-Version");
        return;
    }
    key = wamp1_request_header(&req, "sec-websocket-key", &key_len);
    if (!key || !wamp1__key_ok(key, key_len)) {
        wamp1__http_error(c, 400, "missing or invalid Sec-WebSocket-Key");
        return;
    }
    if (s->cfg.subprotocol) {
        if (wamp1__header_has(&req, "sec-websocket-protocol", s->cfg.subprotocol)) {
            req.subprotocol = s->cfg.subprotocol;
            req.subprotocol_len = (uint16_t)strlen(s->cfg.subprotocol);
        } else if (!s->cfg.subprotocol_optional) {
            wamp1__http_error(c, 426, "required subprotocol not offered");
            return;
        }
    }
    if (s->cfg.cb.on_request) {
        st = s->cfg.cb.on_request(c, &req, s->cfg.user);
        if (c->state != WAMP1__HTTP) return;
        if (st) { wamp1__http_error(c, st, "request refused by the application"); return; }
    }
    {
        char acc[29], h[200];
        size_t n = 0;
        static const char head[] =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Accept: ";
        wamp1_ws_accept_key(key, key_len, acc);
        memcpy(h, head, sizeof head - 1); n = sizeof head - 1;
        memcpy(h + n, acc, 28); n += 28;
        memcpy(h + n, "\r\n", 2); n += 2;
        if (req.subprotocol) {
            memcpy(h + n, "Sec-WebSocket-Protocol: ", 24); n += 24;
            memcpy(h + n, req.subprotocol, req.subprotocol_len); n += req.subprotocol_len;
            memcpy(h + n, "\r\n", 2); n += 2;
        }
        memcpy(h + n, "\r\n", 2); n += 2;
        c->shead = c->stail = 0;
        if (wamp1__send_raw(c, h, n) != 0) {
            wamp1__http_error(c, 500, "send buffer too small");
            return;
        }
    }
    /* keep what followed the header block: it is WebSocket data */
    memmove(c->rbuf, c->rbuf + end, c->rlen - end);
    c->rlen -= end;
    c->rpos = c->mbase = c->mlen = 0;
    c->state = WAMP1__OPEN;
    c->deadline = 0;
    s->stats.handshakes++;
    wamp1__open(c);
}

static void wamp1__open(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    c->flags |= WAMP1__F_OPENED;
    if (s->cfg.cb.on_open) s->cfg.cb.on_open(c, s->cfg.user);
}

/* ------------------------------------------------------------------------ */
/*  The WebSocket frame decoder (in place, incremental)                     */
/* ------------------------------------------------------------------------ */

static void wamp1__unmask_move(wamp1_conn *c, uint8_t *dst, const uint8_t *src, size_t n) {
    size_t i;
    unsigned m = c->mask_pos;
    for (i = 0; i < n; i++) {
        dst[i] = (uint8_t)(src[i] ^ c->mask[m]);
        m = (m + 1) & 3u;
    }
    c->mask_pos = (uint8_t)m;
}

static void wamp1__control(wamp1_conn *c, unsigned op, uint8_t *pl, size_t n) {
    wamp1_server *s = c->srv;
    if (op == WAMP1_OP_PING) {
        if (!(c->flags & WAMP1__F_CLOSE_SENT) && wamp1__queue_frame(c, WAMP1_OP_PONG, pl, n) != 0)
            (void)wamp1__overflow(c, n + 2);
        return;
    }
    if (op == WAMP1_OP_PONG) { c->flags &= (uint8_t)~WAMP1__F_PING_OUT; return; }
    /* close */
    {
        int code = 0;
        if (n == 1) {
            wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL, "close payload of 1 byte");
            return;
        }
        if (n >= 2) {
            uint32_t st = 0;
            code = pl[0] << 8 | pl[1];
            if (!wamp1_close_code_valid(code)) {
                wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL, "invalid close code");
                return;
            }
            if (wamp1_utf8_validate(&st, pl + 2, n - 2) != n - 2 || !wamp1_utf8_complete(st)) {
                wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                            "close reason is not valid UTF-8");
                return;
            }
        }
        c->close_code = (uint16_t)(code ? code : WAMP1_CLOSE_NO_STATUS);
        wamp1__queue_close(c, code ? code : WAMP1_CLOSE_NORMAL, NULL);
        (void)s;
        wamp1__to_flush(c);
    }
}

static void wamp1__deliver(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    uint8_t op = c->msg_op;
    c->msg_op = 0;
    s->stats.messages_in++;
    if (c->state == WAMP1__OPEN && s->cfg.cb.on_message)
        s->cfg.cb.on_message(c, (wamp1_opcode)op, c->rbuf + c->mbase, c->mlen, s->cfg.user);
    c->mlen = 0;
    c->mbase = c->rpos;
}

/* Consume what the receive buffer holds; stops when more bytes are needed. */
static void wamp1__ws_process(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    while (c->state == WAMP1__OPEN || c->state == WAMP1__CLOSING) {
        uint8_t *p = c->rbuf + c->rpos;
        uint32_t avail = c->rlen - c->rpos;
        if (c->fop) {
            /* payload of a data frame: unmask it into place behind the message so far */
            uint32_t k = avail;
            if ((uint64_t)k > c->frame_left) k = (uint32_t)c->frame_left;
            if (k) {
                uint8_t *dst = c->rbuf + c->mbase + c->mlen;
                wamp1__unmask_move(c, dst, p, k);
                if (c->msg_op == WAMP1_OP_TEXT && c->state == WAMP1__OPEN) {
                    if (wamp1_utf8_validate(&c->utf8, dst, k) != k) {
                        wamp1__fail(c, WAMP1_CLOSE_INVALID_DATA, WAMP1_ERR_INVALID_UTF8,
                                    "invalid UTF-8 in a text message");
                        return;
                    }
                }
                c->mlen += k;
                c->rpos += k;
                c->frame_left -= k;
            }
            if (c->frame_left) break; /* wait for more */
            c->fop = 0;
            if (c->ffin) {
                if (c->msg_op == WAMP1_OP_TEXT && !wamp1_utf8_complete(c->utf8)) {
                    wamp1__fail(c, WAMP1_CLOSE_INVALID_DATA, WAMP1_ERR_INVALID_UTF8,
                                "text message ends inside a UTF-8 sequence");
                    return;
                }
                if (c->state == WAMP1__OPEN) wamp1__deliver(c);
                else { c->msg_op = 0; c->mlen = 0; c->mbase = c->rpos; }
            }
            continue;
        }
        if (avail < 2) break;
        {
            unsigned b0 = p[0], b1 = p[1], op = b0 & 0x0Fu, fin = b0 >> 7;
            uint64_t len = b1 & 0x7Fu;
            uint32_t hl = 2;
            if (b0 & 0x70u) {
                wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL, "reserved bits set");
                return;
            }
            if ((op > 2 && op < 8) || op > 10) {
                wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL, "reserved opcode");
                return;
            }
            if (!(b1 & 0x80u)) {
                wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL, "unmasked client frame");
                return;
            }
            if (op >= 8 && (!fin || len > 125)) {
                wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                            "fragmented or oversized control frame");
                return;
            }
            if (len == 126) hl = 4;
            else if (len == 127) hl = 10;
            if (avail < hl + 4) break;
            if (len == 126) len = (uint64_t)p[2] << 8 | p[3];
            else if (len == 127) {
                unsigned i;
                len = 0;
                for (i = 0; i < 8; i++) len = len << 8 | p[2 + i];
                if (len >> 63) {
                    wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                                "64-bit length with the top bit set");
                    return;
                }
            }
            memcpy(c->mask, p + hl, 4);
            hl += 4;
            if (op >= 8) {
                if (avail < hl + len) break;
                c->rpos += hl;
                c->mask_pos = 0;
                /* unmask in place; control payloads are never part of the message */
                wamp1__unmask_move(c, p + hl, p + hl, (size_t)len);
                c->rpos += (uint32_t)len;
                wamp1__control(c, op, p + hl, (size_t)len);
                if (c->rpos == c->rlen && c->mlen == 0 && !c->fop && !c->msg_op) {
                    c->rpos = c->rlen = c->mbase = 0;
                }
                continue;
            }
            if (op == 0 && !c->msg_op) {
                wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                            "continuation frame without a message to continue");
                return;
            }
            if (op != 0 && c->msg_op) {
                wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                            "new data frame inside a fragmented message");
                return;
            }
            if (len > s->max_frame || (uint64_t)c->mlen + len > s->max_message) {
                wamp1__fail(c, WAMP1_CLOSE_TOO_BIG, WAMP1_ERR_TOO_BIG,
                            "frame or message larger than the configured limit");
                return;
            }
            if (op != 0) {
                c->msg_op = (uint8_t)op;
                c->utf8 = 0;
                c->mlen = 0;
                c->mbase = c->rpos;
            }
            c->rpos += hl;
            c->fop = (uint8_t)(op ? op : c->msg_op);
            c->ffin = (uint8_t)fin;
            c->frame_left = len;
            c->mask_pos = 0;
        }
    }
    if (c->rpos == c->rlen && c->mlen == 0 && !c->fop && !c->msg_op) c->rpos = c->rlen = c->mbase = 0;
}

/* ------------------------------------------------------------------------ */
/*  Input and output for one connection                                     */
/* ------------------------------------------------------------------------ */

static void wamp1__free_conn(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    if (c->state == WAMP1__FREE) return;
    if ((c->flags & WAMP1__F_OPENED) && s->cfg.cb.on_close) {
        c->flags &= (uint8_t)~WAMP1__F_OPENED;
        s->cfg.cb.on_close(c, c->close_code ? (int)c->close_code : (int)WAMP1_CLOSE_ABNORMAL, s->cfg.user);
    }
    s->port->close(s->port->ctx, c->sock);
    c->sock = WAMP1_INVALID_SOCKET;
    c->state = WAMP1__FREE;
    c->gen = (uint16_t)(c->gen + 1u);
    if (c->gen == 0) c->gen = 1;
    c->user = NULL;
    s->open_conns--;
    s->stats.connections = s->open_conns;
}

/* Write what is queued; returns -1 if the connection was freed. */
static int wamp1__flush(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    while (c->stail > c->shead && !(c->flags & WAMP1__F_WRITE_FAIL)) {
        long n = s->port->send(s->port->ctx, c->sock, c->sbuf + c->shead, c->stail - c->shead);
        if (n == WAMP1_IO_WOULDBLOCK) break;
        if (n < 0) {
            c->flags |= WAMP1__F_WRITE_FAIL;
            c->shead = c->stail = 0;
            wamp1__report(s, c, WAMP1_ERR_IO, "send failed");
            wamp1__free_conn(c);
            return -1;
        }
        c->shead += (uint32_t)n;
        s->stats.bytes_out += (uint64_t)n;
    }
    if (c->shead == c->stail) c->shead = c->stail = 0;
    if (c->state == WAMP1__FLUSH && c->shead == c->stail) {
        if (s->port->shutdown) s->port->shutdown(s->port->ctx, c->sock);
        c->state = WAMP1__LINGER;
        wamp1__set_deadline(c, s->cfg.close_timeout_ms);
        if (!s->port->shutdown) { wamp1__free_conn(c); return -1; }
    }
    return 0;
}

/* Run the engine on what is in the receive buffer. */
static void wamp1__process(wamp1_conn *c) {
    if (c->state == WAMP1__HTTP) {
        uint32_t end = wamp1__http_end(c);
        if (!end) {
            if (c->rlen >= c->srv->max_header)
                wamp1__http_error(c, 431, "request header block larger than the limit");
            return;
        }
        if (end > c->srv->max_header) {
            wamp1__http_error(c, 431, "request header block larger than the limit");
            return;
        }
        wamp1__handshake(c, end);
    }
    if (c->state == WAMP1__OPEN || c->state == WAMP1__CLOSING) wamp1__ws_process(c);
}

/* Read what the socket has; returns -1 if the connection was freed. */
static int wamp1__read(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    int rounds = 0;
    for (;;) {
        uint32_t cap = s->cfg.recv_buffer_size, room;
        long n;
        if (c->state == WAMP1__LINGER || c->state == WAMP1__FLUSH) {
            uint8_t junk[256];
            n = s->port->recv(s->port->ctx, c->sock, junk, sizeof junk);
            if (n == WAMP1_IO_WOULDBLOCK) return 0;
            if (n <= 0) {
                if (c->state == WAMP1__FLUSH && n == 0) { /* peer half-closed: keep writing */
                    c->flags |= WAMP1__F_EOF;
                    return 0;
                }
                wamp1__free_conn(c);
                return -1;
            }
            if (++rounds > 16) return 0;
            continue;
        }
        if (c->rlen == cap && c->state != WAMP1__HTTP) {
            /* make room: move the message and the unparsed bytes to the front */
            uint32_t base = c->msg_op ? c->mbase : c->rpos;
            if (base > 0) {
                memmove(c->rbuf, c->rbuf + base, c->rlen - base);
                c->rlen -= base;
                c->rpos -= base;
                c->mbase = c->msg_op ? 0 : c->rpos;
            }
        }
        room = cap - c->rlen;
        if (room == 0) return 0; /* the engine must consume first */
        n = s->port->recv(s->port->ctx, c->sock, c->rbuf + c->rlen, room);
        if (n == WAMP1_IO_WOULDBLOCK) return 0;
        if (n <= 0) {
            if (n < 0) wamp1__report(s, c, WAMP1_ERR_IO, "recv failed");
            else if (c->state == WAMP1__OPEN)
                wamp1__report(s, c, WAMP1_ERR_IO, "connection closed without a close frame");
            wamp1__free_conn(c);
            return -1;
        }
        c->rlen += (uint32_t)n;
        s->stats.bytes_in += (uint64_t)n;
        wamp1__process(c);
        if (c->state == WAMP1__FREE) return -1;
        if ((uint32_t)n < room || ++rounds >= 4) return 0;
    }
}

/* ------------------------------------------------------------------------ */
/*  Server: pools, accept, timers, the loop                                 */
/* ------------------------------------------------------------------------ */

#if WAMP1_STATIC_MEMORY_SIZE > 0
static uint8_t wamp1__static_memory[WAMP1_STATIC_MEMORY_SIZE];
#endif

static void wamp1__defaults(wamp1_config *c) {
    if (!c->host) c->host = "127.0.0.1";
    if (!c->max_connections || c->max_connections > WAMP1_MAX_CONNECTIONS)
        c->max_connections = WAMP1_MAX_CONNECTIONS;
    if (!c->recv_buffer_size) c->recv_buffer_size = WAMP1_RECV_BUFFER_SIZE;
    if (!c->send_buffer_size) c->send_buffer_size = WAMP1_SEND_BUFFER_SIZE;
    if (!c->max_header_size) c->max_header_size = WAMP1_MAX_HEADER_SIZE;
    if (!c->handshake_timeout_ms) c->handshake_timeout_ms = WAMP1_HANDSHAKE_TIMEOUT_MS;
    if (!c->close_timeout_ms) c->close_timeout_ms = WAMP1_CLOSE_TIMEOUT_MS;
}

WAMP1_API size_t wamp1_server_memory_size(const wamp1_config *cfg) {
    wamp1_config c = *cfg;
    wamp1__defaults(&c);
    return (size_t)c.max_connections * ((size_t)c.recv_buffer_size + c.send_buffer_size);
}

WAMP1_API int wamp1_server_init(wamp1_server *s, const wamp1_config *cfg) {
    size_t need, per;
    uint32_t i;
    uint8_t *mem;
    memset(s, 0, sizeof *s);
    if (!cfg || !cfg->port) return -1;
    s->cfg = *cfg;
    wamp1__defaults(&s->cfg);
    s->port = s->cfg.port;
    if (s->cfg.recv_buffer_size < 512 || s->cfg.send_buffer_size < 256) return -1;
    per = (size_t)s->cfg.recv_buffer_size + s->cfg.send_buffer_size;
    need = (size_t)s->cfg.max_connections * per;
    mem = (uint8_t *)s->cfg.memory;
    if (mem) {
        if (s->cfg.memory_size < need) {
            /* fewer connections fit into the block the user gave */
            s->cfg.max_connections = (uint32_t)(s->cfg.memory_size / per);
            if (!s->cfg.max_connections) return -1;
        }
    } else {
#if WAMP1_STATIC_MEMORY_SIZE > 0
        static int used = 0;
        if (used) return -1; /* the static block serves one server */
        used = 1;
        mem = wamp1__static_memory;
        if (need > sizeof wamp1__static_memory) {
            s->cfg.max_connections = (uint32_t)(sizeof wamp1__static_memory / per);
            if (!s->cfg.max_connections) return -1;
        }
#else
        return -1;
#endif
    }
    s->memory = mem;
    s->nconns = s->cfg.max_connections;
    s->limit = s->nconns;
    s->max_header = s->cfg.max_header_size;
    if (s->max_header > s->cfg.recv_buffer_size) s->max_header = s->cfg.recv_buffer_size;
    s->max_message = s->cfg.recv_buffer_size - 256;
    if (s->cfg.max_message_size && s->cfg.max_message_size < s->max_message)
        s->max_message = s->cfg.max_message_size;
    /* a message and its frame header must also fit the send buffer to be echoed */
    s->max_frame = s->cfg.max_frame_size && s->cfg.max_frame_size < s->max_message
                       ? s->cfg.max_frame_size : s->max_message;
    for (i = 0; i < s->nconns; i++) {
        wamp1_conn *c = &s->conns[i];
        c->srv = s;
        c->gen = 1;
        c->sock = WAMP1_INVALID_SOCKET;
        c->rbuf = mem + (size_t)i * per;
        c->sbuf = c->rbuf + s->cfg.recv_buffer_size;
    }
    for (i = 0; i < WAMP1_REJECT_SLOTS; i++) s->rejects[i].sock = WAMP1_INVALID_SOCKET;
    s->stats.connections_max = s->nconns;
    s->now = s->port->now_ms(s->port->ctx);
    if (s->cfg.keepalive_ms) s->next_ping = s->now + s->cfg.keepalive_ms;
    return 0;
}

WAMP1_API int wamp1_server_listen(wamp1_server *s) {
    wamp1_socket ls;
    uint16_t bound = 0;
    if (s->nlisten >= WAMP1_MAX_LISTENERS) return -1;
    if (s->port->listen(s->port->ctx, s->cfg.host, s->cfg.listen_port, &ls, &bound) != 0) return -1;
    s->listeners[s->nlisten++] = ls;
    s->bound_port = bound;
    return 0;
}

WAMP1_API uint16_t wamp1_server_port(const wamp1_server *s) { return s->bound_port; }
WAMP1_API uint64_t wamp1_server_now(const wamp1_server *s) { return s->now; }
WAMP1_API void *wamp1_server_user(const wamp1_server *s) { return s->cfg.user; }
WAMP1_API void wamp1_server_stats(const wamp1_server *s, wamp1_stats *out) { *out = s->stats; }

WAMP1_API int wamp1_server_set_max_connections(wamp1_server *s, uint32_t n) {
    if (n == 0 || n > s->nconns) return -1;
    s->limit = n;
    s->stats.connections_max = n;
    return 0;
}

WAMP1_API wamp1_conn *wamp1_server_next_conn(wamp1_server *s, wamp1_conn *prev) {
    uint32_t i = prev ? (uint32_t)(prev - s->conns) + 1u : 0u;
    for (; i < s->nconns; i++)
        if (s->conns[i].state == WAMP1__OPEN && !(s->conns[i].flags & WAMP1__F_CLOSE_SENT))
            return &s->conns[i];
    return NULL;
}

WAMP1_API void wamp1_server_stop(wamp1_server *s) {
    s->stop = 1;
    if (s->port->wake) s->port->wake(s->port->ctx);
}

WAMP1_API void wamp1_server_wake(wamp1_server *s) {
    if (s->port->wake) s->port->wake(s->port->ctx);
}

/* Pool full: answer 503 at once and keep the socket only to drain the request. */
static void wamp1__reject(wamp1_server *s, wamp1_socket sock) {
    static const char r503[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
        "Content-Length: 20\r\nConnection: close\r\nRetry-After: 1\r\n\r\nService Unavailable\n";
    unsigned i;
    s->stats.rejected_full++;
    wamp1__report(s, NULL, WAMP1_ERR_POOL_FULL, "connection pool full: 503");
    (void)s->port->send(s->port->ctx, sock, r503, sizeof r503 - 1);
    if (s->port->shutdown) {
        s->port->shutdown(s->port->ctx, sock);
        for (i = 0; i < WAMP1_REJECT_SLOTS; i++) {
            if (s->rejects[i].sock == WAMP1_INVALID_SOCKET) {
                s->rejects[i].sock = sock;
                s->rejects[i].deadline = s->now + 1000u;
                return;
            }
        }
    }
    s->port->close(s->port->ctx, sock);
}

static void wamp1__accept(wamp1_server *s, wamp1_socket ls) {
    int k;
    for (k = 0; k < 64; k++) {
        wamp1_socket ns;
        wamp1_addr peer;
        wamp1_conn *c = NULL;
        uint32_t i;
        memset(&peer, 0, sizeof peer);
        if (s->port->accept(s->port->ctx, ls, &ns, &peer) != 0) return;
        s->stats.accepted++;
        if (s->open_conns < s->limit && !s->shutting_down) {
            for (i = 0; i < s->nconns; i++)
                if (s->conns[i].state == WAMP1__FREE) { c = &s->conns[i]; break; }
        }
        if (!c) { wamp1__reject(s, ns); continue; }
        c->sock = ns;
        c->peer = peer;
        c->state = WAMP1__HTTP;
        c->flags = 0;
        c->rlen = c->rpos = c->mbase = c->mlen = 0;
        c->shead = c->stail = 0;
        c->fop = c->msg_op = 0;
        c->frame_left = 0;
        c->close_code = 0;
        c->user = NULL;
        s->open_conns++;
        s->stats.connections = s->open_conns;
        if (s->open_conns > s->stats.connections_peak) s->stats.connections_peak = s->open_conns;
        wamp1__set_deadline(c, s->cfg.handshake_timeout_ms);
    }
}

static void wamp1__timers(wamp1_server *s) {
    uint32_t i;
    int ping = 0;
    if (s->cfg.keepalive_ms && s->now >= s->next_ping) {
        ping = 1;
        s->next_ping = s->now + s->cfg.keepalive_ms;
    }
    for (i = 0; i < s->nconns; i++) {
        wamp1_conn *c = &s->conns[i];
        if (c->state == WAMP1__FREE) continue;
        if (c->deadline && s->now >= c->deadline) {
            c->deadline = 0;
            switch (c->state) {
            case WAMP1__HTTP:
                wamp1__report(s, c, WAMP1_ERR_HANDSHAKE_TIMEOUT, "handshake not finished in time");
                wamp1__free_conn(c);
                continue;
            case WAMP1__CLOSING:
                wamp1__report(s, c, WAMP1_ERR_CLOSE_TIMEOUT, "no close frame from the peer in time");
                wamp1__free_conn(c);
                continue;
            default: /* FLUSH or LINGER: the peer does not read or does not close */
                wamp1__free_conn(c);
                continue;
            }
        }
        if (ping && c->state == WAMP1__OPEN && !(c->flags & WAMP1__F_CLOSE_SENT)) {
            if (c->flags & WAMP1__F_PING_OUT) {
                if (s->cfg.cb.on_keepalive_timeout) s->cfg.cb.on_keepalive_timeout(c, s->cfg.user);
                if (c->state == WAMP1__OPEN)
                    wamp1__fail(c, WAMP1_CLOSE_GOING_AWAY, WAMP1_ERR_KEEPALIVE,
                                "no pong to the keepalive ping");
            } else {
                c->flags |= WAMP1__F_PING_OUT;
                (void)wamp1__queue_frame(c, WAMP1_OP_PING, "wamp1", 5);
            }
        }
    }
    for (i = 0; i < WAMP1_REJECT_SLOTS; i++) {
        if (s->rejects[i].sock != WAMP1_INVALID_SOCKET && s->now >= s->rejects[i].deadline) {
            s->port->close(s->port->ctx, s->rejects[i].sock);
            s->rejects[i].sock = WAMP1_INVALID_SOCKET;
        }
    }
}

static int wamp1__next_timeout(const wamp1_server *s, int timeout_ms) {
    uint64_t next = UINT64_MAX;
    uint32_t i;
    if (s->cfg.keepalive_ms && s->open_conns) next = s->next_ping;
    for (i = 0; i < s->nconns; i++)
        if (s->conns[i].state != WAMP1__FREE && s->conns[i].deadline && s->conns[i].deadline < next)
            next = s->conns[i].deadline;
    for (i = 0; i < WAMP1_REJECT_SLOTS; i++)
        if (s->rejects[i].sock != WAMP1_INVALID_SOCKET && s->rejects[i].deadline < next)
            next = s->rejects[i].deadline;
    if (next != UINT64_MAX) {
        uint64_t d = next > s->now ? next - s->now : 0;
        if (timeout_ms < 0 || d < (uint64_t)timeout_ms) timeout_ms = (int)(d > 0x7FFFFFFF ? 0x7FFFFFFF : d);
    }
    return timeout_ms;
}

enum { WAMP1__PFD_LISTEN = 0xFFFF, WAMP1__PFD_WAKE = 0xFFFE, WAMP1__PFD_REJECT = 0xFFFD };

WAMP1_API int wamp1_server_poll(wamp1_server *s, int timeout_ms) {
    unsigned n = 0, k;
    uint32_t i;
    int ready;
    wamp1_socket wfd = s->port->wake_fd ? s->port->wake_fd(s->port->ctx) : WAMP1_INVALID_SOCKET;
    s->now = s->port->now_ms(s->port->ctx);
    wamp1__timers(s);
    for (k = 0; k < s->nlisten; k++) {
        s->pfds[n].fd = s->listeners[k];
        s->pfds[n].events = WAMP1_POLLIN;
        s->pfds[n].revents = 0;
        s->pfd_conn[n++] = WAMP1__PFD_LISTEN;
    }
    if (wfd != WAMP1_INVALID_SOCKET) {
        s->pfds[n].fd = wfd;
        s->pfds[n].events = WAMP1_POLLIN;
        s->pfds[n].revents = 0;
        s->pfd_conn[n++] = WAMP1__PFD_WAKE;
    }
    for (k = 0; k < WAMP1_REJECT_SLOTS; k++) {
        if (s->rejects[k].sock == WAMP1_INVALID_SOCKET) continue;
        s->pfds[n].fd = s->rejects[k].sock;
        s->pfds[n].events = WAMP1_POLLIN;
        s->pfds[n].revents = 0;
        s->pfd_conn[n++] = (uint16_t)(WAMP1__PFD_REJECT - 1 - k);
    }
    for (i = 0; i < s->nconns; i++) {
        wamp1_conn *c = &s->conns[i];
        short ev = 0;
        if (c->state == WAMP1__FREE) continue;
        if (c->state >= WAMP1__FLUSH) {
            if (!(c->flags & WAMP1__F_EOF)) ev |= WAMP1_POLLIN;
        } else if (c->rlen < s->cfg.recv_buffer_size || c->rpos > 0 || c->mbase > 0)
            ev |= WAMP1_POLLIN;
        if (c->stail > c->shead) ev |= WAMP1_POLLOUT;
        s->pfds[n].fd = c->sock;
        s->pfds[n].events = ev;
        s->pfds[n].revents = 0;
        s->pfd_conn[n++] = (uint16_t)i;
    }
    timeout_ms = wamp1__next_timeout(s, s->stop ? 0 : timeout_ms);
    ready = s->port->wait(s->port->ctx, s->pfds, n, timeout_ms);
    s->now = s->port->now_ms(s->port->ctx);
    if (ready > 0) {
        for (k = 0; k < n; k++) {
            uint16_t who = s->pfd_conn[k];
            short re = s->pfds[k].revents;
            if (!re) continue;
            if (who == WAMP1__PFD_LISTEN) { wamp1__accept(s, s->pfds[k].fd); continue; }
            if (who == WAMP1__PFD_WAKE) {
                if (s->port->wake_drain) s->port->wake_drain(s->port->ctx);
                continue;
            }
            if (who < WAMP1__PFD_REJECT && who >= WAMP1__PFD_REJECT - WAMP1_REJECT_SLOTS) {
                unsigned r = (unsigned)(WAMP1__PFD_REJECT - 1 - who);
                uint8_t junk[256];
                long got = s->port->recv(s->port->ctx, s->rejects[r].sock, junk, sizeof junk);
                if (got == 0 || got == WAMP1_IO_ERROR) {
                    s->port->close(s->port->ctx, s->rejects[r].sock);
                    s->rejects[r].sock = WAMP1_INVALID_SOCKET;
                }
                continue;
            }
            {
                wamp1_conn *c = &s->conns[who];
                if (c->state == WAMP1__FREE || c->sock != s->pfds[k].fd) continue;
                if (re & (WAMP1_POLLIN | WAMP1_POLLHUP | WAMP1_POLLERR | WAMP1_POLLNVAL)) {
                    if (wamp1__read(c) < 0) continue;
                }
                if (wamp1__flush(c) < 0) continue;
            }
        }
    }
    /* write what the handlers queued for other connections (fan-out, timers) */
    for (i = 0; i < s->nconns; i++) {
        wamp1_conn *c = &s->conns[i];
        if (c->state == WAMP1__FREE) continue;
        if (c->stail > c->shead || c->state == WAMP1__FLUSH) (void)wamp1__flush(c);
    }
    if (s->cfg.cb.on_tick) s->cfg.cb.on_tick(s, s->now, s->cfg.user);
    return ready < 0 ? -1 : 0;
}

WAMP1_API int wamp1_server_run(wamp1_server *s) {
    while (!s->stop)
        if (wamp1_server_poll(s, -1) < 0 && !s->stop) {
            /* wait() failed (e.g. EINTR was already retried by the port): keep going */
        }
    return 0;
}

WAMP1_API int wamp1_server_shutdown(wamp1_server *s, uint32_t timeout_ms) {
    uint64_t end;
    uint32_t i;
    unsigned k;
    s->shutting_down = 1;
    s->stop = 0;
    s->now = s->port->now_ms(s->port->ctx);
    end = s->now + timeout_ms;
    for (k = 0; k < s->nlisten; k++) s->port->close(s->port->ctx, s->listeners[k]);
    s->nlisten = 0;
    for (i = 0; i < s->nconns; i++) {
        wamp1_conn *c = &s->conns[i];
        if (c->state == WAMP1__HTTP) wamp1__to_flush(c);
        else if (c->state == WAMP1__OPEN) {
            if (c->close_code == 0) c->close_code = WAMP1_CLOSE_GOING_AWAY;
            wamp1__queue_close(c, WAMP1_CLOSE_GOING_AWAY, "server shutting down");
            wamp1__to_flush(c);
        } else if (c->state == WAMP1__CLOSING) wamp1__to_flush(c);
        if (c->state != WAMP1__FREE && c->deadline > end) c->deadline = end;
        if (c->state == WAMP1__FLUSH) c->deadline = end;
    }
    while (s->open_conns > 0) {
        uint64_t now = s->port->now_ms(s->port->ctx);
        if (now >= end) break;
        (void)wamp1_server_poll(s, (int)(end - now));
    }
    for (i = 0; i < s->nconns; i++) wamp1__free_conn(&s->conns[i]);
    for (k = 0; k < WAMP1_REJECT_SLOTS; k++) {
        if (s->rejects[k].sock != WAMP1_INVALID_SOCKET) {
            s->port->close(s->port->ctx, s->rejects[k].sock);
            s->rejects[k].sock = WAMP1_INVALID_SOCKET;
        }
    }
    return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* WAMP1_IMPLEMENTATION */
