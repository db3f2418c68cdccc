/* wamp1_lwip_raw.h - the lwIP raw-API port of wamp1.h, for bare metal (NO_SYS=1).

   No socket layer, no threads: lwIP calls back when a connection arrives, data comes in or
   the peer goes away, and this port keeps what it was handed (the received pbuf chain of
   each connection) in a fixed table until the server loop asks for it. The "sockets" the
   server sees are small integers, indexes into that table. wait() never blocks: it reports
   what is ready from the queued pbufs and the TCP send window, so the firmware's main loop
   calls the server next to lwIP's own work:

       #define WAMP1_IMPLEMENTATION
       #include "wamp1.h"
       #include "port/wamp1_lwip_raw.h"

       static wamp1_lwip_raw lwr;
       static wamp1_port port;
       static wamp1_server server;

       lwip_init();  ... netif_add(), netif_set_up() ...
       wamp1_lwip_raw_init(&lwr, &port);
       cfg.port = &port;
       cfg.host = "0.0.0.0";               (the default "127.0.0.1" only serves loopback)
       wamp1_server_init(&server, &cfg);
       wamp1_server_listen(&server);
       for (;;) {
           ethernetif_poll(&netif);            your driver: frames in, netif->input()
           sys_check_timeouts();               lwIP's timers
           wamp1_server_poll(&server, 0);      never blocks
       }

   Everything, lwIP's callbacks included, runs in that one context: do not call lwIP or the
   server from an interrupt. An interrupt may still hand work to the loop through
   wamp1_app_post()/wamp1_app_publish_async(): wake() only sets a flag, and the queue's lock
   is lwIP's SYS_ARCH_PROTECT (interrupts off) when SYS_LIGHTWEIGHT_PROT is 1.

   Flow control: received data stays in lwIP's pbufs and tcp_recved() opens the window only
   for the bytes the engine took, so a sender that outpaces the server is slowed by TCP. On
   the way out tcp_write() (TCP_WRITE_FLAG_COPY) gets at most tcp_sndbuf() bytes, and the
   engine keeps the rest in its send buffer until lwIP has room again.

   Options (define before including):
     WAMP1_LWIP_RAW_SOCKETS   table size: listeners + connections + connections waiting to
                              be accepted or refused with 503 (default: WAMP1_MAX_CONNECTIONS
                              + WAMP1_MAX_LISTENERS + 2). A connection that finds the table
                              full is reset at once.
     WAMP1_LWIP_RAW_BACKLOG   listen backlog (default TCP_DEFAULT_LISTEN_BACKLOG)
     WAMP1_LWIP_RANDOM(buf, n)  your random source, returning 0 (else LWIP_RAND() from your
                              cc.h; else a generator seeded from sys_now(), not for secrets)
     WAMP1_LWIP_RAW_EVENT()   called from every lwIP callback and from wake(): lets a main
                              loop that sleeps (WFI) know there is work
     WAMP1_LWIP_RAW_IDLE(ms)  called by wait() when nothing is ready and the loop asked to
                              wait (timeout_ms != 0): poll your driver and sys_check_timeouts()
                              there and wamp1_server_run() works as well

   Needs from lwipopts.h: LWIP_TCP=1 and NO_SYS=1 (or a project that calls lwIP's raw API
   only from the tcpip thread). LWIP_CALLBACK_API must be 1 (the default).
*/
#ifndef WAMP1_LWIP_RAW_H_INCLUDED
#define WAMP1_LWIP_RAW_H_INCLUDED

#include "lwip/opt.h"
#include "lwip/tcp.h"
#include "lwip/pbuf.h"
#include "lwip/ip_addr.h"
#include "lwip/sys.h"

#if !LWIP_TCP || !LWIP_CALLBACK_API
#error "wamp1_lwip_raw.h needs LWIP_TCP=1 and LWIP_CALLBACK_API=1"
#endif

#ifndef WAMP1_LWIP_RAW_SOCKETS
#define WAMP1_LWIP_RAW_SOCKETS (WAMP1_MAX_CONNECTIONS + WAMP1_MAX_LISTENERS + 2)
#endif
#ifndef WAMP1_LWIP_RAW_BACKLOG
#define WAMP1_LWIP_RAW_BACKLOG TCP_DEFAULT_LISTEN_BACKLOG
#endif
#ifndef WAMP1_LWIP_RAW_EVENT
#define WAMP1_LWIP_RAW_EVENT() ((void)0)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__LWR_FN static __attribute__((unused))
#else
#define WAMP1__LWR_FN static
#endif

