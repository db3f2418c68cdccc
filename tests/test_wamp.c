/* Unit tests of the WAMP v1 layer through the in-memory test port (no sockets).
   The pools are tiny so that every exhaustion path is reachable. */
#define WAMP1_MAX_CONNECTIONS 6
#define WAMP1_MAX_TOPICS 4
#define WAMP1_MAX_SUBSCRIPTIONS 8
#define WAMP1_MAX_PREFIXES 6
#define WAMP1_MAX_PREFIXES_PER_CONN 3
#define WAMP1_MAX_PENDING_CALLS 3
#define WAMP1_JSON_TOKENS 64
#define WAMP1_QUEUE_SLOTS 4
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_TESTPORT_SOCKETS 16
#define WAMP1_TESTPORT_BUFFER (64u * 1024u)
#define WAMP1_IMPLEMENTATION
#include "../wamp1.h"
#include "../port/wamp1_testport.h"
#include "test_util.h"

#include <stdarg.h>

static wamp1_testport tp;
static wamp1_port port;
static wamp1_app g_app;
static wamp1_app_config acfg;
static uint8_t mem[WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
static int user_marker;

/* ---- checks with the caller's line and what was received ----------------- */

static void check_line(int ok, int line, const char *what, const char *want, const char *got) {
    if (ok) {
        t_passed++;
        return;
    }
    t_failed++;
    printf("FAIL %s (line %d): %s\n", t_current, line, what);
    if (want) printf("    want: %s\n", want);
    if (want || got) printf("    got:  %s\n", got ? got : "(nothing)");
}

/* printf into one of a few rotating buffers */
static const char *fmt(const char *f, ...) {
    static char bufs[8][4096];
    static unsigned k;
    char *b = bufs[k++ & 7u];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, 4096, f, ap);
    va_end(ap);
    return b;
}

/* ---- what the application callbacks saw ----------------------------------- */

static int err_count[16];
static int err_total;
static wamp1_error err_last;
static wamp1_conn *err_conn;
static wamp1_app *err_app;
static void *err_user;
static char err_reason[256];
static int open_count, close_count, close_code;
static wamp1_conn *open_conn, *close_conn;
static wamp1_app *open_app, *close_app;
static void *open_user, *close_user;
static char open_sid[64], close_sid[64];

static int open_sends_event;
static void on_open(wamp1_app *a, wamp1_conn *c, void *user) {
    if (open_sends_event) (void)wamp1_conn_event(c, "http://x/hello", "1", 1);
    open_count++;
    open_app = a;
    open_conn = c;
    open_user = user;
    snprintf(open_sid, sizeof open_sid, "%s", wamp1_conn_session_id(c));
}

static void on_close(wamp1_app *a, wamp1_conn *c, int code, void *user) {
    close_count++;
    close_app = a;
    close_conn = c;
    close_code = code;
    close_user = user;
    snprintf(close_sid, sizeof close_sid, "%s", wamp1_conn_session_id(c));
}

static void on_error(wamp1_app *a, wamp1_conn *c, wamp1_error e, const char *why, void *user) {
    if ((unsigned)e < 16u) err_count[e]++;
    err_total++;
    err_last = e;
    err_conn = c;
    err_app = a;
    err_user = user;
    snprintf(err_reason, sizeof err_reason, "%s", why ? why : "");
}

static void errors_reset(void) {
    memset(err_count, 0, sizeof err_count);
    err_total = 0;
    err_last = WAMP1_ERR_NONE;
    err_conn = NULL;
    err_reason[0] = 0;
}

/* ---- handlers ---------------------------------------------------------------- */

