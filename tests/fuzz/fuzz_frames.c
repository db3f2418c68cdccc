/* libFuzzer target: the WebSocket frame decoder, UTF-8 validation and close handling of an
 * echo server, through the test port, checked against a reference decoder.
 *
 *   bash tests/fuzz/run.sh 60        (or build by hand:)
 *   clang -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_frames.c -o build/fuzz/fuzz_frames
 *
 * Input: byte 0 the configuration (bit 0 drop_request, bits 1-2 the per-call I/O limit,
 * bit 3 the first frames ride in the handshake's write, bit 4 the client resets instead of
 * half-closing at the end), byte 1 the piece sizes, byte 2 the mode: odd = the rest is raw
 * bytes after the handshake; even = the rest is frame records, each
 *     [b0: FIN/RSV/opcode as sent] [ctl] [len: 1 byte, 2 when ctl & 0x20] [payload]
 * ctl bits 0-1 length form (0 shortest, 1 16-bit, 2 64-bit), bit 2 unmasked, bit 3 the
 * mask key follows (4 bytes, before the length), bit 4 declare one byte more than sent.
 *
 * The client stream (after a valid handshake) goes in in pieces, the server polled after
 * each. Every server frame must parse, be unmasked, and be exactly what a reference
 * decoder of the same stream expects: each complete valid message echoed, each ping
 * answered, and at the first violation one close frame with the right code (1002, 1007,
 * 1009, or the client's own code answering its close), then nothing more; the text
 * message "bye" makes the server close with 4000. After the client half-closes or resets,
 * the server closes the socket. */
#define WAMP1_MAX_CONNECTIONS 2
#define WAMP1_RECV_BUFFER_SIZE 4096
#define WAMP1_SEND_BUFFER_SIZE 40000
#define WAMP1_STATIC_MEMORY_SIZE 0
#define WAMP1_TESTPORT_SOCKETS 2
#define WAMP1_TESTPORT_BUFFER (64u * 1024u)
#include "fuzz_common.h"

#define MAX_MESSAGE 1000
#define MAX_FRAME 600

static wamp1_testport tp;
static wamp1_port port;
static wamp1_server srv;
static uint8_t mem[WAMP1_MAX_CONNECTIONS * (WAMP1_RECV_BUFFER_SIZE + WAMP1_SEND_BUFFER_SIZE)];
static fz_stream st;

static void on_message(wamp1_conn *c, wamp1_opcode op, const uint8_t *d, size_t n, void *u) {
    (void)u;
    if (op == WAMP1_OP_TEXT && n == 3 && memcmp(d, "bye", 3) == 0) {
        wamp1_conn_close(c, 4000, "bye");
        return;
    }
    REQUIRE(n <= MAX_MESSAGE);
    REQUIRE(op != WAMP1_OP_TEXT || fz_utf8_ok(d, n));
    (void)wamp1_conn_send(c, op, d, n);
}

/* ---- the reference decoder: the frames a correct server sends back ------------------- */

#define EXP_MAX 4096
static struct { uint8_t op; uint16_t len; uint32_t at; } exp_f[EXP_MAX];
static uint8_t exp_data[1u << 18];
static size_t exp_n, exp_used, exp_seen;
static int exp_close_alt; /* another close code that is also right for the last frame */

static void expect(unsigned op, const uint8_t *p, size_t n) {
    REQUIRE(exp_n < EXP_MAX && exp_used + n <= sizeof exp_data);
    exp_f[exp_n].op = (uint8_t)op;
    exp_f[exp_n].len = (uint16_t)n;
    exp_f[exp_n].at = (uint32_t)exp_used;
    memcpy(exp_data + exp_used, p, n);
    exp_used += n;
    exp_n++;
}

static void expect_close(int code) {
    uint8_t p[2];
    p[0] = (uint8_t)(code >> 8);
    p[1] = (uint8_t)code;
    expect(8, p, 2);
}

