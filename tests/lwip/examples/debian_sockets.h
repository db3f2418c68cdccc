/* Forced into lwIP's own objects of the RTOS example's build (tests/lwip/run.sh examples-run):
   Debian's lwIP source is patched so that src/api/sockets.c takes the sockaddr length macros
   from its external POSIX headers; with lwIP's own socket headers, as the example uses them,
   they are missing. These are upstream lwIP's behaviour (its struct sockaddr has sa_len). */
#define IP4ADDR_SOCKADDR_SET_LEN(sin) ((sin)->sin_len = sizeof(struct sockaddr_in))
#define IPADDR_SOCKADDR_GET_LEN(addr) ((addr)->sa.sa_len)
