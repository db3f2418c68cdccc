#!/usr/bin/env python3
"""Drives the mps2-an386 firmware (examples/lwip/qemu-mps2) booted in QEMU, from the host.

usage: test_fw.py --port PORT --uart UART_LOG     (tests/qemu/run.sh starts QEMU)

Standard library, and the two client libraries where present. Checks, each a PASS/FAIL line, then "qemu: N passed, M failed":
  - the handshake and close cases of tests/conformance/ws_conformance.py that an app with
    WAMP on every connection can answer (the echo cases cannot: WELCOME comes first and text
    is WAMP), with the library's 768-byte message limit;
  - a WAMP session: WELCOME, CALL rpc#add / rpc#echo / rpc#stats, PREFIX and a CURIE, an
    unknown procedure's CALLERROR, SUBSCRIBE and an EVENT published by another session;
    sessions through websocket-client and websockets (4 at once) when they are installed;
  - 4 sessions at once, a fifth connection answered 503, a new one accepted once one closed;
  - a message over the limit: close 1009;
  - keepalive: a client that answers pings stays, one that does not is closed (1001);
  - the board's stack high-water mark (rpc#stack), equal to what its UART says, <= 2 KiB;
  - with --map: the library's share of the image from its link map (wamp1.h in
    wamp1_impl.o, the port's functions, the app and port instances): text <= 24 KiB and
    static RAM <= 12 KiB, the targets `make size` checks for its minimal application (the
    demo's routes use more of the API: number formatting, stats).
"""

import argparse
import base64
import hashlib
import json
import os
import re
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "conformance"))

RPC = "http://wamp1.dev/rpc#"
TOPIC = "http://wamp1.dev/topic/"
MAX_MESSAGE = 1024 - 256   # WAMP1_RECV_BUFFER_SIZE - 256 in the measured configuration
STACK_LIMIT = 2048

PORT = 0
UART = None
passed = failed = 0


def error_codes():
    """wamp1_error's values by name, from wamp1.h (the firmware prints "wamp1: error N")."""
    with open(os.path.join(HERE, "..", "..", "wamp1.h")) as f:
        body = re.search(r"typedef enum wamp1_error \{(.*?)\} wamp1_error;", f.read(), re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    names = [n.split("=")[0].strip() for n in body.split(",") if n.strip()]
    return {n: i for i, n in enumerate(names)}


_codes = error_codes()
ERR_TOO_BIG, ERR_KEEPALIVE, ERR_POOL_FULL = (_codes["WAMP1_ERR_TOO_BIG"], _codes["WAMP1_ERR_KEEPALIVE"],
                                             _codes["WAMP1_ERR_POOL_FULL"])


def uart_errors(code):
    """How many times the board's error hook has reported `code` so far."""
    with open(UART, errors="replace") as f:
        return len(re.findall(r"wamp1: error %d\r?$" % code, f.read(), re.M))


def check_reported(what, code, before):
    end = time.monotonic() + 2
    while uart_errors(code) <= before and time.monotonic() < end:
        time.sleep(0.05)
    check("%s reported to the error hook" % what, uart_errors(code) > before)


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS %s" % name)
    else:
        failed += 1
        print("FAIL %s%s" % (name, (": " + detail) if detail else ""))
    sys.stdout.flush()


class Closed(Exception):
    pass


class Ws:
    """A minimal WebSocket client: handshake, masked frames out, frames in."""

    def __init__(self, protocol="wamp", timeout=5.0, extra=""):
        self.s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % (PORT, key))
        if protocol:
            req += "Sec-WebSocket-Protocol: %s\r\n" % protocol
        self.s.sendall((req + extra + "\r\n").encode())
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        self.head = head.decode("latin-1")
        if self.status == 101:
            want = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                                 .encode()).digest()).decode()
            if ("sec-websocket-accept: %s" % want).lower() not in self.head.lower():
                raise AssertionError("bad Sec-WebSocket-Accept")

    def _until(self, sep):
        while sep not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise Closed("connection closed during the handshake")
            self.buf += d
        i = self.buf.index(sep) + len(sep)
        head, self.buf = self.buf[:i], self.buf[i:]
        return head

    def _need(self, n):
        while len(self.buf) < n:
            d = self.s.recv(4096)
            if not d:
                raise Closed("TCP closed")
            self.buf += d

    def send(self, op, payload, fin=True):
        if isinstance(payload, str):
            payload = payload.encode()
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes([(0x80 if fin else 0) | op])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        body = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.s.sendall(hdr + mask + body)

    def frame(self, timeout=5.0):
        """(opcode, payload); socket.timeout when nothing came."""
        self.s.settimeout(timeout)
        self._need(2)
        n = self.buf[1] & 0x7F
        pos = 2
        if n == 126:
            self._need(4)
            n, pos = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, pos = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(pos + n)
        op, payload = self.buf[0] & 0x0F, self.buf[pos:pos + n]
        self.buf = self.buf[pos + n:]
        return op, payload

    def send_json(self, msg):
        self.send(1, json.dumps(msg, separators=(",", ":")))

    def recv_json(self, timeout=5.0):
        while True:
            op, p = self.frame(timeout)
            if op == 9:
                self.send(10, p)
                continue
            if op == 8:
                raise Closed("close %r" % (struct.unpack(">H", p[:2])[0] if len(p) >= 2 else None))
            return json.loads(p.decode())

    def call(self, cid, proc, *args):
        self.send_json([2, cid, proc] + list(args))
        return self.recv_json()

    def close(self, code=1000):
        try:
            self.send(8, struct.pack(">H", code))
            t = time.monotonic() + 3
            while time.monotonic() < t:
                op, _ = self.frame(3)
                if op == 8:
                    break
        except (OSError, Closed):
            pass
        self.s.close()

    def wait_tcp_close(self, timeout):
        """The close code the server sent (or None), once TCP is closed; raises on timeout."""
        code = None
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise socket.timeout("still open")
            try:
                op, p = self.frame(left)
            except Closed:
                return code
            if op == 8 and len(p) >= 2:
                code = struct.unpack(">H", p[:2])[0]


