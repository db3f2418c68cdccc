/* wamp1_win32.h - the Windows port of wamp1.h: Winsock 2, select(), IPv4 and IPv6.

   On Windows the library must be compiled with the socket type of Winsock:

       #define WAMP1_SOCKET SOCKET
       #define WAMP1_INVALID_SOCKET INVALID_SOCKET

   This header does both (and includes <winsock2.h>, <ws2tcpip.h>, <windows.h> and
   <bcrypt.h>) when it is included BEFORE wamp1.h; include it a second time AFTER wamp1.h to
   get the port itself. Its functions are static and use only the declarations of wamp1.h,
   so the port may live in the file with the implementation or in any other one file, as
   long as every file that includes wamp1.h sees the same WAMP1_SOCKET:

       #include "port/wamp1_win32.h"     // Winsock, FD_SETSIZE, WAMP1_SOCKET
       #define WAMP1_IMPLEMENTATION
       #include "wamp1.h"
       #include "port/wamp1_win32.h"     // the port

       static wamp1_win32 win;
       wamp1_port port;
       if (wamp1_win32_init(&win, &port) != 0) ...   // WSAStartup, wake-up sockets
       cfg.port = &port;
       ...
       wamp1_win32_free(&win);                        // WSACleanup

   A program that includes <winsock2.h> itself and defines the two macros before wamp1.h may
   include this header once, after wamp1.h. Either way the header refuses to compile (an
   array of negative size named wamp1_win32__WAMP1_SOCKET_must_be_SOCKET) when wamp1_socket
   is not Winsock's SOCKET: a socket handle is pointer-sized and unsigned, so the default
   `int` would truncate it.

   Link with ws2_32 and bcrypt:
       mingw-w64:  x86_64-w64-mingw32-gcc -std=c99 prog.c -o prog.exe -lws2_32 -lbcrypt
       MSVC:       cl /TC prog.c ws2_32.lib bcrypt.lib   (the #pragma comment lines below
                   also ask for both libraries)
   Needs Windows Vista or later (getaddrinfo, IPv6, BCryptGenRandom, GetTickCount64).

   Readiness: select(). An fd_set holds FD_SETSIZE sockets, as FD_SETSIZE was when the file
   first included <winsock2.h>; this header sets it to 1024 unless it is defined already
   (define it earlier, e.g. -DFD_SETSIZE=4096, for more: Winsock has no other limit). The loop hands wait() one
   entry per connection plus the listeners, rejected sockets and the wake-up socket, so keep
   WAMP1_MAX_CONNECTIONS + WAMP1_MAX_LISTENERS + WAMP1_REJECT_SLOTS + 1 <= FD_SETSIZE;
   WAMP1_WIN32_FITS tells whether that holds. When more entries than that arrive, wait()
   still works, never writing past an fd_set: it checks the entries in chunks of
   FD_SETSIZE without waiting and blocks only on the first chunk (listeners and wake-up
   socket) for slices of WAMP1_WIN32_SLICE_MS, so a socket beyond the first chunk may be
   noticed up to that much later.

   Sockets are non-blocking and not inherited by child processes; WSAEINTR is retried,
   WSAEWOULDBLOCK becomes WAMP1_IO_WOULDBLOCK. Host names go through getaddrinfo(); "::"
   listens on IPv6 and on IPv4 too (IPV6_V6ONLY off). Listening sockets use
   SO_EXCLUSIVEADDRUSE, so a port another socket holds is refused instead of shared, and no
   other program can bind the port while the server has it (Windows' SO_REUSEADDR would
   allow that).
   Clock: QueryPerformanceCounter. Random bytes: BCryptGenRandom (system preferred RNG).
   Wake-up: a TCP connection over 127.0.0.1 made by init; wake() sends one byte on it and may
   be called from any thread (a console control handler included). Lock: a
   CRITICAL_SECTION. */

/* ---- Part 1: Winsock and the socket type (before wamp1.h) ------------------------------- */
#ifndef WAMP1_WIN32_PRELUDE_INCLUDED
#define WAMP1_WIN32_PRELUDE_INCLUDED

#ifndef FD_SETSIZE
#define FD_SETSIZE 1024
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <bcrypt.h>

#ifdef _MSC_VER
#pragma comment(lib, "ws2_32.lib")
#pragma comment(lib, "bcrypt.lib")
#endif

#ifndef WAMP1_SOCKET
#define WAMP1_SOCKET SOCKET
#endif
#ifndef WAMP1_INVALID_SOCKET
#define WAMP1_INVALID_SOCKET INVALID_SOCKET
#endif

#endif /* WAMP1_WIN32_PRELUDE_INCLUDED */

