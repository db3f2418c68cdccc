#!/usr/bin/env python3
"""WebSocket (RFC 6455) conformance suite for an echo server.

Covers the Autobahn "fuzzingclient" categories 1 to 7, 9 and 10 with the same case
numbering, plus handshake cases (H.*) and frame-rule cases Autobahn does not have (F.*).
Each case is judged strictly, as for a fully conformant server:

- data is echoed exactly (text as text, binary as binary, whole);
- a protocol violation gets a close frame with the expected code (1002 protocol error,
  1007 invalid UTF-8, 1009 too big) and nothing else, then the server closes TCP;
- invalid UTF-8 is rejected as soon as the offending byte arrives (fail-fast);
- a close with a valid code is answered with the same code, then TCP is closed.

Standard library only.  usage:
  ws_conformance.py --port 9001 [--host 127.0.0.1]
  ws_conformance.py --server "build/echo --max-message 16777216"
  options: --cases '1.*,6.4.*'  --quick  -v  --max-message N  --timeout-scale F
"""

import argparse
import base64
import fnmatch
import hashlib
import os
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import utf8_vectors  # noqa: E402

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
OP_NAMES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024
KOSME = utf8_vectors.KOSME
HELLO_UTF8 = utf8_vectors.HELLO_UTF8


class CaseFailed(Exception):
    pass


class Timeout(CaseFailed):
    pass


# --------------------------------------------------------------------------------------
# frames

