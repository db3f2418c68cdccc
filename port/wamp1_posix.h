/* wamp1_posix.h - the POSIX port of wamp1.h: BSD sockets, poll(), IPv4 and IPv6.

   Include it after wamp1.h, in the file that defines WAMP1_IMPLEMENTATION or in any other
   (its functions are static and use only the public API):

       #define WAMP1_IMPLEMENTATION
       #include "wamp1.h"
       #include "port/wamp1_posix.h"

       static wamp1_posix posix;
       wamp1_port port;
       if (wamp1_posix_init(&posix, &port) != 0) ...    // wake-up pipe, random source
       cfg.port = &port;

   Readiness: on Linux the port is event-driven with epoll (the loop registers each socket
   once and changes it only when its wish to write changes, so a wait costs the ready
   sockets, not the connected ones); elsewhere, or with -DWAMP1_POSIX_POLL, it hands the
   loop's watched set to poll(). wamp1_posix_backend() names the one in use.

   Sockets are non-blocking; EINTR is retried, EAGAIN becomes WAMP1_IO_WOULDBLOCK, SIGPIPE
   is never raised (MSG_NOSIGNAL or SO_NOSIGPIPE). Host names go through getaddrinfo();
   "::" listens on IPv6 and, where the system allows it, on IPv4 too.

   Feature-test macros: it needs POSIX.1-2008 (getaddrinfo, clock_gettime, pthreads). With
   a strict -std=c99 or -std=c11, define _POSIX_C_SOURCE 200809L before the first #include
   of the file (or on the command line); the gnu99/gnu11 defaults need nothing. A strict
   build on glibc without it stops here with a message instead of a cascade of errors.
*/
#ifndef WAMP1_POSIX_H_INCLUDED
#define WAMP1_POSIX_H_INCLUDED

#if defined(__GLIBC__) && defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) && \
    !defined(_XOPEN_SOURCE) && !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE)
#error "port/wamp1_posix.h needs POSIX.1-2008: #define _POSIX_C_SOURCE 200809L before the first #include"
#else /* the rest of the port */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__) && !defined(WAMP1_POSIX_POLL)
#define WAMP1__POSIX_EPOLL 1
#include <sys/epoll.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__POSIX_FN static __attribute__((unused))
#else
#define WAMP1__POSIX_FN static
#endif

typedef struct wamp1_posix {
    int wake[2];    /* self-pipe: [0] polled by the loop, [1] written by wake() */
    int urandom;    /* /dev/urandom, or -1 */
    uint64_t seed;  /* fallback generator when /dev/urandom is missing */
    int backlog;
    pthread_mutex_t mutex; /* the cross-thread queue's lock */
    int epfd;       /* epoll instance, or -1 (poll) */
    unsigned rleft; /* unused bytes at the end of rpool */
    uint8_t rpool[256]; /* /dev/urandom read ahead: one read per 256 bytes, not per session */
} wamp1_posix;

static int wamp1__posix_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

static void wamp1__posix_addr(const struct sockaddr_storage *ss, wamp1_addr *a) {
    memset(a, 0, sizeof *a);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)ss;
        a->family = 4;
        memcpy(a->bytes, &in->sin_addr, 4);
        a->port = ntohs(in->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)ss;
        a->family = 6;
        memcpy(a->bytes, &in6->sin6_addr, 16);
        a->port = ntohs(in6->sin6_port);
    }
}

static int wamp1__posix_listen(void *ctx, const char *host, uint16_t port, wamp1_socket *out,
                               uint16_t *bound) {
    wamp1_posix *p = (wamp1_posix *)ctx;
    struct addrinfo hints, *res = NULL, *ai;
    char service[8];
    int fd = -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    { /* the port as decimal text, for getaddrinfo */
        char rev[5];
        size_t n = 0, k = 0;
        unsigned v = port;
        do rev[n++] = (char)('0' + v % 10u); while ((v /= 10u) != 0 && n < sizeof rev);
        while (n) service[k++] = rev[--n];
        service[k] = 0;
    }
    if (getaddrinfo(host && *host ? host : NULL, service, &hints, &res) != 0) return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
#ifdef IPV6_V6ONLY
        if (ai->ai_family == AF_INET6) {
            int zero = 0; /* "::" also serves IPv4 where the system allows it */
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        }
#endif
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            listen(fd, p->backlog > 0 ? p->backlog : 511) == 0 && wamp1__posix_nonblock(fd) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return -1;
    {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        wamp1_addr a;
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
            wamp1__posix_addr(&ss, &a);
            *bound = a.port;
        }
    }
    *out = fd;
    return 0;
}

#if defined(__linux__) && defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
/* accept4: the new socket non-blocking and close-on-exec in the same call, instead of three
   fcntl() calls per connection (glibc declares it only with _GNU_SOURCE) */
#define WAMP1__POSIX_ACCEPT4 1
#ifndef _GNU_SOURCE
extern int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
#endif
#endif