/* Slot states and flags. */
enum {
    WAMP1__LWR_FREE = 0,
    WAMP1__LWR_LISTEN,  /* a listening pcb */
    WAMP1__LWR_PENDING, /* lwIP accepted it, the server has not taken it yet */
    WAMP1__LWR_OPEN     /* handed to the server */
};
enum {
    WAMP1__LWR_EOF = 1,  /* the peer sent FIN: reads return 0 once the queue is empty */
    WAMP1__LWR_ERR = 2,  /* the pcb is gone (reset, aborted): reads and writes fail */
    WAMP1__LWR_SHUT = 4  /* we sent FIN */
};

struct wamp1_lwip_raw;

typedef struct wamp1_lwip_raw_sock {
    struct tcp_pcb *pcb;         /* NULL once lwIP freed it or we let it go */
    struct pbuf *rx;             /* received bytes not read yet, a chain linked by ->next */
    struct wamp1_lwip_raw *owner;
    uint16_t rx_off;             /* bytes of the first pbuf already read */
    uint8_t state, flags;
    uint8_t listener;            /* PENDING: the slot of the listener that accepted it */
} wamp1_lwip_raw_sock;

typedef struct wamp1_lwip_raw {
    wamp1_lwip_raw_sock socks[WAMP1_LWIP_RAW_SOCKETS];
    volatile uint8_t woken;      /* set by wake() (also from an interrupt) */
    uint32_t last_now;           /* sys_now() widened to 64 bits */
    uint64_t high;
    uint32_t seed;
#if SYS_LIGHTWEIGHT_PROT
    sys_prot_t prot;
#endif
} wamp1_lwip_raw;

#define WAMP1__LWR_WAKE ((wamp1_socket)WAMP1_LWIP_RAW_SOCKETS)

static wamp1_lwip_raw_sock *wamp1__lwr_sock(wamp1_lwip_raw *p, wamp1_socket s) {
    if (s < 0 || s >= (wamp1_socket)WAMP1_LWIP_RAW_SOCKETS) return NULL;
    return &p->socks[s];
}

static void wamp1__lwr_free_rx(wamp1_lwip_raw_sock *k) {
    while (k->rx) {
        struct pbuf *q = k->rx;
        k->rx = q->next;
        q->next = NULL;
        (void)pbuf_free(q);
    }
    k->rx_off = 0;
}

/* Stop lwIP from calling back into a slot that is going away. */
static void wamp1__lwr_detach(struct tcp_pcb *pcb) {
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
}

static void wamp1__lwr_release(wamp1_lwip_raw_sock *k) {
    wamp1__lwr_free_rx(k);
    if (k->pcb) {
        wamp1__lwr_detach(k->pcb);
        if (tcp_close(k->pcb) != ERR_OK) tcp_abort(k->pcb);
        k->pcb = NULL;
    }
    k->state = WAMP1__LWR_FREE;
    k->flags = 0;
}

/* ---- lwIP callbacks ------------------------------------------------------ */

static err_t wamp1__lwr_recv_cb(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    wamp1_lwip_raw_sock *k = (wamp1_lwip_raw_sock *)arg;
    WAMP1_LWIP_RAW_EVENT();
    if (!k) { /* no slot any more: take the data and drop it */
        if (p) {
            tcp_recved(pcb, p->tot_len);
            (void)pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p) {
        k->flags |= WAMP1__LWR_EOF;
        if (k->flags & WAMP1__LWR_SHUT) {
            /* both directions are done: let lwIP finish (TIME_WAIT) without us, so that
               the pcb it frees later is never touched again */
            wamp1__lwr_detach(pcb);
            if (tcp_close(pcb) != ERR_OK) {
                tcp_abort(pcb);
                k->pcb = NULL;
                return ERR_ABRT;
            }
            k->pcb = NULL;
        }
        return ERR_OK;
    }
    if (err != ERR_OK) {
        (void)pbuf_free(p);
        return ERR_OK;
    }
    if (!k->rx) {
        k->rx = p;
        k->rx_off = 0;
    } else { /* append: our own link, so that the queue may exceed a pbuf's 16-bit tot_len */
        struct pbuf *q = k->rx;
        while (q->next) q = q->next;
        q->next = p;
    }
    return ERR_OK;
}

static err_t wamp1__lwr_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len) {
    (void)arg;
    (void)pcb;
    (void)len;
    WAMP1_LWIP_RAW_EVENT(); /* the send window opened */
    return ERR_OK;
}

