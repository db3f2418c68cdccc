/* tls_echo: the WebSocket echo server over TLS (the POSIX port wrapped by port/wamp1_mbedtls.h).

   tls_echo --cert FILE --key FILE [--host ADDR] [--port N] [--max-message BYTES]
            [--max-connections N] [--handshake-timeout MS] [--handshake-steps N]
            [--recv-buffer BYTES] [--load files|buffers] [--chaos SEED]

   Prints "listening on HOST:PORT" once it accepts connections; echoes every text message as
   text and every binary message as binary. --load buffers reads the files itself and hands
   them to wamp1_tls_init() without their terminating NUL (the default, files, uses
   wamp1_tls_init_files()). --chaos puts a port between the POSIX port and TLS that cuts
   every recv and send to a random small size and often answers WAMP1_IO_WOULDBLOCK without
   touching the socket, so that every WANT_READ/WANT_WRITE path of the transport runs.
   SIGINT/SIGTERM (on Windows Ctrl+C, Ctrl+Break, closing the console): close frames with
   1001, then exit 0. Set WAMP1_TLS_VERBOSE=1 in the environment to log failed connections
   to stderr.

   The same file builds for Windows (mingw-w64: _WIN32), where the Windows port
   (port/wamp1_win32.h) is the one wrapped; tests/tls/run_windows.sh builds it that way. */
#ifdef _WIN32
#include "../../port/wamp1_win32.h" /* Winsock and WAMP1_SOCKET before wamp1.h */
#else
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#define WAMP1_MAX_CONNECTIONS 64
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_NO_WAMP
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"
#ifdef _WIN32
#include "../../port/wamp1_win32.h"
#else
#include "../../port/wamp1_posix.h"
#endif
#include "../../port/wamp1_mbedtls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef _WIN32
#if !WAMP1_WIN32_FITS
#error "raise FD_SETSIZE or lower WAMP1_MAX_CONNECTIONS"
#endif
typedef wamp1_win32 plain_port;
#define plain_port_init wamp1_win32_init
#define plain_port_free wamp1_win32_free
#else
#include <signal.h>
#include <sys/mman.h>
typedef wamp1_posix plain_port;
#define plain_port_init wamp1_posix_init
#define plain_port_free wamp1_posix_free
#endif

static wamp1_server server;
static wamp1_tls tls;
static int verbose;

/* ---- the chaos port: short reads and writes, spurious WOULDBLOCK ---- */
static wamp1_port chaos_inner;
static uint64_t chaos_state;

static unsigned chaos_roll(void) {
    chaos_state ^= chaos_state >> 12;
    chaos_state ^= chaos_state << 25;
    chaos_state ^= chaos_state >> 27;
    return (unsigned)((chaos_state * 2685821657736338717u) >> 33);
}

static size_t chaos_size(size_t n) {
    unsigned r = chaos_roll();
    size_t cut = (r & 3u) == 0 ? 1u + (r >> 2) % 8u : 1u + (r >> 2) % 3000u;
    return n < cut ? n : cut;
}

static long chaos_recv(void *ctx, wamp1_socket s, void *buf, size_t n) {
    (void)ctx;
    if (chaos_roll() % 4u == 0) return WAMP1_IO_WOULDBLOCK;
    return chaos_inner.recv(chaos_inner.ctx, s, buf, chaos_size(n));
}

static long chaos_send(void *ctx, wamp1_socket s, const void *buf, size_t n) {
    (void)ctx;
    if (chaos_roll() % 4u == 0) return WAMP1_IO_WOULDBLOCK;
    return chaos_inner.send(chaos_inner.ctx, s, buf, chaos_size(n));
}

static void on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user) {
    (void)user;
    (void)wamp1_conn_send(c, op, data, len);
}

static void on_error(wamp1_conn *c, wamp1_error err, const char *reason, void *user) {
    (void)c;
    (void)user;
    if (verbose) fprintf(stderr, "tls_echo: error %d: %s\n", (int)err, reason);
}

static void on_tls_error(void *user, wamp1_socket s, int err, const char *where) {
    char msg[160];
    (void)user;
    if (!verbose) return;
    wamp1_tls_strerror(err, msg, sizeof msg);
    fprintf(stderr, "tls_echo: TLS %s failed on socket %lu: %s\n", where, (unsigned long)s, msg);
}

