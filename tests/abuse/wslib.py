"""A small WebSocket / WAMP v1 client on raw sockets for the abuse and soak tests, plus a
handle on a server process (build/demo or build/echo). Loopback only; every wait is bounded.

The client does everything by hand (handshake, masking, framing), so that tests can also
send what a well-behaved library never would: half frames, garbage, oversized lengths."""
import base64
import hashlib
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RPC = "http://wamp1.dev/rpc#"
TOPIC = "http://wamp1.dev/topic/"
ERR_INTERNAL = "http://api.wamp.ws/error#internal"
ERR_INVALID = "http://api.wamp.ws/error#invalid_argument"
ERR_NOSUCH = "http://api.wamp.ws/error#NoSuchRPCEndpoint"
LOOPBACK = ("127.0.0.1", "::1")

OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class Closed(Exception):
    """The server sent a close frame."""

    def __init__(self, code, reason=""):
        super().__init__("closed with code %r %r" % (code, reason))
        self.code = code
        self.reason = reason


class EOF(Exception):
    """The TCP connection ended (FIN or RST) without a close frame."""

    def __init__(self, why="eof"):
        super().__init__(why)
        self.why = why


class NoMessage(Exception):
    """Nothing arrived in time."""


# ---- the server process -------------------------------------------------------------------

class Server:
    """Runs `exe --port 0 [args]` on a loopback address and parses `listening on HOST:PORT`."""

    def __init__(self, exe, *args, host="127.0.0.1", start_timeout=5.0):
        assert host in LOOPBACK
        self.cmd = [exe, "--host", host, "--port", "0"] + [str(a) for a in args]
        self.errf = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.errf)
        self.pid = self.proc.pid
        self.exit_seconds = None
        buf = b""
        deadline = time.monotonic() + start_timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise AssertionError("%s did not print its listening line in time" % exe)
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.kill()
                    raise AssertionError("%s exited at start: %s" % (exe, self.stderr()[-300:]))
                buf += chunk
        m = re.fullmatch(r"listening on (.+):(\d+)", buf.split(b"\n")[0].decode())
        if not m:
            self.kill()
            raise AssertionError("unexpected first line %r" % buf)
        self.host, self.port = m.group(1), int(m.group(2))
        self.addr = (self.host, self.port)

    def hostport(self):
        return "[%s]:%d" % self.addr if ":" in self.host else "%s:%d" % self.addr

    def stderr(self):
        self.errf.seek(0)
        return self.errf.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return -1

    def terminate(self, timeout=5.0, sig=signal.SIGTERM):
        """Send sig; returns (exit status or None, seconds until exit)."""
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, time.monotonic() - t0
        self.exit_seconds = time.monotonic() - t0
        return rc, self.exit_seconds

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False


# ---- frames ----------------------------------------------------------------------------------

def frame(op, payload=b"", fin=True, mask=True, rsv=0, length=None):
    """A client frame; `length` overrides the length field (for lying headers)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    if payload:
        k = (key * (len(payload) // 4 + 1))[:len(payload)]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(len(payload), "big")
    return head + key + payload


def handshake_request(hostport, key, protocols="wamp", extra=(), path="/"):
    h = ["GET %s HTTP/1.1" % path, "Host: %s" % hostport, "Upgrade: websocket",
         "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
    if protocols is not None:
        h.append("Sec-WebSocket-Protocol: " + protocols)
    h.extend(extra)
    return ("\r\n".join(h) + "\r\n\r\n").encode("latin-1")


def tcp_connect(server, timeout=5.0, rcvbuf=None, source=None):
    """source: a local address to connect from (127.0.0.x: more than one address's ports)."""
    fam = socket.AF_INET6 if ":" in server.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source:
        # IP_BIND_ADDRESS_NO_PORT (Linux): the port is chosen at connect(), as without bind()
        s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24), 1)
        s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(server.addr)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_http_response(sock, timeout=5.0):
    """(status, headers, body, rest, complete): complete means the whole Content-Length body
    arrived. Raises EOF when the connection ends before the header block does."""
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\r\n\r\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise NoMessage("no complete HTTP response header (got %r)" % buf[:100])
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError as e:
            raise EOF("%s after %d response bytes" % (type(e).__name__, len(buf)))
        if not chunk:
            raise EOF("closed after %d response bytes" % len(buf))
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0] + " ")
    if not m:
        raise AssertionError("bad status line %r" % lines[0])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    status = int(m.group(1))
    body, complete = b"", True
    if status != 101:
        n = int(headers.get("content-length", "-1"))
        body = rest
        while 0 <= n and len(body) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, OSError):
                break
            if not chunk:
                break
            body += chunk
        complete = n >= 0 and len(body) >= n
        rest = body[n:] if n >= 0 else b""
        body = body[:n] if n >= 0 else body
    return status, headers, body, rest, complete


