/* lwipopts.h for the raw-API test: bare metal (NO_SYS=1), TCP over IPv4 on lwIP's own
   loopback interface (127.0.0.1), no socket layer. Generous pools: the test pushes 64 KiB
   messages through several connections at once. */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0

#define MEM_ALIGNMENT               8
#define MEM_SIZE                    (2 * 1024 * 1024)
#define MEMP_NUM_PBUF               64
#define MEMP_NUM_TCP_PCB            48
#define MEMP_NUM_TCP_PCB_LISTEN     8
#define MEMP_NUM_TCP_SEG            1024
#define PBUF_POOL_SIZE              64

#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    0
#define LWIP_ETHERNET               0
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
#define LWIP_UDP                    0
#define LWIP_TCP                    1
#define LWIP_DHCP                   0
#define LWIP_AUTOIP                 0
#define LWIP_DNS                    0
#define LWIP_IGMP                   0
#define IP_REASSEMBLY               0
#define IP_FRAG                     0

#define LWIP_NETIF_LOOPBACK         1
#define LWIP_HAVE_LOOPIF            1
#define LWIP_LOOPBACK_MAX_PBUFS     0

#define TCP_MSS                     1460
#define TCP_WND                     (16 * TCP_MSS)
#define TCP_SND_BUF                 (16 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_LISTEN_BACKLOG          0
#define LWIP_TCP_KEEPALIVE          0
#define SO_REUSE                    1
#define LWIP_WND_SCALE              0

#define LWIP_STATS                  0
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1

#endif /* LWIPOPTS_H */
