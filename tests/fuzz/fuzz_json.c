/* libFuzzer target for the JSON layer: any bytes go through the tokenizer; a document that
 * parses is rebuilt through the writer (containers element by element, keys unescaped and
 * re-escaped, scalars with jw_token) and must parse again to the same structure, with equal
 * strings and numbers. Numbers are also converted and, as doubles, written and read back.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_json.c -o fuzz_json
 *   ./fuzz_json tests/fuzz/corpus/json */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WAMP1_ASSERT(x) assert(x)
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"

#define NT 512
static wamp1_json_tok ta[NT], tb[NT];
static char out[1 << 16], ka[1 << 12], kb[1 << 12];

static void rebuild(const char *src, int i, wamp1_jwriter *w)
{
    const wamp1_json_tok *t = &ta[i];
    uint32_t k;
    int c = i + 1;
    size_t kl;
    if (t->type != WAMP1_JSON_ARRAY && t->type != WAMP1_JSON_OBJECT) {
        wamp1_jw_token(w, src, t);
        return;
    }
    if (t->type == WAMP1_JSON_ARRAY) wamp1_jw_array_begin(w);
    else wamp1_jw_object_begin(w);
    for (k = 0; k < t->size; k++) {
        if (t->type == WAMP1_JSON_OBJECT) {
            if (wamp1_json_unescape(src, &ta[c], ka, sizeof ka, &kl)) {
                w->overflow = 1; /* key too long for this harness: give up on the rebuild */
                return;
            }
            wamp1_jw_key(w, ka, kl);
            c++;
        }
        rebuild(src, c, w);
        c = (int)ta[c].next;
    }
    if (t->type == WAMP1_JSON_ARRAY) wamp1_jw_array_end(w);
    else wamp1_jw_object_end(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    size_t off = 0, la, lb;
    int n, m, i;
    wamp1_jwriter w;

    n = wamp1_json_parse(src, size, ta, NT, 32, &off);
    if (n < 0) {
        assert(off <= size);
        return 0;
    }
    assert(n >= 1 && (uint32_t)ta[0].next == (uint32_t)n);
    for (i = 0; i < n; i++) {
        assert(ta[i].start <= size && ta[i].len <= size - ta[i].start && ta[i].next > (uint32_t)i &&
               ta[i].next <= (uint32_t)n);
        if (ta[i].type == WAMP1_JSON_STRING) {
            int r = wamp1_json_unescape(src, &ta[i], ka, sizeof ka, &la);
            assert(la <= ta[i].len);
            if (!r) assert(wamp1_json_str_eq(src, &ta[i], ka, la));
        } else if (ta[i].type == WAMP1_JSON_NUMBER) {
            int64_t iv;
            double d, back = 0;
            wamp1_json_tok t1;
            if (!wamp1_json_get_int(src, &ta[i], &iv)) {
                wamp1_jw_init(&w, out, sizeof out);
                wamp1_jw_int(&w, iv);
                assert(!w.overflow && wamp1_json_parse(out, w.len, &t1, 1, 1, NULL) == 1);
            }
            if (!wamp1_json_get_double(src, &ta[i], &d)) {
                /* a finite double written by jw_double reads back as the same bits */
                uint64_t b1, b2;
                wamp1_jw_init(&w, out, sizeof out);
                wamp1_jw_double(&w, d);
                assert(!w.overflow && wamp1_json_parse(out, w.len, &t1, 1, 1, NULL) == 1);
                assert(!wamp1_json_get_double(out, &t1, &back));
                memcpy(&b1, &d, 8);
                memcpy(&b2, &back, 8);
                assert(b1 == b2 || (d == 0 && back == 0));
            }
        }
    }

    wamp1_jw_init(&w, out, sizeof out);
    rebuild(src, 0, &w);
    if (w.overflow) return 0;
    assert(w.depth == 0);
    m = wamp1_json_parse(out, w.len, tb, NT, 32, NULL);
    assert(m == n);
    for (i = 0; i < n; i++) {
        assert(ta[i].type == tb[i].type && ta[i].size == tb[i].size && ta[i].next == tb[i].next);
        if (ta[i].type == WAMP1_JSON_STRING) {
            int ra = wamp1_json_unescape(src, &ta[i], ka, sizeof ka, &la);
            int rb = wamp1_json_unescape(out, &tb[i], kb, sizeof kb, &lb);
            assert(ra == rb && la == lb);
            if (!ra) assert(!memcmp(ka, kb, la));
        } else if (ta[i].type == WAMP1_JSON_NUMBER) {
            assert(ta[i].len == tb[i].len && !memcmp(src + ta[i].start, out + tb[i].start, ta[i].len));
        }
    }
    return 0;
}
