/* demo_options.h - the command line and settings of the WAMP demo, shared by the POSIX and
   Windows demos (examples/posix/demo.c, examples/windows/demo.c).

   Include after wamp1.h (implementation), <stdio.h>, <stdlib.h>, <errno.h> and
   ../demo_routes.h. DEMO_NAME names the program in messages. Then:

       int rc = demo_parse_options(argc, argv, WAMP1_MAX_CONNECTIONS);
       if (rc != 0) return rc < 0 ? 0 : rc;    (-1: --help was printed)
       demo_configure(&cfg);   (after setting cfg.server.port)

   The options (shared/spec/examples-contract.md): --host, --port, --allow-origin (repeatable),
   --block (repeatable), --keepalive, --max-connections, --session-dir, --tls-cert/--tls-key,
   --slow-consumer close|drop, --web-root DIR (serve DIR's files as well as the embedded page),
   --auth FILE (WAMP-CRA, examples/demo_auth.h), --publisher-secret S / --publisher-token T
   (POST /publish, port/wamp1_publisher.h); with DEMO_REDIS defined (the POSIX demo),
   --redis HOST:PORT, --redis-password, --redis-user, --redis-prefix. Every option takes one
   value; a bad one prints one line on stderr (with the allowed values) and gives 2; --help
   prints the usage on stdout and gives -1, for an exit status of 0.

   Plain HTTP: the page of examples/web (embedded by make as build/demo_web.h when
   DEMO_WEB_ASSETS is defined; a one-line page otherwise) through port/wamp1_http.h. */
#ifndef DEMO_OPTIONS_H
#define DEMO_OPTIONS_H

#ifndef DEMO_NAME
#define DEMO_NAME "demo"
#endif

typedef struct demo_options {
    const char *host;
    unsigned long port, keepalive, max_conns;
    const char *session_dir, *tls_cert, *tls_key, *web_root, *auth_file;
    int slow_drop;
    const char *publisher_secret, *publisher_token;
#ifdef DEMO_REDIS
    const char *redis, *redis_password, *redis_user, *redis_prefix;
#endif
} demo_options;

static demo_options demo_opt;
static wamp1_cidr demo_block_rules[256];
static wamp1_blocklist demo_blocklist;
static wamp1_origin_rule demo_origin_rules[64];
static unsigned demo_origin_count;
static wamp1_session_provider demo_sessions;