static wamp1_call_status h_echo(wamp1_call *call, void *user) {
    wamp1_jwriter *w = wamp1_call_result_begin(call);
    unsigned i;
    (void)user;
    wamp1_jw_array_begin(w);
    for (i = 0; i < call->argc; i++) wamp1_jw_token(w, call->json, &call->toks[wamp1_call_arg(call, i)]);
    wamp1_jw_array_end(w);
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

/* typed access to arguments: answers what each accessor returned for argument 0 */
static wamp1_call_status h_typed(wamp1_call *call, void *user) {
    wamp1_jwriter *w = wamp1_call_result_begin(call);
    int64_t iv = 0;
    double dv = 0;
    int bv = -1, ri, rd, rb, rs;
    char buf[8];
    size_t len = 0;
    (void)user;
    ri = wamp1_call_arg_int(call, 0, &iv);
    rd = wamp1_call_arg_double(call, 0, &dv);
    rb = wamp1_call_arg_bool(call, 0, &bv);
    rs = wamp1_call_arg_str(call, 0, buf, sizeof buf, &len);
    wamp1_jw_array_begin(w);
    wamp1_jw_int(w, ri);
    wamp1_jw_int(w, ri == 0 ? iv : 0);
    wamp1_jw_int(w, rd);
    wamp1_jw_double(w, rd == 0 ? dv : 0);
    wamp1_jw_int(w, rb);
    wamp1_jw_int(w, rb == 0 ? bv : -1);
    wamp1_jw_int(w, rs);
    wamp1_jw_string(w, rs == 0 || rs == WAMP1_ARG_SPACE ? buf : "", (size_t)-1);
    wamp1_jw_int(w, (int64_t)len);
    wamp1_jw_array_end(w);
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

/* the procedure URI the handler was called for */
static wamp1_call_status h_uri(wamp1_call *call, void *user) {
    (void)user;
    wamp1_jw_string(wamp1_call_result_begin(call), call->uri, call->uri_len);
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

/* the placeholder values: {"name":"value",...}, plus "room" via wamp1_match_get */
static wamp1_call_status h_match(wamp1_call *call, void *user) {
    wamp1_jwriter *w = wamp1_call_result_begin(call);
    unsigned i;
    size_t rl = 0;
    const char *room = wamp1_match_get(call->match, "room", &rl);
    (void)user;
    wamp1_jw_object_begin(w);
    for (i = 0; i < call->match->count; i++) {
        wamp1_jw_key(w, call->match->params[i].name, call->match->params[i].name_len);
        wamp1_jw_string(w, call->match->params[i].value, call->match->params[i].value_len);
    }
    wamp1_jw_key(w, "get_room", (size_t)-1);
    if (room) wamp1_jw_string(w, room, rl);
    else wamp1_jw_null(w);
    wamp1_jw_object_end(w);
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

/* answers with the string in user */
static wamp1_call_status h_tag(wamp1_call *call, void *user) {
    wamp1_jw_string(wamp1_call_result_begin(call), (const char *)user, (size_t)-1);
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

/* returns the status stored in *(int *)user without answering */
static wamp1_call_status h_status(wamp1_call *call, void *user) {
    (void)call;
    return (wamp1_call_status)*(const int *)user;
}

static wamp1_call_status h_details(wamp1_call *call, void *user) {
    wamp1_jwriter *w = wamp1_call_error_begin(call, "http://x/error#bad", "it \"failed\"");
    (void)user;
    wamp1_jw_object_begin(w);
    wamp1_jw_key(w, "code", (size_t)-1);
    wamp1_jw_int(w, 42);
    wamp1_jw_key(w, "args", (size_t)-1);
    wamp1_jw_array_begin(w);
    wamp1_jw_int(w, (int64_t)call->argc);
    wamp1_jw_array_end(w);
    wamp1_jw_object_end(w);
    (void)wamp1_call_error_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status h_error_plain(wamp1_call *call, void *user) {
    (void)user;
    (void)wamp1_call_error(call, "http://x/error#plain", "");
    return WAMP1_CALL_OK;
}

static wamp1_call_status h_error_null_details(wamp1_call *call, void *user) {
    (void)user;
    wamp1_jw_null(wamp1_call_error_begin(call, "http://x/error#n", "d"));
    (void)wamp1_call_error_end(call);
    return WAMP1_CALL_OK;
}

/* a result of the shape the first argument names */
static wamp1_call_status h_shape(wamp1_call *call, void *user) {
    const wamp1_json_tok *a = call->argc ? &call->toks[wamp1_call_arg(call, 0)] : NULL;
    wamp1_jwriter *w;
    (void)user;
    if (!a || a->type != WAMP1_JSON_STRING) return WAMP1_CALL_INVALID_ARGUMENT;
    if (wamp1_json_str_eq(call->json, a, "json", 4))
        return wamp1_call_result_json(call, "{\"x\":[1,2]}", 11) == 0 ? WAMP1_CALL_OK : WAMP1_CALL_INTERNAL;
    w = wamp1_call_result_begin(call);
    if (wamp1_json_str_eq(call->json, a, "object", 6)) {
        wamp1_jw_object_begin(w);
        wamp1_jw_key(w, "a", 1);
        wamp1_jw_int(w, 1);
        wamp1_jw_key(w, "b", 1);
        wamp1_jw_array_begin(w);
        wamp1_jw_bool(w, 1);
        wamp1_jw_bool(w, 0);
        wamp1_jw_null(w);
        wamp1_jw_array_end(w);
        wamp1_jw_key(w, "c", 1);
        wamp1_jw_object_begin(w);
        wamp1_jw_key(w, "d\"k", 3);
        wamp1_jw_string(w, "e", 1);
        wamp1_jw_object_end(w);
        wamp1_jw_object_end(w);
    } else if (wamp1_json_str_eq(call->json, a, "nested", 6)) {
        wamp1_jw_array_begin(w);
        wamp1_jw_array_begin(w);
        wamp1_jw_int(w, 1);
        wamp1_jw_array_begin(w);
        wamp1_jw_int(w, 2);
        wamp1_jw_array_begin(w);
        wamp1_jw_int(w, 3);
        wamp1_jw_array_end(w);
        wamp1_jw_array_end(w);
        wamp1_jw_array_end(w);
        wamp1_jw_array_begin(w);
        wamp1_jw_array_end(w);
        wamp1_jw_object_begin(w);
        wamp1_jw_object_end(w);
        wamp1_jw_array_end(w);
    } else if (wamp1_json_str_eq(call->json, a, "string", 6)) {
        wamp1_jw_string(w, "q\"b\\s/\n\t\x01\xc3\xa9", (size_t)-1);
    } else if (wamp1_json_str_eq(call->json, a, "empty", 5)) {
        wamp1_jw_string(w, "", 0);
    } else if (wamp1_json_str_eq(call->json, a, "numbers", 7)) {
        wamp1_jw_array_begin(w);
        wamp1_jw_int(w, 0);
        wamp1_jw_int(w, -1);
        wamp1_jw_int(w, INT64_MIN);
        wamp1_jw_int(w, INT64_MAX);
        wamp1_jw_double(w, 1.5);
        wamp1_jw_double(w, 0.1);
        wamp1_jw_double(w, 1e21);
        wamp1_jw_double(w, -2.5e-7);
        wamp1_jw_double(w, 3.0);
        wamp1_jw_array_end(w);
    } else if (wamp1_json_str_eq(call->json, a, "int", 3)) {
        wamp1_jw_int(w, 7);
    } else if (wamp1_json_str_eq(call->json, a, "null", 4)) {
        wamp1_jw_null(w);
    } else if (wamp1_json_str_eq(call->json, a, "true", 4)) {
        wamp1_jw_bool(w, 1);
    } /* "none": nothing written */
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

/* deferred calls */
static wamp1_call_handle deferred[8];
static int ndeferred;

static wamp1_call_status h_defer(wamp1_call *call, void *user) {
    wamp1_call_handle h = wamp1_call_defer(call);
    (void)user;
    if (h.id == 0) return WAMP1_CALL_INTERNAL;
    if (ndeferred < 8) deferred[ndeferred++] = h;
    return WAMP1_CALL_OK;
}

/* a string result of N bytes, N the first argument */
static wamp1_call_status h_big(wamp1_call *call, void *user) {
    static char s[9000];
    int64_t n = 0;
    int k = wamp1_call_arg(call, 0);
    (void)user;
    if (k < 0 || wamp1_json_get_int(call->json, &call->toks[k], &n) != 0 || n < 0 || n > 9000)
        return WAMP1_CALL_INVALID_ARGUMENT;
    memset(s, 'x', (size_t)n);
    wamp1_jw_string(wamp1_call_result_begin(call), s, (size_t)n);
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

/* publishes to http://x/t/inside while its own answer is open */
static wamp1_call_status h_pub_inside(wamp1_call *call, void *user) {
    wamp1_jwriter *w = wamp1_call_result_begin(call);
    (void)user;
    if (call->argc == 0) {
        wamp1_jw_string(w, "done", 4);
        (void)wamp1_app_publish(call->app, "http://x/t/inside", "\"ev\"", 4, NULL);
    } else { /* the answer goes on after the events */
        wamp1_jw_array_begin(w);
        wamp1_jw_string(w, "a", 1);
        (void)wamp1_app_publish(call->app, "http://x/t/inside", "\"ev\"", 4, NULL);
        (void)wamp1_conn_event(call->conn, "http://x/self", "[\"me\"]", 6);
        wamp1_jw_string(w, "b", 1);
        wamp1_jw_array_end(w);
    }
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status h_answer_then_fail(wamp1_call *call, void *user) {
    (void)user;
    (void)wamp1_call_result_json(call, "1", 1);
    return WAMP1_CALL_INTERNAL;
}

/* answers the first deferred call while its own answer is open */
static wamp1_call_status h_nested(wamp1_call *call, void *user) {
    wamp1_call inner;
    wamp1_jwriter *w = wamp1_call_result_begin(call);
    (void)user;
    wamp1_jw_string(w, "outer", 5);
    if (ndeferred > 0 && wamp1_call_resume(call->app, deferred[0], &inner) == 0) {
        wamp1_jw_string(wamp1_call_result_begin(&inner), "inner", 5);
        (void)wamp1_call_result_end(&inner);
    }
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static const wamp1_handler H_ECHO = {h_echo, NULL, NULL, NULL, NULL};
static const wamp1_handler H_URI = {h_uri, NULL, NULL, NULL, NULL};
static const wamp1_handler H_MATCH = {h_match, NULL, NULL, NULL, NULL};
static const wamp1_handler H_SHAPE = {h_shape, NULL, NULL, NULL, NULL};
static const wamp1_handler H_DEFER = {h_defer, NULL, NULL, NULL, NULL};
static const wamp1_handler H_DETAILS = {h_details, NULL, NULL, NULL, NULL};
static const wamp1_handler H_BIG = {h_big, NULL, NULL, NULL, NULL};

/* ---- server and clients ------------------------------------------------------- */

static void pump(int rounds) {
    while (rounds-- > 0) (void)wamp1_app_poll(&g_app, 0);
}

static void setup_with(void (*tweak)(wamp1_app_config *)) {
    wamp1_testport_init(&tp, &port);
    memset(&acfg, 0, sizeof acfg);
    acfg.server.port = &port;
    acfg.server.memory = mem;
    acfg.server.memory_size = sizeof mem;
    acfg.on_open = on_open;
    acfg.on_close = on_close;
    acfg.on_error = on_error;
    acfg.user = &user_marker;
    if (tweak) tweak(&acfg);
    errors_reset();
    open_count = close_count = close_code = 0;
    open_conn = close_conn = NULL;
    ndeferred = 0;
    if (wamp1_app_init(&g_app, &acfg) != 0 || wamp1_app_listen(&g_app) != 0) {
        printf("FAIL: app setup\n");
        exit(1);
    }
    (void)wamp1_app_add_rpc(&g_app, "http://x/echo", &H_ECHO);
    (void)wamp1_app_add_rpc(&g_app, "http://example.com/simple/calc#{op}", &H_URI);
    (void)wamp1_app_add_rpc(&g_app, "foo:bar", &H_URI);
    (void)wamp1_app_add_rpc(&g_app, "http://x/uri", &H_URI);
    (void)wamp1_app_add_topic(&g_app, "http://x/t/{name}", NULL);
    (void)wamp1_app_add_topic(&g_app, "http://example.com/topic#{name}", NULL);
}
static void setup(void) { setup_with(NULL); }

/* what each client received and has not looked at yet */
#define RX_CAP (96u * 1024u)
static uint8_t rx[WAMP1_TESTPORT_SOCKETS + 1][RX_CAP];
static size_t rxn[WAMP1_TESTPORT_SOCKETS + 1];
static char sid[WAMP1_TESTPORT_SOCKETS + 1][64];
static char last_http[2048];

static void rx_fill(int cl) {
    pump(4);
    rxn[cl] += wamp1_testport_read(&tp, cl, rx[cl] + rxn[cl], RX_CAP - rxn[cl]);
}

/* Connect and send the upgrade request with the given extra header line(s);
   returns the client handle, *status the HTTP status of the answer. */
static int ws_connect(const char *extra, int *status) {
    int cl = wamp1_testport_connect(&tp);
    char req[1024];
    size_t i;
    snprintf(req, sizeof req,
             "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
             extra ? extra : "");
    if (cl < 0) {
        printf("FAIL: the test port has no free socket\n");
        exit(1);
    }
    rxn[cl] = 0;
    sid[cl][0] = 0;
    (void)wamp1_testport_write(&tp, cl, req, strlen(req));
    rx_fill(cl);
    *status = 0;
    last_http[0] = 0;
    for (i = 0; i + 4 <= rxn[cl]; i++) {
        if (memcmp(rx[cl] + i, "\r\n\r\n", 4) == 0) {
            size_t hl = i + 4;
            memcpy(last_http, rx[cl], hl < sizeof last_http ? hl : sizeof last_http - 1);
            last_http[hl < sizeof last_http ? hl : sizeof last_http - 1] = 0;
            *status = atoi(last_http + 9);
            memmove(rx[cl], rx[cl] + hl, rxn[cl] - hl);
            rxn[cl] -= hl;
            if (*status != 101) rxn[cl] = 0; /* the body of an error answer */
            break;
        }
    }
    return cl;
}

/* The next complete server frame of cl: its payload (NUL-terminated) and opcode, or NULL. */
static const char *recv_frame(int cl, unsigned *op) {
    static char outs[4][RX_CAP + 1];
    static unsigned k;
    char *out = outs[k++ & 3u];
    t_sframe f;
    rx_fill(cl);
    if (!t_parse_frame(rx[cl], rxn[cl], &f)) return NULL;
    memcpy(out, f.payload, f.len);
    out[f.len] = 0;
    *op = f.op;
    memmove(rx[cl], rx[cl] + f.total, rxn[cl] - f.total);
    rxn[cl] -= f.total;
    return out;
}

/* the next text message, or NULL (also for any other frame: described in *other) */
static const char *recv_text(int cl) {
    unsigned op = 0;
    const char *m = recv_frame(cl, &op);
    if (m && op != WAMP1_OP_TEXT) {
        static char other[64];
        snprintf(other, sizeof other, "<frame op %u>", op);
        return other;
    }
    return m;
}

#define EXPECT_MSG(cl, want) expect_msg_((cl), (want), __LINE__)
static void expect_msg_(int cl, const char *want, int line) {
    const char *got = recv_text(cl);
    check_line(got && strcmp(got, want) == 0, line, "message", want, got);
}

/* next message starts with prefix (for texts whose tail is not pinned down) */
#define EXPECT_PREFIX(cl, want) expect_prefix_((cl), (want), __LINE__)
static void expect_prefix_(int cl, const char *want, int line) {
    const char *got = recv_text(cl);
    check_line(got && strncmp(got, want, strlen(want)) == 0, line, "message prefix", want, got);
}

#define EXPECT_NONE(cl) expect_none_((cl), __LINE__)
static void expect_none_(int cl, int line) {
    unsigned op = 0;
    const char *got;
    rx_fill(cl);
    got = rxn[cl] ? recv_frame(cl, &op) : NULL;
    check_line(rxn[cl] == 0 && !got, line, "nothing received", "(nothing)",
               got ? fmt("op %u: %s", op, got) : rxn[cl] ? "partial frame" : NULL);
    rxn[cl] = 0;
}

#define EXPECT_CLOSE(cl, code) expect_close_((cl), (code), __LINE__)
static void expect_close_(int cl, int code, int line) {
    unsigned op = 0;
    const char *got;
    for (;;) {
        got = recv_frame(cl, &op);
        if (!got || op == WAMP1_OP_CLOSE) break;
    }
    if (got) {
        int c = ((uint8_t)got[0] << 8) | (uint8_t)got[1];
        check_line(c == code, line, "close code", fmt("%d", code), fmt("%d", c));
    } else check_line(0, line, "close frame", fmt("close %d", code), NULL);
}

static int json_valid(const char *s) {
    wamp1_json_tok t[64];
    return wamp1_json_parse(s, strlen(s), t, 64, 16, NULL) > 0;
}

static int sid_ok(const char *s) {
    size_t i, n = strlen(s);
    if (n < 16) return 0;
    for (i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-'))
            return 0;
    }
    return 1;
}

/* Read WELCOME: 1 when it is [0, sessionId, 1, serverIdent]; stores the session id. */
static int read_welcome(int cl, const char *ident) {
    const char *m = recv_text(cl);
    wamp1_json_tok t[16];
    int n;
    size_t len = 0;
    int64_t v = -1;
    if (!m) return 0;
    n = wamp1_json_parse(m, strlen(m), t, 16, 4, NULL);
    if (n != 5 || t[0].type != WAMP1_JSON_ARRAY || t[0].size != 4) return 0;
    if (wamp1_json_get_int(m, &t[1], &v) != 0 || v != 0) return 0;
    if (wamp1_json_unescape(m, &t[2], sid[cl], sizeof sid[cl], &len) != 0) return 0;
    if (wamp1_json_get_int(m, &t[3], &v) != 0 || v != 1) return 0;
    if (ident && !wamp1_json_str_eq(m, &t[4], ident, strlen(ident))) return 0;
    return 1;
}

/* a WAMP client: handshake offering "wamp", WELCOME read */
#define WCONNECT() wconnect_(__LINE__)
static int wconnect_(int line) {
    int st;
    int cl = ws_connect("Sec-WebSocket-Protocol: wamp\r\n", &st);
    check_line(st == 101, line, "handshake", "101", fmt("%d", st));
    check_line(read_welcome(cl, NULL), line, "WELCOME", NULL, NULL);
    return cl;
}

static void send_frame(int cl, unsigned op, const void *p, size_t n) {
    static uint8_t f[RX_CAP];
    size_t k = t_frame(f, op, 1, 0, p, n, 1);
    (void)wamp1_testport_write(&tp, cl, f, k);
}

static void send_text(int cl, const char *json) {
    send_frame(cl, WAMP1_OP_TEXT, json, strlen(json));
    pump(3);
}

/* the server-side connection of a client handle */
static wamp1_conn *conn_of(int cl) {
    wamp1_server *s = wamp1_app_server(&g_app);
    wamp1_conn *c;
    for (c = wamp1_server_next_conn(s, NULL); c; c = wamp1_server_next_conn(s, c))
        if (c->sock == cl) return c;
    return NULL;
}

/* the client closes cleanly (close frame 1000, reads the answer, closes TCP) */
static void client_close(int cl) {
    uint8_t p[2] = {0x03, 0xe8};
    send_frame(cl, WAMP1_OP_CLOSE, p, 2);
    pump(3);
    rx_fill(cl);
    rxn[cl] = 0;
    wamp1_testport_client_eof(&tp, cl);
    pump(3);
}

static wamp1_wamp_stats wstats(void) {
    wamp1_wamp_stats st;
    wamp1_app_stats(&g_app, &st);
    return st;
}

/* ==== WELCOME and the handshake ============================================== */

/* The user's own server callbacks and user pointer keep working in a WAMP application:
   WAMP runs beside them, not instead of them. */
static int u_marker, u_open, u_msg, u_close, u_error, u_bad_user, u_sid_ok, u_tick;
static void u_on_open(wamp1_conn *c, void *user) {
    u_open++;
    if (user != &u_marker) u_bad_user++;
    u_sid_ok += strlen(wamp1_conn_session_id(c)) == 16; /* WAMP's state is ready */
}
static void u_on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *user) {
    (void)c; (void)op;
    u_msg++;
    if (user != &u_marker) u_bad_user++;
    if (n < 2 || d[0] != '[') u_bad_user++;
}
static void u_on_close(wamp1_conn *c, int code, void *user) {
    (void)code;
    u_close++;
    if (user != &u_marker) u_bad_user++;
    u_sid_ok += strlen(wamp1_conn_session_id(c)) == 16; /* still there */
}
static void u_on_error(wamp1_conn *c, wamp1_error e, const char *why, void *user) {
    (void)c; (void)e; (void)why;
    u_error++;
    if (user != &u_marker) u_bad_user++;
}
static void u_on_tick(wamp1_server *s, uint64_t now, void *user) {
    (void)s; (void)now;
    u_tick++;
    if (user != &u_marker) u_bad_user++;
}
static void tweak_user_callbacks(wamp1_app_config *c) {
    c->server.cb.on_open = u_on_open;
    c->server.cb.on_message = u_on_message;
    c->server.cb.on_close = u_on_close;
    c->server.cb.on_error = u_on_error;
    c->server.cb.on_tick = u_on_tick;
    c->server.user = &u_marker;
}

static void setup_with(void (*tweak)(wamp1_app_config *));
static int wconnect_(int line);
static void send_text(int cl, const char *json);
static void expect_msg_(int cl, const char *want, int line);
static void client_close(int cl);

TEST(test_user_callbacks_beside_wamp) {
    int cl;
    u_open = u_msg = u_close = u_error = u_bad_user = u_sid_ok = u_tick = 0;
    setup_with(tweak_user_callbacks);
    CHECK(wamp1_server_user(wamp1_app_server(&g_app)) == &u_marker);
    CHECK(wamp1_server_app(wamp1_app_server(&g_app)) == &g_app);
    cl = wconnect_(__LINE__); /* WELCOME still comes first */
    CHECK_EQ_INT(u_open, 1);
    send_text(cl, "[2,\"a\",\"http://x/echo\",1]");
    expect_msg_(cl, "[3,\"a\",[1]]", __LINE__); /* the call is answered by WAMP */
    CHECK_EQ_INT(u_msg, 1);                   /* and the user saw the message too */
    send_text(cl, "[99]");                      /* an unknown message type: both hear of it */
    pump(2);
    CHECK(u_error >= 1);
    CHECK(err_count[WAMP1_ERR_MALFORMED] + err_count[WAMP1_ERR_PROTOCOL] >= 1);
    client_close(cl);
    CHECK_EQ_INT(u_close, 1);
    CHECK_EQ_INT(u_sid_ok, 2);
    CHECK(u_tick > 0);
    CHECK_EQ_INT(u_bad_user, 0);
}

TEST(test_welcome) {
    int cl[WAMP1_MAX_CONNECTIONS], i, j;
    const char *m;
    setup();
    for (i = 0; i < WAMP1_MAX_CONNECTIONS; i++) {
        int st;
        cl[i] = ws_connect("Sec-WebSocket-Protocol: wamp\r\n", &st);
        CHECK_EQ_INT(st, 101);
        CHECK(strstr(last_http, "Sec-WebSocket-Protocol: wamp\r\n") != NULL);
        m = recv_text(cl[i]); /* the first message */
        CHECK(m != NULL);
        if (m) {
            wamp1_json_tok t[8];
            size_t len = 0;
            CHECK_EQ_INT(wamp1_json_parse(m, strlen(m), t, 8, 4, NULL), 5);
            CHECK(wamp1_json_unescape(m, &t[2], sid[cl[i]], sizeof sid[cl[i]], &len) == 0);
            check_line(strcmp(m, fmt("[0,\"%s\",1,\"%s\"]", sid[cl[i]], WAMP1_SERVER_IDENT)) == 0, __LINE__, "WELCOME text",
                       fmt("[0,\"%s\",1,\"%s\"]", sid[cl[i]], WAMP1_SERVER_IDENT), m);
        }
        CHECK(sid_ok(sid[cl[i]]));
        CHECK(conn_of(cl[i]) != NULL && strcmp(wamp1_conn_session_id(conn_of(cl[i])), sid[cl[i]]) == 0);
        EXPECT_NONE(cl[i]); /* exactly one WELCOME */
    }
    for (i = 0; i < WAMP1_MAX_CONNECTIONS; i++)
        for (j = i + 1; j < WAMP1_MAX_CONNECTIONS; j++) CHECK(strcmp(sid[cl[i]], sid[cl[j]]) != 0);
    /* a new session on a reused slot gets a new id */
    {
        char old[64];
        int c2;
        snprintf(old, sizeof old, "%s", sid[cl[0]]);
        client_close(cl[0]);
        CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl[0]), 1);
        c2 = WCONNECT();
        CHECK(strcmp(sid[c2], old) != 0);
        for (i = 1; i < WAMP1_MAX_CONNECTIONS; i++) CHECK(strcmp(sid[c2], sid[cl[i]]) != 0);
    }
}

static void tweak_ident(wamp1_app_config *c) { c->server_ident = "my \"srv\"/2"; }

TEST(test_welcome_server_ident) {
    int cl;
    setup_with(tweak_ident);
    cl = ws_connect("Sec-WebSocket-Protocol: wamp\r\n", &(int){0});
    {
        const char *m = recv_text(cl);
        CHECK(m != NULL);
        if (m) {
            wamp1_json_tok t[8];
            size_t len = 0;
            char s[64];
            CHECK_EQ_INT(wamp1_json_parse(m, strlen(m), t, 8, 4, NULL), 5);
            CHECK(wamp1_json_unescape(m, &t[2], s, sizeof s, &len) == 0);
            check_line(strcmp(m, fmt("[0,\"%s\",1,\"my \\\"srv\\\"/2\"]", s)) == 0, __LINE__, "WELCOME",
                       fmt("[0,\"%s\",1,\"my \\\"srv\\\"/2\"]", s), m);
        }
    }
}

static void tweak_lenient(wamp1_app_config *c) { c->lenient_subprotocol = 1; }

TEST(test_handshake_subprotocol) {
    int st, cl;
    setup();
    cl = ws_connect(NULL, &st);
    CHECK_EQ_INT(st, 426);
    EXPECT_NONE(cl);
    CHECK_EQ_INT(open_count, 0);
    CHECK_EQ_INT(err_count[WAMP1_ERR_HTTP], 1);
    cl = ws_connect("Sec-WebSocket-Protocol: chat\r\n", &st);
    CHECK_EQ_INT(st, 426);
    cl = ws_connect("Sec-WebSocket-Protocol: chat, wamp\r\n", &st);
    CHECK_EQ_INT(st, 101);
    CHECK(strstr(last_http, "Sec-WebSocket-Protocol: wamp\r\n") != NULL);
    CHECK(read_welcome(cl, WAMP1_SERVER_IDENT));
    CHECK_EQ_INT(open_count, 1);

    setup_with(tweak_lenient);
    cl = ws_connect(NULL, &st);
    CHECK_EQ_INT(st, 101);
    CHECK(strstr(last_http, "Sec-WebSocket-Protocol") == NULL);
    CHECK(read_welcome(cl, NULL));
    send_text(cl, "[2,\"c1\",\"http://x/echo\",1]");
    EXPECT_MSG(cl, "[3,\"c1\",[1]]");
    cl = ws_connect("Sec-WebSocket-Protocol: chat\r\n", &st);
    CHECK_EQ_INT(st, 101);
    CHECK(read_welcome(cl, NULL));
    cl = ws_connect("Sec-WebSocket-Protocol: wamp\r\n", &st);
    CHECK_EQ_INT(st, 101);
    CHECK(strstr(last_http, "Sec-WebSocket-Protocol: wamp\r\n") != NULL);
    CHECK(read_welcome(cl, NULL));
}

/* ==== RPC ======================================================================= */

TEST(test_call_routes) {
    const wamp1_handler *hm = &H_MATCH;
    int cl;
    wamp1_match m;
    size_t len = 0;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/chat/{room}/say", hm);
    (void)wamp1_app_add_rpc(&g_app, "http://x/p/{a}#{b}", hm);
    (void)wamp1_app_add_rpc(&g_app, "http://x/room/{room}", hm);
    cl = WCONNECT();
    send_text(cl, "[2,\"a\",\"http://x/echo\"]");
    EXPECT_MSG(cl, "[3,\"a\",[]]");
    send_text(cl, "[2,\"b\",\"http://x/echo\",1,\"two\",{\"3\":[4]},null,true]");
    EXPECT_MSG(cl, "[3,\"b\",[1,\"two\",{\"3\":[4]},null,true]]");
    send_text(cl, "[2,\"c\",\"http://x/chat/lobby/say\"]");
    EXPECT_MSG(cl, "[3,\"c\",{\"room\":\"lobby\",\"get_room\":\"lobby\"}]");
    send_text(cl, "[2,\"d\",\"http://x/p/one#two\"]");
    EXPECT_MSG(cl, "[3,\"d\",{\"a\":\"one\",\"b\":\"two\",\"get_room\":null}]");
    send_text(cl, "[2,\"e\",\"http://x/room/r-1_x\"]");
    EXPECT_MSG(cl, "[3,\"e\",{\"room\":\"r-1_x\",\"get_room\":\"r-1_x\"}]");
    /* a placeholder does not match '/', '#', '?' or nothing */
    send_text(cl, "[2,\"f\",\"http://x/room/a/b\"]");
    EXPECT_MSG(cl, "[4,\"f\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",\"no procedure registered for http://x/room/a/b\"]");
    send_text(cl, "[2,\"g\",\"http://x/room/a#b\"]");
    EXPECT_PREFIX(cl, "[4,\"g\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",");
    send_text(cl, "[2,\"h\",\"http://x/room/a?b\"]");
    EXPECT_PREFIX(cl, "[4,\"h\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",");
    send_text(cl, "[2,\"i\",\"http://x/room/\"]");
    EXPECT_PREFIX(cl, "[4,\"i\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",");
    send_text(cl, "[2,\"j\",\"http://x/chat//say\"]");
    EXPECT_PREFIX(cl, "[4,\"j\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",");
    send_text(cl, "[2,\"k\",\"http://x/echo/\"]"); /* exact URIs are exact */
    EXPECT_PREFIX(cl, "[4,\"k\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",");
    send_text(cl, "[2,\"l\",\"http://x/ech\"]");
    EXPECT_PREFIX(cl, "[4,\"l\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",");
    /* the matcher on its own */
    CHECK(wamp1_route_match("http://x/room/{room}", "http://x/room/abc", 17, &m));
    CHECK_EQ_INT(m.count, 1);
    CHECK(wamp1_match_get(&m, "room", &len) != NULL && len == 3);
    CHECK(wamp1_match_get(&m, "nope", &len) == NULL && len == 0);
    CHECK(!wamp1_route_match("http://x/room/{room}", "http://x/room/", 14, NULL));
    CHECK(!wamp1_route_match("http://x/room/{room}", "http://x/room/a/b", 17, NULL));
    CHECK(!wamp1_route_match("http://x/room/{room}", "http://x/room/a#b", 17, NULL));
    CHECK(!wamp1_route_match("http://x/room/{room}", "http://x/room/a?b", 17, NULL));
    CHECK(wamp1_route_match("http://x/room/{room}", "http://x/room/a/b", 15, NULL)); /* length honoured */
    CHECK(wamp1_route_match("a{x}c", "abbc", 4, &m) && m.count == 1 && m.params[0].value_len == 2);
}

/* wamp1_call_arg_int/_double/_bool/_str: the value, or why not */
TEST(test_call_typed_args) {
    static const wamp1_handler ht = {h_typed, 0, 0, 0, 0};
    int cl;
    setup();
    CHECK_EQ_INT(wamp1_app_add_rpc(&g_app, "http://x/typed", &ht), 0);
    cl = WCONNECT();
    send_text(cl, "[2,\"a\",\"http://x/typed\"]"); /* no argument */
    EXPECT_MSG(cl, "[3,\"a\",[-1,0,-1,0,-1,-1,-1,\"\",0]]");
    send_text(cl, "[2,\"b\",\"http://x/typed\",42]");
    EXPECT_MSG(cl, "[3,\"b\",[0,42,0,42,-2,-1,-2,\"\",0]]");
    send_text(cl, "[2,\"c\",\"http://x/typed\",2.5]"); /* not an integer, a double */
    EXPECT_MSG(cl, "[3,\"c\",[-2,0,0,2.5,-2,-1,-2,\"\",0]]");
    send_text(cl, "[2,\"d\",\"http://x/typed\",1e400]"); /* beyond a double */
    EXPECT_MSG(cl, "[3,\"d\",[-2,0,-2,0,-2,-1,-2,\"\",0]]");
    send_text(cl, "[2,\"e\",\"http://x/typed\",true]");
    EXPECT_MSG(cl, "[3,\"e\",[-2,0,-2,0,0,1,-2,\"\",0]]");
    send_text(cl, "[2,\"f\",\"http://x/typed\",false,1]");
    EXPECT_MSG(cl, "[3,\"f\",[-2,0,-2,0,0,0,-2,\"\",0]]");
    send_text(cl, "[2,\"g\",\"http://x/typed\",\"a\\u00e9\"]"); /* unescaped: a + 2 bytes */
    EXPECT_MSG(cl, "[3,\"g\",[-2,0,-2,0,-2,-1,0,\"a\u00e9\",3]]");
    send_text(cl, "[2,\"h\",\"http://x/typed\",\"12345678\"]"); /* 8 + NUL > 8 */
    EXPECT_MSG(cl, "[3,\"h\",[-2,0,-2,0,-2,-1,-3,\"1234567\",8]]");
    send_text(cl, "[2,\"i\",\"http://x/typed\",null]");
    EXPECT_MSG(cl, "[3,\"i\",[-2,0,-2,0,-2,-1,-2,\"\",0]]");
    send_text(cl, "[2,\"j\",\"http://x/typed\",\"7\"]"); /* a string is not a number */
    EXPECT_MSG(cl, "[3,\"j\",[-2,0,-2,0,-2,-1,0,\"7\",1]]");
}

TEST(test_call_priorities) {
    static const wamp1_handler ha = {h_tag, NULL, NULL, NULL, (void *)"A"};
    static const wamp1_handler hb = {h_tag, NULL, NULL, NULL, (void *)"B"};
    static const wamp1_handler hc = {h_tag, NULL, NULL, NULL, (void *)"C"};
    static const wamp1_handler hd = {h_tag, NULL, NULL, NULL, (void *)"D"};
    wamp1_route r;
    int cl;
    setup();
    memset(&r, 0, sizeof r);
    r.kind = WAMP1_ROUTE_RPC;
    /* same priority: the first added wins */
    r.pattern = "http://x/pr/{any}";
    r.handler = &ha;
    CHECK_EQ_INT(wamp1_app_add_route(&g_app, &r), 0);
    r.pattern = "http://x/pr/fixed";
    r.handler = &hb;
    CHECK_EQ_INT(wamp1_app_add_route(&g_app, &r), 0);
    /* a higher priority wins even when added later */
    r.pattern = "http://x/hi/{any}";
    r.handler = &hc;
    r.priority = 0;
    CHECK_EQ_INT(wamp1_app_add_route(&g_app, &r), 0);
    r.pattern = "http://x/hi/{other}";
    r.handler = &hd;
    r.priority = 5;
    CHECK_EQ_INT(wamp1_app_add_route(&g_app, &r), 0);
    r.pattern = "http://x/hi/low";
    r.handler = &ha;
    r.priority = -3;
    CHECK_EQ_INT(wamp1_app_add_route(&g_app, &r), 0);
    /* a topic route never answers a CALL */
    r.pattern = "http://x/onlytopic";
    r.kind = WAMP1_ROUTE_TOPIC;
    r.handler = &ha;
    r.priority = 100;
    CHECK_EQ_INT(wamp1_app_add_route(&g_app, &r), 0);
    cl = WCONNECT();
    send_text(cl, "[2,\"1\",\"http://x/pr/fixed\"]");
    EXPECT_MSG(cl, "[3,\"1\",\"A\"]");
    send_text(cl, "[2,\"2\",\"http://x/pr/other\"]");
    EXPECT_MSG(cl, "[3,\"2\",\"A\"]");
    send_text(cl, "[2,\"3\",\"http://x/hi/low\"]");
    EXPECT_MSG(cl, "[3,\"3\",\"D\"]");
    send_text(cl, "[2,\"4\",\"http://x/hi/zz\"]");
    EXPECT_MSG(cl, "[3,\"4\",\"D\"]");
    send_text(cl, "[2,\"5\",\"http://x/onlytopic\"]");
    EXPECT_PREFIX(cl, "[4,\"5\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",");
}

static const wamp1_handler *custom_resolve(wamp1_app *a, const wamp1_route *r, void *user) {
    static const wamp1_handler hr = {h_tag, NULL, NULL, NULL, (void *)"resolved"};
    CHECK(a == &g_app);
    CHECK(user == &user_marker);
    if (r->handler_name && strcmp(r->handler_name, "mine") == 0) return &hr;
    return r->handler;
}

static void tweak_resolver(wamp1_app_config *c) { c->resolve = custom_resolve; }

TEST(test_call_handler_names) {
    static const wamp1_handler hn = {h_tag, NULL, NULL, NULL, (void *)"named"};
    wamp1_route r;
    int cl;
    setup();
    memset(&r, 0, sizeof r);
    r.kind = WAMP1_ROUTE_RPC;
    r.pattern = "http://x/named";
    r.handler_name = "calc.named";
    CHECK_EQ_INT(wamp1_app_add_route(&g_app, &r), 0);
    r.pattern = "http://x/unnamed";
    r.handler_name = "not.registered";
    CHECK_EQ_INT(wamp1_app_add_route(&g_app, &r), 0);
    CHECK_EQ_INT(wamp1_app_add_handler(&g_app, "calc.named", &hn), 0);
    cl = WCONNECT();
    send_text(cl, "[2,\"n\",\"http://x/named\"]");
    EXPECT_MSG(cl, "[3,\"n\",\"named\"]");
    send_text(cl, "[2,\"u\",\"http://x/unnamed\"]");
    EXPECT_MSG(cl, "[4,\"u\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",\"no procedure registered for http://x/unnamed\"]");

    setup_with(tweak_resolver);
    r.pattern = "http://x/mine";
    r.handler_name = "mine";
    CHECK_EQ_INT(wamp1_app_add_route(&g_app, &r), 0);
    r.pattern = "http://x/other";
    r.handler_name = "other";
    CHECK_EQ_INT(wamp1_app_add_route(&g_app, &r), 0);
    cl = WCONNECT();
    send_text(cl, "[2,\"m\",\"http://x/mine\"]");
    EXPECT_MSG(cl, "[3,\"m\",\"resolved\"]");
    send_text(cl, "[2,\"o\",\"http://x/other\"]");
    EXPECT_PREFIX(cl, "[4,\"o\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",");
    send_text(cl, "[2,\"e\",\"http://x/echo\",5]"); /* a route with a handler goes through the resolver too */
    EXPECT_MSG(cl, "[3,\"e\",[5]]");
}

static int st_invalid = WAMP1_CALL_INVALID_ARGUMENT, st_generic = WAMP1_CALL_GENERIC,
                 st_internal = WAMP1_CALL_INTERNAL, st_ok = WAMP1_CALL_OK, st_noend = WAMP1_CALL_NO_ENDPOINT;
static const wamp1_handler H_INVALID = {h_status, NULL, NULL, NULL, (void *)&st_invalid};
static const wamp1_handler H_GENERIC = {h_status, NULL, NULL, NULL, (void *)&st_generic};
static const wamp1_handler H_INTERNAL = {h_status, NULL, NULL, NULL, (void *)&st_internal};
static const wamp1_handler H_SILENT = {h_status, NULL, NULL, NULL, (void *)&st_ok};
static const wamp1_handler H_NOEND = {h_status, NULL, NULL, NULL, (void *)&st_noend};

static void add_status_routes(void) {
    static const wamp1_handler he = {h_error_plain, NULL, NULL, NULL, NULL};
    (void)wamp1_app_add_rpc(&g_app, "http://x/invalid", &H_INVALID);
    (void)wamp1_app_add_rpc(&g_app, "http://x/generic", &H_GENERIC);
    (void)wamp1_app_add_rpc(&g_app, "http://x/internal", &H_INTERNAL);
    (void)wamp1_app_add_rpc(&g_app, "http://x/silent", &H_SILENT);
    (void)wamp1_app_add_rpc(&g_app, "http://x/noend", &H_NOEND);
    (void)wamp1_app_add_rpc(&g_app, "http://x/plain", &he);
    (void)wamp1_app_add_rpc(&g_app, "http://x/details", &H_DETAILS);
    {
        static const wamp1_handler ha = {h_answer_then_fail, NULL, NULL, NULL, NULL};
        (void)wamp1_app_add_rpc(&g_app, "http://x/answered", &ha);
    }
}

TEST(test_call_errors) {
    int cl;
    setup();
    add_status_routes();
    cl = WCONNECT();
    send_text(cl, "[2,\"nx\",\"http://x/nothing\",1]");
    EXPECT_MSG(cl, "[4,\"nx\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",\"no procedure registered for http://x/nothing\"]");
    send_text(cl, "[2,\"i\",\"http://x/invalid\"]");
    EXPECT_MSG(cl, "[4,\"i\",\"http://api.wamp.ws/error#invalid_argument\",\"invalid argument\"]");
    send_text(cl, "[2,\"g\",\"http://x/generic\"]");
    EXPECT_PREFIX(cl, "[4,\"g\",\"http://api.wamp.ws/error#generic\",\"");
    send_text(cl, "[2,\"in\",\"http://x/internal\"]");
    EXPECT_MSG(cl, "[4,\"in\",\"http://api.wamp.ws/error#internal\",\"internal error\"]");
    send_text(cl, "[2,\"s\",\"http://x/silent\"]"); /* OK without an answer: still answered */
    EXPECT_PREFIX(cl, "[4,\"s\",\"http://api.wamp.ws/error#generic\",\"");
    send_text(cl, "[2,\"ne\",\"http://x/noend\"]");
    EXPECT_PREFIX(cl, "[4,\"ne\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",\"");
    send_text(cl, "[2,\"p\",\"http://x/plain\"]");
    EXPECT_MSG(cl, "[4,\"p\",\"http://x/error#plain\",\"\"]");
    send_text(cl, "[2,\"d\",\"http://x/details\",1,2]");
    EXPECT_MSG(cl, "[4,\"d\",\"http://x/error#bad\",\"it \\\"failed\\\"\",{\"code\":42,\"args\":[2]}]");
    EXPECT_NONE(cl);
    send_text(cl, "[2,\"af\",\"http://x/answered\"]"); /* answered: the status is not sent too */
    EXPECT_MSG(cl, "[3,\"af\",1]");
    EXPECT_NONE(cl);
    CHECK(strcmp(wamp1_error_uri_default(WAMP1_CALL_NO_ENDPOINT), "http://api.wamp.ws/error#NoSuchRPCEndpoint") == 0);
    CHECK(strcmp(wamp1_error_uri_default(WAMP1_CALL_INVALID_ARGUMENT), "http://api.wamp.ws/error#invalid_argument") == 0);
    CHECK(strcmp(wamp1_error_uri_default(WAMP1_CALL_GENERIC), "http://api.wamp.ws/error#generic") == 0);
    CHECK(strcmp(wamp1_error_uri_default(WAMP1_CALL_INTERNAL), "http://api.wamp.ws/error#internal") == 0);
}

/* "If errorDetails is present, it MUST be not null" */
TEST(test_call_error_null_details) {
    static const wamp1_handler hn = {h_error_null_details, NULL, NULL, NULL, NULL};
    int cl;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/nulldetails", &hn);
    cl = WCONNECT();
    send_text(cl, "[2,\"z\",\"http://x/nulldetails\"]");
    EXPECT_MSG(cl, "[4,\"z\",\"http://x/error#n\",\"d\"]");
}

static const char *my_error_uri(wamp1_call_status st, void *user) {
    CHECK(user == &user_marker);
    switch (st) {
    case WAMP1_CALL_NO_ENDPOINT: return "urn:err:noproc";
    case WAMP1_CALL_INVALID_ARGUMENT: return "urn:err:args";
    case WAMP1_CALL_INTERNAL: return "urn:err:internal";
    default: return NULL; /* the default */
    }
}
static void tweak_error_uri(wamp1_app_config *c) { c->error_uri = my_error_uri; }

TEST(test_call_custom_error_uris) {
    int cl;
    setup_with(tweak_error_uri);
    add_status_routes();
    cl = WCONNECT();
    send_text(cl, "[2,\"nx\",\"http://x/nothing\"]");
    EXPECT_MSG(cl, "[4,\"nx\",\"urn:err:noproc\",\"no procedure registered for http://x/nothing\"]");
    send_text(cl, "[2,\"i\",\"http://x/invalid\"]");
    EXPECT_MSG(cl, "[4,\"i\",\"urn:err:args\",\"invalid argument\"]");
    send_text(cl, "[2,\"in\",\"http://x/internal\"]");
    EXPECT_MSG(cl, "[4,\"in\",\"urn:err:internal\",\"internal error\"]");
    send_text(cl, "[2,\"g\",\"http://x/generic\"]");
    EXPECT_PREFIX(cl, "[4,\"g\",\"http://api.wamp.ws/error#generic\",");
    send_text(cl, "[2,\"m\",5]"); /* procURI not a string: invalid_argument, also through the resolver */
    EXPECT_PREFIX(cl, "[4,\"m\",\"urn:err:args\",");
}

TEST(test_call_result_shapes) {
    static const struct { const char *shape, *value; } rows[] = {
        {"object", "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\\\"k\":\"e\"}}"},
        {"nested", "[[1,[2,[3]]],[],{}]"},
        {"string", "\"q\\\"b\\\\s/\\n\\t\\u0001\xc3\xa9\""},
        {"empty", "\"\""},
        {"numbers", "[0,-1,-9223372036854775808,9223372036854775807,1.5,0.1,1e21,-2.5e-7,3]"},
        {"int", "7"},
        {"null", "null"},
        {"true", "true"},
        {"none", "null"},
        {"json", "{\"x\":[1,2]}"},
    };
    size_t i;
    int cl;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/shape", &H_SHAPE);
    cl = WCONNECT();
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *want = fmt("[3,\"r%u\",%s]", (unsigned)i, rows[i].value);
        send_text(cl, fmt("[2,\"r%u\",\"http://x/shape\",\"%s\"]", (unsigned)i, rows[i].shape));
        EXPECT_MSG(cl, want);
        CHECK(json_valid(want));
    }
}

TEST(test_callid_byte_for_byte) {
    static const char *ids[] = {
        "\"0.bvhz8xq1yh\"", "\"a\\\"b\\\\u00e9\"", "\"a\\\"b\\u00e9\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
        "\"\\ud83d\\ude00\"", "\"\"", "\"  spaces \\/ \\t\"", "\"0123456789012345678901234567890123456789012345678901234567890123456789\"",
    };
    size_t i;
    int cl;
    setup();
    cl = WCONNECT();
    for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        send_text(cl, fmt("[2,%s,\"http://x/echo\",%u]", ids[i], (unsigned)i));
        EXPECT_MSG(cl, fmt("[3,%s,[%u]]", ids[i], (unsigned)i));
        send_text(cl, fmt("[2,%s,\"http://x/none\"]", ids[i]));
        EXPECT_MSG(cl, fmt("[4,%s,\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",\"no procedure registered for http://x/none\"]", ids[i]));
    }
    /* spacing inside the message does not matter */
    send_text(cl, " [ 2 , \"sp\" , \"http://x/echo\" , 1 ] ");
    EXPECT_MSG(cl, "[3,\"sp\",[1]]");
}

TEST(test_deferred_out_of_order) {
    wamp1_call call;
    int cl, other;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/defer", &H_DEFER);
    cl = WCONNECT();
    other = WCONNECT();
    send_text(cl, "[2,\"c1\",\"http://x/defer\"]");
    send_text(cl, "[2,\"c\\\"2\",\"http://x/defer\"]");
    send_text(cl, "[2,\"0.bvhz8xq1yh\",\"http://x/defer\"]");
    EXPECT_NONE(cl);
    CHECK_EQ_INT(ndeferred, 3);
    CHECK_EQ_INT(wstats().pending_calls, 3);
    /* other messages are processed meanwhile */
    send_text(cl, "[2,\"sync\",\"http://x/echo\",0]");
    EXPECT_MSG(cl, "[3,\"sync\",[0]]");
    /* answer the 3rd, then the 1st, then the 2nd */
    CHECK_EQ_INT(wamp1_call_resume(&g_app, deferred[2], &call), 0);
    CHECK(call.conn == conn_of(cl));
    wamp1_jw_int(wamp1_call_result_begin(&call), 3);
    CHECK_EQ_INT(wamp1_call_result_end(&call), 0);
    EXPECT_MSG(cl, "[3,\"0.bvhz8xq1yh\",3]");
    CHECK_EQ_INT(wamp1_call_resume(&g_app, deferred[0], &call), 0);
    wamp1_jw_string(wamp1_call_result_begin(&call), "one", 3);
    CHECK_EQ_INT(wamp1_call_result_end(&call), 0);
    EXPECT_MSG(cl, "[3,\"c1\",\"one\"]");
    CHECK_EQ_INT(wamp1_call_resume(&g_app, deferred[1], &call), 0);
    wamp1_jw_int(wamp1_call_error_begin(&call, "http://x/error#late", "later"), 2);
    CHECK_EQ_INT(wamp1_call_error_end(&call), 0);
    EXPECT_MSG(cl, "[4,\"c\\\"2\",\"http://x/error#late\",\"later\",2]");
    CHECK_EQ_INT(wstats().pending_calls, 0);
    /* a handle answers once */
    CHECK_EQ_INT(wamp1_call_resume(&g_app, deferred[0], &call), -1);
    {
        wamp1_call_handle bogus;
        bogus.id = 0;
        CHECK_EQ_INT(wamp1_call_resume(&g_app, bogus, &call), -1);
        bogus.id = 0x10063;
        CHECK_EQ_INT(wamp1_call_resume(&g_app, bogus, &call), -1);
    }
    /* a deferred answer with nothing written is null */
    send_text(cl, "[2,\"c4\",\"http://x/defer\"]");
    CHECK_EQ_INT(wamp1_call_resume(&g_app, deferred[3], &call), 0);
    (void)wamp1_call_result_begin(&call);
    CHECK_EQ_INT(wamp1_call_result_end(&call), 0);
    EXPECT_MSG(cl, "[3,\"c4\",null]");
    EXPECT_NONE(other);
}

TEST(test_deferred_after_disconnect) {
    wamp1_call call;
    int a, b, c, rc;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/defer", &H_DEFER);
    a = WCONNECT();
    b = WCONNECT();
    send_text(a, "[2,\"gone1\",\"http://x/defer\"]");
    send_text(a, "[2,\"gone2\",\"http://x/defer\"]");
    CHECK_EQ_INT(wstats().pending_calls, 2);
    client_close(a);
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, a), 1);
    CHECK_EQ_INT(wstats().pending_calls, 0);
    wamp1_testport_release(&tp, a);
    c = WCONNECT(); /* may take the same slot and the same test port handle */
    rc = wamp1_call_resume(&g_app, deferred[0], &call);
    CHECK(rc == -1 || (rc == 0 && call.conn == NULL));
    if (rc == 0) {
        wamp1_jw_int(wamp1_call_result_begin(&call), 1);
        (void)wamp1_call_result_end(&call);
    }
    /* the reset variant: the caller vanishes */
    send_text(c, "[2,\"gone3\",\"http://x/defer\"]");
    CHECK_EQ_INT(wstats().pending_calls, 1);
    wamp1_testport_client_reset(&tp, c);
    pump(3);
    CHECK_EQ_INT(wstats().pending_calls, 0);
    rc = wamp1_call_resume(&g_app, deferred[2], &call);
    CHECK(rc == -1 || (rc == 0 && call.conn == NULL));
    if (rc == 0) {
        (void)wamp1_call_error(&call, "http://x/e", "x");
    }
    rc = wamp1_call_resume(&g_app, deferred[1], &call);
    CHECK(rc == -1 || (rc == 0 && call.conn == NULL));
    pump(3);
    EXPECT_NONE(b);
    /* b still works */
    send_text(b, "[2,\"ok\",\"http://x/echo\"]");
    EXPECT_MSG(b, "[3,\"ok\",[]]");
}

TEST(test_pending_exhaustion) {
    wamp1_call call;
    int cl, i;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/defer", &H_DEFER);
    cl = WCONNECT();
    for (i = 1; i <= WAMP1_MAX_PENDING_CALLS; i++) send_text(cl, fmt("[2,\"d%d\",\"http://x/defer\"]", i));
    EXPECT_NONE(cl);
    CHECK_EQ_INT(wstats().pending_calls, WAMP1_MAX_PENDING_CALLS);
    CHECK_EQ_INT(wstats().pending_calls_max, WAMP1_MAX_PENDING_CALLS);
    send_text(cl, "[2,\"d4\",\"http://x/defer\"]");
    EXPECT_MSG(cl, "[4,\"d4\",\"http://api.wamp.ws/error#internal\",\"internal error\"]");
    /* a slot answered is a slot free again */
    CHECK_EQ_INT(wamp1_call_resume(&g_app, deferred[1], &call), 0);
    (void)wamp1_call_result_json(&call, "2", 1);
    EXPECT_MSG(cl, "[3,\"d2\",2]");
    send_text(cl, "[2,\"d5\",\"http://x/defer\"]");
    EXPECT_NONE(cl);
    CHECK_EQ_INT(ndeferred, 4);
    CHECK_EQ_INT(wstats().pending_calls, 3);
    /* a callID too long to keep cannot be deferred */
    CHECK_EQ_INT(wamp1_call_resume(&g_app, deferred[3], &call), 0);
    (void)wamp1_call_result_json(&call, "5", 1);
    EXPECT_MSG(cl, "[3,\"d5\",5]");
    {
        char id[WAMP1_MAX_CALLID + 8];
        memset(id, 'q', sizeof id - 1);
        id[sizeof id - 1] = 0;
        send_text(cl, fmt("[2,\"%s\",\"http://x/defer\"]", id));
        EXPECT_MSG(cl, fmt("[4,\"%s\",\"http://api.wamp.ws/error#internal\",\"internal error\"]", id));
    }
    /* closing the connection frees its entries */
    client_close(cl);
    CHECK_EQ_INT(wstats().pending_calls, 0);
    CHECK_EQ_INT(wamp1_call_resume(&g_app, deferred[0], &call), -1);
    CHECK_EQ_INT(wamp1_call_resume(&g_app, deferred[2], &call), -1);
}

/* ==== PREFIX and CURIEs ========================================================== */

TEST(test_prefix_curie) {
    int cl, other;
    setup();
    cl = WCONNECT();
    other = WCONNECT();
    send_text(cl, "[1,\"calc\",\"http://example.com/simple/calc#\"]");
    EXPECT_NONE(cl); /* PREFIX is not answered */
    CHECK_EQ_INT(wstats().prefixes, 1);
    send_text(cl, "[2,\"1\",\"calc:square\",2]");
    EXPECT_MSG(cl, "[3,\"1\",\"http://example.com/simple/calc#square\"]");
    send_text(cl, "[2,\"2\",\"http://example.com/simple/calc#square\"]");
    EXPECT_MSG(cl, "[3,\"2\",\"http://example.com/simple/calc#square\"]");
    /* unknown prefixes pass through unchanged */
    send_text(cl, "[2,\"3\",\"http://x/uri\"]");
    EXPECT_MSG(cl, "[3,\"3\",\"http://x/uri\"]");
    send_text(cl, "[2,\"4\",\"foo:bar\"]");
    EXPECT_MSG(cl, "[3,\"4\",\"foo:bar\"]");
    send_text(cl, "[2,\"5\",\"calc\"]"); /* no colon */
    EXPECT_PREFIX(cl, "[4,\"5\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",\"no procedure registered for calc\"");
    /* the split is at the first ':' */
    send_text(cl, "[2,\"6\",\"calc:a:b\"]");
    EXPECT_MSG(cl, "[3,\"6\",\"http://example.com/simple/calc#a:b\"]");
    /* the NoSuchRPCEndpoint description names the expanded URI */
    send_text(cl, "[1,\"nope\",\"http://nowhere/\"]");
    send_text(cl, "[2,\"7\",\"nope:thing\"]");
    EXPECT_MSG(cl, "[4,\"7\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",\"no procedure registered for http://nowhere/thing\"]");
    /* a later PREFIX for the same name replaces the earlier one */
    send_text(cl, "[1,\"calc\",\"http://example.com/simple/calc#v2_\"]");
    CHECK_EQ_INT(wstats().prefixes, 2);
    send_text(cl, "[2,\"8\",\"calc:square\"]");
    EXPECT_MSG(cl, "[3,\"8\",\"http://example.com/simple/calc#v2_square\"]");
    /* per connection: the other connection does not see it */
    send_text(other, "[2,\"9\",\"calc:square\"]");
    EXPECT_MSG(other, "[4,\"9\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",\"no procedure registered for calc:square\"]");
    EXPECT_NONE(cl);
    /* wamp1_conn_resolve_curie */
    {
        char out[64];
        CHECK_EQ_INT(wamp1_conn_resolve_curie(conn_of(cl), "calc:x", 6, out, sizeof out),
                     strlen("http://example.com/simple/calc#v2_x"));
        CHECK(strcmp(out, "http://example.com/simple/calc#v2_x") == 0);
        CHECK_EQ_INT(wamp1_conn_resolve_curie(conn_of(other), "calc:x", 6, out, sizeof out), 6);
        CHECK(strcmp(out, "calc:x") == 0);
        CHECK_EQ_INT(wamp1_conn_resolve_curie(conn_of(cl), "calc:x", 6, out, 10), -1);
    }
    /* the prefix goes away with its connection */
    client_close(cl);
    CHECK_EQ_INT(wstats().prefixes, 0);
}

static void tweak_hash_join(wamp1_app_config *c) { c->curie_hash_join = 1; }

TEST(test_curie_hash_join) {
    int cl;
    setup_with(tweak_hash_join);
    cl = WCONNECT();
    send_text(cl, "[1,\"calc\",\"http://example.com/simple/calc\"]");
    send_text(cl, "[2,\"1\",\"calc:square\"]");
    EXPECT_MSG(cl, "[3,\"1\",\"http://example.com/simple/calc#square\"]");
    send_text(cl, "[2,\"2\",\"foo:bar\"]");
    EXPECT_MSG(cl, "[3,\"2\",\"foo:bar\"]");
    send_text(cl, "[5,\"t:x\"]");
    send_text(cl, "[1,\"t\",\"http://x/t/\"]");
    send_text(cl, "[5,\"t:y\"]");
    /* hash join: http://x/t/#y, which no topic route takes */
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/#y"), 0);
    CHECK_EQ_INT(err_count[WAMP1_ERR_NO_ROUTE], 2);
    send_text(cl, "[1,\"et\",\"http://example.com/topic\"]");
    send_text(cl, "[5,\"et:news\"]");
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://example.com/topic#news"), 1);
    send_text(cl, "[7,\"et:news\",1,false]");
    EXPECT_MSG(cl, "[8,\"http://example.com/topic#news\",1]");
}

TEST(test_curie_topics) {
    int a, b;
    setup();
    a = WCONNECT();
    b = WCONNECT();
    send_text(a, "[1,\"t\",\"http://x/t/\"]");
    send_text(b, "[1,\"tt\",\"http://x/t/\"]");
    send_text(a, "[5,\"t:news\"]");
    send_text(b, "[5,\"http://x/t/news\"]");
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/news"), 2);
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "t:news"), 0);
    CHECK(wamp1_conn_subscribed(conn_of(a), "http://x/t/news"));
    /* EVENT always carries the expanded URI */
    send_text(b, "[7,\"tt:news\",{\"n\":1}]");
    EXPECT_MSG(a, "[8,\"http://x/t/news\",{\"n\":1}]");
    EXPECT_NONE(b);
    send_text(a, "[7,\"t:news\",\"hi\",false]");
    EXPECT_MSG(a, "[8,\"http://x/t/news\",\"hi\"]");
    EXPECT_MSG(b, "[8,\"http://x/t/news\",\"hi\"]");
    /* UNSUBSCRIBE with the CURIE */
    send_text(a, "[6,\"t:news\"]");
    CHECK(!wamp1_conn_subscribed(conn_of(a), "http://x/t/news"));
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/news"), 1);
    send_text(b, "[7,\"tt:news\",2,false]");
    EXPECT_MSG(b, "[8,\"http://x/t/news\",2]");
    EXPECT_NONE(a);
    /* b's CURIE is unknown to a: passes through as a topic no route takes */
    send_text(a, "[5,\"tt:news\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_NO_ROUTE], 1);
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "tt:news"), 0);
}

TEST(test_prefix_limits) {
    int a, b, c, i;
    setup();
    a = WCONNECT();
    b = WCONNECT();
    c = WCONNECT();
    for (i = 0; i < WAMP1_MAX_PREFIXES_PER_CONN; i++) send_text(a, fmt("[1,\"p%d\",\"http://x/p%d/\"]", i, i));
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 0);
    CHECK_EQ_INT(wstats().prefixes, 3);
    send_text(a, "[1,\"p9\",\"http://example.com/simple/calc#\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 1);
    CHECK(err_conn == conn_of(a));
    CHECK_EQ_INT(wstats().prefixes, 3);
    send_text(a, "[2,\"x\",\"p9:sq\"]"); /* ignored: still unknown */
    EXPECT_MSG(a, "[4,\"x\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",\"no procedure registered for p9:sq\"]");
    /* replacing an existing prefix is still possible at the limit */
    send_text(a, "[1,\"p0\",\"http://example.com/simple/calc#\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 1);
    send_text(a, "[2,\"y\",\"p0:sq\"]");
    EXPECT_MSG(a, "[3,\"y\",\"http://example.com/simple/calc#sq\"]");
    /* the pool (6) runs out before b's own limit */
    for (i = 0; i < 3; i++) send_text(b, fmt("[1,\"b%d\",\"http://x/b%d/\"]", i, i));
    CHECK_EQ_INT(wstats().prefixes, 6);
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 1);
    send_text(c, "[1,\"calc\",\"http://example.com/simple/calc#\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 2);
    CHECK(err_conn == conn_of(c));
    send_text(c, "[2,\"z\",\"calc:sq\"]");
    EXPECT_PREFIX(c, "[4,\"z\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",");
    /* a closed connection gives its entries back */
    client_close(a);
    CHECK_EQ_INT(wstats().prefixes, 3);
    send_text(c, "[1,\"calc\",\"http://example.com/simple/calc#\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 2);
    send_text(c, "[2,\"z2\",\"calc:sq\"]");
    EXPECT_MSG(c, "[3,\"z2\",\"http://example.com/simple/calc#sq\"]");
    /* names and URIs longer than the table takes are ignored, reported as a limit */
    send_text(c, "[1,\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"http://x/\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 3);
    CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 0);
    CHECK_EQ_INT(wstats().prefixes, 4);
}

/* ==== publish and subscribe ====================================================== */

TEST(test_pubsub_sets) {
    int a, b, c;
    setup();
    a = WCONNECT();
    b = WCONNECT();
    c = WCONNECT();
    send_text(a, "[5,\"http://x/t/a\"]");
    send_text(a, "[5,\"http://x/t/a\"]");
    EXPECT_NONE(a); /* not acknowledged */
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/a"), 1);
    CHECK_EQ_INT(wstats().subscriptions, 1);
    /* the publisher need not be subscribed; one event despite two SUBSCRIBEs */
    send_text(c, "[7,\"http://x/t/a\",{\"k\":[1,2]}]");
    EXPECT_MSG(a, "[8,\"http://x/t/a\",{\"k\":[1,2]}]");
    EXPECT_NONE(a);
    EXPECT_NONE(b);
    EXPECT_NONE(c);
    /* any JSON value, null included */
    send_text(c, "[7,\"http://x/t/a\",null]");
    EXPECT_MSG(a, "[8,\"http://x/t/a\",null]");
    send_text(c, "[7,\"http://x/t/a\",\"s\\\"\\u00e9\"]");
    EXPECT_MSG(a, "[8,\"http://x/t/a\",\"s\\\"\\u00e9\"]");
    send_text(c, "[7,\"http://x/t/a\",-1.5e3]");
    EXPECT_MSG(a, "[8,\"http://x/t/a\",-1.5e3]");
    send_text(c, "[7,\"http://x/t/a\",[]]");
    EXPECT_MSG(a, "[8,\"http://x/t/a\",[]]");
    send_text(c, "[7,\"http://x/t/a\",false]");
    EXPECT_MSG(a, "[8,\"http://x/t/a\",false]");
    /* unsubscribing a topic one is not subscribed to changes nothing */
    send_text(b, "[6,\"http://x/t/a\"]");
    send_text(b, "[6,\"http://x/t/never\"]");
    send_text(b, "[6,\"http://nowhere/at/all\"]");
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/a"), 1);
    CHECK_EQ_INT(err_total, 0);
    send_text(c, "[7,\"http://x/t/a\",1]");
    EXPECT_MSG(a, "[8,\"http://x/t/a\",1]");
    /* unsubscribe once is enough; twice changes nothing */
    send_text(a, "[6,\"http://x/t/a\"]");
    send_text(a, "[6,\"http://x/t/a\"]");
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/a"), 0);
    send_text(c, "[7,\"http://x/t/a\",2]");
    EXPECT_NONE(a);
    EXPECT_NONE(b);
    EXPECT_NONE(c);
    CHECK_EQ_INT(err_total, 0);
}

/* Replace S0 and S1 with the session ids. */
static const char *subst(const char *tmpl, const char *s0, const char *s1) {
    static char out[2][1024];
    static unsigned k;
    char *o = out[k++ & 1u];
    size_t n = 0;
    while (*tmpl && n < 900) {
        if (tmpl[0] == 'S' && (tmpl[1] == '0' || tmpl[1] == '1')) {
            const char *s = tmpl[1] == '0' ? s0 : s1;
            size_t l = strlen(s);
            memcpy(o + n, s, l);
            n += l;
            tmpl += 2;
        } else o[n++] = *tmpl++;
    }
    o[n] = 0;
    return o;
}

typedef struct pub_row { const char *msg; int receivers; /* bit 0: S0, bit 1: S1 */ } pub_row;

static void run_pub_rows(const pub_row *rows, size_t count, int line) {
    int s0, s1, bystander;
    size_t i;
    s0 = WCONNECT();
    s1 = WCONNECT();
    bystander = WCONNECT();
    send_text(s0, "[5,\"http://x/t/vec\"]");
    send_text(s1, "[5,\"http://x/t/vec\"]");
    for (i = 0; i < count; i++) {
        const char *m = subst(rows[i].msg, sid[s0], sid[s1]);
        const char *ev = "[8,\"http://x/t/vec\",{\"v\":7}]";
        const char *g0, *g1;
        send_text(s0, m);
        g0 = recv_text(s0);
        g1 = recv_text(s1);
        check_line((rows[i].receivers & 1) ? g0 && strcmp(g0, ev) == 0 : g0 == NULL, line,
                   fmt("S0 for %s", rows[i].msg), (rows[i].receivers & 1) ? ev : "(nothing)", g0);
        check_line((rows[i].receivers & 2) ? g1 && strcmp(g1, ev) == 0 : g1 == NULL, line,
                   fmt("S1 for %s", rows[i].msg), (rows[i].receivers & 2) ? ev : "(nothing)", g1);
        EXPECT_NONE(s0);
        EXPECT_NONE(s1);
        EXPECT_NONE(bystander);
    }
    CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 0);
}

#define T_E "\"http://x/t/vec\",{\"v\":7}"
static const pub_row spec_rows[] = {
    {"[7," T_E "]", 2},
    {"[7," T_E ",null]", 2},
    {"[7," T_E ",false]", 3},
    {"[7," T_E ",true]", 2},
    {"[7," T_E ",[]]", 3},
    {"[7," T_E ",[\"S0\"]]", 2},
    {"[7," T_E ",[\"S1\"]]", 1},
    {"[7," T_E ",[\"S0\",\"S1\"]]", 0},
    {"[7," T_E ",[],[]]", 0},
    {"[7," T_E ",[],[\"S0\"]]", 1},
    {"[7," T_E ",[],[\"S1\"]]", 2},
    {"[7," T_E ",[],[\"S0\",\"S1\"]]", 3},
    {"[7," T_E ",[\"S0\"],[\"S0\",\"S1\"]]", 2},
    {"[7," T_E ",[\"S1\"],[\"S0\"]]", 1},
    {"[7," T_E ",[\"S0\",\"S1\"],[\"S0\",\"S1\"]]", 0},
    {"[7," T_E ",[\"S0\"],[]]", 0},
};

TEST(test_publish_vectors) {
    static const pub_row more[] = {
        /* a fourth element that is neither a boolean nor an array counts as absent */
        {"[7," T_E ",5]", 2},
        {"[7," T_E ",\"x\"]", 2},
        {"[7," T_E ",\"S0\"]", 2},
        {"[7," T_E ",{}]", 2},
        {"[7," T_E ",{\"a\":[1]}]", 2},
        /* names nobody knows exclude nobody */
        {"[7," T_E ",[\"nobody\"]]", 3},
        {"[7," T_E ",[\"\"],[\"S1\",\"S0\",\"S0\"]]", 3},
        {"[7," T_E ",[\"S1\"],[\"zz\"]]", 0},
        /* with an eligible list: booleans and absent-like fourth elements */
        {"[7," T_E ",5,[\"S0\",\"S1\"]]", 2},
        {"[7," T_E ",null,[\"S0\"]]", 0},
        {"[7," T_E ",false,[\"S0\"]]", 1},
        {"[7," T_E ",true,[\"S0\",\"S1\"]]", 2},
    };
    setup();
    CHECK_EQ_INT(sizeof spec_rows / sizeof spec_rows[0], 16);
    run_pub_rows(spec_rows, sizeof spec_rows / sizeof spec_rows[0], __LINE__);
    setup();
    run_pub_rows(more, sizeof more / sizeof more[0], __LINE__);
}

static void tweak_ratchet(wamp1_app_config *c) { c->publish_include_publisher = 1; }

TEST(test_publish_include_publisher) {
    static const pub_row rows[] = {
        {"[7," T_E "]", 3},
        {"[7," T_E ",null]", 3},
        {"[7," T_E ",5]", 3},
        {"[7," T_E ",true]", 2},
        {"[7," T_E ",false]", 3},
        {"[7," T_E ",[\"S0\"]]", 2},
        {"[7," T_E ",[],[\"S1\"]]", 2},
    };
    setup_with(tweak_ratchet);
    run_pub_rows(rows, sizeof rows / sizeof rows[0], __LINE__);
}

TEST(test_publish_malformed) {
    static const char *bad[] = {
        "[7,\"http://x/t/vec\",1,[\"S1\",5]]",
        "[7,\"http://x/t/vec\",1,[null]]",
        "[7,\"http://x/t/vec\",1,[[\"S1\"]]]",
        "[7,\"http://x/t/vec\",1,[],5]",
        "[7,\"http://x/t/vec\",1,[],null]",
        "[7,\"http://x/t/vec\",1,[],\"S1\"]",
        "[7,\"http://x/t/vec\",1,[],{}]",
        "[7,\"http://x/t/vec\",1,[],[\"S1\",1]]",
        "[7,\"http://x/t/vec\",1,[],[true]]",
        "[7,\"http://x/t/vec\",1,true,[\"S1\",2]]",
        "[7,\"http://x/t/vec\",1,[],[],[]]",
        "[7,\"http://x/t/vec\"]",
        "[7,5,1]",
        "[7,null,1]",
        "[7,[\"http://x/t/vec\"],1]",
    };
    size_t i;
    int s0, s1;
    setup();
    s0 = WCONNECT();
    s1 = WCONNECT();
    send_text(s0, "[5,\"http://x/t/vec\"]");
    send_text(s1, "[5,\"http://x/t/vec\"]");
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *m = subst(bad[i], sid[s0], sid[s1]);
        errors_reset();
        send_text(s0, m);
        if (err_count[WAMP1_ERR_MALFORMED] != 1) printf("    publish case %u: %s\n", (unsigned)i, m);
        CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 1);
        EXPECT_NONE(s0);
        EXPECT_NONE(s1);
    }
    /* still subscribed and working */
    send_text(s0, "[7,\"http://x/t/vec\",\"ok\"]");
    EXPECT_MSG(s1, "[8,\"http://x/t/vec\",\"ok\"]");
}

static int veto_calls, unsub_calls;
static char unsub_topic[160], unsub_name[32];
static int veto_sub(wamp1_app *a, wamp1_conn *c, const char *topic, size_t len, const wamp1_match *m, void *user) {
    size_t nl = 0;
    const char *name = wamp1_match_get(m, "name", &nl);
    (void)a;
    (void)c;
    (void)user;
    veto_calls++;
    CHECK(len == strlen(topic));
    return name && nl == 6 && memcmp(name, "secret", 6) == 0;
}
static void on_unsub(wamp1_app *a, wamp1_conn *c, const char *topic, size_t len, const wamp1_match *m, void *user) {
    size_t nl = 0;
    const char *name = wamp1_match_get(m, "name", &nl);
    (void)a;
    (void)c;
    CHECK(user == &user_marker);
    unsub_calls++;
    snprintf(unsub_topic, sizeof unsub_topic, "%.*s", (int)len, topic);
    snprintf(unsub_name, sizeof unsub_name, "%.*s", (int)nl, name ? name : "");
}

TEST(test_topic_routes_and_handlers) {
    static const wamp1_handler ht = {NULL, veto_sub, on_unsub, NULL, &user_marker};
    int a, b;
    setup();
    (void)wamp1_app_add_topic(&g_app, "http://x/guarded/{name}", &ht);
    a = WCONNECT();
    b = WCONNECT();
    veto_calls = unsub_calls = 0;
    /* no topic route: ignored, reported as NO_ROUTE */
    send_text(a, "[5,\"http://nowhere/t\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_NO_ROUTE], 1);
    CHECK(err_conn == conn_of(a));
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://nowhere/t"), 0);
    CHECK_EQ_INT(wstats().topics, 0);
    send_text(b, "[7,\"http://nowhere/t\",1,false]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_NO_ROUTE], 2);
    CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 0);
    EXPECT_NONE(a);
    EXPECT_NONE(b);
    /* an RPC route is not a topic route */
    send_text(a, "[5,\"http://x/echo\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_NO_ROUTE], 3);
    /* veto */
    send_text(a, "[5,\"http://x/guarded/secret\"]");
    CHECK_EQ_INT(veto_calls, 1);
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/guarded/secret"), 0);
    send_text(a, "[5,\"http://x/guarded/open\"]");
    CHECK_EQ_INT(veto_calls, 2);
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/guarded/open"), 1);
    send_text(b, "[7,\"http://x/guarded/open\",\"e\"]");
    EXPECT_MSG(a, "[8,\"http://x/guarded/open\",\"e\"]");
    /* unsubscribe callback: only for a real unsubscription */
    send_text(b, "[6,\"http://x/guarded/open\"]");
    CHECK_EQ_INT(unsub_calls, 0);
    send_text(a, "[6,\"http://x/guarded/open\"]");
    CHECK_EQ_INT(unsub_calls, 1);
    CHECK(strcmp(unsub_topic, "http://x/guarded/open") == 0);
    CHECK(strcmp(unsub_name, "open") == 0);
    send_text(a, "[6,\"http://x/guarded/open\"]");
    CHECK_EQ_INT(unsub_calls, 1);
    CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 0);
}

TEST(test_topic_lifecycle) {
    int a, b, i, n;
    const char *uri = NULL;
    unsigned subs = 0;
    setup();
    a = WCONNECT();
    b = WCONNECT();
    CHECK_EQ_INT(wamp1_app_topic_next(&g_app, 0, &uri, &subs), -1);
    send_text(a, "[5,\"http://x/t/one\"]");
    send_text(b, "[5,\"http://x/t/one\"]");
    send_text(a, "[5,\"http://x/t/two\"]");
    CHECK_EQ_INT(wstats().topics, 2);
    CHECK_EQ_INT(wstats().subscriptions, 3);
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/one"), 2);
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/two"), 1);
    n = 0;
    for (i = wamp1_app_topic_next(&g_app, 0, &uri, &subs); i >= 0; i = wamp1_app_topic_next(&g_app, i + 1, &uri, &subs)) {
        n++;
        CHECK((strcmp(uri, "http://x/t/one") == 0 && subs == 2) || (strcmp(uri, "http://x/t/two") == 0 && subs == 1));
    }
    CHECK_EQ_INT(n, 2);
    /* the last subscriber leaving frees the topic */
    send_text(a, "[6,\"http://x/t/two\"]");
    CHECK_EQ_INT(wstats().topics, 1);
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/two"), 0);
    i = wamp1_app_topic_next(&g_app, 0, &uri, &subs);
    CHECK(i >= 0 && strcmp(uri, "http://x/t/one") == 0 && subs == 2);
    CHECK_EQ_INT(wamp1_app_topic_next(&g_app, i + 1, &uri, &subs), -1);
    /* a subscriber disconnecting */
    client_close(a);
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/one"), 1);
    CHECK_EQ_INT(wstats().subscriptions, 1);
    wamp1_testport_client_reset(&tp, b);
    pump(3);
    CHECK_EQ_INT(wstats().topics, 0);
    CHECK_EQ_INT(wstats().subscriptions, 0);
    CHECK_EQ_INT(wamp1_app_topic_next(&g_app, 0, &uri, &subs), -1);
    /* and all of it can be used again */
    a = WCONNECT();
    for (i = 0; i < WAMP1_MAX_TOPICS; i++) send_text(a, fmt("[5,\"http://x/t/n%d\"]", i));
    CHECK_EQ_INT(wstats().topics, WAMP1_MAX_TOPICS);
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 0);
    send_text(a, "[7,\"http://x/t/n3\",3,false]");
    EXPECT_MSG(a, "[8,\"http://x/t/n3\",3]");
}

TEST(test_topic_pools) {
    int a, b, c, i;
    setup();
    a = WCONNECT();
    b = WCONNECT();
    c = WCONNECT();
    /* topic pool (4) */
    for (i = 0; i < WAMP1_MAX_TOPICS; i++) send_text(a, fmt("[5,\"http://x/t/p%d\"]", i));
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 0);
    send_text(a, "[5,\"http://x/t/p4\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 1);
    CHECK(err_conn == conn_of(a));
    CHECK_EQ_INT(wstats().topics, WAMP1_MAX_TOPICS);
    CHECK(!wamp1_conn_subscribed(conn_of(a), "http://x/t/p4"));
    send_text(b, "[7,\"http://x/t/p4\",1]");
    EXPECT_NONE(a);
    /* existing topics can still be joined: subscription pool (8) */
    for (i = 0; i < WAMP1_MAX_TOPICS; i++) send_text(b, fmt("[5,\"http://x/t/p%d\"]", i));
    CHECK_EQ_INT(wstats().subscriptions, 8);
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 1);
    send_text(c, "[5,\"http://x/t/p0\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 2);
    CHECK(err_conn == conn_of(c));
    CHECK(!wamp1_conn_subscribed(conn_of(c), "http://x/t/p0"));
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/p0"), 2);
    /* subscribing again to what one has costs nothing */
    send_text(a, "[5,\"http://x/t/p0\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 2);
    send_text(c, "[7,\"http://x/t/p0\",0]");
    EXPECT_MSG(a, "[8,\"http://x/t/p0\",0]");
    EXPECT_MSG(b, "[8,\"http://x/t/p0\",0]");
    EXPECT_NONE(c);
    /* freeing makes room */
    send_text(b, "[6,\"http://x/t/p1\"]");
    send_text(c, "[5,\"http://x/t/p0\"]");
    CHECK(wamp1_conn_subscribed(conn_of(c), "http://x/t/p0"));
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 2);
}

static wamp1_conn_id id_of(int cl) { return wamp1_conn_handle(conn_of(cl)); }

TEST(test_app_publish_api) {
    int a, b, c, d, n;
    wamp1_publish_opts o;
    wamp1_conn_id ex[2], el[3];
    setup();
    a = WCONNECT();
    b = WCONNECT();
    c = WCONNECT();
    d = WCONNECT();
    send_text(a, "[5,\"http://x/t/s\"]");
    send_text(b, "[5,\"http://x/t/s\"]");
    send_text(c, "[5,\"http://x/t/s\"]");
    n = wamp1_app_publish(&g_app, "http://x/t/s", "{\"x\":1}", 7, NULL);
    CHECK_EQ_INT(n, 3);
    pump(2);
    EXPECT_MSG(a, "[8,\"http://x/t/s\",{\"x\":1}]");
    EXPECT_MSG(b, "[8,\"http://x/t/s\",{\"x\":1}]");
    EXPECT_MSG(c, "[8,\"http://x/t/s\",{\"x\":1}]");
    EXPECT_NONE(d);
    memset(&o, 0, sizeof o);
    ex[0] = id_of(b);
    o.exclude = ex;
    o.exclude_count = 1;
    CHECK_EQ_INT(wamp1_app_publish(&g_app, "http://x/t/s", "2", 1, &o), 2);
    EXPECT_MSG(a, "[8,\"http://x/t/s\",2]");
    EXPECT_NONE(b);
    EXPECT_MSG(c, "[8,\"http://x/t/s\",2]");
    el[0] = id_of(a);
    el[1] = id_of(b);
    el[2] = id_of(d); /* eligible but not subscribed */
    o.eligible = el;
    o.eligible_count = 3;
    o.use_eligible = 1;
    CHECK_EQ_INT(wamp1_app_publish(&g_app, "http://x/t/s", "3", 1, &o), 1);
    EXPECT_MSG(a, "[8,\"http://x/t/s\",3]");
    EXPECT_NONE(b);
    EXPECT_NONE(c);
    EXPECT_NONE(d);
    o.exclude_count = 0;
    o.eligible_count = 0; /* empty eligible: nobody */
    CHECK_EQ_INT(wamp1_app_publish(&g_app, "http://x/t/s", "4", 1, &o), 0);
    o.use_eligible = 0;
    CHECK_EQ_INT(wamp1_app_publish(&g_app, "http://x/t/s", "5", 1, &o), 3);
    EXPECT_MSG(a, "[8,\"http://x/t/s\",5]");
    EXPECT_MSG(b, "[8,\"http://x/t/s\",5]");
    EXPECT_MSG(c, "[8,\"http://x/t/s\",5]");
    /* no subscribers, invalid JSON */
    CHECK_EQ_INT(wamp1_app_publish(&g_app, "http://x/t/none", "6", 1, NULL), 0);
    errors_reset();
    CHECK_EQ_INT(wamp1_app_publish(&g_app, "http://x/t/s", "{bad", 4, NULL), -1);
    CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 1);
    CHECK_EQ_INT(wamp1_app_publish(&g_app, "http://x/t/s", "1 2", 3, NULL), -1);
    /* a stale handle in a list matches nobody */
    client_close(c);
    o.eligible = ex; /* b */
    o.eligible_count = 1;
    o.use_eligible = 1;
    CHECK_EQ_INT(wamp1_app_publish(&g_app, "http://x/t/s", "7", 1, &o), 1);
    EXPECT_MSG(b, "[8,\"http://x/t/s\",7]");
    EXPECT_NONE(a);
    /* wamp1_conn_event: one connection, any topic, subscribed or not */
    CHECK_EQ_INT(wamp1_conn_event(conn_of(d), "http://x/private", "[1,{\"a\":null}]", 14), 0);
    EXPECT_MSG(d, "[8,\"http://x/private\",[1,{\"a\":null}]]");
    CHECK_EQ_INT(wamp1_conn_event(conn_of(a), "http://x/t/s", "\"q\"", 3), 0);
    EXPECT_MSG(a, "[8,\"http://x/t/s\",\"q\"]");
    EXPECT_NONE(b);
    EXPECT_NONE(d);
}

/* ==== malformed input ============================================================== */

static void tweak_depth(wamp1_app_config *c) { c->json_max_depth = 4; }

static const char *malformed_msgs[] = {
    "{\"a\":", "[2,\"x\",", "not json", "[2,\"x\",\"http://x/echo\"] x", "[1,2,]", "[01,\"x\"]", "",
    "[2,\"deep\",\"http://x/echo\",[[[[1]]]]]", /* depth 5 > 4 */
    "{\"a\":1}", "\"str\"", "5", "null", "[]", "[2]", "[\"2\",\"id\",\"http://x/echo\"]", "[null,1]", "[[2],1]",
    "[0,\"a\"]", "[3,\"a\",1]", "[4,\"a\",\"b\",\"c\"]", "[8,\"http://x/t/a\",1]", "[9,\"x\"]", "[-1,\"x\"]",
    "[1.5,\"x\"]", "[1e400,\"x\"]", "[99999999999999999999,\"x\"]",
    "[1,\"a\"]", "[1,\"a\",\"b\",\"c\"]", "[1,5,\"http://x#\"]", "[1,\"a\",null]", "[1]",
    "[2,5,\"http://x/echo\"]", "[2,null,\"http://x/echo\"]", "[2,[\"id\"],\"http://x/echo\"]",
    "[5,5]", "[5]", "[5,\"http://x/t/a\",1]", "[6,null]", "[6,\"http://x/t/a\",\"b\"]", "[5,{\"t\":1}]",
    "[7,\"http://x/t/a\"]", "[7,5,1]", "[7,\"http://x/t/a\",1,[1]]", "[7,\"http://x/t/a\",1,[],5]",
    "[7,\"http://x/t/a\",1,[],[],1]",
};

TEST(test_malformed_default) {
    size_t i;
    int cl, other;
    setup_with(tweak_depth);
    cl = WCONNECT();
    other = WCONNECT();
    send_text(other, "[5,\"http://x/t/a\"]");
    for (i = 0; i < sizeof malformed_msgs / sizeof malformed_msgs[0]; i++) {
        errors_reset();
        send_text(cl, malformed_msgs[i]);
        if (err_count[WAMP1_ERR_MALFORMED] != 1 || err_total != 1)
            printf("    case %u: %s -> %d malformed, %d errors (%s)\n", (unsigned)i, malformed_msgs[i],
                   err_count[WAMP1_ERR_MALFORMED], err_total, err_reason);
        CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 1);
        CHECK(err_conn == conn_of(cl));
        CHECK(err_app == &g_app && err_user == &user_marker && err_reason[0] != 0);
        EXPECT_NONE(cl);
        EXPECT_NONE(other);
        CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 0);
    }
    CHECK_EQ_INT(wstats().malformed, sizeof malformed_msgs / sizeof malformed_msgs[0]);
    /* a binary message */
    errors_reset();
    send_frame(cl, WAMP1_OP_BINARY, "[2,\"b\",\"http://x/echo\"]", 23);
    pump(3);
    CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 1);
    EXPECT_NONE(cl);
    /* the depth limit is the configured one: depth 4 passes */
    send_text(cl, "[2,\"d4\",\"http://x/echo\",[[[1]]]]");
    EXPECT_MSG(cl, "[3,\"d4\",[[[[1]]]]]");
    /* still open; a valid CALL works; others unaffected */
    send_text(cl, "[2,\"ok\",\"http://x/echo\",1]");
    EXPECT_MSG(cl, "[3,\"ok\",[1]]");
    send_text(cl, "[7,\"http://x/t/a\",\"still\"]");
    EXPECT_MSG(other, "[8,\"http://x/t/a\",\"still\"]");
    send_text(other, "[2,\"o\",\"http://x/echo\"]");
    EXPECT_MSG(other, "[3,\"o\",[]]");
    CHECK_EQ_INT(close_count, 0);
}

TEST(test_malformed_call_answered) {
    static const char *rows[][2] = {
        {"[2,\"m1\"]", "m1"},
        {"[2,\"m2\",5]", "m2"},
        {"[2,\"m3\",null]", "m3"},
        {"[2,\"m4\",[\"http://x/echo\"]]", "m4"},
        {"[2,\"m5\",{},1,2]", "m5"},
        {"[2,\"m\\\"6\",true]", "m\\\"6"},
    };
    size_t i;
    int cl;
    setup();
    cl = WCONNECT();
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        errors_reset();
        send_text(cl, rows[i][0]);
        EXPECT_PREFIX(cl, fmt("[4,\"%s\",\"http://api.wamp.ws/error#invalid_argument\",\"", rows[i][1]));
        CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 1);
        EXPECT_NONE(cl);
    }
    send_text(cl, "[2,\"ok\",\"http://x/echo\"]");
    EXPECT_MSG(cl, "[3,\"ok\",[]]");
}

static void tweak_strict(wamp1_app_config *c) { c->strict = 1; }

TEST(test_malformed_strict) {
    static const char *strict_msgs[] = {
        "{\"a\":", "not json", "{\"a\":1}", "5", "[]", "[\"2\",\"id\",\"u\"]", "[0,\"a\"]", "[3,\"a\",1]",
        "[4,\"a\",\"b\",\"c\"]", "[8,\"t\",1]", "[9,\"x\"]", "[1.5,\"x\"]", "[1,\"a\"]", "[1,5,\"http://x#\"]",
        "[2,5,\"http://x/echo\"]", "[2,\"id\",5]", "[5,5]", "[6,null]", "[7,\"http://x/t/a\",1,[1]]",
        "[7,\"http://x/t/a\",1,[],5]", "[2,\"d\",\"http://x/echo\",[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
    };
    size_t i;
    int other;
    setup_with(tweak_strict);
    other = WCONNECT();
    send_text(other, "[5,\"http://x/t/a\"]");
    for (i = 0; i < sizeof strict_msgs / sizeof strict_msgs[0]; i++) {
        int cl = WCONNECT();
        errors_reset();
        send_text(cl, strict_msgs[i]);
        if (err_count[WAMP1_ERR_MALFORMED] != 1) printf("    strict case %u: %s\n", (unsigned)i, strict_msgs[i]);
        CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 1);
        EXPECT_CLOSE(cl, 1007);
        /* the client closes its side: the connection goes away */
        wamp1_testport_client_eof(&tp, cl);
        pump(3);
        CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 1);
        wamp1_testport_release(&tp, cl);
        EXPECT_NONE(other);
    }
    {
        int cl = WCONNECT();
        errors_reset();
        send_frame(cl, WAMP1_OP_BINARY, "[2,\"b\",\"http://x/echo\"]", 23);
        pump(3);
        CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 1);
        EXPECT_CLOSE(cl, 1003);
    }
    /* what is not malformed keeps the connection in strict mode too */
    {
        int cl = WCONNECT();
        errors_reset();
        send_text(cl, "[5,\"http://nowhere/t\"]");
        send_text(cl, "[7,\"http://x/t/a\",1,null]");
        send_text(cl, "[2,\"n\",\"http://x/nothing\"]");
        EXPECT_PREFIX(cl, "[4,\"n\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",");
        EXPECT_MSG(other, "[8,\"http://x/t/a\",1]");
        CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 0);
        send_text(cl, "[2,\"ok\",\"http://x/echo\"]");
        EXPECT_MSG(cl, "[3,\"ok\",[]]");
    }
    send_text(other, "[2,\"o\",\"http://x/echo\"]");
    EXPECT_MSG(other, "[3,\"o\",[]]");
}

