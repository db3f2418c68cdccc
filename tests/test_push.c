/* Unit tests of pushing from outside: POST bodies in the server (WAMP1_HTTP_BODY: in pieces,
   beyond a small buffer, 411/413/400/405, Expect: 100-continue), the HTTP publisher of
   port/wamp1_publisher.h (signature, window, nonce table with a fake clock, bearer token,
   400/404/405, exclude/eligible by session id, the publish handed to the bridge), the
   signature against vectors computed with `openssl dgst -sha256 -hmac`, and the plain JSON
   messages of outside publishers on a Redis channel (port/wamp1_redis.h), Redis played over
   the test port. The same against a real Redis and build/demo: tests/integration/test_push.py. */
#define WAMP1_MAX_CONNECTIONS 8
#define WAMP1_MAX_TOPICS 8
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_TESTPORT_SOCKETS 32
#define WAMP1_TESTPORT_BUFFER (64u * 1024u)
#define WAMP1_HTTP_MAX_BODY 6000
#define WAMP1_PUBLISHER_NONCES 4
#define WAMP1_REDIS_SEND_SIZE 2048
#define WAMP1_REDIS_RECV_SIZE 2048
#define WAMP1_IMPLEMENTATION
#include "../wamp1.h"
#include "../port/wamp1_testport.h"
#include "../port/wamp1_publisher.h"
#include "../port/wamp1_redis.h"
#include "test_util.h"

#define RECV 8192u
static wamp1_testport tp;
static wamp1_port port;
static wamp1_app app;
static uint8_t mem[WAMP1_MAX_CONNECTIONS * (RECV + 16384u) + WAMP1_MAX_CONNECTIONS * 1024u];
static wamp1_publisher pub;
static wamp1_redis redis;
static int redis_sock, with_http, http_errors;
static uint32_t full_buffers = WAMP1_MAX_CONNECTIONS;
static int64_t fake_now = 1764806400;
static char last_why[200];

static void on_error(wamp1_app *a, wamp1_conn *c, wamp1_error e, const char *why, void *user) {
    (void)a; (void)c; (void)user;
    if (e == WAMP1_ERR_HTTP) http_errors++;
    snprintf(last_why, sizeof last_why, "%s", why);
}
static void on_http(wamp1_conn *c, const wamp1_request *req, void *user) {
    static const char other[] = "other";
    (void)user;
    if (wamp1_publisher_handle(&pub, c, req)) return;
    if (req->method[0] == 'P' && req->body) /* echo a body back: what the server received */
        wamp1_conn_http_respond(c, 200, "text/plain", req->body, req->body_len);
    else wamp1_conn_http_respond(c, 200, "text/plain", other, sizeof other - 1);
}
static int64_t clock_fn(void *u) { (void)u; return fake_now; }
static int tp_connect(void *ctx, const char *host, uint16_t p, wamp1_socket *out) {
    (void)ctx; (void)host; (void)p;
    redis_sock = wamp1_testport_socket(&tp);
    *out = redis_sock;
    return redis_sock > 0 ? 0 : -1;
}

static void pump(int n) { while (n-- > 0) (void)wamp1_app_poll(&app, 0); }