static int demo_usage(const char *msg, const char *arg) {
    fprintf(stderr, DEMO_NAME ": %s%s%s (" DEMO_NAME " --help lists the options)\n",
            msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

#include "../port/wamp1_http.h"
#include "../port/wamp1_cra.h"
#include "../port/wamp1_publisher.h"
#include "demo_auth.h"

static int demo_help(unsigned long pool) {
    printf("usage: " DEMO_NAME " [OPTION VALUE]...\n"
           "The WAMP v1 demo server: RPC, PubSub and CURIEs on ws://HOST:PORT/ (subprotocol wamp).\n"
           "  --host ADDR              address to listen on (default 127.0.0.1; :: for IPv6)\n"
           "  --port N                 0 to 65535, 0 for any free port (default 8080)\n"
           "  --allow-origin HOST      allow browsers from this origin host only (repeatable)\n"
           "  --block ADDR[/BITS]      answer 403 to these peers (repeatable, IPv4 or IPv6)\n"
           "  --keepalive SECONDS      0 to 86400: ping idle sessions, close silent ones (default 30)\n"
           "  --max-connections N      1 to %lu (default %lu)\n"
           "  --session-dir DIR        read PHP web sessions (PHPSESSID) from this directory\n"
           "  --tls-cert FILE --tls-key FILE   serve wss:// (builds with mbedTLS)\n"
           "  --slow-consumer close|drop  what a client that reads too slowly gets (default close)\n"
           "  --web-root DIR           serve DIR's files beside the embedded page (GET /)\n"
           "  --auth FILE              WAMP-CRA logins from FILE (examples/demo_auth.h)\n"
           "  --publisher-secret S     turn on POST /publish, signed with S (port/wamp1_publisher.h)\n"
           "  --publisher-token T      turn on POST /publish with Authorization: Bearer T\n"
           "  --help                   this text\n"
           "The first line on standard output is \"listening on ADDR:PORT\"; SIGINT or SIGTERM stop it.\n"
           "Routes: see the header of examples/posix/demo.c.\n",
           pool, pool);
    return -1;
}

#include "options_util.h"

/* Fills demo_opt and the rule tables; 0, or 2 after printing why. */
static int demo_parse_options(int argc, char **argv, unsigned long pool) {
    int i;
    demo_opt.host = "127.0.0.1";
    demo_opt.port = 8080;
    demo_opt.keepalive = 30;
    demo_opt.max_conns = pool;
    wamp1_blocklist_init(&demo_blocklist, demo_block_rules,
                         (uint16_t)(sizeof demo_block_rules / sizeof demo_block_rules[0]));
    for (i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return demo_help(pool);
        if (!v) return demo_usage("missing value or unknown option", a);
        if (strcmp(a, "--host") == 0) demo_opt.host = v;
        else if (strcmp(a, "--port") == 0) {
            if (options_parse_uint(v, 65535, &demo_opt.port) != 0) return demo_usage("--port takes 0 to 65535", v);
        } else if (strcmp(a, "--keepalive") == 0) {
            if (options_parse_uint(v, 86400, &demo_opt.keepalive) != 0) return demo_usage("--keepalive takes 0 to 86400 seconds", v);
        } else if (strcmp(a, "--max-connections") == 0) {
            if (options_parse_uint(v, pool, &demo_opt.max_conns) != 0 || demo_opt.max_conns == 0) {
                char what[64];
                snprintf(what, sizeof what, "--max-connections takes 1 to %lu", pool);
                return demo_usage(what, v);
            }
        } else if (strcmp(a, "--session-dir") == 0) demo_opt.session_dir = v;
        else if (strcmp(a, "--block") == 0) {
            if (wamp1_blocklist_add(&demo_blocklist, v) != 0) return demo_usage("bad or too many --block", v);
        } else if (strcmp(a, "--allow-origin") == 0) {
            wamp1_origin_rule *r = &demo_origin_rules[demo_origin_count];
            if (demo_origin_count >= sizeof demo_origin_rules / sizeof demo_origin_rules[0] ||
                wamp1_origin_rule_parse(r, v, strlen(v)) != 0)
                return demo_usage("bad or too many --allow-origin", v);
            /* the contract lists hosts: a value without a port allows the host on any port */
            if (!r->port) r->any_port = 1;
            demo_origin_count++;
        } else if (strcmp(a, "--slow-consumer") == 0) {
            if (strcmp(v, "close") == 0) demo_opt.slow_drop = 0;
            else if (strcmp(v, "drop") == 0) demo_opt.slow_drop = 1;
            else return demo_usage("--slow-consumer takes close or drop", v);
        } else if (strcmp(a, "--web-root") == 0) demo_opt.web_root = v;
        else if (strcmp(a, "--auth") == 0) demo_opt.auth_file = v;
        else if (strcmp(a, "--publisher-secret") == 0) demo_opt.publisher_secret = v;
        else if (strcmp(a, "--publisher-token") == 0) demo_opt.publisher_token = v;
        else if (strcmp(a, "--tls-cert") == 0) demo_opt.tls_cert = v;
        else if (strcmp(a, "--tls-key") == 0) demo_opt.tls_key = v;
#ifdef DEMO_REDIS
        else if (strcmp(a, "--redis") == 0) demo_opt.redis = v;
        else if (strcmp(a, "--redis-password") == 0) demo_opt.redis_password = v;
        else if (strcmp(a, "--redis-user") == 0) demo_opt.redis_user = v;
        else if (strcmp(a, "--redis-prefix") == 0) demo_opt.redis_prefix = v;
#endif
        else return demo_usage("unknown option", a);
    }
    if (!demo_opt.tls_cert != !demo_opt.tls_key) return demo_usage("--tls-cert and --tls-key go together", NULL);
    if (demo_opt.auth_file && demo_load_auth(demo_opt.auth_file) != 0) return 2;
#ifdef DEMO_REDIS
    if (!demo_opt.redis && (demo_opt.redis_password || demo_opt.redis_user || demo_opt.redis_prefix))
        return demo_usage("--redis-password, --redis-user and --redis-prefix need --redis", NULL);
    if (demo_opt.redis_user && !demo_opt.redis_password) return demo_usage("--redis-user needs --redis-password", NULL);
#endif
    return 0;
}

/* rpc#websession: the caller's PHP session as JSON, or null */
static void demo_php_websession(wamp1_conn *c, wamp1_jwriter *w) {
    static char buf[256u * 1024u];
    wamp1_php_session sess;
    if (wamp1_conn_session(c, buf, sizeof buf, &sess) == 0) wamp1_php_session_to_json(&sess, w);
    else wamp1_jw_null(w);
}

#ifdef DEMO_WEB_ASSETS
#include "demo_web.h" /* demo_web_files[]: examples/web, made by make */
#else
static const char demo_page[] =
    "<!doctype html><meta charset=utf-8><title>wamp1.h demo</title>"
    "<h1>wamp1.h demo</h1><p>WAMP v1 endpoint: ws://this-host/ with subprotocol "
    "<code>wamp</code>.</p>\n";
static const wamp1_http_file demo_web_files[] = {
    {"/", "text/html; charset=utf-8", demo_page, sizeof demo_page - 1, NULL, 0, NULL},
};
#define DEMO_WEB_COUNT 1
#endif
static char demo_web_scratch[256u * 1024u];
static wamp1_http_site demo_site = {demo_web_files, DEMO_WEB_COUNT, NULL, demo_web_scratch,
                                    sizeof demo_web_scratch, NULL};

/* POST /publish: the HTTP publisher, when --publisher-secret or --publisher-token */
static wamp1_publisher demo_publisher;
static int demo_publisher_on;

/* GET / gets the page, /wamp1.js the client, /publish the publisher (404 when it is off),
   any other plain HTTP path 404 */
static void demo_on_http(wamp1_conn *c, const wamp1_request *req, void *user) {
    (void)user;
    if (demo_publisher_on) {
        demo_publisher.app = wamp1_conn_app(c);
        if (wamp1_publisher_handle(&demo_publisher, c, req)) return;
    } else if (req->path_len == 8 && memcmp(req->path, "/publish", 8) == 0) {
        (void)wamp1__http_refuse(c, 404, NULL, "POST /publish: the publisher is off");
        return;
    }
    (void)wamp1_http_serve(c, req, &demo_site);
}

static void demo_on_error(wamp1_app *a, wamp1_conn *c, wamp1_error e, const char *why, void *user) {
    (void)a; (void)c; (void)user;
    if (getenv("WAMP1_DEMO_VERBOSE")) fprintf(stderr, DEMO_NAME ": error %d: %s\n", (int)e, why);
}

/* The demo's settings from the options: address, buffers, keepalive, slow consumers, the
   default chain (blocked addresses, origins, sessions) and the hooks. */
static void demo_configure(wamp1_app_config *cfg, uint32_t pool) {
    cfg->server.host = demo_opt.host;
    cfg->server.listen_port = (uint16_t)demo_opt.port;
    cfg->server.max_connections = pool;
    cfg->server.recv_buffer_size = 64u * 1024u;
    /* reads start in 4 KiB buffers; messages beyond take one of 4096 full-size ones */
    cfg->server.recv_small_size = 4096u;
    cfg->server.recv_buffers = pool < 4096u ? pool : 4096u;
    cfg->server.send_buffer_size = 256u * 1024u;
    cfg->server.keepalive_ms = (uint32_t)demo_opt.keepalive * 1000u;
    /* buffers are lent only while a connection has partial input or unsent output; the
       upgrade request is kept (pinning a receive buffer) only for the web sessions */
    cfg->server.drop_request = demo_opt.session_dir == NULL;
    /* a client whose send buffer is full: closed with 1008, or its messages dropped */
    cfg->server.slow_consumer = demo_opt.slow_drop ? WAMP1_SLOW_DROP : WAMP1_SLOW_CLOSE;
    cfg->server.cb.on_http = demo_on_http;
    demo_site.root = demo_opt.web_root;
    if (demo_blocklist.count) cfg->server.blocklist = &demo_blocklist;
    cfg->server.origins = demo_origin_rules;
    cfg->server.origin_count = demo_origin_count;
    if (demo_opt.session_dir) {
        wamp1_php_files_provider(&demo_sessions, demo_opt.session_dir);
        cfg->server.sessions = &demo_sessions;
        demo_websession = demo_php_websession;
    }
    cfg->on_error = demo_on_error;
    if (demo_opt.publisher_secret || demo_opt.publisher_token) {
        wamp1_publisher_config pc;
        memset(&pc, 0, sizeof pc);
        pc.secret = demo_opt.publisher_secret;
        pc.token = demo_opt.publisher_token;
        demo_publisher_on = wamp1_publisher_init(&demo_publisher, NULL, &pc) == 0;
    }
}

#endif /* DEMO_OPTIONS_H */
