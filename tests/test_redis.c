/* Unit tests of port/wamp1_redis.h: the RESP parser, the wire format, and the client in the
   loop, with Redis played over the in-memory test port (fake clock: backoff and timeouts
   without waiting). The cluster against a real redis-server is tests/integration/test_redis.py. */
#define WAMP1_MAX_CONNECTIONS 4
#define WAMP1_MAX_TOPICS 8
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_TESTPORT_SOCKETS 16
#define WAMP1_TESTPORT_BUFFER (64u * 1024u)
#define WAMP1_REDIS_SEND_SIZE 1024
#define WAMP1_REDIS_RECV_SIZE 1024
#define WAMP1_IMPLEMENTATION
#include "../wamp1.h"
#include "../port/wamp1_testport.h"
#include "../port/wamp1_redis.h"
#include "test_util.h"

static wamp1_testport tp;
static wamp1_port port;
static wamp1_app app;
static uint8_t mem[WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
static wamp1_redis redis;
static int redis_sock, connects_asked, connect_fails;
static int errors_io;
static char last_why[160];

/* ---- the RESP parser ------------------------------------------------------------------ */

static long parse(const char *s, wamp1_resp *v) { return wamp1_resp_parse(s, strlen(s), v); }

/* every proper prefix of a valid value needs more bytes; the whole is taken exactly */
static void check_prefixes(const char *s) {
    wamp1_resp v;
    size_t n = strlen(s), i;
    int ok = 1;
    for (i = 0; i < n; i++)
        if (wamp1_resp_parse(s, i, &v) != 0) {
            ok = 0;
            printf("    prefix %u of %s\n", (unsigned)i, s);
        }
    CHECK(ok);
    CHECK_EQ_INT(wamp1_resp_parse(s, n, &v), (long)n);
}

TEST(test_resp_values) {
    wamp1_resp v;
    CHECK_EQ_INT(parse("+OK\r\n", &v), 5);
    CHECK(v.top.type == '+' && v.top.len == 2 && memcmp(v.top.str, "OK", 2) == 0);
    CHECK_EQ_INT(parse("-WRONGPASS invalid\r\n", &v), 20);
    CHECK(v.top.type == '-');
    CHECK_EQ_INT(parse(":-42\r\n", &v), 6);
    CHECK_EQ_INT(v.top.num, -42);
    CHECK_EQ_INT(parse("$5\r\nhe\r\no\r\n", &v), 11); /* binary-safe: CRLF inside */
    CHECK(v.top.len == 5 && memcmp(v.top.str, "he\r\no", 5) == 0);
    CHECK_EQ_INT(parse("$-1\r\n", &v), 5);
    CHECK(v.top.str == NULL && v.top.num == -1);
    CHECK_EQ_INT(parse("*-1\r\n", &v), 5);
    CHECK_EQ_INT(parse("_\r\n", &v), 3);
    CHECK_EQ_INT(parse("#t\r\n", &v), 4);
    CHECK_EQ_INT(parse("*0\r\n+x\r\n", &v), 4); /* only the first value */
    CHECK_EQ_INT(parse(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n", &v), 34);
    CHECK(v.top.type == '>' && v.top.num == 3 && v.nitems == 3);
    CHECK(v.items[0].len == 7 && v.items[1].len == 2 && v.items[2].len == 3 && memcmp(v.items[2].str, "abc", 3) == 0);
    /* nested: items keep the top level only */
    CHECK_EQ_INT(parse("*3\r\n*2\r\n:1\r\n:2\r\n%1\r\n+k\r\n+v\r\n:9\r\n", &v), 32);
    CHECK(v.nitems == 3 && v.items[0].type == '*' && v.items[1].type == '%' && v.items[2].num == 9);
    /* an attribute is no element of its parent */
    CHECK_EQ_INT(parse("*1\r\n|1\r\n+a\r\n+b\r\n:5\r\n", &v), 20);
    CHECK(v.nitems == 1 && v.items[0].num == 5);
    /* HELLO's map */
    CHECK_EQ_INT(parse("%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n", &v), 42);
    CHECK(v.top.type == '%');
    check_prefixes("+OK\r\n");
    check_prefixes("$5\r\nhello\r\n");
    check_prefixes(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n");
    check_prefixes("*2\r\n*1\r\n:1\r\n%1\r\n$1\r\nk\r\n~1\r\n#f\r\n");
}

TEST(test_resp_rejects) {
    wamp1_resp v;
    static char deep[256];
    size_t i;
    CHECK_EQ_INT(parse("x\r\n", &v), -1);          /* unknown type */
    CHECK_EQ_INT(parse("+OK\rx", &v), -1);         /* CR without LF */
    CHECK_EQ_INT(parse(":12x\r\n", &v), -1);
    CHECK_EQ_INT(parse(":\r\n", &v), -1);
    CHECK_EQ_INT(parse(":1234567890123456789\r\n", &v), -1); /* beyond 18 digits */
    CHECK_EQ_INT(parse("$-2\r\n", &v), -1);
    CHECK_EQ_INT(parse("$3\r\nabcXY", &v), -1);    /* no CRLF after the bytes */
    CHECK_EQ_INT(parse("$999999999\r\n", &v), -1); /* beyond 512 MiB */
    CHECK_EQ_INT(parse("$536870912\r\n", &v), 0);  /* 512 MiB: allowed, needs the bytes */
    CHECK_EQ_INT(parse("*-2\r\n", &v), -1);
    CHECK_EQ_INT(parse(">-1\r\n", &v), -1);
    CHECK_EQ_INT(parse("_x\r\n", &v), -1);
    CHECK_EQ_INT(parse("#x\r\n", &v), -1);
    for (i = 0; i < 9; i++) memcpy(deep + 4 * i, "*1\r\n", 4);
    CHECK_EQ_INT(parse(deep, &v), -1);             /* 9 levels: beyond WAMP1_RESP_DEPTH */
    deep[4 * 8] = 0;
    CHECK_EQ_INT(parse(deep, &v), 0);              /* 8 levels: fine, waits for the rest */
    strcat(deep, ":1\r\n");
    CHECK_EQ_INT(parse(deep, &v), 36);
}

/* ---- the wire format ------------------------------------------------------------------- */

TEST(test_wire_decode) {
    wamp1_redis_msg m;
    const char *a = "1 node7 16 1 - AbCdEfGhIjKlMnOp{\"a\":1}";
    const char *b = "1 n 16 1 2 AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCC[1]";
    const char *c = "1 n 16 0 0 \"x\"";
    CHECK_EQ_INT(wamp1_redis_msg_decode(a, strlen(a), &m), 0);
    CHECK(m.node_len == 5 && memcmp(m.node, "node7", 5) == 0);
    CHECK(m.exclude_count == 1 && !m.use_eligible && memcmp(m.exclude, "AbCdEfGhIjKlMnOp", 16) == 0);
    CHECK(m.event_len == 7 && memcmp(m.event, "{\"a\":1}", 7) == 0);
    CHECK_EQ_INT(wamp1_redis_msg_decode(b, strlen(b), &m), 0);
    CHECK(m.exclude_count == 1 && m.eligible_count == 2 && m.use_eligible);
    CHECK(m.eligible[0] == 'B' && m.eligible[16] == 'C' && m.event_len == 3);
    CHECK_EQ_INT(wamp1_redis_msg_decode(c, strlen(c), &m), 0);
    CHECK(m.use_eligible && m.eligible_count == 0);
    CHECK_EQ_INT(wamp1_redis_msg_decode("2 n 16 0 - 1", 12, &m), -1);     /* version */
    CHECK_EQ_INT(wamp1_redis_msg_decode("1 n 8 0 - 1", 11, &m), -1);      /* id length */
    CHECK_EQ_INT(wamp1_redis_msg_decode("1 n 16 1 - 1", 12, &m), -1);     /* ids cut short */
    CHECK_EQ_INT(wamp1_redis_msg_decode("1 n 16 0 - ", 11, &m), -1);      /* no event */
    CHECK_EQ_INT(wamp1_redis_msg_decode("1 n 16 -1 - 1", 13, &m), -1);
    CHECK_EQ_INT(wamp1_redis_msg_decode("1 n 16 9999999 - 1", 18, &m), -1);
    CHECK_EQ_INT(wamp1_redis_msg_decode("1  16 0 - 1", 11, &m), -1);      /* empty node */
    CHECK_EQ_INT(wamp1_redis_msg_decode("1 n 16 0 x 1", 12, &m), -1);
    CHECK_EQ_INT(wamp1_redis_msg_decode("1 n 16", 6, &m), -1);
    CHECK_EQ_INT(wamp1_redis_msg_decode("1 123456789012345678901234567890123 16 0 - 1", 44, &m), -1);
}

/* ---- the client, Redis played over the test port ------------------------------------- */

static int tp_connect(void *ctx, const char *host, uint16_t p, wamp1_socket *out) {
    (void)ctx; (void)host; (void)p;
    connects_asked++;
    if (connect_fails) return -1;
    redis_sock = wamp1_testport_socket(&tp);
    *out = redis_sock;
    return redis_sock > 0 ? 0 : -1;
}

static void on_error(wamp1_app *a, wamp1_conn *c, wamp1_error e, const char *why, void *user) {
    (void)a; (void)c; (void)user;
    if (e == WAMP1_ERR_IO) errors_io++;
    snprintf(last_why, sizeof last_why, "%s", why);
}

static void pump(int n) { while (n-- > 0) (void)wamp1_app_poll(&app, 0); }
static void advance(uint32_t ms) { tp.now += ms; pump(3); }

/* what the bridge sent to "Redis" since the last look */
static const char *redis_out(void) {
    static char buf[8192];
    size_t n;
    pump(3);
    n = wamp1_testport_read(&tp, redis_sock, buf, sizeof buf - 1);
    buf[n] = 0;
    return buf;
}
static void redis_in(const char *s) {
    (void)wamp1_testport_write(&tp, redis_sock, s, strlen(s));
    pump(3);
}

/* a WAMP client over the test port */
static char rx[WAMP1_MAX_CONNECTIONS + 20][8192];
static size_t rxn[WAMP1_MAX_CONNECTIONS + 20];
static char sids[WAMP1_MAX_CONNECTIONS + 20][32];

static const char *next_text(int cl) {
    static char out[8192];
    t_sframe f;
    pump(3);
    rxn[cl] += wamp1_testport_read(&tp, cl, rx[cl] + rxn[cl], sizeof rx[cl] - rxn[cl]);
    if (!t_parse_frame((const uint8_t *)rx[cl], rxn[cl], &f)) return NULL;
    memcpy(out, f.payload, f.len);
    out[f.len] = 0;
    memmove(rx[cl], rx[cl] + f.total, rxn[cl] - f.total);
    rxn[cl] -= f.total;
    return out;
}

static void send_text(int cl, const char *s) {
    static uint8_t f[8192];
    size_t k = t_frame(f, WAMP1_OP_TEXT, 1, 0, s, strlen(s), 1);
    (void)wamp1_testport_write(&tp, cl, f, k);
    pump(3);
}

static int text_is(int cl, const char *want) {
    const char *got = next_text(cl);
    if (got && strcmp(got, want) == 0) return 1;
    printf("    client %d: want %s, got %s\n", cl, want, got ? got : "(nothing)");
    return 0;
}

static int out_is(const char *want) {
    const char *got = redis_out();
    if (strcmp(got, want) == 0) return 1;
    printf("    to Redis: want %s\n              got  %s\n", want, got);
    return 0;
}

static int wclient(void) {
    static const char req[] =
        "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: wamp\r\n\r\n";
    int cl = wamp1_testport_connect(&tp);
    const char *w, *e;
    char *end;
    (void)wamp1_testport_write(&tp, cl, req, sizeof req - 1);
    pump(4);
    rxn[cl] = wamp1_testport_read(&tp, cl, rx[cl], sizeof rx[cl] - 1);
    rx[cl][rxn[cl]] = 0;
    end = strstr(rx[cl], "\r\n\r\n");
    CHECK(end != NULL && strncmp(rx[cl], "HTTP/1.1 101", 12) == 0);
    if (!end) return cl;
    rxn[cl] -= (size_t)(end + 4 - rx[cl]);
    memmove(rx[cl], end + 4, rxn[cl]);
    w = next_text(cl); /* [0,"SID",1,"..."] */
    CHECK(w && strncmp(w, "[0,\"", 4) == 0);
    if (w) {
        e = strchr(w + 4, '"');
        memcpy(sids[cl], w + 4, (size_t)(e - w - 4));
        sids[cl][e - w - 4] = 0;
    }
    return cl;
}

static void setup(const char *password) {
    wamp1_app_config cfg;
    wamp1_redis_config rc;
    wamp1_testport_init(&tp, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.memory = mem;
    cfg.server.memory_size = sizeof mem;
    cfg.on_error = on_error;
    CHECK_EQ_INT(wamp1_app_init(&app, &cfg), 0);
    {
        static const wamp1_handler broker = {0, 0, 0, 0, 0};
        CHECK_EQ_INT(wamp1_app_add_topic(&app, "http://t/{x}", &broker), 0);
    }
    CHECK_EQ_INT(wamp1_app_listen(&app), 0);
    memset(&rc, 0, sizeof rc);
    rc.host = "127.0.0.1";
    rc.connect = tp_connect;
    rc.node_id = "me";
    rc.password = password;
    connects_asked = connect_fails = errors_io = 0;
    memset(rxn, 0, sizeof rxn);
    CHECK_EQ_INT(wamp1_redis_start(&redis, &app, &rc), 0);
}

static void teardown(void) {
    wamp1_redis_stop(&redis);
    (void)wamp1_app_shutdown(&app, 0);
}

#define HELLO_OK "%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n"

static void push_msg(const char *chan, const char *payload) {
    static char b[4096];
    snprintf(b, sizeof b, ">3\r\n$7\r\nmessage\r\n$%u\r\n%s\r\n$%u\r\n%s\r\n", (unsigned)strlen(chan), chan,
             (unsigned)strlen(payload), payload);
    redis_in(b);
}

TEST(test_client_flow) {
    int a, b;
    char want[512];
    wamp1_publish_opts o;
    wamp1_conn_id ex;
    setup("pw");
    a = wclient();
    b = wclient();
    send_text(a, "[5,\"http://t/1\"]");
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_HANDSHAKE);
    /* HELLO 3 AUTH default pw, nothing else until it is answered */
    CHECK(out_is("*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$2\r\npw\r\n"));
    /* events before the link is up stay local and are counted */
    send_text(b, "[5,\"http://t/1\"]");
    send_text(b, "[7,\"http://t/1\",\"early\"]");
    CHECK(text_is(a, "[8,\"http://t/1\",\"early\"]"));
    CHECK_EQ_INT(redis.stats.dropped, 1);
    redis_in(HELLO_OK);
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_UP);
    /* every local topic subscribed once up */
    CHECK(out_is("*2\r\n$9\r\nSUBSCRIBE\r\n$16\r\nwamp1:http://t/1\r\n"));
    redis_in(">3\r\n$9\r\nsubscribe\r\n$16\r\nwamp1:http://t/1\r\n:1\r\n");
    CHECK_EQ_INT(redis.stats.channels, 1);
    /* three publishes, pipelined: all three go out before any reply */
    send_text(b, "[7,\"http://t/1\",1]");
    send_text(b, "[7,\"http://t/1\",2,[\"nobody\"]]");
    memset(&o, 0, sizeof o);
    ex = wamp1_conn_handle(wamp1_server_next_conn(wamp1_app_server(&app), NULL));
    o.exclude = &ex;
    o.exclude_count = 1;
    CHECK_EQ_INT(wamp1_app_publish(&app, "http://t/1", "{}", 2, &o), 1);
    snprintf(want, sizeof want,
             "*3\r\n$7\r\nPUBLISH\r\n$16\r\nwamp1:http://t/1\r\n$13\r\n1 me 16 0 - 1\r\n"
             "*3\r\n$7\r\nPUBLISH\r\n$16\r\nwamp1:http://t/1\r\n$13\r\n1 me 16 0 - 2\r\n"
             "*3\r\n$7\r\nPUBLISH\r\n$16\r\nwamp1:http://t/1\r\n$30\r\n1 me 16 1 - %s{}\r\n", sids[a]);
    CHECK(out_is(want));
    CHECK_EQ_INT(redis.stats.published, 3);
    redis_in(":1\r\n:1\r\n:1\r\n");
    /* a client's list entry written with escapes travels as the session id it names */
    snprintf(want, sizeof want, "[7,\"http://t/1\",3,[\"\\u00%02x%s\"]]", (unsigned)sids[a][0], sids[a] + 1);
    send_text(b, want);
    snprintf(want, sizeof want, "*3\r\n$7\r\nPUBLISH\r\n$16\r\nwamp1:http://t/1\r\n$29\r\n1 me 16 1 - %s3\r\n", sids[a]);
    CHECK(out_is(want));
    (void)next_text(a);
    (void)next_text(a);
    CHECK(next_text(a) == NULL); /* excluded from {} and from 3 */
    while (next_text(b)) {}
    /* a message from another node: exclude applied here; own messages ignored */
    snprintf(want, sizeof want, "1 other 16 1 - %s\"x\"", sids[a]);
    push_msg("wamp1:http://t/1", want);
    CHECK(next_text(a) == NULL);
    CHECK(text_is(b, "[8,\"http://t/1\",\"x\"]"));
    snprintf(want, sizeof want, "1 other 16 0 1 %s\"y\"", sids[a]);
    push_msg("wamp1:http://t/1", want);
    CHECK(text_is(a, "[8,\"http://t/1\",\"y\"]"));
    CHECK(next_text(b) == NULL);
    push_msg("wamp1:http://t/1", "1 me 16 0 - \"mine\"");
    CHECK(next_text(a) == NULL && next_text(b) == NULL);
    CHECK_EQ_INT(redis.stats.own, 1);
    CHECK_EQ_INT(redis.stats.received, 2);
    push_msg("wamp1:http://t/1", "1 other 16 0 - {nope");
    push_msg("other:http://t/1", "1 other 16 0 - 1");
    CHECK_EQ_INT(redis.stats.malformed, 2);
    CHECK(next_text(a) == NULL);
    /* the last local subscriber leaves: UNSUBSCRIBE */
    send_text(a, "[6,\"http://t/1\"]");
    CHECK(out_is(""));
    send_text(b, "[6,\"http://t/1\"]");
    CHECK(out_is("*2\r\n$11\r\nUNSUBSCRIBE\r\n$16\r\nwamp1:http://t/1\r\n"));
    send_text(b, "[5,\"http://t/2\"]");
    CHECK(out_is("*2\r\n$9\r\nSUBSCRIBE\r\n$16\r\nwamp1:http://t/2\r\n"));
    /* an error reply is reported and the link stays */
    redis_in("-ERR something\r\n");
    CHECK_EQ_INT(redis.stats.errors, 1);
    CHECK(strstr(last_why, "ERR something") != NULL);
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_UP);

    /* Redis goes away: reported, retried after 100, 200, 400 ms; local delivery goes on */
    errors_io = 0;
    wamp1_testport_client_eof(&tp, redis_sock);
    pump(3);
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_DOWN);
    CHECK_EQ_INT(errors_io, 1);
    CHECK(wamp1_testport_server_closed(&tp, redis_sock) == 1);
    send_text(a, "[5,\"http://t/2\"]");
    send_text(a, "[7,\"http://t/2\",\"down\"]");
    CHECK(text_is(b, "[8,\"http://t/2\",\"down\"]"));
    CHECK_EQ_INT(redis.stats.dropped, 2);
    connect_fails = 1;
    connects_asked = 0;
    advance(99);
    CHECK_EQ_INT(connects_asked, 0);
    advance(2);
    CHECK_EQ_INT(connects_asked, 1);
    advance(199);
    CHECK_EQ_INT(connects_asked, 1);
    advance(2);
    CHECK_EQ_INT(connects_asked, 2);
    advance(401);
    CHECK_EQ_INT(connects_asked, 3);
    advance(5000);
    advance(5000);
    CHECK(connects_asked <= 6); /* capped at 2 s */
    connect_fails = 0;
    advance(2001);
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_HANDSHAKE);
    (void)redis_out();
    redis_in(HELLO_OK);
    CHECK(out_is("*2\r\n$9\r\nSUBSCRIBE\r\n$16\r\nwamp1:http://t/2\r\n"));
    CHECK_EQ_INT(redis.stats.connects, 2);
    /* keepalive: a PING every 5 s while up; a PING left unanswered drops the link */
    advance(4990);
    CHECK(out_is(""));
    advance(11);
    CHECK(out_is("*1\r\n$4\r\nPING\r\n"));
    redis_in("+PONG\r\n");
    advance(5001);
    CHECK(out_is("*1\r\n$4\r\nPING\r\n"));
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_UP);
    advance(5001);
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_DOWN);
    CHECK(strstr(last_why, "no reply to PING") != NULL);
    teardown();
}

