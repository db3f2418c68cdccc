/* wamp1_testport.h - an in-memory port for wamp1.h: deterministic, with a fake clock.

   The unit tests and the fuzz targets drive every layer through it, byte by byte. A test
   plays the clients: it "connects", writes bytes the server will read, reads what the
   server wrote, half-closes, and moves the clock. Nothing touches the operating system.

       static wamp1_testport tp;
       wamp1_port port;
       wamp1_testport_init(&tp, &port);
       cfg.port = &port;  ... wamp1_server_init, wamp1_server_listen ...
       int cl = wamp1_testport_connect(&tp);
       wamp1_testport_write(&tp, cl, "GET / HTTP/1.1\r\n...", n);
       wamp1_server_poll(&server, 0);
       n = wamp1_testport_read(&tp, cl, buf, sizeof buf);

   When nothing is ready, wait() lets the fake clock run for the whole timeout, so timers
   fire without real waiting. Include after wamp1.h (it uses only the public API types).

   Readiness comes either way a port may offer it: as a readiness list (wait(), like poll)
   or, when WAMP1_TESTPORT_EVENTS is defined, event-driven (watch/unwatch/wait_events,
   like epoll), strict as epoll is: watching a socket twice, changing or unwatching one
   that is not watched, or closing one that is still watched is counted in watch_errors.
*/
#ifndef WAMP1_TESTPORT_H_INCLUDED
#define WAMP1_TESTPORT_H_INCLUDED

#ifndef WAMP1_TESTPORT_SOCKETS
#define WAMP1_TESTPORT_SOCKETS 24
#endif
#ifndef WAMP1_TESTPORT_BUFFER
#define WAMP1_TESTPORT_BUFFER (160u * 1024u)
#endif

typedef struct wamp1_testport_pipe {
    uint8_t data[WAMP1_TESTPORT_BUFFER];
    size_t len;
} wamp1_testport_pipe;

typedef struct wamp1_testport_sock {
    int state;              /* 0 free, 1 waiting for accept, 2 accepted */
    int client_eof;         /* the client half-closed (server reads 0 after the data) */
    int client_reset;       /* the client vanished (server reads an error) */
    int server_shut;        /* the server half-closed */
    int server_closed;      /* the server closed the socket */
    wamp1_addr peer;        /* the client's address (default 127.0.0.1) */
    wamp1_testport_pipe in;  /* client -> server */
    wamp1_testport_pipe out; /* server -> client */
} wamp1_testport_sock;

typedef struct wamp1_testport_watch {
    wamp1_socket sock; /* 0: unused */
    uint32_t tag;
    unsigned events;
} wamp1_testport_watch;

typedef struct wamp1_testport {
    uint64_t now;
    wamp1_testport_watch watched[WAMP1_TESTPORT_SOCKETS + 8];
    unsigned long watch_errors, watch_calls;
    uint32_t rng;
    int listening, woken;
    size_t max_io;          /* at most this many bytes per recv/send call (0: no limit) */
    size_t out_limit;       /* server -> client capacity, to play a client that does not read */
    int fail_random;        /* random() reports failure */
    int fixed_random;       /* random() gives this byte (+ 1) every time: the worst source */
    wamp1_testport_sock socks[WAMP1_TESTPORT_SOCKETS];
    unsigned long closes, sends, recvs;
} wamp1_testport;

#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__TP_FN static __attribute__((unused))
#else
#define WAMP1__TP_FN static
#endif

#define WAMP1__TP_LISTENER 1000 /* listening sockets: 1000, 1010, 1020, ... */
#define WAMP1__TP_IS_LISTENER(fd) ((fd) >= WAMP1__TP_LISTENER && (fd) < WAMP1__TP_LISTENER + 100 && (fd) % 10 == 0)
#define WAMP1__TP_WAKE 1001

/* Misuse of the event-driven interface by the loop, over every testport of the program. */
static unsigned long wamp1_testport_watch_misuse;

static wamp1_testport_watch *wamp1__tp_watched(wamp1_testport *tp, wamp1_socket s) {
    unsigned i;
    for (i = 0; i < sizeof tp->watched / sizeof tp->watched[0]; i++)
        if (tp->watched[i].sock == s) return &tp->watched[i];
    return NULL;
}

