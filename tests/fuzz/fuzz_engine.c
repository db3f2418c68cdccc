/* libFuzzer target: the whole connection engine through the test port, with several
 * clients at once doing what the fuzzer says, for a plain WebSocket echo server and for a
 * WAMP app, with small pools so that the pool-full, reject-slot and attribute paths run.
 *
 *   bash tests/fuzz/run.sh 60        (or build by hand:)
 *   clang -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_engine.c -o build/fuzz/fuzz_engine
 *
 * Input: byte 0 the configuration (bit 0 WAMP app instead of echo, bit 1 keepalive,
 * bit 2 slow-consumer drop policy, bit 3 a small send buffer, bit 4 drop_request,
 * bit 5 the clients leave before the server shuts down), then operations: a byte whose
 * low 4 bits are the operation and high 4 bits the client (mod 6), and its arguments:
 *   0 connect            1 write a handshake         2 write a frame [b0][len][payload]
 *   3 write bytes [len][bytes]                       4 read what the server sent
 *   5 half-close         6 reset                     7 move the clock [n]: n * 16 ms
 *   8 poll               9 forget a client the server closed
 *   10 all clients stop / start reading              11 per-call I/O limit [n]
 *   12 the server closes this client's connection    13 part of a handshake [len]
 *   14 the server pushes (publish, broadcast)        15 connection limit [n]
 *
 * Checks: each client gets at most one HTTP response and after a 101 only valid server
 * frames, nothing after a close frame; the server's counters agree with its slots; when the
 * clients have left, the server closes every socket within its timeouts; after
 * wamp1_server_shutdown no connection slot, reject slot, attribute or WAMP pool entry stays
 * in use and every socket the server accepted is closed. */
#define WAMP1_MAX_CONNECTIONS 3
#define WAMP1_RECV_BUFFER_SIZE 2048
#define WAMP1_SEND_BUFFER_SIZE 4096
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_REJECT_SLOTS 2
#define WAMP1_MAX_ATTRS 4
#define WAMP1_MAX_ATTRS_PER_CONN 2
#define WAMP1_MAX_TOPICS 3
#define WAMP1_MAX_SUBSCRIPTIONS 4
#define WAMP1_MAX_PREFIXES 3
#define WAMP1_MAX_PENDING_CALLS 2
#define WAMP1_JSON_TOKENS 32
#define WAMP1_QUEUE_SLOTS 2
#define WAMP1_TESTPORT_SOCKETS 6
#define WAMP1_TESTPORT_BUFFER (24u * 1024u)
#include "fuzz_common.h"

#define NCLIENTS WAMP1_TESTPORT_SOCKETS

static wamp1_testport tp;
static wamp1_port port;
static wamp1_server srv_plain;
static wamp1_app app;
static wamp1_server *srv;
static uint8_t mem[WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
static uint8_t cfg_bits;
static int opens, closes;

typedef struct client {
    int h;          /* test port handle, 0: none */
    int used;       /* ever accepted by the server */
    fz_stream st;
} client;
static client cls[NCLIENTS];

/* ---- the echo server ---------------------------------------------------------------- */

static void on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *u) {
    (void)u;
    if (op == WAMP1_OP_TEXT && n >= 1 && d[0] == '!') {
        /* attributes: set until the pool is full */
        char key[8];
        snprintf(key, sizeof key, "k%u", (unsigned)(n % 5));
        (void)wamp1_attr_set_bytes(c, key, d, n > 40 ? 40 : n);
        (void)wamp1_attr_set_int(c, "n", (int64_t)n);
        return;
    }
    (void)wamp1_conn_send(c, op, d, n);
}

static void on_open(wamp1_conn *c, void *u) {
    (void)u;
    opens++;
    if (wamp1_attr_set_int(c, "open", 1) == 0) wamp1_conn_set_user(c, c);
}

static void on_close(wamp1_conn *c, int code, void *u) {
    (void)u;
    closes++;
    REQUIRE(code >= 1000 && code < 5000);
    if (wamp1_conn_user(c) == c) REQUIRE(wamp1_attr_type_of(c, "open") == WAMP1_ATTR_INT);
}

/* ---- the WAMP app ------------------------------------------------------------------- */

static wamp1_call_handle deferred[4];
static unsigned ndeferred;