def wamp_session():
    c = Ws()
    if c.status != 101:
        raise AssertionError("handshake answered %d" % c.status)
    w = c.recv_json()
    if not (isinstance(w, list) and w[0] == 0 and w[2] == 1):
        raise AssertionError("no WELCOME: %r" % (w,))
    return c, w


# ---------------------------------------------------------------------------------------

def conformance():
    """The handshake and close cases, each connection's WELCOME read and set aside."""
    import ws_conformance as wc
    orig_ws = wc.T.ws

    def ws(self, *a, **k):
        c = orig_ws(self, *a, **k)
        ev = c.read_frame(c.until(3.0))
        if ev is None or ev[1] != wc.OP_TEXT or not ev[2].startswith(b"[0,"):
            raise wc.CaseFailed("no WELCOME after the handshake: %r" % (ev,))
        return c

    wc.T.ws = ws
    # left out: H.1, H.23-H.28 check the connection with an echo; H.32 sends a 4 KiB header
    # block (the receive buffer is 1 KiB)
    cases = "H.[2-9],H.1[0-9],H.2[0-2],H.3[01],7.3.*,7.5.*,7.7.*,7.9.*,7.13.*"
    import io
    import contextlib
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        wc.main(["--host", "127.0.0.1", "--port", str(PORT), "--quick", "--max-message",
                 str(MAX_MESSAGE), "--cases", cases])
    text = out.getvalue()
    m = re.search(r"conformance: (\d+) passed, (\d+) failed", text)
    fails = [l for l in text.splitlines() if l.startswith("FAIL")]
    n = int(m.group(1)) if m else 0
    check("conformance handshake and close cases (%d passed)" % n,
          m is not None and int(m.group(2)) == 0 and n >= 55, "; ".join(fails[:5]) or text[-300:])


def session_calls():
    c, w = wamp_session()
    check("WELCOME [0, session, 1, ident]", isinstance(w[1], str) and len(w[1]) >= 8, repr(w))
    r = c.call("a1", RPC + "add", 2, 3)
    check("rpc#add 2+3", r == [3, "a1", 5], repr(r))
    r = c.call("a2", RPC + "add", [1.5, 2, 3])
    check("rpc#add of an array", r == [3, "a2", 6.5], repr(r))
    c.send_json([1, "r", RPC])
    r = c.call("e1", "r:echo", "hi", [1, {"k": None}])
    check("PREFIX and rpc#echo through a CURIE", r == [3, "e1", ["hi", [1, {"k": None}]]], repr(r))
    r = c.call("x1", RPC + "nosuch")
    check("unknown procedure: CALLERROR", r[:2] == [4, "x1"] and isinstance(r[2], str), repr(r))
    r = c.call("s1", RPC + "stats")
    ok = r[:2] == [3, "s1"] and isinstance(r[2], dict) and r[2].get("connections") == 1 \
        and r[2].get("connections_max") == 4 and r[2].get("calls", 0) >= 4
    check("rpc#stats", ok, repr(r)[:300])
    t0 = time.monotonic()
    good = all(c.call("t%d" % i, RPC + "add", i, 1) == [3, "t%d" % i, i + 1] for i in range(100))
    ms = (time.monotonic() - t0) * 10.0
    check("100 calls in a row", good)
    print("qemu: call round trip from the host: %.2f ms (mean of 100 rpc#add)" % ms)
    c.close()