static void wamp1__lwr_err_cb(void *arg, err_t err) {
    wamp1_lwip_raw_sock *k = (wamp1_lwip_raw_sock *)arg;
    WAMP1_LWIP_RAW_EVENT();
    if (!k) return;
    k->pcb = NULL; /* lwIP has freed it already */
    /* ERR_CLSD: closed in order after our FIN (reads end with 0); anything else failed */
    k->flags |= err == ERR_CLSD ? WAMP1__LWR_EOF : WAMP1__LWR_ERR;
    if (k->state == WAMP1__LWR_PENDING) { /* died before the server took it */
        wamp1__lwr_free_rx(k);
        k->state = WAMP1__LWR_FREE;
        k->flags = 0;
    }
}

static err_t wamp1__lwr_accept_cb(void *arg, struct tcp_pcb *npcb, err_t err) {
    wamp1_lwip_raw_sock *l = (wamp1_lwip_raw_sock *)arg;
    wamp1_lwip_raw *p;
    unsigned i;
    WAMP1_LWIP_RAW_EVENT();
    if (err != ERR_OK || !npcb || !l) return ERR_VAL;
    p = l->owner;
    for (i = 0; i < WAMP1_LWIP_RAW_SOCKETS; i++) {
        wamp1_lwip_raw_sock *k = &p->socks[i];
        if (k->state != WAMP1__LWR_FREE) continue;
        k->pcb = npcb;
        k->rx = NULL;
        k->rx_off = 0;
        k->flags = 0;
        k->state = WAMP1__LWR_PENDING;
        k->listener = (uint8_t)(l - p->socks);
        tcp_arg(npcb, k);
        tcp_recv(npcb, wamp1__lwr_recv_cb);
        tcp_sent(npcb, wamp1__lwr_sent_cb);
        tcp_err(npcb, wamp1__lwr_err_cb);
        tcp_nagle_disable(npcb);
        return ERR_OK;
    }
    tcp_abort(npcb); /* table full */
    return ERR_ABRT;
}

/* ---- the port ------------------------------------------------------------ */

static void wamp1__lwr_peer(const struct tcp_pcb *pcb, wamp1_addr *a) {
    memset(a, 0, sizeof *a);
    a->port = pcb->remote_port;
#if LWIP_IPV6
    if (IP_IS_V6_VAL(pcb->remote_ip)) {
        a->family = 6;
        memcpy(a->bytes, ip_2_ip6(&pcb->remote_ip)->addr, 16);
        return;
    }
#endif
#if LWIP_IPV4
    {
        u32_t v = ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)); /* network byte order */
        a->family = 4;
        memcpy(a->bytes, &v, 4);
    }
#endif
}

/* "a.b.c.d" (the parsers of lwIP and of wamp1.h cost more: ctype table, IPv6 code) */
static int wamp1__lwr_ip4(const char *s, u8_t out[4]) {
    unsigned i;
    for (i = 0; i < 4; i++) {
        unsigned v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 3) {
            v = v * 10u + (unsigned)(*s++ - '0');
            digits++;
        }
        if (!digits || v > 255u || (i < 3 && *s++ != '.')) return -1;
        out[i] = (u8_t)v;
    }
    return *s ? -1 : 0;
}