/* ---- Part 2: the port (after wamp1.h) ---------------------------------------------------- */
#if defined(WAMP1_H_INCLUDED) && !defined(WAMP1_WIN32_H_INCLUDED)
#define WAMP1_WIN32_H_INCLUDED

#include <limits.h>

#ifndef WAMP1_WIN32_SLICE_MS
#define WAMP1_WIN32_SLICE_MS 10
#endif

/* 1 when every socket the loop can hand to wait() fits into one fd_set. */
#define WAMP1_WIN32_FITS \
    (WAMP1_MAX_CONNECTIONS + WAMP1_MAX_LISTENERS + WAMP1_REJECT_SLOTS + 1 <= FD_SETSIZE)

/* wamp1.h must have been compiled with WAMP1_SOCKET SOCKET (see the top of this file). */
typedef char wamp1_win32__WAMP1_SOCKET_must_be_SOCKET
    [sizeof(wamp1_socket) == sizeof(SOCKET) && (wamp1_socket)0 < (wamp1_socket)-1 &&
             (SOCKET)WAMP1_INVALID_SOCKET == INVALID_SOCKET ? 1 : -1];

typedef struct wamp1_win32 {
    SOCKET wake_r, wake_w;   /* loopback TCP pair: the loop polls wake_r, wake() sends on wake_w */
    int wsa_started, lock_ready;
    int backlog;             /* listen() backlog; 0: SOMAXCONN */
    uint64_t qpc_freq;       /* QueryPerformanceFrequency, 0 if unavailable */
    uint64_t seed;           /* fallback generator when BCryptGenRandom fails */
    CRITICAL_SECTION lock;   /* the cross-thread queue's lock */
    fd_set rset, wset;       /* wait(): kept here, not on the stack (8 KiB each at 1024) */
} wamp1_win32;

static int wamp1__win32_nonblock(SOCKET s) {
    u_long one = 1;
    if (ioctlsocket(s, (long)FIONBIO, &one) != 0) return -1;
    (void)SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0);
    return 0;
}

static void wamp1__win32_addr(const struct sockaddr_storage *ss, wamp1_addr *a) {
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

static int wamp1__win32_listen(void *ctx, const char *host, uint16_t port, wamp1_socket *out,
                               uint16_t *bound) {
    wamp1_win32 *w = (wamp1_win32 *)ctx;
    struct addrinfo hints, *res = NULL, *ai;
    char service[8];
    SOCKET s = INVALID_SOCKET;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    {
        int i = 0, j;
        unsigned v = port;
        char tmp[6];
        do tmp[i++] = (char)('0' + v % 10u); while ((v /= 10u) != 0);
        for (j = 0; j < i; j++) service[j] = tmp[i - 1 - j];
        service[i] = 0;
    }
    if (getaddrinfo(host && *host ? host : NULL, service, &hints, &res) != 0) return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        BOOL on = TRUE;
        s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s == INVALID_SOCKET) continue;
#ifdef SO_EXCLUSIVEADDRUSE
        (void)setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&on, (int)sizeof on);
#endif
        if (ai->ai_family == AF_INET6) {
            DWORD zero = 0; /* "::" serves IPv4 too */
            (void)setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&zero, (int)sizeof zero);
        }
        (void)on;
        if (bind(s, ai->ai_addr, (int)ai->ai_addrlen) == 0 &&
            listen(s, w->backlog > 0 ? w->backlog : SOMAXCONN) == 0 && wamp1__win32_nonblock(s) == 0)
            break;
        closesocket(s);
        s = INVALID_SOCKET;
    }
    freeaddrinfo(res);
    if (s == INVALID_SOCKET) return -1;
    {
        struct sockaddr_storage ss;
        int sl = (int)sizeof ss;
        wamp1_addr a;
        *bound = port;
        if (getsockname(s, (struct sockaddr *)&ss, &sl) == 0) {
            wamp1__win32_addr(&ss, &a);
            *bound = a.port;
        }
    }
    *out = s;
    return 0;
}

static int wamp1__win32_accept(void *ctx, wamp1_socket ls, wamp1_socket *out, wamp1_addr *peer) {
    struct sockaddr_storage ss;
    SOCKET s;
    BOOL one = TRUE;
    (void)ctx;
    for (;;) {
        int sl = (int)sizeof ss, e;
        s = accept(ls, (struct sockaddr *)&ss, &sl);
        if (s != INVALID_SOCKET) break;
        e = WSAGetLastError();
        if (e == WSAEINTR || e == WSAECONNRESET) continue; /* reset before accept: take the next */
        return e == WSAEWOULDBLOCK ? WAMP1_IO_WOULDBLOCK : WAMP1_IO_ERROR;
    }
    if (wamp1__win32_nonblock(s) != 0) {
        closesocket(s);
        return WAMP1_IO_ERROR;
    }
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, (int)sizeof one);
    wamp1__win32_addr(&ss, peer);
    *out = s;
    return 0;
}

