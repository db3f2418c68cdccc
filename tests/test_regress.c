/* Regression tests for defects found by the fuzz targets (tests/fuzz/). Each test feeds the
   exact bytes of the minimized input through the in-memory test port and checks the
   behaviour a correct server shows. */
#define WAMP1_IMPLEMENTATION
#ifdef WAMP1_TEST_HEADER
#include WAMP1_TEST_HEADER
#else
#include "../wamp1.h"
#endif
#include "../port/wamp1_testport.h"
#include "test_util.h"

static wamp1_testport tp;
static wamp1_port port;
static wamp1_server srv;
static uint8_t mem[2u * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];

static void on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *u) {
    (void)u;
    (void)wamp1_conn_send(c, op, d, n);
}

/* An echo server with the library's default limits, or a smaller receive buffer. */
static void setup(uint32_t recv_size, const char *subprotocol) {
    wamp1_config cfg;
    wamp1_testport_init(&tp, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.memory = mem;
    cfg.memory_size = sizeof mem;
    cfg.recv_buffer_size = recv_size;
    cfg.subprotocol = subprotocol;
    cfg.cb.on_message = on_message;
    if (wamp1_server_init(&srv, &cfg) != 0 || wamp1_server_listen(&srv) != 0) {
        printf("FAIL: server setup\n");
        exit(1);
    }
}

static void pump(int rounds) {
    while (rounds-- > 0) wamp1_server_poll(&srv, 0);
}

/* Write the bytes, poll, return what the server answered (NUL-terminated) and its status. */
static int exchange(int cl, const void *req, size_t n, char *resp, size_t cap, size_t *got) {
    size_t k;
    wamp1_testport_write(&tp, cl, req, n);
    pump(4);
    k = wamp1_testport_read(&tp, cl, resp, cap - 1);
    resp[k] = 0;
    if (got) *got = k;
    return k >= 12 && memcmp(resp, "HTTP/1.1 ", 9) == 0 ? atoi(resp + 9) : 0;
}

/* The client half-closes; the fake clock runs past every timeout. 1 when the server closed
   the socket. */
static int closes_after_eof(int cl) {
    int i;
    wamp1_testport_client_eof(&tp, cl);
    for (i = 0; i < 20 && wamp1_testport_server_closed(&tp, cl) != 1; i++)
        wamp1_server_poll(&srv, 1000);
    return wamp1_testport_server_closed(&tp, cl) == 1;
}

/* ---- the request method is case-sensitive -------------------------------------------
   fuzz_http: "GeT" was taken for GET and upgraded (RFC 9110 9.1: method names are
   case-sensitive; RFC 6455 4.2.1 asks for a GET). Input (config 0x01: subprotocol "wamp"
   required; pieces of 1-16 bytes), the request bytes: */
static const char req_get_mixed_case[] =
    "GeT /ws?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: chat, wamp\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

TEST(test_method_case_sensitive) {
    static char resp[2048];
    static char req[512];
    int cl, st;
    setup(0, "wamp");
    cl = wamp1_testport_connect(&tp);
    st = exchange(cl, req_get_mixed_case, sizeof req_get_mixed_case - 1, resp, sizeof resp, NULL);
    CHECK_EQ_INT(st, 405);
    CHECK(closes_after_eof(cl));

    memcpy(req, req_get_mixed_case, sizeof req_get_mixed_case);
    memcpy(req, "get", 3);
    setup(0, "wamp");
    cl = wamp1_testport_connect(&tp);
    st = exchange(cl, req, sizeof req_get_mixed_case - 1, resp, sizeof resp, NULL);
    CHECK_EQ_INT(st, 405);

    memcpy(req, "GET", 3);
    setup(0, "wamp");
    cl = wamp1_testport_connect(&tp);
    st = exchange(cl, req, sizeof req_get_mixed_case - 1, resp, sizeof resp, NULL);
    CHECK_EQ_INT(st, 101);
}

/* ---- a kept upgrade request must leave room to read on ------------------------------
   fuzz_http: the upgrade request is kept at the top of the receive buffer
   (wamp1_conn_request). A request nearly as long as the buffer left no room below it:
   the connection could not read a whole control frame, and with no room at all not even
   the end of the stream, so it stayed open forever (no timer runs on an open connection
   without keepalive), whatever the client did. */

static size_t padded_upgrade(char *out, size_t total) {
    static const char head[] =
        "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Pad: ";
    size_t n = sizeof head - 1;
    memcpy(out, head, n);
    memset(out + n, 'a', total - n - 4);
    memcpy(out + total - 4, "\r\n\r\n", 4);
    return total;
}

/* A masked ping with 100 zero bytes of payload, as the fuzz input had it. */
static size_t ping100(uint8_t *out) {
    static const uint8_t zero[100];
    return t_frame(out, 9, 1, 0, zero, sizeof zero, 1);
}

/* Either the request is refused, or the connection works: the ping is answered. And when
   the client leaves, the server closes the socket. */
static void check_not_stuck(uint32_t recv_size, size_t req_len) {
    static char req[8192], resp[8192];
    static uint8_t ping[200];
    size_t got, pn = ping100(ping);
    int cl, st;
    setup(recv_size, NULL);
    cl = wamp1_testport_connect(&tp);
    padded_upgrade(req, req_len);
    st = exchange(cl, req, req_len, resp, sizeof resp, &got);
    if (st == 101) {
        uint8_t buf[256];
        t_sframe f;
        size_t k;
        wamp1_testport_write(&tp, cl, ping, pn);
        pump(4);
        k = wamp1_testport_read(&tp, cl, buf, sizeof buf);
        CHECK(t_parse_frame(buf, k, &f) && f.op == 10 && f.len == 100);
    } else {
        CHECK_EQ_INT(st, 431);
    }
    CHECK(closes_after_eof(cl));
}

TEST(test_kept_request_default_buffers) {
    /* the library defaults: a 4096-byte receive buffer and header limit */
    check_not_stuck(0, WAMP1_RECV_BUFFER_SIZE);
    check_not_stuck(0, WAMP1_RECV_BUFFER_SIZE - 100);
    check_not_stuck(0, WAMP1_RECV_BUFFER_SIZE - 256);
    check_not_stuck(0, 200);
}

TEST(test_kept_request_small_buffer) {
    /* the fuzz inputs: a 1024-byte receive buffer, requests of 1024 and 1000 bytes (the
       second one followed by the ping in the same write) */
    static char req[2048], resp[2048];
    static uint8_t ping[200];
    size_t n, pn;
    int cl, st;
    check_not_stuck(1024, 1024);

    setup(1024, NULL);
    cl = wamp1_testport_connect(&tp);
    n = padded_upgrade(req, 1000);
    pn = ping100(ping);
    memcpy(req + n, ping, pn);
    st = exchange(cl, req, n + pn, resp, sizeof resp, &n);
    if (st == 101) {
        t_sframe f;
        char *body = strstr(resp, "\r\n\r\n");
        CHECK(body != NULL);
        if (body) {
            size_t off = (size_t)(body + 4 - resp);
            CHECK(t_parse_frame((uint8_t *)resp + off, n - off, &f) && f.op == 10 && f.len == 100);
        }
    } else {
        CHECK_EQ_INT(st, 431);
    }
    CHECK(closes_after_eof(cl));
}

/* ---- an open in-place message must come back inside the send buffer ----------------
   fuzz_wamp (rpc#mixed "AdcE"): while an answer is written in place, its bytes are parked
   at the top of the send buffer when another frame is queued, and put back behind that
   frame, 10 bytes up (room for its frame header). A control frame may take the send
   buffer's last bytes (it skips the reserve kept for them), so a close frame queued after a
   data frame that nearly filled the buffer left less than those 10 bytes: putting the
   message back wrote up to 10 bytes past the end of the send buffer, into the next
   connection's receive buffer or past the memory block. The test gives the server exactly
   one connection's memory followed by a guard area that must stay untouched. */

#define GUARD 64
static uint8_t one_conn[WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE + GUARD];
static long inplace_slack;
static int inplace_end_rc = 99;

static void on_message_inplace(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *u) {
    static char fill[WAMP1_SEND_BUFFER_SIZE];
    char reason[124];
    wamp1_frame_writer fw;
    wamp1_jwriter *w;
    long room;
    (void)op; (void)d; (void)n; (void)u;
    memset(fill, 'f', sizeof fill);
    memset(reason, 'r', 123);
    reason[123] = 0;
    w = wamp1_conn_json_begin(c, &fw);                 /* the open message: 102 bytes */
    if (!w) return;
    wamp1_jw_string(w, fill, 100);
    /* a binary frame (4-byte header) that leaves `slack` bytes beside the open message */
    room = (long)wamp1_conn_send_space(c) - (long)(w->len + 10) - 4 - inplace_slack;
    if (room > 0) (void)wamp1_conn_send_binary(c, fill, (size_t)room);
    wamp1_conn_close(c, 4000, reason);                 /* a 127-byte close frame */
    inplace_end_rc = wamp1_conn_json_end(&fw);
}

TEST(test_inplace_message_stays_in_buffer) {
    long slack;
    for (slack = -14; slack <= 2; slack++) {
        wamp1_config cfg;
        uint8_t f[64], junk[8192];
        size_t k, i;
        int cl, intact = 1;
        memset(one_conn + sizeof one_conn - GUARD, 0xA5, GUARD);
        wamp1_testport_init(&tp, &port);
        memset(&cfg, 0, sizeof cfg);
        cfg.port = &port;
        cfg.memory = one_conn;
        cfg.memory_size = sizeof one_conn - GUARD;
        cfg.cb.on_message = on_message_inplace;
        if (wamp1_server_init(&srv, &cfg) != 0 || wamp1_server_listen(&srv) != 0) {
            printf("FAIL: server setup\n");
            exit(1);
        }
        inplace_slack = slack;
        inplace_end_rc = 99;
        cl = wamp1_testport_connect(&tp);
        wamp1_testport_write(&tp, cl, t_upgrade, sizeof t_upgrade - 1);
        pump(3);
        (void)wamp1_testport_read(&tp, cl, junk, sizeof junk);
        k = t_frame(f, 1, 1, 0, "go", 2, 1);
        wamp1_testport_write(&tp, cl, f, k);
        pump(3);
        for (i = sizeof one_conn - GUARD; i < sizeof one_conn; i++)
            if (one_conn[i] != 0xA5) intact = 0;
        if (!intact) printf("  slack %ld: bytes written past the send buffer\n", slack);
        CHECK(intact);
        CHECK(inplace_end_rc == -1); /* closed meanwhile: nothing is queued */
        CHECK(closes_after_eof(cl));
    }
}

/* ---- an outer in-place message written to and ended while an inner one is open -------
   fuzz_wamp (rpc#mixed "ABAtgE"): the answer's writer still pointed where its bytes had
   been before they were parked, so writing to it scribbled over the inner message and the
   frame queued meanwhile (the client got ["]z",""]); ending it out of order then left it
   on the connection's stack. Now writes to a parked writer are refused (it overflows) and
   an out-of-order end drops that message alone. */
static int outer_end_rc = 99, inner_end_rc = 99;

static void on_message_outer_inner(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *u) {
    wamp1_frame_writer fa, fb;
    wamp1_jwriter *wa, *wb;
    (void)op; (void)d; (void)n; (void)u;
    wa = wamp1_conn_json_begin(c, &fa);
    if (!wa) return;
    wamp1_jw_array_begin(wa);
    wamp1_jw_string(wa, "outer", 5);
    wb = wamp1_conn_json_begin(c, &fb);            /* parks the outer message */
    wamp1_jw_array_begin(wb);
    wamp1_jw_string(wb, "inner", 5);
    (void)wamp1_conn_send_text(c, "[\"between\"]", 11);
    wamp1_jw_string(wa, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", 30); /* misuse: the outer one is parked */
    wamp1_jw_array_end(wa);
    outer_end_rc = wamp1_conn_json_end(&fa);       /* misuse: out of order */
    wamp1_jw_array_end(wb);
    inner_end_rc = wamp1_conn_json_end(&fb);
}

TEST(test_outer_writer_misuse) {
    wamp1_config cfg;
    uint8_t f[64], junk[8192], out[8192];
    size_t k, n, off = 0;
    int cl, texts = 0, between = 0, inner = 0;
    wamp1_testport_init(&tp, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.memory = mem;
    cfg.memory_size = sizeof mem;
    cfg.cb.on_message = on_message_outer_inner;
    if (wamp1_server_init(&srv, &cfg) != 0 || wamp1_server_listen(&srv) != 0) {
        printf("FAIL: server setup\n");
        exit(1);
    }
    cl = wamp1_testport_connect(&tp);
    wamp1_testport_write(&tp, cl, t_upgrade, sizeof t_upgrade - 1);
    pump(3);
    (void)wamp1_testport_read(&tp, cl, junk, sizeof junk);
    k = t_frame(f, 1, 1, 0, "go", 2, 1);
    wamp1_testport_write(&tp, cl, f, k);
    pump(3);
    n = wamp1_testport_read(&tp, cl, out, sizeof out);
    while (off < n) {
        t_sframe fr;
        if (!t_parse_frame(out + off, n - off, &fr)) break;
        if (fr.op == 1) {
            texts++;
            if (fr.len == 11 && memcmp(fr.payload, "[\"between\"]", 11) == 0) between++;
            if (fr.len == 9 && memcmp(fr.payload, "[\"inner\"]", 9) == 0) inner++;
        }
        off += fr.total;
    }
    CHECK_EQ_INT(off, n);          /* every byte belongs to a well-formed frame */
    CHECK_EQ_INT(texts, 2);        /* the outer message is dropped */
    CHECK_EQ_INT(between, 1);
    CHECK_EQ_INT(inner, 1);
    CHECK_EQ_INT(outer_end_rc, -1);
    CHECK_EQ_INT(inner_end_rc, 0);
    CHECK(wamp1_server_next_conn(&srv, NULL) != NULL);
}

int main(void) {
    RUN(test_method_case_sensitive);
    RUN(test_kept_request_default_buffers);
    RUN(test_kept_request_small_buffer);
    RUN(test_inplace_message_stays_in_buffer);
    RUN(test_outer_writer_misuse);
    return t_summary("regress");
}