TEST(test_client_failures) {
    int i;
    static char big[2048];
    setup(NULL);
    CHECK(out_is("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"));
    /* refused HELLO/AUTH */
    redis_in("-WRONGPASS invalid username-password pair\r\n");
    CHECK_EQ_INT(redis.stats.auth_failures, 1);
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_DOWN);
    CHECK(strstr(last_why, "WRONGPASS") != NULL);
    /* no HELLO reply in time */
    advance(101);
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_HANDSHAKE);
    advance(2999);
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_HANDSHAKE);
    advance(2);
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_DOWN);
    CHECK(strstr(last_why, "no HELLO reply") != NULL);
    /* garbage */
    advance(2001);
    redis_in("?\r\n");
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_DOWN);
    CHECK(strstr(last_why, "no RESP") != NULL);
    /* a reply larger than the receive buffer */
    advance(2001);
    redis_in(HELLO_OK);
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_UP);
    redis_in("$5000\r\n");
    for (i = 0; i < 3; i++) {
        memset(big, 'x', sizeof big - 1);
        redis_in(big);
    }
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_DOWN);
    CHECK(strstr(last_why, "larger than") != NULL);
    /* a full send buffer drops events (counted) and never blocks */
    advance(2001);
    redis_in(HELLO_OK);
    (void)redis_out();
    {
        int k = wclient();
        send_text(k, "[5,\"http://t/z\"]");
        (void)redis_out();
        tp.socks[redis_sock - 1].out.len = sizeof tp.socks[redis_sock - 1].out.data; /* Redis reads nothing */
        for (i = 0; i < 60; i++) CHECK_EQ_INT(wamp1_app_publish(&app, "http://t/z", "\"0123456789abcdef\"", 18, NULL), 1);
        CHECK(redis.stats.dropped > 0 && redis.stats.published > 0);
        CHECK_EQ_INT(redis.stats.published + redis.stats.dropped, 60);
        /* a server that reads nothing for two PING periods is dropped */
        redis.slen = sizeof redis.sbuf - 10; /* no room for a PING */
        advance(5001);
        CHECK_EQ_INT(redis.state, WAMP1_REDIS_UP);
        advance(5001);
        CHECK_EQ_INT(redis.state, WAMP1_REDIS_DOWN);
        CHECK(strstr(last_why, "reads nothing") != NULL);
    }
    teardown();
}

