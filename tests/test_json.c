/* Unit tests of the JSON layer: tokenizer, accessors, number conversion and writer.
 * Standalone: prints one line per failure, then "json: N passed, M failed". */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAMP1_ASSERT(x) assert(x)
#define WAMP1_IMPLEMENTATION
#include "../wamp1.h"

static int passed, failed;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (cond) {                                                                          \
            passed++;                                                                        \
        } else {                                                                             \
            failed++;                                                                        \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                      \
            printf(__VA_ARGS__);                                                             \
            printf("\n");                                                                    \
        }                                                                                    \
    } while (0)

#define NT 256
static wamp1_json_tok toks[NT];

static int parse(const char *s, int max_toks, int max_depth, size_t *off)
{
    return wamp1_json_parse(s, strlen(s), toks, max_toks, max_depth, off);
}

/* ---- documents that must parse (y_) and must not (n_) ---- */

static const char *const y_docs[] = {
    "[]", "{}", "[[]]", "[{}]", "{\"a\":[]}", " [ ] ", "\t\r\n[\t\r\n]\t\r\n",
    "0", "-0", "1", "-1", "123", "0.5", "-0.0", "1e3", "1E3", "1e+3", "1e-3", "1.5e-10",
    "-1.25E+07", "0e0", "0E-0", "123456789012345678901234567890",
    "1e999999999999999999999", "-1e-999999999999999999", "[1,2,3]", "[-0.1e1]",
    "true", "false", "null", "[true,false,null]", "\"\"", "\"a\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
    "\"\\u0000\"", "\"\\u00e9\\u00E9\"", "\"\\uD834\\uDD1E\"", "\"\\uD800\"", "\"\\uDC00\\uD800\"",
    "\"\\ud800\\u0041\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\"\x7f\"", "\"\xff\xfe\"",
    "{\"a\":1,\"b\":[2,{\"c\":null}],\"\":\"\"}", "{\"a\":1,\"a\":2}", "[\"]\",\"[\",\"{\",\",\",\":\"]",
    "[1 , 2 ,3 ]", "{ \"k\" : \"v\" }", "[[[[[[[[[[1]]]]]]]]]]", "\" \"", "\"/\"", "[0,-0,0.0]",
    "{\"\\u0061\":\"\\u0062\"}", "[1.0e+0,2E-0]", "[\"\\\\u0041\"]",
};

struct bad {
    const char *doc;
    int err;
    size_t off;
};
#define SY WAMP1_JSON_ESYNTAX
#define TR WAMP1_JSON_ETRAILING
static const struct bad n_docs[] = {
    {"", SY, 0}, {" ", SY, 1}, {"[", SY, 1}, {"]", SY, 0}, {"{", SY, 1}, {"}", SY, 0},
    {"[1,]", SY, 3}, {"[,1]", SY, 1}, {"[1,,2]", SY, 3}, {"[1 2]", SY, 3}, {"{\"a\":1,}", SY, 7},
    {"{,}", SY, 1}, {"{\"a\"}", SY, 4}, {"{\"a\":}", SY, 5}, {"{\"a\" 1}", SY, 5}, {"{1:2}", SY, 1},
    {"{a:1}", SY, 1}, {"{'a':1}", SY, 1}, {"['a']", SY, 1}, {"[1}", SY, 2}, {"{\"a\":1]", SY, 6},
    {"[1]]", TR, 3}, {"[1] x", TR, 4}, {"1 2", TR, 2}, {"{}{}", TR, 2}, {"nullx", TR, 4},
    {"01", SY, 1}, {"-01", SY, 2}, {"00", SY, 1}, {"-00.5", SY, 2}, {"[1,012]", SY, 4}, {"[01]", SY, 2}, {"+1", SY, 0}, {"-", SY, 1}, {"-a", SY, 1},
    {".5", SY, 0}, {"1.", SY, 2}, {"1.e3", SY, 2}, {"1e", SY, 2}, {"1e+", SY, 3}, {"1E-x", SY, 3},
    {"0x10", TR, 1}, {"NaN", SY, 0}, {"-NaN", SY, 1}, {"Infinity", SY, 0}, {"-Infinity", SY, 1},
    {"[1.5.3]", SY, 4}, {"1e1.5", TR, 3}, {"tru", SY, 0}, {"nul", SY, 0}, {"True", SY, 0},
    {"fals", SY, 0}, {"\"abc", SY, 4}, {"\"", SY, 1}, {"\"\\\"", SY, 3}, {"\"\\x\"", SY, 2},
    {"\"\\u12\"", SY, 2}, {"\"\\u12G4\"", SY, 2}, {"\"\\U0041\"", SY, 2}, {"\"\\'\"", SY, 2},
    {"\"a\tb\"", SY, 2}, {"\"a\nb\"", SY, 2}, {"\"\x01\"", SY, 1}, {"\"\x1f\"", SY, 1},
    {"[\"a\",]", SY, 5}, {"\v1", SY, 0}, {"\f[]", SY, 0}, {"[]\f", TR, 2}, {"//c\n1", SY, 0},
    {"1 /*c*/", TR, 2}, {"[1;2]", SY, 2}, {"{\"a\";1}", SY, 4}, {"{\"a\"::1}", SY, 5},
    {"[\"\\u", SY, 3}, {"[\"\\u00", SY, 3}, {"[\"\\", SY, 3}, {"{\"a\":1 \"b\":2}", SY, 7},
    {"\xef\xbb\xbf[]", SY, 0}, {"[-]", SY, 2}, {"[- 1]", SY, 2}, {"[1e]", SY, 3}, {"-.1", SY, 1},
};

static void test_documents(void)
{
    size_t i, off;
    int r;
    for (i = 0; i < sizeof y_docs / sizeof *y_docs; i++) {
        r = parse(y_docs[i], NT, 64, &off);
        CHECK(r > 0, "y_ doc %u '%s' rejected: %d at %u", (unsigned)i, y_docs[i], r, (unsigned)off);
    }
    for (i = 0; i < sizeof n_docs / sizeof *n_docs; i++) {
        off = 9999;
        r = parse(n_docs[i].doc, NT, 64, &off);
        CHECK(r == n_docs[i].err && off == n_docs[i].off, "n_ doc '%s': got %d at %u, want %d at %u",
              n_docs[i].doc, r, (unsigned)off, n_docs[i].err, (unsigned)n_docs[i].off);
    }
    /* a NUL byte is not whitespace and not allowed raw inside a string */
    CHECK(wamp1_json_parse("[1]\0", 4, toks, NT, 8, &off) == TR && off == 3, "NUL after value");
    CHECK(wamp1_json_parse("\"a\0\"", 4, toks, NT, 8, &off) == SY && off == 2, "NUL in string");
    /* the length is honoured: bytes beyond len are never read */
    CHECK(wamp1_json_parse("[1,2]", 4, toks, NT, 8, &off) == SY && off == 4, "cut by len");
    CHECK(wamp1_json_parse("truex", 3, toks, NT, 8, &off) == SY, "literal cut by len");
    CHECK(wamp1_json_parse("12345", 2, toks, NT, 8, NULL) == 1 && toks[0].len == 2, "number cut by len");
}

