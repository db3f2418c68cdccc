/* wamp1_mbedtls.h - TLS for wamp1.h with mbedTLS: a port that wraps any other port.

   The TLS transport takes the port the server would use (POSIX, lwIP, ...) and presents a
   port of its own that speaks TLS on every accepted socket. The server loop does not know:
   it calls recv/send/wait/close as always and sees plaintext.

       #define WAMP1_IMPLEMENTATION
       #include "wamp1.h"
       #include "port/wamp1_posix.h"
       #include "port/wamp1_mbedtls.h"

       static wamp1_posix posix;
       static wamp1_tls tls;                 // large (a pool of TLS contexts): keep it static
       wamp1_port plain, secure;
       wamp1_posix_init(&posix, &plain);
       if (wamp1_tls_init_files(&tls, &plain, &secure, "cert.pem", "key.pem") != 0) {
           char msg[128];
           wamp1_tls_strerror(tls.last_error, msg, sizeof msg);   // tls.error_where: the step
       }
       cfg.port = &secure;
       ...
       wamp1_tls_free(&tls);                 // after wamp1_server_shutdown()

   Any port can be wrapped; the transport is tested around the POSIX port, the Windows port
   (mingw-w64 under wine, mbedTLS built from its sources: include port/wamp1_win32.h before
   wamp1.h as usual, SOCKET handles are fine as keys, link -lws2_32 -lbcrypt) and both lwIP
   ports (the raw API with NO_SYS=1, the sockets port with lwip_poll() and lwip_select()).

   Link with -lmbedtls -lmbedx509 -lmbedcrypto (Debian: libmbedtls-dev). Written for mbedTLS
   2.28 (LTS, the version it is tested with) and 3.x, where the API differs (key parsing and
   pair checks take an RNG, PSA must be initialised, TLS 1.0/1.1 are gone); the differences
   are kept behind MBEDTLS_VERSION_NUMBER. 4.x, which drops the legacy RNG interfaces, is
   refused at compile time.

   Compile-time settings (define them before the include):
     WAMP1_TLS_MAX_CONNECTIONS  TLS contexts in the pool (default WAMP1_MAX_CONNECTIONS +
                                WAMP1_REJECT_SLOTS: every socket the server holds)
     WAMP1_TLS_HANDSHAKE_STEPS  default of tls.handshake_steps, the handshake steps run per
                                recv/send call (4)
   At run time: tls.on_error/tls.user report failed connections (the socket, the mbedTLS code
   and the step), tls.stats counts connections and handshakes. The transport is used from
   the thread that runs the loop; wake(), lock() and unlock() pass straight to the inner port.

   Certificate and key: PEM or DER, from memory (wamp1_tls_init) or files
   (wamp1_tls_init_files, needs MBEDTLS_FS_IO). PEM buffers may be given with or without their
   terminating NUL. The certificate buffer may hold a chain (leaf first). The key must be
   unencrypted and must match the leaf certificate. tls->conf is an ordinary
   mbedtls_ssl_config: adjust it (ciphersuites, ALPN, a session cache, debug output) after
   init and before the server accepts its first connection.

   Random numbers: a CTR_DRBG seeded (and reseeded) from the inner port's random(), which must
   therefore be a cryptographically strong source (the POSIX port reads /dev/urandom; its
   clock-seeded fallback is not strong; the Windows port uses BCryptGenRandom; on lwIP define
   WAMP1_LWIP_RANDOM to the hardware RNG, since the lwIP ports' fallbacks are not strong). With mbedTLS 3.x and PSA crypto, psa_crypto_init() is
   called too; PSA draws on mbedTLS's own entropy sources.

   How the transport behaves:
   - accept() accepts on the inner port and binds the socket to a TLS context from a fixed
     pool of WAMP1_TLS_MAX_CONNECTIONS (by default the server's pool plus its reject slots).
     A socket is found from its value through a hash table, never by scanning the pool. When
     the pool is full (or mbedTLS cannot allocate), the new socket is closed at once.
   - The handshake is non-blocking and runs inside recv() and send(), at most
     WAMP1_TLS_HANDSHAKE_STEPS steps of mbedTLS's state machine per call, so one client's
     public-key operations cannot hold up the loop for long; a handshake that still has work
     to do makes wait() return at once. The server's handshake timeout
     (wamp1_config.handshake_timeout_ms) counts from accept, so it bounds the TLS handshake
     and the HTTP upgrade together: a client that stalls mid-handshake is closed by it.
   - wait() asks the inner port for what mbedTLS needs (POLLOUT while a handshake flight is
     being written, POLLIN while it waits for the client) and reports the socket to the
     loop as readable when that happens. A socket whose plaintext mbedTLS already holds
     (a record read in part) is reported readable at once, without waiting.
   - recv() of a client that sends anything but TLS (plain HTTP, garbage, an unsupported
     version) fails with WAMP1_IO_ERROR, and the loop closes that connection only.
   - shutdown() sends close_notify before the inner half-close (finishing it in wait() if
     the socket was full); close() sends it too when it was not sent yet (best effort) and
     frees the context. A peer's close_notify, or the end of the stream, reads as 0.
   - A connection the server refuses with 503 because its pool is full is answered before any
     handshake took place, so the client sees the connection closed rather than the 503.

   Memory: wamp1.h itself never allocates; mbedTLS does, through its own calloc/free
   (mbedtls_calloc). Each connection costs about 2 x (MBEDTLS_SSL_IN_CONTENT_LEN /
   MBEDTLS_SSL_OUT_CONTENT_LEN + ~500) bytes of record buffers (about 33 KiB with the default
   16 KiB) from mbedtls_ssl_setup() until close, plus a few KiB during the handshake, plus
   the certificate and key once. On firmware, build mbedTLS with MBEDTLS_MEMORY_BUFFER_ALLOC_C
   and call mbedtls_memory_buffer_alloc_init(buf, size) before wamp1_tls_init() so that all
   of it comes from one static block, and shrink the record buffers with
   MBEDTLS_SSL_IN_CONTENT_LEN / MBEDTLS_SSL_OUT_CONTENT_LEN (and
   MBEDTLS_SSL_MAX_FRAGMENT_LENGTH) where the clients allow it. The pool of contexts in
   wamp1_tls is about 800 bytes per connection (mbedTLS 2.28, x86-64); its pages are only
   touched as connections use them.

   Not provided: client certificates, session resumption, SNI-based certificate choice (all
   reachable through tls->conf), DTLS.
*/
#ifndef WAMP1_MBEDTLS_H_INCLUDED
#define WAMP1_MBEDTLS_H_INCLUDED

