"""Shared helpers for the integration tests of build/demo: start and stop the server, raw HTTP
and WebSocket handshakes, a small synchronous WAMP v1 client on websocket-client, and a
PASS/FAIL runner with a hard time bound per test. Loopback only."""
import base64
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import websocket  # Debian python3-websocket (websocket-client)

RPC = "http://wamp1.dev/rpc#"
TOPIC = "http://wamp1.dev/topic/"
ERR_INVALID = "http://api.wamp.ws/error#invalid_argument"
ERR_NOSUCH = "http://api.wamp.ws/error#NoSuchRPCEndpoint"
SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{16,}$")

DEMO = "build/demo"
_procs = []
_clients = []


def short(v, n=300):
    r = v if isinstance(v, str) else repr(v)
    return r if len(r) <= n else r[:n] + "...(%d chars)" % len(r)


def drop_clients():
    """Abort every client socket (no closing handshake), so that a stopping server need not
    wait for them."""
    while _clients:
        ws = _clients.pop()
        try:
            ws.shutdown()
        except Exception:
            pass


class TestTimeout(Exception):
    pass


class Closed(Exception):
    def __init__(self, code, reason=""):
        super().__init__("connection closed (code %r %r)" % (code, reason))
        self.code = code


class NoMessage(Exception):
    pass


# ---- the server process ----------------------------------------------------------------

def _read_line(fd, buf, deadline):
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no stdout line from the demo in time (got %r)" % buf)
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            raise AssertionError("demo closed stdout before a full line (got %r)" % buf)
        buf += chunk
    return buf


class Demo:
    """build/demo --port 0 [args]; parses `listening on HOST:PORT`."""

    def __init__(self, *args, host=None, start_timeout=5.0):
        self.cmd = [DEMO, "--port", "0"] + (["--host", host] if host else []) + list(args)
        self.stderr_file = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.stderr_file)
        _procs.append(self.proc)
        self.stopped = False
        self.stdout = b""
        try:
            self.stdout = _read_line(self.proc.stdout.fileno(), b"", time.monotonic() + start_timeout)
        except AssertionError:
            self.kill()
            raise AssertionError("demo did not start: %s; stderr: %r" % (" ".join(self.cmd), self.stderr()))
        line = self.stdout.split(b"\n", 1)[0].decode("utf-8", "replace")
        m = re.fullmatch(r"listening on (.+):(\d+)", line)
        if not m:
            self.kill()
            raise AssertionError("unexpected first stdout line %r" % line)
        self.host, self.port = m.group(1), int(m.group(2))
        if self.port == 0:
            self.kill()
            raise AssertionError("demo reported port 0 for --port 0")
        self.line = line

    @property
    def hostport(self):
        return "[%s]:%d" % (self.host, self.port) if ":" in self.host else "%s:%d" % (self.host, self.port)

    def url(self, path="/", scheme="ws"):
        return "%s://%s%s" % (scheme, self.hostport, path)

    def family(self):
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET

    def stderr(self):
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc.poll() is None

    def read_rest_of_stdout(self, timeout=1.0):
        """After exit: everything else the demo wrote to stdout."""
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            self.stdout += chunk
        return self.stdout

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.stopped = True

    def stop(self):
        """SIGTERM; returns the exit status (or None if it had to be killed)."""
        if self.stopped:
            return self.proc.returncode
        self.stopped = True
        if self.proc.poll() is not None:
            return self.proc.returncode
        drop_clients()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.wait(3)
        if rc is None:
            self.proc.kill()
            self.proc.wait(5)
        return rc

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        crashed = not self.stopped and self.proc.poll() is not None
        rc = self.proc.returncode
        self.stop()
        if crashed and et is None:
            raise AssertionError("the demo exited on its own during the test (status %r); stderr: %s"
                                 % (rc, self.stderr()[-500:]))
        return False


def kill_all():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass


