/* Cross-thread publishing for real: the POSIX port over loopback, a server thread running
   wamp1_app_run, sensor threads publishing with wamp1_app_publish_async and posting with
   wamp1_app_post, and a subscriber that must receive every event, each thread's in order. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#define WAMP1_MAX_CONNECTIONS 8
#define WAMP1_QUEUE_SLOTS 16
#define WAMP1_IMPLEMENTATION
#include "../wamp1.h"
#include "../port/wamp1_posix.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sys/socket.h>

#define THREADS 4
#define EVENTS 500

static wamp1_app app;
static volatile int posted_runs;

static void count_post(wamp1_app *a, void *arg) {
    (void)a;
    (void)arg;
    posted_runs++; /* runs in the loop's thread only */
}

static void *server_main(void *arg) {
    (void)arg;
    wamp1_app_run(&app);
    return NULL;
}

static void *sensor(void *arg) {
    int id = (int)(intptr_t)arg, i;
    char ev[64];
    for (i = 0; i < EVENTS; i++) {
        int n = snprintf(ev, sizeof ev, "[%d,%d]", id, i);
        /* a full queue says so: wait a moment and try again, nothing is lost */
        while (wamp1_app_publish_async(&app, "http://x/sensor", ev, (size_t)n) != 0) usleep(200);
        if (i % 100 == 0)
            while (wamp1_app_post(&app, count_post, NULL) != 0) usleep(200);
    }
    return NULL;
}

/* a minimal blocking WebSocket client */
static int dial(uint16_t port) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    return fd;
}

static uint8_t inbuf[1 << 20];
static size_t inlen;

/* next text frame's payload into out (NUL-terminated); 0 on a timeout or error */
static int next_text(int fd, char *out, size_t cap) {
    for (;;) {
        t_sframe f;
        if (inlen && t_parse_frame(inbuf, inlen, &f)) {
            size_t n = f.len < cap - 1 ? f.len : cap - 1;
            memcpy(out, f.payload, n);
            out[n] = 0;
            memmove(inbuf, inbuf + f.total, inlen - f.total);
            inlen -= f.total;
            if (f.op == 1) return 1;
            continue;
        }
        {
            ssize_t r = recv(fd, inbuf + inlen, sizeof inbuf - inlen, 0);
            if (r <= 0) return 0;
            inlen += (size_t)r;
        }
    }
}

static char *find_end(void) {
    size_t i;
    for (i = 0; i + 4 <= inlen; i++)
        if (memcmp(inbuf + i, "\r\n\r\n", 4) == 0) return (char *)inbuf + i;
    return NULL;
}

int main(void) {
    static wamp1_posix posix;
    static const wamp1_handler broker = {0, 0, 0, 0, 0};
    wamp1_port port;
    wamp1_app_config cfg;
    pthread_t srv, th[THREADS];
    int fd, i, next[THREADS] = {0}, order_ok = 1, got = 0;
    char buf[4096];
    struct timeval tv = {5, 0};
    static uint8_t fr[256];
    size_t k;

    if (wamp1_posix_init(&posix, &port) != 0) return 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.host = "127.0.0.1";
    cfg.server.recv_buffer_size = 8192;
    cfg.server.send_buffer_size = 64 * 1024;
    {
        static uint8_t mem[WAMP1_MAX_CONNECTIONS * (8192 + 64 * 1024)];
        cfg.server.memory = mem;
        cfg.server.memory_size = sizeof mem;
    }
    if (wamp1_app_init(&app, &cfg) != 0 || wamp1_app_add_topic(&app, "http://x/sensor", &broker) != 0 ||
        wamp1_app_listen(&app) != 0) {
        printf("FAIL server setup\n");
        return 1;
    }
    pthread_create(&srv, NULL, server_main, NULL);

    fd = dial(wamp1_server_port(wamp1_app_server(&app)));
    CHECK(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    {
        static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Protocol: wamp\r\n\r\n";
        char *e;
        send(fd, req, sizeof req - 1, 0);
        while (!(e = find_end())) {
            ssize_t r = recv(fd, inbuf + inlen, sizeof inbuf - inlen, 0);
            if (r <= 0) break;
            inlen += (size_t)r;
        }
        CHECK(e && strncmp((char *)inbuf, "HTTP/1.1 101", 12) == 0);
        if (e) {
            size_t hl = (size_t)(e + 4 - (char *)inbuf);
            memmove(inbuf, inbuf + hl, inlen - hl);
            inlen -= hl;
        }
    }
    CHECK(next_text(fd, buf, sizeof buf) && strncmp(buf, "[0,", 3) == 0); /* WELCOME */
    k = t_frame(fr, 1, 1, 0, "[5,\"http://x/sensor\"]", 21, 1);
    send(fd, fr, k, 0);
    k = t_frame(fr, 1, 1, 0, "[2,\"sync\",\"http://x/none\"]", 26, 1);
    send(fd, fr, k, 0); /* its CALLERROR tells that the SUBSCRIBE was handled */
    CHECK(next_text(fd, buf, sizeof buf) && strncmp(buf, "[4,\"sync\"", 9) == 0);

    for (i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, sensor, (void *)(intptr_t)i);
    while (got < THREADS * EVENTS && next_text(fd, buf, sizeof buf)) {
        int id, seq;
        if (sscanf(buf, "[8,\"http://x/sensor\",[%d,%d]]", &id, &seq) != 2 || id < 0 || id >= THREADS) {
            printf("  unexpected: %s\n", buf);
            break;
        }
        if (seq != next[id]) order_ok = 0;
        next[id] = seq + 1;
        got++;
    }
    for (i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    CHECK_EQ_INT(got, THREADS * EVENTS);
    CHECK(order_ok);
    wamp1_app_stop(&app);
    pthread_join(srv, NULL);
    CHECK_EQ_INT(posted_runs, THREADS * (EVENTS / 100));
    wamp1_app_shutdown(&app, 500);
    close(fd);
    wamp1_posix_free(&posix);
    return t_summary("threads");
}