#ifndef WAMP1_H_INCLUDED
#error "include wamp1.h before port/wamp1_mbedtls.h"
#endif

#include <mbedtls/version.h>

#if !defined(MBEDTLS_VERSION_NUMBER)
#error "wamp1_mbedtls.h: mbedtls/version.h did not define MBEDTLS_VERSION_NUMBER"
#endif
#if MBEDTLS_VERSION_NUMBER < 0x02100000
#error "wamp1_mbedtls.h needs mbedTLS 2.16 or later (tested with 2.28)"
#endif
#if MBEDTLS_VERSION_NUMBER >= 0x04000000
#error "wamp1_mbedtls.h supports mbedTLS 2.x and 3.x; 4.x removed the RNG interfaces it uses"
#endif

/* mbedtls/version.h pulls in the configuration (config.h in 2.x, build_info.h in 3.x). */
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/pk.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/net_sockets.h> /* only for the MBEDTLS_ERR_NET_* codes */
#if defined(MBEDTLS_ERROR_C)
#include <mbedtls/error.h>
#endif
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
#include <psa/crypto.h>
#endif

#if !defined(MBEDTLS_SSL_TLS_C) || !defined(MBEDTLS_SSL_SRV_C) || !defined(MBEDTLS_X509_CRT_PARSE_C) || \
    !defined(MBEDTLS_PK_PARSE_C) || !defined(MBEDTLS_CTR_DRBG_C)
#error "wamp1_mbedtls.h needs MBEDTLS_SSL_TLS_C, MBEDTLS_SSL_SRV_C, MBEDTLS_X509_CRT_PARSE_C, MBEDTLS_PK_PARSE_C and MBEDTLS_CTR_DRBG_C"
#endif

#ifndef WAMP1_TLS_MAX_CONNECTIONS
#define WAMP1_TLS_MAX_CONNECTIONS (WAMP1_MAX_CONNECTIONS + WAMP1_REJECT_SLOTS)
#endif
#ifndef WAMP1_TLS_HANDSHAKE_STEPS
#define WAMP1_TLS_HANDSHAKE_STEPS 4
#endif

#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__TLS_FN static __attribute__((unused))
#else
#define WAMP1__TLS_FN static
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct wamp1_tls;

/* One TLS connection: a pool entry. */
typedef struct wamp1_tls_conn {
    mbedtls_ssl_context ssl;
    struct wamp1_tls *tls;
    wamp1_socket sock;
    size_t wlen;        /* length of an mbedtls_ssl_write() that must be repeated */
    uint32_t next_free; /* free list link (index + 1, 0 ends it) */
    uint16_t flags;     /* WAMP1__TLS_* */
    short asked;        /* the events the loop asked for in the current wait() */
    short forced;       /* events reported without asking the inner port */
} wamp1_tls_conn;

typedef struct wamp1_tls_stats {
    uint64_t accepted;          /* sockets bound to a TLS context */
    uint64_t refused;           /* sockets closed at accept: pool full or no memory */
    uint64_t handshakes;        /* handshakes completed */
    uint64_t handshake_errors;  /* handshakes that failed (not TLS, bad version, ...) */
    uint64_t errors;            /* failures after the handshake */
    uint32_t active, active_peak;
} wamp1_tls_stats;

#define WAMP1__TLS_MAP_SIZE (2u * (uint32_t)(WAMP1_TLS_MAX_CONNECTIONS) + 1u)

typedef struct wamp1_tls {
    wamp1_port inner;              /* a copy of the wrapped port */
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    mbedtls_ctr_drbg_context drbg;
    int handshake_steps;           /* per recv/send call; default WAMP1_TLS_HANDSHAKE_STEPS */
    int last_error;                /* the mbedTLS code of the last failure (negative) */
    const char *error_where;       /* the step that failed: "certificate", "key", ... */
    /* Told about every connection that fails (handshake or later): the socket, the mbedTLS
       code and the step ("handshake", "read", "write"). May be NULL. */
    void (*on_error)(void *user, wamp1_socket s, int mbedtls_err, const char *where);
    void *user;
    wamp1_tls_stats stats;
    uint32_t free_head;            /* index + 1 of the first free context, 0: none */
    uint32_t fresh;                /* contexts [fresh, max) were never used */
    uint8_t inited;
    uint32_t map[WAMP1__TLS_MAP_SIZE]; /* socket hash table: context index + 1, 0: empty */
    wamp1_tls_conn conns[WAMP1_TLS_MAX_CONNECTIONS];
} wamp1_tls;

