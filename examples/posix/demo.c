/* demo: the WAMP v1 demo server on wamp1.h.

   build/demo [--host ADDR] [--port N] [--allow-origin HOST]... [--block ADDR[/BITS]]...
              [--keepalive SECONDS] [--max-connections N] [--session-dir DIR]
              [--tls-cert FILE --tls-key FILE] [--slow-consumer close|drop]
              [--web-root DIR] [--auth FILE] [--publisher-secret S] [--publisher-token T]
              [--redis HOST:PORT [--redis-password P [--redis-user U]] [--redis-prefix S]]

   Routes (CURIEs defined with PREFIX resolve to them):
     http://wamp1.dev/rpc#add        sum of the numeric arguments (or of one array of numbers)
     http://wamp1.dev/rpc#echo       the arguments as an array
     http://wamp1.dev/rpc#fail       CALLERROR http://wamp1.dev/error#fail with the arguments
     http://wamp1.dev/rpc#session    the caller's sessionId
     http://wamp1.dev/rpc#publish    (topicURI, event): publish to every subscriber
     http://wamp1.dev/rpc#sleep      (ms, 0..5000): answers ms after that long, asynchronously
     http://wamp1.dev/rpc#websession the caller's PHP web session as JSON, or null
     http://wamp1.dev/rpc#stats      pool usage and counters
     http://wamp1.dev/topic/{name}   the default broker

   Plain HTTP: the page at / and the client at /wamp1.js (examples/web, embedded by make),
   also the files of --web-root DIR; --auth FILE: WAMP-CRA (examples/demo_auth.h);
   --publisher-secret/--publisher-token: POST /publish (port/wamp1_publisher.h), else 404.

   --tls-cert/--tls-key serve wss:// through port/wamp1_mbedtls.h; they need a build with
   -DWAMP1_WITH_MBEDTLS, linked with -lmbedtls -lmbedx509 -lmbedcrypto (make does this when
   the mbedTLS headers are installed).

   --redis joins the demo to other demos through Redis pub/sub (port/wamp1_redis.h): events
   published on one reach the subscribers of all; rpc#stats then holds a "redis" object
   (state, counters). HOST may be a name (looked up once at start) or [IPv6]; PORT defaults
   to 6379; --redis-prefix names the channels (default "wamp1:"). */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#define WAMP1_MAX_CONNECTIONS 102400
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
#define WAMP1_MAX_TIMERS 4096
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"
#include "../../port/wamp1_posix.h"
#ifdef WAMP1_WITH_MBEDTLS
#include "../../port/wamp1_mbedtls.h"
#endif
#include "../../port/wamp1_redis.h"
#define DEMO_REDIS 1

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static wamp1_app demo_app;
#ifdef WAMP1_WITH_MBEDTLS
static wamp1_tls demo_tls; /* the TLS contexts' pool: its pages are touched only when used */
#endif

#include "../demo_routes.h"
#include "../demo_options.h"

/* ---- --redis: the bridge to the other demos ---- */
static wamp1_redis demo_redis;
static char demo_redis_addr[64];

static void demo_redis_stats(wamp1_jwriter *j) {
    wamp1_redis_stats st;
    size_t i;
    wamp1_redis_get_stats(&demo_redis, &st);
    wamp1_jw_key(j, "redis", (size_t)-1);
    wamp1_jw_object_begin(j);
    wamp1_jw_key(j, "state", (size_t)-1);
    wamp1_jw_string(j, wamp1_redis_state_name(st.state), (size_t)-1);
    wamp1_jw_key(j, "node", (size_t)-1);
    wamp1_jw_string(j, demo_redis.node, (size_t)-1);
    wamp1_jw_key(j, "last_error", (size_t)-1);
    wamp1_jw_string(j, demo_redis.last_error, (size_t)-1);
    {
        const struct { const char *key; int64_t v; } items[] = {
            {"connects", (int64_t)st.connects}, {"failures", (int64_t)st.failures},
            {"published", (int64_t)st.published}, {"dropped", (int64_t)st.dropped},
            {"received", (int64_t)st.received}, {"own", (int64_t)st.own}, {"external", (int64_t)st.external},
            {"malformed", (int64_t)st.malformed}, {"errors", (int64_t)st.errors},
            {"auth_failures", (int64_t)st.auth_failures}, {"channels", st.channels},
        };
        for (i = 0; i < sizeof items / sizeof items[0]; i++) {
            wamp1_jw_key(j, items[i].key, (size_t)-1);
            wamp1_jw_int(j, items[i].v);
        }
    }
    wamp1_jw_object_end(j);
}

