/* wamp1_lwip_sockets.h - the lwIP socket-API port of wamp1.h, for an RTOS (NO_SYS=0).

   The server loop runs in a task of its own and blocks in lwip_poll() (or lwip_select(),
   with WAMP1_LWIP_USE_SELECT) until a socket is ready, a timer is due or another task wakes
   it. Include it after wamp1.h in the file that defines WAMP1_IMPLEMENTATION:

       #define WAMP1_IMPLEMENTATION
       #include "wamp1.h"
       #include "port/wamp1_lwip_sockets.h"

       static wamp1_lwip_sockets lws;
       static wamp1_port port;

       static void server_task(void *arg) {            started after tcpip_init()
           static wamp1_app app;
           wamp1_app_config cfg = {0};
           if (wamp1_lwip_sockets_init(&lws, &port) != 0) ...   wake-up sockets, mutex
           cfg.server.port = &port;
           cfg.server.host = "0.0.0.0";
           wamp1_app_init(&app, &cfg);  wamp1_app_listen(&app);
           wamp1_app_run(&app);                        or a loop of wamp1_app_poll(&app, ms)
       }

   Other tasks publish with wamp1_app_publish_async()/wamp1_app_post(): the queue is guarded
   by an lwIP sys_mutex and the loop is woken through a UDP socket pair on 127.0.0.1, which
   needs LWIP_UDP and loopback (LWIP_NETIF_LOOPBACK=1 or LWIP_HAVE_LOOPIF=1). Without them
   there is no wake-up: poll with a bounded timeout (e.g. wamp1_app_poll(&app, 50)) so that
   posted work still runs. wake() is for tasks, not for interrupt handlers.

   Sockets are non-blocking (lwip_fcntl O_NONBLOCK, or lwip_ioctl FIONBIO with
   WAMP1_LWIP_USE_IOCTL). Names and addresses: the host is a numeric IPv4 or IPv6 address;
   NULL, "" and "0.0.0.0" listen on every IPv4 address, "::" on every address of both
   families where lwIP has IPv6 (dual stack).

   Options (define before including):
     WAMP1_LWIP_USE_SELECT    wait with lwip_select() instead of lwip_poll() (needs
                              LWIP_SOCKET_SELECT; sockets must be below FD_SETSIZE)
     WAMP1_LWIP_USE_IOCTL     FIONBIO instead of fcntl(O_NONBLOCK)
     WAMP1_LWIP_BACKLOG       listen backlog (default 8)
     WAMP1_LWIP_RANDOM(buf, n)  your random source, returning 0 (else LWIP_RAND() from your
                              cc.h; else a generator seeded from sys_now(), not for secrets)
*/
#ifndef WAMP1_LWIP_SOCKETS_H_INCLUDED
#define WAMP1_LWIP_SOCKETS_H_INCLUDED

#include "lwip/opt.h"
#include "lwip/sockets.h"
#include "lwip/sys.h"
#include "lwip/errno.h"
#include "lwip/def.h"

#if !LWIP_SOCKET || NO_SYS
#error "wamp1_lwip_sockets.h needs LWIP_SOCKET=1 and NO_SYS=0 (bare metal: wamp1_lwip_raw.h)"
#endif
#if defined(WAMP1_LWIP_USE_SELECT) && !LWIP_SOCKET_SELECT
#error "WAMP1_LWIP_USE_SELECT needs LWIP_SOCKET_SELECT=1 in lwipopts.h"
#endif
#if !defined(WAMP1_LWIP_USE_SELECT) && !LWIP_SOCKET_POLL
#error "lwip_poll() is not built (LWIP_SOCKET_POLL=0): define WAMP1_LWIP_USE_SELECT"
#endif

