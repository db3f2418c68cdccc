/* echo: a plain WebSocket echo server on wamp1.h (no WAMP).

   build/echo [--host ADDR] [--port N] [--max-message BYTES] [--max-connections N]

   Echoes every text message as text and every binary message as binary, whole. It is the
   server the conformance suite and the throughput benchmark point at. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#define WAMP1_MAX_CONNECTIONS 256
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"
#include "../../port/wamp1_posix.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static wamp1_server server;

static void on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user) {
    (void)user;
    (void)wamp1_conn_send(c, op, data, len);
}

static void on_error(wamp1_conn *c, wamp1_error err, const char *reason, void *user) {
    (void)c;
    (void)user;
    if (getenv("WAMP1_ECHO_VERBOSE")) fprintf(stderr, "echo: error %d: %s\n", (int)err, reason);
}

static void on_signal(int sig) {
    (void)sig;
    wamp1_server_stop(&server);
}

static int usage(const char *msg, const char *arg) {
    fprintf(stderr, "echo: %s%s%s (usage: echo [--host ADDR] [--port N] [--max-message BYTES] "
                    "[--max-connections N]; echo --help)\n", msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

static int help(void) {
    printf("usage: echo [--host ADDR] [--port N] [--max-message BYTES] [--max-connections N]\n"
           "A WebSocket echo server: every message comes back as it was sent.\n"
           "  --host ADDR           address to listen on (default 127.0.0.1; :: for IPv6)\n"
           "  --port N              0 to 65535, 0 for any free port (default 9001)\n"
           "  --max-message BYTES   1 to 1073741824 (default 16777216)\n"
           "  --max-connections N   1 to %lu (default 64)\n"
           "  --help                this text\n"
           "The first line on standard output is \"listening on ADDR:PORT\"; SIGINT or SIGTERM stop it.\n",
           (unsigned long)WAMP1_MAX_CONNECTIONS);
    return 0;
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

int main(int argc, char **argv) {
    static wamp1_posix posix;
    wamp1_port port;
    wamp1_config cfg;
    const char *host = "127.0.0.1";
    unsigned long port_no = 9001, max_message = 16777216, max_conns = 64;
    size_t mem_size;
    void *mem;
    int i;
    struct sigaction sa;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return help();
        if (strcmp(a, "--host") == 0 && v) { host = v; i++; }
        else if (strcmp(a, "--port") == 0) {
            if (parse_uint(v, 65535, &port_no) != 0) return usage("--port takes 0 to 65535", v);
            i++;
        } else if (strcmp(a, "--max-message") == 0) {
            if (parse_uint(v, 1ul << 30, &max_message) != 0 || max_message == 0)
                return usage("--max-message takes 1 to 1073741824", v);
            i++;
        } else if (strcmp(a, "--max-connections") == 0) {
            if (parse_uint(v, WAMP1_MAX_CONNECTIONS, &max_conns) != 0 || max_conns == 0) {
                char what[64];
                snprintf(what, sizeof what, "--max-connections takes 1 to %lu", (unsigned long)WAMP1_MAX_CONNECTIONS);
                return usage(what, v);
            }
            i++;
        } else return usage("unknown option", a);
    }

    if (wamp1_posix_init(&posix, &port) != 0) return usage("cannot create the wake-up pipe", NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.host = host;
    cfg.listen_port = (uint16_t)port_no;
    cfg.max_connections = (uint32_t)max_conns;
    /* room for the largest message, its frame header and the kept upgrade request */
    cfg.recv_buffer_size = (uint32_t)(max_message + 256 + WAMP1_MAX_HEADER_SIZE);
    /* the largest echo plus room for the pongs and close frames that may wait before it */
    cfg.send_buffer_size = (uint32_t)(max_message + 16384);
    cfg.max_message_size = (uint32_t)max_message;
    cfg.cb.on_message = on_message;
    cfg.cb.on_error = on_error;
    /* The buffers are reserved, not touched: the system only backs the pages in use. */
    mem_size = wamp1_server_memory_size(&cfg);
    mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS
#ifdef MAP_NORESERVE
               | MAP_NORESERVE
#endif
               , -1, 0);
    if (mem == MAP_FAILED) return usage("cannot reserve buffer memory", NULL);
    cfg.memory = mem;
    cfg.memory_size = mem_size;
    if (wamp1_server_init(&server, &cfg) != 0) return usage("bad configuration", NULL);
    if (wamp1_server_listen(&server) != 0) {
        fprintf(stderr, "echo: cannot listen on %s:%lu\n", host, port_no);
        return 2;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printf("listening on %s:%u\n", host, (unsigned)wamp1_server_port(&server));
    fflush(stdout);

    wamp1_server_run(&server);
    wamp1_server_shutdown(&server, 1200);
    wamp1_posix_free(&posix);
    munmap(mem, mem_size);
    return 0;
}