/* a CALL with more tokens than WAMP1_JSON_TOKENS is still answered */
TEST(test_call_too_many_tokens) {
    char msg[1024];
    size_t n;
    int cl, i;
    setup();
    cl = WCONNECT();
    n = (size_t)snprintf(msg, sizeof msg, "[2,\"many\",\"http://x/echo\"");
    for (i = 0; i < WAMP1_JSON_TOKENS; i++) n += (size_t)snprintf(msg + n, sizeof msg - n, ",%d", i);
    snprintf(msg + n, sizeof msg - n, "]");
    send_text(cl, msg);
    EXPECT_MSG(cl, "[4,\"many\",\"http://api.wamp.ws/error#internal\",\"message too complex\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 1);
    send_text(cl, "[2,\"ok\",\"http://x/echo\"]");
    EXPECT_MSG(cl, "[3,\"ok\",[]]");
}

TEST(test_uri_limits) {
    char u[WAMP1_MAX_URI + 40];
    int cl, other;
    setup();
    cl = WCONNECT();
    other = WCONNECT();
    /* a procURI of exactly WAMP1_MAX_URI bytes is looked up */
    memset(u, 'u', sizeof u);
    memcpy(u, "http://x/", 9);
    u[WAMP1_MAX_URI] = 0;
    send_text(cl, fmt("[2,\"l1\",\"%s\"]", u));
    EXPECT_MSG(cl, fmt("[4,\"l1\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",\"no procedure registered for %s\"]", u));
    /* longer: internal */
    u[WAMP1_MAX_URI] = 'u';
    u[WAMP1_MAX_URI + 1] = 0;
    send_text(cl, fmt("[2,\"l2\",\"%s\"]", u));
    EXPECT_PREFIX(cl, "[4,\"l2\",\"http://api.wamp.ws/error#internal\",");
    /* a CURIE expanding beyond the limit */
    send_text(cl, "[1,\"p\",\"http://x/0123456789012345678901234567890123456789012345678901234567890123456789/\"]");
    memset(u, 'c', 80);
    memcpy(u, "p:", 2);
    u[80] = 0;
    send_text(cl, fmt("[2,\"l3\",\"%s\"]", u));
    EXPECT_PREFIX(cl, "[4,\"l3\",\"http://api.wamp.ws/error#internal\",");
    /* topics too long for the registry: ignored, reported as a limit, not malformed */
    memset(u, 't', sizeof u);
    memcpy(u, "http://x/t/", 11);
    u[WAMP1_MAX_URI + 10] = 0;
    send_text(other, fmt("[5,\"%s\"]", u));
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 1);
    u[WAMP1_MAX_URI] = 0; /* fits the URI buffer, not the topic table */
    send_text(other, fmt("[5,\"%s\"]", u));
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 2);
    CHECK_EQ_INT(wstats().topics, 0);
    u[WAMP1_MAX_URI - 1] = 0; /* the longest topic the table keeps */
    send_text(other, fmt("[5,\"%s\"]", u));
    CHECK_EQ_INT(wstats().topics, 1);
    send_text(cl, fmt("[7,\"%s\",1]", u));
    EXPECT_MSG(other, fmt("[8,\"%s\",1]", u));
    CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 0);
    send_text(cl, "[2,\"ok\",\"http://x/echo\"]");
    EXPECT_MSG(cl, "[3,\"ok\",[]]");
}