def wait_closed(sock, timeout):
    """Reads and discards until the peer ends the connection: ('eof'|'reset', seconds) or
    ('open', timeout) when it is still open after timeout."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "open", timeout
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return "reset", time.monotonic() - t0
        if not chunk:
            return "eof", time.monotonic() - t0


# ---- a WebSocket client ------------------------------------------------------------------------

class WS:
    def __init__(self, sock, rest=b""):
        self.sock = sock
        self.buf = bytearray(rest)
        self.send_lock = threading.Lock()
        self.close_sent = False
        self.close_code = None  # what the server sent
        self.eof = False

    @classmethod
    def open(cls, server, protocols="wamp", timeout=5.0, rcvbuf=None, extra=()):
        """Handshake; returns the connection, or raises AssertionError with the status."""
        s = tcp_connect(server, timeout, rcvbuf)
        key = base64.b64encode(os.urandom(16)).decode()
        req = handshake_request(server.hostport(), key, protocols, extra)
        try:
            s.sendall(req)
            status, headers, _body, rest, _c = read_http_response(s, timeout)
        except Exception:
            s.close()
            raise
        if status != 101:
            s.close()
            raise AssertionError("handshake answered %d" % status)
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            s.close()
            raise AssertionError("bad Sec-WebSocket-Accept")
        ws = cls(s, rest)
        ws.request_len = len(req)
        return ws

    # sending
    def send_raw(self, data):
        with self.send_lock:
            self.sock.sendall(data)

    def send_frame(self, op, payload=b"", fin=True):
        self.send_raw(frame(op, payload, fin))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text)

    def send_json(self, msg):
        self.send_text(json.dumps(msg, separators=(",", ":"), ensure_ascii=False))

    # receiving
    def _parse(self):
        b = self.buf
        if len(b) < 2:
            return None
        fin, op, n, hl = b[0] >> 7, b[0] & 15, b[1] & 127, 2
        if b[1] & 0x80:
            raise AssertionError("the server sent a masked frame")
        if n == 126:
            if len(b) < 4:
                return None
            n, hl = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, hl = struct.unpack("!Q", b[2:10])[0], 10
        if len(b) < hl + n:
            return None
        payload = bytes(b[hl:hl + n])
        del b[:hl + n]
        return fin, op, payload

    def fill(self, timeout):
        """One recv into the buffer; False on timeout. Raises EOF when the connection ended."""
        if self.eof:
            raise EOF("eof")
        self.sock.settimeout(max(timeout, 0.0001))
        try:
            chunk = self.sock.recv(262144)
        except socket.timeout:
            return False
        except BlockingIOError:
            return False
        except OSError as e:
            self.eof = True
            raise EOF(type(e).__name__)
        if not chunk:
            self.eof = True
            raise EOF("eof")
        self.buf += chunk
        return True

    def recv_frame(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            f = self._parse()
            if f is not None:
                return f
            left = deadline - time.monotonic()
            if left <= 0:
                raise NoMessage()
            self.fill(left)

    def next_frame(self):
        """A frame from what is buffered, or None (for select() loops)."""
        return self._parse()

    def handle_control(self, op, payload):
        """Answers pings and close frames; raises Closed on a close frame."""
        if op == OP_PING:
            try:
                self.send_frame(OP_PONG, payload)
            except OSError:
                pass
            return True
        if op == OP_PONG:
            return True
        if op == OP_CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            self.close_code = code
            if not self.close_sent:
                self.close_sent = True
                try:
                    self.send_frame(OP_CLOSE, payload[:2])
                except OSError:
                    pass
            raise Closed(code, payload[2:].decode("utf-8", "replace"))
        return False

    def recv_message(self, timeout=5.0):
        """(opcode, payload) of the next data message; control frames are handled."""
        deadline = time.monotonic() + timeout
        parts, mop = [], None
        while True:
            fin, op, payload = self.recv_frame(max(0.0, deadline - time.monotonic()))
            if op >= 8:
                self.handle_control(op, payload)
                continue
            if op != OP_CONT:
                mop, parts = op, []
            parts.append(payload)
            if fin:
                return mop, b"".join(parts)

    def close(self, code=1000, wait=1.0):
        """Closing handshake (bounded), then the socket is closed."""
        try:
            if not self.close_sent:
                self.close_sent = True
                self.send_frame(OP_CLOSE, struct.pack("!H", code))
            deadline = time.monotonic() + wait
            while self.close_code is None and time.monotonic() < deadline:
                try:
                    fin, op, p = self.recv_frame(deadline - time.monotonic())
                    if op == OP_CLOSE:
                        self.close_code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
                except (NoMessage, EOF, OSError):
                    break
        except OSError:
            pass
        self.abort()

    def abort(self, rst=False):
        try:
            if rst:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
        except OSError:
            pass

    def wait_close(self, timeout):
        """Reads until the server closes: ('close', code, seconds) after a close frame,
        ('eof'|'reset', None, seconds) when TCP ends without one, ('open', None, timeout)."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "open", None, timeout
            try:
                fin, op, payload = self.recv_frame(left)
            except NoMessage:
                continue
            except EOF as e:
                return ("reset" if e.why != "eof" else "eof"), None, time.monotonic() - t0
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.close_code = code
                return "close", code, time.monotonic() - t0
            if op == OP_PING:
                try:
                    self.send_frame(OP_PONG, payload)
                except OSError:
                    pass