#ifndef WAMP1_LWIP_BACKLOG
#define WAMP1_LWIP_BACKLOG 8
#endif
#if LWIP_UDP && (LWIP_NETIF_LOOPBACK || LWIP_HAVE_LOOPIF)
#define WAMP1__LWS_WAKE 1
#else
#define WAMP1__LWS_WAKE 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__LWS_FN static __attribute__((unused))
#else
#define WAMP1__LWS_FN static
#endif

typedef struct wamp1_lwip_sockets {
    int wake_rx, wake_tx;       /* UDP pair on 127.0.0.1: wake() sends, the loop polls wake_rx */
    volatile int wake_pending;  /* a wake-up byte is on its way: do not send another */
    sys_mutex_t mutex;          /* the cross-task queue's lock */
    int has_mutex;
    uint32_t last_now;          /* sys_now() widened to 64 bits */
    uint64_t high;
    uint32_t seed;
} wamp1_lwip_sockets;

static int wamp1__lws_nonblock(int s) {
#ifdef WAMP1_LWIP_USE_IOCTL
    u32_t on = 1; /* lwIP reads FIONBIO's argument as a u32_t */
    return lwip_ioctl(s, (long)FIONBIO, &on) == 0 ? 0 : -1;
#else
    return lwip_fcntl(s, F_SETFL, O_NONBLOCK) == 0 ? 0 : -1;
#endif
}

static int wamp1__lws_would_block(void) {
    return errno == EWOULDBLOCK || errno == EAGAIN || errno == EINTR;
}

/* "a.b.c.d" (lwIP's own parser pulls in the C library's ctype table) */
static int wamp1__lws_ip4(const char *s, uint8_t out[4]) {
    unsigned i;
    for (i = 0; i < 4; i++) {
        unsigned v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 3) {
            v = v * 10u + (unsigned)(*s++ - '0');
            digits++;
        }
        if (!digits || v > 255u || (i < 3 && *s++ != '.')) return -1;
        out[i] = (uint8_t)v;
    }
    return *s ? -1 : 0;
}

/* sockaddr for host:port; returns its length or 0 when host is not a numeric address. */
static socklen_t wamp1__lws_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *ss) {
    uint8_t v4[4] = {0, 0, 0, 0};
    memset(ss, 0, sizeof *ss);
#if LWIP_IPV4
    if (!host || !*host || wamp1__lws_ip4(host, v4) == 0) {
        struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ss;
        a4->sin_family = AF_INET;
        a4->sin_port = lwip_htons(port);
        memcpy(&a4->sin_addr, v4, 4);
        return (socklen_t)sizeof *a4;
    }
#endif
#if LWIP_IPV6
    {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = lwip_htons(port);
        if (!host || !*host || (host[0] == ':' && host[1] == ':' && !host[2]) ||
            lwip_inet_pton(AF_INET6, host, &a6->sin6_addr) == 1)
            return (socklen_t)sizeof *a6;
    }
#endif
    (void)v4;
    return 0;
}

static void wamp1__lws_addr(const struct sockaddr_storage *ss, wamp1_addr *a) {
    memset(a, 0, sizeof *a);
#if LWIP_IPV4
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)ss;
        a->family = 4;
        memcpy(a->bytes, &in->sin_addr, 4);
        a->port = lwip_ntohs(in->sin_port);
    }
#endif
#if LWIP_IPV6
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)ss;
        a->family = 6;
        memcpy(a->bytes, &in6->sin6_addr, 16);
        a->port = lwip_ntohs(in6->sin6_port);
    }
#endif
}