static int stale_calls;
static void stale_publish(wamp1_bridge *b, wamp1_bridge_event *ev) { (void)b; (void)ev; stale_calls++; }

/* init forgets a bridge left from before (an app reused, or not zeroed) */
TEST(test_init_clears_bridge) {
    static wamp1_bridge stale = {stale_publish, 0, 0};
    wamp1_app_config cfg;
    wamp1_testport_init(&tp, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.memory = mem;
    cfg.server.memory_size = sizeof mem;
    app.bridge = &stale;
    CHECK_EQ_INT(wamp1_app_init(&app, &cfg), 0);
    CHECK_EQ_INT(wamp1_app_publish(&app, "http://t/1", "1", 1, NULL), 0);
    CHECK_EQ_INT(stale_calls, 0);
    wamp1_app_set_bridge(&app, &stale);
    CHECK_EQ_INT(wamp1_app_publish(&app, "http://t/1", "1", 1, NULL), 0);
    CHECK_EQ_INT(stale_calls, 1); /* a publish nobody receives here still goes to the bridge */
    (void)wamp1_app_shutdown(&app, 0);
}

int main(void) {
    RUN(test_resp_values);
    RUN(test_resp_rejects);
    RUN(test_wire_decode);
    RUN(test_client_flow);
    RUN(test_client_failures);
    RUN(test_init_clears_bridge);
    return t_summary("redis");
}