def mask(key, data):
    """XOR data with the 4-byte key, on the whole buffer at once."""
    n = len(data)
    if n == 0:
        return b""
    keystream = key * ((n + 3) // 4)
    if len(keystream) != n:
        keystream = keystream[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(keystream, "little")).to_bytes(n, "little")


def frame(op, payload=b"", fin=True, rsv=0, masked=True, key=None, length=None):
    """One client frame.  length overrides the length field (the payload is still appended)."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (op & 0xF)
    m = 0x80 if masked else 0
    if n <= 125:
        hdr = bytes((b0, m | n))
    elif n <= 0xFFFF:
        hdr = bytes((b0, m | 126)) + n.to_bytes(2, "big")
    else:
        hdr = bytes((b0, m | 127)) + n.to_bytes(8, "big")
    if not masked:
        return hdr + bytes(payload)
    if key is None:
        key = os.urandom(4)
    return hdr + key + mask(key, payload)


def frames_of(op, payload, size):
    """A message split into frames of at most size bytes (at least one frame)."""
    out = []
    n = len(payload)
    pos = 0
    first = True
    keys = os.urandom(4 * (n // max(size, 1) + 2))
    k = 0
    while True:
        piece = payload[pos:pos + size]
        pos += len(piece)
        last = pos >= n
        out.append(frame(op if first else OP_CONT, piece, fin=last, key=keys[k:k + 4]))
        k += 4
        first = False
        if last:
            return b"".join(out)


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    return code.to_bytes(2, "big") + reason


def preview(data, limit=32):
    data = bytes(data)
    if len(data) <= limit:
        return repr(data)
    return repr(data[:limit]) + "..."


def show(ev):
    kind = ev[0]
    if kind == "message":
        return "%s message of %d bytes %s" % (OP_NAMES[ev[1]], len(ev[2]), preview(ev[2]))
    if kind == "pong":
        return "pong %s" % preview(ev[1])
    if kind == "close":
        if ev[1] is None:
            return "close frame without code"
        return "close frame with code %d%s" % (ev[1], (" reason %s" % preview(ev[2])) if ev[2] else "")
    if kind == "eof":
        return "TCP connection closed%s without a close frame" % (" (reset)" if ev[1] else "")
    return repr(ev)


_payload_cache = {}


def text_payload(n):
    """n bytes of valid UTF-8 mixing 1- to 4-byte code points."""
    key = ("t", n)
    if key not in _payload_cache:
        unit = "BAsd7&jh23 \u03ba\u1f79\u03c3\u03bc\u03b5 \u20ac\U0001d11e ".encode("utf-8")
        raw = (unit * (n // len(unit) + 1))[:n]
        raw = raw.decode("utf-8", "ignore").encode("utf-8")
        _payload_cache[key] = raw + b"*" * (n - len(raw))
    return _payload_cache[key]


def binary_payload(n):
    key = ("b", n)
    if key not in _payload_cache:
        block = _payload_cache.setdefault("block", os.urandom(65536))
        _payload_cache[key] = (block * (n // len(block) + 1))[:n]
    return _payload_cache[key]


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + WS_GUID).digest()).decode("ascii")


# --------------------------------------------------------------------------------------
# connection

class Conn:
    """A raw TCP connection to the server with a WebSocket client on top."""

    def __init__(self, t):
        self.t = t
        host, port = t.suite.host, t.suite.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        t.sockets.append(self.sock)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(max(0.05, t.deadline - time.monotonic()))
        try:
            self.sock.connect((host, port))
        except socket.timeout:
            raise Timeout("timeout connecting to %s:%d" % (host, port))
        except OSError as e:
            raise CaseFailed("cannot connect to %s:%d: %s" % (host, port, e))
        self.sock.setblocking(False)
        self.rbuf = bytearray()
        self.eof = False
        self.reset = False
        self.send_broken = False
        self.frag_op = None
        self.frag = []
        self.server_closed = False
        self.last_progress = time.monotonic()
        self.idle = t.suite.idle

    # -- low level ------------------------------------------------------------------

    def until(self, wait=None):
        end = self.t.deadline
        if wait is not None:
            end = min(end, time.monotonic() + wait)
        return end

    def _recv_some(self):
        try:
            data = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except (ConnectionResetError, ConnectionAbortedError):
            self.eof = self.reset = True
            return
        if data:
            self.rbuf += data
            self.last_progress = time.monotonic()
        else:
            self.eof = True

    def _wait_readable(self, until):
        left = until - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], left)
        return bool(r)

    def _need(self, n, until, what):
        while len(self.rbuf) < n:
            if self.eof:
                return False
            idle = self.last_progress + self.idle
            if not self._wait_readable(min(until, idle)):
                if idle < until:
                    raise Timeout("nothing received for %.0f s while waiting for %s"
                                  % (self.idle, what))
                raise Timeout("timeout waiting for %s" % what)
            self._recv_some()
        return True

    def send(self, data, chop=None, delay=0.0):
        """Send bytes, as separate writes of chop bytes each, reading meanwhile."""
        data = memoryview(bytes(data))
        if self.send_broken:
            return
        step = chop or max(len(data), 1)
        for off in range(0, len(data), step):
            if not self._send_piece(data[off:off + step]):
                return
            if delay and off + step < len(data):
                time.sleep(delay)

    def _send_piece(self, piece):
        while len(piece):
            now = time.monotonic()
            if now >= self.last_progress + self.idle:
                raise Timeout("server has not read anything for %.0f s (%d bytes still to send)"
                              % (self.idle, len(piece)))
            left = min(self.t.deadline, self.last_progress + self.idle) - now
            if now >= self.t.deadline:
                raise Timeout("timeout sending (server not reading?)")
            rl = [] if self.eof else [self.sock]
            r, w, _ = select.select(rl, [self.sock], [], left)
            if r:
                self._recv_some()
            if w:
                try:
                    n = self.sock.send(piece)
                except (BlockingIOError, InterruptedError):
                    continue
                except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                    self.send_broken = True
                    return False
                piece = piece[n:]
                if n:
                    self.last_progress = time.monotonic()
        return True

    def send_frame(self, op, payload=b"", chop=None, delay=0.0, **kw):
        self.send(frame(op, payload, **kw), chop=chop, delay=delay)

    def send_frames(self, frames, mode="one", delay=None):
        """Send several frames: mode one (one write), frame (a write per frame), octet."""
        if mode == "one":
            self.send(b"".join(frames))
        elif mode == "frame":
            for i, f in enumerate(frames):
                self.send(f)
                if i + 1 < len(frames):
                    time.sleep(0.002 if delay is None else delay)
        elif mode == "octet":
            self.send(b"".join(frames), chop=1, delay=0.0002 if delay is None else delay)
        else:
            raise ValueError(mode)

    # -- frames and events ------------------------------------------------------------

    def read_frame(self, until):
        if not self._need(2, until, "a frame"):
            return None
        b0, b1 = self.rbuf[0], self.rbuf[1]
        n = b1 & 0x7F
        pos = 2
        if n == 126:
            if not self._need(4, until, "a frame header"):
                return None
            n = int.from_bytes(self.rbuf[2:4], "big")
            pos = 4
        elif n == 127:
            if not self._need(10, until, "a frame header"):
                return None
            n = int.from_bytes(self.rbuf[2:10], "big")
            pos = 10
        masked = b1 & 0x80
        if masked:
            pos += 4
        if n > 1 << 31:
            raise CaseFailed("server frame with absurd length %d" % n)
        if not self._need(pos + n, until, "a frame payload of %d bytes" % n):
            return None
        payload = bytes(self.rbuf[pos:pos + n])
        del self.rbuf[:pos + n]
        fin, rsv, op = b0 >> 7, (b0 >> 4) & 7, b0 & 0xF
        if masked:
            raise CaseFailed("server sent a masked frame")
        if rsv:
            raise CaseFailed("server sent a frame with RSV bits %d" % rsv)
        if op not in OP_NAMES:
            raise CaseFailed("server sent a frame with reserved opcode %d" % op)
        if op >= 8 and (n > 125 or not fin):
            raise CaseFailed("server sent an invalid control frame (opcode %d, %d bytes, fin %d)"
                             % (op, n, fin))
        return fin, op, payload

    def next_event(self, wait=None):
        until = self.until(wait)
        while True:
            f = self.read_frame(until)
            if f is None:
                return ("eof", self.reset)
            fin, op, payload = f
            if self.server_closed:
                raise CaseFailed("server sent a %s frame after its close frame" % OP_NAMES[op])
            if op == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                return ("pong", payload)
            if op == OP_CLOSE:
                self.server_closed = True
                if len(payload) == 0:
                    return ("close", None, b"")
                if len(payload) == 1:
                    raise CaseFailed("server sent a close frame with a 1-byte payload")
                code = int.from_bytes(payload[:2], "big")
                try:
                    payload[2:].decode("utf-8")
                except UnicodeDecodeError:
                    raise CaseFailed("server close reason is not valid UTF-8")
                return ("close", code, payload[2:])
            if op in (OP_TEXT, OP_BINARY):
                if self.frag_op is not None:
                    raise CaseFailed("server started a new message inside a fragmented one")
                if fin:
                    return ("message", op, payload)
                self.frag_op, self.frag = op, [payload]
                continue
            # continuation
            if self.frag_op is None:
                raise CaseFailed("server sent a continuation frame without a message")
            self.frag.append(payload)
            if fin:
                op, self.frag_op = self.frag_op, None
                data, self.frag = b"".join(self.frag), []
                return ("message", op, data)

    # -- expectations ----------------------------------------------------------------

    def expect_message(self, op, payload, wait=None, what=""):
        try:
            ev = self.next_event(wait)
        except Timeout as e:
            raise Timeout("no echo of the %s message (%d bytes)%s: %s"
                          % (OP_NAMES[op], len(payload), what, e))
        if ev[0] == "message" and ev[1] == op and ev[2] == payload:
            return
        if ev[0] == "message" and ev[1] == op:
            if len(ev[2]) != len(payload):
                raise CaseFailed("echoed %s message has %d bytes, expected %d%s"
                                 % (OP_NAMES[op], len(ev[2]), len(payload), what))
            first = next(i for i in range(len(payload)) if ev[2][i] != payload[i])
            raise CaseFailed("echoed %s message differs at byte %d%s" % (OP_NAMES[op], first, what))
        raise CaseFailed("expected echo of %s message (%d bytes %s), got %s%s"
                         % (OP_NAMES[op], len(payload), preview(payload), show(ev), what))

    def expect_pong(self, payload, wait=None, what=""):
        try:
            ev = self.next_event(wait)
        except Timeout as e:
            raise Timeout("no pong for ping %s%s: %s" % (preview(payload), what, e))
        if ev[0] == "pong" and ev[1] == payload:
            return
        raise CaseFailed("expected pong %s, got %s%s" % (preview(payload), show(ev), what))

    def expect_quiet(self, secs, what=""):
        """Nothing at all may arrive within secs."""
        try:
            ev = self.next_event(secs)
        except Timeout:
            return
        raise CaseFailed("expected nothing%s, got %s" % (what, show(ev)))

    def expect_close(self, codes, wait=None, what="", reply=True):
        """The next event must be a close frame with a code in codes (None: no code).
        Then answer it (unless the client already sent a close) and require the server
        to close TCP."""
        try:
            ev = self.next_event(wait)
        except Timeout as e:
            raise Timeout("expected close %s%s, got nothing (%s)" % (fmt_codes(codes), what, e))
        if ev[0] != "close":
            raise CaseFailed("expected close %s%s, got %s" % (fmt_codes(codes), what, show(ev)))
        if ev[1] not in codes:
            raise CaseFailed("expected close %s%s, got %s" % (fmt_codes(codes), what, show(ev)))
        if reply:
            self.send_frame(OP_CLOSE, close_payload(ev[1]))
        self.expect_tcp_close()
        return ev

    def expect_tcp_close(self, wait=2.0):
        try:
            while True:
                ev = self.next_event(wait)
                if ev[0] == "eof":
                    return
                raise CaseFailed("after the close handshake the server sent %s" % show(ev))
        except Timeout:
            raise Timeout("server did not close TCP after the close handshake")

    def expect_echo_or_too_big(self, op, payload, what=""):
        """Echo when the message fits the server's limit, else close 1009."""
        if len(payload) > self.t.suite.max_message:
            self.expect_close((1009,), what=" for a %d-byte message over the %d-byte limit%s"
                              % (len(payload), self.t.suite.max_message, what))
            return False
        self.expect_message(op, payload, what=what)
        return True

    def close_normal(self, code=1000, reason=b"", expect=None, wait=None):
        """Client-initiated close; the server must answer with expect (default: the same
        code) and close TCP.  Anything else arriving first fails."""
        if expect is None:
            expect = (code,)
        self.send_frame(OP_CLOSE, close_payload(code, reason))
        try:
            ev = self.next_event(wait)
        except Timeout as e:
            raise Timeout("no close frame in answer to close %s: %s" % (code, e))
        if ev[0] != "close":
            raise CaseFailed("expected close %s in answer to close %s, got %s"
                             % (fmt_codes(expect), code, show(ev)))
        if ev[1] not in expect:
            raise CaseFailed("close %s answered with %s, expected %s"
                             % (code, show(ev), fmt_codes(expect)))
        self.expect_tcp_close()

    # -- HTTP -------------------------------------------------------------------------

    def read_http(self, wait=None):
        until = self.until(wait)
        while True:
            end = self.rbuf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.rbuf) > 65536:
                raise CaseFailed("HTTP response header block longer than 64 KiB")
            if self.eof:
                if self.rbuf:
                    raise CaseFailed("connection closed inside the HTTP response header: %s"
                                     % preview(self.rbuf, 80))
                raise CaseFailed("connection closed without an HTTP response%s"
                                 % (" (reset)" if self.reset else ""))
            if not self._wait_readable(until):
                raise Timeout("timeout waiting for the HTTP response%s"
                              % ((" (got %s)" % preview(self.rbuf, 60)) if self.rbuf else ""))
            self._recv_some()
        head = bytes(self.rbuf[:end]).decode("latin-1")
        del self.rbuf[:end + 4]
        lines = head.split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise CaseFailed("bad HTTP status line %r" % lines[0])
        headers = {}
        for line in lines[1:]:
            if ":" not in line:
                raise CaseFailed("bad HTTP response header line %r" % line)
            name, value = line.split(":", 1)
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        return int(m.group(1)), headers

    def read_exact(self, n, wait=None):
        if not self._need(n, self.until(wait), "%d bytes of HTTP body" % n):
            raise CaseFailed("connection closed inside the HTTP body (%d of %d bytes)"
                             % (len(self.rbuf), n))
        data = bytes(self.rbuf[:n])
        del self.rbuf[:n]
        return data

    def expect_http_error(self, statuses, checks=(), wait=None):
        """A complete error response with a status in statuses, Content-Length and
        Connection: close, after which the server closes the connection."""
        status, headers = self.read_http(wait)
        if status not in statuses:
            raise CaseFailed("expected HTTP %s, got %d" % ("/".join(map(str, statuses)), status))
        for name, want in checks:
            vals = headers.get(name.lower())
            if not vals:
                raise CaseFailed("HTTP %d response lacks %s: %s" % (status, name, want))
            if not any(token_match(v, want) for v in vals):
                raise CaseFailed("HTTP %d response has %s: %s, expected %s"
                                 % (status, name, ", ".join(vals), want))
        cl = headers.get("content-length")
        if not cl or len(cl) != 1 or not cl[0].isdigit():
            raise CaseFailed("HTTP %d response without a single valid Content-Length" % status)
        conn = headers.get("connection", [])
        if not any(token_match(v, "close") for v in conn):
            raise CaseFailed("HTTP %d response without Connection: close" % status)
        self.read_exact(int(cl[0]), wait)
        deadline = time.monotonic() + 2.0
        while not self.eof:
            if self.rbuf:
                raise CaseFailed("bytes after the HTTP %d response body: %s"
                                 % (status, preview(self.rbuf)))
            if not self._wait_readable(min(deadline, self.t.deadline)):
                raise Timeout("server did not close the connection after HTTP %d" % status)
            self._recv_some()
        if self.rbuf:
            raise CaseFailed("bytes after the HTTP %d response body: %s" % (status, preview(self.rbuf)))
        return status, headers


