/* demo: the WAMP v1 demo server on wamp1.h.

   build/demo [--host ADDR] [--port N] [--allow-origin HOST]... [--block ADDR[/BITS]]...
              [--keepalive SECONDS] [--max-connections N] [--session-dir DIR]
              [--tls-cert FILE --tls-key FILE]

   Routes (CURIEs defined with PREFIX resolve to them):
     http://wamp1.dev/rpc#add        sum of the numeric arguments (or of one array of numbers)
     http://wamp1.dev/rpc#echo       the arguments as an array
     http://wamp1.dev/rpc#fail       CALLERROR http://wamp1.dev/error#fail with the arguments
     http://wamp1.dev/rpc#session    the caller's sessionId
     http://wamp1.dev/rpc#publish    (topicURI, event): publish to every subscriber
     http://wamp1.dev/rpc#sleep      (ms, 0..5000): answers ms after that long, asynchronously
     http://wamp1.dev/rpc#websession the caller's PHP web session as JSON, or null
     http://wamp1.dev/rpc#stats      pool usage and counters
     http://wamp1.dev/topic/{name}   the default broker */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#define WAMP1_MAX_CONNECTIONS 10240
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_MAX_TOPICS 4096
#define WAMP1_MAX_SUBSCRIPTIONS 60000
#define WAMP1_MAX_PENDING_CALLS 4096
#define WAMP1_MAX_PREFIXES 20480
#define WAMP1_MAX_URI 256
#define WAMP1_MAX_ROUTES 32
#define WAMP1_JSON_TOKENS 4096
#define WAMP1_JSON_DEPTH 64
#define WAMP1_QUEUE_SLOTS 64
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"
#include "../../port/wamp1_posix.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static wamp1_app app;

/* ---- options ------------------------------------------------------------ */

typedef struct demo_options {
    const char *host;
    unsigned long port, keepalive, max_conns;
    const char *session_dir, *tls_cert, *tls_key;
} demo_options;

static demo_options opt;

static int usage(const char *msg, const char *arg) {
    fprintf(stderr, "demo: %s%s%s (see the header of examples/posix/demo.c for the options)\n", msg,
            arg ? ": " : "", arg ? arg : "");
    return 2;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
    char *end;
    unsigned long v;
    if (!s || !*s || *s == '-') return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = v;
    return 0;
}

/* ---- RPC handlers ------------------------------------------------------- */

