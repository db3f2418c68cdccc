/* wsbench: the load client of make bench (no WebSocket load tool is packaged). C, Linux,
   epoll, no dependency beyond libc.

   wsbench MODE -P PORT [options]
     echo    CONNS connections, each keeping DEPTH binary messages of SIZE bytes in flight;
             latency of every round trip (answers come back in order)
     rpc     CONNS WAMP sessions, each keeping DEPTH CALLs of PROC (default
             http://wamp1.dev/rpc#echo) with one SIZE-byte string argument in flight;
             latency of every call, matched by callID
     fanout  CONNS subscribers of http://wamp1.dev/topic/bench and one publisher that keeps
             DEPTH events in flight (an event is in flight until every subscriber has it); the
             event is a SIZE-byte string carrying its sequence number and send time; rate is
             events delivered per second (all subscribers), latency publish-to-delivery
     idle    open CONNS sessions (WAMP: handshake and WELCOME; -W: plain WebSocket) and report
             the server's RSS before and after; -H then holds them open until SIGTERM/SIGINT,
             after printing a line "ready N" (how make bench keeps idle sessions beside a
             measuring client)

   options
     -h HOST      server address (default 127.0.0.1)     -P PORT   server port
     -c CONNS     connections (default 1)                 -d DEPTH  in flight per connection (1)
     -s SIZE      message / argument / event size (64)    -t SECS   measuring window (3)
     -w SECS      warm-up before the window (0.5)         -r PROC   procedure URI for rpc
     -p PID       server process: its CPU time (utime+stime over the window, /proc/PID/stat)
                  and RSS (VmRSS of /proc/PID/status at the end) go into the record
     -S NAME      scenario name for the record (default: MODE)
     -n NAME      server name for the record (default: "server")
     -k N         sessions open elsewhere (a holding wsbench): added to conns in the record
     -W           plain WebSocket handshake (idle mode; echo always is)
     -Q P1,P2,..  fanout: subscribers spread over these ports (servers joined through a
                  broker, e.g. demos with --redis), the publisher on -P
     -H           hold (idle mode)

   Output: one record per line, tab-separated, "null" where not applicable:
     RESULT scenario server conns depth size rate_per_s p50_us p99_us p999_us server_cpu_s server_rss_kb
   idle prints two records: conns 0 (the server's RSS before) and conns N (after; rate is
   sessions opened per second, CPU time the server's over the opening).
   Errors go to stderr and end the program with status 1.

   Connections are opened with at most 256 handshakes outstanding. When the system runs out of
   local ports for 127.0.0.1 (EADDRNOTAVAIL), further connections bind the source addresses
   127.0.0.2, 127.0.0.3, ... (loopback only). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_OPENING 256
#define MAX_MSG (16u << 20)
#define TOPIC "http://wamp1.dev/topic/bench"
#define FAN_RING 65536u

enum { M_ECHO, M_RPC, M_FANOUT, M_IDLE };
enum { S_CONNECTING, S_HANDSHAKE, S_WELCOME, S_OPEN };

typedef struct conn {
    int fd, state, id;
    int publisher;
    uint8_t *in, *out;
    size_t in_len, in_cap, out_len, out_off, out_cap;
    uint64_t *sent;        /* echo: FIFO of send times; rpc: send time by seq % depth */
    unsigned head, inflight;
    uint64_t seq;
    int got_event;         /* fanout subscriber: has seen an event */
} conn;

/* ---- settings and state ---------------------------------------------------------------- */

static int mode, plain_ws, hold;
static const char *host = "127.0.0.1", *proc = "http://wamp1.dev/rpc#echo";
static const char *scenario, *server_name = "server";
static int port, nconns = 1, depth = 1, size = 64, extra_conns;
static int sub_ports[16], nsub_ports; /* -Q */
static double secs = 3, warmup = 0.5;
static long server_pid;

static conn *cl;
static int total;          /* connections, the fanout publisher included */
static int ep;
static int dialed, opening, open_count, src_host = 1; /* 127.0.0.src_host when not default */
static struct in_addr dst_addr;
static uint8_t *payload;   /* SIZE bytes of 'x' */
static char *callmsg;      /* rpc: the CALL text with room for the callID */

static int measuring;      /* 0 before, 1 warm-up, 2 in the window, 3 done */
static uint64_t win_start, win_end;
static uint32_t *lat;      /* latencies in ns */
static size_t nlat, lat_cap;
static uint64_t completed; /* in the window */
static double cpu0, cpu1;
static long rss_end = -1;

