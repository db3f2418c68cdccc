/* wamp1_cra.h - WAMP-CRA, the challenge-response authentication of WAMP v1 (as AutobahnPython
   0.8 and AutobahnJS 0.8 speak it), with SHA-256, HMAC-SHA256 and PBKDF2-HMAC-SHA256.

   Optional: firmware that does not include this file links none of it. Include it after the
   implementation of wamp1.h, in that one file (its functions are static; the rejections
   reach the error hook as WAMP1_ERR_MALFORMED). It needs the attribute store
   (WAMP1_MAX_ATTRS > 0, three records per authenticating session, WAMP1_ATTR_VALUE_SIZE at
   least 32: small builds default to 16), two routes and one middleware slot of the app; a
   full store answers CALLERROR ...#internal.

       static wamp1_cra_key *lookup(void *user, const char *authkey, size_t len) { ... }
       static wamp1_cra cra;   (cra.lookup = lookup; cra.required = 1;)
       wamp1_cra_attach(&app, &cra);

   The RPCs (routes the app gets):
     http://api.wamp.ws/procedure#authreq (authKey or null, extra object or null)
         answers the challenge: a JSON string of {authid, authkey, timestamp, sessionid, extra,
         permissions[, authextra {salt, keylen, iterations} for a salted key]}, or null for
         an anonymous request (authKey null), which the lookup must allow (it is asked with
         authkey NULL).
     http://api.wamp.ws/procedure#auth (signature)
         signature = base64(HMAC-SHA256(key, challenge)), key = the secret or, salted, the
         base64 of PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen) (null for anonymous);
         answers the permissions {pubsub: [{uri, prefix, pub, sub}], rpc: [{uri, prefix,
         call}]}. One try per challenge.
   Errors (CALLERROR http://api.wamp.ws/error#...): already-authenticated,
   authentication-already-requested, invalid-argument, anonymous-auth-forbidden,
   no-such-authkey, no-authentication-requested, invalid-signature (as AutobahnPython 0.8,
   without its random delay: the comparison takes constant time), not-authorized.
   With cra.required, a session that has not authenticated gets not-authorized for every
   other CALL, and its SUBSCRIBE and PUBLISH are ignored (reported to the error hook).
   Once authenticated, its permissions are enforced on CALL, SUBSCRIBE and PUBLISH: an entry
   matches its uri exactly, or as a prefix when prefix is set. UNSUBSCRIBE is always
   allowed. Keys, their strings and permissions must stay valid while the app runs.

   Limits: WAMP1_CRA_MAX_CHALLENGE (default 1024) bytes of challenge (extra included: more is
   invalid-argument), keylen 1..64, iterations 1..WAMP1_CRA_MAX_ITERATIONS (default 100000;
   the derivation runs in the loop, once per key: the result is kept in the key).
   The primitives are usable alone: wamp1_sha256, wamp1_hmac_sha256 (in pieces:
   wamp1_hmac_sha256_init/_add/_done), wamp1_pbkdf2_sha256 (port/wamp1_publisher.h signs
   with them). */
#ifndef WAMP1_CRA_H_INCLUDED
#define WAMP1_CRA_H_INCLUDED

#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__CRA_FN static __attribute__((unused))
#else
#define WAMP1__CRA_FN static
#endif

#ifndef WAMP1_CRA_MAX_CHALLENGE
#define WAMP1_CRA_MAX_CHALLENGE 1024
#endif
#ifndef WAMP1_CRA_MAX_ITERATIONS
#define WAMP1_CRA_MAX_ITERATIONS 100000
#endif

/* ---- SHA-256 (FIPS 180-4), HMAC (RFC 2104), PBKDF2 (RFC 8018) ---- */

typedef struct wamp1_sha256_ctx {
    uint32_t h[8];
    uint64_t total;
    uint8_t block[64];
    unsigned fill;
} wamp1_sha256_ctx;