def token_match(value, want):
    """Does a comma-separated header value contain the token want (case-insensitive)?"""
    return want.lower() in [v.strip().lower() for v in value.split(",")]


def fmt_codes(codes):
    return "/".join("none" if c is None else str(c) for c in codes)


# --------------------------------------------------------------------------------------
# handshake requests

def build_request(host_header, key, method="GET", path="/", version="HTTP/1.1",
                  drop=(), replace=None, extra=()):
    headers = [("Host", host_header), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]
    replace = replace or {}
    out = []
    for name, value in headers:
        if name in drop:
            continue
        out.append((name, replace.get(name, value)))
    out.extend(extra)
    lines = ["%s %s %s" % (method, path, version)]
    lines += [name if value is None else "%s: %s" % (name, value) for name, value in out]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def new_key():
    return base64.b64encode(os.urandom(16)).decode("ascii")


# --------------------------------------------------------------------------------------
# per-case context

class T:
    def __init__(self, suite, timeout):
        self.suite = suite
        self.deadline = time.monotonic() + timeout
        self.sockets = []

    @property
    def host_header(self):
        h = self.suite.host
        return ("[%s]:%d" % (h, self.suite.port)) if ":" in h else ("%s:%d" % (h, self.suite.port))

    def raw(self):
        return Conn(self)

    def check_101(self, c, key):
        status, headers = c.read_http()
        if status != 101:
            raise CaseFailed("handshake answered with HTTP %d" % status)
        if not any(token_match(v, "websocket") for v in headers.get("upgrade", [])):
            raise CaseFailed("101 response without Upgrade: websocket")
        if not any(token_match(v, "upgrade") for v in headers.get("connection", [])):
            raise CaseFailed("101 response without Connection: Upgrade")
        acc = headers.get("sec-websocket-accept", [])
        if acc != [accept_for(key)]:
            raise CaseFailed("wrong Sec-WebSocket-Accept %r, expected %r" % (acc, accept_for(key)))
        if "sec-websocket-protocol" in headers:
            raise CaseFailed("server selected subprotocol %r though none was offered or all are "
                             "unknown" % headers["sec-websocket-protocol"])
        if "sec-websocket-extensions" in headers:
            raise CaseFailed("server accepted extension %r (categories 12/13 would be needed)"
                             % headers["sec-websocket-extensions"])
        return headers

    def ws(self, request=None, key=None, chop=None, delay=0.0, first_bytes=b""):
        """Open a WebSocket connection (checks the 101 response)."""
        c = Conn(self)
        if key is None:
            key = new_key()
        if request is None:
            request = build_request(self.host_header, key)
        c.send(request + first_bytes, chop=chop, delay=delay)
        self.check_101(c, key)
        return c

    def close_all(self):
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass


# --------------------------------------------------------------------------------------
# case registry

class Case:
    def __init__(self, cid, desc, fn, timeout, quick):
        self.cid, self.desc, self.fn, self.timeout, self.quick = cid, desc, fn, timeout, quick


CASES = []


def add(cid, desc, fn, timeout=5.0, quick=True):
    CASES.append(Case(cid, desc, fn, timeout, quick))


def case_key(cid):
    parts = cid.split(".")
    head = parts[0]
    order = {"H": (0, 0), "F": (99, 0)}.get(head, (1, int(head) if head.isdigit() else 50))
    return order + tuple(int(p) if p.isdigit() else 0 for p in parts[1:])


# --------------------------------------------------------------------------------------
# H: handshake

def register_handshake():
    def ok_then_echo(t, c):
        c.send_frame(OP_TEXT, b"handshake ok")
        c.expect_message(OP_TEXT, b"handshake ok")
        c.close_normal()

    def h_basic(t):
        # RFC 6455 example key and its accept value
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        if accept_for(key) != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=":
            raise CaseFailed("suite self-check of the accept computation failed")
        c = t.ws(key=key)
        ok_then_echo(t, c)
    add("H.1", "valid handshake: 101 with the correct Sec-WebSocket-Accept, no subprotocol", h_basic)

    def error_case(request, statuses, checks=()):
        def fn(t):
            c = t.raw()
            c.send(request(t) if callable(request) else request)
            c.expect_http_error(statuses, checks)
        return fn

    def req(**kw):
        return lambda t: build_request(t.host_header, new_key(), **kw)

    add("H.2", "POST gets 405 with Allow: GET", error_case(req(method="POST"), (405,), [("Allow", "GET")]))
    add("H.3", "DELETE gets 405 with Allow: GET", error_case(req(method="DELETE"), (405,), [("Allow", "GET")]))
    add("H.4", "HTTP/1.0 gets 505", error_case(req(version="HTTP/1.0"), (505,)))
    add("H.5", "request line without version gets 400",
        error_case(lambda t: b"GET /\r\nHost: " + t.host_header.encode() + b"\r\n\r\n", (400,)))
    add("H.6", "request line with an extra word gets 400", error_case(req(path="/ extra"), (400,)))
    add("H.7", "garbage request line gets 400", error_case(b"HELLO\r\n\r\n", (400,)))
    add("H.8", "header line without a colon gets 400",
        error_case(req(extra=[("X-Broken-Header-Line-Without-Colon", None)]), (400,)))
    add("H.9", "no Host header gets 400", error_case(req(drop=("Host",)), (400,)))
    add("H.10", "two Host headers get 400",
        error_case(lambda t: build_request(t.host_header, new_key(), extra=[("Host", t.host_header)]), (400,)))
    add("H.11", "Connection without the upgrade token gets 400",
        error_case(req(replace={"Connection": "keep-alive"}), (400,)))
    add("H.12", "missing Sec-WebSocket-Key gets 400", error_case(req(drop=("Sec-WebSocket-Key",)), (400,)))
    add("H.13", "Sec-WebSocket-Key of 15 bytes gets 400",
        error_case(req(replace={"Sec-WebSocket-Key": base64.b64encode(b"x" * 15).decode()}), (400,)))
    add("H.14", "Sec-WebSocket-Key of 17 bytes gets 400",
        error_case(req(replace={"Sec-WebSocket-Key": base64.b64encode(b"x" * 17).decode()}), (400,)))
    add("H.15", "Sec-WebSocket-Key that is not base64 gets 400",
        error_case(req(replace={"Sec-WebSocket-Key": "!!!!!!!!!!!!!!!!!!!!!!=="}), (400,)))

    def big_headers(t):
        extra = [("X-Padding-%03d" % i, "p" * 60) for i in range(80)]
        return build_request(t.host_header, new_key(), extra=extra)
    add("H.16", "header block over 4096 bytes (many headers) gets 431 or 413",
        error_case(big_headers, (431, 413)))
    add("H.17", "header block over 4096 bytes (one long header) gets 431 or 413",
        error_case(lambda t: build_request(t.host_header, new_key(), extra=[("X-Long", "q" * 6000)]),
                   (431, 413)))

    upgrade_checks = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13")]
    add("H.18", "no Upgrade header gets 426 with Upgrade, Connection and Sec-WebSocket-Version",
        error_case(req(drop=("Upgrade",)), (426,), upgrade_checks))
    add("H.19", "Upgrade: h2c gets 426 with Upgrade, Connection and Sec-WebSocket-Version",
        error_case(req(replace={"Upgrade": "h2c"}), (426,), upgrade_checks))
    add("H.20", "Sec-WebSocket-Version: 8 gets 426 with Sec-WebSocket-Version: 13",
        error_case(req(replace={"Sec-WebSocket-Version": "8"}), (426,), [("Sec-WebSocket-Version", "13")]))
    add("H.21", "Sec-WebSocket-Version: 14 gets 426 with Sec-WebSocket-Version: 13",
        error_case(req(replace={"Sec-WebSocket-Version": "14"}), (426,), [("Sec-WebSocket-Version", "13")]))

    def h_missing_version(t):
        c = t.raw()
        c.send(build_request(t.host_header, new_key(), drop=("Sec-WebSocket-Version",)))
        status, headers = c.expect_http_error((426, 400))
        if status == 426 and not any(token_match(v, "13") for v in headers.get("sec-websocket-version", [])):
            raise CaseFailed("426 without Sec-WebSocket-Version: 13")
    add("H.22", "missing Sec-WebSocket-Version gets 426 (or 400)", h_missing_version)

    def h_tokens(t):
        key = new_key()
        request = ("GET /some/path?x=1 HTTP/1.1\r\nhost: %s\r\nUPGRADE: WebSocket\r\n"
                   "connection: keep-alive, Upgrade\r\nsec-websocket-key: %s\r\n"
                   "SEC-WEBSOCKET-VERSION: 13\r\nUser-Agent:   spaces around   \r\n\r\n"
                   % (t.host_header, key)).encode()
        ok_then_echo(t, t.ws(request=request, key=key))
    add("H.23", "case-insensitive names and tokens, Connection token list: 101", h_tokens)

    def h_upgrade_list(t):
        key = new_key()
        ok_then_echo(t, t.ws(request=build_request(t.host_header, key,
                                                    replace={"Upgrade": "foo/2, websocket"}), key=key))
    add("H.24", "Upgrade token list containing websocket: 101", h_upgrade_list)

    def h_bytewise(t):
        ok_then_echo(t, t.ws(chop=1, delay=0.0005))
    add("H.25", "request sent one byte at a time: 101", h_bytewise)

    def h_same_write(t):
        first = frame(OP_TEXT, b"first bytes after the header block") + frame(OP_BINARY, b"\x00\x01\x02")
        c = t.ws(first_bytes=first)
        c.expect_message(OP_TEXT, b"first bytes after the header block")
        c.expect_message(OP_BINARY, b"\x00\x01\x02")
        c.close_normal()
    add("H.26", "frames in the same write as the header block are not lost", h_same_write)

    def h_subprotocol(t):
        key = new_key()
        c = t.ws(request=build_request(t.host_header, key,
                                       extra=[("Sec-WebSocket-Protocol", "chat, superchat")]), key=key)
        ok_then_echo(t, c)
    add("H.27", "offered subprotocols: 101 selecting none", h_subprotocol)

    def h_deflate(t):
        key = new_key()
        c = t.ws(request=build_request(t.host_header, key, extra=[
            ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]), key=key)
        ok_then_echo(t, c)
    add("H.28", "offered permessage-deflate: 101 without extensions", h_deflate)

    def h_slowloris(t):
        c = t.raw()
        start = time.monotonic()
        c.send(b"GET / HTTP/1.1\r\nHost: " + t.host_header.encode() + b"\r\nX-Slow: ")
        # trickle one byte every 0.5 s, never finishing the header block
        while True:
            now = time.monotonic()
            if now - start > 13.0:
                raise CaseFailed("incomplete handshake still open after 13 s")
            if c._wait_readable(now + 0.5):
                c._recv_some()
            if c.eof or c.send_broken:
                break
            c.send(b"a")
        took = time.monotonic() - start
        if took < 5.0:
            raise CaseFailed("incomplete handshake closed after only %.1f s" % took)
    add("H.30", "two Sec-WebSocket-Key headers get 400",
        error_case(req(extra=[("Sec-WebSocket-Key", new_key())]), (400,)))
    add("H.31", "request line over 4096 bytes gets 414, 431 or 413",
        error_case(req(path="/" + "u" * 5000), (414, 431, 413)))

    def h_just_under_limit(t):
        key = new_key()
        base = build_request(t.host_header, key)
        pad = 4000 - len(base) - len("X-Pad: \r\n")
        request = build_request(t.host_header, key, extra=[("X-Pad", "p" * pad)])
        if len(request) != 4000:
            raise CaseFailed("suite error: request of %d bytes" % len(request))
        ok_then_echo(t, t.ws(request=request, key=key))
    add("H.32", "header block of 4000 bytes (under the 4096 default): 101", h_just_under_limit)

    add("H.29", "slow handshake (one byte every 0.5 s) is closed after the handshake timeout",
        h_slowloris, timeout=20.0, quick=False)