#ifdef __cplusplus
}
#endif

/* ------------------------------------------------------------------------ */

enum {
    WAMP1__TLS_HS_DONE = 0x001,       /* handshake over */
    WAMP1__TLS_HS_WANT_WRITE = 0x002, /* the handshake waits for the socket to take data */
    WAMP1__TLS_MORE = 0x004,          /* work left that needs no socket event */
    WAMP1__TLS_RD_WANT_WRITE = 0x008, /* mbedtls_ssl_read wants to write first */
    WAMP1__TLS_WR_WANT_READ = 0x010,  /* mbedtls_ssl_write wants to read first */
    WAMP1__TLS_SHUT = 0x020,          /* shutdown() was called */
    WAMP1__TLS_SHUT_PENDING = 0x040,  /* close_notify not fully written yet */
    WAMP1__TLS_EOF = 0x080,           /* the peer's close_notify or end of stream */
    WAMP1__TLS_ERR = 0x100            /* failed: recv/send report WAMP1_IO_ERROR */
};

/* ---- version differences -------------------------------------------------- */

static int wamp1__tls_hs_over(mbedtls_ssl_context *ssl) {
#if MBEDTLS_VERSION_NUMBER >= 0x03020000
    return mbedtls_ssl_is_handshake_over(ssl);
#elif MBEDTLS_VERSION_NUMBER >= 0x03000000
    return ssl->MBEDTLS_PRIVATE(state) == MBEDTLS_SSL_HANDSHAKE_OVER;
#else
    return ssl->state == MBEDTLS_SSL_HANDSHAKE_OVER;
#endif
}

static int wamp1__tls_parse_key(wamp1_tls *t, const unsigned char *key, size_t len) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_key(&t->key, key, len, NULL, 0, mbedtls_ctr_drbg_random, &t->drbg);
#else
    return mbedtls_pk_parse_key(&t->key, key, len, NULL, 0);
#endif
}

#if defined(MBEDTLS_FS_IO) && !defined(WAMP1_NO_STDIO_FILES)
static int wamp1__tls_parse_keyfile(wamp1_tls *t, const char *path) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_keyfile(&t->key, path, NULL, mbedtls_ctr_drbg_random, &t->drbg);
#else
    return mbedtls_pk_parse_keyfile(&t->key, path, NULL);
#endif
}
#endif

static int wamp1__tls_check_pair(wamp1_tls *t) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_check_pair(&t->cert.pk, &t->key, mbedtls_ctr_drbg_random, &t->drbg);
#else
    return mbedtls_pk_check_pair(&t->cert.pk, &t->key);
#endif
}

/* Codes that mean "call again later" without waiting for the socket. */
static int wamp1__tls_retry_later(int r) {
#if defined(MBEDTLS_ERR_SSL_ASYNC_IN_PROGRESS)
    if (r == MBEDTLS_ERR_SSL_ASYNC_IN_PROGRESS) return 1;
#endif
#if defined(MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS)
    if (r == MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS) return 1;
#endif
    (void)r;
    return 0;
}

/* ---- the socket table ------------------------------------------------------ */

