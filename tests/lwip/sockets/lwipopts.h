/* lwipopts.h for the socket-API test built from lwIP's source: an OS (NO_SYS=0, the unix
   port's pthread sys_arch), sockets with both lwip_select() and lwip_poll(), IPv4 and IPv6,
   lwIP's own loopback interface (127.0.0.1 and ::1). Socket headers come from the C
   library, as in Debian's liblwip (LWIP_SOCKET_EXTERNAL_HEADERS). */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

#define NO_SYS                      0
#define LWIP_SOCKET                 1
#define LWIP_NETCONN                1
#define LWIP_COMPAT_SOCKETS         0
#define LWIP_SOCKET_OFFSET          1
#define LWIP_SOCKET_SELECT          1
#define LWIP_SOCKET_POLL            1
#define LWIP_SOCKET_OPEN_COUNT      0
#define MEMP_NUM_NETCONN            48

#define LWIP_SOCKET_EXTERNAL_HEADERS            1
#define LWIP_SOCKET_EXTERNAL_HEADER_SOCKETS_H   "posix/sockets.h"
#define LWIP_SOCKET_EXTERNAL_HEADER_INET_H      "posix/inet.h"

#define MEM_LIBC_MALLOC             1
#define MEMP_MEM_MALLOC             1
#define MEM_USE_POOLS               0
#if defined __LP64__
#define MEM_ALIGNMENT               8
#else
#define MEM_ALIGNMENT               4
#endif

#define LWIP_IPV4                   1
#define LWIP_IPV6                   1
#define LWIP_ARP                    0
#define LWIP_ETHERNET               0
#define LWIP_ICMP                   1
#define LWIP_ICMP6                  1
#define LWIP_IPV6_MLD               0
#define LWIP_IPV6_AUTOCONFIG        0
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0
#define LWIP_RAW                    0
#define LWIP_UDP                    1
#define LWIP_TCP                    1
#define LWIP_DHCP                   0
#define LWIP_DNS                    0
#define LWIP_IGMP                   0

#define LWIP_NETIF_LOOPBACK         1
#define LWIP_HAVE_LOOPIF            1
#define LWIP_LOOPBACK_MAX_PBUFS     0

#define TCP_MSS                     1460
#define TCP_WND                     (40 * TCP_MSS)
#define TCP_SND_BUF                 (40 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
#define LWIP_WND_SCALE              0
#define LWIP_TCP_KEEPALIVE          1
#define LWIP_SO_RCVTIMEO            1
#define LWIP_SO_SNDTIMEO            1
#define SO_REUSE                    1
#define DEFAULT_UDP_RECVMBOX_SIZE   16
#define DEFAULT_TCP_RECVMBOX_SIZE   64
#define DEFAULT_ACCEPTMBOX_SIZE     16
#define TCPIP_MBOX_SIZE             256

#define LWIP_STATS                  0
#define LWIP_NOASSERT_ON_ERROR      1

#define LWIP_TCPIP_CORE_LOCKING     1
void sys_check_core_locking(void);
#define LWIP_ASSERT_CORE_LOCKED()   sys_check_core_locking()
void sys_mark_tcpip_thread(void);
#define LWIP_MARK_TCPIP_THREAD()    sys_mark_tcpip_thread()
void sys_lock_tcpip_core(void);
#define LOCK_TCPIP_CORE()           sys_lock_tcpip_core()
void sys_unlock_tcpip_core(void);
#define UNLOCK_TCPIP_CORE()         sys_unlock_tcpip_core()

#endif /* LWIPOPTS_H */