#ifdef _WIN32
static HANDLE stopped; /* set once the server has shut down */

/* Runs on a thread of its own. For a closed console, logoff or shutdown the process ends when
   the handler returns, so it waits for the shutdown to finish first. */
static BOOL WINAPI on_console(DWORD type) {
    wamp1_server_stop(&server);
    if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT)
        (void)WaitForSingleObject(stopped, 4000);
    return TRUE;
}
#else
static void on_signal(int sig) {
    (void)sig;
    wamp1_server_stop(&server);
}
#endif

static int usage(const char *msg, const char *arg) {
    fprintf(stderr, "tls_echo: %s%s%s (usage: tls_echo --cert FILE --key FILE [--host ADDR] "
                    "[--port N] [--max-message BYTES] [--max-connections N] "
                    "[--handshake-timeout MS] [--handshake-steps N] [--recv-buffer BYTES] "
                    "[--load files|buffers])\n",
            msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

#include "../../examples/options_util.h"

/* The whole file in a malloc'ed buffer, without a terminating NUL. */
static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f) return NULL;
    for (;;) {
        size_t got;
        if (n == cap) {
            unsigned char *nb;
            cap = cap ? cap * 2 : 4096;
            nb = (unsigned char *)realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return NULL; }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    static plain_port plain_if;
    wamp1_port plain, chaos, secure, *below;
    wamp1_config cfg;
    const char *host = "127.0.0.1", *cert = NULL, *key = NULL, *load = "files";
    unsigned long port_no = 9443, max_message = 2097152, max_conns = 64, hs_timeout = 0,
                  hs_steps = WAMP1_TLS_HANDSHAKE_STEPS, recv_buffer = 0, chaos_seed = 0;
    size_t mem_size;
    void *mem;
    int i, r;
#ifndef _WIN32
    struct sigaction sa;
#endif

    verbose = getenv("WAMP1_TLS_VERBOSE") != NULL;
    for (i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return usage("missing value or unknown option", a);
        if (strcmp(a, "--host") == 0) host = v;
        else if (strcmp(a, "--cert") == 0) cert = v;
        else if (strcmp(a, "--key") == 0) key = v;
        else if (strcmp(a, "--load") == 0) {
            if (strcmp(v, "files") != 0 && strcmp(v, "buffers") != 0) return usage("bad --load", v);
            load = v;
        } else if (strcmp(a, "--port") == 0) {
            if (options_parse_uint(v, 65535, &port_no) != 0) return usage("bad --port", v);
        } else if (strcmp(a, "--max-message") == 0) {
            if (options_parse_uint(v, 1ul << 26, &max_message) != 0 || max_message == 0)
                return usage("bad --max-message", v);
        } else if (strcmp(a, "--max-connections") == 0) {
            if (options_parse_uint(v, WAMP1_MAX_CONNECTIONS, &max_conns) != 0 || max_conns == 0)
                return usage("bad --max-connections", v);
        } else if (strcmp(a, "--handshake-timeout") == 0) {
            if (options_parse_uint(v, 600000, &hs_timeout) != 0) return usage("bad --handshake-timeout", v);
        } else if (strcmp(a, "--handshake-steps") == 0) {
            if (options_parse_uint(v, 1000, &hs_steps) != 0 || hs_steps == 0)
                return usage("bad --handshake-steps", v);
        } else if (strcmp(a, "--chaos") == 0) {
            if (options_parse_uint(v, 0xFFFFFFFFul, &chaos_seed) != 0 || chaos_seed == 0)
                return usage("bad --chaos", v);
        } else if (strcmp(a, "--recv-buffer") == 0) {
            if (options_parse_uint(v, 1ul << 27, &recv_buffer) != 0 || recv_buffer < 512)
                return usage("bad --recv-buffer", v);
        } else return usage("unknown option", a);
    }
    if (!cert || !key) return usage("--cert and --key are required", NULL);

    if (plain_port_init(&plain_if, &plain) != 0) return usage("cannot create the wake-up pipe", NULL);
    below = &plain;
    if (chaos_seed) {
        chaos_inner = plain;
        chaos = plain;
        chaos.recv = chaos_recv;
        chaos.send = chaos_send;
        chaos_state = (uint64_t)chaos_seed * 0x9E3779B97F4A7C15u;
        below = &chaos;
    }
    if (strcmp(load, "files") == 0) {
        r = wamp1_tls_init_files(&tls, below, &secure, cert, key);
    } else {
        size_t cl = 0, kl = 0;
        unsigned char *cb = read_file(cert, &cl), *kb = read_file(key, &kl);
        if (!cb || !kb) {
            free(cb);
            free(kb);
            return usage("cannot read the certificate or the key", NULL);
        }
        r = wamp1_tls_init(&tls, below, &secure, cb, cl, kb, kl);
        free(cb);
        free(kb);
    }
    if (r != 0) {
        char msg[160];
        wamp1_tls_strerror(tls.last_error, msg, sizeof msg);
        fprintf(stderr, "tls_echo: TLS set-up failed (%s): %s\n", tls.error_where, msg);
        wamp1_tls_free(&tls);
        return 2;
    }
    tls.handshake_steps = (int)hs_steps;
    tls.on_error = on_tls_error;

    memset(&cfg, 0, sizeof cfg);
    cfg.port = &secure;
    cfg.host = host;
    cfg.listen_port = (uint16_t)port_no;
    cfg.max_connections = (uint32_t)max_conns;
    cfg.recv_buffer_size = (uint32_t)(max_message + 256 + WAMP1_MAX_HEADER_SIZE);
    if (recv_buffer) { /* a small receive room: TLS records arrive in several reads */
        cfg.recv_buffer_size = (uint32_t)recv_buffer;
        cfg.max_header_size = (uint32_t)recv_buffer / 2;
        if (max_message > recv_buffer / 2) max_message = recv_buffer / 2;
    }
    cfg.send_buffer_size = (uint32_t)(max_message + 256 < 8192 ? 8192 : max_message + 256);
    cfg.max_message_size = (uint32_t)max_message;
    cfg.handshake_timeout_ms = (uint32_t)hs_timeout;
    cfg.cb.on_message = on_message;
    cfg.cb.on_error = on_error;
    mem_size = wamp1_server_memory_size(&cfg);
#ifdef _WIN32
    /* committed, not touched: Windows backs a page with memory only once it is used */
    mem = VirtualAlloc(NULL, mem_size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!mem) return usage("cannot reserve buffer memory", NULL);
#else
    mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS
#ifdef MAP_NORESERVE
               | MAP_NORESERVE
#endif
               , -1, 0);
    if (mem == MAP_FAILED) return usage("cannot reserve buffer memory", NULL);
#endif
    cfg.memory = mem;
    cfg.memory_size = mem_size;
    if (wamp1_server_init(&server, &cfg) != 0) return usage("bad configuration", NULL);
    if (wamp1_server_listen(&server) != 0) {
        fprintf(stderr, "tls_echo: cannot listen on %s:%lu\n", host, port_no);
        return 2;
    }

#ifdef _WIN32
    stopped = CreateEventA(NULL, TRUE, FALSE, NULL);
    (void)SetConsoleCtrlHandler(on_console, TRUE);
#else
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
#endif

    printf("listening on %s:%u\n", host, (unsigned)wamp1_server_port(&server));
    fflush(stdout);

    wamp1_server_run(&server);
    wamp1_server_shutdown(&server, 1500);
    fprintf(stderr,
            "tls_echo: accepted %llu, refused %llu, handshakes %llu, handshake errors %llu, "
            "errors %llu, active %u, peak %u\n",
            (unsigned long long)tls.stats.accepted, (unsigned long long)tls.stats.refused,
            (unsigned long long)tls.stats.handshakes,
            (unsigned long long)tls.stats.handshake_errors, (unsigned long long)tls.stats.errors,
            (unsigned)tls.stats.active, (unsigned)tls.stats.active_peak);
    wamp1_tls_free(&tls);
    plain_port_free(&plain_if);
#ifdef _WIN32
    (void)VirtualFree(mem, 0, MEM_RELEASE);
    if (stopped) (void)SetEvent(stopped);
#else
    munmap(mem, mem_size);
#endif
    return 0;
}