static void setup(const char *secret, const char *token, int redis_on) {
    wamp1_app_config cfg;
    wamp1_publisher_config pc;
    static const wamp1_handler broker = {0, 0, 0, 0, 0};
    wamp1_testport_init(&tp, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.memory = mem;
    cfg.server.memory_size = sizeof mem;
    cfg.server.recv_buffer_size = RECV;
    cfg.server.recv_small_size = 1024;
    cfg.server.recv_buffers = full_buffers;
    cfg.server.drop_request = 1; /* buffers go back when idle */
    cfg.server.send_buffer_size = 16384;
    if (with_http) cfg.server.cb.on_http = on_http;
    cfg.on_error = on_error;
    CHECK_EQ_INT(wamp1_app_init(&app, &cfg), 0);
    CHECK_EQ_INT(wamp1_app_add_topic(&app, "http://t/{x}", &broker), 0);
    CHECK_EQ_INT(wamp1_app_listen(&app), 0);
    memset(&pc, 0, sizeof pc);
    pc.secret = secret;
    pc.token = token;
    pc.clock = clock_fn;
    CHECK_EQ_INT(wamp1_publisher_init(&pub, &app, &pc), 0);
    http_errors = 0;
    if (redis_on) {
        wamp1_redis_config rc;
        memset(&rc, 0, sizeof rc);
        rc.host = "127.0.0.1";
        rc.connect = tp_connect;
        rc.node_id = "me";
        CHECK_EQ_INT(wamp1_redis_start(&redis, &app, &rc), 0);
    }
}

static void teardown(int redis_on) {
    if (redis_on) wamp1_redis_stop(&redis);
    (void)wamp1_app_shutdown(&app, 0);
}

/* ---- plain HTTP -------------------------------------------------------------------- */

static char resp[16384];
static size_t resp_len;

/* send the parts (NULL-terminated), pumping between them; the whole answer in resp */
static int http_parts(const char *const *parts) {
    int cl = wamp1_testport_connect(&tp);
    size_t n;
    for (; *parts; parts++) {
        (void)wamp1_testport_write(&tp, cl, *parts, strlen(*parts));
        pump(3);
    }
    pump(3);
    resp_len = 0;
    while ((n = wamp1_testport_read(&tp, cl, resp + resp_len, sizeof resp - 1 - resp_len)) > 0) resp_len += n;
    resp[resp_len] = 0;
    wamp1_testport_client_eof(&tp, cl);
    pump(3);
    return resp_len >= 12 ? atoi(resp + 9) : 0;
}

static const char *body_of(void) {
    const char *b = strstr(resp, "\r\n\r\n");
    return b ? b + 4 : "";
}

static int post(const char *path, const char *headers, const char *body) {
    static char head[2048];
    const char *parts[3];
    snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: h\r\nContent-Length: %u\r\n%s\r\n", path,
             (unsigned)strlen(body), headers ? headers : "");
    parts[0] = head;
    parts[1] = body;
    parts[2] = NULL;
    return http_parts(parts);
}

/* a signed POST /publish at time ts with nonce */
static int signed_post(const char *secret, long long ts, const char *nonce, const char *body) {
    char h[512], sig[45], tss[24];
    snprintf(tss, sizeof tss, "%lld", ts);
    (void)wamp1_publisher_sign(secret, strlen(secret), tss, strlen(tss), nonce, strlen(nonce), body, strlen(body), sig);
    snprintf(h, sizeof h, "X-Wamp1-Timestamp: %s\r\nX-Wamp1-Nonce: %s\r\nX-Wamp1-Signature: %s\r\n", tss, nonce, sig);
    return post("/publish", h, body);
}

