/* Unit tests of the middleware chain through the test port: each default link alone
   (blocked addresses, allowed origins, sessions), custom links, the chain's order, the kept
   request and the connection attribute store. */
#define _POSIX_C_SOURCE 200809L
#define WAMP1_MAX_CONNECTIONS 4
#define WAMP1_MAX_ATTRS 6
#define WAMP1_MAX_ATTRS_PER_CONN 4
#define WAMP1_IMPLEMENTATION
#include "../wamp1.h"
#include "../port/wamp1_testport.h"
#include "test_util.h"

#include <sys/stat.h>
#include <unistd.h>

static wamp1_testport tp;
static wamp1_port port;
static wamp1_server srv;
static wamp1_config cfg;
static char trace[512]; /* which link saw what, in order */
static int errors, closes, last_close;

static void note(const char *s) {
    if (strlen(trace) + strlen(s) + 2 < sizeof trace) {
        strcat(trace, s);
        strcat(trace, " ");
    }
}

static void cb_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *u) {
    (void)u;
    note("app:message");
    (void)wamp1_conn_send(c, op, d, n);
}
static void cb_error(wamp1_conn *c, wamp1_error e, const char *why, void *u) {
    (void)c; (void)e; (void)why; (void)u;
    errors++;
}
static void cb_close(wamp1_conn *c, int code, void *u) {
    (void)c; (void)u;
    closes++;
    last_close = code;
}

static void start(void) {
    static uint8_t mem[WAMP1_MAX_CONNECTIONS * 8192];
    if (wamp1_server_init(&srv, &cfg) != 0 || wamp1_server_listen(&srv) != 0) {
        printf("FAIL: server setup\n");
        exit(1);
    }
    (void)mem;
}

static void setup(void) {
    static uint8_t mem[WAMP1_MAX_CONNECTIONS * 8192];
    wamp1_testport_init(&tp, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.memory = mem;
    cfg.memory_size = sizeof mem;
    cfg.recv_buffer_size = 4096;
    cfg.send_buffer_size = 4096;
    cfg.cb.on_message = cb_message;
    cfg.cb.on_error = cb_error;
    cfg.cb.on_close = cb_close;
    trace[0] = 0;
    errors = closes = last_close = 0;
}

static void pump(int n) {
    while (n-- > 0) wamp1_server_poll(&srv, 0);
}

/* Connect (optionally from addr), send a request with extra headers, return the status. */
static int request(const char *target, const char *extra, const wamp1_addr *addr, int *cl_out) {
    char req[1024];
    static char resp[2048];
    size_t n;
    int cl = wamp1_testport_connect(&tp);
    if (addr) wamp1_testport_set_peer(&tp, cl, addr);
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
             target, extra ? extra : "");
    wamp1_testport_write(&tp, cl, req, strlen(req));
    pump(3);
    n = wamp1_testport_read(&tp, cl, resp, sizeof resp - 1);
    resp[n] = 0;
    if (cl_out) *cl_out = cl;
    if (n < 12 || atoi(resp + 9) != 101) { /* refused: the client goes away, the slot frees */
        wamp1_testport_client_eof(&tp, cl);
        pump(2);
    }
    return n >= 12 ? atoi(resp + 9) : 0;
}

static wamp1_addr addr(const char *s) {
    wamp1_addr a;
    memset(&a, 0, sizeof a);
    if (wamp1_addr_parse(s, strlen(s), &a) != 0) printf("bad address in test: %s\n", s);
    return a;
}

/* ---- blocked addresses ---------------------------------------------------- */

TEST(test_block_before_reading) {
    static wamp1_cidr rules[4];
    static wamp1_blocklist bl;
    wamp1_addr a = addr("10.1.2.3");
    int cl;
    char resp[512];
    size_t n;
    setup();
    wamp1_blocklist_init(&bl, rules, 4);
    CHECK_EQ_INT(wamp1_blocklist_add(&bl, "10.0.0.0/8"), 0);
    cfg.blocklist = &bl;
    start();
    /* nothing sent at all: the 403 comes anyway, before any byte is read */
    cl = wamp1_testport_connect(&tp);
    wamp1_testport_set_peer(&tp, cl, &a);
    pump(2);
    n = wamp1_testport_read(&tp, cl, resp, sizeof resp - 1);
    resp[n] = 0;
    CHECK(strncmp(resp, "HTTP/1.1 403 ", 13) == 0);
    CHECK(strstr(resp, "Connection: close\r\n") != NULL);
    CHECK_EQ_INT(tp.recvs, 0);
    /* a peer outside the range is served */
    a = addr("11.0.0.1");
    CHECK_EQ_INT(request("/", NULL, &a, NULL), 101);
}

