/* libFuzzer target: the browser side. port/wamp1_http.h answering plain HTTP (a table with
 * gzip variants, a gzip-only file and a directory; POST /publish goes to port/wamp1_publisher.h
 * with the bearer token "t" and the secret "s"), and port/wamp1_cra.h's authreq/auth and
 * permission middleware on a WAMP app, through the test port.
 *
 *   bash tests/fuzz/run.sh 60        (FUZZ_TARGETS=web for this one alone)
 *
 * Input: byte 0 picks the mode. Even: the rest is one plain HTTP request (written in pieces
 * sized by byte 1): the client must get exactly one complete response with a status the
 * responder documents, and the server must close. Odd: the rest is a series of WAMP
 * messages (length byte + text) from one session to an app with WAMP-CRA (keys "k" unsalted,
 * "s" salted, anonymous; required when bit 1 is set), among them the right signature when a
 * message is "!" (the fuzzer cannot compute HMACs): no crash or sanitizer report, every
 * server message is valid JSON, and the pools are empty after the session ends. */
#define WAMP1_MAX_CONNECTIONS 2
#define WAMP1_RECV_BUFFER_SIZE 4096
#define WAMP1_SEND_BUFFER_SIZE 8192
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_TESTPORT_SOCKETS 2
#define WAMP1_TESTPORT_BUFFER (64u * 1024u)
#include "fuzz_common.h"
#include "../../port/wamp1_http.h"
#include "../../port/wamp1_cra.h"
#include "../../port/wamp1_publisher.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static wamp1_testport tp;
static wamp1_port port;
static wamp1_app app;
static uint8_t mem[WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
static fz_stream st;
static char dir[64], scratch[2048];

static const char page[] = "<!doctype html><title>t</title>hello\n";
static const uint8_t gz[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3, 1, 2, 3};
static const wamp1_http_file files[] = {
    {"/", "text/html; charset=utf-8", page, sizeof page - 1, gz, sizeof gz, NULL},
    {"/x.js", "text/javascript", "1;", 2, NULL, 0, "\"t\""},
    {"/z", "text/plain", NULL, 0, gz, sizeof gz, NULL},
};
static wamp1_http_site site = {files, 3, NULL, scratch, sizeof scratch, NULL};

static wamp1_publisher pub;
static int64_t fixed_clock(void *u) { (void)u; return 1764806400; }

static void on_http(wamp1_conn *c, const wamp1_request *req, void *u) {
    int s;
    (void)u;
    if ((s = wamp1_publisher_handle(&pub, c, req)) != 0) {
        REQUIRE(s == 200 || s == 400 || s == 401 || s == 404 || s == 405);
        return;
    }
    s = wamp1_http_serve(c, req, &site);
    REQUIRE(s == 200 || s == 304 || s == 400 || s == 403 || s == 404 || s == 405 || s == 406 || s == 500);
}

/* ---- WAMP-CRA ---- */
static const wamp1_cra_perm rpc_all[] = {{"http://x/rpc#", 1, 0, 0, 1}};
static const wamp1_cra_perm ps_all[] = {{"http://x/t/", 1, 1, 1, 0}};
static wamp1_cra_key key_k = {"secret", NULL, 0, 0, ps_all, 1, rpc_all, 1, {0}, 0};
static wamp1_cra_key key_s = {"pw", "salt", 3, 20, NULL, 0, rpc_all, 1, {0}, 0};
static wamp1_cra_key key_anon = {NULL, NULL, 0, 0, NULL, 0, rpc_all, 1, {0}, 0};
static wamp1_cra cra;
static char challenge[WAMP1_CRA_MAX_CHALLENGE + 64];
static size_t challenge_len;
static int challenge_key; /* 'k' or 's' */
static unsigned answers; /* CALLRESULTs and CALLERRORs seen */

static wamp1_cra_key *lookup(void *user, const char *k, size_t n) {
    (void)user;
    if (!k) return &key_anon;
    if (n == 1 && k[0] == 'k') return &key_k;
    if (n == 1 && k[0] == 's') return &key_s;
    return NULL;
}

static wamp1_call_status rpc_echo(wamp1_call *call, void *user) {
    (void)user;
    wamp1_jw_null(wamp1_call_result_begin(call));
    return WAMP1_CALL_OK;
}

static void on_frame(void *ctx, const fz_sframe *f) {
    wamp1_json_tok t[64];
    const char *p = (const char *)f->payload;
    int n;
    (void)ctx;
    if (f->op != 1) return;
    n = wamp1_json_parse(p, f->len, t, 64, 16, NULL);
    REQUIRE(n > 0 && t[0].type == WAMP1_JSON_ARRAY && t[0].size >= 1);
    if (p[t[1].start] == '3' || p[t[1].start] == '4') answers++;
    if (p[t[1].start] == '3' && t[0].size == 3) {
        /* a challenge (a string result) is remembered for "!" */
        int r = wamp1_json_array_get(t, n, 0, 2);
        size_t len = 0;
        if (r > 0 && t[r].type == WAMP1_JSON_STRING &&
            wamp1_json_unescape(p, &t[r], challenge, sizeof challenge, &len) == 0 && len > 20 &&
            memcmp(challenge, "{\"authid\"", 9) == 0) {
            challenge_len = len;
            challenge_key = strstr(challenge, "\"authkey\":\"s\"") ? 's' : 'k';
        }
    }
}

static void settle(int cl) {
    int quiet = 0, i;
    for (i = 0; i < 10000 && quiet < 2; i++) {
        unsigned long before = st.frames;
        wamp1_app_poll(&app, 0);
        fz_stream_pull(&st, &tp, cl);
        quiet = st.frames == before && tp.socks[cl - 1].in.len == 0 ? quiet + 1 : 0;
    }
}

static void send_text(int cl, const uint8_t *m, size_t n) {
    static uint8_t fr[400];
    static const uint8_t key[4] = {1, 2, 3, 4};
    size_t k = fz_frame(fr, 0x81, m, n, 1, key, 0);
    REQUIRE(wamp1_testport_write(&tp, cl, fr, k) == k);
}

static void setup(int with_cra, int required) {
    static const wamp1_handler h_echo = {rpc_echo, 0, 0, 0, 0}, h_topic = {0, 0, 0, 0, 0};
    wamp1_app_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.memory = mem;
    cfg.server.memory_size = sizeof mem;
    cfg.server.close_timeout_ms = 500;
    cfg.server.handshake_timeout_ms = 1000;
    cfg.server.cb.on_http = on_http;
    REQUIRE(wamp1_app_init(&app, &cfg) == 0);
    wamp1_app_add_rpc(&app, "http://x/rpc#echo", &h_echo);
    wamp1_app_add_rpc(&app, "http://y/rpc#echo", &h_echo);
    wamp1_app_add_topic(&app, "http://x/t/{n}", &h_topic);
    if (with_cra) {
        memset(&cra, 0, sizeof cra);
        cra.lookup = lookup;
        cra.required = required;
        REQUIRE(wamp1_cra_attach(&app, &cra) == 0);
    }
    REQUIRE(wamp1_app_listen(&app) == 0);
    {
        wamp1_publisher_config pc;
        memset(&pc, 0, sizeof pc);
        pc.secret = "s";
        pc.token = "t";
        pc.clock = fixed_clock;
        REQUIRE(wamp1_publisher_init(&pub, &app, &pc) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in;
    uint8_t mode;
    int cl, i;
    if (size < 2) return 0;
    if (!dir[0]) {
        FILE *f;
        char p[128];
        snprintf(dir, sizeof dir, "/tmp/wamp1_fuzz_web_%d", (int)getpid());
        mkdir(dir, 0700);
        snprintf(p, sizeof p, "%s/index.html", dir);
        if ((f = fopen(p, "wb")) != NULL) { fputs("<p>i</p>", f); fclose(f); }
        snprintf(p, sizeof p, "%s/a.css", dir);
        if ((f = fopen(p, "wb")) != NULL) { fputs("p{}", f); fclose(f); }
    }
    in.p = data;
    in.n = size;
    mode = fz_u8(&in);
    wamp1_testport_init(&tp, &port);
    fz_stream_reset(&st);
    st.on_frame = on_frame;
    if (!(mode & 1)) {
        fz_split sp;
        const uint8_t *req;
        size_t len, off = 0;
        site.root = (mode & 2) ? dir : NULL;
        site.count = (mode & 4) ? 0 : 3;
        setup(0, 0);
        fz_split_init(&sp, fz_u8(&in));
        len = fz_take(&in, in.n, &req);
        cl = wamp1_testport_connect(&tp);
        while (off < len) {
            size_t k = fz_split_next(&sp, len - off);
            wamp1_testport_write(&tp, cl, req + off, k);
            off += k;
            wamp1_app_poll(&app, 0);
            fz_stream_pull(&st, &tp, cl);
        }
        settle(cl);
        if (st.status && len >= 5 && memcmp(req, "HEAD ", 5) == 0 && st.status == 200) {
            /* HEAD: the GET's Content-Length, and no body at all */
            const char *cl_at = strstr((const char *)st.head, "\r\nContent-Length: ");
            REQUIRE(cl_at && strtol(cl_at + 18, NULL, 10) == st.body_left);
        } else if (st.status) {
            REQUIRE(st.status != 101 && st.complete);
        }
        wamp1_testport_client_eof(&tp, cl);
    } else {
        answers = 0;
        challenge_len = 0;
        setup(1, (mode & 2) != 0);
        cl = wamp1_testport_connect(&tp);
        wamp1_testport_write(&tp, cl, fz_upgrade_wamp, sizeof fz_upgrade_wamp - 1);
        settle(cl);
        REQUIRE(st.status == 101);
        while (in.n > 0) {
            size_t n = fz_u8(&in) % 300u;
            const uint8_t *p;
            uint8_t msg[400];
            n = fz_take(&in, n, &p);
            if (n == 1 && p[0] == '!' && challenge_len) {
                /* the right signature for the last challenge */
                char sig[45], key[92];
                int k;
                if (challenge_key == 's') wamp1_cra_derive("pw", "salt", 3, 20, key);
                else memcpy(key, "secret", 7);
                wamp1_cra_sign(key, strlen(key), challenge, challenge_len, sig);
                k = snprintf((char *)msg, sizeof msg, "[2,\"auth\",\"http://api.wamp.ws/procedure#auth\",\"%s\"]", sig);
                n = (size_t)k;
            } else {
                memcpy(msg, p, n);
                /* valid UTF-8 only: the WebSocket layer is fuzzed elsewhere */
                for (i = 0; i < (int)n; i++) msg[i] &= 0x7F;
            }
            send_text(cl, msg, n);
            settle(cl);
            if (st.closed) break;
        }
        {
            uint8_t fr[16];
            static const uint8_t key[4] = {9, 9, 9, 9};
            uint8_t code[2] = {0x03, 0xE8};
            size_t k = fz_frame(fr, 0x88, code, 2, 1, key, 0);
            if (!st.closed) wamp1_testport_write(&tp, cl, fr, k);
        }
        settle(cl);
        wamp1_testport_client_eof(&tp, cl);
    }
    for (i = 0; i < 20 && wamp1_testport_server_closed(&tp, cl) != 1; i++) {
        wamp1_app_poll(&app, 200);
        fz_stream_pull(&st, &tp, cl);
    }
    REQUIRE(wamp1_testport_server_closed(&tp, cl) == 1);
    {
        wamp1_stats s;
        wamp1_wamp_stats ws;
        wamp1_server_stats(wamp1_app_server(&app), &s);
        wamp1_app_stats(&app, &ws);
        REQUIRE(s.connections == 0);
        REQUIRE(ws.subscriptions == 0 && ws.pending_calls == 0 && ws.prefixes == 0);
    }
    wamp1_app_shutdown(&app, 100);
    return 0;
}
