#!/usr/bin/env python3
"""Integration tests of build/echo with two independent WebSocket clients:
python3-websocket (module websocket, synchronous) and python3-websockets (module
websockets, asyncio).

usage: test_echo.py [PATH-TO-ECHO]        (default build/echo)

Prints a PASS/FAIL (or SKIP) line per test and ends with
"integration-echo: N passed, M failed"; exit status 0 iff nothing failed.
Only 127.0.0.1 and ::1 are used; every wait is bounded.
"""

import asyncio
import concurrent.futures
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

try:
    import websocket  # python3-websocket
    import websockets  # python3-websockets
except ImportError as e:
    print("integration-echo: missing client library (%s); install python3-websocket "
          "and python3-websockets" % e)
    print("integration-echo: 0 passed, 1 failed")
    sys.exit(1)

ECHO = sys.argv[1] if len(sys.argv) > 1 else "build/echo"
SIZES = [0, 1, 125, 126, 65536, 1 << 20]
LINE_RE = re.compile(r"listening on (\S+):(\d+)\n\Z")


class TestFailed(Exception):
    pass


def require(cond, msg):
    if not cond:
        raise TestFailed(msg)


class Server:
    """build/echo started with --port 0; stdout and stderr are collected."""

    def __init__(self, *args, host=None):
        argv = [ECHO, "--port", "0"] + list(args)
        if host:
            argv += ["--host", host]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.stdout_lines = []
        self.stderr = []
        self.first = threading.Event()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self.first.wait(5.0):
            self.kill()
            raise TestFailed("no 'listening on' line within 5 s (stderr: %s)" % self.stderr_text())
        if not self.stdout_lines:
            self.kill()
            raise TestFailed("server exited before listening, status %s (stderr: %s)"
                             % (self.proc.poll(), self.stderr_text()))
        self.line = self.stdout_lines[0]
        m = LINE_RE.match(self.line)
        if not m:
            self.kill()
            raise TestFailed("unexpected stdout line %r" % self.line)
        self.host = m.group(1)
        self.port = int(m.group(2))

    def _read_stdout(self):
        for raw in self.proc.stdout:
            self.stdout_lines.append(raw.decode("utf-8", "replace"))
            self.first.set()
        self.first.set()

    def _read_stderr(self):
        for raw in self.proc.stderr:
            self.stderr.append(raw.decode("utf-8", "replace"))

    def stderr_text(self):
        return "".join(self.stderr[-3:]).strip() or "nothing"

    def url(self):
        h = self.host.strip("[]")
        return "ws://%s:%d/" % ("[%s]" % h if ":" in h else h, self.port)

    def signal_and_wait(self, sig, limit=2.0):
        """Send sig; return (exit status or None, seconds until exit)."""
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(limit)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.monotonic() - t0

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.kill()


def text_of(n):
    """A str whose UTF-8 encoding is exactly n bytes, with 1- to 4-byte characters."""
    unit = "echo \u00e9\u20ac\U0001f600 "
    out = []
    size = 0
    while True:
        for ch in unit:
            b = len(ch.encode("utf-8"))
            if size + b > n:
                return "".join(out) + "*" * (n - size)
            out.append(ch)
            size += b


