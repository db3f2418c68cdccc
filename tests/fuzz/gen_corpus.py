#!/usr/bin/env python3
"""Writes the seed corpora of the engine fuzz targets into tests/fuzz/corpus/<target>/.

Each target reads its input in its own small format (see the comment at the top of each
tests/fuzz/fuzz_*.c); the seeds here are valid handshakes, frames of every kind and WAMP
messages of every type, in that format. Run it again after changing a format:
    python3 tests/fuzz/gen_corpus.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = b"dGhlIHNhbXBsZSBub25jZQ=="

UPGRADE = (b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
UPGRADE_WAMP = (b"GET /ws?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + b"\r\n"
                b"Sec-WebSocket-Protocol: chat, wamp\r\nSec-WebSocket-Version: 13\r\n\r\n")


def mask_frame(b0, payload, key=b"\x37\xfa\x21\x3d", masked=True, lenform=0):
    n = len(payload)
    m = 0x80 if masked else 0
    if n < 126 and lenform == 0:
        h = bytes([b0, m | n])
    elif n <= 0xFFFF and lenform <= 1:
        h = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if not masked:
        return h + payload
    return h + key + bytes(c ^ key[i & 3] for i, c in enumerate(payload))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- fuzz_http: [config][split][flags] request bytes ------------------------------------
def http():
    reqs = {
        "upgrade": UPGRADE,
        "upgrade_wamp": UPGRADE_WAMP,
        "upgrade_lf": UPGRADE.replace(b"\r\n", b"\n"),
        "upgrade_frame": UPGRADE + mask_frame(0x81, b"hello"),
        "upgrade_origin_cookie": UPGRADE[:-2] + b"Origin: http://example.com\r\n"
                                 b"Cookie: a=1; PHPSESSID=s1; sid=s1\r\nX-Token: t\r\n\r\n",
        "plain_get": b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "plain_get_query": b"GET /x?a=b%20c HTTP/1.1\r\nHost: a\r\n\r\n",
        "post": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        "http10": b"GET / HTTP/1.0\r\nHost: a\r\n\r\n",
        "bad_version": UPGRADE.replace(b"Version: 13", b"Version: 8"),
        "bad_key": UPGRADE.replace(KEY, b"AAAA"),
        "two_hosts": UPGRADE[:-2] + b"Host: b\r\n\r\n",
        "folded": UPGRADE[:-2] + b" folded\r\n\r\n",
        "list_tokens": UPGRADE.replace(b"Upgrade: websocket", b"Upgrade: foo, WebSocket")
                              .replace(b"Connection: Upgrade", b"Connection: keep-alive, UPGRADE"),
        "long_header": b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 900 + b"\r\n\r\n",
    }
    for i, (name, r) in enumerate(sorted(reqs.items())):
        cfgs = [0x00, 0x01 | 0x02, 0x04, 0x08 | 0x10 | 0x20, 0x40, 0x80]
        cfg = cfgs[i % len(cfgs)]
        write("http", name, bytes([cfg, i % 8, (i * 37) & 0xFF]) + r)
    write("http", "upgrade_bytewise", bytes([0x20, 1, 0]) + UPGRADE)
    write("http", "upgrade_wamp_required", bytes([0x01, 3, 0]) + UPGRADE_WAMP)
    write("http", "upgrade_session", bytes([0x20, 0, 0]) + UPGRADE[:-2] + b"Cookie: PHPSESSID=s1\r\n\r\n")


# ---- fuzz_frames: [config][split][mode] then frame records or raw bytes -------------------
# record: [b0][ctl][len (1 byte, or 2 when ctl & 0x20)][payload]
#   ctl bit 0-1: length form (0 shortest, 1 16-bit, 2 64-bit); bit 2: unmasked;
#   bit 3: mask key from the next 4 input bytes; bit 4: declared length + 1 (a lie)
def frame_rec(b0, payload, ctl=0):
    n = len(payload)
    if n > 255:
        ctl |= 0x20
        return bytes([b0, ctl]) + struct.pack(">H", n) + payload
    return bytes([b0, ctl, n]) + payload


def frames():
    recs = {
        "text": frame_rec(0x81, b"Hello"),
        "binary": frame_rec(0x82, bytes(range(40))),
        "ping_pong": frame_rec(0x89, b"ping!") + frame_rec(0x8A, b"x"),
        "fragmented": frame_rec(0x01, b"frag") + frame_rec(0x89, b"p") + frame_rec(0x00, b"men")
                      + frame_rec(0x80, b"ted"),
        "close_1000": frame_rec(0x88, b"\x03\xe8bye"),
        "close_empty": frame_rec(0x88, b""),
        "close_bad_code": frame_rec(0x88, b"\x03\xed"),
        "close_1byte": frame_rec(0x88, b"\x03"),
        "utf8": frame_rec(0x81, "κόσμε €𝄞".encode()),
        "utf8_bad": frame_rec(0x81, b"\xce\xba\xed\xa0\x80"),
        "utf8_split": frame_rec(0x01, b"\xce") + frame_rec(0x80, b"\xba"),
        "len16": frame_rec(0x82, b"z" * 300, 1),
        "len64": frame_rec(0x82, b"y" * 200, 2),
        "unmasked": frame_rec(0x81, b"abc", 4),
        "rsv": frame_rec(0xC1, b"abc"),
        "opcode3": frame_rec(0x83, b""),
        "big": frame_rec(0x82, b"q" * 700),
        "ctrl_frag": frame_rec(0x09, b"x"),
        "cont_first": frame_rec(0x80, b"x"),
        "then_data_after_close": frame_rec(0x88, b"\x03\xe8") + frame_rec(0x81, b"late"),
    }
    for i, (name, r) in enumerate(sorted(recs.items())):
        write("frames", name, bytes([i & 3, (i * 3) & 7, 0]) + r)
    write("frames", "raw_text", bytes([0, 0, 1]) + mask_frame(0x81, b"raw!"))
    write("frames", "raw_ping_bytewise", bytes([0, 1, 1]) + mask_frame(0x89, b"pp") + mask_frame(0x88, b"\x03\xe8"))


# ---- fuzz_wamp: [config] then records [op][len][payload] ---------------------------------
# op: bit 7 session (0/1); bits 4-6 kind: 0-3 text message (len 1 byte), 4 text message
# (len 2 bytes), 5 poll and answer deferred calls, 6 advance the clock, 7 reconnect
def wrec(sess, msg, kind=0):
    if isinstance(msg, str):
        msg = msg.encode()
    if kind == 4 or len(msg) > 255:
        return bytes([(sess << 7) | (4 << 4)]) + struct.pack(">H", len(msg)) + msg
    return bytes([(sess << 7) | (kind << 4), len(msg)]) + msg


def ctl(sess, kind, arg=0):
    return bytes([(sess << 7) | (kind << 4) | (arg & 15)])


R = "http://example.com/"


def wamp():
    seqs = {
        "prefix_call": [wrec(0, '[1,"ex","%srpc#"]' % R), wrec(0, '[2,"c1","ex:echo",1,"two",{"3":[4]}]')],
        "call_echo": [wrec(0, '[2,"id1","%srpc#echo",42]' % R)],
        "call_defer": [wrec(1, '[2,"d1","%srpc#defer"]' % R), ctl(1, 5), wrec(1, '[2,"d2","%srpc#defer",1]' % R),
                       ctl(0, 6, 3), ctl(0, 5)],
        "call_defer_gone": [wrec(0, '[2,"d1","%srpc#defer"]' % R), ctl(0, 7), ctl(0, 5)],
        "call_error": [wrec(0, '[2,"e","%srpc#error","x"]' % R), wrec(0, '[2,"n","%srpc#nope"]' % R)],
        "call_user": [wrec(0, '[2,"u","%suser/42/get"]' % R), wrec(0, '[2,"r","%srpc#refused"]' % R)],
        "call_named": [wrec(0, '[2,"h","%srpc#named",true,null,-1.5e3]' % R)],
        "call_big": [wrec(0, '[2,"b","%srpc#big",600]' % R)],
        "call_publish": [wrec(1, '[5,"%stopic/a"]' % R), wrec(0, '[2,"p","%srpc#publish","%stopic/a",{"k":"v"}]' % (R, R))],
        "subscribe_publish": [wrec(0, '[5,"%stopic/news"]' % R), wrec(1, '[5,"%stopic/news"]' % R),
                              wrec(1, '[7,"%stopic/news","hello"]' % R),
                              wrec(1, '[7,"%stopic/news",{"a":1},false]' % R),
                              wrec(0, '[6,"%stopic/news"]' % R)],
        "publish_exclude_eligible": [wrec(0, '[5,"%stopic/x"]' % R), wrec(1, '[5,"%stopic/x"]' % R),
                                     wrec(0, '[7,"%stopic/x",1,[],["AAAAAAAAAAAAAAAA"]]' % R),
                                     wrec(0, '[7,"%stopic/x",[1,2],true]' % R),
                                     wrec(0, '[7,"%stopic/x",null,["nobody"]]' % R)],
        "prefix_topic": [wrec(0, '[1,"t","%stopic/"]' % R), wrec(0, '[5,"t:one"]'), wrec(1, '[7,"%stopic/one",3]' % R),
                         wrec(0, '[6,"t:one"]')],
        "veto": [wrec(0, '[5,"%sveto/no"]' % R), wrec(0, '[5,"%sveto/yes"]' % R), wrec(1, '[7,"%sveto/yes",0]' % R)],
        "malformed": [wrec(0, '[9]'), wrec(0, '{"a":1}'), wrec(0, '[2]'), wrec(0, '[2,1,2]'), wrec(0, '[5,1]'),
                      wrec(0, '[1,"a"]'), wrec(0, '[7,"x"]'), wrec(0, 'nope'), wrec(0, '[0,"x",1,"y"]')],
        "many_tokens": [wrec(0, '[2,"m","%srpc#echo",' % R + ",".join(["1"] * 80) + "]", 4)],
        "deep": [wrec(0, "[" * 40 + "]" * 40)],
        "pool_exhaust": [wrec(0, '[5,"%stopic/%d"]' % (R, i)) for i in range(8)]
                        + [wrec(1, '[1,"p%d","%s%d"]' % (i, R, i)) for i in range(6)],
        "mixed": [wrec(0, '[5,"%stopic/m"]' % R), wrec(1, '[2,"x","%srpc#mixed","ABdteE",50,40,10]' % R),
                  wrec(0, '[2,"y","%srpc#mixed","AtBecE",300,200,5]' % R)],
        # a close frame right after a data frame that left the open answer no slack
        "mixed_edge": [wrec(1, '[2,"m","%srpc#mixed","AdcE",100,-5,123]' % R),
                       wrec(1, '[2,"n","%srpc#mixed","ABdceE",300,-4,120]' % R)],
        "unicode": [wrec(0, '[2,"\\u00e9\\ud834\\udd1e","%srpc#echo","\\u0000","κόσμε"]' % R)],
    }
    for i, (name, recs) in enumerate(sorted(seqs.items())):
        write("wamp", name, bytes([i & 0x0F]) + b"".join(recs))


# ---- fuzz_engine: [config] then operations --------------------------------------------
# op byte: bits 0-3 operation, bits 4-7 connection index (mod the number of clients)
#   0 connect  1 write handshake  2 write frame (next: kind byte, len byte, payload)
#   3 write garbage (len byte + bytes)  4 read  5 half-close  6 reset  7 clock (next byte: ms/8)
#   8 poll  9 release a closed client  10 client stops/starts reading  11 per-call I/O limit
#   12 server closes the connection  13 write a partial handshake (len byte)
#   14 server-side publish / send  15 set the connection limit (next byte)
def eng(op, conn=0):
    return bytes([(conn << 4) | op])


def efr(conn, kind, payload):
    return eng(2, conn) + bytes([kind, len(payload)]) + payload


def engine():
    seqs = {
        "one_echo": eng(0) + eng(1) + eng(8) + efr(0, 0x81, b"hi") + eng(8) + eng(4) + efr(0, 0x88, b"\x03\xe8")
                    + eng(8) + eng(4) + eng(5) + eng(8),
        "pool_full": b"".join(eng(0, i) + eng(1, i) + eng(8) for i in range(6)) + eng(4, 5) + eng(9, 5),
        "timeouts": eng(0) + eng(13) + bytes([20]) + eng(8) + eng(7) + bytes([255]) + eng(8) + eng(7) + bytes([255]) + eng(8),
        "slow_reader": eng(0) + eng(1) + eng(8) + eng(10) + b"".join(efr(0, 0x82, bytes(200)) + eng(8) for _ in range(8))
                       + eng(10) + eng(8) + eng(4),
        "reset_mid": eng(0) + eng(1) + efr(0, 0x01, b"part") + eng(8) + eng(6) + eng(8),
        "garbage": eng(0) + eng(3) + b"\x20" + bytes(range(32)) + eng(8) + eng(4),
        "server_close": eng(0) + eng(1) + eng(8) + eng(12) + eng(8) + eng(4) + efr(0, 0x88, b"\x03\xe8") + eng(8),
        "wamp_two": eng(0, 0) + eng(0, 1) + eng(1, 0) + eng(1, 1) + eng(8)
                    + efr(0, 0x81, b'[5,"http://example.com/topic/a"]')
                    + efr(1, 0x81, b'[7,"http://example.com/topic/a",1]') + eng(8) + eng(14) + eng(8) + eng(4, 0),
        "limit": eng(15) + b"\x01" + eng(0, 0) + eng(0, 1) + eng(1, 0) + eng(1, 1) + eng(8) + eng(4, 1),
    }
    for i, (name, ops) in enumerate(sorted(seqs.items())):
        cfg = (i & 1) | ((i & 6) << 1)
        if name.startswith("wamp"):
            cfg |= 1
        if i % 3 == 0:
            cfg |= 0x20
        write("engine", name, bytes([cfg]) + ops)


if __name__ == "__main__":
    http()
    frames()
    wamp()
    engine()
