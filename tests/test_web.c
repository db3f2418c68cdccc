/* Unit tests of the browser side: plain HTTP through port/wamp1_http.h (the table in memory,
   gzip negotiation, ETag/304, HEAD, 404/405, a directory with traversal refused, the links
   applied to plain HTTP) over the test port, and the primitives of port/wamp1_cra.h against
   the published vectors (FIPS 180-4 examples, RFC 4231, RFC 7914 section 11). */
#define _POSIX_C_SOURCE 200809L
#define WAMP1_MAX_CONNECTIONS 4
#define WAMP1_IMPLEMENTATION
#include "../wamp1.h"
#include "../port/wamp1_testport.h"
#include "../port/wamp1_http.h"
#include "../port/wamp1_cra.h"
#include "test_util.h"

#include <sys/stat.h>
#ifdef _WIN32
#define mkdir_(p) _mkdir(p)
#else
#include <unistd.h>
#define mkdir_(p) mkdir((p), 0700)
#endif

static wamp1_testport tp;
static wamp1_port port;
static wamp1_server srv;
static wamp1_config cfg;
static int errors;
static char resp[8192];
static size_t resp_len;

static const char page[] = "<!doctype html><title>t</title>hello\n";
static const unsigned char page_gz[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3, 'z', 'z'}; /* stands for it */
static const wamp1_http_file files[] = {
    {"/", "text/html; charset=utf-8", page, sizeof page - 1, page_gz, sizeof page_gz, NULL},
    {"/app.js", "text/javascript", "let a = 1;\n", 11, NULL, 0, "\"fixed-tag\""},
};
static char scratch[4096], dir[256];
static wamp1_http_site site = {files, 2, NULL, scratch, sizeof scratch, NULL};

static void cb_error(wamp1_conn *c, wamp1_error e, const char *why, void *u) {
    (void)c; (void)e; (void)why; (void)u;
    errors++;
}
static void cb_http(wamp1_conn *c, const wamp1_request *req, void *u) {
    (void)u;
    (void)wamp1_http_serve(c, req, &site);
}

static void pump(int n) {
    while (n-- > 0) wamp1_server_poll(&srv, 0);
}

