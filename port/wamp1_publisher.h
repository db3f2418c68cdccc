/* wamp1_publisher.h - the HTTP publisher: a web application (or a device, a cron job, curl)
   notifies WAMP subscribers with one signed POST, without a WebSocket of its own.

   A request handler for cfg.cb.on_http, so it works on every port; it needs WAMP1_HTTP_BODY
   (POST bodies; off in small builds: define it 1) and WAMP1_BRIDGE (the publish by session
   ids). Include it after the implementation of wamp1.h, in that one file (its functions
   are static); it brings port/wamp1_cra.h (SHA-256, HMAC) and port/wamp1_push.h along.

       static wamp1_publisher pub;
       wamp1_publisher_config pc = {0};
       pc.secret = "long random secret";               (and/or pc.token = "...")
       wamp1_publisher_init(&pub, &app, &pc);
       static void on_http(wamp1_conn *c, const wamp1_request *req, void *user) {
           if (wamp1_publisher_handle(&pub, c, req)) return;   (its path: answered)
           ... other paths ...
       }

   THE REQUEST. POST PATH (cfg.path, default "/publish"; a query string is ignored) with the
   JSON body of port/wamp1_push.h: {"topic": URI, "event": any JSON, "exclude": [sessionId...],
   "eligible": [sessionId...]}. It is published exactly as wamp1_app_publish publishes
   (to the local subscribers, then through the bridge, e.g. Redis, to the other servers),
   with the WAMP v1 exclude/eligible rules. The answer: 200 {"delivered": N}, N the local
   receivers.

   AUTHENTICATION, one of:
     signature (cfg.secret): the headers
         X-Wamp1-Timestamp: Unix seconds (decimal)
         X-Wamp1-Nonce:     16 to 64 characters of [A-Za-z0-9_-], fresh for every request
         X-Wamp1-Signature: base64(HMAC-SHA256(secret, timestamp "\n" nonce "\n" body))
       A timestamp more than cfg.window_s (default 60) seconds from the server's clock, a
       nonce already used within that window, or a wrong signature: 401. Nonces are kept
       (as a 128-bit hash) until their timestamp leaves the window, in a table of
       WAMP1_PUBLISHER_NONCES (default 1024) entries; when it is full, a request is refused
       (401, "nonce table full") rather than a nonce forgotten early. Only requests with a
       good signature take a slot.
     bearer token (cfg.token): Authorization: Bearer TOKEN, for trusted networks (no replay
       protection: use TLS or a private network).
   When both are configured either is accepted; a request that carries the signature
   headers is judged by them alone.

   ANSWERS (every one but 200 reaches the error hook as WAMP1_ERR_HTTP):
     200 {"delivered": N}   401 no or bad authentication (WWW-Authenticate names the schemes)
     400 not a JSON object, topic missing or not a string, a bad exclude/eligible list
     404 no topic route matches the topic   405 not POST (Allow: POST)
     411/413 from the server itself: a POST without Content-Length / a body beyond
     WAMP1_HTTP_MAX_BODY (default 16384; 400 for a malformed length). The default chain has
     run before (a blocked address gets 403 at connect).
   wamp1_publisher_handle returns 0 (and answers nothing) for other paths.

   MEMORY: a wamp1_publisher holds the nonce table (24 bytes an entry: 24 KiB by default)
   and one message's session ids (2 x WAMP1_PUSH_MAX_IDS x WAMP1_SESSION_ID_LEN bytes);
   nothing else, no allocation. The body is read in place from the receive buffer.

   SIGNING in a client (the same as `openssl dgst -sha256 -hmac SECRET -binary | base64`):
       ts=$(date +%s); nonce=$(openssl rand -hex 16)
       sig=$(printf '%s\n%s\n%s' "$ts" "$nonce" "$body" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64)
   wamp1_publisher_sign computes it in C. */
#ifndef WAMP1_PUBLISHER_H_INCLUDED
#define WAMP1_PUBLISHER_H_INCLUDED

#if !WAMP1_HTTP_BODY || !WAMP1_BRIDGE
#error "port/wamp1_publisher.h needs WAMP1_HTTP_BODY and WAMP1_BRIDGE (off in small builds: define them 1)"
#endif

#include "wamp1_cra.h"
#include "wamp1_push.h"
#ifndef WAMP1_PUBLISHER_NO_TIME
#include <time.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__PUB_FN static __attribute__((unused))
#else
#define WAMP1__PUB_FN static
#endif