def other_clients():
    """The same session through two independent client libraries, where they are installed."""
    try:
        import websocket  # python3-websocket (websocket-client)
    except ImportError:
        print("SKIP websocket-client is not installed")
    else:
        ws = websocket.create_connection("ws://127.0.0.1:%d/" % PORT, subprotocols=["wamp"], timeout=5)
        w = json.loads(ws.recv())
        ws.send(json.dumps([2, "w1", RPC + "add", 40, 2]))
        r = json.loads(ws.recv())
        ws.close()
        check("websocket-client: WELCOME and rpc#add", w[0] == 0 and r == [3, "w1", 42], "%r %r" % (w, r))
    try:
        import asyncio
        import websockets  # python3-websockets
    except ImportError:
        print("SKIP websockets is not installed")
        return

    async def session(n):
        async with websockets.connect("ws://127.0.0.1:%d/" % PORT, subprotocols=["wamp"]) as ws:
            w = json.loads(await ws.recv())
            await ws.send(json.dumps([2, "a%d" % n, RPC + "echo", n]))
            return w[0], ws.subprotocol, json.loads(await ws.recv())

    async def four():
        return await asyncio.wait_for(asyncio.gather(*(session(n) for n in range(4))), 10)

    res = asyncio.run(four())
    check("websockets: 4 concurrent sessions, subprotocol wamp, rpc#echo",
          res == [(0, "wamp", [3, "a%d" % n, [n]]) for n in range(4)], repr(res)[:200])


def pubsub():
    a, _ = wamp_session()
    b, _ = wamp_session()
    a.send_json([5, TOPIC + "t1"])
    a.call("sync", RPC + "add", 1)   # answered after the SUBSCRIBE was handled
    b.send_json([7, TOPIC + "t1", {"x": [1, 2], "s": "\u00e9"}])
    ev = a.recv_json()
    check("SUBSCRIBE, EVENT from another session's PUBLISH",
          ev == [8, TOPIC + "t1", {"x": [1, 2], "s": "\u00e9"}], repr(ev))
    b.send_json([7, TOPIC + "other", 1])
    r = a.call("sync2", RPC + "add", 2)
    check("no EVENT for a topic not subscribed", r == [3, "sync2", 2], repr(r))
    a.send_json([6, TOPIC + "t1"])
    b.send_json([7, TOPIC + "t1", 2])
    r = a.call("sync3", RPC + "add", 3)
    check("UNSUBSCRIBE: no more EVENTs", r == [3, "sync3", 3], repr(r))
    a.close()
    b.close()


def pool():
    sessions = []
    before = uart_errors(ERR_POOL_FULL)
    try:
        # the earlier cases' connections may still be closing: wait until this one is alone
        first = wamp_session()[0]
        sessions.append(first)
        end = time.monotonic() + 5
        while first.call("p", RPC + "stats")[2].get("connections") != 1 and time.monotonic() < end:
            time.sleep(0.1)
        for _ in range(3):
            sessions.append(wamp_session()[0])
        check("4 sessions at once", True)
        fifth = Ws()
        check("a fifth connection is answered 503", fifth.status == 503, fifth.head[:60])
        fifth.s.close()
        check_reported("the 503", ERR_POOL_FULL, before)
        sessions.pop().close()
        ok = False
        end = time.monotonic() + 5
        while time.monotonic() < end and not ok:
            c = Ws()
            if c.status == 101:
                c.recv_json()
                sessions.append(c)
                ok = True
            else:
                c.s.close()
                time.sleep(0.1)
        check("a new session once one closed", ok)
    except (AssertionError, OSError, Closed) as e:
        check("4 sessions and a fifth refused", False, repr(e))
    for c in sessions:
        c.close()


def too_big():
    before = uart_errors(ERR_TOO_BIG)
    c, _ = wamp_session()
    base = len(json.dumps([2, "b", RPC + "echo", ""], separators=(",", ":")))
    big = json.dumps([2, "b", RPC + "echo", "x" * (MAX_MESSAGE + 1 - base)], separators=(",", ":"))
    assert len(big) == MAX_MESSAGE + 1
    c.send(1, big)
    try:
        code = c.wait_tcp_close(5)
        check("message one byte over the limit: close 1009", code == 1009, "close code %r" % code)
    except socket.timeout:
        check("message one byte over the limit: close 1009", False, "not closed")
    check_reported("the 1009", ERR_TOO_BIG, before)
    # the firmware keeps no upgrade request (drop_request): the whole limit is the message's,
    # even after a long request such as a browser's
    c = Ws(extra="User-Agent: " + "m" * 400 + "\r\n")
    c.recv_json()
    arg = "y" * (MAX_MESSAGE - len(json.dumps([2, "b", RPC + "echo", ""], separators=(",", ":"))))
    c.send_json([2, "b", RPC + "echo", arg])
    r = c.recv_json()
    check("a message of exactly the limit after a 500-byte request is answered",
          len(json.dumps([2, "b", RPC + "echo", arg], separators=(",", ":"))) == MAX_MESSAGE
          and r == [3, "b", [arg]], repr(r)[:80])
    c.close()