static int wamp1__lws_listen(void *ctx, const char *host, uint16_t port, wamp1_socket *out,
                             uint16_t *bound) {
    struct sockaddr_storage ss;
    socklen_t sl = wamp1__lws_sockaddr(host, port, &ss);
    int s;
    (void)ctx;
    if (!sl) return -1;
    s = lwip_socket(ss.ss_family, SOCK_STREAM, 0);
    if (s < 0) return -1;
#if SO_REUSE
    {
        int one = 1;
        (void)lwip_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
#endif
    if (lwip_bind(s, (struct sockaddr *)&ss, sl) != 0 || lwip_listen(s, WAMP1_LWIP_BACKLOG) != 0 ||
        wamp1__lws_nonblock(s) != 0) {
        (void)lwip_close(s);
        return -1;
    }
    sl = (socklen_t)sizeof ss;
    if (lwip_getsockname(s, (struct sockaddr *)&ss, &sl) == 0) {
        wamp1_addr a;
        wamp1__lws_addr(&ss, &a);
        *bound = a.port;
    }
    *out = s;
    return 0;
}

static int wamp1__lws_accept(void *ctx, wamp1_socket ls, wamp1_socket *out, wamp1_addr *peer) {
    struct sockaddr_storage ss;
    socklen_t sl = (socklen_t)sizeof ss;
    int s, one = 1;
    (void)ctx;
    memset(&ss, 0, sizeof ss);
    s = lwip_accept(ls, (struct sockaddr *)&ss, &sl);
    if (s < 0) return wamp1__lws_would_block() ? WAMP1_IO_WOULDBLOCK : WAMP1_IO_ERROR;
    if (wamp1__lws_nonblock(s) != 0) {
        (void)lwip_close(s);
        return WAMP1_IO_ERROR;
    }
    (void)lwip_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    wamp1__lws_addr(&ss, peer);
    *out = s;
    return 0;
}

static long wamp1__lws_recv(void *ctx, wamp1_socket s, void *buf, size_t n) {
    ssize_t r;
    (void)ctx;
    r = lwip_recv(s, buf, n, 0);
    if (r >= 0) return (long)r;
    return wamp1__lws_would_block() ? WAMP1_IO_WOULDBLOCK : WAMP1_IO_ERROR;
}

static long wamp1__lws_send(void *ctx, wamp1_socket s, const void *buf, size_t n) {
    ssize_t r;
    (void)ctx;
    r = lwip_send(s, buf, n, MSG_DONTWAIT);
    if (r >= 0) return (long)r;
    return wamp1__lws_would_block() ? WAMP1_IO_WOULDBLOCK : WAMP1_IO_ERROR;
}

static void wamp1__lws_shutdown(void *ctx, wamp1_socket s) {
    (void)ctx;
    (void)lwip_shutdown(s, SHUT_WR);
}

static void wamp1__lws_close(void *ctx, wamp1_socket s) {
    (void)ctx;
    if (s >= 0) (void)lwip_close(s);
}

#ifndef WAMP1_LWIP_USE_SELECT
static short wamp1__lws_to_lwip(short ev) {
    short r = 0;
    if (ev & WAMP1_POLLIN) r |= POLLIN;
    if (ev & WAMP1_POLLOUT) r |= POLLOUT;
    return r;
}

static short wamp1__lws_from_lwip(short ev) {
    short r = 0;
    if (ev & POLLIN) r |= WAMP1_POLLIN;
    if (ev & POLLOUT) r |= WAMP1_POLLOUT;
    if (ev & POLLERR) r |= WAMP1_POLLERR;
    if (ev & POLLHUP) r |= WAMP1_POLLHUP;
    if (ev & POLLNVAL) r |= WAMP1_POLLNVAL;
    return r;
}
#endif

static int wamp1__lws_wait(void *ctx, wamp1_pollfd *fds, unsigned n, int timeout_ms) {
#ifndef WAMP1_LWIP_USE_SELECT
    /* lwIP's struct pollfd has wamp1_pollfd's layout; only the flag values differ */
    typedef char wamp1__lws_layout[sizeof(struct pollfd) == sizeof(wamp1_pollfd) &&
                                           offsetof(struct pollfd, events) == offsetof(wamp1_pollfd, events) &&
                                           offsetof(struct pollfd, revents) == offsetof(wamp1_pollfd, revents)
                                       ? 1 : -1];
    struct pollfd *pf = (struct pollfd *)(void *)fds;
    unsigned i;
    int r;
    (void)ctx;
    (void)sizeof(wamp1__lws_layout);
    for (i = 0; i < n; i++) {
        fds[i].events = wamp1__lws_to_lwip(fds[i].events);
        fds[i].revents = 0;
    }
    r = lwip_poll(pf, (nfds_t)n, timeout_ms);
    for (i = 0; i < n; i++) {
        fds[i].revents = r > 0 ? wamp1__lws_from_lwip(pf[i].revents) : 0;
        fds[i].events = wamp1__lws_from_lwip(fds[i].events);
    }
    if (r < 0 && errno == EINTR) return 0;
    return r;
#else
    fd_set rd, wr, ex;
    struct timeval tv;
    unsigned i;
    int maxfd = -1, r;
    (void)ctx;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    for (i = 0; i < n; i++) {
        int s = fds[i].fd;
        fds[i].revents = 0;
        if (s < 0) continue;
        if (fds[i].events & WAMP1_POLLIN) FD_SET(s, &rd);
        if (fds[i].events & WAMP1_POLLOUT) FD_SET(s, &wr);
        FD_SET(s, &ex);
        if (s > maxfd) maxfd = s;
    }
    if (timeout_ms >= 0) {
        tv.tv_sec = timeout_ms / 1000;
        tv.tv_usec = (timeout_ms % 1000) * 1000;
    }
    r = lwip_select(maxfd + 1, &rd, &wr, &ex, timeout_ms >= 0 ? &tv : NULL);
    if (r < 0) return errno == EINTR ? 0 : -1;
    r = 0;
    for (i = 0; i < n; i++) {
        int s = fds[i].fd;
        short re = 0;
        if (s < 0) continue;
        if (FD_ISSET(s, &rd)) re |= WAMP1_POLLIN;
        if (FD_ISSET(s, &wr)) re |= WAMP1_POLLOUT;
        if (FD_ISSET(s, &ex)) re |= WAMP1_POLLERR;
        fds[i].revents = re;
        if (re) r++;
    }
    return r;
#endif
}

static uint64_t wamp1__lws_now(void *ctx) {
    wamp1_lwip_sockets *p = (wamp1_lwip_sockets *)ctx;
    u32_t t = sys_now();
    if (t < p->last_now) p->high += (uint64_t)1 << 32;
    p->last_now = t;
    return p->high | t;
}

static int wamp1__lws_random(void *ctx, void *buf, size_t n) {
    uint8_t *b = (uint8_t *)buf;
#if defined(WAMP1_LWIP_RANDOM)
    (void)ctx;
    (void)b;
    return WAMP1_LWIP_RANDOM(buf, n);
#elif defined(LWIP_RAND)
    (void)ctx;
    while (n) {
        u32_t r = (u32_t)LWIP_RAND();
        unsigned j;
        for (j = 0; j < 4 && n; j++, n--) {
            *b++ = (uint8_t)r;
            r >>= 8;
        }
    }
    return 0;
#else
    wamp1_lwip_sockets *p = (wamp1_lwip_sockets *)ctx;
    if (!p->seed) p->seed = (uint32_t)sys_now() * 2654435761u | 1u;
    while (n--) { /* xorshift32: not for secrets, define WAMP1_LWIP_RANDOM */
        p->seed ^= p->seed << 13;
        p->seed ^= p->seed >> 17;
        p->seed ^= p->seed << 5;
        *b++ = (uint8_t)(p->seed >> 24);
    }
    return 0;
#endif
}

#if WAMP1__LWS_WAKE
static wamp1_socket wamp1__lws_wake_fd(void *ctx) { return ((wamp1_lwip_sockets *)ctx)->wake_rx; }

static void wamp1__lws_wake(void *ctx) {
    wamp1_lwip_sockets *p = (wamp1_lwip_sockets *)ctx;
    char b = 1;
    if (p->wake_pending) return;
    p->wake_pending = 1;
    if (lwip_send(p->wake_tx, &b, 1, MSG_DONTWAIT) != 1) p->wake_pending = 0;
}

static void wamp1__lws_wake_drain(void *ctx) {
    wamp1_lwip_sockets *p = (wamp1_lwip_sockets *)ctx;
    char b[16];
    p->wake_pending = 0;
    while (lwip_recv(p->wake_rx, b, sizeof b, MSG_DONTWAIT) > 0) {
    }
}

/* Two UDP sockets on 127.0.0.1: wake_rx bound to a free port, wake_tx connected to it. */
static int wamp1__lws_wake_open(wamp1_lwip_sockets *p) {
    struct sockaddr_in a;
    socklen_t sl = (socklen_t)sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = lwip_htonl(0x7F000001UL);
    p->wake_rx = lwip_socket(AF_INET, SOCK_DGRAM, 0);
    p->wake_tx = lwip_socket(AF_INET, SOCK_DGRAM, 0);
    if (p->wake_rx < 0 || p->wake_tx < 0) return -1;
    if (lwip_bind(p->wake_rx, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    if (lwip_getsockname(p->wake_rx, (struct sockaddr *)&a, &sl) != 0) return -1;
    if (lwip_connect(p->wake_tx, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    if (wamp1__lws_nonblock(p->wake_rx) != 0 || wamp1__lws_nonblock(p->wake_tx) != 0) return -1;
    return 0;
}
#endif

static void wamp1__lws_lock(void *ctx) { sys_mutex_lock(&((wamp1_lwip_sockets *)ctx)->mutex); }
static void wamp1__lws_unlock(void *ctx) { sys_mutex_unlock(&((wamp1_lwip_sockets *)ctx)->mutex); }

WAMP1__LWS_FN void wamp1_lwip_sockets_free(wamp1_lwip_sockets *p) {
    if (p->wake_rx >= 0) (void)lwip_close(p->wake_rx);
    if (p->wake_tx >= 0) (void)lwip_close(p->wake_tx);
    p->wake_rx = p->wake_tx = -1;
    if (p->has_mutex) sys_mutex_free(&p->mutex);
    p->has_mutex = 0;
}

/* Set up the port; call it from a task once tcpip_init() is done. 0, or -1 when the mutex
   or the wake-up sockets cannot be made. */
WAMP1__LWS_FN int wamp1_lwip_sockets_init(wamp1_lwip_sockets *p, wamp1_port *port) {
    memset(p, 0, sizeof *p);
    memset(port, 0, sizeof *port);
    p->wake_rx = p->wake_tx = -1;
    if (sys_mutex_new(&p->mutex) != ERR_OK) return -1;
    p->has_mutex = 1;
#if WAMP1__LWS_WAKE
    if (wamp1__lws_wake_open(p) != 0) {
        wamp1_lwip_sockets_free(p);
        return -1;
    }
#endif
    p->last_now = sys_now();
    port->ctx = p;
    port->listen = wamp1__lws_listen;
    port->accept = wamp1__lws_accept;
    port->recv = wamp1__lws_recv;
    port->send = wamp1__lws_send;
    port->shutdown = wamp1__lws_shutdown;
    port->close = wamp1__lws_close;
    port->wait = wamp1__lws_wait;
    port->now_ms = wamp1__lws_now;
    port->random = wamp1__lws_random;
#if WAMP1__LWS_WAKE
    port->wake_fd = wamp1__lws_wake_fd;
    port->wake = wamp1__lws_wake;
    port->wake_drain = wamp1__lws_wake_drain;
#endif
    port->lock = wamp1__lws_lock;
    port->unlock = wamp1__lws_unlock;
    return 0;
}

#endif /* WAMP1_LWIP_SOCKETS_H_INCLUDED */
