/* libFuzzer target: the WAMP v1 layer (message parser, PREFIX/CURIE, pub/sub, publish
 * rules, deferred calls) with two sessions, through the test port.
 *
 *   bash tests/fuzz/run.sh 60        (or build by hand:)
 *   clang -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_wamp.c -o build/fuzz/fuzz_wamp
 *
 * Input: byte 0 the app configuration (bit 0 strict, bit 1 curie_hash_join, bit 2
 * publish_include_publisher, bit 3 lenient subprotocol, bit 4 keepalive, bit 5 the
 * slow-consumer drop policy), then records
 *     [op] [len: 1 byte, or 2 for kind 4] [message]
 * op bit 7: session 0 or 1; bits 4-6 the kind: 0-3 a text message (kind 1: sent as two
 * fragments, kind 2: not polled before the next record), 4 a text message with a 16-bit
 * length, 5 answer the deferred calls, 6 advance the clock by (op & 15) * 250 ms,
 * 7 the session closes and a new one takes its place. Bytes that are not UTF-8 become '?'.
 *
 * Checks: every server message is a text frame holding valid JSON of a type a server sends
 * (WELCOME first and once, then CALLRESULT, CALLERROR, EVENT) with the right shape; each
 * CALLRESULT/CALLERROR answers a CALL this session sent, at most once per CALL (rpc#mixed
 * also sends binary frames and ["fz", ...] messages, which are skipped); EVENTs go
 * only to sessions that subscribed; after both sessions close, the topic, subscription,
 * prefix and pending-call pools are empty (stats and free lists) and stale deferred-call
 * handles are refused. */
#define WAMP1_MAX_CONNECTIONS 3
#define WAMP1_RECV_BUFFER_SIZE 4096
#define WAMP1_SEND_BUFFER_SIZE 4096
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_MAX_TOPICS 4
#define WAMP1_MAX_SUBSCRIPTIONS 6
#define WAMP1_MAX_URI 64
#define WAMP1_MAX_PREFIXES 4
#define WAMP1_MAX_PREFIXES_PER_CONN 3
#define WAMP1_MAX_PREFIX_URI 48
#define WAMP1_MAX_PENDING_CALLS 3
#define WAMP1_MAX_CALLID 16
#define WAMP1_JSON_TOKENS 48
#define WAMP1_MAX_PARAMS 2
#define WAMP1_TESTPORT_SOCKETS 4
#define WAMP1_TESTPORT_BUFFER (32u * 1024u)
#include "fuzz_common.h"