static int wamp1__posix_accept(void *ctx, wamp1_socket ls, wamp1_socket *out, wamp1_addr *peer) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd, one = 1;
    (void)ctx;
    for (;;) {
#ifdef WAMP1__POSIX_ACCEPT4
        fd = accept4(ls, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
        fd = accept(ls, (struct sockaddr *)&ss, &sl);
#endif
        if (fd >= 0) break;
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? WAMP1_IO_WOULDBLOCK : WAMP1_IO_ERROR;
    }
#ifndef WAMP1__POSIX_ACCEPT4
    if (wamp1__posix_nonblock(fd) != 0) {
        close(fd);
        return WAMP1_IO_ERROR;
    }
#endif
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    wamp1__posix_addr(&ss, peer);
    *out = fd;
    return 0;
}

static long wamp1__posix_recv(void *ctx, wamp1_socket s, void *buf, size_t n) {
    (void)ctx;
    for (;;) {
        ssize_t r = recv(s, buf, n, 0);
        if (r >= 0) return (long)r;
        if (errno == EINTR) continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? WAMP1_IO_WOULDBLOCK : WAMP1_IO_ERROR;
    }
}

static long wamp1__posix_send(void *ctx, wamp1_socket s, const void *buf, size_t n) {
#ifdef MSG_NOSIGNAL
    const int flags = MSG_NOSIGNAL;
#else
    const int flags = 0;
#endif
    (void)ctx;
    for (;;) {
        ssize_t r = send(s, buf, n, flags);
        if (r >= 0) return (long)r;
        if (errno == EINTR) continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? WAMP1_IO_WOULDBLOCK : WAMP1_IO_ERROR;
    }
}

static void wamp1__posix_shutdown(void *ctx, wamp1_socket s) {
    (void)ctx;
    (void)shutdown(s, SHUT_WR);
}

static void wamp1__posix_close(void *ctx, wamp1_socket s) {
    (void)ctx;
    if (s >= 0) (void)close(s);
}

static int wamp1__posix_wait(void *ctx, wamp1_pollfd *fds, unsigned n, int timeout_ms) {
    (void)ctx;
    /* wamp1_pollfd is laid out as struct pollfd with the same flag values on the
       systems this port targets; the checks below keep that honest. */
    typedef char wamp1__pollfd_size[sizeof(struct pollfd) == sizeof(wamp1_pollfd) ? 1 : -1];
    typedef char wamp1__pollin[POLLIN == WAMP1_POLLIN && POLLOUT == WAMP1_POLLOUT ? 1 : -1];
    typedef char wamp1__pollerr[POLLERR == WAMP1_POLLERR && POLLHUP == WAMP1_POLLHUP &&
                                        POLLNVAL == WAMP1_POLLNVAL ? 1 : -1];
    int r = poll((struct pollfd *)(void *)fds, (nfds_t)n, timeout_ms);
    (void)sizeof(wamp1__pollfd_size);
    (void)sizeof(wamp1__pollin);
    (void)sizeof(wamp1__pollerr);
    if (r < 0 && errno == EINTR) return 0;
    return r;
}

#ifdef WAMP1__POSIX_EPOLL
static int wamp1__posix_watch(void *ctx, wamp1_socket s, uint32_t tag, unsigned events, int first) {
    wamp1_posix *p = (wamp1_posix *)ctx;
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = (events & WAMP1_POLLIN ? (uint32_t)EPOLLIN : 0u) | (events & WAMP1_POLLOUT ? (uint32_t)EPOLLOUT : 0u);
    ev.data.u64 = tag;
    if (epoll_ctl(p->epfd, first ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev) == 0) return 0;
    /* the wake-up pipe of a port that served an earlier server is still registered */
    if (first && errno == EEXIST && epoll_ctl(p->epfd, EPOLL_CTL_MOD, s, &ev) == 0) return 0;
    return -1;
}

static void wamp1__posix_unwatch(void *ctx, wamp1_socket s) {
    struct epoll_event ev; /* non-NULL for kernels before 2.6.9 */
    memset(&ev, 0, sizeof ev);
    (void)epoll_ctl(((wamp1_posix *)ctx)->epfd, EPOLL_CTL_DEL, s, &ev);
}