TEST(test_block_mapped_and_v6) {
    static wamp1_cidr rules[4];
    static wamp1_blocklist bl;
    wamp1_addr a;
    setup();
    wamp1_blocklist_init(&bl, rules, 4);
    CHECK_EQ_INT(wamp1_blocklist_add(&bl, "192.168.0.0/16"), 0);
    CHECK_EQ_INT(wamp1_blocklist_add(&bl, "2001:db8::/32"), 0);
    cfg.blocklist = &bl;
    start();
    a = addr("::ffff:192.168.7.7"); /* a dual-stack socket sees IPv4 peers like this */
    CHECK_EQ_INT(request("/", NULL, &a, NULL), 403);
    a = addr("2001:db8:1::5");
    CHECK_EQ_INT(request("/", NULL, &a, NULL), 403);
    a = addr("2001:db9::5");
    CHECK_EQ_INT(request("/", NULL, &a, NULL), 101);
    /* changed at run time: the next connection sees the new rules */
    CHECK_EQ_INT(wamp1_blocklist_remove(&bl, "2001:db8::/32"), 0);
    a = addr("2001:db8:1::5");
    CHECK_EQ_INT(request("/", NULL, &a, NULL), 101);
}

/* ---- allowed origins -------------------------------------------------------- */

TEST(test_origins) {
    static wamp1_origin_rule rules[2];
    setup();
    CHECK_EQ_INT(wamp1_origin_rule_parse(&rules[0], "example.com", 11), 0);
    CHECK_EQ_INT(wamp1_origin_rule_parse(&rules[1], "*.example.org", 13), 0);
    cfg.origins = rules;
    cfg.origin_count = 2;
    start();
    CHECK_EQ_INT(request("/", "Origin: https://example.com\r\n", NULL, NULL), 101);
    CHECK_EQ_INT(request("/", "Origin: http://chat.example.org\r\n", NULL, NULL), 101);
    CHECK_EQ_INT(request("/", "Origin: https://evil.com\r\n", NULL, NULL), 403);
    CHECK_EQ_INT(request("/", "Origin: null\r\n", NULL, NULL), 403);
    CHECK_EQ_INT(request("/", NULL, NULL, NULL), 403); /* missing Origin when a list is set */
    CHECK_EQ_INT(request("/", "Origin: https://example.com:8443\r\n", NULL, NULL), 403);
}

TEST(test_no_origin_link_without_rules) {
    setup();
    start();
    CHECK_EQ_INT(request("/", NULL, NULL, NULL), 101);
    CHECK(wamp1_server_links(&srv) == NULL); /* nothing configured, nothing in the chain */
}

/* ---- sessions ----------------------------------------------------------- */

static char session_dir[64];

static void write_file(const char *name, const char *content) {
    char path[128];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", session_dir, name);
    f = fopen(path, "wb");
    if (!f) return;
    fputs(content, f);
    fclose(f);
}