/* fanout */
static uint64_t pub_seq, fan_done;     /* events published, events complete (prefix) */
static uint32_t *fan_count;            /* deliveries of seq % FAN_RING */
static int probing;                    /* probes until every subscriber has seen an event */
static int subs_seen;
static uint64_t last_progress;

static volatile sig_atomic_t stop_flag;

static void die(const char *fmt, const char *a) {
    fprintf(stderr, "wsbench: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    exit(1);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n);
    if (!p) die("%s", "out of memory");
    return p;
}

/* ---- the server's CPU time and RSS ------------------------------------------------------ */

static double proc_cpu(void) {
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;
    if (!server_pid) return -1;
    snprintf(path, sizeof path, "/proc/%ld/stat", server_pid);
    if (!(f = fopen(path, "r"))) return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long proc_rss(void) {
    char path[64], line[256];
    long kb = -1;
    FILE *f;
    if (!server_pid) return -1;
    snprintf(path, sizeof path, "/proc/%ld/status", server_pid);
    if (!(f = fopen(path, "r"))) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    fclose(f);
    return kb;
}

/* ---- buffers and frames ----------------------------------------------------------------- */

static void out_reserve(conn *c, size_t n) {
    if (c->out_off && c->out_off == c->out_len) c->out_off = c->out_len = 0;
    if (c->out_len + n <= c->out_cap) return;
    if (c->out_off) { /* compact first */
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
        if (c->out_len + n <= c->out_cap) return;
    }
    while (c->out_cap < c->out_len + n) c->out_cap = c->out_cap ? c->out_cap * 2 : 1024;
    c->out = xrealloc(c->out, c->out_cap);
}

static void queue_raw(conn *c, const void *p, size_t n) {
    out_reserve(c, n);
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

/* A masked frame (the mask is fixed: this is a load generator, not a conforming client). */
static void queue_frame(conn *c, int op, const void *p, size_t n) {
    static const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
    uint8_t *d;
    size_t k = 0, i;
    out_reserve(c, n + 14);
    d = c->out + c->out_len;
    d[k++] = (uint8_t)(0x80 | op);
    if (n < 126) d[k++] = (uint8_t)(0x80 | n);
    else if (n < 65536) { d[k++] = 0x80 | 126; d[k++] = (uint8_t)(n >> 8); d[k++] = (uint8_t)n; }
    else {
        d[k++] = 0x80 | 127;
        for (i = 0; i < 8; i++) d[k++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    }
    memcpy(d + k, mask, 4);
    k += 4;
    for (i = 0; i < n; i++) d[k + i] = (uint8_t)(((const uint8_t *)p)[i] ^ mask[i & 3]);
    c->out_len += k + n;
}

static void queue_handshake(conn *c) {
    char req[384];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                     port, plain_ws ? "" : "Sec-WebSocket-Protocol: wamp\r\n");
    queue_raw(c, req, (size_t)n);
}

static void flush(conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            fprintf(stderr, "wsbench: connection %d: send: %s\n", c->id, strerror(errno));
            exit(1);
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
}

/* ---- latency samples --------------------------------------------------------------------- */

static void sample(uint64_t sent, uint64_t t) {
    uint64_t d = t - sent;
    if (nlat == lat_cap) {
        lat_cap = lat_cap ? lat_cap * 2 : 1u << 20;
        lat = xrealloc(lat, lat_cap * sizeof lat[0]);
    }
    lat[nlat++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static int in_window(uint64_t t) { return measuring == 2 && t >= win_start && t < win_end; }

/* ---- requests ----------------------------------------------------------------------------- */

static void send_echo(conn *c) {
    c->sent[(c->head + c->inflight) % (unsigned)depth] = now_ns();
    c->inflight++;
    queue_frame(c, 2, payload, (size_t)size);
}

/* callmsg is  [2,"<id>","PROC","xxx..."]  with the id written as 16 hex digits in place */
static size_t call_id_at;
static void send_call(conn *c) {
    static const char hex[] = "0123456789abcdef";
    size_t len = strlen(callmsg), i;
    uint64_t s = c->seq++;
    for (i = 0; i < 16; i++) callmsg[call_id_at + i] = hex[(s >> (60 - 4 * i)) & 15];
    c->sent[s % (uint64_t)depth] = now_ns();
    c->inflight++;
    queue_frame(c, 1, callmsg, len);
}

static void publish(conn *p, int probe) {
    /* [7,"TOPIC","<seq>:<t>:xxx..."]: the event string is SIZE bytes (at least 42) */
    char head[64];
    char *msg;
    int hl = snprintf(head, sizeof head, "%020llu:%020llu:", (unsigned long long)(probe ? UINT64_MAX : pub_seq),
                      (unsigned long long)now_ns());
    size_t es = (size_t)size > (size_t)hl ? (size_t)size : (size_t)hl, n = 0;
    msg = xrealloc(NULL, es + sizeof TOPIC + 16);
    n += (size_t)sprintf(msg, "[7,\"" TOPIC "\",\"");
    memcpy(msg + n, head, (size_t)hl);
    memset(msg + n + (size_t)hl, 'x', es - (size_t)hl);
    n += es;
    msg[n++] = '"';
    msg[n++] = ']';
    queue_frame(p, 1, msg, n);
    free(msg);
    if (!probe) {
        fan_count[pub_seq % FAN_RING] = 0;
        pub_seq++;
    }
}

static void fanout_pump(uint64_t t) {
    conn *p = &cl[total - 1];
    if (p->state != S_OPEN) return;
    if (probing) {
        static uint64_t last;
        if (t - last > 20000000u) { /* every 20 ms until every subscriber has seen one */
            publish(p, 1);
            last = t;
            flush(p);
        }
        return;
    }
    if (!measuring) return;
    while (pub_seq - fan_done < (uint64_t)depth) publish(p, 0);
    flush(p);
}

/* ---- frames received ---------------------------------------------------------------------- */

static uint64_t parse_dec(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) v = v * 10 + (uint64_t)(p[i] - '0');
    return v;
}

static uint64_t parse_hex16(const uint8_t *p) {
    uint64_t v = 0;
    int i;
    for (i = 0; i < 16; i++) v = v << 4 | (uint64_t)(p[i] <= '9' ? p[i] - '0' : p[i] - 'a' + 10);
    return v;
}

static void on_ready(conn *c) {
    c->state = S_OPEN;
    open_count++;
    opening--;
    if (mode == M_FANOUT && !c->publisher) queue_frame(c, 1, "[5,\"" TOPIC "\"]", sizeof TOPIC + 5);
}

static void on_message(conn *c, int op, const uint8_t *pl, size_t len, uint64_t t) {
    if (op == 8) die("%s", "the server closed a connection (close frame)");
    if (op == 9) { queue_frame(c, 10, pl, len); return; } /* ping: pong */
    if (op == 10) return;
    if (c->state == S_WELCOME) {
        if (len < 3 || pl[0] != '[' || pl[1] != '0') die("%s", "the first WAMP message is not WELCOME");
        on_ready(c);
        return;
    }
    if (mode == M_ECHO) {
        if (!c->inflight) die("%s", "echo: an answer that was not asked for");
        if (len != (size_t)size) die("%s", "echo: an answer of the wrong size");
        if (in_window(t)) { sample(c->sent[c->head], t); completed++; }
        c->head = (c->head + 1) % (unsigned)depth;
        c->inflight--;
        if (measuring && measuring < 3) send_echo(c);
    } else if (mode == M_RPC) {
        /* [3,"<16 hex>",...] */
        if (len < 22 || memcmp(pl, "[3,\"", 4) != 0) {
            fprintf(stderr, "wsbench: rpc: unexpected answer %.*s\n", (int)(len > 200 ? 200 : len), (const char *)pl);
            exit(1);
        }
        {
            uint64_t s = parse_hex16(pl + 4);
            if (in_window(t)) { sample(c->sent[s % (uint64_t)depth], t); completed++; }
            c->inflight--;
            if (measuring && measuring < 3) send_call(c);
        }
    } else if (mode == M_FANOUT) {
        /* [8,"TOPIC","<seq 20>:<t 20>:..."] */
        size_t at = 4 + sizeof TOPIC - 1 + 3;
        uint64_t s, sent;
        if (c->publisher) return;
        if (len < at + 42 || memcmp(pl, "[8,\"", 4) != 0) die("%s", "fanout: unexpected message");
        s = parse_dec(pl + at, 20);
        sent = parse_dec(pl + at + 21, 20);
        if (!c->got_event) { c->got_event = 1; subs_seen++; }
        if (s == UINT64_MAX) return; /* a probe */
        if (in_window(t)) { sample(sent, t); completed++; }
        if (++fan_count[s % FAN_RING] == (uint32_t)nconns) {
            /* every subscriber gets the events in order, so the complete ones are a prefix */
            while (fan_done < pub_seq && fan_count[fan_done % FAN_RING] == (uint32_t)nconns) fan_done++;
            last_progress = t;
        }
    }
}

static void on_readable(conn *c, int hangup) {
    size_t used = 0;
    for (;;) {
        ssize_t n;
        if (c->in_cap - c->in_len < 4096) {
            c->in_cap = c->in_cap ? c->in_cap * 2 : 8192;
            c->in = xrealloc(c->in, c->in_cap);
        }
        n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            /* a short read drained the socket: data arriving later raises a new edge */
            int drained = (size_t)n < c->in_cap - c->in_len;
            c->in_len += (size_t)n;
            if (drained && !hangup) break;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        fprintf(stderr, "wsbench: connection %d closed by the server (%s)\n", c->id, n ? strerror(errno) : "EOF");
        exit(1);
    }
    if (c->state == S_HANDSHAKE) {
        uint8_t *e = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!e) return;
        if (c->in_len < 12 || memcmp(c->in, "HTTP/1.1 101", 12) != 0) {
            uint8_t *eol = memchr(c->in, '\r', c->in_len);
            fprintf(stderr, "wsbench: connection %d: handshake refused: %.*s\n", c->id,
                    (int)(eol ? eol - c->in : 40), (const char *)c->in);
            exit(1);
        }
        used = (size_t)(e + 4 - c->in);
        if (plain_ws) on_ready(c);
        else c->state = S_WELCOME;
    }
    {
        uint64_t t = now_ns();
        while (c->in_len - used >= 2) {
            const uint8_t *f = c->in + used;
            size_t avail = c->in_len - used, h = 2, i;
            uint64_t n = f[1] & 127;
            if (f[1] & 0x80) die("%s", "a masked frame from the server");
            if (!(f[0] & 0x80)) die("%s", "a fragmented message (not expected from the servers tested)");
            if (n == 126) { if (avail < 4) break; n = (uint64_t)f[2] << 8 | f[3]; h = 4; }
            else if (n == 127) {
                if (avail < 10) break;
                for (n = 0, i = 0; i < 8; i++) n = n << 8 | f[2 + i];
                h = 10;
            }
            if (n > MAX_MSG) die("%s", "a message larger than 16 MiB");
            if (avail < h + n) break;
            on_message(c, f[0] & 15, f + h, (size_t)n, t);
            used += h + (size_t)n;
        }
    }
    if (used) {
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
    }
    if (c->in_len == 0 && c->in_cap > 65536) { /* give memory back after a burst */
        free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
    flush(c);
}

/* ---- connections --------------------------------------------------------------------------- */

static void dial(conn *c) {
    struct sockaddr_in a;
    int one = 1;
    struct epoll_event ev;
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) die("socket: %s (raise ulimit -n)", strerror(errno));
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (src_host > 1) { /* another loopback source address */
            struct sockaddr_in s;
            memset(&s, 0, sizeof s);
            s.sin_family = AF_INET;
            s.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)src_host);
            setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            if (bind(fd, (struct sockaddr *)&s, sizeof s) != 0) die("bind: %s", strerror(errno));
        }
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)(nsub_ports && !c->publisher ? sub_ports[c->id % nsub_ports] : port));
        a.sin_addr = dst_addr;
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 || errno == EINPROGRESS) {
            c->fd = fd;
            break;
        }
        if (errno == EADDRNOTAVAIL && (ntohl(dst_addr.s_addr) >> 24) == 127 && src_host < 254) {
            close(fd);
            src_host++;
            fprintf(stderr, "wsbench: out of local ports, now also from 127.0.0.%d\n", src_host);
            continue;
        }
        die("connect: %s", strerror(errno));
    }
    c->state = S_CONNECTING;
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
    ev.data.u32 = (uint32_t)c->id;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
    dialed++;
    opening++;
}