static wamp1_testport_sock *wamp1__tp_sock(wamp1_testport *tp, wamp1_socket s) {
    if (s < 1 || s > WAMP1_TESTPORT_SOCKETS) return NULL;
    return &tp->socks[s - 1];
}

static int wamp1__tp_listen(void *ctx, const char *host, uint16_t port, wamp1_socket *out,
                            uint16_t *bound) {
    wamp1_testport *tp = (wamp1_testport *)ctx;
    (void)host;
    *out = WAMP1__TP_LISTENER + 10 * (tp->listening++ % 10); /* listening: how many */
    *bound = port ? port : 4242;
    return 0;
}

static int wamp1__tp_accept(void *ctx, wamp1_socket ls, wamp1_socket *out, wamp1_addr *peer) {
    wamp1_testport *tp = (wamp1_testport *)ctx;
    int i;
    (void)ls;
    for (i = 0; i < WAMP1_TESTPORT_SOCKETS; i++) {
        if (tp->socks[i].state == 1) {
            tp->socks[i].state = 2;
            *out = i + 1;
            *peer = tp->socks[i].peer;
            return 0;
        }
    }
    return WAMP1_IO_WOULDBLOCK;
}

static long wamp1__tp_recv(void *ctx, wamp1_socket s, void *buf, size_t n) {
    wamp1_testport *tp = (wamp1_testport *)ctx;
    wamp1_testport_sock *k = wamp1__tp_sock(tp, s);
    if (!k || k->state != 2 || k->server_closed) return WAMP1_IO_ERROR;
    tp->recvs++;
    if (k->client_reset) return WAMP1_IO_ERROR;
    if (k->in.len == 0) return k->client_eof ? 0 : WAMP1_IO_WOULDBLOCK;
    if (n > k->in.len) n = k->in.len;
    if (tp->max_io && n > tp->max_io) n = tp->max_io;
    memcpy(buf, k->in.data, n);
    memmove(k->in.data, k->in.data + n, k->in.len - n);
    k->in.len -= n;
    return (long)n;
}

static size_t wamp1__tp_out_cap(const wamp1_testport *tp) {
    return tp->out_limit && tp->out_limit < WAMP1_TESTPORT_BUFFER ? tp->out_limit
                                                                  : WAMP1_TESTPORT_BUFFER;
}

static long wamp1__tp_send(void *ctx, wamp1_socket s, const void *buf, size_t n) {
    wamp1_testport *tp = (wamp1_testport *)ctx;
    wamp1_testport_sock *k = wamp1__tp_sock(tp, s);
    size_t room;
    if (!k || k->state != 2 || k->server_closed || k->server_shut) return WAMP1_IO_ERROR;
    tp->sends++;
    if (k->client_reset) return WAMP1_IO_ERROR;
    room = wamp1__tp_out_cap(tp) - k->out.len;
    if (room == 0) return WAMP1_IO_WOULDBLOCK;
    if (n > room) n = room;
    if (tp->max_io && n > tp->max_io) n = tp->max_io;
    memcpy(k->out.data + k->out.len, buf, n);
    k->out.len += n;
    return (long)n;
}

static void wamp1__tp_shutdown(void *ctx, wamp1_socket s) {
    wamp1_testport_sock *k = wamp1__tp_sock((wamp1_testport *)ctx, s);
    if (k) k->server_shut = 1;
}

static void wamp1__tp_close(void *ctx, wamp1_socket s) {
    wamp1_testport *tp = (wamp1_testport *)ctx;
    wamp1_testport_sock *k = wamp1__tp_sock(tp, s);
    wamp1_testport_watch *w = s ? wamp1__tp_watched(tp, s) : NULL;
    if (w) { w->sock = 0; tp->watch_errors++; wamp1_testport_watch_misuse++; } /* closed while still watched */
    if (WAMP1__TP_IS_LISTENER(s)) { if (tp->listening) tp->listening--; return; }
    if (k) { k->server_closed = 1; tp->closes++; }
}