# --------------------------------------------------------------------------------------
# 1: framing

def register_framing():
    sizes = [0, 125, 126, 127, 128, 65535, 65536]

    def echo_case(op, n, chop=None):
        def fn(t):
            data = b"*" * n if op == OP_TEXT else b"\xfe" * n
            c = t.ws()
            c.send_frame(op, data, chop=chop)
            if c.expect_echo_or_too_big(op, data):
                c.close_normal()
        return fn

    for group, op, name in ((1, OP_TEXT, "text"), (2, OP_BINARY, "binary")):
        for i, n in enumerate(sizes):
            add("1.%d.%d" % (group, i + 1), "%s message of %d bytes" % (name, n), echo_case(op, n))
        add("1.%d.8" % group, "%s message of 65536 bytes in 997-byte chops" % name,
            echo_case(op, 65536, chop=997))


# --------------------------------------------------------------------------------------
# 2: ping / pong

def register_pings():
    def ping_case(payload, chop=None):
        def fn(t):
            c = t.ws()
            c.send_frame(OP_PING, payload, chop=chop, delay=0.0002 if chop else 0)
            c.expect_pong(payload)
            c.close_normal()
        return fn

    add("2.1", "ping without payload", ping_case(b""))
    add("2.2", "ping with small text payload", ping_case(b"Hello, world!"))
    add("2.3", "ping with small binary payload", ping_case(b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"))
    add("2.4", "ping with 125-byte binary payload", ping_case(b"\xfe" * 125))

    def c2_5(t):
        c = t.ws()
        c.send_frame(OP_PING, b"\xfe" * 126)
        c.expect_close((1002,))
    add("2.5", "ping with 126-byte payload fails with 1002", c2_5)
    add("2.6", "ping with 125-byte payload sent byte by byte", ping_case(b"\xfe" * 125, chop=1))

    def unsolicited(payload, then_ping=False):
        def fn(t):
            c = t.ws()
            c.send_frame(OP_PONG, payload)
            if then_ping:
                c.send_frame(OP_PING, b"ping payload")
                c.expect_pong(b"ping payload")
            else:
                c.expect_quiet(0.1, " after an unsolicited pong")
            c.close_normal()
        return fn

    add("2.7", "unsolicited pong without payload is ignored", unsolicited(b""))
    add("2.8", "unsolicited pong with payload is ignored", unsolicited(b"unsolicited pong payload"))
    add("2.9", "unsolicited pong, then ping: only the pong for the ping",
        unsolicited(b"unsolicited pong payload", then_ping=True))

    def ten_pings(octets):
        def fn(t):
            c = t.ws()
            payloads = [("payload-%d" % i).encode() for i in range(10)]
            data = b"".join(frame(OP_PING, p) for p in payloads)
            if octets:
                c.send(data, chop=1, delay=0.0001)
            else:
                c.send(data)
            for p in payloads:
                c.expect_pong(p)
            c.close_normal()
        return fn

    add("2.10", "ten pings, ten pongs", ten_pings(False))
    add("2.11", "ten pings sent byte by byte, ten pongs", ten_pings(True))


# --------------------------------------------------------------------------------------
# 3: reserved bits

def register_rsv():
    msg = b"Hello, world!"

    def c3_1(t):
        c = t.ws()
        c.send_frame(OP_TEXT, msg, rsv=1)
        c.expect_close((1002,))
    add("3.1", "text message with RSV = 1 fails", c3_1)

    def msg_bad_ping(rsv, mode):
        def fn(t):
            c = t.ws()
            c.send_frames([frame(OP_TEXT, msg), frame(OP_TEXT, msg, rsv=rsv), frame(OP_PING, b"")], mode)
            c.expect_message(OP_TEXT, msg)
            c.expect_close((1002,), what=" (and no pong)")
        return fn

    add("3.2", "message, message with RSV = 2, ping: echo, then fail", msg_bad_ping(2, "one"))
    add("3.3", "as 3.2 with RSV = 3, frame-wise chops", msg_bad_ping(3, "frame"))
    add("3.4", "as 3.2 with RSV = 4, octet-wise chops", msg_bad_ping(4, "octet"))

    def single(op, payload, rsv):
        def fn(t):
            c = t.ws()
            c.send_frame(op, payload, rsv=rsv)
            c.expect_close((1002,))
        return fn

    add("3.5", "binary message with RSV = 5 fails", single(OP_BINARY, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 5))
    add("3.6", "ping with RSV = 6 fails", single(OP_PING, b"Hello, world!", 6))
    add("3.7", "close with RSV = 7 fails", single(OP_CLOSE, close_payload(1000), 7))


# --------------------------------------------------------------------------------------
# 4: opcodes

def register_opcodes():
    msg = b"Hello, world!"

    def bad_only(opcode, payload):
        def fn(t):
            c = t.ws()
            c.send_frame(opcode, payload)
            c.expect_close((1002,))
        return fn

    def msg_bad_ping(opcode, payload):
        def fn(t):
            c = t.ws()
            c.send_frames([frame(OP_TEXT, msg), frame(opcode, payload), frame(OP_PING, b"")])
            c.expect_message(OP_TEXT, msg)
            c.expect_close((1002,), what=" (and no pong)")
        return fn

    for group, ops in ((1, (3, 4, 5, 6, 7)), (2, (11, 12, 13, 14, 15))):
        kind = "non-control" if group == 1 else "control"
        add("4.%d.1" % group, "reserved %s opcode %d" % (kind, ops[0]), bad_only(ops[0], b""))
        add("4.%d.2" % group, "reserved %s opcode %d with payload" % (kind, ops[1]),
            bad_only(ops[1], b"reserved opcode payload"))
        add("4.%d.3" % group, "message, reserved %s opcode %d, ping" % (kind, ops[2]),
            msg_bad_ping(ops[2], b""))
        add("4.%d.4" % group, "message, reserved %s opcode %d with payload, ping" % (kind, ops[3]),
            msg_bad_ping(ops[3], b"reserved opcode payload"))
        add("4.%d.5" % group, "message, reserved %s opcode %d with payload, ping" % (kind, ops[4]),
            msg_bad_ping(ops[4], b"reserved opcode payload"))


# --------------------------------------------------------------------------------------
# 5: fragmentation

def register_fragmentation():
    def fragmented_control(op):
        def fn(t):
            c = t.ws()
            c.send_frames([frame(op, b"fragment1", fin=False), frame(OP_CONT, b"fragment2")])
            c.expect_close((1002,))
        return fn

    add("5.1", "ping in 2 fragments fails", fragmented_control(OP_PING))
    add("5.2", "pong in 2 fragments fails", fragmented_control(OP_PONG))

    def two_frags(mode, ping):
        def fn(t):
            c = t.ws()
            fr = [frame(OP_TEXT, b"fragment1", fin=False)]
            if ping:
                fr.append(frame(OP_PING, b"ping payload"))
            fr.append(frame(OP_CONT, b"fragment2"))
            c.send_frames(fr, mode)
            if ping:
                c.expect_pong(b"ping payload", what=" (before the message completes)")
            c.expect_message(OP_TEXT, b"fragment1fragment2")
            c.close_normal()
        return fn

    add("5.3", "text message in 2 fragments", two_frags("one", False))
    add("5.4", "text message in 2 fragments, frame-wise chops", two_frags("frame", False))
    add("5.5", "text message in 2 fragments, octet-wise chops", two_frags("octet", False))
    add("5.6", "text message in 2 fragments, a ping in between", two_frags("one", True))
    add("5.7", "as 5.6, frame-wise chops", two_frags("frame", True))
    add("5.8", "as 5.6, octet-wise chops", two_frags("octet", True))

    def nothing_to_continue(fin, mode):
        def fn(t):
            c = t.ws()
            c.send_frames([frame(OP_CONT, b"non-continuation payload", fin=fin),
                           frame(OP_TEXT, b"Hello, world!")], mode)
            c.expect_close((1002,))
        return fn

    for i, mode in enumerate(("one", "frame", "octet")):
        add("5.%d" % (9 + i), "continuation (FIN) with nothing to continue, then a message (%s)" % mode,
            nothing_to_continue(True, mode))
    for i, mode in enumerate(("one", "frame", "octet")):
        add("5.%d" % (12 + i), "continuation (no FIN) with nothing to continue, then a message (%s)" % mode,
            nothing_to_continue(False, mode))

    def c5_15(t):
        c = t.ws()
        c.send_frames([frame(OP_TEXT, b"fragment1", fin=False), frame(OP_CONT, b"fragment2"),
                       frame(OP_CONT, b"fragment3", fin=False), frame(OP_TEXT, b"fragment4")])
        c.expect_message(OP_TEXT, b"fragment1fragment2")
        c.expect_close((1002,))
    add("5.15", "fragmented message, then continuation with nothing to continue", c5_15)

    def repeated(first_fin):
        def fn(t):
            c = t.ws()
            one = [frame(OP_CONT, b"fragment1", fin=first_fin), frame(OP_TEXT, b"fragment2", fin=False),
                   frame(OP_CONT, b"fragment3")]
            c.send_frames(one + one)
            c.expect_close((1002,))
        return fn

    add("5.16", "2x: continuation (no FIN) with nothing to continue, fragmented message", repeated(False))
    add("5.17", "2x: continuation (FIN) with nothing to continue, fragmented message", repeated(True))

    def c5_18(t):
        c = t.ws()
        c.send_frames([frame(OP_TEXT, b"fragment1", fin=False), frame(OP_TEXT, b"fragment2")])
        c.expect_close((1002,))
    add("5.18", "new text frame inside a fragmented message fails", c5_18)

    def slow_frags(mode):
        def fn(t):
            c = t.ws()
            part1 = [frame(OP_TEXT, b"fragment1", fin=False), frame(OP_CONT, b"fragment2", fin=False),
                     frame(OP_PING, b"pongme 1!")]
            part2 = [frame(OP_CONT, b"fragment3", fin=False), frame(OP_CONT, b"fragment4", fin=False),
                     frame(OP_PING, b"pongme 2!")]
            for part, ping in ((part1, b"pongme 1!"), (part2, b"pongme 2!")):
                sent = time.monotonic()
                c.send_frames(part, mode)
                c.expect_pong(ping, wait=1.0, what=" within 1 s, in the middle of a message")
                time.sleep(max(0.0, sent + 1.0 - time.monotonic()))
            c.send_frame(OP_CONT, b"fragment5")
            c.expect_message(OP_TEXT, b"fragment1fragment2fragment3fragment4fragment5")
            c.close_normal()
        return fn

    add("5.19", "5 fragments with 2 pings in between and 1 s pauses: prompt pongs", slow_frags("one"), 8.0)
    add("5.20", "as 5.19, frame-wise chops", slow_frags("frame"), 8.0)


# --------------------------------------------------------------------------------------
# 6: UTF-8

def register_utf8():
    vec = utf8_vectors.by_case()

    def send_fragments(c, op, pieces):
        frs = []
        for i, p in enumerate(pieces):
            frs.append(frame(op if i == 0 else OP_CONT, p, fin=(i == len(pieces) - 1)))
        c.send(b"".join(frs))

    def valid_fragments(pieces):
        def fn(t):
            c = t.ws()
            send_fragments(c, OP_TEXT, pieces)
            c.expect_message(OP_TEXT, b"".join(pieces))
            c.close_normal()
        return fn

    add("6.1.1", "empty text message", valid_fragments([b""]))
    add("6.1.2", "text message of 3 empty fragments", valid_fragments([b"", b"", b""]))
    add("6.1.3", "text message of fragments: empty, non-empty, empty",
        valid_fragments([b"", vec["6.1.3"][1], b""]))
    add("6.2.1", "valid UTF-8 in one fragment", valid_fragments([HELLO_UTF8]))
    cut = 11  # a code point boundary in HELLO_UTF8
    add("6.2.2", "valid UTF-8 in 2 fragments split on a code point boundary",
        valid_fragments([HELLO_UTF8[:cut], HELLO_UTF8[cut:]]))
    add("6.2.3", "valid UTF-8 in 1-byte fragments (splits inside code points)",
        valid_fragments([HELLO_UTF8[i:i + 1] for i in range(len(HELLO_UTF8))]))
    add("6.2.4", "kosme in 1-byte fragments", valid_fragments([KOSME[i:i + 1] for i in range(len(KOSME))]))

    bad = vec["6.3.1"][1]

    def c6_3_1(t):
        c = t.ws()
        c.send_frame(OP_TEXT, bad)
        c.expect_close((1007,))
    add("6.3.1", "invalid UTF-8 (lone surrogate) in one frame fails with 1007", c6_3_1)

    def c6_3_2(t):
        c = t.ws()
        send_fragments(c, OP_TEXT, [bad[i:i + 1] for i in range(len(bad))])
        c.expect_close((1007,))
    add("6.3.2", "invalid UTF-8 in 1-byte fragments fails with 1007", c6_3_2)

    def failfast_frames(parts):
        def fn(t):
            c = t.ws()
            c.send_frame(OP_TEXT, parts[0], fin=False)
            c.expect_quiet(0.25, " after a valid first fragment")
            c.send_frame(OP_CONT, parts[1], fin=False)
            c.expect_close((1007,), wait=t.suite.failfast, what=" before the last fragment is sent (fail-fast)")
        return fn

    def failfast_chops(parts):
        def fn(t):
            c = t.ws()
            whole = b"".join(parts)
            f = frame(OP_TEXT, whole)
            hdr = len(f) - len(whole)
            a = hdr + len(parts[0])
            b = a + len(parts[1])
            c.send(f[:a])
            c.expect_quiet(0.25, " after a valid first chop")
            c.send(f[a:b])
            c.expect_close((1007,), wait=t.suite.failfast, what=" before the rest of the frame is sent (fail-fast)")
        return fn

    p641 = [KOSME, b"\xf4\x90\x80\x80", b"edited"]
    p642 = [KOSME + b"\xf4", b"\x90", b"\x80\x80edited"]
    add("6.4.1", "fail-fast: invalid code point in the 2nd of 3 fragments", failfast_frames(p641))
    add("6.4.2", "fail-fast: invalid byte alone in the 2nd of 3 fragments", failfast_frames(p642))
    add("6.4.3", "fail-fast: invalid code point in the 2nd of 3 chops of one frame", failfast_chops(p641))
    add("6.4.4", "fail-fast: invalid byte alone in the 2nd of 3 chops of one frame", failfast_chops(p642))

    def vector_case(desc, data, valid, fail_at):
        def fn(t):
            if valid:
                c = t.ws()
                c.send_frame(OP_TEXT, data)
                c.expect_message(OP_TEXT, data)
                if len(data) > 1:
                    send_fragments(c, OP_TEXT, [data[i:i + 1] for i in range(len(data))])
                    c.expect_message(OP_TEXT, data, what=" (sent in 1-byte fragments)")
                c.close_normal()
                return
            # whole message in one frame
            c = t.ws()
            c.send_frame(OP_TEXT, data)
            c.expect_close((1007,), what=" for the complete message")
            # fail-fast: the valid prefix is accepted, the offending byte fails the
            # connection before the message is finished
            c = t.ws()
            c.send_frame(OP_TEXT, data[:fail_at], fin=False)
            c.send_frame(OP_PING, b"sync")
            c.expect_pong(b"sync", what=" after the valid prefix (%d bytes)" % fail_at)
            if fail_at < len(data):
                c.send_frame(OP_CONT, data[fail_at:fail_at + 1], fin=False)
                c.expect_close((1007,), wait=t.suite.failfast,
                               what=" after byte %d, before the message is finished (fail-fast)" % fail_at)
            else:
                c.send_frame(OP_CONT, b"", fin=True)
                c.expect_close((1007,), what=" when the message ends inside a code point")
        return fn

    for cid, desc, data, valid, fail_at in utf8_vectors.VECTORS:
        parts = cid.split(".")
        if int(parts[1]) < 5:
            continue
        add(cid, "%s UTF-8: %s" % ("valid" if valid else "invalid", desc),
            vector_case(desc, data, valid, fail_at))


# --------------------------------------------------------------------------------------
# 7: close

VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
                     1012, 1013, 1014]
INVALID_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 1015]


