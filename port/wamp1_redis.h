/* wamp1_redis.h - several wamp1.h servers share their topics through Redis pub/sub.

   A small non-blocking RESP client in the server's own loop: its socket is a watched
   socket (wamp1_watch), its timers are the loop's, its I/O goes through the wamp1_port, so
   it runs wherever the loop runs given a function that starts a non-blocking connect:
   wamp1_redis_posix_connect (with port/wamp1_posix.h) and wamp1_redis_lwip_connect (with
   port/wamp1_lwip_sockets.h) are here; on the lwIP raw API the application supplies one.
   No allocation: a send and a receive buffer of fixed size. The strings of the
   configuration (host, user, password, prefix, node id) must stay valid while it runs.

       #define WAMP1_IMPLEMENTATION
       #include "wamp1.h"
       #include "port/wamp1_posix.h"
       #include "port/wamp1_redis.h"

       static wamp1_redis redis;
       wamp1_redis_config rc = {0};
       rc.host = "127.0.0.1"; rc.port = 6379;          (a numeric address)
       rc.connect = wamp1_redis_posix_connect;         (POSIX; or your own)
       rc.password = "...";  rc.user = "...";          (optional: HELLO 3 AUTH)
       wamp1_redis_start(&redis, &app, &rc);           (after wamp1_app_init)
       ... wamp1_app_run(&app) ...
       wamp1_redis_stop(&redis);                        (before wamp1_app_shutdown)

   WHAT IT DOES. Every publish on this server (a client's PUBLISH through the built-in
   broker, wamp1_app_publish, wamp1_app_publish_async) is delivered locally first, then
   sent as one Redis PUBLISH to the channel PREFIX + topicURI: one command per event, never
   one per subscriber, pipelined (no reply is awaited before the next). The server
   SUBSCRIBEs to the channel of every topic that has local subscribers and UNSUBSCRIBEs when
   its last subscriber leaves. Events from other servers are delivered to local subscribers
   with the publisher's exclude and eligible lists applied here, so the PUBLISH rules of
   WAMP v1 hold across servers as on one; a server ignores its own messages by node id.
   The connection speaks RESP3 (HELLO 3, optionally with AUTH user password; Redis 6 or
   later), so publishing and subscribing share one socket.

   WIRE FORMAT (the payload of each PUBLISH; the channel carries the topic):
       1 SP node SP L SP X SP E SP ids event
   "1" is the format version; node the sender's node id (1..32 characters, no space); L the
   session id length (WAMP1_SESSION_ID_LEN, the same on every server); X the number of
   excluded session ids; E the number of eligible ones, or "-" when the event has no
   eligible list; ids the X excluded then the E eligible session ids, L bytes each, packed;
   event the event's JSON text, to the end. Example: 1 9f04c1d2 16 1 - AbCdEfGhIjKlMnOp{"a":1}
   Entries of a client's exclude/eligible list that cannot be a session id are left out
   (they match nobody anywhere). An event with an empty eligible list is not sent.

   OUTSIDE PUBLISHERS. A payload that starts with "{" (after blanks) is the plain JSON
   message of port/wamp1_push.h, so that a web application publishes with the Redis client
   it already has (examples/push/push.php, push.py):
       PUBLISH wamp1:http://wamp1.dev/topic/news '{"event": {"title": "saved"}}'
   with optional "exclude" and "eligible" lists of session ids (at most WAMP1_PUSH_MAX_IDS
   each); the channel names the topic (a "topic" member is ignored). Every server delivers
   it to its local subscribers of that topic (counted in stats.external); none sends it
   on. A payload that is neither format, or whose event is no JSON, is dropped and
   reported (stats.malformed).

   AT MOST ONCE. Redis pub/sub keeps nothing: events published while the link is down (or
   do not fit the send buffer) reach local subscribers only and are counted in
   stats.dropped; events sent while another server is reconnecting are lost for it. On a
   failure (connect refused, connection lost, a refused HELLO/AUTH, a reply that is no RESP
   or does not fit WAMP1_REDIS_RECV_SIZE, no connect or HELLO reply within
   connect_timeout_ms) the socket is closed, the app's error hook is told (WAMP1_ERR_IO,
   "redis: ..."), and a new connection is tried after a backoff (backoff_min_ms doubling
   up to backoff_max_ms); once up again, every topic with local subscribers is subscribed
   again. A link that goes silent (no reply to a PING within ping_ms) counts as failed too.
   Local delivery never waits for Redis.

   Configuration macros: WAMP1_REDIS_SEND_SIZE 16384 (commands waiting for the socket),
   WAMP1_REDIS_RECV_SIZE 16384 (the largest reply: an event from another server must fit
   in it with its channel name), WAMP1_RESP_DEPTH 8 (nesting of a reply). Needs
   WAMP1_BRIDGE, one wamp1_watch slot and one timer.
*/
#ifndef WAMP1_REDIS_H_INCLUDED
#define WAMP1_REDIS_H_INCLUDED

#if !WAMP1_BRIDGE
#error "port/wamp1_redis.h needs WAMP1_BRIDGE (off in small builds: define WAMP1_BRIDGE 1)"
#endif

#ifndef WAMP1_REDIS_SEND_SIZE
#define WAMP1_REDIS_SEND_SIZE 16384
#endif
#ifndef WAMP1_REDIS_RECV_SIZE
#define WAMP1_REDIS_RECV_SIZE 16384
#endif
#ifndef WAMP1_RESP_DEPTH
#define WAMP1_RESP_DEPTH 8
#endif
#define WAMP1_RESP_ITEMS 4
#define WAMP1_REDIS_NODE_MAX 32

