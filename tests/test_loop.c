/* Unit tests of the loop: timers, watched sockets, lent buffers, per-connection keepalive,
   and the slots and handles of the connection pool. Through the in-memory test port, as a
   readiness-list port and (built with -DWAMP1_TESTPORT_EVENTS) as an event-driven one. */
#define WAMP1_MAX_CONNECTIONS 6
#define WAMP1_RECV_BUFFER_SIZE 4096
#define WAMP1_SEND_BUFFER_SIZE 4096
#define WAMP1_MAX_TIMERS 4
#define WAMP1_MAX_WATCHES 2
#define WAMP1_IMPLEMENTATION
#include "../wamp1.h"
#include "../port/wamp1_testport.h"
#include "test_util.h"

static wamp1_testport tp;
static wamp1_port port;
static wamp1_server srv;
static wamp1_config cfg;
static uint8_t mem[WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
static int ev_messages, ev_errors, ev_limit_errors, ev_open, ev_close;
static wamp1_error ev_last_error;
static char ev_last_why[160];

static void cb_open(wamp1_conn *c, void *u) { (void)c; (void)u; ev_open++; }
static void cb_close(wamp1_conn *c, int code, void *u) { (void)c; (void)code; (void)u; ev_close++; }
static void cb_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *u) {
    (void)u;
    ev_messages++;
    (void)wamp1_conn_send(c, op, d, n); /* echo */
}
static void cb_error(wamp1_conn *c, wamp1_error e, const char *why, void *u) {
    (void)c; (void)u; (void)why;
    ev_errors++;
    ev_last_error = e;
    snprintf(ev_last_why, sizeof ev_last_why, "%s", why);
    if (e == WAMP1_ERR_LIMIT) ev_limit_errors++;
}

/* a server over the test port with these buffer counts (0: one per connection), keepalive
   and small receive buffers (0: none) */