TEST(test_post_body) {
    static char big[5001];
    static char head[256];
    const char *parts[8];
    with_http = 1;
    setup(NULL, "tok", 0);
    /* a body in pieces: the header block, then a byte, then the rest */
    parts[0] = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n";
    parts[1] = "h";
    parts[2] = "ello world";
    parts[3] = NULL;
    CHECK_EQ_INT(http_parts(parts), 200);
    CHECK(strcmp(body_of(), "hello world") == 0);
    /* all at once, and an empty body */
    CHECK_EQ_INT(post("/x", NULL, "abc"), 200);
    CHECK(strcmp(body_of(), "abc") == 0);
    CHECK_EQ_INT(post("/x", NULL, ""), 200);
    CHECK(strcmp(body_of(), "") == 0);
    /* beyond the 1 KiB first buffer: moved to a full-size one */
    memset(big, 'b', sizeof big - 1);
    CHECK_EQ_INT(post("/x", NULL, big), 200);
    CHECK_EQ_INT(strlen(body_of()), sizeof big - 1);
    /* the limits and defined answers */
    parts[0] = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 6001\r\n\r\n";
    parts[1] = NULL;
    CHECK_EQ_INT(http_parts(parts), 413);
    parts[0] = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999\r\n\r\n";
    CHECK_EQ_INT(http_parts(parts), 413);
    parts[0] = "POST /x HTTP/1.1\r\nHost: h\r\n\r\nabc";
    CHECK_EQ_INT(http_parts(parts), 411);
    parts[0] = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    CHECK_EQ_INT(http_parts(parts), 411);
    parts[0] = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\nab";
    CHECK_EQ_INT(http_parts(parts), 400);
    parts[0] = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab";
    CHECK_EQ_INT(http_parts(parts), 400);
    parts[0] = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n";
    CHECK_EQ_INT(http_parts(parts), 400);
    /* an upgrade is GET only */
    parts[0] = "POST / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               "Content-Length: 0\r\n\r\n";
    CHECK_EQ_INT(http_parts(parts), 405);
    /* other methods still 405; case matters */
    parts[0] = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n";
    CHECK_EQ_INT(http_parts(parts), 405);
    parts[0] = "post /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n";
    CHECK_EQ_INT(http_parts(parts), 405);
    /* Expect: 100-continue gets the go-ahead before the final answer */
    snprintf(head, sizeof head, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    {
        int cl = wamp1_testport_connect(&tp);
        size_t n;
        (void)wamp1_testport_write(&tp, cl, head, strlen(head));
        pump(4);
        n = wamp1_testport_read(&tp, cl, resp, sizeof resp - 1);
        resp[n] = 0;
        CHECK(strcmp(resp, "HTTP/1.1 100 Continue\r\n\r\n") == 0);
        (void)wamp1_testport_write(&tp, cl, "xyz", 3);
        pump(4);
        n = wamp1_testport_read(&tp, cl, resp, sizeof resp - 1);
        resp[n] = 0;
        CHECK(strncmp(resp, "HTTP/1.1 200", 12) == 0 && strstr(resp, "\r\n\r\nxyz") != NULL);
        wamp1_testport_client_eof(&tp, cl);
        pump(3);
    }
    /* GET is untouched */
    parts[0] = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    CHECK_EQ_INT(http_parts(parts), 200);
    CHECK(strcmp(body_of(), "other") == 0);
    teardown(0);
    /* without an HTTP handler a POST gets 405 */
    with_http = 0;
    setup(NULL, "tok", 0);
    CHECK_EQ_INT(post("/x", NULL, "abc"), 405);
    CHECK(strstr(resp, "Allow: GET\r\n") != NULL);
    teardown(0);
    with_http = 1;
}

/* ---- WebSocket clients -------------------------------------------------------------- */

static char rx[WAMP1_TESTPORT_SOCKETS + 4][8192];
static size_t rxn[WAMP1_TESTPORT_SOCKETS + 4];
static char sids[WAMP1_TESTPORT_SOCKETS + 4][32];

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
    if (want ? got && strcmp(got, want) == 0 : got == NULL) return 1;
    printf("    client %d: want %s, got %s\n", cl, want ? want : "(nothing)", got ? got : "(nothing)");
    return 0;
}

static int wclient(const char *topic) {
    static const char req[] =
        "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: wamp\r\n\r\n";
    int cl = wamp1_testport_connect(&tp);
    const char *w, *e;
    char *end, sub[128];
    (void)wamp1_testport_write(&tp, cl, req, sizeof req - 1);
    pump(4);
    rxn[cl] = wamp1_testport_read(&tp, cl, rx[cl], sizeof rx[cl] - 1);
    rx[cl][rxn[cl]] = 0;
    end = strstr(rx[cl], "\r\n\r\n");
    CHECK(end != NULL && strncmp(rx[cl], "HTTP/1.1 101", 12) == 0);
    if (!end) return cl;
    rxn[cl] -= (size_t)(end + 4 - rx[cl]);
    memmove(rx[cl], end + 4, rxn[cl]);
    w = next_text(cl);
    CHECK(w && strncmp(w, "[0,\"", 4) == 0);
    if (w) {
        e = strchr(w + 4, '"');
        memcpy(sids[cl], w + 4, (size_t)(e - w - 4));
        sids[cl][e - w - 4] = 0;
    }
    if (topic) {
        snprintf(sub, sizeof sub, "[5,\"%s\"]", topic);
        send_text(cl, sub);
    }
    return cl;
}

/* a POST body beyond the small buffer while the one full-size buffer is lent: it waits,
   then completes when the buffer comes back */
