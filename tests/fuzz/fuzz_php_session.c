/* libFuzzer target: PHP session bytes -> wamp1_php_session_load -> JSON.
 *
 *   clang -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_php_session.c \
 *       -o build/fuzz_php_session
 *   build/fuzz_php_session -max_total_time=60 -max_len=4096 tests/fuzz/corpus/php_session
 *
 * Checks, for every input that loads: the conversion succeeds; the JSON is strict
 * RFC 8259 and valid UTF-8; iterating the root finds as many variables as the
 * session reports, and each variable with a NUL-free name is found by name (the
 * first of equal names);
 * converting into every small buffer never writes past it. The cookie, query,
 * origin and address parsers get the same bytes too. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WAMP1_ASSERT(x) do { if (!(x)) __builtin_trap(); } while (0)
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"

#define REQUIRE(x) do { if (!(x)) __builtin_trap(); } while (0)

static char g_out[1 << 17];
static wamp1_json_tok g_toks[1 << 15];

static int utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int k = wamp1__mw_utf8_seq((const unsigned char *)s + i, n - i);
        if (k <= 0) return 0;
        i += (size_t)k;
    }
    return 1;
}

static void other_parsers(const char *d, size_t n)
{
    wamp1_addr a;
    wamp1_cidr c;
    wamp1_origin_rule r;
    const char *v;
    size_t vl;
    char q[64];
    if (wamp1_addr_parse(d, n, &a) == 0) {
        char t[64];
        wamp1_addr b;
        int k = wamp1_addr_format(&a, t, sizeof t);
        REQUIRE(k > 0 && wamp1_addr_parse(t, (size_t)k, &b) == 0 && !memcmp(&a, &b, sizeof a));
    }
    if (wamp1_cidr_parse(d, n, &c) == 0) REQUIRE(wamp1_cidr_match(&c, &c.addr) == 1);
    if (wamp1_origin_rule_parse(&r, d, n) == 0) (void)wamp1_origin_allowed(&r, 1, d, n);
    (void)wamp1_origin_allowed(NULL, 0, d, n);
    if (wamp1_cookie_get(d, n, "PHPSESSID", &v, &vl) == 0) REQUIRE(v >= d && v + vl <= d + n);
    (void)wamp1_query_get(d, n, "a", q, sizeof q, &vl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    wamp1_php_session s;
    wamp1_php_value it, k, v, f;
    wamp1_jwriter w;
    uint32_t n = 0;
    size_t cap;
    int nt;

    other_parsers(d, size);
    if (wamp1_php_session_load(&s, d, size)) return 0;

    wamp1_jw_init(&w, g_out, sizeof g_out);
    REQUIRE(wamp1_php_session_to_json(&s, &w) == 0);
    if (!w.overflow) {
        nt = wamp1_json_parse(g_out, w.len, g_toks, (int)(sizeof g_toks / sizeof *g_toks), 64, NULL);
        REQUIRE(nt >= 1 || nt == WAMP1_JSON_ETOKENS);
        REQUIRE(nt < 1 || g_toks[0].type == WAMP1_JSON_OBJECT);
        REQUIRE(utf8_valid(g_out, w.len));
    }

    it = s.root;
    while (wamp1_php_array_next(&it, &k, &v)) {
        char name[256];
        n++;
        REQUIRE(k.type == WAMP1_PHP_STRING || k.type == WAMP1_PHP_INT);
        if (k.type == WAMP1_PHP_STRING && k.len < sizeof name && !memchr(k.str, 0, k.len)) {
            memcpy(name, k.str, k.len);
            name[k.len] = 0;
            REQUIRE(wamp1_php_session_get(&s, name, &f) == 0);  /* the first of equal names */
        }
        wamp1_jw_init(&w, g_out, sizeof g_out);
        REQUIRE(wamp1_php_value_to_json(&v, &w) == 0);
    }
    REQUIRE(n == s.root.count);

    for (cap = 0; cap < 48; cap += 7) {
        char small[64];
        memset(small, '#', sizeof small);
        wamp1_jw_init(&w, small, cap);
        (void)wamp1_php_session_to_json(&s, &w);
        REQUIRE(small[cap] == '#' && w.len <= cap);
    }
    return 0;
}
