/* demo_routes.h - the routes of the WAMP demo, shared by the POSIX, Windows and lwIP demos.

   Include after wamp1.h (implementation). Call demo_add_routes(app) once (9 routes: the
   build needs WAMP1_MAX_ROUTES >= 9; it returns -1 and the error hook says so otherwise); rpc#sleep answers
   from a timer of the loop, so the loop needs nothing else. demo_websession is the hook rpc#websession calls to write the
   caller's web session (NULL: every caller has none). */
#ifndef DEMO_ROUTES_H
#define DEMO_ROUTES_H

/* Writes the caller's web session as one JSON value (null when there is none). */
static void (*demo_websession)(wamp1_conn *c, wamp1_jwriter *w);
/* more members of rpc#stats' object (NULL: none), e.g. the Redis bridge's */
static void (*demo_stats_more)(wamp1_jwriter *w);

/* ---- RPC handlers ------------------------------------------------------- */

static wamp1_call_status rpc_add(wamp1_call *call, void *user) {
    const wamp1_json_tok *t = call->toks;
    int64_t isum = 0;
    double dsum = 0;
    int ints = 1;
    unsigned i, n = call->argc;
    int first = wamp1_call_arg(call, 0);
    (void)user;
    /* one array argument: sum its elements */
    if (n == 1 && t[first].type == WAMP1_JSON_ARRAY) n = t[first].size, first = first + 1;
    else first = -1;
    for (i = 0; i < n; i++) {
        int k = first >= 0 ? wamp1_json_array_get(t, call->ntoks, first - 1, i) : wamp1_call_arg(call, i);
        int64_t iv;
        double dv;
        if (t[k].type != WAMP1_JSON_NUMBER || wamp1_json_get_double(call->json, &t[k], &dv) != 0)
            return WAMP1_CALL_INVALID_ARGUMENT;
        dsum += dv;
        if (ints && wamp1_json_get_int(call->json, &t[k], &iv) == 0 &&
            !((iv > 0 && isum > INT64_MAX - iv) || (iv < 0 && isum < INT64_MIN - iv)))
            isum += iv;
        else ints = 0;
    }
    if (ints) wamp1_jw_int(wamp1_call_result_begin(call), isum);
    else wamp1_jw_double(wamp1_call_result_begin(call), dsum);
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static void write_args(wamp1_call *call, wamp1_jwriter *w) {
    unsigned i;
    wamp1_jw_array_begin(w);
    for (i = 0; i < call->argc; i++) wamp1_jw_token(w, call->json, &call->toks[wamp1_call_arg(call, i)]);
    wamp1_jw_array_end(w);
}

static wamp1_call_status rpc_echo(wamp1_call *call, void *user) {
    (void)user;
    write_args(call, wamp1_call_result_begin(call));
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_fail(wamp1_call *call, void *user) {
    (void)user;
    write_args(call, wamp1_call_error_begin(call, "http://wamp1.dev/error#fail", "requested failure"));
    wamp1_call_error_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_session(wamp1_call *call, void *user) {
    (void)user;
    wamp1_jw_string(wamp1_call_result_begin(call), wamp1_conn_session_id(call->conn), (size_t)-1);
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_publish(wamp1_call *call, void *user) {
    char topic[WAMP1_MAX_URI + 1], full[WAMP1_MAX_URI + 1];
    size_t tl;
    int fl, ev;
    const wamp1_json_tok *t;
    (void)user;
    if (call->argc != 2) return WAMP1_CALL_INVALID_ARGUMENT;
    t = &call->toks[wamp1_call_arg(call, 0)];
    ev = wamp1_call_arg(call, 1);
    if (t->type != WAMP1_JSON_STRING || wamp1_json_unescape(call->json, t, topic, sizeof topic, &tl) != 0)
        return WAMP1_CALL_INVALID_ARGUMENT;
    fl = wamp1_conn_resolve_curie(call->conn, topic, tl, full, sizeof full);
    if (fl < 0) return WAMP1_CALL_INVALID_ARGUMENT;
    /* the event is still in the receive buffer: publish its text as it is */
    {
        const wamp1_json_tok *e = &call->toks[ev];
        const char *src = call->json + e->start - (e->type == WAMP1_JSON_STRING ? 1 : 0);
        size_t len = e->len + (e->type == WAMP1_JSON_STRING ? 2u : 0u);
        if (wamp1_app_publish(call->app, full, src, len, NULL) < 0) return WAMP1_CALL_INTERNAL;
    }
    wamp1_jw_null(wamp1_call_result_begin(call));
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

/* sleep: a deferred answer, given by a one-shot timer of the loop (wamp1_timer_start) */
#define MAX_SLEEPS (WAMP1_MAX_TIMERS < WAMP1_MAX_PENDING_CALLS ? WAMP1_MAX_TIMERS : WAMP1_MAX_PENDING_CALLS)
static struct { wamp1_call_handle h; wamp1_timer_id t; int64_t ms; unsigned next; } sleeps[MAX_SLEEPS];
static unsigned sleeps_free, sleeps_carved; /* free list (index + 1; 0: none) and slots used */

static void sleep_done(wamp1_server *s, wamp1_timer_id t, void *user) {
    wamp1_app *app = wamp1_server_app(s);
    unsigned i = (unsigned)(uintptr_t)user;
    wamp1_call call;
    (void)t;
    if (wamp1_call_resume(app, sleeps[i].h, &call) == 0) { /* the caller may have gone */
        wamp1_jw_int(wamp1_call_result_begin(&call), sleeps[i].ms);
        wamp1_call_result_end(&call);
    }
    sleeps[i].t.id = 0;
    sleeps[i].next = sleeps_free;
    sleeps_free = i + 1;
}

static wamp1_call_status rpc_sleep(wamp1_call *call, void *user) {
    int64_t ms;
    unsigned i;
    wamp1_timer_id t;
    int k = wamp1_call_arg(call, 0);
    (void)user;
    if (call->argc != 1 || call->toks[k].type != WAMP1_JSON_NUMBER ||
        wamp1_json_get_int(call->json, &call->toks[k], &ms) != 0 || ms < 0 || ms > 5000)
        return WAMP1_CALL_INVALID_ARGUMENT;
    if (!sleeps_free && sleeps_carved == MAX_SLEEPS) { /* all taken: end sleeps whose callers have gone */
        for (i = 0; i < MAX_SLEEPS; i++) {
            if (sleeps[i].t.id && !wamp1_call_live(call->app, sleeps[i].h) &&
                wamp1_timer_stop(wamp1_app_server(call->app), sleeps[i].t) == 0) {
                sleeps[i].t.id = 0;
                sleeps[i].next = sleeps_free;
                sleeps_free = i + 1;
            }
        }
    }
    if (sleeps_free) { i = sleeps_free - 1; sleeps_free = sleeps[i].next; }
    else if (sleeps_carved < MAX_SLEEPS) i = sleeps_carved++;
    else return WAMP1_CALL_INTERNAL; /* every timer is taken */
    t = wamp1_timer_start(wamp1_app_server(call->app), (uint32_t)ms, 0, sleep_done, (void *)(uintptr_t)i);
    sleeps[i].ms = ms;
    sleeps[i].t = t;
    if (t.id == 0 || (sleeps[i].h = wamp1_call_defer(call)).id == 0) {
        if (t.id) (void)wamp1_timer_stop(wamp1_app_server(call->app), t);
        sleeps[i].t.id = 0;
        sleeps[i].next = sleeps_free;
        sleeps_free = i + 1;
        return WAMP1_CALL_INTERNAL;
    }
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_websession(wamp1_call *call, void *user) {
    wamp1_jwriter *w = wamp1_call_result_begin(call);
    (void)user;
    if (demo_websession) demo_websession(call->conn, w);
    else wamp1_jw_null(w);
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

static wamp1_call_status rpc_stats(wamp1_call *call, void *user) {
    wamp1_stats s;
    wamp1_wamp_stats w;
    wamp1_jwriter *j;
    size_t i;
    (void)user;
    wamp1_server_stats(wamp1_app_server(call->app), &s);
    wamp1_app_stats(call->app, &w);
    j = wamp1_call_result_begin(call);
    wamp1_jw_object_begin(j);
    {
        const struct { const char *key; int64_t v; } items[] = {
            {"connections", (int64_t)s.connections},
            {"connections_max", (int64_t)s.connections_max},
            {"topics", (int64_t)w.topics},
            {"topics_max", (int64_t)w.topics_max},
            {"subscriptions", (int64_t)w.subscriptions},
            {"subscriptions_max", (int64_t)w.subscriptions_max},
            {"pending_calls", (int64_t)w.pending_calls},
            {"pending_calls_max", (int64_t)w.pending_calls_max},
            {"prefixes", (int64_t)w.prefixes},
            {"prefixes_max", (int64_t)w.prefixes_max},
            {"dropped_messages", (int64_t)s.dropped_messages},
            {"slow_consumers_closed", (int64_t)s.slow_consumers_closed},
            {"accepted", (int64_t)s.accepted},
            {"rejected_full", (int64_t)s.rejected_full},
            {"protocol_errors", (int64_t)s.protocol_errors},
            {"malformed", (int64_t)w.malformed},
            {"calls", (int64_t)w.calls},
            {"recv_buffers", (int64_t)s.recv_buffers_used},
            {"recv_buffers_max", (int64_t)s.recv_buffers_max},
            {"recv_small", (int64_t)s.recv_small_used},
            {"recv_small_max", (int64_t)s.recv_small_max},
            {"send_buffers", (int64_t)s.send_buffers_used},
            {"send_buffers_max", (int64_t)s.send_buffers_max},
            {"buffer_waits", (int64_t)s.buffer_waits},
            {"events_sent", (int64_t)w.events_sent},
        };
        for (i = 0; i < sizeof items / sizeof items[0]; i++) {
            wamp1_jw_key(j, items[i].key, (size_t)-1);
            wamp1_jw_int(j, items[i].v);
        }
    }
    if (demo_stats_more) demo_stats_more(j);
    wamp1_jw_object_end(j);
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

/* 0, or -1 when a route did not fit (the app's error hook names the limit). */
static int demo_add_routes(wamp1_app *app) {
    static const wamp1_handler h_add = {rpc_add, 0, 0, 0, 0}, h_echo = {rpc_echo, 0, 0, 0, 0},
                               h_fail = {rpc_fail, 0, 0, 0, 0}, h_session = {rpc_session, 0, 0, 0, 0},
                               h_publish = {rpc_publish, 0, 0, 0, 0}, h_sleep = {rpc_sleep, 0, 0, 0, 0},
                               h_websession = {rpc_websession, 0, 0, 0, 0},
                               h_stats = {rpc_stats, 0, 0, 0, 0}, h_topic = {0, 0, 0, 0, 0};
    if (wamp1_app_add_rpc(app, "http://wamp1.dev/rpc#add", &h_add) != 0) return -1;
    if (wamp1_app_add_rpc(app, "http://wamp1.dev/rpc#echo", &h_echo) != 0) return -1;
    if (wamp1_app_add_rpc(app, "http://wamp1.dev/rpc#fail", &h_fail) != 0) return -1;
    if (wamp1_app_add_rpc(app, "http://wamp1.dev/rpc#session", &h_session) != 0) return -1;
    if (wamp1_app_add_rpc(app, "http://wamp1.dev/rpc#publish", &h_publish) != 0) return -1;
    if (wamp1_app_add_rpc(app, "http://wamp1.dev/rpc#sleep", &h_sleep) != 0) return -1;
    if (wamp1_app_add_rpc(app, "http://wamp1.dev/rpc#websession", &h_websession) != 0) return -1;
    if (wamp1_app_add_rpc(app, "http://wamp1.dev/rpc#stats", &h_stats) != 0) return -1;
    if (wamp1_app_add_topic(app, "http://wamp1.dev/topic/{name}", &h_topic) != 0) return -1;
    return 0;
}

#endif /* DEMO_ROUTES_H */
