/* lws_echo_peer: a peer to compare build/echo with, a plain WebSocket echo server on
   libwebsockets (Debian: libwebsockets-dev). It echoes every message whole, text as text and
   binary as binary, in the order received, and prints the contract line of our servers:
   "listening on HOST:PORT". Logs (errors and warnings only) go to standard error.

   lws_echo_peer [--host ADDR] [--port N]      (default 127.0.0.1, port 0: the system picks)

   The usual libwebsockets pattern: messages received are queued per connection, and each
   WRITEABLE callback writes one of them (lws allows one lws_write per callback); reading
   pauses while a connection has more than 4 MiB queued. Build:
   cc -O2 $(pkg-config --cflags libwebsockets) lws_echo_peer.c $(pkg-config --libs libwebsockets) */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE (16u << 20)
#define PAUSE_AT (4u << 20)
#define RESUME_AT (1u << 20)

typedef struct msg {
    struct msg *next;
    size_t len;
    int binary;
    unsigned char data[]; /* LWS_PRE bytes of room, then the payload */
} msg;

typedef struct session {
    msg *head, *tail;
    size_t queued;
    unsigned char *rx; /* the message being received */
    size_t rx_len, rx_cap;
    int rx_binary, paused;
} session;

static struct lws_context *context;
static volatile sig_atomic_t interrupted;

static void drop_all(session *s) {
    while (s->head) {
        msg *m = s->head;
        s->head = m->next;
        free(m);
    }
    s->tail = NULL;
    s->queued = 0;
    free(s->rx);
    s->rx = NULL;
    s->rx_len = s->rx_cap = 0;
}

static int enqueue(struct lws *wsi, session *s, const void *p, size_t n, int binary) {
    msg *m = malloc(sizeof *m + LWS_PRE + n);
    if (!m) return -1;
    m->next = NULL;
    m->len = n;
    m->binary = binary;
    memcpy(m->data + LWS_PRE, p, n);
    if (s->tail) s->tail->next = m;
    else s->head = m;
    s->tail = m;
    s->queued += n;
    if (s->queued > PAUSE_AT && !s->paused) {
        s->paused = 1;
        lws_rx_flow_control(wsi, 0);
    }
    lws_callback_on_writable(wsi);
    return 0;
}

static int on_receive(struct lws *wsi, session *s, const void *in, size_t len) {
    int final = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    if (lws_is_first_fragment(wsi) && s->rx_len == 0) s->rx_binary = lws_frame_is_binary(wsi);
    if (final && s->rx_len == 0) return enqueue(wsi, s, in, len, s->rx_binary); /* whole: no copy */
    if (s->rx_len + len > MAX_MESSAGE) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        return -1;
    }
    if (s->rx_len + len > s->rx_cap) {
        size_t cap = s->rx_cap ? s->rx_cap : 4096;
        unsigned char *p;
        while (cap < s->rx_len + len) cap *= 2;
        if (!(p = realloc(s->rx, cap))) return -1;
        s->rx = p;
        s->rx_cap = cap;
    }
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    if (!final) return 0;
    {
        size_t n = s->rx_len;
        s->rx_len = 0;
        return enqueue(wsi, s, s->rx, n, s->rx_binary);
    }
}

static int on_writeable(struct lws *wsi, session *s) {
    msg *m = s->head;
    int n;
    if (!m) return 0;
    n = lws_write(wsi, m->data + LWS_PRE, m->len, m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    if (n < (int)m->len) return -1;
    s->head = m->next;
    if (!s->head) s->tail = NULL;
    s->queued -= m->len;
    free(m);
    if (s->paused && s->queued < RESUME_AT) {
        s->paused = 0;
        lws_rx_flow_control(wsi, 1);
    }
    if (s->head) lws_callback_on_writable(wsi);
    return 0;
}

static int callback_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    session *s = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(s, 0, sizeof *s);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return on_receive(wsi, s, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(wsi, s);
    case LWS_CALLBACK_CLOSED:
        drop_all(s);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    /* the first protocol is the one used when the client offers none */
    {"echo", callback_echo, sizeof(session), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
    lws_cancel_service(context);
}

int main(int argc, char **argv) {
    struct lws_context_creation_info info;
    struct lws_vhost *vh;
    const char *host = "127.0.0.1";
    int port = 0, i;

    for (i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) goto usage;
        if (strcmp(argv[i], "--host") == 0) host = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
        else goto usage;
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = host;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    if (!(context = lws_create_context(&info))) {
        fprintf(stderr, "lws_echo_peer: cannot create the context (listen on %s:%d)\n", host, port);
        return 2;
    }
    vh = lws_get_vhost_by_name(context, "default");
    printf("listening on %s:%d\n", host, vh ? lws_get_vhost_listen_port(vh) : port);
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!interrupted)
        if (lws_service(context, 0) < 0) break;
    lws_context_destroy(context);
    return 0;
usage:
    fprintf(stderr, "usage: lws_echo_peer [--host ADDR] [--port N]\n");
    return 2;
}