#ifndef WAMP1_PUBLISHER_NONCES
#define WAMP1_PUBLISHER_NONCES 1024
#endif

typedef struct wamp1_publisher_config {
    const char *path;     /* NULL: "/publish" */
    const char *secret;   /* the signing key, or NULL */
    const char *token;    /* the bearer token, or NULL */
    uint32_t window_s;    /* 0: 60 */
    /* Unix time in seconds; NULL: time() (firmware without it defines
       WAMP1_PUBLISHER_NO_TIME and must give one) */
    int64_t (*clock)(void *user);
    void *clock_user;
} wamp1_publisher_config;

typedef struct wamp1_publisher_stats {
    uint32_t published, delivered, unauthorized, bad_request, no_route, nonces, nonces_max;
} wamp1_publisher_stats;

typedef struct wamp1_publisher {
    wamp1_publisher_config cfg;
    wamp1_app *app;
    struct {
        uint8_t hash[16];
        int64_t ts;          /* 0: free */
    } nonce[WAMP1_PUBLISHER_NONCES];
    wamp1_publisher_stats stats;
    wamp1_push_msg msg;
} wamp1_publisher;

/* Keeps cfg (and its strings: they must stay valid). 0, or -1 when neither a secret nor a
   token is given. */
WAMP1__PUB_FN int wamp1_publisher_init(wamp1_publisher *p, wamp1_app *app, const wamp1_publisher_config *cfg);
/* Answers a request for the publisher's path (returns the status sent), or returns 0. */
WAMP1__PUB_FN int wamp1_publisher_handle(wamp1_publisher *p, wamp1_conn *c, const wamp1_request *req);
/* The X-Wamp1-Signature of a request into out (45 bytes with the NUL); returns 44. */
WAMP1__PUB_FN size_t wamp1_publisher_sign(const char *secret, size_t secret_len, const char *ts, size_t ts_len,
                                          const char *nonce, size_t nonce_len, const void *body, size_t body_len,
                                          char out[45]);
WAMP1__PUB_FN void wamp1_publisher_get_stats(const wamp1_publisher *p, wamp1_publisher_stats *out);
/* A server-side publish naming sessions by their ids (packed, WAMP1_SESSION_ID_LEN each, as
   for wamp1_app_bridge_deliver): delivered here, then handed to the bridge, as
   wamp1_app_publish does. Returns the local receivers, WAMP1_QUEUE_NO_ROUTE when no topic
   route matches the topic, or WAMP1_QUEUE_BAD_JSON (reported). */
WAMP1__PUB_FN int wamp1_app_publish_sids(wamp1_app *app, const char *topic, size_t topic_len, const char *event,
                                         size_t len, const char *exclude, unsigned exclude_count,
                                         const char *eligible, unsigned eligible_count, int use_eligible);

/* ---- implementation ------------------------------------------------------------- */

WAMP1__PUB_FN int wamp1_publisher_init(wamp1_publisher *p, wamp1_app *app, const wamp1_publisher_config *cfg) {
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    p->app = app;
    if (!p->cfg.path) p->cfg.path = "/publish";
    if (!p->cfg.window_s) p->cfg.window_s = 60;
    p->stats.nonces_max = WAMP1_PUBLISHER_NONCES;
    return cfg->secret || cfg->token ? 0 : -1;
}

WAMP1__PUB_FN void wamp1_publisher_get_stats(const wamp1_publisher *p, wamp1_publisher_stats *out) { *out = p->stats; }

WAMP1__PUB_FN int wamp1_app_publish_sids(wamp1_app *app, const char *topic, size_t topic_len, const char *event,
                                         size_t len, const char *exclude, unsigned exclude_count,
                                         const char *eligible, unsigned eligible_count, int use_eligible) {
    wamp1_match m;
    wamp1_bridge_event ev;
    int sent;
    if (!wamp1__route(app, WAMP1_ROUTE_TOPIC, topic, topic_len, &m)) return WAMP1_QUEUE_NO_ROUTE;
    sent = wamp1_app_bridge_deliver(app, topic, topic_len, event, len, exclude, exclude_count, eligible,
                                    eligible_count, use_eligible);
    if (sent < 0) return WAMP1_QUEUE_BAD_JSON;
    app->stats.publishes++;
    if (!app->bridge || !app->bridge->publish) return sent;
    memset(&ev, 0, sizeof ev);
    ev.topic = topic;
    ev.topic_len = topic_len;
    ev.event = event;
    ev.event_len = len;
    ev.use_eligible = use_eligible != 0;
    ev.exclude_count = exclude ? exclude_count : 0;
    ev.eligible_count = ev.use_eligible && eligible ? eligible_count : 0;
    ev.ids[0] = exclude;
    ev.ids[1] = eligible;
    ev.app = app;
    app->bridge->publish(app->bridge, &ev);
    return sent;
}