static wamp1_call_status rpc_echo(wamp1_call *call, void *user) {
    unsigned i;
    wamp1_jwriter *w = wamp1_call_result_begin(call);
    (void)user;
    wamp1_jw_array_begin(w);
    for (i = 0; i < call->argc; i++) wamp1_jw_token(w, call->json, &call->toks[wamp1_call_arg(call, i)]);
    wamp1_jw_array_end(w);
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_defer(wamp1_call *call, void *user) {
    (void)user;
    if (ndeferred >= 4) return WAMP1_CALL_INTERNAL;
    deferred[ndeferred] = wamp1_call_defer(call);
    if (deferred[ndeferred].id == 0) return WAMP1_CALL_INTERNAL;
    ndeferred++;
    return WAMP1_CALL_OK;
}

static void answer_deferred(void) {
    unsigned i;
    for (i = 0; i < ndeferred; i++) {
        wamp1_call call;
        if (wamp1_call_resume(&app, deferred[i], &call) == 0) {
            wamp1_jw_int(wamp1_call_result_begin(&call), (int64_t)i);
            wamp1_call_result_end(&call);
        }
    }
    ndeferred = 0;
}

static void posted(wamp1_app *a, void *arg) {
    (void)arg;
    (void)wamp1_app_publish(a, "http://example.com/topic/a", "\"posted\"", 8, NULL);
}

static void app_open(wamp1_app *a, wamp1_conn *c, void *u) {
    (void)a; (void)c; (void)u;
    opens++;
}

static void app_close(wamp1_app *a, wamp1_conn *c, int code, void *u) {
    (void)a; (void)c; (void)u;
    closes++;
    REQUIRE(code >= 1000 && code < 5000);
}

static void app_tick(wamp1_server *s, uint64_t now, void *u) {
    (void)s; (void)u;
    if (now % 3 == 0) answer_deferred();
}

/* ---- setup -------------------------------------------------------------------------- */

static void setup(void) {
    wamp1_config sc;
    memset(&sc, 0, sizeof sc);
    sc.port = &port;
    sc.memory = mem;
    sc.memory_size = sizeof mem;
    sc.handshake_timeout_ms = 1000;
    sc.close_timeout_ms = 400;
    if (cfg_bits & 2) sc.keepalive_ms = 600;
    if (cfg_bits & 4) sc.slow_consumer = WAMP1_SLOW_DROP;
    if (cfg_bits & 8) sc.send_buffer_size = 1024;
    sc.drop_request = (cfg_bits >> 4) & 1;
    if (cfg_bits & 1) {
        static const wamp1_handler h_echo = {rpc_echo, 0, 0, 0, 0}, h_defer = {rpc_defer, 0, 0, 0, 0},
                                   h_topic = {0, 0, 0, 0, 0};
        wamp1_app_config ac;
        memset(&ac, 0, sizeof ac);
        ac.server = sc;
        ac.server.cb.on_tick = app_tick;
        ac.on_open = app_open;
        ac.on_close = app_close;
        REQUIRE(wamp1_app_init(&app, &ac) == 0);
        wamp1_app_add_rpc(&app, "http://example.com/rpc#echo", &h_echo);
        wamp1_app_add_rpc(&app, "http://example.com/rpc#defer", &h_defer);
        wamp1_app_add_topic(&app, "http://example.com/topic/{name}", &h_topic);
        srv = wamp1_app_server(&app);
    } else {
        sc.cb.on_message = on_message;
        sc.cb.on_open = on_open;
        sc.cb.on_close = on_close;
        REQUIRE(wamp1_server_init(&srv_plain, &sc) == 0);
        srv = &srv_plain;
    }
    REQUIRE(wamp1_server_listen(srv) == 0);
}

static void check_counters(void) {
    uint32_t i, used = 0;
    wamp1_stats st;
    for (i = 0; i < srv->nconns; i++) used += srv->conns[i].state != 0;
    wamp1_server_stats(srv, &st);
    REQUIRE(used == srv->open_conns);
    REQUIRE(st.connections == srv->open_conns);
    REQUIRE(st.connections <= WAMP1_MAX_CONNECTIONS);
    REQUIRE(closes <= opens);
}

static void pull(client *c) {
    if (c->h) fz_stream_pull(&c->st, &tp, c->h);
}

static void pull_all(void) {
    int i;
    for (i = 0; i < NCLIENTS; i++) pull(&cls[i]);
}

static void poll_once(int timeout) {
    wamp1_server_poll(srv, timeout);
    if (tp.out_limit == 0) pull_all();
    check_counters();
}

static wamp1_conn *conn_of(int h) {
    uint32_t i;
    for (i = 0; i < srv->nconns; i++)
        if (srv->conns[i].state != 0 && srv->conns[i].sock == h) return &srv->conns[i];
    return NULL;
}

static void write_frame(client *c, fz_in *in) {
    static uint8_t fr[300], pl[256];
    uint8_t b0 = fz_u8(in), key[4] = {0x55, 0x66, 0x77, 0x88};
    size_t len = fz_u8(in), k;
    const uint8_t *p;
    k = fz_take(in, len, &p);
    memcpy(pl, p, k);
    if (k < len) memset(pl + k, 'z', len - k);
    k = fz_frame(fr, b0, pl, len, 1, key, 0);
    wamp1_testport_write(&tp, c->h, fr, k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in;
    int i;
    const char *hs;
    size_t hs_len;

    if (size < 1) return 0;
    in.p = data;
    in.n = size;
    cfg_bits = fz_u8(&in);
    wamp1_testport_init(&tp, &port);
    opens = closes = 0;
    ndeferred = 0;
    memset(cls, 0, sizeof cls);
    setup();
    hs = (cfg_bits & 1) ? fz_upgrade_wamp : fz_upgrade;
    hs_len = (cfg_bits & 1) ? sizeof fz_upgrade_wamp - 1 : sizeof fz_upgrade - 1;

    while (in.n > 0) {
        uint8_t op = fz_u8(&in);
        client *c = &cls[(op >> 4) % NCLIENTS];
        switch (op & 15u) {
        case 0:
            if (!c->h) {
                int h = wamp1_testport_connect(&tp);
                if (h > 0) {
                    memset(c, 0, sizeof *c);
                    c->h = h;
                }
            }
            break;
        case 1: if (c->h) wamp1_testport_write(&tp, c->h, hs, hs_len); break;
        case 2: if (c->h) write_frame(c, &in); else (void)fz_u8(&in); break;
        case 3: {
            const uint8_t *p;
            size_t n = fz_take(&in, fz_u8(&in), &p);
            if (c->h) wamp1_testport_write(&tp, c->h, p, n);
            break;
        }
        case 4: pull(c); break;
        case 5: if (c->h) wamp1_testport_client_eof(&tp, c->h); break;
        case 6: if (c->h) wamp1_testport_client_reset(&tp, c->h); break;
        case 7: tp.now += (uint64_t)fz_u8(&in) * 16u; break;
        case 8: poll_once(0); break;
        case 9:
            if (c->h && wamp1_testport_server_closed(&tp, c->h) == 1) {
                pull(c);
                wamp1_testport_release(&tp, c->h);
                c->h = 0;
            }
            break;
        case 10: tp.out_limit = tp.out_limit ? 0 : 64; break;
        case 11: tp.max_io = fz_u8(&in) % 8u; break;
        case 12: {
            wamp1_conn *k = c->h ? conn_of(c->h) : NULL;
            if (k) wamp1_conn_close(k, 4000 + (op >> 4), "server says bye");
            break;
        }
        case 13: if (c->h) wamp1_testport_write(&tp, c->h, hs, fz_u8(&in) % hs_len); else (void)fz_u8(&in); break;
        case 14:
            if (cfg_bits & 1) {
                if (op & 0x10) (void)wamp1_app_publish(&app, "http://example.com/topic/a", "[1,2]", 5, NULL);
                else if (op & 0x20) (void)wamp1_app_post(&app, posted, NULL);
                else (void)wamp1_app_publish_async(&app, "http://example.com/topic/b", "{}", 2);
            } else {
                wamp1_conn *k;
                static const uint8_t blob[700];
                for (k = wamp1_server_next_conn(srv, NULL); k; k = wamp1_server_next_conn(srv, k))
                    (void)wamp1_conn_send_binary(k, blob, (op & 0x10) ? sizeof blob : 10);
            }
            break;
        case 15: (void)wamp1_server_set_max_connections(srv, fz_u8(&in) % 5u); break;
        }
    }

    tp.max_io = 0;
    if (tp.out_limit) {
        tp.out_limit = 0;
        pull_all();
    }
    if (cfg_bits & 32) {
        /* every client leaves: the server must close every socket within its timeouts */
        for (i = 0; i < NCLIENTS; i++)
            if (cls[i].h) wamp1_testport_client_eof(&tp, cls[i].h);
        for (i = 0; i < 40; i++) {
            poll_once(250);
            tp.now += 100; /* the clock also runs while data keeps coming */
        }
        for (i = 0; i < NCLIENTS; i++) {
            wamp1_testport_sock *k = &tp.socks[i];
            if (k->state == 2) REQUIRE(k->server_closed);
        }
        REQUIRE(srv->open_conns == 0);
    }
    if (cfg_bits & 1) answer_deferred();
    wamp1_server_shutdown(srv, 1000);
    pull_all();
    check_counters();
    REQUIRE(srv->open_conns == 0);
    REQUIRE(wamp1_server_next_conn(srv, NULL) == NULL);
    for (i = 0; i < (int)srv->nconns; i++) REQUIRE(srv->conns[i].state == 0);
    for (i = 0; i < WAMP1_REJECT_SLOTS; i++) REQUIRE(srv->rejects[i].sock == WAMP1_INVALID_SOCKET);
    for (i = 0; i < NCLIENTS; i++) {
        wamp1_testport_sock *k = &tp.socks[i];
        if (k->state == 2) REQUIRE(k->server_closed);
    }
    REQUIRE(!tp.listening);
    REQUIRE(opens == closes);
    {
        /* every attribute record ever used is back on the free list */
        unsigned n = 0;
        wamp1__aix a;
        for (a = srv->attr_free; a != WAMP1__ANIL && n <= WAMP1_MAX_ATTRS; a = srv->attrs[a].next) n++;
        REQUIRE(n == srv->attr_carved);
    }
    if (cfg_bits & 1) {
        wamp1_wamp_stats ws;
        wamp1_app_stats(&app, &ws);
        REQUIRE(ws.topics == 0 && ws.subscriptions == 0 && ws.pending_calls == 0 && ws.prefixes == 0);
    }
    return 0;
}
