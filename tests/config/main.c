/* One configuration for every file: a file compiled with other options than the library
   (tests/config/other.c) is refused where it meets the library, at init and when it
   registers its handlers; the error hook and WAMP1_ASSERT are told. */
static int asserted;
#define WAMP1_ASSERT(c) ((c) ? (void)0 : (void)asserted++)
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"
#include "../test_util.h"

int other_register(wamp1_app *app);
int other_init(wamp1_app *app, const wamp1_app_config *cfg);

static int wait_none(void *ctx, wamp1_pollfd *fds, unsigned n, int timeout_ms) {
    (void)ctx; (void)fds; (void)n; (void)timeout_ms;
    return 0;
}
static uint64_t clock_zero(void *ctx) { (void)ctx; return 1000; }

static wamp1_error last_error;
static void on_error(wamp1_app *a, wamp1_conn *c, wamp1_error e, const char *why, void *u) {
    (void)a; (void)c; (void)why; (void)u;
    last_error = e;
}

static wamp1_call_status mine(wamp1_call *call, void *user) {
    (void)call; (void)user;
    return WAMP1_CALL_OK;
}

int main(void) {
    static wamp1_app app;
    static uint8_t mem[WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
    static const wamp1_handler h = {mine, 0, 0, 0, 0};
    wamp1_port port;
    wamp1_app_config cfg;
    memset(&port, 0, sizeof port);
    port.wait = wait_none;
    port.now_ms = clock_zero;
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    cfg.server.memory = mem;
    cfg.server.memory_size = sizeof mem;
    cfg.on_error = on_error;

    /* init from the other file: refused before anything is touched */
    CHECK_EQ_INT(other_init(&app, &cfg), -1);
    CHECK_EQ_INT(asserted, 1);
    /* init here, then routes from here and from the other file */
    CHECK_EQ_INT(wamp1_app_init(&app, &cfg), 0);
    CHECK_EQ_INT(wamp1_app_add_rpc(&app, "http://x/mine", &h), 0);
    CHECK_EQ_INT(last_error, WAMP1_ERR_NONE);
    CHECK_EQ_INT(other_register(&app), -1);
    CHECK_EQ_INT(last_error, WAMP1_ERR_CONFIG);
    CHECK_EQ_INT(asserted, 2);
    CHECK_EQ_INT(wamp1_app_shutdown(&app, 0), 0);
    return t_summary("config");
}
