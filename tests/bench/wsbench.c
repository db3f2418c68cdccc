/* wsbench: the benchmark client of wamp1.h (no WebSocket load tool is packaged).

   wsbench echo   HOST PORT CONNS SIZE SECONDS   round trips of SIZE-byte binary messages
   wsbench rpc    HOST PORT CONNS SECONDS        WAMP CALLs of rpc#add, one outstanding each
   wsbench fanout HOST PORT SUBS  SECONDS        one publisher, SUBS subscribers: events/s

   Every connection keeps one request in flight; latency is measured per round trip.
   Prints one line of results. Loopback only. */
#define _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 1024
#define BUF (4u << 20)

typedef struct client {
    int fd;
    uint8_t *in;
    size_t in_len;
    uint8_t *out;
    size_t out_len, out_off;
    int state; /* 0 handshake, 1 open */
    double sent_at;
    long done;
} client;

static client cl[MAXC];
static double lat[4000000];
static size_t nlat;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(const char *host, int port) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void queue(client *c, const void *p, size_t n) {
    if (c->out_len + n > BUF) { fprintf(stderr, "wsbench: output overflow\n"); exit(1); }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

static void queue_frame(client *c, int op, const void *p, size_t n) {
    uint8_t h[14];
    size_t k = 0, i;
    uint8_t *d;
    h[k++] = (uint8_t)(0x80 | op);
    if (n < 126) h[k++] = (uint8_t)(0x80 | n);
    else if (n < 65536) { h[k++] = 0x80 | 126; h[k++] = (uint8_t)(n >> 8); h[k++] = (uint8_t)n; }
    else { h[k++] = 0x80 | 127; for (i = 0; i < 8; i++) h[k++] = (uint8_t)((uint64_t)n >> (56 - 8 * i)); }
    memcpy(h + k, "\x11\x22\x33\x44", 4);
    k += 4;
    queue(c, h, k);
    d = c->out + c->out_len;
    queue(c, p, n);
    for (i = 0; i < n; i++) d[i] ^= (uint8_t)(0x11 * ((i & 3) + 1));
}

static void handshake(client *c, const char *proto) {
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                     proto ? "Sec-WebSocket-Protocol: " : "", proto ? proto : "", proto ? "\r\n" : "");
    queue(c, req, (size_t)n);
}