static int wamp1__win32_len(size_t n) { return n > (size_t)INT_MAX ? INT_MAX : (int)n; }

static long wamp1__win32_recv(void *ctx, wamp1_socket s, void *buf, size_t n) {
    (void)ctx;
    for (;;) {
        int r = recv(s, (char *)buf, wamp1__win32_len(n), 0), e;
        if (r >= 0) return (long)r;
        e = WSAGetLastError();
        if (e == WSAEINTR) continue;
        return e == WSAEWOULDBLOCK ? WAMP1_IO_WOULDBLOCK : WAMP1_IO_ERROR;
    }
}

static long wamp1__win32_send(void *ctx, wamp1_socket s, const void *buf, size_t n) {
    (void)ctx;
    for (;;) {
        int r = send(s, (const char *)buf, wamp1__win32_len(n), 0), e;
        if (r >= 0) return (long)r;
        e = WSAGetLastError();
        if (e == WSAEINTR) continue;
        return e == WSAEWOULDBLOCK ? WAMP1_IO_WOULDBLOCK : WAMP1_IO_ERROR;
    }
}

static void wamp1__win32_shutdown(void *ctx, wamp1_socket s) {
    (void)ctx;
    (void)shutdown(s, SD_SEND);
}

static void wamp1__win32_close(void *ctx, wamp1_socket s) {
    (void)ctx;
    if (s != INVALID_SOCKET) (void)closesocket(s);
}

static uint64_t wamp1__win32_now(void *ctx) {
    wamp1_win32 *w = (wamp1_win32 *)ctx;
    LARGE_INTEGER c;
    if (w->qpc_freq && QueryPerformanceCounter(&c)) {
        uint64_t t = (uint64_t)c.QuadPart, f = w->qpc_freq;
        return (t / f) * 1000u + (t % f) * 1000u / f;
    }
    return (uint64_t)GetTickCount64();
}

/* Marks the entries of fds whose socket select() left in set. select() keeps the order in
   which the sockets were put in, so one pass with a moving start finds each in O(1). */
static void wamp1__win32_mark(const fd_set *set, wamp1_pollfd *fds, unsigned n, short flag) {
    unsigned k, j = 0;
    for (k = 0; k < set->fd_count; k++) {
        unsigned i;
        for (i = 0; i < n; i++) {
            unsigned x = j + i < n ? j + i : j + i - n;
            if (fds[x].fd == set->fd_array[k] && (fds[x].events & flag)) {
                fds[x].revents = (short)(fds[x].revents | flag);
                j = x + 1 < n ? x + 1 : 0;
                break;
            }
        }
    }
}

/* A socket select() refused (WSAENOTSOCK): report it as poll() does, with POLLNVAL. */
static int wamp1__win32_mark_invalid(wamp1_pollfd *fds, unsigned n) {
    unsigned i;
    int bad = 0;
    for (i = 0; i < n; i++) {
        int type = 0, len = (int)sizeof type;
        if (fds[i].fd == INVALID_SOCKET || !(fds[i].events & (WAMP1_POLLIN | WAMP1_POLLOUT)))
            continue;
        if (getsockopt(fds[i].fd, SOL_SOCKET, SO_TYPE, (char *)&type, &len) != 0) {
            fds[i].revents = WAMP1_POLLNVAL;
            bad++;
        }
    }
    return bad;
}