static void wamp1__pub_mac(const char *secret, size_t sn, const char *ts, size_t tn, const char *nonce, size_t nn,
                           const void *body, size_t bn, uint8_t mac[32]) {
    wamp1_hmac_sha256_ctx h;
    wamp1_hmac_sha256_init(&h, secret, sn);
    wamp1_hmac_sha256_add(&h, ts, tn);
    wamp1_hmac_sha256_add(&h, "\n", 1);
    wamp1_hmac_sha256_add(&h, nonce, nn);
    wamp1_hmac_sha256_add(&h, "\n", 1);
    wamp1_hmac_sha256_add(&h, body, bn);
    wamp1_hmac_sha256_done(&h, mac);
}

WAMP1__PUB_FN size_t wamp1_publisher_sign(const char *secret, size_t secret_len, const char *ts, size_t ts_len,
                                          const char *nonce, size_t nonce_len, const void *body, size_t body_len,
                                          char out[45]) {
    uint8_t mac[32];
    size_t n;
    wamp1__pub_mac(secret, secret_len, ts, ts_len, nonce, nonce_len, body, body_len, mac);
    n = wamp1_base64_encode(mac, 32, out);
    out[n] = 0;
    return n;
}

static int wamp1__pub_refuse(wamp1_publisher *p, wamp1_conn *c, int status, const char *why) {
    static const char t401[] = "{\"error\":\"unauthorized\"}", t400[] = "{\"error\":\"bad request\"}",
                      t404[] = "{\"error\":\"no route for the topic\"}", t405[] = "{\"error\":\"method not allowed\"}";
    const char *body = status == 401 ? t401 : status == 404 ? t404 : status == 405 ? t405 : t400;
    const char *hdr = NULL;
    if (status == 401) {
        hdr = p->cfg.secret && p->cfg.token ? "WWW-Authenticate: Wamp1-HMAC-SHA256, Bearer\r\n"
            : p->cfg.secret ? "WWW-Authenticate: Wamp1-HMAC-SHA256\r\n" : "WWW-Authenticate: Bearer\r\n";
        p->stats.unauthorized++;
    } else if (status == 404) p->stats.no_route++;
    else if (status == 400) p->stats.bad_request++;
    if (status == 405) hdr = "Allow: POST\r\n";
    wamp1__report(c->srv, c, WAMP1_ERR_HTTP, why);
    wamp1_conn_http_respond_ex(c, status, "application/json", hdr, body, strlen(body));
    return status;
}