#include "wamp1_push.h"

#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__REDIS_FN static __attribute__((unused))
#else
#define WAMP1__REDIS_FN static
#endif

/* ---- RESP parser ------------------------------------------------------------------- */

/* One complete RESP2/RESP3 value. For an aggregate (array, push, set, map), the first
   WAMP1_RESP_ITEMS elements that are scalars are kept in items (an element that is itself
   an aggregate is kept with its type and count only). Strings point into the input. */
typedef struct wamp1_resp_item {
    char type;          /* '+' '-' ':' '$' '*' '>' '%' '~' '_' ',' '#' '(' '=' '!' '|' */
    const char *str;    /* simple and bulk strings, errors, numbers as written */
    size_t len;
    int64_t num;        /* integers; the element count of aggregates; -1: null */
} wamp1_resp_item;
typedef struct wamp1_resp {
    wamp1_resp_item top;
    unsigned nitems;
    wamp1_resp_item items[WAMP1_RESP_ITEMS];
} wamp1_resp;

/* Parses the value at buf[0..n): its length in bytes (> 0); 0 when more bytes are needed;
   -1 when the bytes are no RESP (unknown type, bad length or number, a line or string not
   ended by CRLF, nesting beyond WAMP1_RESP_DEPTH, a bulk string beyond 512 MiB). */
WAMP1__REDIS_FN long wamp1_resp_parse(const char *buf, size_t n, wamp1_resp *v);

/* ---- wire format ------------------------------------------------------------------- */

typedef struct wamp1_redis_msg {
    const char *node;       /* the sender's node id */
    size_t node_len;
    const char *exclude, *eligible; /* packed session ids, WAMP1_SESSION_ID_LEN each */
    unsigned exclude_count, eligible_count;
    int use_eligible;
    const char *event;      /* JSON text (not checked here) */
    size_t event_len;
} wamp1_redis_msg;

/* Reads a payload (see WIRE FORMAT): 0, or -1 when it is not one. */
WAMP1__REDIS_FN int wamp1_redis_msg_decode(const char *p, size_t n, wamp1_redis_msg *m);

/* ---- the bridge -------------------------------------------------------------------- */

enum { WAMP1_REDIS_DOWN = 0, WAMP1_REDIS_CONNECTING = 1, WAMP1_REDIS_HANDSHAKE = 2, WAMP1_REDIS_UP = 3 };

typedef struct wamp1_redis_config {
    const char *host;           /* numeric address, passed to connect */
    uint16_t port;              /* default 6379 */
    const char *user;           /* NULL: "default" (with a password) */
    const char *password;       /* NULL: no AUTH */
    const char *prefix;         /* channel prefix; NULL: "wamp1:" */
    const char *node_id;        /* NULL: 16 random hex digits */
    /* Starts a non-blocking connect: 0 with *out set (connected or in progress), or -1.
       The bridge watches the socket for writability to learn the outcome. */
    int (*connect)(void *ctx, const char *host, uint16_t port, wamp1_socket *out);
    void *connect_ctx;
    uint32_t backoff_min_ms;    /* default 100 */
    uint32_t backoff_max_ms;    /* default 2000 */
    uint32_t connect_timeout_ms; /* connect and HELLO reply; default 3000 */
    uint32_t ping_ms;           /* a PING this often while up, its reply due before the
                                   next: a link that went silent is dropped; default 5000 */
} wamp1_redis_config;

typedef struct wamp1_redis_stats {
    int state;                  /* WAMP1_REDIS_DOWN .. _UP */
    wamp1_counter connects;     /* links that came up (HELLO answered) */
    wamp1_counter failures;     /* attempts and links that failed */
    wamp1_counter published;    /* PUBLISH commands queued */
    wamp1_counter dropped;      /* events not sent: link down or send buffer full */
    wamp1_counter received;     /* events from other servers delivered */
    wamp1_counter own;          /* own messages ignored */
    wamp1_counter external;     /* plain JSON messages of outside publishers delivered */
    wamp1_counter malformed;    /* messages not in the wire format, or not JSON */
    wamp1_counter errors;       /* error replies from Redis */
    wamp1_counter auth_failures;/* HELLO/AUTH refused */
    int64_t channels;           /* channels subscribed, as Redis last counted them */
} wamp1_redis_stats;

typedef struct wamp1_redis {
    wamp1_bridge bridge;        /* first: the app's bridge */
    wamp1_app *app;
    wamp1_redis_config cfg;
    char node[WAMP1_REDIS_NODE_MAX + 1];
    size_t node_len, prefix_len;
    wamp1_socket sock;
    int state, resync, started, ping_out;
    int resub;                  /* next topic index to SUBSCRIBE, -1: done */
    unsigned watch_events;
    uint32_t backoff;
    wamp1_timer_id timer;
    wamp1_redis_stats stats;
    char last_error[96];        /* what the last failure was */
    wamp1_push_msg push;        /* an outside publisher's message being read */
    size_t slen, soff, rlen;
    char sbuf[WAMP1_REDIS_SEND_SIZE];
    char rbuf[WAMP1_REDIS_RECV_SIZE];
} wamp1_redis;

/* Joins app to Redis: sets the bridge and starts connecting. 0, or -1 (no connect
   function, or a prefix, node id or password that does not fit). Call after app init. */
