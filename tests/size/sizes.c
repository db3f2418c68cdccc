/* sizes.c - compiled (not linked) for each target: every array's size is a figure the size
   report reads back with nm. */
#include "wamp1.h"
#ifdef FW_SOCKETS
#include "port/wamp1_lwip_sockets.h"
char sz_port_state[sizeof(wamp1_lwip_sockets)];
#else
#include "port/wamp1_lwip_raw.h"
char sz_port_state[sizeof(wamp1_lwip_raw)];
char sz_port_slot[sizeof(wamp1_lwip_raw_sock)];
char n_port_slots[WAMP1_LWIP_RAW_SOCKETS];
#endif

char sz_conn[sizeof(wamp1_conn)];
char sz_pollfd[sizeof(wamp1_pollfd) + sizeof(uint16_t)]; /* pfds[] and pfd_conn[] entries */
char sz_server[sizeof(wamp1_server)];
char sz_attr[sizeof(wamp1__attr)];
char n_attrs[WAMP1_MAX_ATTRS];
char n_conns[WAMP1_MAX_CONNECTIONS];
#if WAMP1_STATIC_MEMORY_SIZE > 0
char sz_buffers[WAMP1_STATIC_MEMORY_SIZE];
#endif
#ifndef WAMP1_NO_WAMP
char sz_app[sizeof(wamp1_app)];
char sz_wconn[sizeof(wamp1__wconn)];
char sz_topic[sizeof(wamp1__topic)];
char n_topics[WAMP1_MAX_TOPICS];
char sz_sub[sizeof(wamp1__sub)];
char n_subs[WAMP1_MAX_SUBSCRIPTIONS];
char sz_prefix[sizeof(wamp1__prefix)];
char n_prefixes[WAMP1_MAX_PREFIXES];
char sz_pending[sizeof(wamp1__pending)];
char n_pending[WAMP1_MAX_PENDING_CALLS];
char sz_tok[sizeof(wamp1_json_tok)];
char n_toks[WAMP1_JSON_TOKENS];
char sz_qslot[sizeof(wamp1__qslot)];
char n_qslots[WAMP1_QUEUE_SLOTS];
char sz_routes[sizeof(((wamp1_app *)0)->routes) + sizeof(((wamp1_app *)0)->handlers) + sizeof(((wamp1_app *)0)->mw)];
char sz_uris[sizeof(((wamp1_app *)0)->uri) + sizeof(((wamp1_app *)0)->uri2)];
char sz_app_cfg[sizeof(((wamp1_app *)0)->cfg)]; /* what the app keeps of wamp1_app_config */
#endif
char sz_cfg[sizeof(wamp1_config)];
char sz_stats[sizeof(wamp1_stats)];
#if WAMP1_REJECT_SLOTS > 0
char sz_rejects[sizeof(((wamp1_server *)0)->rejects)];
#endif