TEST(test_post_waits_for_a_buffer) {
    static char msg[3001], body[5001], head[128];
    static uint8_t frame[3100];
    int a, b;
    size_t k, n;
    with_http = 1;
    full_buffers = 1;
    setup(NULL, "tok", 0);
    a = wclient(NULL);
    memset(msg, 'm', sizeof msg - 1);
    memcpy(msg, "[7,\"http://t/z\",\"", 17);
    memcpy(msg + sizeof msg - 3, "\"]", 2);
    msg[sizeof msg - 1] = 0;
    k = t_frame(frame, WAMP1_OP_TEXT, 1, 0, msg, strlen(msg), 1);
    (void)wamp1_testport_write(&tp, a, frame, 2000); /* half a message: holds the full buffer */
    pump(4);
    memset(body, 'p', sizeof body - 1);
    snprintf(head, sizeof head, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: %u\r\n\r\n", (unsigned)(sizeof body - 1));
    b = wamp1_testport_connect(&tp);
    (void)wamp1_testport_write(&tp, b, head, strlen(head));
    (void)wamp1_testport_write(&tp, b, body, sizeof body - 1);
    pump(6);
    CHECK_EQ_INT(wamp1_testport_read(&tp, b, resp, sizeof resp - 1), 0); /* waiting */
    (void)wamp1_testport_write(&tp, a, frame + 2000, k - 2000);
    pump(6);
    resp_len = 0;
    while ((n = wamp1_testport_read(&tp, b, resp + resp_len, sizeof resp - 1 - resp_len)) > 0) resp_len += n;
    resp[resp_len] = 0;
    CHECK(strncmp(resp, "HTTP/1.1 200", 12) == 0);
    CHECK_EQ_INT(strlen(body_of()), sizeof body - 1);
    CHECK(wamp1_app_server(&app)->stats.buffer_waits >= 1);
    teardown(0);
    full_buffers = WAMP1_MAX_CONNECTIONS;
}

/* ---- the publisher ------------------------------------------------------------------ */

TEST(test_sign_vectors) {
    /* printf '%s\n%s\n%s' TS NONCE BODY | openssl dgst -sha256 -hmac SECRET -binary | base64 */
    static const struct { const char *secret, *ts, *nonce, *body, *want; } v[] = {
        {"s3cret", "1764806400", "abcdefghijklmnop", "{\"topic\":\"http://t/a\",\"event\":1}",
         "lmNmFdmeQ1qdfqSJMaI/ocZurfN53kG8DNbUNFQJ/Do="},
        {"k", "0", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "",
         "gM5Rf8bMilPVlsuQZyRUkuY+8JWRP45uQCwDXdmb9A4="},
        {"a-much-longer-secret-key-that-is-longer-than-the-sixty-four-byte-block-of-sha256!!", "1999999999",
         "Zz_-Zz_-Zz_-Zz_-", "[1,2,3]", "1AR2iNeCUtyMxkAuee9ieCAmWUM9D/dKlrDSyTprbPY="},
    };
    unsigned i;
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[45];
        CHECK_EQ_INT(wamp1_publisher_sign(v[i].secret, strlen(v[i].secret), v[i].ts, strlen(v[i].ts), v[i].nonce,
                                          strlen(v[i].nonce), v[i].body, strlen(v[i].body), out), 44);
        if (strcmp(out, v[i].want) != 0) printf("    vector %u: got %s\n", i, out);
        CHECK(strcmp(out, v[i].want) == 0);
    }
}