/* ---- token layout ---- */

static void test_structure(void)
{
    const char *s = " {\"a\" : [1, \"x\\n\", {}], \"b\":{\"c\":true}, \"d\":[]} ";
    int n = parse(s, NT, 8, NULL), i;
    CHECK(n == 12, "token count %d", n);
    if (n != 12) return;
    CHECK(toks[0].type == WAMP1_JSON_OBJECT && toks[0].size == 3 && toks[0].start == 1 &&
              toks[0].len == strlen(s) - 2 && toks[0].next == 12,
          "root object");
    CHECK(toks[1].type == WAMP1_JSON_STRING && toks[1].start == 3 && toks[1].len == 1 && toks[1].next == 2,
          "key a");
    CHECK(toks[2].type == WAMP1_JSON_ARRAY && toks[2].size == 3 && toks[2].next == 6 && s[toks[2].start] == '[' &&
              s[toks[2].start + toks[2].len - 1] == ']',
          "array");
    CHECK(toks[3].type == WAMP1_JSON_NUMBER && toks[3].len == 1 && toks[3].next == 4, "number");
    CHECK(toks[4].type == WAMP1_JSON_STRING && toks[4].len == 3, "escaped string span");
    CHECK(toks[5].type == WAMP1_JSON_OBJECT && toks[5].size == 0 && toks[5].len == 2 && toks[5].next == 6,
          "empty object");
    CHECK(toks[7].type == WAMP1_JSON_OBJECT && toks[7].size == 1 && toks[7].next == 10, "object b");
    CHECK(toks[9].type == WAMP1_JSON_TRUE && toks[9].len == 4, "true");
    CHECK(toks[6].type == WAMP1_JSON_STRING && toks[6].next == 7 && toks[10].type == WAMP1_JSON_STRING, "keys");
    CHECK(toks[11].type == WAMP1_JSON_ARRAY && toks[11].size == 0 && toks[11].next == 12, "empty array");
    for (i = 0; i < n; i++)
        CHECK(toks[i].size == 0 || toks[i].type >= WAMP1_JSON_ARRAY, "scalar %d with size", i);

    /* accessors */
    CHECK(wamp1_json_object_get(s, toks, n, 0, "a") == 2, "get a");
    CHECK(wamp1_json_object_get(s, toks, n, 0, "b") == 7, "get b");
    CHECK(wamp1_json_object_get(s, toks, n, 0, "d") == 11, "get d");
    CHECK(wamp1_json_object_get(s, toks, n, 0, "c") == -1, "no c at top");
    CHECK(wamp1_json_object_get(s, toks, n, 7, "c") == 9, "get b.c");
    CHECK(wamp1_json_object_get(s, toks, n, 2, "a") == -1, "object_get on array");
    CHECK(wamp1_json_object_get(s, toks, n, -1, "a") == -1 && wamp1_json_object_get(s, toks, n, 12, "a") == -1,
          "object_get out of range");
    CHECK(wamp1_json_array_get(toks, n, 2, 0) == 3, "arr[0]");
    CHECK(wamp1_json_array_get(toks, n, 2, 1) == 4, "arr[1]");
    CHECK(wamp1_json_array_get(toks, n, 2, 2) == 5, "arr[2]");
    CHECK(wamp1_json_array_get(toks, n, 2, 3) == -1, "arr[3]");
    CHECK(wamp1_json_array_get(toks, n, 12, 0) == -1, "empty[0]");
    CHECK(wamp1_json_array_get(toks, n, 0, 0) == -1, "array_get on object");
    CHECK(wamp1_json_array_get(toks, n, 99, 0) == -1 && wamp1_json_array_get(toks, n, -5, 0) == -1,
          "array_get out of range");

    s = "{\"k\":1,\"k\":2,\"\\u006b2\":3}";
    n = parse(s, NT, 8, NULL);
    CHECK(wamp1_json_object_get(s, toks, n, 0, "k") == 2, "duplicate key: first wins");
    CHECK(wamp1_json_object_get(s, toks, n, 0, "k2") == 6, "escaped key");
    CHECK(wamp1_json_object_get(s, toks, n, 0, "") == -1, "empty key absent");

    /* a WAMP CALL */
    s = "[2,\"0.bvhz8xq1yh\",\"calc:square\",23,[1,2]]";
    n = parse(s, NT, 8, NULL);
    CHECK(n == 8 && toks[0].size == 5, "call tokens");
    CHECK(wamp1_json_array_get(toks, n, 0, 4) == 5 && toks[5].size == 2, "call arg 2");
    CHECK(wamp1_json_str_eq(s, &toks[wamp1_json_array_get(toks, n, 0, 2)], "calc:square", 11), "procURI");
}

/* ---- limits ---- */

