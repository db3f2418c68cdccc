/* wamp1.h - a WAMP v1 and WebSocket (RFC 6455) server in one header.
                                                       no malloc, no dependency beyond libc

   A WAMP v1 server (RPC, PubSub, CURIEs) and a conformant WebSocket (RFC 6455) server, for
   firmware (Cortex-M with lwIP) and desktop programs (Linux, Windows) alike. C99, also
   compiles as C++. All state lives in fixed pools and buffers: the library never allocates.

   CONTENTS
     1. Usage              5. API by topic
     2. Example            6. Memory use
     3. Ports              7. Limits and defined answers
     4. Configuration      8. License

   1. USAGE

   Do this in *one* C or C++ file, before including the header:

       #define WAMP1_IMPLEMENTATION
       #include "wamp1.h"
       #include "port/wamp1_posix.h"     (the port: after the implementation)

   Every other file includes "wamp1.h" alone for the declarations. Options must be the
   same in every file: put them in one header and pass -DWAMP1_CONFIG_FILE='"that.h"' to
   every compile (wamp1.h includes it first). A file compiled with other options is
   refused where it meets the library: wamp1_server_init, wamp1_app_init and the route
   calls are macros that pass the file's WAMP1_CONFIG_STAMP (a digest of the structures'
   layout); a mismatch returns -1, reports WAMP1_ERR_CONFIG and fails WAMP1_ASSERT. Define
   WAMP1_API as `static` to keep the whole library private to that one file.

   2. EXAMPLE

       static wamp1_call_status add(wamp1_call *call, void *user) {
           int64_t a, b;
           (void)user;
           if (call->argc != 2 ||
               wamp1_json_get_int(call->json, &call->toks[wamp1_call_arg(call, 0)], &a) ||
               wamp1_json_get_int(call->json, &call->toks[wamp1_call_arg(call, 1)], &b))
               return WAMP1_CALL_INVALID_ARGUMENT;
           wamp1_jw_int(wamp1_call_result_begin(call), a + b);
           wamp1_call_result_end(call);
           return WAMP1_CALL_OK;
       }
       int main(void) {
           static wamp1_posix posix; static wamp1_app app;
           static const wamp1_handler h_add = {add}, broker = {0};
           wamp1_port port; wamp1_app_config cfg = {0};
           wamp1_posix_init(&posix, &port);
           cfg.server.port = &port; cfg.server.listen_port = 8080;
           wamp1_app_init(&app, &cfg);
           wamp1_app_add_rpc(&app, "http://example.com/calc#add", &h_add);
           wamp1_app_add_topic(&app, "http://example.com/chat/{room}", &broker);
           return wamp1_app_run(&app);
       }

   A plain WebSocket server: fill a wamp1_config (cb.on_message, ...) and call
   wamp1_server_init / wamp1_server_listen / wamp1_server_run; define WAMP1_NO_WAMP to leave
   the WAMP layer out. Firmware calls wamp1_server_poll(&s, 0) from its main loop.

   3. PORTS

   The loop reaches the system only through a wamp1_port (listen, accept, recv, send,
   shutdown, close, readiness, now_ms, random, wake_fd/wake/wake_drain, lock/unlock).
   Readiness comes one of two ways. An event-driven port (epoll) has watch/unwatch/
   wait_events: the loop registers a socket once, with a tag, when it opens; changes it only
   when the wish to write (or to read: backpressure) changes; unwatches it before close; and
   wait_events returns just the ready sockets. A readiness-list port (poll, select, lwIP)
   has wait(): the loop keeps the watched set itself, dense and changed in place, and hands
   it over. Either way the loop's own work per iteration follows the ready sockets, the due
   timers and the connections touched (a list of them), never the pool: idle connections
   cost nothing but the kernel's part of a poll()/select() on readiness-list ports. Shipped:
     port/wamp1_posix.h         POSIX sockets, IPv4 and IPv6; epoll on Linux, poll()
                                elsewhere or with -DWAMP1_POSIX_POLL; -lpthread
     port/wamp1_win32.h         Winsock 2 and select(); -lws2_32 -lbcrypt; include it once
                                before wamp1.h too (see examples/windows)
     port/wamp1_lwip_sockets.h  lwIP socket API with lwip_poll or lwip_select (RTOS)
     port/wamp1_lwip_raw.h      lwIP raw API, NO_SYS=1 bare metal, from the main loop
     port/wamp1_mbedtls.h       wss://: wraps any port with mbedTLS (2.28 and 3.x)
     port/wamp1_testport.h      in memory, with a fake clock: unit tests and fuzzing
   Each sets itself up the same way, int NAME_init(state, wamp1_port *port), 0 or -1
   (the TLS wrapper also takes the port it wraps), and uses only the public API, so it may
   be included in a file other than the implementation's. A firmware project can write its
   own port in one file.
   Optional parts, in the same file after the implementation (firmware leaves them out):
     port/wamp1_http.h          plain HTTP for cfg.cb.on_http: files from a table in memory
                                (gzip variant, ETag/304, HEAD) or a directory; 404, 405
     port/wamp1_cra.h           WAMP-CRA (authreq/auth, permissions on CALL, SUBSCRIBE and
                                PUBLISH) with SHA-256, HMAC-SHA256 and PBKDF2-HMAC-SHA256
     port/wamp1_redis.h         not a port: servers share topics through Redis pub/sub
                                (a bridge, see Bridge below), over any port; also takes
                                outside publishers' plain JSON (port/wamp1_push.h)
     port/wamp1_publisher.h     POST /publish for cfg.cb.on_http: a signed (HMAC-SHA256,
                                nonce, time window) or bearer-token publish from outside

   Writing a port (the struct wamp1_port below has the contract of each call):
   - Sockets are small integers or handles of yours (wamp1_socket); every call is
     non-blocking except the wait, which blocks at most timeout_ms (0: not at all; -1:
     until something is ready or wake() is called). recv/send return WAMP1_IO_WOULDBLOCK
     instead of blocking and may do less than asked; the loop keeps the rest.
   - Threads: the loop calls every function from its own thread, never two at once, and
     never from inside another of them. Only wake() (and lock/unlock around the cross-thread
     queue) may be called from other threads; wake() must be async-signal-safe if
     wamp1_server_stop is called from a signal handler. A bare-metal port sets wake() to a
     flag and lock/unlock to interrupts off (port/wamp1_lwip_raw.h).
   - Clock: now_ms is monotonic milliseconds; 32-bit wrap is fine (timers compare with
     wrap-safe differences), jumps backwards are not. Random: random() feeds session ids
     and (with WAMP-CRA) challenges: a hardware RNG or the OS's; return -1 when it failed
     (session ids then come from the clock and a counter, reported as WAMP1_ERR_IO).
   - Memory and stack: the port owns its state (one struct, static or the caller's); the
     library needs no heap. The loop's deepest path on Cortex-M4 is about 2 KiB of stack
     (6. Memory use), plus what your wait and your handlers use.
   - Worked examples: port/wamp1_posix.h (event-driven, epoll), port/wamp1_win32.h
     (readiness list, select), port/wamp1_lwip_raw.h (callbacks into a table, a wait that
     never blocks), examples/lwip/qemu-mps2 (a LAN9118 driver, SysTick and WFI around the
     raw port) and port/wamp1_testport.h (in memory, a clock of its own: what tests use).

   4. CONFIGURATION

   Compile-time macros (define before including; every one has a default):
     WAMP1_API                  storage class of the API (extern)
     WAMP1_ASSERT(c)            assert(c); with WAMP1_NO_STDIO_FILES (firmware) a trap
                                instead, so that no stdio is linked
     WAMP1_LOG(msg)             nothing; called with every error the hook is told
     WAMP1_MAX_CONNECTIONS      16      connection pool (index + generation handles)
     WAMP1_RECV_BUFFER_SIZE     4096    default receive buffer per connection
     WAMP1_SEND_BUFFER_SIZE     4096    default send buffer per connection
     WAMP1_STATIC_MEMORY_SIZE   pool * (recv + send); the buffer block used when the
                                configuration gives none (0: none, then cfg.memory is needed)
     WAMP1_SMALL_DEFAULTS       1 when both buffer sizes are <= 2048, else 0: a small build,
                                where the defaults marked "small:" below apply instead
     WAMP1_MAX_HEADER_SIZE      4096    HTTP header block (431 beyond)
     WAMP1_MAX_HEADERS          32      header lines (431 beyond)
     WAMP1_HANDSHAKE_TIMEOUT_MS 10000   slow-loris guard
     WAMP1_CLOSE_TIMEOUT_MS     3000    wait for the peer's close frame / FIN
     WAMP1_REJECT_SLOTS         8       sockets answered 503 and drained when the pool is full
                                (small: 2; 0: answered 503 and closed at once)
     WAMP1_MAX_TIMERS           32      application timers, wamp1_timer_start (small: 2)
     WAMP1_MAX_WATCHES          8       application sockets in the loop, wamp1_watch (small: 1)
     WAMP1_EVENT_BATCH          256     ready sockets handled per wait (small: 8); more wait
                                for the next iteration
     WAMP1_MAX_ATTRS            4/conn  attribute records (small: 1/conn; 0: no attribute
                                store, setters return -2); WAMP1_MAX_ATTRS_PER_CONN 8
     WAMP1_ATTR_KEY_SIZE        16      WAMP1_ATTR_VALUE_SIZE 32 (small: 16) (bytes values)
     WAMP1_COUNTER              uint64_t  statistics counters (small: uint32_t, they wrap)
     WAMP1_SOCKET               int     (SOCKET on Windows, set by port/wamp1_win32.h);
                                WAMP1_INVALID_SOCKET -1 (INVALID_SOCKET on Windows)
     WAMP1_MAX_TOPICS           16      topic pool
     WAMP1_MAX_SUBSCRIPTIONS    4/conn  subscription records
     WAMP1_MAX_URI              128     longest (expanded) URI (small: 48)
     WAMP1_MAX_PREFIXES         2/conn  PREFIX records (small: 1/conn);
                                WAMP1_MAX_PREFIXES_PER_CONN 8
     WAMP1_MAX_PREFIX_NAME      16      WAMP1_MAX_PREFIX_URI 96 (small: 40)
     WAMP1_MAX_PENDING_CALLS    16      deferred calls (small: 4); WAMP1_MAX_CALLID 64
                                (small: 32) (bytes, JSON)
     WAMP1_MAX_ROUTES 16, WAMP1_MAX_HANDLERS 16, WAMP1_MAX_MIDDLEWARE 4 (small: 8, 8, 2),
                                WAMP1_MAX_PARAMS 4
     WAMP1_JSON_TOKENS          128     tokens of one WAMP message (small: 32)
     WAMP1_JSON_SMALL_TOKENS    0       16-bit JSON tokens, 10 instead of 20 bytes; documents
                                of 64 KiB or more are refused (small: 1)
     WAMP1_JSON_DEPTH           16      JSON nesting of a WAMP message
     WAMP1_QUEUE_SLOTS          8       cross-thread queue (small: 2); WAMP1_QUEUE_SLOT_SIZE
                                256 (small: 96)
     WAMP1_SESSION_ID_LEN       16      WELCOME sessionId characters (at least 16: 12 random, 4 a slot tag)
     WAMP1_SERVER_IDENT         "wamp1.h/0.1"
     WAMP1_BRIDGE               1 (small: 0)  the bridge hooks (wamp1_app_set_bridge)
     WAMP1_HTTP_BODY            1 (small: 0)  POST with a Content-Length body reaches on_http
                                (req.body, req.body_len); 0: POST gets 405
     WAMP1_HTTP_MAX_BODY        16384   the largest POST body (413 beyond; also bounded by
                                recv_buffer_size less the header block)
     WAMP1_PHP_MAX_DEPTH        30      nesting of a PHP session
   Feature switches: WAMP1_NO_WAMP (plain WebSocket server), WAMP1_NO_SESSION (no session
   link or PHP reader), WAMP1_NO_STDIO_FILES (no fopen: firmware), WAMP1_NO_ERROR_TEXT (every
   error reason is "": hooks, WAMP1_LOG and close frames get the wamp1_error code alone;
   HTTP errors go out with an empty reason phrase and no body), WAMP1_NO_DEFAULT_LINKS (no
   blocklist and origin links: wamp1_server_init fails when cfg.blocklist or
   cfg.origin_count is set). `make size` builds firmware with WAMP1_NO_ERROR_TEXT, WAMP1_NO_DEFAULT_LINKS,
   WAMP1_REJECT_SLOTS=0 and WAMP1_MAX_ATTRS=0. With -Os, frames are unmasked a byte at a
   time.

   Run-time configuration is a struct in which zero means "default": wamp1_config for the
   WebSocket server (address, port, buffer sizes and memory, limits, timeouts, keepalive,
   subprotocol, slow-consumer policy, the default chain's links, callbacks) and
   wamp1_app_config for a WAMP application (the server's config plus WAMP switches, routes,
   resolver, error URIs and callbacks). In an application WAMP is the server's protocol
   layer, beside the user: the callbacks and user pointer of cfg.server.cb / cfg.server.user
   keep working (on_open runs after WELCOME is queued, on_message sees every message after
   WAMP handled it, on_close runs while the session's WAMP state is still there), and
   wamp1_server_user() returns cfg.server.user; wamp1_server_app() finds the app.

   5. API BY TOPIC

   Server        wamp1_server_init/listen/poll/run/stop/shutdown/wake, _stats, _port,
                 _set_max_connections, _next_conn, wamp1_server_memory_size
   Loop          wamp1_timer_start/stop (one-shot, periodic), wamp1_watch/_events, unwatch
                 (an application's own socket: a database or broker client)
   Chain         wamp1_link (on_connect/on_request/on_open/on_message/on_close/on_error),
                 wamp1_server_add_link/remove_link; default links from wamp1_config:
                 blocklist (wamp1_blocklist_*, wamp1_cidr_*), origins
                 (wamp1_origin_rule_parse, wamp1_origin_allowed), sessions
                 (wamp1_session_provider, wamp1_php_files_provider)
   Connections   wamp1_conn_send/_text/_binary/_frame, wamp1_conn_close,
                 wamp1_conn_http_respond/_ex, wamp1_conn_handle/lookup (safe handles),
                 wamp1_conn_peer, wamp1_conn_request (the kept upgrade request),
                 wamp1_conn_release_request,
                 wamp1_conn_session / _has_session, wamp1_conn_set_user/user
   Attributes    wamp1_attr_set_/get_ int, double, ptr, bytes; _type_of, _remove
   Plain HTTP    cfg.cb.on_http (after the links), wamp1_conn_http_respond/_ex;
                 port/wamp1_http.h: wamp1_http_serve(c, req, &site) (wamp1_http_file table)
   WAMP-CRA      port/wamp1_cra.h: wamp1_cra_attach(&app, &cra) (cra.lookup gives a
                 wamp1_cra_key), wamp1_cra_session_key; wamp1_sha256, _hmac_sha256, _pbkdf2_sha256
   WAMP app      wamp1_app_init/listen/poll/run/stop/shutdown, wamp1_app_stats,
                 wamp1_app_server, wamp1_server_app, wamp1_conn_app
   Routing       wamp1_app_add_rpc/_topic/_route/_handler/_middleware,
                 wamp1_route_match, wamp1_match_get; cfg.resolve, cfg.error_uri
   Calls         wamp1_call_arg, wamp1_call_arg_int/_double/_bool/_str,
                 wamp1_call_result_begin/end/json,
                 wamp1_call_error/_begin/_end, wamp1_call_defer/resume
   PubSub        wamp1_publish_broker, wamp1_app_publish (exclude/eligible by handle),
                 wamp1_conn_event, wamp1_app_topic_subscribers/_next, wamp1_conn_subscribed
   Sessions      wamp1_conn_session_id, wamp1_conn_resolve_curie
   Threads       wamp1_app_post, wamp1_app_publish_async (any thread)
   Bridge        wamp1_app_set_bridge, wamp1_bridge_event_sid, wamp1_app_bridge_deliver:
                 every publish also goes to the bridge after local delivery, with its
                 exclude/eligible lists as session ids, and each server applies them to
                 its own subscribers (port/wamp1_redis.h: Redis pub/sub between servers)
   JSON          wamp1_json_parse (strict, in place), _array_get, _object_get, _str_eq,
                 _unescape, _get_int, _get_double; writer wamp1_jw_*
   Helpers       wamp1_addr_parse/format, wamp1_cookie_get, wamp1_query_get,
                 wamp1_php_session_*, wamp1_utf8_validate, wamp1_sha1, wamp1_base64_encode,
                 wamp1_ws_accept_key, wamp1_frame_header, wamp1_close_code_valid
   Each declaration below carries its own comment.

   6. MEMORY USE

   wamp1_server (or wamp1_app, which contains it) holds every pool; allocate it statically.
   Its per-connection tables are touched only as slots are first used.
   Buffers: cfg.memory (wamp1_server_memory_size(&cfg) bytes), or the static block: a pool
   of cfg.recv_buffers receive buffers and one of cfg.send_buffers send buffers (default:
   one each per connection, so they never run dry and firmware stays deterministic).
   LENT BUFFERS. A connection holds a buffer only while it needs one: a receive buffer while
   it has a partial frame or message (or a kept request, see below), a send buffer while
   output waits for the socket. Reads land in a buffer taken for them; whole frames are
   handled in place there, and it goes back at once when nothing is left. So an idle
   session costs its records alone, buffers are reused most-recently-freed first (their
   memory stays warm; memory never lent is never touched), and fewer buffers than
   connections serve many mostly idle sessions. An empty pool has defined answers: a
   connection that cannot get a receive buffer, or whose answers could not get a send
   buffer, is not read until one comes back (the longest waiting first; nothing is lost,
   stats.buffer_waits counts it); output for a connection that holds no send buffer while
   the pool is empty is refused: WAMP1_ERR_LIMIT is reported and the slow-consumer policy
   applies (drop and count, or close). wamp1_stats shows the pools' use.
   Small and large: with cfg.recv_small_size set, reads start in a buffer of that size (a
   third pool, recv_small_buffers, default one per connection) and a message or header
   block that outgrows it moves, with the kept request, to a full-size one (recv_buffers of
   recv_buffer_size, which can then be far fewer than the connections), waiting for one
   when none is free. The demo uses 4 KiB small buffers and 4096 of 64 KiB. A kept upgrade
   request (cfg.drop_request = 0, needed for cfg.sessions) pins its receive buffer for the
   session's life until wamp1_conn_release_request(); many idle sessions want drop_request.
   On x86-64 a connection costs 152 bytes (160 in pools above 65535; its buffers only while
   lent), 10 bytes of timer heap and list entries (12 more with a readiness-list port:
   16 and 12 in large pools), and 22 bytes of WAMP state; a topic WAMP1_MAX_URI + 12, a subscription 10, a prefix 116, an attribute 56,
   a pending call 72 bytes, a JSON token 20 (defaults; small builds: prefix 60, attribute
   40, pending call 40, token 10). `make size` prints the embedded figures.
   Stack: the firmware loop on Cortex-M4 (`make size`'s configuration, lwIP raw API, the
   demo's routes; `make qemu`) peaks at 1,888 bytes measured on the board, 2,160 bytes on
   the -fstack-usage worst path (wamp1_server_poll 760, a handler's own frame on top).

   7. LIMITS AND DEFINED ANSWERS

   Handshake: 405 (not GET, with Allow; HEAD and POST only with on_http, an upgrade GET
   only), 411/413/400 (POST: no Content-Length or chunked / body beyond WAMP1_HTTP_MAX_BODY /
   a bad length), 505 (HTTP below 1.1), 400 (malformed request
   line or header, no or several Host, Connection without upgrade, bad key), 431 (header block
   or lines beyond the limits), 426 (no Upgrade: websocket, version not 13, required
   subprotocol not offered), 403 (blocked, origin), 503 (pool full), any status a link returns.
   Frames: 1002 (protocol), 1007 (invalid UTF-8, fail-fast), 1009 (frame or message beyond the
   limit, refused at its header), 1008 (slow consumer, WAMP1_SLOW_CLOSE), 1001 (keepalive
   timeout, shutdown). Timers fire at the earliest on the next millisecond; a periodic timer
   that falls behind runs once, not once per period missed. Handles of connections carry
   16 bits of slot index (20 bits when WAMP1_MAX_CONNECTIONS is above 65535, leaving 12 bits
   of generation). A message can be at most recv_buffer_size - 256 bytes minus the kept
   request (cfg.drop_request gives that back); a request larger than half of the receive
   buffer is not kept. HTTP method names are case-sensitive ("get" gets 405). WAMP: see wamp1_app_config for the malformed
   input policy; full pools ignore the message and report WAMP1_ERR_LIMIT; every rejected
   input reaches cfg.cb.on_error / wamp1_app_config.on_error with a reason. Setup calls
   beyond a table (wamp1_app_add_route/_rpc/_topic/_handler/_middleware, wamp1_server_listen,
   wamp1_timer_start, wamp1_watch) return -1 (0 handle) and report WAMP1_ERR_LIMIT naming
   the macro to raise; an init that refuses its configuration reports WAMP1_ERR_CONFIG with
   the reason. wamp1_server_shutdown / wamp1_app_shutdown leave the server ready
   for another init, on the same port and the built-in block.

   8. LICENSE

   MIT; see the end of this file.
*/
#ifndef WAMP1_H_INCLUDED
#define WAMP1_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ======================================================================== */
/*  Configuration                                                           */
/* ======================================================================== */

/* One set of options for every file: -DWAMP1_CONFIG_FILE='"my_wamp1_config.h"' makes each
   file that includes wamp1.h read the same macros first. */
#ifdef WAMP1_CONFIG_FILE
#include WAMP1_CONFIG_FILE
#endif

#ifndef WAMP1_API
#define WAMP1_API extern
#endif
#ifndef WAMP1_MAX_CONNECTIONS
#define WAMP1_MAX_CONNECTIONS 16
#endif
#ifndef WAMP1_RECV_BUFFER_SIZE
#define WAMP1_RECV_BUFFER_SIZE 4096
#endif
#ifndef WAMP1_SEND_BUFFER_SIZE
#define WAMP1_SEND_BUFFER_SIZE 4096
#endif
/* Small builds (both buffers at most 2 KiB) get smaller default tables; see CONFIGURATION. */
#ifndef WAMP1_SMALL_DEFAULTS
#if WAMP1_RECV_BUFFER_SIZE <= 2048 && WAMP1_SEND_BUFFER_SIZE <= 2048
#define WAMP1_SMALL_DEFAULTS 1
#else
#define WAMP1_SMALL_DEFAULTS 0
#endif
#endif
#ifndef WAMP1_STATIC_MEMORY_SIZE
#define WAMP1_STATIC_MEMORY_SIZE \
    (WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE))
#endif
#ifndef WAMP1_MAX_HEADER_SIZE
#define WAMP1_MAX_HEADER_SIZE 4096
#endif
#ifndef WAMP1_MAX_HEADERS
#define WAMP1_MAX_HEADERS 32
#endif
#ifndef WAMP1_HTTP_BODY
#define WAMP1_HTTP_BODY (!WAMP1_SMALL_DEFAULTS)
#endif
#ifndef WAMP1_HTTP_MAX_BODY
#define WAMP1_HTTP_MAX_BODY 16384
#endif
#ifndef WAMP1_HANDSHAKE_TIMEOUT_MS
#define WAMP1_HANDSHAKE_TIMEOUT_MS 10000
#endif
#ifndef WAMP1_CLOSE_TIMEOUT_MS
#define WAMP1_CLOSE_TIMEOUT_MS 3000
#endif
#ifndef WAMP1_MESSAGE_TIMEOUT_MS
#define WAMP1_MESSAGE_TIMEOUT_MS 10000
#endif
#ifndef WAMP1_REJECT_SLOTS
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_REJECT_SLOTS 2
#else
#define WAMP1_REJECT_SLOTS 8
#endif
#endif
#ifndef WAMP1_MAX_LISTENERS
#define WAMP1_MAX_LISTENERS 2
#endif
#ifndef WAMP1_MAX_TIMERS
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_MAX_TIMERS 2
#else
#define WAMP1_MAX_TIMERS 32
#endif
#endif
#ifndef WAMP1_MAX_WATCHES
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_MAX_WATCHES 0
#else
#define WAMP1_MAX_WATCHES 8
#endif
#endif
#ifndef WAMP1_EVENT_BATCH
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_EVENT_BATCH 4
#else
#define WAMP1_EVENT_BATCH 256
#endif
#endif
#ifndef WAMP1_MAX_ATTRS
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_MAX_ATTRS WAMP1_MAX_CONNECTIONS
#else
#define WAMP1_MAX_ATTRS (WAMP1_MAX_CONNECTIONS * 4)
#endif
#endif
#ifndef WAMP1_MAX_ATTRS_PER_CONN
#define WAMP1_MAX_ATTRS_PER_CONN 8
#endif
#ifndef WAMP1_ATTR_KEY_SIZE
#define WAMP1_ATTR_KEY_SIZE 16
#endif
#ifndef WAMP1_ATTR_VALUE_SIZE
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_ATTR_VALUE_SIZE 16
#else
#define WAMP1_ATTR_VALUE_SIZE 32
#endif
#endif
#ifndef WAMP1_COUNTER
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_COUNTER uint32_t
#else
#define WAMP1_COUNTER uint64_t
#endif
#endif
#ifndef WAMP1_SOCKET
#define WAMP1_SOCKET int
#endif
#ifndef WAMP1_INVALID_SOCKET
#define WAMP1_INVALID_SOCKET (-1)
#endif
#ifndef WAMP1_LOG
#define WAMP1_LOG(msg) ((void)0)
#endif
/* configurations that cannot work are refused here rather than at run time */
#if WAMP1_MAX_CONNECTIONS < 1 || WAMP1_MAX_CONNECTIONS > 0xFFFFF
#error "WAMP1_MAX_CONNECTIONS must be 1..1048575 (20 bits of slot index in a handle)"
#endif
#if WAMP1_RECV_BUFFER_SIZE < 512 || WAMP1_SEND_BUFFER_SIZE < 256
#error "WAMP1_RECV_BUFFER_SIZE must be at least 512 and WAMP1_SEND_BUFFER_SIZE at least 256"
#endif

/* ======================================================================== */
/*  Types                                                                   */
/* ======================================================================== */

#ifdef __cplusplus
extern "C" {
#endif

typedef WAMP1_SOCKET wamp1_socket;
typedef struct wamp1_server wamp1_server;
typedef struct wamp1_conn wamp1_conn;

/* A handle to a connection that stays safe to keep: index + generation. */
typedef struct wamp1_conn_id { uint32_t id; } wamp1_conn_id;

/* A peer address: IPv4 (family 4, bytes[0..3]) or IPv6 (family 6). */
typedef struct wamp1_addr {
    uint8_t family;
    uint8_t bytes[16];
    uint16_t port;
} wamp1_addr;

/* ---- begin json decl ---- */
/* ---- JSON: strict tokenizer, accessors and writer ----------------------------------------
 *
 * Tokenizer: wamp1_json_parse() checks a whole document against RFC 8259 and describes it
 * with an array of tokens that point into the source text; nothing is copied or allocated.
 * Strict: exactly one value, optional whitespace around it (space, tab, CR, LF only); no
 * comments, trailing commas, single quotes, leading zeros, "+1", ".5", "1.", hex, NaN or
 * Infinity; object keys must be strings; no raw control characters (< 0x20) in strings; only
 * the escapes \" \\ \/ \b \f \n \r \t and \uXXXX. Bytes >= 0x80 are passed through unchecked
 * (the WebSocket layer has validated the UTF-8 already). Input must be shorter than 4 GiB.
 *
 * Tokens are stored in document order (preorder): a container, then its children. An object
 * member is two tokens, the key (a STRING) and its value, so for every container
 * toks[i + 1] is its first child (when size > 0) and toks[child].next the child after it.
 *
 * Unescaping (wamp1_json_str_eq, wamp1_json_unescape, wamp1_json_object_get) yields UTF-8. A
 * \uXXXX surrogate pair becomes one 4-byte character; a lone or mismatched surrogate (legal
 * JSON syntax, but not a character) becomes U+FFFD, the replacement character, rather than an
 * error. \u0000 yields a NUL byte inside the value.
 *
 * Numbers (wamp1_json_get_double, wamp1_jw_double) are converted with integer arithmetic
 * only: no strtod, no printf, no floating-point library, no 64-bit division helper. Decimal
 * to double is correctly rounded (to nearest, ties to even) for up to 19 significant digits;
 * longer mantissas are cut to 19 digits with a sticky bit, which is still correctly rounded
 * except for inputs within 1e-19 (relative) of a halfway point between two doubles, where the
 * result can be 1 ulp off. Both use a small fixed-size bignum on the stack: about 400 bytes
 * (wamp1_json_get_double) and 500 bytes (wamp1_jw_double) on Cortex-M. The rest of the JSON
 * layer needs under 100 bytes of stack.
 *
 * Memory: a token is 20 bytes (10 with WAMP1_JSON_SMALL_TOKENS); a document needs one token per value and one per object key
 * (the WAMP CALL [2,"id","uri",1,2] is 6 tokens).
 */

typedef enum wamp1_json_type {
    WAMP1_JSON_NONE = 0,
    WAMP1_JSON_NULL,
    WAMP1_JSON_FALSE,
    WAMP1_JSON_TRUE,
    WAMP1_JSON_NUMBER,
    WAMP1_JSON_STRING,
    WAMP1_JSON_ARRAY,
    WAMP1_JSON_OBJECT
} wamp1_json_type;

/* Errors returned by wamp1_json_parse (always negative). */
enum {
    WAMP1_JSON_ESYNTAX = -1,   /* not JSON (also: truncated input, input of 4 GiB or more;
                                  64 KiB or more with WAMP1_JSON_SMALL_TOKENS) */
    WAMP1_JSON_EDEPTH = -2,    /* arrays/objects nested deeper than max_depth */
    WAMP1_JSON_ETOKENS = -3,   /* more tokens than max_toks */
    WAMP1_JSON_ETRAILING = -4  /* a complete value followed by more than whitespace */
};

/* Compact tokens (WAMP1_JSON_SMALL_TOKENS, on by default in small builds): 16-bit fields,
 * 10 bytes a token; wamp1_json_parse then refuses documents of 64 KiB or more
 * (WAMP1_JSON_ESYNTAX) and uses at most 65535 tokens. */
#ifndef WAMP1_JSON_SMALL_TOKENS
#if defined(WAMP1_SMALL_DEFAULTS) && WAMP1_SMALL_DEFAULTS
#define WAMP1_JSON_SMALL_TOKENS 1
#else
#define WAMP1_JSON_SMALL_TOKENS 0
#endif
#endif
#if WAMP1_JSON_SMALL_TOKENS
typedef uint16_t wamp1_json_off;
#define WAMP1__JSON_MAX_LEN 0xFFFFu
#else
typedef uint32_t wamp1_json_off;
#endif

typedef struct wamp1_json_tok {
    uint8_t type;         /* wamp1_json_type */
    wamp1_json_off start; /* byte offset in the source; for strings just after the opening quote */
    wamp1_json_off len;   /* bytes: strings without their quotes (still escaped), arrays and
                             objects with their brackets, numbers and literals as written */
    wamp1_json_off size;  /* arrays: elements; objects: members (a key+value pair counts 1); else 0 */
    wamp1_json_off next;  /* index of the first token after this token's subtree */
} wamp1_json_tok;

/* Tokenizes src[0..len). max_depth limits the nesting of arrays/objects (1 allows a
 * top-level array of scalars, 0 allows only a scalar document). Returns the number of tokens
 * (>= 1; toks[0] is the document's value) or a negative WAMP1_JSON_E* code; on error
 * *err_off (if err_off is not NULL) gets the byte offset where the problem was found (len
 * for truncated input). On error the contents of toks are unspecified. With toks NULL the
 * document is only checked (max_toks is ignored, nesting is limited to 64) and 1 means valid. */
WAMP1_API int wamp1_json_parse(const char *src, size_t len, wamp1_json_tok *toks, int max_toks,
                               int max_depth, size_t *err_off);

/* Checks src[0..len) like wamp1_json_parse without storing tokens (it is wamp1_json_parse
 * with toks NULL; nesting up to 64 and max_depth): 0 when it is one valid JSON document,
 * else a negative WAMP1_JSON_E* code. */
WAMP1_API int wamp1_json_validate(const char *src, size_t len, int max_depth);
/* Token index of element `index` of array token `arr`, or -1 (not an array, out of range). */
WAMP1_API int wamp1_json_array_get(const wamp1_json_tok *toks, int ntoks, int arr, uint32_t index);

/* Token index of the value whose (unescaped) key equals the NUL-terminated `key` in object
 * token `obj`, or -1. With duplicate keys the first one wins. */
WAMP1_API int wamp1_json_object_get(const char *src, const wamp1_json_tok *toks, int ntoks, int obj,
                                    const char *key);

/* 1 if string token t, unescaped, equals s[0..n), else 0 (also 0 for non-string tokens).
 * Unescapes on the fly: no buffer needed. */
WAMP1_API int wamp1_json_str_eq(const char *src, const wamp1_json_tok *t, const char *s, size_t n);

/* Unescapes string token t into out and NUL-terminates it. Returns 0 and *outlen (may be NULL)
 * = bytes written without the NUL; or -1 if t is not a string or the result plus NUL does not
 * fit in outsize: then out holds the characters that fitted (whole characters only,
 * NUL-terminated when outsize > 0) and *outlen the length the full value needs (without NUL).
 * The unescaped value is never longer than t->len. */
WAMP1_API int wamp1_json_unescape(const char *src, const wamp1_json_tok *t, char *out, size_t outsize,
                                  size_t *outlen);

/* Integer value of number token t. 0 on success; -1 if t is not a number, has a fractional
 * part, or is outside int64_t. "2.0", "1e3", "-0" and "0.5e1" are integers; "2.5" is not. */
WAMP1_API int wamp1_json_get_int(const char *src, const wamp1_json_tok *t, int64_t *out);

/* Double value of number token t (see "Numbers" above). 0 on success; -1 if t is not a
 * number, or if the magnitude is too large for a double (*out is then +-infinity).
 * Values too small for a subnormal become +-0 and succeed. */
WAMP1_API int wamp1_json_get_double(const char *src, const wamp1_json_tok *t, double *out);

/* Writer: appends compact JSON to a caller's buffer. Commas between array elements and object
 * members are inserted automatically; in an object call wamp1_jw_key() before each value
 * (the writer does not check that keys and values alternate). If the text would not fit in
 * cap bytes, or the calls are unbalanced (an end without a begin, which also fires
 * WAMP1_ASSERT, or nesting deeper than WAMP1_JW_MAX_DEPTH = 32 arrays/objects), `overflow`
 * is set and nothing more is written; nothing is ever written at or beyond buf[cap]. The
 * output is not NUL-terminated; its length is `len`. Check `overflow` once at the end. */
#define WAMP1_JW_MAX_DEPTH 32

typedef struct wamp1_jwriter {
    char *buf;
    size_t cap, len;
    int overflow;        /* nonzero once anything failed; then the writer writes nothing more */
    uint32_t need_comma; /* bit d-1: the container at depth d already holds a value */
    uint8_t depth;       /* open arrays/objects */
    uint8_t after_key;   /* a key was just written: the next value takes no comma */
} wamp1_jwriter;

WAMP1_API void wamp1_jw_init(wamp1_jwriter *w, char *buf, size_t cap);
WAMP1_API void wamp1_jw_array_begin(wamp1_jwriter *w);
WAMP1_API void wamp1_jw_array_end(wamp1_jwriter *w);
WAMP1_API void wamp1_jw_object_begin(wamp1_jwriter *w);
WAMP1_API void wamp1_jw_object_end(wamp1_jwriter *w);
/* An object key; escaped like wamp1_jw_string; n may be (size_t)-1 for NUL-terminated k. */
WAMP1_API void wamp1_jw_key(wamp1_jwriter *w, const char *k, size_t n);
/* A string value. Escapes ", \ and control characters (\b \f \n \r \t, others as \u00XX);
 * other bytes, UTF-8 included, pass through. n may be (size_t)-1 for NUL-terminated s. */
WAMP1_API void wamp1_jw_string(wamp1_jwriter *w, const char *s, size_t n);
WAMP1_API void wamp1_jw_int(wamp1_jwriter *w, int64_t v);
/* The shortest of 15, 16 or 17 significant digits (each correctly rounded; for subnormals
 * from 1 digit up) that converts back to exactly v, so any correct JSON parser reads back the
 * same double. Notation as JavaScript's: fixed for 1e-6 <= |v| < 1e21 ("0.1", "100",
 * "0.000001", "123456789012345680000"), so integral values up to 2^53 print as integers;
 * otherwise exponent notation without "+" ("1e-7", "1.5e300", "1e21"). -0 prints "0";
 * NaN and infinities become null. */
WAMP1_API void wamp1_jw_double(wamp1_jwriter *w, double v);
WAMP1_API void wamp1_jw_bool(wamp1_jwriter *w, int v);
WAMP1_API void wamp1_jw_null(wamp1_jwriter *w);
/* A complete JSON value json[0..n) copied verbatim (not checked), with comma handling. */
WAMP1_API void wamp1_jw_raw(wamp1_jwriter *w, const char *json, size_t n);
/* Re-emits parsed token t of src verbatim: strings get their quotes back (their escapes are
 * kept as written), arrays and objects are copied with all their contents. */
WAMP1_API void wamp1_jw_token(wamp1_jwriter *w, const char *src, const wamp1_json_tok *t);
/* ---- end json decl ---- */

/* ---- begin mw decl ---- */
/* ==========================================================================
 * Middleware helpers: peer addresses and blocklists, Origin allow-lists,
 * cookies and query strings, read-only PHP file sessions.
 * None of these functions allocate memory or keep state of their own: the
 * blocklist edits storage that the caller owns, and only the session file
 * reader does I/O.
 * ========================================================================== */


/* Parses an IPv4 dotted quad (exactly four decimal parts 0-255, no leading
 * zeros: "01.2.3.4" is rejected) or an IPv6 address in any RFC 4291 text form
 * ("::", "1::", "::ffff:1.2.3.4", upper or lower case hex). No brackets, no
 * zone ids ("fe80::1%eth0"), no port. s needs no NUL; n is its length.
 * Returns 0, or -1 when the text is not exactly one address. */
WAMP1_API int wamp1_addr_parse(const char *s, size_t n, wamp1_addr *out);

/* Writes the address as text with a terminating NUL: dotted quad for IPv4,
 * RFC 5952 for IPv6 (lower case, no leading zeros, the longest run of two or
 * more zero groups - the first one on a tie - written "::"), and IPv4-mapped
 * addresses as "::ffff:1.2.3.4". The port is not written. 46 bytes are always
 * enough. Returns the length without the NUL, or -1 when outsize is too small
 * (out then holds an empty string if outsize > 0) or the family is unknown. */
WAMP1_API int wamp1_addr_format(const wamp1_addr *a, char *out, size_t outsize);

/* --- CIDR ranges and the blocklist ---------------------------------------- */
typedef struct wamp1_cidr {
    wamp1_addr addr;   /* host bits beyond the prefix are zero */
    uint8_t bits;      /* prefix length: 0..32 for IPv4, 0..128 for IPv6 */
} wamp1_cidr;

/* "ADDR" (a single host: /32 or /128) or "ADDR/BITS", BITS written in decimal
 * without leading zeros. Bits beyond the prefix are cleared, so "10.1.2.3/8"
 * is stored as 10.0.0.0/8. Returns 0 or -1. */
WAMP1_API int wamp1_cidr_parse(const char *s, size_t n, wamp1_cidr *out);

/* 1 when a lies in c, else 0. Both sides are compared in IPv6 form, an IPv4
 * address or range standing for its IPv4-mapped form (::ffff:a.b.c.d, prefix
 * + 96). So 10.0.0.0/8 matches a peer seen as ::ffff:10.1.2.3 on a dual-stack
 * socket, ::ffff:10.0.0.0/104 matches the IPv4 peer 10.1.2.3, and an IPv6
 * range that covers ::ffff:0:0/96 (such as ::/0) matches IPv4 peers too. */
WAMP1_API int wamp1_cidr_match(const wamp1_cidr *c, const wamp1_addr *a);

/* A list of ranges kept in storage that the caller owns (cap entries). It may
 * be changed at run time, from the thread that runs the server loop. */
typedef struct wamp1_blocklist wamp1_blocklist;
struct wamp1_blocklist {
    wamp1_cidr *rules;
    uint16_t count, cap;
    /* set by wamp1_blocklist_init(): the chain reaches the matcher through it, so a
       program that configures no blocklist does not link the address code */
    int (*match)(const wamp1_blocklist *bl, const wamp1_addr *a);
};

WAMP1_API void wamp1_blocklist_init(wamp1_blocklist *bl, wamp1_cidr *storage, uint16_t cap);
/* Adds "ADDR" or "ADDR/BITS" (NUL-terminated). Returns 0 (also when an equal
 * range is already listed, in either IPv4 or IPv4-mapped spelling), -1 for bad
 * syntax, -2 when the list is full. */
WAMP1_API int wamp1_blocklist_add(wamp1_blocklist *bl, const char *s);
/* Removes the range equal to s (after masking, as for add; the order of the
 * remaining rules may change). Returns 0, -1 for bad syntax, -2 if not listed. */
WAMP1_API int wamp1_blocklist_remove(wamp1_blocklist *bl, const char *s);
/* 1 when a matches any range in the list (see wamp1_cidr_match), else 0. */
WAMP1_API int wamp1_blocklist_match(const wamp1_blocklist *bl, const wamp1_addr *a);

/* --- Origin allow-list ----------------------------------------------------
 * A rule is "[scheme://]host[:port][/]" where host is a name, an IPv4
 * address, a bracketed IPv6 literal ("[::1]") or "*.name":
 *   example.com            http or https (any scheme) on that scheme's default
 *                          port: allows https://example.com, http://example.com,
 *                          http://example.com:80; not http://example.com:8080
 *   *.example.com          any subdomain (a.example.com, a.b.example.com), on
 *                          the default port; NOT example.com itself: list both
 *   https://example.com    only https, port 443
 *   http://example.com:8080  only http, port 8080
 *   localhost:3000         any scheme on port 3000 (http://localhost:3000)
 * Matching: scheme and host are compared case-insensitively; an Origin
 * without a port uses its scheme's default (80 for http and ws, 443 for https
 * and wss, none for other schemes), so "https://a:443" equals "https://a". A
 * rule without a port matches only the default port of the Origin's scheme
 * (or of the rule's scheme, when it names one). IPv6 literals are compared as
 * addresses ("[::1]" equals "[0:0::1]"). One trailing dot of a host name and
 * one trailing "/" are ignored, in rules and Origins alike ("https://a.com./"
 * equals "https://a.com"), and so are spaces and tabs around the value. The
 * value "null", an empty value, a list of origins, userinfo, a path, a query,
 * an empty or zero port, a port above 65535, hosts longer than 255 bytes and
 * hosts with characters outside [A-Za-z0-9._-] never match.
 *
 * A parsed rule points into the text it was parsed from: that text must stay
 * in place, unchanged, for as long as the rule is used (string literals and
 * argv[] entries do). */
typedef struct wamp1_origin_rule {
    const char *scheme;  /* NULL: any scheme */
    const char *host;    /* the name without "*." and trailing dot/slash, or
                            the bracketed IPv6 literal; not NUL-terminated */
    uint16_t schemelen, hostlen;
    uint16_t port;       /* 0: the default port of the scheme */
    uint8_t wildcard;    /* 1 for "*.host" */
    uint8_t any_port;    /* set by the caller: match the host on every port */
    /* set by wamp1_origin_rule_parse(): the chain calls the first rule's, so a program
       without origin rules does not link the origin code; rules made otherwise allow nothing */
    int (*allowed)(const struct wamp1_origin_rule *rules, int n, const char *origin, size_t len);
} wamp1_origin_rule;

/* Parses one rule from s[0..n). Returns 0 or -1. */
WAMP1_API int wamp1_origin_rule_parse(wamp1_origin_rule *r, const char *s, size_t n);
/* 1 when the Origin header value origin[0..len) is allowed by one of the n
 * rules, else 0. */
WAMP1_API int wamp1_origin_allowed(const wamp1_origin_rule *rules, int n, const char *origin, size_t len);

/* --- Cookies and query strings --------------------------------------------- */

/* Finds cookie name (NUL-terminated, compared exactly) in a Cookie header
 * value "a=1; b=2". Spaces and tabs around names and values are ignored, a
 * value in double quotes is returned without them, pairs without '=' are
 * skipped, and the first match wins. *val points into header. Returns 0, or
 * -1 when there is no such cookie. */
WAMP1_API int wamp1_cookie_get(const char *header, size_t len, const char *name, const char **val, size_t *vlen);

/* Finds parameter name in a query string "a=1&b=x+y%21" (one leading '?' is
 * skipped). Names and values are percent-decoded, '+' is a space, and a '%'
 * not followed by two hex digits stays as it is. The first match wins; a
 * parameter without '=' has an empty value. The decoded value (which may
 * contain NUL bytes) is written to out with a NUL after it, and its length to
 * *outlen (if outlen is not NULL). Returns 0, -1 when not found, or -2 when
 * out cannot hold the value and its NUL (*outlen then tells the length). */
WAMP1_API int wamp1_query_get(const char *query, size_t len, const char *name, char *out, size_t outsize, size_t *outlen);

#ifndef WAMP1_NO_SESSION
/* --- PHP file sessions (read-only) -----------------------------------------
 * PHP's session.save_handler=files stores a session in save_path/sess_<id>.
 * Both serializers are read, told apart by the content:
 *   php_serialize  the whole file is one serialize()d array "a:N:{...}"
 *   php            "key|VALUE" repeated, VALUE in serialize() format and the
 *                  key made of any bytes but '|'
 * Values: N; b:0/1; i:INT; d:FLOAT (also INF, -INF, NAN, exponents); s:LEN:"";
 * a:N:{...} with int or string keys. Objects (O:, C:), references (r:, R:),
 * enums (E:), escaped strings (S:) and anything malformed, truncated or with
 * trailing bytes make the whole session invalid, and so do arrays nested
 * deeper than WAMP1_PHP_MAX_DEPTH and integers outside int64. Floats must
 * be INF, -INF, NAN or a number in JSON syntax, which is how PHP writes them
 * (0.1, -0, 1.0E+25); they are converted by the JSON module, correctly
 * rounded. Texts that only unserialize() accepts (.5, 5., +1.5) and finite
 * texts beyond the double range are invalid. Integers may carry a sign and
 * leading zeros (i:+5; i:007;), as unserialize() allows.
 *
 * There is no parse tree: a session is the file's bytes in a buffer of the
 * caller, which must stay unchanged while the session and values from it are
 * used. Lookups walk the bytes: cost grows with the size of the session. */
/* Arrays nest at most this deep, the session itself counting as one level
 * (so a session's JSON object is at most this deep). 1..32; keep it below
 * WAMP1_JW_MAX_DEPTH to leave room for the message around the session. */
#ifndef WAMP1_PHP_MAX_DEPTH
#define WAMP1_PHP_MAX_DEPTH 30
#endif

typedef enum wamp1_php_type {
    WAMP1_PHP_NULL, WAMP1_PHP_BOOL, WAMP1_PHP_INT, WAMP1_PHP_FLOAT,
    WAMP1_PHP_STRING, WAMP1_PHP_ARRAY
} wamp1_php_type;

/* One value. BOOL and INT: i. FLOAT: d. STRING: str[0..len) (bytes, may hold
 * NULs, not NUL-terminated, not necessarily UTF-8). ARRAY: count elements,
 * str[0..len) is the text of the elements; a value of type ARRAY also serves
 * as the cursor of wamp1_php_array_next. root is nonzero for the root of a
 * session in the php format (keys are "key|" there). */
typedef struct wamp1_php_value {
    wamp1_php_type type;
    uint8_t root;
    uint32_t count;
    int64_t i;
    double d;
    const char *str;
    size_t len;
} wamp1_php_value;

typedef struct wamp1_php_session {
    const char *buf;
    size_t len;
    uint8_t format;         /* WAMP1_PHP_FORMAT_* */
    wamp1_php_value root;   /* the session's variables as an ARRAY value */
} wamp1_php_session;

#define WAMP1_PHP_FORMAT_PHP 1
#define WAMP1_PHP_FORMAT_PHP_SERIALIZE 2

/* Validates buf[0..len) and sets up s. An empty buffer is a valid empty
 * session (format php). Returns 0, or -1 when the content is invalid (s is
 * then cleared: lookups on it find nothing). A hand-made file may repeat a
 * key: lookups find the first, iteration and JSON show all. */
WAMP1_API int wamp1_php_session_load(wamp1_php_session *s, const char *buf, size_t len);
/* Looks up the top-level variable key ($_SESSION[key], NUL-terminated).
 * Returns 0 and fills *out, or -1 when there is no such key. */
WAMP1_API int wamp1_php_session_get(const wamp1_php_session *s, const char *key, wamp1_php_value *out);
/* Looks up key[0..klen) in an array value: string keys compare bytewise,
 * int keys by their decimal text ("5" finds i:5). The first match wins.
 * Returns 0 and fills *out, or -1. */
WAMP1_API int wamp1_php_array_get(const wamp1_php_value *arr, const char *key, size_t klen, wamp1_php_value *out);
/* Iterates an array: copy the array value into a cursor, then call this
 * until it returns 0. Each call returns 1 and fills *key (INT or STRING) and
 * *val with the next element and advances the cursor. Works on s->root too.
 *     wamp1_php_value it = arr, k, v;
 *     while (wamp1_php_array_next(&it, &k, &v)) { ... }               */
WAMP1_API int wamp1_php_array_next(wamp1_php_value *it, wamp1_php_value *key, wamp1_php_value *val);

/* Writes v as JSON: strings and numbers as such, bool and null as they are,
 * INF and NAN as null, an array whose keys are exactly the ints 0..n-1 in
 * order as a JSON array, any other array as an object (int keys in decimal;
 * PHP itself stores numeric string keys such as "5" as ints). In strings and
 * keys, each ill-formed UTF-8 subpart (Unicode's "maximal subpart" rule, as
 * browsers decode) becomes one U+FFFD; PHP's JSON_INVALID_UTF8_SUBSTITUTE
 * differs on overlong forms and surrogates, which it replaces whole. Returns
 * 0, or -1 on malformed input (w->overflow reports a full buffer). */
WAMP1_API int wamp1_php_value_to_json(const wamp1_php_value *v, wamp1_jwriter *w);
/* The whole session as a JSON object (its root array, always an object); 0 or -1 as above. */
WAMP1_API int wamp1_php_session_to_json(const wamp1_php_session *s, wamp1_jwriter *w);

/* 1 when id is a session id this library will look up: 1 to 128 characters
 * from [A-Za-z0-9,-], else 0. */
WAMP1_API int wamp1_php_session_id_valid(const char *id, size_t n);

#ifndef WAMP1_NO_STDIO_FILES
/* Reads dir/sess_<id> (dir without or with a trailing '/') into buf. The id
 * is checked first, so it can never add a path element. Returns 0 and the
 * byte count in *outlen, -1 when the file cannot be opened or read, -2 when
 * it holds more than bufsize bytes, -3 for an invalid id (or a path longer
 * than 1024 bytes). PHP's lock on the file is not taken: a file caught while
 * PHP rewrites it fails to load (or, cut between two variables, loads
 * without the later ones) until the next read. */
WAMP1_API int wamp1_php_session_read_file(const char *dir, const char *id, size_t idlen,
                                          char *buf, size_t bufsize, size_t *outlen);
#endif
#endif /* WAMP1_NO_SESSION */
/* ---- end mw decl ---- */


/* Readiness entry handed to the port's wait(); same layout as struct pollfd. */
typedef struct wamp1_pollfd {
    wamp1_socket fd;
    short events;
    short revents;
} wamp1_pollfd;

enum {
    WAMP1_POLLIN = 0x001,
    WAMP1_POLLOUT = 0x004,
    WAMP1_POLLERR = 0x008,
    WAMP1_POLLHUP = 0x010,
    WAMP1_POLLNVAL = 0x020
};

/* A readiness event of an event-driven port: the tag the socket was watched with. */
typedef struct wamp1_event {
    uint32_t tag;
    unsigned events; /* WAMP1_POLLIN, WAMP1_POLLOUT, WAMP1_POLLERR, WAMP1_POLLHUP */
} wamp1_event;

/* Port return codes for recv/send/accept. */
enum { WAMP1_IO_ERROR = -1, WAMP1_IO_WOULDBLOCK = -2 };

/* The port: everything the loop needs from the operating system / IP stack. */
typedef struct wamp1_port {
    void *ctx;
    /* Bind and listen; *bound gets the real port (for port 0). 0 or -1. */
    int (*listen)(void *ctx, const char *host, uint16_t port, wamp1_socket *out, uint16_t *bound);
    /* 0 with *out set, WAMP1_IO_WOULDBLOCK, or WAMP1_IO_ERROR. */
    int (*accept)(void *ctx, wamp1_socket ls, wamp1_socket *out, wamp1_addr *peer);
    /* bytes (>0), 0 at end of stream, WAMP1_IO_WOULDBLOCK or WAMP1_IO_ERROR. */
    long (*recv)(void *ctx, wamp1_socket s, void *buf, size_t n);
    /* bytes written (>=0), WAMP1_IO_WOULDBLOCK or WAMP1_IO_ERROR. */
    long (*send)(void *ctx, wamp1_socket s, const void *buf, size_t n);
    /* Half-close the sending side (FIN). May be NULL. */
    void (*shutdown)(void *ctx, wamp1_socket s);
    void (*close)(void *ctx, wamp1_socket s);
    /* Readiness, one of two ways. A readiness-list port has wait(): the loop keeps the set
       of watched sockets itself (changed only when a socket opens, closes or changes its
       wish to write) and hands it over; wait marks revents and returns the number ready
       (or <0). An event-driven port (epoll) has watch/unwatch/wait_events instead: the
       loop registers a socket once with a tag, changes its events (first = 0) only when
       they change, unwatches it before close, and wait_events fills out[0..max) with
       ready sockets (number, 0 on timeout, <0 on error). The loop prefers wait_events. */
    int (*wait)(void *ctx, wamp1_pollfd *fds, unsigned n, int timeout_ms);
    int (*watch)(void *ctx, wamp1_socket s, uint32_t tag, unsigned events, int first);
    void (*unwatch)(void *ctx, wamp1_socket s);
    int (*wait_events)(void *ctx, wamp1_event *out, unsigned max, int timeout_ms);
    uint64_t (*now_ms)(void *ctx);
    /* Fill buf with n random bytes; 0 or -1. */
    int (*random)(void *ctx, void *buf, size_t n);
    /* Socket that becomes readable after wake(); WAMP1_INVALID_SOCKET if none. */
    wamp1_socket (*wake_fd)(void *ctx);
    /* Wake the loop from another thread or a signal handler. May be NULL. */
    void (*wake)(void *ctx);
    /* Consume the wake-up once the loop saw it. May be NULL. */
    void (*wake_drain)(void *ctx);
    /* Mutual exclusion for the cross-thread queue. May be NULL (single thread). */
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
} wamp1_port;

typedef enum wamp1_opcode {
    WAMP1_OP_CONTINUATION = 0x0,
    WAMP1_OP_TEXT = 0x1,
    WAMP1_OP_BINARY = 0x2,
    WAMP1_OP_CLOSE = 0x8,
    WAMP1_OP_PING = 0x9,
    WAMP1_OP_PONG = 0xA
} wamp1_opcode;

/* Close codes (RFC 6455, 7.4.1). */
enum {
    WAMP1_CLOSE_NORMAL = 1000,
    WAMP1_CLOSE_GOING_AWAY = 1001,
    WAMP1_CLOSE_PROTOCOL_ERROR = 1002,
    WAMP1_CLOSE_UNSUPPORTED = 1003,
    WAMP1_CLOSE_NO_STATUS = 1005,
    WAMP1_CLOSE_ABNORMAL = 1006,
    WAMP1_CLOSE_INVALID_DATA = 1007,
    WAMP1_CLOSE_POLICY = 1008,
    WAMP1_CLOSE_TOO_BIG = 1009,
    WAMP1_CLOSE_INTERNAL = 1011
};

/* What the error hook is told. */
typedef enum wamp1_error {
    WAMP1_ERR_NONE = 0,
    WAMP1_ERR_HTTP,          /* the handshake was refused with an HTTP status */
    WAMP1_ERR_HANDSHAKE_TIMEOUT,
    WAMP1_ERR_MESSAGE_TIMEOUT, /* a frame or message not completed in time: 1008 */
    WAMP1_ERR_PROTOCOL,      /* WebSocket protocol violation (1002) */
    WAMP1_ERR_INVALID_UTF8,  /* 1007 */
    WAMP1_ERR_TOO_BIG,       /* 1009 */
    WAMP1_ERR_CLOSE_TIMEOUT,
    WAMP1_ERR_KEEPALIVE,     /* no pong to the previous ping */
    WAMP1_ERR_SLOW_CONSUMER, /* send buffer full */
    WAMP1_ERR_DROPPED,       /* a message was dropped (slow-consumer drop policy) */
    WAMP1_ERR_POOL_FULL,     /* connection pool full: 503 */
    WAMP1_ERR_IO,            /* the socket failed or the peer vanished */
    WAMP1_ERR_MALFORMED,     /* a message the application layer rejected */
    WAMP1_ERR_LIMIT,         /* a pool or table of the application layer is full */
    WAMP1_ERR_NO_ROUTE,      /* a SUBSCRIBE or PUBLISH to a topic no route matches */
    WAMP1_ERR_CONFIG         /* init refused the configuration (the reason says why), or a
                                file was compiled with other options than the library */
} wamp1_error;

/* Slow-consumer policy: what happens when a send buffer cannot take a message. */
enum { WAMP1_SLOW_CLOSE = 0, WAMP1_SLOW_DROP = 1 };

/* A parsed HTTP request; valid only during the callback that receives it. */
typedef struct wamp1_http_header {
    const char *name, *value;
    uint16_t name_len, value_len;
} wamp1_http_header;

typedef struct wamp1_request {
    const char *method, *target, *path, *query;
    uint16_t method_len, target_len, path_len, query_len;
    uint8_t version_minor;
    uint8_t header_count;
    wamp1_http_header headers[WAMP1_MAX_HEADERS];
    const char *subprotocol; /* selected one, or NULL */
    uint16_t subprotocol_len;
#if WAMP1_HTTP_BODY
    const char *body;        /* POST: the Content-Length bytes that followed (else NULL) */
    uint32_t body_len;
#endif
} wamp1_request;

/* The middleware chain: links a connection passes through before the application. Every
   callback is optional. on_connect runs when the TCP connection is accepted, before a byte
   is read (a blocked address gets its 403 here); on_request runs once the upgrade request
   is parsed and passed the WebSocket checks (origins, sessions, authentication), and for
   a plain HTTP request before cfg.cb.on_http (the origin link lets one without Origin
   through: a browser's navigation sends none). Both
   return 0 to go on, or an HTTP status that refuses the connection. on_message may return
   nonzero to swallow a message. Links run in the order they were added. */
typedef struct wamp1_link wamp1_link;
struct wamp1_link {
    const char *name;
    int (*on_connect)(wamp1_link *self, wamp1_conn *c);
    int (*on_request)(wamp1_link *self, wamp1_conn *c, const wamp1_request *req);
    void (*on_open)(wamp1_link *self, wamp1_conn *c);
    int (*on_message)(wamp1_link *self, wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len);
    void (*on_close)(wamp1_link *self, wamp1_conn *c, int code);
    void (*on_error)(wamp1_link *self, wamp1_conn *c, wamp1_error e, const char *reason);
    void *state;
    wamp1_link *next;
};

#ifndef WAMP1_NO_SESSION
/* A session provider: maps the session cookie of a request to a read-only key/value
   session (values as in PHP: null, bool, int, float, string, nested arrays). */
typedef struct wamp1_session_provider {
    const char *cookie; /* the cookie carrying the session id; NULL: "PHPSESSID" */
    /* Load session id into buf (the session points into it): 0, or -1 when there is no
       such session. With buf NULL, only tell whether it exists. */
    int (*load)(void *ctx, const char *id, size_t idlen, char *buf, size_t cap,
                wamp1_php_session *out);
    void *ctx;
} wamp1_session_provider;

/* The provider for PHP's native file sessions (session.save_handler=files): the files
   sess_<id> in dir, either serializer format. */
WAMP1_API void wamp1_php_files_provider(wamp1_session_provider *p, const char *dir);
#endif

/* A text message written in place, straight into a connection's send buffer, with the
   JSON writer: wamp1_conn_json_begin() gives the writer, wamp1_conn_json_end() frames and
   queues what it wrote. Other messages may be sent to the same connection meanwhile (even
   another in-place message): they are queued before it, and the open message keeps what
   it has written. Begin and end must pair up in order, within one callback, and only the
   innermost open message may be written to. */
typedef struct wamp1_frame_writer {
    wamp1_jwriter w;
    wamp1_conn *c;
    uint32_t at;     /* where its frame starts in the send buffer */
    uint32_t parked; /* bytes moved aside while another message is queued */
    int is_parked;
    struct wamp1_frame_writer *prev;
} wamp1_frame_writer;

/* Application callbacks: all optional. */
typedef struct wamp1_callbacks {
    /* Upgrade request passed every WebSocket check: return 0 to accept, or an HTTP status
       (401, 403, ...) to refuse it. */
    int (*on_request)(wamp1_conn *c, const wamp1_request *req, void *user);
    /* A request without "Upgrade: websocket" (GET or HEAD; POST with its body in req->body
       when WAMP1_HTTP_BODY), after the links' on_request. Answer with
       wamp1_conn_http_respond/_ex() (port/wamp1_http.h serves files from memory or a
       directory); when the callback is NULL or does not answer, the client gets 426 (405
       for HEAD and POST). */
    void (*on_http)(wamp1_conn *c, const wamp1_request *req, void *user);
    void (*on_open)(wamp1_conn *c, void *user);
    /* A complete message (text is valid UTF-8). data is valid during the call only. */
    void (*on_message)(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user);
    /* The WebSocket closed (once per on_open): the peer's code, or 1006 without one. */
    void (*on_close)(wamp1_conn *c, int code, void *user);
    /* Every rejected input, timeout and overflow. c may be NULL (pool full). */
    void (*on_error)(wamp1_conn *c, wamp1_error err, const char *reason, void *user);
    /* A client did not answer the previous keepalive ping; it is being closed. */
    void (*on_keepalive_timeout)(wamp1_conn *c, void *user);
    /* Called after every loop iteration (for deferred work). */
    void (*on_tick)(wamp1_server *s, uint64_t now_ms, void *user);
} wamp1_callbacks;

/* Server configuration: zero means "default" everywhere. */
typedef struct wamp1_config {
    const wamp1_port *port;        /* required */
    const char *host;              /* default "127.0.0.1" */
    uint16_t listen_port;          /* 0: let the system pick */
    uint32_t max_connections;      /* default and at most WAMP1_MAX_CONNECTIONS */
    uint32_t recv_buffer_size;     /* per connection, default WAMP1_RECV_BUFFER_SIZE */
    uint32_t send_buffer_size;     /* per connection, default WAMP1_SEND_BUFFER_SIZE */
    /* Buffers are lent to connections while they hold partial input or unsent output:
       recv_buffers receive buffers and send_buffers send buffers (default: one of each
       per connection, so the pools never run dry). Fewer let many idle connections share
       a few buffers; an empty pool pauses reading (see LENT BUFFERS in the manual). */
    uint32_t recv_buffers, send_buffers;
    /* Optional small receive buffers that reads start in (0: none): a connection moves to
       a full-size one (recv_buffer_size) only when a message needs it. recv_small_buffers
       defaults to one per connection; then recv_buffers can be far fewer than connections.
       At least 256 bytes; the header block (max_header_size) may grow into a large one. */
    uint32_t recv_small_size, recv_small_buffers;
    void *memory;                  /* buffer memory; NULL: the static block */
    size_t memory_size;
    uint32_t max_header_size;      /* default WAMP1_MAX_HEADER_SIZE, at most the receive buffer */
    uint32_t max_message_size;     /* default and at most recv_buffer_size - 256 */
    uint32_t max_frame_size;       /* default max_message_size */
    uint32_t handshake_timeout_ms; /* default WAMP1_HANDSHAKE_TIMEOUT_MS */
    uint32_t close_timeout_ms;     /* default WAMP1_CLOSE_TIMEOUT_MS */
    uint32_t message_timeout_ms;   /* a begun message must be complete in time; default
                                      WAMP1_MESSAGE_TIMEOUT_MS (restarts with every message) */
    uint32_t keepalive_ms;         /* ping interval; 0: off */
    const char *subprotocol;       /* required subprotocol (e.g. "wamp"); NULL: none */
    int subprotocol_optional;      /* accept handshakes that do not offer it */
    int slow_consumer;             /* WAMP1_SLOW_CLOSE (default) or WAMP1_SLOW_DROP */
    int drop_request;              /* do not keep the upgrade request (wamp1_conn_request) */
    /* The default chain: each link is left out when its option is not set. */
    wamp1_blocklist *blocklist;    /* "reject blocked address": 403 before reading */
    const wamp1_origin_rule *origins; /* "restrict to allowed origins": 403 */
    unsigned origin_count;
#ifndef WAMP1_NO_SESSION
    const wamp1_session_provider *sessions; /* "initialize session" */
#endif
    wamp1_callbacks cb;
    void *user;
} wamp1_config;

/* Event and byte counters of the statistics: WAMP1_COUNTER (uint64_t; uint32_t in small
   builds, where they wrap around). */
typedef WAMP1_COUNTER wamp1_counter;

typedef struct wamp1_stats {
    uint32_t connections, connections_max, connections_peak;
    uint32_t recv_buffers_used, recv_buffers_max, send_buffers_used, send_buffers_max;
    uint32_t recv_small_used, recv_small_max;
    wamp1_counter buffer_waits; /* reads paused because a buffer pool was empty */
    wamp1_counter accepted, rejected_full, handshakes, messages_in, messages_out;
    wamp1_counter bytes_in, bytes_out, dropped_messages, slow_consumers_closed, protocol_errors;
} wamp1_stats;

/* ======================================================================== */
/*  API                                                                     */
/* ======================================================================== */

/* Server life cycle. */
/* Bytes of buffer memory the configuration needs (cfg.memory). */
WAMP1_API size_t wamp1_server_memory_size(const wamp1_config *cfg);
/* 0, or -1: no port (or one without a readiness call), buffers below 512/256 bytes, a small
   receive size out of range, cfg.memory too small for one connection (or for the buffer
   counts asked for), the built-in block in use, a default link that is configured but
   compiled out, or the port refusing to watch its wake-up socket. cfg.cb.on_error hears
   which (WAMP1_ERR_CONFIG, no connection; an app's on_error for wamp1_app_init). */
WAMP1_API int wamp1_server_init_checked(wamp1_server *s, const wamp1_config *cfg, uint32_t stamp);
#define wamp1_server_init(s, cfg) wamp1_server_init_checked((s), (cfg), WAMP1_CONFIG_STAMP)
/* 0, or -1 (listener table full, or the port cannot listen; the error hook says which). */
WAMP1_API int wamp1_server_listen(wamp1_server *s);
WAMP1_API uint16_t wamp1_server_port(const wamp1_server *s); /* the bound port */
/* One iteration: wait at most timeout_ms (-1: until something happens; less when a timer
   is due), handle what is ready, fire due timers. 0, or -1 when the port's wait failed. */
WAMP1_API int wamp1_server_poll(wamp1_server *s, int timeout_ms);
WAMP1_API int wamp1_server_run(wamp1_server *s); /* polls until stopped; 0 */
WAMP1_API void wamp1_server_stop(wamp1_server *s); /* async-signal-safe, any thread */
WAMP1_API int wamp1_server_stopping(const wamp1_server *s); /* 1 once stop was asked for, else 0 */
/* Closes listeners and connections (1001), waits up to timeout_ms, frees the rest; 0. The
   server (and its port and the built-in block) can be initialized again afterwards. */
WAMP1_API int wamp1_server_shutdown(wamp1_server *s, uint32_t timeout_ms);
WAMP1_API void wamp1_server_wake(wamp1_server *s); /* any thread: the wait returns */
WAMP1_API uint64_t wamp1_server_now(const wamp1_server *s); /* the loop's clock, ms */
WAMP1_API void wamp1_server_stats(const wamp1_server *s, wamp1_stats *out);
WAMP1_API void *wamp1_server_user(const wamp1_server *s);
/* 0, or -1 when n is 0 or above the pool. */
WAMP1_API int wamp1_server_set_max_connections(wamp1_server *s, uint32_t n);
/* Timers on the loop thread: fn runs once after ms (period_ms 0) or every period_ms, from
   wamp1_server_poll. WAMP1_MAX_TIMERS at a time. Start returns a handle (0: none free);
   stop returns 0, or -1 when the timer already ended or the handle is stale. A one-shot
   timer has ended when its fn runs; fn may start and stop timers, its own included. */
typedef struct wamp1_timer_id { uint32_t id; } wamp1_timer_id;
typedef void (*wamp1_timer_fn)(wamp1_server *s, wamp1_timer_id t, void *user);
WAMP1_API wamp1_timer_id wamp1_timer_start(wamp1_server *s, uint32_t ms, uint32_t period_ms,
                                           wamp1_timer_fn fn, void *user);
WAMP1_API int wamp1_timer_stop(wamp1_server *s, wamp1_timer_id t);
/* Another socket in the same loop (a database or broker client): fn is called with the
   ready events (WAMP1_POLLIN/OUT/ERR/HUP) of those asked for. WAMP1_MAX_WATCHES at a
   time. Each returns 0, or -1: the table is full (WAMP1_ERR_LIMIT), the socket is already
   watched (wamp1_watch) or not watched (the other two), or the port refused it. Change the
   events with wamp1_watch_events(), and unwatch before closing. */
typedef void (*wamp1_watch_fn)(wamp1_server *s, wamp1_socket sock, unsigned events, void *user);
WAMP1_API int wamp1_watch(wamp1_server *s, wamp1_socket sock, unsigned events,
                          wamp1_watch_fn fn, void *user);
WAMP1_API int wamp1_watch_events(wamp1_server *s, wamp1_socket sock, unsigned events);
WAMP1_API int wamp1_unwatch(wamp1_server *s, wamp1_socket sock);
/* Iterate open WebSocket connections: pass NULL first; NULL after the last. */
WAMP1_API wamp1_conn *wamp1_server_next_conn(wamp1_server *s, wamp1_conn *prev);

/* Connections. A handle (id 0 for NULL) outlives its connection: lookup returns the
   connection, or NULL once it has closed and its slot was reused. is_open: 1 while
   WebSocket messages can be sent, else 0. */
WAMP1_API wamp1_conn_id wamp1_conn_handle(const wamp1_conn *c);
WAMP1_API wamp1_conn *wamp1_conn_lookup(wamp1_server *s, wamp1_conn_id id);
WAMP1_API wamp1_server *wamp1_conn_server(const wamp1_conn *c);
WAMP1_API const wamp1_addr *wamp1_conn_peer(const wamp1_conn *c);
WAMP1_API void wamp1_conn_set_user(wamp1_conn *c, void *user);
WAMP1_API void *wamp1_conn_user(const wamp1_conn *c);
WAMP1_API int wamp1_conn_is_open(const wamp1_conn *c);
/* Send a whole message (_text and _binary too). 0, or -1 when it cannot be queued (not open,
   or no room: the slow-consumer policy applied). */
WAMP1_API int wamp1_conn_send(wamp1_conn *c, wamp1_opcode op, const void *data, size_t len);
WAMP1_API int wamp1_conn_send_text(wamp1_conn *c, const char *text, size_t len);
WAMP1_API int wamp1_conn_send_binary(wamp1_conn *c, const void *data, size_t len);
/* A text message written in place (see wamp1_frame_writer): NULL when the connection is
   not open. End returns 0, or -1 when the message did not fit (nothing is queued then; the
   caller decides: wamp1_conn_send_failed() applies the slow-consumer policy). */
WAMP1_API wamp1_jwriter *wamp1_conn_json_begin(wamp1_conn *c, wamp1_frame_writer *fw);
WAMP1_API int wamp1_conn_json_end(wamp1_frame_writer *fw);
WAMP1_API int wamp1_conn_send_failed(wamp1_conn *c, size_t len);
/* Queue an already encoded server frame (fan-out: encode once, copy to each receiver);
   0 or -1 as wamp1_conn_send. */
WAMP1_API int wamp1_conn_send_frame(wamp1_conn *c, const void *frame, size_t len);
/* Start the close handshake (code 0 sends a close frame without a code). */
WAMP1_API void wamp1_conn_close(wamp1_conn *c, int code, const char *reason);
/* Answer a plain HTTP request (from on_http) and close after it. The whole answer must
   fit the send buffer (else 500). _ex adds header lines (each ending in CRLF, or NULL);
   body NULL sends the header with Content-Length: len and no body (HEAD, 304). */
WAMP1_API void wamp1_conn_http_respond(wamp1_conn *c, int status, const char *content_type,
                                       const void *body, size_t len);
WAMP1_API void wamp1_conn_http_respond_ex(wamp1_conn *c, int status, const char *content_type,
                                          const char *headers, const void *body, size_t len);
/* The upgrade request, kept at the end of the receive buffer for later links and
   handlers (unless cfg.drop_request): 0, or -1 when it is not there. */
WAMP1_API int wamp1_conn_request(const wamp1_conn *c, wamp1_request *req);
/* Done with the kept request: its receive buffer goes back to the pool once empty. */
WAMP1_API void wamp1_conn_release_request(wamp1_conn *c);
#ifndef WAMP1_NO_SESSION
/* The caller's web session (cfg.sessions), read now into buf: 0, or -1 when the
   connection has none. wamp1_conn_has_session() answers without reading it. */
WAMP1_API int wamp1_conn_session(const wamp1_conn *c, char *buf, size_t cap, wamp1_php_session *out);
WAMP1_API int wamp1_conn_has_session(const wamp1_conn *c);
#endif
/* Bytes queued for sending / free in the send buffer. */
WAMP1_API size_t wamp1_conn_send_pending(const wamp1_conn *c);
WAMP1_API size_t wamp1_conn_send_space(const wamp1_conn *c);

/* The middleware chain: links are the caller's (never copied), so adding cannot fail;
   wamp1_server_links returns the first one (NULL: none). */
WAMP1_API void wamp1_server_add_link(wamp1_server *s, wamp1_link *link);
WAMP1_API wamp1_link *wamp1_server_links(wamp1_server *s);
WAMP1_API void wamp1_server_remove_link(wamp1_server *s, wamp1_link *link);

/* The connection attribute store: small typed values under short keys (at most
   WAMP1_ATTR_KEY_SIZE - 1 bytes), WAMP1_MAX_ATTRS_PER_CONN per connection from a pool of
   WAMP1_MAX_ATTRS, cleared when the connection closes. Setters return 0, -1 (key or value
   too long, or the connection is gone) or -2 (pool full, reported as WAMP1_ERR_LIMIT);
   getters return 0, or -1 when the key is absent or holds another type; type_of returns
   WAMP1_ATTR_NONE for an absent key; remove returns 0, or -1 when the key is absent. */
typedef enum wamp1_attr_type {
    WAMP1_ATTR_NONE = 0, WAMP1_ATTR_INT, WAMP1_ATTR_DOUBLE, WAMP1_ATTR_PTR, WAMP1_ATTR_BYTES
} wamp1_attr_type;
WAMP1_API int wamp1_attr_set_int(wamp1_conn *c, const char *key, int64_t v);
WAMP1_API int wamp1_attr_set_double(wamp1_conn *c, const char *key, double v);
WAMP1_API int wamp1_attr_set_ptr(wamp1_conn *c, const char *key, void *p);
WAMP1_API int wamp1_attr_set_bytes(wamp1_conn *c, const char *key, const void *data, size_t n);
WAMP1_API int wamp1_attr_get_int(const wamp1_conn *c, const char *key, int64_t *v);
WAMP1_API int wamp1_attr_get_double(const wamp1_conn *c, const char *key, double *v);
WAMP1_API int wamp1_attr_get_ptr(const wamp1_conn *c, const char *key, void **p);
WAMP1_API int wamp1_attr_get_bytes(const wamp1_conn *c, const char *key, const void **data, size_t *n);
WAMP1_API wamp1_attr_type wamp1_attr_type_of(const wamp1_conn *c, const char *key);
WAMP1_API int wamp1_attr_remove(wamp1_conn *c, const char *key);

/* Frames and helpers, usable on their own. */
/* Server frame header for a payload of len bytes; returns its size (2, 4 or 10). */
WAMP1_API size_t wamp1_frame_header(uint8_t out[10], wamp1_opcode op, int fin, uint64_t len);
/* Incremental UTF-8 validation: *state starts at 0; returns the number of bytes accepted
   (== n when all are valid so far), so a return below n is the offset of the first bad
   byte. wamp1_utf8_complete() tells whether the text ended on a character boundary. */
WAMP1_API size_t wamp1_utf8_validate(uint32_t *state, const uint8_t *p, size_t n);
WAMP1_API int wamp1_utf8_complete(uint32_t state); /* 1 or 0 */
/* 1 when a peer may send code in a close frame (RFC 6455 7.4), else 0. */
WAMP1_API int wamp1_close_code_valid(int code);
WAMP1_API void wamp1_sha1(const void *data, size_t len, uint8_t out[20]);
/* Base64 with padding into out (4 * ((n + 2) / 3) + 1 bytes); returns the length, without
   the NUL it writes. */
WAMP1_API size_t wamp1_base64_encode(const uint8_t *in, size_t n, char *out);
/* Sec-WebSocket-Accept for a key (28 characters + NUL). */
WAMP1_API void wamp1_ws_accept_key(const char *key, size_t key_len, char out[29]);
/* Header value lookup (case-insensitive name); NULL if absent. */
WAMP1_API const char *wamp1_request_header(const wamp1_request *r, const char *name, size_t *len);
/* The reason phrase of an HTTP status; "" for one it does not know (and, with
   WAMP1_NO_ERROR_TEXT, for every status but 200). */
WAMP1_API const char *wamp1_http_status_text(int status);

/* ======================================================================== */
/*  Internal state (visible so it can be allocated statically)              */
/* ======================================================================== */

/* Indexes into the loop's tables (slots, heap, watched set): 16 bits for small pools. */
#if WAMP1_MAX_CONNECTIONS + WAMP1_MAX_TIMERS + WAMP1_MAX_LISTENERS + WAMP1_REJECT_SLOTS + WAMP1_MAX_WATCHES < 0xFFF0
typedef uint16_t wamp1__ix;
#else
typedef uint32_t wamp1__ix;
#endif

/* Indexes of attribute records: 16 bits unless the store is larger. */
#if WAMP1_MAX_ATTRS < 0xFFFF
typedef uint16_t wamp1__aix;
#else
typedef uint32_t wamp1__aix;
#endif
#define WAMP1__ANIL ((wamp1__aix)~0u)

struct wamp1_conn {
    wamp1_server *srv;
    void *user;
    uint8_t *rbuf, *sbuf; /* lent while in use; NULL otherwise */
    uint64_t deadline;    /* ms; 0 none */
    uint64_t ping_at;     /* next keepalive ping; 0 none */
    wamp1__ix hpos;       /* place in the timer heap, or none */
    wamp1__ix link;       /* next free slot (while free), or next connection waiting for a
                             buffer (while in that list) */
    wamp1__ix pfd;        /* place in the watched set (readiness-list ports) */
    uint32_t frame_left;  /* payload bytes of the current data frame still to come */
    uint32_t rlen, rpos;  /* raw bytes [rpos, rlen) not parsed yet */
    uint32_t mbase, mlen; /* message payload at [mbase, mbase + mlen) */
    uint32_t shead, stail;
    uint32_t utf8;
    uint32_t rcap;        /* receive capacity (the kept request sits above it) */
    uint32_t parked;      /* top of the send buffer holding open in-place messages */
    wamp1_frame_writer *wtop; /* innermost open in-place message */
    uint16_t req_len;     /* bytes of the kept request */
    wamp1__aix attrs;     /* first attribute, or WAMP1__ANIL */
    wamp1_socket sock;
    wamp1_addr peer;
    uint16_t gen;
    uint16_t close_code;  /* code received from the peer */
    uint8_t state, flags;
    uint8_t lflags;       /* the loop's: dirty, waiting for a buffer, watched */
    uint8_t interest;     /* events watched now */
    uint8_t fop, msg_op;  /* opcode of the current frame / message (0: none) */
    uint8_t mask[4];
    uint8_t mask_pos, ffin;
};

typedef struct wamp1__attr {
    wamp1__aix next;
    uint8_t type, klen;
    uint16_t vlen;
    char key[WAMP1_ATTR_KEY_SIZE];
    union {
        int64_t i;
        double d;
        void *p;
        uint8_t b[WAMP1_ATTR_VALUE_SIZE];
    } v;
} wamp1__attr;

/* the default chain's links: blocklist and origins (unless WAMP1_NO_DEFAULT_LINKS), sessions */
#ifdef WAMP1_NO_DEFAULT_LINKS
#define WAMP1__DEFAULT_LINKS 0
#else
#define WAMP1__DEFAULT_LINKS 2
#endif
#ifdef WAMP1_NO_SESSION
#define WAMP1__BUILTIN_LINKS WAMP1__DEFAULT_LINKS
#else
#define WAMP1__BUILTIN_LINKS (WAMP1__DEFAULT_LINKS + 1)
#endif

typedef struct wamp1__rejected {
    wamp1_socket sock;
    uint64_t deadline;
    wamp1__ix pfd;
} wamp1__rejected;

/* The timer heap: connections (who < WAMP1__HEAP_TIMER) and application timers. */
#define WAMP1__HEAP_TIMER 0x80000000u
/* Keys are the low 32 bits of the due time, compared wrap-safe: every key lies within
   2^31 ms of the clock (timers are limited to 2^30 ms). */
typedef struct wamp1__hnode {
    uint32_t at;
    uint32_t who;
} wamp1__hnode;

typedef struct wamp1__timer {
    uint32_t period;
    wamp1__ix hpos, next; /* next: the free list */
    wamp1_timer_fn fn;
    void *user;
    uint16_t gen;
    uint8_t used;
} wamp1__timer;

typedef struct wamp1__watcher {
    wamp1_socket sock;
    wamp1_watch_fn fn;
    void *user;
    wamp1__ix pfd;
    uint8_t events;
} wamp1__watcher;

/* A pool of lent buffers of one size: carved in order on first use (untouched memory
   stays untouched), then kept on a free list threaded through the free buffers. */
typedef struct wamp1__bufpool {
    uint8_t *base, *free;
    uint32_t count, carved, used;   /* the size of a buffer is in the configuration */
    wamp1__ix wait_head, wait_tail; /* connections waiting for one, oldest first */
} wamp1__bufpool;

#define WAMP1__WATCH_SLOTS (WAMP1_MAX_CONNECTIONS + WAMP1_MAX_LISTENERS + WAMP1_REJECT_SLOTS + WAMP1_MAX_WATCHES + 1)

struct wamp1_server {
    wamp1_config cfg;
    const wamp1_port *port;
    wamp1_stats stats;
    uint8_t *memory;
    uint64_t now;
    uint32_t nconns;      /* slots carved */
    uint32_t open_conns;  /* non-free slots */
    uint32_t limit;       /* run-time connection limit */
    uint32_t max_message, max_frame, max_header;
    int stop; /* read and written through WAMP1__FLAG_GET/SET */
    int shutting_down;
    uint16_t bound_port;
    uint8_t nlisten;
    wamp1_socket listeners[WAMP1_MAX_LISTENERS];
#if WAMP1_REJECT_SLOTS > 0
    wamp1__rejected rejects[WAMP1_REJECT_SLOTS];
#endif
    wamp1_link *links;
    /* the WAMP app when the server is one (NULL otherwise): WAMP is the protocol layer
       above the WebSocket, its events run beside the user's cfg.cb, which keep working
       with cfg.user */
    void *proto_user;
#if !defined(WAMP1_NO_DEFAULT_LINKS) || !defined(WAMP1_NO_SESSION)
    wamp1_link builtin[WAMP1__BUILTIN_LINKS];
#endif
    wamp1__aix attr_free, attr_carved; /* free records; records [0, attr_carved) were used */
    wamp1__ix free_head;  /* free connection slots, most recently freed first */
    uint32_t carved;      /* slots [0, carved) have been used */
    wamp1__ix timer_free; /* free timers, a list through next */
    /* set by wamp1_timer_start, so that a program without timers links none of their code */
    void (*timer_due)(wamp1_server *s, uint32_t i);
    wamp1__ix dhead, ndirty; /* the ring of touched connections: first, how many */
    wamp1__ix npfd, nheap, pfd_scan;
    uint8_t nrejects;
    wamp1_socket wake_sock;
    wamp1__ix wake_pfd, listen_pfd[WAMP1_MAX_LISTENERS];
    wamp1__bufpool rpool, spool, qpool; /* receive (full size), send, small receive */
    wamp1__timer timers[WAMP1_MAX_TIMERS > 0 ? WAMP1_MAX_TIMERS : 1];
#if WAMP1_MAX_WATCHES > 0
    wamp1__watcher watches[WAMP1_MAX_WATCHES];
#endif
    /* from here on: tables set up as they are used (wamp1_server_init touches none) */
    wamp1_pollfd pfds[WAMP1__WATCH_SLOTS]; /* readiness-list ports: the watched set, dense */
    wamp1_event events[WAMP1_EVENT_BATCH];
#if WAMP1_MAX_ATTRS > 0
    wamp1__attr attrs[WAMP1_MAX_ATTRS];
#endif
    uint32_t pfd_tag[WAMP1__WATCH_SLOTS];     /* and each entry's tag */
    wamp1__ix dirty[WAMP1_MAX_CONNECTIONS]; /* connections to look at before the next wait */
    wamp1__hnode heap[WAMP1_MAX_CONNECTIONS + WAMP1_MAX_TIMERS];
    wamp1_conn conns[WAMP1_MAX_CONNECTIONS];
};

#ifdef __cplusplus
}
#endif

/* ======================================================================== */
/*  WAMP v1: configuration                                                  */
/* ======================================================================== */

#ifndef WAMP1_NO_WAMP

#ifndef WAMP1_MAX_TOPICS
#define WAMP1_MAX_TOPICS 16
#endif
#ifndef WAMP1_MAX_SUBSCRIPTIONS
#define WAMP1_MAX_SUBSCRIPTIONS (WAMP1_MAX_CONNECTIONS * 4)
#endif
#ifndef WAMP1_MAX_URI
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_MAX_URI 48
#else
#define WAMP1_MAX_URI 128
#endif
#endif
#ifndef WAMP1_MAX_PREFIXES
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_MAX_PREFIXES WAMP1_MAX_CONNECTIONS
#else
#define WAMP1_MAX_PREFIXES (WAMP1_MAX_CONNECTIONS * 2)
#endif
#endif
#ifndef WAMP1_MAX_PREFIXES_PER_CONN
#define WAMP1_MAX_PREFIXES_PER_CONN 8
#endif
#ifndef WAMP1_MAX_PREFIX_NAME
#define WAMP1_MAX_PREFIX_NAME 16
#endif
#ifndef WAMP1_MAX_PREFIX_URI
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_MAX_PREFIX_URI 40
#else
#define WAMP1_MAX_PREFIX_URI 96
#endif
#endif
#ifndef WAMP1_MAX_PENDING_CALLS
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_MAX_PENDING_CALLS 4
#else
#define WAMP1_MAX_PENDING_CALLS 16
#endif
#endif
#ifndef WAMP1_MAX_CALLID
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_MAX_CALLID 32
#else
#define WAMP1_MAX_CALLID 64
#endif
#endif
#ifndef WAMP1_MAX_ROUTES
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_MAX_ROUTES 8
#else
#define WAMP1_MAX_ROUTES 16
#endif
#endif
#ifndef WAMP1_MAX_HANDLERS
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_MAX_HANDLERS 8
#else
#define WAMP1_MAX_HANDLERS 16
#endif
#endif
#ifndef WAMP1_MAX_MIDDLEWARE
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_MAX_MIDDLEWARE 2
#else
#define WAMP1_MAX_MIDDLEWARE 4
#endif
#endif
#ifndef WAMP1_MAX_PARAMS
#define WAMP1_MAX_PARAMS 4
#endif
#ifndef WAMP1_JSON_TOKENS
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_JSON_TOKENS 32
#else
#define WAMP1_JSON_TOKENS 128
#endif
#endif
#ifndef WAMP1_JSON_DEPTH
#define WAMP1_JSON_DEPTH 16
#endif
#ifndef WAMP1_QUEUE_SLOTS
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_QUEUE_SLOTS 2
#else
#define WAMP1_QUEUE_SLOTS 8
#endif
#endif
#ifndef WAMP1_QUEUE_SLOT_SIZE
#if WAMP1_SMALL_DEFAULTS
#define WAMP1_QUEUE_SLOT_SIZE 96
#else
#define WAMP1_QUEUE_SLOT_SIZE 256
#endif
#endif
#ifndef WAMP1_SESSION_ID_LEN
#define WAMP1_SESSION_ID_LEN 16
#endif
#if WAMP1_SESSION_ID_LEN < 16
#error "WAMP1_SESSION_ID_LEN must be at least 16 (12 random characters and a 4-character slot tag)"
#endif
#ifndef WAMP1_BRIDGE
#define WAMP1_BRIDGE (!WAMP1_SMALL_DEFAULTS)
#endif
#ifndef WAMP1_SERVER_IDENT
#define WAMP1_SERVER_IDENT "wamp1.h/0.1"
#endif

#ifdef __cplusplus
extern "C" {
#endif


/* ======================================================================== */
/*  WAMP v1: types                                                          */
/* ======================================================================== */

typedef struct wamp1_app wamp1_app;

enum { /* WAMP v1 message types */
    WAMP1_MSG_WELCOME = 0, WAMP1_MSG_PREFIX = 1, WAMP1_MSG_CALL = 2, WAMP1_MSG_CALLRESULT = 3,
    WAMP1_MSG_CALLERROR = 4, WAMP1_MSG_SUBSCRIBE = 5, WAMP1_MSG_UNSUBSCRIBE = 6,
    WAMP1_MSG_PUBLISH = 7, WAMP1_MSG_EVENT = 8
};

/* Errors a handler can answer with; the error-URI resolver names them. */
typedef enum wamp1_call_status {
    WAMP1_CALL_OK = 0,               /* answered, or deferred */
    WAMP1_CALL_NO_ENDPOINT = 1,      /* http://api.wamp.ws/error#NoSuchRPCEndpoint */
    WAMP1_CALL_INVALID_ARGUMENT = 2, /* http://api.wamp.ws/error#invalid_argument */
    WAMP1_CALL_GENERIC = 3,          /* http://api.wamp.ws/error#generic */
    WAMP1_CALL_INTERNAL = 4          /* http://api.wamp.ws/error#internal */
} wamp1_call_status;

/* Placeholder values of a matched route, e.g. {room} in "http://x/chat/{room}". Valid
   during the callback that receives them. */
typedef struct wamp1_match {
    unsigned count;
    struct {
        const char *name, *value;
        size_t name_len, value_len;
    } params[WAMP1_MAX_PARAMS];
} wamp1_match;

typedef struct wamp1_route wamp1_route;

/* A CALL being answered. Valid during the handler; keep wamp1_call_defer()'s handle to
   answer later. */
typedef struct wamp1_call {
    wamp1_app *app;
    wamp1_conn *conn;          /* NULL when a deferred call's caller has gone */
    const char *uri;           /* the procedure's full URI (CURIE expanded) */
    size_t uri_len;
    const wamp1_match *match;
    const wamp1_route *route;
    const char *json;          /* the CALL message text; tokens point into it */
    const wamp1_json_tok *toks;
    int ntoks;
    unsigned argc;             /* number of arguments */
    /* private */
    const char *callid_json;   /* callID as written in JSON, with quotes */
    size_t callid_len;
    uint32_t value_at;         /* writer length before the result value */
    int state;
    wamp1_frame_writer fw;     /* the answer, written in place */
} wamp1_call;

/* A deferred call: index + generation, safe to keep and to answer late. */
typedef struct wamp1_call_handle { uint32_t id; } wamp1_call_handle;

/* A PUBLISH on its way to the broker. */
typedef struct wamp1_publish {
    wamp1_app *app;
    wamp1_conn *publisher;
    const char *topic;         /* full URI */
    size_t topic_len;
    const wamp1_match *match;
    const char *json;
    const wamp1_json_tok *toks;
    int event;                 /* token of the event */
    int exclude;               /* token of the exclude array, or -1 */
    int eligible;              /* token of the eligible array, or -1 */
    int exclude_me;            /* the publisher is excluded */
} wamp1_publish;

/* What a route leads to. Every callback is optional. */
typedef struct wamp1_handler {
    /* RPC: answer with wamp1_call_result*() / wamp1_call_error*(), or defer, and return
       WAMP1_CALL_OK; any other status makes the library answer that error. */
    wamp1_call_status (*call)(wamp1_call *call, void *user);
    /* Topic: return 0 to allow the subscription, anything else to veto it (silently). */
    int (*subscribe)(wamp1_app *app, wamp1_conn *c, const char *topic, size_t len,
                     const wamp1_match *m, void *user);
    void (*unsubscribe)(wamp1_app *app, wamp1_conn *c, const char *topic, size_t len,
                        const wamp1_match *m, void *user);
    /* NULL: the built-in broker (wamp1_publish_broker) */
    void (*publish)(wamp1_publish *p, void *user);
    void *user;
} wamp1_handler;

enum { WAMP1_ROUTE_RPC = 1, WAMP1_ROUTE_TOPIC = 2 };

/* A route: a full URI pattern; {name} matches one segment (no '/', '#' or '?'). */
struct wamp1_route {
    const char *pattern;            /* must stay valid while the app runs */
    int kind;                       /* WAMP1_ROUTE_RPC or WAMP1_ROUTE_TOPIC */
    int priority;                   /* the highest matching wins; ties: the first added */
    const char *handler_name;       /* looked up by the resolver when handler is NULL */
    const wamp1_handler *handler;
};

/* Message middleware: runs before the handler of every CALL, SUBSCRIBE, UNSUBSCRIBE and
   PUBLISH that matched a route. Return 0 to go on; anything else stops the message (for
   a CALL, answer it first, e.g. with wamp1_call_error()). */
typedef struct wamp1_message {
    int type;                       /* WAMP1_MSG_CALL, _SUBSCRIBE, _UNSUBSCRIBE, _PUBLISH */
    wamp1_conn *conn;
    const char *uri;
    size_t uri_len;
    const wamp1_route *route;
    const wamp1_match *match;
    wamp1_call *call;               /* CALL only */
    wamp1_publish *publish;         /* PUBLISH only */
} wamp1_message;

typedef int (*wamp1_middleware_fn)(wamp1_app *app, const wamp1_message *msg, void *user);

/* WAMP application configuration: zero means default. */
typedef struct wamp1_app_config {
    wamp1_config server;            /* the WebSocket server (its cb and user stay the caller's);
                                       subprotocol defaults to "wamp" */
    const char *server_ident;       /* WELCOME's serverIdent; default WAMP1_SERVER_IDENT */
    int lenient_subprotocol;        /* accept handshakes that do not offer "wamp" */
    int publish_include_publisher;  /* Ratchet: [7,T,E] does not exclude the publisher */
    int curie_hash_join;            /* Ratchet: CURIE expands to prefixURI + "#" + rest */
    int strict;                     /* malformed messages fail the connection (1007/1003) */
    int json_max_depth;             /* default WAMP1_JSON_DEPTH */
    const wamp1_route *routes;      /* routes added by wamp1_app_init (more: wamp1_app_add_route) */
    unsigned route_count;
    /* Plug in your own resolver; NULL: the handler table (wamp1_app_add_handler). */
    const wamp1_handler *(*resolve)(wamp1_app *app, const wamp1_route *r, void *user);
    /* Error URI for a status; NULL: the defaults of the spec. */
    const char *(*error_uri)(wamp1_call_status st, void *user);
    void (*on_open)(wamp1_app *app, wamp1_conn *c, void *user);
    void (*on_close)(wamp1_app *app, wamp1_conn *c, int code, void *user);
    void (*on_error)(wamp1_app *app, wamp1_conn *c, wamp1_error e, const char *reason, void *user);
    void *user;
} wamp1_app_config;

/* Options of wamp1_app_publish(): who gets the EVENT. */
typedef struct wamp1_publish_opts {
    const wamp1_conn_id *exclude;   /* these sessions are left out */
    unsigned exclude_count;
    const wamp1_conn_id *eligible;  /* when set, only these (an empty list: nobody) */
    unsigned eligible_count;
    int use_eligible;
} wamp1_publish_opts;

typedef struct wamp1_wamp_stats {
    uint32_t topics, topics_max, subscriptions, subscriptions_max;
    uint32_t pending_calls, pending_calls_max, prefixes, prefixes_max;
    wamp1_counter calls, events_sent, publishes, malformed, queue_full;
} wamp1_wamp_stats;

/* ======================================================================== */
/*  WAMP v1: API                                                            */
/* ======================================================================== */

/* 0, or -1: no port, buffers below the minimum, too little memory for one connection, the
   built-in block in use by another server, or a route of cfg->routes that does not fit. */
WAMP1_API int wamp1_app_init_checked(wamp1_app *app, const wamp1_app_config *cfg, uint32_t stamp);
#define wamp1_app_init(app, cfg) wamp1_app_init_checked((app), (cfg), WAMP1_CONFIG_STAMP)
WAMP1_API wamp1_server *wamp1_app_server(wamp1_app *app); /* the app's own server */
/* 0, or -1 (listener table full, or the port cannot listen; the error hook says which). */
WAMP1_API int wamp1_app_listen(wamp1_app *app);
/* One loop iteration: 0, or -1 when the port's wait failed. */
WAMP1_API int wamp1_app_poll(wamp1_app *app, int timeout_ms);
/* Listens when not yet listening, then loops until wamp1_app_stop(): 0, or -1 when it
   could not listen. */
WAMP1_API int wamp1_app_run(wamp1_app *app);
WAMP1_API void wamp1_app_stop(wamp1_app *app);
/* Closes every connection (1001), waits up to timeout_ms for them, frees the rest; 0.
   The app can be initialized again afterwards. */
WAMP1_API int wamp1_app_shutdown(wamp1_app *app, uint32_t timeout_ms);
WAMP1_API void wamp1_app_stats(const wamp1_app *app, wamp1_wamp_stats *out);
WAMP1_API wamp1_app *wamp1_conn_app(const wamp1_conn *c); /* the app a connection belongs to */
/* The app whose server this is (NULL for a plain WebSocket server): timers and watched
   sockets get the server; wamp1_server_user() stays the user's own cfg.server.user. */
WAMP1_API wamp1_app *wamp1_server_app(wamp1_server *s);

/* Routing. Each returns 0, or -1 when the argument is missing or the table is full
   (WAMP1_MAX_ROUTES, WAMP1_MAX_HANDLERS, WAMP1_MAX_MIDDLEWARE; the error hook is told
   WAMP1_ERR_LIMIT with the macro's name). Patterns are not copied: keep them alive. */
/* Routes and handlers meet the library here: these check, as init does, that the calling
   file was compiled with the library's options (see WAMP1_CONFIG_STAMP). */
WAMP1_API int wamp1_app_add_route_checked(wamp1_app *app, const wamp1_route *r, uint32_t stamp);
WAMP1_API int wamp1_app_add_rpc_checked(wamp1_app *app, const char *pattern, const wamp1_handler *h, uint32_t stamp);
WAMP1_API int wamp1_app_add_topic_checked(wamp1_app *app, const char *pattern, const wamp1_handler *h, uint32_t stamp);
WAMP1_API int wamp1_app_add_handler_checked(wamp1_app *app, const char *name, const wamp1_handler *h, uint32_t stamp);
#define wamp1_app_add_route(app, r) wamp1_app_add_route_checked((app), (r), WAMP1_CONFIG_STAMP)
#define wamp1_app_add_rpc(app, p, h) wamp1_app_add_rpc_checked((app), (p), (h), WAMP1_CONFIG_STAMP)
#define wamp1_app_add_topic(app, p, h) wamp1_app_add_topic_checked((app), (p), (h), WAMP1_CONFIG_STAMP)
#define wamp1_app_add_handler(app, n, h) wamp1_app_add_handler_checked((app), (n), (h), WAMP1_CONFIG_STAMP)
WAMP1_API int wamp1_app_add_middleware(wamp1_app *app, wamp1_middleware_fn fn, void *user);
/* Match a full URI against a pattern; 1 on a match (m may be NULL), else 0. match_get
   returns a {name} parameter's value (not terminated; *len its length), or NULL. */
WAMP1_API int wamp1_route_match(const char *pattern, const char *uri, size_t len, wamp1_match *m);
WAMP1_API const char *wamp1_match_get(const wamp1_match *m, const char *name, size_t *len);

/* Answering calls. A call is answered once: result_begin/error_begin return the writer for
   the one value (NULL when the call was already answered or its caller has gone); the _end
   functions, result_json and error return 0 when the answer was queued, -1 when it was
   already answered, the caller has gone, or it did not fit (then a short CALLERROR
   "result larger than the send buffer" goes out instead and WAMP1_ERR_LIMIT is reported). */
WAMP1_API int wamp1_call_arg(const wamp1_call *call, unsigned i); /* token index or -1 */
/* Typed arguments (i from 0): 0 with the value in *out, or WAMP1_ARG_MISSING (fewer
   arguments), WAMP1_ARG_TYPE (another JSON type; for _int also a fraction or a value beyond
   int64_t, for _double one beyond a double) or, for _str, WAMP1_ARG_SPACE (the unescaped
   string and its NUL do not fit cap: buf holds what fitted, *len the length it needs). */
#define WAMP1_ARG_MISSING (-1)
#define WAMP1_ARG_TYPE (-2)
#define WAMP1_ARG_SPACE (-3)
WAMP1_API int wamp1_call_arg_int(const wamp1_call *call, unsigned i, int64_t *out);
WAMP1_API int wamp1_call_arg_double(const wamp1_call *call, unsigned i, double *out);
WAMP1_API int wamp1_call_arg_bool(const wamp1_call *call, unsigned i, int *out);
WAMP1_API int wamp1_call_arg_str(const wamp1_call *call, unsigned i, char *buf, size_t cap, size_t *len);
/* The callID as the client wrote it (JSON string contents, escapes kept; not terminated). */
WAMP1_API const char *wamp1_call_id(const wamp1_call *call, size_t *len);
WAMP1_API wamp1_jwriter *wamp1_call_result_begin(wamp1_call *call); /* write one value */
WAMP1_API int wamp1_call_result_end(wamp1_call *call);
WAMP1_API int wamp1_call_result_json(wamp1_call *call, const char *json, size_t len);
WAMP1_API int wamp1_call_error(wamp1_call *call, const char *uri, const char *desc);
WAMP1_API wamp1_jwriter *wamp1_call_error_begin(wamp1_call *call, const char *uri, const char *desc);
WAMP1_API int wamp1_call_error_end(wamp1_call *call); /* after writing the details value */
WAMP1_API wamp1_call_handle wamp1_call_defer(wamp1_call *call); /* id 0: no slot left */
/* Take a deferred call back to answer it: 0, or -1 when the handle is stale. When the
   caller has gone, call->conn is NULL and answering does nothing. */
WAMP1_API int wamp1_call_resume(wamp1_app *app, wamp1_call_handle h, wamp1_call *call);
WAMP1_API const char *wamp1_error_uri_default(wamp1_call_status st); /* the spec's error URI */
/* Is a deferred call still waiting (1), or answered / dropped with its caller (0)? */
WAMP1_API int wamp1_call_live(const wamp1_app *app, wamp1_call_handle h);

/* Topics and publishing */
WAMP1_API void wamp1_publish_broker(wamp1_publish *p); /* the standard receivers rule */
/* EVENT [8, topic, event] to the topic's subscribers; returns the number of receivers. */
WAMP1_API int wamp1_app_publish(wamp1_app *app, const char *topic, const char *event_json,
                                size_t len, const wamp1_publish_opts *opts);
/* Subscribers of a topic (0 when it has none); 1 when c is subscribed to topic, else 0. */
WAMP1_API int wamp1_app_topic_subscribers(const wamp1_app *app, const char *topic);
WAMP1_API int wamp1_conn_subscribed(const wamp1_conn *c, const char *topic);
/* Iterate topics: i from 0; returns the next used index >= i or -1. */
WAMP1_API int wamp1_app_topic_next(const wamp1_app *app, int i, const char **uri, unsigned *subscribers);

/* Sessions and CURIEs. The WAMP sessionId of WELCOME (16 characters, NUL-terminated). */
WAMP1_API const char *wamp1_conn_session_id(const wamp1_conn *c);
/* Resolve a URI or CURIE as this connection's PREFIXes say; returns the length or -1. */
WAMP1_API int wamp1_conn_resolve_curie(const wamp1_conn *c, const char *in, size_t n, char *out, size_t cap);
/* Send an EVENT to one connection: 0, or -1 as wamp1_conn_send. */
WAMP1_API int wamp1_conn_event(wamp1_conn *c, const char *topic, const char *event_json, size_t len);

/* From any thread: run fn(app, arg) in the loop, or publish there. 0, or WAMP1_QUEUE_FULL
   (-1: every one of WAMP1_QUEUE_SLOTS is taken, or fn is NULL); publish_async also
   WAMP1_QUEUE_TOO_BIG (topic and event together do not fit WAMP1_QUEUE_SLOT_SIZE),
   WAMP1_QUEUE_NO_ROUTE (no topic route matches the topic: add routes before other threads
   publish) and WAMP1_QUEUE_BAD_JSON (the event is not one JSON value). Needs the port's
   lock/unlock and wake. */
#define WAMP1_QUEUE_FULL (-1)
#define WAMP1_QUEUE_TOO_BIG (-2)
#define WAMP1_QUEUE_NO_ROUTE (-3)
#define WAMP1_QUEUE_BAD_JSON (-4)
WAMP1_API int wamp1_app_post(wamp1_app *app, void (*fn)(wamp1_app *app, void *arg), void *arg);
WAMP1_API int wamp1_app_publish_async(wamp1_app *app, const char *topic, const char *event_json,
                                      size_t len);

#if WAMP1_BRIDGE
/* Bridge: several servers share their topics (port/wamp1_redis.h is one). After local
   delivery, every publish (client PUBLISH through wamp1_publish_broker, wamp1_app_publish)
   is handed to bridge->publish; bridge->topic hears when a topic gets its first local
   subscriber (1) and loses its last (0). Events from the other servers come back through
   wamp1_app_bridge_deliver, which applies their exclude/eligible lists to this server's
   subscribers and hands nothing to the bridge. Both callbacks run in the loop. */
typedef struct wamp1_bridge_event {
    const char *topic, *event;      /* full URI; the event's JSON text */
    size_t topic_len, event_len;
    unsigned exclude_count, eligible_count;
    int use_eligible;               /* the eligible list applies (empty: nobody) */
    /* private */
    const wamp1_publish *p;
    const wamp1_publish_opts *opts;
    wamp1_app *app;
    uint32_t at[2], ati[2];         /* where the last entry of each token list was */
    const char *ids[2];             /* or packed session ids (port/wamp1_publisher.h) */
} wamp1_bridge_event;
typedef struct wamp1_bridge {
    void (*publish)(struct wamp1_bridge *b, wamp1_bridge_event *ev);
    void (*topic)(struct wamp1_bridge *b, const char *topic, size_t len, int subscribed);
    void *user;
} wamp1_bridge;
WAMP1_API void wamp1_app_set_bridge(wamp1_app *app, wamp1_bridge *b); /* NULL: none */
/* Entry i of ev's exclude (list 0) or eligible (list 1) list as a session id, copied to
   out[WAMP1_SESSION_ID_LEN + 1]: 0, or -1 when that entry can be no session id. Going
   through a list in order costs one step per entry. */
WAMP1_API int wamp1_bridge_event_sid(wamp1_bridge_event *ev, int list, unsigned i, char *out);
/* An event from another server: EVENT to the local subscribers of topic, less the sessions
   in exclude, only those in eligible when use_eligible; both lists are session ids of
   WAMP1_SESSION_ID_LEN characters each, packed. Returns the receivers, or -1 when the
   event is not JSON (reported). */
WAMP1_API int wamp1_app_bridge_deliver(wamp1_app *app, const char *topic, size_t topic_len,
                                       const char *event, size_t len, const char *exclude,
                                       unsigned exclude_count, const char *eligible,
                                       unsigned eligible_count, int use_eligible);
#endif

#ifdef __cplusplus
}
#endif
#endif /* WAMP1_NO_WAMP */

/* ---- WAMP internal state (visible for static allocation) ---------------- */
#ifndef WAMP1_NO_WAMP
#ifdef __cplusplus
extern "C" {
#endif

typedef struct wamp1__topic {
    uint32_t hash;
    uint16_t head;       /* first subscription, or WAMP1__NIL */
    uint16_t hnext;      /* next topic in the hash bucket / free list */
    uint16_t count;      /* subscribers */
    uint8_t used;
    uint8_t len;
    char uri[WAMP1_MAX_URI];
} wamp1__topic;

/* A connection's index in the WAMP tables: 16 bits unless the pool is larger. */
#if WAMP1_MAX_CONNECTIONS > 0xFFFF
typedef uint32_t wamp1__cix;
#else
typedef uint16_t wamp1__cix;
#endif

typedef struct wamp1__sub {
    wamp1__cix conn;
    uint16_t topic;
    uint16_t tprev, tnext; /* the topic's subscribers */
    uint16_t cnext;        /* the connection's subscriptions / free list */
} wamp1__sub;

typedef struct wamp1__prefix {
    uint16_t next;
    uint8_t nlen, ulen;
    char name[WAMP1_MAX_PREFIX_NAME];
    char uri[WAMP1_MAX_PREFIX_URI];
} wamp1__prefix;

typedef struct wamp1__pending {
    wamp1_conn_id conn;
    uint16_t gen;
    uint8_t used, len;
    char callid[WAMP1_MAX_CALLID];
} wamp1__pending;

typedef struct wamp1__wconn {
    char sid[WAMP1_SESSION_ID_LEN + 1];
    uint8_t nprefix;
    uint16_t subs, prefixes;
} wamp1__wconn;

typedef struct wamp1__qslot {
    void (*fn)(wamp1_app *app, void *arg);
    void *arg;
    uint16_t tlen, elen;
    char data[WAMP1_QUEUE_SLOT_SIZE];
} wamp1__qslot;

#if WAMP1_SMALL_DEFAULTS
#define WAMP1__TOPIC_BUCKETS (WAMP1_MAX_TOPICS + 1)
#else
#define WAMP1__TOPIC_BUCKETS (WAMP1_MAX_TOPICS * 2 + 1)
#endif

/* What the app keeps of its wamp1_app_config (the server keeps the rest). */
typedef struct wamp1__app_cfg {
    const char *server_ident;
    uint8_t publish_include_publisher, curie_hash_join, strict;
    int json_max_depth;
    const wamp1_handler *(*resolve)(wamp1_app *app, const wamp1_route *r, void *user);
    const char *(*error_uri)(wamp1_call_status st, void *user);
    void (*on_open)(wamp1_app *app, wamp1_conn *c, void *user);
    void (*on_close)(wamp1_app *app, wamp1_conn *c, int code, void *user);
    void (*on_error)(wamp1_app *app, wamp1_conn *c, wamp1_error e, const char *reason, void *user);
    void *user;
} wamp1__app_cfg;

struct wamp1_app {
    wamp1_server server;
    wamp1__app_cfg cfg;
    wamp1_wamp_stats stats;
    wamp1_route routes[WAMP1_MAX_ROUTES];
#if !WAMP1_SMALL_DEFAULTS
    /* per route: the length of the pattern's literal start (up to its first '{') and of the
       whole pattern when it has no placeholder (else 0xFFFF): lookups skip the routes whose
       start differs with one memcmp, and match exact URIs without the pattern matcher */
    uint16_t route_lit[WAMP1_MAX_ROUTES], route_len[WAMP1_MAX_ROUTES];
#endif
    struct { const char *name; const wamp1_handler *h; } handlers[WAMP1_MAX_HANDLERS];
    struct { wamp1_middleware_fn fn; void *user; } mw[WAMP1_MAX_MIDDLEWARE];
    unsigned nroutes, nhandlers, nmw;
#if WAMP1_BRIDGE
    wamp1_bridge *bridge;          /* cleared by init */
#endif
    uint32_t sid_counter, sid_key; /* the fallback's counter; the slot tag's key (random) */
    uint16_t topic_free, sub_free, prefix_free;
    uint16_t buckets[WAMP1__TOPIC_BUCKETS];
    wamp1__topic topics[WAMP1_MAX_TOPICS];
    wamp1__sub subs[WAMP1_MAX_SUBSCRIPTIONS];
    wamp1__prefix prefixes[WAMP1_MAX_PREFIXES];
    wamp1__pending pending[WAMP1_MAX_PENDING_CALLS];
    wamp1__wconn wconns[WAMP1_MAX_CONNECTIONS];
    wamp1_json_tok toks[WAMP1_JSON_TOKENS];
    char uri[WAMP1_MAX_URI + 1], uri2[WAMP1_MAX_URI + 1];
    wamp1__qslot queue[WAMP1_QUEUE_SLOTS];
    unsigned qhead, qcount;
    char sink[1];
    wamp1_jwriter sink_writer;
};

#ifdef __cplusplus
}
#endif
#endif /* WAMP1_NO_WAMP */

/* The layout this file sees: it changes with every option that changes a structure the
   library and its callers share (pool sizes, buffers, token size, counters, features).
   Init and the route calls compare the caller's with the library's, so a file compiled
   with other options is refused (WAMP1_ERR_CONFIG, and WAMP1_ASSERT) instead of misread. */
#ifndef WAMP1_NO_WAMP
#define WAMP1_CONFIG_STAMP                                                                   \
    ((uint32_t)sizeof(wamp1_app) * 2654435761u ^ (uint32_t)sizeof(wamp1_json_tok) << 24 ^      \
     (uint32_t)sizeof(wamp1_call) << 12 ^ (uint32_t)sizeof(wamp1_conn) ^ 0x57414D50u ^           \
     (uint32_t)sizeof(wamp1_request) << 20)
#else
#define WAMP1_CONFIG_STAMP                                                                   \
    ((uint32_t)sizeof(wamp1_server) * 2654435761u ^ (uint32_t)sizeof(wamp1_conn) ^ 0x57530000u ^ \
     (uint32_t)sizeof(wamp1_request) << 20)
#endif

#endif /* WAMP1_H_INCLUDED */

/* ======================================================================== */
/* ======================================================================== */
/*  Implementation                                                          */
/* ======================================================================== */
/* ======================================================================== */

#if defined(WAMP1_IMPLEMENTATION) && !defined(WAMP1__IMPLEMENTED)
#define WAMP1__IMPLEMENTED

/* Definitions carry "unused" so that WAMP1_API=static builds stay free of warnings. */
#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__DEF WAMP1_API __attribute__((unused))
#else
#define WAMP1__DEF WAMP1_API
#endif

#if !defined(WAMP1_NO_SESSION) && !defined(WAMP1_NO_STDIO_FILES)
#include <stdio.h> /* fopen/fread for PHP session files */
#endif

#ifndef WAMP1_ASSERT
#if defined(WAMP1_NO_STDIO_FILES) && !defined(NDEBUG)
/* firmware: a failed check stops here (a debugger shows where) instead of pulling in
   assert(), which brings fprintf and stdio */
#if defined(__GNUC__) || defined(__clang__)
#define WAMP1_ASSERT(c) ((c) ? (void)0 : __builtin_trap())
#else
#define WAMP1_ASSERT(c) ((c) ? (void)0 : (void)(*(volatile int *)0 = 0))
#endif
#else
#include <assert.h>
#define WAMP1_ASSERT(c) assert(c)
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/*  Small helpers                                                           */
/* ------------------------------------------------------------------------ */

/* The stop flag is set from signal handlers and other threads: atomic where the compiler
   offers it (lock-free for int, so also async-signal-safe), volatile otherwise. */
#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__FLAG_SET(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define WAMP1__FLAG_GET(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#else
#define WAMP1__FLAG_SET(p, v) (*(volatile int *)(p) = (v))
#define WAMP1__FLAG_GET(p) (*(volatile const int *)(p))
#endif

static char wamp1__lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

/* The one case-insensitive (ASCII) compare: a[0..an) and b[0..bn) */
static int wamp1__ieqn(const char *a, size_t an, const char *b, size_t bn) {
    size_t i;
    if (an != bn) return 0;
    for (i = 0; i < an; i++)
        if (wamp1__lower(a[i]) != wamp1__lower(b[i])) return 0;
    return 1;
}

static int wamp1__ieq(const char *a, size_t an, const char *b) { return wamp1__ieqn(a, an, b, strlen(b)); }

static unsigned wamp1__utoa(char *end, uint64_t v);

/* Writes the decimal form of v; returns its length (at most 10). A 32-bit loop of its own:
   a WebSocket-only build has no JSON writer (and its 64-bit formatter) to share. */
static size_t wamp1__fmt_u(uint32_t v, char *out) {
    char tmp[10];
    size_t n = 0, i;
    do tmp[n++] = (char)('0' + (int)(v % 10u)); while ((v /= 10u) != 0);
    for (i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

static int wamp1__is_tchar(unsigned char c) {
    if (c >= '0' && c <= '9') return 1;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return 1;
    return c != 0 && memchr("!#$%&'*+-.^_`|~", (int)c, 15) != NULL;
}

static int wamp1__is_ws(char c) { return c == ' ' || c == '\t'; }

/* Is token tok (case-insensitive) an element of the comma-separated list v? */
static int wamp1__list_has(const char *v, size_t n, const char *tok) {
    size_t i = 0, tl = strlen(tok);
    while (i < n) {
        size_t s, e;
        while (i < n && (wamp1__is_ws(v[i]) || v[i] == ',')) i++;
        s = i;
        while (i < n && v[i] != ',') i++;
        e = i;
        while (e > s && wamp1__is_ws(v[e - 1])) e--;
        if (e - s == tl && wamp1__ieq(v + s, tl, tok)) return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/*  SHA-1 (FIPS 180-4) and base64, for the handshake                        */
/* ------------------------------------------------------------------------ */

typedef struct wamp1__sha1 {
    uint32_t h[5];
    uint64_t total;
    uint8_t block[64];
    size_t used;
} wamp1__sha1;

static uint32_t wamp1__rol(uint32_t v, unsigned n) { return (v << n) | (v >> (32u - n)); }

static void wamp1__sha1_block(wamp1__sha1 *s, const uint8_t *p) {
    uint32_t w[16], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    unsigned i;
    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (i = 0; i < 80; i++) {
        uint32_t f, k, t;
        if (i >= 16) {
            t = w[(i + 13) & 15] ^ w[(i + 8) & 15] ^ w[(i + 2) & 15] ^ w[i & 15];
            w[i & 15] = wamp1__rol(t, 1);
        }
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999u; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1u; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
        else { f = b ^ c ^ d; k = 0xCA62C1D6u; }
        t = wamp1__rol(a, 5) + f + e + k + w[i & 15];
        e = d; d = c; c = wamp1__rol(b, 30); b = a; a = t;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e;
}

static void wamp1__sha1_init(wamp1__sha1 *s) {
    s->h[0] = 0x67452301u; s->h[1] = 0xEFCDAB89u; s->h[2] = 0x98BADCFEu;
    s->h[3] = 0x10325476u; s->h[4] = 0xC3D2E1F0u;
    s->total = 0; s->used = 0;
}

static void wamp1__sha1_add(wamp1__sha1 *s, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    s->total += n;
    while (n) {
        size_t k = 64 - s->used;
        if (k > n) k = n;
        memcpy(s->block + s->used, p, k);
        s->used += k; p += k; n -= k;
        if (s->used == 64) { wamp1__sha1_block(s, s->block); s->used = 0; }
    }
}

static void wamp1__sha1_done(wamp1__sha1 *s, uint8_t out[20]) {
    uint64_t bits = s->total * 8u;
    uint8_t pad = 0x80, len[8];
    unsigned i;
    wamp1__sha1_add(s, &pad, 1);
    pad = 0;
    while (s->used != 56) wamp1__sha1_add(s, &pad, 1);
    for (i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
    wamp1__sha1_add(s, len, 8);
    for (i = 0; i < 20; i++) out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

WAMP1__DEF void wamp1_sha1(const void *data, size_t len, uint8_t out[20]) {
    wamp1__sha1 s;
    wamp1__sha1_init(&s);
    wamp1__sha1_add(&s, data, len);
    wamp1__sha1_done(&s, out);
}

static const char wamp1__b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

WAMP1__DEF size_t wamp1_base64_encode(const uint8_t *in, size_t n, char *out) {
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = wamp1__b64[v >> 18]; out[o++] = wamp1__b64[(v >> 12) & 63];
        out[o++] = wamp1__b64[(v >> 6) & 63]; out[o++] = wamp1__b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0u);
        out[o++] = wamp1__b64[v >> 18]; out[o++] = wamp1__b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? wamp1__b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
    return o;
}

static int wamp1__b64_val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* A Sec-WebSocket-Key must be the base64 form of exactly 16 bytes. */
static int wamp1__key_ok(const char *k, size_t n) {
    size_t i;
    if (n != 24 || k[22] != '=' || k[23] != '=') return 0;
    for (i = 0; i < 22; i++)
        if (wamp1__b64_val(k[i]) < 0) return 0;
    return (wamp1__b64_val(k[21]) & 15) == 0; /* no stray bits past byte 16 */
}

WAMP1__DEF void wamp1_ws_accept_key(const char *key, size_t key_len, char out[29]) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    wamp1__sha1 s;
    uint8_t d[20];
    wamp1__sha1_init(&s);
    wamp1__sha1_add(&s, key, key_len);
    wamp1__sha1_add(&s, guid, sizeof guid - 1);
    wamp1__sha1_done(&s, d);
    wamp1_base64_encode(d, 20, out);
}

/* ------------------------------------------------------------------------ */
/*  UTF-8: incremental, fail-fast                                           */
/* ------------------------------------------------------------------------ */

/* state: bits 0-1 continuation bytes still needed, bits 8-15 lowest and 16-23 highest
   value allowed for the next byte (this is what rejects overlongs, surrogates and
   code points above U+10FFFF as early as the byte that makes them impossible). */
WAMP1__DEF size_t wamp1_utf8_validate(uint32_t *state, const uint8_t *p, size_t n) {
    uint32_t need = *state & 3u, lo = (*state >> 8) & 0xFFu, hi = (*state >> 16) & 0xFFu;
    size_t i = 0;
    while (i < n) {
        uint32_t b = p[i];
        if (need == 0) {
            if (b < 0x80) {
                /* ASCII run: skip quickly */
                i++;
#ifndef __OPTIMIZE_SIZE__ /* -Os: 4 at a time */
                for (; i + 8 <= n; i += 8) {
                    uint64_t w;
                    memcpy(&w, p + i, 8);
                    if (w & 0x8080808080808080u) break;
                }
#endif
                while (i + 4 <= n && ((p[i] | p[i + 1] | p[i + 2] | p[i + 3]) & 0x80) == 0) i += 4;
                continue;
            }
            if (b < 0xC2) break;
            if (b < 0xE0) { need = 1; lo = 0x80; hi = 0xBF; }
            else if (b < 0xF0) {
                need = 2;
                lo = b == 0xE0 ? 0xA0 : 0x80;
                hi = b == 0xED ? 0x9F : 0xBF;
            } else if (b < 0xF5) {
                need = 3;
                lo = b == 0xF0 ? 0x90 : 0x80;
                hi = b == 0xF4 ? 0x8F : 0xBF;
            } else break;
        } else {
            if (b < lo || b > hi) break;
            need--; lo = 0x80; hi = 0xBF;
        }
        i++;
    }
    *state = need | lo << 8 | hi << 16;
    return i;
}

WAMP1__DEF int wamp1_utf8_complete(uint32_t state) { return (state & 3u) == 0; }

WAMP1__DEF int wamp1_close_code_valid(int code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* ------------------------------------------------------------------------ */
/*  Frames                                                                  */
/* ------------------------------------------------------------------------ */

WAMP1__DEF size_t wamp1_frame_header(uint8_t out[10], wamp1_opcode op, int fin, uint64_t len) {
    size_t hl = len < 126 ? 2 : len <= 0xFFFF ? 4 : 10, i;
    out[0] = (uint8_t)((fin ? 0x80 : 0) | ((unsigned)op & 0x0F));
    out[1] = (uint8_t)(hl == 2 ? len : hl == 4 ? 126 : 127);
    for (i = hl; i > 2; i--, len >>= 8) out[i - 1] = (uint8_t)len; /* big-endian length */
    return hl;
}

/* ------------------------------------------------------------------------ */
/*  HTTP status texts (only those the library sends)                        */
/* ------------------------------------------------------------------------ */

WAMP1__DEF const char *wamp1_http_status_text(int status) {
#ifdef WAMP1_NO_ERROR_TEXT
    return status == 200 ? "OK" : ""; /* an empty reason phrase is valid HTTP */
#else
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
#if WAMP1_HTTP_BODY
    case 411: return "Length Required";
#endif
    case 413: return "Content Too Large";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
#endif
}

WAMP1__DEF const char *wamp1_request_header(const wamp1_request *r, const char *name, size_t *len) {
    unsigned i;
    for (i = 0; i < r->header_count; i++) {
        if (wamp1__ieq(r->headers[i].name, r->headers[i].name_len, name)) {
            if (len) *len = r->headers[i].value_len;
            return r->headers[i].value;
        }
    }
    if (len) *len = 0;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/*  Connections: states, buffers, sending                                   */
/* ------------------------------------------------------------------------ */

enum {
    WAMP1__FREE = 0,
    WAMP1__HTTP,    /* reading the upgrade request */
    WAMP1__OPEN,    /* WebSocket open */
    WAMP1__CLOSING, /* our close frame sent, waiting for the peer's */
    WAMP1__FLUSH,   /* write what is queued, then half-close */
    WAMP1__LINGER   /* half-closed: discard input until EOF or the deadline */
};

enum {
    WAMP1__F_PING_OUT = 1,   /* keepalive ping without pong yet */
    WAMP1__F_CLOSE_SENT = 2, /* a close frame is queued */
    WAMP1__F_OPENED = 4,     /* on_open was called */
    WAMP1__F_WRITE_FAIL = 8, /* the socket failed to write: stop writing */
    WAMP1__F_EOF = 16,       /* the peer half-closed while we still write */
    WAMP1__F_SESSION = 32    /* the session link found the caller's web session */
};

/* lflags: the loop's bookkeeping of a connection */
enum {
    WAMP1__L_DIRTY = 1,  /* in s->dirty: looked at before the next wait */
    WAMP1__L_WAIT_R = 2, /* in the wait list of the (full-size) receive buffers */
    WAMP1__L_WAIT_S = 4, /* ... of the send buffers */
    WAMP1__L_WAIT_Q = 8, /* ... of the small receive buffers: any receive buffer will do */
    WAMP1__L_WAIT = 14
};

#define WAMP1__NONE ((wamp1__ix)~0u)

/* Tags of watched sockets: a connection's is its index; the others sit at the top. */
#define WAMP1__TAG_WATCH 0xFFFFFC00u  /* + watch slot */
#define WAMP1__TAG_REJECT 0xFFFFFD00u /* + reject slot */
#define WAMP1__TAG_LISTEN 0xFFFFFE00u /* + listener */
#define WAMP1__TAG_WAKE 0xFFFFFFFEu

static uint32_t wamp1__cindex(const wamp1_conn *c) { return (uint32_t)(c - c->srv->conns); }

/* This connection needs a look before the loop waits again (output queued, state changed,
   input held back): the loop's work follows these, never the pool. */
static void wamp1__dirty(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    if (c->lflags & WAMP1__L_DIRTY) return;
    c->lflags |= WAMP1__L_DIRTY;
    {   /* a ring: each connection is in it at most once, so nconns entries suffice */
        uint32_t at = s->dhead + s->ndirty++;
        if (at >= s->nconns) at -= s->nconns;
        s->dirty[at] = (wamp1__ix)wamp1__cindex(c);
    }
}

/* ---- lent buffers ---- */
static uint32_t wamp1__pool_size(const wamp1_server *s, const wamp1__bufpool *p) {
    return p == &s->rpool ? s->cfg.recv_buffer_size : p == &s->spool ? s->cfg.send_buffer_size
                                                                     : s->cfg.recv_small_size;
}

static uint8_t *wamp1__buf_take(wamp1_server *s, wamp1__bufpool *p) {
    uint8_t *b;
    if (p->free) {
        b = p->free;
        memcpy(&p->free, b, sizeof p->free);
    } else if (p->carved < p->count) {
        b = p->base + (size_t)p->carved++ * wamp1__pool_size(s, p);
    } else return NULL;
    p->used++;
    return b;
}

/* A connection could not get a buffer of pool p: it reads nothing until one comes back. */
static void wamp1__buf_wait(wamp1_conn *c, wamp1__bufpool *p) {
    wamp1_server *s = c->srv;
    uint32_t i = wamp1__cindex(c);
    if (c->lflags & WAMP1__L_WAIT) return;
    c->lflags |= (uint8_t)(p == &s->rpool ? WAMP1__L_WAIT_R : p == &s->spool ? WAMP1__L_WAIT_S : WAMP1__L_WAIT_Q);
    if (p->wait_tail == WAMP1__NONE) p->wait_head = (wamp1__ix)i;
    else s->conns[p->wait_tail].link = (wamp1__ix)i;
    p->wait_tail = (wamp1__ix)i;
    c->link = WAMP1__NONE;
    s->stats.buffer_waits++;
}

/* The longest waiting connection of pool p may go on; 0 when none waits. */
static int wamp1__buf_wake(wamp1_server *s, wamp1__bufpool *p) {
    wamp1_conn *c;
    if (p->wait_head == WAMP1__NONE) return 0;
    c = &s->conns[p->wait_head];
    p->wait_head = c->link;
    if (p->wait_head == WAMP1__NONE) p->wait_tail = WAMP1__NONE;
    c->lflags &= (uint8_t)~WAMP1__L_WAIT;
    wamp1__dirty(c);
    return 1;
}

/* Leave the wait list (the connection is closed). */
static void wamp1__buf_unwait(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    wamp1__bufpool *p = (c->lflags & WAMP1__L_WAIT_R) ? &s->rpool : (c->lflags & WAMP1__L_WAIT_S) ? &s->spool : &s->qpool;
    wamp1__ix *pp = &p->wait_head, prev = WAMP1__NONE;
    uint32_t i = wamp1__cindex(c);
    if (!(c->lflags & WAMP1__L_WAIT)) return;
    while (*pp != i) { prev = *pp; pp = &s->conns[*pp].link; }
    *pp = c->link;
    if (p->wait_tail == i) p->wait_tail = prev;
    c->lflags &= (uint8_t)~WAMP1__L_WAIT;
}

static void wamp1__buf_give(wamp1_server *s, wamp1__bufpool *p, uint8_t *b) {
    memcpy(b, &p->free, sizeof p->free);
    p->free = b;
    p->used--;
    /* a full-size receive buffer also serves those who wait for any receive buffer */
    if (!wamp1__buf_wake(s, p) && p == &s->rpool) (void)wamp1__buf_wake(s, &s->qpool);
}

/* Give back what a connection holds but does not need. */
/* The pool a receive buffer came from. */
static wamp1__bufpool *wamp1__rpool_of(const wamp1_conn *c) {
    wamp1__bufpool *q = &c->srv->qpool;
    return q->count && c->rbuf >= q->base && c->rbuf < q->base + (size_t)q->count * c->srv->cfg.recv_small_size
               ? q : &c->srv->rpool;
}

/* A receive buffer for a connection that has none: a small one when there are, else (or
   when they are all lent) a full-size one. 0, or -1 after joining a wait list. */
static int wamp1__rbuf_get(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    if (c->rbuf) return 0;
    if (s->qpool.count && (c->rbuf = wamp1__buf_take(s, &s->qpool)) != NULL) {
        c->rcap = s->cfg.recv_small_size - c->req_len;
        return 0;
    }
    if ((c->rbuf = wamp1__buf_take(s, &s->rpool)) != NULL) {
        c->rcap = s->cfg.recv_buffer_size - c->req_len;
        return 0;
    }
    wamp1__buf_wait(c, s->qpool.count ? &s->qpool : &s->rpool);
    return -1;
}

/* Move from a small receive buffer to a full-size one, the kept request on top as before:
   0, or -1 after joining the full-size buffers' wait list. */
static int wamp1__rbuf_grow(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    uint8_t *b;
    if (wamp1__rpool_of(c) == &s->rpool) return 0;
    if (!(b = wamp1__buf_take(s, &s->rpool))) {
        wamp1__buf_wait(c, &s->rpool);
        return -1;
    }
    memcpy(b, c->rbuf, c->rlen);
    memcpy(b + s->cfg.recv_buffer_size - c->req_len, c->rbuf + c->rcap, c->req_len);
    wamp1__buf_give(s, &s->qpool, c->rbuf);
    c->rbuf = b;
    c->rcap = s->cfg.recv_buffer_size - c->req_len;
    return 0;
}

static void wamp1__rbuf_idle(wamp1_conn *c) {
    if (c->rbuf && c->rlen == 0 && c->req_len == 0 && !c->msg_op && !c->fop) {
        wamp1__buf_give(c->srv, wamp1__rpool_of(c), c->rbuf);
        c->rbuf = NULL;
        c->rpos = c->mbase = c->mlen = 0;
    }
}

static void wamp1__sbuf_idle(wamp1_conn *c) {
    if (c->sbuf && c->shead == c->stail && !c->wtop && !c->parked) {
        wamp1__buf_give(c->srv, &c->srv->spool, c->sbuf);
        c->sbuf = NULL;
        c->shead = c->stail = 0;
    }
}

static int wamp1__sbuf_get(wamp1_conn *c) {
    if (!c->sbuf && !(c->sbuf = wamp1__buf_take(c->srv, &c->srv->spool))) return -1;
    return 0;
}

/* The reason texts of errors: WAMP1_NO_ERROR_TEXT leaves them out (every reason is ""). */
#ifdef WAMP1_NO_ERROR_TEXT
#define WAMP1__WHY(text) ""
#else
#define WAMP1__WHY(text) text
#endif

/* WAMP as the server's protocol layer: the app's events run before the user's own
   callbacks (after them on close), when the server is an app's */
#ifndef WAMP1_NO_WAMP
static void wamp1__app_open(wamp1_conn *c, void *user);
static void wamp1__app_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user);
static void wamp1__app_close(wamp1_conn *c, int code, void *user);
static void wamp1__app_error(wamp1_conn *c, wamp1_error e, const char *why, void *user);
static void wamp1__app_tick(wamp1_server *s, uint64_t now, void *user);
#define WAMP1__PROTO(call) do { if (s->proto_user) call; } while (0)
#else
#define WAMP1__PROTO(call) do { } while (0)
#endif

static void wamp1__report(wamp1_server *s, wamp1_conn *c, wamp1_error e, const char *why) {
    wamp1_link *l;
    WAMP1_LOG(why);
    for (l = s->links; l; l = l->next)
        if (l->on_error) l->on_error(l, c, e, why);
    WAMP1__PROTO(wamp1__app_error(c, e, why, s->proto_user));
    if (s->cfg.cb.on_error) s->cfg.cb.on_error(c, e, why, s->cfg.user);
}

/* Bytes of every send buffer kept for control frames (pong, close), so that a close
   frame still fits when data filled the buffer. */
#define WAMP1__CONTROL_RESERVE 128u

static uint32_t wamp1__send_free(const wamp1_conn *c) {
    uint32_t used = (c->stail - c->shead) + c->parked + WAMP1__CONTROL_RESERVE;
    return used >= c->srv->cfg.send_buffer_size ? 0u : c->srv->cfg.send_buffer_size - used;
}

/* An in-place message is open and another message must be queued first: move what it
   wrote so far to the top of the buffer, out of the way. */
static void wamp1__park(wamp1_conn *c) {
    wamp1_frame_writer *fw = c->wtop;
    uint32_t len;
    if (!fw || fw->is_parked) return;
    len = (uint32_t)fw->w.len;
    memmove(c->sbuf + c->srv->cfg.send_buffer_size - c->parked - len, c->sbuf + fw->at + 10, len);
    c->parked += len;
    fw->parked = len;
    fw->is_parked = 1;
    fw->w.cap = fw->w.len; /* written to while parked (misuse): it overflows, nothing is touched */
}

/* A message ended while a newer one is still open (out of order): it is dropped. Its bytes
   are parked (every open message below the top is); the newer parked ones move up over them. */
static void wamp1__drop_writer(wamp1_conn *c, wamp1_frame_writer *fw) {
    wamp1_frame_writer **pp = &c->wtop;
    uint32_t above = 0, top = c->srv->cfg.send_buffer_size - c->parked;
    while (*pp && *pp != fw) {
        if ((*pp)->is_parked) above += (*pp)->parked;
        pp = &(*pp)->prev;
    }
    if (!*pp) return;
    *pp = fw->prev;
    if (fw->is_parked) {
        memmove(c->sbuf + top + fw->parked, c->sbuf + top, above);
        c->parked -= fw->parked;
        fw->is_parked = 0;
    }
}

/* The queued message is in: the open message continues behind it. */
static void wamp1__unpark(wamp1_conn *c) {
    wamp1_frame_writer *fw = c->wtop;
    uint32_t cap = c->srv->cfg.send_buffer_size, len, end;
    if (!fw || !fw->is_parked) return;
    len = fw->parked;
    end = cap - (c->parked - len); /* the top once this message is back */
    fw->is_parked = 0;
    fw->at = c->stail;
    if (c->stail + 10u + len > end) {
        /* a control frame took the room it needed: the message cannot continue */
        c->parked -= len;
        fw->w.buf = (char *)c->sbuf + c->stail;
        fw->w.len = 0;
        fw->w.cap = 0;
        fw->w.overflow = 1;
        return;
    }
    memmove(c->sbuf + c->stail + 10, c->sbuf + cap - c->parked, len);
    c->parked -= len;
    fw->w.buf = (char *)c->sbuf + c->stail + 10;
    fw->w.cap = end > c->stail + 10 + WAMP1__CONTROL_RESERVE ? end - c->stail - 10 - WAMP1__CONTROL_RESERVE : 0;
    if (fw->w.cap < len) fw->w.cap = len;
}

/* Room for n more bytes at the end of the send buffer (leaving `keep` bytes free), or NULL. */
static uint8_t *wamp1__send_reserve(wamp1_conn *c, size_t n, uint32_t keep) {
    uint32_t cap;
    if (wamp1__sbuf_get(c) != 0) {
        wamp1__report(c->srv, c, WAMP1_ERR_LIMIT, WAMP1__WHY("send buffer pool empty"));
        return NULL;
    }
    wamp1__dirty(c);
    wamp1__park(c);
    cap = c->srv->cfg.send_buffer_size - c->parked;
    if (n + keep > cap - (c->stail - c->shead)) return NULL;
    if (n > cap - c->stail) {
        memmove(c->sbuf, c->sbuf + c->shead, c->stail - c->shead);
        c->stail -= c->shead;
        c->shead = 0;
    }
    return c->sbuf + c->stail;
}

static int wamp1__send_raw(wamp1_conn *c, const void *p, size_t n) {
    uint8_t *d = wamp1__send_reserve(c, n, WAMP1__CONTROL_RESERVE);
    if (d) {
        if (n) memcpy(d, p, n);
        c->stail += (uint32_t)n;
    }
    wamp1__unpark(c);
    return d ? 0 : -1;
}

static void wamp1__arm(wamp1_conn *c);
static void wamp1__disarm(wamp1_conn *c);

static void wamp1__set_deadline(wamp1_conn *c, uint32_t ms) {
    c->deadline = c->srv->now + (ms ? ms : 1u);
    wamp1__arm(c);
}

static void wamp1__no_deadline(wamp1_conn *c) {
    if (!c->deadline) return;
    c->deadline = 0;
    wamp1__disarm(c);
}

/* Stop reading new messages: send what is queued, then half-close and drain. */
static void wamp1__to_flush(wamp1_conn *c) {
    if (c->state == WAMP1__FLUSH || c->state == WAMP1__LINGER || c->state == WAMP1__FREE) return;
    c->state = WAMP1__FLUSH;
    wamp1__dirty(c);
    wamp1__set_deadline(c, c->srv->cfg.close_timeout_ms);
}

static int wamp1__queue_frame(wamp1_conn *c, wamp1_opcode op, const void *data, size_t len) {
    uint8_t h[10];
    size_t hl = wamp1_frame_header(h, op, 1, len);
    uint8_t *d = wamp1__send_reserve(c, hl + len, op >= WAMP1_OP_CLOSE ? 0u : WAMP1__CONTROL_RESERVE);
    if (d) {
        memcpy(d, h, hl);
        if (len) memcpy(d + hl, data, len);
        c->stail += (uint32_t)(hl + len);
    }
    wamp1__unpark(c);
    return d ? 0 : -1;
}

/* Queue a close frame. Control frames bypass the slow-consumer policy: when even a
   close frame does not fit, the connection is simply dropped after what is queued. */
static void wamp1__queue_close(wamp1_conn *c, int code, const char *reason) {
    uint8_t p[125];
    size_t n = 0;
    if (c->flags & WAMP1__F_CLOSE_SENT) return;
    c->flags |= WAMP1__F_CLOSE_SENT;
    if (code) {
        p[0] = (uint8_t)(code >> 8); p[1] = (uint8_t)code; n = 2;
        if (reason) {
            size_t rl = strlen(reason);
            if (rl > 123) rl = 123;
            memcpy(p + 2, reason, rl);
            n += rl;
        }
    }
    (void)wamp1__queue_frame(c, WAMP1_OP_CLOSE, p, n);
}

/* Fail the WebSocket connection: close frame with code, no waiting for the answer. */
static void wamp1__fail(wamp1_conn *c, int code, wamp1_error e, const char *why) {
    wamp1_server *s = c->srv;
    if (c->state == WAMP1__FLUSH || c->state == WAMP1__LINGER || c->state == WAMP1__FREE) return;
    if (e == WAMP1_ERR_PROTOCOL || e == WAMP1_ERR_INVALID_UTF8 || e == WAMP1_ERR_TOO_BIG)
        s->stats.protocol_errors++;
    wamp1__report(s, c, e, why);
    if (c->close_code == 0) c->close_code = WAMP1_CLOSE_ABNORMAL;
    wamp1__queue_close(c, code, why);
    wamp1__to_flush(c);
}

static void wamp1__http_error(wamp1_conn *c, int status, const char *why) {
    static const char extra426[] =
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
    char buf[256];
    size_t n = 0;
    const char *extra = status == 426 ? extra426
                      : status == 405 ? (c->srv->cfg.cb.on_http ? "Allow: GET, HEAD\r\n" : "Allow: GET\r\n") : "";
    size_t el = strlen(extra);
#ifdef WAMP1_NO_ERROR_TEXT
    /* an empty reason phrase and no body */
    static const char tail[] = "Content-Length: 0\r\nConnection: close\r\n\r\n";
    memcpy(buf, "HTTP/1.1 ", 9); n = 9;
    n += wamp1__fmt_u((uint32_t)status, buf + n);
    memcpy(buf + n, " \r\n", 3); n += 3;
    memcpy(buf + n, extra, el); n += el;
    memcpy(buf + n, tail, sizeof tail - 1); n += sizeof tail - 1;
#else
    const char *text = wamp1_http_status_text(status);
    size_t tl = strlen(text);
    memcpy(buf, "HTTP/1.1 ", 9); n = 9;
    n += wamp1__fmt_u((uint32_t)status, buf + n);
    buf[n++] = ' ';
    memcpy(buf + n, text, tl); n += tl;
    memcpy(buf + n, "\r\n", 2); n += 2;
    memcpy(buf + n, extra, el); n += el;
    {
        static const char tail[] = "Content-Type: text/plain\r\nContent-Length: ";
        memcpy(buf + n, tail, sizeof tail - 1); n += sizeof tail - 1;
        n += wamp1__fmt_u((uint32_t)(tl + 1), buf + n);
        memcpy(buf + n, "\r\nConnection: close\r\n\r\n", 23); n += 23;
        memcpy(buf + n, text, tl); n += tl;
        buf[n++] = '\n';
    }
#endif
    wamp1__report(c->srv, c, WAMP1_ERR_HTTP, why);
    c->shead = c->stail = 0;
    (void)wamp1__send_raw(c, buf, n);
    wamp1__to_flush(c);
}

WAMP1__DEF void wamp1_conn_http_respond(wamp1_conn *c, int status, const char *content_type,
                                       const void *body, size_t len) {
    wamp1_conn_http_respond_ex(c, status, content_type, NULL, body, len);
}

WAMP1__DEF void wamp1_conn_http_respond_ex(wamp1_conn *c, int status, const char *content_type,
                                          const char *headers, const void *body, size_t len) {
    char h[192];
    size_t n = 0, tl;
    const char *text = wamp1_http_status_text(status);
    if (!c || c->state != WAMP1__HTTP) return;
    if (!content_type) content_type = "text/plain";
    memcpy(h, "HTTP/1.1 ", 9); n = 9;
    n += wamp1__fmt_u((uint32_t)status, h + n);
    h[n++] = ' ';
    tl = strlen(text);
    if (tl > 40) tl = 40;
    memcpy(h + n, text, tl); n += tl;
    memcpy(h + n, "\r\nContent-Type: ", 16); n += 16;
    tl = strlen(content_type);
    if (tl > 64) tl = 64;
    memcpy(h + n, content_type, tl); n += tl;
    memcpy(h + n, "\r\nContent-Length: ", 18); n += 18;
    n += wamp1__fmt_u((uint32_t)len, h + n);
    memcpy(h + n, "\r\nConnection: close\r\n", 21); n += 21;
    c->shead = c->stail = 0;
    if (wamp1__send_raw(c, h, n) != 0 || (headers && wamp1__send_raw(c, headers, strlen(headers)) != 0) ||
        wamp1__send_raw(c, "\r\n", 2) != 0 || (body && wamp1__send_raw(c, body, len) != 0)) {
        c->shead = c->stail = 0;
        wamp1__http_error(c, 500, WAMP1__WHY("response larger than the send buffer"));
        return;
    }
    wamp1__to_flush(c);
}

/* A message does not fit the send buffer: apply the slow-consumer policy. */
static int wamp1__overflow(wamp1_conn *c, size_t need) {
    wamp1_server *s = c->srv;
    if (s->cfg.slow_consumer == WAMP1_SLOW_DROP && need <= s->cfg.send_buffer_size) {
        s->stats.dropped_messages++;
        wamp1__report(s, c, WAMP1_ERR_DROPPED, WAMP1__WHY("send buffer full: message dropped"));
        return -1;
    }
    s->stats.slow_consumers_closed++;
    /* make room for the close frame: the queued data is never going to be read in time */
    wamp1__fail(c, WAMP1_CLOSE_POLICY, WAMP1_ERR_SLOW_CONSUMER,
                need > s->cfg.send_buffer_size ? WAMP1__WHY("message larger than the send buffer")
                                                : WAMP1__WHY("slow consumer: send buffer full"));
    return -1;
}

WAMP1__DEF int wamp1_conn_send(wamp1_conn *c, wamp1_opcode op, const void *data, size_t len) {
    if (!c || c->state != WAMP1__OPEN || (c->flags & WAMP1__F_CLOSE_SENT)) return -1;
    if (wamp1__queue_frame(c, op, data, len) != 0) return wamp1__overflow(c, len + 10);
    c->srv->stats.messages_out++;
    return 0;
}

WAMP1__DEF int wamp1_conn_send_text(wamp1_conn *c, const char *text, size_t len) {
    return wamp1_conn_send(c, WAMP1_OP_TEXT, text, len);
}

WAMP1__DEF int wamp1_conn_send_binary(wamp1_conn *c, const void *data, size_t len) {
    return wamp1_conn_send(c, WAMP1_OP_BINARY, data, len);
}

WAMP1__DEF int wamp1_conn_send_frame(wamp1_conn *c, const void *frame, size_t len) {
    if (!c || c->state != WAMP1__OPEN || (c->flags & WAMP1__F_CLOSE_SENT)) return -1;
    if (wamp1__send_raw(c, frame, len) != 0) return wamp1__overflow(c, len);
    c->srv->stats.messages_out++;
    return 0;
}

WAMP1__DEF wamp1_jwriter *wamp1_conn_json_begin(wamp1_conn *c, wamp1_frame_writer *fw) {
    uint32_t cap, end;
    if (!wamp1_conn_is_open(c)) return NULL;
    if (wamp1__sbuf_get(c) != 0) {
        /* no buffer to lend: a writer that takes nothing, so its end reports the failure */
        static char nowhere[1];
        wamp1__report(c->srv, c, WAMP1_ERR_LIMIT, WAMP1__WHY("send buffer pool empty"));
        memset(fw, 0, sizeof *fw);
        fw->c = c;
        wamp1_jw_init(&fw->w, nowhere, 0);
        return &fw->w;
    }
    wamp1__dirty(c);
    wamp1__park(c);
    cap = c->srv->cfg.send_buffer_size;
    end = cap - c->parked;
    if (c->shead > 0 && end - c->stail < cap / 2) {
        memmove(c->sbuf, c->sbuf + c->shead, c->stail - c->shead);
        c->stail -= c->shead;
        c->shead = 0;
    }
    fw->c = c;
    fw->at = c->stail;
    fw->parked = 0;
    fw->is_parked = 0;
    fw->prev = c->wtop;
    c->wtop = fw;
    wamp1_jw_init(&fw->w, (char *)c->sbuf + c->stail + 10,
                  end > c->stail + 10 + WAMP1__CONTROL_RESERVE ? end - c->stail - 10 - WAMP1__CONTROL_RESERVE : 0);
    return &fw->w;
}

WAMP1__DEF int wamp1_conn_json_end(wamp1_frame_writer *fw) {
    wamp1_conn *c = fw->c;
    int rc = -1;
    if (!c) return -1; /* not open */
    fw->c = NULL;
    if (c->wtop != fw) { /* ended out of order: dropped */
        wamp1__drop_writer(c, fw);
        return -1;
    }
    c->wtop = fw->prev;
    if (!fw->w.overflow && wamp1_conn_is_open(c) && c->stail == fw->at) {
        uint8_t h[10];
        size_t hl = wamp1_frame_header(h, WAMP1_OP_TEXT, 1, fw->w.len);
        memmove(c->sbuf + fw->at + hl, c->sbuf + fw->at + 10, fw->w.len);
        memcpy(c->sbuf + fw->at, h, hl);
        c->stail = fw->at + (uint32_t)(hl + fw->w.len);
        c->srv->stats.messages_out++;
        rc = 0;
    }
    wamp1__unpark(c);
    return rc;
}

WAMP1__DEF int wamp1_conn_send_failed(wamp1_conn *c, size_t len) {
    return c && wamp1_conn_is_open(c) ? wamp1__overflow(c, len) : -1;
}

WAMP1__DEF void wamp1_conn_close(wamp1_conn *c, int code, const char *reason) {
    if (!c) return;
    if (c->state == WAMP1__HTTP) { wamp1__to_flush(c); return; }
    if (c->state != WAMP1__OPEN) return;
    wamp1__queue_close(c, code, reason);
    c->state = WAMP1__CLOSING;
    wamp1__dirty(c);
    wamp1__set_deadline(c, c->srv->cfg.close_timeout_ms);
}

WAMP1__DEF size_t wamp1_conn_send_pending(const wamp1_conn *c) { return c->stail - c->shead; }
WAMP1__DEF size_t wamp1_conn_send_space(const wamp1_conn *c) { return wamp1__send_free(c); }

/* A handle: the slot index + 1 in the low bits, the generation above them. */
#if WAMP1_MAX_CONNECTIONS > 0xFFFF
#define WAMP1__CONN_BITS 20
#else
#define WAMP1__CONN_BITS 16
#endif
#define WAMP1__GEN_MASK ((1u << (32 - WAMP1__CONN_BITS)) - 1u)

WAMP1__DEF wamp1_conn_id wamp1_conn_handle(const wamp1_conn *c) {
    wamp1_conn_id id;
    id.id = c ? (((uint32_t)c->gen & WAMP1__GEN_MASK) << WAMP1__CONN_BITS | (uint32_t)(c - c->srv->conns + 1)) : 0u;
    return id;
}

WAMP1__DEF wamp1_conn *wamp1_conn_lookup(wamp1_server *s, wamp1_conn_id id) {
    uint32_t idx = (id.id & ((1u << WAMP1__CONN_BITS) - 1u));
    wamp1_conn *c;
    if (idx == 0 || idx > s->carved) return NULL;
    c = &s->conns[idx - 1];
    if (((uint32_t)c->gen & WAMP1__GEN_MASK) != (id.id >> WAMP1__CONN_BITS) || c->state == WAMP1__FREE) return NULL;
    return c;
}

WAMP1__DEF wamp1_server *wamp1_conn_server(const wamp1_conn *c) { return c->srv; }
WAMP1__DEF const wamp1_addr *wamp1_conn_peer(const wamp1_conn *c) { return &c->peer; }
WAMP1__DEF void wamp1_conn_set_user(wamp1_conn *c, void *user) { c->user = user; }
WAMP1__DEF void *wamp1_conn_user(const wamp1_conn *c) { return c->user; }
WAMP1__DEF int wamp1_conn_is_open(const wamp1_conn *c) {
    return c && c->state == WAMP1__OPEN && !(c->flags & WAMP1__F_CLOSE_SENT);
}

/* ------------------------------------------------------------------------ */
/*  The connection attribute store                                          */
/* ------------------------------------------------------------------------ */

static wamp1__attr *wamp1__attr_find(const wamp1_conn *c, const char *key, wamp1__aix **link) {
    wamp1_server *s = c->srv;
    size_t kl = strlen(key);
    wamp1__aix *pp = (wamp1__aix *)&c->attrs;
#if WAMP1_MAX_ATTRS == 0
    (void)s; (void)kl; (void)link; (void)pp;
    return NULL;
#else
    while (*pp != WAMP1__ANIL) {
        wamp1__attr *a = &s->attrs[*pp];
        if (a->klen == kl && memcmp(a->key, key, kl) == 0) {
            if (link) *link = pp;
            return a;
        }
        pp = &a->next;
    }
    return NULL;
#endif
}

static void wamp1__attrs_clear(wamp1_conn *c) {
#if WAMP1_MAX_ATTRS > 0
    wamp1_server *s = c->srv;
    wamp1__aix i = c->attrs;
    while (i != WAMP1__ANIL) {
        wamp1__aix next = s->attrs[i].next;
        s->attrs[i].next = s->attr_free;
        s->attr_free = i;
        i = next;
    }
#endif
    c->attrs = WAMP1__ANIL;
}

/* The record for key (made if absent) with its type set, or NULL. */
static wamp1__attr *wamp1__attr_put(wamp1_conn *c, const char *key, uint8_t type, int *rc) {
    wamp1_server *s;
    size_t kl = key ? strlen(key) : WAMP1_ATTR_KEY_SIZE;
    wamp1__attr *a;
    *rc = -1;
    if (!c || c->state == WAMP1__FREE || kl == 0 || kl >= WAMP1_ATTR_KEY_SIZE) return NULL;
    s = c->srv;
    a = wamp1__attr_find(c, key, NULL);
#if WAMP1_MAX_ATTRS == 0
    *rc = -2; /* no attribute store in this build */
    wamp1__report(s, c, WAMP1_ERR_LIMIT, WAMP1__WHY("attribute store full"));
    return NULL;
#else
    if (!a) {
        unsigned n = 0;
        wamp1__aix i;
        for (i = c->attrs; i != WAMP1__ANIL; i = s->attrs[i].next) n++;
        if ((s->attr_free == WAMP1__ANIL && s->attr_carved >= WAMP1_MAX_ATTRS) || n >= WAMP1_MAX_ATTRS_PER_CONN) {
            *rc = -2;
            wamp1__report(s, c, WAMP1_ERR_LIMIT, WAMP1__WHY("attribute store full"));
            return NULL;
        }
        if (s->attr_free != WAMP1__ANIL) { /* a freed record, else one never used */
            i = s->attr_free;
            s->attr_free = s->attrs[i].next;
        } else i = s->attr_carved++;
        a = &s->attrs[i];
        a->next = c->attrs;
        c->attrs = i;
        a->klen = (uint8_t)kl;
        memcpy(a->key, key, kl);
    }
#endif
    a->type = type;
    *rc = 0;
    return a;
}

WAMP1__DEF int wamp1_attr_set_int(wamp1_conn *c, const char *key, int64_t v) {
    int rc;
    wamp1__attr *a = wamp1__attr_put(c, key, WAMP1_ATTR_INT, &rc);
    if (a) a->v.i = v;
    return rc;
}

WAMP1__DEF int wamp1_attr_set_double(wamp1_conn *c, const char *key, double v) {
    int rc;
    wamp1__attr *a = wamp1__attr_put(c, key, WAMP1_ATTR_DOUBLE, &rc);
    if (a) a->v.d = v;
    return rc;
}

WAMP1__DEF int wamp1_attr_set_ptr(wamp1_conn *c, const char *key, void *p) {
    int rc;
    wamp1__attr *a = wamp1__attr_put(c, key, WAMP1_ATTR_PTR, &rc);
    if (a) a->v.p = p;
    return rc;
}

WAMP1__DEF int wamp1_attr_set_bytes(wamp1_conn *c, const char *key, const void *data, size_t n) {
    int rc;
    wamp1__attr *a;
    if (n > WAMP1_ATTR_VALUE_SIZE) return -1;
    a = wamp1__attr_put(c, key, WAMP1_ATTR_BYTES, &rc);
    if (a) {
        if (n) memcpy(a->v.b, data, n);
        a->vlen = (uint16_t)n;
    }
    return rc;
}

static const wamp1__attr *wamp1__attr_get(const wamp1_conn *c, const char *key, uint8_t type) {
    const wamp1__attr *a = c && c->state != WAMP1__FREE && key ? wamp1__attr_find(c, key, NULL) : NULL;
    return a && a->type == type ? a : NULL;
}

WAMP1__DEF int wamp1_attr_get_int(const wamp1_conn *c, const char *key, int64_t *v) {
    const wamp1__attr *a = wamp1__attr_get(c, key, WAMP1_ATTR_INT);
    if (!a) return -1;
    *v = a->v.i;
    return 0;
}

WAMP1__DEF int wamp1_attr_get_double(const wamp1_conn *c, const char *key, double *v) {
    const wamp1__attr *a = wamp1__attr_get(c, key, WAMP1_ATTR_DOUBLE);
    if (!a) return -1;
    *v = a->v.d;
    return 0;
}

WAMP1__DEF int wamp1_attr_get_ptr(const wamp1_conn *c, const char *key, void **p) {
    const wamp1__attr *a = wamp1__attr_get(c, key, WAMP1_ATTR_PTR);
    if (!a) return -1;
    *p = a->v.p;
    return 0;
}

WAMP1__DEF int wamp1_attr_get_bytes(const wamp1_conn *c, const char *key, const void **data, size_t *n) {
    const wamp1__attr *a = wamp1__attr_get(c, key, WAMP1_ATTR_BYTES);
    if (!a) return -1;
    *data = a->v.b;
    *n = a->vlen;
    return 0;
}

WAMP1__DEF wamp1_attr_type wamp1_attr_type_of(const wamp1_conn *c, const char *key) {
    const wamp1__attr *a = c && c->state != WAMP1__FREE && key ? wamp1__attr_find(c, key, NULL) : NULL;
    return a ? (wamp1_attr_type)a->type : WAMP1_ATTR_NONE;
}

WAMP1__DEF int wamp1_attr_remove(wamp1_conn *c, const char *key) {
    wamp1__aix *pp = NULL, i;
    wamp1__attr *a = c && key ? wamp1__attr_find(c, key, &pp) : NULL;
    if (!a) return -1;
    i = *pp;
    *pp = a->next;
    a->next = c->srv->attr_free;
    c->srv->attr_free = i;
    return 0;
}

WAMP1__DEF void wamp1_server_add_link(wamp1_server *s, wamp1_link *link) {
    wamp1_link **pp = &s->links;
    while (*pp) pp = &(*pp)->next;
    link->next = NULL;
    *pp = link;
}

WAMP1__DEF void wamp1_server_remove_link(wamp1_server *s, wamp1_link *link) {
    wamp1_link **pp = &s->links;
    while (*pp && *pp != link) pp = &(*pp)->next;
    if (*pp) *pp = link->next;
}

WAMP1__DEF wamp1_link *wamp1_server_links(wamp1_server *s) { return s->links; }

/* ------------------------------------------------------------------------ */
/*  The default links: blocked addresses, allowed origins, sessions          */
/* ------------------------------------------------------------------------ */

#ifndef WAMP1_NO_DEFAULT_LINKS
static int wamp1__header_has(const wamp1_request *r, const char *name, const char *tok);
static int wamp1__link_block(wamp1_link *self, wamp1_conn *c) {
    const wamp1_blocklist *bl = (const wamp1_blocklist *)self->state;
    return bl->match && bl->match(bl, &c->peer) ? 403 : 0;
}

static int wamp1__link_origin(wamp1_link *self, wamp1_conn *c, const wamp1_request *req) {
    const wamp1_server *s = (const wamp1_server *)self->state;
    size_t n;
    const char *o = wamp1_request_header(req, "origin", &n);
    (void)c;
    const wamp1_origin_rule *r = s->cfg.origins;
    if (!o && !wamp1__header_has(req, "upgrade", "websocket")) return 0; /* a navigation */
    return o && r->allowed && r->allowed(r, (int)s->cfg.origin_count, o, n) ? 0 : 403;
}
#endif

#ifndef WAMP1_NO_SESSION
static const char *wamp1__session_cookie(const wamp1_server *s, const wamp1_request *req, size_t *n) {
    const char *name = s->cfg.sessions->cookie ? s->cfg.sessions->cookie : "PHPSESSID";
    unsigned k;
    for (k = 0; k < req->header_count; k++) {
        const wamp1_http_header *h = &req->headers[k];
        const char *v;
        if (wamp1__ieq(h->name, h->name_len, "cookie") &&
            wamp1_cookie_get(h->value, h->value_len, name, &v, n) == 0)
            return v;
    }
    return NULL;
}

/* Marks the connection as having a session when its cookie names one; never refuses. */
static int wamp1__link_session(wamp1_link *self, wamp1_conn *c, const wamp1_request *req) {
    const wamp1_server *s = (const wamp1_server *)self->state;
    size_t n = 0;
    const char *id = wamp1__session_cookie(s, req, &n);
    if (id && s->cfg.sessions->load(s->cfg.sessions->ctx, id, n, NULL, 0, NULL) == 0)
        c->flags |= WAMP1__F_SESSION;
    return 0;
}

WAMP1__DEF int wamp1_conn_has_session(const wamp1_conn *c) {
    return c && c->state != WAMP1__FREE && (c->flags & WAMP1__F_SESSION) != 0;
}

WAMP1__DEF int wamp1_conn_session(const wamp1_conn *c, char *buf, size_t cap, wamp1_php_session *out) {
    wamp1_request req;
    const char *id;
    size_t n = 0;
    if (!wamp1_conn_has_session(c) || !c->srv->cfg.sessions || wamp1_conn_request(c, &req) != 0) return -1;
    id = wamp1__session_cookie(c->srv, &req, &n);
    return id ? c->srv->cfg.sessions->load(c->srv->cfg.sessions->ctx, id, n, buf, cap, out) : -1;
}

#ifndef WAMP1_NO_STDIO_FILES
static int wamp1__php_files_load(void *ctx, const char *id, size_t idlen, char *buf, size_t cap,
                                 wamp1_php_session *out) {
    char one[1];
    size_t len = 0;
    int rc;
    if (!buf) { /* existence: read nothing but the first byte */
        rc = wamp1_php_session_read_file((const char *)ctx, id, idlen, one, sizeof one, &len);
        return rc == 0 || rc == -2 ? 0 : -1;
    }
    if (wamp1_php_session_read_file((const char *)ctx, id, idlen, buf, cap, &len) != 0) return -1;
    return wamp1_php_session_load(out, buf, len) == 0 ? 0 : -1;
}

WAMP1__DEF void wamp1_php_files_provider(wamp1_session_provider *p, const char *dir) {
    memset(p, 0, sizeof *p);
    p->cookie = "PHPSESSID";
    p->load = wamp1__php_files_load;
    p->ctx = (void *)(uintptr_t)dir;
}
#endif
#endif /* WAMP1_NO_SESSION */

/* Build the default chain from the configuration: only the links that are configured.
   0, or -1 when it asks for a link this build leaves out. */
static int wamp1__default_chain(wamp1_server *s) {
#if WAMP1__BUILTIN_LINKS > 0
    wamp1_link *l = s->builtin;
    memset(s->builtin, 0, sizeof s->builtin);
#endif
#ifdef WAMP1_NO_DEFAULT_LINKS
    if (s->cfg.blocklist || s->cfg.origin_count) return -1;
#else
    if (s->cfg.blocklist) {
        l->name = "reject blocked address";
        l->on_connect = wamp1__link_block;
        l->state = s->cfg.blocklist;
        wamp1_server_add_link(s, l++);
    }
    if (s->cfg.origin_count) {
        l->name = "restrict to allowed origins";
        l->on_request = wamp1__link_origin;
        l->state = s;
        wamp1_server_add_link(s, l++);
    }
#endif
#ifndef WAMP1_NO_SESSION
    if (s->cfg.sessions) {
        l->name = "initialize session";
        l->on_request = wamp1__link_session;
        l->state = s;
        wamp1_server_add_link(s, l++);
    }
#endif
    return 0;
}

/* ------------------------------------------------------------------------ */
/*  The HTTP upgrade request                                                */
/* ------------------------------------------------------------------------ */

/* Find the end of the header block incrementally; returns its length or 0. */
static uint32_t wamp1__http_end(wamp1_conn *c) {
    uint32_t i;
    /* resume a few bytes back so that a terminator split across reads is found */
    i = c->rpos > 3 ? c->rpos - 3 : 0;
    for (; i < c->rlen; i++) {
        if (c->rbuf[i] != '\n') continue;
        if (i >= 1 && c->rbuf[i - 1] == '\n') return i + 1;
        if (i >= 2 && c->rbuf[i - 1] == '\r' && c->rbuf[i - 2] == '\n') return i + 1;
    }
    c->rpos = c->rlen;
    return 0;
}

/* Parse the header block p[0, end) into req; 0 or an HTTP status. */
static int wamp1__http_parse(const char *p, uint32_t end, wamp1_request *r) {
    uint32_t i = 0, ls, le;
    memset(r, 0, sizeof *r);
    /* request line */
    le = 0;
    while (le < end && p[le] != '\n') le++;
    ls = le;
    if (le > 0 && p[le - 1] == '\r') le--;
    {
        uint32_t a = 0, b, d;
        while (a < le && wamp1__is_tchar((unsigned char)p[a])) a++;
        if (a == 0 || a >= le || p[a] != ' ') return 400;
        b = a + 1;
        while (b < le && p[b] != ' ') {
            if ((unsigned char)p[b] <= 0x20 || p[b] == 0x7F) return 400;
            b++;
        }
        if (b == a + 1 || b >= le) return 400;
        d = b + 1;
        if (le - d != 8 || memcmp(p + d, "HTTP/", 5) != 0 || p[d + 5] < '0' || p[d + 5] > '9' ||
            p[d + 6] != '.' || p[d + 7] < '0' || p[d + 7] > '9')
            return 400;
        r->method = p; r->method_len = (uint16_t)a;
        r->target = p + a + 1; r->target_len = (uint16_t)(b - a - 1);
        r->version_minor = (uint8_t)(p[d + 7] - '0');
        if (p[d + 5] == '0' || (p[d + 5] == '1' && p[d + 7] == '0')) return 505;
        if (p[d + 5] != '1') return 505;
        r->path = r->target; r->path_len = r->target_len;
        {
            uint16_t q;
            for (q = 0; q < r->target_len; q++) {
                if (r->target[q] == '?') {
                    r->path_len = q;
                    r->query = r->target + q + 1;
                    r->query_len = (uint16_t)(r->target_len - q - 1);
                    break;
                }
            }
        }
    }
    /* header lines */
    i = ls + 1;
    while (i < end) {
        uint32_t n, v, ve;
        le = i;
        while (le < end && p[le] != '\n') le++;
        ve = le;
        if (ve > i && p[ve - 1] == '\r') ve--;
        if (ve == i) break; /* the empty line */
        n = i;
        while (n < ve && wamp1__is_tchar((unsigned char)p[n])) n++;
        if (n == i || n >= ve || p[n] != ':') return 400; /* also rejects obs-fold */
        v = n + 1;
        while (v < ve && wamp1__is_ws(p[v])) v++;
        while (ve > v && wamp1__is_ws(p[ve - 1])) ve--;
        {
            uint32_t k;
            for (k = v; k < ve; k++) {
                unsigned char ch = (unsigned char)p[k];
                if ((ch < 0x20 && ch != '\t') || ch == 0x7F) return 400;
            }
        }
        if (r->header_count >= WAMP1_MAX_HEADERS) return 431;
        {
            wamp1_http_header *h = &r->headers[r->header_count++];
            h->name = p + i; h->name_len = (uint16_t)(n - i);
            h->value = p + v; h->value_len = (uint16_t)(ve - v);
        }
        i = le + 1;
    }
    /* method names are case-sensitive (RFC 9110 9.1): "get" is not GET; HEAD (and POST) are
       for on_http */
    if (!(r->method_len == 3 && memcmp(r->method, "GET", 3) == 0) &&
        !(r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0)
#if WAMP1_HTTP_BODY
        && !(r->method_len == 4 && memcmp(r->method, "POST", 4) == 0)
#endif
        )
        return 405;
    {
        unsigned k, hosts = 0;
        for (k = 0; k < r->header_count; k++)
            if (wamp1__ieq(r->headers[k].name, r->headers[k].name_len, "host")) hosts++;
        if (hosts != 1) return 400;
    }
    return 0;
}

/* Does any header called name contain token tok in its list? */
static int wamp1__header_has(const wamp1_request *r, const char *name, const char *tok) {
    unsigned k;
    for (k = 0; k < r->header_count; k++) {
        const wamp1_http_header *h = &r->headers[k];
        if (wamp1__ieq(h->name, h->name_len, name) && wamp1__list_has(h->value, h->value_len, tok))
            return 1;
    }
    return 0;
}

static void wamp1__open(wamp1_conn *c);

static void wamp1__reverse(uint8_t *p, uint32_t n) {
    uint32_t i;
    for (i = 0; i < n / 2; i++) {
        uint8_t t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

WAMP1__DEF int wamp1_conn_request(const wamp1_conn *c, wamp1_request *req) {
    if (!c || !c->req_len || c->state == WAMP1__FREE) return -1;
    return wamp1__http_parse((const char *)c->rbuf + c->rcap, c->req_len, req) ? -1 : 0;
}

WAMP1__DEF void wamp1_conn_release_request(wamp1_conn *c) {
    if (!c || !c->req_len || c->state == WAMP1__FREE) return;
    c->req_len = 0;
    c->rcap = wamp1__pool_size(c->srv, wamp1__rpool_of(c));
    c->flags &= (uint8_t)~WAMP1__F_SESSION; /* the session is read from the request */
    wamp1__dirty(c);
}

/* The handshake passed: keep the request at the top of the receive buffer, or drop it;
   what followed it is WebSocket data and stays at the front. */
static void wamp1__keep_request(wamp1_conn *c, uint32_t end) {
    wamp1_server *s = c->srv;
    /* keep the request only when at least half of the buffer stays for messages (and
       never less than 512 bytes): a huge request must not starve the connection */
    if (!s->cfg.drop_request && end < 0xFFFFu && s->cfg.recv_buffer_size - end >= s->cfg.recv_buffer_size / 2 &&
        s->cfg.recv_buffer_size - end >= 512) {
        /* rotate [0, rlen) left by end (header block behind the WebSocket bytes that
           followed it), then move it up */
        wamp1__reverse(c->rbuf, end);
        wamp1__reverse(c->rbuf + end, c->rlen - end);
        wamp1__reverse(c->rbuf, c->rlen);
        c->rcap = wamp1__pool_size(s, wamp1__rpool_of(c)) - end;
        memmove(c->rbuf + c->rcap, c->rbuf + c->rlen - end, end);
        c->req_len = (uint16_t)end;
    } else {
        memmove(c->rbuf, c->rbuf + end, c->rlen - end);
    }
    c->rlen -= end;
}

/* The links' on_request in order: 1 when one refused (answered) or closed the connection. */
static int wamp1__links_refuse(wamp1_conn *c, const wamp1_request *req) {
    wamp1_link *l;
    for (l = c->srv->links; l; l = l->next) {
        int st;
        if (!l->on_request) continue;
        st = l->on_request(l, c, req);
        if (c->state != WAMP1__HTTP) return 1;
        if (st) { wamp1__http_error(c, st, WAMP1__WHY("request refused by a middleware link")); return 1; }
    }
    return 0;
}

#if WAMP1_HTTP_BODY
/* A POST: its Content-Length body after the header block. 0 when it is all in the buffer
   (req->body set), 1 to wait for more, or an HTTP status. */
static int wamp1__http_body(wamp1_conn *c, uint32_t end, wamp1_request *req) {
    unsigned k, lens = 0;
    uint32_t n = 0;
    for (k = 0; k < req->header_count; k++) {
        const wamp1_http_header *h = &req->headers[k];
        uint16_t i;
        if (wamp1__ieq(h->name, h->name_len, "transfer-encoding")) return 411;
        if (!wamp1__ieq(h->name, h->name_len, "content-length")) continue;
        if (lens++ || h->value_len == 0 || h->value_len > 9) return h->value_len > 9 ? 413 : 400;
        for (i = 0; i < h->value_len; i++) {
            if (h->value[i] < '0' || h->value[i] > '9') return 400;
            n = n * 10u + (uint32_t)(h->value[i] - '0');
        }
    }
    if (!lens) return 411;
    if (n > WAMP1_HTTP_MAX_BODY || n > c->srv->cfg.recv_buffer_size - end) return 413;
    if (c->rlen - end < n) {
        /* a client that waits for a go-ahead gets it (1xx answers may repeat) */
        if (c->rlen == end && wamp1__header_has(req, "expect", "100-continue"))
            (void)wamp1__send_raw(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        return 1; /* the reads move it to a full-size buffer when it needs one */
    }
    req->body = (const char *)c->rbuf + end;
    req->body_len = n;
    return 0;
}
#endif

/* The header block is complete: check it and answer 101 or an error. */
/* A request that is not an upgrade (or a POST, which never is): its body first, the links,
   then cfg.cb.on_http. 1 when it was answered or is waiting for its body, 0 for an upgrade
   request, which goes on through the WebSocket checks. */
static int wamp1__plain_http(wamp1_conn *c, uint32_t end, wamp1_request *req) {
    wamp1_server *s = c->srv;
#if WAMP1_HTTP_BODY
    if (req->method[0] == 'P') { /* POST: never an upgrade; its body first */
        int st;
        if (!s->cfg.cb.on_http || wamp1__header_has(req, "upgrade", "websocket")) {
            wamp1__http_error(c, 405, WAMP1__WHY("POST without an HTTP handler, or as an upgrade"));
            return 1;
        }
        st = wamp1__http_body(c, end, req);
        if (st == 1) return 1;
        if (st) { wamp1__http_error(c, st, WAMP1__WHY("POST body missing, malformed or beyond the limit")); return 1; }
    }
#else
    (void)end;
#endif
    if (wamp1__header_has(req, "upgrade", "websocket")) return 0;
    if (s->cfg.cb.on_http) {
        /* plain HTTP passes the same links (blocked, origins, sessions, ...) first */
        if (wamp1__links_refuse(c, req)) return 1;
        s->cfg.cb.on_http(c, req, s->cfg.user);
        if (c->state != WAMP1__HTTP) return 1;
    }
    if (req->method_len == 4) wamp1__http_error(c, 405, WAMP1__WHY("HEAD or POST without an answer"));
    else wamp1__http_error(c, 426, WAMP1__WHY("not a WebSocket upgrade request"));
    return 1;
}

/* 101 Switching Protocols with the accept key and the chosen subprotocol: 0, or -1 (500
   answered) when it does not fit the send buffer. */
static int wamp1__send_101(wamp1_conn *c, const char *key, size_t key_len, const wamp1_request *req) {
    char acc[29], h[200];
    size_t n = 0;
    static const char head[] =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Accept: ";
    wamp1_ws_accept_key(key, key_len, acc);
    memcpy(h, head, sizeof head - 1); n = sizeof head - 1;
    memcpy(h + n, acc, 28); n += 28;
    memcpy(h + n, "\r\n", 2); n += 2;
    if (req->subprotocol) {
        memcpy(h + n, "Sec-WebSocket-Protocol: ", 24); n += 24;
        memcpy(h + n, req->subprotocol, req->subprotocol_len); n += req->subprotocol_len;
        memcpy(h + n, "\r\n", 2); n += 2;
    }
    memcpy(h + n, "\r\n", 2); n += 2;
    c->shead = c->stail = 0;
    if (wamp1__send_raw(c, h, n) != 0) {
        wamp1__http_error(c, 500, WAMP1__WHY("send buffer too small"));
        return -1;
    }
    return 0;
}

static void wamp1__handshake(wamp1_conn *c, uint32_t end) {
    wamp1_server *s = c->srv;
    wamp1_request req;
    const char *key, *ver;
    size_t key_len = 0, ver_len = 0;
    int st = wamp1__http_parse((const char *)c->rbuf, end, &req);
    if (st) { wamp1__http_error(c, st, WAMP1__WHY("malformed or refused HTTP request")); return; }
    if (wamp1__plain_http(c, end, &req)) return;
    if (req.method_len == 4) { wamp1__http_error(c, 405, WAMP1__WHY("HEAD upgrade request")); return; }
    if (!wamp1__header_has(&req, "connection", "upgrade")) {
        wamp1__http_error(c, 400, WAMP1__WHY("Connection header without the upgrade token"));
        return;
    }
    ver = wamp1_request_header(&req, "sec-websocket-version", &ver_len);
    if (!ver || ver_len != 2 || ver[0] != '1' || ver[1] != '3') {
        wamp1__http_error(c, 426, WAMP1__WHY("unsupported Sec-WebSocket-Version"));
        return;
    }
    key = wamp1_request_header(&req, "sec-websocket-key", &key_len);
    {
        unsigned k, keys = 0;
        for (k = 0; k < req.header_count; k++)
            if (wamp1__ieq(req.headers[k].name, req.headers[k].name_len, "sec-websocket-key")) keys++;
        if (keys > 1) key = NULL; /* two keys: which one would the accept answer? */
    }
    if (!key || !wamp1__key_ok(key, key_len)) {
        wamp1__http_error(c, 400, WAMP1__WHY("missing or invalid Sec-WebSocket-Key"));
        return;
    }
    if (s->cfg.subprotocol) {
        if (wamp1__header_has(&req, "sec-websocket-protocol", s->cfg.subprotocol)) {
            req.subprotocol = s->cfg.subprotocol;
            req.subprotocol_len = (uint16_t)strlen(s->cfg.subprotocol);
        } else if (!s->cfg.subprotocol_optional) {
            wamp1__http_error(c, 426, WAMP1__WHY("required subprotocol not offered"));
            return;
        }
    }
    if (wamp1__links_refuse(c, &req)) return;
    if (s->cfg.cb.on_request) {
        st = s->cfg.cb.on_request(c, &req, s->cfg.user);
        if (c->state != WAMP1__HTTP) return;
        if (st) { wamp1__http_error(c, st, WAMP1__WHY("request refused by the application")); return; }
    }
    if (wamp1__send_101(c, key, key_len, &req) != 0) return;
    wamp1__keep_request(c, end);
    c->rpos = c->mbase = c->mlen = 0;
    c->state = WAMP1__OPEN;
    wamp1__no_deadline(c);
    if (s->cfg.keepalive_ms) {
        c->ping_at = s->now + s->cfg.keepalive_ms;
        wamp1__arm(c);
    }
    s->stats.handshakes++;
    wamp1__open(c);
}

static void wamp1__open(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    wamp1_link *l;
    c->flags |= WAMP1__F_OPENED;
    for (l = s->links; l; l = l->next)
        if (l->on_open) l->on_open(l, c);
    if (c->state == WAMP1__OPEN) WAMP1__PROTO(wamp1__app_open(c, s->proto_user));
    if (s->cfg.cb.on_open && c->state == WAMP1__OPEN) s->cfg.cb.on_open(c, s->cfg.user);
}

/* ------------------------------------------------------------------------ */
/*  The WebSocket frame decoder (in place, incremental)                     */
/* ------------------------------------------------------------------------ */

/* Unmask n bytes from src into dst (dst <= src: moving down, or in place). Eight bytes at
   a time: each block is read whole before it is written, so the overlap is safe. */
static void wamp1__unmask_move(wamp1_conn *c, uint8_t *dst, const uint8_t *src, size_t n) {
    size_t i = 0;
    unsigned m = c->mask_pos;
#ifndef __OPTIMIZE_SIZE__ /* -Os: the byte loop alone */
    if (n >= 16) {
        uint8_t k8[8];
        uint64_t k, v;
        unsigned j;
        for (j = 0; j < 4; j++) k8[j] = k8[j + 4] = c->mask[(m + j) & 3u];
        memcpy(&k, k8, 8);
        for (; i + 8 <= n; i += 8) { /* 8 bytes keep the mask position */
            memcpy(&v, src + i, 8);
            v ^= k;
            memcpy(dst + i, &v, 8);
        }
    }
#endif
    for (; i < n; i++) {
        dst[i] = (uint8_t)(src[i] ^ c->mask[m]);
        m = (m + 1) & 3u;
    }
    c->mask_pos = (uint8_t)m;
}

static void wamp1__control(wamp1_conn *c, unsigned op, uint8_t *pl, size_t n) {
    wamp1_server *s = c->srv;
    if (op == WAMP1_OP_PING) {
        if (!(c->flags & WAMP1__F_CLOSE_SENT) && wamp1__queue_frame(c, WAMP1_OP_PONG, pl, n) != 0)
            (void)wamp1__overflow(c, n + 2);
        return;
    }
    if (op == WAMP1_OP_PONG) { c->flags &= (uint8_t)~WAMP1__F_PING_OUT; return; }
    /* close */
    {
        int code = 0;
        if (n == 1) {
            wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL, WAMP1__WHY("close payload of 1 byte"));
            return;
        }
        if (n >= 2) {
            uint32_t st = 0;
            code = pl[0] << 8 | pl[1];
            if (!wamp1_close_code_valid(code)) {
                wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL, WAMP1__WHY("invalid close code"));
                return;
            }
            if (wamp1_utf8_validate(&st, pl + 2, n - 2) != n - 2 || !wamp1_utf8_complete(st)) {
                wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                            WAMP1__WHY("close reason is not valid UTF-8"));
                return;
            }
        }
        c->close_code = (uint16_t)(code ? code : WAMP1_CLOSE_NO_STATUS);
        wamp1__queue_close(c, code ? code : WAMP1_CLOSE_NORMAL, NULL);
        (void)s;
        wamp1__to_flush(c);
    }
}

static void wamp1__deliver(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    uint8_t op = c->msg_op;
    c->msg_op = 0;
    wamp1_link *l;
    int swallowed = 0;
    s->stats.messages_in++;
    for (l = s->links; l && !swallowed; l = l->next)
        if (l->on_message && c->state == WAMP1__OPEN)
            swallowed = l->on_message(l, c, (wamp1_opcode)op, c->rbuf + c->mbase, c->mlen);
    if (!swallowed && c->state == WAMP1__OPEN)
        WAMP1__PROTO(wamp1__app_message(c, (wamp1_opcode)op, c->rbuf + c->mbase, c->mlen, s->proto_user));
    if (!swallowed && c->state == WAMP1__OPEN && s->cfg.cb.on_message)
        s->cfg.cb.on_message(c, (wamp1_opcode)op, c->rbuf + c->mbase, c->mlen, s->cfg.user);
    c->mlen = 0;
    c->mbase = c->rpos;
    if (c->state == WAMP1__OPEN) wamp1__no_deadline(c); /* a message arrived: the clock restarts */
}

/* Consume what the receive buffer holds; stops when more bytes are needed. */
/* What the header of the next frame (at p, avail bytes) asks for. */
enum { WAMP1__FS_NEXT, WAMP1__FS_MORE, WAMP1__FS_STOP };

/* Checks and starts the frame whose header is at p: a control frame is handled whole, a
   data frame becomes the current one. NEXT: go on; MORE: wait for bytes (or a buffer);
   STOP: the connection failed. */
static int wamp1__frame_start(wamp1_conn *c, uint8_t *p, uint32_t avail) {
    wamp1_server *s = c->srv;
    unsigned b0 = p[0], b1 = p[1], op = b0 & 0x0Fu, fin = b0 >> 7;
    uint32_t len = b1 & 0x7Fu;
    uint32_t hl = 2;
    if (b0 & 0x70u) {
        wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                    WAMP1__WHY("reserved bits set"));
        return WAMP1__FS_STOP;
    }
    if ((op > 2 && op < 8) || op > 10) {
        wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                    WAMP1__WHY("reserved opcode"));
        return WAMP1__FS_STOP;
    }
    if (!(b1 & 0x80u)) {
        wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                    WAMP1__WHY("unmasked client frame"));
        return WAMP1__FS_STOP;
    }
    if (op >= 8 && (!fin || len > 125)) {
        wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                    WAMP1__WHY("fragmented or oversized control frame"));
        return WAMP1__FS_STOP;
    }
    if (len == 126) hl = 4;
    else if (len == 127) hl = 10;
    if (avail < hl + 4) return WAMP1__FS_MORE;
    if (len == 126) len = (uint32_t)p[2] << 8 | p[3];
    else if (len == 127) {
        /* 64-bit length: the upper half only tells "beyond every limit" */
        len = (uint32_t)p[6] << 24 | (uint32_t)p[7] << 16 | (uint32_t)p[8] << 8 | p[9];
        if (p[2] | p[3] | p[4] | p[5]) len = UINT32_MAX;
        if (p[2] & 0x80u) {
            wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                        WAMP1__WHY("64-bit length with the top bit set"));
            return WAMP1__FS_STOP;
        }
    }
    memcpy(c->mask, p + hl, 4);
    hl += 4;
    if (op >= 8) {
        if (avail < hl + len) return WAMP1__FS_MORE;
        c->rpos += hl;
        c->mask_pos = 0;
        /* unmask in place; control payloads are never part of the message */
        wamp1__unmask_move(c, p + hl, p + hl, (size_t)len);
        c->rpos += (uint32_t)len;
        wamp1__control(c, op, p + hl, (size_t)len);
        if (c->rpos == c->rlen && c->mlen == 0 && !c->fop && !c->msg_op) {
            c->rpos = c->rlen = c->mbase = 0;
        }
        return WAMP1__FS_NEXT;
    }
    if (op == 0 && !c->msg_op) {
        wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                    WAMP1__WHY("continuation frame without a message to continue"));
        return WAMP1__FS_STOP;
    }
    if (op != 0 && c->msg_op) {
        wamp1__fail(c, WAMP1_CLOSE_PROTOCOL_ERROR, WAMP1_ERR_PROTOCOL,
                    WAMP1__WHY("new data frame inside a fragmented message"));
        return WAMP1__FS_STOP;
    }
    if (len > s->max_frame || (uint64_t)c->mlen + len > s->max_message ||
        (uint64_t)c->mlen + len + 256u > s->cfg.recv_buffer_size - c->req_len) {
        wamp1__fail(c, WAMP1_CLOSE_TOO_BIG, WAMP1_ERR_TOO_BIG,
                    WAMP1__WHY("frame or message larger than the configured limit"));
        return WAMP1__FS_STOP;
    }
    /* beyond a small buffer: on to a full-size one, or wait for one */
    if ((uint64_t)c->mlen + len + 256u > c->rcap && wamp1__rbuf_grow(c) != 0) return WAMP1__FS_MORE;
    if (op != 0) {
        c->msg_op = (uint8_t)op;
        c->utf8 = 0;
        c->mlen = 0;
        c->mbase = c->rpos;
    }
    c->rpos += hl;
    c->fop = (uint8_t)(op ? op : c->msg_op);
    c->ffin = (uint8_t)fin;
    c->frame_left = len; /* at most max_frame: checked above */
    c->mask_pos = 0;
    return WAMP1__FS_NEXT;
}

static void wamp1__ws_process(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    while (c->state == WAMP1__OPEN || c->state == WAMP1__CLOSING) {
        uint8_t *p = c->rbuf + c->rpos;
        uint32_t avail = c->rlen - c->rpos;
        if (c->fop) {
            /* payload of a data frame: unmask it into place behind the message so far */
            uint32_t k = avail;
            if (k > c->frame_left) k = c->frame_left;
            if (k) {
                uint8_t *dst = c->rbuf + c->mbase + c->mlen;
                wamp1__unmask_move(c, dst, p, k);
                if (c->msg_op == WAMP1_OP_TEXT && c->state == WAMP1__OPEN) {
                    if (wamp1_utf8_validate(&c->utf8, dst, k) != k) {
                        wamp1__fail(c, WAMP1_CLOSE_INVALID_DATA, WAMP1_ERR_INVALID_UTF8,
                                    WAMP1__WHY("invalid UTF-8 in a text message"));
                        return;
                    }
                }
                c->mlen += k;
                c->rpos += k;
                c->frame_left -= k;
            }
            if (c->frame_left) break; /* wait for more */
            c->fop = 0;
            if (c->ffin) {
                if (c->msg_op == WAMP1_OP_TEXT && !wamp1_utf8_complete(c->utf8)) {
                    wamp1__fail(c, WAMP1_CLOSE_INVALID_DATA, WAMP1_ERR_INVALID_UTF8,
                                WAMP1__WHY("text message ends inside a UTF-8 sequence"));
                    return;
                }
                if (c->state == WAMP1__OPEN) wamp1__deliver(c);
                else { c->msg_op = 0; c->mlen = 0; c->mbase = c->rpos; }
            }
            continue;
        }
        if (avail < 2) break;
        /* backpressure: no new frame while half of the send buffer still waits for the peer;
           the loop resumes here once it has drained (wamp1_server_poll) */
        if (c->stail - c->shead > s->cfg.send_buffer_size / 2) break;
        {
            int fs = wamp1__frame_start(c, p, avail);
            if (fs == WAMP1__FS_STOP) return;
            if (fs == WAMP1__FS_MORE) break;
        }
    }
    if (c->rpos == c->rlen && c->mlen == 0 && !c->fop && !c->msg_op) c->rpos = c->rlen = c->mbase = 0;
    /* part of a frame or message is here: it has message_timeout_ms to be completed */
    if (c->state == WAMP1__OPEN) {
        if (c->rpos == c->rlen && !c->fop && !c->msg_op) wamp1__no_deadline(c);
        else if (c->stail - c->shead > s->cfg.send_buffer_size / 2 || (c->lflags & WAMP1__L_WAIT))
            wamp1__no_deadline(c); /* held back by backpressure or for a buffer: the wait is
                                      ours, not the peer's */
        else if (!c->deadline) wamp1__set_deadline(c, s->cfg.message_timeout_ms);
    }
}

/* ---- the watched set and the timer heap ---- */

/* Where the watched-set index of the socket with this tag is kept. */
static wamp1__ix *wamp1__pfd_ref(wamp1_server *s, uint32_t tag) {
    if (tag < s->nconns) return &s->conns[tag].pfd;
    if (tag == WAMP1__TAG_WAKE) return &s->wake_pfd;
    if (tag >= WAMP1__TAG_LISTEN) return &s->listen_pfd[tag - WAMP1__TAG_LISTEN];
#if WAMP1_REJECT_SLOTS > 0
    if (tag >= WAMP1__TAG_REJECT) return &s->rejects[tag - WAMP1__TAG_REJECT].pfd;
#endif
#if WAMP1_MAX_WATCHES > 0
    return &s->watches[tag - WAMP1__TAG_WATCH].pfd;
#else
    return &s->wake_pfd; /* not reached: no watch tags without watches */
#endif
}

/* Watch a socket (first) or change what it is watched for: 0 or -1. */
static int wamp1__watch(wamp1_server *s, wamp1_socket sock, uint32_t tag, unsigned ev, int first) {
    wamp1__ix *at;
    if (s->port->wait_events) return s->port->watch(s->port->ctx, sock, tag, ev, first);
    at = wamp1__pfd_ref(s, tag);
    if (first) {
        if (s->npfd >= WAMP1__WATCH_SLOTS) return -1;
        *at = (wamp1__ix)s->npfd++;
        s->pfds[*at].fd = sock;
        s->pfd_tag[*at] = tag;
    }
    s->pfds[*at].events = (short)ev;
    s->pfds[*at].revents = 0;
    return 0;
}

static void wamp1__unwatch_sock(wamp1_server *s, wamp1_socket sock, uint32_t tag) {
    uint32_t i, last;
    if (s->port->wait_events) {
        if (s->port->unwatch) s->port->unwatch(s->port->ctx, sock);
        return;
    }
    i = *wamp1__pfd_ref(s, tag);
    if (i >= s->npfd || s->pfd_tag[i] != tag) return;
    last = --s->npfd;
    if (i != last) { /* the last entry fills the hole */
        s->pfds[i] = s->pfds[last];
        s->pfd_tag[i] = s->pfd_tag[last];
        *wamp1__pfd_ref(s, s->pfd_tag[i]) = (wamp1__ix)i;
    }
}

static wamp1__ix *wamp1__hpos_ref(wamp1_server *s, uint32_t who) {
    return who & WAMP1__HEAP_TIMER ? &s->timers[who & ~WAMP1__HEAP_TIMER].hpos : &s->conns[who].hpos;
}

static void wamp1__heap_set(wamp1_server *s, uint32_t i, wamp1__hnode n) {
    s->heap[i] = n;
    *wamp1__hpos_ref(s, n.who) = (wamp1__ix)i;
}

/* a is earlier than b (wrap-safe) */
#define WAMP1__BEFORE(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)

static void wamp1__heap_fix(wamp1_server *s, uint32_t i) {
    wamp1__hnode n = s->heap[i];
    while (i > 0 && WAMP1__BEFORE(n.at, s->heap[(i - 1) / 2].at)) { /* up */
        wamp1__heap_set(s, i, s->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) { /* down */
        uint32_t k = 2 * i + 1;
        if (k >= s->nheap) break;
        if (k + 1 < s->nheap && WAMP1__BEFORE(s->heap[k + 1].at, s->heap[k].at)) k++;
        if (!WAMP1__BEFORE(s->heap[k].at, n.at)) break;
        wamp1__heap_set(s, i, s->heap[k]);
        i = k;
    }
    wamp1__heap_set(s, i, n);
}

/* Put who into the heap at time at (or move it there). */
static void wamp1__heap_put(wamp1_server *s, uint32_t who, uint64_t at) {
    wamp1__ix *pos = wamp1__hpos_ref(s, who);
    if (*pos == WAMP1__NONE) *pos = (wamp1__ix)s->nheap++;
    s->heap[*pos].at = (uint32_t)at;
    s->heap[*pos].who = who;
    wamp1__heap_fix(s, *pos);
}

static void wamp1__heap_remove(wamp1_server *s, uint32_t who) {
    wamp1__ix *pos = wamp1__hpos_ref(s, who), i = *pos;
    if (i == WAMP1__NONE) return;
    *pos = WAMP1__NONE;
    if (i != --s->nheap) {
        s->heap[i] = s->heap[s->nheap];
        wamp1__heap_fix(s, i);
    }
}

/* The connection's next timer (deadline or keepalive ping) in the heap. An entry that is
   earlier than needed (a deadline moved later) fires, finds nothing due and moves on. */
static void wamp1__arm(wamp1_conn *c) {
    uint64_t at = c->deadline;
    if (c->ping_at && (!at || c->ping_at < at)) at = c->ping_at;
    if (!at) return;
    if (c->hpos != WAMP1__NONE && !WAMP1__BEFORE(at, c->srv->heap[c->hpos].at)) return;
    wamp1__heap_put(c->srv, wamp1__cindex(c), at);
}

/* The deadline was cleared: the entry moves to the keepalive ping, or leaves. */
static void wamp1__disarm(wamp1_conn *c) {
    if (c->hpos == WAMP1__NONE) return;
    if (c->ping_at) wamp1__heap_put(c->srv, wamp1__cindex(c), c->ping_at);
    else wamp1__heap_remove(c->srv, wamp1__cindex(c));
}

/* ------------------------------------------------------------------------ */
/*  Input and output for one connection                                     */
/* ------------------------------------------------------------------------ */

static void wamp1__free_conn(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    uint32_t i = wamp1__cindex(c);
    if (c->state == WAMP1__FREE) return;
    {
        int code = c->close_code ? (int)c->close_code : (int)WAMP1_CLOSE_ABNORMAL;
        wamp1_link *l;
        /* the user first, while the protocol's state of the connection is still there */
        if ((c->flags & WAMP1__F_OPENED) && s->cfg.cb.on_close) s->cfg.cb.on_close(c, code, s->cfg.user);
        if (c->flags & WAMP1__F_OPENED) WAMP1__PROTO(wamp1__app_close(c, code, s->proto_user));
        c->flags &= (uint8_t)~WAMP1__F_OPENED;
        for (l = s->links; l; l = l->next)
            if (l->on_close) l->on_close(l, c, code);
    }
    wamp1__attrs_clear(c);
    c->wtop = NULL;
    c->parked = 0;
    wamp1__unwatch_sock(s, c->sock, i);
    s->port->close(s->port->ctx, c->sock);
    c->sock = WAMP1_INVALID_SOCKET;
    c->state = WAMP1__FREE;
    c->gen = (uint16_t)(c->gen + 1u);
    if ((c->gen & WAMP1__GEN_MASK) == 0) c->gen = 1;
    c->user = NULL;
    wamp1__heap_remove(s, i);
    c->deadline = c->ping_at = 0;
    wamp1__buf_unwait(c); /* link is the free list's now */
    if (c->rbuf) { wamp1__buf_give(s, wamp1__rpool_of(c), c->rbuf); c->rbuf = NULL; }
    if (c->sbuf) { wamp1__buf_give(s, &s->spool, c->sbuf); c->sbuf = NULL; }
    c->link = s->free_head;
    s->free_head = (wamp1__ix)i;
    s->open_conns--;
    s->stats.connections = s->open_conns;
}

/* Write what is queued; returns -1 if the connection was freed. */
static int wamp1__flush(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    while (c->stail > c->shead && !(c->flags & WAMP1__F_WRITE_FAIL)) {
        long n = s->port->send(s->port->ctx, c->sock, c->sbuf + c->shead, c->stail - c->shead);
        if (n == WAMP1_IO_WOULDBLOCK) break;
        if (n < 0) {
            c->flags |= WAMP1__F_WRITE_FAIL;
            c->shead = c->stail = 0;
            wamp1__report(s, c, WAMP1_ERR_IO, WAMP1__WHY("send failed"));
            wamp1__free_conn(c);
            return -1;
        }
        c->shead += (uint32_t)n;
        s->stats.bytes_out += (wamp1_counter)n;
    }
    if (c->shead == c->stail && !c->wtop) {
        c->shead = c->stail = 0;
        wamp1__sbuf_idle(c);
    }
    if (c->state == WAMP1__FLUSH && c->shead == c->stail) {
        /* all sent: half-close and wait for the peer's FIN, unless it came already */
        if (!s->port->shutdown || (c->flags & WAMP1__F_EOF)) { wamp1__free_conn(c); return -1; }
        s->port->shutdown(s->port->ctx, c->sock);
        c->state = WAMP1__LINGER;
        wamp1__set_deadline(c, s->cfg.close_timeout_ms);
    }
    return 0;
}

/* Run the engine on what is in the receive buffer. */
static void wamp1__process(wamp1_conn *c) {
    if (c->state == WAMP1__HTTP) {
        uint32_t end = wamp1__http_end(c);
        if (!end) {
            if (c->rlen >= c->srv->max_header)
                wamp1__http_error(c, 431, WAMP1__WHY("request header block larger than the limit"));
            return;
        }
        if (end > c->srv->max_header) {
            wamp1__http_error(c, 431, WAMP1__WHY("request header block larger than the limit"));
            return;
        }
        wamp1__handshake(c, end);
    }
    if (c->state == WAMP1__OPEN || c->state == WAMP1__CLOSING) wamp1__ws_process(c);
}

/* Read what the socket has; returns -1 if the connection was freed. */
static int wamp1__read_in(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    int rounds = 0;
    for (;;) {
        uint32_t cap, room;
        long n;
        if (c->state == WAMP1__LINGER || c->state == WAMP1__FLUSH) {
            uint8_t junk[256];
            n = s->port->recv(s->port->ctx, c->sock, junk, sizeof junk);
            if (n == WAMP1_IO_WOULDBLOCK) return 0;
            if (n <= 0) {
                if (c->state == WAMP1__FLUSH && n == 0) { /* peer half-closed: keep writing */
                    c->flags |= WAMP1__F_EOF;
                    return 0;
                }
                wamp1__free_conn(c);
                return -1;
            }
            if (++rounds > 16) return 0;
            continue;
        }
        /* backpressure: while the peer has not taken half of what we owe it, read no more
           of its requests (their answers would only pile up behind) */
        if (c->stail - c->shead > s->cfg.send_buffer_size / 2) {
            if (wamp1__flush(c) < 0) return -1;
            if (c->stail - c->shead > s->cfg.send_buffer_size / 2) return 0;
        }
        /* buffers are lent for the input and for its answers: without both, wait */
        if (!c->sbuf && s->spool.used >= s->spool.count) { wamp1__buf_wait(c, &s->spool); return 0; }
        if (wamp1__rbuf_get(c) != 0) return 0;
        /* a header block (or a POST body) beyond a small buffer moves to a full-size one */
        if (c->state == WAMP1__HTTP && c->rlen == c->rcap &&
#if WAMP1_HTTP_BODY
            (c->rlen < s->max_header || c->rbuf[0] == 'P') &&
#else
            c->rlen < s->max_header &&
#endif
            wamp1__rbuf_grow(c) != 0) return 0;
        cap = c->rcap;
        if (c->rlen == cap && c->state != WAMP1__HTTP) {
            /* make room: the message so far to the front, the unparsed bytes right behind
               it (dropping the frame headers already consumed between them) */
            uint32_t keep = c->msg_op ? c->mlen : 0, raw = c->rlen - c->rpos;
            if (c->msg_op && c->mbase > 0) memmove(c->rbuf, c->rbuf + c->mbase, keep);
            if (c->rpos > keep) memmove(c->rbuf + keep, c->rbuf + c->rpos, raw);
            c->mbase = 0;
            c->rpos = keep;
            c->rlen = keep + raw;
        }
        room = cap - c->rlen;
        if (room == 0) return 0; /* the engine must consume first */
        n = s->port->recv(s->port->ctx, c->sock, c->rbuf + c->rlen, room);
        if (n == WAMP1_IO_WOULDBLOCK) return 0;
        if (n < 0) {
            wamp1__report(s, c, WAMP1_ERR_IO, WAMP1__WHY("recv failed"));
            wamp1__free_conn(c);
            return -1;
        }
        if (n == 0) {
            /* the peer half-closed: it may still read, so what is queued goes out first */
            if (c->state == WAMP1__OPEN)
                wamp1__report(s, c, WAMP1_ERR_IO, WAMP1__WHY("connection closed without a close frame"));
            c->flags |= WAMP1__F_EOF;
            wamp1__to_flush(c);
            return wamp1__flush(c);
        }
        c->rlen += (uint32_t)n;
        s->stats.bytes_in += (wamp1_counter)n;
        wamp1__process(c);
        if (c->state == WAMP1__FREE) return -1;
        if ((uint32_t)n < room || ++rounds >= 4) return 0;
    }
}

static int wamp1__read(wamp1_conn *c) {
    if (wamp1__read_in(c) < 0) return -1;
    wamp1__rbuf_idle(c);
    wamp1__dirty(c);
    return 0;
}

/* ------------------------------------------------------------------------ */
/*  Server: pools, accept, timers, the loop                                 */
/* ------------------------------------------------------------------------ */

#if WAMP1_STATIC_MEMORY_SIZE > 0
static uint8_t wamp1__static_memory[WAMP1_STATIC_MEMORY_SIZE];
static int wamp1__static_used; /* one server at a time; its shutdown gives the block back */
#endif

static void wamp1__defaults(wamp1_config *c) {
    if (!c->host) c->host = "127.0.0.1";
    if (!c->max_connections || c->max_connections > WAMP1_MAX_CONNECTIONS)
        c->max_connections = WAMP1_MAX_CONNECTIONS;
    if (!c->recv_buffer_size) c->recv_buffer_size = WAMP1_RECV_BUFFER_SIZE;
    if (!c->send_buffer_size) c->send_buffer_size = WAMP1_SEND_BUFFER_SIZE;
    if (!c->max_header_size) c->max_header_size = WAMP1_MAX_HEADER_SIZE;
    if (!c->handshake_timeout_ms) c->handshake_timeout_ms = WAMP1_HANDSHAKE_TIMEOUT_MS;
    if (!c->close_timeout_ms) c->close_timeout_ms = WAMP1_CLOSE_TIMEOUT_MS;
    if (!c->message_timeout_ms) c->message_timeout_ms = WAMP1_MESSAGE_TIMEOUT_MS;
}

/* Buffer counts: the configured ones, or one of each per connection. */
static void wamp1__buffer_counts(const wamp1_config *c, uint32_t *nr, uint32_t *ns, uint32_t *nq) {
    *nr = c->recv_buffers ? c->recv_buffers : c->max_connections;
    *ns = c->send_buffers ? c->send_buffers : c->max_connections;
    *nq = !c->recv_small_size ? 0 : c->recv_small_buffers ? c->recv_small_buffers : c->max_connections;
}

static size_t wamp1__buffer_bytes(const wamp1_config *c) {
    uint32_t nr, ns, nq;
    wamp1__buffer_counts(c, &nr, &ns, &nq);
    return (size_t)nr * c->recv_buffer_size + (size_t)ns * c->send_buffer_size + (size_t)nq * c->recv_small_size;
}

WAMP1__DEF size_t wamp1_server_memory_size(const wamp1_config *cfg) {
    wamp1_config c = *cfg;
    wamp1__defaults(&c);
    return wamp1__buffer_bytes(&c);
}

/* A file compiled with other options than the library: refused, loudly in debug builds. */
static int wamp1__stamp_ok(uint32_t stamp) {
    if (stamp == WAMP1_CONFIG_STAMP) return 1;
    WAMP1_LOG(WAMP1__WHY("wamp1.h: a file was compiled with other options than the library"));
    WAMP1_ASSERT(stamp == WAMP1_CONFIG_STAMP); /* options differ between files: WAMP1_CONFIG_FILE */
    return 0;
}

static int wamp1__server_init(wamp1_server *s, const wamp1_config *cfg, void *proto_user);

WAMP1__DEF int wamp1_server_init_checked(wamp1_server *s, const wamp1_config *cfg, uint32_t stamp) {
    return wamp1__stamp_ok(stamp) ? wamp1__server_init(s, cfg, NULL) : -1;
}

/* init refuses the configuration: the error hooks hear why (WAMP1_ERR_CONFIG, no connection) */
#define wamp1__init_fail(cfg, why) (wamp1__report(s, NULL, WAMP1_ERR_CONFIG, (why)), -1)

/* The size limits that follow from the configuration's buffers. */
static void wamp1__init_limits(wamp1_server *s) {
    s->max_header = s->cfg.max_header_size;
    if (s->max_header > s->cfg.recv_buffer_size) s->max_header = s->cfg.recv_buffer_size;
    s->max_message = s->cfg.recv_buffer_size - 256;
    if (s->cfg.max_message_size && s->cfg.max_message_size < s->max_message)
        s->max_message = s->cfg.max_message_size;
    /* a message and its frame header must also fit the send buffer to be echoed */
    s->max_frame = s->cfg.max_frame_size && s->cfg.max_frame_size < s->max_message
                       ? s->cfg.max_frame_size : s->max_message;
}

/* The fixed tables empty: no slot, timer, watched socket, refused socket or attribute in use. */
static void wamp1__init_tables(wamp1_server *s) {
    uint32_t i;
    s->free_head = WAMP1__NONE; /* slots past `carved` are made on first use */
    s->wake_sock = WAMP1_INVALID_SOCKET;
    for (i = 0; i < WAMP1_MAX_TIMERS; i++) {
        s->timers[i].hpos = WAMP1__NONE;
        s->timers[i].next = (wamp1__ix)(i + 1 < WAMP1_MAX_TIMERS ? i + 1 : WAMP1__NONE);
    }
    s->timer_free = WAMP1_MAX_TIMERS > 0 ? 0 : WAMP1__NONE;
#if WAMP1_MAX_WATCHES > 0
    for (i = 0; i < WAMP1_MAX_WATCHES; i++) s->watches[i].sock = WAMP1_INVALID_SOCKET;
#endif
#if WAMP1_REJECT_SLOTS > 0
    for (i = 0; i < WAMP1_REJECT_SLOTS; i++) s->rejects[i].sock = WAMP1_INVALID_SOCKET;
#endif
    s->attr_free = WAMP1__ANIL; /* records are used in order first, then from the free list */
    s->attr_carved = 0;
}

static int wamp1__server_init(wamp1_server *s, const wamp1_config *cfg, void *proto_user) {
    size_t need, per, have;
    uint32_t nr, ns, nq;
    uint8_t *mem;
    /* the per-connection tables at the end are set up as they are used, so that memory
       of slots never used is never touched */
    memset(s, 0, offsetof(wamp1_server, pfds));
    s->proto_user = proto_user;
    if (!cfg) return -1;
    s->cfg = *cfg; /* the error hook is known from here on */
    if (!cfg->port || (!cfg->port->wait && !cfg->port->wait_events) ||
        (cfg->port->wait_events && !cfg->port->watch))
        return wamp1__init_fail(cfg, WAMP1__WHY("init: no port, or a port without wait() or watch()"));
    wamp1__defaults(&s->cfg);
    s->port = s->cfg.port;
    if (s->cfg.recv_buffer_size < 512 || s->cfg.send_buffer_size < 256)
        return wamp1__init_fail(cfg, WAMP1__WHY("init: recv_buffer_size below 512 or send_buffer_size below 256"));
    if (s->cfg.recv_small_size && (s->cfg.recv_small_size < 256 || s->cfg.recv_small_size >= s->cfg.recv_buffer_size))
        return wamp1__init_fail(cfg, WAMP1__WHY("init: recv_small_size must be at least 256 and below recv_buffer_size"));
    per = (size_t)s->cfg.recv_buffer_size + s->cfg.send_buffer_size;
    wamp1__buffer_counts(&s->cfg, &nr, &ns, &nq);
    need = wamp1__buffer_bytes(&s->cfg);
    mem = (uint8_t *)s->cfg.memory;
    have = s->cfg.memory_size;
    if (!mem) {
#if WAMP1_STATIC_MEMORY_SIZE > 0
        if (wamp1__static_used) /* the static block serves one server at a time */
            return wamp1__init_fail(cfg, WAMP1__WHY("init: the built-in block serves another server: give cfg.memory"));
        mem = wamp1__static_memory;
        have = sizeof wamp1__static_memory;
#else
        return wamp1__init_fail(cfg, WAMP1__WHY("init: no cfg.memory, and WAMP1_STATIC_MEMORY_SIZE is 0"));
#endif
    }
    if (have < need) {
        /* the block holds fewer buffers: with the default counts, fewer connections */
        if (s->cfg.recv_buffers || s->cfg.send_buffers || s->cfg.recv_small_size)
            return wamp1__init_fail(cfg, WAMP1__WHY("init: the buffer memory is smaller than the buffer counts asked for"));
        s->cfg.max_connections = (uint32_t)(have / per);
        if (!s->cfg.max_connections)
            return wamp1__init_fail(cfg, WAMP1__WHY("init: the buffer memory does not hold one connection's buffers"));
        nr = ns = s->cfg.max_connections;
    }
    s->memory = mem;
    s->rpool.base = mem;
    s->rpool.count = nr;
    s->spool.base = mem + (size_t)nr * s->cfg.recv_buffer_size;
    s->spool.count = ns;
    s->qpool.base = s->spool.base + (size_t)ns * s->cfg.send_buffer_size;
    s->qpool.count = nq;
    s->rpool.wait_head = s->rpool.wait_tail = s->spool.wait_head = s->spool.wait_tail = WAMP1__NONE;
    s->qpool.wait_head = s->qpool.wait_tail = WAMP1__NONE;
    s->nconns = s->cfg.max_connections;
    s->limit = s->nconns;
    wamp1__init_limits(s);
    wamp1__init_tables(s);
    s->stats.connections_max = s->nconns;
    s->stats.recv_buffers_max = nr;
    s->stats.send_buffers_max = ns;
    if (wamp1__default_chain(s) != 0)
        return wamp1__init_fail(cfg, WAMP1__WHY("init: cfg.blocklist or cfg.origins set, but compiled out (WAMP1_NO_DEFAULT_LINKS)"));
    s->now = s->port->now_ms(s->port->ctx);
    if (s->port->wake_fd) {
        wamp1_socket w = s->port->wake_fd(s->port->ctx);
        if (w != WAMP1_INVALID_SOCKET) {
            if (wamp1__watch(s, w, WAMP1__TAG_WAKE, WAMP1_POLLIN, 1) != 0)
                return wamp1__init_fail(cfg, WAMP1__WHY("init: the port refused to watch its wake-up socket"));
            s->wake_sock = w;
        }
    }
#if WAMP1_STATIC_MEMORY_SIZE > 0
    if (mem == wamp1__static_memory) wamp1__static_used = 1; /* taken only by an init that worked */
#endif
    return 0;
}

WAMP1__DEF int wamp1_server_listen(wamp1_server *s) {
    wamp1_socket ls;
    uint16_t bound = 0;
    if (s->nlisten >= WAMP1_MAX_LISTENERS) {
        wamp1__report(s, NULL, WAMP1_ERR_LIMIT, WAMP1__WHY("listener table full: raise WAMP1_MAX_LISTENERS"));
        return -1;
    }
    if (s->port->listen(s->port->ctx, s->cfg.host, s->cfg.listen_port, &ls, &bound) != 0) {
        wamp1__report(s, NULL, WAMP1_ERR_IO, WAMP1__WHY("cannot listen on the configured address and port"));
        return -1;
    }
    if (wamp1__watch(s, ls, WAMP1__TAG_LISTEN + s->nlisten, WAMP1_POLLIN, 1) != 0) {
        s->port->close(s->port->ctx, ls);
        return -1;
    }
    s->listeners[s->nlisten++] = ls;
    s->bound_port = bound;
    return 0;
}

WAMP1__DEF uint16_t wamp1_server_port(const wamp1_server *s) { return s->bound_port; }
WAMP1__DEF uint64_t wamp1_server_now(const wamp1_server *s) { return s->now; }
WAMP1__DEF void *wamp1_server_user(const wamp1_server *s) { return s->cfg.user; }
#ifndef WAMP1_NO_WAMP
WAMP1__DEF wamp1_app *wamp1_server_app(wamp1_server *s) { return (wamp1_app *)s->proto_user; }
#endif
WAMP1__DEF void wamp1_server_stats(const wamp1_server *s, wamp1_stats *out) {
    *out = s->stats;
    out->recv_buffers_used = s->rpool.used;
    out->recv_small_used = s->qpool.used;
    out->recv_small_max = s->qpool.count;
    out->send_buffers_used = s->spool.used;
}

WAMP1__DEF int wamp1_server_set_max_connections(wamp1_server *s, uint32_t n) {
    if (n == 0 || n > s->nconns) return -1;
    s->limit = n;
    s->stats.connections_max = n;
    return 0;
}

WAMP1__DEF wamp1_conn *wamp1_server_next_conn(wamp1_server *s, wamp1_conn *prev) {
    uint32_t i = prev ? (uint32_t)(prev - s->conns) + 1u : 0u;
    for (; i < s->carved; i++)
        if (s->conns[i].state == WAMP1__OPEN && !(s->conns[i].flags & WAMP1__F_CLOSE_SENT))
            return &s->conns[i];
    return NULL;
}

WAMP1__DEF void wamp1_server_stop(wamp1_server *s) {
    WAMP1__FLAG_SET(&s->stop, 1);
    if (s->port->wake) s->port->wake(s->port->ctx);
}

WAMP1__DEF int wamp1_server_stopping(const wamp1_server *s) { return WAMP1__FLAG_GET(&s->stop) != 0; }

WAMP1__DEF void wamp1_server_wake(wamp1_server *s) {
    if (s->port->wake) s->port->wake(s->port->ctx);
}

#if WAMP1_REJECT_SLOTS > 0
static void wamp1__reject_close(wamp1_server *s, unsigned i) {
    wamp1__unwatch_sock(s, s->rejects[i].sock, WAMP1__TAG_REJECT + i);
    s->port->close(s->port->ctx, s->rejects[i].sock);
    s->rejects[i].sock = WAMP1_INVALID_SOCKET;
    s->nrejects--;
}
#endif

/* Pool full: answer 503 at once and keep the socket only to drain the request. */
static void wamp1__reject(wamp1_server *s, wamp1_socket sock) {
#ifdef WAMP1_NO_ERROR_TEXT
    static const char r503[] =
        "HTTP/1.1 503 \r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n";
#else
    static const char r503[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
        "Content-Length: 20\r\nConnection: close\r\nRetry-After: 1\r\n\r\nService Unavailable\n";
#endif
#if WAMP1_REJECT_SLOTS > 0
    unsigned i;
#endif
    s->stats.rejected_full++;
    wamp1__report(s, NULL, WAMP1_ERR_POOL_FULL, WAMP1__WHY("connection pool full: 503"));
    (void)s->port->send(s->port->ctx, sock, r503, sizeof r503 - 1);
    if (s->port->shutdown) {
        s->port->shutdown(s->port->ctx, sock);
#if WAMP1_REJECT_SLOTS > 0
        for (i = 0; i < WAMP1_REJECT_SLOTS; i++) {
            if (s->rejects[i].sock == WAMP1_INVALID_SOCKET) {
                if (wamp1__watch(s, sock, WAMP1__TAG_REJECT + i, WAMP1_POLLIN, 1) != 0) break;
                s->rejects[i].sock = sock;
                s->rejects[i].deadline = s->now + 1000u;
                s->nrejects++;
                return;
            }
        }
#endif
    }
    s->port->close(s->port->ctx, sock);
}

/* A free slot: the most recently freed one, or one never used yet. */
static wamp1_conn *wamp1__slot(wamp1_server *s) {
    wamp1_conn *c;
    if (s->free_head != WAMP1__NONE) {
        c = &s->conns[s->free_head];
        s->free_head = c->link;
        return c;
    }
    if (s->carved >= s->nconns) return NULL;
    c = &s->conns[s->carved++];
    memset(c, 0, sizeof *c);
    c->srv = s;
    c->gen = 1;
    c->hpos = WAMP1__NONE;
    return c;
}

static void wamp1__accept(wamp1_server *s, wamp1_socket ls) {
    int k;
    for (k = 0; k < 64; k++) {
        wamp1_socket ns;
        wamp1_addr peer;
        wamp1_conn *c = NULL;
        memset(&peer, 0, sizeof peer);
        if (s->port->accept(s->port->ctx, ls, &ns, &peer) != 0) return;
        s->stats.accepted++;
        if (s->open_conns < s->limit && !s->shutting_down) c = wamp1__slot(s);
        if (!c) { wamp1__reject(s, ns); continue; }
        c->sock = ns;
        c->peer = peer;
        c->state = WAMP1__HTTP;
        c->flags = 0;
        c->lflags &= WAMP1__L_DIRTY; /* still listed from the last use */
        c->rlen = c->rpos = c->mbase = c->mlen = 0;
        c->shead = c->stail = 0;
        c->fop = c->msg_op = 0;
        c->frame_left = 0;
        c->close_code = 0;
        c->user = NULL;
        c->rcap = s->cfg.recv_buffer_size;
        c->req_len = 0;
        c->wtop = NULL;
        c->parked = 0;
        c->attrs = WAMP1__ANIL;
        c->deadline = c->ping_at = 0;
        c->interest = WAMP1_POLLIN;
        s->open_conns++;
        s->stats.connections = s->open_conns;
        if (s->open_conns > s->stats.connections_peak) s->stats.connections_peak = s->open_conns;
        if (wamp1__watch(s, ns, wamp1__cindex(c), WAMP1_POLLIN, 1) != 0) {
            /* the port cannot watch one more socket: as if the pool were full */
            c->state = WAMP1__LINGER;
            c->pfd = WAMP1__NONE;
            wamp1__free_conn(c);
            s->stats.rejected_full++;
            wamp1__report(s, NULL, WAMP1_ERR_POOL_FULL, WAMP1__WHY("the port cannot watch more sockets"));
            continue;
        }
        wamp1__set_deadline(c, s->cfg.handshake_timeout_ms);
        {
            wamp1_link *l;
            for (l = s->links; l && c->state == WAMP1__HTTP; l = l->next) {
                int st = l->on_connect ? l->on_connect(l, c) : 0;
                if (st && c->state == WAMP1__HTTP) wamp1__http_error(c, st, WAMP1__WHY("connection refused by a middleware link"));
            }
        }
    }
}

/* A connection's timer fired: its deadline, its keepalive ping, or an entry left early. */
static void wamp1__conn_due(wamp1_conn *c) {
    wamp1_server *s = c->srv;
    if (c->state == WAMP1__FREE) return;
    if (c->deadline && s->now >= c->deadline) {
        c->deadline = 0;
        switch (c->state) {
        case WAMP1__HTTP:
            wamp1__report(s, c, WAMP1_ERR_HANDSHAKE_TIMEOUT, WAMP1__WHY("handshake not finished in time"));
            wamp1__free_conn(c);
            return;
        case WAMP1__CLOSING:
            wamp1__report(s, c, WAMP1_ERR_CLOSE_TIMEOUT, WAMP1__WHY("no close frame from the peer in time"));
            wamp1__free_conn(c);
            return;
        case WAMP1__OPEN:
            wamp1__fail(c, WAMP1_CLOSE_POLICY, WAMP1_ERR_MESSAGE_TIMEOUT, WAMP1__WHY("message not completed in time"));
            break;
        default: /* FLUSH or LINGER: the peer does not read or does not close */
            wamp1__free_conn(c);
            return;
        }
    }
    if (c->ping_at && s->now >= c->ping_at) {
        c->ping_at = 0;
        if (c->state == WAMP1__OPEN && !(c->flags & WAMP1__F_CLOSE_SENT)) {
            if (c->flags & WAMP1__F_PING_OUT) {
                if (s->cfg.cb.on_keepalive_timeout) s->cfg.cb.on_keepalive_timeout(c, s->cfg.user);
                if (c->state == WAMP1__OPEN)
                    wamp1__fail(c, WAMP1_CLOSE_GOING_AWAY, WAMP1_ERR_KEEPALIVE,
                                WAMP1__WHY("no pong to the keepalive ping"));
            } else {
                c->flags |= WAMP1__F_PING_OUT;
                (void)wamp1__queue_frame(c, WAMP1_OP_PING, "wamp1", 5);
                c->ping_at = s->now + s->cfg.keepalive_ms;
            }
        }
    }
    if (c->state != WAMP1__FREE) wamp1__arm(c);
}

static void wamp1__timer_due(wamp1_server *s, uint32_t i) {
    wamp1__timer *t = &s->timers[i];
    wamp1_timer_id id;
    id.id = (uint32_t)t->gen << 16 | (i + 1u);
    if (t->period) {
        wamp1__heap_put(s, WAMP1__HEAP_TIMER | i, s->now + t->period);
    } else {
        t->used = 0;
        t->gen = (uint16_t)(t->gen + 1u);
        if (t->gen == 0) t->gen = 1;
        t->next = s->timer_free;
        s->timer_free = (wamp1__ix)i;
    }
    t->fn(s, id, t->user);
}

/* Everything due by now: O(log n) per timer that fires, nothing for the others. */
static void wamp1__timers(wamp1_server *s) {
    unsigned budget = s->nheap + 1u; /* what a timer started now does not fire before the next wait */
    while (s->nheap && !WAMP1__BEFORE(s->now, s->heap[0].at) && budget--) {
        uint32_t who = s->heap[0].who;
        wamp1__heap_remove(s, who);
        if (who & WAMP1__HEAP_TIMER) s->timer_due(s, who & ~WAMP1__HEAP_TIMER);
        else wamp1__conn_due(&s->conns[who]);
    }
#if WAMP1_REJECT_SLOTS > 0
    if (s->nrejects) {
        unsigned i;
        for (i = 0; i < WAMP1_REJECT_SLOTS; i++)
            if (s->rejects[i].sock != WAMP1_INVALID_SOCKET && s->now >= s->rejects[i].deadline)
                wamp1__reject_close(s, i);
    }
#endif
}

WAMP1__DEF wamp1_timer_id wamp1_timer_start(wamp1_server *s, uint32_t ms, uint32_t period_ms,
                                           wamp1_timer_fn fn, void *user) {
    wamp1_timer_id id;
    uint32_t i = s->timer_free;
    id.id = 0;
    if (!fn) return id;
    if (i != WAMP1__NONE) {
        wamp1__timer *t = &s->timers[i];
        s->timer_due = wamp1__timer_due;
        s->timer_free = t->next;
        if (t->gen == 0) t->gen = 1;
        t->used = 1;
        t->fn = fn;
        t->user = user;
        if (ms > (1u << 30)) ms = 1u << 30; /* about 12 days: keys stay comparable */
        if (period_ms > (1u << 30)) period_ms = 1u << 30;
        t->period = period_ms;
        /* from now, not from the loop's last look at the clock (a caller outside the loop
           may come long after it) */
        wamp1__heap_put(s, WAMP1__HEAP_TIMER | i, s->port->now_ms(s->port->ctx) + (ms ? ms : 1u));
        id.id = (uint32_t)t->gen << 16 | (i + 1u);
        return id;
    }
    wamp1__report(s, NULL, WAMP1_ERR_LIMIT, WAMP1__WHY("timer pool full"));
    return id;
}

WAMP1__DEF int wamp1_timer_stop(wamp1_server *s, wamp1_timer_id id) {
    uint32_t i = (id.id & 0xFFFFu);
    wamp1__timer *t;
    if (i == 0 || i > WAMP1_MAX_TIMERS) return -1;
    t = &s->timers[i - 1];
    if (!t->used || t->gen != (uint16_t)(id.id >> 16)) return -1;
    wamp1__heap_remove(s, WAMP1__HEAP_TIMER | (i - 1));
    t->used = 0;
    t->gen = (uint16_t)(t->gen + 1u);
    if (t->gen == 0) t->gen = 1;
    t->next = s->timer_free;
    s->timer_free = (wamp1__ix)(i - 1);
    return 0;
}

#if WAMP1_MAX_WATCHES > 0
static wamp1__watcher *wamp1__watch_find(wamp1_server *s, wamp1_socket sock) {
    unsigned i;
    if (sock == WAMP1_INVALID_SOCKET) return NULL;
    for (i = 0; i < WAMP1_MAX_WATCHES; i++)
        if (s->watches[i].sock == sock) return &s->watches[i];
    return NULL;
}

WAMP1__DEF int wamp1_watch(wamp1_server *s, wamp1_socket sock, unsigned events,
                          wamp1_watch_fn fn, void *user) {
    wamp1__watcher *w;
    if (!fn || sock == WAMP1_INVALID_SOCKET || wamp1__watch_find(s, sock)) return -1;
    w = wamp1__watch_find(s, WAMP1_INVALID_SOCKET);
    {
        unsigned i;
        for (i = 0; i < WAMP1_MAX_WATCHES && !w; i++)
            if (s->watches[i].sock == WAMP1_INVALID_SOCKET) w = &s->watches[i];
    }
    if (!w) {
        wamp1__report(s, NULL, WAMP1_ERR_LIMIT, WAMP1__WHY("watch table full"));
        return -1;
    }
    events &= WAMP1_POLLIN | WAMP1_POLLOUT;
    if (wamp1__watch(s, sock, WAMP1__TAG_WATCH + (uint32_t)(w - s->watches), events, 1) != 0) return -1;
    w->sock = sock;
    w->fn = fn;
    w->user = user;
    w->events = (uint8_t)events;
    return 0;
}

WAMP1__DEF int wamp1_watch_events(wamp1_server *s, wamp1_socket sock, unsigned events) {
    wamp1__watcher *w = wamp1__watch_find(s, sock);
    if (!w) return -1;
    events &= WAMP1_POLLIN | WAMP1_POLLOUT;
    if (events == w->events) return 0;
    w->events = (uint8_t)events;
    return wamp1__watch(s, sock, WAMP1__TAG_WATCH + (uint32_t)(w - s->watches), events, 0);
}

WAMP1__DEF int wamp1_unwatch(wamp1_server *s, wamp1_socket sock) {
    wamp1__watcher *w = wamp1__watch_find(s, sock);
    if (!w) return -1;
    wamp1__unwatch_sock(s, sock, WAMP1__TAG_WATCH + (uint32_t)(w - s->watches));
    w->sock = WAMP1_INVALID_SOCKET;
    return 0;
}

#else /* WAMP1_MAX_WATCHES == 0: no application sockets */
WAMP1__DEF int wamp1_watch(wamp1_server *s, wamp1_socket sock, unsigned events,
                          wamp1_watch_fn fn, void *user) {
    (void)sock; (void)events; (void)fn; (void)user;
    wamp1__report(s, NULL, WAMP1_ERR_LIMIT, WAMP1__WHY("watch table full"));
    return -1;
}
WAMP1__DEF int wamp1_watch_events(wamp1_server *s, wamp1_socket sock, unsigned events) {
    (void)s; (void)sock; (void)events;
    return -1;
}
WAMP1__DEF int wamp1_unwatch(wamp1_server *s, wamp1_socket sock) {
    (void)s; (void)sock;
    return -1;
}
#endif

static int wamp1__next_timeout(const wamp1_server *s, int timeout_ms) {
    uint64_t next = UINT64_MAX;
    if (s->ndirty) return 0;
    if (s->nheap) {
        int32_t d = (int32_t)(s->heap[0].at - (uint32_t)s->now);
        next = d > 0 ? s->now + (uint32_t)d : s->now;
    }
#if WAMP1_REJECT_SLOTS > 0
    if (s->nrejects) {
        unsigned i;
        for (i = 0; i < WAMP1_REJECT_SLOTS; i++)
            if (s->rejects[i].sock != WAMP1_INVALID_SOCKET && s->rejects[i].deadline < next)
                next = s->rejects[i].deadline;
    }
#endif
    if (next != UINT64_MAX) {
        uint64_t d = next > s->now ? next - s->now : 0;
        if (timeout_ms < 0 || d < (uint64_t)timeout_ms) timeout_ms = (int)(d > 0x7FFFFFFF ? 0x7FFFFFFF : d);
    }
    return timeout_ms;
}

/* What a connection is watched for: input unless held back (backpressure, a full
   receive buffer, no buffer to lend), output while some is queued. */
static unsigned wamp1__want(const wamp1_conn *c) {
    const wamp1_server *s = c->srv;
    unsigned ev = 0;
    if (c->state >= WAMP1__FLUSH) {
        if (!(c->flags & WAMP1__F_EOF)) ev |= WAMP1_POLLIN;
    } else if (!(c->lflags & WAMP1__L_WAIT) && c->stail - c->shead <= s->cfg.send_buffer_size / 2 &&
               (!c->rbuf || c->rlen < c->rcap || c->rpos > 0 || c->mbase > 0
#if WAMP1_HTTP_BODY
                /* a full small buffer: the read moves the request to a full-size one */
                || (c->state == WAMP1__HTTP && wamp1__rpool_of(c) != &s->rpool)
#endif
                ))
        ev |= WAMP1_POLLIN;
    if (c->stail > c->shead) ev |= WAMP1_POLLOUT;
    return ev;
}

/* One touched connection: write what was queued for it, go on with input that
   backpressure held back, give back idle buffers, and watch it for what it now needs. */
static void wamp1__settle_one(wamp1_server *s, wamp1_conn *c, uint32_t i) {
    unsigned ev;
    if (c->state == WAMP1__FREE) return;
    if (c->wtop) { /* an in-place message was begun and never ended: drop it */
        c->wtop = NULL;
        c->parked = 0;
        wamp1__report(s, c, WAMP1_ERR_MALFORMED, WAMP1__WHY("an in-place message was not ended"));
    }
    if ((c->stail > c->shead || c->state == WAMP1__FLUSH) && wamp1__flush(c) < 0) return;
    if ((c->state == WAMP1__OPEN || c->state == WAMP1__CLOSING) && c->rpos < c->rlen &&
        c->stail - c->shead <= s->cfg.send_buffer_size / 2) {
        uint32_t before = c->rpos;
        wamp1__ws_process(c);
        if (c->state == WAMP1__FREE) return;
        if (c->rpos != before && wamp1__flush(c) < 0) return;
    }
    wamp1__rbuf_idle(c);
    wamp1__sbuf_idle(c);
    ev = wamp1__want(c);
    if (ev != c->interest) {
        c->interest = (uint8_t)ev;
        if (wamp1__watch(s, c->sock, i, ev, 0) != 0) {
            wamp1__report(s, c, WAMP1_ERR_IO, WAMP1__WHY("the port failed to watch a socket"));
            wamp1__free_conn(c);
        }
    }
}

/* Every connection touched since the last wait, in turn; those touched meanwhile (answers
   queued to others) join the ring behind. A connection stays marked while it is settled,
   so what it queues for itself is written in the same visit. */
static void wamp1__settle(wamp1_server *s) {
    while (s->ndirty) {
        uint32_t i = s->dirty[s->dhead];
        if (++s->dhead >= s->nconns) s->dhead = 0;
        s->ndirty--;
        wamp1__settle_one(s, &s->conns[i], i);
        s->conns[i].lflags &= (uint8_t)~WAMP1__L_DIRTY;
    }
}

/* One ready socket. */
static void wamp1__dispatch(wamp1_server *s, uint32_t tag, unsigned re) {
    if (tag < s->nconns) {
        wamp1_conn *c = &s->conns[tag];
        if (c->state == WAMP1__FREE) return;
        if (re & (WAMP1_POLLIN | WAMP1_POLLHUP | WAMP1_POLLERR | WAMP1_POLLNVAL)) {
            if (wamp1__read(c) < 0) return;
        }
        wamp1__dirty(c); /* written in settle */
        return;
    }
    if (tag == WAMP1__TAG_WAKE) {
        if (s->port->wake_drain) s->port->wake_drain(s->port->ctx);
        return;
    }
    if (tag >= WAMP1__TAG_LISTEN) {
        if (tag - WAMP1__TAG_LISTEN < s->nlisten) wamp1__accept(s, s->listeners[tag - WAMP1__TAG_LISTEN]);
        return;
    }
#if WAMP1_REJECT_SLOTS > 0
    if (tag >= WAMP1__TAG_REJECT) {
        unsigned r = tag - WAMP1__TAG_REJECT;
        uint8_t junk[256];
        long got;
        if (r >= WAMP1_REJECT_SLOTS || s->rejects[r].sock == WAMP1_INVALID_SOCKET) return;
        got = s->port->recv(s->port->ctx, s->rejects[r].sock, junk, sizeof junk);
        if (got == 0 || got == WAMP1_IO_ERROR) wamp1__reject_close(s, r);
        return;
    }
#endif
#if WAMP1_MAX_WATCHES > 0
    if (tag >= WAMP1__TAG_WATCH && tag - WAMP1__TAG_WATCH < WAMP1_MAX_WATCHES) {
        wamp1__watcher *w = &s->watches[tag - WAMP1__TAG_WATCH];
        unsigned ev = re & (w->events | WAMP1_POLLERR | WAMP1_POLLHUP);
        if (w->sock != WAMP1_INVALID_SOCKET && ev) w->fn(s, w->sock, ev, w->user);
    }
#endif
}

WAMP1__DEF int wamp1_server_poll(wamp1_server *s, int timeout_ms) {
    int ready;
    unsigned n = 0, k;
    s->now = s->port->now_ms(s->port->ctx);
    wamp1__timers(s);
    wamp1__settle(s); /* what was queued since the last poll */
    timeout_ms = wamp1__next_timeout(s, WAMP1__FLAG_GET(&s->stop) ? 0 : timeout_ms);
    if (s->port->wait_events) {
        ready = s->port->wait_events(s->port->ctx, s->events, WAMP1_EVENT_BATCH, timeout_ms);
        if (ready > 0) n = (unsigned)ready;
    } else {
        ready = s->port->wait(s->port->ctx, s->pfds, s->npfd, timeout_ms);
        if (ready > 0) {
            /* collect the ready entries first: handling them changes the set; start where
               the last full batch stopped so that no socket waits behind the others */
            uint32_t i, at = s->pfd_scan < s->npfd ? s->pfd_scan : 0;
            for (i = 0; i < s->npfd && n < WAMP1_EVENT_BATCH; i++) {
                uint32_t j = at + i < s->npfd ? at + i : at + i - s->npfd;
                if (!s->pfds[j].revents) continue;
                s->events[n].tag = s->pfd_tag[j];
                s->events[n].events = (unsigned)(unsigned short)s->pfds[j].revents;
                s->pfds[j].revents = 0;
                if (++n == WAMP1_EVENT_BATCH) s->pfd_scan = (wamp1__ix)(j + 1);
            }
        }
    }
    s->now = s->port->now_ms(s->port->ctx);
    for (k = 0; k < n; k++) wamp1__dispatch(s, s->events[k].tag, s->events[k].events);
    wamp1__timers(s);
    WAMP1__PROTO(wamp1__app_tick(s, s->now, s->proto_user));
    if (s->cfg.cb.on_tick) s->cfg.cb.on_tick(s, s->now, s->cfg.user);
    wamp1__settle(s);
    return ready < 0 ? -1 : 0;
}

WAMP1__DEF int wamp1_server_run(wamp1_server *s) {
    while (!wamp1_server_stopping(s)) (void)wamp1_server_poll(s, -1);
    return 0;
}

WAMP1__DEF int wamp1_server_shutdown(wamp1_server *s, uint32_t timeout_ms) {
    uint64_t end;
    uint32_t i;
    unsigned k;
    s->shutting_down = 1;
    WAMP1__FLAG_SET(&s->stop, 0);
    s->now = s->port->now_ms(s->port->ctx);
    end = s->now + timeout_ms;
    for (k = 0; k < s->nlisten; k++) {
        wamp1__unwatch_sock(s, s->listeners[k], WAMP1__TAG_LISTEN + k);
        s->port->close(s->port->ctx, s->listeners[k]);
    }
    s->nlisten = 0;
    for (i = 0; i < s->carved; i++) {
        wamp1_conn *c = &s->conns[i];
        if (c->state == WAMP1__HTTP) wamp1__to_flush(c);
        else if (c->state == WAMP1__OPEN) {
            if (c->close_code == 0) c->close_code = WAMP1_CLOSE_GOING_AWAY;
            wamp1__queue_close(c, WAMP1_CLOSE_GOING_AWAY, "server shutting down");
            wamp1__to_flush(c);
        } else if (c->state == WAMP1__CLOSING) wamp1__to_flush(c);
        if (c->state == WAMP1__FREE) continue;
        if (c->state == WAMP1__FLUSH || c->deadline > end || !c->deadline) c->deadline = end;
        c->ping_at = 0;
        if (c->hpos != WAMP1__NONE) wamp1__heap_remove(s, i);
        wamp1__arm(c);
    }
    while (s->open_conns > 0) {
        uint64_t now = s->port->now_ms(s->port->ctx);
        if (now >= end) break;
        (void)wamp1_server_poll(s, (int)(end - now));
    }
    for (i = 0; i < s->carved; i++) wamp1__free_conn(&s->conns[i]);
    wamp1__settle(s); /* empties the ring: every connection is free now */
    if (s->wake_sock != WAMP1_INVALID_SOCKET) { /* the port may serve another server */
        wamp1__unwatch_sock(s, s->wake_sock, WAMP1__TAG_WAKE);
        s->wake_sock = WAMP1_INVALID_SOCKET;
    }
#if WAMP1_STATIC_MEMORY_SIZE > 0
    if (s->memory == wamp1__static_memory) wamp1__static_used = 0; /* init may take it again */
#endif
#if WAMP1_REJECT_SLOTS > 0
    for (k = 0; k < WAMP1_REJECT_SLOTS; k++)
        if (s->rejects[k].sock != WAMP1_INVALID_SOCKET) wamp1__reject_close(s, k);
#endif
    return 0;
}

/* ---- begin json impl ---- */
/* ---- JSON implementation ---------------------------------------------------------------- */

/* Escape letters and the bytes they stand for, in pairs; shared by the tokenizer (which
 * letters are legal), the unescaper and the writer (the reverse lookup). */
static const char wamp1__json_esc_tab[] = "\"\"\\\\//b\bf\fn\nr\rt\t";

/* Byte for escape letter c, or 0 if c is not one of the short escapes. */
static unsigned wamp1__json_esc(unsigned c)
{
    const char *m;
    for (m = wamp1__json_esc_tab; *m; m += 2)
        if ((unsigned char)m[0] == c) return (unsigned char)m[1];
    return 0;
}

/* Value of 4 hex digits at s, or a value above 0xFFFF if any of them is not a hex digit. */
static uint32_t wamp1__json_hex4(const char *s)
{
    uint32_t v = 0, d;
    int i;
    for (i = 0; i < 4; i++) {
        d = (unsigned char)s[i];
        if (d - '0' < 10) d -= '0';
        else if ((d | 0x20) - 'a' < 6) d = (d | 0x20) - 'a' + 10;
        else return 0x10000;
        v = v << 4 | d;
    }
    return v;
}

static uint32_t wamp1__json_digits(const char *s, uint32_t p, uint32_t end)
{
    while (p < end && (unsigned)((unsigned char)s[p] - '0') < 10) p++;
    return p;
}

/* Scans the token that starts at src[pos] (a string, number or literal) and fills in t;
 * returns the offset just past it, or the offset of the error with *bad set. */
#if !WAMP1_SMALL_DEFAULTS
/* 1 for the bytes a JSON string's scan must look at: '"', '\\' and control characters */
static const unsigned char wamp1__json_stop[256] = {
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
};
#endif

static uint32_t wamp1__json_scalar(const char *src, uint32_t pos, uint32_t end, wamp1_json_tok *t,
                                   int *bad)
{
    static const char lits[] = "null\0\0false\0true"; /* 6-byte slots, wamp1_json_type order */
    uint32_t p = pos, q;
    unsigned c = (unsigned char)src[p];
    *bad = 1;
    if (c == '"') {
        t->type = WAMP1_JSON_STRING;
        t->start = (wamp1_json_off)++p;
        for (;;) {
#if !WAMP1_SMALL_DEFAULTS /* speed only: the plain bytes of a string, 8 at a time, then 1 */
            for (; end - p >= 8; p += 8) {
                uint64_t w, wq, wb;
                memcpy(&w, src + p, 8);
                wq = w ^ 0x2222222222222222u; /* '"' bytes become zero */
                wb = w ^ 0x5C5C5C5C5C5C5C5Cu; /* '\\' bytes become zero */
                if ((((w - 0x2020202020202020u) & ~w) | ((wq - 0x0101010101010101u) & ~wq) |
                     ((wb - 0x0101010101010101u) & ~wb)) & 0x8080808080808080u)
                    break; /* a control character, a quote or a backslash among these 8 */
            }
            while (p < end && !wamp1__json_stop[(unsigned char)src[p]]) p++;
#endif
            if (p >= end) return p;
            c = (unsigned char)src[p];
            if (c == '"') break;
            if (c < 0x20) return p;
            if (c == '\\') {
                if (++p >= end) return p;
                c = (unsigned char)src[p];
                if (c == 'u') {
                    if (end - p < 5 || wamp1__json_hex4(src + p + 1) > 0xFFFF) return p;
                    p += 4;
                } else if (!wamp1__json_esc(c)) {
                    return p;
                }
            }
            p++;
        }
        t->len = (wamp1_json_off)(p - t->start);
        *bad = 0;
        return p + 1;
    }
    t->type = WAMP1_JSON_NUMBER;
    if (c == '-') p++;
    q = wamp1__json_digits(src, p, end);
    if (q == p) {
        /* not a number: one of the three literals, compared in full */
        unsigned ty = c == 'n' ? WAMP1_JSON_NULL : c == 'f' ? WAMP1_JSON_FALSE : WAMP1_JSON_TRUE;
        const char *l = lits + 6 * (ty - WAMP1_JSON_NULL);
        if (c == '-') return p;
        for (; *l; l++, p++)
            if (p >= end || src[p] != *l) return pos;
        t->type = (uint8_t)ty;
        goto done;
    }
    if (src[p] == '0' && q - p > 1) return p + 1; /* no leading zeros */
    p = q;
    if (p < end && src[p] == '.') {
        p++;
        if ((q = wamp1__json_digits(src, p, end)) == p) return p;
        p = q;
    }
    if (p < end && (src[p] | 0x20) == 'e') {
        if (++p < end && (src[p] == '+' || src[p] == '-')) p++;
        if ((q = wamp1__json_digits(src, p, end)) == p) return p;
        p = q;
    }
done:
    t->len = (wamp1_json_off)(p - pos);
    *bad = 0;
    return p;
}

/* Iterative: while a container is open its `next` field holds its parent's index + 1, so the
 * open containers form a stack inside the token array and no recursion or extra memory is
 * needed; closing the container restores `next` to its real meaning. Without a token array
 * (validation only) a bit per open container says whether it is an object. */
WAMP1__DEF int wamp1_json_parse(const char *src, size_t len, wamp1_json_tok *toks, int max_toks,
                               int max_depth, size_t *err_off)
{
    enum { VALUE, KEY, COLON, AFTER };
    uint32_t pos = 0, end = (uint32_t)len;
    int n = 0, cur = -1, depth = 0, err = WAMP1_JSON_ESYNTAX, open = 0, obj = 0, bad;
    unsigned st = VALUE, c;
    uint64_t objs = 0;
    wamp1_json_tok scratch, *t, *ct = NULL; /* ct: innermost open container (toks + cur); obj: it is an object */

    if (!toks && max_depth > 64) max_depth = 64;
    if ((len >> 16) >> 16) goto fail; /* spans are 32-bit */
#ifdef WAMP1__JSON_MAX_LEN
    if (len > WAMP1__JSON_MAX_LEN) goto fail; /* spans are 16-bit */
    if (max_toks > 0xFFFF) max_toks = 0xFFFF;
#endif
    for (;;) {
        while (pos < end && ((c = (unsigned char)src[pos]) == ' ' || c == '\t' || c == '\n' || c == '\r'))
            pos++;
        if (pos == end) {
            if (st == AFTER && !depth) return toks ? n : 1;
            goto fail;
        }
        c = (unsigned char)src[pos];
        if (st == AFTER && !depth) {
            err = WAMP1_JSON_ETRAILING;
            goto fail;
        }
        if (c == ']' || c == '}') {
            /* allowed after a value, or right after the opening bracket (empty container) */
            if (!depth || (st != AFTER && !open) || c != (obj ? (unsigned)'}' : (unsigned)']')) goto fail;
            pos++;
            depth--;
            if (ct) {
                ct->len = (wamp1_json_off)(pos - ct->start);
                cur = (int)ct->next - 1;
                ct->next = (wamp1_json_off)n;
                ct = cur < 0 ? NULL : toks + cur;
                obj = ct && ct->type == WAMP1_JSON_OBJECT;
            } else obj = depth > 0 && ((objs >> (depth - 1)) & 1u);
            st = AFTER;
            open = 0;
            continue;
        }
        open = 0;
        if (st >= COLON) {
            if (c != (st == AFTER ? (unsigned)',' : (unsigned)':')) goto fail;
            st = st == AFTER && obj ? KEY : VALUE;
            pos++;
            continue;
        }
        if (st == KEY && c != '"') goto fail;
        if ((c == '[' || c == '{') && depth >= max_depth) {
            err = WAMP1_JSON_EDEPTH;
            goto fail;
        }
        if (toks && n >= max_toks) {
            err = WAMP1_JSON_ETOKENS;
            goto fail;
        }
        t = toks ? toks + n++ : &scratch;
        t->start = (wamp1_json_off)pos;
        t->size = 0;
        if (ct && (st == KEY || !obj)) ct->size++; /* a key, or an array element */
        if (c == '[' || c == '{') {
            obj = c == '{';
            if (toks) {
                t->type = (uint8_t)(obj ? WAMP1_JSON_OBJECT : WAMP1_JSON_ARRAY);
                t->next = (wamp1_json_off)(cur + 1);
                cur = n - 1;
                ct = t;
            } else if (obj) objs |= (uint64_t)1 << depth;
            else objs &= ~((uint64_t)1 << depth);
            depth++;
            pos++;
            st = obj ? KEY : VALUE;
            open = 1;
            continue;
        }
        pos = wamp1__json_scalar(src, pos, end, t, &bad);
        if (bad) goto fail;
        t->next = (wamp1_json_off)n;
        st = st == KEY ? COLON : AFTER;
    }
fail:
    if (err_off) *err_off = pos;
    return err;
}

WAMP1__DEF int wamp1_json_validate(const char *src, size_t len, int max_depth)
{
    int r = wamp1_json_parse(src, len, NULL, 0, max_depth, NULL);
    return r > 0 ? 0 : r;
}

WAMP1__DEF int wamp1_json_array_get(const wamp1_json_tok *toks, int ntoks, int arr, uint32_t index)
{
    uint32_t i;
    if (arr < 0 || arr >= ntoks || toks[arr].type != WAMP1_JSON_ARRAY || index >= toks[arr].size)
        return -1;
    for (i = (uint32_t)arr + 1; index--;) i = toks[i].next;
    return i < (uint32_t)ntoks ? (int)i : -1;
}

/* Decodes the character at s[*pi] of a string token that the tokenizer accepted into 1-4
 * bytes at u; advances *pi past it and returns the byte count. Raw bytes are copied as they
 * are; \u escapes are encoded as UTF-8. Lookahead for the low half of a surrogate pair stays
 * inside the source: a string span is always followed by its closing quote. */
static unsigned wamp1__json_char(const char *s, uint32_t *pi, unsigned char *u)
{
    uint32_t p = *pi, cp = (unsigned char)s[p++], lo;
    unsigned nb = 1, i;
    if (cp == '\\') {
        cp = (unsigned char)s[p++];
        if (cp != 'u') {
            cp = wamp1__json_esc(cp);
        } else {
            cp = wamp1__json_hex4(s + p);
            p += 4;
            if ((cp & 0xFC00) == 0xD800 && s[p] == '\\' && s[p + 1] == 'u' &&
                ((lo = wamp1__json_hex4(s + p + 2)) & 0xFC00) == 0xDC00) {
                cp = 0x10000 + ((cp & 0x3FF) << 10) + (lo & 0x3FF);
                p += 6;
            } else if ((cp & 0xF800) == 0xD800) {
                cp = 0xFFFD; /* lone or mismatched surrogate */
            }
            nb = cp < 0x80 ? 1u : cp < 0x800 ? 2u : cp < 0x10000 ? 3u : 4u;
        }
    }
    *pi = p;
    for (i = nb; --i; cp >>= 6) u[i] = (unsigned char)(0x80 | (cp & 0x3F));
    u[0] = (unsigned char)(cp | (0xF0E0C000u >> (8 * (nb - 1)))); /* lead byte marker for 1-4 bytes */
    return nb;
}

WAMP1__DEF int wamp1_json_str_eq(const char *src, const wamp1_json_tok *t, const char *s, size_t n)
{
    uint32_t p, end;
    size_t k = 0;
    unsigned nb;
    unsigned char u[4];
    if (t->type != WAMP1_JSON_STRING) return 0;
    for (p = t->start, end = p + t->len; p < end; k += nb) {
        nb = wamp1__json_char(src, &p, u);
        if (nb > n - k || memcmp(u, s + k, nb)) return 0;
    }
    return k == n;
}

WAMP1__DEF int wamp1_json_object_get(const char *src, const wamp1_json_tok *toks, int ntoks, int obj,
                                    const char *key)
{
    uint32_t i, m;
    size_t n = strlen(key);
    if (obj < 0 || obj >= ntoks || toks[obj].type != WAMP1_JSON_OBJECT) return -1;
    for (i = (uint32_t)obj + 1, m = toks[obj].size; m-- && i + 1 < (uint32_t)ntoks; i = toks[i + 1].next)
        if (wamp1_json_str_eq(src, &toks[i], key, n)) return (int)i + 1;
    return -1;
}

WAMP1__DEF int wamp1_json_unescape(const char *src, const wamp1_json_tok *t, char *out, size_t outsize,
                                  size_t *outlen)
{
    uint32_t p, end;
    size_t k = 0, w = 0; /* k: bytes the value needs, w: bytes written */
    unsigned nb;
    unsigned char u[4];
    if (t->type != WAMP1_JSON_STRING) return -1;
#if !WAMP1_SMALL_DEFAULTS /* speed only: small builds decode every string */
    if (outsize > t->len && !memchr(src + t->start, '\\', t->len)) {
        /* no escape: the tokenizer checked the bytes, they are the value */
        memcpy(out, src + t->start, t->len);
        out[t->len] = 0;
        if (outlen) *outlen = t->len;
        return 0;
    }
#endif
    for (p = t->start, end = p + t->len; p < end; k += nb) {
        nb = wamp1__json_char(src, &p, u);
        if (w == k && outsize > k + nb) { /* whole characters only, room left for the NUL */
            memcpy(out + k, u, nb);
            w += nb;
        }
    }
    if (outsize) out[w] = 0;
    if (outlen) *outlen = k;
    return w == k && outsize > k ? 0 : -1;
}

/* ---- numbers: integer-only decimal <-> binary conversion ----
 * A small fixed-size bignum is enough: the largest operand is below 2^850 (5^325 times a
 * 53-bit mantissa, when printing a double near 2.2e-308). No division instruction or
 * 64-bit division helper is used: on 32-bit cores the latter is a sizable libgcc routine. */

#define WAMP1__BN_WORDS 27
typedef struct wamp1__bn { uint32_t w[WAMP1__BN_WORDS]; int n; } wamp1__bn;

static uint64_t wamp1__div10(uint64_t x, unsigned *rem)
{
    /* q ~ x * 0.8 by shifts and adds, then /8; the estimate is low by a few units at most */
    uint64_t q = (x >> 1) + (x >> 2), r;
    q += q >> 4;
    q += q >> 8;
    q += q >> 16;
    q += q >> 32;
    q >>= 3;
    r = x - ((q << 3) + (q << 1));
    while (r > 9) {
        q++;
        r -= 10;
    }
    *rem = (unsigned)r;
    return q;
}

static void wamp1__bn_set(wamp1__bn *a, uint64_t v)
{
    a->w[0] = (uint32_t)v;
    a->w[1] = (uint32_t)(v >> 32);
    a->n = a->w[1] ? 2 : a->w[0] ? 1 : 0;
}

static void wamp1__bn_mul(wamp1__bn *a, uint32_t f)
{
    uint64_t c = 0;
    int i;
    for (i = 0; i < a->n; i++) {
        c += (uint64_t)a->w[i] * f;
        a->w[i] = (uint32_t)c;
        c >>= 32;
    }
    if (c) {
        WAMP1_ASSERT(a->n < WAMP1__BN_WORDS);
        a->w[a->n++] = (uint32_t)c;
    }
}

/* a *= 5^k, in steps of 5^13 (the largest power of 5 below 2^32) */
static void wamp1__bn_pow5(wamp1__bn *a, int k)
{
    uint32_t f;
    while (k > 0) {
        for (f = 1; f < 1220703125u && k > 0; k--) f *= 5;
        wamp1__bn_mul(a, f);
    }
}

/* a = 2a + bit */
static void wamp1__bn_shl1(wamp1__bn *a, uint32_t bit)
{
    int i;
    uint32_t w;
    for (i = 0; i < a->n; i++) {
        w = a->w[i];
        a->w[i] = w << 1 | bit;
        bit = w >> 31;
    }
    if (bit) {
        WAMP1_ASSERT(a->n < WAMP1__BN_WORDS);
        a->w[a->n++] = bit;
    }
}

static int wamp1__bits64(uint64_t v)
{
    int b = 0;
    for (; v; v >>= 1) b++;
    return b;
}

static int wamp1__bn_bits(const wamp1__bn *a)
{
    return a->n ? 32 * (a->n - 1) + wamp1__bits64(a->w[a->n - 1]) : 0;
}

/* q = floor(m * 5^e5 * 2^s), with *sticky = whether anything was cut off. Either the
 * numerator is m (e5 < 0: binary long division by 5^-e5, which needs only shift, compare and
 * subtract) or the divisor is 1 (e5 >= 0: q is a bit range of m * 5^e5), so two bignums of
 * scratch (ws) are enough; callers share them so that nested conversions do not stack more.
 * *s == WAMP1__SCALE_AUTO: s is chosen (and stored) so that q has 55 or 56 bits; otherwise
 * the caller ensures q fits in 64 bits. */
#define WAMP1__SCALE_AUTO 0x7FFF
static uint64_t wamp1__scale(wamp1__bn *ws, uint64_t m, int e5, int *s, int *sticky)
{
    wamp1__bn *a = ws, *b = ws + 1, *r = ws; /* a (divisor 1) and r (division) never coexist */
    uint32_t mw[2], bit;
    const uint32_t *aw = mw;
    uint64_t q = 0;
    int i, j, k, sh, la;
    mw[0] = (uint32_t)m;
    mw[1] = (uint32_t)(m >> 32);
    la = wamp1__bits64(m);
    wamp1__bn_set(e5 < 0 ? b : a, e5 < 0 ? 1 : m);
    wamp1__bn_pow5(e5 < 0 ? b : a, e5 < 0 ? -e5 : e5);
    if (e5 >= 0) {
        aw = a->w;
        la = wamp1__bn_bits(a);
    }
    if (*s == WAMP1__SCALE_AUTO) /* numerator * 2^s / divisor in (2^54, 2^56) */
        *s = (e5 < 0 ? wamp1__bn_bits(b) : 1) - la + 55;
    sh = *s;
    *sticky = 0;
    if (e5 >= 0) {
        for (i = la - 1; i >= 0; i--) {
            bit = aw[i >> 5] >> (i & 31) & 1;
            if (i + sh >= 0) q = q << 1 | bit;
            else *sticky |= (int)bit;
        }
        for (; sh > 0; sh--) q <<= 1;
        return q;
    }
    for (; sh < 0; sh++) wamp1__bn_shl1(b, 0);
    r->n = 0;
    for (i = la + sh - 1; i >= 0; i--) {
        k = i - sh; /* next bit of m * 2^sh */
        wamp1__bn_shl1(r, k >= 0 ? aw[k >> 5] >> (k & 31) & 1 : 0);
        q <<= 1;
        /* r >= b ? */
        j = r->n - b->n;
        for (k = r->n - 1; !j && k >= 0; k--)
            if (r->w[k] != b->w[k]) j = r->w[k] > b->w[k] ? 1 : -1;
        if (j >= 0) {
            uint64_t c = 0; /* r -= b, borrow in the top bit of c */
            for (k = 0; k < r->n; k++) {
                c = (uint64_t)r->w[k] - (k < b->n ? b->w[k] : 0) - (c >> 63);
                r->w[k] = (uint32_t)c;
            }
            while (r->n && !r->w[r->n - 1]) r->n--;
            q |= 1;
        }
    }
    *sticky = r->n != 0;
    return q;
}

#define WAMP1__INF_BITS UINT64_C(0x7FF0000000000000)

/* Bits of the double nearest to m * 10^e (m has nd significant digits; sticky: nonzero digits
 * were cut off after m; ws: scratch for wamp1__scale). The quotient is taken with 55-56 bits
 * plus a sticky bit, which is all that round-to-nearest-even needs, for normal and subnormal
 * results alike. */
static uint64_t wamp1__dec2bits(wamp1__bn *ws, uint64_t m, int32_t e, int nd, int sticky)
{
    uint64_t q;
    int s = WAMP1__SCALE_AUTO, sb, l, ex, sh;
    if (!m || e + nd <= -324) return 0; /* below 1e-324: less than half the smallest subnormal */
    if (e + nd > 309) return WAMP1__INF_BITS; /* at least 1e309 */
    q = wamp1__scale(ws, m, e, &s, &sb); /* m*10^e = m*5^e * 2^e */
    sticky |= sb;
    l = wamp1__bits64(q);
    ex = e - s + l - 1; /* value = q * 2^(e-s), q in [2^(l-1), 2^l) */
    sh = l - 53;
    if (ex < -1022) { /* subnormal: fewer mantissa bits */
        sh += -1022 - ex;
        ex = -1022;
    }
    for (; sh > 1; sh--, q >>= 1) sticky |= (int)(q & 1); /* keep one bit below the mantissa */
    if ((q & 1) && (sticky || (q & 2))) q += 2; /* round to nearest, ties to even */
    q >>= 1;
    if (ex > 1023) return WAMP1__INF_BITS;
    /* a carry out of the 53-bit mantissa (or from subnormal to normal) lands in the exponent */
    return ((uint64_t)(ex + 1023) << 52) + q - ((uint64_t)1 << 52);
}

/* Splits a number token into up to 19 significant digits m without trailing zeros, a
 * decimal exponent e (value = m * 10^e), the digit count, sign, and whether nonzero digits
 * were cut off. The token is known to be valid JSON. */
typedef struct wamp1__dec {
    uint64_t m;
    int32_t e;
    int nd, neg, cut;
} wamp1__dec;

static int wamp1__json_dec(const char *src, const wamp1_json_tok *t, wamp1__dec *d)
{
    uint32_t p, end, fd = 0, z = 0, x = 0; /* fd: digits after the point; z: zeros not (yet) in m */
    int64_t e;
    int frac = 0, eneg = 0;
    unsigned c;
    if (t->type != WAMP1_JSON_NUMBER) return -1;
    p = t->start;
    end = p + t->len;
    d->m = 0;
    d->nd = d->cut = 0;
    d->neg = src[p] == '-';
    for (p += (uint32_t)d->neg; p < end; p++) {
        c = (unsigned char)src[p] - '0';
        if (c == (unsigned)('.' - '0')) {
            frac = 1;
            continue;
        }
        if (c > 9) break;
        fd += (uint32_t)frac;
        if (!d->m && !c) continue; /* leading zero */
        /* a zero (kept only if a nonzero digit follows), or a digit beyond the 19th */
        if (!c || z >= (uint32_t)(19 - d->nd)) {
            d->cut |= c != 0;
            z++;
            continue;
        }
        for (; z; z--, d->nd++) d->m *= 10;
        d->m = d->m * 10 + c;
        d->nd++;
    }
    if (p < end) { /* exponent: saturate, anything beyond 10^8 is 0 or infinity anyway */
        p++;
        eneg = src[p] == '-';
        p += src[p] == '-' || src[p] == '+';
        for (; p < end; p++)
            if (x < 100000000) x = x * 10 + (uint32_t)(src[p] - '0');
    }
    e = (int64_t)z - fd + (eneg ? -(int64_t)x : (int64_t)x); /* z: m lacks trailing zeros and cut digits */
    d->e = (int32_t)(e < -1000000000 ? -1000000000 : e > 1000000000 ? 1000000000 : e);
    return 0;
}

WAMP1__DEF int wamp1_json_get_int(const char *src, const wamp1_json_tok *t, int64_t *out)
{
    wamp1__dec d;
#if !WAMP1_SMALL_DEFAULTS /* speed only */
    if (t->type == WAMP1_JSON_NUMBER && t->len > 0 && t->len <= 18) {
        /* the common case: up to 18 plain digits (a message type, a count) fit without the
           decimal machinery; anything else (a sign, a fraction, an exponent) takes it */
        const char *p = src + t->start;
        uint32_t i = 0;
        uint64_t v = 0;
        while (i < t->len && p[i] >= '0' && p[i] <= '9') v = v * 10u + (uint64_t)(p[i++] - '0');
        if (i == t->len) {
            *out = (int64_t)v;
            return 0;
        }
    }
#endif
    /* m has no trailing zeros, so a negative exponent means a fraction */
    if (wamp1__json_dec(src, t, &d) || d.cut || (d.m && d.e < 0)) return -1;
    for (; d.m && d.e > 0; d.e--) {
        if (d.m > (uint64_t)-1 / 10) return -1;
        d.m *= 10;
    }
    if (d.m > (uint64_t)INT64_MAX + (unsigned)d.neg) return -1;
    *out = d.neg && d.m ? -(int64_t)(d.m - 1) - 1 : (int64_t)d.m;
    return 0;
}

WAMP1__DEF int wamp1_json_get_double(const char *src, const wamp1_json_tok *t, double *out)
{
    wamp1__dec d;
    wamp1__bn ws[2];
    uint64_t bits;
    if (wamp1__json_dec(src, t, &d)) return -1;
    bits = wamp1__dec2bits(ws, d.m, d.e, d.nd, d.cut);
    bits |= (uint64_t)d.neg << 63;
    memcpy(out, &bits, sizeof *out);
    return (bits << 1) == (WAMP1__INF_BITS << 1) ? -1 : 0;
}

/* ---- writer ---- */

static void wamp1__jw_put(wamp1_jwriter *w, const char *s, size_t n)
{
    if (w->overflow) return;
    if (n > w->cap - w->len) {
        w->overflow = 1;
        return;
    }
    if (n) memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* Comma before an array element or object key, and bookkeeping that one has been written. */
static void wamp1__jw_pre(wamp1_jwriter *w)
{
    uint32_t bit;
    if (w->after_key) {
        w->after_key = 0;
    } else if (w->depth) {
        bit = (uint32_t)1 << (w->depth - 1);
        if (w->need_comma & bit) wamp1__jw_put(w, ",", 1);
        w->need_comma |= bit;
    }
}

WAMP1__DEF void wamp1_jw_init(wamp1_jwriter *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->overflow = 0;
    w->need_comma = 0;
    w->depth = 0;
    w->after_key = 0;
}

WAMP1__DEF void wamp1_jw_raw(wamp1_jwriter *w, const char *json, size_t n)
{
    wamp1__jw_pre(w);
    wamp1__jw_put(w, json, n);
}

static void wamp1__jw_begin(wamp1_jwriter *w, const char *b)
{
    wamp1_jw_raw(w, b, 1);
    if (w->depth >= WAMP1_JW_MAX_DEPTH) w->overflow = 1;
    else w->need_comma &= ~((uint32_t)1 << w->depth++);
}

static void wamp1__jw_end(wamp1_jwriter *w, const char *b)
{
    WAMP1_ASSERT(w->depth > 0 || w->overflow);
    if (!w->depth) {
        w->overflow = 1;
        return;
    }
    w->depth--;
    w->after_key = 0;
    wamp1__jw_put(w, b, 1);
}

WAMP1__DEF void wamp1_jw_array_begin(wamp1_jwriter *w) { wamp1__jw_begin(w, "["); }
WAMP1__DEF void wamp1_jw_array_end(wamp1_jwriter *w) { wamp1__jw_end(w, "]"); }
WAMP1__DEF void wamp1_jw_object_begin(wamp1_jwriter *w) { wamp1__jw_begin(w, "{"); }
WAMP1__DEF void wamp1_jw_object_end(wamp1_jwriter *w) { wamp1__jw_end(w, "}"); }

/* Escaped string body with quotes; runs of plain bytes are copied in one piece. */
static void wamp1__jw_str(wamp1_jwriter *w, const char *s, size_t n)
{
    size_t i, run = 0;
    unsigned c;
    const char *m;
    char e[6];
    if (n == (size_t)-1) n = strlen(s);
    wamp1__jw_put(w, "\"", 1);
    for (i = 0; i < n; i++) {
        c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        wamp1__jw_put(w, s + run, i - run);
        run = i + 1;
        e[0] = '\\';
        for (m = wamp1__json_esc_tab; *m && (unsigned char)m[1] != c; m += 2) {
        }
        e[1] = *m ? *m : 'u';
        e[2] = e[3] = '0';
        e[4] = "0123456789abcdef"[c >> 4];
        e[5] = "0123456789abcdef"[c & 15];
        wamp1__jw_put(w, e, *m ? 2u : 6u);
    }
    wamp1__jw_put(w, s + run, n - run);
    wamp1__jw_put(w, "\"", 1);
}

WAMP1__DEF void wamp1_jw_string(wamp1_jwriter *w, const char *s, size_t n)
{
    wamp1__jw_pre(w);
    wamp1__jw_str(w, s, n);
}

WAMP1__DEF void wamp1_jw_key(wamp1_jwriter *w, const char *k, size_t n)
{
    wamp1_jw_string(w, k, n);
    wamp1__jw_put(w, ":", 1);
    w->after_key = 1;
}

/* Decimal digits of v written backwards, ending just before `end`; returns their count. */
static unsigned wamp1__utoa(char *end, uint64_t v)
{
    unsigned n = 0, r;
    do {
        v = wamp1__div10(v, &r);
        *--end = (char)('0' + r);
        n++;
    } while (v);
    return n;
}

WAMP1__DEF void wamp1_jw_int(wamp1_jwriter *w, int64_t v)
{
    char b[21];
#if !WAMP1_SMALL_DEFAULTS /* speed only */
    if (v >= 0 && v < 10) { /* a message type, a small count: one digit */
        b[0] = (char)('0' + v);
        wamp1_jw_raw(w, b, 1);
        return;
    }
#endif
    unsigned n = wamp1__utoa(b + 21, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    if (v < 0) b[21 - ++n] = '-';
    wamp1_jw_raw(w, b + 21 - n, n);
}

WAMP1__DEF void wamp1_jw_double(wamp1_jwriter *w, double v)
{
    uint64_t bits, mb, q, r, p10;
    int eb, t, n, k, i, sticky, st, neg;
    unsigned rd;
    wamp1__bn ws[2];
    char d[20], o[32], *x = o, *g;

    memcpy(&bits, &v, sizeof bits);
    eb = (int)(bits >> 52 & 0x7FF);
    mb = bits & (((uint64_t)1 << 52) - 1);
    if (eb == 0x7FF) {
        wamp1_jw_null(w);
        return;
    }
    if (eb) mb |= (uint64_t)1 << 52;
    eb = eb ? eb - 1075 : -1074; /* v = +-mb * 2^eb */
    if (!mb) { /* -0 too, as JavaScript does */
        wamp1_jw_raw(w, "0", 1);
        return;
    }
    neg = (int)(bits >> 63);
    bits &= ~((uint64_t)1 << 63);

    /* f = floor((L-1) * log10 2) with v in [2^(L-1), 2^L): (x * 78913) >> 18 is exact for
     * |x| < 1650 (biased by 400 to shift a non-negative value); floor(log10 v) is f or f+1.
     * t = f - 17 makes q = floor(v / 10^t) 18 or 19 digits long: more than the longest
     * candidate, so every candidate is rounded from a removed digit plus sticky. */
    t = (int)((uint32_t)((eb + wamp1__bits64(mb) - 1) * 78913 + (400 << 18)) >> 18) - 400 - 17;
    if (neg) *x++ = '-';
    k = eb - t; /* v / 10^t = mb * 5^-t * 2^(eb-t) */
    q = wamp1__scale(ws, mb, -t, &k, &sticky);

    /* The shortest of the correctly rounded (ties to even) candidates with n0..17 digits that
     * converts back to v; 17 digits always do. With p significand bits, different decimals of
     * n0 = floor((p-1) * log10 2) digits are different doubles (DBL_DIG = 15 for p = 53), so
     * if fewer digits would do, the n0-digit candidate is those digits padded with zeros:
     * no need to try them. Subnormals have fewer bits: 5e-324, not 4.94065645841247e-324.
     * Integers up to 2^53 come out exact (any other candidate is another double) and, having
     * at most 16 digits, in fixed notation. */
    i = (wamp1__bits64(mb) - 1) * 78913 >> 18; /* n0 */
    for (n = 1, p10 = 10;; n++, p10 *= 10) {
        if (n < i) continue;
        for (r = q, k = t, rd = 0, st = sticky; r >= p10; k++) { /* r = q cut to n digits */
            st |= rd != 0;
            r = wamp1__div10(r, &rd);
        }
        if (rd > 5 || (rd == 5 && (st || (r & 1)))) r++;
        if (r == p10) { /* rounded up to 10^n: one digit less */
            r = wamp1__div10(r, &rd);
            k++;
        }
        if (n == 17 || wamp1__dec2bits(ws, r, k, n, 0) == bits) break;
    }
    n = (int)wamp1__utoa(d + 20, r);
    g = d + 20 - n;
    for (; g[n - 1] == '0'; n--) k++; /* r > 0: stops at a nonzero digit */
    k += n;    /* digits before the decimal point */
    eb = k - 1; /* exponent in scientific notation */
    if (k > -6 && k <= 21) { /* fixed notation, as JavaScript chooses */
        eb = 0;
        if (k <= 0) {
            *x++ = '0';
            *x++ = '.';
            for (i = k; i < 0; i++) *x++ = '0';
        }
    } else {
        k = 1;
    }
    for (i = 0; i < n || i < k; i++) {
        if (i == k && i) *x++ = '.';
        *x++ = i < n ? g[i] : '0';
    }
    if (eb) {
        *x++ = 'e';
        if (eb < 0) *x++ = '-';
        eb = eb < 0 ? -eb : eb;
        x += eb > 99 ? 3 : eb > 9 ? 2 : 1;
        wamp1__utoa(x, (uint64_t)eb);
    }
    wamp1_jw_raw(w, o, (size_t)(x - o));
}

WAMP1__DEF void wamp1_jw_bool(wamp1_jwriter *w, int v)
{
    wamp1_jw_raw(w, v ? "true" : "false", v ? 4u : 5u);
}

WAMP1__DEF void wamp1_jw_null(wamp1_jwriter *w)
{
    wamp1_jw_raw(w, "null", 4);
}

WAMP1__DEF void wamp1_jw_token(wamp1_jwriter *w, const char *src, const wamp1_json_tok *t)
{
    int q = t->type == WAMP1_JSON_STRING;
    wamp1__jw_pre(w);
    if (q) wamp1__jw_put(w, "\"", 1);
    wamp1__jw_put(w, src + t->start, t->len);
    if (q) wamp1__jw_put(w, "\"", 1);
}
/* ---- end json impl ---- */

/* ---- begin mw impl ---- */
/* ==========================================================================
 * Middleware helpers: implementation
 * ========================================================================== */

static int wamp1__mw_alpha(int c)
{
    c |= 0x20;
    return c >= 'a' && c <= 'z';
}

static int wamp1__mw_alnum(int c)
{
    return (c >= '0' && c <= '9') || wamp1__mw_alpha(c);
}

static int wamp1__mw_hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Case-insensitive ASCII comparison of two spans. */
static void wamp1__mw_trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) { (*s)++; (*n)--; }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

#ifndef WAMP1_NO_SESSION
/* Decimal text of v; out needs 20 bytes. Returns the length. */
static size_t wamp1__mw_i64_dec(int64_t v, char *out)
{
    char t[20];
    size_t k = 0;
    unsigned n = wamp1__utoa(t + sizeof t, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    if (v < 0) out[k++] = '-';
    memcpy(out + k, t + sizeof t - n, n);
    return k + n;
}
#endif

/* --- Addresses ----------------------------------------------------------- */

static int wamp1__mw_parse_v4(const char *s, size_t n, uint8_t *b)
{
    size_t i = 0, st;
    int part;
    for (part = 0; part < 4; part++) {
        unsigned v = 0;
        if (part && (i >= n || s[i++] != '.')) return -1;
        st = i;
        while (i < n && i - st < 3 && s[i] >= '0' && s[i] <= '9') v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == st || v > 255 || (s[st] == '0' && i - st > 1)) return -1;
        b[part] = (uint8_t)v;
    }
    return i == n ? 0 : -1;
}

static int wamp1__mw_parse_v6(const char *s, size_t n, uint8_t *b)
{
    uint8_t g[16];
    size_t i = 0, ng = 0, gap = 99;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }
    while (i < n) {
        size_t st = i;
        unsigned v = 0;
        int h;
        while (i < n && i - st < 4 && (h = wamp1__mw_hexval(s[i])) >= 0) { v = v * 16 + (unsigned)h; i++; }
        if (i == st) return -1;
        if (i < n && s[i] == '.') {                      /* trailing IPv4 */
            if (ng > 12 || wamp1__mw_parse_v4(s + st, n - st, g + ng)) return -1;
            ng += 4;
            break;
        }
        if (ng > 14) return -1;
        g[ng++] = (uint8_t)(v >> 8);
        g[ng++] = (uint8_t)v;
        if (i == n) break;
        if (s[i++] != ':' || i == n) return -1;
        if (s[i] == ':') {
            if (gap != 99) return -1;
            gap = ng;
            i++;
        }
    }
    if (gap == 99) {
        if (ng != 16) return -1;
        memcpy(b, g, 16);
    } else {
        if (ng > 14) return -1;                          /* "::" is one group at least */
        memset(b, 0, 16);
        memcpy(b, g, gap);
        memcpy(b + 16 - (ng - gap), g + gap, ng - gap);
    }
    return 0;
}

WAMP1__DEF int wamp1_addr_parse(const char *s, size_t n, wamp1_addr *out)
{
    memset(out, 0, sizeof *out);
    if (memchr(s, ':', n)) {
        out->family = 6;
        return wamp1__mw_parse_v6(s, n, out->bytes);
    }
    out->family = 4;
    return wamp1__mw_parse_v4(s, n, out->bytes);
}

static int wamp1__mw_is_mapped(const uint8_t *b)
{
    static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(b, pfx, 12) == 0;
}

static size_t wamp1__mw_fmt_v4(char *t, const uint8_t *b)
{
    size_t n = 0;
    int i;
    for (i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (i) t[n++] = '.';
        if (v >= 100) t[n++] = (char)('0' + v / 100);
        if (v >= 10) t[n++] = (char)('0' + v / 10 % 10);
        t[n++] = (char)('0' + v % 10);
    }
    return n;
}

WAMP1__DEF int wamp1_addr_format(const wamp1_addr *a, char *out, size_t outsize)
{
    char t[48];
    size_t n = 0;
    const uint8_t *b = a->bytes;
    if (a->family == 4) {
        n = wamp1__mw_fmt_v4(t, b);
    } else if (a->family == 6 && wamp1__mw_is_mapped(b)) {
        memcpy(t, "::ffff:", 7);
        n = 7 + wamp1__mw_fmt_v4(t + 7, b + 12);
    } else if (a->family == 6) {
        int i, run, best = -1, bl = 1;
        for (i = 0; i < 8; i += run + 1) {               /* longest zero run */
            for (run = 0; i + run < 8 && !b[2 * (i + run)] && !b[2 * (i + run) + 1]; run++) {}
            if (run > bl) { best = i; bl = run; }
        }
        for (i = 0; i < 8; i++) {
            unsigned v = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
            int sh;
            if (i == best) {
                t[n++] = ':';
                t[n++] = ':';
                i += bl - 1;
                continue;
            }
            if (i && i != best + bl) t[n++] = ':';
            for (sh = 12; sh >= 0; sh -= 4)
                if (v >> sh || !sh) t[n++] = "0123456789abcdef"[(v >> sh) & 15];
        }
    } else {
        n = (size_t)-1;
    }
    if (n >= outsize) {
        if (outsize) out[0] = 0;
        return -1;
    }
    memcpy(out, t, n);
    out[n] = 0;
    return (int)n;
}

/* --- CIDR and blocklist ---------------------------------------------------- */

WAMP1__DEF int wamp1_cidr_parse(const char *s, size_t n, wamp1_cidr *out)
{
    const char *sl = (const char *)memchr(s, '/', n);
    size_t an = sl ? (size_t)(sl - s) : n, i;
    unsigned bits = 0, max;
    memset(out, 0, sizeof *out);
    if (wamp1_addr_parse(s, an, &out->addr)) return -1;
    max = out->addr.family == 4 ? 32 : 128;
    if (!sl) {
        bits = max;
    } else {
        for (i = an + 1; i < n && i - an <= 3 && s[i] >= '0' && s[i] <= '9'; i++) bits = bits * 10 + (unsigned)(s[i] - '0');
        if (i != n || i == an + 1 || bits > max || (s[an + 1] == '0' && n - an > 2)) return -1;
    }
    out->bits = (uint8_t)bits;
    for (i = 0; i < 16; i++) {
        unsigned k = 8 * (unsigned)i;
        if (bits <= k) out->addr.bytes[i] = 0;
        else if (bits < k + 8) out->addr.bytes[i] &= (uint8_t)(0xff00u >> (bits - k));
    }
    return 0;
}

/* The IPv6 form of an address (IPv4 -> ::ffff:a.b.c.d) and of a prefix length. */
static int wamp1__mw_norm(const wamp1_addr *a, unsigned bits, uint8_t *o)
{
    if (a->family == 4) {
        memset(o, 0, 10);
        o[10] = o[11] = 0xff;
        memcpy(o + 12, a->bytes, 4);
        return (int)bits + 96;
    }
    memcpy(o, a->bytes, 16);
    return a->family == 6 ? (int)bits : -1;
}

static int wamp1__mw_prefix_eq(const uint8_t *x, const uint8_t *y, unsigned bits)
{
    unsigned k = bits / 8, r = bits % 8;
    if (memcmp(x, y, k)) return 0;
    return !r || !((x[k] ^ y[k]) & (0xff00u >> r) & 0xff);
}

WAMP1__DEF int wamp1_cidr_match(const wamp1_cidr *c, const wamp1_addr *a)
{
    uint8_t x[16], y[16];
    int bits = wamp1__mw_norm(&c->addr, c->bits, x);
    if (bits < 0 || bits > 128 || wamp1__mw_norm(a, 128, y) < 0) return 0;
    return wamp1__mw_prefix_eq(x, y, (unsigned)bits);
}

WAMP1__DEF void wamp1_blocklist_init(wamp1_blocklist *bl, wamp1_cidr *storage, uint16_t cap)
{
    bl->rules = storage;
    bl->count = 0;
    bl->cap = cap;
    bl->match = wamp1_blocklist_match;
}

/* Parses s and finds an equal rule: returns its index, -1 for bad syntax,
 * -2 when not listed. */
static int wamp1__mw_bl_find(const wamp1_blocklist *bl, const char *s, wamp1_cidr *c)
{
    uint8_t x[16], y[16];
    int bx, i;
    if (wamp1_cidr_parse(s, strlen(s), c)) return -1;
    bx = wamp1__mw_norm(&c->addr, c->bits, x);
    for (i = 0; i < bl->count; i++)
        if (wamp1__mw_norm(&bl->rules[i].addr, bl->rules[i].bits, y) == bx && wamp1__mw_prefix_eq(x, y, (unsigned)bx)) return i;
    return -2;
}

WAMP1__DEF int wamp1_blocklist_add(wamp1_blocklist *bl, const char *s)
{
    wamp1_cidr c;
    int i = wamp1__mw_bl_find(bl, s, &c);
    if (i != -2) return i < 0 ? -1 : 0;
    if (bl->count >= bl->cap) return -2;
    bl->rules[bl->count++] = c;
    return 0;
}

WAMP1__DEF int wamp1_blocklist_remove(wamp1_blocklist *bl, const char *s)
{
    wamp1_cidr c;
    int i = wamp1__mw_bl_find(bl, s, &c);
    if (i < 0) return i;
    bl->rules[i] = bl->rules[--bl->count];
    return 0;
}

WAMP1__DEF int wamp1_blocklist_match(const wamp1_blocklist *bl, const wamp1_addr *a)
{
    uint16_t i;
    for (i = 0; i < bl->count; i++)
        if (wamp1_cidr_match(&bl->rules[i], a)) return 1;
    return 0;
}

/* --- Origin allow-list ------------------------------------------------------ */

/* Splits "[scheme://]host[:port][/]"; the scheme is required unless rule. */
static int wamp1__mw_origin_split(const char *s, size_t n, int rule, wamp1_origin_rule *r)
{
    size_t i = 0, hl;
    unsigned port = 0;
    memset(r, 0, sizeof *r);
    wamp1__mw_trim(&s, &n);
    while (i < n && i < 32 && (wamp1__mw_alpha(s[i]) || (i && (wamp1__mw_alnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')))) i++;
    if (i && n - i > 3 && s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
        r->scheme = s;
        r->schemelen = (uint16_t)i;
        s += i + 3;
        n -= i + 3;
    } else if (!rule) {
        return -1;
    }
    if (n && s[n - 1] == '/') n--;
    if (rule && n > 2 && s[0] == '*' && s[1] == '.') {
        r->wildcard = 1;
        s += 2;
        n -= 2;
    }
    r->host = s;
    if (n && s[0] == '[') {
        wamp1_addr a;
        const char *e = (const char *)memchr(s, ']', n);
        if (r->wildcard || !e || wamp1__mw_parse_v6(s + 1, (size_t)(e - s - 1), a.bytes)) return -1;
        i = hl = (size_t)(e - s) + 1;
    } else {
        for (i = 0; i < n && (wamp1__mw_alnum(s[i]) || s[i] == '.' || s[i] == '-' || s[i] == '_'); i++) {}
        hl = (i && s[i - 1] == '.') ? i - 1 : i;
    }
    if (!hl || hl > 255) return -1;
    r->hostlen = (uint16_t)hl;
    if (i < n) {
        size_t st = ++i;
        if (s[st - 1] != ':') return -1;
        for (; i < n && i - st < 5 && s[i] >= '0' && s[i] <= '9'; i++) port = port * 10 + (unsigned)(s[i] - '0');
        if (i != n || i == st || !port || port > 65535) return -1;
    }
    r->port = (uint16_t)port;
    return 0;
}

static unsigned wamp1__mw_default_port(const char *sc, size_t n)
{
    if (wamp1__ieqn(sc, n, "http", 4) || wamp1__ieqn(sc, n, "ws", 2)) return 80;
    if (wamp1__ieqn(sc, n, "https", 5) || wamp1__ieqn(sc, n, "wss", 3)) return 443;
    return 0;
}

WAMP1__DEF int wamp1_origin_rule_parse(wamp1_origin_rule *r, const char *s, size_t n)
{
    int rc = wamp1__mw_origin_split(s, n, 1, r);
    r->allowed = wamp1_origin_allowed;
    return rc;
}

WAMP1__DEF int wamp1_origin_allowed(const wamp1_origin_rule *rules, int n, const char *origin, size_t len)
{
    wamp1_origin_rule o;
    unsigned def;
    int k;
    if (wamp1__mw_origin_split(origin, len, 0, &o)) return 0;
    def = wamp1__mw_default_port(o.scheme, o.schemelen);
    if (!o.port) o.port = (uint16_t)def;
    for (k = 0; k < n; k++) {
        const wamp1_origin_rule *r = &rules[k];
        size_t rl = r->hostlen, ol = o.hostlen;
        if (r->scheme && !wamp1__ieqn(r->scheme, r->schemelen, o.scheme, o.schemelen)) continue;
        if (!r->any_port && (r->port ? r->port : def) != o.port) continue;
        if (r->wildcard) {
            if (ol > rl + 1 && o.host[ol - rl - 1] == '.' && wamp1__ieqn(o.host + ol - rl, rl, r->host, rl)) return 1;
        } else if (rl > 2 && ol > 2 && r->host[0] == '[' && o.host[0] == '[') {
            uint8_t x[16], y[16];
            if (!wamp1__mw_parse_v6(r->host + 1, rl - 2, x) && !wamp1__mw_parse_v6(o.host + 1, ol - 2, y) && !memcmp(x, y, 16)) return 1;
        } else if (wamp1__ieqn(r->host, rl, o.host, ol)) {
            return 1;
        }
    }
    return 0;
}

/* --- Cookies and query strings ---------------------------------------------- */

WAMP1__DEF int wamp1_cookie_get(const char *header, size_t len, const char *name, const char **val, size_t *vlen)
{
    size_t nl = strlen(name), i = 0, kn;
    while (i < len) {
        const char *seg = header + i, *end, *eq;
        while (i < len && header[i] != ';') i++;
        end = header + i++;
        eq = (const char *)memchr(seg, '=', (size_t)(end - seg));
        if (!eq) continue;
        kn = (size_t)(eq - seg);
        wamp1__mw_trim(&seg, &kn);
        if (kn != nl || memcmp(seg, name, nl)) continue;
        seg = eq + 1;
        kn = (size_t)(end - seg);
        wamp1__mw_trim(&seg, &kn);
        if (kn >= 2 && seg[0] == '"' && seg[kn - 1] == '"') { seg++; kn -= 2; }
        *val = seg;
        *vlen = kn;
        return 0;
    }
    return -1;
}

/* Decodes one character of a query component at s[*i], advancing *i. */
static int wamp1__mw_pct_next(const char *s, size_t n, size_t *i)
{
    int c = (unsigned char)s[*i], h, l;
    if (c == '+') {
        c = ' ';
    } else if (c == '%' && *i + 2 < n && (h = wamp1__mw_hexval(s[*i + 1])) >= 0 && (l = wamp1__mw_hexval(s[*i + 2])) >= 0) {
        c = h * 16 + l;
        *i += 2;
    }
    (*i)++;
    return c;
}

WAMP1__DEF int wamp1_query_get(const char *query, size_t len, const char *name, char *out, size_t outsize, size_t *outlen)
{
    size_t i = 0;
    if (len && query[0] == '?') i = 1;
    while (i <= len) {
        size_t st = i, ke, k, j, on = 0;
        const char *nm = name;
        while (i < len && query[i] != '&') i++;
        for (ke = st; ke < i && query[ke] != '='; ke++) {}
        for (k = st; k < ke && *nm && wamp1__mw_pct_next(query, ke, &k) == (unsigned char)*nm; nm++) {}
        j = i++;
        if (k < ke || *nm || ke == st) continue;
        for (k = ke + 1; k < j; on++) {
            int c = wamp1__mw_pct_next(query, j, &k);
            if (on < outsize) out[on] = (char)c;
        }
        if (outlen) *outlen = on;
        if (on >= outsize) return -2;
        out[on] = 0;
        return 0;
    }
    return -1;
}

#ifndef WAMP1_NO_SESSION
/* --- PHP sessions: the token reader ------------------------------------------ */

/* "[+-]digits" (sign only when sgn) then term. *mag <= 2^63. Returns the
 * position after term, or NULL. */
static const char *wamp1__php_num(const char *p, const char *e, char term, int sgn, int *neg, uint64_t *mag)
{
    const char *st;
    uint64_t v = 0;
    *neg = 0;
    if (sgn && p < e && (*p == '-' || *p == '+')) *neg = *p++ == '-';
    for (st = p; p < e && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (((uint64_t)1 << 63) - d) / 10) return NULL;
        v = v * 10 + d;
    }
    if (p == st || p >= e || *p != term) return NULL;
    *mag = v;
    return p + 1;
}

/* PHP's float text up to ';': INF, -INF, NAN, or a number in JSON syntax (as
 * PHP writes them: 0.1, -0, 1.0E+25), converted by the JSON module, correctly
 * rounded. Forms that only unserialize() takes (.5, 5., +1, 007) and finite
 * texts beyond the double range are errors. */
static const char *wamp1__php_float(const char *p, const char *e, double *out)
{
    const char *q = (const char *)memchr(p, ';', (size_t)(e - p));
    wamp1_json_tok t;
    uint64_t bits = 0;
    size_t n;
    if (!q) return NULL;
    n = (size_t)(q - p);
    if (n == 3 && !memcmp(p, "NAN", 3)) bits = (uint64_t)0x7FF8 << 48;
    else if (n == 3 && !memcmp(p, "INF", 3)) bits = (uint64_t)0x7FF0 << 48;
    else if (n == 4 && !memcmp(p, "-INF", 4)) bits = (uint64_t)0xFFF0 << 48;
    if (bits) {
        memcpy(out, &bits, sizeof bits);
        return q + 1;
    }
    if (!n || q[-1] < '0' || q[-1] > '9' || (*p != '-' && (*p < '0' || *p > '9'))
        || wamp1_json_parse(p, n, &t, 1, 0, NULL) != 1 || t.type != WAMP1_JSON_NUMBER
        || wamp1_json_get_double(p, &t, out))
        return NULL;
    return q + 1;
}

/* Reads one scalar, or the header "a:N:{" of an array (str then points at the
 * first element, len is not known yet). Returns the position after it. */
static const char *wamp1__php_tok(const char *p, const char *e, wamp1_php_value *v)
{
    uint64_t u;
    int neg;
    char t;
    memset(v, 0, sizeof *v);
    if (e - p < 2) return NULL;
    t = p[0];
    if (t == 'N') return p[1] == ';' ? p + 2 : NULL;
    if (p[1] != ':') return NULL;
    p += 2;
    switch (t) {
    case 'b':
        if (e - p < 2 || (*p != '0' && *p != '1') || p[1] != ';') return NULL;
        v->type = WAMP1_PHP_BOOL;
        v->i = *p - '0';
        return p + 2;
    case 'i':
        v->type = WAMP1_PHP_INT;
        p = wamp1__php_num(p, e, ';', 1, &neg, &u);
        if (!p || (!neg && u >> 63)) return NULL;
        v->i = neg ? (u ? -(int64_t)(u - 1) - 1 : 0) : (int64_t)u;
        return p;
    case 'd':
        v->type = WAMP1_PHP_FLOAT;
        return wamp1__php_float(p, e, &v->d);
    case 's':
        p = wamp1__php_num(p, e, ':', 0, &neg, &u);
        if (!p || e - p < 3 || u > (uint64_t)(e - p - 3) || p[0] != '"' || p[u + 1] != '"' || p[u + 2] != ';') return NULL;
        v->type = WAMP1_PHP_STRING;
        v->str = p + 1;
        v->len = (size_t)u;
        return p + u + 3;
    case 'a':
        /* an element takes 6 bytes at least ("i:0;N;") */
        p = wamp1__php_num(p, e, ':', 0, &neg, &u);
        if (!p || p >= e || *p != '{' || u > (uint64_t)(e - p) / 6 || u > 0x7fffffffu) return NULL;
        v->type = WAMP1_PHP_ARRAY;
        v->count = (uint32_t)u;
        v->str = p + 1;
        return p + 1;
    default:
        return NULL;
    }
}

#if WAMP1_PHP_MAX_DEPTH < 1 || WAMP1_PHP_MAX_DEPTH > 32
#error "WAMP1_PHP_MAX_DEPTH must be 1..32"
#endif

/* Reads one complete value (an array with all its elements, checking key
 * types and that arrays nest at most maxd deep). Returns the position after
 * it, or NULL. */
static const char *wamp1__php_scan(const char *p, const char *e, wamp1_php_value *v, int maxd)
{
    uint32_t left[WAMP1_PHP_MAX_DEPTH];
    wamp1_php_value t;
    int d = 1;
    p = wamp1__php_tok(p, e, v);
    if (!p || v->type != WAMP1_PHP_ARRAY) return p;
    if (maxd < 1) return NULL;
    left[0] = 2 * v->count;
    while (d) {
        int key;
        if (!left[d - 1]) {
            if (p >= e || *p != '}') return NULL;
            if (d == 1) v->len = (size_t)(p - v->str);
            p++;
            d--;
            continue;
        }
        key = !(left[d - 1]-- & 1);
        p = wamp1__php_tok(p, e, &t);
        if (!p || (key && t.type != WAMP1_PHP_INT && t.type != WAMP1_PHP_STRING)) return NULL;
        if (t.type == WAMP1_PHP_ARRAY) {
            if (d >= maxd) return NULL;
            left[d++] = 2 * t.count;
        }
    }
    return p;
}

/* --- PHP sessions: API ------------------------------------------------------- */

WAMP1__DEF int wamp1_php_session_load(wamp1_php_session *s, const char *buf, size_t len)
{
    const char *p = buf, *e, *q;
    wamp1_php_value v;
    memset(s, 0, sizeof *s);
    s->buf = buf;
    s->len = len;
    s->format = WAMP1_PHP_FORMAT_PHP;
    s->root.type = WAMP1_PHP_ARRAY;
    s->root.root = 1;
    s->root.str = buf;
    s->root.len = len;
    if (!len) return 0;                              /* empty: no variables */
    e = buf + len;
    if (buf[0] == 'a' && wamp1__php_scan(buf, e, &v, WAMP1_PHP_MAX_DEPTH) == e) {
        s->format = WAMP1_PHP_FORMAT_PHP_SERIALIZE;
        s->root = v;
    } else {
        for (; p < e; s->root.count++) {
            q = (const char *)memchr(p, '|', (size_t)(e - p));
            if (!q || s->root.count == 0x7fffffffu || !(p = wamp1__php_scan(q + 1, e, &v, WAMP1_PHP_MAX_DEPTH - 1))) {
                memset(s, 0, sizeof *s);
                return -1;
            }
        }
    }
    return 0;
}

WAMP1__DEF int wamp1_php_array_next(wamp1_php_value *it, wamp1_php_value *key, wamp1_php_value *val)
{
    const char *p = it->str, *e, *q;
    if (it->type != WAMP1_PHP_ARRAY || !it->count) return 0;
    e = p + it->len;
    if (it->root) {
        q = (const char *)memchr(p, '|', it->len);
        if (!q) return 0;
        memset(key, 0, sizeof *key);
        key->type = WAMP1_PHP_STRING;
        key->str = p;
        key->len = (size_t)(q - p);
        p = q + 1;
    } else {
        p = wamp1__php_tok(p, e, key);
        if (!p || (key->type != WAMP1_PHP_INT && key->type != WAMP1_PHP_STRING)) return 0;
    }
    p = wamp1__php_scan(p, e, val, WAMP1_PHP_MAX_DEPTH);
    if (!p) return 0;
    it->count--;
    it->len -= (size_t)(p - it->str);
    it->str = p;
    return 1;
}

WAMP1__DEF int wamp1_php_array_get(const wamp1_php_value *arr, const char *key, size_t klen, wamp1_php_value *out)
{
    wamp1_php_value it = *arr, k;
    char num[20];
    while (wamp1_php_array_next(&it, &k, out)) {
        if (k.type == WAMP1_PHP_INT) {
            k.len = wamp1__mw_i64_dec(k.i, num);
            k.str = num;
        }
        if (k.len == klen && !memcmp(k.str, key, klen)) return 0;
    }
    return -1;
}

WAMP1__DEF int wamp1_php_session_get(const wamp1_php_session *s, const char *key, wamp1_php_value *out)
{
    return wamp1_php_array_get(&s->root, key, strlen(key), out);
}

WAMP1__DEF int wamp1_php_session_id_valid(const char *id, size_t n)
{
    size_t i;
    if (!n || n > 128) return 0;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)id[i];
        if (!wamp1__mw_alnum(c) && c != ',' && c != '-') return 0;
    }
    return 1;
}

/* --- PHP sessions: JSON -------------------------------------------------------- */

/* Length of the UTF-8 sequence at s (1..4), or minus the length of the
 * maximal ill-formed subpart that one U+FFFD replaces. */
static int wamp1__mw_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    int k, i;
    if (c < 0x80) return 1;
    if (c < 0xC2 || c > 0xF4) return -1;
    k = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F;
    else if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;
    for (i = 1; i < k; i++, lo = 0x80, hi = 0xBF)
        if ((size_t)i >= n || s[i] < lo || s[i] > hi) return -i;
    return k;
}

static void wamp1__mw_jw_put(wamp1_jwriter *w, const char *s, size_t n)
{
    if (!w->overflow && n <= w->cap - w->len) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
    } else {
        w->overflow = 1;
    }
}

/* PHP strings are bytes: the writer is asked for an empty string or key (for
 * its comma and key handling), and the text is escaped into it here, each
 * ill-formed UTF-8 subpart replaced by U+FFFD. */
static void wamp1__mw_jw_text(wamp1_jwriter *w, const char *s, size_t n, int key)
{
    char tail[4], esc[6] = {'\\', 'u', '0', '0', 0, 0};
    size_t i = 0, q;
    if (key) wamp1_jw_key(w, "", 0);
    else wamp1_jw_string(w, "", 0);
    for (q = w->len; q && w->buf[q - 1] != '"'; q--) {}
    if (w->overflow || !q || w->len - q >= sizeof tail) return;
    memcpy(tail, w->buf + q - 1, w->len - q + 1);
    q = w->len - q + 1;
    w->len -= q;
    while (i < n) {
        unsigned c = (unsigned char)s[i];
        int k = wamp1__mw_utf8_seq((const unsigned char *)s + i, n - i);
        if (k < 0) {
            wamp1__mw_jw_put(w, "\xEF\xBF\xBD", 3);
            k = -k;
        } else if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            wamp1__mw_jw_put(w, esc, 2);
        } else if (c < 0x20) {
            esc[1] = 'u';
            esc[4] = (char)('0' + (c >> 4));
            esc[5] = "0123456789abcdef"[c & 15];
            wamp1__mw_jw_put(w, esc, 6);
        } else {
            wamp1__mw_jw_put(w, s + i, (size_t)k);
        }
        i += (size_t)k;
    }
    wamp1__mw_jw_put(w, tail, q);
}

static int wamp1__php_is_list(const wamp1_php_value *arr)
{
    wamp1_php_value it = *arr, k, v;
    int64_t n = 0;
    if (arr->root) return 0;
    while (wamp1_php_array_next(&it, &k, &v))
        if (k.type != WAMP1_PHP_INT || k.i != n++) return 0;
    return 1;
}

static void wamp1__php_scalar_json(const wamp1_php_value *v, wamp1_jwriter *w)
{
    switch (v->type) {
    case WAMP1_PHP_BOOL: wamp1_jw_bool(w, (int)v->i); break;
    case WAMP1_PHP_INT: wamp1_jw_int(w, v->i); break;
    case WAMP1_PHP_FLOAT: wamp1_jw_double(w, v->d); break;     /* INF, NAN: null */
    case WAMP1_PHP_STRING: wamp1__mw_jw_text(w, v->str, v->len, 0); break;
    default: wamp1_jw_null(w); break;
    }
}

static void wamp1__php_key_json(const wamp1_php_value *k, wamp1_jwriter *w)
{
    char num[20];
    if (k->type == WAMP1_PHP_INT) wamp1_jw_key(w, num, wamp1__mw_i64_dec(k->i, num));
    else wamp1__mw_jw_text(w, k->str, k->len, 1);
}

/* Walks the value's text once, keeping per level only the items left and
 * whether it is a JSON array: no recursion, no copies of cursors. */
static int wamp1__php_json(const wamp1_php_value *v, wamp1_jwriter *w, int obj)
{
    uint32_t left[WAMP1_PHP_MAX_DEPTH], lists = 0;
    wamp1_php_value t = *v, k;
    const char *p = t.str, *e = t.type == WAMP1_PHP_ARRAY ? p + t.len + 1 : p;
    int d = 0;
    if (v->root) {                                   /* php format: key|value... */
        wamp1_php_value it = *v;
        wamp1_jw_object_begin(w);
        while (wamp1_php_array_next(&it, &k, &t)) {
            wamp1__php_key_json(&k, w);
            if (wamp1__php_json(&t, w, 0)) return -1;
        }
        wamp1_jw_object_end(w);
        return it.count ? -1 : 0;
    }
    for (;;) {
        if (t.type == WAMP1_PHP_ARRAY) {
            int lst;
            t.len = (size_t)(e - t.str);             /* is_list stops after count */
            lst = !obj && wamp1__php_is_list(&t);
            if (d == WAMP1_PHP_MAX_DEPTH) return -1;
            obj = 0;
            if (lst) wamp1_jw_array_begin(w);
            else wamp1_jw_object_begin(w);
            lists = lst ? lists | 1u << d : lists & ~(1u << d);
            left[d++] = t.count;
        } else {
            wamp1__php_scalar_json(&t, w);
        }
        while (d && !left[d - 1]) {
            if (p >= e || *p++ != '}') return -1;
            if (lists >> --d & 1) wamp1_jw_array_end(w);
            else wamp1_jw_object_end(w);
        }
        if (!d) return 0;
        p = wamp1__php_tok(p, e, &k);
        if (!p || (k.type != WAMP1_PHP_INT && k.type != WAMP1_PHP_STRING)) return -1;
        if (!(lists >> (d - 1) & 1)) wamp1__php_key_json(&k, w);
        left[d - 1]--;
        p = wamp1__php_tok(p, e, &t);
        if (!p) return -1;
    }
}

WAMP1__DEF int wamp1_php_value_to_json(const wamp1_php_value *v, wamp1_jwriter *w)
{
    return wamp1__php_json(v, w, 0);
}

WAMP1__DEF int wamp1_php_session_to_json(const wamp1_php_session *s, wamp1_jwriter *w)
{
    return wamp1__php_json(&s->root, w, 1);
}

#ifndef WAMP1_NO_STDIO_FILES
WAMP1__DEF int wamp1_php_session_read_file(const char *dir, const char *id, size_t idlen,
                                          char *buf, size_t bufsize, size_t *outlen)
{
    char path[1024];
    size_t n = strlen(dir), got;
    FILE *f;
    int err;
    if (!wamp1_php_session_id_valid(id, idlen) || n + idlen + 7 > sizeof path) return -3;
    memcpy(path, dir, n);
    if (n && dir[n - 1] != '/' && dir[n - 1] != '\\') path[n++] = '/';
    memcpy(path + n, "sess_", 5);
    memcpy(path + n + 5, id, idlen);
    path[n + 5 + idlen] = 0;
    f = fopen(path, "rb");
    if (!f) return -1;
    got = fread(buf, 1, bufsize, f);
    err = ferror(f) ? -1 : (got == bufsize && fgetc(f) != EOF) ? -2 : 0;
    fclose(f);
    if (!err) *outlen = got;
    return err;
}
#endif
#endif /* WAMP1_NO_SESSION */
/* ---- end mw impl ---- */

#ifndef WAMP1_NO_WAMP


/* ------------------------------------------------------------------------ */
/*  WAMP: writing messages straight into a send buffer                       */
/* ------------------------------------------------------------------------ */

#define WAMP1__NIL 0xFFFFu

static wamp1_app *wamp1__app_of(const wamp1_conn *c) { return (wamp1_app *)c->srv->proto_user; }
static unsigned wamp1__cidx(const wamp1_conn *c) { return (unsigned)(c - c->srv->conns); }

WAMP1__DEF wamp1_app *wamp1_conn_app(const wamp1_conn *c) { return wamp1__app_of(c); }

/* ------------------------------------------------------------------------ */
/*  WAMP: sessions, prefixes and CURIEs                                     */
/* ------------------------------------------------------------------------ */

WAMP1__DEF const char *wamp1_conn_session_id(const wamp1_conn *c) {
    return wamp1__app_of(c)->wconns[wamp1__cidx(c)].sid;
}

/* WAMP1_SESSION_ID_LEN characters from [A-Za-z0-9_-]: the first ones from the port's random
   source, the last four a tag of the connection's slot (its index, scrambled by a bijection
   and this app's random key). Two open sessions never share a slot, so their ids always
   differ, without a search among the others: opening a session costs the same with 10 or
   100,000 open. */
static void wamp1__new_session_id(wamp1_app *app, wamp1_conn *c) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned ci = wamp1__cidx(c), i;
    char *sid = app->wconns[ci].sid;
    uint8_t r[WAMP1_SESSION_ID_LEN];
    uint32_t tag = ((uint32_t)ci * 0x9E3779u ^ app->sid_key) & 0xFFFFFFu; /* odd factor: a bijection */
    if (!app->server.port->random || app->server.port->random(app->server.port->ctx, r, sizeof r - 4) != 0) {
        /* no random source: from the clock and a counter (reported) */
        uint64_t x = app->server.now * 6364136223846793005u + (uint64_t)++app->sid_counter;
        wamp1__report(&app->server, c, WAMP1_ERR_IO, WAMP1__WHY("random source failed for a sessionId"));
        for (i = 0; i < WAMP1_SESSION_ID_LEN - 4; i++) {
            x ^= x >> 29; x *= 0xBF58476D1CE4E5B9u; x ^= x >> 32;
            r[i] = (uint8_t)x;
        }
    }
    for (i = 0; i < WAMP1_SESSION_ID_LEN - 4; i++) sid[i] = abc[r[i] & 63u];
    for (i = 0; i < 4; i++) sid[WAMP1_SESSION_ID_LEN - 4 + i] = abc[(tag >> (6 * i)) & 63u];
    sid[WAMP1_SESSION_ID_LEN] = 0;
}

static wamp1__prefix *wamp1__prefix_find(wamp1_app *app, unsigned ci, const char *name, size_t n) {
    uint16_t p = app->wconns[ci].prefixes;
    while (p != WAMP1__NIL) {
        wamp1__prefix *e = &app->prefixes[p];
        if (e->nlen == n && memcmp(e->name, name, n) == 0) return e;
        p = e->next;
    }
    return NULL;
}

WAMP1__DEF int wamp1_conn_resolve_curie(const wamp1_conn *c, const char *in, size_t n, char *out,
                                        size_t cap) {
    wamp1_app *app = wamp1__app_of(c);
    size_t colon = 0;
    while (colon < n && in[colon] != ':') colon++;
    if (colon < n) {
        wamp1__prefix *e = wamp1__prefix_find(app, wamp1__cidx(c), in, colon);
        if (e) {
            size_t rest = n - colon - 1, hash = app->cfg.curie_hash_join ? 1u : 0u;
            if (e->ulen + hash + rest >= cap) return -1;
            memcpy(out, e->uri, e->ulen);
            if (hash) out[e->ulen] = '#';
            memcpy(out + e->ulen + hash, in + colon + 1, rest);
            out[e->ulen + hash + rest] = 0;
            return (int)(e->ulen + hash + rest);
        }
    }
    if (n >= cap) return -1;
    memmove(out, in, n);
    out[n] = 0;
    return (int)n;
}

static void wamp1__prefixes_free(wamp1_app *app, unsigned ci) {
    uint16_t p = app->wconns[ci].prefixes;
    while (p != WAMP1__NIL) {
        uint16_t next = app->prefixes[p].next;
        app->prefixes[p].next = app->prefix_free;
        app->prefix_free = p;
        app->stats.prefixes--;
        p = next;
    }
    app->wconns[ci].prefixes = WAMP1__NIL;
    app->wconns[ci].nprefix = 0;
}

/* ------------------------------------------------------------------------ */
/*  WAMP: the topic registry                                                */
/* ------------------------------------------------------------------------ */

static uint32_t wamp1__hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static int wamp1__topic_find(const wamp1_app *app, const char *uri, size_t n) {
    uint32_t h = wamp1__hash(uri, n);
    uint16_t t = app->buckets[h % WAMP1__TOPIC_BUCKETS];
    while (t != WAMP1__NIL) {
        const wamp1__topic *tp = &app->topics[t];
        if (tp->hash == h && tp->len == n && memcmp(tp->uri, uri, n) == 0) return t;
        t = tp->hnext;
    }
    return -1;
}

static int wamp1__topic_get(wamp1_app *app, const char *uri, size_t n) {
    int t = wamp1__topic_find(app, uri, n);
    uint32_t h;
    wamp1__topic *tp;
    if (t >= 0) return t;
    if (n >= WAMP1_MAX_URI || app->topic_free == WAMP1__NIL) return -1;
    t = app->topic_free;
    tp = &app->topics[t];
    app->topic_free = tp->hnext;
    h = wamp1__hash(uri, n);
    tp->hash = h;
    tp->len = (uint8_t)n;
    memcpy(tp->uri, uri, n);
    tp->uri[n] = 0;
    tp->head = WAMP1__NIL;
    tp->count = 0;
    tp->used = 1;
    tp->hnext = app->buckets[h % WAMP1__TOPIC_BUCKETS];
    app->buckets[h % WAMP1__TOPIC_BUCKETS] = (uint16_t)t;
    app->stats.topics++;
#if WAMP1_BRIDGE
    if (app->bridge && app->bridge->topic) app->bridge->topic(app->bridge, tp->uri, n, 1);
#endif
    return t;
}

static void wamp1__topic_release(wamp1_app *app, int t) {
    wamp1__topic *tp = &app->topics[t];
    uint16_t *pp = &app->buckets[tp->hash % WAMP1__TOPIC_BUCKETS];
    while (*pp != (uint16_t)t) pp = &app->topics[*pp].hnext;
    *pp = tp->hnext;
    tp->used = 0;
    tp->hnext = app->topic_free;
    app->topic_free = (uint16_t)t;
    app->stats.topics--;
#if WAMP1_BRIDGE
    if (app->bridge && app->bridge->topic) app->bridge->topic(app->bridge, tp->uri, tp->len, 0);
#endif
}

/* Unlink subscription s from its topic (freeing the topic when it empties). */
static void wamp1__sub_unlink_topic(wamp1_app *app, uint16_t s) {
    wamp1__sub *sb = &app->subs[s];
    wamp1__topic *tp = &app->topics[sb->topic];
    if (sb->tprev != WAMP1__NIL) app->subs[sb->tprev].tnext = sb->tnext;
    else tp->head = sb->tnext;
    if (sb->tnext != WAMP1__NIL) app->subs[sb->tnext].tprev = sb->tprev;
    tp->count--;
    if (tp->count == 0) wamp1__topic_release(app, sb->topic);
    sb->cnext = app->sub_free;
    app->sub_free = s;
    app->stats.subscriptions--;
}

static int wamp1__subscribe(wamp1_app *app, unsigned ci, const char *uri, size_t n) {
    uint16_t s;
    int t = wamp1__topic_find(app, uri, n);
    wamp1__sub *sb;
    if (t >= 0) {
        for (s = app->wconns[ci].subs; s != WAMP1__NIL; s = app->subs[s].cnext)
            if (app->subs[s].topic == (uint16_t)t) return 0; /* a set: already there */
    }
    if (app->sub_free == WAMP1__NIL) return -1;
    t = wamp1__topic_get(app, uri, n);
    if (t < 0) return -2;
    s = app->sub_free;
    sb = &app->subs[s];
    app->sub_free = sb->cnext;
    sb->topic = (uint16_t)t;
    sb->conn = (wamp1__cix)ci;
    sb->tprev = WAMP1__NIL;
    sb->tnext = app->topics[t].head;
    if (sb->tnext != WAMP1__NIL) app->subs[sb->tnext].tprev = s;
    app->topics[t].head = s;
    app->topics[t].count++;
    sb->cnext = app->wconns[ci].subs;
    app->wconns[ci].subs = s;
    app->stats.subscriptions++;
    return 1;
}

static int wamp1__unsubscribe(wamp1_app *app, unsigned ci, const char *uri, size_t n) {
    int t = wamp1__topic_find(app, uri, n);
    uint16_t *pp;
    if (t < 0) return 0;
    for (pp = &app->wconns[ci].subs; *pp != WAMP1__NIL; pp = &app->subs[*pp].cnext) {
        uint16_t s = *pp;
        if (app->subs[s].topic == (uint16_t)t) {
            *pp = app->subs[s].cnext;
            wamp1__sub_unlink_topic(app, s);
            return 1;
        }
    }
    return 0;
}

static void wamp1__unsubscribe_all(wamp1_app *app, unsigned ci) {
    uint16_t s = app->wconns[ci].subs;
    while (s != WAMP1__NIL) {
        uint16_t next = app->subs[s].cnext;
        wamp1__sub_unlink_topic(app, s);
        s = next;
    }
    app->wconns[ci].subs = WAMP1__NIL;
}

WAMP1__DEF int wamp1_app_topic_subscribers(const wamp1_app *app, const char *topic) {
    int t = wamp1__topic_find(app, topic, strlen(topic));
    return t < 0 ? 0 : app->topics[t].count;
}

WAMP1__DEF int wamp1_conn_subscribed(const wamp1_conn *c, const char *topic) {
    const wamp1_app *app = wamp1__app_of(c);
    int t = wamp1__topic_find(app, topic, strlen(topic));
    uint16_t s;
    if (t < 0) return 0;
    for (s = app->wconns[wamp1__cidx(c)].subs; s != WAMP1__NIL; s = app->subs[s].cnext)
        if (app->subs[s].topic == (uint16_t)t) return 1;
    return 0;
}

WAMP1__DEF int wamp1_app_topic_next(const wamp1_app *app, int i, const char **uri, unsigned *subscribers) {
    for (; i >= 0 && i < WAMP1_MAX_TOPICS; i++) {
        if (!app->topics[i].used) continue;
        if (uri) *uri = app->topics[i].uri;
        if (subscribers) *subscribers = app->topics[i].count;
        return i;
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
/*  WAMP: events and publishing                                             */
/* ------------------------------------------------------------------------ */

/* Who receives: the publish rules of the spec, with conn ids or session-id token lists. */
typedef struct wamp1__rcpt {
    const wamp1_publish *p;          /* token lists (PUBLISH) ... */
    const wamp1_publish_opts *opts;  /* ... or handle lists (server side) */
    const wamp1_conn *publisher;
    int exclude_me;
#if WAMP1_BRIDGE
    const char *bx, *be;             /* ... or packed session ids (from the bridge) */
    unsigned nbx, nbe;
    int use_be;
#endif
} wamp1__rcpt;

static int wamp1__tok_list_has(const char *json, const wamp1_json_tok *toks, int arr, const char *sid) {
    uint32_t i, k = (uint32_t)arr + 1;
    for (i = 0; i < toks[arr].size; i++) {
        if (wamp1_json_str_eq(json, &toks[k], sid, WAMP1_SESSION_ID_LEN)) return 1;
        k = toks[k].next;
    }
    return 0;
}

static int wamp1__id_list_has(const wamp1_conn_id *ids, unsigned n, wamp1_conn_id id) {
    unsigned i;
    for (i = 0; i < n; i++)
        if (ids[i].id == id.id) return 1;
    return 0;
}

static int wamp1__receives(wamp1_app *app, const wamp1__rcpt *r, wamp1_conn *c) {
    if (r->p) {
        const char *sid = app->wconns[wamp1__cidx(c)].sid;
        if (r->p->eligible >= 0 && !wamp1__tok_list_has(r->p->json, r->p->toks, r->p->eligible, sid))
            return 0;
        if (r->p->exclude >= 0 && wamp1__tok_list_has(r->p->json, r->p->toks, r->p->exclude, sid))
            return 0;
    }
    if (r->opts) {
        wamp1_conn_id id = wamp1_conn_handle(c);
        if (r->opts->use_eligible && !wamp1__id_list_has(r->opts->eligible, r->opts->eligible_count, id))
            return 0;
        if (wamp1__id_list_has(r->opts->exclude, r->opts->exclude_count, id)) return 0;
    }
    if (r->exclude_me && c == r->publisher) return 0;
#if WAMP1_BRIDGE
    if (r->use_be || r->nbx) {
        const char *sid = app->wconns[wamp1__cidx(c)].sid;
        unsigned i, in = 0;
        for (i = 0; i < r->nbx; i++)
            if (memcmp(r->bx + (size_t)i * WAMP1_SESSION_ID_LEN, sid, WAMP1_SESSION_ID_LEN) == 0) return 0;
        for (i = 0; i < r->nbe && !in; i++)
            in = memcmp(r->be + (size_t)i * WAMP1_SESSION_ID_LEN, sid, WAMP1_SESSION_ID_LEN) == 0;
        if (r->use_be && !in) return 0;
    }
#endif
    return 1;
}

/* EVENT to every receiver of topic t: encoded once, as a whole frame, into the first
   receiver's send buffer, then copied to the others. */
static int wamp1__fanout(wamp1_app *app, int t, const wamp1__rcpt *r, const char *ev_src,
                         const wamp1_json_tok *ev_tok, const char *ev_raw, size_t ev_len) {
    uint16_t s;
    const uint8_t *frame = NULL;
    size_t flen = 0;
    int sent = 0;
    if (t < 0) return 0;
    for (s = app->topics[t].head; s != WAMP1__NIL;) {
        uint16_t next = app->subs[s].tnext; /* s may go away if this receiver is closed */
        wamp1_conn *c = &app->server.conns[app->subs[s].conn];
        s = next;
        if (!wamp1_conn_is_open(c) || !wamp1__receives(app, r, c)) continue;
        if (!frame) {
            wamp1_frame_writer fw;
            wamp1_jwriter *w = wamp1_conn_json_begin(c, &fw);
            uint32_t at = fw.at;
            if (!w) continue;
            wamp1_jw_array_begin(w);
            wamp1_jw_int(w, WAMP1_MSG_EVENT);
            wamp1_jw_string(w, app->topics[t].uri, app->topics[t].len);
            if (ev_tok) wamp1_jw_token(w, ev_src, ev_tok);
            else wamp1_jw_raw(w, ev_raw, ev_len);
            wamp1_jw_array_end(w);
            at = fw.at; /* it moves when messages are queued before it */
            if (wamp1_conn_json_end(&fw) != 0) {
                (void)wamp1__overflow(c, w->len + 10);
                continue;
            }
            frame = c->sbuf + at;
            flen = c->stail - at;
            sent++;
            continue;
        }
        if (wamp1_conn_send_frame(c, frame, flen) == 0) sent++;
    }
    app->stats.events_sent += (wamp1_counter)sent;
    return sent;
}

#if WAMP1_BRIDGE
/* after local delivery: the publish to the bridge, lists from a PUBLISH (p) or handles */
static void wamp1__bridge_out(wamp1_app *app, const char *topic, size_t tlen, const char *ev_text,
                              size_t len, const wamp1_publish *p, const wamp1_publish_opts *o) {
    wamp1_bridge_event ev;
    if (!app->bridge || !app->bridge->publish) return;
    memset(&ev, 0, sizeof ev);
    ev.topic = topic;
    ev.topic_len = tlen;
    ev.event = ev_text;
    ev.event_len = len;
    ev.use_eligible = p ? p->eligible >= 0 : o && o->use_eligible;
    ev.exclude_count = p ? (p->exclude >= 0 ? p->toks[p->exclude].size : 0) : o ? o->exclude_count : 0;
    ev.eligible_count = !ev.use_eligible ? 0 : p ? p->toks[p->eligible].size : o->eligible_count;
    ev.p = p;
    ev.opts = o;
    ev.app = app;
    app->bridge->publish(app->bridge, &ev);
}
#endif

WAMP1__DEF void wamp1_publish_broker(wamp1_publish *p) {
    wamp1_app *app = p->app;
    wamp1__rcpt r;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.publisher = p->publisher;
    r.exclude_me = p->exclude_me;
    (void)wamp1__fanout(app, wamp1__topic_find(app, p->topic, p->topic_len), &r, p->json,
                        &p->toks[p->event], NULL, 0);
#if WAMP1_BRIDGE
    {
        const wamp1_json_tok *e = &p->toks[p->event];
        int q = e->type == WAMP1_JSON_STRING;
        wamp1__bridge_out(app, p->topic, p->topic_len, p->json + e->start - (q ? 1 : 0),
                          e->len + (q ? 2u : 0u), p, NULL);
    }
#endif
}

/* An event from the server side is one JSON value (validated without tokens: a handler that
   publishes keeps the tokens of its call) */
static int wamp1__event_ok(const wamp1_app *app, const char *event, size_t len) {
    return wamp1_json_validate(event, len, app->cfg.json_max_depth > 0 ? app->cfg.json_max_depth : WAMP1_JSON_DEPTH) == 0;
}

WAMP1__DEF int wamp1_app_publish(wamp1_app *app, const char *topic, const char *event_json,
                                 size_t len, const wamp1_publish_opts *opts) {
    wamp1__rcpt r;
    int sent;
    if (!wamp1__event_ok(app, event_json, len)) {
        wamp1__report(&app->server, NULL, WAMP1_ERR_MALFORMED, WAMP1__WHY("publish: the event is not JSON"));
        return -1;
    }
    memset(&r, 0, sizeof r);
    r.opts = opts;
    app->stats.publishes++;
    sent = wamp1__fanout(app, wamp1__topic_find(app, topic, strlen(topic)), &r, NULL, NULL, event_json, len);
#if WAMP1_BRIDGE
    wamp1__bridge_out(app, topic, strlen(topic), event_json, len, NULL, opts);
#endif
    return sent;
}

#if WAMP1_BRIDGE
WAMP1__DEF void wamp1_app_set_bridge(wamp1_app *app, wamp1_bridge *b) { app->bridge = b; }

WAMP1__DEF int wamp1_bridge_event_sid(wamp1_bridge_event *ev, int list, unsigned i, char *out) {
    list = list != 0;
    if (list ? (!ev->use_eligible || i >= ev->eligible_count) : i >= ev->exclude_count) return -1;
    if (ev->ids[list]) {
        memcpy(out, ev->ids[list] + (size_t)i * WAMP1_SESSION_ID_LEN, WAMP1_SESSION_ID_LEN);
        out[WAMP1_SESSION_ID_LEN] = 0;
        return 0;
    }
    if (ev->p) {
        const wamp1_json_tok *t = ev->p->toks;
        uint32_t k, j = 0;
        size_t n = 0;
        k = (uint32_t)(list ? ev->p->eligible : ev->p->exclude) + 1;
        if (ev->at[list] && ev->ati[list] <= i) { k = ev->at[list]; j = ev->ati[list]; }
        for (; j < i; j++) k = t[k].next;
        ev->at[list] = k;
        ev->ati[list] = i;
        if (t[k].len > 6 * WAMP1_SESSION_ID_LEN ||
            wamp1_json_unescape(ev->p->json, &t[k], out, WAMP1_SESSION_ID_LEN + 1, &n) != 0 ||
            n != WAMP1_SESSION_ID_LEN)
            return -1;
        return 0;
    }
    if (ev->opts) {
        wamp1_conn_id id = list ? ev->opts->eligible[i] : ev->opts->exclude[i];
        wamp1_conn *c = wamp1_conn_lookup(&ev->app->server, id);
        if (!c || !wamp1_conn_is_open(c)) return -1;
        memcpy(out, ev->app->wconns[wamp1__cidx(c)].sid, WAMP1_SESSION_ID_LEN + 1);
        return 0;
    }
    return -1;
}

WAMP1__DEF int wamp1_app_bridge_deliver(wamp1_app *app, const char *topic, size_t topic_len,
                                       const char *event, size_t len, const char *exclude,
                                       unsigned exclude_count, const char *eligible,
                                       unsigned eligible_count, int use_eligible) {
    wamp1__rcpt r;
    if (!wamp1__event_ok(app, event, len)) {
        wamp1__report(&app->server, NULL, WAMP1_ERR_MALFORMED, WAMP1__WHY("bridge: the event is not JSON"));
        return -1;
    }
    memset(&r, 0, sizeof r);
    r.bx = exclude;
    r.nbx = exclude ? exclude_count : 0;
    r.be = eligible;
    r.nbe = eligible ? eligible_count : 0;
    r.use_be = use_eligible != 0;
    return wamp1__fanout(app, wamp1__topic_find(app, topic, topic_len), &r, NULL, NULL, event, len);
}
#endif

WAMP1__DEF int wamp1_conn_event(wamp1_conn *c, const char *topic, const char *event_json, size_t len) {
    wamp1_frame_writer fw;
    wamp1_jwriter *w = wamp1_conn_json_begin(c, &fw);
    if (!w) return -1;
    wamp1_jw_array_begin(w);
    wamp1_jw_int(w, WAMP1_MSG_EVENT);
    wamp1_jw_string(w, topic, (size_t)-1);
    wamp1_jw_raw(w, event_json, len);
    wamp1_jw_array_end(w);
    if (wamp1_conn_json_end(&fw) != 0) return wamp1__overflow(c, w->len + 10);
    return 0;
}

/* ------------------------------------------------------------------------ */
/*  WAMP: routes, handlers, middleware                                      */
/* ------------------------------------------------------------------------ */

WAMP1__DEF int wamp1_route_match(const char *pat, const char *uri, size_t n, wamp1_match *m) {
    size_t i = 0;
    if (m) m->count = 0;
    while (*pat) {
        if (*pat == '{') {
            const char *name = pat + 1, *close = name;
            size_t start = i;
            while (*close && *close != '}') close++;
            if (!*close) return 0;
            while (i < n && uri[i] != '/' && uri[i] != '#' && uri[i] != '?' &&
                   (close[1] == 0 || uri[i] != close[1]))
                i++;
            if (i == start) return 0; /* a placeholder matches at least one character */
            if (m && m->count < WAMP1_MAX_PARAMS) {
                m->params[m->count].name = name;
                m->params[m->count].name_len = (size_t)(close - name);
                m->params[m->count].value = uri + start;
                m->params[m->count].value_len = i - start;
                m->count++;
            }
            pat = close + 1;
            continue;
        }
        if (i >= n || uri[i] != *pat) return 0;
        i++;
        pat++;
    }
    return i == n;
}

WAMP1__DEF const char *wamp1_match_get(const wamp1_match *m, const char *name, size_t *len) {
    unsigned i;
    size_t nl = strlen(name);
    for (i = 0; m && i < m->count; i++) {
        if (m->params[i].name_len == nl && memcmp(m->params[i].name, name, nl) == 0) {
            if (len) *len = m->params[i].value_len;
            return m->params[i].value;
        }
    }
    if (len) *len = 0;
    return NULL;
}

/* The caller's options differ from the library's: told to the error hook. */
static int wamp1__app_stamp_ok(wamp1_app *app, uint32_t stamp) {
    if (stamp == WAMP1_CONFIG_STAMP) return 1;
    wamp1__report(&app->server, NULL, WAMP1_ERR_CONFIG,
                  WAMP1__WHY("a file was compiled with other wamp1.h options than the library"));
    return wamp1__stamp_ok(stamp);
}

static int wamp1__app_add_route(wamp1_app *app, const wamp1_route *r) {
    if (!r || !r->pattern) return -1;
    if (app->nroutes >= WAMP1_MAX_ROUTES) {
        wamp1__report(&app->server, NULL, WAMP1_ERR_LIMIT, WAMP1__WHY("route table full: raise WAMP1_MAX_ROUTES"));
        return -1;
    }
#if !WAMP1_SMALL_DEFAULTS
    {
        const char *brace = strchr(r->pattern, '{');
        size_t len = strlen(r->pattern), lit = brace ? (size_t)(brace - r->pattern) : len;
        app->route_lit[app->nroutes] = (uint16_t)(lit < 0xFFFFu ? lit : 0);
        app->route_len[app->nroutes] = (uint16_t)(!brace && len < 0xFFFFu ? len : 0xFFFFu);
        if (!brace && len >= 0xFFFFu) app->route_lit[app->nroutes] = 0; /* the matcher decides */
    }
#endif
    app->routes[app->nroutes++] = *r;
    return 0;
}

WAMP1__DEF int wamp1_app_add_route_checked(wamp1_app *app, const wamp1_route *r, uint32_t stamp) {
    return wamp1__app_stamp_ok(app, stamp) ? wamp1__app_add_route(app, r) : -1;
}

static int wamp1__add_route_to(wamp1_app *app, int kind, const char *pattern, const wamp1_handler *h,
                               uint32_t stamp) {
    wamp1_route r;
    if (!wamp1__app_stamp_ok(app, stamp)) return -1;
    memset(&r, 0, sizeof r);
    r.pattern = pattern;
    r.kind = kind;
    r.handler = h;
    return wamp1__app_add_route(app, &r);
}

WAMP1__DEF int wamp1_app_add_rpc_checked(wamp1_app *app, const char *pattern, const wamp1_handler *h,
                                         uint32_t stamp) {
    return wamp1__add_route_to(app, WAMP1_ROUTE_RPC, pattern, h, stamp);
}

WAMP1__DEF int wamp1_app_add_topic_checked(wamp1_app *app, const char *pattern, const wamp1_handler *h,
                                           uint32_t stamp) {
    return wamp1__add_route_to(app, WAMP1_ROUTE_TOPIC, pattern, h, stamp);
}

WAMP1__DEF int wamp1_app_add_handler_checked(wamp1_app *app, const char *name, const wamp1_handler *h,
                                             uint32_t stamp) {
    if (!wamp1__app_stamp_ok(app, stamp)) return -1;
    if (app->nhandlers >= WAMP1_MAX_HANDLERS) {
        wamp1__report(&app->server, NULL, WAMP1_ERR_LIMIT, WAMP1__WHY("handler table full: raise WAMP1_MAX_HANDLERS"));
        return -1;
    }
    app->handlers[app->nhandlers].name = name;
    app->handlers[app->nhandlers].h = h;
    app->nhandlers++;
    return 0;
}

WAMP1__DEF int wamp1_app_add_middleware(wamp1_app *app, wamp1_middleware_fn fn, void *user) {
    if (!fn) return -1;
    if (app->nmw >= WAMP1_MAX_MIDDLEWARE) {
        wamp1__report(&app->server, NULL, WAMP1_ERR_LIMIT, WAMP1__WHY("middleware table full: raise WAMP1_MAX_MIDDLEWARE"));
        return -1;
    }
    app->mw[app->nmw].fn = fn;
    app->mw[app->nmw].user = user;
    app->nmw++;
    return 0;
}

static const wamp1_route *wamp1__route(wamp1_app *app, int kind, const char *uri, size_t n, wamp1_match *m) {
    const wamp1_route *best = NULL;
    unsigned i;
    wamp1_match tmp;
    for (i = 0; i < app->nroutes; i++) {
        const wamp1_route *r = &app->routes[i];
        if (r->kind != kind || (best && r->priority <= best->priority)) continue;
#if !WAMP1_SMALL_DEFAULTS
        if (n < app->route_lit[i] || memcmp(r->pattern, uri, app->route_lit[i]) != 0) continue;
        if (app->route_len[i] != 0xFFFFu) { /* an exact URI */
            if (n == app->route_len[i]) {
                best = r;
                m->count = 0;
            }
            continue;
        }
#endif
        if (wamp1_route_match(r->pattern, uri, n, &tmp)) {
            best = r;
            *m = tmp;
        }
    }
    return best;
}

static int wamp1__streq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static const wamp1_handler *wamp1__resolve(wamp1_app *app, const wamp1_route *r) {
    unsigned i;
    if (app->cfg.resolve) return app->cfg.resolve(app, r, app->cfg.user);
    if (r->handler) return r->handler;
    if (!r->handler_name) return NULL;
    for (i = 0; i < app->nhandlers; i++)
        if (wamp1__streq(app->handlers[i].name, r->handler_name)) return app->handlers[i].h;
    return NULL;
}

static int wamp1__middleware(wamp1_app *app, const wamp1_message *msg) {
    unsigned i;
    for (i = 0; i < app->nmw; i++)
        if (app->mw[i].fn(app, msg, app->mw[i].user) != 0) return 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/*  WAMP: answering calls                                                   */
/* ------------------------------------------------------------------------ */

enum { WAMP1__CALL_NEW = 0, WAMP1__CALL_RESULT, WAMP1__CALL_ERROR, WAMP1__CALL_DONE, WAMP1__CALL_DEFERRED };

WAMP1__DEF const char *wamp1_error_uri_default(wamp1_call_status st) {
    switch (st) {
    case WAMP1_CALL_NO_ENDPOINT: return "http://api.wamp.ws/error#NoSuchRPCEndpoint";
    case WAMP1_CALL_INVALID_ARGUMENT: return "http://api.wamp.ws/error#invalid_argument";
    case WAMP1_CALL_INTERNAL: return "http://api.wamp.ws/error#internal";
    default: return "http://api.wamp.ws/error#generic";
    }
}

static const char *wamp1__error_uri(wamp1_app *app, wamp1_call_status st) {
    const char *u = app->cfg.error_uri ? app->cfg.error_uri(st, app->cfg.user) : NULL;
    return u ? u : wamp1_error_uri_default(st);
}

WAMP1__DEF const char *wamp1_call_id(const wamp1_call *call, size_t *len) {
    *len = call->callid_len >= 2 ? call->callid_len - 2 : 0;
    return call->callid_json ? call->callid_json + 1 : "";
}

WAMP1__DEF int wamp1_call_arg(const wamp1_call *call, unsigned i) {
    if (!call->toks || i >= call->argc) return -1;
    return wamp1_json_array_get(call->toks, call->ntoks, 0, i + 3);
}

/* the token of argument i when it has type want: NULL, and *rc the reason, otherwise */
static const wamp1_json_tok *wamp1__arg_of(const wamp1_call *call, unsigned i, wamp1_json_type want, int *rc) {
    int k = wamp1_call_arg(call, i);
    const wamp1_json_tok *t = k < 0 ? NULL : &call->toks[k];
    *rc = !t ? WAMP1_ARG_MISSING : t->type != want ? WAMP1_ARG_TYPE : 0;
    return *rc ? NULL : t;
}

WAMP1__DEF int wamp1_call_arg_int(const wamp1_call *call, unsigned i, int64_t *out) {
    int rc;
    const wamp1_json_tok *t = wamp1__arg_of(call, i, WAMP1_JSON_NUMBER, &rc);
    return t && wamp1_json_get_int(call->json, t, out) != 0 ? WAMP1_ARG_TYPE : rc;
}

WAMP1__DEF int wamp1_call_arg_double(const wamp1_call *call, unsigned i, double *out) {
    int rc;
    const wamp1_json_tok *t = wamp1__arg_of(call, i, WAMP1_JSON_NUMBER, &rc);
    return t && wamp1_json_get_double(call->json, t, out) != 0 ? WAMP1_ARG_TYPE : rc;
}

WAMP1__DEF int wamp1_call_arg_bool(const wamp1_call *call, unsigned i, int *out) {
    int k = wamp1_call_arg(call, i);
    if (k < 0) return WAMP1_ARG_MISSING;
    if (call->toks[k].type != WAMP1_JSON_TRUE && call->toks[k].type != WAMP1_JSON_FALSE) return WAMP1_ARG_TYPE;
    *out = call->toks[k].type == WAMP1_JSON_TRUE;
    return 0;
}

WAMP1__DEF int wamp1_call_arg_str(const wamp1_call *call, unsigned i, char *buf, size_t cap, size_t *len) {
    int rc;
    const wamp1_json_tok *t = wamp1__arg_of(call, i, WAMP1_JSON_STRING, &rc);
    return t && wamp1_json_unescape(call->json, t, buf, cap, len) != 0 ? WAMP1_ARG_SPACE : rc;
}

static void wamp1__pending_free_at(wamp1_app *app, unsigned i) {
    if (!app->pending[i].used) return;
    app->pending[i].used = 0;
    app->pending[i].gen = (uint16_t)(app->pending[i].gen + 1u);
    app->stats.pending_calls--;
}

/* Begin [3|4, callID, ...; returns the writer, a sink when the caller is gone. */
static wamp1_jwriter *wamp1__answer_begin(wamp1_call *call, int type) {
    wamp1_jwriter *w;
    if (call->state != WAMP1__CALL_NEW) {
        /* answered (or begun) already: the second answer goes nowhere */
        wamp1__report(&call->app->server, call->conn, WAMP1_ERR_MALFORMED, WAMP1__WHY("a call answered twice"));
        wamp1_jw_init(&call->app->sink_writer, call->app->sink, 0);
        call->app->sink_writer.overflow = 1;
        return &call->app->sink_writer;
    }
    if (!call->conn || !(w = wamp1_conn_json_begin(call->conn, &call->fw))) {
        /* nobody to answer (the caller left): a writer that takes nothing */
        wamp1_jw_init(&call->fw.w, call->app->sink, 0);
        call->fw.w.overflow = 1;
        call->fw.c = NULL;
        call->state = type == WAMP1_MSG_CALLRESULT ? WAMP1__CALL_RESULT : WAMP1__CALL_ERROR;
        call->conn = NULL;
        return &call->fw.w;
    }
    wamp1_jw_array_begin(w);
    wamp1_jw_int(w, type);
    wamp1_jw_raw(w, call->callid_json, call->callid_len);
    call->value_at = (uint32_t)w->len;
    call->state = type == WAMP1_MSG_CALLRESULT ? WAMP1__CALL_RESULT : WAMP1__CALL_ERROR;
    return w;
}

static int wamp1__answer_end(wamp1_call *call, int is_error) {
    wamp1_app *app = call->app;
    wamp1_conn *c = call->conn;
    int rc = -1;
    if (call->state != (is_error ? WAMP1__CALL_ERROR : WAMP1__CALL_RESULT)) return -1;
    call->state = WAMP1__CALL_DONE;
    if (c) {
        size_t before = call->fw.w.len;
        if (is_error && call->fw.w.len == call->value_at + 5 &&
            memcmp(call->fw.w.buf + call->value_at, ",null", 5) == 0)
            call->fw.w.len = call->value_at; /* errorDetails, when present, must not be null */
        wamp1_jw_array_end(&call->fw.w);
        rc = wamp1_conn_json_end(&call->fw);
        if (rc != 0 && wamp1_conn_is_open(c)) {
            /* the answer did not fit: say so in a small CALLERROR instead */
            wamp1_frame_writer fw;
            wamp1_jwriter *w = wamp1_conn_json_begin(c, &fw);
            if (w) {
                wamp1_jw_array_begin(w);
                wamp1_jw_int(w, WAMP1_MSG_CALLERROR);
                wamp1_jw_raw(w, call->callid_json, call->callid_len);
                wamp1_jw_string(w, wamp1__error_uri(app, WAMP1_CALL_INTERNAL), (size_t)-1);
                wamp1_jw_string(w, "result larger than the send buffer", (size_t)-1);
                wamp1_jw_array_end(w);
                if (wamp1_conn_json_end(&fw) != 0) (void)wamp1__overflow(c, before);
            } else (void)wamp1__overflow(c, before);
            wamp1__report(&app->server, c, WAMP1_ERR_LIMIT, WAMP1__WHY("call answer did not fit the send buffer"));
        }
    }
    return rc;
}

WAMP1__DEF wamp1_jwriter *wamp1_call_result_begin(wamp1_call *call) {
    return wamp1__answer_begin(call, WAMP1_MSG_CALLRESULT);
}

WAMP1__DEF int wamp1_call_result_end(wamp1_call *call) {
    /* a result "is always present": write null if the handler wrote nothing */
    if (call->state == WAMP1__CALL_RESULT && call->conn && call->fw.w.len == call->value_at)
        wamp1_jw_null(&call->fw.w);
    return wamp1__answer_end(call, 0);
}

WAMP1__DEF int wamp1_call_result_json(wamp1_call *call, const char *json, size_t len) {
    wamp1_jw_raw(wamp1_call_result_begin(call), json, len);
    return wamp1_call_result_end(call);
}

WAMP1__DEF wamp1_jwriter *wamp1_call_error_begin(wamp1_call *call, const char *uri, const char *desc) {
    wamp1_jwriter *w = wamp1__answer_begin(call, WAMP1_MSG_CALLERROR);
    wamp1_jw_string(w, uri, (size_t)-1);
    wamp1_jw_string(w, desc ? desc : "", (size_t)-1);
    call->value_at = (uint32_t)w->len;
    return w;
}

WAMP1__DEF int wamp1_call_error_end(wamp1_call *call) { return wamp1__answer_end(call, 1); }

WAMP1__DEF int wamp1_call_error(wamp1_call *call, const char *uri, const char *desc) {
    (void)wamp1_call_error_begin(call, uri, desc);
    return wamp1__answer_end(call, 1);
}

static int wamp1__call_fail(wamp1_call *call, wamp1_call_status st, const char *desc) {
    return wamp1_call_error(call, wamp1__error_uri(call->app, st), desc);
}

WAMP1__DEF wamp1_call_handle wamp1_call_defer(wamp1_call *call) {
    wamp1_app *app = call->app;
    wamp1_call_handle h;
    unsigned i;
    h.id = 0;
    if (call->state != WAMP1__CALL_NEW || !call->conn || call->callid_len > WAMP1_MAX_CALLID) return h;
    for (i = 0; i < WAMP1_MAX_PENDING_CALLS; i++) {
        wamp1__pending *p = &app->pending[i];
        if (p->used) continue;
        p->used = 1;
        p->conn = wamp1_conn_handle(call->conn);
        p->len = (uint8_t)call->callid_len;
        memcpy(p->callid, call->callid_json, call->callid_len);
        if (p->gen == 0) p->gen = 1;
        app->stats.pending_calls++;
        call->state = WAMP1__CALL_DEFERRED;
        h.id = (uint32_t)p->gen << 16 | (i + 1u);
        return h;
    }
    return h;
}

WAMP1__DEF int wamp1_call_live(const wamp1_app *app, wamp1_call_handle h) {
    uint32_t i = (h.id & 0xFFFFu);
    return i > 0 && i <= WAMP1_MAX_PENDING_CALLS && app->pending[i - 1].used &&
           app->pending[i - 1].gen == (uint16_t)(h.id >> 16);
}

WAMP1__DEF int wamp1_call_resume(wamp1_app *app, wamp1_call_handle h, wamp1_call *call) {
    uint32_t i = (h.id & 0xFFFFu);
    wamp1__pending *p;
    if (i == 0 || i > WAMP1_MAX_PENDING_CALLS) return -1;
    p = &app->pending[i - 1];
    if (!p->used || p->gen != (uint16_t)(h.id >> 16)) return -1;
    memset(call, 0, sizeof *call);
    call->app = app;
    call->conn = wamp1_conn_lookup(&app->server, p->conn);
    /* the slot is free again from here; the callID is copied into the answer before any
       other call can take the slot (answers are written synchronously) */
    call->callid_json = p->callid;
    call->callid_len = p->len;
    wamp1__pending_free_at(app, i - 1);
    return 0;
}

static void wamp1__pending_drop_conn(wamp1_app *app, wamp1_conn *c) {
    wamp1_conn_id id = wamp1_conn_handle(c);
    unsigned i;
    if (!app->stats.pending_calls) return; /* the usual case: no walk over the table */
    for (i = 0; i < WAMP1_MAX_PENDING_CALLS; i++)
        if (app->pending[i].used && app->pending[i].conn.id == id.id) wamp1__pending_free_at(app, i);
}

/* ------------------------------------------------------------------------ */
/*  WAMP: incoming messages                                                 */
/* ------------------------------------------------------------------------ */

static void wamp1__malformed(wamp1_app *app, wamp1_conn *c, int code, const char *why) {
    app->stats.malformed++;
    if (app->cfg.strict) wamp1__fail(c, code, WAMP1_ERR_MALFORMED, why);
    else wamp1__report(&app->server, c, WAMP1_ERR_MALFORMED, why);
}

/* Unescape string token t and resolve it as a URI or CURIE into app->uri; length or -1. */
static int wamp1__uri_arg(wamp1_app *app, wamp1_conn *c, const char *json, int t) {
    size_t n = 0;
    if (wamp1_json_unescape(json, &app->toks[t], app->uri2, sizeof app->uri2, &n) != 0) return -1;
    return wamp1_conn_resolve_curie(c, app->uri2, n, app->uri, sizeof app->uri);
}

static void wamp1__on_prefix(wamp1_app *app, wamp1_conn *c, const char *json) {
    unsigned ci = wamp1__cidx(c);
    wamp1_json_tok *t = app->toks;
    char name[WAMP1_MAX_PREFIX_NAME + 1], uri[WAMP1_MAX_PREFIX_URI + 1];
    size_t nl, ul;
    wamp1__prefix *e;
    if (t[0].size != 3 || t[2].type != WAMP1_JSON_STRING || t[3].type != WAMP1_JSON_STRING) {
        wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA, WAMP1__WHY("PREFIX needs [1, prefix, URI]"));
        return;
    }
    if (wamp1_json_unescape(json, &t[2], name, sizeof name, &nl) != 0 ||
        wamp1_json_unescape(json, &t[3], uri, sizeof uri, &ul) != 0) {
        wamp1__report(&app->server, c, WAMP1_ERR_LIMIT, WAMP1__WHY("PREFIX longer than the configured limit: ignored"));
        return;
    }
    e = wamp1__prefix_find(app, ci, name, nl);
    if (!e) {
        uint16_t p = app->prefix_free;
        if (p == WAMP1__NIL || app->wconns[ci].nprefix >= WAMP1_MAX_PREFIXES_PER_CONN) {
            wamp1__report(&app->server, c, WAMP1_ERR_LIMIT, WAMP1__WHY("prefix table full: PREFIX ignored"));
            return;
        }
        e = &app->prefixes[p];
        app->prefix_free = e->next;
        e->next = app->wconns[ci].prefixes;
        app->wconns[ci].prefixes = p;
        app->wconns[ci].nprefix++;
        app->stats.prefixes++;
        e->nlen = (uint8_t)nl;
        memcpy(e->name, name, nl);
    }
    e->ulen = (uint8_t)ul;
    memcpy(e->uri, uri, ul);
}

static void wamp1__on_call(wamp1_app *app, wamp1_conn *c, const char *json, int ntoks) {
    wamp1_json_tok *t = app->toks;
    wamp1_call call;
    wamp1_match m;
    const wamp1_route *r;
    const wamp1_handler *h;
    int n;
    /* field by field: a memset of the whole call (its answer's writer included, which
       wamp1_conn_json_begin sets up) showed in the per-call profile */
    call.app = app;
    call.conn = c;
    call.uri = NULL;
    call.uri_len = 0;
    call.match = NULL;
    call.route = NULL;
    call.json = json;
    call.toks = t;
    call.ntoks = ntoks;
    call.argc = 0;
    call.callid_json = NULL;
    call.callid_len = 0;
    call.value_at = 0;
    call.state = WAMP1__CALL_NEW;
    app->stats.calls++;
    if (t[0].size < 2 || t[2].type != WAMP1_JSON_STRING) {
        wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA, WAMP1__WHY("CALL without a string callID"));
        return;
    }
    call.callid_json = json + t[2].start - 1; /* with its quotes */
    call.callid_len = t[2].len + 2;
    call.argc = t[0].size >= 3 ? t[0].size - 3 : 0;
    if (t[0].size < 3 || t[t[2].next].type != WAMP1_JSON_STRING) {
        wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA, WAMP1__WHY("CALL with a procURI that is not a string"));
        if (!app->cfg.strict) (void)wamp1__call_fail(&call, WAMP1_CALL_INVALID_ARGUMENT, "procURI must be a string");
        return;
    }
    n = wamp1__uri_arg(app, c, json, (int)t[2].next);
    if (n < 0) {
        (void)wamp1__call_fail(&call, WAMP1_CALL_INTERNAL, "procedure URI longer than the configured limit");
        return;
    }
    call.uri = app->uri;
    call.uri_len = (size_t)n;
    r = wamp1__route(app, WAMP1_ROUTE_RPC, app->uri, (size_t)n, &m);
    h = r ? wamp1__resolve(app, r) : NULL;
    if (!h || !h->call) {
        static const char pre[] = "no procedure registered for ";
        char d[sizeof pre + WAMP1_MAX_URI];
        memcpy(d, pre, sizeof pre - 1);
        memcpy(d + sizeof pre - 1, app->uri, (size_t)n);
        d[sizeof pre - 1 + (size_t)n] = 0;
        (void)wamp1__call_fail(&call, WAMP1_CALL_NO_ENDPOINT, d);
        return;
    }
    call.match = &m;
    call.route = r;
    {
        wamp1_message msg;
        msg.type = WAMP1_MSG_CALL;
        msg.conn = c;
        msg.uri = app->uri;
        msg.uri_len = (size_t)n;
        msg.route = r;
        msg.match = &m;
        msg.call = &call;
        msg.publish = NULL;
        if (wamp1__middleware(app, &msg)) {
            if (call.state == WAMP1__CALL_NEW)
                (void)wamp1__call_fail(&call, WAMP1_CALL_GENERIC, "refused");
            return;
        }
    }
    {
        wamp1_call_status st = h->call(&call, h->user);
        if (call.state == WAMP1__CALL_RESULT) (void)wamp1_call_result_end(&call);
        else if (call.state == WAMP1__CALL_ERROR) (void)wamp1_call_error_end(&call);
        if (call.state == WAMP1__CALL_NEW)
            (void)wamp1__call_fail(&call, st == WAMP1_CALL_OK ? WAMP1_CALL_GENERIC : st,
                                   st == WAMP1_CALL_INVALID_ARGUMENT ? "invalid argument"
                                   : st == WAMP1_CALL_INTERNAL      ? "internal error"
                                   : st == WAMP1_CALL_NO_ENDPOINT   ? "no such procedure"
                                   : st == WAMP1_CALL_GENERIC       ? "the handler failed"
                                                                    : "the handler did not answer");
    }
}

static int wamp1__topic_msg(wamp1_app *app, wamp1_conn *c, const char *json, int type,
                            wamp1_match *m, const wamp1_route **r, const wamp1_handler **h) {
    int n;
    if (app->toks[2].type != WAMP1_JSON_STRING) {
        wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA, WAMP1__WHY("topicURI must be a string"));
        return -1;
    }
    n = wamp1__uri_arg(app, c, json, 2);
    if (n < 0) {
        wamp1__report(&app->server, c, WAMP1_ERR_LIMIT, WAMP1__WHY("topic URI longer than the configured limit: ignored"));
        return -1;
    }
    *r = wamp1__route(app, WAMP1_ROUTE_TOPIC, app->uri, (size_t)n, m);
    *h = *r ? wamp1__resolve(app, *r) : NULL;
    if (!*r && type != WAMP1_MSG_UNSUBSCRIBE) {
        wamp1__report(&app->server, c, WAMP1_ERR_NO_ROUTE, WAMP1__WHY("no route for this topic: ignored"));
        return -1;
    }
    return n;
}

static void wamp1__on_subscribe(wamp1_app *app, wamp1_conn *c, const char *json, int type) {
    wamp1_match m;
    const wamp1_route *r = NULL;
    const wamp1_handler *h = NULL;
    int n, rc;
    if (app->toks[0].size != 2) {
        wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA, WAMP1__WHY("SUBSCRIBE/UNSUBSCRIBE needs [type, topicURI]"));
        return;
    }
    n = wamp1__topic_msg(app, c, json, type, &m, &r, &h);
    if (n < 0) return;
    if (r) {
        wamp1_message msg;
        msg.type = type;
        msg.conn = c;
        msg.uri = app->uri;
        msg.uri_len = (size_t)n;
        msg.route = r;
        msg.match = &m;
        msg.call = NULL;
        msg.publish = NULL;
        if (wamp1__middleware(app, &msg)) return;
    }
    if (type == WAMP1_MSG_SUBSCRIBE) {
        if (h && h->subscribe && h->subscribe(app, c, app->uri, (size_t)n, &m, h->user) != 0) return;
        rc = wamp1__subscribe(app, wamp1__cidx(c), app->uri, (size_t)n);
        if (rc == -1) wamp1__report(&app->server, c, WAMP1_ERR_LIMIT, WAMP1__WHY("subscription pool full: SUBSCRIBE ignored"));
        if (rc == -2) wamp1__report(&app->server, c, WAMP1_ERR_LIMIT, WAMP1__WHY("topic pool full: SUBSCRIBE ignored"));
    } else {
        if (wamp1__unsubscribe(app, wamp1__cidx(c), app->uri, (size_t)n) && h && h->unsubscribe)
            h->unsubscribe(app, c, app->uri, (size_t)n, &m, h->user);
    }
}

static int wamp1__all_strings(const wamp1_json_tok *t, int arr) {
    uint32_t i, k = (uint32_t)arr + 1;
    for (i = 0; i < t[arr].size; i++) {
        if (t[k].type != WAMP1_JSON_STRING) return 0;
        k = t[k].next;
    }
    return 1;
}

static void wamp1__on_publish(wamp1_app *app, wamp1_conn *c, const char *json) {
    wamp1_json_tok *t = app->toks;
    wamp1_publish p;
    wamp1_match m;
    const wamp1_route *r = NULL;
    const wamp1_handler *h = NULL;
    int n, a4 = -1, a5 = -1;
    if (t[0].size < 3 || t[0].size > 5) {
        wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA, WAMP1__WHY("PUBLISH needs 3 to 5 elements"));
        return;
    }
    if (t[2].type != WAMP1_JSON_STRING) {
        wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA, WAMP1__WHY("topicURI must be a string"));
        return;
    }
    memset(&p, 0, sizeof p);
    p.event = (int)t[2].next;
    p.exclude = p.eligible = -1;
    p.exclude_me = !app->cfg.publish_include_publisher;
    if (t[0].size >= 4) {
        a4 = (int)t[p.event].next;
        if (t[a4].type == WAMP1_JSON_TRUE) p.exclude_me = 1;
        else if (t[a4].type == WAMP1_JSON_FALSE) p.exclude_me = 0;
        else if (t[a4].type == WAMP1_JSON_ARRAY) {
            if (!wamp1__all_strings(t, a4)) {
                wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA, WAMP1__WHY("PUBLISH exclude list holds a non-string"));
                return;
            }
            p.exclude = a4;
            p.exclude_me = 0;
        }
    }
    if (t[0].size == 5) {
        a5 = (int)t[a4].next;
        if (t[a5].type != WAMP1_JSON_ARRAY || !wamp1__all_strings(t, a5)) {
            wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA, WAMP1__WHY("PUBLISH eligible must be an array of strings"));
            return;
        }
        p.eligible = a5;
    }
    n = wamp1__topic_msg(app, c, json, WAMP1_MSG_PUBLISH, &m, &r, &h);
    if (n < 0) return;
    p.app = app;
    p.publisher = c;
    p.topic = app->uri;
    p.topic_len = (size_t)n;
    p.match = &m;
    p.json = json;
    p.toks = t;
    app->stats.publishes++;
    {
        wamp1_message msg;
        msg.type = WAMP1_MSG_PUBLISH;
        msg.conn = c;
        msg.uri = app->uri;
        msg.uri_len = (size_t)n;
        msg.route = r;
        msg.match = &m;
        msg.call = NULL;
        msg.publish = &p;
        if (wamp1__middleware(app, &msg)) return;
    }
    if (h && h->publish) h->publish(&p, h->user);
    else wamp1_publish_broker(&p);
}

static void wamp1__app_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user) {
    wamp1_app *app = (wamp1_app *)user;
    const char *json = (const char *)data;
    wamp1_json_tok *t = app->toks;
    int n, depth = app->cfg.json_max_depth > 0 ? app->cfg.json_max_depth : WAMP1_JSON_DEPTH;
    int64_t type;
    if (op != WAMP1_OP_TEXT) {
        wamp1__malformed(app, c, WAMP1_CLOSE_UNSUPPORTED, WAMP1__WHY("binary message on a WAMP connection"));
        return;
    }
    n = wamp1_json_parse(json, len, t, WAMP1_JSON_TOKENS, depth, NULL);
    if (n == WAMP1_JSON_ETOKENS && t[0].type == WAMP1_JSON_ARRAY && t[1].type == WAMP1_JSON_NUMBER &&
        json[t[1].start] == '2' && t[1].len == 1 && t[2].type == WAMP1_JSON_STRING) {
        /* a CALL too complex to take apart: still answer it */
        wamp1_call call;
        memset(&call, 0, sizeof call);
        call.app = app;
        call.conn = c;
        call.callid_json = json + t[2].start - 1;
        call.callid_len = t[2].len + 2;
        wamp1__report(&app->server, c, WAMP1_ERR_LIMIT, WAMP1__WHY("CALL has more JSON tokens than WAMP1_JSON_TOKENS"));
        (void)wamp1__call_fail(&call, WAMP1_CALL_INTERNAL, "message too complex");
        return;
    }
    if (n < 0) {
        wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA,
                         n == WAMP1_JSON_EDEPTH ? WAMP1__WHY("JSON nested deeper than the limit") : WAMP1__WHY("invalid JSON"));
        return;
    }
    if (t[0].type != WAMP1_JSON_ARRAY || t[0].size < 2 || t[1].type != WAMP1_JSON_NUMBER ||
        wamp1_json_get_int(json, &t[1], &type) != 0) {
        wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA, WAMP1__WHY("not a WAMP message array"));
        return;
    }
    switch (type) {
    case WAMP1_MSG_PREFIX: wamp1__on_prefix(app, c, json); break;
    case WAMP1_MSG_CALL: wamp1__on_call(app, c, json, n); break;
    case WAMP1_MSG_SUBSCRIBE:
    case WAMP1_MSG_UNSUBSCRIBE: wamp1__on_subscribe(app, c, json, (int)type); break;
    case WAMP1_MSG_PUBLISH: wamp1__on_publish(app, c, json); break;
    default: wamp1__malformed(app, c, WAMP1_CLOSE_INVALID_DATA, WAMP1__WHY("message type a client must not send"));
    }
}

/* ------------------------------------------------------------------------ */
/*  WAMP: connection events, the queue, life cycle                           */
/* ------------------------------------------------------------------------ */

static void wamp1__app_open(wamp1_conn *c, void *user) {
    wamp1_app *app = (wamp1_app *)user;
    unsigned ci = wamp1__cidx(c);
    wamp1_frame_writer fw;
    wamp1_jwriter *w;
    app->wconns[ci].subs = app->wconns[ci].prefixes = WAMP1__NIL;
    app->wconns[ci].nprefix = 0;
    wamp1__new_session_id(app, c);
    w = wamp1_conn_json_begin(c, &fw);
    if (w) {
        wamp1_jw_array_begin(w);
        wamp1_jw_int(w, WAMP1_MSG_WELCOME);
        wamp1_jw_string(w, app->wconns[ci].sid, WAMP1_SESSION_ID_LEN);
        wamp1_jw_int(w, 1);
        wamp1_jw_string(w, app->cfg.server_ident, (size_t)-1);
        wamp1_jw_array_end(w);
        (void)wamp1_conn_json_end(&fw);
    }
    if (app->cfg.on_open) app->cfg.on_open(app, c, app->cfg.user);
}

static void wamp1__app_close(wamp1_conn *c, int code, void *user) {
    wamp1_app *app = (wamp1_app *)user;
    unsigned ci = wamp1__cidx(c);
    if (app->cfg.on_close) app->cfg.on_close(app, c, code, app->cfg.user);
    wamp1__unsubscribe_all(app, ci);
    wamp1__prefixes_free(app, ci);
    wamp1__pending_drop_conn(app, c);
    memset(app->wconns[ci].sid, 0, sizeof app->wconns[ci].sid);
}

static void wamp1__app_error(wamp1_conn *c, wamp1_error e, const char *why, void *user) {
    wamp1_app *app = (wamp1_app *)user;
    if (app->cfg.on_error) app->cfg.on_error(app, c, e, why, app->cfg.user);
}

static void wamp1__lock(wamp1_app *app) {
    if (app->server.port->lock) app->server.port->lock(app->server.port->ctx);
}
static void wamp1__unlock(wamp1_app *app) {
    if (app->server.port->unlock) app->server.port->unlock(app->server.port->ctx);
}

static void wamp1__app_tick(wamp1_server *s, uint64_t now, void *user) {
    wamp1_app *app = (wamp1_app *)user;
    unsigned budget;
    (void)now;
    (void)s;
    /* run what was queued before this tick; what those posts queue waits for the next */
    wamp1__lock(app);
    budget = app->qcount;
    wamp1__unlock(app);
    while (budget--) {
        wamp1__qslot slot;
        wamp1__lock(app);
        if (app->qcount == 0) { wamp1__unlock(app); break; }
        slot = app->queue[app->qhead];
        app->qhead = (app->qhead + 1u) % WAMP1_QUEUE_SLOTS;
        app->qcount--;
        wamp1__unlock(app);
        if (slot.fn) slot.fn(app, slot.arg);
        else {
            slot.data[slot.tlen] = 0;
            (void)wamp1_app_publish(app, slot.data, slot.data + slot.tlen + 1, slot.elen, NULL);
        }
    }
}


static int wamp1__enqueue(wamp1_app *app, const wamp1__qslot *slot) {
    int rc = -1;
    wamp1__lock(app);
    if (app->qcount < WAMP1_QUEUE_SLOTS) {
        app->queue[(app->qhead + app->qcount) % WAMP1_QUEUE_SLOTS] = *slot;
        app->qcount++;
        rc = 0;
    } else app->stats.queue_full++;
    wamp1__unlock(app);
    if (rc == 0) wamp1_server_wake(&app->server);
    return rc;
}

WAMP1__DEF int wamp1_app_post(wamp1_app *app, void (*fn)(wamp1_app *app, void *arg), void *arg) {
    wamp1__qslot slot;
    if (!fn) return -1;
    slot.fn = fn;
    slot.arg = arg;
    slot.tlen = slot.elen = 0;
    return wamp1__enqueue(app, &slot);
}

WAMP1__DEF int wamp1_app_publish_async(wamp1_app *app, const char *topic, const char *event_json,
                                       size_t len) {
    wamp1__qslot slot;
    wamp1_match m;
    size_t tl = strlen(topic);
    if (tl + len + 2 > WAMP1_QUEUE_SLOT_SIZE) return WAMP1_QUEUE_TOO_BIG;
    if (!wamp1__route(app, WAMP1_ROUTE_TOPIC, topic, tl, &m)) return WAMP1_QUEUE_NO_ROUTE;
    if (!wamp1__event_ok(app, event_json, len)) return WAMP1_QUEUE_BAD_JSON;
    slot.fn = NULL;
    slot.arg = NULL;
    slot.tlen = (uint16_t)tl;
    slot.elen = (uint16_t)len;
    memcpy(slot.data, topic, tl);
    slot.data[tl] = 0;
    memcpy(slot.data + tl + 1, event_json, len);
    return wamp1__enqueue(app, &slot);
}

WAMP1__DEF int wamp1_app_init_checked(wamp1_app *app, const wamp1_app_config *cfg, uint32_t stamp) {
    wamp1_config sc;
    unsigned i;
    if (!wamp1__stamp_ok(stamp)) return -1;
    /* the tables sized by the connection pool are set up as connections open, so that
       memory of slots never used is never touched */
    memset(&app->cfg, 0, offsetof(wamp1_app, topics) - offsetof(wamp1_app, cfg));
    memset(app->pending, 0, sizeof app->pending);
    app->qhead = app->qcount = 0;
    app->cfg.server_ident = cfg->server_ident ? cfg->server_ident : WAMP1_SERVER_IDENT;
    app->cfg.publish_include_publisher = cfg->publish_include_publisher != 0;
    app->cfg.curie_hash_join = cfg->curie_hash_join != 0;
    app->cfg.strict = cfg->strict != 0;
    app->cfg.json_max_depth = cfg->json_max_depth;
    app->cfg.resolve = cfg->resolve;
    app->cfg.error_uri = cfg->error_uri;
    app->cfg.on_open = cfg->on_open;
    app->cfg.on_close = cfg->on_close;
    app->cfg.on_error = cfg->on_error;
    app->cfg.user = cfg->user;
    sc = cfg->server; /* the user's callbacks and user pointer stay: WAMP runs beside them */
    if (!sc.subprotocol) sc.subprotocol = "wamp";
    if (cfg->lenient_subprotocol) sc.subprotocol_optional = 1;
    if (wamp1__server_init(&app->server, &sc, app) != 0) return -1;
    if (!app->server.port->random ||
        app->server.port->random(app->server.port->ctx, &app->sid_key, sizeof app->sid_key) != 0)
        app->sid_key = (uint32_t)app->server.now;
    for (i = 0; i < WAMP1__TOPIC_BUCKETS; i++) app->buckets[i] = WAMP1__NIL;
    for (i = 0; i < WAMP1_MAX_TOPICS; i++)
        app->topics[i].hnext = (uint16_t)(i + 1 < WAMP1_MAX_TOPICS ? i + 1 : WAMP1__NIL);
    for (i = 0; i < WAMP1_MAX_SUBSCRIPTIONS; i++)
        app->subs[i].cnext = (uint16_t)(i + 1 < WAMP1_MAX_SUBSCRIPTIONS ? i + 1 : WAMP1__NIL);
    for (i = 0; i < WAMP1_MAX_PREFIXES; i++)
        app->prefixes[i].next = (uint16_t)(i + 1 < WAMP1_MAX_PREFIXES ? i + 1 : WAMP1__NIL);
    app->topic_free = app->sub_free = app->prefix_free = 0;
    app->stats.topics_max = WAMP1_MAX_TOPICS;
    app->stats.subscriptions_max = WAMP1_MAX_SUBSCRIPTIONS;
    app->stats.pending_calls_max = WAMP1_MAX_PENDING_CALLS;
    app->stats.prefixes_max = WAMP1_MAX_PREFIXES;
    for (i = 0; i < cfg->route_count; i++)
        if (wamp1_app_add_route(app, &cfg->routes[i]) != 0) return -1;
    return 0;
}

WAMP1__DEF wamp1_server *wamp1_app_server(wamp1_app *app) { return &app->server; }
WAMP1__DEF int wamp1_app_listen(wamp1_app *app) { return wamp1_server_listen(&app->server); }
WAMP1__DEF int wamp1_app_poll(wamp1_app *app, int timeout_ms) { return wamp1_server_poll(&app->server, timeout_ms); }
/* Listens first when wamp1_app_listen() was not called. */
WAMP1__DEF int wamp1_app_run(wamp1_app *app) {
    if (app->server.nlisten == 0 && wamp1_server_listen(&app->server) != 0) return -1;
    return wamp1_server_run(&app->server);
}
WAMP1__DEF void wamp1_app_stop(wamp1_app *app) { wamp1_server_stop(&app->server); }
WAMP1__DEF int wamp1_app_shutdown(wamp1_app *app, uint32_t timeout_ms) {
    return wamp1_server_shutdown(&app->server, timeout_ms);
}
WAMP1__DEF void wamp1_app_stats(const wamp1_app *app, wamp1_wamp_stats *out) { *out = app->stats; }

#endif /* WAMP1_NO_WAMP */

#ifdef __cplusplus
}
#endif

#endif /* WAMP1_IMPLEMENTATION */

/*
   MIT License

   Copyright (c) 2026 the wamp1.h authors

   Permission is hereby granted, free of charge, to any person obtaining a copy of this
   software and associated documentation files (the "Software"), to deal in the Software
   without restriction, including without limitation the rights to use, copy, modify, merge,
   publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
   to whom the Software is furnished to do so, subject to the following conditions:

   The above copyright notice and this permission notice shall be included in all copies or
   substantial portions of the Software.

   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
   INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
   PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
   FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
   OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
   DEALINGS IN THE SOFTWARE.
*/
