/* demo: the WAMP v1 demo server on wamp1.h, Windows build.

   demo-win.exe [--host ADDR] [--port N] [--allow-origin HOST]... [--block ADDR[/BITS]]...
                [--keepalive SECONDS] [--max-connections N] [--session-dir DIR]
                [--tls-cert FILE --tls-key FILE] [--slow-consumer close|drop]

   The options, routes and answers of examples/posix/demo.c (the routes come from
   ../demo_routes.h). Differences: the pool holds 1000 connections (select() with
   FD_SETSIZE 1024), there is no TLS, and the process ends cleanly on Ctrl+C, Ctrl+Break and
   when its console is closed (every WebSocket gets close 1001). Build: see README.md. */
#include "../../port/wamp1_win32.h"
#define WAMP1_MAX_CONNECTIONS 1000
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_MAX_TOPICS 4096
#define WAMP1_MAX_SUBSCRIPTIONS 60000
#define WAMP1_MAX_PENDING_CALLS 4096
#define WAMP1_MAX_PREFIXES 20480
#define WAMP1_MAX_URI 256
#define WAMP1_MAX_ROUTES 32
#define WAMP1_JSON_TOKENS 4096
#define WAMP1_JSON_DEPTH 64
#define WAMP1_MAX_TIMERS 1024
#define WAMP1_QUEUE_SLOTS 64
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"
#include "../../port/wamp1_win32.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>

#if !WAMP1_WIN32_FITS
#error "raise FD_SETSIZE or lower WAMP1_MAX_CONNECTIONS"
#endif

static wamp1_app demo_app;
static HANDLE stopped; /* set once the server has shut down */

/* ---- the routes, options and settings shared with the POSIX demo --------- */

#include "../demo_routes.h"
#include "../demo_options.h"

/* Runs on a thread of its own. For a closed console, logoff or shutdown the process ends when
   the handler returns, so it waits for the shutdown to finish first. */
static BOOL WINAPI on_console(DWORD type) {
    wamp1_app_stop(&demo_app);
    if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT)
        (void)WaitForSingleObject(stopped, 4000);
    return TRUE;
}

int main(int argc, char **argv) {
    static wamp1_win32 win;
    wamp1_port port;
    wamp1_app_config cfg;
    size_t mem_size;
    void *mem;

    /* "\n" stays "\n": the listening line is read by programs */
    (void)_setmode(_fileno(stdout), _O_BINARY);
    (void)_setmode(_fileno(stderr), _O_BINARY);
    {
        int rc = demo_parse_options(argc, argv, WAMP1_MAX_CONNECTIONS);
        if (rc != 0) return rc < 0 ? 0 : rc; /* -1: --help */
    }
    if (demo_opt.tls_cert) return demo_usage("this build has no TLS support", NULL);

    if (wamp1_win32_init(&win, &port) != 0) return demo_usage("cannot start Winsock", NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &port;
    demo_configure(&cfg, WAMP1_MAX_CONNECTIONS);
    /* Committed, not touched: Windows backs a page with memory only once it is used. */
    mem_size = wamp1_server_memory_size(&cfg.server);
    mem = VirtualAlloc(NULL, mem_size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!mem) return demo_usage("cannot reserve buffer memory", NULL);
    cfg.server.memory = mem;
    cfg.server.memory_size = mem_size;
    if (wamp1_app_init(&demo_app, &cfg) != 0) return demo_usage("bad configuration", NULL);
    wamp1_server_set_max_connections(wamp1_app_server(&demo_app), (uint32_t)demo_opt.max_conns);

    if (demo_add_routes(&demo_app) != 0) return demo_usage("the demo's routes do not fit WAMP1_MAX_ROUTES", NULL);
    if (demo_add_auth(&demo_app, demo_opt.auth_file) != 0) return demo_usage("WAMP-CRA does not fit the routes", NULL);

    if (wamp1_app_listen(&demo_app) != 0) {
        fprintf(stderr, "demo: cannot listen on %s:%lu\n", demo_opt.host, demo_opt.port);
        return 2;
    }
    stopped = CreateEventA(NULL, TRUE, FALSE, NULL);
    (void)SetConsoleCtrlHandler(on_console, TRUE);

    printf("listening on %s:%u\n", demo_opt.host, (unsigned)wamp1_server_port(wamp1_app_server(&demo_app)));
    fflush(stdout);

    wamp1_app_run(&demo_app); /* until Ctrl+C */
    wamp1_app_shutdown(&demo_app, 1500);
    wamp1_win32_free(&win);
    (void)VirtualFree(mem, 0, MEM_RELEASE);
    if (stopped) (void)SetEvent(stopped);
    return 0;
}
