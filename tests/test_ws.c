/* Unit tests of the WebSocket engine through the in-memory test port. */
#define WAMP1_MAX_CONNECTIONS 4
#define WAMP1_RECV_BUFFER_SIZE (140u * 1024u)
#define WAMP1_SEND_BUFFER_SIZE (140u * 1024u)
#define WAMP1_IMPLEMENTATION
#include "../wamp1.h"
#include "../port/wamp1_testport.h"
#include "test_util.h"
#include "utf8_vectors.h"

static wamp1_testport tp;
static wamp1_port port;
static wamp1_server srv;
static wamp1_config cfg;

/* what the callbacks saw */
static int ev_open, ev_close, ev_close_code, ev_messages, ev_errors, ev_keepalive;
static wamp1_error ev_last_error;
static uint8_t ev_msg[140u * 1024u];
static size_t ev_msg_len;
static int ev_msg_op;
static int echo_on = 1;

static void cb_open(wamp1_conn *c, void *u) { (void)c; (void)u; ev_open++; }
static void cb_close(wamp1_conn *c, int code, void *u) {
    (void)c; (void)u;
    ev_close++;
    ev_close_code = code;
}
static void cb_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *u) {
    (void)u;
    ev_messages++;
    ev_msg_op = (int)op;
    ev_msg_len = n;
    memcpy(ev_msg, d, n);
    if (echo_on) (void)wamp1_conn_send(c, op, d, n);
}
static void cb_error(wamp1_conn *c, wamp1_error e, const char *why, void *u) {
    (void)c; (void)u; (void)why;
    ev_errors++;
    ev_last_error = e;
}
static void cb_keepalive(wamp1_conn *c, void *u) { (void)c; (void)u; ev_keepalive++; }