# ---- a WAMP v1 client ------------------------------------------------------------------------

_ids = [0]
_ids_lock = threading.Lock()


def new_id():
    with _ids_lock:
        _ids[0] += 1
        return "c%d.%s" % (_ids[0], base64.b32encode(os.urandom(5)).decode().lower())


class Wamp(WS):
    """Synchronous WAMP v1 client: use from one thread at a time (plus send_* from others)."""

    @classmethod
    def connect(cls, server, timeout=5.0, rcvbuf=None, protocols="wamp"):
        w = cls.open(server, protocols, timeout, rcvbuf)
        w.pending = []
        w.raw = False
        m = w.recv(timeout)
        if not (isinstance(m, list) and len(m) == 4 and m[0] == 0):
            w.abort()
            raise AssertionError("first message is not WELCOME: %r" % (m,))
        w.session = m[1]
        return w

    def recv(self, timeout=5.0):
        op, payload = self.recv_message(timeout)
        if op != OP_TEXT:
            raise AssertionError("non-text message from the server (opcode %d)" % op)
        text = payload.decode("utf-8")
        if self.raw:
            return text
        return json.loads(text)

    def call_start(self, uri, *args):
        cid = new_id()
        self.send_json([2, cid, uri] + list(args))
        return cid

    def answer(self, cid, timeout=5.0):
        """The CALLRESULT / CALLERROR for cid; other messages go to self.pending."""
        for i, m in enumerate(self.pending):
            if isinstance(m, list) and len(m) >= 2 and m[0] in (3, 4) and m[1] == cid:
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise NoMessage("no answer to %s within %.1f s" % (cid, timeout))
            try:
                m = self.recv(left)
            except NoMessage:
                continue
            if isinstance(m, list) and len(m) >= 2 and m[0] in (3, 4) and m[1] == cid:
                return m
            if len(self.pending) < 100000:
                self.pending.append(m)

    def call(self, uri, *args, timeout=5.0):
        return self.answer(self.call_start(uri, *args), timeout)

    def call_ok(self, uri, *args, timeout=5.0):
        m = self.call(uri, *args, timeout=timeout)
        if m[0] != 3:
            raise AssertionError("CALL %s: expected CALLRESULT, got %s" % (uri, str(m)[:200]))
        return m[2]

    def stats(self, timeout=5.0):
        return self.call_ok(RPC + "stats", timeout=timeout)

    def subscribe(self, topic):
        self.send_json([5, topic])

    def publish(self, topic, event, *rest):
        self.send_json([7, topic, event] + list(rest))

    def sync(self, timeout=5.0):
        self.call_ok(RPC + "echo", "sync", timeout=timeout)

    def drop_events(self):
        self.pending = [m for m in self.pending if not (isinstance(m, list) and m and m[0] == 8)]