static void setup_full(uint32_t recv_buffers, uint32_t send_buffers, uint32_t keepalive_ms, uint32_t small) {
    wamp1_testport_init(&tp, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.cb.on_open = cb_open;
    cfg.cb.on_close = cb_close;
    cfg.cb.on_message = cb_message;
    cfg.cb.on_error = cb_error;
    cfg.recv_buffers = recv_buffers;
    cfg.send_buffers = send_buffers;
    cfg.keepalive_ms = keepalive_ms;
    cfg.recv_small_size = small;
    cfg.drop_request = small == 0; /* the small-buffer tests keep it */
    cfg.memory = mem;
    cfg.memory_size = sizeof mem;
    ev_messages = ev_errors = ev_limit_errors = ev_open = ev_close = 0;
    ev_last_error = WAMP1_ERR_NONE;
    if (wamp1_server_init(&srv, &cfg) != 0 || wamp1_server_listen(&srv) != 0) {
        printf("FAIL: server setup\n");
        exit(1);
    }
}

static void setup_with(uint32_t recv_buffers, uint32_t send_buffers, uint32_t keepalive_ms) {
    setup_full(recv_buffers, send_buffers, keepalive_ms, 0);
}

static void pump(int rounds) {
    while (rounds-- > 0) wamp1_server_poll(&srv, 0);
}

static int open_client(void) {
    int cl = wamp1_testport_connect(&tp);
    static uint8_t resp[1024];
    size_t n;
    wamp1_testport_write(&tp, cl, t_upgrade, sizeof t_upgrade - 1);
    pump(3);
    n = wamp1_testport_read(&tp, cl, resp, sizeof resp - 1);
    resp[n] = 0;
    if (strncmp((char *)resp, "HTTP/1.1 101 ", 13) != 0) printf("  handshake failed: %s\n", resp);
    return cl;
}

static void send_frame(int cl, unsigned op, int fin, const void *p, size_t n) {
    static uint8_t f[8192];
    size_t k = t_frame(f, op, fin, 0, p, n, 1);
    wamp1_testport_write(&tp, cl, f, k);
}

/* The next server frame to cl is a text frame with this payload. */
static int expect_text(int cl, const char *text) {
    static uint8_t buf[8192];
    size_t n = wamp1_testport_read(&tp, cl, buf, sizeof buf);
    t_sframe f;
    if (!t_parse_frame(buf, n, &f)) { printf("  no frame (%zu bytes)\n", n); return 0; }
    if (f.op != 1 || f.len != strlen(text) || memcmp(f.payload, text, f.len) != 0) {
        printf("  got op %u len %zu\n", f.op, f.len);
        return 0;
    }
    return 1;
}

static void stats(wamp1_stats *st) { wamp1_server_stats(&srv, st); }

/* ---- timers ------------------------------------------------------------- */

static int fired[8];
static uint64_t fired_at[8];
static wamp1_timer_id self_stop;

static void on_timer(wamp1_server *s, wamp1_timer_id t, void *user) {
    int k = (int)(intptr_t)user;
    (void)t;
    fired[k]++;
    fired_at[k] = wamp1_server_now(s);
    if (k == 3 && fired[k] == 2) CHECK_EQ_INT(wamp1_timer_stop(s, self_stop), 0); /* stops itself */
}

TEST(test_timer_one_shot_and_periodic) {
    wamp1_timer_id a, b, c;
    setup_with(0, 0, 0);
    memset(fired, 0, sizeof fired);
    a = wamp1_timer_start(&srv, 200, 0, on_timer, (void *)(intptr_t)0);
    b = wamp1_timer_start(&srv, 100, 100, on_timer, (void *)(intptr_t)1);
    c = wamp1_timer_start(&srv, 50, 0, on_timer, (void *)(intptr_t)2);
    CHECK(a.id != 0 && b.id != 0 && c.id != 0);
    CHECK_EQ_INT(wamp1_timer_stop(&srv, c), 0); /* stopped before it fires */
    CHECK_EQ_INT(wamp1_timer_stop(&srv, c), -1); /* twice: the handle is stale */
    tp.now += 99;
    pump(1);
    CHECK_EQ_INT(fired[0] + fired[1] + fired[2], 0);
    tp.now += 1;
    pump(1);
    CHECK_EQ_INT(fired[1], 1);
    CHECK_EQ_INT(fired[0], 0);
    tp.now += 100;
    pump(1);
    CHECK_EQ_INT(fired[0], 1);
    CHECK_EQ_INT(fired[1], 2);
    CHECK_EQ_INT((int)(fired_at[0] - 1000), 200);
    CHECK_EQ_INT(wamp1_timer_stop(&srv, a), -1); /* a one-shot timer ended when it fired */
    tp.now += 300;
    pump(1);
    CHECK_EQ_INT(fired[0], 1);
    CHECK_EQ_INT(fired[1], 3); /* late: one run, not three to catch up */
    CHECK_EQ_INT(fired[2], 0);
    CHECK_EQ_INT(wamp1_timer_stop(&srv, b), 0);
    tp.now += 1000;
    pump(1);
    CHECK_EQ_INT(fired[1], 3);
}

TEST(test_timer_wait_and_pool) {
    wamp1_timer_id t[WAMP1_MAX_TIMERS + 1];
    int i;
    setup_with(0, 0, 0);
    memset(fired, 0, sizeof fired);
    /* a poll with a long timeout returns when the timer is due (the fake clock runs) */
    t[0] = wamp1_timer_start(&srv, 250, 0, on_timer, (void *)(intptr_t)0);
    wamp1_server_poll(&srv, 10000);
    pump(1);
    CHECK_EQ_INT(fired[0], 1);
    CHECK_EQ_INT((int)(tp.now - 1000), 250);
    for (i = 0; i < WAMP1_MAX_TIMERS; i++) {
        t[i] = wamp1_timer_start(&srv, 10, 0, on_timer, (void *)(intptr_t)4);
        CHECK(t[i].id != 0);
    }
    t[i] = wamp1_timer_start(&srv, 10, 0, on_timer, (void *)(intptr_t)4);
    CHECK_EQ_INT((int)t[i].id, 0);
    CHECK_EQ_INT(ev_last_error, WAMP1_ERR_LIMIT);
    tp.now += 10;
    pump(1);
    CHECK_EQ_INT(fired[4], WAMP1_MAX_TIMERS);
    /* a periodic timer that stops itself from its own callback */
    self_stop = wamp1_timer_start(&srv, 5, 5, on_timer, (void *)(intptr_t)3);
    for (i = 0; i < 5; i++) { tp.now += 5; pump(1); }
    CHECK_EQ_INT(fired[3], 2);
}

/* ---- watched sockets ----------------------------------------------------- */

static int watch_calls;
static unsigned watch_last;
static wamp1_socket watch_sock;

static void on_watch(wamp1_server *s, wamp1_socket sock, unsigned events, void *user) {
    char buf[64];
    (void)s;
    (void)user;
    watch_calls++;
    watch_last = events;
    watch_sock = sock;
    if (events & WAMP1_POLLIN) (void)port.recv(port.ctx, sock, buf, sizeof buf);
}

TEST(test_watch_other_socket) {
    int a, b, c;
    setup_with(0, 0, 0);
    watch_calls = 0;
    a = wamp1_testport_socket(&tp);
    b = wamp1_testport_socket(&tp);
    c = wamp1_testport_socket(&tp);
    CHECK_EQ_INT(wamp1_watch(&srv, a, WAMP1_POLLIN, on_watch, NULL), 0);
    CHECK_EQ_INT(wamp1_watch(&srv, a, WAMP1_POLLIN, on_watch, NULL), -1); /* already watched */
    CHECK_EQ_INT(wamp1_watch(&srv, b, WAMP1_POLLIN, on_watch, NULL), 0);
    CHECK_EQ_INT(wamp1_watch(&srv, c, WAMP1_POLLIN, on_watch, NULL), -1); /* table full */
    pump(2);
    CHECK_EQ_INT(watch_calls, 0); /* nothing to read yet */
    wamp1_testport_write(&tp, a, "ping", 4);
    pump(1);
    CHECK_EQ_INT(watch_calls, 1);
    CHECK_EQ_INT((int)watch_sock, a);
    CHECK_EQ_INT((int)watch_last, WAMP1_POLLIN);
    pump(2);
    CHECK_EQ_INT(watch_calls, 1); /* read: no longer ready */
    CHECK_EQ_INT(wamp1_watch_events(&srv, b, WAMP1_POLLOUT), 0);
    pump(1);
    CHECK_EQ_INT(watch_calls, 2);
    CHECK_EQ_INT((int)watch_sock, b);
    CHECK_EQ_INT((int)watch_last, WAMP1_POLLOUT);
    CHECK_EQ_INT(wamp1_unwatch(&srv, b), 0);
    CHECK_EQ_INT(wamp1_unwatch(&srv, b), -1);
    CHECK_EQ_INT(wamp1_watch(&srv, c, WAMP1_POLLIN, on_watch, NULL), 0); /* the slot is free again */
    pump(2);
    CHECK_EQ_INT(watch_calls, 2);
    /* a WebSocket client works beside the watched sockets */
    {
        int cl = open_client();
        send_frame(cl, 1, 1, "hello", 5);
        wamp1_testport_write(&tp, c, "x", 1);
        pump(2);
        CHECK(expect_text(cl, "hello"));
        CHECK_EQ_INT(watch_calls, 3);
        CHECK_EQ_INT((int)watch_sock, c);
    }
    CHECK_EQ_INT(wamp1_unwatch(&srv, a), 0);
    CHECK_EQ_INT(wamp1_unwatch(&srv, c), 0);
}

/* ---- lent buffers ---------------------------------------------------------- */

TEST(test_idle_connection_holds_no_buffer) {
    int cl;
    wamp1_stats st;
    uint8_t f[64];
    size_t k;
    setup_with(0, 0, 0);
    cl = open_client();
    pump(2);
    stats(&st);
    CHECK_EQ_INT((int)st.recv_buffers_used, 0);
    CHECK_EQ_INT((int)st.send_buffers_used, 0);
    CHECK_EQ_INT((int)st.recv_buffers_max, WAMP1_MAX_CONNECTIONS);
    /* half a frame: the receive buffer stays lent until the rest comes */
    k = t_frame(f, 1, 1, 0, "partial", 7, 1);
    wamp1_testport_write(&tp, cl, f, 5);
    pump(2);
    stats(&st);
    CHECK_EQ_INT((int)st.recv_buffers_used, 1);
    wamp1_testport_write(&tp, cl, f + 5, k - 5);
    pump(2);
    CHECK(expect_text(cl, "partial"));
    stats(&st);
    CHECK_EQ_INT((int)st.recv_buffers_used, 0);
    CHECK_EQ_INT((int)st.send_buffers_used, 0);
    /* output the client does not take: the send buffer stays lent until it drains */
    tp.out_limit = 4;
    send_frame(cl, 1, 1, "0123456789", 10);
    pump(2);
    stats(&st);
    CHECK_EQ_INT((int)st.send_buffers_used, 1);
    tp.out_limit = 0;
    {
        uint8_t got[64];
        size_t n = wamp1_testport_read(&tp, cl, got, sizeof got);
        pump(2);
        n += wamp1_testport_read(&tp, cl, got + n, sizeof got - n);
        CHECK_EQ_INT((int)n, 12);
        CHECK(n == 12 && memcmp(got + 2, "0123456789", 10) == 0);
    }
    stats(&st);
    CHECK_EQ_INT((int)st.send_buffers_used, 0);
}

TEST(test_kept_request_pins_until_released) {
    int cl;
    wamp1_stats st;
    wamp1_request req;
    wamp1_conn *c;
    setup_with(0, 0, 0);
    srv.cfg.drop_request = 0;
    cl = open_client();
    (void)cl;
    pump(2);
    stats(&st);
    CHECK_EQ_INT((int)st.recv_buffers_used, 1);
    c = wamp1_server_next_conn(&srv, NULL);
    CHECK(c != NULL);
    CHECK_EQ_INT(wamp1_conn_request(c, &req), 0);
    wamp1_conn_release_request(c);
    CHECK_EQ_INT(wamp1_conn_request(c, &req), -1);
    pump(1);
    stats(&st);
    CHECK_EQ_INT((int)st.recv_buffers_used, 0);
}

/* One receive buffer for three connections, each sending a message in pieces: they take
   turns, and every message arrives whole. */
TEST(test_recv_pool_empty_pauses_reading) {
    int cl[3], i;
    wamp1_stats st;
    uint8_t f[3][64];
    size_t k[3];
    const char *msg[3] = {"first message", "second message", "third message"};
    setup_with(1, 0, 0);
    for (i = 0; i < 3; i++) cl[i] = open_client();
    for (i = 0; i < 3; i++) {
        k[i] = t_frame(f[i], 1, 1, 0, msg[i], strlen(msg[i]), 1);
        wamp1_testport_write(&tp, cl[i], f[i], 6); /* header and two bytes */
    }
    pump(3);
    stats(&st);
    CHECK_EQ_INT((int)st.recv_buffers_used, 1);
    CHECK_EQ_INT((int)st.recv_buffers_max, 1);
    CHECK(st.buffer_waits >= 1);
    for (i = 0; i < 3; i++) wamp1_testport_write(&tp, cl[i], f[i] + 6, k[i] - 6);
    pump(8);
    for (i = 0; i < 3; i++) CHECK(expect_text(cl[i], msg[i]));
    CHECK_EQ_INT(ev_messages, 3);
    stats(&st);
    CHECK_EQ_INT((int)st.recv_buffers_used, 0);
    CHECK_EQ_INT((int)st.connections, 3);
}

/* A connection closed while it waits for a buffer leaves the wait list; the others still
   get their turn. */
TEST(test_closed_while_waiting) {
    int cl[3], i;
    uint8_t f[3][64];
    size_t k[3];
    wamp1_conn *b;
    setup_with(1, 0, 0);
    for (i = 0; i < 3; i++) cl[i] = open_client();
    for (i = 0; i < 3; i++) {
        k[i] = t_frame(f[i], 1, 1, 0, "abcdefgh", 8, 1);
        wamp1_testport_write(&tp, cl[i], f[i], 4);
    }
    pump(3); /* the first holds the buffer, the others wait */
    b = wamp1_server_next_conn(&srv, NULL);
    b = wamp1_server_next_conn(&srv, b);
    wamp1_conn_close(b, 1000, NULL);
    tp.now += WAMP1_CLOSE_TIMEOUT_MS;
    pump(3);
    CHECK_EQ_INT(ev_close, 1);
    for (i = 0; i < 3; i++) wamp1_testport_write(&tp, cl[i], f[i] + 4, k[i] - 4);
    pump(6);
    CHECK(expect_text(cl[0], "abcdefgh"));
    CHECK(expect_text(cl[2], "abcdefgh"));
    CHECK_EQ_INT(ev_messages, 2);
    {
        wamp1_stats st;
        stats(&st);
        CHECK_EQ_INT((int)st.recv_buffers_used, 0);
        CHECK_EQ_INT((int)st.connections, 2);
    }
}

/* One send buffer: a client that does not read holds it; another's request waits (its
   input is not read) until the buffer comes back, and is answered then. */
TEST(test_send_pool_empty_pauses_reading) {
    int a, b;
    wamp1_stats st;
    uint8_t got[256];
    size_t n;
    setup_with(0, 1, 0);
    a = open_client();
    b = open_client();
    tp.out_limit = 1; /* nobody reads more than a byte */
    send_frame(a, 1, 1, "held", 4);
    pump(2);
    stats(&st);
    CHECK_EQ_INT((int)st.send_buffers_used, 1);
    send_frame(b, 1, 1, "waits", 5);
    pump(3);
    CHECK_EQ_INT(ev_messages, 1); /* b's message is not even read */
    tp.out_limit = 0;
    n = wamp1_testport_read(&tp, a, got, sizeof got);
    pump(4);
    n += wamp1_testport_read(&tp, a, got + n, sizeof got - n);
    CHECK(n == 6 && memcmp(got + 2, "held", 4) == 0);
    CHECK_EQ_INT(ev_messages, 2);
    CHECK(expect_text(b, "waits"));
    stats(&st);
    CHECK_EQ_INT((int)st.send_buffers_used, 0);
    CHECK_EQ_INT(ev_limit_errors, 0);
}

/* Output for a third connection while the only send buffer is held: the slow-consumer
   policy applies (here: drop and count), reported as a full pool; nothing else breaks. */
static wamp1_conn *third;
static void cb_message_fanout(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *u) {
    (void)u;
    ev_messages++;
    (void)wamp1_conn_send(c, op, d, n);
    if (third) (void)wamp1_conn_send(third, op, d, n);
}

TEST(test_send_pool_empty_for_others) {
    int a, b;
    wamp1_stats st;
    setup_with(0, 1, 0);
    srv.cfg.slow_consumer = WAMP1_SLOW_DROP;
    srv.cfg.cb.on_message = cb_message_fanout;
    a = open_client();
    b = open_client();
    third = wamp1_server_next_conn(&srv, NULL);
    third = wamp1_server_next_conn(&srv, third); /* b */
    tp.out_limit = 1;
    send_frame(a, 1, 1, "to both", 7);
    pump(3);
    CHECK(ev_limit_errors >= 1);
    stats(&st);
    CHECK_EQ_INT((int)st.dropped_messages, 1);
    CHECK_EQ_INT((int)st.connections, 2);
    tp.out_limit = 0;
    pump(3);
    {
        uint8_t got[64];
        size_t n = wamp1_testport_read(&tp, a, got, sizeof got);
        CHECK(n == 9 && memcmp(got + 2, "to both", 7) == 0);
        n = wamp1_testport_read(&tp, b, got, sizeof got);
        CHECK_EQ_INT((int)n, 0);
    }
    third = NULL;
}

/* Small receive buffers: reads start in one; a message beyond it moves to a full-size
   buffer (the kept request too), which goes back when the message has been handled. */
static char big[4096];

static void setup_small(uint32_t small, uint32_t large_count) {
    setup_full(large_count, 0, 0, small);
}

TEST(test_small_buffers_grow) {
    int cl, i;
    wamp1_stats st;
    wamp1_request req;
    static uint8_t f[4096];
    size_t k;
    for (i = 0; i < (int)sizeof big - 1; i++) big[i] = (char)('a' + i % 26);
    setup_small(300, 2);
    CHECK_EQ_INT((int)wamp1_server_memory_size(&cfg),
                 2 * WAMP1_RECV_BUFFER_SIZE + WAMP1_MAX_CONNECTIONS * (WAMP1_SEND_BUFFER_SIZE + 300));
    cl = open_client(); /* a 158-byte request kept in a 300-byte buffer */
    pump(2);
    stats(&st);
    CHECK_EQ_INT((int)st.recv_small_used, 1);
    CHECK_EQ_INT((int)st.recv_buffers_used, 0);
    CHECK_EQ_INT((int)st.recv_small_max, WAMP1_MAX_CONNECTIONS);
    /* a 2000-byte message: on to a full-size buffer, the request with it */
    k = t_frame(f, 1, 1, 0, big, 2000, 1);
    wamp1_testport_write(&tp, cl, f, 100);
    pump(2);
    wamp1_testport_write(&tp, cl, f + 100, k - 100);
    pump(3);
    {
        static uint8_t got[4096];
        size_t n = wamp1_testport_read(&tp, cl, got, sizeof got);
        t_sframe sf;
        CHECK(t_parse_frame(got, n, &sf) && sf.len == 2000 && memcmp(sf.payload, big, 2000) == 0);
    }
    CHECK_EQ_INT(wamp1_conn_request(wamp1_server_next_conn(&srv, NULL), &req), 0);
    CHECK(req.path_len == 5 && memcmp(req.path, "/chat", 5) == 0);
    stats(&st);
    CHECK_EQ_INT((int)st.recv_small_used, 0);
    CHECK_EQ_INT((int)st.recv_buffers_used, 1); /* pinned by the kept request */
    wamp1_conn_release_request(wamp1_server_next_conn(&srv, NULL));
    pump(1);
    stats(&st);
    CHECK_EQ_INT((int)st.recv_buffers_used, 0);
    /* small messages stay in small buffers */
    send_frame(cl, 1, 1, "tiny", 4);
    pump(2);
    CHECK(expect_text(cl, "tiny"));
    stats(&st);
    CHECK_EQ_INT((int)(st.recv_small_used + st.recv_buffers_used), 0);
    /* beyond the full-size limit: 1009 as before */
    k = t_frame(f, 1, 1, 0, big, WAMP1_RECV_BUFFER_SIZE - 200, 1);
    wamp1_testport_write(&tp, cl, f, 20);
    pump(2);
    CHECK_EQ_INT(ev_last_error, WAMP1_ERR_TOO_BIG);
}

/* One full-size buffer for two connections with large messages: the second waits for it. */
TEST(test_small_buffers_wait_for_large) {
    int cl[2], i;
    static uint8_t f[2][4096];
    size_t k[2];
    wamp1_stats st;
    setup_small(300, 1);
    srv.cfg.drop_request = 1;
    for (i = 0; i < 2; i++) cl[i] = open_client();
    for (i = 0; i < 2; i++) {
        k[i] = t_frame(f[i], 1, 1, 0, big + i, 1500, 1);
        wamp1_testport_write(&tp, cl[i], f[i], 200);
    }
    pump(3);
    stats(&st);
    CHECK_EQ_INT((int)st.recv_buffers_used, 1);
    CHECK(st.buffer_waits >= 1);
    for (i = 0; i < 2; i++) wamp1_testport_write(&tp, cl[i], f[i] + 200, k[i] - 200);
    pump(8);
    for (i = 0; i < 2; i++) {
        static uint8_t got[4096];
        size_t n = wamp1_testport_read(&tp, cl[i], got, sizeof got);
        t_sframe sf;
        CHECK(t_parse_frame(got, n, &sf) && sf.len == 1500 && memcmp(sf.payload, big + i, 1500) == 0);
    }
    CHECK_EQ_INT(ev_messages, 2);
    CHECK_EQ_INT(ev_errors, 0);
    stats(&st);
    CHECK_EQ_INT((int)(st.recv_small_used + st.recv_buffers_used), 0);
}

/* A header block larger than a small buffer moves to a full-size one. */
TEST(test_small_buffers_long_request) {
    int cl;
    static char req[1200];
    char resp[256];
    size_t n;
    setup_small(300, 1);
    n = (size_t)snprintf(req, sizeof req, "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\nX-Pad: %0600d\r\n\r\n", 0);
    cl = wamp1_testport_connect(&tp);
    wamp1_testport_write(&tp, cl, req, n);
    pump(4);
    n = wamp1_testport_read(&tp, cl, resp, sizeof resp - 1);
    resp[n] = 0;
    CHECK(strncmp(resp, "HTTP/1.1 101 ", 13) == 0);
    CHECK_EQ_INT(ev_open, 1);
}

/* ---- keepalive and slots ------------------------------------------------- */

TEST(test_keepalive_per_connection) {
    int a, b;
    uint8_t buf[64];
    t_sframe f;
    size_t n;
    setup_with(0, 0, 1000);
    a = open_client();
    tp.now += 500;
    b = open_client();
    tp.now += 500; /* a's ping is due, b's is not */
    pump(2);
    n = wamp1_testport_read(&tp, a, buf, sizeof buf);
    CHECK(t_parse_frame(buf, n, &f) && f.op == 9);
    CHECK_EQ_INT((int)wamp1_testport_read(&tp, b, buf, sizeof buf), 0);
    tp.now += 500;
    pump(2);
    n = wamp1_testport_read(&tp, b, buf, sizeof buf);
    CHECK(t_parse_frame(buf, n, &f) && f.op == 9);
    /* neither answers: a is closed at 2000, b at 2500 */
    tp.now += 500;
    pump(2);
    CHECK_EQ_INT(ev_last_error, WAMP1_ERR_KEEPALIVE);
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, b), 0);
    CHECK(wamp1_testport_server_closed(&tp, a) != 0);
}