static int pub_calls;
static void my_publish(wamp1_publish *p, void *user) {
    CHECK(user == &user_marker);
    CHECK(p->app == &g_app && p->publisher != NULL);
    CHECK(p->topic_len == strlen("http://x/custom/room1") && memcmp(p->topic, "http://x/custom/room1", p->topic_len) == 0);
    CHECK(p->match != NULL && p->match->count == 1);
    pub_calls++;
    /* this handler delivers to the publisher as well, unless the message says otherwise */
    if (p->exclude < 0 && p->eligible < 0) p->exclude_me = 0;
    wamp1_publish_broker(p);
}

TEST(test_custom_publish_handler) {
    static const wamp1_handler hp = {NULL, NULL, NULL, my_publish, &user_marker};
    int a, b;
    setup();
    (void)wamp1_app_add_topic(&g_app, "http://x/custom/{room}", &hp);
    a = WCONNECT();
    b = WCONNECT();
    send_text(a, "[5,\"http://x/custom/room1\"]");
    send_text(b, "[5,\"http://x/custom/room1\"]");
    pub_calls = 0;
    send_text(a, "[1,\"c\",\"http://x/custom/\"]");
    send_text(a, "[7,\"c:room1\",[1,2]]");
    CHECK_EQ_INT(pub_calls, 1);
    EXPECT_MSG(a, "[8,\"http://x/custom/room1\",[1,2]]");
    EXPECT_MSG(b, "[8,\"http://x/custom/room1\",[1,2]]");
    send_text(a, "[7,\"c:room1\",3,[],[\"nobody\"]]");
    CHECK_EQ_INT(pub_calls, 2);
    EXPECT_NONE(a);
    EXPECT_NONE(b);
}