WAMP1__CRA_FN void wamp1_sha256_init(wamp1_sha256_ctx *s);
WAMP1__CRA_FN void wamp1_sha256_add(wamp1_sha256_ctx *s, const void *data, size_t n);
WAMP1__CRA_FN void wamp1_sha256_done(wamp1_sha256_ctx *s, uint8_t out[32]);
WAMP1__CRA_FN void wamp1_sha256(const void *data, size_t n, uint8_t out[32]);
WAMP1__CRA_FN void wamp1_hmac_sha256(const void *key, size_t kn, const void *msg, size_t mn, uint8_t out[32]);
/* HMAC-SHA256 of a message given in pieces: init, add (any number of times), done. */
typedef struct wamp1_hmac_sha256_ctx {
    wamp1_sha256_ctx in, out;
} wamp1_hmac_sha256_ctx;
WAMP1__CRA_FN void wamp1_hmac_sha256_init(wamp1_hmac_sha256_ctx *h, const void *key, size_t kn);
WAMP1__CRA_FN void wamp1_hmac_sha256_add(wamp1_hmac_sha256_ctx *h, const void *data, size_t n);
WAMP1__CRA_FN void wamp1_hmac_sha256_done(wamp1_hmac_sha256_ctx *h, uint8_t out[32]);
/* dk_len bytes of PBKDF2-HMAC-SHA256 into dk. */
WAMP1__CRA_FN void wamp1_pbkdf2_sha256(const void *pw, size_t pn, const void *salt, size_t sn, uint32_t iterations,
                                uint8_t *dk, size_t dk_len);

/* ---- WAMP-CRA ---- */

typedef struct wamp1_cra_perm {
    const char *uri;
    int prefix; /* uri is a prefix */
    int pub, sub; /* pubsub entries */
    int call;     /* rpc entries */
} wamp1_cra_perm;

typedef struct wamp1_cra_key {
    const char *secret;   /* NULL for the anonymous grant */
    const char *salt;     /* NULL: unsalted */
    uint32_t iterations;  /* salted: default 10000 */
    uint32_t keylen;      /* salted: default 32 */
    const wamp1_cra_perm *pubsub;
    unsigned pubsub_count;
    const wamp1_cra_perm *rpc;
    unsigned rpc_count;
    /* private: the derived signing key of a salted secret */
    char derived[92];
    int derived_ok;
} wamp1_cra_key;

typedef struct wamp1_cra {
    /* The key named authkey[0, len), or NULL when there is none; authkey NULL asks for the
       anonymous grant (NULL: anonymous authentication forbidden). */
    wamp1_cra_key *(*lookup)(void *user, const char *authkey, size_t len);
    void *user;
    int required;                          /* nothing but authreq/auth before authenticating */
    uint64_t (*unix_time)(void *user);     /* seconds, for the timestamp; NULL: 1970 */
    /* Told once a session authenticated (with the key the lookup gave). Optional. */
    void (*on_auth)(wamp1_conn *c, wamp1_cra_key *key, void *user);
    wamp1_handler handlers_[2]; /* private */
} wamp1_cra;

/* Adds the two RPC routes and the permission middleware: 0, or -1 (tables full). */
WAMP1__CRA_FN int wamp1_cra_attach(wamp1_app *app, wamp1_cra *cra);
/* The key the session authenticated with, or NULL (not authenticated). */
WAMP1__CRA_FN wamp1_cra_key *wamp1_cra_session_key(const wamp1_conn *c);
/* base64(HMAC-SHA256(key, challenge)) into out (45 bytes with the NUL): what a client sends. */
WAMP1__CRA_FN void wamp1_cra_sign(const char *key, size_t kn, const char *challenge, size_t cn, char out[45]);
/* The signing key of a salted secret: base64(PBKDF2-HMAC-SHA256) into out (NUL-terminated);
   keylen 1..64 (out: 92 bytes). */
WAMP1__CRA_FN void wamp1_cra_derive(const char *secret, const char *salt, uint32_t iterations, uint32_t keylen,
                             char out[92]);

/* ---- implementation ------------------------------------------------------ */