static void test_limits(void)
{
    char buf[300];
    size_t off;
    int d, r, i;
    /* depth: d nested arrays around a 1 */
    for (d = 1; d <= 40; d++) {
        for (i = 0; i < d; i++) buf[i] = '[';
        buf[d] = '1';
        for (i = 0; i < d; i++) buf[d + 1 + i] = ']';
        buf[2 * d + 1] = 0;
        r = parse(buf, NT, 20, &off);
        if (d <= 20)
            CHECK(r == d + 1, "depth %d at limit 20: %d", d, r);
        else
            CHECK(r == WAMP1_JSON_EDEPTH && off == 20, "depth %d over limit 20: %d at %u", d, r, (unsigned)off);
    }
    CHECK(parse("{\"a\":{\"b\":[{}]}}", NT, 4, NULL) == 6, "mixed depth 4 at 4");
    CHECK(parse("{\"a\":{\"b\":[{}]}}", NT, 3, &off) == WAMP1_JSON_EDEPTH && off == 11, "mixed depth 4 over 3");
    CHECK(parse("1", NT, 0, NULL) == 1, "scalar at depth 0");
    CHECK(parse("[]", NT, 0, &off) == WAMP1_JSON_EDEPTH && off == 0, "array at depth 0");
    CHECK(parse("[[],[],[[]]]", NT, 3, NULL) == 5, "siblings do not add depth");
    CHECK(parse("[[],[],[[]]]", NT, 2, NULL) == WAMP1_JSON_EDEPTH, "third level");

    /* token array exhaustion */
    CHECK(parse("[1,[2,3],{\"a\":4}]", 8, 8, NULL) == 8, "exact token count");
    CHECK(parse("[1,[2,3],{\"a\":4}]", 7, 8, &off) == WAMP1_JSON_ETOKENS && off == 14, "one token short");
    CHECK(parse("[1,[2,3],{\"a\":4}]", 1, 8, &off) == WAMP1_JSON_ETOKENS && off == 1, "one token");
    CHECK(parse("1", 0, 8, &off) == WAMP1_JSON_ETOKENS && off == 0, "no tokens");
    /* no token array: validation only, 1 for a valid document */
    CHECK(wamp1_json_parse("1", 1, NULL, 0, 8, NULL) == 1, "NULL token array validates");
    CHECK(wamp1_json_parse("[1,", 3, NULL, 0, 8, NULL) == WAMP1_JSON_ESYNTAX, "NULL token array, bad");
    /* errors are reported in text order; a value is counted before it is scanned */
    CHECK(parse("[1,x", 3, 8, &off) == WAMP1_JSON_ESYNTAX && off == 3, "syntax with tokens left");
    CHECK(parse("[1,x", 2, 8, &off) == WAMP1_JSON_ETOKENS && off == 3, "token limit before bad value");
    CHECK(parse("[1 2", 1, 8, &off) == WAMP1_JSON_ETOKENS, "token limit before syntax");
    CHECK(parse("[1]  x", 1, 8, &off) == WAMP1_JSON_ETOKENS, "limit found before trailing data");
    CHECK(parse("[1]  x", 2, 8, &off) == WAMP1_JSON_ETRAILING && off == 5, "trailing data offset");
    CHECK(parse("[1]  \r\n\t ", 2, 8, NULL) == 2, "trailing whitespace ok");
}

/* ---- strings ---- */

static int unesc(const char *doc, char *out, size_t outsize, size_t *outlen)
{
    int n = parse(doc, NT, 8, NULL);
    if (n != 1 || toks[0].type != WAMP1_JSON_STRING) return -99;
    return wamp1_json_unescape(doc, &toks[0], out, outsize, outlen);
}

static void test_strings(void)
{
    static const struct {
        const char *doc, *val;
        size_t len;
    } cases[] = {
        {"\"\"", "", 0},
        {"\"abc\"", "abc", 3},
        {"\"\\\"\"", "\"", 1},
        {"\"\\\\\"", "\\", 1},
        {"\"\\/\"", "/", 1},
        {"\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t", 5},
        {"\"\\u0041\\u0062\"", "Ab", 2},
        {"\"\\u0000x\"", "\0x", 2},
        {"\"\\u007f\\u0080\"", "\x7f\xc2\x80", 3},
        {"\"\\u07FF\\u0800\"", "\xdf\xbf\xe0\xa0\x80", 5},
        {"\"\\u00e9\\u20AC\\uffff\"", "\xc3\xa9\xe2\x82\xac\xef\xbf\xbf", 8},
        {"\"\\uD834\\uDD1E\"", "\xf0\x9d\x84\x9e", 4},
        {"\"\\ud83d\\ude00!\"", "\xf0\x9f\x98\x80!", 5},
        {"\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4},
        {"\"\\uD800\\uDC00\"", "\xf0\x90\x80\x80", 4},
        {"\"\\uD800\"", "\xef\xbf\xbd", 3},
        {"\"\\uDC00\"", "\xef\xbf\xbd", 3},
        {"\"\\uDFFF\\uD800\"", "\xef\xbf\xbd\xef\xbf\xbd", 6},
        {"\"\\uD800x\"", "\xef\xbf\xbdx", 4},
        {"\"\\uD800\\n\"", "\xef\xbf\xbd\n", 4},
        {"\"\\uD800\\u0041\"", "\xef\xbf\xbd" "A", 4},
        {"\"\\uD800\\uD800\\uDC00\"", "\xef\xbf\xbd\xf0\x90\x80\x80", 7},
        {"\"\\uD800\\\\uDC00\"", "\xef\xbf\xbd\\uDC00", 9},
        {"\"\xc3\xa9\xff\"", "\xc3\xa9\xff", 3},
        {"\"a\\\\u0041\"", "a\\u0041", 7},
    };
    char out[64];
    size_t i, len, k;
    int r;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        len = 999;
        r = unesc(cases[i].doc, out, sizeof out, &len);
        CHECK(r == 0 && len == cases[i].len && !memcmp(out, cases[i].val, len) && out[len] == 0,
              "unescape %s: r=%d len=%u", cases[i].doc, r, (unsigned)len);
        parse(cases[i].doc, NT, 8, NULL);
        CHECK(wamp1_json_str_eq(cases[i].doc, &toks[0], cases[i].val, cases[i].len), "str_eq %s", cases[i].doc);
        if (cases[i].len) {
            CHECK(!wamp1_json_str_eq(cases[i].doc, &toks[0], cases[i].val, cases[i].len - 1),
                  "str_eq shorter %s", cases[i].doc);
            memcpy(out, cases[i].val, cases[i].len);
            out[cases[i].len - 1] ^= 1;
            CHECK(!wamp1_json_str_eq(cases[i].doc, &toks[0], out, cases[i].len), "str_eq differs %s",
                  cases[i].doc);
        }
        memcpy(out, cases[i].val, cases[i].len);
        out[cases[i].len] = 'z';
        CHECK(!wamp1_json_str_eq(cases[i].doc, &toks[0], out, cases[i].len + 1), "str_eq longer %s",
              cases[i].doc);
        /* the unescaped value is never longer than the escaped span */
        CHECK(cases[i].len <= toks[0].len, "unescaped longer than span %s", cases[i].doc);
    }

    /* a buffer too small at every size: -1, whole characters only, NUL-terminated, no write
     * beyond outsize, needed length reported */
    {
        const char *doc = "\"ab\\u00e9\\uD83D\\uDE00\\n\"";
        const char *val = "ab\xc3\xa9\xf0\x9f\x98\x80\n"; /* 9 bytes */
        static const size_t fits[] = {0, 0, 1, 2, 2, 4, 4, 4, 4, 8, 9};
        for (k = 0; k <= 11; k++) {
            memset(out, '#', sizeof out);
            len = 999;
            r = unesc(doc, out, k, &len);
            if (k >= 10) {
                CHECK(r == 0 && len == 9 && !memcmp(out, val, 10), "unescape fits in %u", (unsigned)k);
            } else {
                CHECK(r == -1 && len == 9, "unescape in %u: r=%d len=%u", (unsigned)k, r, (unsigned)len);
                CHECK(k == 0 ? out[0] == '#' : (!memcmp(out, val, fits[k]) && out[fits[k]] == 0),
                      "partial unescape in %u", (unsigned)k);
            }
            CHECK(out[k] == '#' || k >= 10, "unescape wrote beyond %u", (unsigned)k);
        }
        CHECK(unesc(doc, out, sizeof out, NULL) == 0, "outlen may be NULL");
        parse("[1]", NT, 8, NULL);
        CHECK(wamp1_json_unescape("[1]", &toks[0], out, sizeof out, &len) == -1, "unescape non-string");
        CHECK(!wamp1_json_str_eq("[1]", &toks[1], "1", 1), "str_eq non-string");
    }
}