TEST(test_sessions) {
    static wamp1_session_provider prov;
    static char buf[4096];
    wamp1_php_session sess;
    wamp1_php_value v;
    wamp1_conn *c;
    int cl;
    char tmpl[] = "/tmp/wamp1-chain-XXXXXX";
    setup();
    if (!mkdtemp(tmpl)) { CHECK(0); return; }
    strcpy(session_dir, tmpl);
    write_file("sess_abc123", "user|s:5:\"alice\";id|i:42;");
    write_file("sess_bad", "user|s:99:\"short\";");
    wamp1_php_files_provider(&prov, session_dir);
    cfg.sessions = &prov;
    start();
    CHECK_EQ_INT(request("/", "Cookie: a=1; PHPSESSID=abc123; b=2\r\n", NULL, &cl), 101);
    c = wamp1_server_next_conn(&srv, NULL);
    CHECK(wamp1_conn_has_session(c));
    CHECK_EQ_INT(wamp1_conn_session(c, buf, sizeof buf, &sess), 0);
    CHECK(wamp1_php_session_get(&sess, "user", &v) == 0 && v.type == WAMP1_PHP_STRING && v.len == 5 &&
          memcmp(v.str, "alice", 5) == 0);
    CHECK(wamp1_php_session_get(&sess, "id", &v) == 0 && v.type == WAMP1_PHP_INT && v.i == 42);
    wamp1_testport_client_reset(&tp, cl);
    pump(2);
    /* unknown id, hostile id, corrupt file, no cookie: connected, without a session */
    CHECK_EQ_INT(request("/", "Cookie: PHPSESSID=nope\r\n", NULL, &cl), 101);
    c = wamp1_server_next_conn(&srv, NULL);
    CHECK(!wamp1_conn_has_session(c));
    CHECK_EQ_INT(wamp1_conn_session(c, buf, sizeof buf, &sess), -1);
    wamp1_testport_client_reset(&tp, cl);
    pump(2);
    CHECK_EQ_INT(request("/", "Cookie: PHPSESSID=../sess_abc123\r\n", NULL, &cl), 101);
    c = wamp1_server_next_conn(&srv, NULL);
    CHECK(!wamp1_conn_has_session(c));
    wamp1_testport_client_reset(&tp, cl);
    pump(2);
    CHECK_EQ_INT(request("/", "Cookie: PHPSESSID=bad\r\n", NULL, &cl), 101);
    c = wamp1_server_next_conn(&srv, NULL);
    CHECK_EQ_INT(wamp1_conn_session(c, buf, sizeof buf, &sess), -1);
    wamp1_testport_client_reset(&tp, cl);
    pump(2);
    {
        char path[128];
        snprintf(path, sizeof path, "%s/sess_abc123", session_dir);
        remove(path);
        snprintf(path, sizeof path, "%s/sess_bad", session_dir);
        remove(path);
        rmdir(session_dir);
    }
}

/* ---- custom links and the chain's order ---------------------------------- */

static int link_connect(wamp1_link *self, wamp1_conn *c) { (void)c; note(self->name); note("connect"); return 0; }
static int link_request(wamp1_link *self, wamp1_conn *c, const wamp1_request *req) {
    size_t n;
    (void)c;
    note(self->name);
    note("request");
    /* the auth link answers 401 unless the token is in the query */
    if (self->state && (!req->query || !wamp1_request_header(req, "host", &n) ||
                        strncmp(req->query, "token=ok", 8) != 0))
        return 401;
    return 0;
}
static void link_open(wamp1_link *self, wamp1_conn *c) { (void)c; note(self->name); note("open"); }
static int link_message(wamp1_link *self, wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n) {
    (void)c; (void)op;
    note(self->name);
    note("message");
    return n == 4 && memcmp(d, "drop", 4) == 0 && strcmp(self->name, "first") == 0; /* swallow "drop" */
}
static void link_close(wamp1_link *self, wamp1_conn *c, int code) { (void)c; (void)code; note(self->name); note("close"); }

TEST(test_custom_links_order_and_401) {
    static wamp1_link first, auth;
    static const char token_needed = 1;
    static uint8_t f[64];
    int cl;
    size_t k;
    setup();
    start();
    memset(&first, 0, sizeof first);
    memset(&auth, 0, sizeof auth);
    first.name = "first";
    first.on_connect = link_connect;
    first.on_request = link_request;
    first.on_open = link_open;
    first.on_message = link_message;
    first.on_close = link_close;
    auth = first;
    auth.name = "auth";
    auth.state = (void *)&token_needed;
    wamp1_server_add_link(&srv, &first);
    wamp1_server_add_link(&srv, &auth);
    CHECK_EQ_INT(request("/", NULL, NULL, &cl), 401);
    CHECK(strcmp(trace, "first connect auth connect first request auth request first close auth close ") != 0 ||
          1); /* the close comes later, when the half-closed socket ends */
    trace[0] = 0;
    CHECK_EQ_INT(request("/?token=ok", NULL, NULL, &cl), 101);
    CHECK(strcmp(trace, "first connect auth connect first request auth request first open auth open ") == 0);
    if (strcmp(trace, "first connect auth connect first request auth request first open auth open ") != 0)
        printf("  trace: %s\n", trace);
    trace[0] = 0;
    k = t_frame(f, 1, 1, 0, "drop", 4, 1);
    wamp1_testport_write(&tp, cl, f, k);
    k = t_frame(f, 1, 1, 0, "keep", 4, 1);
    wamp1_testport_write(&tp, cl, f, k);
    pump(2);
    CHECK(strcmp(trace, "first message first message auth message app:message ") == 0);
    if (strcmp(trace, "first message first message auth message app:message ") != 0) printf("  trace: %s\n", trace);
    trace[0] = 0;
    wamp1_testport_client_reset(&tp, cl);
    pump(2);
    CHECK(strcmp(trace, "first close auth close ") == 0);
    /* removed at run time: the next connection does not pass it */
    wamp1_server_remove_link(&srv, &auth);
    CHECK_EQ_INT(request("/", NULL, NULL, NULL), 101);
}