WAMP1__CRA_FN uint32_t wamp1__ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

WAMP1__CRA_FN void wamp1__sha256_block(wamp1_sha256_ctx *s, const uint8_t *p) {
    static const uint32_t k[64] = {
        0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
        0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
        0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
        0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
        0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
        0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
        0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
        0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};
    uint32_t w[64], a, b, c, d, e, f, g, h;
    unsigned i;
    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (i = 16; i < 64; i++) {
        uint32_t s0 = wamp1__ror(w[i - 15], 7) ^ wamp1__ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = wamp1__ror(w[i - 2], 17) ^ wamp1__ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
    e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
    for (i = 0; i < 64; i++) {
        uint32_t t1 = h + (wamp1__ror(e, 6) ^ wamp1__ror(e, 11) ^ wamp1__ror(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
        uint32_t t2 = (wamp1__ror(a, 2) ^ wamp1__ror(a, 13) ^ wamp1__ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
    s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

WAMP1__CRA_FN void wamp1_sha256_init(wamp1_sha256_ctx *s) {
    static const uint32_t iv[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    memcpy(s->h, iv, sizeof iv);
    s->total = 0;
    s->fill = 0;
}

WAMP1__CRA_FN void wamp1_sha256_add(wamp1_sha256_ctx *s, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    s->total += n;
    while (n) {
        size_t take = 64 - s->fill;
        if (take > n) take = n;
        memcpy(s->block + s->fill, p, take);
        s->fill += (unsigned)take;
        p += take;
        n -= take;
        if (s->fill == 64) {
            wamp1__sha256_block(s, s->block);
            s->fill = 0;
        }
    }
}

WAMP1__CRA_FN void wamp1_sha256_done(wamp1_sha256_ctx *s, uint8_t out[32]) {
    uint64_t bits = s->total * 8u;
    uint8_t pad[72];
    size_t padn = (s->fill < 56 ? 56 - s->fill : 120 - s->fill);
    unsigned i;
    memset(pad, 0, sizeof pad);
    pad[0] = 0x80;
    for (i = 0; i < 8; i++) pad[padn + i] = (uint8_t)(bits >> (56 - 8 * i));
    wamp1_sha256_add(s, pad, padn + 8);
    for (i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

WAMP1__CRA_FN void wamp1_sha256(const void *data, size_t n, uint8_t out[32]) {
    wamp1_sha256_ctx s;
    wamp1_sha256_init(&s);
    wamp1_sha256_add(&s, data, n);
    wamp1_sha256_done(&s, out);
}

/* HMAC in two halves, so that PBKDF2 keys the inner and outer hash once. */
WAMP1__CRA_FN void wamp1__hmac_keys(const void *key, size_t kn, wamp1_sha256_ctx *in, wamp1_sha256_ctx *out) {
    uint8_t k[64], pad[64];
    unsigned i;
    memset(k, 0, sizeof k);
    if (kn > 64) wamp1_sha256(key, kn, k);
    else if (kn) memcpy(k, key, kn);
    for (i = 0; i < 64; i++) pad[i] = (uint8_t)(k[i] ^ 0x36u);
    wamp1_sha256_init(in);
    wamp1_sha256_add(in, pad, 64);
    for (i = 0; i < 64; i++) pad[i] = (uint8_t)(k[i] ^ 0x5cu);
    wamp1_sha256_init(out);
    wamp1_sha256_add(out, pad, 64);
}

WAMP1__CRA_FN void wamp1_hmac_sha256_init(wamp1_hmac_sha256_ctx *h, const void *key, size_t kn) {
    wamp1__hmac_keys(key, kn, &h->in, &h->out);
}

WAMP1__CRA_FN void wamp1_hmac_sha256_add(wamp1_hmac_sha256_ctx *h, const void *data, size_t n) {
    wamp1_sha256_add(&h->in, data, n);
}

WAMP1__CRA_FN void wamp1_hmac_sha256_done(wamp1_hmac_sha256_ctx *h, uint8_t out[32]) {
    uint8_t ih[32];
    wamp1_sha256_done(&h->in, ih);
    wamp1_sha256_add(&h->out, ih, 32);
    wamp1_sha256_done(&h->out, out);
}

WAMP1__CRA_FN void wamp1_hmac_sha256(const void *key, size_t kn, const void *msg, size_t mn, uint8_t out[32]) {
    wamp1_hmac_sha256_ctx h;
    wamp1_hmac_sha256_init(&h, key, kn);
    wamp1_hmac_sha256_add(&h, msg, mn);
    wamp1_hmac_sha256_done(&h, out);
}

WAMP1__CRA_FN void wamp1_pbkdf2_sha256(const void *pw, size_t pn, const void *salt, size_t sn, uint32_t iterations,
                                uint8_t *dk, size_t dk_len) {
    wamp1_sha256_ctx in0, out0;
    uint32_t block = 1;
    wamp1__hmac_keys(pw, pn, &in0, &out0);
    while (dk_len) {
        wamp1_sha256_ctx s;
        uint8_t u[32], t[32], be[4];
        uint32_t it;
        size_t take = dk_len < 32 ? dk_len : 32, i;
        be[0] = (uint8_t)(block >> 24); be[1] = (uint8_t)(block >> 16);
        be[2] = (uint8_t)(block >> 8); be[3] = (uint8_t)block;
        s = in0;
        wamp1_sha256_add(&s, salt, sn);
        wamp1_sha256_add(&s, be, 4);
        wamp1_sha256_done(&s, u);
        s = out0;
        wamp1_sha256_add(&s, u, 32);
        wamp1_sha256_done(&s, u);
        memcpy(t, u, 32);
        for (it = 1; it < iterations; it++) {
            s = in0;
            wamp1_sha256_add(&s, u, 32);
            wamp1_sha256_done(&s, u);
            s = out0;
            wamp1_sha256_add(&s, u, 32);
            wamp1_sha256_done(&s, u);
            for (i = 0; i < 32; i++) t[i] ^= u[i];
        }
        memcpy(dk, t, take);
        dk += take;
        dk_len -= take;
        block++;
    }
}

WAMP1__CRA_FN void wamp1_cra_sign(const char *key, size_t kn, const char *challenge, size_t cn, char out[45]) {
    uint8_t mac[32];
    size_t n;
    wamp1_hmac_sha256(key, kn, challenge, cn, mac);
    n = wamp1_base64_encode(mac, 32, out);
    out[n] = 0;
}

WAMP1__CRA_FN void wamp1_cra_derive(const char *secret, const char *salt, uint32_t iterations, uint32_t keylen,
                             char out[92]) {
    uint8_t dk[64];
    size_t n;
    if (keylen < 1) keylen = 1;
    if (keylen > 64) keylen = 64;
    wamp1_pbkdf2_sha256(secret, strlen(secret), salt, strlen(salt), iterations, dk, keylen);
    n = wamp1_base64_encode(dk, keylen, out);
    out[n] = 0;
}

/* Per session, in the attribute store: "cra.st" (1 challenged, 2 authenticated), "cra.key"
   (the key), "cra.sig" (the expected signature while challenged; none for anonymous). */
#define WAMP1__CRA_AUTHREQ "http://api.wamp.ws/procedure#authreq"
#define WAMP1__CRA_AUTH "http://api.wamp.ws/procedure#auth"
#define WAMP1__CRA_ERR "http://api.wamp.ws/error#"

WAMP1__CRA_FN int64_t wamp1__cra_state(const wamp1_conn *c) {
    int64_t st = 0;
    if (wamp1_attr_get_int(c, "cra.st", &st) != 0) st = 0;
    return st;
}

WAMP1__CRA_FN wamp1_cra_key *wamp1_cra_session_key(const wamp1_conn *c) {
    void *p = NULL;
    if (!c || wamp1__cra_state(c) != 2 || wamp1_attr_get_ptr(c, "cra.key", &p) != 0) return NULL;
    return (wamp1_cra_key *)p;
}

WAMP1__CRA_FN wamp1_call_status wamp1__cra_fail(wamp1_call *call, const char *what, const char *desc) {
    char uri[80];
    size_t n = sizeof WAMP1__CRA_ERR - 1, wl = strlen(what);
    memcpy(uri, WAMP1__CRA_ERR, n);
    if (wl > sizeof uri - n - 1) wl = sizeof uri - n - 1;
    memcpy(uri + n, what, wl);
    uri[n + wl] = 0;
    wamp1__report(&call->app->server, call->conn, WAMP1_ERR_MALFORMED, desc);
    (void)wamp1_call_error(call, uri, desc);
    return WAMP1_CALL_OK;
}

WAMP1__CRA_FN void wamp1__cra_perms(wamp1_jwriter *w, const wamp1_cra_key *k) {
    unsigned i;
    wamp1_jw_object_begin(w);
    wamp1_jw_key(w, "pubsub", 6);
    wamp1_jw_array_begin(w);
    for (i = 0; k && i < k->pubsub_count; i++) {
        wamp1_jw_object_begin(w);
        wamp1_jw_key(w, "uri", 3); wamp1_jw_string(w, k->pubsub[i].uri, (size_t)-1);
        wamp1_jw_key(w, "prefix", 6); wamp1_jw_bool(w, k->pubsub[i].prefix);
        wamp1_jw_key(w, "pub", 3); wamp1_jw_bool(w, k->pubsub[i].pub);
        wamp1_jw_key(w, "sub", 3); wamp1_jw_bool(w, k->pubsub[i].sub);
        wamp1_jw_object_end(w);
    }
    wamp1_jw_array_end(w);
    wamp1_jw_key(w, "rpc", 3);
    wamp1_jw_array_begin(w);
    for (i = 0; k && i < k->rpc_count; i++) {
        wamp1_jw_object_begin(w);
        wamp1_jw_key(w, "uri", 3); wamp1_jw_string(w, k->rpc[i].uri, (size_t)-1);
        if (k->rpc[i].prefix) { wamp1_jw_key(w, "prefix", 6); wamp1_jw_bool(w, 1); }
        wamp1_jw_key(w, "call", 4); wamp1_jw_bool(w, k->rpc[i].call);
        wamp1_jw_object_end(w);
    }
    wamp1_jw_array_end(w);
    wamp1_jw_object_end(w);
}

/* "YYYY-MM-DDTHH:MM:SSZ" from Unix seconds (days to civil date, proleptic Gregorian) */
WAMP1__CRA_FN void wamp1__cra_time(uint64_t t, char out[21]) {
    int64_t z = (int64_t)(t / 86400u) + 719468, era, doe, yoe, y, doy, mp, d, m;
    unsigned sod = (unsigned)(t % 86400u), i;
    unsigned v[6];
    era = z / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y++;
    v[0] = (unsigned)y; v[1] = (unsigned)m; v[2] = (unsigned)d;
    v[3] = sod / 3600u; v[4] = sod / 60u % 60u; v[5] = sod % 60u;
    out[0] = (char)('0' + v[0] / 1000 % 10); out[1] = (char)('0' + v[0] / 100 % 10);
    out[2] = (char)('0' + v[0] / 10 % 10); out[3] = (char)('0' + v[0] % 10);
    for (i = 1; i < 6; i++) {
        out[3 * i + 1] = i == 1 || i == 2 ? '-' : i == 3 ? 'T' : ':';
        out[3 * i + 2] = (char)('0' + v[i] / 10);
        out[3 * i + 3] = (char)('0' + v[i] % 10);
    }
    out[19] = 'Z';
    out[20] = 0;
}

WAMP1__CRA_FN wamp1_call_status wamp1__cra_authreq(wamp1_call *call, void *user) {
    wamp1_cra *cra = (wamp1_cra *)user;
    wamp1_conn *c = call->conn;
    const wamp1_json_tok *tk = NULL, *te = NULL;
    wamp1_cra_key *key;
    char name[128], info[WAMP1_CRA_MAX_CHALLENGE], id[17], ts[21];
    size_t nl = 0;
    int64_t st = wamp1__cra_state(c);
    wamp1_jwriter w;
    unsigned i;
    if (st == 2) return wamp1__cra_fail(call, "already-authenticated", "already authenticated");
    if (st == 1)
        return wamp1__cra_fail(call, "authentication-already-requested",
                               "authentication request already issued - authentication pending");
    if (call->argc > 2) return wamp1__cra_fail(call, "invalid-argument", "authreq takes (authKey, extra)");
    if (call->argc >= 1) tk = &call->toks[wamp1_call_arg(call, 0)];
    if (call->argc >= 2) te = &call->toks[wamp1_call_arg(call, 1)];
    if (te && te->type == WAMP1_JSON_NULL) te = NULL;
    if (te && te->type != WAMP1_JSON_OBJECT)
        return wamp1__cra_fail(call, "invalid-argument", "extra not a dictionary");
    if (tk && tk->type == WAMP1_JSON_NULL) tk = NULL;
    if (tk && (tk->type != WAMP1_JSON_STRING || wamp1_json_unescape(call->json, tk, name, sizeof name, &nl) != 0))
        return wamp1__cra_fail(call, "invalid-argument", "authentication key must be a string (of at most 127 bytes)");
    key = cra->lookup ? cra->lookup(cra->user, tk ? name : NULL, tk ? nl : 0) : NULL;
    if (!key && !tk) return wamp1__cra_fail(call, "anonymous-auth-forbidden", "authentication as anonymous forbidden");
    if (!key) return wamp1__cra_fail(call, "no-such-authkey", "authentication key does not exist");
    if (tk && key->salt && !key->derived_ok) {
        uint32_t it = key->iterations ? key->iterations : 10000u, kl = key->keylen ? key->keylen : 32u;
        if (it > WAMP1_CRA_MAX_ITERATIONS || kl > 64)
            return wamp1__cra_fail(call, "auth-permissions-error", "salted key beyond the limits");
        wamp1_cra_derive(key->secret ? key->secret : "", key->salt, it, kl, key->derived);
        key->derived_ok = 1;
    }
    /* the challenge */
    {
        static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        uint8_t rnd[16];
        const wamp1_port *p = c->srv->cfg.port;
        if (!p->random || p->random(p->ctx, rnd, sizeof rnd) != 0) {
            uint64_t now = p->now_ms ? p->now_ms(p->ctx) : 0;
            for (i = 0; i < 16; i++) rnd[i] = (uint8_t)((now >> (i % 8 * 8)) ^ (uintptr_t)c ^ i * 131u);
        }
        for (i = 0; i < 16; i++) id[i] = abc[rnd[i] % 62u];
        id[16] = 0;
    }
    wamp1__cra_time(cra->unix_time ? cra->unix_time(cra->user) : 0, ts);
    wamp1_jw_init(&w, info, sizeof info);
    wamp1_jw_object_begin(&w);
    wamp1_jw_key(&w, "authid", 6); wamp1_jw_string(&w, id, 16);
    wamp1_jw_key(&w, "authkey", 7);
    if (tk) wamp1_jw_string(&w, name, nl);
    else wamp1_jw_null(&w);
    wamp1_jw_key(&w, "timestamp", 9); wamp1_jw_string(&w, ts, 20);
    wamp1_jw_key(&w, "sessionid", 9); wamp1_jw_string(&w, wamp1_conn_session_id(c), (size_t)-1);
    wamp1_jw_key(&w, "extra", 5);
    if (te) wamp1_jw_token(&w, call->json, te);
    else { wamp1_jw_object_begin(&w); wamp1_jw_object_end(&w); }
    wamp1_jw_key(&w, "permissions", 11);
    wamp1__cra_perms(&w, key);
    if (tk && key->salt) {
        wamp1_jw_key(&w, "authextra", 9);
        wamp1_jw_object_begin(&w);
        wamp1_jw_key(&w, "salt", 4); wamp1_jw_string(&w, key->salt, (size_t)-1);
        wamp1_jw_key(&w, "keylen", 6); wamp1_jw_int(&w, key->keylen ? key->keylen : 32);
        wamp1_jw_key(&w, "iterations", 10); wamp1_jw_int(&w, key->iterations ? key->iterations : 10000);
        wamp1_jw_object_end(&w);
    }
    wamp1_jw_object_end(&w);
    if (w.overflow) return wamp1__cra_fail(call, "invalid-argument", "challenge too long (extra): see WAMP1_CRA_MAX_CHALLENGE");
    if (wamp1_attr_set_int(c, "cra.st", 1) != 0 || wamp1_attr_set_ptr(c, "cra.key", key) != 0)
        return wamp1__cra_fail(call, "internal", "attribute store full: raise WAMP1_MAX_ATTRS");
    if (tk) {
        uint8_t mac[32];
        const char *k = key->salt ? key->derived : key->secret ? key->secret : "";
        wamp1_hmac_sha256(k, strlen(k), info, w.len, mac);
        if (wamp1_attr_set_bytes(c, "cra.sig", mac, 32) != 0) {
            (void)wamp1_attr_remove(c, "cra.st");
            return wamp1__cra_fail(call, "internal", "attribute store full: raise WAMP1_MAX_ATTRS");
        }
        wamp1_jw_string(wamp1_call_result_begin(call), info, w.len);
    } else {
        (void)wamp1_attr_remove(c, "cra.sig");
        wamp1_jw_null(wamp1_call_result_begin(call));
    }
    return WAMP1_CALL_OK;
}

/* base64 text to 32 bytes: 0, or -1 when it is not the base64 of 32 bytes */
WAMP1__CRA_FN int wamp1__cra_unb64(const char *s, size_t n, uint8_t out[32]) {
    uint32_t acc = 0;
    size_t i, o = 0;
    unsigned bits = 0;
    while (n && s[n - 1] == '=') n--;
    if (n != 43) return -1;
    for (i = 0; i < n; i++) {
        char ch = s[i];
        int v = ch >= 'A' && ch <= 'Z' ? ch - 'A' : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
              : ch >= '0' && ch <= '9' ? ch - '0' + 52 : ch == '+' ? 62 : ch == '/' ? 63 : -1;
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < 32) out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o == 32 ? 0 : -1;
}

WAMP1__CRA_FN wamp1_call_status wamp1__cra_auth(wamp1_call *call, void *user) {
    wamp1_cra *cra = (wamp1_cra *)user;
    wamp1_conn *c = call->conn;
    int64_t st = wamp1__cra_state(c);
    const wamp1_json_tok *ts = NULL;
    const void *want = NULL;
    size_t wn = 0;
    void *kp = NULL;
    wamp1_cra_key *key;
    int ok;
    if (st == 2) return wamp1__cra_fail(call, "already-authenticated", "already authenticated");
    if (st != 1) return wamp1__cra_fail(call, "no-authentication-requested", "no authentication previously requested");
    if (call->argc > 1) return wamp1__cra_fail(call, "invalid-argument", "auth takes (signature)");
    if (call->argc == 1) ts = &call->toks[wamp1_call_arg(call, 0)];
    if (ts && ts->type == WAMP1_JSON_NULL) ts = NULL;
    if (ts && ts->type != WAMP1_JSON_STRING)
        return wamp1__cra_fail(call, "invalid-argument", "signature must be a string or null");
    (void)wamp1_attr_get_ptr(c, "cra.key", &kp);
    key = (wamp1_cra_key *)kp;
    if (wamp1_attr_get_bytes(c, "cra.sig", &want, &wn) != 0) want = NULL;
    if (!want) ok = ts == NULL; /* anonymous: no signature */
    else {
        uint8_t got[32];
        char b64[64];
        size_t bl = 0;
        unsigned i, diff = 0;
        ok = ts && wamp1_json_unescape(call->json, ts, b64, sizeof b64, &bl) == 0 && wamp1__cra_unb64(b64, bl, got) == 0;
        if (ok) {
            for (i = 0; i < 32; i++) diff |= (unsigned)(got[i] ^ ((const uint8_t *)want)[i]);
            ok = diff == 0 && wn == 32;
        }
    }
    /* one try per challenge */
    (void)wamp1_attr_remove(c, "cra.sig");
    if (!ok) {
        (void)wamp1_attr_remove(c, "cra.st");
        (void)wamp1_attr_remove(c, "cra.key");
        return wamp1__cra_fail(call, "invalid-signature", "signature for authentication request is invalid");
    }
    (void)wamp1_attr_set_int(c, "cra.st", 2);
    wamp1__cra_perms(wamp1_call_result_begin(call), key);
    if (cra->on_auth) cra->on_auth(c, key, cra->user);
    return WAMP1_CALL_OK;
}

WAMP1__CRA_FN int wamp1__cra_match(const wamp1_cra_perm *p, unsigned n, const char *uri, size_t ul, int what) {
    unsigned i;
    for (i = 0; i < n; i++) {
        size_t pl = strlen(p[i].uri);
        int allowed = what == 0 ? p[i].call : what == 1 ? p[i].sub : p[i].pub;
        if (!allowed) continue;
        if (pl == ul ? memcmp(p[i].uri, uri, ul) == 0 : p[i].prefix && pl < ul && memcmp(p[i].uri, uri, pl) == 0)
            return 1;
    }
    return 0;
}

WAMP1__CRA_FN int wamp1__cra_mw(wamp1_app *app, const wamp1_message *msg, void *user) {
    wamp1_cra *cra = (wamp1_cra *)user;
    wamp1_cra_key *key;
    int what;
    (void)app;
    if (msg->type == WAMP1_MSG_UNSUBSCRIBE) return 0;
    if (msg->type == WAMP1_MSG_CALL &&
        ((msg->uri_len == sizeof WAMP1__CRA_AUTHREQ - 1 && memcmp(msg->uri, WAMP1__CRA_AUTHREQ, msg->uri_len) == 0) ||
         (msg->uri_len == sizeof WAMP1__CRA_AUTH - 1 && memcmp(msg->uri, WAMP1__CRA_AUTH, msg->uri_len) == 0)))
        return 0;
    key = wamp1_cra_session_key(msg->conn);
    if (!key && !cra->required) return 0;
    what = msg->type == WAMP1_MSG_CALL ? 0 : msg->type == WAMP1_MSG_SUBSCRIBE ? 1 : 2;
    if (key && wamp1__cra_match(what == 0 ? key->rpc : key->pubsub, what == 0 ? key->rpc_count : key->pubsub_count,
                                msg->uri, msg->uri_len, what))
        return 0;
    if (what == 0) {
        (void)wamp1__cra_fail(msg->call, "not-authorized", key ? "not authorized to call this procedure"
                                                                : "authenticate first (WAMP-CRA)");
    } else {
        wamp1__report(&app->server, msg->conn, WAMP1_ERR_MALFORMED,
                      what == 1 ? "SUBSCRIBE not authorized (WAMP-CRA): ignored" : "PUBLISH not authorized (WAMP-CRA): ignored");
    }
    return 1;
}

WAMP1__CRA_FN int wamp1_cra_attach(wamp1_app *app, wamp1_cra *cra) {
    wamp1_handler *h = cra->handlers_;
    h[0].call = wamp1__cra_authreq;
    h[0].user = cra;
    h[1].call = wamp1__cra_auth;
    h[1].user = cra;
    if (wamp1_app_add_rpc(app, WAMP1__CRA_AUTHREQ, &h[0]) != 0 || wamp1_app_add_rpc(app, WAMP1__CRA_AUTH, &h[1]) != 0)
        return -1;
    return wamp1_app_add_middleware(app, wamp1__cra_mw, cra);
}

#endif /* WAMP1_CRA_H_INCLUDED */