/* ---- numbers ---- */

static int num(const char *s, wamp1_json_tok *t)
{
    return wamp1_json_parse(s, strlen(s), t, 1, 1, NULL) == 1 && t->type == WAMP1_JSON_NUMBER;
}

static void test_get_int(void)
{
    static const struct {
        const char *s;
        int ok;
        int64_t v;
    } cases[] = {
        {"0", 1, 0}, {"-0", 1, 0}, {"1", 1, 1}, {"-1", 1, -1}, {"42", 1, 42},
        {"9223372036854775807", 1, INT64_MAX}, {"-9223372036854775808", 1, INT64_MIN},
        {"9223372036854775808", 0, 0}, {"-9223372036854775809", 0, 0},
        {"18446744073709551615", 0, 0}, {"18446744073709551616", 0, 0}, {"99999999999999999999", 0, 0},
        {"1e3", 1, 1000}, {"1E+3", 1, 1000}, {"2.0", 1, 2}, {"2.000000", 1, 2}, {"2.5", 0, 0},
        {"0.5e1", 1, 5}, {"25e-1", 0, 0}, {"250e-2", 0, 0}, {"2500e-3", 0, 0}, {"2000e-3", 1, 2},
        {"-0.0", 1, 0}, {"0e999999", 1, 0}, {"0.000e-5", 1, 0}, {"1e18", 1, 1000000000000000000},
        {"1e19", 0, 0}, {"9.223372036854775807e18", 1, INT64_MAX},
        {"-9.223372036854775808e18", 1, INT64_MIN}, {"9.223372036854775808e18", 0, 0},
        {"92233720368547758070e-1", 1, INT64_MAX}, /* 20th digit a zero: still exact */
        {"92233720368547758071e-1", 0, 0},        /* nonzero 20th digit: cut, so refused */
        {"9223372036854775807.00000000000000000000000", 1, INT64_MAX},
        {"0.1", 0, 0}, {"1e-1", 0, 0}, {"10e-1", 1, 1}, {"1e999999999999", 0, 0}, {"1e-99999999999", 0, 0},
        {"123456789012345678", 1, 123456789012345678}, {"-1.5", 0, 0}, {"1.0000000000000000001", 0, 0},
        {"0.00000000000000000000000000001e29", 1, 1}, {"100000000000000000000e-2", 1, 1000000000000000000},
        {"4294967296", 1, 4294967296}, {"-4294967297", 1, -4294967297},
    };
    wamp1_json_tok t;
    int64_t v;
    size_t i;
    int r;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (!num(cases[i].s, &t)) {
            CHECK(0, "get_int: %s did not parse", cases[i].s);
            continue;
        }
        v = 12345;
        r = wamp1_json_get_int(cases[i].s, &t, &v);
        if (cases[i].ok)
            CHECK(r == 0 && v == cases[i].v, "get_int %s: r=%d v=%lld", cases[i].s, r, (long long)v);
        else
            CHECK(r == -1, "get_int %s should fail: r=%d v=%lld", cases[i].s, r, (long long)v);
    }
    wamp1_json_parse("\"5\"", 3, &t, 1, 1, NULL);
    CHECK(wamp1_json_get_int("\"5\"", &t, &v) == -1, "get_int on string");
}