/* select() over fds[0..n), n <= FD_SETSIZE; timeout_ms < 0 waits forever. */
static int wamp1__win32_select(wamp1_win32 *w, wamp1_pollfd *fds, unsigned n, int timeout_ms) {
    unsigned i;
    int r, ready = 0;
    uint64_t start = wamp1__win32_now(w);
    for (;;) {
        struct timeval tv, *tvp = NULL;
        w->rset.fd_count = 0;
        w->wset.fd_count = 0;
        for (i = 0; i < n; i++) {
            fds[i].revents = 0;
            if (fds[i].fd == INVALID_SOCKET) continue;
            if ((fds[i].events & WAMP1_POLLIN) && w->rset.fd_count < FD_SETSIZE)
                w->rset.fd_array[w->rset.fd_count++] = fds[i].fd;
            if ((fds[i].events & WAMP1_POLLOUT) && w->wset.fd_count < FD_SETSIZE)
                w->wset.fd_array[w->wset.fd_count++] = fds[i].fd;
        }
        if (w->rset.fd_count == 0 && w->wset.fd_count == 0) {
            /* select() refuses empty sets: just wait */
            Sleep(timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
            return 0;
        }
        if (timeout_ms >= 0) {
            tv.tv_sec = timeout_ms / 1000;
            tv.tv_usec = (timeout_ms % 1000) * 1000;
            tvp = &tv;
        }
        r = select(0, w->rset.fd_count ? &w->rset : NULL, w->wset.fd_count ? &w->wset : NULL,
                   NULL, tvp);
        if (r != SOCKET_ERROR) break;
        r = WSAGetLastError();
        if (r == WSAENOTSOCK) {
            ready = wamp1__win32_mark_invalid(fds, n);
            return ready ? ready : -1;
        }
        if (r != WSAEINTR) return -1;
        if (timeout_ms >= 0) { /* retry with what is left of the timeout */
            uint64_t spent = wamp1__win32_now(w) - start;
            if (spent >= (uint64_t)timeout_ms) return 0;
            timeout_ms -= (int)spent;
            start += spent;
        }
    }
    if (r == 0) return 0;
    wamp1__win32_mark(&w->rset, fds, n, WAMP1_POLLIN);
    wamp1__win32_mark(&w->wset, fds, n, WAMP1_POLLOUT);
    for (i = 0; i < n; i++)
        if (fds[i].revents) ready++;
    return ready;
}

static int wamp1__win32_wait(void *ctx, wamp1_pollfd *fds, unsigned n, int timeout_ms) {
    wamp1_win32 *w = (wamp1_win32 *)ctx;
    uint64_t start;
    if (n <= FD_SETSIZE) return wamp1__win32_select(w, fds, n, timeout_ms);
    /* More entries than an fd_set holds: poll every chunk, then block on the first one (the
       listeners and the wake-up socket come first) for one slice at a time. */
    start = wamp1__win32_now(w);
    for (;;) {
        unsigned off;
        int total = 0, slice = WAMP1_WIN32_SLICE_MS, r;
        for (off = 0; off < n; off += FD_SETSIZE) {
            unsigned m = n - off < FD_SETSIZE ? n - off : FD_SETSIZE;
            r = wamp1__win32_select(w, fds + off, m, 0);
            if (r < 0) return r;
            total += r;
        }
        if (total) return total;
        if (timeout_ms >= 0) {
            uint64_t spent = wamp1__win32_now(w) - start;
            if (spent >= (uint64_t)timeout_ms) return 0;
            if ((uint64_t)timeout_ms - spent < (uint64_t)slice) slice = timeout_ms - (int)spent;
        }
        r = wamp1__win32_select(w, fds, FD_SETSIZE, slice);
        if (r < 0) return r;
    }
}

static int wamp1__win32_random(void *ctx, void *buf, size_t n) {
    wamp1_win32 *w = (wamp1_win32 *)ctx;
    uint8_t *b = (uint8_t *)buf;
    while (n) {
        ULONG k = n > 0x40000000u ? 0x40000000u : (ULONG)n;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, (PUCHAR)b, k, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            break;
        b += k;
        n -= k;
    }
    while (n) { /* BCryptGenRandom failed: xorshift64* seeded from the clock (not for secrets) */
        w->seed ^= w->seed >> 12; w->seed ^= w->seed << 25; w->seed ^= w->seed >> 27;
        *b++ = (uint8_t)((w->seed * (uint64_t)2685821657736338717u) >> 56);
        n--;
    }
    return 0;
}

static wamp1_socket wamp1__win32_wake_fd(void *ctx) { return ((wamp1_win32 *)ctx)->wake_r; }

static void wamp1__win32_wake(void *ctx) {
    wamp1_win32 *w = (wamp1_win32 *)ctx;
    int saved = WSAGetLastError();
    char b = 1;
    (void)send(w->wake_w, &b, 1, 0); /* WSAEWOULDBLOCK: bytes are pending already */
    WSASetLastError(saved);
}

static void wamp1__win32_wake_drain(void *ctx) {
    wamp1_win32 *w = (wamp1_win32 *)ctx;
    char b[64];
    while (recv(w->wake_r, b, (int)sizeof b, 0) > 0) {
    }
}

static void wamp1__win32_lock(void *ctx) { EnterCriticalSection(&((wamp1_win32 *)ctx)->lock); }
static void wamp1__win32_unlock(void *ctx) { LeaveCriticalSection(&((wamp1_win32 *)ctx)->lock); }

/* The wake-up pair: connect to a listener on 127.0.0.1 and accept, making sure the accepted
   connection is ours (another local process could connect to the listener first). */
static int wamp1__win32_pair(SOCKET *rd, SOCKET *wr) {
    struct sockaddr_in a, mine, peer;
    int len, tries;
    BOOL one = TRUE;
    SOCKET l = INVALID_SOCKET, c = INVALID_SOCKET, acc = INVALID_SOCKET;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (l == INVALID_SOCKET) goto fail;
#ifdef SO_EXCLUSIVEADDRUSE
    (void)setsockopt(l, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, (int)sizeof one);
#endif
    len = (int)sizeof a;
    if (bind(l, (struct sockaddr *)&a, (int)sizeof a) != 0 || listen(l, 4) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) != 0)
        goto fail;
    c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (c == INVALID_SOCKET || connect(c, (struct sockaddr *)&a, (int)sizeof a) != 0) goto fail;
    len = (int)sizeof mine;
    if (getsockname(c, (struct sockaddr *)&mine, &len) != 0) goto fail;
    for (tries = 0; tries < 16; tries++) {
        len = (int)sizeof peer;
        acc = accept(l, (struct sockaddr *)&peer, &len);
        if (acc == INVALID_SOCKET) goto fail;
        if (len >= (int)sizeof peer && peer.sin_family == AF_INET && peer.sin_port == mine.sin_port &&
            peer.sin_addr.s_addr == mine.sin_addr.s_addr)
            break;
        closesocket(acc);
        acc = INVALID_SOCKET;
    }
    if (acc == INVALID_SOCKET) goto fail;
    closesocket(l);
    if (wamp1__win32_nonblock(acc) != 0 || wamp1__win32_nonblock(c) != 0) {
        l = INVALID_SOCKET;
        goto fail;
    }
    (void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, (int)sizeof one);
    *rd = acc;
    *wr = c;
    return 0;
fail:
    if (l != INVALID_SOCKET) closesocket(l);
    if (c != INVALID_SOCKET) closesocket(c);
    if (acc != INVALID_SOCKET) closesocket(acc);
    return -1;
}

