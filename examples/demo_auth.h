/* demo_auth.h - the demo's --auth FILE: WAMP-CRA keys for port/wamp1_cra.h.

   FILE is one JSON object (shared/spec/examples-contract.md):
     {"anonymous": PERMISSIONS,                         (optional)
      "keys": {"alice": {"secret": "s3cret", "permissions": PERMISSIONS},
               "bob": {"secret": "pw", "salt": "salt123", "iterations": 100, "keylen": 32,
                       "permissions": PERMISSIONS}}}
   PERMISSIONS = {"pubsub": [{"uri", "prefix", "pub", "sub"}...], "rpc": [{"uri", "prefix", "call"}...]}
   At most DEMO_AUTH_KEYS keys and DEMO_AUTH_PERMS permission entries in all, 64 KiB of file.
   With --auth every session must authenticate before anything but authreq/auth is served.

   Include after wamp1.h (implementation), port/wamp1_cra.h and <stdio.h>, <time.h>. */
#ifndef DEMO_AUTH_H
#define DEMO_AUTH_H

#include <time.h>

#define DEMO_AUTH_KEYS 64
#define DEMO_AUTH_PERMS 512

static char demo_auth_text[64u * 1024u], demo_auth_strings[64u * 1024u];
static size_t demo_auth_strings_used;
static wamp1_json_tok demo_auth_toks[8192];
static wamp1_cra_key demo_auth_keys[DEMO_AUTH_KEYS], demo_auth_anon;
static const char *demo_auth_names[DEMO_AUTH_KEYS];
static unsigned demo_auth_count, demo_auth_perm_count;
static int demo_auth_has_anon;
static wamp1_cra_perm demo_auth_perms[DEMO_AUTH_PERMS];
static wamp1_cra demo_cra;

/* a string token unescaped into the pool, NUL-terminated; NULL when not a string or full */
static const char *demo_auth_str(const wamp1_json_tok *t) {
    size_t n = 0;
    char *out = demo_auth_strings + demo_auth_strings_used;
    if (t->type != WAMP1_JSON_STRING ||
        wamp1_json_unescape(demo_auth_text, t, out, sizeof demo_auth_strings - demo_auth_strings_used, &n) != 0)
        return NULL;
    demo_auth_strings_used += n + 1;
    return out;
}

static int demo_auth_bool(int tok) {
    return tok >= 0 && demo_auth_toks[tok].type == WAMP1_JSON_TRUE;
}

/* one PERMISSIONS object into key; 0 or -1 */
static int demo_auth_perms_of(int ntoks, int obj, wamp1_cra_key *key) {
    int kind;
    if (obj < 0 || demo_auth_toks[obj].type != WAMP1_JSON_OBJECT) return -1;
    for (kind = 0; kind < 2; kind++) {
        int arr = wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, obj, kind ? "rpc" : "pubsub");
        uint32_t i;
        unsigned first = demo_auth_perm_count;
        if (arr < 0) continue;
        if (demo_auth_toks[arr].type != WAMP1_JSON_ARRAY) return -1;
        for (i = 0; i < demo_auth_toks[arr].size; i++) {
            int e = wamp1_json_array_get(demo_auth_toks, ntoks, arr, i), u;
            wamp1_cra_perm *p;
            if (e < 0 || demo_auth_toks[e].type != WAMP1_JSON_OBJECT || demo_auth_perm_count >= DEMO_AUTH_PERMS) return -1;
            p = &demo_auth_perms[demo_auth_perm_count++];
            u = wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, e, "uri");
            if (u < 0 || !(p->uri = demo_auth_str(&demo_auth_toks[u]))) return -1;
            p->prefix = demo_auth_bool(wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, e, "prefix"));
            p->pub = demo_auth_bool(wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, e, "pub"));
            p->sub = demo_auth_bool(wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, e, "sub"));
            p->call = demo_auth_bool(wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, e, "call"));
        }
        if (kind) { key->rpc = demo_auth_perms + first; key->rpc_count = demo_auth_perm_count - first; }
        else { key->pubsub = demo_auth_perms + first; key->pubsub_count = demo_auth_perm_count - first; }
    }
    return 0;
}