static void setup_with(void (*tweak)(wamp1_config *)) {
    wamp1_testport_init(&tp, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.cb.on_open = cb_open;
    cfg.cb.on_close = cb_close;
    cfg.cb.on_message = cb_message;
    cfg.cb.on_error = cb_error;
    cfg.cb.on_keepalive_timeout = cb_keepalive;
    if (tweak) tweak(&cfg);
    {
        static uint8_t mem[WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
        cfg.memory = mem;
        cfg.memory_size = sizeof mem;
    }
    ev_open = ev_close = ev_close_code = ev_messages = ev_errors = ev_keepalive = 0;
    ev_last_error = WAMP1_ERR_NONE;
    echo_on = 1;
    if (wamp1_server_init(&srv, &cfg) != 0 || wamp1_server_listen(&srv) != 0) {
        printf("FAIL: server setup\n");
        exit(1);
    }
}
static void setup(void) { setup_with(NULL); }

static void pump(int rounds) {
    while (rounds-- > 0) wamp1_server_poll(&srv, 0);
}

/* Read everything the server sent to cl (appending to buf). */
static size_t drain(int cl, uint8_t *buf, size_t cap) {
    pump(3);
    return wamp1_testport_read(&tp, cl, buf, cap);
}

static int open_client(void) {
    int cl = wamp1_testport_connect(&tp);
    static uint8_t resp[1024];
    size_t n;
    wamp1_testport_write(&tp, cl, t_upgrade, sizeof t_upgrade - 1);
    n = drain(cl, resp, sizeof resp - 1);
    resp[n] = 0;
    if (strncmp((char *)resp, "HTTP/1.1 101 ", 13) != 0) printf("handshake failed: %s\n", resp);
    return cl;
}

static void send_frame(int cl, unsigned op, int fin, const void *p, size_t n) {
    static uint8_t f[140u * 1024u];
    size_t k = t_frame(f, op, fin, 0, p, n, 1);
    wamp1_testport_write(&tp, cl, f, k);
}

/* Expect the next server frame; returns 1 if it has op and (when p) payload. */
static int expect_frame(int cl, unsigned op, const void *p, size_t n) {
    static uint8_t buf[300u * 1024u];
    static size_t have = 0;
    t_sframe f;
    have += drain(cl, buf + have, sizeof buf - have);
    if (!t_parse_frame(buf, have, &f)) { have = 0; return 0; }
    {
        int ok = f.op == op && f.fin && !f.masked && !f.rsv && (!p || (f.len == n && memcmp(f.payload, p, n) == 0));
        if (!ok) printf("  got op %u len %zu\n", f.op, f.len);
        memmove(buf, buf + f.total, have - f.total);
        have -= f.total;
        return ok;
    }
}

static int expect_close(int cl, int code) {
    static uint8_t buf[64u * 1024u];
    size_t n = drain(cl, buf, sizeof buf), off = 0;
    t_sframe f;
    while (off < n && t_parse_frame(buf + off, n - off, &f)) {
        if (f.op == 8) {
            int got = f.len >= 2 ? (f.payload[0] << 8 | f.payload[1]) : 0;
            if (got != code) printf("  close code %d, expected %d\n", got, code);
            return got == code;
        }
        off += f.total;
    }
    printf("  no close frame (%zu bytes)\n", n);
    return 0;
}

static int http_status(const char *req, size_t n, int max_io) {
    int cl;
    static char resp[4096];
    size_t got, i;
    setup();
    tp.max_io = (size_t)max_io;
    cl = wamp1_testport_connect(&tp);
    for (i = 0; i < n; i++) {
        wamp1_testport_write(&tp, cl, req + i, 1);
        pump(1);
    }
    got = drain(cl, (uint8_t *)resp, sizeof resp - 1);
    resp[got] = 0;
    if (got < 12) return 0;
    return atoi(resp + 9);
}

/* ---- handshake --------------------------------------------------------- */

TEST(test_accept_key) {
    char out[29];
    wamp1_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
    CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
}

TEST(test_sha1_vectors) {
    uint8_t d[20];
    static const uint8_t abc[20] = {0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
                                    0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d};
    static const uint8_t empty[20] = {0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55,
                                      0xbf, 0xef, 0x95, 0x60, 0x18, 0x90, 0xaf, 0xd8, 0x07, 0x09};
    wamp1_sha1("abc", 3, d);
    CHECK(memcmp(d, abc, 20) == 0);
    wamp1_sha1("", 0, d);
    CHECK(memcmp(d, empty, 20) == 0);
}

TEST(test_handshake_ok_and_data_after_header) {
    int cl;
    uint8_t buf[2048];
    size_t n, k;
    setup();
    cl = wamp1_testport_connect(&tp);
    /* request and the first frame in one write: the frame must not be lost */
    memcpy(buf, t_upgrade, sizeof t_upgrade - 1);
    k = sizeof t_upgrade - 1;
    k += t_frame(buf + k, 1, 1, 0, "hi", 2, 1);
    wamp1_testport_write(&tp, cl, buf, k);
    n = drain(cl, buf, sizeof buf - 1);
    buf[n] = 0;
    CHECK(strncmp((char *)buf, "HTTP/1.1 101 Switching Protocols\r\n", 34) == 0);
    CHECK(strstr((char *)buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
    CHECK(strstr((char *)buf, "Sec-WebSocket-Protocol") == NULL);
    CHECK_EQ_INT(ev_open, 1);
    CHECK_EQ_INT(ev_messages, 1);
    CHECK(ev_msg_len == 2 && memcmp(ev_msg, "hi", 2) == 0);
}

TEST(test_handshake_byte_by_byte) {
    int cl;
    size_t i;
    uint8_t buf[1024];
    setup();
    cl = wamp1_testport_connect(&tp);
    for (i = 0; i < sizeof t_upgrade - 1; i++) {
        wamp1_testport_write(&tp, cl, t_upgrade + i, 1);
        pump(1);
    }
    i = drain(cl, buf, sizeof buf - 1);
    buf[i] = 0;
    CHECK(strncmp((char *)buf, "HTTP/1.1 101 ", 13) == 0);
    CHECK_EQ_INT(ev_open, 1);
}

TEST(test_handshake_errors) {
    static const char *host = "Host: a\r\n", *up = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    static const char *kv = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    char req[8192];
    struct { const char *line, *h1, *h2, *h3; int status; } cases[] = {
        {"POST / HTTP/1.1", "Host: a\r\n", "", "", 405},
        {"GET / HTTP/1.0", "Host: a\r\n", "", "", 505},
        {"GET / HTTP/0.9", "Host: a\r\n", "", "", 505},
        {"GET /HTTP/1.1", "Host: a\r\n", "", "", 400},
        {"GET  / HTTP/1.1", "Host: a\r\n", "", "", 400},
        {"GET / HTTP/1.1", "", "", "", 400},                        /* no Host */
        {"GET / HTTP/1.1", "Host: a\r\nHost: b\r\n", "", "", 400},  /* two Host */
        {"GET / HTTP/1.1", "Host: a\r\n", "", "", 426},             /* no Upgrade */
        {"GET / HTTP/1.1", "Host: a\r\nUpgrade: websocket\r\n", "", "", 400}, /* no Connection */
        {"GET / HTTP/1.1", "Host: a\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n", "", "", 400},
        {"GET / HTTP/1.1", "Host: a\r\n", "Upgrade: websocket\r\nConnection: Upgrade\r\n",
         "Sec-WebSocket-Version: 13\r\n", 400},                     /* no key */
        {"GET / HTTP/1.1", "Host: a\r\n", "Upgrade: websocket\r\nConnection: Upgrade\r\n",
         "Sec-WebSocket-Key: AAAA\r\nSec-WebSocket-Version: 13\r\n", 400},
        {"GET / HTTP/1.1", "Host: a\r\n", "Upgrade: websocket\r\nConnection: Upgrade\r\n",
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n", 426},
        {"GET / HTTP/1.1", "Host: a\r\n", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n",
         kv, 400}, /* two keys */
        {"GET / HTTP/1.1", "Host: a\r\n", "Bad Header: x\r\n", "", 400},
        {"GET / HTTP/1.1", "Host: a\r\n", " folded: x\r\n", "", 400},
        {"GET / HTTP/1.1", "Host: a\r\n", "Upgrade: foo, WebSocket\r\nConnection: keep-alive, UPGRADE\r\n", kv, 101},
    };
    size_t i;
    (void)host; (void)up;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st;
        snprintf(req, sizeof req, "%s\r\n%s%s%s\r\n", cases[i].line, cases[i].h1, cases[i].h2, cases[i].h3);
        st = http_status(req, strlen(req), 0);
        if (st != cases[i].status) printf("  case %zu: %d\n", i, st);
        CHECK_EQ_INT(st, cases[i].status);
    }
}

TEST(test_header_too_large) {
    static char req[12000];
    size_t n;
    int st;
    strcpy(req, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    n = strlen(req);
    memset(req + n, 'a', 5000);
    n += 5000;
    memcpy(req + n, "\r\n\r\n", 4);
    n += 4;
    st = http_status(req, n, 0);
    CHECK_EQ_INT(st, 431);
}

TEST(test_error_response_complete) {
    int cl;
    char resp[1024];
    size_t n;
    setup();
    cl = wamp1_testport_connect(&tp);
    wamp1_testport_write(&tp, cl, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27);
    n = drain(cl, (uint8_t *)resp, sizeof resp - 1);
    resp[n] = 0;
    CHECK(strstr(resp, "HTTP/1.1 426 ") == resp);
    CHECK(strstr(resp, "Upgrade: websocket\r\n") != NULL);
    CHECK(strstr(resp, "Sec-WebSocket-Version: 13\r\n") != NULL);
    CHECK(strstr(resp, "Content-Length: ") != NULL);
    CHECK(strstr(resp, "Connection: close\r\n") != NULL);
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 2); /* half-closed after the answer */
    wamp1_testport_client_eof(&tp, cl);
    pump(2);
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 1);
}

static void tweak_wamp(wamp1_config *c) { c->subprotocol = "wamp"; }

TEST(test_subprotocol) {
    char req[1024];
    int st;
    snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Protocol: chat, wamp\r\n\r\n");
    {
        int cl;
        uint8_t buf[1024];
        size_t n;
        setup_with(tweak_wamp);
        cl = wamp1_testport_connect(&tp);
        wamp1_testport_write(&tp, cl, req, strlen(req));
        n = drain(cl, buf, sizeof buf - 1);
        buf[n] = 0;
        CHECK(strstr((char *)buf, "HTTP/1.1 101 ") == (char *)buf);
        CHECK(strstr((char *)buf, "Sec-WebSocket-Protocol: wamp\r\n") != NULL);
    }
    {
        int cl;
        uint8_t buf[1024];
        size_t n;
        setup_with(tweak_wamp);
        cl = wamp1_testport_connect(&tp);
        wamp1_testport_write(&tp, cl, t_upgrade, sizeof t_upgrade - 1);
        n = drain(cl, buf, sizeof buf - 1);
        buf[n] = 0;
        st = atoi((char *)buf + 9);
        CHECK_EQ_INT(st, 426);
    }
}

/* ---- framing ----------------------------------------------------------- */

TEST(test_echo_lengths) {
    static uint8_t payload[70000];
    static const size_t sizes[] = {0, 1, 125, 126, 127, 128, 65535, 65536};
    size_t i;
    for (i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)('a' + i % 26);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int cl;
        setup();
        cl = open_client();
        send_frame(cl, 1, 1, payload, sizes[i]);
        CHECK(expect_frame(cl, 1, payload, sizes[i]));
        send_frame(cl, 2, 1, payload, sizes[i]);
        CHECK(expect_frame(cl, 2, payload, sizes[i]));
    }
}

TEST(test_fragmented_with_ping) {
    int cl;
    setup();
    cl = open_client();
    send_frame(cl, 1, 0, "frag", 4);
    send_frame(cl, 9, 1, "ping!", 5);
    send_frame(cl, 0, 0, "men", 3);
    send_frame(cl, 0, 1, "ted", 3);
    CHECK(expect_frame(cl, 10, "ping!", 5));
    CHECK(expect_frame(cl, 1, "fragmented", 10));
}

TEST(test_byte_by_byte_frames) {
    int cl;
    static uint8_t f[300];
    size_t n, i;
    static char text[200];
    setup();
    cl = open_client();
    memset(text, 'z', sizeof text);
    n = t_frame(f, 1, 1, 0, text, sizeof text, 1);
    for (i = 0; i < n; i++) {
        wamp1_testport_write(&tp, cl, f + i, 1);
        pump(1);
    }
    CHECK(expect_frame(cl, 1, text, sizeof text));
}

TEST(test_protocol_errors) {
    struct { unsigned op; int fin; unsigned rsv; int masked; size_t len; } cases[] = {
        {1, 1, 1, 1, 3}, {1, 1, 4, 1, 3}, {9, 1, 2, 1, 0}, /* RSV */
        {3, 1, 0, 1, 0}, {7, 1, 0, 1, 0}, {11, 1, 0, 1, 0}, {15, 1, 0, 1, 0}, /* opcodes */
        {9, 0, 0, 1, 2},   /* fragmented control */
        {9, 1, 0, 1, 126}, /* long control */
        {0, 1, 0, 1, 3},   /* continuation without a message */
        {1, 1, 0, 0, 3},   /* unmasked */
    };
    static uint8_t buf[300], pl[200];
    size_t i;
    memset(pl, 'x', sizeof pl);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int cl;
        size_t n;
        setup();
        cl = open_client();
        n = t_frame(buf, cases[i].op, cases[i].fin, cases[i].rsv, pl, cases[i].len, cases[i].masked);
        wamp1_testport_write(&tp, cl, buf, n);
        if (!expect_close(cl, 1002)) printf("  protocol case %zu\n", i);
        CHECK_EQ_INT(ev_last_error, WAMP1_ERR_PROTOCOL);
        CHECK_EQ_INT(ev_messages, 0);
    }
}

TEST(test_new_message_inside_fragmented) {
    int cl;
    setup();
    cl = open_client();
    send_frame(cl, 1, 0, "a", 1);
    send_frame(cl, 1, 1, "b", 1);
    CHECK(expect_close(cl, 1002));
}

TEST(test_message_limit_1009) {
    int cl;
    static uint8_t big[5000];
    setup();
    cl = open_client();
    srv.max_message = 4000;
    send_frame(cl, 2, 1, big, 4001);
    CHECK(expect_close(cl, 1009));
    CHECK_EQ_INT(ev_last_error, WAMP1_ERR_TOO_BIG);
    setup();
    cl = open_client();
    srv.max_message = 4000;
    send_frame(cl, 2, 0, big, 3000);
    send_frame(cl, 0, 1, big, 1001);
    CHECK(expect_close(cl, 1009));
}

/* ---- UTF-8 ------------------------------------------------------------- */

TEST(test_utf8_vectors_direct) {
    size_t i;
    for (i = 0; i < UTF8_VECTORS_COUNT; i++) {
        uint32_t st = 0;
        size_t k = wamp1_utf8_validate(&st, utf8_vectors[i].bytes, utf8_vectors[i].len);
        int valid = k == utf8_vectors[i].len && wamp1_utf8_complete(st);
        if (valid != utf8_vectors[i].valid) printf("  vector %s\n", utf8_vectors[i].name);
        CHECK_EQ_INT(valid, utf8_vectors[i].valid);
        if (!utf8_vectors[i].valid && k < utf8_vectors[i].len) CHECK_EQ_INT(k, utf8_vectors[i].fail_at);
        /* byte by byte gives the same answer */
        {
            size_t j;
            uint32_t s2 = 0;
            int bad = 0;
            for (j = 0; j < utf8_vectors[i].len && !bad; j++)
                if (wamp1_utf8_validate(&s2, utf8_vectors[i].bytes + j, 1) != 1) bad = 1;
            CHECK_EQ_INT(!bad && wamp1_utf8_complete(s2), utf8_vectors[i].valid);
        }
    }
}

TEST(test_utf8_through_engine) {
    size_t i;
    for (i = 0; i < UTF8_VECTORS_COUNT; i++) {
        int cl;
        setup();
        cl = open_client();
        send_frame(cl, 1, 1, utf8_vectors[i].bytes, utf8_vectors[i].len);
        if (utf8_vectors[i].valid) CHECK(expect_frame(cl, 1, utf8_vectors[i].bytes, utf8_vectors[i].len));
        else CHECK(expect_close(cl, 1007));
    }
}

TEST(test_utf8_fail_fast) {
    int cl;
    static const uint8_t good[] = {0xce, 0xba, 0xe1, 0xbd, 0xb9};
    static const uint8_t bad[] = {0xed, 0xa0, 0x80};
    setup();
    cl = open_client();
    send_frame(cl, 1, 0, good, sizeof good);
    send_frame(cl, 0, 0, bad, sizeof bad); /* message not finished yet */
    CHECK(expect_close(cl, 1007));
}

/* ---- close ------------------------------------------------------------- */

TEST(test_close_codes) {
    static const int valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999};
    static const int invalid[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535};
    size_t i;
    for (i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        int cl;
        uint8_t p[2];
        setup();
        cl = open_client();
        p[0] = (uint8_t)(valid[i] >> 8); p[1] = (uint8_t)valid[i];
        send_frame(cl, 8, 1, p, 2);
        CHECK(expect_close(cl, valid[i]));
        CHECK_EQ_INT(ev_close_code, 0); /* not closed yet: waiting for the client to close TCP */
        wamp1_testport_client_eof(&tp, cl);
        pump(2);
        CHECK_EQ_INT(ev_close, 1);
        CHECK_EQ_INT(ev_close_code, valid[i]);
    }
    for (i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        int cl;
        uint8_t p[2];
        setup();
        cl = open_client();
        p[0] = (uint8_t)(invalid[i] >> 8); p[1] = (uint8_t)invalid[i];
        send_frame(cl, 8, 1, p, 2);
        CHECK(expect_close(cl, 1002));
    }
}