static uint32_t wamp1__tls_hash(wamp1_socket s) {
    unsigned char b[sizeof(wamp1_socket)];
    uint32_t h = 2166136261u;
    size_t i;
    memcpy(b, &s, sizeof b);
    for (i = 0; i < sizeof b; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return (h ^ (h >> 15)) % WAMP1__TLS_MAP_SIZE;
}

static wamp1_tls_conn *wamp1__tls_find(wamp1_tls *t, wamp1_socket s) {
    uint32_t i = wamp1__tls_hash(s), k;
    for (k = 0; k < WAMP1__TLS_MAP_SIZE; k++) {
        uint32_t e = t->map[i];
        if (e == 0) return NULL;
        if (t->conns[e - 1].sock == s) return &t->conns[e - 1];
        if (++i == WAMP1__TLS_MAP_SIZE) i = 0;
    }
    return NULL;
}

static void wamp1__tls_map_put(wamp1_tls *t, wamp1_socket s, uint32_t idx) {
    uint32_t i = wamp1__tls_hash(s);
    while (t->map[i] != 0)
        if (++i == WAMP1__TLS_MAP_SIZE) i = 0;
    t->map[i] = idx + 1u;
}

/* Linear probing with backward-shift deletion: no tombstones, lookups stay short. */
static void wamp1__tls_map_del(wamp1_tls *t, wamp1_socket s) {
    uint32_t i = wamp1__tls_hash(s), j, k;
    for (k = 0; k < WAMP1__TLS_MAP_SIZE; k++) {
        uint32_t e = t->map[i];
        if (e == 0) return;
        if (t->conns[e - 1].sock == s) break;
        if (++i == WAMP1__TLS_MAP_SIZE) i = 0;
    }
    if (k == WAMP1__TLS_MAP_SIZE) return;
    t->map[i] = 0;
    j = i;
    for (;;) {
        uint32_t home;
        if (++j == WAMP1__TLS_MAP_SIZE) j = 0;
        if (t->map[j] == 0) return;
        home = wamp1__tls_hash(t->conns[t->map[j] - 1].sock);
        /* the entry at j may move to the hole at i unless its home lies in (i, j] */
        if (i <= j ? (home > i && home <= j) : (home > i || home <= j)) continue;
        t->map[i] = t->map[j];
        t->map[j] = 0;
        i = j;
    }
}

/* ---- errors ------------------------------------------------------------------ */

static void wamp1__tls_fail(wamp1_tls_conn *c, int err, const char *where) {
    wamp1_tls *t = c->tls;
    if (c->flags & WAMP1__TLS_ERR) return;
    c->flags = (uint16_t)(c->flags | WAMP1__TLS_ERR);
    if (c->flags & WAMP1__TLS_SHUT) return; /* ending anyway: a reset now is no news */
    t->last_error = err;
    if (c->flags & WAMP1__TLS_HS_DONE) t->stats.errors++;
    else t->stats.handshake_errors++;
    if (t->on_error) t->on_error(t->user, c->sock, err, where);
}

/* Writes "-0x7780: SSL - ..." (or just the code without MBEDTLS_ERROR_C) into buf. */
WAMP1__TLS_FN void wamp1_tls_strerror(int err, char *buf, size_t size) {
    static const char hex[] = "0123456789ABCDEF";
    char code[16];
    size_t n = 0, i;
    unsigned v = err < 0 ? (unsigned)-(long)err : (unsigned)err;
    int shift;
    if (!buf || !size) return;
    if (err < 0) code[n++] = '-';
    code[n++] = '0';
    code[n++] = 'x';
    for (shift = 12; shift >= 0; shift -= 4) code[n++] = hex[(v >> (unsigned)shift) & 0xFu];
    code[n] = 0;
    for (i = 0; i < n && i + 1 < size; i++) buf[i] = code[i];
    buf[i] = 0;
#if defined(MBEDTLS_ERROR_C)
    if (i + 3 < size) {
        buf[i++] = ':';
        buf[i++] = ' ';
        mbedtls_strerror(err, buf + i, size - i);
    }
#endif
}

/* ---- BIO callbacks on the inner port ----------------------------------------- */

static int wamp1__tls_bio_send(void *ctx, const unsigned char *buf, size_t len) {
    wamp1_tls_conn *c = (wamp1_tls_conn *)ctx;
    wamp1_tls *t = c->tls;
    long r;
    if (len > 0x7FFFFFFFu) len = 0x7FFFFFFFu;
    r = t->inner.send(t->inner.ctx, c->sock, buf, len);
    if (r > 0) return (int)r;
    if (r == 0 || r == WAMP1_IO_WOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_WRITE;
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int wamp1__tls_bio_recv(void *ctx, unsigned char *buf, size_t len) {
    wamp1_tls_conn *c = (wamp1_tls_conn *)ctx;
    wamp1_tls *t = c->tls;
    long r;
    if (len > 0x7FFFFFFFu) len = 0x7FFFFFFFu;
    r = t->inner.recv(t->inner.ctx, c->sock, buf, len);
    if (r >= 0) return (int)r; /* 0: end of stream */
    if (r == WAMP1_IO_WOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_READ;
    return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* ---- connections ------------------------------------------------------------- */

static wamp1_tls_conn *wamp1__tls_attach(wamp1_tls *t, wamp1_socket s) {
    wamp1_tls_conn *c;
    uint32_t idx;
    c = wamp1__tls_find(t, s); /* a stale entry for a reused socket value: drop it */
    if (c) {
        wamp1__tls_map_del(t, s);
        mbedtls_ssl_free(&c->ssl);
        c->sock = WAMP1_INVALID_SOCKET;
        c->next_free = t->free_head;
        t->free_head = (uint32_t)(c - t->conns) + 1u;
        t->stats.active--;
    }
    if (t->free_head) {
        idx = t->free_head - 1u;
        t->free_head = t->conns[idx].next_free;
    } else if (t->fresh < (uint32_t)(WAMP1_TLS_MAX_CONNECTIONS)) {
        idx = t->fresh++;
    } else {
        return NULL;
    }
    c = &t->conns[idx];
    c->tls = t;
    c->sock = s;
    c->wlen = 0;
    c->next_free = 0;
    c->flags = 0;
    c->asked = c->forced = 0;
    mbedtls_ssl_init(&c->ssl);
    if (mbedtls_ssl_setup(&c->ssl, &t->conf) != 0) {
        mbedtls_ssl_free(&c->ssl);
        c->sock = WAMP1_INVALID_SOCKET;
        c->next_free = t->free_head;
        t->free_head = idx + 1u;
        return NULL;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, wamp1__tls_bio_send, wamp1__tls_bio_recv, NULL);
    wamp1__tls_map_put(t, s, idx);
    t->stats.accepted++;
    if (++t->stats.active > t->stats.active_peak) t->stats.active_peak = t->stats.active;
    return c;
}

static void wamp1__tls_release(wamp1_tls *t, wamp1_tls_conn *c) {
    wamp1__tls_map_del(t, c->sock);
    mbedtls_ssl_free(&c->ssl);
    c->sock = WAMP1_INVALID_SOCKET;
    c->flags = 0;
    c->next_free = t->free_head;
    t->free_head = (uint32_t)(c - t->conns) + 1u;
    t->stats.active--;
}

/* Advances the handshake by at most the step budget: 1 over, 0 not yet, -1 failed. */
static int wamp1__tls_handshake(wamp1_tls_conn *c) {
    int steps, budget = c->tls->handshake_steps > 0 ? c->tls->handshake_steps : 1;
    c->flags = (uint16_t)(c->flags & ~(WAMP1__TLS_HS_WANT_WRITE | WAMP1__TLS_MORE));
    for (steps = 0;; steps++) {
        int r;
        if (wamp1__tls_hs_over(&c->ssl)) {
            c->flags = (uint16_t)(c->flags | WAMP1__TLS_HS_DONE);
            c->tls->stats.handshakes++;
            return 1;
        }
        if (steps == budget) {
            c->flags = (uint16_t)(c->flags | WAMP1__TLS_MORE);
            return 0;
        }
        r = mbedtls_ssl_handshake_step(&c->ssl);
        if (r == 0) continue;
        if (r == MBEDTLS_ERR_SSL_WANT_READ) return 0;
        if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
            c->flags = (uint16_t)(c->flags | WAMP1__TLS_HS_WANT_WRITE);
            return 0;
        }
        if (wamp1__tls_retry_later(r)) {
            c->flags = (uint16_t)(c->flags | WAMP1__TLS_MORE);
            return 0;
        }
        wamp1__tls_fail(c, r, "handshake");
        return -1;
    }
}

/* Output that mbedTLS made on its own inside mbedtls_ssl_read() (an alert) and could not
   send must leave first: a later mbedtls_ssl_write() would merely flush it and report the
   caller's bytes as written. A zero-length write flushes without adding data.
   0: nothing pending, 1: not yet (the socket is full), -1: failed. */
static int wamp1__tls_flush_own(wamp1_tls_conn *c) {
    static const unsigned char none[1] = {0};
    int r;
    if (!(c->flags & WAMP1__TLS_RD_WANT_WRITE)) return 0;
    r = mbedtls_ssl_write(&c->ssl, none, 0);
    if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) return 1;
    if (r < 0) {
        wamp1__tls_fail(c, r, "write");
        return -1;
    }
    c->flags = (uint16_t)(c->flags & ~WAMP1__TLS_RD_WANT_WRITE);
    return 0;
}

/* The handshake still runs (so wait() watches what it needs instead of what the loop asks). */
static int wamp1__tls_handshaking(const wamp1_tls_conn *c) {
    return !(c->flags & (WAMP1__TLS_HS_DONE | WAMP1__TLS_SHUT | WAMP1__TLS_ERR));
}

/* ---- the port functions ----------------------------------------------------- */

static int wamp1__tls_listen(void *ctx, const char *host, uint16_t port, wamp1_socket *out,
                             uint16_t *bound) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    return t->inner.listen(t->inner.ctx, host, port, out, bound);
}

static int wamp1__tls_accept(void *ctx, wamp1_socket ls, wamp1_socket *out, wamp1_addr *peer) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    int k;
    for (k = 0; k < 64; k++) {
        wamp1_socket ns;
        int r = t->inner.accept(t->inner.ctx, ls, &ns, peer);
        if (r != 0) return r;
        if (wamp1__tls_attach(t, ns)) {
            *out = ns;
            return 0;
        }
        t->stats.refused++;
        t->inner.close(t->inner.ctx, ns);
    }
    return WAMP1_IO_WOULDBLOCK;
}

static long wamp1__tls_recv(void *ctx, wamp1_socket s, void *buf, size_t n) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    wamp1_tls_conn *c = wamp1__tls_find(t, s);
    unsigned char *p = (unsigned char *)buf;
    size_t got = 0;
    if (!c) return t->inner.recv(t->inner.ctx, s, buf, n);
    if (c->flags & WAMP1__TLS_ERR) return WAMP1_IO_ERROR;
    if (c->flags & WAMP1__TLS_EOF) return 0;
    if (!(c->flags & WAMP1__TLS_HS_DONE)) {
        int r;
        /* shut down before the handshake ended: what comes now is only drained */
        if (c->flags & WAMP1__TLS_SHUT) return t->inner.recv(t->inner.ctx, s, buf, n);
        r = wamp1__tls_handshake(c);
        if (r < 0) return WAMP1_IO_ERROR;
        if (r == 0) return WAMP1_IO_WOULDBLOCK;
    }
    c->flags = (uint16_t)(c->flags & ~WAMP1__TLS_MORE);
    {
        int f = wamp1__tls_flush_own(c);
        if (f < 0) return WAMP1_IO_ERROR;
        if (f > 0) return WAMP1_IO_WOULDBLOCK;
    }
    while (got < n) {
        int r = mbedtls_ssl_read(&c->ssl, p + got, n - got);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r == MBEDTLS_ERR_SSL_WANT_READ) break;
        if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
            c->flags = (uint16_t)(c->flags | WAMP1__TLS_RD_WANT_WRITE);
            break;
        }
        if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF) {
            c->flags = (uint16_t)(c->flags | WAMP1__TLS_EOF);
            break;
        }
        if (wamp1__tls_retry_later(r)) {
            c->flags = (uint16_t)(c->flags | WAMP1__TLS_MORE);
            break;
        }
        wamp1__tls_fail(c, r, "read");
        break;
    }
    /* an end of stream or a failure after some data is reported on the next call */
    if (got) return (long)got;
    if (c->flags & WAMP1__TLS_ERR) return WAMP1_IO_ERROR;
    if (c->flags & WAMP1__TLS_EOF) return 0;
    return WAMP1_IO_WOULDBLOCK;
}