static wamp1_cra_key *demo_auth_lookup(void *user, const char *name, size_t len) {
    unsigned i;
    (void)user;
    if (!name) return demo_auth_has_anon ? &demo_auth_anon : NULL;
    for (i = 0; i < demo_auth_count; i++)
        if (strlen(demo_auth_names[i]) == len && memcmp(demo_auth_names[i], name, len) == 0) return &demo_auth_keys[i];
    return NULL;
}

static uint64_t demo_auth_time(void *user) {
    (void)user;
    return (uint64_t)time(NULL);
}

/* Reads FILE: 0, or 2 after one line on stderr. */
static int demo_load_auth(const char *path) {
    FILE *f = fopen(path, "rb");
    size_t n;
    int ntoks, keys, anon, k;
    if (!f) return demo_usage("cannot read --auth", path);
    n = fread(demo_auth_text, 1, sizeof demo_auth_text, f);
    fclose(f);
    if (n == sizeof demo_auth_text) return demo_usage("--auth file larger than 64 KiB", path);
    ntoks = wamp1_json_parse(demo_auth_text, n, demo_auth_toks, (int)(sizeof demo_auth_toks / sizeof demo_auth_toks[0]),
                             16, NULL);
    if (ntoks <= 0 || demo_auth_toks[0].type != WAMP1_JSON_OBJECT) return demo_usage("--auth file is not a JSON object", path);
    anon = wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, 0, "anonymous");
    if (anon >= 0) {
        if (demo_auth_perms_of(ntoks, anon, &demo_auth_anon) != 0) return demo_usage("bad \"anonymous\" in --auth", path);
        demo_auth_has_anon = 1;
    }
    keys = wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, 0, "keys");
    if (keys < 0 || demo_auth_toks[keys].type != WAMP1_JSON_OBJECT) return demo_usage("--auth file has no \"keys\" object", path);
    for (k = keys + 1; k < (int)demo_auth_toks[keys].next; k = (int)demo_auth_toks[k + 1].next) {
        int v = k + 1, t;
        wamp1_cra_key *key;
        if (demo_auth_count >= DEMO_AUTH_KEYS) return demo_usage("too many keys in --auth", path);
        key = &demo_auth_keys[demo_auth_count];
        if (!(demo_auth_names[demo_auth_count] = demo_auth_str(&demo_auth_toks[k])) ||
            demo_auth_toks[v].type != WAMP1_JSON_OBJECT)
            return demo_usage("bad key in --auth", path);
        t = wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, v, "secret");
        if (t < 0 || !(key->secret = demo_auth_str(&demo_auth_toks[t]))) return demo_usage("a key without \"secret\" in --auth", path);
        t = wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, v, "salt");
        if (t >= 0) {
            int64_t it = 10000, kl = 32;
            int ti = wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, v, "iterations");
            int tl = wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, v, "keylen");
            if (!(key->salt = demo_auth_str(&demo_auth_toks[t])) ||
                (ti >= 0 && wamp1_json_get_int(demo_auth_text, &demo_auth_toks[ti], &it) != 0) ||
                (tl >= 0 && wamp1_json_get_int(demo_auth_text, &demo_auth_toks[tl], &kl) != 0) || it < 1 ||
                it > WAMP1_CRA_MAX_ITERATIONS || kl < 1 || kl > 64)
                return demo_usage("bad salt, iterations (1..100000) or keylen (1..64) in --auth", path);
            key->iterations = (uint32_t)it;
            key->keylen = (uint32_t)kl;
            /* derive now, not in the loop on the first login */
            wamp1_cra_derive(key->secret, key->salt, key->iterations, key->keylen, key->derived);
            key->derived_ok = 1;
        }
        t = wamp1_json_object_get(demo_auth_text, demo_auth_toks, ntoks, v, "permissions");
        if (t >= 0 && demo_auth_perms_of(ntoks, t, key) != 0) return demo_usage("bad \"permissions\" in --auth", path);
        demo_auth_count++;
    }
    return 0;
}

/* WAMP-CRA on the app when --auth was given: 0, or -1 (tables full). */
static int demo_add_auth(wamp1_app *app, const char *auth_file) {
    if (!auth_file) return 0;
    demo_cra.lookup = demo_auth_lookup;
    demo_cra.required = 1;
    demo_cra.unix_time = demo_auth_time;
    return wamp1_cra_attach(app, &demo_cra);
}

#endif /* DEMO_AUTH_H */