/* 0, or 2 after saying why */
static int demo_redis_start(void) {
    wamp1_redis_config rc;
    struct addrinfo hints, *ai = NULL;
    char host[256];
    const char *v = demo_opt.redis, *colon = strrchr(v, ':'), *h = v;
    size_t hl;
    unsigned long port = 6379;
    if (v[0] == '[') { /* [IPv6]:PORT */
        const char *e = strchr(v, ']');
        if (!e || (e[1] && e[1] != ':')) return demo_usage("bad --redis", v);
        h = v + 1;
        hl = (size_t)(e - h);
        colon = e[1] ? e + 1 : NULL;
    } else hl = colon ? (size_t)(colon - v) : strlen(v);
    if (colon && options_parse_uint(colon + 1, 65535, &port) != 0) return demo_usage("--redis port takes 0 to 65535", v);
    if (hl == 0 || hl >= sizeof host || port == 0) return demo_usage("bad --redis", v);
    memcpy(host, h, hl);
    host[hl] = 0;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai ||
        getnameinfo(ai->ai_addr, ai->ai_addrlen, demo_redis_addr, sizeof demo_redis_addr, NULL, 0, NI_NUMERICHOST) != 0) {
        if (ai) freeaddrinfo(ai);
        return demo_usage("cannot resolve the --redis host", host);
    }
    freeaddrinfo(ai);
    memset(&rc, 0, sizeof rc);
    rc.host = demo_redis_addr;
    rc.port = (uint16_t)port;
    rc.user = demo_opt.redis_user;
    rc.password = demo_opt.redis_password;
    rc.prefix = demo_opt.redis_prefix;
    rc.connect = wamp1_redis_posix_connect;
    if (wamp1_redis_start(&demo_redis, &demo_app, &rc) != 0) return demo_usage("bad --redis-prefix or --redis-password", NULL);
    demo_stats_more = demo_redis_stats;
    return 0;
}

#ifdef WAMP1_WITH_MBEDTLS
static void on_tls_error(void *user, wamp1_socket s, int err, const char *where) {
    char msg[160];
    (void)user;
    (void)s;
    if (!getenv("WAMP1_DEMO_VERBOSE")) return;
    wamp1_tls_strerror(err, msg, sizeof msg);
    fprintf(stderr, "demo: TLS %s failed: %s\n", where, msg);
}
#endif

static void on_signal(int sig) {
    (void)sig;
    wamp1_app_stop(&demo_app);
}

int main(int argc, char **argv) {
    static wamp1_posix posix;
    wamp1_port port;
#ifdef WAMP1_WITH_MBEDTLS
    wamp1_port tls_port;
#endif
    wamp1_app_config cfg;
    size_t mem_size;
    void *mem;
    struct sigaction sa;

    {
        int rc = demo_parse_options(argc, argv, WAMP1_MAX_CONNECTIONS);
        if (rc != 0) return rc < 0 ? 0 : rc; /* -1: --help */
    }
#ifndef WAMP1_WITH_MBEDTLS
    if (demo_opt.tls_cert) return demo_usage("this build has no TLS support", NULL);
#endif

    if (wamp1_posix_init(&posix, &port) != 0) return demo_usage("cannot create the wake-up pipe", NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
#ifdef WAMP1_WITH_MBEDTLS
    if (demo_opt.tls_cert) {
        if (wamp1_tls_init_files(&demo_tls, &port, &tls_port, demo_opt.tls_cert, demo_opt.tls_key) != 0) {
            char msg[160];
            wamp1_tls_strerror(demo_tls.last_error, msg, sizeof msg);
            fprintf(stderr, "demo: cannot use --tls-cert %s --tls-key %s (%s): %s\n", demo_opt.tls_cert,
                    demo_opt.tls_key, demo_tls.error_where, msg);
            wamp1_tls_free(&demo_tls);
            return 2;
        }
        demo_tls.on_error = on_tls_error;
        cfg.server.port = &tls_port;
    }
#endif
    demo_configure(&cfg, WAMP1_MAX_CONNECTIONS);
    mem_size = wamp1_server_memory_size(&cfg.server);
    mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) return demo_usage("cannot reserve buffer memory", NULL);
    cfg.server.memory = mem;
    cfg.server.memory_size = mem_size;
    if (wamp1_app_init(&demo_app, &cfg) != 0) return demo_usage("bad configuration", NULL);
    wamp1_server_set_max_connections(wamp1_app_server(&demo_app), (uint32_t)demo_opt.max_conns);

    if (demo_add_routes(&demo_app) != 0) return demo_usage("the demo's routes do not fit WAMP1_MAX_ROUTES", NULL);
    if (demo_add_auth(&demo_app, demo_opt.auth_file) != 0) return demo_usage("WAMP-CRA does not fit the routes", NULL);
    if (demo_opt.redis && demo_redis_start() != 0) return 2;

    if (wamp1_app_listen(&demo_app) != 0) {
        fprintf(stderr, "demo: cannot listen on %s:%lu\n", demo_opt.host, demo_opt.port);
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printf("listening on %s:%u\n", demo_opt.host, (unsigned)wamp1_server_port(wamp1_app_server(&demo_app)));
    fflush(stdout);

    wamp1_app_run(&demo_app); /* until SIGINT or SIGTERM */
    if (demo_opt.redis) wamp1_redis_stop(&demo_redis);
    wamp1_app_shutdown(&demo_app, 1200);
#ifdef WAMP1_WITH_MBEDTLS
    wamp1_tls_free(&demo_tls);
#endif
    wamp1_posix_free(&posix);
    munmap(mem, mem_size);
    return 0;
}
