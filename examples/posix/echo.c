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

#include "../echo_options.h"

int main(int argc, char **argv) {
    static wamp1_posix posix;
    wamp1_port port;
    wamp1_config cfg;
    echo_options o;
    size_t mem_size;
    void *mem;
    int i;
    struct sigaction sa;

    i = echo_parse_options(argc, argv, &o);
    if (i != 0) return i < 0 ? 0 : i; /* -1: --help */

    if (wamp1_posix_init(&posix, &port) != 0) return echo_usage("cannot create the wake-up pipe", NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.host = o.host;
    cfg.listen_port = (uint16_t)o.port;
    cfg.max_connections = (uint32_t)o.max_conns;
    /* room for the largest message, its frame header and the kept upgrade request */
    cfg.recv_buffer_size = (uint32_t)(o.max_message + 256 + WAMP1_MAX_HEADER_SIZE);
    /* the largest echo plus room for the pongs and close frames that may wait before it */
    cfg.send_buffer_size = (uint32_t)(o.max_message + 16384);
    cfg.max_message_size = (uint32_t)o.max_message;
    cfg.cb.on_message = on_message;
    cfg.cb.on_error = on_error;
    /* The buffers are reserved, not touched: the system only backs the pages in use. */
    mem_size = wamp1_server_memory_size(&cfg);
    mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS
#ifdef MAP_NORESERVE
               | MAP_NORESERVE
#endif
               , -1, 0);
    if (mem == MAP_FAILED) return echo_usage("cannot reserve buffer memory", NULL);
    cfg.memory = mem;
    cfg.memory_size = mem_size;
    if (wamp1_server_init(&server, &cfg) != 0) return echo_usage("bad configuration", NULL);
    if (wamp1_server_listen(&server) != 0) {
        fprintf(stderr, "echo: cannot listen on %s:%lu\n", o.host, o.port);
        return 2;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printf("listening on %s:%u\n", o.host, (unsigned)wamp1_server_port(&server));
    fflush(stdout);

    wamp1_server_run(&server);
    wamp1_server_shutdown(&server, 1200);
    wamp1_posix_free(&posix);
    munmap(mem, mem_size);
    return 0;
}
