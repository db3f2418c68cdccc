/* echo_options.h - the command line of the echo server, shared by the POSIX and Windows
   builds (examples/posix/echo.c, examples/windows/echo.c). Include after wamp1.h, <stdio.h>,
   <stdlib.h>, <string.h> and <errno.h>:

       echo_options o;
       int rc = echo_parse_options(argc, argv, &o);
       if (rc != 0) return rc < 0 ? 0 : rc;    (-1: --help was printed; 2: a bad option)

   A bad option prints one line on stderr (with the allowed values) and gives 2. */
#ifndef ECHO_OPTIONS_H
#define ECHO_OPTIONS_H

typedef struct echo_options {
    const char *host;
    unsigned long port, max_message, max_conns;
} echo_options;

static int echo_usage(const char *msg, const char *arg) {
    fprintf(stderr, "echo: %s%s%s (usage: echo [--host ADDR] [--port N] [--max-message BYTES] "
                    "[--max-connections N]; echo --help)\n", msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

static int echo_help(void) {
    printf("usage: echo [--host ADDR] [--port N] [--max-message BYTES] [--max-connections N]\n"
           "A WebSocket echo server: every message comes back as it was sent.\n"
           "  --host ADDR           address to listen on (default 127.0.0.1; :: for IPv6)\n"
           "  --port N              0 to 65535, 0 for any free port (default 9001)\n"
           "  --max-message BYTES   1 to 1073741824 (default 16777216)\n"
           "  --max-connections N   1 to %lu (default 64)\n"
           "  --help                this text\n"
           "The first line on standard output is \"listening on ADDR:PORT\"; SIGINT or SIGTERM stop it.\n",
           (unsigned long)WAMP1_MAX_CONNECTIONS);
    return -1;
}

#include "options_util.h"

static int echo_parse_options(int argc, char **argv, echo_options *o) {
    int i;
    o->host = "127.0.0.1";
    o->port = 9001;
    o->max_message = 16777216;
    o->max_conns = 64;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return echo_help();
        if (strcmp(a, "--host") == 0 && v) { o->host = v; i++; }
        else if (strcmp(a, "--port") == 0) {
            if (options_parse_uint(v, 65535, &o->port) != 0) return echo_usage("--port takes 0 to 65535", v);
            i++;
        } else if (strcmp(a, "--max-message") == 0) {
            if (options_parse_uint(v, 1ul << 30, &o->max_message) != 0 || o->max_message == 0)
                return echo_usage("--max-message takes 1 to 1073741824", v);
            i++;
        } else if (strcmp(a, "--max-connections") == 0) {
            if (options_parse_uint(v, WAMP1_MAX_CONNECTIONS, &o->max_conns) != 0 || o->max_conns == 0) {
                char what[64];
                snprintf(what, sizeof what, "--max-connections takes 1 to %lu", (unsigned long)WAMP1_MAX_CONNECTIONS);
                return echo_usage(what, v);
            }
            i++;
        } else return echo_usage("unknown option", a);
    }
    return 0;
}

#endif /* ECHO_OPTIONS_H */
