/* inst.c - the server instance: its RAM counts as the library's. */
#include "fw.h"

#ifndef WAMP1_NO_WAMP
wamp1_app fw_app;
#else
wamp1_server fw_srv;
#endif