def stats_of(server, timeout=5.0):
    """rpc#stats from a fresh, short-lived client (it counts itself)."""
    w = Wamp.connect(server, timeout)
    try:
        return w.stats(timeout)
    finally:
        w.close()


def pools(st):
    return "connections %s/%s topics %s/%s subscriptions %s/%s pending_calls %s/%s prefixes %s/%s" % (
        st.get("connections"), st.get("connections_max"), st.get("topics"), st.get("topics_max"),
        st.get("subscriptions"), st.get("subscriptions_max"), st.get("pending_calls"),
        st.get("pending_calls_max"), st.get("prefixes"), st.get("prefixes_max"))


def wait_pools(server, want, timeout=5.0):
    """Polls rpc#stats until every key of `want` has its value (the polling client is counted
    in connections); returns the last stats."""
    deadline = time.monotonic() + timeout
    while True:
        st = stats_of(server)
        if all(st.get(k) == v for k, v in want.items()) or time.monotonic() > deadline:
            return st
        time.sleep(0.2)


# ---- healthy clients: they must see every event in order and every call answered ------------

class Healthy:
    """n_subs subscribers of one topic, a publisher of numbered events on it (with a sync call
    every `sync_every` events) and a caller doing checked calls in a loop. run() in a thread;
    stop() and then check() for the verdict."""

    def __init__(self, server, name="healthy", n_subs=3, interval=0.004, pad=64, sync_every=25,
                 sleeps=True, calls=True, topic=None):
        self.server = server
        self.topic = topic or TOPIC + name + "-" + base64.b32encode(os.urandom(5)).decode().lower()
        self.nonce = base64.b32encode(os.urandom(5)).decode()
        self.n_subs = n_subs
        self.interval = interval
        self.pad = "x" * pad
        self.sync_every = sync_every
        self.sleeps = sleeps
        self.do_calls = calls
        self.errors = []
        self.stop_flag = threading.Event()
        self.published = 0
        self.calls = 0
        self.max_latency = 0.0
        self.received = [0] * n_subs
        self.threads = []
        self.subs = []
        self.pub = self.caller = None
        self.lock = threading.Lock()
        self.final = None
        self.done_reading = threading.Event()

    def err(self, msg):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(msg)

    def start(self):
        for i in range(self.n_subs):
            w = Wamp.connect(self.server)
            w.subscribe(self.topic)
            w.sync()
            self.subs.append(w)
        self.pub = Wamp.connect(self.server)
        if self.do_calls:
            self.caller = Wamp.connect(self.server)
        for i, w in enumerate(self.subs):
            t = threading.Thread(target=self._sub_loop, args=(i, w), daemon=True)
            t.start()
            self.threads.append(t)
        self.pub_thread = threading.Thread(target=self._pub_loop, daemon=True)
        self.pub_thread.start()
        if self.do_calls:
            self.call_thread = threading.Thread(target=self._call_loop, daemon=True)
            self.call_thread.start()
        return self

    def sessions(self):
        return [w.session for w in self.subs] + [self.pub.session] + (
            [self.caller.session] if self.caller else [])

    def _sub_loop(self, i, w):
        expect = 0
        while True:
            if self.stop_flag.is_set() and self.final is not None and expect >= self.final:
                break
            if self.done_reading.is_set():
                break
            try:
                m = w.recv(0.2)
            except NoMessage:
                continue
            except (Closed, EOF, OSError) as e:
                self.err("subscriber %d lost its connection after %d events: %s" % (i, expect, e))
                return
            if not (isinstance(m, list) and len(m) == 3 and m[0] == 8):
                continue
            ev = m[2]
            if m[1] != self.topic or not isinstance(ev, dict) or ev.get("n") != self.nonce:
                continue
            if ev.get("i") != expect:
                self.err("subscriber %d: expected event %d, got %r" % (i, expect, ev.get("i")))
                expect = ev.get("i", expect) + 1
            else:
                expect += 1
            self.received[i] = expect

    def _pub_loop(self):
        w = self.pub
        i = 0
        try:
            while not self.stop_flag.is_set():
                w.publish(self.topic, {"n": self.nonce, "i": i, "p": self.pad})
                i += 1
                self.published = i
                if i % self.sync_every == 0:
                    t0 = time.monotonic()
                    r = w.call_ok(RPC + "add", i, 1, timeout=10)
                    self.max_latency = max(self.max_latency, time.monotonic() - t0)
                    if r != i + 1:
                        self.err("publisher: add(%d, 1) returned %r" % (i, r))
                    w.drop_events()
                if self.interval:
                    time.sleep(self.interval)
            w.sync(timeout=10)
        except Exception as e:
            self.err("publisher failed after %d events: %s: %s" % (i, type(e).__name__, e))
        self.final = i

    def _call_loop(self):
        w = self.caller
        rnd = random.Random()
        n = 0
        try:
            while not self.stop_flag.is_set():
                kind = rnd.randrange(4 if self.sleeps else 3)
                t0 = time.monotonic()
                if kind == 0:
                    a, b = rnd.randrange(-10**9, 10**9), rnd.randrange(-10**9, 10**9)
                    r = w.call_ok(RPC + "add", a, b, timeout=10)
                    if r != a + b:
                        self.err("caller: add(%d, %d) = %r" % (a, b, r))
                elif kind == 1:
                    arg = {"k": [rnd.random(), "s\u00e9\u20ac%d" % n, None, True], "n": n}
                    r = w.call_ok(RPC + "echo", arg, n, timeout=10)
                    if r != [arg, n]:
                        self.err("caller: echo returned %s" % str(r)[:100])
                elif kind == 2:
                    m = w.call(RPC + "fail", n, timeout=10)
                    if m[0] != 4 or m[2] != "http://wamp1.dev/error#fail" or m[4] != [n]:
                        self.err("caller: fail answered %s" % str(m)[:100])
                else:
                    ms = rnd.randrange(0, 30)
                    r = w.call_ok(RPC + "sleep", ms, timeout=10)
                    if r != ms:
                        self.err("caller: sleep(%d) = %r" % (ms, r))
                self.max_latency = max(self.max_latency, time.monotonic() - t0)
                n += 1
                self.calls = n
                time.sleep(0.002)
        except Exception as e:
            self.err("caller failed after %d calls: %s: %s" % (n, type(e).__name__, str(e)[:200]))

    def stop(self, wait=15.0):
        """Stops publishing and waits until every subscriber saw every event."""
        self.stop_flag.set()
        self.pub_thread.join(wait)
        if self.do_calls:
            self.call_thread.join(wait)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.final is not None and all(r >= self.final for r in self.received):
                break
            if not any(t.is_alive() for t in self.threads):
                break
            time.sleep(0.05)
        self.done_reading.set()
        for t in self.threads:
            t.join(2)

    def check(self):
        """(ok, summary)"""
        errs = list(self.errors)
        if self.final is None:
            errs.append("the publisher did not finish")
        else:
            for i, r in enumerate(self.received):
                if r != self.final:
                    errs.append("subscriber %d received %d of %d events" % (i, r, self.final))
        summary = "healthy: %d events x %d subscribers in order, %d calls answered (max latency %.0f ms)" % (
            self.final or 0, self.n_subs, self.calls, self.max_latency * 1000)
        if errs:
            return False, summary + "; " + "; ".join(errs[:5])
        return True, summary

    def close(self):
        for w in self.subs + [self.pub, self.caller]:
            if w is not None:
                w.close(wait=0.5)