static short wamp1__tp_ready(wamp1_testport *tp, wamp1_socket fd, unsigned events) {
    short re = 0;
    if (WAMP1__TP_IS_LISTENER(fd)) {
        int j;
        for (j = 0; j < WAMP1_TESTPORT_SOCKETS; j++)
            if (tp->socks[j].state == 1) re = WAMP1_POLLIN;
    } else if (fd == WAMP1__TP_WAKE) {
        if (tp->woken) re = WAMP1_POLLIN;
    } else {
        wamp1_testport_sock *k = wamp1__tp_sock(tp, fd);
        if (!k || k->state != 2 || k->server_closed) re = WAMP1_POLLNVAL;
        else {
            if ((events & WAMP1_POLLIN) && (k->in.len || k->client_eof || k->client_reset))
                re |= WAMP1_POLLIN;
            if ((events & WAMP1_POLLOUT) && k->out.len < wamp1__tp_out_cap(tp))
                re |= WAMP1_POLLOUT;
            if (k->client_reset) re |= WAMP1_POLLERR;
        }
    }
    return re;
}

static int wamp1__tp_wait(void *ctx, wamp1_pollfd *fds, unsigned n, int timeout_ms) {
    wamp1_testport *tp = (wamp1_testport *)ctx;
    unsigned i;
    int ready = 0;
    for (i = 0; i < n; i++) {
        short re = wamp1__tp_ready(tp, fds[i].fd, (unsigned short)fds[i].events);
        fds[i].revents = re;
        if (re) ready++;
    }
    if (!ready && timeout_ms > 0) tp->now += (uint64_t)timeout_ms;
    return ready;
}

static int wamp1__tp_watch(void *ctx, wamp1_socket s, uint32_t tag, unsigned events, int first) {
    wamp1_testport *tp = (wamp1_testport *)ctx;
    wamp1_testport_watch *w = wamp1__tp_watched(tp, s);
    tp->watch_calls++;
    if (first ? w != NULL : w == NULL) { tp->watch_errors++; wamp1_testport_watch_misuse++; return -1; }
    if (first && !(w = wamp1__tp_watched(tp, 0))) return -1; /* table full */
    w->sock = s;
    w->tag = tag;
    w->events = events;
    return 0;
}

static void wamp1__tp_unwatch(void *ctx, wamp1_socket s) {
    wamp1_testport *tp = (wamp1_testport *)ctx;
    wamp1_testport_watch *w = wamp1__tp_watched(tp, s);
    if (!w) { tp->watch_errors++; wamp1_testport_watch_misuse++; return; }
    w->sock = 0;
}

static int wamp1__tp_wait_events(void *ctx, wamp1_event *out, unsigned max, int timeout_ms) {
    wamp1_testport *tp = (wamp1_testport *)ctx;
    unsigned i, n = 0;
    for (i = 0; i < sizeof tp->watched / sizeof tp->watched[0] && n < max; i++) {
        wamp1_testport_watch *w = &tp->watched[i];
        short re;
        if (!w->sock) continue;
        re = wamp1__tp_ready(tp, w->sock, w->events);
        if (!re) continue;
        out[n].tag = w->tag;
        out[n].events = (unsigned)(unsigned short)re;
        n++;
    }
    if (!n && timeout_ms > 0) tp->now += (uint64_t)timeout_ms;
    return (int)n;
}

static uint64_t wamp1__tp_now(void *ctx) { return ((wamp1_testport *)ctx)->now; }

static int wamp1__tp_random(void *ctx, void *buf, size_t n) {
    wamp1_testport *tp = (wamp1_testport *)ctx;
    uint8_t *b = (uint8_t *)buf;
    if (tp->fail_random) return -1;
    if (tp->fixed_random) {
        memset(buf, tp->fixed_random - 1, n);
        return 0;
    }
    while (n--) {
        tp->rng = tp->rng * 1103515245u + 12345u;
        *b++ = (uint8_t)(tp->rng >> 16);
    }
    return 0;
}

static wamp1_socket wamp1__tp_wake_fd(void *ctx) { (void)ctx; return WAMP1__TP_WAKE; }
static void wamp1__tp_wake(void *ctx) { ((wamp1_testport *)ctx)->woken = 1; }
static void wamp1__tp_wake_drain(void *ctx) { ((wamp1_testport *)ctx)->woken = 0; }

