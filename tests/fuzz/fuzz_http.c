/* libFuzzer target: the HTTP upgrade parser and handshake, through the test port.
 *
 *   bash tests/fuzz/run.sh 60        (or build by hand:)
 *   clang -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_http.c -o build/fuzz/fuzz_http
 *
 * Input: byte 0 picks the configuration (required/optional subprotocol, an on_http
 * responder, an on_request hook that refuses, allowed origins, a session provider,
 * drop_request, a small receive buffer), byte 1 the piece sizes, byte 2 the per-call I/O
 * limit and what the client does at the end; the rest is what one client writes, in pieces,
 * the server polled after each piece.
 *
 * Checks: the client receives at most one HTTP response: a complete response with a
 * Content-Length body and nothing after it, or a 101 (with the right Sec-WebSocket-Accept
 * for the key that was sent) followed only by valid server frames; the kept upgrade request
 * is the request the handshake saw; after an error response the server half-closes; after
 * the client half-closes, or when the clock runs far enough, the server closes the socket. */
#define WAMP1_MAX_CONNECTIONS 2
#define WAMP1_RECV_BUFFER_SIZE 4096
#define WAMP1_SEND_BUFFER_SIZE 4096
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_TESTPORT_SOCKETS 2
#define WAMP1_TESTPORT_BUFFER (40u * 1024u)
#include "fuzz_common.h"

static wamp1_testport tp;
static wamp1_port port;
static wamp1_server srv;
static uint8_t mem[WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
static fz_stream st;
static unsigned cfg_bits;

/* what the handshake saw, compared with the kept request in on_open */
static char seen_target[4096];
static size_t seen_target_len;
static int seen_headers, opened, requests;

static void on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *u) {
    (void)u;
    (void)wamp1_conn_send(c, op, d, n);
}

static int on_request(wamp1_conn *c, const wamp1_request *req, void *u) {
    size_t n;
    (void)c; (void)u;
    requests++;
    REQUIRE(req->method_len == 3 && memcmp(req->method, "GET", 3) == 0);
    REQUIRE(req->target_len > 0 && req->target_len < sizeof seen_target);
    REQUIRE(req->path == req->target && req->path_len <= req->target_len);
    if (req->query) REQUIRE(req->query + req->query_len == req->target + req->target_len);
    memcpy(seen_target, req->target, req->target_len);
    seen_target_len = req->target_len;
    seen_headers = req->header_count;
    if (cfg_bits & 8) {
        /* refuse unless an X-Token header is there */
        if (!wamp1_request_header(req, "x-token", &n)) return 401;
        if (n == 0) return 403;
    }
    return 0;
}

static void on_http(wamp1_conn *c, const wamp1_request *req, void *u) {
    (void)u;
    if (!(cfg_bits & 4)) return;
    if (req->path_len == 1 && req->path[0] == '/')
        wamp1_conn_http_respond(c, 200, "text/html", "<h1>hi</h1>", 11);
    else if (req->query_len > 0)
        wamp1_conn_http_respond(c, 404, NULL, req->query, req->query_len);
    /* otherwise: no answer, the library sends 426 */
}

static const char php_sess[] = "user|s:5:\"alice\";n|i:3;";

static int sess_load(void *ctx, const char *id, size_t idlen, char *buf, size_t cap,
                     wamp1_php_session *out) {
    (void)ctx;
    if (idlen != 2 || memcmp(id, "s1", 2) != 0) return -1;
    if (!buf) return 0;
    if (cap < sizeof php_sess) return -1;
    memcpy(buf, php_sess, sizeof php_sess - 1);
    return wamp1_php_session_load(out, buf, sizeof php_sess - 1);
}

static void on_open(wamp1_conn *c, void *u) {
    wamp1_request req;
    (void)u;
    opened++;
    if (cfg_bits & 64) {
        REQUIRE(wamp1_conn_request(c, &req) != 0);
    } else if (wamp1_conn_request(c, &req) == 0) {
        /* kept (a request larger than half of the receive buffer is not): it is the same */
        REQUIRE(req.target_len == seen_target_len && memcmp(req.target, seen_target, seen_target_len) == 0);
        REQUIRE(req.header_count == seen_headers);
    }
    if (cfg_bits & 32) {
        char buf[256];
        wamp1_php_session s;
        if (wamp1_conn_has_session(c) && !(cfg_bits & 64)) {
            REQUIRE(wamp1_conn_session(c, buf, sizeof buf, &s) == 0);
            REQUIRE(s.root.count == 2);
        }
    }
}

/* The value of the first Sec-WebSocket-Key header of the request in d[0..n), trimmed. */
static int request_key(const uint8_t *d, size_t n, const uint8_t **key, size_t *klen) {
    size_t i = 0, first = 1;
    static const char name[] = "sec-websocket-key:";
    while (i < n) {
        size_t s = i, e;
        while (i < n && d[i] != '\n') i++;
        e = i;
        if (i < n) i++;
        if (e > s && d[e - 1] == '\r') e--;
        if (first) { first = 0; continue; }
        if (e == s) return 0;
        if (e - s >= sizeof name - 1) {
            size_t k;
            int match = 1;
            for (k = 0; k < sizeof name - 1; k++) {
                uint8_t ch = d[s + k];
                if (ch >= 'A' && ch <= 'Z') ch = (uint8_t)(ch + 32);
                if (ch != (uint8_t)name[k]) { match = 0; break; }
            }
            if (match) {
                s += sizeof name - 1;
                while (s < e && (d[s] == ' ' || d[s] == '\t')) s++;
                while (e > s && (d[e - 1] == ' ' || d[e - 1] == '\t')) e--;
                *key = d + s;
                *klen = e - s;
                return 1;
            }
        }
    }
    return 0;
}