/* ==== middleware =================================================================== */

static char mw_log[256];
static void mw_note(char who, const wamp1_message *m) {
    size_t n = strlen(mw_log);
    if (n + 3 < sizeof mw_log) {
        mw_log[n] = who;
        mw_log[n + 1] = (char)('0' + m->type);
        mw_log[n + 2] = 0;
    }
}

static int mw_access(wamp1_app *a, const wamp1_message *m, void *user) {
    (void)a;
    CHECK(user == &user_marker);
    mw_note('A', m);
    CHECK(m->route != NULL && m->match != NULL && m->conn != NULL);
    if (m->type == WAMP1_MSG_CALL) {
        CHECK(m->call != NULL && m->publish == NULL);
        if (m->uri_len == 15 && memcmp(m->uri, "http://x/secret", 15) == 0) {
            (void)wamp1_call_error(m->call, "http://x/error#denied", "not allowed");
            return 1;
        }
        if (m->uri_len == 15 && memcmp(m->uri, "http://x/refuse", 15) == 0) return 1; /* unanswered */
    }
    if (m->type == WAMP1_MSG_SUBSCRIBE && m->uri_len == 17 && memcmp(m->uri, "http://x/t/closed", 17) == 0) return 1;
    if (m->type == WAMP1_MSG_PUBLISH) {
        CHECK(m->publish != NULL && m->call == NULL);
        if (m->uri_len == 19 && memcmp(m->uri, "http://x/t/readonly", 19) == 0) return 1;
    }
    if (m->type == WAMP1_MSG_UNSUBSCRIBE && m->uri_len == 15 && memcmp(m->uri, "http://x/t/glue", 15) == 0) return 1;
    return 0;
}

