/* auth: a custom link in the middleware chain, token authentication at the HTTP level.

   build/auth [--host ADDR] [--port N] [--token SECRET]

   A WebSocket echo server that accepts a handshake only with the right token, given as
   the query parameter ?token=SECRET or as "Authorization: Bearer SECRET"; anyone else
   gets HTTP 401 before the WebSocket opens. The link runs after the default links
   (blocked addresses, origins, sessions) and before the handshake completes; it keeps
   the name the client authenticated as in the connection's attribute store. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#define WAMP1_MAX_CONNECTIONS 64
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"
#include "../../port/wamp1_posix.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static wamp1_server server;

/* Constant-time comparison, so the token cannot be guessed byte by byte from timings. */
static int same(const char *a, size_t an, const char *b, size_t bn) {
    size_t i;
    unsigned diff = (unsigned)(an ^ bn);
    for (i = 0; i < an && i < bn; i++) diff |= (unsigned)(a[i] ^ b[i]);
    return diff == 0;
}

static int token_link(wamp1_link *self, wamp1_conn *c, const wamp1_request *req) {
    const char *secret = (const char *)self->state;
    size_t sl = strlen(secret), n = 0;
    char q[128];
    const char *auth = wamp1_request_header(req, "authorization", &n);
    if (auth && n > 7 && memcmp(auth, "Bearer ", 7) == 0 && same(auth + 7, n - 7, secret, sl)) {
        (void)wamp1_attr_set_bytes(c, "auth.via", "header", 6);
        return 0;
    }
    if (req->query && wamp1_query_get(req->query, req->query_len, "token", q, sizeof q, &n) == 0 &&
        same(q, n, secret, sl)) {
        (void)wamp1_attr_set_bytes(c, "auth.via", "query", 5);
        return 0;
    }
    return 401;
}

static void on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user) {
    (void)user;
    (void)wamp1_conn_send(c, op, data, len);
}

static void on_signal(int sig) {
    (void)sig;
    wamp1_server_stop(&server);
}

int main(int argc, char **argv) {
    static wamp1_posix posix;
    static wamp1_link auth;
    wamp1_port port;
    wamp1_config cfg;
    const char *host = "127.0.0.1", *token = "let-me-in";
    long port_no = 9002;
    int i;
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--host") == 0) host = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0) port_no = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--token") == 0) token = argv[i + 1];
        else break;
    }
    if (i != argc || port_no < 0 || port_no > 65535) {
        fprintf(stderr, "auth: usage: auth [--host ADDR] [--port N] [--token SECRET]\n");
        return 2;
    }
    if (wamp1_posix_init(&posix, &port) != 0) return 2;
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.host = host;
    cfg.listen_port = (uint16_t)port_no;
    cfg.cb.on_message = on_message;
    if (wamp1_server_init(&server, &cfg) != 0) return 2;

    auth.name = "token authentication";
    auth.on_request = token_link;
    auth.state = (void *)(uintptr_t)token;
    wamp1_server_add_link(&server, &auth);

    if (wamp1_server_listen(&server) != 0) {
        fprintf(stderr, "auth: cannot listen on %s:%ld\n", host, port_no);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("listening on %s:%u\n", host, (unsigned)wamp1_server_port(&server));
    fflush(stdout);
    wamp1_server_run(&server);
    wamp1_server_shutdown(&server, 1500);
    wamp1_posix_free(&posix);
    return 0;
}