static void on_event(conn *c, uint32_t events) {
    if (c->state == S_CONNECTING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            fprintf(stderr, "wsbench: connection %d: connect: %s\n", c->id, strerror(err));
            exit(1);
        }
        c->state = S_HANDSHAKE;
        queue_handshake(c);
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    else if (events & EPOLLOUT) flush(c);
}

/* ---- output ------------------------------------------------------------------------------- */

static double pct(double q) {
    size_t i;
    if (!nlat) return -1;
    i = (size_t)((double)nlat * q);
    if (i >= nlat) i = nlat - 1;
    return lat[i] / 1e3;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void put_num(double v, int decimals) {
    if (v < 0) printf("\tnull");
    else printf("\t%.*f", decimals, v);
}

static void record(int conns, int dep, int sz, double rate, int with_lat, double cpu, long rss) {
    printf("RESULT\t%s\t%s\t%d", scenario, server_name, conns);
    if (dep < 0) printf("\tnull"); else printf("\t%d", dep);
    if (sz < 0) printf("\tnull"); else printf("\t%d", sz);
    put_num(rate, 1);
    if (with_lat && nlat) {
        qsort(lat, nlat, sizeof lat[0], cmp_u32);
        put_num(pct(0.50), 1);
        put_num(pct(0.99), 1);
        put_num(pct(0.999), 1);
    } else printf("\tnull\tnull\tnull");
    put_num(cpu, 2);
    printf("\t");
    if (rss < 0) printf("null"); else printf("%ld", rss);
    printf("\n");
    fflush(stdout);
}

static void on_signal(int s) {
    (void)s;
    stop_flag = 1;
}

static void usage(void) {
    fprintf(stderr, "usage: wsbench echo|rpc|fanout|idle -P PORT [-h HOST] [-c CONNS] [-d DEPTH] [-s SIZE]\n"
                    "       [-t SECS] [-w WARMUP] [-r PROC] [-p SERVER_PID] [-S SCENARIO] [-n SERVER]\n"
                    "       [-k EXTRA_CONNS] [-W] [-H]   (see the comment at the top of wsbench.c)\n");
    exit(2);
}

int main(int argc, char **argv) {
    int o, i;
    long rss0 = -1;
    double cpu_open0 = -1;
    uint64_t t_open0, t_open1 = 0, stall_limit = 5000000000u;
    struct epoll_event evs[512];
    struct rlimit rl;

    if (argc < 2) usage();
    if (strcmp(argv[1], "echo") == 0) mode = M_ECHO;
    else if (strcmp(argv[1], "rpc") == 0) mode = M_RPC;
    else if (strcmp(argv[1], "fanout") == 0) mode = M_FANOUT;
    else if (strcmp(argv[1], "idle") == 0) mode = M_IDLE;
    else usage();
    scenario = argv[1];
    optind = 2;
    while ((o = getopt(argc, argv, "h:P:c:d:s:t:w:r:p:S:n:k:WHQ:")) != -1) {
        switch (o) {
        case 'h': host = optarg; break;
        case 'P': port = atoi(optarg); break;
        case 'Q': {
            char *q = optarg;
            while (*q && nsub_ports < 16) {
                sub_ports[nsub_ports++] = atoi(q);
                while (*q && *q != ',') q++;
                if (*q) q++;
            }
            break;
        }
        case 'c': nconns = atoi(optarg); break;
        case 'd': depth = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        case 't': secs = atof(optarg); break;
        case 'w': warmup = atof(optarg); break;
        case 'r': proc = optarg; break;
        case 'p': server_pid = atol(optarg); break;
        case 'S': scenario = optarg; break;
        case 'n': server_name = optarg; break;
        case 'k': extra_conns = atoi(optarg); break;
        case 'W': plain_ws = 1; break;
        case 'H': hold = 1; break;
        default: usage();
        }
    }
    if (mode == M_ECHO) plain_ws = 1;
    if (port <= 0 || port > 65535 || nconns < 1 || depth < 1 || depth > 4096 || size < 0 ||
        (size_t)size > MAX_MSG / 2 || secs <= 0 || warmup < 0)
        usage();
    if (inet_pton(AF_INET, host, &dst_addr) != 1) die("not an IPv4 address: %s", host);
    total = nconns + (mode == M_FANOUT);
    /* one descriptor per connection and a few more */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)total + 16) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)total + 16) {
            fprintf(stderr, "wsbench: %d connections need ulimit -n %d (the limit is %lu)\n", total, total + 16,
                    (unsigned long)rl.rlim_cur);
            return 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    payload = xrealloc(NULL, (size_t)size + 1);
    memset(payload, 'x', (size_t)size);
    if (mode == M_RPC) {
        size_t n = strlen(proc) + (size_t)size + 64;
        callmsg = xrealloc(NULL, n);
        snprintf(callmsg, n, "[2,\"0000000000000000\",\"%s\",\"%.*s\"]", proc, size, (const char *)payload);
        call_id_at = 4;
    }
    if (mode == M_FANOUT) fan_count = xrealloc(NULL, FAN_RING * sizeof fan_count[0]);
    cl = calloc((size_t)total, sizeof cl[0]);
    if (!cl) die("%s", "out of memory");
    for (i = 0; i < total; i++) {
        cl[i].id = i;
        cl[i].fd = -1;
        cl[i].publisher = mode == M_FANOUT && i == total - 1;
        if (mode == M_ECHO || mode == M_RPC) cl[i].sent = xrealloc(NULL, (size_t)depth * sizeof(uint64_t));
    }
    if ((ep = epoll_create1(0)) < 0) die("epoll_create1: %s", strerror(errno));

    if (mode == M_IDLE) { /* let a freshly started server settle before its RSS is taken */
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
    rss0 = proc_rss();
    cpu_open0 = proc_cpu();
    t_open0 = now_ns();

    /* open every connection, then warm up, then measure */
    for (;;) {
        uint64_t t;
        int n;
        while (dialed < total && opening < MAX_OPENING) dial(&cl[dialed]);
        n = epoll_wait(ep, evs, 512, 10);
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
        for (i = 0; i < n; i++) on_event(&cl[evs[i].data.u32], evs[i].events);
        t = now_ns();
        if (stop_flag) break;
        if (!measuring && open_count == total) {
            if (!t_open1) t_open1 = t;
            if (mode == M_IDLE) break;
            if (mode == M_FANOUT && subs_seen < nconns) {
                probing = 1;
                fanout_pump(t);
                if (t - t_open1 > 10000000000u) die("%s", "fanout: subscribers that never get an event");
                continue;
            }
            probing = 0;
            measuring = 1;
            win_start = t + (uint64_t)(warmup * 1e9);
            win_end = win_start + (uint64_t)(secs * 1e9);
            last_progress = t;
            for (i = 0; i < total; i++) {
                int k;
                if (mode == M_ECHO) for (k = 0; k < depth; k++) send_echo(&cl[i]);
                if (mode == M_RPC) for (k = 0; k < depth; k++) send_call(&cl[i]);
                flush(&cl[i]);
            }
        }
        if (!measuring && t - t_open0 > 120000000000u) die("%s", "connections not open after 120 s");
        if (mode == M_FANOUT) fanout_pump(t);
        if (measuring == 1 && t >= win_start) {
            measuring = 2;
            cpu0 = proc_cpu();
            win_start = t;
            win_end = t + (uint64_t)(secs * 1e9);
        }
        if (measuring == 2 && t >= win_end) {
            cpu1 = proc_cpu();
            rss_end = proc_rss();
            measuring = 3;
            break;
        }
        if (mode == M_FANOUT && measuring && t - last_progress > stall_limit)
            die("%s", "fanout: no event completed for 5 s (lost events?)");
    }
    if (stop_flag) return 1;

    if (mode == M_IDLE) {
        double el;
        long rss1;
        double cpu_open1;
        /* let the server settle (lazy allocation, a garbage collector), answering pings */
        uint64_t until = now_ns() + 1000000000u;
        while (now_ns() < until) {
            int n = epoll_wait(ep, evs, 512, 50);
            for (i = 0; i < n; i++) on_event(&cl[evs[i].data.u32], evs[i].events);
        }
        rss1 = proc_rss();
        cpu_open1 = proc_cpu();
        el = (double)(t_open1 - t_open0) / 1e9;
        record(0, -1, -1, -1, 0, -1, rss0);
        record(nconns, -1, -1, el > 0 ? nconns / el : -1, 0,
               cpu_open0 >= 0 && cpu_open1 >= 0 ? cpu_open1 - cpu_open0 : -1, rss1);
        if (hold) {
            printf("ready %d\n", nconns);
            fflush(stdout);
            while (!stop_flag) {
                int n = epoll_wait(ep, evs, 512, 100);
                for (i = 0; i < n; i++) on_event(&cl[evs[i].data.u32], evs[i].events);
            }
        }
        return 0;
    }
    {
        int rec_conns = nconns + extra_conns;
        double el = (double)(win_end - win_start) / 1e9;
        record(rec_conns, depth, size, (double)completed / el, 1, cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1, rss_end);
    }
    return 0;
}