static int mw_second(wamp1_app *a, const wamp1_message *m, void *user) {
    (void)a;
    (void)user;
    mw_note('B', m);
    return 0;
}

TEST(test_middleware) {
    int a, b;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/secret", &H_ECHO);
    (void)wamp1_app_add_rpc(&g_app, "http://x/refuse", &H_ECHO);
    CHECK_EQ_INT(wamp1_app_add_middleware(&g_app, mw_access, &user_marker), 0);
    CHECK_EQ_INT(wamp1_app_add_middleware(&g_app, mw_second, NULL), 0);
    a = WCONNECT();
    b = WCONNECT();
    mw_log[0] = 0;
    send_text(a, "[2,\"s\",\"http://x/secret\",1]");
    EXPECT_MSG(a, "[4,\"s\",\"http://x/error#denied\",\"not allowed\"]");
    CHECK(strcmp(mw_log, "A2") == 0); /* stopped: the second never ran */
    mw_log[0] = 0;
    send_text(a, "[2,\"e\",\"http://x/echo\",1]");
    EXPECT_MSG(a, "[3,\"e\",[1]]");
    CHECK(strcmp(mw_log, "A2B2") == 0); /* in the order added */
    mw_log[0] = 0;
    send_text(a, "[2,\"r\",\"http://x/refuse\"]"); /* stopped without an answer: still answered */
    EXPECT_PREFIX(a, "[4,\"r\",\"http://api.wamp.ws/error#generic\",");
    /* a CURIE is expanded before the middleware sees it */
    send_text(a, "[1,\"x\",\"http://x/\"]");
    send_text(a, "[2,\"c\",\"x:secret\"]");
    EXPECT_MSG(a, "[4,\"c\",\"http://x/error#denied\",\"not allowed\"]");
    /* no route: the middleware is not asked */
    mw_log[0] = 0;
    send_text(a, "[2,\"n\",\"http://x/none\"]");
    EXPECT_PREFIX(a, "[4,\"n\",\"http://api.wamp.ws/error#NoSuchRPCEndpoint\",");
    CHECK(strcmp(mw_log, "") == 0);
    /* SUBSCRIBE */
    mw_log[0] = 0;
    send_text(a, "[5,\"http://x/t/closed\"]");
    CHECK(strcmp(mw_log, "A5") == 0);
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/closed"), 0);
    send_text(a, "[5,\"x:t/readonly\"]");
    send_text(a, "[5,\"http://x/t/glue\"]");
    send_text(a, "[5,\"http://x/t/open\"]");
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/readonly"), 1);
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/open"), 1);
    /* PUBLISH */
    mw_log[0] = 0;
    send_text(b, "[7,\"http://x/t/readonly\",1]");
    EXPECT_NONE(a);
    CHECK(strcmp(mw_log, "A7") == 0);
    send_text(b, "[7,\"http://x/t/open\",1]");
    EXPECT_MSG(a, "[8,\"http://x/t/open\",1]");
    /* UNSUBSCRIBE */
    mw_log[0] = 0;
    send_text(a, "[6,\"http://x/t/glue\"]");
    CHECK(strcmp(mw_log, "A6") == 0);
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/glue"), 1);
    send_text(a, "[6,\"http://x/t/open\"]");
    CHECK_EQ_INT(wamp1_app_topic_subscribers(&g_app, "http://x/t/open"), 0);
    EXPECT_NONE(b);
}