static long wamp1__tls_send(void *ctx, wamp1_socket s, const void *buf, size_t n) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    wamp1_tls_conn *c = wamp1__tls_find(t, s);
    const unsigned char *p = (const unsigned char *)buf;
    size_t sent = 0;
    if (!c) return t->inner.send(t->inner.ctx, s, buf, n);
    if (c->flags & WAMP1__TLS_ERR) return WAMP1_IO_ERROR;
    if (!(c->flags & WAMP1__TLS_HS_DONE)) {
        int r;
        if (c->flags & WAMP1__TLS_SHUT) return WAMP1_IO_ERROR;
        r = wamp1__tls_handshake(c);
        if (r < 0) return WAMP1_IO_ERROR;
        if (r == 0) return WAMP1_IO_WOULDBLOCK;
    }
    c->flags = (uint16_t)(c->flags & ~WAMP1__TLS_WR_WANT_READ);
    if (!c->wlen) {
        int f = wamp1__tls_flush_own(c);
        if (f < 0) return WAMP1_IO_ERROR;
        if (f > 0) return WAMP1_IO_WOULDBLOCK;
    }
    while (sent < n) {
        /* a write that wanted the socket must be repeated with the same length: mbedTLS
           holds that record already and answers for exactly those bytes */
        size_t len = c->wlen ? c->wlen : n - sent;
        int r;
        if (len > n - sent) { /* the loop never shrinks what it offered */
            wamp1__tls_fail(c, MBEDTLS_ERR_SSL_BAD_INPUT_DATA, "write");
            break;
        }
        r = mbedtls_ssl_write(&c->ssl, p + sent, len);
        if (r > 0) {
            c->wlen = 0;
            sent += (size_t)r;
            continue;
        }
        if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
            c->wlen = len;
            if (r == MBEDTLS_ERR_SSL_WANT_READ)
                c->flags = (uint16_t)(c->flags | WAMP1__TLS_WR_WANT_READ);
            break;
        }
        if (wamp1__tls_retry_later(r)) {
            c->wlen = len;
            c->flags = (uint16_t)(c->flags | WAMP1__TLS_MORE);
            break;
        }
        wamp1__tls_fail(c, r, "write");
        break;
    }
    if (sent) return (long)sent;
    if (c->flags & WAMP1__TLS_ERR) return WAMP1_IO_ERROR;
    return WAMP1_IO_WOULDBLOCK;
}