TEST(test_slots_and_handles) {
    int cl[WAMP1_MAX_CONNECTIONS], i, extra;
    wamp1_conn *c;
    wamp1_conn_id old;
    setup_with(0, 0, 0);
    for (i = 0; i < WAMP1_MAX_CONNECTIONS; i++) cl[i] = open_client();
    CHECK_EQ_INT(ev_open, WAMP1_MAX_CONNECTIONS);
    extra = wamp1_testport_connect(&tp); /* the pool is full: 503 */
    pump(2);
    {
        char resp[64];
        size_t n = wamp1_testport_read(&tp, extra, resp, sizeof resp - 1);
        resp[n] = 0;
        CHECK(strncmp(resp, "HTTP/1.1 503", 12) == 0);
    }
    c = wamp1_server_next_conn(&srv, NULL);
    old = wamp1_conn_handle(c);
    CHECK(wamp1_conn_lookup(&srv, old) == c);
    wamp1_testport_client_eof(&tp, cl[0]);
    pump(4);
    CHECK_EQ_INT(ev_close, 1);
    CHECK(wamp1_conn_lookup(&srv, old) == NULL); /* stale handle */
    wamp1_testport_release(&tp, cl[0]);
    wamp1_testport_release(&tp, extra);
    cl[0] = open_client(); /* the freed slot is used again, under a new generation */
    CHECK_EQ_INT(ev_open, WAMP1_MAX_CONNECTIONS + 1);
    c = wamp1_server_next_conn(&srv, NULL);
    CHECK(wamp1_conn_handle(c).id != old.id && (wamp1_conn_handle(c).id & 0xFFFFu) == (old.id & 0xFFFFu));
    for (i = 0; i < WAMP1_MAX_CONNECTIONS; i++) {
        send_frame(cl[i], 1, 1, "x", 1);
    }
    pump(3);
    for (i = 0; i < WAMP1_MAX_CONNECTIONS; i++) CHECK(expect_text(cl[i], "x"));
    CHECK_EQ_INT(wamp1_server_shutdown(&srv, 100), 0);
    CHECK_EQ_INT(ev_close, WAMP1_MAX_CONNECTIONS + 1);
}