static void start(int with_http) {
    static uint8_t mem[WAMP1_MAX_CONNECTIONS * 16384];
    wamp1_testport_init(&tp, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.memory = mem;
    cfg.memory_size = sizeof mem;
    cfg.recv_buffer_size = 4096;
    cfg.send_buffer_size = 8192;
    cfg.cb.on_error = cb_error;
    if (with_http) cfg.cb.on_http = cb_http;
    errors = 0;
}

static void listen_now(void) {
    if (wamp1_server_init(&srv, &cfg) != 0 || wamp1_server_listen(&srv) != 0) {
        printf("FAIL: server setup\n");
        exit(1);
    }
}

static void stop(void) {
    wamp1_server_shutdown(&srv, 0);
}

/* one request (a full request line and header lines), the status; resp holds the answer */
static int http(const char *method, const char *target, const char *extra) {
    char req[1024];
    int cl = wamp1_testport_connect(&tp);
    size_t n;
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: h\r\n%s\r\n", method, target, extra ? extra : "");
    wamp1_testport_write(&tp, cl, req, strlen(req));
    pump(4);
    resp_len = 0;
    while ((n = wamp1_testport_read(&tp, cl, resp + resp_len, sizeof resp - 1 - resp_len)) > 0) resp_len += n;
    resp[resp_len] = 0;
    wamp1_testport_client_eof(&tp, cl);
    pump(3);
    return resp_len >= 12 ? atoi(resp + 9) : 0;
}

/* the value of header name in resp ("" when absent) */
static const char *header(const char *name) {
    static char v[256];
    const char *p = resp, *end = strstr(resp, "\r\n\r\n");
    size_t nl = strlen(name);
    v[0] = 0;
    while (p && end && p < end) {
        const char *le = strstr(p, "\r\n");
        if (!le) break;
        size_t k;
        int same = (size_t)(le - p) > nl + 1 && p[nl] == ':';
        for (k = 0; same && k < nl; k++) same = (p[k] | 0x20) == (name[k] | 0x20);
        if (same) {
            size_t vl = (size_t)(le - p) - nl - 2;
            if (vl >= sizeof v) vl = sizeof v - 1;
            memcpy(v, p + nl + 2, vl);
            v[vl] = 0;
            return v;
        }
        p = le + 2;
    }
    return v;
}

static size_t body_len(void) {
    const char *b = strstr(resp, "\r\n\r\n");
    return b ? resp_len - (size_t)(b + 4 - resp) : 0;
}

TEST(test_table_get_head_etag) {
    char tag[64];
    start(1);
    listen_now();
    CHECK_EQ_INT(http("GET", "/", NULL), 200);
    CHECK(strcmp(header("Content-Type"), "text/html; charset=utf-8") == 0);
    CHECK_EQ_INT(body_len(), sizeof page - 1);
    CHECK(strstr(resp, "hello\n") != NULL);
    CHECK(strcmp(header("Vary"), "Accept-Encoding") == 0);
    CHECK(strcmp(header("Cache-Control"), "no-cache") == 0);
    CHECK(header("Content-Encoding")[0] == 0);
    snprintf(tag, sizeof tag, "%s", header("ETag"));
    CHECK(tag[0] == '"' && strlen(tag) > 4);
    /* the same ETag again: 304 without a body */
    {
        char inm[96];
        snprintf(inm, sizeof inm, "If-None-Match: \"other\", %s\r\n", tag);
        CHECK_EQ_INT(http("GET", "/", inm), 304);
        CHECK(strncmp(resp, "HTTP/1.1 304 Not Modified\r\n", 27) == 0);
        CHECK_EQ_INT(body_len(), 0);
        CHECK(strcmp(header("ETag"), tag) == 0);
        snprintf(inm, sizeof inm, "If-None-Match: W/%s\r\n", tag);
        CHECK_EQ_INT(http("GET", "/", inm), 304);
        CHECK_EQ_INT(http("GET", "/", "If-None-Match: *\r\n"), 304);
        CHECK_EQ_INT(http("GET", "/", "If-None-Match: \"nope\"\r\n"), 200);
    }
    /* HEAD: the header of the GET, Content-Length of the body, no body */
    CHECK_EQ_INT(http("HEAD", "/", NULL), 200);
    CHECK_EQ_INT(atoi(header("Content-Length")), sizeof page - 1);
    CHECK_EQ_INT(body_len(), 0);
    CHECK(strcmp(header("ETag"), tag) == 0);
    /* a fixed ETag from the table, a query string is not part of the path */
    CHECK_EQ_INT(http("GET", "/app.js?v=3", NULL), 200);
    CHECK(strcmp(header("ETag"), "\"fixed-tag\"") == 0);
    CHECK(header("Vary")[0] == 0);
    CHECK_EQ_INT(errors, 0);
    stop();
}

TEST(test_gzip_negotiation) {
    start(1);
    listen_now();
    CHECK_EQ_INT(http("GET", "/", "Accept-Encoding: gzip, deflate, br\r\n"), 200);
    CHECK(strcmp(header("Content-Encoding"), "gzip") == 0);
    CHECK_EQ_INT(body_len(), sizeof page_gz);
    CHECK(strstr(header("ETag"), "-gz\"") != NULL);
    CHECK_EQ_INT(http("GET", "/", "Accept-Encoding: deflate;q=1, GZIP;q=0.5\r\n"), 200);
    CHECK(strcmp(header("Content-Encoding"), "gzip") == 0);
    /* refused with q=0, not listed, or only identity: the plain body */
    CHECK_EQ_INT(http("GET", "/", "Accept-Encoding: gzip;q=0\r\n"), 200);
    CHECK(header("Content-Encoding")[0] == 0);
    CHECK_EQ_INT(body_len(), sizeof page - 1);
    CHECK_EQ_INT(http("GET", "/", "Accept-Encoding: gzip; q=0.000, *\r\n"), 200);
    CHECK(header("Content-Encoding")[0] == 0);
    CHECK_EQ_INT(http("GET", "/", "Accept-Encoding: br, deflate\r\n"), 200);
    CHECK(header("Content-Encoding")[0] == 0);
    CHECK_EQ_INT(http("GET", "/", "Accept-Encoding: xgzip, gzipx\r\n"), 200);
    CHECK(header("Content-Encoding")[0] == 0);
    CHECK_EQ_INT(http("GET", "/", "Accept-Encoding: *\r\n"), 200);
    CHECK(strcmp(header("Content-Encoding"), "gzip") == 0);
    CHECK_EQ_INT(http("GET", "/", "Accept-Encoding: *;q=0\r\n"), 200);
    CHECK(header("Content-Encoding")[0] == 0);
    /* the gzip variant's ETag gets its own 304 */
    CHECK_EQ_INT(http("GET", "/", "Accept-Encoding: gzip\r\n"), 200);
    {
        char inm[96];
        snprintf(inm, sizeof inm, "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n", header("ETag"));
        CHECK_EQ_INT(http("GET", "/", inm), 304);
    }
    stop();
}

TEST(test_refusals) {
    start(1);
    listen_now();
    CHECK_EQ_INT(http("GET", "/missing", NULL), 404);
    CHECK_EQ_INT(errors, 1);
    CHECK_EQ_INT(http("GET", "/app.js/", NULL), 404);
    /* other methods: 405 with the methods that are served */
    CHECK_EQ_INT(http("POST", "/", "Content-Length: 0\r\n"), 405);
    CHECK(strcmp(header("Allow"), "GET, HEAD") == 0);
    CHECK_EQ_INT(http("DELETE", "/", NULL), 405);
    CHECK_EQ_INT(http("head", "/", NULL), 405);
    /* HEAD with an upgrade: refused, never a WebSocket */
    CHECK_EQ_INT(http("HEAD", "/", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), 405);
    stop();
    /* no HTTP handler: GET 426 as before, HEAD 405 */
    start(0);
    listen_now();
    CHECK_EQ_INT(http("GET", "/", NULL), 426);
    CHECK_EQ_INT(http("HEAD", "/", NULL), 405);
    CHECK(strcmp(header("Allow"), "GET") == 0);
    stop();
}

TEST(test_links_apply_to_plain_http) {
    static wamp1_cidr rules[2];
    static wamp1_blocklist bl;
    static wamp1_origin_rule origins[1];
    wamp1_addr a;
    start(1);
    wamp1_blocklist_init(&bl, rules, 2);
    CHECK(wamp1_blocklist_add(&bl, "10.9.9.0/24") == 0);
    cfg.blocklist = &bl;
    CHECK(wamp1_origin_rule_parse(&origins[0], "http://ok.example", 17) == 0);
    cfg.origins = origins;
    cfg.origin_count = 1;
    listen_now();
    /* a navigation carries no Origin: served */
    CHECK_EQ_INT(http("GET", "/", NULL), 200);
    CHECK_EQ_INT(http("GET", "/", "Origin: http://ok.example\r\n"), 200);
    CHECK_EQ_INT(http("GET", "/", "Origin: http://evil.example\r\n"), 403);
    /* a WebSocket without Origin is still refused */
    CHECK_EQ_INT(http("GET", "/", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), 403);
    /* a blocked address gets 403 for the page too */
    memset(&a, 0, sizeof a);
    CHECK(wamp1_addr_parse("10.9.9.7", 8, &a) == 0);
    {
        int cl = wamp1_testport_connect(&tp);
        size_t n;
        wamp1_testport_set_peer(&tp, cl, &a);
        wamp1_testport_write(&tp, cl, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 27);
        pump(4);
        n = wamp1_testport_read(&tp, cl, resp, sizeof resp - 1);
        resp[n] = 0;
        CHECK(n >= 12 && atoi(resp + 9) == 403);
        wamp1_testport_client_eof(&tp, cl);
        pump(3);
    }
    stop();
}

static void put(const char *name, const char *text) {
    char p[512];
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    f = fopen(p, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

TEST(test_directory) {
    char p[512];
    snprintf(dir, sizeof dir, "build/wamp1_web_XXXXXX");
    if (!mkdtemp(dir)) {
        CHECK(0); /* mkdtemp failed */
        return;
    }
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir_(p);
    put("index.html", "<p>index</p>\n");
    put("style.css", "p{}\n");
    put("sub/index.html", "<p>sub</p>\n");
    put(".secret", "no\n");
    {
        FILE *f;
        snprintf(p, sizeof p, "%s/big.txt", dir);
        f = fopen(p, "wb");
        if (f) {
            int i;
            for (i = 0; i < 5000; i++) fputc('x', f);
            fclose(f);
        }
    }
    start(1);
    site.root = dir;
    site.count = 0; /* the directory alone */
    listen_now();
    CHECK_EQ_INT(http("GET", "/", NULL), 200);
    CHECK(strstr(resp, "<p>index</p>") != NULL);
    CHECK(strcmp(header("Content-Type"), "text/html; charset=utf-8") == 0);
    CHECK_EQ_INT(http("GET", "/style.css", NULL), 200);
    CHECK(strcmp(header("Content-Type"), "text/css; charset=utf-8") == 0);
    CHECK_EQ_INT(http("GET", "/sub/", NULL), 200);
    CHECK(strstr(resp, "<p>sub</p>") != NULL);
    CHECK_EQ_INT(http("GET", "/st%79le.css", NULL), 200);
    {
        char inm[96];
        CHECK_EQ_INT(http("GET", "/style.css", NULL), 200);
        snprintf(inm, sizeof inm, "If-None-Match: %s\r\n", header("ETag"));
        CHECK_EQ_INT(http("GET", "/style.css", inm), 304);
        CHECK_EQ_INT(http("HEAD", "/style.css", NULL), 200);
        CHECK_EQ_INT(body_len(), 0);
        CHECK_EQ_INT(atoi(header("Content-Length")), 4);
    }
    /* traversal, in every spelling, and hidden files */
    CHECK_EQ_INT(http("GET", "/../etc/passwd", NULL), 403);
    CHECK_EQ_INT(http("GET", "/sub/../../x", NULL), 403);
    CHECK_EQ_INT(http("GET", "/%2e%2e/etc/passwd", NULL), 403);
    CHECK_EQ_INT(http("GET", "/%2E./x", NULL), 403);
    CHECK_EQ_INT(http("GET", "/sub%2f..%2f..%2fx", NULL), 403);
    CHECK_EQ_INT(http("GET", "/..", NULL), 403);
    CHECK_EQ_INT(http("GET", "/./index.html", NULL), 403);
    CHECK_EQ_INT(http("GET", "/..%5cx", NULL), 403);
    CHECK_EQ_INT(http("GET", "/a%00b", NULL), 403);
    CHECK_EQ_INT(http("GET", "/c:x", NULL), 403);
    CHECK_EQ_INT(http("GET", "/.secret", NULL), 404);
    CHECK_EQ_INT(http("GET", "/%2esecret", NULL), 404);
    CHECK_EQ_INT(http("GET", "/bad%zz", NULL), 400);
    CHECK_EQ_INT(http("GET", "/bad%2", NULL), 400);
    CHECK_EQ_INT(http("GET", "/nope.html", NULL), 404);
    CHECK_EQ_INT(http("GET", "/sub", NULL), 404); /* a directory is not a file */
    /* larger than the scratch buffer */
    CHECK_EQ_INT(http("GET", "/big.txt", NULL), 500);
    stop();
    site.root = NULL;
    site.count = 2;
    {
        static const char *const names[] = {"index.html", "style.css", "sub/index.html", ".secret", "big.txt"};
        unsigned i;
        for (i = 0; i < 5; i++) {
            snprintf(p, sizeof p, "%s/%s", dir, names[i]);
            CHECK(remove(p) == 0);
        }
        snprintf(p, sizeof p, "%s/sub", dir);
        CHECK(rmdir(p) == 0);
        CHECK(rmdir(dir) == 0);
    }
}

TEST(test_gzip_only_entry) {
    static const wamp1_http_file gzonly[] = {{"/z", "text/plain", NULL, 0, page_gz, sizeof page_gz, NULL}};
    wamp1_http_site s2 = {gzonly, 1, NULL, NULL, 0, NULL};
    wamp1_http_site keep = site;
    start(1);
    site = s2;
    listen_now();
    CHECK_EQ_INT(http("GET", "/z", "Accept-Encoding: gzip\r\n"), 200);
    CHECK(strcmp(header("Content-Encoding"), "gzip") == 0);
    CHECK_EQ_INT(body_len(), sizeof page_gz);
    CHECK(header("ETag")[0] == '"');
    CHECK_EQ_INT(http("GET", "/z", NULL), 406);
    CHECK(strncmp(resp, "HTTP/1.1 406 Not Acceptable\r\n", 29) == 0);
    CHECK_EQ_INT(http("GET", "/z", "Accept-Encoding: gzip;q=0\r\n"), 406);
    stop();
    site = keep;
}

TEST(test_response_too_large) {
    static char huge[20000];
    static const wamp1_http_file big[] = {{"/big", "text/plain", huge, sizeof huge, NULL, 0, NULL}};
    wamp1_http_site s2 = {big, 1, NULL, NULL, 0, NULL};
    wamp1_http_site keep = site;
    start(1);
    site = s2;
    listen_now();
    CHECK_EQ_INT(http("GET", "/big", NULL), 500);
    CHECK(errors >= 1);
    CHECK_EQ_INT(http("HEAD", "/big", NULL), 200); /* no body: fits */
    CHECK_EQ_INT(atoi(header("Content-Length")), sizeof huge);
    stop();
    site = keep;
}

/* ---- crypto ---- */

static void hex(const uint8_t *p, size_t n, char *out) {
    size_t i;
    for (i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
}

TEST(test_sha256) {
    uint8_t d[32];
    char h[65];
    static char million[1000000];
    wamp1_sha256_ctx s;
    size_t i;
    wamp1_sha256("abc", 3, d);
    hex(d, 32, h);
    CHECK(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    wamp1_sha256("", 0, d);
    hex(d, 32, h);
    CHECK(strcmp(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    wamp1_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
    hex(d, 32, h);
    CHECK(strcmp(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
    memset(million, 'a', sizeof million);
    wamp1_sha256_init(&s);
    for (i = 0; i < sizeof million; i += 9999) /* in odd pieces */
        wamp1_sha256_add(&s, million + i, i + 9999 <= sizeof million ? 9999 : sizeof million - i);
    wamp1_sha256_done(&s, d);
    hex(d, 32, h);
    CHECK(strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
}

TEST(test_hmac_rfc4231) {
    static const struct { const char *key; size_t kl; const char *data; size_t dl; const char *mac; } v[] = {
        {"\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b", 20, "Hi There", 8,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"Jefe", 4, "what do ya want for nothing?", 28,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {NULL, 20, NULL, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {NULL, 25, NULL, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {"\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c", 20, "Test With Truncation",
         20, "a3b6167473100ee06e0c796c2955552b"},
        {NULL, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {NULL, 131,
         "This is a test using a larger than block-size key and a larger than block-size data. The key needs to "
         "be hashed before being used by the HMAC algorithm.",
         152, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    unsigned i;
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t key[131], data[152], mac[32];
        char h[65];
        size_t k;
        if (v[i].key) memcpy(key, v[i].key, v[i].kl);
        else if (i == 3) for (k = 0; k < 25; k++) key[k] = (uint8_t)(k + 1);
        else memset(key, 0xaa, v[i].kl);
        if (v[i].data) memcpy(data, v[i].data, v[i].dl);
        else memset(data, i == 2 ? 0xdd : 0xcd, v[i].dl);
        wamp1_hmac_sha256(key, v[i].kl, data, v[i].dl, mac);
        hex(mac, 32, h);
        h[strlen(v[i].mac)] = 0; /* case 5 is truncated to 128 bits */
        if (strcmp(h, v[i].mac) != 0) printf("RFC 4231 case %u: %s\n", i + 1, h);
        CHECK(strcmp(h, v[i].mac) == 0);
    }
}

TEST(test_pbkdf2_rfc7914) {
    uint8_t dk[64];
    char h[129];
    wamp1_pbkdf2_sha256("passwd", 6, "salt", 4, 1, dk, 64);
    hex(dk, 64, h);
    CHECK(strcmp(h, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                    "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783") == 0);
    wamp1_pbkdf2_sha256("Password", 8, "NaCl", 4, 80000, dk, 64);
    hex(dk, 64, h);
    CHECK(strcmp(h, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
                    "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d") == 0);
    /* a length that is no multiple of the hash: the first bytes of the longer key */
    {
        uint8_t dk2[20];
        wamp1_pbkdf2_sha256("passwd", 6, "salt", 4, 1, dk2, 20);
        wamp1_pbkdf2_sha256("passwd", 6, "salt", 4, 1, dk, 64);
        CHECK(memcmp(dk, dk2, 20) == 0);
    }
}

TEST(test_cra_helpers) {
    char sig[45], key[92], ts[21];
    /* the signature AutobahnJS computes: base64 of the HMAC, key and challenge as UTF-8 */
    wamp1_cra_sign("Jefe", 4, "what do ya want for nothing?", 28, sig);
    CHECK(strcmp(sig, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=") == 0);
    /* the salted key: base64 of PBKDF2 (RFC 7914's first vector, 32 bytes) */
    wamp1_cra_derive("passwd", "salt", 1, 32, key);
    CHECK(strcmp(key, "VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw=") == 0);
    wamp1__cra_time(0, ts);
    CHECK(strcmp(ts, "1970-01-01T00:00:00Z") == 0);
    wamp1__cra_time(1796419199u, ts);
    CHECK(strcmp(ts, "2026-12-04T21:19:59Z") == 0);
    wamp1__cra_time(951782400u, ts); /* a leap day */
    CHECK(strcmp(ts, "2000-02-29T00:00:00Z") == 0);
    {
        uint8_t out[32];
        CHECK(wamp1__cra_unb64(sig, strlen(sig), out) == 0);
        CHECK(wamp1__cra_unb64("short", 5, out) == -1);
        CHECK(wamp1__cra_unb64("W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOE*=", 44, out) == -1);
    }
}

int main(void) {
    RUN(test_table_get_head_etag);
    RUN(test_gzip_negotiation);
    RUN(test_refusals);
    RUN(test_links_apply_to_plain_http);
    RUN(test_directory);
    RUN(test_gzip_only_entry);
    RUN(test_response_too_large);
    RUN(test_sha256);
    RUN(test_hmac_rfc4231);
    RUN(test_pbkdf2_rfc7914);
    RUN(test_cra_helpers);
    return t_summary("web");
}