static void wamp1__tls_finish_shutdown(wamp1_tls *t, wamp1_tls_conn *c) {
    int r = mbedtls_ssl_close_notify(&c->ssl); /* only flushes what is left of the alert */
    if (r == MBEDTLS_ERR_SSL_WANT_WRITE) return;
    c->flags = (uint16_t)(c->flags & ~WAMP1__TLS_SHUT_PENDING);
    t->inner.shutdown(t->inner.ctx, c->sock);
}

static void wamp1__tls_shutdown(void *ctx, wamp1_socket s) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    wamp1_tls_conn *c = wamp1__tls_find(t, s);
    if (c) {
        if (c->flags & WAMP1__TLS_SHUT) return;
        c->flags = (uint16_t)(c->flags | WAMP1__TLS_SHUT);
        if ((c->flags & WAMP1__TLS_HS_DONE) && !(c->flags & WAMP1__TLS_ERR)) {
            int r = mbedtls_ssl_close_notify(&c->ssl);
            if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
                c->flags = (uint16_t)(c->flags | WAMP1__TLS_SHUT_PENDING);
                return;
            }
        }
    }
    t->inner.shutdown(t->inner.ctx, s);
}

static void wamp1__tls_close(void *ctx, wamp1_socket s) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    wamp1_tls_conn *c = wamp1__tls_find(t, s);
    if (c) {
        if ((c->flags & WAMP1__TLS_HS_DONE) &&
            !(c->flags & (WAMP1__TLS_ERR | WAMP1__TLS_SHUT)))
            (void)mbedtls_ssl_close_notify(&c->ssl); /* best effort */
        wamp1__tls_release(t, c);
    }
    t->inner.close(t->inner.ctx, s);
}