TEST(test_close_payloads) {
    int cl;
    uint8_t p[130];
    setup();
    cl = open_client();
    send_frame(cl, 8, 1, "", 0);
    CHECK(expect_close(cl, 1000));
    setup();
    cl = open_client();
    send_frame(cl, 8, 1, "\x03", 1);
    CHECK(expect_close(cl, 1002));
    setup();
    cl = open_client();
    p[0] = 0x03; p[1] = 0xe8; p[2] = 0xed; p[3] = 0xa0; p[4] = 0x80;
    send_frame(cl, 8, 1, p, 5);
    CHECK(expect_close(cl, 1002));
    setup();
    cl = open_client();
    p[0] = 0x03; p[1] = 0xe8;
    memset(p + 2, '*', 123);
    send_frame(cl, 8, 1, p, 125);
    CHECK(expect_close(cl, 1000));
}

TEST(test_data_after_close_ignored) {
    int cl;
    uint8_t p[2] = {0x03, 0xe8};
    setup();
    cl = open_client();
    send_frame(cl, 8, 1, p, 2);
    send_frame(cl, 1, 1, "late", 4);
    CHECK(expect_close(cl, 1000));
    CHECK_EQ_INT(ev_messages, 0);
}

TEST(test_server_initiated_close_timeout) {
    int cl;
    wamp1_conn *c;
    setup();
    cl = open_client();
    c = wamp1_server_next_conn(&srv, NULL);
    CHECK(c != NULL);
    wamp1_conn_close(c, 1000, "bye");
    CHECK(expect_close(cl, 1000));
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 0);
    wamp1_server_poll(&srv, WAMP1_CLOSE_TIMEOUT_MS + 10); /* the fake clock runs */
    pump(1);
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 1);
    CHECK_EQ_INT(ev_last_error, WAMP1_ERR_CLOSE_TIMEOUT);
}