static int wamp1__lwr_listen(void *ctx, const char *host, uint16_t port, wamp1_socket *out,
                             uint16_t *bound) {
    wamp1_lwip_raw *p = (wamp1_lwip_raw *)ctx;
    wamp1_lwip_raw_sock *k = NULL;
    struct tcp_pcb *pcb, *lpcb;
    ip_addr_t addr;
    u8_t type, v4[4];
    unsigned i;
    for (i = 0; i < WAMP1_LWIP_RAW_SOCKETS && !k; i++)
        if (p->socks[i].state == WAMP1__LWR_FREE) k = &p->socks[i];
    if (!k) return -1;
    if (!host || !*host || (host[0] == ':' && host[1] == ':' && !host[2])) {
        ip_addr_copy(addr, *IP_ANY_TYPE); /* every address, both families where built */
        type = IPADDR_TYPE_ANY;
    } else if (wamp1__lwr_ip4(host, v4) == 0) {
#if LWIP_IPV4
        IP_ADDR4(&addr, v4[0], v4[1], v4[2], v4[3]);
        type = IPADDR_TYPE_V4;
#else
        return -1;
#endif
    } else {
#if LWIP_IPV6
        if (!ip6addr_aton(host, ip_2_ip6(&addr))) return -1;
        IP_SET_TYPE_VAL(addr, IPADDR_TYPE_V6);
        type = IPADDR_TYPE_V6;
#else
        return -1;
#endif
    }
    pcb = tcp_new_ip_type(type);
    if (!pcb) return -1;
#if SO_REUSE
    ip_set_option(pcb, SOF_REUSEADDR);
#endif
    if (tcp_bind(pcb, &addr, port) != ERR_OK) {
        tcp_abort(pcb);
        return -1;
    }
    lpcb = tcp_listen_with_backlog(pcb, WAMP1_LWIP_RAW_BACKLOG);
    if (!lpcb) {
        tcp_abort(pcb);
        return -1;
    }
    k->pcb = lpcb;
    k->rx = NULL;
    k->flags = 0;
    k->state = WAMP1__LWR_LISTEN;
    tcp_arg(lpcb, k);
    tcp_accept(lpcb, wamp1__lwr_accept_cb);
    *bound = lpcb->local_port;
    *out = (wamp1_socket)(k - p->socks);
    return 0;
}

static int wamp1__lwr_accept(void *ctx, wamp1_socket ls, wamp1_socket *out, wamp1_addr *peer) {
    wamp1_lwip_raw *p = (wamp1_lwip_raw *)ctx;
    unsigned i;
    for (i = 0; i < WAMP1_LWIP_RAW_SOCKETS; i++) {
        wamp1_lwip_raw_sock *k = &p->socks[i];
        if (k->state != WAMP1__LWR_PENDING || k->listener != (uint8_t)ls) continue;
        k->state = WAMP1__LWR_OPEN;
        if (k->pcb) wamp1__lwr_peer(k->pcb, peer);
        *out = (wamp1_socket)i;
        return 0;
    }
    return WAMP1_IO_WOULDBLOCK;
}

static long wamp1__lwr_recv(void *ctx, wamp1_socket s, void *buf, size_t n) {
    wamp1_lwip_raw_sock *k = wamp1__lwr_sock((wamp1_lwip_raw *)ctx, s);
    uint8_t *out = (uint8_t *)buf;
    size_t got = 0;
    if (!k || k->state != WAMP1__LWR_OPEN) return WAMP1_IO_ERROR;
    while (got < n && k->rx) {
        struct pbuf *q = k->rx;
        size_t take = (size_t)(q->len - k->rx_off);
        if (take > n - got) take = n - got;
        memcpy(out + got, (const uint8_t *)q->payload + k->rx_off, take);
        got += take;
        k->rx_off = (uint16_t)(k->rx_off + take);
        if (k->rx_off >= q->len) {
            k->rx = q->next;
            q->next = NULL;
            (void)pbuf_free(q);
            k->rx_off = 0;
        }
    }
    if (got) {
        if (k->pcb) { /* open the window by what the engine took */
            size_t left = got;
            while (left) {
                u16_t step = (u16_t)(left > 0xFFFFu ? 0xFFFFu : left);
                tcp_recved(k->pcb, step);
                left -= step;
            }
        }
        return (long)got;
    }
    if (k->flags & WAMP1__LWR_ERR) return WAMP1_IO_ERROR;
    if (k->flags & WAMP1__LWR_EOF) return 0;
    return WAMP1_IO_WOULDBLOCK;
}

static size_t wamp1__lwr_room(const struct tcp_pcb *pcb) {
    if (tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN) return 0;
    return (size_t)tcp_sndbuf(pcb);
}

