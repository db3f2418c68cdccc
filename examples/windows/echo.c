/* echo: a plain WebSocket echo server on wamp1.h (no WAMP), Windows build.

   echo-win.exe [--host ADDR] [--port N] [--max-message BYTES] [--max-connections N]

   Echoes every text message as text and every binary message as binary, whole. Same options
   and behaviour as examples/posix/echo.c; Ctrl+C, Ctrl+Break and closing the console end it
   cleanly (every WebSocket gets close 1001). Build: see examples/windows/README.md. */
#include "../../port/wamp1_win32.h"
#define WAMP1_MAX_CONNECTIONS 256
#define WAMP1_STATIC_MEMORY_SIZE 0
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

static wamp1_server server;
static HANDLE stopped; /* set once the server has shut down */

static void on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user) {
    (void)user;
    (void)wamp1_conn_send(c, op, data, len);
}

static void on_error(wamp1_conn *c, wamp1_error err, const char *reason, void *user) {
    (void)c;
    (void)user;
    if (getenv("WAMP1_ECHO_VERBOSE")) fprintf(stderr, "echo: error %d: %s\n", (int)err, reason);
}

/* Runs on a thread of its own. For a closed console, logoff or shutdown the process ends when
   the handler returns, so it waits for the shutdown to finish first. */
static BOOL WINAPI on_console(DWORD type) {
    wamp1_server_stop(&server);
    if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT)
        (void)WaitForSingleObject(stopped, 4000);
    return TRUE;
}

#include "../echo_options.h"

int main(int argc, char **argv) {
    static wamp1_win32 win;
    wamp1_port port;
    wamp1_config cfg;
    echo_options o;
    size_t mem_size;
    void *mem;
    int i;

    /* "\n" stays "\n": the listening line is read by programs */
    (void)_setmode(_fileno(stdout), _O_BINARY);
    (void)_setmode(_fileno(stderr), _O_BINARY);
    i = echo_parse_options(argc, argv, &o);
    if (i != 0) return i < 0 ? 0 : i; /* -1: --help */

    if (wamp1_win32_init(&win, &port) != 0) return echo_usage("cannot start Winsock", NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.host = o.host;
    cfg.listen_port = (uint16_t)o.port;
    cfg.max_connections = (uint32_t)o.max_conns;
    /* room for the largest message, its frame header and the kept upgrade request */
    cfg.recv_buffer_size = (uint32_t)(o.max_message + 256 + WAMP1_MAX_HEADER_SIZE);
    /* the largest echo plus room for the pongs and close frames that may wait before it */
    cfg.send_buffer_size = (uint32_t)(o.max_message + 16384);
    cfg.max_message_size = (uint32_t)o.max_message;
    cfg.cb.on_message = on_message;
    cfg.cb.on_error = on_error;
    /* Committed, not touched: Windows backs a page with memory only once it is used. */
    mem_size = wamp1_server_memory_size(&cfg);
    mem = VirtualAlloc(NULL, mem_size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!mem) return echo_usage("cannot reserve buffer memory (lower --max-message or --max-connections)", NULL);
    cfg.memory = mem;
    cfg.memory_size = mem_size;
    if (wamp1_server_init(&server, &cfg) != 0) return echo_usage("bad configuration", NULL);
    if (wamp1_server_listen(&server) != 0) {
        fprintf(stderr, "echo: cannot listen on %s:%lu\n", o.host, o.port);
        return 2;
    }

    stopped = CreateEventA(NULL, TRUE, FALSE, NULL);
    (void)SetConsoleCtrlHandler(on_console, TRUE);

    printf("listening on %s:%u\n", o.host, (unsigned)wamp1_server_port(&server));
    fflush(stdout);

    wamp1_server_run(&server);
    wamp1_server_shutdown(&server, 1500);
    wamp1_win32_free(&win);
    (void)VirtualFree(mem, 0, MEM_RELEASE);
    if (stopped) (void)SetEvent(stopped);
    return 0;
}