/* ---- timers, pools ----------------------------------------------------- */

TEST(test_handshake_timeout) {
    int cl;
    setup();
    cl = wamp1_testport_connect(&tp);
    wamp1_testport_write(&tp, cl, "GET / HTTP/1.1\r\n", 16);
    pump(2);
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 0);
    tp.now += WAMP1_HANDSHAKE_TIMEOUT_MS;
    pump(1);
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 1);
    CHECK_EQ_INT(ev_last_error, WAMP1_ERR_HANDSHAKE_TIMEOUT);
}

static void tweak_keepalive(wamp1_config *c) { c->keepalive_ms = 1000; }

TEST(test_keepalive) {
    int cl, cl2;
    static uint8_t buf[256];
    size_t n;
    t_sframe f;
    setup_with(tweak_keepalive);
    cl = open_client();
    cl2 = open_client();
    tp.now += 1000;
    pump(1);
    n = drain(cl, buf, sizeof buf);
    CHECK(t_parse_frame(buf, n, &f) && f.op == 9);
    n = drain(cl2, buf, sizeof buf);
    CHECK(t_parse_frame(buf, n, &f) && f.op == 9);
    send_frame(cl2, 10, 1, f.payload, f.len); /* cl2 answers, cl does not */
    pump(2);
    tp.now += 1000;
    pump(1);
    CHECK_EQ_INT(ev_keepalive, 1);
    CHECK(expect_close(cl, 1001));
    n = drain(cl2, buf, sizeof buf);
    CHECK(t_parse_frame(buf, n, &f) && f.op == 9); /* cl2 gets its next ping */
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl2), 0);
}