TEST(test_publisher) {
    int a, b, c;
    char body[512];
    with_http = 1;
    setup("s3cret", "tok", 0);
    a = wclient("http://t/a");
    b = wclient("http://t/a");
    c = wclient("http://t/other");
    /* signed: both subscribers, the other topic nobody */
    CHECK_EQ_INT(signed_post("s3cret", fake_now, "nonce-0000000001", "{\"topic\":\"http://t/a\",\"event\":{\"n\":1}}"), 200);
    CHECK(strcmp(body_of(), "{\"delivered\":2}") == 0);
    CHECK(strstr(resp, "Content-Type: application/json\r\n") != NULL);
    CHECK(text_is(a, "[8,\"http://t/a\",{\"n\":1}]"));
    CHECK(text_is(b, "[8,\"http://t/a\",{\"n\":1}]"));
    CHECK(text_is(c, NULL));
    /* exclude and eligible by session id */
    snprintf(body, sizeof body, "{\"topic\":\"http://t/a\",\"event\":2,\"exclude\":[\"%s\",\"not-a-session\"]}", sids[a]);
    CHECK_EQ_INT(signed_post("s3cret", fake_now, "nonce-0000000002", body), 200);
    CHECK(strcmp(body_of(), "{\"delivered\":1}") == 0);
    CHECK(text_is(a, NULL));
    CHECK(text_is(b, "[8,\"http://t/a\",2]"));
    snprintf(body, sizeof body, "{\"eligible\":[\"%s\"],\"event\":[3],\"topic\":\"http://t/a\"}", sids[a]);
    CHECK_EQ_INT(signed_post("s3cret", fake_now + 30, "nonce-0000000003", body), 200);
    CHECK(text_is(a, "[8,\"http://t/a\",[3]]"));
    CHECK(text_is(b, NULL));
    CHECK_EQ_INT(signed_post("s3cret", fake_now - 30, "nonce-0000000004", "{\"topic\":\"http://t/a\",\"eligible\":[]}"), 200);
    CHECK(strcmp(body_of(), "{\"delivered\":0}") == 0);
    CHECK(text_is(a, NULL));
    CHECK_EQ_INT(pub.stats.published, 4);
    CHECK_EQ_INT(pub.stats.nonces, 4);
    /* refused: nothing delivered, each reported */
    http_errors = 0;
    CHECK_EQ_INT(signed_post("wrong", fake_now, "nonce-1000000001", "{\"topic\":\"http://t/a\",\"event\":9}"), 401);
    CHECK(strstr(resp, "WWW-Authenticate: Wamp1-HMAC-SHA256, Bearer\r\n") != NULL);
    CHECK(strstr(last_why, "wrong X-Wamp1-Signature") != NULL);
    CHECK_EQ_INT(signed_post("s3cret", fake_now - 61, "nonce-1000000002", "{\"topic\":\"http://t/a\",\"event\":9}"), 401);
    CHECK(strstr(last_why, "window") != NULL);
    CHECK_EQ_INT(signed_post("s3cret", fake_now + 61, "nonce-1000000003", "{\"topic\":\"http://t/a\",\"event\":9}"), 401);
    CHECK_EQ_INT(signed_post("s3cret", fake_now, "nonce-0000000001", "{\"topic\":\"http://t/a\",\"event\":9}"), 401);
    CHECK(strstr(last_why, "replayed") != NULL);
    CHECK_EQ_INT(signed_post("s3cret", fake_now, "short", "{\"topic\":\"http://t/a\",\"event\":9}"), 401);
    CHECK_EQ_INT(signed_post("s3cret", fake_now, "nonce.with.dots.", "{\"topic\":\"http://t/a\",\"event\":9}"), 401);
    CHECK_EQ_INT(post("/publish", "X-Wamp1-Timestamp: 1764806400\r\nX-Wamp1-Nonce: nonce-1000000009\r\nX-Wamp1-Signature: AAAA\r\n",
                      "{\"topic\":\"http://t/a\"}"), 401);
    CHECK_EQ_INT(post("/publish", NULL, "{\"topic\":\"http://t/a\",\"event\":9}"), 401);
    CHECK_EQ_INT(post("/publish", "Authorization: Bearer tok2\r\n", "{\"topic\":\"http://t/a\",\"event\":9}"), 401);
    CHECK_EQ_INT(post("/publish", "Authorization: Basic tok\r\n", "{\"topic\":\"http://t/a\",\"event\":9}"), 401);
    CHECK_EQ_INT(http_errors, 10);
    CHECK_EQ_INT(pub.stats.unauthorized, 10);
    CHECK(text_is(a, NULL));
    CHECK(text_is(b, NULL));
    /* the bearer token */
    CHECK_EQ_INT(post("/publish", "Authorization: bearer tok\r\n", "{\"topic\":\"http://t/a\",\"event\":\"t\"}"), 200);
    CHECK(text_is(a, "[8,\"http://t/a\",\"t\"]"));
    CHECK(text_is(b, "[8,\"http://t/a\",\"t\"]"));
    /* bad input */
    CHECK_EQ_INT(post("/publish", "Authorization: Bearer tok\r\n", "{\"topic\":"), 400);
    CHECK_EQ_INT(post("/publish", "Authorization: Bearer tok\r\n", "{\"event\":1}"), 400);
    CHECK_EQ_INT(post("/publish", "Authorization: Bearer tok\r\n", "[\"http://t/a\",1]"), 400);
    CHECK_EQ_INT(post("/publish", "Authorization: Bearer tok\r\n", "{\"topic\":5}"), 400);
    CHECK_EQ_INT(post("/publish", "Authorization: Bearer tok\r\n", "{\"topic\":\"http://t/a\",\"exclude\":\"x\"}"), 400);
    CHECK_EQ_INT(post("/publish", "Authorization: Bearer tok\r\n", "{\"topic\":\"http://t/a\",\"exclude\":[1]}"), 400);
    CHECK_EQ_INT(post("/publish", "Authorization: Bearer tok\r\n", "{\"topic\":\"http://nowhere/a\",\"event\":1}"), 404);
    CHECK_EQ_INT(post("/publish?x=1", "Authorization: Bearer tok\r\n", "{\"topic\":\"http://t/\\u0061\",\"event\":1}"), 200);
    CHECK(text_is(a, "[8,\"http://t/a\",1]"));
    {
        const char *parts[2] = {"GET /publish HTTP/1.1\r\nHost: h\r\n\r\n", NULL};
        CHECK_EQ_INT(http_parts(parts), 405);
        CHECK(strstr(resp, "Allow: POST\r\n") != NULL);
    }
    CHECK_EQ_INT(post("/publishx", "Authorization: Bearer tok\r\n", "{}"), 200); /* not its path */
    CHECK(text_is(b, "[8,\"http://t/a\",1]"));
    CHECK(text_is(b, NULL));
    CHECK(text_is(c, NULL));
    teardown(0);
}