static uint64_t dbits(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

/* our conversion against the C library's (glibc's strtod is correctly rounded) */
static int same_as_strtod(const char *s)
{
    wamp1_json_tok t;
    double ours = 0, ref = strtod(s, NULL);
    int r;
    if (!num(s, &t)) return 0;
    r = wamp1_json_get_double(s, &t, &ours);
    return dbits(ours) == dbits(ref) && (r == 0) == (ref - ref == 0);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_get_double(void)
{
    static const char *const tricky[] = {
        "0", "-0", "0.1", "0.2", "0.3", "0.30000000000000004", "1e308", "1.7976931348623157e308",
        "1.7976931348623158e308", "1.7976931348623159e308", "5e-324", "4.9406564584124654e-324",
        "2.4703282292062327e-324", "2.4703282292062328e-324", "2.2250738585072014e-308",
        "2.2250738585072011e-308", "2.2250738585072012e-308", "123456789012345678", "9007199254740993",
        "9007199254740992", "9007199254740991", "3.141592653589793", "2.718281828459045", "1e23",
        "8.98846567431158e307", "1e-5", "1e22", "1e-22", "4.35679886e-310", "100", "1.5", "-2.5e-3",
        "1.00000000000000011102230246251565404236316680908203125", "7.038531e-26",
        "9.109e-31", "6.02214076e23", "1e-1", "0.000001", "123.456", "9999999999999999999",
        "1e-320", "1e-400", "1e400", "-1e400", "0.1e-323", "18446744073709551615", "1e309",
        "2.225073858507201136057409796709131975934819546351645648023426109724822222021076945516529523908135087914149158913039621106870086438694594645527657207407820621743379988141063267329253552286881372149012981122451451889849057222307285255133155755015914397476397983411801999323962548289017107081850690630666655994938275772572015763062615354624e-308",
"3.0e-44", "1.18973149535723176502e+4932",
        "2.2204460492503131e-16", "4.9e-324", "2.5e-324", "2.4e-324",
    };
    size_t i;
    int k, j, len;
    char s[64];
    for (i = 0; i < sizeof tricky / sizeof *tricky; i++) CHECK(same_as_strtod(tricky[i]), "get_double %s", tricky[i]);
    {
        wamp1_json_tok t;
        double d;
        num("1e400", &t);
        CHECK(wamp1_json_get_double("1e400", &t, &d) == -1 && d > 1e308, "overflow reports -1, +inf");
        num("-1e-400", &t);
        CHECK(wamp1_json_get_double("-1e-400", &t, &d) == 0 && d == 0 && dbits(d) >> 63, "underflow to -0");
        wamp1_json_parse("true", 4, &t, 1, 1, NULL);
        CHECK(wamp1_json_get_double("true", &t, &d) == -1, "get_double on literal");
    }
    /* random doubles printed with 17, 16 and 15 digits */
    for (k = 0; k < 20000; k++) {
        uint64_t b = rnd();
        double d;
        memcpy(&d, &b, 8);
        if (d - d != 0) continue;
        snprintf(s, sizeof s, "%.*g", 15 + k % 3, d);
        CHECK(same_as_strtod(s), "random get_double %s", s);
    }
    /* random decimal strings of 1 to 19 significant digits with any exponent, the ones
     * near halfway points included (digits ...5, ...50000) */
    for (k = 0; k < 20000; k++) {
        int nd = 1 + (int)(rnd() % 19), e = (int)(rnd() % 700) - 350;
        len = 0;
        for (j = 0; j < nd; j++) s[len++] = (char)('0' + (j == 0 ? 1 + rnd() % 9 : rnd() % 10));
        if (k % 4 == 0)
            for (j = nd / 2; j < nd; j++) s[j] = j == nd / 2 && j ? '5' : '0';
        len += snprintf(s + len, sizeof s - (size_t)len, "e%d", e);
        CHECK(same_as_strtod(s), "random decimal %s", s);
    }
    /* more than 19 significant digits, exactly halfway between two doubles: documented as
     * within 1 ulp (here the cut digits push the wrong way) */
    {
        static const char *const halfway[] = {
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792",
            "0.500000000000000166533453693773481063544750213623046875",
        };
        for (i = 0; i < 2; i++) {
            wamp1_json_tok t;
            double ours = 0, ref = strtod(halfway[i], NULL);
            int64_t diff;
            num(halfway[i], &t);
            wamp1_json_get_double(halfway[i], &t, &ours);
            diff = (int64_t)(dbits(ours) - dbits(ref));
            CHECK(diff >= -1 && diff <= 1, "halfway %s off by %lld ulp", halfway[i], (long long)diff);
        }
    }
    /* halfway cases between adjacent doubles, written out exactly (17+ digits would be
     * needed, so check the 19-digit truncation stays within 1 ulp) */
    for (k = 0; k < 2000; k++) {
        uint64_t b = rnd() >> 2;
        double d, ours = 0;
        wamp1_json_tok t;
        memcpy(&d, &b, 8);
        snprintf(s, sizeof s, "%.25e", d);
        num(s, &t);
        wamp1_json_get_double(s, &t, &ours);
        {
            int64_t diff = (int64_t)(dbits(ours) - dbits(strtod(s, NULL)));
            CHECK(diff >= -1 && diff <= 1, "long mantissa %s off by %lld ulp", s, (long long)diff);
        }
    }
}

/* ---- writer ---- */

static wamp1_jwriter jw;
static char wbuf[4096];

static int out_is(const char *want)
{
    return !jw.overflow && jw.len == strlen(want) && !memcmp(wbuf, want, jw.len);
}

static const char *dbl(double v)
{
    wamp1_jw_init(&jw, wbuf, sizeof wbuf);
    wamp1_jw_double(&jw, v);
    wbuf[jw.len] = 0;
    return wbuf;
}

static void build(wamp1_jwriter *w)
{
    wamp1_jw_array_begin(w);
    wamp1_jw_int(w, 8);
    wamp1_jw_string(w, "http://example.com/t#\"q\"", (size_t)-1);
    wamp1_jw_object_begin(w);
    wamp1_jw_key(w, "a", 1);
    wamp1_jw_array_begin(w);
    wamp1_jw_array_end(w);
    wamp1_jw_key(w, "b\n", (size_t)-1);
    wamp1_jw_object_begin(w);
    wamp1_jw_object_end(w);
    wamp1_jw_key(w, "c", 1);
    wamp1_jw_array_begin(w);
    wamp1_jw_null(w);
    wamp1_jw_bool(w, 1);
    wamp1_jw_bool(w, 0);
    wamp1_jw_int(w, INT64_MIN);
    wamp1_jw_int(w, INT64_MAX);
    wamp1_jw_double(w, -0.5);
    wamp1_jw_raw(w, "{\"r\":[1]}", 9);
    wamp1_jw_array_end(w);
    wamp1_jw_key(w, "", 0);
    wamp1_jw_string(w, "", 0);
    wamp1_jw_object_end(w);
    wamp1_jw_array_begin(w);
    wamp1_jw_array_begin(w);
    wamp1_jw_int(w, 0);
    wamp1_jw_array_end(w);
    wamp1_jw_int(w, -1);
    wamp1_jw_array_end(w);
    wamp1_jw_array_end(w);
}

static const char built[] = "[8,\"http://example.com/t#\\\"q\\\"\",{\"a\":[],\"b\\n\":{},\"c\":[null,true,false,"
                            "-9223372036854775808,9223372036854775807,-0.5,{\"r\":[1]}],\"\":\"\"},[[0],-1]]";

static void test_writer(void)
{
    size_t cap, i;
    int d;
    char big[64 + 16];

    wamp1_jw_init(&jw, wbuf, sizeof wbuf);
    build(&jw);
    CHECK(out_is(built) && jw.depth == 0, "nested output: %.*s", (int)jw.len, wbuf);
    CHECK(parse(built, NT, 8, NULL) > 0, "nested output parses");

    /* every cap from 0 to the full length: overflow exactly when too small, never a byte
     * written at or beyond cap, and the bytes written are a prefix of the full output */
    for (cap = 0; cap <= sizeof built; cap++) {
        memset(big, '#', sizeof big);
        {
            static char cbuf[sizeof built + 16];
            memset(cbuf, '#', sizeof cbuf);
            wamp1_jw_init(&jw, cbuf, cap);
            build(&jw);
            for (i = cap; i < sizeof cbuf; i++)
                if (cbuf[i] != '#') break;
            CHECK(i == sizeof cbuf, "cap %u: wrote at %u", (unsigned)cap, (unsigned)i);
            CHECK(jw.overflow == (cap < sizeof built - 1), "cap %u: overflow %d", (unsigned)cap, jw.overflow);
            CHECK(jw.len <= cap && !memcmp(cbuf, built, jw.len), "cap %u: len %u", (unsigned)cap, (unsigned)jw.len);
        }
    }
    (void)big;

    /* escaping: every byte below 0x20, quote, backslash; UTF-8 and DEL pass through */
    {
        char in[40], want[400];
        size_t n = 0, w = 0;
        for (i = 0; i < 0x20; i++) in[n++] = (char)i;
        in[n++] = '"';
        in[n++] = '\\';
        in[n++] = '/';
        in[n++] = 0x7f;
        in[n++] = (char)0xc3;
        in[n++] = (char)0xa9;
        want[w++] = '"';
        for (i = 0; i < 0x20; i++) {
            const char *e = i == 8 ? "\\b" : i == 9 ? "\\t" : i == 10 ? "\\n" : i == 12 ? "\\f" : i == 13 ? "\\r" : NULL;
            if (e) w += (size_t)sprintf(want + w, "%s", e);
            else w += (size_t)sprintf(want + w, "\\u%04x", (unsigned)i);
        }
        w += (size_t)sprintf(want + w, "\\\"\\\\/\x7f\xc3\xa9\"");
        wamp1_jw_init(&jw, wbuf, sizeof wbuf);
        wamp1_jw_string(&jw, in, n);
        CHECK(out_is(want), "escaping: %.*s", (int)jw.len, wbuf);
        /* and it unescapes back */
        wbuf[jw.len] = 0;
        {
            char back[64];
            size_t bl = 0;
            CHECK(unesc(wbuf, back, sizeof back, &bl) == 0 && bl == n && !memcmp(back, in, n), "escape round trip");
        }
        wamp1_jw_init(&jw, wbuf, sizeof wbuf);
        wamp1_jw_string(&jw, "a\0b", 3);
        CHECK(out_is("\"a\\u0000b\""), "embedded NUL");
    }

    /* depth limit and misuse */
    wamp1_jw_init(&jw, wbuf, sizeof wbuf);
    for (d = 0; d < WAMP1_JW_MAX_DEPTH; d++) wamp1_jw_array_begin(&jw);
    wamp1_jw_int(&jw, 1);
    wamp1_jw_int(&jw, 2);
    for (d = 0; d < WAMP1_JW_MAX_DEPTH; d++) wamp1_jw_array_end(&jw);
    wbuf[jw.len] = 0;
    CHECK(!jw.overflow && jw.len == 2 * WAMP1_JW_MAX_DEPTH + 3 && parse(wbuf, NT, 64, NULL) == 34,
          "depth 32 ok");
    wamp1_jw_init(&jw, wbuf, sizeof wbuf);
    for (d = 0; d <= WAMP1_JW_MAX_DEPTH; d++) wamp1_jw_array_begin(&jw);
    CHECK(jw.overflow, "depth 33 fails");
    for (d = 0; d <= WAMP1_JW_MAX_DEPTH + 2; d++) wamp1_jw_array_end(&jw);
    CHECK(jw.overflow && jw.len == WAMP1_JW_MAX_DEPTH + 1, "nothing after the failure");
    /* commas restart in each container at depth 31/32 (bits 30 and 31) */
    wamp1_jw_init(&jw, wbuf, sizeof wbuf);
    for (d = 0; d < WAMP1_JW_MAX_DEPTH; d++) {
        wamp1_jw_array_begin(&jw);
        wamp1_jw_int(&jw, d);
    }
    for (d = 0; d < WAMP1_JW_MAX_DEPTH; d++) {
        wamp1_jw_int(&jw, d);
        wamp1_jw_array_end(&jw);
    }
    wbuf[jw.len] = 0;
    CHECK(!jw.overflow && parse(wbuf, NT, 64, NULL) == 1 + 3 * WAMP1_JW_MAX_DEPTH - 1, "deep commas: %s", wbuf);

    /* top level scalars */
    wamp1_jw_init(&jw, wbuf, sizeof wbuf);
    wamp1_jw_string(&jw, "x", 1);
    CHECK(out_is("\"x\""), "top-level string");
    wamp1_jw_init(&jw, wbuf, 0);
    wamp1_jw_null(&jw);
    CHECK(jw.overflow && jw.len == 0, "cap 0");

    /* integers */
    {
        static const struct {
            int64_t v;
            const char *s;
        } iv[] = {{0, "0"}, {-1, "-1"}, {9, "9"}, {10, "10"}, {-10, "-10"}, {99, "99"}, {100, "100"},
                  {1234567890123456789, "1234567890123456789"}, {-999999999999999999, "-999999999999999999"},
                  {INT64_MAX, "9223372036854775807"}, {INT64_MIN, "-9223372036854775808"},
                  {4294967295, "4294967295"}, {4294967296, "4294967296"}};
        for (i = 0; i < sizeof iv / sizeof *iv; i++) {
            wamp1_jw_init(&jw, wbuf, sizeof wbuf);
            wamp1_jw_int(&jw, iv[i].v);
            CHECK(out_is(iv[i].s), "int %s: %.*s", iv[i].s, (int)jw.len, wbuf);
        }
    }
}

/* significant digits (trailing zeros dropped) of the shortest correctly rounded %.Ng, N in
 * 1..17, that strtod maps back to v */
static int ref_digits(double v)
{
    char s[64];
    int p;
    for (p = 1; p < 17; p++) {
        snprintf(s, sizeof s, "%.*g", p, v);
        if (strtod(s, NULL) == v) break;
    }
    snprintf(s, sizeof s, "%.*e", p - 1, v);
    /* significant digits without trailing zeros */
    {
        char *e = strchr(s, 'e');
        int n = 0, last = 0, i;
        for (i = 0; s + i < e; i++)
            if (s[i] >= '0' && s[i] <= '9') {
                n++;
                if (s[i] != '0') last = n;
            }
        return last;
    }
}

static int sig_digits(const char *s)
{
    int n = 0, last = 0, lead = 1;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9') continue;
        if (lead && *s == '0') continue;
        lead = 0;
        n++;
        if (*s != '0') last = n;
    }
    return last;
}

static void test_double_writer(void)
{
    static const struct {
        double v;
        const char *s;
    } dv[] = {
        {0.0, "0"}, {-0.0, "0"}, {1.0, "1"}, {-1.0, "-1"}, {2.5, "2.5"}, {0.1, "0.1"}, {-0.1, "-0.1"},
        {0.30000000000000004, "0.30000000000000004"}, {0.1 + 0.2, "0.30000000000000004"},
        {1.0 / 3.0, "0.3333333333333333"}, {2.0 / 3.0, "0.6666666666666666"}, {100.0, "100"},
        {9007199254740992.0, "9007199254740992"}, {-9007199254740992.0, "-9007199254740992"},
        {9007199254740994.0, "9007199254740994"}, {18014398509481984.0, "18014398509481984"},
        {1e21, "1e21"}, {1e20, "100000000000000000000"}, {123456789012345680000.0, "123456789012345680000"},
        {1e22, "1e22"}, {1e23, "1e23"}, {1.5e300, "1.5e300"}, {1e308, "1e308"},
        {1.7976931348623157e308, "1.7976931348623157e308"}, {5e-324, "5e-324"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"}, {0.001, "0.001"}, {0.000001, "0.000001"},
        {0.0000012, "0.0000012"}, {1e-7, "1e-7"}, {1.5e-7, "1.5e-7"}, {123.456, "123.456"},
        {3.141592653589793, "3.141592653589793"}, {-2.718281828459045, "-2.718281828459045"},
        {1.5, "1.5"}, {0.5, "0.5"}, {4.35679886e-310, "4.35679886e-310"}, {1e-320, "1e-320"},
        {6.02214076e23, "6.02214076e23"}, {2.2204460492503131e-16, "2.220446049250313e-16"},
        {4503599627370495.5, "4503599627370495.5"}, {0.1e-5, "0.000001"},
        {12345678.9, "12345678.9"}, {-1e-10, "-1e-10"},
    };
    size_t i;
    int k;
    double v;
    for (i = 0; i < sizeof dv / sizeof *dv; i++) {
        const char *s = dbl(dv[i].v);
        CHECK(!strcmp(s, dv[i].s), "double %.17g: got %s want %s", dv[i].v, s, dv[i].s);
    }
    {
        uint64_t nan = 0x7FF8000000000000u, inf = 0x7FF0000000000000u;
        memcpy(&v, &nan, 8);
        CHECK(!strcmp(dbl(v), "null"), "NaN");
        memcpy(&v, &inf, 8);
    }
    CHECK(!strcmp(dbl(v), "null"), "inf");
    CHECK(!strcmp(dbl(-v), "null"), "-inf");

    /* random doubles: the output is JSON, converts back exactly (with strtod and with ours),
     * and uses no more significant digits than the shortest of %.15g/%.16g/%.17g */
    for (k = 0; k < 30000; k++) {
        uint64_t b = rnd();
        double back = 0, ours = 0;
        const char *s;
        wamp1_json_tok t;
        if (k % 3 == 0) b = (b & 0x800FFFFFFFFFFFFFu) | ((uint64_t)(1023 - 60 + (int)(rnd() % 120)) << 52);
        memcpy(&v, &b, 8);
        if (v - v != 0) continue;
        s = dbl(v);
        back = strtod(s, NULL);
        CHECK(num(s, &t) && wamp1_json_get_double(s, &t, &ours) == 0 && dbits(ours) == dbits(v) &&
                  (dbits(back) == dbits(v) || (v == 0 && back == 0)),
              "double round trip %.17g -> %s", v, s);
        CHECK(sig_digits(s) == ref_digits(v), "double %.17g -> %s: %d digits, %%g needs %d", v, s, sig_digits(s),
              ref_digits(v));
    }
    /* subnormals (fewer significand bits, so fewer digits may do) */
    for (k = 0; k < 5000; k++) {
        uint64_t b = (rnd() & 0x800FFFFFFFFFFFFFu) >> (rnd() % 52);
        double ours = 0;
        const char *s;
        wamp1_json_tok t;
        memcpy(&v, &b, 8);
        s = dbl(v);
        CHECK(num(s, &t) && wamp1_json_get_double(s, &t, &ours) == 0 && dbits(ours) == dbits(v) &&
                  strtod(s, NULL) == v && (v == 0 || sig_digits(s) == ref_digits(v)),
              "subnormal %.17g -> %s (%d digits, %%g needs %d)", v, s, sig_digits(s), ref_digits(v));
    }
    /* extreme exponents and mantissas (the largest bignums): every pattern round-trips */
    {
        static const uint64_t ex[] = {0, 1, 2, 3, 52, 53, 54, 1020, 1021, 1022, 1023, 1024, 1075, 2044, 2045, 2046};
        static const uint64_t mant[] = {0, 1, 2, 0xFFFFFFFFFFFFFu, 0xFFFFFFFFFFFFEu, 0x8000000000000u, 0x123456789ABCDu};
        size_t a, c;
        for (a = 0; a < sizeof ex / sizeof *ex; a++)
            for (c = 0; c < sizeof mant / sizeof *mant; c++) {
                uint64_t b = ex[a] << 52 | mant[c];
                double back = 0;
                wamp1_json_tok t;
                const char *s;
                memcpy(&v, &b, 8);
                s = dbl(v);
                CHECK(num(s, &t) && wamp1_json_get_double(s, &t, &back) == 0 && dbits(back) == b &&
                          dbits(strtod(s, NULL)) == b,
                      "edge double %016llx -> %s", (unsigned long long)b, s);
            }
    }
    /* integers within 2^53 print as integers */
    for (k = 0; k < 5000; k++) {
        int64_t n = (int64_t)(rnd() >> (11 + rnd() % 50)) * (k & 1 ? -1 : 1);
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)n);
        CHECK(!strcmp(dbl((double)n), want), "integral %s -> %s", want, dbl((double)n));
    }
}