TEST(test_pool_full_503) {
    int cls[WAMP1_MAX_CONNECTIONS], extra, i;
    char resp[512];
    size_t n;
    setup();
    for (i = 0; i < WAMP1_MAX_CONNECTIONS; i++) cls[i] = open_client();
    extra = wamp1_testport_connect(&tp);
    wamp1_testport_write(&tp, extra, t_upgrade, sizeof t_upgrade - 1);
    n = drain(extra, (uint8_t *)resp, sizeof resp - 1);
    resp[n] = 0;
    CHECK(strncmp(resp, "HTTP/1.1 503 ", 13) == 0);
    CHECK_EQ_INT(ev_last_error, WAMP1_ERR_POOL_FULL);
    /* the others keep working */
    send_frame(cls[0], 1, 1, "still here", 10);
    CHECK(expect_frame(cls[0], 1, "still here", 10));
}

TEST(test_handles_detect_stale) {
    int cl;
    wamp1_conn *c;
    wamp1_conn_id id;
    setup();
    cl = open_client();
    c = wamp1_server_next_conn(&srv, NULL);
    id = wamp1_conn_handle(c);
    CHECK(wamp1_conn_lookup(&srv, id) == c);
    wamp1_testport_client_reset(&tp, cl);
    pump(2);
    CHECK(wamp1_conn_lookup(&srv, id) == NULL);
    CHECK_EQ_INT(ev_close, 1);
    CHECK_EQ_INT(ev_close_code, 1006);
}

