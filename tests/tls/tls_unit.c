/* tls_unit: checks of port/wamp1_mbedtls.h that need no network: the socket table, loading
   certificates and keys in every accepted form, set-up errors, wamp1_tls_strerror.

   tls_unit CERTDIR   (ec-cert.pem, ec-key.pem, rsa-key.pem, ec-cert.der, ec-key.der)
   Prints "ok"/"FAIL" lines and "unit: N passed, M failed". Builds for Windows too (mingw-w64,
   the Windows port as the inner port, Winsock's SOCKET as the socket type). */
#ifdef _WIN32
#include "../../port/wamp1_win32.h"
#else
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#define WAMP1_MAX_CONNECTIONS 4
#define WAMP1_REJECT_SLOTS 1
#define WAMP1_NO_WAMP
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"
#ifdef _WIN32
#include "../../port/wamp1_win32.h"
typedef wamp1_win32 plain_port;
#define plain_port_init wamp1_win32_init
#define plain_port_free wamp1_win32_free
/* Winsock handles: pointer-sized, multiples of 4, far from 0 */
#define SOCK_OF(k) ((wamp1_socket)0x10000u + (wamp1_socket)(k) * 4u)
#else
#include "../../port/wamp1_posix.h"
typedef wamp1_posix plain_port;
#define plain_port_init wamp1_posix_init
#define plain_port_free wamp1_posix_free
#define SOCK_OF(k) ((wamp1_socket)(k))
#endif
#include "../../port/wamp1_mbedtls.h"

#include <stdio.h>
#include <stdlib.h>

static int passed, failed;
static wamp1_tls tls;

static void check(int ok, const char *what) {
    if (ok) passed++;
    else failed++;
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
}

static unsigned char *load(const char *dir, const char *name, size_t *len) {
    char path[1024];
    FILE *f;
    unsigned char *buf;
    long n;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (unsigned char *)malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = 0; /* not counted in *len */
    *len = (size_t)n;
    return buf;
}

/* The socket table against a plain array, with a pool of 5 and a table of 11 slots, so
   probes wrap around and deletions shift entries back. */
static void map_test(void) {
    int where[64];
    uint32_t used = 0, i;
    uint64_t x = 88172645463325252u;
    long op;
    int bad = 0;
    for (i = 0; i < 64; i++) where[i] = -1;
    memset(tls.map, 0, sizeof tls.map);
    for (i = 0; i < WAMP1_TLS_MAX_CONNECTIONS; i++) tls.conns[i].sock = WAMP1_INVALID_SOCKET;
    for (op = 0; op < 200000 && !bad; op++) {
        int s, k;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s = (int)(x % 40u);
        if (where[s] >= 0) {
            wamp1__tls_map_del(&tls, SOCK_OF(s));
            tls.conns[where[s]].sock = WAMP1_INVALID_SOCKET;
            used &= ~(1u << where[s]);
            where[s] = -1;
        } else {
            for (k = 0; k < (int)WAMP1_TLS_MAX_CONNECTIONS; k++)
                if (!(used & (1u << k))) break;
            if (k == (int)WAMP1_TLS_MAX_CONNECTIONS) continue;
            used |= 1u << k;
            tls.conns[k].sock = SOCK_OF(s);
            where[s] = k;
            wamp1__tls_map_put(&tls, SOCK_OF(s), (uint32_t)k);
        }
        for (k = 0; k < 40; k++) {
            wamp1_tls_conn *c = wamp1__tls_find(&tls, SOCK_OF(k));
            if (where[k] < 0 ? c != NULL : c != &tls.conns[where[k]]) bad = 1;
        }
    }
    check(!bad, "socket table: 200000 random inserts/deletes agree with a reference");
    check(WAMP1__TLS_MAP_SIZE == 11u, "socket table: 2 x pool + 1 slots");
}

static int init_buffers(wamp1_port *inner, const unsigned char *c, size_t cl, const unsigned char *k,
                        size_t kl) {
    wamp1_port outer;
    int r = wamp1_tls_init(&tls, inner, &outer, c, cl, k, kl);
    wamp1_tls_free(&tls);
    return r;
}