/* After a shutdown, a new server on the same port object: nothing of the old one stays
   watched (the event-driven test port counts a second registration as misuse). */
TEST(test_restart_on_same_port) {
    int cl;
    setup_with(0, 0, 0);
    cl = open_client();
    (void)cl;
    CHECK_EQ_INT(wamp1_server_shutdown(&srv, 100), 0);
    CHECK_EQ_INT(wamp1_server_init(&srv, &cfg), 0);
    CHECK_EQ_INT(wamp1_server_listen(&srv), 0);
    cl = open_client();
    send_frame(cl, 1, 1, "again", 5);
    pump(2);
    CHECK(expect_text(cl, "again"));
    CHECK_EQ_INT((int)tp.watch_errors, 0);
}

/* init refuses a configuration out loud: -1, and the error hook hears WAMP1_ERR_CONFIG
   with a reason that names what to change */
static int init_refused(const char *needle) {
    int rc;
    ev_errors = 0;
    ev_last_error = WAMP1_ERR_NONE;
    ev_last_why[0] = 0;
    rc = wamp1_server_init(&srv, &cfg);
    if (rc != -1 || ev_errors != 1 || ev_last_error != WAMP1_ERR_CONFIG || !strstr(ev_last_why, needle)) {
        printf("  init: rc %d, %d errors, last %d \"%s\" (wanted \"%s\")\n", rc, ev_errors,
               (int)ev_last_error, ev_last_why, needle);
        return 0;
    }
    return 1;
}