TEST(test_partial_writes) {
    int cl;
    static uint8_t payload[3000];
    size_t i;
    for (i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)i;
    setup();
    cl = open_client();
    tp.max_io = 7;
    send_frame(cl, 2, 1, payload, sizeof payload);
    pump(2000);
    CHECK(expect_frame(cl, 2, payload, sizeof payload));
}

static void tweak_small_send(wamp1_config *c) { c->send_buffer_size = 4096; }
static void tweak_small_send_drop(wamp1_config *c) { c->send_buffer_size = 4096; c->slow_consumer = WAMP1_SLOW_DROP; }

TEST(test_slow_consumer_close) {
    int cl, i;
    static uint8_t msg[1000];
    setup_with(tweak_small_send);
    cl = open_client();
    tp.out_limit = 1; /* the client stops reading */
    echo_on = 0;
    {
        wamp1_conn *c = wamp1_server_next_conn(&srv, NULL);
        for (i = 0; i < 10; i++) (void)wamp1_conn_send_binary(c, msg, sizeof msg);
    }
    CHECK_EQ_INT(ev_last_error, WAMP1_ERR_SLOW_CONSUMER);
    tp.out_limit = 0;
    CHECK(expect_close(cl, 1008));
}

TEST(test_slow_consumer_drop) {
    int cl, i, sent = 0;
    static uint8_t msg[1000];
    wamp1_stats st;
    setup_with(tweak_small_send_drop);
    cl = open_client();
    tp.out_limit = 1;
    echo_on = 0;
    {
        wamp1_conn *c = wamp1_server_next_conn(&srv, NULL);
        for (i = 0; i < 10; i++) sent += wamp1_conn_send_binary(c, msg, sizeof msg) == 0;
        CHECK(wamp1_conn_is_open(c));
    }
    wamp1_server_stats(&srv, &st);
    CHECK_EQ_INT(st.dropped_messages, 10 - sent);
    CHECK(sent < 10 && sent > 0);
    (void)cl;
}

