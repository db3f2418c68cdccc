/* lan9118.c - lwIP netif driver for the SMSC LAN9118 Ethernet controller (32-bit bus, PIO;
   the receive interrupt wakes the main loop, the loop moves the frames), written from the controller's register description: the FIFO ports at 0x00
   (receive data) and 0x20 (transmit data), the status FIFOs at 0x40 and 0x48, the system
   control registers from 0x50, the MAC's registers behind MAC_CSR_CMD/MAC_CSR_DATA and the
   PHY's behind the MAC's MII_ACC/MII_DATA.

       err_t ethernetif_init(struct netif *netif);   reset, MAC address, PHY, MAC on
       int   ethernetif_poll(struct netif *netif);   received frames to netif->input();
                                                     returns how many were taken

   (the names of ST's and NXP's lwIP templates, as examples/lwip/raw/main.c expects). Frames
   are moved a 32-bit word at a time; the controller holds them in its own 16 KiB of FIFO
   memory, so the driver needs no frame buffer of its own: a received frame goes straight
   into a pbuf from lwIP's pool, a sent one straight from lwIP's pbuf chain. */
#include "board.h"

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

#define LAN(off) (*(volatile uint32_t *)(BOARD_LAN9118_BASE + (off)))

#define RX_DATA_FIFO   LAN(0x00u)
#define TX_DATA_FIFO   LAN(0x20u)
#define RX_STATUS_FIFO LAN(0x40u)
#define TX_STATUS_FIFO LAN(0x48u)
#define ID_REV         LAN(0x50u)
#define IRQ_CFG        LAN(0x54u)
#define INT_STS        LAN(0x58u)
#define INT_EN         LAN(0x5Cu)
#define BYTE_TEST      LAN(0x64u)
#define RX_CFG         LAN(0x6Cu)
#define TX_CFG         LAN(0x70u)
#define HW_CFG         LAN(0x74u)
#define RX_FIFO_INF    LAN(0x7Cu)
#define TX_FIFO_INF    LAN(0x80u)
#define PMT_CTRL       LAN(0x84u)
#define FIFO_INT       LAN(0x68u)
#define MAC_CSR_CMD    LAN(0xA4u)
#define MAC_CSR_DATA   LAN(0xA8u)

#define BYTE_TEST_VALUE 0x87654321u
#define HW_CFG_SRST     (1u << 0)
#define PMT_CTRL_READY  (1u << 0)
#define TX_CFG_TX_ON    (1u << 1)
#define TX_CFG_TXSAO    (1u << 2)  /* the status FIFO may overrun: statuses are not read */
#define IRQ_CFG_EN     (1u << 8)
#define IRQ_CFG_POL    (1u << 4)   /* active high */
#define IRQ_CFG_TYPE   (1u << 0)   /* push-pull */
#define INT_RSFL       (1u << 3)   /* RX status FIFO above its level: a frame is in */
#define CSR_BUSY        (1u << 31)
#define CSR_READ        (1u << 30)

/* MAC registers (indexes behind MAC_CSR_CMD) */
#define MAC_CR      1u
#define MAC_ADDRH   2u
#define MAC_ADDRL   3u
#define MAC_MII_ACC 6u
#define MAC_MII_DATA 7u
#define MAC_CR_RXEN (1u << 2)
#define MAC_CR_TXEN (1u << 3)
#define MAC_CR_FDPX (1u << 20)
#define MII_BUSY    (1u << 0)
#define MII_WRITE   (1u << 1)
#define PHY_ADDR    1u     /* the internal PHY */

/* Receive status word */
#define RXS_LEN(s)     (((s) >> 16) & 0x3FFFu) /* frame length, CRC included */
#define RXS_ERROR      (1u << 15)
/* Transmit command words */
#define TXA_FIRST      (1u << 13)
#define TXA_LAST       (1u << 12)

#define SPIN_LIMIT 100000u

static int wait_clear(volatile uint32_t *reg, uint32_t bits) {
    uint32_t n;
    for (n = 0; n < SPIN_LIMIT; n++)
        if (!(*reg & bits)) return 0;
    return -1;
}

static uint32_t mac_read(uint32_t idx) {
    (void)wait_clear(&MAC_CSR_CMD, CSR_BUSY);
    MAC_CSR_CMD = CSR_BUSY | CSR_READ | idx;
    (void)wait_clear(&MAC_CSR_CMD, CSR_BUSY);
    return MAC_CSR_DATA;
}

static void mac_write(uint32_t idx, uint32_t v) {
    (void)wait_clear(&MAC_CSR_CMD, CSR_BUSY);
    MAC_CSR_DATA = v;
    MAC_CSR_CMD = CSR_BUSY | idx;
    (void)wait_clear(&MAC_CSR_CMD, CSR_BUSY);
}

static void phy_write(uint32_t reg, uint16_t v) {
    uint32_t n;
    for (n = 0; n < SPIN_LIMIT && (mac_read(MAC_MII_ACC) & MII_BUSY); n++) { }
    mac_write(MAC_MII_DATA, v);
    mac_write(MAC_MII_ACC, (PHY_ADDR << 11) | (reg << 6) | MII_WRITE | MII_BUSY);
}