static int wamp1__posix_wait_events(void *ctx, wamp1_event *out, unsigned max, int timeout_ms) {
    wamp1_posix *p = (wamp1_posix *)ctx;
    struct epoll_event ev[256];
    int n, i;
    if (max > 256) max = 256;
    n = epoll_wait(p->epfd, ev, (int)max, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    for (i = 0; i < n; i++) {
        uint32_t e = ev[i].events;
        out[i].tag = (uint32_t)ev[i].data.u64;
        out[i].events = (e & EPOLLIN ? (unsigned)WAMP1_POLLIN : 0u) | (e & EPOLLOUT ? (unsigned)WAMP1_POLLOUT : 0u) |
                        (e & EPOLLERR ? (unsigned)WAMP1_POLLERR : 0u) | (e & EPOLLHUP ? (unsigned)WAMP1_POLLHUP : 0u);
    }
    return n;
}
#endif

/* "epoll" or "poll": how the port waits. */
WAMP1__POSIX_FN const char *wamp1_posix_backend(const wamp1_port *port) {
    return port->wait_events ? "epoll" : "poll";
}

static uint64_t wamp1__posix_now(void *ctx) {
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int wamp1__posix_random(void *ctx, void *buf, size_t n) {
    wamp1_posix *p = (wamp1_posix *)ctx;
    uint8_t *b = (uint8_t *)buf;
    while (n && p->urandom >= 0) {
        size_t k;
        if (!p->rleft) { /* refill the read-ahead pool */
            ssize_t r = read(p->urandom, p->rpool, sizeof p->rpool);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            memmove(p->rpool + sizeof p->rpool - (size_t)r, p->rpool, (size_t)r);
            p->rleft = (unsigned)r;
        }
        k = n < p->rleft ? n : p->rleft;
        memcpy(b, p->rpool + sizeof p->rpool - p->rleft, k);
        memset(p->rpool + sizeof p->rpool - p->rleft, 0, k); /* handed out: not kept */
        p->rleft -= (unsigned)k;
        b += k;
        n -= k;
    }
    while (n) { /* no /dev/urandom: xorshift64* seeded from the clock (not for secrets) */
        p->seed ^= p->seed >> 12; p->seed ^= p->seed << 25; p->seed ^= p->seed >> 27;
        *b++ = (uint8_t)((p->seed * (uint64_t)2685821657736338717u) >> 56);
        n--;
    }
    return 0;
}

static wamp1_socket wamp1__posix_wake_fd(void *ctx) { return ((wamp1_posix *)ctx)->wake[0]; }

static void wamp1__posix_wake(void *ctx) {
    wamp1_posix *p = (wamp1_posix *)ctx;
    char b = 1;
    int saved = errno; /* callable from a signal handler */
    ssize_t r = write(p->wake[1], &b, 1);
    (void)r;
    errno = saved;
}

static void wamp1__posix_wake_drain(void *ctx) {
    wamp1_posix *p = (wamp1_posix *)ctx;
    char b[64];
    while (read(p->wake[0], b, sizeof b) > 0) {
    }
}

static void wamp1__posix_lock(void *ctx) { (void)pthread_mutex_lock(&((wamp1_posix *)ctx)->mutex); }
static void wamp1__posix_unlock(void *ctx) { (void)pthread_mutex_unlock(&((wamp1_posix *)ctx)->mutex); }

/* Set up the port; 0 or -1 (no pipe could be made). */
WAMP1__POSIX_FN int wamp1_posix_init(wamp1_posix *p, wamp1_port *port) {
    memset(p, 0, sizeof *p);
    memset(port, 0, sizeof *port);
    p->epfd = -1;
    if (pipe(p->wake) != 0) return -1;
    if (pthread_mutex_init(&p->mutex, NULL) != 0) return -1;
    (void)wamp1__posix_nonblock(p->wake[0]);
    (void)wamp1__posix_nonblock(p->wake[1]);
    p->urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    p->seed = (wamp1__posix_now(p) * (uint64_t)0x9E3779B97F4A7C15u) ^ (uint64_t)(unsigned)getpid();
    if (!p->seed) p->seed = 1;
    port->ctx = p;
    port->listen = wamp1__posix_listen;
    port->accept = wamp1__posix_accept;
    port->recv = wamp1__posix_recv;
    port->send = wamp1__posix_send;
    port->shutdown = wamp1__posix_shutdown;
    port->close = wamp1__posix_close;
    port->wait = wamp1__posix_wait; /* also what a wrapping port (TLS) uses */
#ifdef WAMP1__POSIX_EPOLL
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd >= 0) {
        port->watch = wamp1__posix_watch;
        port->unwatch = wamp1__posix_unwatch;
        port->wait_events = wamp1__posix_wait_events;
    }
#endif
    port->now_ms = wamp1__posix_now;
    port->random = wamp1__posix_random;
    port->wake_fd = wamp1__posix_wake_fd;
    port->wake = wamp1__posix_wake;
    port->wake_drain = wamp1__posix_wake_drain;
    port->lock = wamp1__posix_lock;
    port->unlock = wamp1__posix_unlock;
    return 0;
}

WAMP1__POSIX_FN void wamp1_posix_free(wamp1_posix *p) {
    if (p->wake[0] >= 0) close(p->wake[0]);
    if (p->wake[1] >= 0) close(p->wake[1]);
    if (p->urandom >= 0) close(p->urandom);
    if (p->epfd >= 0) close(p->epfd);
    p->wake[0] = p->wake[1] = p->urandom = p->epfd = -1;
    (void)pthread_mutex_destroy(&p->mutex);
}

#endif /* POSIX.1-2008 */
#endif /* WAMP1_POSIX_H_INCLUDED */
