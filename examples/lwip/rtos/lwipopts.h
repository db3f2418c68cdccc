/* lwipopts.h for examples/lwip/rtos: an RTOS (NO_SYS=0) with lwIP's socket API, IPv4,
   lwip_poll() and lwip_select(), and loopback (the server's wake-up socket pair uses it). */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

#define NO_SYS                      0
#define LWIP_SOCKET                 1
#define LWIP_NETCONN                1
#define LWIP_COMPAT_SOCKETS         0
#define LWIP_SOCKET_POLL            1
#define LWIP_SOCKET_SELECT          1
#define LWIP_TCPIP_CORE_LOCKING     1

#define MEM_ALIGNMENT               4
#define MEM_SIZE                    (16 * 1024)
#define MEMP_NUM_NETCONN            10     /* listener, 4 connections, 2 refused, wake pair */
#define MEMP_NUM_TCP_PCB            8
#define MEMP_NUM_TCP_PCB_LISTEN     1
#define MEMP_NUM_UDP_PCB            2
#define MEMP_NUM_TCP_SEG            24
#define MEMP_NUM_PBUF               16
#define PBUF_POOL_SIZE              12

#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
#define LWIP_UDP                    1
#define LWIP_TCP                    1
#define LWIP_DHCP                   0
#define LWIP_DNS                    0
#define LWIP_IGMP                   0
#define LWIP_NETIF_LOOPBACK         1

#define TCP_MSS                     1460
#define TCP_WND                     (2 * TCP_MSS)
#define TCP_SND_BUF                 (2 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)

#define TCPIP_THREAD_STACKSIZE      1024
#define TCPIP_THREAD_PRIO           3
#define TCPIP_MBOX_SIZE             16
#define DEFAULT_THREAD_STACKSIZE    1024
#define DEFAULT_UDP_RECVMBOX_SIZE   4
#define DEFAULT_TCP_RECVMBOX_SIZE   8
#define DEFAULT_ACCEPTMBOX_SIZE     4

#define LWIP_STATS                  0
#define LWIP_NOASSERT               1

#endif /* LWIPOPTS_H */