def run_demo_expect_exit(args, timeout=3.0):
    """Run the demo expecting it to exit by itself; returns (rc, stdout, stderr)."""
    try:
        p = subprocess.run([DEMO] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("demo %s still running after %.1f s" % (" ".join(args), timeout))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# ---- raw HTTP -----------------------------------------------------------------------------

def _connect(demo_or_addr, timeout=3.0):
    if isinstance(demo_or_addr, Demo):
        fam, addr = demo_or_addr.family(), (demo_or_addr.host, demo_or_addr.port)
    else:
        addr = demo_or_addr
        fam = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(addr)
    return s


def read_http_response(s, timeout=3.0):
    """Reads status line and headers, then the body by Content-Length (101: no body).
    Returns (status, headers {lowercase: value}, body, rest) where rest is bytes after it."""
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\r\n\r\n" not in buf:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            raise AssertionError("no complete HTTP response in time (got %r)" % buf[:200])
        if not chunk:
            raise AssertionError("connection closed before a complete HTTP response (got %r)" % buf[:200])
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        raise AssertionError("bad status line %r" % lines[0])
    status = int(m.group(1))
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        k = k.strip().lower()
        headers[k] = (headers[k] + ", " + v.strip()) if k in headers else v.strip()
    body = b""
    if status != 101 and "content-length" in headers:
        n = int(headers["content-length"])
        body = rest
        while len(body) < n:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                break
            body += chunk
        rest, body = body[n:], body[:n]
    return status, headers, body, rest


def http_get(demo, path, extra_headers=(), timeout=3.0):
    s = _connect(demo, timeout)
    try:
        req = "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (
            path, demo.hostport, "".join(h + "\r\n" for h in extra_headers))
        s.sendall(req.encode("latin-1"))
        status, headers, body, _ = read_http_response(s, timeout)
        return status, headers, body
    finally:
        s.close()