static void check_accept(const uint8_t *req, size_t n, const uint8_t *head, size_t hn) {
    const uint8_t *key;
    size_t klen;
    char acc[29], line[64];
    REQUIRE(request_key(req, n, &key, &klen));
    REQUIRE(klen == 24);
    wamp1_ws_accept_key((const char *)key, klen, acc);
    snprintf(line, sizeof line, "\r\nSec-WebSocket-Accept: %s\r\n", acc);
    REQUIRE(fz_has(head, hn, line));
}

/* Poll until the server has read everything and writes nothing more. */
static void settle(void) {
    int quiet = 0, i;
    for (i = 0; i < 100000 && quiet < 2; i++) {
        wamp1_server_poll(&srv, 0);
        quiet = fz_stream_pull(&st, &tp, 1) == 0 && tp.socks[0].in.len == 0 ? quiet + 1 : 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in;
    fz_split sp;
    wamp1_config cfg;
    wamp1_session_provider sp_prov;
    static wamp1_origin_rule origins[2];
    uint8_t b2;
    const uint8_t *req;
    size_t req_len, off;
    int cl, i;

    if (size < 3) return 0;
    in.p = data;
    in.n = size;
    cfg_bits = fz_u8(&in);
    fz_split_init(&sp, fz_u8(&in));
    b2 = fz_u8(&in);
    req_len = fz_take(&in, in.n, &req);

    wamp1_testport_init(&tp, &port);
    tp.max_io = (b2 & 7) ? (size_t)(b2 & 7) * 3 - 2 : 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.memory = mem;
    cfg.memory_size = sizeof mem;
    cfg.handshake_timeout_ms = 2000;
    cfg.close_timeout_ms = 500;
    cfg.cb.on_message = on_message;
    cfg.cb.on_request = on_request;
    cfg.cb.on_http = on_http;
    cfg.cb.on_open = on_open;
    if (cfg_bits & 1) cfg.subprotocol = "wamp";
    if (cfg_bits & 2) cfg.subprotocol_optional = 1;
    if (cfg_bits & 16) {
        (void)wamp1_origin_rule_parse(&origins[0], "example.com", 11);
        (void)wamp1_origin_rule_parse(&origins[1], "http://localhost:8080", 21);
        cfg.origins = origins;
        cfg.origin_count = 2;
    }
    if (cfg_bits & 32) {
        memset(&sp_prov, 0, sizeof sp_prov);
        sp_prov.cookie = (b2 & 8) ? "sid" : NULL;
        sp_prov.load = sess_load;
        cfg.sessions = &sp_prov;
    }
    if (cfg_bits & 64) cfg.drop_request = 1;
    if (cfg_bits & 128) cfg.recv_buffer_size = 1024; /* the header limit follows it */
    REQUIRE(wamp1_server_init(&srv, &cfg) == 0);
    REQUIRE(wamp1_server_listen(&srv) == 0);
    fz_stream_reset(&st);
    seen_target_len = 0;
    seen_headers = opened = requests = 0;

    cl = wamp1_testport_connect(&tp);
    REQUIRE(cl == 1);
    off = 0;
    while (off < req_len) {
        size_t k = fz_split_next(&sp, req_len - off);
        wamp1_testport_write(&tp, cl, req + off, k);
        off += k;
        wamp1_server_poll(&srv, 0);
        fz_stream_pull(&st, &tp, cl);
    }
    settle();
    REQUIRE(opened <= 1 && requests <= 1);
    if (st.status == 101) {
        REQUIRE(opened == 1);
        check_accept(req, req_len, st.head, st.head_len);
    } else if (st.status) {
        REQUIRE(opened == 0);
        REQUIRE(st.complete);
        REQUIRE(wamp1_testport_server_closed(&tp, cl) != 0);
    } else {
        REQUIRE(opened == 0);
    }

    if (b2 & 0x80) {
        /* the client keeps the connection open and the clock runs */
        for (i = 0; i < 12 && wamp1_testport_server_closed(&tp, cl) != 1; i++) {
            wamp1_server_poll(&srv, 1000);
            fz_stream_pull(&st, &tp, cl);
        }
        if (st.status == 0 || st.status != 101) REQUIRE(wamp1_testport_server_closed(&tp, cl) == 1);
    }
    wamp1_testport_client_eof(&tp, cl);
    for (i = 0; i < 12 && wamp1_testport_server_closed(&tp, cl) != 1; i++) {
        wamp1_server_poll(&srv, 1000);
        fz_stream_pull(&st, &tp, cl);
    }
    REQUIRE(wamp1_testport_server_closed(&tp, cl) == 1);
    {
        wamp1_stats s;
        wamp1_server_stats(&srv, &s);
        REQUIRE(s.connections == 0);
    }
    return 0;
}
