/* lwipopts.h of the size images, socket API: an RTOS (NO_SYS=0, stub sys_arch), IPv4, TCP,
   UDP and loopback for the server's wake-up pair, lwip_poll(), pools for 4 connections. */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

#define NO_SYS                      0
#define LWIP_SOCKET                 1
#define LWIP_NETCONN                1
#define LWIP_COMPAT_SOCKETS         0
#define LWIP_SOCKET_POLL            1
#define LWIP_SOCKET_SELECT          0
#define LWIP_TCPIP_CORE_LOCKING     1

#define MEM_ALIGNMENT               4
#define MEM_SIZE                    (8 * 1024)
#define MEMP_NUM_NETCONN            10
#define MEMP_NUM_PBUF               16
#define MEMP_NUM_TCP_PCB            8
#define MEMP_NUM_TCP_PCB_LISTEN     2
#define MEMP_NUM_UDP_PCB            2
#define MEMP_NUM_TCP_SEG            24
#define PBUF_POOL_SIZE              8

#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    0
#define LWIP_ETHERNET               0
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

#define TCPIP_MBOX_SIZE             16
#define DEFAULT_UDP_RECVMBOX_SIZE   4
#define DEFAULT_TCP_RECVMBOX_SIZE   8
#define DEFAULT_ACCEPTMBOX_SIZE     4

#define LWIP_STATS                  0
#define LWIP_NOASSERT               1

/* Debian's lwIP source has sockets.c set and read sa_len through these macros, which its
   Hurd headers define; with lwIP's own socket headers they are: */
#define IP4ADDR_SOCKADDR_SET_LEN(sin) ((sin)->sin_len = (u8_t)sizeof(struct sockaddr_in))
#define IP6ADDR_SOCKADDR_SET_LEN(sin6) ((sin6)->sin6_len = (u8_t)sizeof(struct sockaddr_in6))
#define IPADDR_SOCKADDR_GET_LEN(addr) ((socklen_t)(addr)->sa.sa_len)

#endif /* LWIPOPTS_H */