/* ---- parse -> jw_token round trip ---- */

static void rewrite(const char *src, int n, int i, wamp1_jwriter *w)
{
    /* rebuild containers element by element, re-emit scalars verbatim */
    const wamp1_json_tok *t = &toks[i];
    uint32_t k;
    int c;
    (void)n;
    if (t->type == WAMP1_JSON_ARRAY || t->type == WAMP1_JSON_OBJECT) {
        if (t->type == WAMP1_JSON_ARRAY) wamp1_jw_array_begin(w);
        else wamp1_jw_object_begin(w);
        for (k = 0, c = i + 1; k < t->size; k++) {
            if (t->type == WAMP1_JSON_OBJECT) {
                char key[256];
                size_t kl;
                wamp1_json_unescape(src, &toks[c], key, sizeof key, &kl);
                wamp1_jw_key(w, key, kl);
                c++;
            }
            rewrite(src, n, c, w);
            c = (int)toks[c].next;
        }
        if (t->type == WAMP1_JSON_ARRAY) wamp1_jw_array_end(w);
        else wamp1_jw_object_end(w);
    } else {
        wamp1_jw_token(w, src, t);
    }
}

static void test_round_trip(void)
{
    size_t i;
    int n, m, j;
    static wamp1_json_tok t2[NT];
    for (i = 0; i < sizeof y_docs / sizeof *y_docs; i++) {
        const char *s = y_docs[i];
        n = parse(s, NT, 64, NULL);
        /* whole value verbatim */
        wamp1_jw_init(&jw, wbuf, sizeof wbuf);
        wamp1_jw_array_begin(&jw);
        wamp1_jw_token(&jw, s, &toks[0]);
        wamp1_jw_token(&jw, s, &toks[0]);
        wamp1_jw_array_end(&jw);
        m = wamp1_json_parse(wbuf, jw.len, t2, NT, 65, NULL);
        CHECK(!jw.overflow && m == 2 * n + 1, "jw_token twice %s: %d vs %d", s, m, n);
        /* structure rebuilt token by token */
        wamp1_jw_init(&jw, wbuf, sizeof wbuf);
        rewrite(s, n, 0, &jw);
        m = wamp1_json_parse(wbuf, jw.len, t2, NT, 64, NULL);
        CHECK(!jw.overflow && m == n, "rewrite %s -> %.*s", s, (int)jw.len, wbuf);
        for (j = 0; j < n && j < m; j++) {
            CHECK(t2[j].type == toks[j].type && t2[j].size == toks[j].size && t2[j].next == toks[j].next,
                  "rewrite %s token %d", s, j);
            if (toks[j].type == WAMP1_JSON_STRING) {
                char a[256], b[256];
                size_t al = 0, bl = 1;
                wamp1_json_unescape(s, &toks[j], a, sizeof a, &al);
                wamp1_json_unescape(wbuf, &t2[j], b, sizeof b, &bl);
                CHECK(al == bl && !memcmp(a, b, al), "rewrite %s string %d", s, j);
            }
        }
    }
}