static void reference(const uint8_t *s, size_t n) {
    static uint8_t msg[MAX_MESSAGE + 200], pl[130];
    size_t pos = 0, mlen = 0;
    unsigned msg_op = 0;
    uint32_t utf8 = 0;
    exp_n = exp_used = 0;
    exp_close_alt = 0;
    for (;;) {
        size_t avail = n - pos, hl = 2, k, i;
        unsigned b0, b1, op, fin;
        uint64_t len;
        int proto = 0;
        const uint8_t *mk;
        if (avail < 2) return;
        b0 = s[pos]; b1 = s[pos + 1];
        op = b0 & 15u; fin = b0 >> 7;
        len = b1 & 127u;
        if ((b0 & 0x70u) || (op > 2 && op < 8) || op > 10 || !(b1 & 0x80u) ||
            (op >= 8 && (!fin || len > 125)))
            proto = 1;
        if (proto) { expect_close(1002); return; }
        if (len == 126) hl = 4;
        else if (len == 127) hl = 10;
        if (avail < hl + 4) return;
        if (len == 126) len = (uint64_t)s[pos + 2] << 8 | s[pos + 3];
        else if (len == 127) {
            len = 0;
            for (i = 0; i < 8; i++) len = len << 8 | s[pos + 2 + i];
            if (len >> 63) { expect_close(1002); return; }
        }
        mk = s + pos + hl;
        hl += 4;
        if (op >= 8) {
            if (avail < hl + len) return;
            for (i = 0; i < len; i++) pl[i] = (uint8_t)(s[pos + hl + i] ^ mk[i & 3]);
            pos += hl + (size_t)len;
            if (op == 9) expect(10, pl, (size_t)len);
            else if (op == 8) {
                int code;
                if (len == 0) { expect_close(1000); return; }
                if (len == 1) { expect_close(1002); return; }
                code = pl[0] << 8 | pl[1];
                if (!wamp1_close_code_valid(code) || !fz_utf8_ok(pl + 2, (size_t)len - 2)) {
                    expect_close(1002);
                    return;
                }
                expect_close(code);
                return;
            }
            continue;
        }
        if ((op == 0 && !msg_op) || (op != 0 && msg_op)) { expect_close(1002); return; }
        if (len > MAX_FRAME || mlen + len > MAX_MESSAGE) { expect_close(1009); return; }
        if (op != 0) { msg_op = op; mlen = 0; utf8 = 0; }
        k = avail - hl < len ? avail - hl : (size_t)len;
        for (i = 0; i < k; i++) msg[mlen + i] = (uint8_t)(s[pos + hl + i] ^ mk[i & 3]);
        if (msg_op == 1 && wamp1_utf8_validate(&utf8, msg + mlen, k) != k) {
            expect_close(1007);
            return;
        }
        mlen += k;
        if (k < len) return; /* the stream ends inside this frame */
        pos += hl + k;
        if (fin) {
            if (msg_op == 1 && !wamp1_utf8_complete(utf8)) { expect_close(1007); return; }
            if (msg_op == 1 && mlen == 3 && memcmp(msg, "bye", 3) == 0) {
                static const uint8_t bye[] = {0x0F, 0xA0, 'b', 'y', 'e'};
                expect(8, bye, sizeof bye);
                return;
            }
            expect(msg_op, msg, mlen);
            msg_op = 0;
            mlen = 0;
        }
    }
}

/* Each server frame must be the next expected one. */
static void on_frame(void *ctx, const fz_sframe *f) {
    (void)ctx;
    REQUIRE(exp_seen < exp_n);
    REQUIRE(f->op == exp_f[exp_seen].op);
    if (f->op == 8) {
        int want = exp_data[exp_f[exp_seen].at] << 8 | exp_data[exp_f[exp_seen].at + 1];
        int got = f->len >= 2 ? (f->payload[0] << 8 | f->payload[1]) : 1005;
        REQUIRE(got == want || (exp_close_alt && got == exp_close_alt));
        if (want == 4000) REQUIRE(f->len == 5 && memcmp(f->payload + 2, "bye", 3) == 0);
    } else {
        REQUIRE(f->len == exp_f[exp_seen].len);
        REQUIRE(memcmp(f->payload, exp_data + exp_f[exp_seen].at, f->len) == 0);
    }
    exp_seen++;
}

/* ---- building the client stream ------------------------------------------------------ */

static uint8_t stream[1u << 17]; /* limit + one frame of 64 KiB */
static size_t stream_len;