def close_code_valid(code):
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def register_close():
    def c7_1_1(t):
        c = t.ws()
        c.send_frames([frame(OP_TEXT, b"Hello World!"), frame(OP_CLOSE, close_payload(1000))])
        c.expect_message(OP_TEXT, b"Hello World!")
        c.expect_close((1000,), reply=False)
    add("7.1.1", "message then close: echo, then close 1000", c7_1_1)

    def after_close(extra, desc):
        def fn(t):
            c = t.ws()
            c.send_frames([frame(OP_CLOSE, close_payload(1000))] + extra)
            c.expect_close((1000,), what=" and nothing else (%s)" % desc, reply=False)
        return fn

    add("7.1.2", "two close frames", after_close([frame(OP_CLOSE, close_payload(1000))], "second close"))
    add("7.1.3", "ping after close gets no pong", after_close([frame(OP_PING, b"ping after close")], "no pong"))
    add("7.1.4", "text after close gets no echo", after_close([frame(OP_TEXT, b"text after close")], "no echo"))

    def c7_1_5(t):
        c = t.ws()
        c.send_frames([frame(OP_TEXT, b"fragment1", fin=False), frame(OP_CLOSE, close_payload(1000)),
                       frame(OP_CONT, b"fragment2")])
        c.expect_close((1000,), what=" and no echo", reply=False)
    add("7.1.5", "first fragment, close, last fragment: close only", c7_1_5)

    def c7_1_6(t):
        c = t.ws()
        big = text_payload(256 * 1024)
        c.send_frames([frame(OP_TEXT, big), frame(OP_CLOSE, close_payload(1000)),
                       frame(OP_PING, b"ping after close")])
        if len(big) > t.suite.max_message:
            c.expect_close((1009,), what=" for a 256 KiB message over the limit", reply=False)
            return
        ev = c.next_event()
        if ev[0] == "message":
            if ev[1] != OP_TEXT or ev[2] != big:
                raise CaseFailed("echo of the 256 KiB message is wrong: %s" % show(ev))
            ev = c.next_event()
        if ev[0] != "close" or ev[1] != 1000:
            raise CaseFailed("expected close 1000, got %s" % show(ev))
        c.expect_tcp_close()
    add("7.1.6", "256 KiB message, close, ping: (echo), close 1000, no pong", c7_1_6)

    def client_close(payload, expect):
        def fn(t):
            c = t.ws()
            c.send_frame(OP_CLOSE, payload)
            c.expect_close(expect, reply=False)
        return fn

    add("7.3.1", "close without payload: close without code or 1000", client_close(b"", (None, 1000)))
    add("7.3.2", "close with 1-byte payload fails with 1002", client_close(b"\x03", (1002,)))
    add("7.3.3", "close 1000 without reason", client_close(close_payload(1000), (1000,)))
    add("7.3.4", "close 1000 with short reason", client_close(close_payload(1000, b"Hello World!"), (1000,)))
    add("7.3.5", "close 1000 with 123-byte reason", client_close(close_payload(1000, b"x" * 123), (1000,)))
    add("7.3.6", "close with 124-byte reason (126-byte payload) fails with 1002",
        client_close(close_payload(1000, b"x" * 124), (1002,)))
    add("7.5.1", "close reason with invalid UTF-8 fails with 1002 (1007 accepted)",
        client_close(close_payload(1000, KOSME + b"\xed\xa0\x80edited"), (1002, 1007)))

    for i, code in enumerate(VALID_CLOSE_CODES):
        add("7.7.%d" % (i + 1), "valid close code %d is echoed" % code,
            client_close(close_payload(code), (code,)))
    for i, code in enumerate(INVALID_CLOSE_CODES):
        add("7.9.%d" % (i + 1), "invalid close code %d fails with 1002" % code,
            client_close(close_payload(code), (1002,)))
    add("7.13.1", "close code 5000 fails with 1002", client_close(close_payload(5000), (1002,)))
    add("7.13.2", "close code 65535 fails with 1002", client_close(close_payload(65535), (1002,)))

    def sweep(t):
        """Every code 0..5100 and a sample above, several connections at a time."""
        codes = list(range(0, 5101)) + list(range(5101, 65536, 97)) + [65535]
        errors = []
        lock = threading.Lock()
        it = iter(codes)

        def worker():
            while not errors:
                with lock:
                    code = next(it, None)
                if code is None:
                    return
                want = (code,) if close_code_valid(code) else (1002,)
                try:
                    c = t.ws()
                    c.send_frame(OP_CLOSE, close_payload(code, b"sweep"))
                    c.expect_close(want, reply=False)
                    c.sock.close()
                except CaseFailed as e:
                    with lock:
                        errors.append("code %d: %s" % (code, e))
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise CaseFailed(errors[0])
    add("7.14.1", "close codes 0..5100 and a sample up to 65535 (valid echoed, invalid 1002)",
        sweep, timeout=60.0, quick=False)


