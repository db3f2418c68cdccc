/* fw_main.c - the firmware image `make size` measures: lwIP brought up on a stub netif, the
   server set up, the poll loop. With FW_BASELINE the same main makes no library call: the
   difference between the two images is what the library costs.

   Raw API (NO_SYS=1): one loop polls the driver, lwIP's timers and the server.
   Socket API (FW_SOCKETS, NO_SYS=0): tcpip_init(), the server in a task of its own; its
   baseline runs a plain socket echo in that task instead, so that both images use lwIP's
   socket layer. */
#include "fw.h"

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#ifdef FW_SOCKETS
#include "lwip/tcpip.h"
#endif

static struct netif nif;

static void fw_netif_add(void) {
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, 10, 0, 0, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 0, 0, 1);
#ifdef FW_SOCKETS
    netif_add(&nif, &ip, &mask, &gw, NULL, fw_netif_init, tcpip_input);
#else
    netif_add(&nif, &ip, &mask, &gw, NULL, fw_netif_init, ip_input);
#endif
    netif_set_default(&nif);
    netif_set_up(&nif);
    netif_set_link_up(&nif);
}

#ifndef FW_BASELINE
#ifndef WAMP1_NO_WAMP
/* One procedure and one topic pattern (the default broker): a minimal application. */
static wamp1_call_status rpc_uptime(wamp1_call *call, void *user) {
    (void)user;
    wamp1_jw_int(wamp1_call_result_begin(call), (int64_t)sys_now());
    (void)wamp1_call_result_end(call);
    return WAMP1_CALL_OK;
}
static const wamp1_handler h_uptime = {rpc_uptime, 0, 0, 0, 0}, h_topic = {0, 0, 0, 0, 0};
#ifdef FW_FILES
static wamp1_session_provider sessions;
#endif

static void fw_server_setup(void) {
    wamp1_app_config cfg;
    fw_port_setup();
    memset(&cfg, 0, sizeof cfg);
    cfg.server.port = &fw_port;
    cfg.server.host = "0.0.0.0";
    cfg.server.listen_port = 8080;
    cfg.server.keepalive_ms = 30000;
#ifdef FW_FILES
    wamp1_php_files_provider(&sessions, "/sessions");
    cfg.server.sessions = &sessions;
#endif
    if (wamp1_app_init(&fw_app, &cfg) != 0) return;
    (void)wamp1_app_add_rpc(&fw_app, "http://example.com/rpc#uptime", &h_uptime);
    (void)wamp1_app_add_topic(&fw_app, "http://example.com/topic/{name}", &h_topic);
    (void)wamp1_app_listen(&fw_app);
}
#define FW_POLL(ms) (void)wamp1_app_poll(&fw_app, ms)
#else
/* The plain WebSocket server: an echo. */
static void on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *data, size_t len, void *user) {
    (void)user;
    (void)wamp1_conn_send(c, op, data, len);
}

static void fw_server_setup(void) {
    wamp1_config cfg;
    fw_port_setup();
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &fw_port;
    cfg.host = "0.0.0.0";
    cfg.listen_port = 8080;
    cfg.keepalive_ms = 30000;
    cfg.cb.on_message = on_message;
    if (wamp1_server_init(&fw_srv, &cfg) != 0) return;
    (void)wamp1_server_listen(&fw_srv);
}
#define FW_POLL(ms) (void)wamp1_server_poll(&fw_srv, ms)
#endif
#elif defined(FW_SOCKETS)
/* Baseline with the socket API in use (a plain echo), so that what lwIP's socket layer
   takes from the C library is not put down to the library. */
#include "lwip/sockets.h"
static void fw_server_setup(void) { }
static void fw_socket_echo(void) {
    struct sockaddr_in a;
    socklen_t al = (socklen_t)sizeof a;
    struct pollfd pf;
    char buf[64];
    int ls = lwip_socket(AF_INET, SOCK_STREAM, 0), s, one = 1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = lwip_htons(8080);
    (void)lwip_setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lwip_bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || lwip_listen(ls, 4) != 0) return;
    (void)lwip_getsockname(ls, (struct sockaddr *)&a, &al);
    (void)lwip_fcntl(ls, F_SETFL, O_NONBLOCK);
    for (;;) {
        long n;
        pf.fd = ls;
        pf.events = POLLIN;
        pf.revents = 0;
        if (lwip_poll(&pf, 1, -1) <= 0) continue;
        s = lwip_accept(ls, NULL, NULL);
        if (s < 0) continue;
        (void)lwip_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        while ((n = (long)lwip_recv(s, buf, sizeof buf, 0)) > 0) (void)lwip_send(s, buf, (size_t)n, MSG_DONTWAIT);
        (void)lwip_shutdown(s, SHUT_WR);
        (void)lwip_close(s);
    }
}
#define FW_POLL(ms) fw_socket_echo()
#else
#define fw_server_setup() ((void)0)
#define FW_POLL(ms) fw_idle()
#endif

#ifdef FW_SOCKETS
static void server_task(void *arg) {
    (void)arg;
    fw_server_setup();
    for (;;) FW_POLL(-1); /* blocks in lwip_poll() */
}

static void tcpip_ready(void *arg) {
    (void)arg;
    fw_netif_add();
    sys_thread_new("wamp1", server_task, NULL, 2048, 1);
}

int main(void) {
    tcpip_init(tcpip_ready, NULL);
    for (;;) fw_netif_poll(&nif); /* stands for the driver's receive task */
}
#else
int main(void) {
    lwip_init();
    fw_netif_add();
    fw_server_setup();
    for (;;) {
        fw_netif_poll(&nif);
        sys_check_timeouts();
        FW_POLL(0);
    }
}
#endif
