/* lwipopts.h of the size images, raw API: bare metal (NO_SYS=1), IPv4, TCP, a netif
   without Ethernet (stub driver), pools for 4 connections. */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

#define NO_SYS                      1
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define SYS_LIGHTWEIGHT_PROT        1

#define MEM_ALIGNMENT               4
#define MEM_SIZE                    (8 * 1024)
#define MEMP_NUM_PBUF               16
#define MEMP_NUM_TCP_PCB            8
#define MEMP_NUM_TCP_PCB_LISTEN     2
#define MEMP_NUM_TCP_SEG            24
#define PBUF_POOL_SIZE              8

#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    0
#define LWIP_ETHERNET               0
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
#define LWIP_UDP                    0
#define LWIP_TCP                    1
#define LWIP_DHCP                   0
#define LWIP_DNS                    0
#define LWIP_IGMP                   0

#define TCP_MSS                     1460
#define TCP_WND                     (2 * TCP_MSS)
#define TCP_SND_BUF                 (2 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
#define LWIP_TCP_KEEPALIVE          0

#define LWIP_STATS                  0
#define LWIP_NOASSERT               1

#endif /* LWIPOPTS_H */