# --------------------------------------------------------------------------------------
# 9: limits and performance

def register_limits():
    K = 1024
    M = 1024 * 1024
    quick = {"9.1.1", "9.1.3", "9.1.6", "9.2.1", "9.2.6", "9.3.1", "9.3.5", "9.3.9", "9.4.1", "9.4.9",
             "9.5.1", "9.5.6", "9.6.1", "9.6.6", "9.7.1", "9.7.6", "9.8.1", "9.8.6"}

    def big_case(op, n, frag=None, chop=None):
        def fn(t):
            data = text_payload(n) if op == OP_TEXT else binary_payload(n)
            c = t.ws()
            wire = frames_of(op, data, frag) if frag else frame(op, data)
            c.send(wire, chop=chop)
            if c.expect_echo_or_too_big(op, data):
                c.close_normal()
        return fn

    def add9(cid, desc, fn, timeout=60.0):
        add(cid, desc, fn, timeout=timeout, quick=cid in quick)

    for group, op, name in ((1, OP_TEXT, "text"), (2, OP_BINARY, "binary")):
        for i, n in enumerate([64 * K, 256 * K, 1 * M, 4 * M, 8 * M, 16 * M]):
            add9("9.%d.%d" % (group, i + 1), "%s message of %s" % (name, human(n)), big_case(op, n))
    for group, op, name in ((3, OP_TEXT, "text"), (4, OP_BINARY, "binary")):
        for i, f in enumerate([64, 256, 1 * K, 4 * K, 16 * K, 64 * K, 256 * K, 1 * M, 4 * M]):
            add9("9.%d.%d" % (group, i + 1), "4 MiB %s message in %s fragments" % (name, human(f)),
                 big_case(op, 4 * M, frag=f))
    for group, op, name in ((5, OP_TEXT, "text"), (6, OP_BINARY, "binary")):
        for i, ch in enumerate([64, 128, 256, 512, 1024, 2048]):
            add9("9.%d.%d" % (group, i + 1), "1 MiB %s message in %d-byte chops" % (name, ch),
                 big_case(op, 1 * M, chop=ch))

    def round_trips(op, n):
        def fn(t):
            data = text_payload(n) if op == OP_TEXT else binary_payload(n)
            c = t.ws()
            f = frame(op, data)
            if n > t.suite.max_message:
                c.send(f)
                c.expect_echo_or_too_big(op, data)
                return
            for i in range(1000):
                c.send(f)
                c.expect_message(op, data, what=" (round trip %d)" % i)
            c.close_normal()
        return fn

    for group, op, name in ((7, OP_TEXT, "text"), (8, OP_BINARY, "binary")):
        for i, n in enumerate([0, 16, 64, 256, 1024, 4096]):
            add9("9.%d.%d" % (group, i + 1), "1000 %s round trips of %d bytes" % (name, n),
                 round_trips(op, n))