TEST(test_shutdown_1001) {
    int cl;
    setup();
    cl = open_client();
    wamp1_server_shutdown(&srv, 500);
    CHECK(expect_close(cl, 1001));
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 1);
    CHECK_EQ_INT(ev_close, 1);
}

/* a client that half-closes right after its last message still gets every answer */
TEST(test_half_close_flushes) {
    int cl;
    uint8_t buf[4096];
    size_t n, k;
    setup();
    cl = wamp1_testport_connect(&tp);
    memcpy(buf, t_upgrade, sizeof t_upgrade - 1);
    k = sizeof t_upgrade - 1;
    k += t_frame(buf + k, 1, 1, 0, "last words", 10, 1);
    tp.out_limit = 32; /* the client reads slowly: the answers are still queued at its EOF */
    wamp1_testport_write(&tp, cl, buf, k);
    wamp1_testport_client_eof(&tp, cl);
    n = 0;
    for (k = 0; k < 50; k++) {
        pump(1);
        n += wamp1_testport_read(&tp, cl, buf + n, sizeof buf - n);
    }
    buf[n < sizeof buf ? n : sizeof buf - 1] = 0;
    tp.out_limit = 0;
    CHECK(n > 13 && strncmp((char *)buf, "HTTP/1.1 101 ", 13) == 0);
    {
        uint8_t *e = (uint8_t *)strstr((char *)buf, "\r\n\r\n");
        t_sframe f;
        CHECK(e && t_parse_frame(e + 4, n - (size_t)(e + 4 - buf), &f) && f.op == 1 && f.len == 10 &&
              memcmp(f.payload, "last words", 10) == 0);
    }
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 1);
    CHECK_EQ_INT(ev_close, 1);
    CHECK_EQ_INT(ev_close_code, 1006);
}

/* a client that pipelines many requests and reads slowly: the server stops reading
   while half its send buffer waits, instead of overflowing it (no 1008, nothing lost) */
