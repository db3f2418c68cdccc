/* fw.h - what the objects of a size image share. The configuration comes from the command
   line (tests/size/run.sh): the WAMP1_* macros of the default embedded configuration, and
   FW_SOCKETS (socket API, NO_SYS=0) or not (raw API, NO_SYS=1), FW_BASELINE (no library
   calls), FW_FILES (PHP session files through stdio). */
#ifndef FW_H
#define FW_H

#include "wamp1.h"
#include "lwip/netif.h"

extern wamp1_port fw_port;
void fw_port_setup(void);            /* port.c: the port's init */

#ifndef WAMP1_NO_WAMP
extern wamp1_app fw_app;             /* inst.c */
#else
extern wamp1_server fw_srv;
#endif

/* fw_platform.c: the board */
err_t fw_netif_init(struct netif *n);
void fw_netif_poll(struct netif *n);
void fw_idle(void);

#endif /* FW_H */
