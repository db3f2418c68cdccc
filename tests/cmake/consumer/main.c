/* The packaging tests' consumer: wamp1.h and the POSIX port from wherever the build system
   found them; an echo server on 127.0.0.1 (an ephemeral port) answers one handshake of this
   same program with 101. Prints "consumer: ok" and exits 0, else says what failed. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#define WAMP1_IMPLEMENTATION
#include "wamp1.h"
#include "port/wamp1_posix.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static wamp1_server server;

int main(void) {
    static wamp1_posix posix;
    wamp1_port port;
    wamp1_config cfg;
    struct sockaddr_in a;
    char buf[512];
    size_t got = 0;
    int fd, i;
    static const char req[] =
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    buf[0] = 0;
    if (wamp1_posix_init(&posix, &port) != 0) return puts("consumer: wamp1_posix_init failed"), 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.host = "127.0.0.1";
    cfg.listen_port = 0;
    if (wamp1_server_init(&server, &cfg) != 0 || wamp1_server_listen(&server) != 0)
        return puts("consumer: cannot listen"), 1;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(wamp1_server_port(&server));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return puts("consumer: connect failed"), 1;
    if (send(fd, req, sizeof req - 1, 0) != (ssize_t)(sizeof req - 1)) return puts("consumer: send failed"), 1;
    for (i = 0; i < 200 && !strstr(buf, "\r\n\r\n"); i++) {
        ssize_t n;
        (void)wamp1_server_poll(&server, 10);
        n = recv(fd, buf + got, sizeof buf - 1 - got, MSG_DONTWAIT);
        if (n > 0) got += (size_t)n;
        buf[got] = 0;
    }
    close(fd);
    if (strncmp(buf, "HTTP/1.1 101", 12) != 0 || !strstr(buf, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
        return printf("consumer: no 101 with the right accept key: %.60s\n", buf), 1;
    puts("consumer: ok");
    return 0;
}