def human(n):
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return "%d MiB" % (n // (1024 * 1024))
    if n >= 1024 and n % 1024 == 0:
        return "%d KiB" % (n // 1024)
    return "%d B" % n


# --------------------------------------------------------------------------------------
# 10: auto-fragmentation

def register_misc():
    def c10_1_1(t):
        data = b"*" * 65536
        c = t.ws()
        c.send(frames_of(OP_TEXT, data, 1300))
        if c.expect_echo_or_too_big(OP_TEXT, data):
            c.close_normal()
    add("10.1.1", "64 KiB text message in 1300-byte frames", c10_1_1)


# --------------------------------------------------------------------------------------
# F: frame rules beyond the Autobahn cases

def register_frame_rules():
    def f_unmasked(op, payload):
        def fn(t):
            c = t.ws()
            c.send_frame(op, payload, masked=False)
            c.expect_close((1002,))
        return fn

    add("F.1", "unmasked text frame fails with 1002", f_unmasked(OP_TEXT, b"unmasked"))
    add("F.2", "unmasked ping fails with 1002", f_unmasked(OP_PING, b"unmasked"))

    def f_top_bit(t):
        c = t.ws()
        c.send(bytes((0x82, 0xFF)) + (0x8000000000000005).to_bytes(8, "big") + os.urandom(4) + b"abcde")
        c.expect_close((1002,))
    add("F.3", "64-bit length with the top bit set fails with 1002", f_top_bit)

    def f_too_big_frame(t):
        c = t.ws()
        limit = t.suite.max_message
        c.send(bytes((0x82, 0xFF)) + (limit + 1).to_bytes(8, "big") + os.urandom(4))
        c.expect_close((1009,), wait=2.0, what=" on the header of a frame over the limit (no payload sent)")
    add("F.4", "frame header announcing max-message + 1 bytes fails with 1009 at once", f_too_big_frame)

    def f_too_big_message(t):
        c = t.ws()
        limit = t.suite.max_message
        first = limit // 2
        c.send(frame(OP_BINARY, binary_payload(first), fin=False))
        c.send_frame(OP_PING, b"sync")
        c.expect_pong(b"sync", what=" after the first fragment", wait=30.0)
        c.send(bytes((0x00, 0xFF)) + (limit - first + 1).to_bytes(8, "big") + os.urandom(4))
        c.expect_close((1009,), wait=2.0,
                       what=" on the header of a continuation taking the message over the limit")
    add("F.5", "fragmented message going over max-message fails with 1009 at the frame header",
        f_too_big_message, timeout=30.0)

    def f_exact(t):
        n = t.suite.max_message
        data = binary_payload(n)
        c = t.ws()
        c.send(frames_of(OP_BINARY, data, (n + 1) // 2 or 1))
        c.expect_message(OP_BINARY, data)
        c.close_normal()
    add("F.6", "binary message of exactly max-message bytes in 2 fragments is echoed", f_exact,
        timeout=60.0)

    def f_text_too_big_utf8(t):
        c = t.ws()
        limit = t.suite.max_message
        c.send(bytes((0x81, 0xFF)) + (limit + 1).to_bytes(8, "big") + os.urandom(4))
        c.expect_close((1009,), wait=2.0, what=" on the header of a text frame over the limit")
    add("F.7", "text frame header announcing max-message + 1 bytes fails with 1009 at once",
        f_text_too_big_utf8)

    def f_no_close_reply(t):
        c = t.ws()
        c.send_frame(OP_TEXT, b"bad", rsv=1)
        ev = c.next_event()
        if ev[0] != "close" or ev[1] != 1002:
            raise CaseFailed("expected close 1002, got %s" % show(ev))
        # do not answer; the server must drop TCP on its own
        c.idle = 30.0
        try:
            c.expect_tcp_close(wait=12.0)
        except Timeout:
            raise CaseFailed("server kept the connection open 12 s after its close frame went unanswered")
    add("F.8", "server closes TCP when its close frame goes unanswered", f_no_close_reply,
        timeout=15.0, quick=False)

    def f_close_mid_fragment_ping(t):
        c = t.ws()
        c.send_frames([frame(OP_BINARY, b"abc", fin=False), frame(OP_PING, b"p1"),
                       frame(OP_CONT, b"def", fin=False), frame(OP_PONG, b"unsolicited"),
                       frame(OP_CONT, b"ghi")], "octet")
        c.expect_pong(b"p1")
        c.expect_message(OP_BINARY, b"abcdefghi")
        c.close_normal()
    add("F.9", "binary fragments with ping and pong in between, byte by byte", f_close_mid_fragment_ping)

    def f_close_with_code_and_reason_bytewise(t):
        c = t.ws()
        c.send(frame(OP_CLOSE, close_payload(4321, "r\u00e9ason".encode())), chop=1, delay=0.0002)
        c.expect_close((4321,), reply=False)
    add("F.10", "close 4321 with UTF-8 reason sent byte by byte is echoed", f_close_with_code_and_reason_bytewise)


    def limit_fragments(cid, size, extra=0, quick=True):
        def fn(t):
            n = t.suite.max_message + extra
            data = binary_payload(n)
            c = t.ws()
            c.send(frames_of(OP_BINARY, data, size))
            if c.expect_echo_or_too_big(OP_BINARY, data, what=" (sent in %d-byte fragments)" % size):
                c.close_normal()
        what = "max-message + %d bytes" % extra if extra else "max-message bytes"
        outcome = "fails with 1009" if extra > 0 else "is echoed"
        add(cid, "binary message of %s in %s fragments %s" % (what, human(size), outcome), fn,
            timeout=60.0, quick=quick)

    limit_fragments("F.11", 64)
    limit_fragments("F.12", 1024)
    limit_fragments("F.13", 1024, extra=1)

    def f_pings_between(t):
        n = t.suite.max_message
        size = max(1, n // 64)
        data = binary_payload(n)
        wire = []
        pings = []
        for i in range(0, n, size):
            last = i + size >= n
            wire.append(frame(OP_BINARY if i == 0 else OP_CONT, data[i:i + size], fin=last))
            if not last:
                pings.append(("p%d" % i).encode())
                wire.append(frame(OP_PING, pings[-1]))
        c = t.ws()
        c.send(b"".join(wire))
        for p in pings:
            c.expect_pong(p)
        c.expect_message(OP_BINARY, data)
        c.close_normal()
    add("F.17", "max-message bytes in 64 fragments with a ping after each: 63 pongs, then the echo",
        f_pings_between, timeout=60.0)

    def f_pings_before_last(t):
        n = t.suite.max_message
        data = binary_payload(n)
        pings = [("ping %05d" % i).encode() for i in range(20)]
        c = t.ws()
        c.send(frame(OP_BINARY, data[:n - 1], fin=False) + b"".join(frame(OP_PING, p) for p in pings)
               + frame(OP_CONT, data[n - 1:]))
        for p in pings:
            c.expect_pong(p)
        c.expect_message(OP_BINARY, data)
        c.close_normal()
    add("F.14", "max-message bytes, 20 pings right before the 1-byte last fragment: pongs, then the echo",
        f_pings_before_last, timeout=60.0)

    def f_pipelined(t):
        step = min(13, t.suite.max_message // 100)
        msgs = [(OP_TEXT if i % 2 == 0 else OP_BINARY, text_payload(i * step) if i % 2 == 0
                 else binary_payload(i * step)) for i in range(100)]
        c = t.ws()
        c.send(b"".join(frame(op, d) for op, d in msgs))
        for i, (op, d) in enumerate(msgs):
            c.expect_message(op, d, what=" (message %d of 100 sent in one write)" % i)
        c.close_normal()
    add("F.15", "100 messages in one write are echoed in order", f_pipelined)

    def f_big_then_small(t):
        n = t.suite.max_message
        big = binary_payload(n)
        c = t.ws()
        c.send(frame(OP_BINARY, big) + frame(OP_TEXT, b"right behind") + frame(OP_PING, b"and a ping"))
        c.expect_message(OP_BINARY, big)
        c.expect_message(OP_TEXT, b"right behind")
        c.expect_pong(b"and a ping")
        c.close_normal()
    add("F.16", "max-message message, a text message and a ping in one write", f_big_then_small,
        timeout=60.0)


    def f_max_after_header(t):
        n = t.suite.max_message
        data = binary_payload(n)
        c = t.ws(first_bytes=frame(OP_BINARY, data) + frame(OP_TEXT, b"second"))
        c.expect_message(OP_BINARY, data)
        c.expect_message(OP_TEXT, b"second")
        c.close_normal()
    add("F.18", "max-message frame and a text frame in the same write as the header block",
        f_max_after_header, timeout=60.0)


# --------------------------------------------------------------------------------------
# server process

class ManagedServer:
    def __init__(self, cmd, verbose):
        self.argv = shlex.split(cmd) + ["--port", "0"]
        self.verbose = verbose
        self.proc = None
        self.extra_stdout = []
        self.log = None

    def start(self):
        self.log = tempfile.NamedTemporaryFile(prefix="ws-conformance-server-", suffix=".log", delete=False)
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=self.log)
        except OSError as e:
            raise SystemExit("conformance: cannot start %s: %s" % (self.argv[0], e))
        line = b""
        deadline = time.monotonic() + 10.0
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.stop()
                raise SystemExit("conformance: server printed no 'listening on' line within 10 s")
            chunk = os.read(fd, 1)
            if not chunk:
                self.stop()
                raise SystemExit("conformance: server exited before listening (see %s)" % self.log.name)
            line += chunk
        m = re.match(r"listening on (.+):(\d+)\s*$", line.decode("utf-8", "replace"))
        if not m:
            self.stop()
            raise SystemExit("conformance: unexpected first stdout line %r" % line)
        host = m.group(1).strip("[]")
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        threading.Thread(target=self._drain, daemon=True).start()
        return host, int(m.group(2))

    def _drain(self):
        for line in self.proc.stdout:
            self.extra_stdout.append(line)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def tail(self, n=5):
        try:
            with open(self.log.name, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return lines[-n:]
        except OSError:
            return []


# --------------------------------------------------------------------------------------
# main

class Suite:
    def __init__(self, host, port, max_message, failfast, idle=10.0):
        self.host, self.port, self.max_message = host, port, max_message
        self.failfast = failfast
        self.idle = idle


def register_all():
    register_handshake()
    register_framing()
    register_pings()
    register_rsv()
    register_opcodes()
    register_fragmentation()
    register_utf8()
    register_close()
    register_limits()
    register_misc()
    register_frame_rules()


def main(argv=None):
    ap = argparse.ArgumentParser(description="WebSocket conformance suite for an echo server")
    ap.add_argument("--host", default=None, help="server address (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=9001, help="server port (default 9001)")
    ap.add_argument("--server", metavar="CMD", help="start CMD --port 0 and test it; SIGTERM at the end")
    ap.add_argument("--cases", default="*", help="comma-separated glob patterns of case ids, e.g. '1.*,6.4.*'")
    ap.add_argument("--quick", action="store_true", help="representative subset of 9.x, skip slow cases")
    ap.add_argument("--max-message", type=int, default=DEFAULT_MAX_MESSAGE,
                    help="the server's message size limit (default 16777216)")
    ap.add_argument("--timeout-scale", type=float, default=1.0, help="multiply every case timeout")
    ap.add_argument("--failfast-wait", type=float, default=1.0,
                    help="seconds to wait for the 1007 of a fail-fast UTF-8 case (default 1)")
    ap.add_argument("--idle-timeout", type=float, default=10.0,
                    help="fail a case when the server sends or reads nothing for this long (default 10)")
    ap.add_argument("--list", action="store_true", help="list the selected cases and exit")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    register_all()
    patterns = [p.strip() for p in args.cases.split(",") if p.strip()]
    cases = [c for c in CASES if any(fnmatch.fnmatchcase(c.cid, p) for p in patterns)]
    if args.quick:
        cases = [c for c in cases if c.quick]
    cases.sort(key=lambda c: case_key(c.cid))
    if args.list:
        for c in cases:
            print("%-8s %s" % (c.cid, c.desc))
        print("%d cases" % len(cases))
        return 0

    server = None
    if args.server:
        server = ManagedServer(args.server, args.verbose)
        host, port = server.start()
        if args.host:
            host = args.host
    else:
        host, port = args.host or "127.0.0.1", args.port
    suite = Suite(host, port, args.max_message, args.failfast_wait, args.idle_timeout)

    per_cat = {}
    for c in cases:
        cat = c.cid.split(".")[0]
        per_cat[cat] = per_cat.get(cat, 0) + 1
    print("conformance: %d cases against %s:%d (%s)"
          % (len(cases), host, port, ", ".join("%s: %d" % kv for kv in per_cat.items())))
    sys.stdout.flush()

    passed = failed = 0
    started = time.monotonic()
    try:
        for c in cases:
            t = T(suite, c.timeout * args.timeout_scale)
            t0 = time.monotonic()
            reason = None
            try:
                c.fn(t)
            except CaseFailed as e:
                reason = str(e)
            except Exception as e:  # a bug in a case must not stop the run
                reason = "client error: %r" % e
                if args.verbose:
                    traceback.print_exc()
            finally:
                t.close_all()
            if server is not None and reason is not None and server.alive():
                try:  # a crash may still be under way when the case notices it
                    server.proc.wait(0.3)
                except subprocess.TimeoutExpired:
                    pass
            if server is not None and not server.alive():
                status = server.proc.returncode
                reason = (reason + "; " if reason else "") + "server process died (status %s)" % status
                for line in server.tail():
                    print("    server: %s" % line)
                host, port = server.start()
                suite.host, suite.port = host, port
            took = time.monotonic() - t0
            if reason is None:
                passed += 1
                if args.verbose:
                    print("PASS %-8s %6.3fs  %s" % (c.cid, took, c.desc))
            else:
                failed += 1
                print("FAIL %-8s %s: %s" % (c.cid, c.desc, reason))
            sys.stdout.flush()
    except KeyboardInterrupt:
        print("conformance: interrupted")
        failed += 1
    finally:
        if server is not None:
            status = server.stop()
            if args.verbose or status not in (0, None):
                print("conformance: server exit status after SIGTERM: %s (log %s)" % (status, server.log.name))
            if server.extra_stdout:
                print("conformance: server printed %d more stdout line(s), first: %r"
                      % (len(server.extra_stdout), server.extra_stdout[0]))
    if args.verbose:
        print("conformance: %.1f s" % (time.monotonic() - started))
    print("conformance: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