static wamp1_testport tp;
static wamp1_port port;
static wamp1_app app;
static uint8_t mem[WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
static uint8_t cfg_bits;

#define R "http://example.com/"

/* ---- the client's view of a session ------------------------------------------------ */

#define MAX_CALLS 256
typedef struct session {
    int cl;                /* test port handle */
    fz_stream st;
    int welcomed, subscribed;
    unsigned ncalls;
    struct { char id[80]; uint8_t len; int open; } calls[MAX_CALLS];
} session;

static session sess[2];
static int idle_cl;
static wamp1_json_tok ctoks[1024];

/* Remember the callID of a CALL the client sends: parsed with the server's limits, so that
   a CALL with too many tokens, which the server still answers, is counted too. */
static void note_client_message(session *s, const uint8_t *m, size_t n) {
    const char *j = (const char *)m;
    const wamp1_json_tok *t = ctoks;
    int nt, full, valid;
    int64_t ty;
    /* the token-free validator agrees with the tokenizer */
    full = wamp1_json_parse(j, n, ctoks, 1024, WAMP1_JSON_DEPTH, NULL);
    valid = wamp1_json_validate(j, n, WAMP1_JSON_DEPTH);
    if (full != WAMP1_JSON_ETOKENS) REQUIRE((full >= 1) == (valid == 0));
    nt = wamp1_json_parse(j, n, ctoks, WAMP1_JSON_TOKENS, WAMP1_JSON_DEPTH, NULL);
    if (nt == WAMP1_JSON_ETOKENS) {
        if (t[0].type != WAMP1_JSON_ARRAY || t[1].type != WAMP1_JSON_NUMBER || t[1].len != 1 ||
            (m[t[1].start] != '2' && m[t[1].start] != '5'))
            return;
        ty = m[t[1].start] - '0';
    } else {
        if (nt < 2 || t[0].type != WAMP1_JSON_ARRAY || t[0].size < 2 || t[1].type != WAMP1_JSON_NUMBER ||
            wamp1_json_get_int(j, &t[1], &ty) != 0)
            return;
    }
    if (ty == WAMP1_MSG_SUBSCRIBE) s->subscribed = 1;
    /* [2, callID, ...]: the server answers every CALL that has a string callID */
    if (ty != WAMP1_MSG_CALL || (nt >= 0 && nt < 3) || t[2].type != WAMP1_JSON_STRING ||
        s->ncalls >= MAX_CALLS)
        return;
    if (t[2].len + 2 <= sizeof s->calls[0].id) {
        memcpy(s->calls[s->ncalls].id, m + t[2].start - 1, t[2].len + 2);
        s->calls[s->ncalls].len = (uint8_t)(t[2].len + 2);
    } else s->calls[s->ncalls].len = 0; /* too long to keep: matches one long answer */
    s->calls[s->ncalls].open = 1;
    s->ncalls++;
}

static wamp1_json_tok stoks[1024];

static void on_server_frame(void *ctx, const fz_sframe *f) {
    session *s = (session *)ctx;
    const char *j = (const char *)f->payload;
    const wamp1_json_tok *t = stoks;
    int nt, a;
    int64_t ty;
    if (f->op == 9) {
        /* answer keepalive pings */
        uint8_t fr[140];
        static const uint8_t key[4] = {1, 2, 3, 4};
        size_t n = fz_frame(fr, 0x8A, f->payload, f->len, 1, key, 0);
        wamp1_testport_write(&tp, s->cl, fr, n);
        return;
    }
    if (getenv("FZ_DEBUG"))
        fprintf(stderr, "session %d <- op %u: %.*s\n", (int)(s - sess), f->op,
                f->op == 8 ? 0 : (int)(f->len > 200 ? 200 : f->len), (const char *)f->payload);
    if (f->op == 8 || f->op == 10 || f->op == 2) return; /* binary: rpc#mixed filler */
    REQUIRE(f->op == 1);
    nt = wamp1_json_parse(j, f->len, stoks, 1024, 64, NULL);
    REQUIRE(nt >= 1);
    if (t[0].type == WAMP1_JSON_ARRAY && t[0].size >= 1 && wamp1_json_str_eq(j, &t[1], "fz", 2))
        return; /* rpc#mixed's own messages */
    REQUIRE(t[0].type == WAMP1_JSON_ARRAY && t[0].size >= 2);
    REQUIRE(t[1].type == WAMP1_JSON_NUMBER && wamp1_json_get_int(j, &t[1], &ty) == 0);
    if (!s->welcomed) {
        REQUIRE(ty == WAMP1_MSG_WELCOME);
        REQUIRE(t[0].size == 4 && t[2].type == WAMP1_JSON_STRING && t[2].len == WAMP1_SESSION_ID_LEN);
        REQUIRE(t[3].type == WAMP1_JSON_NUMBER && t[3].len == 1 && j[t[3].start] == '1');
        REQUIRE(t[4].type == WAMP1_JSON_STRING);
        s->welcomed = 1;
        return;
    }
    switch (ty) {
    case WAMP1_MSG_CALLRESULT:
    case WAMP1_MSG_CALLERROR: {
        unsigned i;
        int found = 0;
        size_t idl;
        if (ty == WAMP1_MSG_CALLRESULT) REQUIRE(t[0].size == 3);
        else {
            REQUIRE(t[0].size == 4 || t[0].size == 5);
            a = wamp1_json_array_get(t, nt, 0, 2);
            REQUIRE(a > 0 && t[a].type == WAMP1_JSON_STRING);
            a = wamp1_json_array_get(t, nt, 0, 3);
            REQUIRE(a > 0 && t[a].type == WAMP1_JSON_STRING);
        }
        REQUIRE(t[2].type == WAMP1_JSON_STRING);
        idl = t[2].len + 2;
        for (i = 0; i < s->ncalls && !found; i++) {
            if (!s->calls[i].open) continue;
            if ((s->calls[i].len == idl && memcmp(s->calls[i].id, j + t[2].start - 1, idl) == 0) ||
                (s->calls[i].len == 0 && idl > sizeof s->calls[0].id)) {
                s->calls[i].open = 0;
                found = 1;
            }
        }
        REQUIRE(found); /* an answer to a CALL that was sent, and not answered before */
        break;
    }
    case WAMP1_MSG_EVENT:
        REQUIRE(t[0].size == 3 && t[2].type == WAMP1_JSON_STRING);
        REQUIRE(t[2].len < WAMP1_MAX_URI + 64);
        REQUIRE(s->subscribed);
        break;
    default:
        REQUIRE(0 && "a message type the server must not send");
    }
}

/* ---- the application ---------------------------------------------------------------- */

#define MAX_DEFERRED 8
static wamp1_call_handle deferred[MAX_DEFERRED];
static unsigned ndeferred;
static wamp1_call_handle stale[64];
static unsigned nstale;

static void write_args(wamp1_call *call, wamp1_jwriter *w) {
    unsigned i;
    wamp1_jw_array_begin(w);
    for (i = 0; i < call->argc; i++) {
        int a = wamp1_call_arg(call, i);
        REQUIRE(a > 0 && a < call->ntoks);
        wamp1_jw_token(w, call->json, &call->toks[a]);
    }
    wamp1_jw_array_end(w);
}

static wamp1_call_status rpc_echo(wamp1_call *call, void *user) {
    (void)user;
    REQUIRE(call->conn && call->uri_len < sizeof app.uri);
    write_args(call, wamp1_call_result_begin(call));
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_defer(wamp1_call *call, void *user) {
    wamp1_call_handle h;
    (void)user;
    if (ndeferred >= MAX_DEFERRED) return WAMP1_CALL_INTERNAL;
    h = wamp1_call_defer(call);
    if (h.id == 0) return WAMP1_CALL_INTERNAL;
    /* a second defer of the same call must not take another slot */
    REQUIRE(wamp1_call_defer(call).id == 0);
    deferred[ndeferred++] = h;
    return WAMP1_CALL_OK;
}

static void answer_deferred(void) {
    unsigned i;
    for (i = 0; i < ndeferred; i++) {
        wamp1_call call;
        if (wamp1_call_resume(&app, deferred[i], &call) == 0) {
            if (i & 1) {
                wamp1_jw_int(wamp1_call_result_begin(&call), (int64_t)i);
                wamp1_call_result_end(&call);
            } else {
                wamp1_jw_string(wamp1_call_error_begin(&call, R "error#late", "deferred"), "x", 1);
                wamp1_call_error_end(&call);
            }
            /* the handle is used up */
            REQUIRE(wamp1_call_resume(&app, deferred[i], &call) != 0);
        }
        if (nstale < 64) stale[nstale++] = deferred[i];
    }
    ndeferred = 0;
}

static wamp1_call_status rpc_error(wamp1_call *call, void *user) {
    int a = wamp1_call_arg(call, 0);
    wamp1_jwriter *w = wamp1_call_error_begin(call, R "error#fail", "requested");
    (void)user;
    if (a > 0) wamp1_jw_token(w, call->json, &call->toks[a]);
    else wamp1_jw_null(w);
    wamp1_call_error_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_publish(wamp1_call *call, void *user) {
    char topic[WAMP1_MAX_URI + 1], full[WAMP1_MAX_URI + 1];
    size_t tl;
    int fl, ev;
    const wamp1_json_tok *t;
    (void)user;
    if (call->argc != 2) return WAMP1_CALL_INVALID_ARGUMENT;
    t = &call->toks[wamp1_call_arg(call, 0)];
    ev = wamp1_call_arg(call, 1);
    if (t->type != WAMP1_JSON_STRING || wamp1_json_unescape(call->json, t, topic, sizeof topic, &tl) != 0)
        return WAMP1_CALL_INVALID_ARGUMENT;
    fl = wamp1_conn_resolve_curie(call->conn, topic, tl, full, sizeof full);
    if (fl < 0) return WAMP1_CALL_INVALID_ARGUMENT;
    {
        const wamp1_json_tok *e = &call->toks[ev];
        const char *src = call->json + e->start - (e->type == WAMP1_JSON_STRING ? 1 : 0);
        size_t len = e->len + (e->type == WAMP1_JSON_STRING ? 2u : 0u);
        (void)wamp1_app_publish(call->app, full, src, len, NULL);
    }
    wamp1_jw_null(wamp1_call_result_begin(call));
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_big(wamp1_call *call, void *user) {
    static char big[9000];
    int a = wamp1_call_arg(call, 0);
    int64_t n = 100;
    (void)user;
    if (a > 0) (void)wamp1_json_get_int(call->json, &call->toks[a], &n);
    if (n < 0 || n > (int64_t)sizeof big) n = 10;
    memset(big, 'b', (size_t)n);
    wamp1_jw_string(wamp1_call_result_begin(call), big, (size_t)n);
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_user(wamp1_call *call, void *user) {
    size_t n;
    const char *id = wamp1_match_get(call->match, "id", &n);
    (void)user;
    REQUIRE(id && n > 0);
    REQUIRE(id >= call->uri && id + n <= call->uri + call->uri_len);
    wamp1_jw_string(wamp1_call_result_begin(call), id, n);
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_named(wamp1_call *call, void *user) {
    (void)call; (void)user;
    wamp1_jw_bool(wamp1_call_result_begin(call), 1);
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_noanswer(wamp1_call *call, void *user) {
    (void)call; (void)user;
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_status(wamp1_call *call, void *user) {
    (void)call; (void)user;
    return call->argc ? WAMP1_CALL_INVALID_ARGUMENT : WAMP1_CALL_INTERNAL;
}

static wamp1_call_status rpc_twice(wamp1_call *call, void *user) {
    (void)user;
    wamp1_jw_int(wamp1_call_result_begin(call), 1);
    wamp1_call_result_end(call);
    /* a second answer is refused and sends nothing */
    REQUIRE(wamp1_call_error(call, R "error#again", "again") != 0);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_closeme(wamp1_call *call, void *user) {
    (void)user;
    wamp1_conn_close(call->conn, 4001, "asked to");
    /* answering now writes nothing after the close frame */
    wamp1_jw_null(wamp1_call_result_begin(call));
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

/* rpc#mixed [ops, la, slack, rl]: other sends while an answer is written in place. Each
   letter of ops: A begin the answer and write la bytes, B begin another in-place message,
   e end it, d a binary frame that leaves `slack` bytes beside the open message, t a small
   text message, c close with a reason of rl bytes, E end the answer. Messages other than
   the answer are ["fz", ...] or binary, which the client ignores. */
static wamp1_call_status rpc_mixed(wamp1_call *call, void *user) {
    static char fill[5000], ops[17];
    wamp1_frame_writer fb;
    wamp1_jwriter *wa = NULL, *wb = NULL;
    wamp1_conn *c = call->conn;
    int64_t la = 10, slack = 0, rl = 0;
    size_t on, i;
    int a;
    (void)user;
    memset(fill, 'f', sizeof fill);
    a = wamp1_call_arg(call, 0);
    if (a < 0 || wamp1_json_unescape(call->json, &call->toks[a], ops, sizeof ops, &on) != 0)
        return WAMP1_CALL_INVALID_ARGUMENT;
    if ((a = wamp1_call_arg(call, 1)) > 0) (void)wamp1_json_get_int(call->json, &call->toks[a], &la);
    if ((a = wamp1_call_arg(call, 2)) > 0) (void)wamp1_json_get_int(call->json, &call->toks[a], &slack);
    if ((a = wamp1_call_arg(call, 3)) > 0) (void)wamp1_json_get_int(call->json, &call->toks[a], &rl);
    if (la < 0 || la > 4000) la = 10;
    if (slack < -300 || slack > 300) slack = 0;
    if (rl < 0 || rl > 123) rl = 0;
    for (i = 0; i < on; i++) {
        switch (ops[i]) {
        case 'A':
            if (wa) break;
            wa = wamp1_call_result_begin(call);
            wamp1_jw_string(wa, fill, (size_t)la);
            break;
        case 'B':
            if (wb || !c) break;
            wb = wamp1_conn_json_begin(c, &fb);
            if (wb) {
                wamp1_jw_array_begin(wb);
                wamp1_jw_string(wb, "fz", 2);
                wamp1_jw_string(wb, fill, (size_t)la / 2);
                wamp1_jw_array_end(wb);
            }
            break;
        case 'e':
            if (wb) (void)wamp1_conn_json_end(&fb);
            wb = NULL;
            break;
        case 'd':
            if (c) {
                /* the open messages are not counted as pending: leave `slack` beside them */
                int64_t n = (int64_t)wamp1_conn_send_space(c) - (wa ? wa->len + 10 : 0) -
                            (wb ? wb->len + 10 : 0) - 4 - slack;
                if (n > 0 && n < (int64_t)sizeof fill) (void)wamp1_conn_send_binary(c, fill, (size_t)n);
            }
            break;
        case 't':
            if (c) (void)wamp1_conn_send_text(c, "[\"fz\"]", 6);
            break;
        case 'c':
            if (c) {
                char reason[124];
                memset(reason, 'r', (size_t)rl);
                reason[rl] = 0;
                wamp1_conn_close(c, 4002, reason);
            }
            break;
        case 'E':
            if (wa) wamp1_call_result_end(call);
            wa = NULL;
            break;
        }
    }
    if (wb) (void)wamp1_conn_json_end(&fb);
    return WAMP1_CALL_OK;
}

static int sub_veto(wamp1_app *a, wamp1_conn *c, const char *topic, size_t len, const wamp1_match *m,
                    void *user) {
    size_t n;
    const char *x = wamp1_match_get(m, "x", &n);
    (void)a; (void)c; (void)user;
    REQUIRE(len < WAMP1_MAX_URI + 1 && topic[len] == 0);
    return x && n == 2 && memcmp(x, "no", 2) == 0;
}

static void pub_custom(wamp1_publish *p, void *user) {
    (void)user;
    REQUIRE(p->event > 0 && p->topic_len < WAMP1_MAX_URI + 1);
    if (p->exclude_me) wamp1_publish_broker(p);
    else {
        /* only to the publisher itself */
        const wamp1_json_tok *e = &p->toks[p->event];
        const char *src = p->json + e->start - (e->type == WAMP1_JSON_STRING ? 1 : 0);
        size_t len = e->len + (e->type == WAMP1_JSON_STRING ? 2u : 0u);
        if (wamp1_conn_subscribed(p->publisher, p->topic))
            (void)wamp1_conn_event(p->publisher, p->topic, src, len);
    }
}

static int middleware(wamp1_app *a, const wamp1_message *msg, void *user) {
    (void)a; (void)user;
    REQUIRE(msg->conn && msg->uri && msg->route);
    if (msg->type == WAMP1_MSG_CALL && msg->uri_len == sizeof R "rpc#refused" - 1 &&
        memcmp(msg->uri, R "rpc#refused", msg->uri_len) == 0)
        return 1;
    if (msg->type == WAMP1_MSG_SUBSCRIBE && msg->uri_len >= 3 &&
        memcmp(msg->uri + msg->uri_len - 3, "/no", 3) == 0)
        return 1;
    return 0;
}

static void setup_app(void) {
    static const wamp1_handler h_echo = {rpc_echo, 0, 0, 0, 0}, h_defer = {rpc_defer, 0, 0, 0, 0},
                               h_error = {rpc_error, 0, 0, 0, 0}, h_publish = {rpc_publish, 0, 0, 0, 0},
                               h_big = {rpc_big, 0, 0, 0, 0}, h_user = {rpc_user, 0, 0, 0, 0},
                               h_named = {rpc_named, 0, 0, 0, 0}, h_noanswer = {rpc_noanswer, 0, 0, 0, 0},
                               h_status = {rpc_status, 0, 0, 0, 0}, h_twice = {rpc_twice, 0, 0, 0, 0},
                               h_closeme = {rpc_closeme, 0, 0, 0, 0}, h_topic = {0, 0, 0, 0, 0},
                               h_mixed = {rpc_mixed, 0, 0, 0, 0},
                               h_veto = {0, sub_veto, 0, pub_custom, 0};
    static const wamp1_route named = {R "rpc#named", WAMP1_ROUTE_RPC, 1, "named", NULL};
    wamp1_app_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.memory = mem;
    cfg.server.memory_size = sizeof mem;
    cfg.server.close_timeout_ms = 500;
    cfg.server.handshake_timeout_ms = 1000;
    if (cfg_bits & 16) cfg.server.keepalive_ms = 1000;
    if (cfg_bits & 32) cfg.server.slow_consumer = WAMP1_SLOW_DROP;
    cfg.strict = cfg_bits & 1;
    cfg.curie_hash_join = (cfg_bits >> 1) & 1;
    cfg.publish_include_publisher = (cfg_bits >> 2) & 1;
    cfg.lenient_subprotocol = (cfg_bits >> 3) & 1;
    cfg.routes = &named;
    cfg.route_count = 1;
    REQUIRE(wamp1_app_init(&app, &cfg) == 0);
    REQUIRE(wamp1_app_add_handler(&app, "named", &h_named) == 0);
    wamp1_app_add_rpc(&app, R "rpc#echo", &h_echo);
    wamp1_app_add_rpc(&app, R "rpc#defer", &h_defer);
    wamp1_app_add_rpc(&app, R "rpc#error", &h_error);
    wamp1_app_add_rpc(&app, R "rpc#publish", &h_publish);
    wamp1_app_add_rpc(&app, R "rpc#big", &h_big);
    wamp1_app_add_rpc(&app, R "rpc#refused", &h_echo);
    wamp1_app_add_rpc(&app, R "rpc#noanswer", &h_noanswer);
    wamp1_app_add_rpc(&app, R "rpc#status", &h_status);
    wamp1_app_add_rpc(&app, R "rpc#twice", &h_twice);
    wamp1_app_add_rpc(&app, R "rpc#closeme", &h_closeme);
    wamp1_app_add_rpc(&app, R "rpc#mixed", &h_mixed);
    wamp1_app_add_rpc(&app, R "user/{id}/get", &h_user);
    wamp1_app_add_topic(&app, R "topic/{name}", &h_topic);
    wamp1_app_add_topic(&app, R "veto/{x}", &h_veto);
    REQUIRE(wamp1_app_add_middleware(&app, middleware, NULL) == 0);
    REQUIRE(wamp1_app_listen(&app) == 0);
}

/* ---- driving ------------------------------------------------------------------------ */

static void pull_all(void) {
    int i;
    for (i = 0; i < 2; i++)
        if (sess[i].cl > 0) fz_stream_pull(&sess[i].st, &tp, sess[i].cl);
}

static int pending_input(void) {
    int i;
    for (i = 0; i < 2; i++)
        if (sess[i].cl > 0 && tp.socks[sess[i].cl - 1].in.len) return 1;
    return 0;
}

static void settle(void) {
    int quiet = 0, i;
    for (i = 0; i < 10000 && quiet < 2; i++) {
        size_t before = 0, after = 0, k;
        for (k = 0; k < 2; k++) before += sess[k].st.frames;
        wamp1_app_poll(&app, 0);
        pull_all();
        for (k = 0; k < 2; k++) after += sess[k].st.frames;
        quiet = after == before && !pending_input() ? quiet + 1 : 0;
    }
}

static void open_session(int i, int plain) {
    session *s = &sess[i];
    memset(s, 0, sizeof *s);
    s->st.on_frame = on_server_frame;
    s->st.ctx = s;
    s->cl = wamp1_testport_connect(&tp);
    REQUIRE(s->cl > 0);
    if (plain) wamp1_testport_write(&tp, s->cl, fz_upgrade, sizeof fz_upgrade - 1);
    else wamp1_testport_write(&tp, s->cl, fz_upgrade_wamp, sizeof fz_upgrade_wamp - 1);
    settle();
    REQUIRE(s->st.status == 101);
    REQUIRE(s->welcomed);
}

/* The client closes: close frame, the server's answer, EOF; the server must let go. */
static void close_session(int i) {
    session *s = &sess[i];
    uint8_t fr[16];
    static const uint8_t key[4] = {9, 8, 7, 6}, code[2] = {0x03, 0xE8};
    int k;
    if (!s->st.closed) {
        size_t n = fz_frame(fr, 0x88, code, 2, 1, key, 0);
        wamp1_testport_write(&tp, s->cl, fr, n);
        settle();
    }
    wamp1_testport_client_eof(&tp, s->cl);
    for (k = 0; k < 20 && wamp1_testport_server_closed(&tp, s->cl) != 1; k++) {
        wamp1_app_poll(&app, 200);
        pull_all();
    }
    REQUIRE(wamp1_testport_server_closed(&tp, s->cl) == 1);
    wamp1_testport_release(&tp, s->cl);
    s->cl = 0;
}

/* Replace bytes that would make the text invalid UTF-8 with '?'. */
static void make_utf8(uint8_t *m, size_t n) {
    size_t off = 0;
    uint32_t st = 0;
    while (off < n) {
        size_t k = wamp1_utf8_validate(&st, m + off, n - off);
        off += k;
        if (off < n) {
            m[off] = '?';
            st = 0;
        }
    }
    if (!wamp1_utf8_complete(st)) {
        /* cut sequence at the end: overwrite its bytes */
        size_t b = n;
        while (b > 0 && (m[b - 1] & 0xC0) == 0x80) b--;
        if (b > 0) b--;
        while (b < n) m[b++] = '?';
    }
}

static void send_text(session *s, uint8_t *m, size_t n, int fragmented) {
    static uint8_t fr[6100];
    uint8_t key[4] = {0x11, 0x22, 0x33, (uint8_t)n};
    size_t k;
    if (fragmented && n > 1) {
        size_t half = n / 2;
        k = fz_frame(fr, 0x01, m, half, 1, key, 0);
        k += fz_frame(fr + k, 0x80, m + half, n - half, 1, key, 0);
    } else k = fz_frame(fr, 0x81, m, n, 1, key, 0);
    REQUIRE(wamp1_testport_write(&tp, s->cl, fr, k) == k);
}

static void check_pools_empty(void) {
    wamp1_wamp_stats ws;
    wamp1_stats ss;
    unsigned i, n;
    uint16_t p;
    wamp1_app_stats(&app, &ws);
    REQUIRE(ws.topics == 0);
    REQUIRE(ws.subscriptions == 0);
    REQUIRE(ws.pending_calls == 0);
    REQUIRE(ws.prefixes == 0);
    wamp1_server_stats(wamp1_app_server(&app), &ss);
    REQUIRE(ss.connections == 0);
    for (n = 0, p = app.topic_free; p != 0xFFFF && n <= WAMP1_MAX_TOPICS; p = app.topics[p].hnext) n++;
    REQUIRE(n == WAMP1_MAX_TOPICS);
    for (n = 0, p = app.sub_free; p != 0xFFFF && n <= WAMP1_MAX_SUBSCRIPTIONS; p = app.subs[p].cnext) n++;
    REQUIRE(n == WAMP1_MAX_SUBSCRIPTIONS);
    for (n = 0, p = app.prefix_free; p != 0xFFFF && n <= WAMP1_MAX_PREFIXES; p = app.prefixes[p].next) n++;
    REQUIRE(n == WAMP1_MAX_PREFIXES);
    for (i = 0; i < WAMP1__TOPIC_BUCKETS; i++) REQUIRE(app.buckets[i] == 0xFFFF);
    for (i = 0; i < WAMP1_MAX_PENDING_CALLS; i++) REQUIRE(!app.pending[i].used);
    for (i = 0; i < nstale; i++) {
        wamp1_call call;
        REQUIRE(wamp1_call_resume(&app, stale[i], &call) != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in;
    static uint8_t msg[6000];
    int i;

    if (size < 1) return 0;
    in.p = data;
    in.n = size;
    cfg_bits = fz_u8(&in);
    wamp1_testport_init(&tp, &port);
    setup_app();
    ndeferred = nstale = 0;
    /* an idle client takes the first slot, so that a session has the last one, whose send
       buffer ends the memory block: a write past it is caught by the address sanitizer */
    idle_cl = wamp1_testport_connect(&tp);
    wamp1_testport_write(&tp, idle_cl, fz_upgrade_wamp, sizeof fz_upgrade_wamp - 1);
    wamp1_app_poll(&app, 0);
    open_session(0, 0);
    open_session(1, (cfg_bits & 8) != 0);

    while (in.n > 0) {
        uint8_t op = fz_u8(&in);
        session *s = &sess[op >> 7];
        unsigned kind = (op >> 4) & 7u;
        if (kind <= 4) {
            size_t len = kind == 4 ? fz_u16(&in) % 6000u : fz_u8(&in);
            const uint8_t *p;
            len = fz_take(&in, len, &p);
            memcpy(msg, p, len);
            make_utf8(msg, len);
            if (s->st.closed) {
                /* the server ended this session: start a new one */
                close_session(op >> 7);
                open_session(op >> 7, 0);
            }
            note_client_message(s, msg, len);
            send_text(s, msg, len, kind == 1);
            if (kind != 2) settle();
        } else if (kind == 5) {
            answer_deferred();
            settle();
        } else if (kind == 6) {
            wamp1_app_poll(&app, (int)(op & 15u) * 250);
            pull_all();
            settle();
        } else {
            close_session(op >> 7);
            open_session(op >> 7, 0);
        }
    }
    settle();
    if (ndeferred && (cfg_bits & 64)) answer_deferred();
    for (i = 0; i < 2; i++) close_session(i);
    wamp1_testport_client_eof(&tp, idle_cl);
    for (i = 0; i < 20 && wamp1_testport_server_closed(&tp, idle_cl) != 1; i++) wamp1_app_poll(&app, 200);
    REQUIRE(wamp1_testport_server_closed(&tp, idle_cl) == 1);
    settle();
    answer_deferred();
    check_pools_empty();
    wamp1_app_shutdown(&app, 100);
    return 0;
}
