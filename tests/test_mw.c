/* Tests of the middleware helpers (wip/mw_*.h): addresses, CIDR, blocklist,
 * Origin allow-list, cookies, query strings and PHP file sessions.
 *
 *   cc -std=c99 -I. tests/test_mw.c -o build/test_mw && build/test_mw
 *
 * The real-PHP part runs tests/php/make_sessions.php with `php` (skipped with a
 * SKIP line when php is missing); set MW_PHP_SCRIPT to use another path. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <assert.h>
#include <unistd.h>
#include <arpa/inet.h>

#define WAMP1_IMPLEMENTATION
#include "../wamp1.h"

static int g_pass, g_fail;

#define CHECK(c) check_((c) ? 1 : 0, #c, __LINE__, NULL)
#define CHECKM(c, m) check_((c) ? 1 : 0, #c, __LINE__, (m))

static void check_(int ok, const char *what, int line, const char *ctx)
{
    if (ok) {
        g_pass++;
        return;
    }
    g_fail++;
    printf("FAIL line %d: %s%s%s\n", line, what, ctx ? "  [" : "", ctx ? ctx : "");
    if (ctx) printf("      ]\n");
}

static size_t slen(const char *s) { return strlen(s); }

/* ---------------------------------------------------------------- addresses */

static int parse_ok(const char *s, wamp1_addr *a) { return wamp1_addr_parse(s, slen(s), a) == 0; }

static void test_addr_parse(void)
{
    static const char *good[] = {
        "1.2.3.4", "0.0.0.0", "255.255.255.255", "10.0.0.1", "::", "::1", "1::", "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "FE80::ABCD",
        "0001:0002::", "2001:db8::1", "::1.2.3.4", "a::b", "::ffff:0.0.0.0", "1:2:3:4:5::6.7.8.9",
    };
    static const char *bad[] = {
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.256.1.1", "01.2.3.4", "1.2.3.04", "1.2.3.00", "1..2.3",
        "1.2.3.", ".1.2.3", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-1", "a.b.c.d", "1.2.3.4/8", "1234.1.1.1",
        ":::", "1::2::3", ":1", "1:", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
        "12345::", "g::", "fe80::1%eth0", "[::1]", "::ffff:1.2.3", "::ffff:256.1.2.3", "1.2.3.4::",
        "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4", ":", "::ffff:01.2.3.4", "1:2:3:4:5:6:7", "::1 ",
        "1::2:", ":::1", "1:::", "::1.2.3.4.5", "1.2.3.4:80", "+1.2.3.4", "1.2.3.4\n",
    };
    wamp1_addr a;
    size_t i;
    for (i = 0; i < sizeof good / sizeof *good; i++) CHECKM(parse_ok(good[i], &a), good[i]);
    for (i = 0; i < sizeof bad / sizeof *bad; i++) CHECKM(!parse_ok(bad[i], &a), bad[i]);

    CHECK(parse_ok("1.2.3.4", &a) && a.family == 4 && a.bytes[0] == 1 && a.bytes[3] == 4 && a.bytes[4] == 0 && a.port == 0);
    CHECK(parse_ok("::ffff:1.2.3.4", &a) && a.family == 6 && a.bytes[10] == 0xff && a.bytes[12] == 1 && a.bytes[15] == 4);
    CHECK(parse_ok("1:2:3:4:5:6:7::", &a) && a.bytes[13] == 7 && a.bytes[14] == 0 && a.bytes[15] == 0);
    /* length is honoured: no NUL needed */
    CHECK(wamp1_addr_parse("1.2.3.45", 7, &a) == 0 && a.bytes[3] == 4);
    CHECK(wamp1_addr_parse("::1x", 3, &a) == 0 && a.bytes[15] == 1);
}

