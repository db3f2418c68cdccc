/* raw_client.h - a WebSocket test client's transport on lwIP's raw API, shared by the lwIP
   tests (tests/lwip/test_raw.c) and the TLS-over-lwIP test (tests/tls/tls_lwip.c).

   Include after lwIP's headers and after defining pump() (one turn of the main loop) and
   tp_now_ms(). Gives tp_connect/tp_send/tp_recv/tp_close on up to RCLIENT_SLOTS (default
   8) connections to 127.0.0.1. */
#ifndef WAMP1_TEST_RAW_CLIENT_H
#define WAMP1_TEST_RAW_CLIENT_H

typedef struct rclient {
    struct tcp_pcb *pcb;
    int used, connected, eof, failed;
    size_t len;
    uint8_t rx[256u * 1024u];
} rclient;

#ifndef RCLIENT_SLOTS
#define RCLIENT_SLOTS 8
#endif
static rclient rcl[RCLIENT_SLOTS];

static err_t rc_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    rclient *c = (rclient *)arg;
    struct pbuf *q;
    if (!p) {
        c->eof = 1;
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return ERR_OK;
    }
    if (p->tot_len > sizeof c->rx - c->len) return ERR_MEM; /* lwIP keeps it and retries */
    for (q = p; q; q = q->next) {
        memcpy(c->rx + c->len, q->payload, q->len);
        c->len += q->len;
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void rc_err(void *arg, err_t err) {
    rclient *c = (rclient *)arg;
    (void)err;
    c->pcb = NULL;
    c->failed = 1;
}

static err_t rc_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    rclient *c = (rclient *)arg;
    (void)pcb;
    if (err == ERR_OK) c->connected = 1;
    return ERR_OK;
}

static int tp_connect(uint16_t port) {
    ip_addr_t lo;
    rclient *c = NULL;
    uint64_t end;
    int i;
    for (i = 0; i < RCLIENT_SLOTS && !c; i++)
        if (!rcl[i].used) c = &rcl[i];
    if (!c) return -1;
    c->used = 1;
    c->connected = c->eof = c->failed = 0;
    c->len = 0;
    c->pcb = tcp_new();
    if (!c->pcb) { c->used = 0; return -1; }
    tcp_arg(c->pcb, c);
    tcp_recv(c->pcb, rc_recv);
    tcp_err(c->pcb, rc_err);
    tcp_nagle_disable(c->pcb);
    IP_ADDR4(&lo, 127, 0, 0, 1);
    if (tcp_connect(c->pcb, &lo, port, rc_connected) != ERR_OK) {
        tcp_abort(c->pcb);
        c->used = 0;
        return -1;
    }
    end = tp_now_ms() + 3000;
    while (!c->connected && !c->failed && tp_now_ms() < end) pump();
    if (!c->connected) {
        if (c->pcb) tcp_abort(c->pcb);
        c->used = 0;
        return -1;
    }
    return (int)(c - rcl);
}

static int tp_send(int cl, const void *data, size_t n) {
    rclient *c = &rcl[cl];
    const uint8_t *p = (const uint8_t *)data;
    uint64_t end = tp_now_ms() + 10000;
    while (n) {
        size_t room;
        if (!c->pcb || c->failed) return -1;
        room = tcp_sndbuf(c->pcb);
        if (tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN - 4) room = 0;
        if (room > n) room = n;
        if (room > 8192) room = 8192;
        if (room && tcp_write(c->pcb, p, (u16_t)room, TCP_WRITE_FLAG_COPY) == ERR_OK) {
            tcp_output(c->pcb);
            p += room;
            n -= room;
        } else {
            tcp_output(c->pcb);
            if (tp_now_ms() > end) return -1;
            pump();
        }
    }
    pump();
    return 0;
}

/* bytes, 0 at EOF, -1 error, -2 timeout */
static long tp_recv(int cl, void *buf, size_t cap, int timeout_ms) {
    rclient *c = &rcl[cl];
    uint64_t end = tp_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (c->len) {
            size_t n = c->len < cap ? c->len : cap;
            memcpy(buf, c->rx, n);
            memmove(c->rx, c->rx + n, c->len - n);
            c->len -= n;
            return (long)n;
        }
        if (c->eof) return 0;
        if (c->failed) return -1;
        if (tp_now_ms() >= end) return -2;
        pump();
    }
}

static void tp_close(int cl) {
    rclient *c = &rcl[cl];
    if (c->pcb) {
        tcp_arg(c->pcb, NULL);
        tcp_recv(c->pcb, NULL);
        tcp_err(c->pcb, NULL);
        if (tcp_close(c->pcb) != ERR_OK) tcp_abort(c->pcb);
    }
    c->pcb = NULL;
    c->used = 0;
    pump();
}

#endif