static int wamp1__tls_wait(void *ctx, wamp1_pollfd *fds, unsigned n, int timeout_ms) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    unsigned i;
    int forced = 0, ready = 0, r;
    for (i = 0; i < n; i++) {
        wamp1_tls_conn *c = wamp1__tls_find(t, fds[i].fd);
        short asked = fds[i].events;
        int ev = 0, force = 0;
        if (!c) continue;
        if (wamp1__tls_handshaking(c)) {
            ev = (c->flags & WAMP1__TLS_HS_WANT_WRITE) ? WAMP1_POLLOUT : WAMP1_POLLIN;
            if (c->flags & WAMP1__TLS_MORE) force = WAMP1_POLLIN | (asked & WAMP1_POLLOUT);
        } else {
            if (asked & WAMP1_POLLIN)
                ev |= (c->flags & WAMP1__TLS_RD_WANT_WRITE) ? WAMP1_POLLOUT : WAMP1_POLLIN;
            if (asked & WAMP1_POLLOUT)
                ev |= (c->flags & WAMP1__TLS_WR_WANT_READ) ? WAMP1_POLLIN : WAMP1_POLLOUT;
            if (c->flags & WAMP1__TLS_SHUT_PENDING) ev |= WAMP1_POLLOUT;
            if (c->flags & WAMP1__TLS_ERR) force = asked & (WAMP1_POLLIN | WAMP1_POLLOUT);
            else if (c->flags & (WAMP1__TLS_EOF | WAMP1__TLS_MORE)) force = asked & WAMP1_POLLIN;
            else if ((asked & WAMP1_POLLIN) && (c->flags & WAMP1__TLS_HS_DONE) &&
                     mbedtls_ssl_check_pending(&c->ssl))
                force = WAMP1_POLLIN; /* plaintext already inside mbedTLS */
            if ((c->flags & WAMP1__TLS_MORE) && c->wlen) force |= asked & WAMP1_POLLOUT;
        }
        c->asked = asked;
        c->forced = (short)force;
        fds[i].events = (short)ev;
        if (force) forced++;
    }
    r = t->inner.wait(t->inner.ctx, fds, n, forced ? 0 : timeout_ms);
    for (i = 0; i < n; i++) {
        wamp1_tls_conn *c = wamp1__tls_find(t, fds[i].fd);
        int re = r > 0 ? fds[i].revents : 0, out;
        if (!c) {
            if (r < 0) fds[i].revents = 0;
            if (re) ready++;
            continue;
        }
        out = re & (WAMP1_POLLERR | WAMP1_POLLHUP | WAMP1_POLLNVAL);
        if (wamp1__tls_handshaking(c)) {
            if (re) out |= WAMP1_POLLIN | (c->asked & WAMP1_POLLOUT);
        } else {
            int rd = (c->flags & WAMP1__TLS_RD_WANT_WRITE) ? WAMP1_POLLOUT : WAMP1_POLLIN;
            int wr = (c->flags & WAMP1__TLS_WR_WANT_READ) ? WAMP1_POLLIN : WAMP1_POLLOUT;
            if ((c->flags & WAMP1__TLS_SHUT_PENDING) && (re & (WAMP1_POLLOUT | WAMP1_POLLERR | WAMP1_POLLHUP)))
                wamp1__tls_finish_shutdown(t, c);
            if ((c->asked & WAMP1_POLLIN) && (re & rd)) out |= WAMP1_POLLIN;
            if ((c->asked & WAMP1_POLLOUT) && (re & wr)) out |= WAMP1_POLLOUT;
        }
        out |= c->forced;
        fds[i].events = c->asked;
        fds[i].revents = (short)out;
        if (out) ready++;
    }
    if (r < 0 && ready == 0) return r;
    return ready;
}

static uint64_t wamp1__tls_now(void *ctx) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    return t->inner.now_ms(t->inner.ctx);
}

static int wamp1__tls_random(void *ctx, void *buf, size_t n) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    return t->inner.random(t->inner.ctx, buf, n);
}

static wamp1_socket wamp1__tls_wake_fd(void *ctx) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    return t->inner.wake_fd(t->inner.ctx);
}

static void wamp1__tls_wake(void *ctx) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    t->inner.wake(t->inner.ctx);
}

static void wamp1__tls_wake_drain(void *ctx) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    t->inner.wake_drain(t->inner.ctx);
}

static void wamp1__tls_lock(void *ctx) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    t->inner.lock(t->inner.ctx);
}

static void wamp1__tls_unlock(void *ctx) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    t->inner.unlock(t->inner.ctx);
}

/* ---- set-up ------------------------------------------------------------------- */

static int wamp1__tls_entropy(void *ctx, unsigned char *out, size_t n) {
    wamp1_tls *t = (wamp1_tls *)ctx;
    if (!t->inner.random || t->inner.random(t->inner.ctx, out, n) != 0)
        return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
    return 0;
}

static int wamp1__tls_error(wamp1_tls *t, int err, const char *where) {
    t->last_error = err;
    t->error_where = where;
    return err ? err : -1;
}

/* Everything up to the certificate: contexts, the DRBG, the outer port. */
static int wamp1__tls_begin(wamp1_tls *t, const wamp1_port *inner, wamp1_port *outer) {
    static const unsigned char pers[] = "wamp1.h tls";
    int r;
    /* the pool and the map are not cleared wholesale: the pool's pages stay untouched
       until connections use them */
    memset(&t->inner, 0, sizeof t->inner);
    memset(&t->stats, 0, sizeof t->stats);
    memset(t->map, 0, sizeof t->map);
    t->free_head = 0;
    t->fresh = 0;
    t->last_error = 0;
    t->error_where = NULL;
    t->on_error = NULL;
    t->user = NULL;
    t->handshake_steps = WAMP1_TLS_HANDSHAKE_STEPS;
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_x509_crt_init(&t->cert);
    mbedtls_pk_init(&t->key);
    mbedtls_ctr_drbg_init(&t->drbg);
    t->inited = 1;
    if (!inner || !outer || !inner->accept || !inner->recv || !inner->send || !inner->close ||
        !inner->wait || !inner->now_ms || !inner->random || !inner->listen)
        return wamp1__tls_error(t, MBEDTLS_ERR_SSL_BAD_INPUT_DATA, "port");
    t->inner = *inner;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
    if (psa_crypto_init() != PSA_SUCCESS)
        return wamp1__tls_error(t, MBEDTLS_ERR_SSL_INTERNAL_ERROR, "psa_crypto_init");
#endif
    r = mbedtls_ctr_drbg_seed(&t->drbg, wamp1__tls_entropy, t, pers, sizeof pers - 1);
    if (r) return wamp1__tls_error(t, r, "random seed");

    memset(outer, 0, sizeof *outer);
    outer->ctx = t;
    outer->listen = wamp1__tls_listen;
    outer->accept = wamp1__tls_accept;
    outer->recv = wamp1__tls_recv;
    outer->send = wamp1__tls_send;
    outer->shutdown = inner->shutdown ? wamp1__tls_shutdown : NULL;
    outer->close = wamp1__tls_close;
    outer->wait = wamp1__tls_wait;
    outer->now_ms = wamp1__tls_now;
    outer->random = wamp1__tls_random;
    outer->wake_fd = inner->wake_fd ? wamp1__tls_wake_fd : NULL;
    outer->wake = inner->wake ? wamp1__tls_wake : NULL;
    outer->wake_drain = inner->wake_drain ? wamp1__tls_wake_drain : NULL;
    outer->lock = inner->lock ? wamp1__tls_lock : NULL;
    outer->unlock = inner->unlock ? wamp1__tls_unlock : NULL;
    return 0;
}