static void build_records(fz_in *in, size_t limit) {
    static uint8_t payload[70000];
    uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    unsigned count = 0;
    while (in->n > 0 && stream_len < limit) {
        uint8_t b0 = fz_u8(in), ctl = fz_u8(in);
        size_t len, have, fl;
        const uint8_t *p;
        if (ctl & 8) {
            key[0] = fz_u8(in); key[1] = fz_u8(in); key[2] = fz_u8(in); key[3] = fz_u8(in);
        } else {
            key[0] = (uint8_t)(0x37 + count); key[3] = (uint8_t)(b0 ^ count);
        }
        len = (ctl & 0x20) ? fz_u16(in) : fz_u8(in);
        have = fz_take(in, len, &p);
        memcpy(payload, p, have);
        if (have < len) memset(payload + have, 'x', len - have);
        fl = fz_frame(stream + stream_len, b0, payload, len, !(ctl & 4), key, ctl & 3);
        if (ctl & 0x10) {
            /* declare one more byte than is sent: patch the length field */
            uint8_t *h = stream + stream_len;
            if ((h[1] & 127) < 125) h[1]++;
        }
        if (len > 2048) {
            /* far above every limit: send the start only, nothing can follow it */
            stream_len += fl - (len - 2048);
            break;
        }
        stream_len += fl;
        count++;
    }
}

static void settle(void) {
    int quiet = 0, i;
    for (i = 0; i < 200000 && quiet < 2; i++) {
        wamp1_server_poll(&srv, 0);
        quiet = fz_stream_pull(&st, &tp, 1) == 0 && tp.socks[0].in.len == 0 ? quiet + 1 : 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in;
    fz_split sp;
    wamp1_config cfg;
    uint8_t cfgb, mode;
    size_t off, limit;
    int cl, i;

    if (size < 3) return 0;
    in.p = data;
    in.n = size;
    cfgb = fz_u8(&in);
    fz_split_init(&sp, fz_u8(&in));
    mode = fz_u8(&in);
    stream_len = 0;
    /* the test port moves its whole pipe on every read: keep streams short when reads
       are cut into a few bytes */
    limit = (cfgb & 6) ? 6000 : 24000;
    if (mode & 1) {
        const uint8_t *p;
        stream_len = fz_take(&in, limit, &p);
        memcpy(stream, p, stream_len);
    } else build_records(&in, limit);
    reference(stream, stream_len);
    exp_seen = 0;

    wamp1_testport_init(&tp, &port);
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.memory = mem;
    cfg.memory_size = sizeof mem;
    cfg.max_message_size = MAX_MESSAGE;
    cfg.max_frame_size = MAX_FRAME;
    cfg.close_timeout_ms = 500;
    cfg.handshake_timeout_ms = 1000;
    cfg.drop_request = cfgb & 1;
    cfg.cb.on_message = on_message;
    REQUIRE(wamp1_server_init(&srv, &cfg) == 0);
    REQUIRE(wamp1_server_listen(&srv) == 0);
    fz_stream_reset(&st);
    st.on_frame = on_frame;

    cl = wamp1_testport_connect(&tp);
    REQUIRE(cl == 1);
    wamp1_testport_write(&tp, cl, fz_upgrade, sizeof fz_upgrade - 1);
    if (!(cfgb & 8)) {
        settle();
        REQUIRE(st.status == 101);
    }
    tp.max_io = (size_t)((cfgb >> 1) & 3) * 3;
    off = 0;
    while (off < stream_len) {
        size_t k = fz_split_next(&sp, stream_len - off);
        wamp1_testport_write(&tp, cl, stream + off, k);
        off += k;
        wamp1_server_poll(&srv, 0);
        fz_stream_pull(&st, &tp, cl);
    }
    settle();
    REQUIRE(st.status == 101);
    /* everything expected has arrived */
    REQUIRE(exp_seen == exp_n);
    if (exp_n && exp_f[exp_n - 1].op == 8) {
        /* the server closed: it half-closes once the close frame is out, or waits for ours */
        REQUIRE(st.closed);
    } else REQUIRE(!st.closed);

    if (cfgb & 16) wamp1_testport_client_reset(&tp, cl);
    else wamp1_testport_client_eof(&tp, cl);
    for (i = 0; i < 10 && wamp1_testport_server_closed(&tp, cl) != 1; i++) {
        wamp1_server_poll(&srv, 1000);
        fz_stream_pull(&st, &tp, cl);
    }
    REQUIRE(wamp1_testport_server_closed(&tp, cl) == 1);
    REQUIRE(exp_seen == exp_n);
    {
        wamp1_stats s;
        wamp1_server_stats(&srv, &s);
        REQUIRE(s.connections == 0);
    }
    return 0;
}