static wamp1_call_status rpc_add(wamp1_call *call, void *user) {
    const wamp1_json_tok *t = call->toks;
    int64_t isum = 0;
    double dsum = 0;
    int ints = 1;
    unsigned i, n = call->argc;
    int first = wamp1_call_arg(call, 0);
    (void)user;
    /* one array argument: sum its elements */
    if (n == 1 && t[first].type == WAMP1_JSON_ARRAY) n = t[first].size, first = first + 1;
    else first = -1;
    for (i = 0; i < n; i++) {
        int k = first >= 0 ? wamp1_json_array_get(t, call->ntoks, first - 1, i) : wamp1_call_arg(call, i);
        int64_t iv;
        double dv;
        if (t[k].type != WAMP1_JSON_NUMBER || wamp1_json_get_double(call->json, &t[k], &dv) != 0)
            return WAMP1_CALL_INVALID_ARGUMENT;
        dsum += dv;
        if (ints && wamp1_json_get_int(call->json, &t[k], &iv) == 0 &&
            !((iv > 0 && isum > INT64_MAX - iv) || (iv < 0 && isum < INT64_MIN - iv)))
            isum += iv;
        else ints = 0;
    }
    if (ints) wamp1_jw_int(wamp1_call_result_begin(call), isum);
    else wamp1_jw_double(wamp1_call_result_begin(call), dsum);
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static void write_args(wamp1_call *call, wamp1_jwriter *w) {
    unsigned i;
    wamp1_jw_array_begin(w);
    for (i = 0; i < call->argc; i++) wamp1_jw_token(w, call->json, &call->toks[wamp1_call_arg(call, i)]);
    wamp1_jw_array_end(w);
}

static wamp1_call_status rpc_echo(wamp1_call *call, void *user) {
    (void)user;
    write_args(call, wamp1_call_result_begin(call));
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_fail(wamp1_call *call, void *user) {
    (void)user;
    write_args(call, wamp1_call_error_begin(call, "http://wamp1.dev/error#fail", "requested failure"));
    wamp1_call_error_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_session(wamp1_call *call, void *user) {
    (void)user;
    wamp1_jw_string(wamp1_call_result_begin(call), wamp1_conn_session_id(call->conn), (size_t)-1);
    wamp1_call_result_end(call);
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
    /* the event is still in the receive buffer: publish its text as it is */
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

/* sleep: deferred answers kept in a small timer list */
#define MAX_SLEEPS WAMP1_MAX_PENDING_CALLS
static struct { wamp1_call_handle h; uint64_t due; int64_t ms; } sleeps[MAX_SLEEPS];
static unsigned nsleeps;

static wamp1_call_status rpc_sleep(wamp1_call *call, void *user) {
    int64_t ms;
    int k = wamp1_call_arg(call, 0);
    (void)user;
    if (call->argc != 1 || call->toks[k].type != WAMP1_JSON_NUMBER ||
        wamp1_json_get_int(call->json, &call->toks[k], &ms) != 0 || ms < 0 || ms > 5000)
        return WAMP1_CALL_INVALID_ARGUMENT;
    if (nsleeps >= MAX_SLEEPS) return WAMP1_CALL_INTERNAL;
    sleeps[nsleeps].h = wamp1_call_defer(call);
    if (sleeps[nsleeps].h.id == 0) return WAMP1_CALL_INTERNAL;
    sleeps[nsleeps].due = wamp1_server_now(wamp1_app_server(call->app)) + (uint64_t)ms;
    sleeps[nsleeps].ms = ms;
    nsleeps++;
    return WAMP1_CALL_OK;
}

static void sleeps_fire(uint64_t now) {
    unsigned i = 0;
    while (i < nsleeps) {
        if (sleeps[i].due <= now) {
            wamp1_call call;
            if (wamp1_call_resume(&app, sleeps[i].h, &call) == 0) {
                wamp1_jw_int(wamp1_call_result_begin(&call), sleeps[i].ms);
                wamp1_call_result_end(&call);
            }
            sleeps[i] = sleeps[--nsleeps];
        } else i++;
    }
}

static int sleeps_timeout(uint64_t now) {
    unsigned i;
    uint64_t best = UINT64_MAX;
    for (i = 0; i < nsleeps; i++)
        if (sleeps[i].due < best) best = sleeps[i].due;
    if (best == UINT64_MAX) return -1;
    return best <= now ? 0 : (int)(best - now);
}

static wamp1_call_status rpc_websession(wamp1_call *call, void *user) {
    (void)user;
    wamp1_jw_null(wamp1_call_result_begin(call));
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_stats(wamp1_call *call, void *user) {
    wamp1_stats s;
    wamp1_wamp_stats w;
    wamp1_jwriter *j;
    (void)user;
    wamp1_server_stats(wamp1_app_server(call->app), &s);
    wamp1_app_stats(call->app, &w);
    j = wamp1_call_result_begin(call);
    wamp1_jw_object_begin(j);
    wamp1_jw_key(j, "connections", (size_t)-1); wamp1_jw_int(j, s.connections);
    wamp1_jw_key(j, "connections_max", (size_t)-1); wamp1_jw_int(j, s.connections_max);
    wamp1_jw_key(j, "topics", (size_t)-1); wamp1_jw_int(j, w.topics);
    wamp1_jw_key(j, "topics_max", (size_t)-1); wamp1_jw_int(j, w.topics_max);
    wamp1_jw_key(j, "subscriptions", (size_t)-1); wamp1_jw_int(j, w.subscriptions);
    wamp1_jw_key(j, "subscriptions_max", (size_t)-1); wamp1_jw_int(j, w.subscriptions_max);
    wamp1_jw_key(j, "pending_calls", (size_t)-1); wamp1_jw_int(j, w.pending_calls);
    wamp1_jw_key(j, "pending_calls_max", (size_t)-1); wamp1_jw_int(j, w.pending_calls_max);
    wamp1_jw_key(j, "prefixes", (size_t)-1); wamp1_jw_int(j, w.prefixes);
    wamp1_jw_key(j, "prefixes_max", (size_t)-1); wamp1_jw_int(j, w.prefixes_max);
    wamp1_jw_key(j, "dropped_messages", (size_t)-1); wamp1_jw_int(j, (int64_t)s.dropped_messages);
    wamp1_jw_key(j, "slow_consumers_closed", (size_t)-1); wamp1_jw_int(j, (int64_t)s.slow_consumers_closed);
    wamp1_jw_key(j, "accepted", (size_t)-1); wamp1_jw_int(j, (int64_t)s.accepted);
    wamp1_jw_key(j, "rejected_full", (size_t)-1); wamp1_jw_int(j, (int64_t)s.rejected_full);
    wamp1_jw_key(j, "protocol_errors", (size_t)-1); wamp1_jw_int(j, (int64_t)s.protocol_errors);
    wamp1_jw_key(j, "malformed", (size_t)-1); wamp1_jw_int(j, (int64_t)w.malformed);
    wamp1_jw_key(j, "calls", (size_t)-1); wamp1_jw_int(j, (int64_t)w.calls);
    wamp1_jw_key(j, "events_sent", (size_t)-1); wamp1_jw_int(j, (int64_t)w.events_sent);
    wamp1_jw_object_end(j);
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

/* ---- plain HTTP --------------------------------------------------------- */

static void on_http(wamp1_conn *c, const wamp1_request *req, void *user) {
    static const char page[] =
        "<!doctype html><meta charset=utf-8><title>wamp1.h demo</title>"
        "<h1>wamp1.h demo</h1><p>WAMP v1 endpoint: ws://this-host/ with subprotocol "
        "<code>wamp</code>.</p>\n";
    (void)user;
    if (req->path_len == 1 && req->path[0] == '/')
        wamp1_conn_http_respond(c, 200, "text/html; charset=utf-8", page, sizeof page - 1);
    else wamp1_conn_http_respond(c, 404, "text/plain", "not found\n", 10);
}

static void on_error(wamp1_app *a, wamp1_conn *c, wamp1_error e, const char *why, void *user) {
    (void)a; (void)c; (void)user;
    if (getenv("WAMP1_DEMO_VERBOSE")) fprintf(stderr, "demo: error %d: %s\n", (int)e, why);
}

static void on_signal(int sig) {
    (void)sig;
    wamp1_app_stop(&app);
}

int main(int argc, char **argv) {
    static wamp1_posix posix;
    static const wamp1_handler h_add = {rpc_add, 0, 0, 0, 0}, h_echo = {rpc_echo, 0, 0, 0, 0},
                               h_fail = {rpc_fail, 0, 0, 0, 0}, h_session = {rpc_session, 0, 0, 0, 0},
                               h_publish = {rpc_publish, 0, 0, 0, 0}, h_sleep = {rpc_sleep, 0, 0, 0, 0},
                               h_websession = {rpc_websession, 0, 0, 0, 0},
                               h_stats = {rpc_stats, 0, 0, 0, 0}, h_topic = {0, 0, 0, 0, 0};
    wamp1_port port;
    wamp1_app_config cfg;
    size_t mem_size;
    void *mem;
    int i;
    struct sigaction sa;

    opt.host = "127.0.0.1";
    opt.port = 8080;
    opt.keepalive = 30;
    opt.max_conns = WAMP1_MAX_CONNECTIONS;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return usage("missing value or unknown option", a);
        if (strcmp(a, "--host") == 0) opt.host = v;
        else if (strcmp(a, "--port") == 0) {
            if (parse_uint(v, 65535, &opt.port) != 0) return usage("bad --port", v);
        } else if (strcmp(a, "--keepalive") == 0) {
            if (parse_uint(v, 86400, &opt.keepalive) != 0) return usage("bad --keepalive", v);
        } else if (strcmp(a, "--max-connections") == 0) {
            if (parse_uint(v, WAMP1_MAX_CONNECTIONS, &opt.max_conns) != 0 || opt.max_conns == 0)
                return usage("bad --max-connections", v);
        } else if (strcmp(a, "--session-dir") == 0) opt.session_dir = v;
        else if (strcmp(a, "--tls-cert") == 0) opt.tls_cert = v;
        else if (strcmp(a, "--tls-key") == 0) opt.tls_key = v;
        else return usage("unknown option", a);
        i++;
    }
    if (opt.tls_cert || opt.tls_key) return usage("this build has no TLS support", NULL);

    if (wamp1_posix_init(&posix, &port) != 0) return usage("cannot create the wake-up pipe", NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.host = opt.host;
    cfg.server.listen_port = (uint16_t)opt.port;
    cfg.server.max_connections = WAMP1_MAX_CONNECTIONS;
    cfg.server.recv_buffer_size = 64u * 1024u;
    cfg.server.send_buffer_size = 256u * 1024u;
    cfg.server.keepalive_ms = (uint32_t)opt.keepalive * 1000u;
    cfg.server.cb.on_http = on_http;
    cfg.on_error = on_error;
    mem_size = wamp1_server_memory_size(&cfg.server);
    mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) return usage("cannot reserve buffer memory", NULL);
    cfg.server.memory = mem;
    cfg.server.memory_size = mem_size;
    if (wamp1_app_init(&app, &cfg) != 0) return usage("bad configuration", NULL);
    wamp1_server_set_max_connections(wamp1_app_server(&app), (uint32_t)opt.max_conns);

    wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#add", &h_add);
    wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#echo", &h_echo);
    wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#fail", &h_fail);
    wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#session", &h_session);
    wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#publish", &h_publish);
    wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#sleep", &h_sleep);
    wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#websession", &h_websession);
    wamp1_app_add_rpc(&app, "http://wamp1.dev/rpc#stats", &h_stats);
    wamp1_app_add_topic(&app, "http://wamp1.dev/topic/{name}", &h_topic);

    if (wamp1_app_listen(&app) != 0) {
        fprintf(stderr, "demo: cannot listen on %s:%lu\n", opt.host, opt.port);
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printf("listening on %s:%u\n", opt.host, (unsigned)wamp1_server_port(wamp1_app_server(&app)));
    fflush(stdout);

    while (!wamp1_app_server(&app)->stop) {
        uint64_t now = wamp1_server_now(wamp1_app_server(&app));
        wamp1_app_poll(&app, sleeps_timeout(now));
        sleeps_fire(wamp1_server_now(wamp1_app_server(&app)));
    }
    wamp1_app_shutdown(&app, 1500);
    wamp1_posix_free(&posix);
    munmap(mem, mem_size);
    return 0;
}
