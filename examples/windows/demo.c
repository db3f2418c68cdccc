/* demo: the WAMP v1 demo server on wamp1.h, Windows build.

   demo-win.exe [--host ADDR] [--port N] [--allow-origin HOST]... [--block ADDR[/BITS]]...
                [--keepalive SECONDS] [--max-connections N] [--session-dir DIR]
                [--tls-cert FILE --tls-key FILE] [--slow-consumer close|drop]

   The options, routes and answers of examples/posix/demo.c (the routes come from
   ../demo_routes.h). Differences: the pool holds 1000 connections (select() with
   FD_SETSIZE 1024), there is no TLS, and the process ends cleanly on Ctrl+C, Ctrl+Break and
   when its console is closed (every WebSocket gets close 1001). Build: see README.md. */
#include "../../port/wamp1_win32.h"
#define WAMP1_MAX_CONNECTIONS 1000
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
#include "../../port/wamp1_win32.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>

#if !WAMP1_WIN32_FITS
#error "raise FD_SETSIZE or lower WAMP1_MAX_CONNECTIONS"
#endif

static wamp1_app demo_app;
static HANDLE stopped; /* set once the server has shut down */

/* ---- options ------------------------------------------------------------ */

typedef struct demo_options {
    const char *host;
    unsigned long port, keepalive, max_conns;
    const char *session_dir, *tls_cert, *tls_key;
    int slow_drop;
} demo_options;

static demo_options opt;
static wamp1_cidr block_rules[256];
static wamp1_blocklist blocklist;
static wamp1_origin_rule origin_rules[64];
static unsigned origin_count;
static wamp1_session_provider sessions;

/* rpc#websession: the caller's PHP session as JSON, or null */
static void websession(wamp1_conn *c, wamp1_jwriter *w) {
    static char buf[256u * 1024u];
    wamp1_php_session sess;
    if (wamp1_conn_session(c, buf, sizeof buf, &sess) == 0) wamp1_php_session_to_json(&sess, w);
    else wamp1_jw_null(w);
}

static int usage(const char *msg, const char *arg) {
    fprintf(stderr, "demo: %s%s%s (see the header of examples/windows/demo.c for the options)\n",
            msg, arg ? ": " : "", arg ? arg : "");
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

#include "../demo_routes.h"

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

/* Runs on a thread of its own. For a closed console, logoff or shutdown the process ends when
   the handler returns, so it waits for the shutdown to finish first. */
static BOOL WINAPI on_console(DWORD type) {
    wamp1_app_stop(&demo_app);
    if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT)
        (void)WaitForSingleObject(stopped, 4000);
    return TRUE;
}

int main(int argc, char **argv) {
    static wamp1_win32 win;
    wamp1_port port;
    wamp1_app_config cfg;
    size_t mem_size;
    void *mem;
    int i;

    /* "\n" stays "\n": the listening line is read by programs */
    (void)_setmode(_fileno(stdout), _O_BINARY);
    (void)_setmode(_fileno(stderr), _O_BINARY);
    opt.host = "127.0.0.1";
    opt.port = 8080;
    opt.keepalive = 30;
    opt.max_conns = WAMP1_MAX_CONNECTIONS;
    wamp1_blocklist_init(&blocklist, block_rules, (uint16_t)(sizeof block_rules / sizeof block_rules[0]));
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
        else if (strcmp(a, "--block") == 0) {
            if (wamp1_blocklist_add(&blocklist, v) != 0) return usage("bad or too many --block", v);
        } else if (strcmp(a, "--allow-origin") == 0) {
            if (origin_count >= sizeof origin_rules / sizeof origin_rules[0] ||
                wamp1_origin_rule_parse(&origin_rules[origin_count], v, strlen(v)) != 0)
                return usage("bad or too many --allow-origin", v);
            origin_count++;
        } else if (strcmp(a, "--slow-consumer") == 0) {
            if (strcmp(v, "close") == 0) opt.slow_drop = 0;
            else if (strcmp(v, "drop") == 0) opt.slow_drop = 1;
            else return usage("--slow-consumer takes close or drop", v);
        } else if (strcmp(a, "--tls-cert") == 0) opt.tls_cert = v;
        else if (strcmp(a, "--tls-key") == 0) opt.tls_key = v;
        else return usage("unknown option", a);
        i++;
    }
    if (!opt.tls_cert != !opt.tls_key) return usage("--tls-cert and --tls-key go together", NULL);
    if (opt.tls_cert) return usage("this build has no TLS support", NULL);

    if (wamp1_win32_init(&win, &port) != 0) return usage("cannot start Winsock", NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.host = opt.host;
    cfg.server.listen_port = (uint16_t)opt.port;
    cfg.server.max_connections = WAMP1_MAX_CONNECTIONS;
    cfg.server.recv_buffer_size = 64u * 1024u;
    cfg.server.send_buffer_size = 256u * 1024u;
    cfg.server.keepalive_ms = (uint32_t)opt.keepalive * 1000u;
    /* a client whose send buffer is full: closed with 1008, or its messages dropped */
    cfg.server.slow_consumer = opt.slow_drop ? WAMP1_SLOW_DROP : WAMP1_SLOW_CLOSE;
    cfg.server.cb.on_http = on_http;
    if (blocklist.count) cfg.server.blocklist = &blocklist;
    cfg.server.origins = origin_rules;
    cfg.server.origin_count = origin_count;
    if (opt.session_dir) {
        wamp1_php_files_provider(&sessions, opt.session_dir);
        cfg.server.sessions = &sessions;
        demo_websession = websession;
    }
    cfg.on_error = on_error;
    /* Committed, not touched: Windows backs a page with memory only once it is used. */
    mem_size = wamp1_server_memory_size(&cfg.server);
    mem = VirtualAlloc(NULL, mem_size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!mem) return usage("cannot reserve buffer memory", NULL);
    cfg.server.memory = mem;
    cfg.server.memory_size = mem_size;
    if (wamp1_app_init(&demo_app, &cfg) != 0) return usage("bad configuration", NULL);
    wamp1_server_set_max_connections(wamp1_app_server(&demo_app), (uint32_t)opt.max_conns);

    demo_add_routes(&demo_app);

    if (wamp1_app_listen(&demo_app) != 0) {
        fprintf(stderr, "demo: cannot listen on %s:%lu\n", opt.host, opt.port);
        return 2;
    }
    stopped = CreateEventA(NULL, TRUE, FALSE, NULL);
    (void)SetConsoleCtrlHandler(on_console, TRUE);

    printf("listening on %s:%u\n", opt.host, (unsigned)wamp1_server_port(wamp1_app_server(&demo_app)));
    fflush(stdout);

    while (!wamp1_server_stopping(wamp1_app_server(&demo_app))) {
        uint64_t now = wamp1_server_now(wamp1_app_server(&demo_app));
        wamp1_app_poll(&demo_app, demo_sleeps_timeout(now));
        demo_sleeps_fire(&demo_app, wamp1_server_now(wamp1_app_server(&demo_app)));
    }
    wamp1_app_shutdown(&demo_app, 1500);
    wamp1_win32_free(&win);
    (void)VirtualFree(mem, 0, MEM_RELEASE);
    if (stopped) (void)SetEvent(stopped);
    return 0;
}