static void test_div10(void)
{
    int k;
    unsigned r;
    uint64_t x, q;
    static const uint64_t edge[] = {0, 1, 9, 10, 11, 19, 99, 100, 0xFFFFFFFFu, 0x100000000u, 9999999999999999999u,
                                    10000000000000000000u, 0xFFFFFFFFFFFFFFFFu, 0xFFFFFFFFFFFFFFFEu, 0x8000000000000000u};
    for (k = 0; k < (int)(sizeof edge / sizeof *edge); k++) {
        q = wamp1__div10(edge[k], &r);
        CHECK(q == edge[k] / 10 && r == edge[k] % 10, "div10 %llu", (unsigned long long)edge[k]);
    }
    for (k = 0; k < 200000; k++) {
        x = rnd() >> (rnd() % 64);
        q = wamp1__div10(x, &r);
        if (q != x / 10 || r != x % 10) {
            CHECK(0, "div10 %llu", (unsigned long long)x);
            break;
        }
    }
    passed++;
}

/* wamp1_json_validate answers as wamp1_json_parse does, without tokens: every document of
   the tables, every depth around the limit, and random mutations of them. */
static wamp1_json_tok vtoks[NT];

static void test_validate(void)
{
    unsigned i, k;
    uint32_t seed = 7;
    char doc[256];
    for (i = 0; i < sizeof y_docs / sizeof *y_docs; i++)
        CHECK(wamp1_json_validate(y_docs[i], strlen(y_docs[i]), 64) == 0, "validate y_ '%s'", y_docs[i]);
    for (i = 0; i < sizeof n_docs / sizeof *n_docs; i++) {
        int r = wamp1_json_validate(n_docs[i].doc, strlen(n_docs[i].doc), 64);
        CHECK(r == n_docs[i].err || (n_docs[i].err == WAMP1_JSON_ETOKENS && r == 0),
              "validate n_ '%s': %d, want %d", n_docs[i].doc, r, n_docs[i].err);
    }
    for (k = 1; k < 70; k++) { /* [[[...]]] k deep, against limits around it */
        char deep[160];
        int lim;
        for (i = 0; i < k; i++) deep[i] = '[';
        for (i = 0; i < k; i++) deep[k + i] = ']';
        for (lim = (int)k - 1; lim <= (int)k + 1; lim++) {
            int want = wamp1_json_parse(deep, 2 * k, vtoks, NT, lim, NULL);
            int got = wamp1_json_validate(deep, 2 * k, lim);
            if (lim > 64) continue; /* the validator nests at most 64 deep */
            CHECK((want > 0 && got == 0) || want == got, "validate depth %u limit %d: %d vs %d", k, lim, got, want);
        }
    }
    for (k = 0; k < 200000; k++) { /* mutations of valid documents */
        const char *src = y_docs[k % (sizeof y_docs / sizeof *y_docs)];
        size_t n = strlen(src), m;
        int want, got;
        if (n >= sizeof doc) continue;
        memcpy(doc, src, n);
        for (m = 0; m < 1 + k % 3 && n; m++) {
            seed = seed * 1103515245u + 12345u;
            doc[(seed >> 8) % n] = "[]{}\",:0e-.tfn \\u"[(seed >> 20) % 18];
        }
        want = wamp1_json_parse(doc, n, vtoks, NT, 32, NULL);
        got = wamp1_json_validate(doc, n, 32);
        CHECK((want > 0 && got == 0) || (want == got && want < 0) || (want == WAMP1_JSON_ETOKENS && got == 0),
              "validate mutation '%.*s': %d vs %d", (int)n, doc, got, want);
    }
}

int main(void)
{
    test_documents();
    test_validate();
    test_structure();
    test_limits();
    test_strings();
    test_get_int();
    test_get_double();
    test_writer();
    test_double_writer();
    test_round_trip();
    test_div10();
    printf("json: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