int main(int argc, char **argv) {
    static plain_port plain_if;
    wamp1_port inner, outer, bare;
    size_t cl = 0, kl = 0, rl = 0, cdl = 0, kdl = 0;
    unsigned char *cert, *key, *rsa, *cder, *kder;
    char msg[200];
    int r;
    if (argc != 2) {
        fprintf(stderr, "usage: tls_unit CERTDIR\n");
        return 2;
    }
    cert = load(argv[1], "ec-cert.pem", &cl);
    key = load(argv[1], "ec-key.pem", &kl);
    rsa = load(argv[1], "rsa-key.pem", &rl);
    cder = load(argv[1], "ec-cert.der", &cdl);
    kder = load(argv[1], "ec-key.der", &kdl);
    if (!cert || !key || !rsa || !cder || !kder || plain_port_init(&plain_if, &inner) != 0) {
        fprintf(stderr, "tls_unit: cannot read the test files\n");
        return 2;
    }

    map_test();

    check(init_buffers(&inner, cert, cl, key, kl) == 0, "PEM buffers without their NUL");
    check(init_buffers(&inner, cert, cl + 1, key, kl + 1) == 0, "PEM buffers with their NUL");
    check(init_buffers(&inner, cder, cdl, kder, kdl) == 0, "DER buffers");
    check(init_buffers(&inner, cert, cl, kder, kdl) == 0, "PEM certificate, DER key");

    r = init_buffers(&inner, cert, cl, rsa, rl);
    check(r < 0 && strcmp(tls.error_where, "the key does not match the certificate") == 0,
          "a key of another certificate is refused");
    r = init_buffers(&inner, cert, 0, key, kl);
    check(r < 0 && strcmp(tls.error_where, "certificate") == 0, "an empty certificate is refused");
    r = init_buffers(&inner, (const unsigned char *)"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 60, key, kl);
    check(r < 0 && strcmp(tls.error_where, "certificate") == 0, "a broken PEM certificate is refused");
    r = init_buffers(&inner, cert, cl, cert, cl);
    check(r < 0 && strcmp(tls.error_where, "key") == 0, "a certificate as the key is refused");
    r = init_buffers(&inner, cert, cl - 40, key, kl);
    check(r < 0 && strcmp(tls.error_where, "certificate") == 0, "a truncated certificate is refused");

    bare = inner;
    bare.random = NULL;
    r = init_buffers(&bare, cert, cl, key, kl);
    check(r < 0 && strcmp(tls.error_where, "port") == 0, "an inner port without random() is refused");

    bare = inner;
    bare.shutdown = NULL;
    bare.wake = NULL;
    bare.wake_fd = NULL;
    bare.wake_drain = NULL;
    bare.lock = bare.unlock = NULL;
    r = wamp1_tls_init(&tls, &bare, &outer, cert, cl, key, kl);
    check(r == 0 && !outer.shutdown && !outer.wake && !outer.wake_fd && !outer.wake_drain &&
              !outer.lock && !outer.unlock && outer.recv && outer.send && outer.wait,
          "optional functions of the inner port stay optional");
    wamp1_tls_free(&tls);
    wamp1_tls_free(&tls); /* twice is harmless */

    r = wamp1_tls_init(&tls, &inner, &outer, cert, cl, key, kl);
    check(r == 0 && outer.shutdown && outer.wake && outer.lock && outer.ctx == &tls,
          "the outer port forwards to the transport");
    {
        uint8_t rnd[32], zero[32];
        memset(rnd, 0, sizeof rnd);
        memset(zero, 0, sizeof zero);
        check(outer.random(outer.ctx, rnd, sizeof rnd) == 0 && memcmp(rnd, zero, sizeof rnd) != 0,
              "random() passes through");
    }
    wamp1_tls_free(&tls);

    {
        char path[1024];
        snprintf(path, sizeof path, "%s/ec-cert.pem", argv[1]);
        r = wamp1_tls_init_files(&tls, &inner, &outer, path, "/nonexistent/key.pem");
        check(r < 0 && strcmp(tls.error_where, "key file") == 0, "a missing key file is refused");
        wamp1_tls_free(&tls);
    }

    wamp1_tls_strerror(MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO, msg, sizeof msg);
    check(strncmp(msg, "-0x7900", 7) == 0, "strerror: the code in hex");
    wamp1_tls_strerror(MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO, msg, 5);
    check(strcmp(msg, "-0x7") == 0, "strerror: cut to the buffer");

    free(cert);
    free(key);
    free(rsa);
    free(cder);
    free(kder);
    plain_port_free(&plain_if);
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