def raw_handshake(demo, protocols="wamp", origin=None, extra_headers=(), path="/", timeout=3.0,
                  keep=False):
    """A WebSocket opening handshake by hand. Returns (status, headers, sock or None)."""
    s = _connect(demo, timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    h = ["GET %s HTTP/1.1" % path, "Host: %s" % demo.hostport, "Upgrade: websocket",
         "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
    if protocols is not None:
        h.append("Sec-WebSocket-Protocol: " + protocols)
    if origin is not None:
        h.append("Origin: " + origin)
    h.extend(extra_headers)
    s.sendall(("\r\n".join(h) + "\r\n\r\n").encode("latin-1"))
    try:
        status, headers, _body, _rest = read_http_response(s, timeout)
    except Exception:
        s.close()
        raise
    if status == 101:
        import hashlib
        want = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                .digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            s.close()
            raise AssertionError("bad Sec-WebSocket-Accept %r" % headers.get("sec-websocket-accept"))
    if keep and status == 101:
        return status, headers, s
    s.close()
    return status, headers, None


def handshake_status(demo, **kw):
    return raw_handshake(demo, **kw)[0]


# ---- a small synchronous WAMP v1 client -----------------------------------------------------

class Wamp:
    _ids = 0

    def __init__(self, url, subprotocols=("wamp",), header=None, timeout=3.0, **kw):
        if header is not None:
            kw["header"] = header
        self.ws = websocket.create_connection(url, subprotocols=list(subprotocols), timeout=timeout, **kw)
        _clients.append(self.ws)
        self.pending = []
        self.welcome = self._read(timeout)
        if not (isinstance(self.welcome, list) and self.welcome and self.welcome[0] == 0):
            raise AssertionError("first message is not WELCOME: %r" % (self.welcome,))
        self.session = self.welcome[1]

    def subprotocol(self):
        return self.ws.getsubprotocol()

    def send(self, msg):
        self.ws.send(msg if isinstance(msg, str) else json.dumps(msg))

    def send_binary(self, data):
        self.ws.send(data, opcode=websocket.ABNF.OPCODE_BINARY)

    def _read(self, timeout):
        self.ws.settimeout(max(timeout, 0.001))
        try:
            op, data = self.ws.recv_data()
        except websocket.WebSocketTimeoutException:
            raise NoMessage()
        except websocket.WebSocketConnectionClosedException:
            raise Closed(None, "connection dropped")
        if op == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            raise Closed(code, data[2:].decode("utf-8", "replace"))
        if op != websocket.ABNF.OPCODE_TEXT:
            raise AssertionError("server sent a non-text message (opcode %d)" % op)
        text = data.decode("utf-8")
        try:
            return json.loads(text)
        except ValueError:
            raise AssertionError("server sent invalid JSON %r" % text[:200])

    def recv(self, timeout=2.0):
        if self.pending:
            return self.pending.pop(0)
        return self._read(timeout)

    def wait_for(self, pred, timeout=3.0, what="message"):
        for i, m in enumerate(self.pending):
            if pred(m):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s within %.1f s (other messages: %s)"
                                     % (what, timeout, short(self.pending[:5])))
            try:
                m = self._read(left)
            except NoMessage:
                continue
            if pred(m):
                return m
            self.pending.append(m)

    @classmethod
    def next_id(cls):
        cls._ids += 1
        return "c%d.%s" % (cls._ids, base64.b32encode(os.urandom(5)).decode().lower())

    def call_start(self, uri, *args):
        cid = self.next_id()
        self.send([2, cid, uri] + list(args))
        return cid

    def answer(self, cid, timeout=3.0):
        return self.wait_for(lambda m: isinstance(m, list) and len(m) >= 2 and m[0] in (3, 4)
                             and m[1] == cid, timeout, "answer to call %s" % cid)

    def call(self, uri, *args, timeout=3.0):
        return self.answer(self.call_start(uri, *args), timeout)

    def call_ok(self, uri, *args, timeout=3.0):
        m = self.call(uri, *args, timeout=timeout)
        if m[0] != 3 or len(m) != 3:
            raise AssertionError("CALL %s%s: expected CALLRESULT, got %s" % (uri, short(args), short(m)))
        return m[2]

    def call_err(self, uri, *args, timeout=3.0):
        m = self.call(uri, *args, timeout=timeout)
        if m[0] != 4:
            raise AssertionError("CALL %s%s: expected CALLERROR, got %s" % (uri, short(args), short(m)))
        return m

    def sync(self):
        """A round trip: everything sent before it has been processed by the server."""
        self.call_ok(RPC + "echo", "sync")

    def collect(self, duration):
        """Every message already buffered or arriving within `duration` seconds."""
        out, self.pending = self.pending, []
        deadline = time.monotonic() + duration
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            try:
                out.append(self._read(left))
            except NoMessage:
                pass

    def events(self, duration):
        msgs = self.collect(duration)
        ev = [m for m in msgs if isinstance(m, list) and m and m[0] == 8]
        self.pending.extend(m for m in msgs if not (isinstance(m, list) and m and m[0] == 8))
        return ev

    def close(self):
        try:
            self.ws.close(timeout=1)
        except Exception:
            pass


def eq(got, want, what=""):
    if not json_equal(got, want):
        raise AssertionError("%sexpected %s, got %s" % (what + ": " if what else "", short(json.dumps(want)),
                                                         short(json.dumps(got))))


def json_equal(a, b):
    """Equality of JSON values (numbers by value; bool is not a number)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def check(cond, msg):
    if not cond:
        raise AssertionError(short(msg, 600))


# ---- the runner ------------------------------------------------------------------------------

class Runner:
    def __init__(self, suite, per_test_limit=20.0, budget=120.0):
        self.suite = suite
        self.limit = per_test_limit
        self.budget = budget
        self.tests = []
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def result(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS %s" % name, flush=True)
        else:
            self.failed += 1
            self.failures.append(name)
            print("FAIL %s: %s" % (name, detail), flush=True)

    def skip(self, name, why):
        self.skipped += 1
        print("SKIP %s: %s" % (name, why), flush=True)

    def _alarm(self, signum, frame):
        raise TestTimeout("test exceeded its %.0f s bound" % self.limit)

    def run(self, only=None):
        start = time.monotonic()
        old = signal.signal(signal.SIGALRM, self._alarm)
        try:
            for fn in self.tests:
                name = fn.__name__.replace("test_", "", 1)
                if only and not any(o in name for o in only):
                    continue
                if time.monotonic() - start > self.budget:
                    self.result(name, False, "not run: the suite's %.0f s budget is spent" % self.budget)
                    continue
                t0 = time.monotonic()
                signal.setitimer(signal.ITIMER_REAL, self.limit)
                try:
                    sub = fn()
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    if sub:  # a list of (subname, ok, detail) or the string "SKIP: why"
                        if isinstance(sub, str):
                            self.skip(name, sub[6:] if sub.startswith("SKIP: ") else sub)
                        else:
                            for subname, ok, detail in sub:
                                self.result("%s %s" % (name, subname), ok, detail)
                    else:
                        self.result(name, True)
                except (Exception, TestTimeout) as e:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    detail = "%s: %s" % (type(e).__name__, e) if not isinstance(e, AssertionError) else str(e)
                    if os.environ.get("WAMP1_TEST_TRACE"):
                        traceback.print_exc()
                    self.result(name, False, detail)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    drop_clients()
                    kill_all()
                dt = time.monotonic() - t0
                if dt > 5 or os.environ.get("WAMP1_TEST_TIMES"):
                    print("  (%s took %.1f s)" % (name, dt), flush=True)
        finally:
            signal.signal(signal.SIGALRM, old)
            kill_all()
        print("runtime %.1f s" % (time.monotonic() - start))
        print("%s: %d passed, %d failed" % (self.suite, self.passed, self.failed), flush=True)
        return 0 if self.failed == 0 else 1


def main(runner):
    global DEMO
    args = [a for a in sys.argv[1:] if not a.startswith("-k=")]
    only = [a[3:] for a in sys.argv[1:] if a.startswith("-k=")]
    if args:
        DEMO = args[0]
    if not os.access(DEMO, os.X_OK):
        print("FAIL setup: %s is not an executable (run make build/demo)" % DEMO)
        print("%s: 0 passed, 1 failed" % runner.suite)
        return 1
    return runner.run(only)