static long wamp1__lwr_send(void *ctx, wamp1_socket s, const void *buf, size_t n) {
    wamp1_lwip_raw_sock *k = wamp1__lwr_sock((wamp1_lwip_raw *)ctx, s);
    size_t room;
    err_t e;
    if (!k || k->state != WAMP1__LWR_OPEN || !k->pcb || (k->flags & (WAMP1__LWR_ERR | WAMP1__LWR_SHUT)))
        return WAMP1_IO_ERROR;
    room = wamp1__lwr_room(k->pcb);
    if (n > room) n = room;
    if (n > 0xFFFFu) n = 0xFFFFu;
    if (n == 0) return WAMP1_IO_WOULDBLOCK;
    for (;;) {
        e = tcp_write(k->pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
        if (e != ERR_MEM || n <= 64) break;
        n /= 2; /* out of segments or pbufs: try a smaller piece */
    }
    if (e == ERR_MEM) {
        (void)tcp_output(k->pcb); /* push what is queued; room comes back with the ACKs */
        return WAMP1_IO_WOULDBLOCK;
    }
    if (e != ERR_OK) return WAMP1_IO_ERROR;
    (void)tcp_output(k->pcb);
    return (long)n;
}

static void wamp1__lwr_shutdown(void *ctx, wamp1_socket s) {
    wamp1_lwip_raw_sock *k = wamp1__lwr_sock((wamp1_lwip_raw *)ctx, s);
    if (!k || k->state != WAMP1__LWR_OPEN || (k->flags & WAMP1__LWR_SHUT)) return;
    k->flags |= WAMP1__LWR_SHUT;
    /* FIN after what is queued; unread input does not turn it into a reset */
    if (k->pcb) (void)tcp_shutdown(k->pcb, 0, 1);
}

static void wamp1__lwr_close(void *ctx, wamp1_socket s) {
    wamp1_lwip_raw *p = (wamp1_lwip_raw *)ctx;
    wamp1_lwip_raw_sock *k = wamp1__lwr_sock(p, s);
    if (!k || k->state == WAMP1__LWR_FREE) return;
    if (k->state == WAMP1__LWR_LISTEN) {
        unsigned i;
        for (i = 0; i < WAMP1_LWIP_RAW_SOCKETS; i++) /* connections nobody will accept */
            if (p->socks[i].state == WAMP1__LWR_PENDING && p->socks[i].listener == (uint8_t)s) {
                wamp1_lwip_raw_sock *c = &p->socks[i];
                wamp1__lwr_free_rx(c);
                if (c->pcb) {
                    wamp1__lwr_detach(c->pcb);
                    tcp_abort(c->pcb);
                    c->pcb = NULL;
                }
                c->state = WAMP1__LWR_FREE;
                c->flags = 0;
            }
        if (k->pcb) {
            tcp_arg(k->pcb, NULL);
            tcp_accept(k->pcb, NULL);
            (void)tcp_close(k->pcb); /* a listening pcb always closes */
            k->pcb = NULL;
        }
        k->state = WAMP1__LWR_FREE;
        return;
    }
    wamp1__lwr_release(k);
}

static short wamp1__lwr_ready(wamp1_lwip_raw *p, wamp1_socket s, short events) {
    wamp1_lwip_raw_sock *k;
    short re = 0;
    unsigned i;
    if (s == WAMP1__LWR_WAKE) return p->woken ? (short)(events & WAMP1_POLLIN) : 0;
    k = wamp1__lwr_sock(p, s);
    if (!k || k->state == WAMP1__LWR_FREE || k->state == WAMP1__LWR_PENDING) return WAMP1_POLLNVAL;
    if (k->state == WAMP1__LWR_LISTEN) {
        for (i = 0; i < WAMP1_LWIP_RAW_SOCKETS; i++)
            if (p->socks[i].state == WAMP1__LWR_PENDING && p->socks[i].listener == (uint8_t)s)
                return (short)(events & WAMP1_POLLIN);
        return 0;
    }
    if ((events & WAMP1_POLLIN) && (k->rx || (k->flags & (WAMP1__LWR_EOF | WAMP1__LWR_ERR))))
        re |= WAMP1_POLLIN;
    if (k->flags & WAMP1__LWR_ERR) re |= WAMP1_POLLERR;
    else if ((events & WAMP1_POLLOUT) && k->pcb && !(k->flags & WAMP1__LWR_SHUT) &&
             wamp1__lwr_room(k->pcb) > 0)
        re |= WAMP1_POLLOUT;
    return re;
}

static int wamp1__lwr_scan(wamp1_lwip_raw *p, wamp1_pollfd *fds, unsigned n) {
    unsigned i;
    int ready = 0;
    for (i = 0; i < n; i++) {
        fds[i].revents = wamp1__lwr_ready(p, fds[i].fd, fds[i].events);
        if (fds[i].revents) ready++;
    }
    return ready;
}

static int wamp1__lwr_wait(void *ctx, wamp1_pollfd *fds, unsigned n, int timeout_ms) {
    wamp1_lwip_raw *p = (wamp1_lwip_raw *)ctx;
    int ready = wamp1__lwr_scan(p, fds, n);
#ifdef WAMP1_LWIP_RAW_IDLE
    if (!ready && timeout_ms != 0) {
        WAMP1_LWIP_RAW_IDLE(timeout_ms);
        ready = wamp1__lwr_scan(p, fds, n);
    }
#else
    (void)timeout_ms;
#endif
    return ready;
}

static uint64_t wamp1__lwr_now(void *ctx) {
    wamp1_lwip_raw *p = (wamp1_lwip_raw *)ctx;
    u32_t t = sys_now();
    if (t < p->last_now) p->high += (uint64_t)1 << 32;
    p->last_now = t;
    return p->high | t;
}

static int wamp1__lwr_random(void *ctx, void *buf, size_t n) {
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
    wamp1_lwip_raw *p = (wamp1_lwip_raw *)ctx;
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

static wamp1_socket wamp1__lwr_wake_fd(void *ctx) {
    (void)ctx;
    return WAMP1__LWR_WAKE;
}

static void wamp1__lwr_wake(void *ctx) {
    ((wamp1_lwip_raw *)ctx)->woken = 1;
    WAMP1_LWIP_RAW_EVENT();
}

static void wamp1__lwr_wake_drain(void *ctx) { ((wamp1_lwip_raw *)ctx)->woken = 0; }

#if SYS_LIGHTWEIGHT_PROT
static void wamp1__lwr_lock(void *ctx) { SYS_ARCH_PROTECT(((wamp1_lwip_raw *)ctx)->prot); }
static void wamp1__lwr_unlock(void *ctx) { SYS_ARCH_UNPROTECT(((wamp1_lwip_raw *)ctx)->prot); }
#endif

/* Set up the port. Call after lwip_init(). 0, or -1 when an argument is NULL (the same
   shape as every port's init). */
WAMP1__LWR_FN int wamp1_lwip_raw_init(wamp1_lwip_raw *p, wamp1_port *port) {
    unsigned i;
    if (!p || !port) return -1;
    memset(p, 0, sizeof *p);
    for (i = 0; i < WAMP1_LWIP_RAW_SOCKETS; i++) p->socks[i].owner = p;
    p->last_now = sys_now();
    memset(port, 0, sizeof *port);
    port->ctx = p;
    port->listen = wamp1__lwr_listen;
    port->accept = wamp1__lwr_accept;
    port->recv = wamp1__lwr_recv;
    port->send = wamp1__lwr_send;
    port->shutdown = wamp1__lwr_shutdown;
    port->close = wamp1__lwr_close;
    port->wait = wamp1__lwr_wait;
    port->now_ms = wamp1__lwr_now;
    port->random = wamp1__lwr_random;
    port->wake_fd = wamp1__lwr_wake_fd;
    port->wake = wamp1__lwr_wake;
    port->wake_drain = wamp1__lwr_wake_drain;
#if SYS_LIGHTWEIGHT_PROT
    port->lock = wamp1__lwr_lock;
    port->unlock = wamp1__lwr_unlock;
#endif
    return 0;
}

/* Slots in use (listeners, connections, connections waiting to be accepted). */
WAMP1__LWR_FN unsigned wamp1_lwip_raw_used(const wamp1_lwip_raw *p) {
    unsigned i, n = 0;
    for (i = 0; i < WAMP1_LWIP_RAW_SOCKETS; i++)
        if (p->socks[i].state != WAMP1__LWR_FREE) n++;
    return n;
}

#endif /* WAMP1_LWIP_RAW_H_INCLUDED */
