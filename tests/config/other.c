/* A file of handlers compiled with other options than the library (tests/config/main.c):
   its view of wamp1_app and of the JSON tokens differs, so what it hands over is refused. */
#define WAMP1_JSON_TOKENS 64
#include "../../wamp1.h"

static wamp1_call_status other_fn(wamp1_call *call, void *user) {
    (void)user;
    wamp1_jw_int(wamp1_call_result_begin(call), 1);
    wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}

int other_register(wamp1_app *app);
int other_init(wamp1_app *app, const wamp1_app_config *cfg);

int other_register(wamp1_app *app) {
    static const wamp1_handler h = {other_fn, 0, 0, 0, 0};
    return wamp1_app_add_rpc(app, "http://x/other", &h);
}

int other_init(wamp1_app *app, const wamp1_app_config *cfg) { return wamp1_app_init(app, cfg); }