TEST(test_init_says_why) {
    static uint8_t tiny[100];
    setup_with(0, 0, 0);
    CHECK_EQ_INT(wamp1_server_shutdown(&srv, 10), 0);
    cfg.recv_buffer_size = 300;
    CHECK(init_refused("recv_buffer_size"));
    cfg.recv_buffer_size = 0;
    cfg.recv_small_size = 100;
    CHECK(init_refused("recv_small_size"));
    cfg.recv_small_size = 0;
    cfg.memory = tiny;
    cfg.memory_size = sizeof tiny;
    CHECK(init_refused("one connection"));
    cfg.recv_buffers = 2;
    CHECK(init_refused("buffer counts"));
    cfg.recv_buffers = 0;
    cfg.port = NULL;
    CHECK(init_refused("port"));
    cfg.port = &port;
    cfg.memory = mem; /* and with a sane configuration it starts */
    cfg.memory_size = sizeof mem;
    CHECK_EQ_INT(wamp1_server_init(&srv, &cfg), 0);
    CHECK_EQ_INT(wamp1_server_shutdown(&srv, 10), 0);
}

/* Init, shutdown, init again on the built-in buffer block: the server, then a WAMP app. */
TEST(test_restart_static_block) {
    static wamp1_app app;
    wamp1_app_config acfg;
    static const wamp1_handler broker = {0, 0, 0, 0, 0};
    int round, cl;
    for (round = 0; round < 2; round++) {
        setup_with(0, 0, 0);
        CHECK_EQ_INT(wamp1_server_shutdown(&srv, 10), 0);
        cfg.memory = NULL;
        cfg.memory_size = 0;
        CHECK_EQ_INT(wamp1_server_init(&srv, &cfg), 0);
        CHECK_EQ_INT(wamp1_server_listen(&srv), 0);
        cl = open_client();
        send_frame(cl, 1, 1, "static", 6);
        pump(2);
        CHECK(expect_text(cl, "static"));
        CHECK_EQ_INT(wamp1_server_shutdown(&srv, 10), 0);
    }
    for (round = 0; round < 2; round++) {
        uint8_t buf[256];
        size_t n;
        wamp1_testport_init(&tp, &port);
        memset(&acfg, 0, sizeof acfg);
        acfg.server.port = &port;
        acfg.lenient_subprotocol = 1;
        CHECK_EQ_INT(wamp1_app_init(&app, &acfg), 0);
        CHECK_EQ_INT(wamp1_app_add_topic(&app, "http://x/t", &broker), 0);
        CHECK_EQ_INT(wamp1_app_listen(&app), 0);
        cl = wamp1_testport_connect(&tp);
        wamp1_testport_write(&tp, cl, t_upgrade, sizeof t_upgrade - 1);
        {
            int i;
            for (i = 0; i < 3; i++) wamp1_app_poll(&app, 0);
        }
        n = wamp1_testport_read(&tp, cl, buf, sizeof buf - 1);
        buf[n] = 0;
        CHECK(n > 129 && strncmp((char *)buf, "HTTP/1.1 101 ", 13) == 0 && strstr((char *)buf + 129, "[0,\"") != NULL);
        CHECK_EQ_INT(wamp1_app_shutdown(&app, 10), 0);
    }
}