/* the signature headers: 0 when they are good (the nonce then taken), else the reason */
static const char *wamp1__pub_check_sig(wamp1_publisher *p, const wamp1_request *req, const char *ts, size_t tn) {
    size_t nn = 0, sn = 0, i;
    const char *nonce = wamp1_request_header(req, "x-wamp1-nonce", &nn);
    const char *sig = wamp1_request_header(req, "x-wamp1-signature", &sn);
    int64_t t = 0, now;
    uint8_t want[32], got[32], h[32], diff = 0;
    unsigned k, free_at = WAMP1_PUBLISHER_NONCES;
    if (!nonce || !sig) return "publisher: X-Wamp1-Nonce or X-Wamp1-Signature missing";
    if (tn == 0 || tn > 12) return "publisher: bad X-Wamp1-Timestamp";
    for (i = 0; i < tn; i++) {
        if (ts[i] < '0' || ts[i] > '9') return "publisher: bad X-Wamp1-Timestamp";
        t = t * 10 + (ts[i] - '0');
    }
    if (nn < 16 || nn > 64) return "publisher: X-Wamp1-Nonce not 16 to 64 characters";
    for (i = 0; i < nn; i++) {
        char ch = nonce[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return "publisher: X-Wamp1-Nonce has a character outside [A-Za-z0-9_-]";
    }
#ifndef WAMP1_PUBLISHER_NO_TIME
    now = p->cfg.clock ? p->cfg.clock(p->cfg.clock_user) : (int64_t)time(NULL);
#else
    now = p->cfg.clock ? p->cfg.clock(p->cfg.clock_user) : 0;
#endif
    if (t > now + (int64_t)p->cfg.window_s || t < now - (int64_t)p->cfg.window_s)
        return "publisher: X-Wamp1-Timestamp outside the window";
    if (wamp1__cra_unb64(sig, sn, got) != 0) return "publisher: X-Wamp1-Signature is not base64 of 32 bytes";
    wamp1__pub_mac(p->cfg.secret, strlen(p->cfg.secret), ts, tn, nonce, nn, req->body, req->body_len, want);
    for (i = 0; i < 32; i++) diff = (uint8_t)(diff | (want[i] ^ got[i]));
    if (diff) return "publisher: wrong X-Wamp1-Signature";
    /* the nonce: seen within the window is a replay; expired entries are free */
    wamp1_sha256(nonce, nn, h);
    p->stats.nonces = 0;
    for (k = 0; k < WAMP1_PUBLISHER_NONCES; k++) {
        if (p->nonce[k].ts == 0 || p->nonce[k].ts < now - (int64_t)p->cfg.window_s) {
            p->nonce[k].ts = 0;
            if (free_at == WAMP1_PUBLISHER_NONCES) free_at = k;
            continue;
        }
        p->stats.nonces++;
        if (memcmp(p->nonce[k].hash, h, 16) == 0) return "publisher: X-Wamp1-Nonce replayed";
    }
    if (free_at == WAMP1_PUBLISHER_NONCES) return "publisher: nonce table full (WAMP1_PUBLISHER_NONCES)";
    memcpy(p->nonce[free_at].hash, h, 16);
    p->nonce[free_at].ts = t > 0 ? t : 1;
    p->stats.nonces++;
    return NULL;
}

WAMP1__PUB_FN int wamp1_publisher_handle(wamp1_publisher *p, wamp1_conn *c, const wamp1_request *req) {
    size_t pl = strlen(p->cfg.path), tn = 0, an = 0;
    const char *ts, *auth, *why = NULL;
    int sent;
    char out[40];
    if (req->path_len != pl || memcmp(req->path, p->cfg.path, pl) != 0) return 0;
    if (req->method_len != 4 || memcmp(req->method, "POST", 4) != 0 || !req->body)
        return wamp1__pub_refuse(p, c, 405, "publisher: a method other than POST");
    ts = wamp1_request_header(req, "x-wamp1-timestamp", &tn);
    auth = wamp1_request_header(req, "authorization", &an);
    if (ts && p->cfg.secret) {
        why = wamp1__pub_check_sig(p, req, ts, tn);
    } else if (auth && p->cfg.token) {
        size_t tl = strlen(p->cfg.token), i;
        unsigned char diff = 0;
        if (an != tl + 7 || !wamp1__ieqn(auth, 7, "bearer ", 7)) {
            why = "publisher: Authorization is not Bearer with the token";
        } else {
            for (i = 0; i < tl; i++) diff = (unsigned char)(diff | (auth[7 + i] ^ p->cfg.token[i]));
            if (diff) why = "publisher: wrong bearer token";
        }
    } else {
        why = "publisher: no authentication (signature headers or a bearer token)";
    }
    if (why) return wamp1__pub_refuse(p, c, 401, why);
    if (wamp1_push_parse(req->body, req->body_len, &p->msg, &why) != 0) return wamp1__pub_refuse(p, c, 400, why);
    if (!p->msg.has_topic || !p->msg.topic_len) return wamp1__pub_refuse(p, c, 400, "publisher: topic missing");
    sent = wamp1_app_publish_sids(p->app, p->msg.topic, p->msg.topic_len, p->msg.event, p->msg.event_len,
                                  p->msg.ids[0], p->msg.count[0], p->msg.ids[1], p->msg.count[1],
                                  p->msg.use_eligible);
    if (sent == WAMP1_QUEUE_NO_ROUTE) return wamp1__pub_refuse(p, c, 404, "publisher: no topic route matches the topic");
    if (sent < 0) return wamp1__pub_refuse(p, c, 400, "publisher: the event is not JSON");
    p->stats.published++;
    p->stats.delivered += (uint32_t)sent;
    {
        size_t n = 0;
        memcpy(out, "{\"delivered\":", 13);
        n = 13 + wamp1__fmt_u((uint32_t)sent, out + 13);
        out[n++] = '}';
        wamp1_conn_http_respond_ex(c, 200, "application/json", "Cache-Control: no-store\r\n", out, n);
    }
    return 200;
}

#endif /* WAMP1_PUBLISHER_H_INCLUDED */