TEST(test_nonce_table) {
    int a, i;
    char nonce[32];
    with_http = 1;
    setup("k", NULL, 0);
    a = wclient("http://t/a");
    /* WAMP1_PUBLISHER_NONCES is 4 here: the fifth fresh nonce within the window is refused */
    for (i = 0; i < 4; i++) {
        snprintf(nonce, sizeof nonce, "fill-nonce-%05d", i);
        CHECK_EQ_INT(signed_post("k", fake_now - 50 + i, nonce, "{\"topic\":\"http://t/a\",\"event\":0}"), 200);
        CHECK(text_is(a, "[8,\"http://t/a\",0]"));
    }
    CHECK_EQ_INT(signed_post("k", fake_now, "fill-nonce-99999", "{\"topic\":\"http://t/a\",\"event\":1}"), 401);
    CHECK(strstr(last_why, "nonce table full") != NULL);
    CHECK(text_is(a, NULL));
    /* bad signatures take no slot, and the token is not configured */
    CHECK_EQ_INT(post("/publish", "Authorization: Bearer x\r\n", "{\"topic\":\"http://t/a\"}"), 401);
    CHECK(strstr(resp, "WWW-Authenticate: Wamp1-HMAC-SHA256\r\n") != NULL);
    /* eleven seconds on, the first nonce's timestamp has left the window: its slot is free,
       the nonce itself could not come back (too old) */
    fake_now += 11;
    CHECK_EQ_INT(signed_post("k", fake_now, "fill-nonce-99999", "{\"topic\":\"http://t/a\",\"event\":1}"), 200);
    CHECK(text_is(a, "[8,\"http://t/a\",1]"));
    CHECK_EQ_INT(signed_post("k", fake_now - 50, "fill-nonce-00001", "{\"topic\":\"http://t/a\",\"event\":1}"), 401);
    CHECK(strstr(last_why, "replayed") != NULL);
    CHECK_EQ_INT(signed_post("k", fake_now - 61, "fill-nonce-00000", "{\"topic\":\"http://t/a\",\"event\":1}"), 401);
    CHECK(strstr(last_why, "window") != NULL);
    teardown(0);
}

/* ---- Redis: the publish by session ids on the wire, outside publishers' JSON -------------- */

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
static void redis_message(const char *chan, const char *payload) {
    static char b[4096];
    snprintf(b, sizeof b, ">3\r\n$7\r\nmessage\r\n$%u\r\n%s\r\n$%u\r\n%s\r\n", (unsigned)strlen(chan), chan,
             (unsigned)strlen(payload), payload);
    redis_in(b);
}