/* After the certificate and key: check the pair, build the configuration. */
static int wamp1__tls_finish(wamp1_tls *t) {
    int r = wamp1__tls_check_pair(t);
    if (r) return wamp1__tls_error(t, r, "the key does not match the certificate");
    r = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT);
    if (r) return wamp1__tls_error(t, r, "configuration");
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    /* 2.x may still offer TLS 1.0 and 1.1 */
    mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_NONE);
    r = mbedtls_ssl_conf_own_cert(&t->conf, &t->cert, &t->key);
    if (r) return wamp1__tls_error(t, r, "certificate");
    return 0;
}

/* Does buf look like PEM text ("-----BEGIN")? */
static int wamp1__tls_is_pem(const unsigned char *buf, size_t len) {
    static const char mark[] = "-----BEGIN";
    size_t i;
    for (i = 0; i + sizeof mark - 1 <= len; i++)
        if (memcmp(buf + i, mark, sizeof mark - 1) == 0) return 1;
    return 0;
}

/* Parses the certificate (is_key 0) or the key in data[0..len); PEM text gets the NUL that
   mbedTLS wants when it has none. */
static int wamp1__tls_parse_buf(wamp1_tls *t, const void *data, size_t len, int is_key) {
    const unsigned char *p = (const unsigned char *)data;
    unsigned char *copy = NULL;
    int r;
    if (!p || !len) return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
    if (p[len - 1] != 0 && wamp1__tls_is_pem(p, len)) {
        copy = (unsigned char *)mbedtls_calloc(1, len + 1);
        if (!copy) return MBEDTLS_ERR_SSL_ALLOC_FAILED;
        memcpy(copy, p, len);
        copy[len] = 0;
        p = copy;
        len++;
    }
    r = is_key ? wamp1__tls_parse_key(t, p, len) : mbedtls_x509_crt_parse(&t->cert, p, len);
    if (r > 0) r = MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT; /* some certificates of a chain failed */
    if (copy) {
        mbedtls_platform_zeroize(copy, len);
        mbedtls_free(copy);
    }
    return r;
}

/* Frees everything mbedTLS holds for the transport: call after the server is shut down
   (contexts still open are freed; their sockets are left to the inner port's owner). */
WAMP1__TLS_FN void wamp1_tls_free(wamp1_tls *t) {
    uint32_t i;
    if (!t->inited) return;
    for (i = 0; i < t->fresh; i++)
        if (t->conns[i].sock != WAMP1_INVALID_SOCKET) wamp1__tls_release(t, &t->conns[i]);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->cert);
    mbedtls_pk_free(&t->key);
    mbedtls_ctr_drbg_free(&t->drbg);
    t->inited = 0;
}

/* Sets up the transport around inner and fills outer, the port to hand to the server.
   cert/key: PEM (with or without the terminating NUL) or DER. Returns 0, or a negative
   mbedTLS code (also in t->last_error, with the failing step in t->error_where); on failure
   call wamp1_tls_free(). */
WAMP1__TLS_FN int wamp1_tls_init(wamp1_tls *t, const wamp1_port *inner, wamp1_port *outer,
                                 const void *cert, size_t cert_len, const void *key, size_t key_len) {
    int r = wamp1__tls_begin(t, inner, outer);
    if (r) return r;
    r = wamp1__tls_parse_buf(t, cert, cert_len, 0);
    if (r) return wamp1__tls_error(t, r, "certificate");
    r = wamp1__tls_parse_buf(t, key, key_len, 1);
    if (r) return wamp1__tls_error(t, r, "key");
    return wamp1__tls_finish(t);
}

#if defined(MBEDTLS_FS_IO) && !defined(WAMP1_NO_STDIO_FILES)
/* The same with the certificate (chain) and the key read from files. */
WAMP1__TLS_FN int wamp1_tls_init_files(wamp1_tls *t, const wamp1_port *inner, wamp1_port *outer,
                                       const char *cert_file, const char *key_file) {
    int r = wamp1__tls_begin(t, inner, outer);
    if (r) return r;
    if (!cert_file || !key_file) return wamp1__tls_error(t, MBEDTLS_ERR_SSL_BAD_INPUT_DATA, "file name");
    r = mbedtls_x509_crt_parse_file(&t->cert, cert_file);
    if (r > 0) r = MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT;
    if (r) return wamp1__tls_error(t, r, "certificate file");
    r = wamp1__tls_parse_keyfile(t, key_file);
    if (r) return wamp1__tls_error(t, r, "key file");
    return wamp1__tls_finish(t);
}
#endif

#endif /* WAMP1_MBEDTLS_H_INCLUDED */
