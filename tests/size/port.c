/* port.c - the lwIP port in an object of its own (its functions are static in the header). */
#include "wamp1.h"
#ifdef FW_SOCKETS
#include "port/wamp1_lwip_sockets.h"
static wamp1_lwip_sockets port_state;
#else
#include "port/wamp1_lwip_raw.h"
static wamp1_lwip_raw port_state;
#endif
#include "fw.h"

wamp1_port fw_port;

void fw_port_setup(void) {
#ifdef FW_SOCKETS
    (void)wamp1_lwip_sockets_init(&port_state, &fw_port);
#else
    wamp1_lwip_raw_init(&port_state, &fw_port);
#endif
}