/* ==== the cross-thread queue ======================================================= */

static int posted_runs, repost_runs;
static void posted_fn(wamp1_app *a, void *arg) {
    CHECK(a == &g_app);
    CHECK(arg == &posted_runs);
    posted_runs++;
}
static void repost_fn(wamp1_app *a, void *arg) {
    (void)arg;
    repost_runs++;
    if (repost_runs < 50) (void)wamp1_app_post(a, repost_fn, NULL);
}

TEST(test_queue) {
    int a, i;
    setup();
    a = WCONNECT();
    send_text(a, "[5,\"http://x/t/q\"]");
    posted_runs = 0;
    CHECK_EQ_INT(wamp1_app_post(&g_app, posted_fn, &posted_runs), 0);
    CHECK_EQ_INT(posted_runs, 0);
    (void)wamp1_app_poll(&g_app, 0);
    CHECK_EQ_INT(posted_runs, 1);
    pump(2);
    CHECK_EQ_INT(posted_runs, 1);
    CHECK_EQ_INT(wamp1_app_post(&g_app, NULL, NULL), -1);
    /* full after WAMP1_QUEUE_SLOTS entries */
    for (i = 0; i < WAMP1_QUEUE_SLOTS; i++) CHECK_EQ_INT(wamp1_app_post(&g_app, posted_fn, &posted_runs), 0);
    CHECK_EQ_INT(wamp1_app_post(&g_app, posted_fn, &posted_runs), -1);
    CHECK_EQ_INT(wamp1_app_publish_async(&g_app, "http://x/t/q", "1", 1), WAMP1_QUEUE_FULL);
    CHECK_EQ_INT(wstats().queue_full, 2);
    (void)wamp1_app_poll(&g_app, 0);
    CHECK_EQ_INT(posted_runs, 1 + WAMP1_QUEUE_SLOTS);
    /* publish_async, in order, mixed with posts */
    CHECK_EQ_INT(wamp1_app_publish_async(&g_app, "http://x/t/q", "{\"n\":1}", 7), 0);
    CHECK_EQ_INT(wamp1_app_post(&g_app, posted_fn, &posted_runs), 0);
    CHECK_EQ_INT(wamp1_app_publish_async(&g_app, "http://x/t/q", "\"two\"", 5), 0);
    EXPECT_MSG(a, "[8,\"http://x/t/q\",{\"n\":1}]");
    EXPECT_MSG(a, "[8,\"http://x/t/q\",\"two\"]");
    CHECK_EQ_INT(posted_runs, 2 + WAMP1_QUEUE_SLOTS);
    /* too large for a slot */
    {
        static char big[WAMP1_QUEUE_SLOT_SIZE + 8];
        memset(big, ' ', sizeof big - 1);
        big[0] = '1';
        CHECK_EQ_INT(wamp1_app_publish_async(&g_app, "http://x/t/q", big, sizeof big - 1), WAMP1_QUEUE_TOO_BIG);
    }
    /* each refusal says why, and nothing is queued */
    CHECK_EQ_INT(wamp1_app_publish_async(&g_app, "http://elsewhere/t", "1", 1), WAMP1_QUEUE_NO_ROUTE);
    CHECK_EQ_INT(wamp1_app_publish_async(&g_app, "http://x/t/q", "{x", 2), WAMP1_QUEUE_BAD_JSON);
    CHECK_EQ_INT(wamp1_app_publish_async(&g_app, "http://x/t/q", "1 2", 3), WAMP1_QUEUE_BAD_JSON);
    pump(2);
    EXPECT_NONE(a);
    /* work posted while the queue runs waits for the next poll */
    repost_runs = 0;
    CHECK_EQ_INT(wamp1_app_post(&g_app, repost_fn, NULL), 0);
    (void)wamp1_app_poll(&g_app, 0);
    CHECK_EQ_INT(repost_runs, 1);
    (void)wamp1_app_poll(&g_app, 0);
    CHECK_EQ_INT(repost_runs, 2);
    while (repost_runs < 50) (void)wamp1_app_poll(&g_app, 0);
}

/* ==== send buffer limits ============================================================ */

TEST(test_result_too_large) {
    int cl, other;
    const char *m;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/big", &H_BIG);
    cl = WCONNECT();
    other = WCONNECT();
    send_text(cl, "[2,\"fits\",\"http://x/big\",3000]");
    m = recv_text(cl);
    CHECK(m != NULL && strlen(m) == 3000 + 13 && strncmp(m, "[3,\"fits\",\"xxx", 14) == 0);
    send_text(cl, "[2,\"big\",\"http://x/big\",5000]");
    EXPECT_MSG(cl, "[4,\"big\",\"http://api.wamp.ws/error#internal\",\"result larger than the send buffer\"]");
    CHECK_EQ_INT(err_count[WAMP1_ERR_LIMIT], 1);
    EXPECT_NONE(cl);
    EXPECT_NONE(other);
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 0);
    send_text(cl, "[2,\"after\",\"http://x/echo\"]");
    EXPECT_MSG(cl, "[3,\"after\",[]]");
}

/* fill the send buffer of a connection that is not flushed until the next poll */
static void fill_send_buffer(wamp1_conn *c, size_t leave) {
    static char junk[8192];
    size_t space = wamp1_conn_send_space(c);
    memset(junk, 'j', sizeof junk);
    if (space > leave + 10) (void)wamp1_conn_send_text(c, junk, space - leave - 10);
}

static void tweak_drop(wamp1_app_config *c) { c->server.slow_consumer = WAMP1_SLOW_DROP; }

/* order 0: the slow client subscribed first (it is not the first receiver), 1: last */
static void slow_consumer_case(int drop, int order) {
    static const char ev[] = "{\"pad\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}";
    int slow, fast, fast2, n;
    wamp1_stats st;
    setup_with(drop ? tweak_drop : NULL);
    slow = WCONNECT();
    fast = WCONNECT();
    fast2 = WCONNECT();
    if (order == 0) send_text(slow, "[5,\"http://x/t/s\"]");
    send_text(fast, "[5,\"http://x/t/s\"]");
    send_text(fast2, "[5,\"http://x/t/s\"]");
    if (order == 1) send_text(slow, "[5,\"http://x/t/s\"]");
    fill_send_buffer(conn_of(slow), 40);
    errors_reset();
    n = wamp1_app_publish(&g_app, "http://x/t/s", ev, sizeof ev - 1, NULL);
    CHECK_EQ_INT(n, 2);
    EXPECT_MSG(fast, fmt("[8,\"http://x/t/s\",%s]", ev));
    EXPECT_MSG(fast2, fmt("[8,\"http://x/t/s\",%s]", ev));
    wamp1_server_stats(wamp1_app_server(&g_app), &st);
    if (drop) {
        CHECK_EQ_INT(err_count[WAMP1_ERR_DROPPED], 1);
        CHECK_EQ_INT(st.dropped_messages, 1);
        {
            const char *m = recv_text(slow); /* the junk, then nothing */
            CHECK(m != NULL && m[0] == 'j');
        }
        EXPECT_NONE(slow);
        CHECK(conn_of(slow) != NULL);
        /* it gets the next one */
        CHECK_EQ_INT(wamp1_app_publish(&g_app, "http://x/t/s", "1", 1, NULL), 3);
        EXPECT_MSG(slow, "[8,\"http://x/t/s\",1]");
    } else {
        CHECK_EQ_INT(err_count[WAMP1_ERR_SLOW_CONSUMER], 1);
        CHECK_EQ_INT(st.slow_consumers_closed, 1);
        EXPECT_CLOSE(slow, 1008);
        CHECK(conn_of(slow) == NULL);
        CHECK_EQ_INT(wamp1_app_publish(&g_app, "http://x/t/s", "1", 1, NULL), 2);
    }
    EXPECT_MSG(fast, "[8,\"http://x/t/s\",1]");
    EXPECT_MSG(fast2, "[8,\"http://x/t/s\",1]");
}