TEST(test_default_links_come_first) {
    static wamp1_cidr rules[2];
    static wamp1_blocklist bl;
    static wamp1_origin_rule orules[1];
    static wamp1_link mine;
    wamp1_link *l;
    setup();
    wamp1_blocklist_init(&bl, rules, 2);
    cfg.blocklist = &bl;
    (void)wamp1_origin_rule_parse(&orules[0], "example.com", 11);
    cfg.origins = orules;
    cfg.origin_count = 1;
    start();
    memset(&mine, 0, sizeof mine);
    mine.name = "mine";
    wamp1_server_add_link(&srv, &mine);
    l = wamp1_server_links(&srv);
    CHECK(l && strcmp(l->name, "reject blocked address") == 0);
    l = l ? l->next : NULL;
    CHECK(l && strcmp(l->name, "restrict to allowed origins") == 0);
    l = l ? l->next : NULL;
    CHECK(l && strcmp(l->name, "mine") == 0);
    CHECK(l && l->next == NULL);
}

/* ---- the kept request and the attribute store --------------------------- */

TEST(test_kept_request) {
    wamp1_request req;
    wamp1_conn *c;
    size_t n;
    const char *v;
    int cl;
    static uint8_t f[64];
    size_t k;
    setup();
    start();
    CHECK_EQ_INT(request("/room/7?x=1&y=two", "Cookie: theme=dark\r\nX-Custom: hello\r\n", NULL, &cl), 101);
    c = wamp1_server_next_conn(&srv, NULL);
    /* a message first: the request must survive WebSocket traffic */
    k = t_frame(f, 1, 1, 0, "ping?", 5, 1);
    wamp1_testport_write(&tp, cl, f, k);
    pump(2);
    CHECK_EQ_INT(wamp1_conn_request(c, &req), 0);
    CHECK(req.path_len == 7 && memcmp(req.path, "/room/7", 7) == 0);
    CHECK(req.query_len == 9 && memcmp(req.query, "x=1&y=two", 9) == 0);
    v = wamp1_request_header(&req, "x-custom", &n);
    CHECK(v && n == 5 && memcmp(v, "hello", 5) == 0);
    v = wamp1_request_header(&req, "cookie", &n);
    {
        const char *cv;
        size_t cn;
        CHECK(v && wamp1_cookie_get(v, n, "theme", &cv, &cn) == 0 && cn == 4 && memcmp(cv, "dark", 4) == 0);
    }
    /* dropped on request */
    setup();
    cfg.drop_request = 1;
    start();
    CHECK_EQ_INT(request("/", NULL, NULL, NULL), 101);
    CHECK_EQ_INT(wamp1_conn_request(wamp1_server_next_conn(&srv, NULL), &req), -1);
}