/* Every setup call beyond its table fails and tells the error hook which limit it met. */
static const char *last_why;
static void app_error(wamp1_app *a, wamp1_conn *c, wamp1_error e, const char *why, void *u) {
    (void)a; (void)c; (void)u;
    ev_last_error = e;
    last_why = why;
}

TEST(test_setup_limits_reported) {
    static wamp1_app app;
    wamp1_app_config acfg;
    static const wamp1_handler h = {0, 0, 0, 0, 0};
    int i, rc = 0;
    wamp1_testport_init(&tp, &port);
    memset(&acfg, 0, sizeof acfg);
    acfg.server.port = &port;
    acfg.server.memory = mem;
    acfg.server.memory_size = sizeof mem;
    acfg.on_error = app_error;
    CHECK_EQ_INT(wamp1_app_init(&app, &acfg), 0);
    ev_last_error = WAMP1_ERR_NONE;
    for (i = 0; i < WAMP1_MAX_ROUTES && rc == 0; i++) rc = wamp1_app_add_rpc(&app, "http://x/p", &h);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(ev_last_error, WAMP1_ERR_NONE);
    CHECK_EQ_INT(wamp1_app_add_rpc(&app, "http://x/one-too-many", &h), -1);
    CHECK_EQ_INT(ev_last_error, WAMP1_ERR_LIMIT);
    CHECK(last_why && strstr(last_why, "WAMP1_MAX_ROUTES") != NULL);
    for (i = 0; i < WAMP1_MAX_HANDLERS; i++) (void)wamp1_app_add_handler(&app, "h", &h);
    CHECK_EQ_INT(wamp1_app_add_handler(&app, "h", &h), -1);
    CHECK(last_why && strstr(last_why, "WAMP1_MAX_HANDLERS") != NULL);
    for (i = 0; i < WAMP1_MAX_LISTENERS; i++) CHECK_EQ_INT(wamp1_app_listen(&app), 0);
    CHECK_EQ_INT(wamp1_app_listen(&app), -1);
    CHECK(last_why && strstr(last_why, "WAMP1_MAX_LISTENERS") != NULL);
    CHECK_EQ_INT(wamp1_app_shutdown(&app, 10), 0);
}