static void wamp1_win32_free(wamp1_win32 *w);

/* Set up the port: WSAStartup, the wake-up pair, the lock. 0 or -1. */
static int wamp1_win32_init(wamp1_win32 *w, wamp1_port *port) {
    WSADATA wsa;
    LARGE_INTEGER f, c;
    memset(w, 0, sizeof *w);
    memset(port, 0, sizeof *port);
    w->wake_r = w->wake_w = INVALID_SOCKET;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return -1;
    w->wsa_started = 1;
    InitializeCriticalSection(&w->lock);
    w->lock_ready = 1;
    if (wamp1__win32_pair(&w->wake_r, &w->wake_w) != 0) {
        wamp1_win32_free(w);
        return -1;
    }
    if (QueryPerformanceFrequency(&f) && f.QuadPart > 0) w->qpc_freq = (uint64_t)f.QuadPart;
    c.QuadPart = 0;
    (void)QueryPerformanceCounter(&c);
    w->seed = ((uint64_t)c.QuadPart * (uint64_t)0x9E3779B97F4A7C15u) ^ (uint64_t)GetCurrentProcessId();
    if (!w->seed) w->seed = 1;
    port->ctx = w;
    port->listen = wamp1__win32_listen;
    port->accept = wamp1__win32_accept;
    port->recv = wamp1__win32_recv;
    port->send = wamp1__win32_send;
    port->shutdown = wamp1__win32_shutdown;
    port->close = wamp1__win32_close;
    port->wait = wamp1__win32_wait;
    port->now_ms = wamp1__win32_now;
    port->random = wamp1__win32_random;
    port->wake_fd = wamp1__win32_wake_fd;
    port->wake = wamp1__win32_wake;
    port->wake_drain = wamp1__win32_wake_drain;
    port->lock = wamp1__win32_lock;
    port->unlock = wamp1__win32_unlock;
    return 0;
}

/* Close the wake-up pair, delete the lock, WSACleanup. */
static void wamp1_win32_free(wamp1_win32 *w) {
    if (w->wake_r != INVALID_SOCKET) closesocket(w->wake_r);
    if (w->wake_w != INVALID_SOCKET) closesocket(w->wake_w);
    w->wake_r = w->wake_w = INVALID_SOCKET;
    if (w->lock_ready) DeleteCriticalSection(&w->lock);
    w->lock_ready = 0;
    if (w->wsa_started) WSACleanup();
    w->wsa_started = 0;
}

#endif /* WAMP1_WIN32_H_INCLUDED */