/* lwIP's linkoutput: one frame from a pbuf chain, packed into words as it goes. */
static err_t lan_output(struct netif *netif, struct pbuf *p) {
    const struct pbuf *q;
    uint32_t w = 0, n = 0, len = p->tot_len, spins;
    (void)netif;
    if (len > 1514u) return ERR_BUF;
    /* room for the frame and its two command words (TDFREE, bytes) */
    for (spins = 0; (TX_FIFO_INF & 0xFFFFu) < len + 8u; spins++)
        if (spins == SPIN_LIMIT) return ERR_IF;
    TX_DATA_FIFO = TXA_FIRST | TXA_LAST | len;
    TX_DATA_FIFO = (len << 16) | len; /* packet tag (the length), packet length */
    for (q = p; q; q = q->next) {
        const uint8_t *b = (const uint8_t *)q->payload;
        uint16_t i;
        for (i = 0; i < q->len; i++) {
            w |= (uint32_t)b[i] << (8u * n);
            if (++n == 4u) {
                TX_DATA_FIFO = w;
                w = 0;
                n = 0;
            }
        }
    }
    if (n) TX_DATA_FIFO = w;
    return ERR_OK;
}

err_t ethernetif_init(struct netif *netif) {
    uint32_t lo, hi;
    if (BYTE_TEST != BYTE_TEST_VALUE) return ERR_IF; /* no controller, or the bus is wrong */
    HW_CFG = HW_CFG_SRST;
    if (wait_clear(&HW_CFG, HW_CFG_SRST) != 0) return ERR_IF;
    {
        uint32_t n;
        for (n = 0; n < SPIN_LIMIT && !(PMT_CTRL & PMT_CTRL_READY); n++) { }
        if (!(PMT_CTRL & PMT_CTRL_READY)) return ERR_IF;
    }
    INT_EN = 0;
    INT_STS = 0xFFFFFFFFu;

    /* the address the controller loaded from its EEPROM (QEMU: -nic ...,mac=) */
    lo = mac_read(MAC_ADDRL);
    hi = mac_read(MAC_ADDRH);
    netif->hwaddr_len = ETH_HWADDR_LEN;
    netif->hwaddr[0] = (u8_t)lo;
    netif->hwaddr[1] = (u8_t)(lo >> 8);
    netif->hwaddr[2] = (u8_t)(lo >> 16);
    netif->hwaddr[3] = (u8_t)(lo >> 24);
    netif->hwaddr[4] = (u8_t)hi;
    netif->hwaddr[5] = (u8_t)(hi >> 8);

    /* PHY: advertise 10/100 half/full, restart autonegotiation */
    phy_write(4u, 0x01E1u);
    phy_write(0u, 0x1200u);

    RX_CFG = 0;                          /* no offset, no end padding */
    TX_CFG = TX_CFG_TX_ON | TX_CFG_TXSAO;
    mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX); /* own address + broadcast */

    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->mtu = 1500;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    netif->output = etharp_output;
    netif->linkoutput = lan_output;
    (void)ID_REV;

    /* an interrupt as soon as one frame's status is in (RX status level 0, TX levels as
       after reset); the handler only masks it, ethernetif_poll() takes the frames */
    FIFO_INT = 0x48000000u;
    IRQ_CFG = IRQ_CFG_EN | IRQ_CFG_POL | IRQ_CFG_TYPE;
    INT_EN = INT_RSFL;
    board_irq_enable(BOARD_LAN9118_IRQ);
    return ERR_OK;
}

/* Discards the rest of the current frame: `words` words still in the data FIFO. (The
   controller can also fast-forward with RX_DP_CTRL; reading is as quick for small frames
   and the same everywhere.) */
static void rx_skip(uint32_t words) {
    while (words--) (void)RX_DATA_FIFO;
}

/* The controller's interrupt: wakes the loop from WFI. Masked here, unmasked by
   ethernetif_poll() once it has looked at the FIFO. */
void LAN9118_IRQHandler(void) {
    INT_EN = 0;
}

int ethernetif_poll(struct netif *netif) {
    int frames = 0;
    INT_STS = INT_RSFL; /* a frame that comes in from here on raises it again */
    while (frames < 8 && ((RX_FIFO_INF >> 16) & 0xFFu) != 0) {
        uint32_t st = RX_STATUS_FIFO, flen = RXS_LEN(st), words = (flen + 3u) / 4u;
        struct pbuf *p = NULL, *q;
        uint32_t i, qoff = 0;
        frames++;
        board_random_stir(st);
        if (!(st & RXS_ERROR) && flen >= 18u && flen <= 1518u)
            p = pbuf_alloc(PBUF_RAW, (u16_t)(flen - 4u), PBUF_POOL);
        if (!p) {
            rx_skip(words);
            continue;
        }
        /* the payload, then the CRC: bytes past tot_len are dropped */
        q = p;
        for (i = 0; i < words; i++) {
            uint32_t w = RX_DATA_FIFO, k;
            for (k = 0; k < 4u && q; k++) {
                ((uint8_t *)q->payload)[qoff++] = (uint8_t)(w >> (8u * k));
                if (qoff == q->len) {
                    q = q->next;
                    qoff = 0;
                }
            }
        }
        if (netif->input(p, netif) != ERR_OK) pbuf_free(p);
    }
    INT_EN = INT_RSFL;
    return frames;
}