/* A loop with idle connections does nothing for them: no read, no write, no timer. */
TEST(test_idle_costs_nothing) {
    int cl[4], i;
    unsigned long recvs, sends;
    setup_with(0, 0, 0);
    for (i = 0; i < 4; i++) cl[i] = open_client();
    pump(2);
    recvs = tp.recvs;
    sends = tp.sends;
    for (i = 0; i < 50; i++) wamp1_server_poll(&srv, 0);
    CHECK_EQ_INT((int)(tp.recvs - recvs), 0);
    CHECK_EQ_INT((int)(tp.sends - sends), 0);
    CHECK_EQ_INT((int)srv.nheap, 0);
    send_frame(cl[2], 1, 1, "one", 3);
    pump(1);
    CHECK(expect_text(cl[2], "one"));
    CHECK(tp.recvs - recvs <= 3); /* the active connection alone */
}

int main(void) {
    RUN(test_timer_one_shot_and_periodic);
    RUN(test_timer_wait_and_pool);
    RUN(test_watch_other_socket);
    RUN(test_idle_connection_holds_no_buffer);
    RUN(test_kept_request_pins_until_released);
    RUN(test_recv_pool_empty_pauses_reading);
    RUN(test_closed_while_waiting);
    RUN(test_send_pool_empty_pauses_reading);
    RUN(test_send_pool_empty_for_others);
    RUN(test_small_buffers_grow);
    RUN(test_small_buffers_wait_for_large);
    RUN(test_small_buffers_long_request);
    RUN(test_keepalive_per_connection);
    RUN(test_slots_and_handles);
    RUN(test_idle_costs_nothing);
    RUN(test_restart_on_same_port);
    RUN(test_init_says_why);
    RUN(test_restart_static_block);
    RUN(test_setup_limits_reported);
    return t_summary("loop");
}
