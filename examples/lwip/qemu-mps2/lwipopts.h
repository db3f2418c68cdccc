/* lwipopts.h of the QEMU mps2-an386 firmware: examples/lwip/raw/lwipopts.h (bare metal,
   NO_SYS=1, Ethernet, IPv4, TCP, pools for the default embedded configuration's 4
   connections), with the timers and checks the firmware leans on spelled out. */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

#define NO_SYS                      1
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define SYS_LIGHTWEIGHT_PROT        0

#define MEM_ALIGNMENT               4
#define MEM_SIZE                    (12 * 1024)
#define MEMP_NUM_PBUF               16
#define MEMP_NUM_TCP_PCB            8      /* 4 connections, 2 being refused, TIME_WAIT */
#define MEMP_NUM_TCP_PCB_LISTEN     1
#define MEMP_NUM_TCP_SEG            24
#define PBUF_POOL_SIZE              12

#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
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
