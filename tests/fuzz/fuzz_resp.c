/* libFuzzer target for the Redis bridge (port/wamp1_redis.h): any bytes as what Redis says.
 * 1. The RESP parser alone: a value it takes is within the input, is taken the same from
 *    exactly its own bytes, and every shorter prefix of it asks for more; the items it
 *    returns point into the value.
 * 2. The whole client in the loop over the test port: the bytes arrive in pieces (sizes
 *    from the input) after a HELLO reply or not, with a local subscriber on the channel's
 *    topic; the client must never crash, overflow or stop the loop, and its counters must
 *    add up. Payloads of "message" pushes go through the wire-format decoder and delivery.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_resp.c -o fuzz_resp */
#define WAMP1_MAX_CONNECTIONS 2
#define WAMP1_MAX_TOPICS 4
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_REDIS_SEND_SIZE 512
#define WAMP1_REDIS_RECV_SIZE 1024
#include "fuzz_common.h"
#include "../../port/wamp1_redis.h"

static wamp1_testport tp;
static wamp1_port port;
static wamp1_app app;
static uint8_t mem[WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
static wamp1_redis redis;
static int sock;

static int fz_connect(void *ctx, const char *host, uint16_t p, wamp1_socket *out) {
    (void)ctx; (void)host; (void)p;
    sock = wamp1_testport_socket(&tp);
    *out = sock;
    return sock > 0 ? 0 : -1;
}

static void check_parser(const char *d, size_t n) {
    wamp1_resp v, w;
    long r = wamp1_resp_parse(d, n, &v);
    unsigned i;
    REQUIRE(r >= -1 && r <= (long)n);
    if (r <= 0) {
        if (r == 0 && n > 0) REQUIRE(wamp1_resp_parse(d, n - 1, &w) == 0);
        return;
    }
    REQUIRE(wamp1_resp_parse(d, (size_t)r, &w) == r);
    REQUIRE(wamp1_resp_parse(d, (size_t)r - 1, &w) == 0);
    REQUIRE(v.nitems <= WAMP1_RESP_ITEMS);
    for (i = 0; i < v.nitems; i++)
        if (v.items[i].str) REQUIRE(v.items[i].str >= d && v.items[i].str + v.items[i].len <= d + r);
    if (v.top.str) REQUIRE(v.top.str >= d && v.top.str + v.top.len <= d + r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char hello[] = "%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n";
    static const char sub[] = ">3\r\n$9\r\nsubscribe\r\n$12\r\nwamp1:http:x\r\n:1\r\n";
    wamp1_app_config cfg;
    wamp1_redis_config rc;
    wamp1_redis_stats st;
    size_t at = 1;
    unsigned mode;
    static const wamp1_handler broker = {0, 0, 0, 0, 0};
    check_parser((const char *)data, size);
    {   /* the wire-format decoder on the same bytes */
        wamp1_redis_msg m;
        if (wamp1_redis_msg_decode((const char *)data, size, &m) == 0) {
            REQUIRE(m.event >= (const char *)data && m.event + m.event_len == (const char *)data + size);
            REQUIRE(m.exclude + (size_t)m.exclude_count * WAMP1_SESSION_ID_LEN <= m.eligible);
        }
    }
    if (size < 1) return 0;
    mode = data[0];
    wamp1_testport_init(&tp, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.memory = mem;
    cfg.server.memory_size = sizeof mem;
    REQUIRE(wamp1_app_init(&app, &cfg) == 0);
    REQUIRE(wamp1_app_add_topic(&app, "http:{x}", &broker) == 0);
    memset(&rc, 0, sizeof rc);
    rc.host = "127.0.0.1";
    rc.connect = fz_connect;
    rc.node_id = "me";
    if (mode & 2) rc.password = "pw";
    REQUIRE(wamp1_redis_start(&redis, &app, &rc) == 0);
    (void)wamp1_app_poll(&app, 0);
    if (mode & 1) {
        (void)wamp1_testport_write(&tp, sock, hello, sizeof hello - 1);
        (void)wamp1_testport_write(&tp, sock, sub, sizeof sub - 1);
        (void)wamp1_app_poll(&app, 0);
        (void)wamp1_app_publish(&app, "http:x", "1", 1, NULL);
    }
    while (at < size) {
        size_t piece = 1 + (size_t)((mode >> 2) * 7u + at) % 97u;
        if (piece > size - at) piece = size - at;
        if (wamp1_testport_server_closed(&tp, sock)) break;
        (void)wamp1_testport_write(&tp, sock, data + at, piece);
        at += piece;
        (void)wamp1_app_poll(&app, 0);
        (void)wamp1_app_publish(&app, "http:x", "[2]", 3, NULL);
    }
    wamp1_redis_get_stats(&redis, &st);
    REQUIRE(st.state >= WAMP1_REDIS_DOWN && st.state <= WAMP1_REDIS_UP);
    REQUIRE(redis.rlen <= sizeof redis.rbuf && redis.slen <= sizeof redis.sbuf && redis.soff <= redis.slen);
    if (st.state == WAMP1_REDIS_DOWN) REQUIRE(st.failures >= 1);
    /* the loop goes on: a backoff later it connects again */
    tp.now += 5000;
    (void)wamp1_app_poll(&app, 0);
    wamp1_redis_stop(&redis);
    (void)wamp1_app_shutdown(&app, 0);
    return 0;
}