WAMP1__TP_FN int wamp1_testport_init(wamp1_testport *tp, wamp1_port *port) { /* 0 */
    memset(tp, 0, sizeof *tp);
    tp->now = 1000;
    tp->rng = 12345u;
    memset(port, 0, sizeof *port);
    port->ctx = tp;
    port->listen = wamp1__tp_listen;
    port->accept = wamp1__tp_accept;
    port->recv = wamp1__tp_recv;
    port->send = wamp1__tp_send;
    port->shutdown = wamp1__tp_shutdown;
    port->close = wamp1__tp_close;
    port->wait = wamp1__tp_wait;
#ifdef WAMP1_TESTPORT_EVENTS
    port->watch = wamp1__tp_watch;
    port->unwatch = wamp1__tp_unwatch;
    port->wait_events = wamp1__tp_wait_events;
#else
    (void)wamp1__tp_watch;
    (void)wamp1__tp_unwatch;
    (void)wamp1__tp_wait_events;
#endif
    port->now_ms = wamp1__tp_now;
    port->random = wamp1__tp_random;
    port->wake_fd = wamp1__tp_wake_fd;
    port->wake = wamp1__tp_wake;
    port->wake_drain = wamp1__tp_wake_drain;
    return 0;
}

/* A new client connection waiting to be accepted; returns its handle or -1. */
WAMP1__TP_FN int wamp1_testport_connect(wamp1_testport *tp) {
    int i;
    for (i = 0; i < WAMP1_TESTPORT_SOCKETS; i++) {
        if (tp->socks[i].state == 0) {
            wamp1_addr *a = &tp->socks[i].peer;
            memset(&tp->socks[i], 0, sizeof tp->socks[i]);
            tp->socks[i].state = 1;
            a->family = 4;
            a->bytes[0] = 127;
            a->bytes[3] = 1;
            a->port = (uint16_t)(40000 + i);
            return i + 1;
        }
    }
    return -1;
}

/* Set the address a waiting connection comes from (before the server accepts it). */
WAMP1__TP_FN void wamp1_testport_set_peer(wamp1_testport *tp, int cl, const wamp1_addr *a) {
    wamp1_testport_sock *k = wamp1__tp_sock(tp, cl);
    if (k) k->peer = *a;
}

/* Client writes n bytes; returns how many fitted. */
WAMP1__TP_FN size_t wamp1_testport_write(wamp1_testport *tp, int cl, const void *data, size_t n) {
    wamp1_testport_sock *k = wamp1__tp_sock(tp, cl);
    size_t room;
    if (!k) return 0;
    room = WAMP1_TESTPORT_BUFFER - k->in.len;
    if (n > room) n = room;
    memcpy(k->in.data + k->in.len, data, n);
    k->in.len += n;
    return n;
}

/* Client reads what the server sent, at most cap bytes. */
WAMP1__TP_FN size_t wamp1_testport_read(wamp1_testport *tp, int cl, void *buf, size_t cap) {
    wamp1_testport_sock *k = wamp1__tp_sock(tp, cl);
    size_t n;
    if (!k) return 0;
    n = k->out.len < cap ? k->out.len : cap;
    memcpy(buf, k->out.data, n);
    memmove(k->out.data, k->out.data + n, k->out.len - n);
    k->out.len -= n;
    return n;
}

WAMP1__TP_FN void wamp1_testport_client_eof(wamp1_testport *tp, int cl) {
    wamp1_testport_sock *k = wamp1__tp_sock(tp, cl);
    if (k) k->client_eof = 1;
}

WAMP1__TP_FN void wamp1_testport_client_reset(wamp1_testport *tp, int cl) {
    wamp1_testport_sock *k = wamp1__tp_sock(tp, cl);
    if (k) k->client_reset = 1;
}

/* Did the server close (1) or half-close (2) this connection? 0: still open. */
WAMP1__TP_FN int wamp1_testport_server_closed(wamp1_testport *tp, int cl) {
    wamp1_testport_sock *k = wamp1__tp_sock(tp, cl);
    if (!k) return 1;
    return k->server_closed ? 1 : k->server_shut ? 2 : 0;
}

/* A connected socket the server does not accept: one an application watches itself
   (wamp1_watch). The test writes to it and reads from it as with a client. */
WAMP1__TP_FN int wamp1_testport_socket(wamp1_testport *tp) {
    int cl = wamp1_testport_connect(tp);
    if (cl > 0) tp->socks[cl - 1].state = 2;
    return cl;
}

/* Forget a connection the server closed, so its slot can be reused. */
WAMP1__TP_FN void wamp1_testport_release(wamp1_testport *tp, int cl) {
    wamp1_testport_sock *k = wamp1__tp_sock(tp, cl);
    if (k) k->state = 0;
}

#endif /* WAMP1_TESTPORT_H_INCLUDED */