TEST(test_redis_push) {
    int a, b;
    char body[512], want[1024];
    const char *out;
    with_http = 1;
    setup(NULL, "tok", 1);
    a = wclient("http://t/a");
    b = wclient("http://t/a");
    redis_in("%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n");
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_UP);
    out = redis_out();
    CHECK(strstr(out, "SUBSCRIBE") != NULL);
    /* the HTTP publisher's event goes to Redis with its exclude list in the wire format */
    snprintf(body, sizeof body, "{\"topic\":\"http://t/a\",\"event\":{\"x\":1},\"exclude\":[\"%s\"]}", sids[a]);
    CHECK_EQ_INT(post("/publish", "Authorization: Bearer tok\r\n", body), 200);
    CHECK(text_is(a, NULL));
    CHECK(text_is(b, "[8,\"http://t/a\",{\"x\":1}]"));
    snprintf(body, sizeof body, "1 me 16 1 - %s{\"x\":1}", sids[a]);
    snprintf(want, sizeof want, "*3\r\n$7\r\nPUBLISH\r\n$16\r\nwamp1:http://t/a\r\n$%u\r\n%s\r\n", (unsigned)strlen(body), body);
    out = redis_out();
    if (strcmp(out, want) != 0) printf("    to Redis: %s\n", out);
    CHECK(strcmp(out, want) == 0);
    /* ... and with an eligible list */
    snprintf(body, sizeof body, "{\"topic\":\"http://t/a\",\"event\":2,\"eligible\":[\"%s\",\"%s\"]}", sids[a], sids[b]);
    CHECK_EQ_INT(post("/publish", "Authorization: Bearer tok\r\n", body), 200);
    CHECK(text_is(a, "[8,\"http://t/a\",2]"));
    CHECK(text_is(b, "[8,\"http://t/a\",2]"));
    snprintf(body, sizeof body, "1 me 16 0 2 %s%s2", sids[a], sids[b]);
    snprintf(want, sizeof want, "*3\r\n$7\r\nPUBLISH\r\n$16\r\nwamp1:http://t/a\r\n$%u\r\n%s\r\n", (unsigned)strlen(body), body);
    CHECK(strcmp(redis_out(), want) == 0);
    /* an outside publisher's plain JSON: delivered here, sent nowhere */
    redis_message("wamp1:http://t/a", " {\"event\": {\"from\": \"php\"}, \"topic\": \"ignored\"}");
    CHECK(text_is(a, "[8,\"http://t/a\",{\"from\": \"php\"}]"));
    CHECK(text_is(b, "[8,\"http://t/a\",{\"from\": \"php\"}]"));
    CHECK(strcmp(redis_out(), "") == 0);
    snprintf(body, sizeof body, "{\"event\":5,\"exclude\":[\"%s\"]}", sids[b]);
    redis_message("wamp1:http://t/a", body);
    CHECK(text_is(a, "[8,\"http://t/a\",5]"));
    CHECK(text_is(b, NULL));
    snprintf(body, sizeof body, "{\"event\":6,\"eligible\":[\"%s\"]}", sids[b]);
    redis_message("wamp1:http://t/a", body);
    CHECK(text_is(a, NULL));
    CHECK(text_is(b, "[8,\"http://t/a\",6]"));
    redis_message("wamp1:http://t/a", "{}"); /* no event: null */
    CHECK(text_is(a, "[8,\"http://t/a\",null]"));
    CHECK(text_is(b, "[8,\"http://t/a\",null]"));
    CHECK_EQ_INT(redis.stats.external, 4);
    /* malformed: dropped, counted, reported; the link stays up */
    redis_message("wamp1:http://t/a", "{\"event\": }");
    redis_message("wamp1:http://t/a", "{\"event\":1,\"exclude\":{}}");
    CHECK_EQ_INT(redis.stats.malformed, 2);
    CHECK(text_is(a, NULL));
    CHECK_EQ_INT(redis.state, WAMP1_REDIS_UP);
    teardown(1);
}

int main(void) {
    RUN(test_post_body);
    RUN(test_post_waits_for_a_buffer);
    RUN(test_sign_vectors);
    RUN(test_publisher);
    RUN(test_nonce_table);
    RUN(test_redis_push);
    return t_summary("push");
}