TEST(test_slow_consumer_events) {
    slow_consumer_case(1, 0);
    slow_consumer_case(1, 1);
    slow_consumer_case(0, 0);
    slow_consumer_case(0, 1);
    /* through a client's PUBLISH as well */
    {
        int slow, pub, sub, k;
        setup_with(tweak_drop);
        slow = WCONNECT();
        pub = WCONNECT();
        sub = WCONNECT();
        send_text(sub, "[5,\"http://x/t/s\"]");
        send_text(slow, "[5,\"http://x/t/s\"]");
        /* the slow client reads nothing: its pipe fills, then its send buffer */
        for (k = 0; k < 40; k++) {
            fill_send_buffer(conn_of(slow), 20);
            pump(1);
        }
        fill_send_buffer(conn_of(slow), 20);
        CHECK(wamp1_conn_send_space(conn_of(slow)) < 40);
        CHECK_EQ_INT(err_total, 0);
        {
            static const char pm[] = "[7,\"http://x/t/s\",\"abcdefghijklmnopqrstuvwxyz\"]";
            send_frame(pub, WAMP1_OP_TEXT, pm, sizeof pm - 1);
        }
        pump(1);
        EXPECT_MSG(sub, "[8,\"http://x/t/s\",\"abcdefghijklmnopqrstuvwxyz\"]");
        CHECK_EQ_INT(err_count[WAMP1_ERR_DROPPED], 1);
        CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 0);
        CHECK(conn_of(slow) != NULL);
    }
}

/* the caller's answer and events to the caller written while the answer is open */
static void expect_pair(int cl, const char *x, const char *y, int line) {
    const char *m1 = recv_text(cl), *m2 = recv_text(cl);
    int ok = m1 && m2 && ((strcmp(m1, x) == 0 && strcmp(m2, y) == 0) || (strcmp(m1, y) == 0 && strcmp(m2, x) == 0));
    check_line(ok, line, "two messages", fmt("%s and %s", x, y),
               fmt("%s and %s", m1 ? m1 : "(nothing)", m2 ? m2 : "(nothing)"));
}

TEST(test_publish_inside_answer) {
    static const wamp1_handler hp = {h_pub_inside, NULL, NULL, NULL, NULL};
    static const char ev[] = "[8,\"http://x/t/inside\",\"ev\"]";
    int a, b, order;
    for (order = 0; order < 2; order++) {
        setup();
        (void)wamp1_app_add_rpc(&g_app, "http://x/pubinside", &hp);
        a = WCONNECT();
        b = WCONNECT();
        /* order 0: the caller is not the first receiver; 1: it is */
        if (order == 1) send_text(b, "[5,\"http://x/t/inside\"]");
        send_text(a, "[5,\"http://x/t/inside\"]");
        if (order == 0) send_text(b, "[5,\"http://x/t/inside\"]");
        send_text(a, "[2,\"pi\",\"http://x/pubinside\"]");
        EXPECT_MSG(b, ev);
        expect_pair(a, ev, "[3,\"pi\",\"done\"]", __LINE__);
        EXPECT_NONE(a);
        send_text(a, "[2,\"g\",\"http://x/pubinside\",1]");
        EXPECT_MSG(b, ev);
        {
            const char *m[3];
            int k, got_ev = 0, got_self = 0, got_res = 0;
            for (k = 0; k < 3; k++) {
                m[k] = recv_text(a);
                if (!m[k]) break;
                got_ev += strcmp(m[k], ev) == 0;
                got_self += strcmp(m[k], "[8,\"http://x/self\",[\"me\"]]") == 0;
                got_res += strcmp(m[k], "[3,\"g\",[\"a\",\"b\"]]") == 0;
                if (strcmp(m[k], ev) != 0 && strcmp(m[k], "[8,\"http://x/self\",[\"me\"]]") != 0 &&
                    strcmp(m[k], "[3,\"g\",[\"a\",\"b\"]]") != 0)
                    printf("    unexpected: %s\n", m[k]);
            }
            CHECK(got_ev == 1 && got_self == 1 && got_res == 1);
        }
        EXPECT_NONE(a);
        EXPECT_NONE(b);
        send_text(a, "[2,\"ok\",\"http://x/echo\"]");
        EXPECT_MSG(a, "[3,\"ok\",[]]");
    }
}

TEST(test_nested_answers) {
    static const wamp1_handler hn = {h_nested, NULL, NULL, NULL, NULL};
    int a, k, got_outer = 0, got_inner = 0;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/defer", &H_DEFER);
    (void)wamp1_app_add_rpc(&g_app, "http://x/nested", &hn);
    a = WCONNECT();
    send_text(a, "[2,\"in\",\"http://x/defer\"]");
    send_text(a, "[2,\"out\",\"http://x/nested\"]");
    for (k = 0; k < 2; k++) {
        const char *m = recv_text(a);
        if (!m) break;
        if ((strcmp(m, "[3,\"out\",\"outer\"]") == 0 || strncmp(m, "[4,\"out\",\"http://api.wamp.ws/error#internal\",", 45) == 0) &&
            json_valid(m))
            got_outer++;
        else if ((strncmp(m, "[3,\"in\",", 8) == 0 || strncmp(m, "[4,\"in\",", 8) == 0) && json_valid(m)) got_inner++;
        else printf("    unexpected: %s\n", m);
    }
    CHECK_EQ_INT(got_outer, 1);
    CHECK_EQ_INT(got_inner, 1);
    EXPECT_NONE(a);
    CHECK_EQ_INT(wstats().pending_calls, 0);
}

/* ==== application callbacks ========================================================= */

TEST(test_app_callbacks) {
    int a, b;
    wamp1_conn *ca;
    setup();
    a = WCONNECT();
    CHECK_EQ_INT(open_count, 1);
    CHECK(open_app == &g_app);
    CHECK(open_user == &user_marker);
    ca = conn_of(a);
    CHECK(open_conn == ca);
    CHECK(strcmp(open_sid, sid[a]) == 0); /* the session exists when on_open runs */
    CHECK(wamp1_conn_app(ca) == &g_app);
    b = WCONNECT();
    CHECK_EQ_INT(open_count, 2);
    CHECK(open_conn == conn_of(b));
    /* on_error: the connection, the error and a reason */
    errors_reset();
    send_text(a, "[9]");
    CHECK_EQ_INT(err_total, 1);
    CHECK_EQ_INT(err_last, WAMP1_ERR_MALFORMED);
    CHECK(err_conn == ca && err_app == &g_app && err_user == &user_marker && strlen(err_reason) > 0);
    /* on_close with the peer's code */
    client_close(a);
    CHECK_EQ_INT(close_count, 1);
    CHECK(close_app == &g_app && close_user == &user_marker && close_conn == ca);
    CHECK_EQ_INT(close_code, 1000);
    CHECK(strcmp(close_sid, sid[a]) == 0);
    /* a vanished peer: 1006 */
    wamp1_testport_client_reset(&tp, b);
    pump(3);
    CHECK_EQ_INT(close_count, 2);
    CHECK_EQ_INT(close_code, 1006);
    /* a close code of the client's choosing */
    a = WCONNECT();
    {
        uint8_t p[2] = {0x0f, 0xa1}; /* 4001 */
        send_frame(a, WAMP1_OP_CLOSE, p, 2);
        pump(3);
        EXPECT_CLOSE(a, 4001);
        wamp1_testport_client_eof(&tp, a);
        pump(3);
        CHECK_EQ_INT(close_count, 3);
        CHECK_EQ_INT(close_code, 4001);
    }
    CHECK_EQ_INT(open_count, 3);
    /* on_open may send at once: WELCOME is still the first message */
    open_sends_event = 1;
    a = WCONNECT();
    open_sends_event = 0;
    EXPECT_MSG(a, "[8,\"http://x/hello\",1]");
}

/* a handler that begins two answers: the first one is delivered, the second goes nowhere */
static wamp1_call_status h_answer_twice(wamp1_call *call, void *user) {
    wamp1_jwriter *w1, *w2;
    (void)user;
    w1 = wamp1_call_result_begin(call);
    wamp1_jw_string(w1, "first", 5);
    w2 = wamp1_call_error_begin(call, "http://x/error#second", "second");
    CHECK(w2 != w1 && w2->overflow);
    wamp1_jw_null(w2);
    (void)wamp1_call_error_end(call);
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

TEST(test_answer_twice) {
    static const wamp1_handler h = {h_answer_twice, NULL, NULL, NULL, NULL};
    int cl;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/twice", &h);
    cl = WCONNECT();
    errors_reset();
    send_text(cl, "[2,\"t\",\"http://x/twice\"]");
    EXPECT_MSG(cl, "[3,\"t\",\"first\"]");
    EXPECT_NONE(cl);
    CHECK_EQ_INT(err_count[WAMP1_ERR_MALFORMED], 1);
    send_text(cl, "[2,\"ok\",\"http://x/echo\"]");
    EXPECT_MSG(cl, "[3,\"ok\",[]]");
}

/* an in-place message begun in a callback and never ended is dropped at the next poll */
static wamp1_frame_writer left_open;
static wamp1_call_status h_leave_open(wamp1_call *call, void *user) {
    (void)user;
    wamp1_jw_int(wamp1_conn_json_begin(call->conn, &left_open), 7);
    wamp1_jw_string(wamp1_call_result_begin(call), "answered", 8);
    (void)wamp1_call_result_end(call); /* out of order: the open message is still on top */
    return WAMP1_CALL_OK;
}

TEST(test_writer_left_open) {
    static const wamp1_handler h = {h_leave_open, NULL, NULL, NULL, NULL};
    int cl;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/leave", &h);
    cl = WCONNECT();
    errors_reset();
    send_text(cl, "[2,\"l\",\"http://x/leave\"]");
    pump(2);
    CHECK(err_count[WAMP1_ERR_MALFORMED] >= 1);
    /* whatever the call got, the connection works afterwards */
    (void)recv_text(cl);
    send_text(cl, "[2,\"ok\",\"http://x/echo\"]");
    {
        const char *m = recv_text(cl);
        while (m && strcmp(m, "[3,\"ok\",[]]") != 0) m = recv_text(cl);
        CHECK(m != NULL);
    }
}

/* without a random source, session ids are still well-formed and distinct */
TEST(test_session_id_without_random) {
    char a[32], b[32];
    wamp1_conn *c;
    setup();
    tp.fail_random = 1;
    (void)WCONNECT();
    (void)WCONNECT();
    c = wamp1_server_next_conn(wamp1_app_server(&g_app), NULL);
    strcpy(a, wamp1_conn_session_id(c));
    c = wamp1_server_next_conn(wamp1_app_server(&g_app), c);
    strcpy(b, wamp1_conn_session_id(c));
    CHECK(strlen(a) == WAMP1_SESSION_ID_LEN && strlen(b) == WAMP1_SESSION_ID_LEN);
    CHECK(strcmp(a, b) != 0);
    CHECK(err_count[WAMP1_ERR_IO] >= 2);
    tp.fail_random = 0;
}

/* session ids are unique among open sessions even when the random source repeats itself:
   no search among the others is needed for it */
TEST(test_session_id_unique_with_a_stuck_random_source) {
    char ids[WAMP1_MAX_CONNECTIONS][32];
    wamp1_conn *c;
    int n = 0, i, j;
    setup();
    tp.fixed_random = 1; /* every random byte 0 */
    for (i = 0; i < WAMP1_MAX_CONNECTIONS; i++) (void)WCONNECT();
    for (c = wamp1_server_next_conn(wamp1_app_server(&g_app), NULL); c && n < WAMP1_MAX_CONNECTIONS;
         c = wamp1_server_next_conn(wamp1_app_server(&g_app), c)) {
        snprintf(ids[n], sizeof ids[n], "%s", wamp1_conn_session_id(c));
        CHECK(sid_ok(ids[n]));
        n++;
    }
    CHECK_EQ_INT(n, WAMP1_MAX_CONNECTIONS);
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++) CHECK(strcmp(ids[i], ids[j]) != 0);
    tp.fixed_random = 0;
}

/* wamp1_call_live: waiting while deferred, not after the answer or the caller's exit */
static wamp1_call_handle live_h;
static wamp1_call_status h_defer_keep(wamp1_call *call, void *user) {
    size_t n;
    const char *id = wamp1_call_id(call, &n);
    (void)user;
    CHECK(n == 2 && id[0] == 'k'); /* the handler sees the callID */
    live_h = wamp1_call_defer(call);
    return WAMP1_CALL_OK;
}

TEST(test_call_live) {
    static const wamp1_handler h = {h_defer_keep, NULL, NULL, NULL, NULL};
    wamp1_call call;
    int cl;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/keep", &h);
    cl = WCONNECT();
    send_text(cl, "[2,\"k1\",\"http://x/keep\"]");
    pump(2);
    CHECK(wamp1_call_live(&g_app, live_h));
    CHECK_EQ_INT(wamp1_call_resume(&g_app, live_h, &call), 0);
    wamp1_jw_int(wamp1_call_result_begin(&call), 1);
    (void)wamp1_call_result_end(&call);
    CHECK(!wamp1_call_live(&g_app, live_h));
    EXPECT_MSG(cl, "[3,\"k1\",1]");
    send_text(cl, "[2,\"k2\",\"http://x/keep\"]");
    pump(2);
    CHECK(wamp1_call_live(&g_app, live_h));
    wamp1_testport_client_reset(&tp, cl);
    pump(2);
    CHECK(!wamp1_call_live(&g_app, live_h));
}

/* a handler publishes an event with more tokens than the call leaves unused */
static wamp1_call_status h_pub_big(wamp1_call *call, void *user) {
    static char ev[20000];
    size_t n = 0;
    int i;
    (void)user;
    ev[n++] = '[';
    for (i = 0; i < 1000; i++) n += (size_t)sprintf(ev + n, "%s%d", i ? "," : "", i % 10);
    ev[n++] = ']';
    CHECK_EQ_INT(wamp1_app_publish(call->app, "http://x/t/big", ev, n, NULL), 1);
    wamp1_jw_int(wamp1_call_result_begin(call), (int64_t)call->argc);
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

TEST(test_publish_big_event_from_handler) {
    static const wamp1_handler h = {h_pub_big, NULL, NULL, NULL, NULL};
    int a, b;
    const char *m;
    setup();
    (void)wamp1_app_add_rpc(&g_app, "http://x/pubbig", &h);
    a = WCONNECT();
    b = WCONNECT();
    send_text(b, "[5,\"http://x/t/big\"]");
    send_text(a, "[2,\"pb\",\"http://x/pubbig\",1,2,3]");
    EXPECT_MSG(a, "[3,\"pb\",3]");
    m = recv_text(b);
    CHECK(m && strncmp(m, "[8,\"http://x/t/big\",[0,1,2,", 27) == 0);
}

int main(void) {
    RUN(test_welcome);
    RUN(test_answer_twice);
    RUN(test_writer_left_open);
    RUN(test_session_id_without_random);
    RUN(test_session_id_unique_with_a_stuck_random_source);
    RUN(test_call_live);
    RUN(test_publish_big_event_from_handler);
    RUN(test_welcome_server_ident);
    RUN(test_handshake_subprotocol);
    RUN(test_user_callbacks_beside_wamp);
    RUN(test_call_routes);
    RUN(test_call_typed_args);
    RUN(test_call_priorities);
    RUN(test_call_handler_names);
    RUN(test_call_errors);
    RUN(test_call_error_null_details);
    RUN(test_call_custom_error_uris);
    RUN(test_call_result_shapes);
    RUN(test_callid_byte_for_byte);
    RUN(test_deferred_out_of_order);
    RUN(test_deferred_after_disconnect);
    RUN(test_pending_exhaustion);
    RUN(test_prefix_curie);
    RUN(test_curie_hash_join);
    RUN(test_curie_topics);
    RUN(test_prefix_limits);
    RUN(test_pubsub_sets);
    RUN(test_publish_vectors);
    RUN(test_publish_include_publisher);
    RUN(test_publish_malformed);
    RUN(test_topic_routes_and_handlers);
    RUN(test_topic_lifecycle);
    RUN(test_topic_pools);
    RUN(test_app_publish_api);
    RUN(test_malformed_default);
    RUN(test_malformed_call_answered);
    RUN(test_malformed_strict);
    RUN(test_call_too_many_tokens);
    RUN(test_uri_limits);
    RUN(test_custom_publish_handler);
    RUN(test_middleware);
    RUN(test_queue);
    RUN(test_result_too_large);
    RUN(test_slow_consumer_events);
    RUN(test_publish_inside_answer);
    RUN(test_nested_answers);
    RUN(test_app_callbacks);
    return t_summary("wamp");
}
