/* wamp1_push.h - the plain JSON push message that outside programs publish with:
   port/wamp1_publisher.h reads it from an HTTP POST body, port/wamp1_redis.h from a topic's
   Redis channel.

       {"topic": "http://wamp1.dev/topic/news",     (HTTP only: Redis takes the channel's)
        "event": {"title": "saved"},                 (any JSON value; absent: null)
        "exclude": ["AbCdEfGhIjKlMnOp"],             (session ids left out; optional)
        "eligible": ["QrStUvWxYz012345"]}            (when present, only these; [] is nobody)

   Rules: the document is one JSON object (nesting up to WAMP1_JSON_DEPTH); "topic" a string
   of at most WAMP1_PUSH_MAX_TOPIC bytes unescaped; "exclude" and "eligible" arrays of
   strings, at most WAMP1_PUSH_MAX_IDS (default 64) entries each; a string that cannot be a
   session id (not WAMP1_SESSION_ID_LEN characters) matches nobody and is left out; other
   members are ignored; a member given twice: the first counts. Include after the
   implementation of wamp1.h; the functions are static. */
#ifndef WAMP1_PUSH_H_INCLUDED
#define WAMP1_PUSH_H_INCLUDED

#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__PUSH_FN static __attribute__((unused))
#else
#define WAMP1__PUSH_FN static
#endif

#ifndef WAMP1_PUSH_MAX_IDS
#define WAMP1_PUSH_MAX_IDS 64
#endif
#ifndef WAMP1_PUSH_MAX_TOPIC
#define WAMP1_PUSH_MAX_TOPIC 255
#endif

typedef struct wamp1_push_msg {
    char topic[WAMP1_PUSH_MAX_TOPIC + 1]; /* unescaped, NUL-terminated; "" when absent */
    size_t topic_len;
    int has_topic;
    const char *event;                    /* the event's JSON text, in the input ("null" when absent) */
    size_t event_len;
    char ids[2][WAMP1_PUSH_MAX_IDS * WAMP1_SESSION_ID_LEN]; /* exclude, eligible: packed */
    unsigned count[2];
    int use_eligible;
} wamp1_push_msg;

/* Reads the message in json[0..n): 0, or -1 with *why (for the error hook) set. */
WAMP1__PUSH_FN int wamp1_push_parse(const char *json, size_t n, wamp1_push_msg *m, const char **why);

/* ---- implementation ------------------------------------------------------------- */

/* The end of the JSON value at json[i] (the input is known to be valid JSON). */
WAMP1__PUSH_FN size_t wamp1__push_skip(const char *json, size_t n, size_t i) {
    unsigned depth = 0;
    int str = 0;
    for (; i < n; i++) {
        char ch = json[i];
        if (str) {
            if (ch == '\\') i++;
            else if (ch == '"') {
                str = 0;
                if (!depth) return i + 1;
            }
        } else if (ch == '"') str = 1;
        else if (ch == '{' || ch == '[') depth++;
        else if (ch == '}' || ch == ']') {
            if (depth <= 1) return depth ? i + 1 : i;
            depth--;
        } else if (!depth && (ch == ',' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')) return i;
    }
    return n;
}

WAMP1__PUSH_FN size_t wamp1__push_ws(const char *json, size_t n, size_t i) {
    while (i < n && (json[i] == ' ' || json[i] == '\t' || json[i] == '\r' || json[i] == '\n')) i++;
    return i;
}

/* an array of session id strings into m->ids[list] */
WAMP1__PUSH_FN int wamp1__push_ids(const char *v, size_t vn, wamp1_push_msg *m, int list, const char **why) {
    wamp1_json_tok toks[WAMP1_PUSH_MAX_IDS + 1];
    int nt = wamp1_json_parse(v, vn, toks, WAMP1_PUSH_MAX_IDS + 1, 1, NULL), k;
    if (nt < 1 || toks[0].type != WAMP1_JSON_ARRAY) {
        *why = nt < 1 ? "push: more session ids than WAMP1_PUSH_MAX_IDS, or nested" : "push: exclude/eligible is not an array";
        return -1;
    }
    for (k = 1; k < nt; k++) {
        char sid[WAMP1_SESSION_ID_LEN + 1];
        size_t sl = 0;
        if (toks[k].type != WAMP1_JSON_STRING) {
            *why = "push: an exclude/eligible entry is not a string";
            return -1;
        }
        if (toks[k].len > 6 * WAMP1_SESSION_ID_LEN || wamp1_json_unescape(v, &toks[k], sid, sizeof sid, &sl) != 0 ||
            sl != WAMP1_SESSION_ID_LEN)
            continue; /* no session id: matches nobody */
        memcpy(m->ids[list] + (size_t)m->count[list] * WAMP1_SESSION_ID_LEN, sid, WAMP1_SESSION_ID_LEN);
        m->count[list]++;
    }
    return 0;
}

WAMP1__PUSH_FN int wamp1_push_parse(const char *json, size_t n, wamp1_push_msg *m, const char **why) {
    size_t i;
    int seen = 0; /* bits: topic, event, exclude, eligible */
    m->topic[0] = 0;
    m->topic_len = 0;
    m->has_topic = 0;
    m->event = "null";
    m->event_len = 4;
    m->count[0] = m->count[1] = 0;
    m->use_eligible = 0;
    if (wamp1_json_validate(json, n, WAMP1_JSON_DEPTH) != 0) {
        *why = "push: the body is not one JSON document (or nested beyond WAMP1_JSON_DEPTH)";
        return -1;
    }
    i = wamp1__push_ws(json, n, 0);
    if (i >= n || json[i] != '{') {
        *why = "push: the body is not a JSON object";
        return -1;
    }
    i = wamp1__push_ws(json, n, i + 1);
    while (i < n && json[i] == '"') {
        size_t ke = wamp1__push_skip(json, n, i), vs, ve;
        wamp1_json_tok kt;
        int which = -1;
        if (wamp1_json_parse(json + i, ke - i, &kt, 1, 0, NULL) == 1) {
            static const char *const names[4] = {"topic", "event", "exclude", "eligible"};
            int w;
            for (w = 0; w < 4; w++)
                if (wamp1_json_str_eq(json + i, &kt, names[w], strlen(names[w]))) which = w;
        }
        vs = wamp1__push_ws(json, n, wamp1__push_ws(json, n, ke) + 1); /* past ':' */
        ve = wamp1__push_skip(json, n, vs);
        if (which >= 0 && !(seen & (1 << which))) {
            seen |= 1 << which;
            if (which == 0) {
                wamp1_json_tok tt;
                if (wamp1_json_parse(json + vs, ve - vs, &tt, 1, 0, NULL) != 1 || tt.type != WAMP1_JSON_STRING) {
                    *why = "push: topic is not a string";
                    return -1;
                }
                if (wamp1_json_unescape(json + vs, &tt, m->topic, sizeof m->topic, &m->topic_len) != 0) {
                    *why = "push: topic longer than WAMP1_PUSH_MAX_TOPIC";
                    return -1;
                }
                m->has_topic = 1;
            } else if (which == 1) {
                m->event = json + vs;
                m->event_len = ve - vs;
            } else {
                if (wamp1__push_ids(json + vs, ve - vs, m, which - 2, why) != 0) return -1;
                if (which == 3) m->use_eligible = 1;
            }
        }
        i = wamp1__push_ws(json, n, ve);
        if (i < n && json[i] == ',') i = wamp1__push_ws(json, n, i + 1);
    }
    return 0;
}

#endif /* WAMP1_PUSH_H_INCLUDED */