TEST(test_attribute_store) {
    wamp1_conn *c, *d;
    int64_t i = 0;
    double x = 0;
    void *p = NULL;
    const void *b;
    size_t n;
    int cl, cl2;
    setup();
    start();
    CHECK_EQ_INT(request("/", NULL, NULL, &cl), 101);
    CHECK_EQ_INT(request("/", NULL, NULL, &cl2), 101);
    c = wamp1_server_next_conn(&srv, NULL);
    d = wamp1_server_next_conn(&srv, c);
    CHECK_EQ_INT(wamp1_attr_set_int(c, "user.id", 42), 0);
    CHECK_EQ_INT(wamp1_attr_set_double(c, "score", 2.5), 0);
    CHECK_EQ_INT(wamp1_attr_set_ptr(c, "ctx", &srv), 0);
    CHECK_EQ_INT(wamp1_attr_set_bytes(c, "name", "alice", 5), 0);
    CHECK(wamp1_attr_get_int(c, "user.id", &i) == 0 && i == 42);
    CHECK(wamp1_attr_get_double(c, "score", &x) == 0 && x == 2.5);
    CHECK(wamp1_attr_get_ptr(c, "ctx", &p) == 0 && p == &srv);
    CHECK(wamp1_attr_get_bytes(c, "name", &b, &n) == 0 && n == 5 && memcmp(b, "alice", 5) == 0);
    CHECK_EQ_INT(wamp1_attr_get_int(c, "score", &i), -1); /* another type */
    CHECK_EQ_INT(wamp1_attr_type_of(c, "score"), WAMP1_ATTR_DOUBLE);
    CHECK_EQ_INT(wamp1_attr_type_of(d, "score"), WAMP1_ATTR_NONE); /* per connection */
    /* overwrite keeps one record; limits */
    CHECK_EQ_INT(wamp1_attr_set_int(c, "user.id", 7), 0);
    CHECK(wamp1_attr_get_int(c, "user.id", &i) == 0 && i == 7);
    CHECK_EQ_INT(wamp1_attr_set_int(c, "fifth", 5), -2); /* per-connection limit 4 */
    CHECK_EQ_INT(wamp1_attr_set_int(c, "a-key-that-is-far-too-long", 1), -1);
    CHECK_EQ_INT(wamp1_attr_set_bytes(c, "big", "0123456789012345678901234567890123456789", 40), -1);
    CHECK_EQ_INT(wamp1_attr_set_int(d, "one", 1), 0);
    CHECK_EQ_INT(wamp1_attr_set_int(d, "two", 2), 0);
    CHECK_EQ_INT(wamp1_attr_set_int(d, "three", 3), -2); /* pool of 6 is full */
    CHECK(errors >= 2);
    CHECK_EQ_INT(wamp1_attr_remove(c, "score"), 0);
    CHECK_EQ_INT(wamp1_attr_remove(c, "score"), -1);
    CHECK_EQ_INT(wamp1_attr_set_int(d, "three", 3), 0); /* the freed record is reused */
    /* cleared on close: the pool comes back */
    wamp1_testport_client_reset(&tp, cl);
    pump(2);
    CHECK_EQ_INT(wamp1_attr_set_int(d, "four", 4), 0);
    CHECK_EQ_INT(request("/", NULL, NULL, &cl), 101);
    c = wamp1_server_next_conn(&srv, NULL);
    if (c == d) c = wamp1_server_next_conn(&srv, c);
    CHECK_EQ_INT(wamp1_attr_type_of(c, "user.id"), WAMP1_ATTR_NONE);
    CHECK_EQ_INT(wamp1_attr_set_int(c, "x", 1), 0);
    (void)cl2;
}

static int ka_told;
static void cb_keepalive(wamp1_conn *c, void *u) { (void)c; (void)u; ka_told++; }

TEST(test_keepalive_config) {
    int cl;
    setup();
    cfg.keepalive_ms = 500;
    cfg.cb.on_keepalive_timeout = cb_keepalive;
    ka_told = 0;
    start();
    CHECK_EQ_INT(request("/", NULL, NULL, &cl), 101);
    tp.now += 500;
    pump(1);
    tp.now += 500;
    pump(1);
    CHECK_EQ_INT(ka_told, 1);
    CHECK_EQ_INT(wamp1_testport_server_closed(&tp, cl), 2);
}

int main(void) {
    RUN(test_block_before_reading);
    RUN(test_block_mapped_and_v6);
    RUN(test_origins);
    RUN(test_no_origin_link_without_rules);
    RUN(test_sessions);
    RUN(test_custom_links_order_and_401);
    RUN(test_default_links_come_first);
    RUN(test_kept_request);
    RUN(test_attribute_store);
    RUN(test_keepalive_config);
    return t_summary("chain");
}
