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

static int usage(const char *msg, const char *arg) {
    fprintf(stderr, "echo: %s%s%s (usage: echo [--host ADDR] [--port N] [--max-message BYTES] "
                    "[--max-connections N])\n", msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
    char *end;
    unsigned long v;
    if (!s || !*s || *s == '-') return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    static wamp1_win32 win;
    wamp1_port port;
    wamp1_config cfg;
    const char *host = "127.0.0.1";
    unsigned long port_no = 9001, max_message = 16777216, max_conns = 64;
    size_t mem_size;
    void *mem;
    int i;

    /* "\n" stays "\n": the listening line is read by programs */
    (void)_setmode(_fileno(stdout), _O_BINARY);
    (void)_setmode(_fileno(stderr), _O_BINARY);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--host") == 0 && v) { host = v; i++; }
        else if (strcmp(a, "--port") == 0) {
            if (parse_uint(v, 65535, &port_no) != 0) return usage("bad --port", v);
            i++;
        } else if (strcmp(a, "--max-message") == 0) {
            if (parse_uint(v, 1ul << 30, &max_message) != 0 || max_message == 0)
                return usage("bad --max-message", v);
            i++;
        } else if (strcmp(a, "--max-connections") == 0) {
            if (parse_uint(v, WAMP1_MAX_CONNECTIONS, &max_conns) != 0 || max_conns == 0)
                return usage("bad --max-connections", v);
            i++;
        } else return usage("unknown option", a);
    }

    if (wamp1_win32_init(&win, &port) != 0) return usage("cannot start Winsock", NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.host = host;
    cfg.listen_port = (uint16_t)port_no;
    cfg.max_connections = (uint32_t)max_conns;
    /* room for the largest message, its frame header and the kept upgrade request */
    cfg.recv_buffer_size = (uint32_t)(max_message + 256 + WAMP1_MAX_HEADER_SIZE);
    /* the largest echo plus room for the pongs and close frames that may wait before it */
    cfg.send_buffer_size = (uint32_t)(max_message + 16384);
    cfg.max_message_size = (uint32_t)max_message;
    cfg.cb.on_message = on_message;
    cfg.cb.on_error = on_error;
    /* Committed, not touched: Windows backs a page with memory only once it is used. */
    mem_size = wamp1_server_memory_size(&cfg);
    mem = VirtualAlloc(NULL, mem_size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!mem) return usage("cannot reserve buffer memory (lower --max-message or --max-connections)", NULL);
    cfg.memory = mem;
    cfg.memory_size = mem_size;
    if (wamp1_server_init(&server, &cfg) != 0) return usage("bad configuration", NULL);
    if (wamp1_server_listen(&server) != 0) {
        fprintf(stderr, "echo: cannot listen on %s:%lu\n", host, port_no);
        return 2;
    }

    stopped = CreateEventA(NULL, TRUE, FALSE, NULL);
    (void)SetConsoleCtrlHandler(on_console, TRUE);

    printf("listening on %s:%u\n", host, (unsigned)wamp1_server_port(&server));
    fflush(stdout);

    wamp1_server_run(&server);
    wamp1_server_shutdown(&server, 1500);
    wamp1_win32_free(&win);
    (void)VirtualFree(mem, 0, MEM_RELEASE);
    if (stopped) (void)SetEvent(stopped);
    return 0;
}