static void test_addr_format(void)
{
    static const char *rt[][2] = {
        {"1.2.3.4", "1.2.3.4"}, {"0.0.0.0", "0.0.0.0"}, {"255.255.255.255", "255.255.255.255"},
        {"::", "::"}, {"::1", "::1"}, {"1::", "1::"}, {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
        {"2001:0db8::0001", "2001:db8::1"}, {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        {"2001:db8::1:0:0:1", "2001:db8::1:0:0:1"}, {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
        {"::ffff:1.2.3.4", "::ffff:1.2.3.4"}, {"::FFFF:102:304", "::ffff:1.2.3.4"}, {"ABCD:EF01::", "abcd:ef01::"},
        {"0:0:0:0:0:0:0:1", "::1"}, {"1:0:0:0:0:0:0:0", "1::"}, {"1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"},
        {"0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"}, {"::1.2.3.4", "::102:304"}, {"64:ff9b::1.2.3.4", "64:ff9b::102:304"},
        {"1:0:0:2:0:0:0:3", "1:0:0:2::3"}, {"0:0:1:0:0:0:0:0", "0:0:1::"}, {"fe80:0:0:0:0:0:0:0", "fe80::"},
        {"1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"}, {"0:0:0:0:0:ffff:0:0", "::ffff:0.0.0.0"},
        {"0:0:0:0:1:ffff:1:1", "::1:ffff:1:1"},
    };
    wamp1_addr a, b;
    char out[64];
    size_t i;
    for (i = 0; i < sizeof rt / sizeof *rt; i++) {
        int n;
        CHECKM(parse_ok(rt[i][0], &a), rt[i][0]);
        n = wamp1_addr_format(&a, out, sizeof out);
        CHECKM(n == (int)slen(rt[i][1]) && !strcmp(out, rt[i][1]), rt[i][0]);
        CHECKM(parse_ok(out, &b) && !memcmp(&a, &b, sizeof a), rt[i][0]);
    }
    parse_ok("2001:db8::1", &a);
    CHECK(wamp1_addr_format(&a, out, 11) == -1 && out[0] == 0);
    CHECK(wamp1_addr_format(&a, out, 12) == 11);
    CHECK(wamp1_addr_format(&a, NULL, 0) == -1);
    a.family = 0;
    CHECK(wamp1_addr_format(&a, out, sizeof out) == -1);
    parse_ok("1111:2222:3333:4444:5555:6666:7777:8888", &a);
    CHECK(wamp1_addr_format(&a, out, 46) == 39);
    parse_ok("::ffff:255.255.255.255", &a);
    CHECK(wamp1_addr_format(&a, out, 46) == 22);
}

static uint32_t g_rng = 12345;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

/* Differential tests against the C library's inet_pton/inet_ntop. */
static void test_addr_vs_libc(void)
{
    static const char alpha[] = "0123456789abcdefABCDEF::::....";
    char s[48], out[64], ref[64];
    unsigned char lb[16];
    wamp1_addr a;
    int i, bad_parse = 0, bad_fmt = 0, bad_rt = 0;
    for (i = 0; i < 300000; i++) {
        int n = (int)(rnd() % 22), k, r6, r4, m;
        for (k = 0; k < n; k++) s[k] = alpha[rnd() % (sizeof alpha - 1)];
        s[n] = 0;
        m = parse_ok(s, &a);
        r6 = inet_pton(AF_INET6, s, lb) == 1;
        r4 = inet_pton(AF_INET, s, lb) == 1;
        if (m != (r6 || r4) || (m && memcmp(a.bytes, lb, a.family == 4 ? 4 : 16))) {
            if (bad_parse++ < 5) printf("  parse differs from libc for \"%s\": ours %d, libc %d\n", s, m, r6 || r4);
        }
    }
    for (i = 0; i < 200000; i++) {
        int k;
        memset(&a, 0, sizeof a);
        a.family = 6;
        for (k = 0; k < 8; k++) {
            uint32_t r = rnd();
            if (r % 3) continue;                      /* mostly zero groups */
            a.bytes[2 * k] = (uint8_t)(r >> 8 & (r & 0x100 ? 0xff : 0));
            a.bytes[2 * k + 1] = (uint8_t)(r >> 16);
        }
        if (i % 7 == 0) { memset(a.bytes, 0, 10); a.bytes[10] = a.bytes[11] = 0xff; }
        wamp1_addr_format(&a, out, sizeof out);
        inet_ntop(AF_INET6, a.bytes, ref, sizeof ref);
        for (k = 0; k < 12 && !a.bytes[k]; k++) {}
        if (k < 12 && strcmp(out, ref)) {             /* glibc writes ::a.b.c.d for IPv4-compatible */
            if (bad_fmt++ < 5) printf("  format differs from libc: ours %s, libc %s\n", out, ref);
        }
        {
            wamp1_addr b;
            if (!parse_ok(out, &b) || memcmp(&a, &b, sizeof a)) bad_rt++;
        }
    }
    CHECK(bad_parse == 0);
    CHECK(bad_fmt == 0);
    CHECK(bad_rt == 0);
}

/* ---------------------------------------------------------------- CIDR */

static int cidr(const char *s, wamp1_cidr *c) { return wamp1_cidr_parse(s, slen(s), c); }

static int cmatch(const char *rule, const char *addr)
{
    wamp1_cidr c;
    wamp1_addr a;
    if (cidr(rule, &c) || !parse_ok(addr, &a)) return -1;
    return wamp1_cidr_match(&c, &a);
}

static void test_cidr(void)
{
    static const char *bad[] = {
        "1.2.3.4/33", "::1/129", "1.2.3.4/", "1.2.3.4/08", "1.2.3.4/-1", "1.2.3.4/8/8", "/8", "1.2.3.4/1000",
        "1.2.3.4/ 8", "1.2.3.4 /8", "1.2.3/8", "256.0.0.0/8", "::/", "::/0128", "1.2.3.4/+8", "", "/", "1.2.3.4/8 ",
        ":::/8", "1::2::3/64", "01.2.3.4/8",
    };
    wamp1_cidr c;
    char out[64];
    size_t i;
    for (i = 0; i < sizeof bad / sizeof *bad; i++) CHECKM(cidr(bad[i], &c) == -1, bad[i]);

    CHECK(cidr("10.0.0.0/8", &c) == 0 && c.bits == 8 && c.addr.family == 4);
    CHECK(cidr("10.1.2.3/8", &c) == 0 && c.addr.bytes[0] == 10 && c.addr.bytes[1] == 0 && c.addr.bytes[3] == 0);
    CHECK(cidr("1.2.3.4", &c) == 0 && c.bits == 32);
    CHECK(cidr("::1", &c) == 0 && c.bits == 128);
    CHECK(cidr("0.0.0.0/0", &c) == 0 && c.bits == 0);
    CHECK(cidr("255.255.255.255/0", &c) == 0 && c.bits == 0 && c.addr.bytes[0] == 0);
    CHECK(cidr("::/0", &c) == 0 && c.bits == 0);
    CHECK(cidr("1.2.3.5/31", &c) == 0 && c.addr.bytes[3] == 4);
    CHECK(cidr("1.2.3.255/25", &c) == 0 && c.addr.bytes[3] == 128);
    CHECK(cidr("2001:db8::ffff/127", &c) == 0 && c.addr.bytes[15] == 0xfe && c.addr.bytes[14] == 0xff);
    CHECK(cidr("2001:db8:abcd::/20", &c) == 0 && wamp1_addr_format(&c.addr, out, sizeof out) > 0 && !strcmp(out, "2001::"));
    CHECK(cidr("1.2.3.4/32", &c) == 0 && c.bits == 32 && c.addr.bytes[3] == 4);
    CHECK(cidr("::1/128", &c) == 0 && c.bits == 128 && c.addr.bytes[15] == 1);

    CHECK(cmatch("10.0.0.0/8", "10.255.255.255") == 1);
    CHECK(cmatch("10.0.0.0/8", "11.0.0.0") == 0);
    CHECK(cmatch("10.0.0.0/8", "9.255.255.255") == 0);
    CHECK(cmatch("0.0.0.0/0", "1.2.3.4") == 1);
    CHECK(cmatch("0.0.0.0/0", "::ffff:1.2.3.4") == 1);
    CHECK(cmatch("0.0.0.0/0", "2001:db8::1") == 0);
    CHECK(cmatch("::/0", "2001:db8::1") == 1);
    CHECK(cmatch("::/0", "1.2.3.4") == 1);
    CHECK(cmatch("1.2.3.4/32", "1.2.3.4") == 1);
    CHECK(cmatch("1.2.3.4/32", "1.2.3.5") == 0);
    CHECK(cmatch("1.2.3.4/31", "1.2.3.5") == 1);
    CHECK(cmatch("1.2.3.4/31", "1.2.3.6") == 0);
    CHECK(cmatch("1.2.3.4/31", "1.2.3.3") == 0);
    CHECK(cmatch("2001:db8::/127", "2001:db8::1") == 1);
    CHECK(cmatch("2001:db8::/127", "2001:db8::2") == 0);
    CHECK(cmatch("2001:db8::1/128", "2001:db8::1") == 1);
    CHECK(cmatch("2001:db8::1/128", "2001:db8::3") == 0);
    CHECK(cmatch("2001:db8::/32", "2001:db8:ffff::1") == 1);
    CHECK(cmatch("2001:db8::/32", "2001:db9::1") == 0);
    CHECK(cmatch("192.168.0.0/23", "192.168.1.255") == 1);
    CHECK(cmatch("192.168.0.0/23", "192.168.2.0") == 0);
    /* IPv4-mapped addresses on either side */
    CHECK(cmatch("10.0.0.0/8", "::ffff:10.1.2.3") == 1);
    CHECK(cmatch("10.0.0.0/8", "::ffff:11.1.2.3") == 0);
    CHECK(cmatch("::ffff:10.0.0.0/104", "10.1.2.3") == 1);
    CHECK(cmatch("::ffff:10.0.0.0/104", "11.1.2.3") == 0);
    CHECK(cmatch("::ffff:10.0.0.0/104", "::ffff:10.9.9.9") == 1);
    CHECK(cmatch("::ffff:1.2.3.4", "1.2.3.4") == 1);
    CHECK(cmatch("1.2.3.4", "::ffff:1.2.3.4") == 1);
    CHECK(cmatch("1.2.3.4", "::ffff:1.2.3.5") == 0);
    CHECK(cmatch("::ffff:0:0/96", "8.8.8.8") == 1);
    CHECK(cmatch("10.0.0.0/8", "::10.1.2.3") == 0);        /* IPv4-compatible is not mapped */
    CHECK(cmatch("10.0.0.0/8", "2001:db8::a01:203") == 0);
    CHECK(cmatch("2001:db8::/32", "32.1.13.184") == 0);     /* same first bytes, other family */
    CHECK(cmatch("::/96", "1.2.3.4") == 0);
    {
        wamp1_addr a;
        cidr("0.0.0.0/0", &c);
        memset(&a, 0, sizeof a);
        CHECK(wamp1_cidr_match(&c, &a) == 0);               /* family 0 never matches */
        a.family = 7;
        CHECK(wamp1_cidr_match(&c, &a) == 0);
    }
    /* every IPv4 prefix length against a reference computed with masks */
    {
        int i2, bits, nbad = 0;
        for (i2 = 0; i2 < 20000; i2++) {
            uint32_t r = rnd(), x = rnd(), mask;
            wamp1_addr a;
            bits = (int)(rnd() % 33);
            mask = bits ? 0xffffffffu << (32 - bits) : 0;
            if (i2 & 1) x = (r & mask) | (x & ~mask);
            memset(&c, 0, sizeof c);
            memset(&a, 0, sizeof a);
            c.addr.family = a.family = 4;
            c.bits = (uint8_t)bits;
            c.addr.bytes[0] = (uint8_t)(r >> 24); c.addr.bytes[1] = (uint8_t)(r >> 16);
            c.addr.bytes[2] = (uint8_t)(r >> 8); c.addr.bytes[3] = (uint8_t)r;
            a.bytes[0] = (uint8_t)(x >> 24); a.bytes[1] = (uint8_t)(x >> 16);
            a.bytes[2] = (uint8_t)(x >> 8); a.bytes[3] = (uint8_t)x;
            if (wamp1_cidr_match(&c, &a) != ((r & mask) == (x & mask))) nbad++;
        }
        CHECK(nbad == 0);
    }
}

static void test_blocklist(void)
{
    wamp1_cidr st[3];
    wamp1_blocklist bl;
    wamp1_addr a;
    wamp1_blocklist_init(&bl, st, 3);
    CHECK(bl.count == 0 && bl.cap == 3);
    parse_ok("10.1.2.3", &a);
    CHECK(wamp1_blocklist_match(&bl, &a) == 0);
    CHECK(wamp1_blocklist_add(&bl, "10.0.0.0/8") == 0 && bl.count == 1);
    CHECK(wamp1_blocklist_add(&bl, "10.1.2.3/8") == 0 && bl.count == 1);
    CHECK(wamp1_blocklist_add(&bl, "::ffff:10.0.0.0/104") == 0 && bl.count == 1);
    CHECK(wamp1_blocklist_add(&bl, "bad") == -1 && bl.count == 1);
    CHECK(wamp1_blocklist_add(&bl, "1.2.3.4/33") == -1);
    CHECK(wamp1_blocklist_add(&bl, "1.2.3.4") == 0 && bl.count == 2);
    CHECK(wamp1_blocklist_add(&bl, "2001:db8::/32") == 0 && bl.count == 3);
    CHECK(wamp1_blocklist_add(&bl, "5.5.5.5") == -2 && bl.count == 3);
    CHECK(wamp1_blocklist_add(&bl, "1.2.3.4/32") == 0 && bl.count == 3);
    CHECK(wamp1_blocklist_match(&bl, &a) == 1);
    parse_ok("::ffff:10.200.0.1", &a);
    CHECK(wamp1_blocklist_match(&bl, &a) == 1);
    parse_ok("2001:db8::77", &a);
    CHECK(wamp1_blocklist_match(&bl, &a) == 1);
    parse_ok("1.2.3.4", &a);
    CHECK(wamp1_blocklist_match(&bl, &a) == 1);
    parse_ok("1.2.3.5", &a);
    CHECK(wamp1_blocklist_match(&bl, &a) == 0);
    CHECK(wamp1_blocklist_remove(&bl, "1.2.3.4/32") == 0 && bl.count == 2);
    CHECK(wamp1_blocklist_remove(&bl, "1.2.3.4") == -2);
    CHECK(wamp1_blocklist_remove(&bl, "x") == -1);
    parse_ok("1.2.3.4", &a);
    CHECK(wamp1_blocklist_match(&bl, &a) == 0);
    CHECK(wamp1_blocklist_add(&bl, "5.5.5.5") == 0 && bl.count == 3);
    CHECK(wamp1_blocklist_remove(&bl, "::ffff:10.0.0.0/104") == 0 && bl.count == 2);
    parse_ok("10.1.2.3", &a);
    CHECK(wamp1_blocklist_match(&bl, &a) == 0);
    parse_ok("5.5.5.5", &a);
    CHECK(wamp1_blocklist_match(&bl, &a) == 1);
    CHECK(wamp1_blocklist_remove(&bl, "5.5.5.5") == 0 && wamp1_blocklist_remove(&bl, "2001:db8::1/32") == 0);
    CHECK(bl.count == 0 && wamp1_blocklist_match(&bl, &a) == 0);
    wamp1_blocklist_init(&bl, NULL, 0);
    CHECK(wamp1_blocklist_add(&bl, "1.2.3.4") == -2);
    CHECK(wamp1_blocklist_match(&bl, &a) == 0);
}

/* ---------------------------------------------------------------- origins */

static void test_origin(void)
{
    static const char *rule_text[] = {
        "example.com", "*.example.org", "https://secure.test", "http://dev.test:8080", "localhost:3000",
        "[::1]:9000", "HTTP://Upper.Test", "trailing.test.", "slash.test/", "127.0.0.1",
        "chrome-extension://abcdef", " spaced.test ",
    };
    static const char *bad_rules[] = {
        "", "*", "*.", "http://", "example.com:0", "example.com:65536", "example.com:", "example.com/path",
        "user@example.com", "[::1", "[zz::]", "*.[::1]", "exa mple.com", "http:/x.com", "ex%41.com",
        "example.com:123456", "example.com//", "https://*.", "[::1]x", "a.com:80:80", "*.*.a.com",
    };
    static const struct { const char *o; int want; } cases[] = {
        {"https://example.com", 1}, {"http://example.com", 1}, {"http://example.com:80", 1},
        {"https://example.com:443", 1}, {"ws://example.com", 1}, {"wss://example.com:443", 1},
        {"http://example.com:8080", 0}, {"https://example.com:80", 0}, {"HTTPS://EXAMPLE.COM", 1},
        {"https://example.com.", 1}, {"https://example.com/", 1}, {"https://example.com//", 0},
        {"https://example.com/path", 0}, {"https://example.com?x", 0}, {"https://example.com#f", 0},
        {"https://user@example.com", 0}, {"https://www.example.com", 0}, {"https://notexample.com", 0},
        {"https://example.com.evil.com", 0}, {"https://example.co", 0}, {"https://xexample.com", 0},
        {"https://a.example.org", 1}, {"https://a.b.example.org", 1}, {"https://example.org", 0},
        {"https://.example.org", 0}, {"https://aexample.org", 0}, {"https://A.EXAMPLE.ORG", 1},
        {"http://a.example.org:8080", 0}, {"https://a.example.org.", 1},
        {"https://secure.test", 1}, {"http://secure.test", 0}, {"https://secure.test:8443", 0},
        {"https://secure.test:443", 1},
        {"http://dev.test:8080", 1}, {"http://dev.test", 0}, {"https://dev.test:8080", 0},
        {"http://localhost:3000", 1}, {"https://localhost:3000", 1}, {"http://localhost", 0},
        {"http://localhost:3001", 0}, {"http://LOCALHOST:3000", 1}, {"http://localhost:03000", 1},
        {"http://[::1]:9000", 1}, {"http://[0:0::1]:9000", 1}, {"http://[::1]", 0}, {"http://[::2]:9000", 0},
        {"http://[::1]:9000/", 1}, {"http://[::1:9000", 0}, {"http://[::1]]:9000", 0}, {"http://::1:9000", 0},
        {"http://upper.test", 1}, {"https://upper.test", 0},
        {"http://trailing.test", 1}, {"http://trailing.test.", 1}, {"http://slash.test", 1},
        {"http://127.0.0.1", 1}, {"http://127.0.0.2", 0}, {"http://127.0.0.1:8080", 0},
        {"chrome-extension://abcdef", 1}, {"chrome-extension://abcdef:80", 0}, {"moz-extension://abcdef", 0},
        {"https://spaced.test", 1},
        {"null", 0}, {"", 0}, {"  https://example.com  ", 1}, {"https://example.com https://x.org", 0},
        {"https://", 0}, {"://example.com", 0}, {"https:example.com", 0}, {"example.com", 0},
        {"https://example.com:", 0}, {"https://example.com:0", 0}, {"https://example.com:99999", 0},
        {"https://example.com:65536", 0}, {"https://example.com:443abc", 0}, {"file://", 0},
        {"https://exa_mple.com", 0}, {"https://ex ample.com", 0}, {"1https://example.com", 0},
        {"https://example.com\xc3\xa9", 0}, {"https://*.example.org", 0},
    };
    wamp1_origin_rule rules[16];
    size_t i;
    int n = 0;
    for (i = 0; i < sizeof rule_text / sizeof *rule_text; i++) {
        int r = wamp1_origin_rule_parse(&rules[n], rule_text[i], slen(rule_text[i]));
        CHECKM(r == 0, rule_text[i]);
        if (!r) n++;
    }
    for (i = 0; i < sizeof bad_rules / sizeof *bad_rules; i++) {
        wamp1_origin_rule r;
        CHECKM(wamp1_origin_rule_parse(&r, bad_rules[i], slen(bad_rules[i])) == -1, bad_rules[i]);
    }
    for (i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECKM(wamp1_origin_allowed(rules, n, cases[i].o, slen(cases[i].o)) == cases[i].want, cases[i].o);
    CHECK(wamp1_origin_allowed(rules, 0, "https://example.com", 19) == 0);
    CHECK(wamp1_origin_allowed(rules, n, "https://example.com\0", 20) == 0);
    CHECK(wamp1_origin_allowed(rules, n, "https://example.comXXX", 19) == 1);
    /* the rule points into its text */
    {
        wamp1_origin_rule r;
        CHECK(wamp1_origin_rule_parse(&r, "https://*.Example.Net.:8443/", 28) == 0 && r.wildcard == 1 && r.port == 8443
              && r.hostlen == 11 && !memcmp(r.host, "Example.Net", 11) && r.schemelen == 5);
        CHECK(wamp1_origin_allowed(&r, 1, "https://x.example.net:8443", 26) == 1);
        CHECK(wamp1_origin_allowed(&r, 1, "https://x.example.net", 21) == 0);
        CHECK(wamp1_origin_rule_parse(&r, "example.com", 11) == 0 && r.scheme == NULL && r.port == 0);
    }
}

/* ---------------------------------------------------------------- cookies, query */

static int cookie(const char *h, const char *name, const char *want)
{
    const char *v = NULL;
    size_t n = 99;
    int r = wamp1_cookie_get(h, slen(h), name, &v, &n);
    if (!want) return r == -1;
    return r == 0 && n == slen(want) && !memcmp(v, want, n);
}

static void test_cookies(void)
{
    const char *v;
    size_t n;
    CHECK(cookie("a=1; PHPSESSID=abc123; b=2", "PHPSESSID", "abc123"));
    CHECK(cookie("a=1; PHPSESSID=abc123; b=2", "a", "1"));
    CHECK(cookie("a=1; PHPSESSID=abc123; b=2", "b", "2"));
    CHECK(cookie("a=1; PHPSESSID=abc123; b=2", "c", NULL));
    CHECK(cookie(" \t PHPSESSID = \"quoted val\" ; x=y", "PHPSESSID", "quoted val"));
    CHECK(cookie(" \t PHPSESSID = \"quoted val\" ; x=y", "x", "y"));
    CHECK(cookie("x=1;PHPSESSID=first;PHPSESSID=second", "PHPSESSID", "first"));
    CHECK(cookie("noequals; PHPSESSID=v", "PHPSESSID", "v"));
    CHECK(cookie("noequals; PHPSESSID=v", "noequals", NULL));
    CHECK(cookie("PHPSESSIDX=1; XPHPSESSID=2", "PHPSESSID", NULL));
    CHECK(cookie("PHPSESSID=", "PHPSESSID", ""));
    CHECK(cookie("PHPSESSID=\"", "PHPSESSID", "\""));
    CHECK(cookie("PHPSESSID=\"\"", "PHPSESSID", ""));
    CHECK(cookie("a=b=c", "a", "b=c"));
    CHECK(cookie("", "a", NULL));
    CHECK(cookie(";;; PHPSESSID=z;;", "PHPSESSID", "z"));
    CHECK(cookie("phpsessid=1", "PHPSESSID", NULL));
    CHECK(cookie("a=1;b=2", "b", "2"));
    CHECK(cookie("=1; a=2", "", NULL) || cookie("=1; a=2", "", "1"));
    CHECK(wamp1_cookie_get("PHPSESSID=abcdef", 13, "PHPSESSID", &v, &n) == 0 && n == 3 && !memcmp(v, "abc", 3));
    CHECK(wamp1_cookie_get("PHPSESSID=abcdef", 9, "PHPSESSID", &v, &n) == -1);
}

static int query(const char *q, const char *name, const char *want, size_t wantlen)
{
    char out[64];
    size_t n = 999;
    int r = wamp1_query_get(q, slen(q), name, out, sizeof out, &n);
    if (!want) return r == -1;
    return r == 0 && n == wantlen && !memcmp(out, want, n) && out[n] == 0;
}

static void test_query(void)
{
    const char *q = "a=1&b=hello+world&c=%41%42%zz&d&e=&%66=f&g=%00x&h=%4&i=%&j=%e2%82%AC";
    char out[16];
    size_t n;
    CHECK(query(q, "a", "1", 1));
    CHECK(query(q, "b", "hello world", 11));
    CHECK(query(q, "c", "AB%zz", 5));
    CHECK(query(q, "d", "", 0));
    CHECK(query(q, "e", "", 0));
    CHECK(query(q, "f", "f", 1));
    CHECK(query(q, "g", "\0x", 2));
    CHECK(query(q, "h", "%4", 2));
    CHECK(query(q, "i", "%", 1));
    CHECK(query(q, "j", "\xe2\x82\xac", 3));
    CHECK(query(q, "k", NULL, 0));
    CHECK(query(q, "", NULL, 0));
    CHECK(query("?a=1", "a", "1", 1));
    CHECK(query("?a=1", "?a", NULL, 0));
    CHECK(query("x=1&x=2", "x", "1", 1));
    CHECK(query("a+b=1", "a b", "1", 1));
    CHECK(query("a%20b=2", "a b", "2", 1));
    CHECK(query("ab=1", "a", NULL, 0));
    CHECK(query("a=1", "ab", NULL, 0));
    CHECK(query("&&a=1&&", "a", "1", 1));
    CHECK(query("", "a", NULL, 0));
    CHECK(query("a=x=y", "a", "x=y", 3));
    CHECK(query("a=%2", "a", "%2", 2));
    CHECK(query("a%3D=1", "a=", "1", 1));
    CHECK(wamp1_query_get("b=hello+world", 13, "b", out, 11, &n) == -2 && n == 11);
    CHECK(wamp1_query_get("b=hello+world", 13, "b", out, 12, &n) == 0 && n == 11 && !strcmp(out, "hello world"));
    CHECK(wamp1_query_get("b=hello", 13 - 6, "b", out, 0, &n) == -2 && n == 5);
    CHECK(wamp1_query_get("b=hello", 7, "b", NULL, 0, NULL) == -2);
    CHECK(wamp1_query_get("a=1&b=22", 7, "b", out, sizeof out, &n) == 0 && n == 1 && out[0] == '2');
}

/* ---------------------------------------------------------------- PHP sessions */

static char g_json[1 << 16];

static const char *to_json(const char *data, size_t len, int *rc)
{
    wamp1_php_session s;
    wamp1_jwriter w;
    *rc = wamp1_php_session_load(&s, data, len);
    if (*rc) return NULL;
    wamp1_jw_init(&w, g_json, sizeof g_json - 1);
    *rc = wamp1_php_session_to_json(&s, &w);
    if (w.overflow) *rc = -9;
    g_json[w.len] = 0;
    return g_json;
}

static int sess_json(const char *data, const char *want)
{
    int rc;
    const char *j = to_json(data, slen(data), &rc);
    if (!j || strcmp(j, want)) {
        printf("  session %s\n    gave %s\n    want %s\n", data, j ? j : "(rejected)", want);
        return 0;
    }
    return 1;
}

static int sess_bad(const char *data, size_t len)
{
    wamp1_php_session s;
    return wamp1_php_session_load(&s, data, len) == -1 && s.buf == NULL && s.root.count == 0;
}

#define SESS_BAD(lit) CHECKM(sess_bad(lit, sizeof(lit) - 1), lit)

static double dbl(const char *text)
{
    wamp1_php_session s;
    wamp1_php_value v;
    char buf[128];
    size_t n = slen(text);
    memcpy(buf, "x|d:", 4);
    memcpy(buf + 4, text, n);
    buf[4 + n] = ';';
    if (wamp1_php_session_load(&s, buf, n + 5) || wamp1_php_session_get(&s, "x", &v) || v.type != WAMP1_PHP_FLOAT) return -12345.0;
    return v.d;
}

static int near(double x, double y)
{
    double d = x - y, m = y < 0 ? -y : y;
    if (d < 0) d = -d;
    return x == y || d <= m * 4e-16;
}

static void test_php_values(void)
{
    wamp1_php_session s;
    wamp1_php_value v, k, it;
    static const char d1[] = "a|i:5;b|s:3:\"x|y\";c|a:3:{i:0;s:1:\"p\";s:1:\"k\";a:1:{i:5;b:1;}i:-9223372036854775808;d:1.5;}"
                     "nul|s:3:\"a\0b\";e|N;f|b:0;";
    size_t d1n = sizeof d1 - 1;
    int cnt;

    CHECK(wamp1_php_session_load(&s, d1, d1n) == 0 && s.format == WAMP1_PHP_FORMAT_PHP && s.root.count == 6);
    CHECK(wamp1_php_session_get(&s, "a", &v) == 0 && v.type == WAMP1_PHP_INT && v.i == 5);
    CHECK(wamp1_php_session_get(&s, "b", &v) == 0 && v.type == WAMP1_PHP_STRING && v.len == 3 && !memcmp(v.str, "x|y", 3));
    CHECK(wamp1_php_session_get(&s, "nul", &v) == 0 && v.type == WAMP1_PHP_STRING && v.len == 3 && v.str[1] == 0);
    CHECK(wamp1_php_session_get(&s, "e", &v) == 0 && v.type == WAMP1_PHP_NULL);
    CHECK(wamp1_php_session_get(&s, "f", &v) == 0 && v.type == WAMP1_PHP_BOOL && v.i == 0);
    CHECK(wamp1_php_session_get(&s, "zz", &v) == -1);
    CHECK(wamp1_php_session_get(&s, "", &v) == -1);
    CHECK(wamp1_php_session_get(&s, "c", &v) == 0 && v.type == WAMP1_PHP_ARRAY && v.count == 3);
    CHECK(wamp1_php_array_get(&v, "0", 1, &k) == 0 && k.type == WAMP1_PHP_STRING && k.len == 1 && k.str[0] == 'p');
    CHECK(wamp1_php_array_get(&v, "k", 1, &k) == 0 && k.type == WAMP1_PHP_ARRAY && k.count == 1);
    CHECK(wamp1_php_array_get(&k, "5", 1, &k) == 0 && k.type == WAMP1_PHP_BOOL && k.i == 1);
    CHECK(wamp1_php_array_get(&v, "-9223372036854775808", 20, &k) == 0 && k.type == WAMP1_PHP_FLOAT && k.d == 1.5);
    CHECK(wamp1_php_array_get(&v, "1", 1, &k) == -1);
    it = v;
    cnt = 0;
    while (wamp1_php_array_next(&it, &k, &v)) {
        if (cnt == 0) CHECK(k.type == WAMP1_PHP_INT && k.i == 0 && v.type == WAMP1_PHP_STRING);
        if (cnt == 1) CHECK(k.type == WAMP1_PHP_STRING && k.len == 1 && v.type == WAMP1_PHP_ARRAY);
        if (cnt == 2) CHECK(k.type == WAMP1_PHP_INT && k.i == INT64_MIN && v.type == WAMP1_PHP_FLOAT);
        cnt++;
    }
    CHECK(cnt == 3 && it.count == 0 && it.len == 0);
    CHECK(wamp1_php_array_next(&it, &k, &v) == 0);
    it = s.root;
    cnt = 0;
    while (wamp1_php_array_next(&it, &k, &v)) cnt++;
    CHECK(cnt == 6);
    v.type = WAMP1_PHP_INT;
    CHECK(wamp1_php_array_next(&v, &k, &v) == 0);

    /* php_serialize */
    CHECK(wamp1_php_session_load(&s, "a:2:{s:1:\"k\";i:1;i:7;s:0:\"\";}", slen("a:2:{s:1:\"k\";i:1;i:7;s:0:\"\";}")) == 0 && s.format == WAMP1_PHP_FORMAT_PHP_SERIALIZE);
    CHECK(wamp1_php_session_get(&s, "k", &v) == 0 && v.i == 1);
    CHECK(wamp1_php_session_get(&s, "7", &v) == 0 && v.type == WAMP1_PHP_STRING && v.len == 0);
    CHECK(wamp1_php_session_load(&s, "", 0) == 0 && s.format == WAMP1_PHP_FORMAT_PHP && s.root.count == 0);
    CHECK(wamp1_php_session_load(&s, NULL, 0) == 0 && wamp1_php_session_get(&s, "a", &v) == -1);

    /* integers */
    CHECK(wamp1_php_session_load(&s, "a|i:+5;b|i:-0;c|i:007;d|i:9223372036854775807;", slen("a|i:+5;b|i:-0;c|i:007;d|i:9223372036854775807;")) == 0);
    CHECK(wamp1_php_session_get(&s, "a", &v) == 0 && v.i == 5);
    CHECK(wamp1_php_session_get(&s, "b", &v) == 0 && v.i == 0);
    CHECK(wamp1_php_session_get(&s, "c", &v) == 0 && v.i == 7);
    CHECK(wamp1_php_session_get(&s, "d", &v) == 0 && v.i == INT64_MAX);

    /* floats */
    CHECK(dbl("1") == 1.0);
    CHECK(dbl("-1.5") == -1.5);
    CHECK(dbl("0.1") == 0.1);
    CHECK(dbl("1.0E+25") == 1e25);
    CHECK(dbl("1e3") == 1000.0);
    CHECK(dbl("1E-7") == 1e-7);
    CHECK(dbl(".5") == -12345.0);
    CHECK(dbl("5.") == -12345.0);
    CHECK(dbl("+2.5") == -12345.0);
    CHECK(dbl("05") == -12345.0);
    CHECK(dbl("1.5 ") == -12345.0);
    CHECK(dbl("123456789.125") == 123456789.125);
    CHECK(dbl("1.0E+300") == 1e300);
    CHECK(dbl("1.7976931348623157E+308") == 1.7976931348623157E+308);
    CHECK(dbl("-1.7976931348623157E+308") == -1.7976931348623157E+308);
    CHECK(dbl("2.2250738585072014E-308") == 2.2250738585072014E-308);
    CHECK(dbl("4.9E-324") == 4.9E-324 && dbl("5.0E-324") == 4.9E-324);
    CHECK(dbl("1E-400") == 0.0);
    CHECK(dbl("0E999999999999") == 0.0);
    CHECK(dbl("0.000000000000000000000000000001234E+30") == 1.234);
    CHECK(dbl("12345678901234567890123456789") == 1.2345678901234568e28);
    CHECK(dbl("3.141592653589793238462643383279") == 3.141592653589793);
    CHECK(dbl("INF") > 1e308 && dbl("-INF") < -1e308);
    {
        double nan = dbl("NAN"), z = dbl("-0");
        CHECK(nan != nan);
        CHECK(z == 0.0 && memcmp(&z, &(double){0.0}, sizeof z) != 0);
    }
    CHECK(dbl("+INF") == -12345.0);
    CHECK(dbl("-NAN") == -12345.0);
    CHECK(dbl("inf") == -12345.0);
    CHECK(dbl("1.7976931348623159E+308") == -12345.0);
    CHECK(dbl("1E400") == -12345.0);
    CHECK(dbl("1e") == -12345.0);
    CHECK(dbl("1e+") == -12345.0);
    CHECK(dbl(".") == -12345.0);
    CHECK(dbl("") == -12345.0);
    CHECK(dbl("-") == -12345.0);
    CHECK(dbl("1.2.3") == -12345.0);
    CHECK(dbl("1e5e5") == -12345.0);
    CHECK(dbl("0x10") == -12345.0);
    CHECK(dbl(" 1") == -12345.0);
    /* random doubles printed with 17 digits come back exactly */
    {
        int i, bad = 0;
        for (i = 0; i < 20000; i++) {
            char t[64];
            double x;
            uint64_t bits = (uint64_t)rnd() << 32 | rnd();
            memcpy(&x, &bits, sizeof x);
            if (x - x != 0) continue;
            snprintf(t, sizeof t, (i & 1) ? "%.17g" : "%.17e", x);
            if (dbl(t) != x) {
                if (bad++ < 5) printf("  float %s parsed as %.17g\n", t, dbl(t));
            }
        }
        CHECK(bad == 0);
    }
}

static void test_php_json(void)
{
    CHECK(sess_json("", "{}"));
    CHECK(sess_json("a:0:{}", "{}"));
    CHECK(sess_json("a|N;", "{\"a\":null}"));
    CHECK(sess_json("a|a:2:{i:0;s:1:\"x\";i:1;b:1;}b|d:NAN;c|a:1:{i:1;N;}d|a:0:{}e|d:-INF;f|d:2.5;",
                    "{\"a\":[\"x\",true],\"b\":null,\"c\":{\"1\":null},\"d\":[],\"e\":null,\"f\":2.5}"));
    CHECK(sess_json("a:1:{i:0;s:1:\"x\";}", "{\"0\":\"x\"}"));
    CHECK(sess_json("a:2:{i:0;a:2:{i:0;i:1;i:1;i:2;}i:1;a:2:{i:1;i:1;i:0;i:2;}}", "{\"0\":[1,2],\"1\":{\"1\":1,\"0\":2}}"));
    CHECK(sess_json("a:1:{x|N;", "{\"a:1:{x\":null}"));
    CHECK(sess_json("|N;", "{\"\":null}"));
    CHECK(sess_json("a|N;|N;", "{\"a\":null,\"\":null}"));
    CHECK(sess_json("k|s:6:\"a\"b\\\n\x01\";", "{\"k\":\"a\\\"b\\\\\\u000a\\u0001\"}"));
    CHECK(sess_json("k\xff|s:2:\"\xc3\x28\";", "{\"k\xef\xbf\xbd\":\"\xef\xbf\xbd(\"}"));
    CHECK(sess_json("k|s:3:\"\xe0\x80\xaf\";", "{\"k\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}"));
    CHECK(sess_json("k|s:3:\"\xf0\x9f\x98\";", "{\"k\":\"\xef\xbf\xbd\"}"));
    CHECK(sess_json("k|s:4:\"\xf0\x9f\x98\x80\";", "{\"k\":\"\xf0\x9f\x98\x80\"}"));
    CHECK(sess_json("k|a:2:{s:1:\"\xff\";i:1;i:-3;i:2;}", "{\"k\":{\"\xef\xbf\xbd\":1,\"-3\":2}}"));
    CHECK(sess_json("k|a:1:{i:0;a:1:{i:0;a:1:{i:0;a:0:{}}}}", "{\"k\":[[[[]]]]}"));
    CHECK(sess_json("k|i:-9223372036854775808;", "{\"k\":-9223372036854775808}"));
    {
        /* value_to_json on one value, and on the root */
        wamp1_php_session s;
        wamp1_php_value v;
        wamp1_jwriter w;
        char out[64];
        wamp1_php_session_load(&s, "a|a:2:{i:0;i:1;i:1;i:2;}b|s:1:\"x\";", slen("a|a:2:{i:0;i:1;i:1;i:2;}b|s:1:\"x\";"));
        wamp1_php_session_get(&s, "a", &v);
        wamp1_jw_init(&w, out, sizeof out);
        CHECK(wamp1_php_value_to_json(&v, &w) == 0 && w.len == 5 && !memcmp(out, "[1,2]", 5));
        wamp1_php_session_get(&s, "b", &v);
        wamp1_jw_init(&w, out, sizeof out);
        CHECK(wamp1_php_value_to_json(&v, &w) == 0 && w.len == 3 && !memcmp(out, "\"x\"", 3));
        wamp1_jw_init(&w, out, sizeof out);
        CHECK(wamp1_php_value_to_json(&s.root, &w) == 0 && w.len == 19 && !memcmp(out, "{\"a\":[1,2],\"b\":\"x\"}", 19));
        /* inside a larger document */
        wamp1_jw_init(&w, out, sizeof out);
        wamp1_jw_array_begin(&w);
        wamp1_jw_int(&w, 1);
        wamp1_php_session_to_json(&s, &w);
        wamp1_jw_array_end(&w);
        CHECK(!w.overflow && w.len == 23 && !memcmp(out, "[1,{\"a\":[1,2],\"b\":\"x\"}]", 23));
        /* overflow at every size: never writes past cap */
        {
            const char *d = "k\xff|a:2:{s:1:\"\xff\";s:5:\"a\"\xff\x01z\";i:-3;d:0.5;}z|s:0:\"\";";
            size_t cap, len = 0, bad = 0;
            int rc;
            to_json(d, slen(d), &rc);
            len = slen(g_json);
            CHECK(rc == 0 && len > 20);
            for (cap = 0; cap <= len; cap++) {
                char b[80];
                memset(b, '#', sizeof b);
                wamp1_php_session_load(&s, d, slen(d));
                wamp1_jw_init(&w, b, cap);
                wamp1_php_session_to_json(&s, &w);
                if (b[cap] != '#' || (cap < len) != (w.overflow != 0) || (cap == len && memcmp(b, g_json, len))) bad++;
            }
            CHECK(bad == 0);
        }
    }
}

static void test_php_bad(void)
{
    static char deep[40000];
    size_t i, n;
    wamp1_php_session s;
    SESS_BAD("a");
    SESS_BAD("a|");
    SESS_BAD("a|N");
    SESS_BAD("a|x;");
    SESS_BAD("|");
    SESS_BAD("a|N;b");
    SESS_BAD("a|N;;");
    SESS_BAD("a|N;\n");
    SESS_BAD("a|i:;");
    SESS_BAD("a|i:5");
    SESS_BAD("a|i:5x;");
    SESS_BAD("a|i: 5;");
    SESS_BAD("a|i:--5;");
    SESS_BAD("a|i:9223372036854775808;");
    SESS_BAD("a|i:-9223372036854775809;");
    SESS_BAD("a|i:99999999999999999999999;");
    SESS_BAD("a|i:5\0;");
    SESS_BAD("a|b:2;");
    SESS_BAD("a|b:;");
    SESS_BAD("a|b:01;");
    SESS_BAD("a|b:1");
    SESS_BAD("a|s:-1:\"\";");
    SESS_BAD("a|s:+1:\"x\";");
    SESS_BAD("a|s:1:\"\";");
    SESS_BAD("a|s:3:\"ab\";");
    SESS_BAD("a|s:2:\"abc\";");
    SESS_BAD("a|s:999999999999999999999:\"x\";");
    SESS_BAD("a|s:18446744073709551615:\"x\";");
    SESS_BAD("a|s:9223372036854775807:\"x\";");
    SESS_BAD("a|s:5:\"abc");
    SESS_BAD("a|s:3:\"abc\"");
    SESS_BAD("a|s:3:\"abc';");
    SESS_BAD("a|s:3:abc;");
    SESS_BAD("a|s:3\"abc\";");
    SESS_BAD("a|s::\"\";");
    SESS_BAD("a|a:1:{}");
    SESS_BAD("a|a:1:{i:0;N;");
    SESS_BAD("a|a:2:{i:0;N;i:1;N;i:2;N;}");
    SESS_BAD("a|a:1:{i:0;N;};");
    SESS_BAD("a|a:-1:{}");
    SESS_BAD("a|a:4294967296:{}");
    SESS_BAD("a|a:99999999999:{i:0;N;}");
    SESS_BAD("a|a:99999999999999999999999999:{i:0;N;}");
    SESS_BAD("a|a:1:{N;N;}");
    SESS_BAD("a|a:1:{d:1;N;}");
    SESS_BAD("a|a:1:{a:0:{}N;}");
    SESS_BAD("a|a:1:{b:1;N;}");
    SESS_BAD("a|a:1:{i:0;}");
    SESS_BAD("a|a:0:{");
    SESS_BAD("a|a:0:}");
    SESS_BAD("a|a:0{}");
    SESS_BAD("a|a:0:{};");
    SESS_BAD("a|O:8:\"stdClass\":0:{}");
    SESS_BAD("a|C:3:\"Foo\":0:{}");
    SESS_BAD("a|r:1;");
    SESS_BAD("a|R:1;");
    SESS_BAD("a|E:7:\"A:Hello\";");
    SESS_BAD("a|S:1:\"x\";");
    SESS_BAD("a|d:;");
    SESS_BAD("a|d:abc;");
    SESS_BAD("a|a:1:{i:0;O:8:\"stdClass\":0:{}}");
    SESS_BAD("a|a:1:{i:0;r:1;}");
    SESS_BAD("a:1:{s:1:\"k\";i:1;}x");
    SESS_BAD("a:1:{s:1:\"k\";i:1;");
    SESS_BAD("a:2:{s:1:\"k\";i:1;}");
    SESS_BAD("a:1:{s:3:\"x|y\";N;");
    SESS_BAD("a:1:{s:1:\"k\";R:1;}");
    SESS_BAD("a:1:{s:1:\"k\";E:5:\"A:Bcd\";}");
    SESS_BAD("i:5;");
    SESS_BAD("N;");
    SESS_BAD("s:1:\"x\";");
    SESS_BAD("\0");
    SESS_BAD("a|N;\0");
    /* nesting: WAMP1_PHP_MAX_DEPTH (30) levels counting the session load, 31 do not */
    for (n = 29; n <= 30; n++) {
        char *p = deep;
        memcpy(p, "k|", 2);
        p += 2;
        for (i = 0; i < n; i++) { memcpy(p, "a:1:{i:0;", 9); p += 9; }
        *p++ = 'N';
        *p++ = ';';
        for (i = 0; i < n; i++) *p++ = '}';
        CHECKM(wamp1_php_session_load(&s, deep, (size_t)(p - deep)) == (n == 29 ? 0 : -1), n == 29 ? "depth 29+1" : "depth 30+1");
        if (n == 29) {
            int rc;
            const char *j = to_json(deep, (size_t)(p - deep), &rc);
            CHECKM(j && rc == 0 && slen(j) == 5 + 29 + 4 + 29 + 1, j);
        }
    }
    for (n = 30; n <= 31; n++) {
        char *p = deep;
        for (i = 0; i < n; i++) { memcpy(p, "a:1:{i:0;", 9); p += 9; }
        *p++ = 'N';
        *p++ = ';';
        for (i = 0; i < n; i++) *p++ = '}';
        CHECKM(wamp1_php_session_load(&s, deep, (size_t)(p - deep)) == (n == 30 ? 0 : -1), n == 30 ? "depth 30" : "depth 31");
        if (n == 30) {
            int rc;
            const char *j = to_json(deep, (size_t)(p - deep), &rc);
            CHECKM(j && rc == 0 && slen(j) == 5 + 29 + 4 + 29 + 1, j);
        }
    }
    memcpy(deep, "k|", 2);
    for (i = 0; i < 4000; i++) memcpy(deep + 2 + 9 * i, "a:1:{i:0;", 9);
    CHECK(wamp1_php_session_load(&s, deep, 2 + 9 * 4000) == -1);
    /* a huge claimed string length, a huge count */
    CHECK(sess_bad("a|s:4294967295:\"x\";", 19));
    CHECK(sess_bad("a|a:2147483647:{i:0;N;}", 24));
    /* every truncation of a valid session is rejected or is a shorter valid one */
    {
        const char *d = "a|a:2:{i:0;s:3:\"x;}\";s:1:\"k\";a:1:{i:1;d:1.5E+20;}}bb|i:-12;c|b:1;";
        size_t len = slen(d), cut, bad = 0;
        CHECK(wamp1_php_session_load(&s, d, len) == 0 && s.root.count == 3);
        for (cut = 0; cut < len; cut++) {
            int r = wamp1_php_session_load(&s, d, cut);
            int boundary = cut == 0 || d[cut - 1] == ';' || d[cut - 1] == '}';
            if (r == 0 && !boundary) bad++;
            if (r == 0) {
                int rc;
                to_json(d, cut, &rc);
                if (rc) bad++;
            }
        }
        CHECK(bad == 0);
    }
}

static void test_session_id(void)
{
    char id[130];
    memset(id, 'a', sizeof id);
    CHECK(wamp1_php_session_id_valid("abc", 3));
    CHECK(wamp1_php_session_id_valid("AZaz09,-", 8));
    CHECK(!wamp1_php_session_id_valid("", 0));
    CHECK(wamp1_php_session_id_valid(id, 128));
    CHECK(!wamp1_php_session_id_valid(id, 129));
    CHECK(!wamp1_php_session_id_valid("../etc", 6));
    CHECK(!wamp1_php_session_id_valid("a/b", 3));
    CHECK(!wamp1_php_session_id_valid("a.b", 3));
    CHECK(!wamp1_php_session_id_valid("a b", 3));
    CHECK(!wamp1_php_session_id_valid("a_b", 3));
    CHECK(!wamp1_php_session_id_valid("a\0b", 3));
    CHECK(!wamp1_php_session_id_valid("\xc3\xa9", 2));
    CHECK(!wamp1_php_session_id_valid("a\\b", 3));
}

/* ---------------------------------------------------------------- JSON comparison */

static wamp1_json_tok g_ta[8192], g_tb[8192];
static char g_ua[4096], g_ub[4096];

static int json_eq(const char *a, int ia, const char *b, int ib, char *why, size_t whyn)
{
    const wamp1_json_tok *x = &g_ta[ia], *y = &g_tb[ib];
    if (x->type != y->type && !(x->type == WAMP1_JSON_NUMBER && y->type == WAMP1_JSON_NUMBER)) {
        snprintf(why, whyn, "type %d vs %d at %u/%u", x->type, y->type, (unsigned)x->start, (unsigned)y->start);
        return 0;
    }
    switch (x->type) {
    case WAMP1_JSON_NUMBER: {
        int64_t p, q;
        double dp, dq;
        if (!wamp1_json_get_int(a, x, &p) && !wamp1_json_get_int(b, y, &q)) {
            if (p == q) return 1;
        } else if (!wamp1_json_get_double(a, x, &dp) && !wamp1_json_get_double(b, y, &dq) && near(dp, dq)) {
            return 1;
        }
        snprintf(why, whyn, "number %.*s vs %.*s", (int)x->len, a + x->start, (int)y->len, b + y->start);
        return 0;
    }
    case WAMP1_JSON_STRING: {
        size_t la, lb;
        if (wamp1_json_unescape(a, x, g_ua, sizeof g_ua, &la) || wamp1_json_unescape(b, y, g_ub, sizeof g_ub, &lb)
            || la != lb || memcmp(g_ua, g_ub, la)) {
            snprintf(why, whyn, "string %.*s vs %.*s", (int)x->len, a + x->start, (int)y->len, b + y->start);
            return 0;
        }
        return 1;
    }
    case WAMP1_JSON_ARRAY:
    case WAMP1_JSON_OBJECT: {
        uint32_t k, n = x->type == WAMP1_JSON_OBJECT ? 2 * x->size : x->size;
        int ca = ia + 1, cb = ib + 1;
        if (x->size != y->size) {
            snprintf(why, whyn, "size %u vs %u at %u", (unsigned)x->size, (unsigned)y->size, (unsigned)x->start);
            return 0;
        }
        for (k = 0; k < n; k++) {
            if (!json_eq(a, ca, b, cb, why, whyn)) return 0;
            ca = (int)g_ta[ca].next;
            cb = (int)g_tb[cb].next;
        }
        return 1;
    }
    default:
        return 1;
    }
}

static int json_same(const char *a, size_t an, const char *b, size_t bn, char *why, size_t whyn)
{
    int na = wamp1_json_parse(a, an, g_ta, 8192, 64, NULL);
    int nb = wamp1_json_parse(b, bn, g_tb, 8192, 64, NULL);
    if (na < 1 || nb < 1) {
        snprintf(why, whyn, "JSON does not parse (%d, %d)", na, nb);
        return 0;
    }
    return json_eq(a, 0, b, 0, why, whyn);
}

/* ---------------------------------------------------------------- real PHP */

static char g_file[1 << 16], g_exp[1 << 16];

static size_t read_all(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f) return (size_t)-1;
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void php_specifics(const char *dir)
{
    static const char *ids[] = {"scalars-p", "scalars-s"};
    int i;
    for (i = 0; i < 2; i++) {
        wamp1_php_session s;
        wamp1_php_value v;
        size_t n = 0;
        double z;
        CHECK(wamp1_php_session_read_file(dir, ids[i], 9, g_file, sizeof g_file, &n) == 0);
        CHECK(wamp1_php_session_load(&s, g_file, n) == 0);
        CHECK(wamp1_php_session_get(&s, "int_min", &v) == 0 && v.type == WAMP1_PHP_INT && v.i == INT64_MIN);
        CHECK(wamp1_php_session_get(&s, "int_max", &v) == 0 && v.type == WAMP1_PHP_INT && v.i == INT64_MAX);
        CHECK(wamp1_php_session_get(&s, "nul", &v) == 0 && v.type == WAMP1_PHP_STRING && v.len == 3 && !memcmp(v.str, "a\0b", 3));
        CHECK(wamp1_php_session_get(&s, "pipe", &v) == 0 && v.len == 5 && !memcmp(v.str, "x|y|z", 5));
        CHECK(wamp1_php_session_get(&s, "syntax", &v) == 0 && v.len == 25);
        CHECK(wamp1_php_session_get(&s, "f01", &v) == 0 && v.type == WAMP1_PHP_FLOAT && v.d == 0.1);
        CHECK(wamp1_php_session_get(&s, "f1e300", &v) == 0 && v.d == 1e300);
        CHECK(wamp1_php_session_get(&s, "fdenorm", &v) == 0 && v.d == 5e-324);
        CHECK(wamp1_php_session_get(&s, "fmax", &v) == 0 && v.d == 1.7976931348623157E+308);
        CHECK(wamp1_php_session_get(&s, "fmin", &v) == 0 && v.d == 2.2250738585072014E-308);
        CHECK(wamp1_php_session_get(&s, "fneg0", &v) == 0 && (z = v.d, z == 0.0 && memcmp(&z, &(double){0.0}, 8)));
        CHECK(wamp1_php_session_get(&s, "fnan", &v) == 0 && v.d != v.d);
        CHECK(wamp1_php_session_get(&s, "finf", &v) == 0 && v.d > 1e308);
        CHECK(wamp1_php_session_get(&s, "fninf", &v) == 0 && v.d < -1e308);
        CHECK(wamp1_php_session_get(&s, "true", &v) == 0 && v.type == WAMP1_PHP_BOOL && v.i == 1);
        CHECK(wamp1_php_session_get(&s, "null", &v) == 0 && v.type == WAMP1_PHP_NULL);
        CHECK(wamp1_php_session_get(&s, "missing", &v) == -1);
    }
    {
        wamp1_php_session s;
        wamp1_php_value v, w2;
        size_t n = 0;
        CHECK(wamp1_php_session_read_file(dir, "arrays-s", 8, g_file, sizeof g_file, &n) == 0);
        CHECK(wamp1_php_session_load(&s, g_file, n) == 0);
        CHECK(wamp1_php_session_get(&s, "bigkey", &v) == 0 && wamp1_php_array_get(&v, "-9223372036854775808", 20, &w2) == 0 && w2.i == 2);
        CHECK(wamp1_php_session_get(&s, "deep29", &v) == 0 && v.type == WAMP1_PHP_ARRAY && v.count == 1);
    }
    /* file errors */
    {
        size_t n = 0, real;
        char id[129];
        CHECK(wamp1_php_session_read_file(dir, "nosuch", 6, g_file, sizeof g_file, &n) == -1);
        CHECK(wamp1_php_session_read_file(dir, "../etc", 6, g_file, sizeof g_file, &n) == -3);
        CHECK(wamp1_php_session_read_file(dir, "a/b", 3, g_file, sizeof g_file, &n) == -3);
        CHECK(wamp1_php_session_read_file(dir, "", 0, g_file, sizeof g_file, &n) == -3);
        memset(id, 'x', sizeof id);
        CHECK(wamp1_php_session_read_file(dir, id, 129, g_file, sizeof g_file, &n) == -3);
        CHECK(wamp1_php_session_read_file(dir, id, 128, g_file, sizeof g_file, &n) == -1);
        CHECK(wamp1_php_session_read_file(dir, "one-p", 5, g_file, sizeof g_file, &real) == 0 && real > 5);
        CHECK(wamp1_php_session_read_file(dir, "one-p", 5, g_file, real - 1, &n) == -2);
        CHECK(wamp1_php_session_read_file(dir, "one-p", 5, g_file, real, &n) == 0 && n == real);
        CHECK(wamp1_php_session_read_file(dir, "empty-p", 7, g_file, 0, &n) == 0 && n == 0);
        {
            char d2[1100];
            snprintf(d2, sizeof d2, "%s/", dir);
            CHECK(wamp1_php_session_read_file(d2, "one-p", 5, g_file, sizeof g_file, &n) == 0 && n == real);
            memset(d2, 'd', sizeof d2 - 1);
            d2[sizeof d2 - 1] = 0;
            CHECK(wamp1_php_session_read_file(d2, "one-p", 5, g_file, sizeof g_file, &n) == -3);
        }
    }
}

static void test_real_php(void)
{
    char dir[] = "/tmp/test_mw_php_XXXXXX", cmd[1400], path[1200], line[256], script[1024];
    const char *env = getenv("MW_PHP_SCRIPT");
    FILE *mf;
    int seen = 0;
    if (system("php -v >/dev/null 2>&1") != 0) {
        printf("SKIP: php is not installed; real PHP session files not tested (apt-get install php-cli)\n");
        return;
    }
    if (env) {
        snprintf(script, sizeof script, "%s", env);
    } else {
        const char *f = __FILE__, *sl = strrchr(f, '/');
        snprintf(script, sizeof script, "%.*sphp/make_sessions.php", sl ? (int)(sl - f + 1) : 0, f);
    }
    if (!mkdtemp(dir)) {
        CHECKM(0, "mkdtemp");
        return;
    }
    snprintf(cmd, sizeof cmd, "php '%s' '%s'", script, dir);
    CHECKM(system(cmd) == 0, cmd);
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    mf = fopen(path, "r");
    CHECKM(mf != NULL, path);
    while (mf && fgets(line, sizeof line, mf)) {
        char id[64], fmt[32], exp[16], why[300];
        size_t n = 0, en;
        wamp1_php_session s;
        int rc;
        if (sscanf(line, "%63s %31s %15s", id, fmt, exp) != 3) continue;
        seen++;
        rc = wamp1_php_session_read_file(dir, id, slen(id), g_file, sizeof g_file, &n);
        CHECKM(rc == 0, id);
        if (rc) continue;
        rc = wamp1_php_session_load(&s, g_file, n);
        if (!strcmp(exp, "invalid")) {
            CHECKM(rc == -1, id);
            continue;
        }
        CHECKM(rc == 0, id);
        if (rc) continue;
        CHECKM(s.format == (!strcmp(fmt, "php") ? WAMP1_PHP_FORMAT_PHP : WAMP1_PHP_FORMAT_PHP_SERIALIZE), id);
        {
            wamp1_jwriter w;
            wamp1_jw_init(&w, g_json, sizeof g_json);
            rc = wamp1_php_session_to_json(&s, &w);
            CHECKM(rc == 0 && !w.overflow, id);
            snprintf(path, sizeof path, "%s/%s.json", dir, id);
            en = read_all(path, g_exp, sizeof g_exp);
            CHECKM(en != (size_t)-1, path);
            why[0] = 0;
            if (!json_same(g_json, w.len, g_exp, en, why, sizeof why)) {
                CHECKM(0, id);
                printf("  %s: %s\n    ours: %.*s\n    php:  %.*s\n", id, why, (int)w.len, g_json, (int)en, g_exp);
            } else {
                CHECK(1);
            }
        }
    }
    if (mf) fclose(mf);
    CHECKM(seen >= 20, "manifest lists the sessions");
    php_specifics(dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("note: could not remove %s\n", dir);
}

int main(void)
{
    test_addr_parse();
    test_addr_format();
    test_addr_vs_libc();
    test_cidr();
    test_blocklist();
    test_origin();
    test_cookies();
    test_query();
    test_php_values();
    test_php_json();
    test_php_bad();
    test_session_id();
    test_real_php();
    printf("mw: %d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