TEST(test_backpressure) {
    int cl, i;
    static uint8_t burst[80 * 220], got[80 * 220];
    size_t k = 0, n = 0, off = 0;
    int echoes = 0;
    t_sframe f;
    setup_with(tweak_small_send);
    cl = open_client();
    for (i = 0; i < 80; i++) {
        char m[200];
        memset(m, 'a' + i % 26, sizeof m);
        k += t_frame(burst + k, 1, 1, 0, m, sizeof m, 1);
    }
    tp.out_limit = 600;
    wamp1_testport_write(&tp, cl, burst, k);
    for (i = 0; i < 400 && n < sizeof got; i++) {
        pump(1);
        n += wamp1_testport_read(&tp, cl, got + n, 300);
    }
    tp.out_limit = 0;
    while (off < n && t_parse_frame(got + off, n - off, &f)) {
        if (f.op == 1 && f.len == 200) echoes++;
        if (f.op == 8) printf("  closed with %d\n", f.len >= 2 ? f.payload[0] << 8 | f.payload[1] : 0);
        off += f.total;
    }
    CHECK_EQ_INT(echoes, 80);
    CHECK(ev_last_error != WAMP1_ERR_SLOW_CONSUMER);
}

/* a frame begun and never finished is failed with 1008 at the message timeout; a client
   that keeps completing messages is not, however long it stays */
TEST(test_message_timeout) {
    int cl, cl2, i;
    static uint8_t f[300];
    size_t n;
    setup();
    cl = open_client();
    cl2 = open_client();
    n = t_frame(f, 1, 1, 0, "a half-sent frame that never ends", 33, 1);
    wamp1_testport_write(&tp, cl, f, n / 2);
    for (i = 0; i < (int)(WAMP1_MESSAGE_TIMEOUT_MS / 1000) + 2; i++) {
        /* cl2 sends a whole small message every second, in two pieces */
        size_t k = t_frame(f, 1, 1, 0, "tick", 4, 1);
        wamp1_testport_write(&tp, cl2, f, 3);
        pump(1);
        wamp1_testport_write(&tp, cl2, f + 3, k - 3);
        pump(1);
        CHECK(expect_frame(cl2, 1, "tick", 4));
        tp.now += 1000;
        pump(1);
    }
    CHECK(expect_close(cl, 1008));
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl2), 0);
}

/* a client that pipelines complete requests and stops reading is held back by backpressure,
   and that wait does not count as its message being late */
TEST(test_backpressure_no_timeout) {
    int cl, i;
    static uint8_t burst[40 * 220];
    size_t k = 0;
    setup_with(tweak_small_send);
    cl = open_client();
    for (i = 0; i < 40; i++) {
        char m[200];
        memset(m, 'q', sizeof m);
        k += t_frame(burst + k, 1, 1, 0, m, sizeof m, 1);
    }
    tp.out_limit = 1; /* reads nothing for now */
    wamp1_testport_write(&tp, cl, burst, k);
    pump(3);
    tp.now += WAMP1_MESSAGE_TIMEOUT_MS + 1000;
    pump(2);
    CHECK(ev_last_error != WAMP1_ERR_MESSAGE_TIMEOUT);
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 0);
    tp.out_limit = 0;
}

int main(void) {
    RUN(test_accept_key);
    RUN(test_sha1_vectors);
    RUN(test_handshake_ok_and_data_after_header);
    RUN(test_handshake_byte_by_byte);
    RUN(test_handshake_errors);
    RUN(test_header_too_large);
    RUN(test_error_response_complete);
    RUN(test_subprotocol);
    RUN(test_echo_lengths);
    RUN(test_fragmented_with_ping);
    RUN(test_byte_by_byte_frames);
    RUN(test_protocol_errors);
    RUN(test_new_message_inside_fragmented);
    RUN(test_message_limit_1009);
    RUN(test_utf8_vectors_direct);
    RUN(test_utf8_through_engine);
    RUN(test_utf8_fail_fast);
    RUN(test_close_codes);
    RUN(test_close_payloads);
    RUN(test_data_after_close_ignored);
    RUN(test_server_initiated_close_timeout);
    RUN(test_handshake_timeout);
    RUN(test_keepalive);
    RUN(test_pool_full_503);
    RUN(test_handles_detect_stale);
    RUN(test_partial_writes);
    RUN(test_slow_consumer_close);
    RUN(test_slow_consumer_drop);
    RUN(test_shutdown_1001);
    RUN(test_half_close_flushes);
    RUN(test_backpressure);
    RUN(test_message_timeout);
    RUN(test_backpressure_no_timeout);
    return t_summary("ws");
}