static int flush(client *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

/* Next complete frame in c->in: payload pointer and length, 1 if one; removes it via *used. */
static int next_frame(client *c, const uint8_t **pl, size_t *len, size_t *used, int *op) {
    size_t h = 2, i;
    uint64_t n;
    if (c->in_len < 2) return 0;
    *op = c->in[0] & 15;
    n = c->in[1] & 127;
    if (n == 126) { if (c->in_len < 4) return 0; n = (uint64_t)c->in[2] << 8 | c->in[3]; h = 4; }
    else if (n == 127) { if (c->in_len < 10) return 0; n = 0; for (i = 0; i < 8; i++) n = n << 8 | c->in[2 + i]; h = 10; }
    if (c->in_len < h + n) return 0;
    *pl = c->in + h;
    *len = (size_t)n;
    *used = h + (size_t)n;
    return 1;
}

static void consume(client *c, size_t n) {
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

static int measuring;
static double start, end, secs;

/* Results count only inside the measuring window, after every connection is open. */
static int in_window(double t) { return measuring && t >= start && t < start + secs; }

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const char *mode, *host;
    int port, conns, i, size = 0;
    long total = 0, bytes = 0;
    static uint8_t payload[BUF];
    static char callbuf[256];
    int subs_ready = 0;
    if (argc < 6) {
        fprintf(stderr, "usage: wsbench echo HOST PORT CONNS SIZE SECONDS | rpc HOST PORT CONNS SECONDS | fanout HOST PORT SUBS SECONDS\n");
        return 2;
    }
    mode = argv[1];
    host = argv[2];
    port = atoi(argv[3]);
    conns = atoi(argv[4]);
    if (strcmp(mode, "echo") == 0) { size = atoi(argv[5]); secs = atof(argv[6]); }
    else secs = atof(argv[5]);
    if (strcmp(mode, "fanout") == 0) conns += 1; /* the last one publishes */
    if (conns < 1 || conns > MAXC || size < 0 || size > (int)(BUF / 2)) return 2;
    memset(payload, 'x', sizeof payload);
    for (i = 0; i < conns; i++) {
        cl[i].fd = dial(host, port);
        cl[i].in = malloc(BUF);
        cl[i].out = malloc(BUF);
        handshake(&cl[i], strcmp(mode, "echo") == 0 ? NULL : "wamp");
    }
    start = now_s();
    end = start + secs + 30; /* the handshakes must finish first */
    for (;;) {
        struct pollfd pf[MAXC];
        double t = now_s();
        if (t > end) break;
        for (i = 0; i < conns; i++) {
            pf[i].fd = cl[i].fd;
            pf[i].events = POLLIN | (cl[i].out_len ? POLLOUT : 0);
        }
        if (poll(pf, (nfds_t)conns, 100) < 0) continue;
        for (i = 0; i < conns; i++) {
            client *c = &cl[i];
            if (pf[i].revents & POLLOUT && flush(c) < 0) { fprintf(stderr, "wsbench: send failed\n"); return 1; }
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            for (;;) {
                ssize_t n = recv(c->fd, c->in + c->in_len, BUF - c->in_len, 0);
                if (n == 0 || (n < 0 && errno != EAGAIN)) { fprintf(stderr, "wsbench: connection %d closed\n", i); return 1; }
                if (n < 0) break;
                c->in_len += (size_t)n;
            }
            if (c->state == 0) {
                uint8_t *e = memmem(c->in, c->in_len, "\r\n\r\n", 4);
                if (!e) continue;
                if (memcmp(c->in, "HTTP/1.1 101", 12) != 0) { fprintf(stderr, "wsbench: handshake refused\n"); return 1; }
                consume(c, (size_t)(e + 4 - c->in));
                c->state = 1;
                if (strcmp(mode, "echo") == 0) {
                    queue_frame(c, 2, payload, (size_t)size);
                    c->sent_at = now_s();
                }
            }
            for (;;) {
                const uint8_t *pl;
                size_t len, used;
                int op;
                if (!next_frame(c, &pl, &len, &used, &op)) break;
                t = now_s();
                if (strcmp(mode, "echo") == 0) {
                    if (in_window(t)) {
                        if (nlat < sizeof lat / sizeof lat[0]) lat[nlat++] = t - c->sent_at;
                        total++;
                        bytes += (long)len;
                    }
                    consume(c, used);
                    queue_frame(c, 2, payload, (size_t)size);
                    c->sent_at = now_s();
                } else if (strcmp(mode, "rpc") == 0) {
                    int is_welcome = len > 2 && pl[1] == '0';
                    consume(c, used);
                    if (!is_welcome) {
                        if (in_window(t)) {
                            if (nlat < sizeof lat / sizeof lat[0]) lat[nlat++] = t - c->sent_at;
                            total++;
                        }
                    }
                    {
                        int k = snprintf(callbuf, sizeof callbuf, "[2,\"c%ld\",\"http://wamp1.dev/rpc#add\",%d,%ld]", c->done, i, c->done);
                        c->done++;
                        queue_frame(c, 1, callbuf, (size_t)k);
                        c->sent_at = now_s();
                    }
                } else { /* fanout */
                    int is_welcome = len > 2 && pl[1] == '0';
                    consume(c, used);
                    if (is_welcome) {
                        if (i < conns - 1) {
                            static const char sub[] = "[5,\"http://wamp1.dev/topic/bench\"]";
                            queue_frame(c, 1, sub, sizeof sub - 1);
                            subs_ready++;
                        }
                    } else if (i < conns - 1 && in_window(t)) total++;
                }
            }
            if (c->out_len) flush(c);
        }
        if (strcmp(mode, "fanout") == 0 && subs_ready == conns - 1 && cl[conns - 1].state == 1) {
            client *p = &cl[conns - 1];
            /* keep the publisher's queue short so that the server is the bottleneck */
            if (p->out_len < 4096) {
                static const char pub[] = "[7,\"http://wamp1.dev/topic/bench\",{\"seq\":1,\"data\":\"0123456789abcdef\"}]";
                int k;
                for (k = 0; k < 16; k++) queue_frame(p, 1, pub, sizeof pub - 1);
                flush(p);
            }
        }
        if (measuring && t >= start + secs) break;
        /* the measurement starts once every connection is open */
        {
            int k, open = 0;
            for (k = 0; k < conns; k++) open += cl[k].state == 1;
            if (!measuring && open == conns && (strcmp(mode, "fanout") != 0 || subs_ready == conns - 1)) {
                measuring = 1;
                start = now_s() + 0.5; /* half a second of warm-up */
                end = start + secs + 5;
            }
        }
    }
    {
        double el = secs, p50 = 0, p99 = 0;
        if (nlat) {
            qsort(lat, nlat, sizeof lat[0], cmp);
            p50 = lat[nlat / 2] * 1e6;
            p99 = lat[(size_t)((double)nlat * 0.99)] * 1e6;
        }
        if (strcmp(mode, "echo") == 0)
            printf("echo conns=%d size=%d: %.0f msg/s, %.1f MiB/s, p50 %.0f us, p99 %.0f us\n", conns, size,
                   (double)total / el, (double)bytes / el / 1048576.0, p50, p99);
        else if (strcmp(mode, "rpc") == 0)
            printf("rpc conns=%d: %.0f calls/s, p50 %.0f us, p99 %.0f us\n", conns, (double)total / el, p50, p99);
        else
            printf("fanout subscribers=%d: %.0f events/s delivered\n", conns - 1, (double)total / el);
    }
    return 0;
}