def keepalive():
    """The test image pings every 2 s: answering keeps the session, silence ends it."""
    before = uart_errors(ERR_KEEPALIVE)
    good, _ = wamp_session()
    bad, _ = wamp_session()
    t0 = time.monotonic()
    pings = 0
    code = "open"
    # the silent client: read frames without answering pings
    bad.s.settimeout(0.2)
    good_ok = True
    while time.monotonic() - t0 < 7.5:
        try:
            op, p = good.frame(0.1)
            if op == 9:
                pings += 1
                good.send(10, p)
            elif op == 8:
                good_ok = False
        except socket.timeout:
            pass
        except Closed:
            good_ok = False
        if code == "open":
            try:
                op, p = bad.frame(0.05)
                if op == 8:
                    code = struct.unpack(">H", p[:2])[0] if len(p) >= 2 else None
            except socket.timeout:
                pass
            except Closed:
                code = "tcp closed"
    took = time.monotonic() - t0
    check("keepalive: a client that does not answer the ping is closed 1001", code == 1001,
          "%r after %.1fs" % (code, took))
    check_reported("the keepalive timeout", ERR_KEEPALIVE, before)
    check("keepalive: a client that answers stays (%d pings)" % pings, good_ok and pings >= 2)
    r = good.call("k", RPC + "add", 1) if good_ok else None
    check("keepalive: the answering session still works", r == [3, "k", 1], repr(r))
    good.close()
    bad.s.close()


def stack(uart):
    c, _ = wamp_session()
    r = c.call("st", RPC + "stack")
    c.close()
    ok = r[:2] == [3, "st"] and isinstance(r[2], list) and len(r[2]) == 2
    used, size = (r[2][0], r[2][1]) if ok else (None, None)
    seen = None
    end = time.monotonic() + 3
    while time.monotonic() < end and seen is None:
        with open(uart, errors="replace") as f:
            lines = re.findall(r"wamp1: stack used (\d+) of (\d+) bytes", f.read())
        if lines and ok and int(lines[-1][0]) >= used:
            seen = int(lines[-1][0])
        else:
            time.sleep(0.1)
    check("rpc#stack and the UART agree", ok and seen == used, "rpc %r, uart %r" % (r, seen))
    print("qemu: stack high-water mark on the board: %s of %s bytes" % (used, size))
    check("peak stack <= %d bytes" % STACK_LIMIT, ok and used <= STACK_LIMIT, "%r" % used)


def footprint(mapfile):
    """The library's share of the image from the link map: the sections of wamp1_impl.o, and
    in main.o the port's functions (wamp1__lwr_*) and the app and port instances."""
    m = open(mapfile).read()
    m = m[m.index("Linker script and memory map"):]
    text = ram = 0
    for mm in re.finditer(r"^ (\.(text|rodata|data|bss)[^\s]*)\s*\n?\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)",
                          m, re.M):
        sec, kind, size, obj = mm.group(1), mm.group(2), int(mm.group(3), 16), mm.group(4)
        lib = obj.endswith("/wamp1_impl.o") or (obj.endswith("/main.o") and (
            sec.split(".", 2)[-1].startswith("wamp1__lwr_") or sec in (".bss.app", ".bss.lwr", ".bss.port")))
        if lib:
            if kind in ("text", "rodata"):
                text += size
            else:
                ram += size
    print("qemu: the library in the image (wamp1.h and its port, link map): %d B of text, "
          "%d B of static RAM" % (text, ram))
    check("library text in the image <= 24 KiB", 0 < text <= 24 * 1024, "%d" % text)
    check("library static RAM in the image <= 12 KiB", 0 < ram <= 12 * 1024, "%d" % ram)


def main():
    global PORT, UART
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--uart", required=True)
    ap.add_argument("--map")
    args = ap.parse_args()
    PORT = args.port
    UART = args.uart
    for t in (conformance, session_calls, other_clients, pubsub, pool, too_big, keepalive):
        try:
            t()
        except Exception as e:  # a case that breaks counts as failed, the rest still runs
            check(t.__name__, False, "%s: %s" % (type(e).__name__, e))
    try:
        stack(args.uart)
    except Exception as e:
        check("stack", False, "%s: %s" % (type(e).__name__, e))
    if args.map:
        footprint(args.map)
    print("qemu: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