def bytes_of(n):
    return bytes((i * 7 + 3) & 0xFF for i in range(min(n, 4096))) * (n // 4096) + \
        bytes((i * 7 + 3) & 0xFF for i in range(n % 4096))


# ------------------------------------------------------------------------------------
# client helpers

def sync_connect(url, **kw):
    return websocket.create_connection(url, timeout=10, **kw)


def sync_close_code(ws, limit=5.0):
    """Read until a close frame; return its code (None if it had none)."""
    ws.settimeout(limit)
    while True:
        op, fr = ws.recv_data_frame(control_frame=True)
        if op == websocket.ABNF.OPCODE_CLOSE:
            data = fr.data
            return struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None


async def async_close_code(ws, limit=5.0):
    try:
        while True:
            await asyncio.wait_for(ws.recv(), limit)
    except websockets.ConnectionClosed as e:
        return e.rcvd.code if e.rcvd is not None else None


def run_async(coro, limit=30.0):
    return asyncio.run(asyncio.wait_for(coro, limit))


# ------------------------------------------------------------------------------------
# tests

def t_listening_line():
    s = Server()
    try:
        require(s.host == "127.0.0.1", "default host printed as %r" % s.host)
        require(0 < s.port < 65536, "bad port %d" % s.port)
        ws = sync_connect(s.url())
        ws.send("hello")
        require(ws.recv() == "hello", "no echo")
        ws.close()
    finally:
        s.stop()
    time.sleep(0.05)
    require(len(s.stdout_lines) == 1,
            "stdout had %d lines: %r" % (len(s.stdout_lines), s.stdout_lines[:3]))


def t_sync_echo(s):
    ws = sync_connect(s.url())
    try:
        for n in SIZES:
            text = text_of(n)
            ws.send(text)
            got = ws.recv()
            require(isinstance(got, str), "text of %d bytes echoed as %s" % (n, type(got).__name__))
            require(got == text, "text of %d bytes echoed wrong (%d chars back)" % (n, len(got)))
            data = bytes_of(n)
            ws.send_binary(data)
            got = ws.recv()
            require(isinstance(got, bytes), "binary of %d bytes echoed as %s" % (n, type(got).__name__))
            require(got == data, "binary of %d bytes echoed wrong (%d bytes back)" % (n, len(got)))
        ws.send_close()
        require(sync_close_code(ws) == 1000, "close 1000 not answered with 1000")
    finally:
        ws.shutdown()


def t_async_echo(s):
    async def go():
        # the default client offers permessage-deflate: the server must decline it
        async with websockets.connect(s.url(), max_size=1 << 24, open_timeout=5,
                                      close_timeout=5, ping_interval=None) as ws:
            require(ws.response_headers.get("Sec-WebSocket-Extensions") is None,
                    "server accepted an extension: %s" % ws.response_headers.get("Sec-WebSocket-Extensions"))
            for n in SIZES:
                text = text_of(n)
                await ws.send(text)
                got = await asyncio.wait_for(ws.recv(), 10)
                require(isinstance(got, str) and got == text, "text of %d bytes echoed wrong" % n)
                data = bytes_of(n)
                await ws.send(data)
                got = await asyncio.wait_for(ws.recv(), 10)
                require(isinstance(got, bytes) and got == data, "binary of %d bytes echoed wrong" % n)
            await ws.close()
            require(ws.close_code == 1000, "close code %s after a normal close" % ws.close_code)
    run_async(go())


def t_subprotocols(s):
    async def go():
        async with websockets.connect(s.url(), subprotocols=["wamp", "chat"], open_timeout=5,
                                      close_timeout=5, ping_interval=None) as ws:
            require(ws.subprotocol is None, "websockets: server selected %r" % ws.subprotocol)
            await ws.send("sub")
            require(await asyncio.wait_for(ws.recv(), 5) == "sub", "websockets: no echo")
    run_async(go())
    # websocket-client rejects a handshake without a selected subprotocol when given
    # subprotocols=, so the offer goes in as a plain header here
    ws = sync_connect(s.url(), header=["Sec-WebSocket-Protocol: wamp, chat"])
    try:
        hdrs = {k.lower(): v for k, v in ws.getheaders().items()}
        require("sec-websocket-protocol" not in hdrs,
                "websocket-client: server selected %r" % hdrs.get("sec-websocket-protocol"))
        ws.send("sub")
        require(ws.recv() == "sub", "websocket-client: no echo")
    finally:
        ws.close()


def t_concurrent(s):
    """20 clients at once (10 of each library), 50 messages each."""
    n_sync, n_async, n_msgs = 10, 10, 50
    barrier = threading.Barrier(n_sync + n_async)
    errors = []

    def msg(cid, i):
        return ("client %d message %d " % (cid, i)) * (1 + i % 7)

    def sync_client(cid):
        try:
            ws = sync_connect(s.url())
            barrier.wait(10)
            for i in range(n_msgs):
                if i % 2:
                    ws.send_binary(msg(cid, i).encode())
                    require(ws.recv() == msg(cid, i).encode(), "client %d: wrong echo %d" % (cid, i))
                else:
                    ws.send(msg(cid, i))
                    require(ws.recv() == msg(cid, i), "client %d: wrong echo %d" % (cid, i))
            ws.close()
        except Exception as e:  # collected and reported below
            errors.append("websocket-client %d: %r" % (cid, e))
            barrier.abort()

    async def async_client(cid, pool):
        loop = asyncio.get_running_loop()
        try:
            async with websockets.connect(s.url(), open_timeout=5, close_timeout=5,
                                          ping_interval=None, compression=None) as ws:
                await loop.run_in_executor(pool, barrier.wait, 10)
                # pipeline: send all 50, then read all 50 in order
                for i in range(n_msgs):
                    await ws.send(msg(cid, i) if i % 2 == 0 else msg(cid, i).encode())
                for i in range(n_msgs):
                    got = await asyncio.wait_for(ws.recv(), 10)
                    want = msg(cid, i) if i % 2 == 0 else msg(cid, i).encode()
                    require(got == want, "client %d: wrong echo %d" % (cid, i))
        except Exception as e:
            errors.append("websockets %d: %r" % (cid, e))
            barrier.abort()

    async def async_all():
        with concurrent.futures.ThreadPoolExecutor(max_workers=n_async) as pool:
            await asyncio.gather(*(async_client(n_sync + i, pool) for i in range(n_async)))

    threads = [threading.Thread(target=sync_client, args=(i,)) for i in range(n_sync)]
    for th in threads:
        th.start()
    try:
        run_async(async_all(), 30)
    finally:
        for th in threads:
            th.join(30)
    require(not errors, "; ".join(errors[:3]))


def t_max_message():
    s = Server("--max-message", "1000")
    try:
        async def go():
            async with websockets.connect(s.url(), open_timeout=5, close_timeout=5,
                                          ping_interval=None) as ws:
                await ws.send(b"x" * 1000)
                require(await asyncio.wait_for(ws.recv(), 5) == b"x" * 1000, "1000 bytes not echoed")
                await ws.send(b"x" * 1001)
                code = await async_close_code(ws)
                require(code == 1009, "websockets: 1001-byte message got close %s, not 1009" % code)
        run_async(go())
        ws = sync_connect(s.url())
        try:
            ws.send("y" * 1000)
            require(ws.recv() == "y" * 1000, "1000-byte text not echoed")
            ws.send("y" * 1001)
            code = sync_close_code(ws)
            require(code == 1009, "websocket-client: 1001-byte text got close %s, not 1009" % code)
        finally:
            ws.shutdown()
    finally:
        s.stop()


def shutdown_test(sig):
    def fn():
        s = Server()
        result = {}
        try:
            ws = sync_connect(s.url())
            ws.send("before shutdown")
            require(ws.recv() == "before shutdown", "no echo")

            async def go():
                async with websockets.connect(s.url(), open_timeout=5, close_timeout=5,
                                              ping_interval=None) as aws:
                    await aws.send("before shutdown")
                    require(await asyncio.wait_for(aws.recv(), 5) == "before shutdown", "no echo")
                    result["rc"], result["took"] = s.signal_and_wait(sig)
                    result["async_code"] = await async_close_code(aws, 2.0)
            run_async(go(), 15)
            try:
                result["sync_code"] = sync_close_code(ws, 2.0)
            except Exception as e:
                result["sync_code"] = "error %r" % e
            ws.shutdown()
        finally:
            s.kill()
        name = signal.Signals(sig).name
        require(result.get("async_code") == 1001,
                "websockets client got close %s after %s, not 1001" % (result.get("async_code"), name))
        require(result.get("sync_code") == 1001,
                "websocket-client got close %s after %s, not 1001" % (result.get("sync_code"), name))
        require(result["rc"] is not None, "process still running 2 s after %s" % name)
        require(result["rc"] == 0, "exit status %s after %s" % (result["rc"], name))
        require(len(s.stdout_lines) == 1, "stdout had %d lines" % len(s.stdout_lines))
        return "exited after %.2f s" % result["took"]
    return fn


def run_bad(args, limit=5.0):
    p = subprocess.run([ECHO] + args, stdin=subprocess.DEVNULL, capture_output=True, timeout=limit)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def check_exit2(args, what):
    try:
        rc, out, err = run_bad(args)
    except subprocess.TimeoutExpired:
        raise TestFailed("%s: still running after 5 s" % what)
    require(rc == 2, "%s: exit status %s, expected 2 (stderr %r)" % (what, rc, err[:200]))
    lines = err.splitlines()
    require(len(lines) == 1 and lines[0].strip() and err.endswith("\n"),
            "%s: stderr should be exactly one line, got %r" % (what, err[:300]))
    require(out == "", "%s: printed to stdout: %r" % (what, out[:200]))


def t_bad_options():
    for args in (["--bogus"], ["--port"], ["--port", "abc"], ["--port", "70000"], ["--port", "-1"],
                 ["--max-message", "lots"], ["--host"], ["extra-argument"]):
        check_exit2(args, " ".join(args))


def t_help_and_ranges():
    for flag in ("--help", "-h"):
        rc, out, err = run_bad([flag])
        require(rc == 0, "%s: exit status %s, expected 0" % (flag, rc))
        require(out.startswith("usage: echo") and err == "", "%s: usage on stdout only, got %r / %r"
                % (flag, out[:100], err[:100]))
        for opt in ("--host", "--port", "--max-message", "--max-connections"):
            require(opt in out, "%s: the usage does not mention %s" % (flag, opt))
    for args, rng in ((["--port", "70000"], "0 to 65535"), (["--max-message", "0"], "1 to 1073741824"),
                      (["--max-connections", "0"], "1 to ")):
        rc, out, err = run_bad(args)
        require(rc == 2 and rng in err, "%s: the message should give the range %r: %r" % (args, rng, err))


def t_port_in_use():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        port = ls.getsockname()[1]
        check_exit2(["--host", "127.0.0.1", "--port", str(port)], "port %d in use" % port)
    finally:
        ls.close()


def ipv6_available():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
        finally:
            s.close()
        return True
    except OSError:
        return False


def t_ipv6():
    s = Server(host="::1")
    try:
        require(s.host in ("::1", "[::1]"), "listening line host %r, expected ::1" % s.host)
        ws = sync_connect(s.url())
        ws.send("over ipv6")
        require(ws.recv() == "over ipv6", "websocket-client: no echo over ::1")
        ws.close()

        async def go():
            async with websockets.connect(s.url(), open_timeout=5, close_timeout=5,
                                          ping_interval=None) as aws:
                await aws.send(b"over ipv6")
                require(await asyncio.wait_for(aws.recv(), 5) == b"over ipv6", "websockets: no echo over ::1")
        run_async(go())
    finally:
        s.stop()


# ------------------------------------------------------------------------------------

def main():
    if not os.path.exists(ECHO):
        print("integration-echo: %s not found (run make)" % ECHO)
        print("integration-echo: 0 passed, 1 failed")
        return 1
    passed = failed = 0
    started = time.monotonic()

    def run(name, fn, *args):
        nonlocal passed, failed
        t0 = time.monotonic()
        try:
            detail = fn(*args)
        except TestFailed as e:
            failed += 1
            print("FAIL %s: %s" % (name, e))
        except Exception as e:
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
        else:
            passed += 1
            print("PASS %s (%.2f s%s)" % (name, time.monotonic() - t0, ", " + detail if detail else ""))
        sys.stdout.flush()

    run("listening line: exactly one stdout line 'listening on 127.0.0.1:PORT'", t_listening_line)
    try:
        shared = Server()
    except TestFailed as e:
        shared = None
        failed += 1
        print("FAIL start %s: %s" % (ECHO, e))
    if shared is not None:
        try:
            run("websocket-client: text and binary echo, sizes %s" % SIZES, t_sync_echo, shared)
            run("websockets: text and binary echo, sizes %s" % SIZES, t_async_echo, shared)
            run("offered subprotocols: none selected (both clients)", t_subprotocols, shared)
            run("20 concurrent clients x 50 messages", t_concurrent, shared)
        finally:
            shared.stop()
    run("--max-message 1000: 1000 bytes echoed, 1001 bytes closed with 1009", t_max_message)
    run("SIGTERM: open clients get close 1001, exit status 0 within 2 s", shutdown_test(signal.SIGTERM))
    run("SIGINT: open clients get close 1001, exit status 0 within 2 s", shutdown_test(signal.SIGINT))
    run("bad options: exit status 2, one line on stderr", t_bad_options)
    run("port already in use: exit status 2, one line on stderr", t_port_in_use)
    run("--help: usage on stdout, exit 0; out-of-range values name the range", t_help_and_ranges)
    if ipv6_available():
        run("--host ::1: echo over IPv6 loopback", t_ipv6)
    else:
        print("SKIP --host ::1: IPv6 loopback is not available here")

    print("integration-echo: %.1f s" % (time.monotonic() - started))
    print("integration-echo: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