WAMP1__REDIS_FN int wamp1_redis_start(wamp1_redis *r, wamp1_app *app, const wamp1_redis_config *cfg);
/* Leaves: closes the link, stops the timer, removes the bridge. */
WAMP1__REDIS_FN void wamp1_redis_stop(wamp1_redis *r);
WAMP1__REDIS_FN void wamp1_redis_get_stats(const wamp1_redis *r, wamp1_redis_stats *out);
WAMP1__REDIS_FN const char *wamp1_redis_state_name(int state);

/* ======================================================================================= */

static int wamp1__resp_num(const char *s, size_t n, int64_t *out) {
    size_t i = 0;
    int neg = 0;
    int64_t v = 0;
    if (n > 0 && s[0] == '-') { neg = 1; i = 1; }
    if (i == n || n - i > 18) return -1;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

WAMP1__REDIS_FN long wamp1_resp_parse(const char *buf, size_t n, wamp1_resp *v) {
    size_t pos = 0;
    int64_t rem[WAMP1_RESP_DEPTH];
    unsigned char attr[WAMP1_RESP_DEPTH];
    unsigned depth = 0;
    memset(v, 0, sizeof *v);
    if (n > 0x7FFFFFFFu) n = 0x7FFFFFFFu;
    for (;;) {
        wamp1_resp_item it;
        const char *line;
        size_t ll = 0, i;
        int agg = 0, isattr = 0;
        if (pos >= n) return 0;
        line = buf + pos + 1;
        for (i = pos + 1; i + 1 < n; i++)
            if (buf[i] == '\r') break;
        if (i + 1 >= n) return 0;              /* no CR yet (or CR is the last byte) */
        if (buf[i + 1] != '\n') return -1;
        ll = i - pos - 1;
        memset(&it, 0, sizeof it);
        it.type = buf[pos];
        it.str = line;
        it.len = ll;
        pos = i + 2;
        switch (it.type) {
        case '+': case '-': case ',': case '(':
            break;
        case '_':
            if (ll) return -1;
            it.num = -1;
            break;
        case '#':
            if (ll != 1 || (line[0] != 't' && line[0] != 'f')) return -1;
            break;
        case ':':
            if (wamp1__resp_num(line, ll, &it.num) != 0) return -1;
            break;
        case '$': case '=': case '!':
            if (wamp1__resp_num(line, ll, &it.num) != 0) return -1;
            if (it.num == -1 && it.type == '$') { it.str = NULL; it.len = 0; break; }
            if (it.num < 0 || it.num > (int64_t)512 * 1024 * 1024) return -1;
            if (n - pos < (size_t)it.num + 2) return 0;
            it.str = buf + pos;
            it.len = (size_t)it.num;
            pos += (size_t)it.num;
            if (buf[pos] != '\r' || buf[pos + 1] != '\n') return -1;
            pos += 2;
            break;
        case '*': case '>': case '~': case '%': case '|':
            if (wamp1__resp_num(line, ll, &it.num) != 0) return -1;
            if (it.num == -1 && it.type == '*') break;
            if (it.num < 0 || it.num > 0x3FFFFFFF) return -1;
            agg = it.num > 0;
            isattr = it.type == '|';
            break;
        default:
            return -1;
        }
        if (depth == 0) v->top = it;
        else if (depth == 1 && v->nitems < WAMP1_RESP_ITEMS && !attr[0] && !isattr) v->items[v->nitems++] = it;
        if (agg) {
            if (depth == WAMP1_RESP_DEPTH) return -1;
            rem[depth] = it.type == '%' || it.type == '|' ? it.num * 2 : it.num;
            attr[depth] = (unsigned char)isattr;
            depth++;
            continue;
        }
        /* a value ended: count it in its parents (an attribute is no element) */
        while (depth > 0) {
            if (--rem[depth - 1] > 0) break;
            depth--;
            if (attr[depth]) break;          /* the attribute ended; the value follows */
        }
        if (depth == 0) return (long)pos; /* (a top-level attribute comes on its own) */
    }
}

static size_t wamp1__redis_udigits(size_t v, char *out) {
    char tmp[24];
    size_t n = 0, i;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

static int wamp1__redis_field(const char *p, size_t n, size_t *pos, const char **f, size_t *fl) {
    size_t s = *pos;
    while (*pos < n && p[*pos] != ' ') (*pos)++;
    if (*pos >= n || *pos == s) return -1;
    *f = p + s;
    *fl = *pos - s;
    (*pos)++;
    return 0;
}

static int wamp1__redis_count(const char *f, size_t fl, unsigned *out) {
    int64_t v;
    if (fl > 6 || f[0] == '-' || wamp1__resp_num(f, fl, &v) != 0) return -1;
    *out = (unsigned)v;
    return 0;
}

WAMP1__REDIS_FN int wamp1_redis_msg_decode(const char *p, size_t n, wamp1_redis_msg *m) {
    size_t pos = 0, fl, ids;
    const char *f;
    unsigned l;
    memset(m, 0, sizeof *m);
    if (wamp1__redis_field(p, n, &pos, &f, &fl) != 0 || fl != 1 || f[0] != '1') return -1;
    if (wamp1__redis_field(p, n, &pos, &m->node, &m->node_len) != 0 || m->node_len > WAMP1_REDIS_NODE_MAX) return -1;
    if (wamp1__redis_field(p, n, &pos, &f, &fl) != 0 || wamp1__redis_count(f, fl, &l) != 0 ||
        l != WAMP1_SESSION_ID_LEN)
        return -1;
    if (wamp1__redis_field(p, n, &pos, &f, &fl) != 0 || wamp1__redis_count(f, fl, &m->exclude_count) != 0) return -1;
    if (wamp1__redis_field(p, n, &pos, &f, &fl) != 0) return -1;
    if (fl == 1 && f[0] == '-') m->use_eligible = 0;
    else if (wamp1__redis_count(f, fl, &m->eligible_count) == 0) m->use_eligible = 1;
    else return -1;
    ids = ((size_t)m->exclude_count + m->eligible_count) * WAMP1_SESSION_ID_LEN;
    if (n - pos < ids) return -1;
    m->exclude = p + pos;
    m->eligible = p + pos + (size_t)m->exclude_count * WAMP1_SESSION_ID_LEN;
    m->event = p + pos + ids;
    m->event_len = n - pos - ids;
    return m->event_len ? 0 : -1;
}

/* ---- the client -------------------------------------------------------------------- */

static void wamp1__redis_connect(wamp1_redis *r);

static void wamp1__redis_report(wamp1_redis *r, const char *why, const char *detail, size_t dlen) {
    size_t a = strlen(why), b = dlen;
    if (a > sizeof r->last_error - 1) a = sizeof r->last_error - 1;
    memcpy(r->last_error, why, a);
    if (detail && a + 2 < sizeof r->last_error - 1) {
        r->last_error[a++] = ':';
        r->last_error[a++] = ' ';
        if (b > sizeof r->last_error - 1 - a) b = sizeof r->last_error - 1 - a;
        memcpy(r->last_error + a, detail, b);
        a += b;
    }
    r->last_error[a] = 0;
    wamp1__report(&r->app->server, NULL, WAMP1_ERR_IO, WAMP1__WHY(r->last_error));
}

static void wamp1__redis_set_events(wamp1_redis *r) {
    unsigned ev = WAMP1_POLLIN;
    if (r->sock == WAMP1_INVALID_SOCKET) return;
    if (r->state == WAMP1_REDIS_CONNECTING || r->slen > r->soff) ev |= WAMP1_POLLOUT;
    if (ev != r->watch_events && wamp1_watch_events(&r->app->server, r->sock, ev) == 0) r->watch_events = ev;
}

static void wamp1__redis_on_timer(wamp1_server *s, wamp1_timer_id t, void *user);

static void wamp1__redis_timer(wamp1_redis *r, uint32_t ms) {
    if (r->timer.id) (void)wamp1_timer_stop(&r->app->server, r->timer);
    r->timer = wamp1_timer_start(&r->app->server, ms, 0, wamp1__redis_on_timer, r);
}

static void wamp1__redis_close(wamp1_redis *r) {
    const wamp1_port *p = r->app->server.port;
    if (r->sock != WAMP1_INVALID_SOCKET) {
        (void)wamp1_unwatch(&r->app->server, r->sock);
        p->close(p->ctx, r->sock);
    }
    r->sock = WAMP1_INVALID_SOCKET;
    r->state = WAMP1_REDIS_DOWN;
    r->slen = r->soff = r->rlen = 0;
    r->watch_events = 0;
    r->resub = -1;
    r->resync = 0;
}

/* The link failed: close, tell, and try again after the backoff. */
static void wamp1__redis_fail(wamp1_redis *r, const char *why, const char *detail, size_t dlen) {
    wamp1__redis_close(r);
    r->stats.failures++;
    wamp1__redis_report(r, why, detail, dlen);
    wamp1__redis_timer(r, r->backoff);
    r->backoff = r->backoff * 2 > r->cfg.backoff_max_ms ? r->cfg.backoff_max_ms : r->backoff * 2;
}

static size_t wamp1__redis_free(const wamp1_redis *r) { return sizeof r->sbuf - r->slen; }

static void wamp1__redis_put(wamp1_redis *r, const void *d, size_t n) {
    memcpy(r->sbuf + r->slen, d, n);
    r->slen += n;
}

static void wamp1__redis_head(wamp1_redis *r, char type, size_t n) {
    char d[24];
    size_t k = wamp1__redis_udigits(n, d);
    r->sbuf[r->slen++] = type;
    wamp1__redis_put(r, d, k);
    wamp1__redis_put(r, "\r\n", 2);
}

/* bytes of a bulk string of n bytes, with its header */
static size_t wamp1__redis_bulk_size(size_t n) {
    char d[24];
    return 1 + wamp1__redis_udigits(n, d) + 2 + n + 2;
}

static void wamp1__redis_bulk(wamp1_redis *r, const char *s, size_t n) {
    wamp1__redis_head(r, '$', n);
    wamp1__redis_put(r, s, n);
    wamp1__redis_put(r, "\r\n", 2);
}

/* SUBSCRIBE/UNSUBSCRIBE PREFIX+topic (topic NULL: UNSUBSCRIBE from all); 0 or -1 (no room) */
static int wamp1__redis_chan_cmd(wamp1_redis *r, int sub, const char *topic, size_t len) {
    const char *verb = sub ? "SUBSCRIBE" : "UNSUBSCRIBE";
    size_t vl = strlen(verb);
    size_t need = 4 + wamp1__redis_bulk_size(vl) + (topic ? wamp1__redis_bulk_size(r->prefix_len + len) : 0);
    if (wamp1__redis_free(r) < need) return -1;
    wamp1__redis_head(r, '*', topic ? 2u : 1u);
    wamp1__redis_bulk(r, verb, vl);
    if (topic) {
        wamp1__redis_head(r, '$', r->prefix_len + len);
        wamp1__redis_put(r, r->cfg.prefix, r->prefix_len);
        wamp1__redis_put(r, topic, len);
        wamp1__redis_put(r, "\r\n", 2);
    }
    return 0;
}

/* Re-subscribing after a connect (or after a change that found no room): as many topics
   as the send buffer takes, the rest when it drains. */
static void wamp1__redis_pump(wamp1_redis *r) {
    if (r->state != WAMP1_REDIS_UP) return;
    if (r->resync) {
        if (wamp1__redis_chan_cmd(r, 0, NULL, 0) != 0) return;
        r->resync = 0;
        r->resub = 0;
    }
    while (r->resub >= 0) {
        const char *uri;
        int i = wamp1_app_topic_next(r->app, r->resub, &uri, NULL);
        if (i < 0) { r->resub = -1; break; }
        if (wamp1__redis_chan_cmd(r, 1, uri, strlen(uri)) != 0) break;
        r->resub = i + 1;
    }
}

static void wamp1__redis_flush(wamp1_redis *r) {
    const wamp1_port *p = r->app->server.port;
    wamp1__redis_pump(r);
    while (r->sock != WAMP1_INVALID_SOCKET && r->slen > r->soff) {
        long k = p->send(p->ctx, r->sock, r->sbuf + r->soff, r->slen - r->soff);
        if (k == WAMP1_IO_WOULDBLOCK) break;
        if (k < 0) {
            wamp1__redis_fail(r, "redis: send failed", NULL, 0);
            return;
        }
        r->soff += (size_t)k;
        if (r->soff == r->slen) {
            r->soff = r->slen = 0;
            wamp1__redis_pump(r); /* room again: more topics to subscribe */
        }
    }
    if (r->soff > 0 && r->soff * 2 >= r->slen) { /* compact: the unsent part to the front */
        memmove(r->sbuf, r->sbuf + r->soff, r->slen - r->soff);
        r->slen -= r->soff;
        r->soff = 0;
    }
    wamp1__redis_set_events(r);
}

static void wamp1__redis_hello(wamp1_redis *r) {
    const char *user = r->cfg.user ? r->cfg.user : "default";
    int auth = r->cfg.password != NULL;
    wamp1__redis_head(r, '*', auth ? 5u : 2u);
    wamp1__redis_bulk(r, "HELLO", 5);
    wamp1__redis_bulk(r, "3", 1);
    if (auth) {
        wamp1__redis_bulk(r, "AUTH", 4);
        wamp1__redis_bulk(r, user, strlen(user));
        wamp1__redis_bulk(r, r->cfg.password, strlen(r->cfg.password));
    }
}

static int wamp1__redis_eq(const wamp1_resp_item *it, const char *s) {
    size_t n = strlen(s), i;
    if (!it->str || it->len != n) return 0;
    for (i = 0; i < n; i++)
        if ((it->str[i] | 0x20) != s[i]) return 0;
    return 1;
}

static void wamp1__redis_message(wamp1_redis *r, const wamp1_resp *v) {
    const wamp1_resp_item *ch = &v->items[1], *pl = &v->items[2];
    wamp1_redis_msg m;
    size_t k = 0;
    while (pl->str && k < pl->len && (pl->str[k] == ' ' || pl->str[k] == '\t' || pl->str[k] == '\r' || pl->str[k] == '\n')) k++;
    if (v->nitems >= 3 && ch->str && pl->str && k < pl->len && pl->str[k] == '{' && ch->len >= r->prefix_len &&
        memcmp(ch->str, r->cfg.prefix, r->prefix_len) == 0) {
        const char *why = NULL;
        wamp1_push_msg *pm = &r->push;
        if (wamp1_push_parse(pl->str, pl->len, pm, &why) != 0 ||
            wamp1_app_bridge_deliver(r->app, ch->str + r->prefix_len, ch->len - r->prefix_len, pm->event,
                                     pm->event_len, pm->ids[0], pm->count[0], pm->ids[1], pm->count[1],
                                     pm->use_eligible) < 0) {
            r->stats.malformed++;
            wamp1__report(&r->app->server, NULL, WAMP1_ERR_MALFORMED, why ? why : WAMP1__WHY("redis: an outside message's event is not JSON"));
        } else {
            r->stats.external++;
        }
        return;
    }
    if (v->nitems < 3 || !ch->str || !pl->str || ch->len < r->prefix_len ||
        memcmp(ch->str, r->cfg.prefix, r->prefix_len) != 0 ||
        wamp1_redis_msg_decode(pl->str, pl->len, &m) != 0) {
        r->stats.malformed++;
        wamp1__report(&r->app->server, NULL, WAMP1_ERR_MALFORMED, WAMP1__WHY("redis: a message not in the wire format: dropped"));
        return;
    }
    if (m.node_len == r->node_len && memcmp(m.node, r->node, r->node_len) == 0) {
        r->stats.own++;
        return;
    }
    if (wamp1_app_bridge_deliver(r->app, ch->str + r->prefix_len, ch->len - r->prefix_len, m.event,
                                 m.event_len, m.exclude, m.exclude_count, m.eligible, m.eligible_count,
                                 m.use_eligible) < 0)
        r->stats.malformed++;
    else r->stats.received++;
}

/* One value from Redis; 0, or -1 when the link failed. */
static int wamp1__redis_value(wamp1_redis *r, const wamp1_resp *v) {
    const wamp1_resp_item *t = &v->top;
    if (t->type == '>' || (t->type == '*' && r->state == WAMP1_REDIS_UP && v->nitems >= 3 &&
                           v->items[0].type == '$' && t->num >= 3)) {
        const wamp1_resp_item *kind = &v->items[0];
        if (wamp1__redis_eq(kind, "message")) wamp1__redis_message(r, v);
        else if ((wamp1__redis_eq(kind, "subscribe") || wamp1__redis_eq(kind, "unsubscribe")) &&
                 v->nitems >= 3 && v->items[2].type == ':')
            r->stats.channels = v->items[2].num;
        return 0; /* other pushes (invalidations, pmessage) are no concern of the bridge */
    }
    if (t->type == '|') return 0; /* an attribute: the value follows */
    if (r->state == WAMP1_REDIS_HANDSHAKE) {
        if (t->type == '-' || t->type == '!') {
            r->stats.auth_failures++;
            wamp1__redis_fail(r, "redis: HELLO/AUTH refused", t->str, t->len);
            return -1;
        }
        r->state = WAMP1_REDIS_UP;
        r->stats.connects++;
        r->backoff = r->cfg.backoff_min_ms;
        r->ping_out = 0;
        wamp1__redis_timer(r, r->cfg.ping_ms);
        r->resub = 0;
        r->resync = 0;
        return 0;
    }
    if (t->type == '+') r->ping_out = 0; /* PONG (no other command answers with a status) */
    if (t->type == '-' || t->type == '!') {
        r->stats.errors++;
        wamp1__redis_report(r, "redis: error reply", t->str, t->len);
    }
    return 0;
}

static void wamp1__redis_input(wamp1_redis *r) {
    const wamp1_port *p = r->app->server.port;
    long k;
    size_t at = 0;
    if (r->rlen == sizeof r->rbuf) {
        wamp1__redis_fail(r, "redis: a reply larger than WAMP1_REDIS_RECV_SIZE", NULL, 0);
        return;
    }
    k = p->recv(p->ctx, r->sock, r->rbuf + r->rlen, sizeof r->rbuf - r->rlen);
    if (k == WAMP1_IO_WOULDBLOCK) return;
    if (k <= 0) {
        wamp1__redis_fail(r, k == 0 ? "redis: connection closed by the server" : "redis: receive failed", NULL, 0);
        return;
    }
    r->rlen += (size_t)k;
    for (;;) {
        wamp1_resp v;
        long n = wamp1_resp_parse(r->rbuf + at, r->rlen - at, &v);
        if (n < 0) {
            wamp1__redis_fail(r, "redis: a reply that is no RESP", NULL, 0);
            return;
        }
        if (n == 0) break;
        at += (size_t)n;
        if (wamp1__redis_value(r, &v) != 0) return;
        if (r->sock == WAMP1_INVALID_SOCKET) return;
    }
    if (at) {
        memmove(r->rbuf, r->rbuf + at, r->rlen - at);
        r->rlen -= at;
    }
    if (r->rlen == sizeof r->rbuf) wamp1__redis_fail(r, "redis: a reply larger than WAMP1_REDIS_RECV_SIZE", NULL, 0);
}

static void wamp1__redis_on_io(wamp1_server *s, wamp1_socket sock, unsigned events, void *user) {
    wamp1_redis *r = (wamp1_redis *)user;
    (void)s;
    if (sock != r->sock) return;
    if (r->state == WAMP1_REDIS_CONNECTING) {
        if (events & (WAMP1_POLLERR | WAMP1_POLLHUP)) {
            wamp1__redis_fail(r, "redis: cannot connect", NULL, 0);
            return;
        }
        if (!(events & WAMP1_POLLOUT)) return;
        r->state = WAMP1_REDIS_HANDSHAKE;
        wamp1__redis_hello(r);
    }
    if (events & (WAMP1_POLLIN | WAMP1_POLLERR | WAMP1_POLLHUP)) {
        wamp1__redis_input(r);
        if (r->sock == WAMP1_INVALID_SOCKET) return;
    }
    wamp1__redis_flush(r);
}

static void wamp1__redis_on_timer(wamp1_server *s, wamp1_timer_id t, void *user) {
    wamp1_redis *r = (wamp1_redis *)user;
    (void)s;
    if (t.id != r->timer.id) return;
    r->timer.id = 0;
    if (r->state == WAMP1_REDIS_DOWN) wamp1__redis_connect(r);
    else if (r->state == WAMP1_REDIS_UP) {
        if (r->ping_out == 1) {
            wamp1__redis_fail(r, "redis: no reply to PING in time", NULL, 0);
            return;
        }
        if (wamp1__redis_free(r) >= 14) {
            wamp1__redis_put(r, "*1\r\n$4\r\nPING\r\n", 14);
            r->ping_out = 1;
        } else if (r->ping_out == 2) { /* the send buffer stayed full a whole period */
            wamp1__redis_fail(r, "redis: the server reads nothing (send buffer full)", NULL, 0);
            return;
        } else r->ping_out = 2;
        wamp1__redis_timer(r, r->cfg.ping_ms);
        wamp1__redis_flush(r);
    } else if (r->state != WAMP1_REDIS_UP)
        wamp1__redis_fail(r, r->state == WAMP1_REDIS_CONNECTING ? "redis: connect timed out"
                                                                : "redis: no HELLO reply in time", NULL, 0);
}

static void wamp1__redis_connect(wamp1_redis *r) {
    wamp1_socket sock = WAMP1_INVALID_SOCKET;
    if (r->cfg.connect(r->cfg.connect_ctx, r->cfg.host, r->cfg.port, &sock) != 0 || sock == WAMP1_INVALID_SOCKET) {
        wamp1__redis_fail(r, "redis: cannot connect", NULL, 0);
        return;
    }
    r->sock = sock;
    r->state = WAMP1_REDIS_CONNECTING;
    r->slen = r->soff = r->rlen = 0;
    if (wamp1_watch(&r->app->server, sock, WAMP1_POLLIN | WAMP1_POLLOUT, wamp1__redis_on_io, r) != 0) {
        wamp1__redis_fail(r, "redis: no watch slot (WAMP1_MAX_WATCHES)", NULL, 0);
        return;
    }
    r->watch_events = WAMP1_POLLIN | WAMP1_POLLOUT;
    wamp1__redis_timer(r, r->cfg.connect_timeout_ms);
}

/* ---- the bridge's callbacks -------------------------------------------------------- */

static void wamp1__redis_topic(wamp1_bridge *b, const char *topic, size_t len, int subscribed) {
    wamp1_redis *r = (wamp1_redis *)b->user;
    if (r->state != WAMP1_REDIS_UP) return; /* the next link subscribes what is there then */
    if (r->resync) return;                  /* a full resync is coming */
    if (wamp1__redis_chan_cmd(r, subscribed, topic, len) != 0) r->resync = 1;
    wamp1__redis_flush(r);
}

static void wamp1__redis_publish(wamp1_bridge *b, wamp1_bridge_event *ev) {
    wamp1_redis *r = (wamp1_redis *)b->user;
    char sid[WAMP1_SESSION_ID_LEN + 1], hdr[WAMP1_REDIS_NODE_MAX + 48];
    unsigned i, nx = 0, ne = 0;
    size_t hl = 0, plen, need;
    if (ev->use_eligible && ev->eligible_count == 0) return; /* nobody anywhere */
    if (r->state != WAMP1_REDIS_UP) {
        r->stats.dropped++;
        return;
    }
    for (i = 0; i < ev->exclude_count; i++) nx += wamp1_bridge_event_sid(ev, 0, i, sid) == 0;
    for (i = 0; i < ev->eligible_count; i++) ne += wamp1_bridge_event_sid(ev, 1, i, sid) == 0;
    if (ev->use_eligible && ne == 0) return;
    hdr[hl++] = '1';
    hdr[hl++] = ' ';
    memcpy(hdr + hl, r->node, r->node_len);
    hl += r->node_len;
    hdr[hl++] = ' ';
    hl += wamp1__redis_udigits(WAMP1_SESSION_ID_LEN, hdr + hl);
    hdr[hl++] = ' ';
    hl += wamp1__redis_udigits(nx, hdr + hl);
    hdr[hl++] = ' ';
    if (ev->use_eligible) hl += wamp1__redis_udigits(ne, hdr + hl);
    else hdr[hl++] = '-';
    hdr[hl++] = ' ';
    plen = hl + ((size_t)nx + ne) * WAMP1_SESSION_ID_LEN + ev->event_len;
    need = 4 + wamp1__redis_bulk_size(7) + wamp1__redis_bulk_size(r->prefix_len + ev->topic_len) +
           wamp1__redis_bulk_size(plen);
    if (wamp1__redis_free(r) < need) {
        r->stats.dropped++;
        return;
    }
    wamp1__redis_head(r, '*', 3);
    wamp1__redis_bulk(r, "PUBLISH", 7);
    wamp1__redis_head(r, '$', r->prefix_len + ev->topic_len);
    wamp1__redis_put(r, r->cfg.prefix, r->prefix_len);
    wamp1__redis_put(r, ev->topic, ev->topic_len);
    wamp1__redis_put(r, "\r\n", 2);
    wamp1__redis_head(r, '$', plen);
    wamp1__redis_put(r, hdr, hl);
    for (i = 0; i < ev->exclude_count; i++)
        if (wamp1_bridge_event_sid(ev, 0, i, sid) == 0) wamp1__redis_put(r, sid, WAMP1_SESSION_ID_LEN);
    for (i = 0; i < ev->eligible_count; i++)
        if (wamp1_bridge_event_sid(ev, 1, i, sid) == 0) wamp1__redis_put(r, sid, WAMP1_SESSION_ID_LEN);
    wamp1__redis_put(r, ev->event, ev->event_len);
    wamp1__redis_put(r, "\r\n", 2);
    r->stats.published++;
    wamp1__redis_flush(r);
}

/* ---- setup ------------------------------------------------------------------------- */

WAMP1__REDIS_FN int wamp1_redis_start(wamp1_redis *r, wamp1_app *app, const wamp1_redis_config *cfg) {
    size_t i;
    memset(r, 0, offsetof(wamp1_redis, sbuf));
    r->sock = WAMP1_INVALID_SOCKET;
    r->resub = -1;
    if (!cfg || !cfg->connect || !cfg->host) return -1;
    r->cfg = *cfg;
    r->app = app;
    if (!r->cfg.port) r->cfg.port = 6379;
    if (!r->cfg.prefix) r->cfg.prefix = "wamp1:";
    if (!r->cfg.backoff_min_ms) r->cfg.backoff_min_ms = 100;
    if (!r->cfg.backoff_max_ms) r->cfg.backoff_max_ms = 2000;
    if (r->cfg.backoff_max_ms < r->cfg.backoff_min_ms) r->cfg.backoff_max_ms = r->cfg.backoff_min_ms;
    if (!r->cfg.connect_timeout_ms) r->cfg.connect_timeout_ms = 3000;
    if (!r->cfg.ping_ms) r->cfg.ping_ms = 5000;
    r->prefix_len = strlen(r->cfg.prefix);
    /* HELLO with AUTH must fit the send buffer; a channel name must fit a reply */
    if (r->prefix_len + WAMP1_MAX_URI + 64 > sizeof r->rbuf ||
        (r->cfg.password && strlen(r->cfg.password) + (r->cfg.user ? strlen(r->cfg.user) : 7) + 96 > sizeof r->sbuf))
        return -1;
    if (r->cfg.node_id) {
        r->node_len = strlen(r->cfg.node_id);
        if (r->node_len == 0 || r->node_len > WAMP1_REDIS_NODE_MAX) return -1;
        for (i = 0; i < r->node_len; i++)
            if (r->cfg.node_id[i] == ' ') return -1;
        memcpy(r->node, r->cfg.node_id, r->node_len);
    } else {
        static const char hex[] = "0123456789abcdef";
        uint8_t rnd[8];
        const wamp1_port *p = app->server.port;
        if (p->random(p->ctx, rnd, sizeof rnd) != 0) {
            uint64_t x = p->now_ms(p->ctx) ^ (uint64_t)(uintptr_t)r;
            for (i = 0; i < sizeof rnd; i++) { x = x * 6364136223846793005u + 1442695040888963407u; rnd[i] = (uint8_t)(x >> 56); }
        }
        for (i = 0; i < sizeof rnd; i++) {
            r->node[2 * i] = hex[rnd[i] >> 4];
            r->node[2 * i + 1] = hex[rnd[i] & 15];
        }
        r->node_len = 2 * sizeof rnd;
    }
    r->node[r->node_len] = 0;
    r->backoff = r->cfg.backoff_min_ms;
    r->bridge.publish = wamp1__redis_publish;
    r->bridge.topic = wamp1__redis_topic;
    r->bridge.user = r;
    r->started = 1;
    wamp1_app_set_bridge(app, &r->bridge);
    wamp1__redis_connect(r);
    return 0;
}

WAMP1__REDIS_FN void wamp1_redis_stop(wamp1_redis *r) {
    if (!r->started) return;
    wamp1_app_set_bridge(r->app, NULL);
    if (r->timer.id) (void)wamp1_timer_stop(&r->app->server, r->timer);
    r->timer.id = 0;
    wamp1__redis_close(r);
    r->started = 0;
}

WAMP1__REDIS_FN void wamp1_redis_get_stats(const wamp1_redis *r, wamp1_redis_stats *out) {
    *out = r->stats;
    out->state = r->state;
}

WAMP1__REDIS_FN const char *wamp1_redis_state_name(int state) {
    switch (state) {
    case WAMP1_REDIS_CONNECTING: return "connecting";
    case WAMP1_REDIS_HANDSHAKE: return "handshake";
    case WAMP1_REDIS_UP: return "up";
    default: return "down";
    }
}

/* ---- a connect function for POSIX sockets (with port/wamp1_posix.h) ------------------ */
#ifdef WAMP1_POSIX_H_INCLUDED
/* host must be a numeric IPv4 or IPv6 address (no name lookup: it would block the loop). */
WAMP1__REDIS_FN int wamp1_redis_posix_connect(void *ctx, const char *host, uint16_t port, wamp1_socket *out) {
    struct addrinfo hints, *ai = NULL;
    char serv[8];
    int fd, one = 1;
    size_t k;
    (void)ctx;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    k = wamp1__redis_udigits(port, serv);
    serv[k] = 0;
    if (getaddrinfo(host, serv, &hints, &ai) != 0 || !ai) return -1;
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || wamp1__posix_nonblock(fd) != 0) {
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS && errno != EINTR) {
        close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    *out = fd;
    return 0;
}
#endif

/* ---- a connect function for lwIP's socket API (with port/wamp1_lwip_sockets.h) ------- */
#ifdef WAMP1_LWIP_SOCKETS_H_INCLUDED
/* host must be a dotted IPv4 address. */
WAMP1__REDIS_FN int wamp1_redis_lwip_connect(void *ctx, const char *host, uint16_t port, wamp1_socket *out) {
    struct sockaddr_in a;
    uint32_t ip = 0, part = 0;
    int s, one = 1, dots = 0, digits = 0;
    (void)ctx;
    for (; *host; host++) {
        if (*host == '.' && digits && dots < 3) { ip = ip << 8 | part; part = 0; digits = 0; dots++; }
        else if (*host >= '0' && *host <= '9' && digits < 3) { part = part * 10 + (uint32_t)(*host - '0'); digits++; }
        else return -1;
        if (part > 255) return -1;
    }
    if (dots != 3 || !digits) return -1;
    ip = ip << 8 | part;
    s = lwip_socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    if (wamp1__lws_nonblock(s) != 0) {
        (void)lwip_close(s);
        return -1;
    }
    (void)lwip_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = lwip_htons(port);
    a.sin_addr.s_addr = lwip_htonl(ip);
    if (lwip_connect(s, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS && !wamp1__lws_would_block()) {
        (void)lwip_close(s);
        return -1;
    }
    *out = s;
    return 0;
}
#endif

#endif /* WAMP1_REDIS_H_INCLUDED */
