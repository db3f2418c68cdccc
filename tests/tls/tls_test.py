#!/usr/bin/env python3
"""TLS transport tests: drives build/tls_echo (wamp1.h + port/wamp1_mbedtls.h) with real TLS
clients: Python's ssl module speaking WebSocket by hand, openssl s_client, and
python3-websocket when it is installed.

usage: tls_test.py TLS_ECHO CERTDIR

CERTDIR holds ec-cert.pem/ec-key.pem and rsa-cert.pem/rsa-key.pem (run.sh makes them).
Prints one line per check and ends with "tls: N passed, M failed" (TLS_SUITE=NAME in the
environment puts NAME in place of "tls"; tests/tls/run_windows.sh runs the Windows build
through tests/windows/wine-run.sh, where SIGTERM reaches the program as Ctrl+C)."""
import base64
import hashlib
import os
import random
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HS_TIMEOUT_MS = 2000

passed = 0
failed = 0


def check(name, fn):
    global passed, failed
    t0 = time.monotonic()
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - every failure is a failed check
        failed += 1
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
        return
    passed += 1
    print("ok   %s (%.2fs)" % (name, time.monotonic() - t0), flush=True)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


# ---- servers -----------------------------------------------------------------------

STARTED = []


class Server:
    def __init__(self, binary, args, name):
        self.name = name
        self.errpath = os.path.join(CERTDIR, name + ".stderr")
        self.err = open(self.errpath, "wb")
        env = dict(os.environ, WAMP1_TLS_VERBOSE="1")
        self.proc = subprocess.Popen([binary, "--port", "0"] + args, stdout=subprocess.PIPE,
                                     stderr=self.err, env=env)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError("%s did not start: %r" % (name, line))
        self.port = int(line.rsplit(":", 1)[1])
        STARTED.append(self)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            self.err.close()

    def stderr_text(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode(errors="replace")


# ---- clients -----------------------------------------------------------------------

def client_context(cafile):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)  # the self-signed certificate is its own CA
    ctx.check_hostname = True
    return ctx


class WS:
    """A WebSocket client over any socket-like object with sendall/recv."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    @classmethod
    def connect_tls(cls, port, cafile, timeout=10, handshake=True):
        raw = socket.create_connection((HOST, port), timeout=timeout)
        tls = client_context(cafile).wrap_socket(raw, server_hostname="localhost",
                                                 suppress_ragged_eofs=False)
        ws = cls(tls)
        if handshake:
            ws.handshake()
        return ws

    def recv_some(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def read_exact(self, n):
        while len(self.buf) < n:
            self.recv_some()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def handshake(self, path="/"):
        key = base64.b64encode(os.urandom(16))
        req = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
               b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
               b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req)
        while b"\r\n\r\n" not in self.buf:
            self.recv_some()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        expect(lines[0].startswith(b"HTTP/1.1 101"), "no 101: %r" % lines[0])
        want = base64.b64encode(hashlib.sha1(key + GUID).digest())
        expect(any(l.lower() == b"sec-websocket-accept: " + want.lower() for l in lines[1:]),
               "bad Sec-WebSocket-Accept")

    @staticmethod
    def frame(opcode, payload, fin=True):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        if n:
            m = int.from_bytes(mask * ((n + 3) // 4), "little").to_bytes((n + 3) // 4 * 4, "little")[:n]
            body = (int.from_bytes(payload, "little") ^ int.from_bytes(m, "little")).to_bytes(n, "little")
        else:
            body = b""
        return head + mask + body

    def send(self, opcode, payload, fin=True):
        self.sock.sendall(self.frame(opcode, payload, fin))

    def recv_frame(self):
        b0, b1 = self.read_exact(2)
        n = b1 & 0x7F
        expect(not (b1 & 0x80), "server frame is masked")
        if n == 126:
            n = struct.unpack("!H", self.read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.read_exact(8))[0]
        return bool(b0 & 0x80), b0 & 0x0F, self.read_exact(n)

    def recv_message(self):
        op, data = None, b""
        while True:
            fin, opc, payload = self.recv_frame()
            if opc >= 8:
                if opc == 8:
                    return opc, payload
                continue  # ping/pong: not expected, skip
            if op is None:
                op = opc
            data += payload
            if fin:
                return op, data

    def echo(self, opcode, payload):
        self.send(opcode, payload)
        op, data = self.recv_message()
        expect(op == opcode, "echo opcode %r != %r" % (op, opcode))
        expect(data == payload, "echo payload differs (%d vs %d bytes)" % (len(data), len(payload)))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def connect_retry(port, cafile, seconds=3):
    """Connects once the server has a free slot (it frees one when it sees a close)."""
    end = time.monotonic() + seconds
    while True:
        try:
            return WS.connect_tls(port, cafile)
        except (ssl.SSLError, ConnectionError, EOFError, AssertionError):
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def closed_within(sock, seconds):
    """True when the peer closes (EOF or reset) within the time; reads and drops data."""
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        except ssl.SSLError:
            return True
        if not data:
            return True


def client_hello_bytes(cafile):
    """The first flight of a real TLS client, made with a memory BIO."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_context(cafile).wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


# ---- the checks ----------------------------------------------------------------------

def main():
    global CERTDIR
    binary, CERTDIR = sys.argv[1], sys.argv[2]
    ec_cert = os.path.join(CERTDIR, "ec-cert.pem")
    ec_key = os.path.join(CERTDIR, "ec-key.pem")
    rsa_cert = os.path.join(CERTDIR, "rsa-cert.pem")
    rsa_key = os.path.join(CERTDIR, "rsa-key.pem")

    main_srv = Server(binary, ["--cert", ec_cert, "--key", ec_key,
                               "--handshake-timeout", str(HS_TIMEOUT_MS)], "main")
    # small buffers (records larger than the receive room), RSA key handed over as buffers
    # without their NUL, one handshake step per call, a pool of one connection
    small_srv = Server(binary, ["--cert", rsa_cert, "--key", rsa_key, "--load", "buffers",
                                "--recv-buffer", "1024", "--handshake-steps", "1",
                                "--max-connections", "1"], "small")
    P = main_srv.port

    chaos_srv = Server(binary, ["--cert", ec_cert, "--key", ec_key, "--chaos", "12345",
                                "--handshake-steps", "2"], "chaos")
    P = main_srv.port

    def echo_suite(port, tag, clients):
        def basic():
            ws = WS.connect_tls(port, ec_cert)
            ws.echo(1, b"hello over TLS")
            ws.echo(2, bytes(range(256)))
            ws.echo(1, b"")
            ws.echo(1, "h\u00e9llo \u2603 \U0001F600".encode())
            ws.close()
        check("python ssl: verified handshake, upgrade, small text/binary/empty echo" + tag, basic)

        def big():
            ws = WS.connect_tls(port, ec_cert)
            payload = os.urandom(1 << 20)
            ws.echo(2, payload)
            ws.echo(1, (b"0123456789abcdef" * 65536))
            ws.close()
        check("1 MiB binary and text messages echo whole" + tag, big)

        def big_fragmented():
            ws = WS.connect_tls(port, ec_cert)
            payload = os.urandom(1 << 20)
            chunk = 10000
            parts = [payload[i:i + chunk] for i in range(0, len(payload), chunk)]
            for i, p in enumerate(parts):
                ws.send(2 if i == 0 else 0, p, fin=(i == len(parts) - 1))
            op, data = ws.recv_message()
            expect(op == 2 and data == payload, "fragmented 1 MiB echo differs")
            ws.close()
        check("1 MiB message in 105 fragments echoes whole" + tag, big_fragmented)

        def slow_reader():
            ws = WS.connect_tls(port, ec_cert)
            a, b = os.urandom(1 << 20), os.urandom(900000)
            ws.send(2, a)
            ws.send(2, b)
            time.sleep(0.5)  # the server's writes back up: mbedTLS returns WANT_WRITE
            for want in (a, b):
                op, data = ws.recv_message()
                expect(op == 2 and data == want, "echo after a stalled reader differs")
            ws.close()
        check("a client that reads late gets both 1 MiB echoes intact" + tag, slow_reader)

        def concurrent():
            errors = []

            def worker(k):
                try:
                    rnd = random.Random(k)
                    ws = WS.connect_tls(port, ec_cert)
                    for i in range(15):
                        n = rnd.choice([0, 1, 125, 126, 1000, 16384, 16385, 70000])
                        ws.echo(2 if i % 2 else 1, bytes(rnd.randrange(32, 127) for _ in range(n)))
                    ws.send(8, struct.pack("!H", 1000))
                    op, _ = ws.recv_message()
                    expect(op == 8, "no close frame")
                    ws.close()
                except Exception as e:  # noqa: BLE001
                    errors.append("client %d: %s: %s" % (k, type(e).__name__, e))
            threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            expect(not any(t.is_alive() for t in threads), "a client hung")
            expect(not errors, "; ".join(errors))
        check("%d concurrent TLS clients, 15 messages each%s" % (clients, tag), concurrent)

        def close_handshake():
            ws = WS.connect_tls(port, ec_cert)
            ws.echo(1, b"about to close")
            ws.send(8, struct.pack("!H", 1000) + b"bye")
            op, payload = ws.recv_message()
            expect(op == 8, "no close frame")
            expect(payload[:2] == struct.pack("!H", 1000), "close code %r" % payload[:2])
            # then the TLS session ends with close_notify (a ragged EOF would raise SSLEOFError)
            ws.sock.settimeout(5)
            rest = ws.sock.recv(100)
            expect(rest == b"", "data after the close frame: %r" % rest)
            ws.close()
        check("close handshake: 1000 echoed, then close_notify" + tag, close_handshake)

    echo_suite(P, "", 10)
    echo_suite(chaos_srv.port, " [chaos: short reads/writes, spurious WOULDBLOCK]", 4)

    def pending_records():
        # one TLS record holds 150 small frames (16 KB), much more than the server's receive
        # room (1 KB) takes in one loop iteration, so mbedTLS keeps the rest of the record
        # while the socket itself has nothing more to read
        ws = connect_retry(small_srv.port, rsa_cert)
        msgs = [("m%03d" % i).encode() * 25 for i in range(150)]
        ws.sock.sendall(b"".join(WS.frame(1, m) for m in msgs))
        for m in msgs:
            op, data = ws.recv_message()
            expect(op == 1 and data == m, "pipelined echo out of order or missing")
        ws.close()
    check("records larger than the receive room: buffered plaintext is read (RSA key, "
          "PEM buffers without NUL, 1 handshake step per call)", pending_records)

    def pool_full():
        a = connect_retry(small_srv.port, rsa_cert)
        a.echo(1, b"holding the only slot")
        raw = socket.create_connection((HOST, small_srv.port), timeout=5)
        t0 = time.monotonic()
        try:
            b = client_context(rsa_cert).wrap_socket(raw, server_hostname="localhost")
            b.settimeout(3)
            got = b.recv(100)  # the 503 cannot be sent before a handshake: expect the close
            expect(got == b"", "the refused client read %r" % got)
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            pass
        expect(time.monotonic() - t0 < 3, "the refused client waited too long")
        raw.close()
        a.echo(1, b"still served")
        a.send(8, struct.pack("!H", 1000))
        expect(a.recv_message()[0] == 8, "no close frame")
        a.close()
        c = connect_retry(small_srv.port, rsa_cert)  # once the server has seen the close
        c.echo(2, b"next client")
        c.close()
    check("pool full: the refused TLS client is closed, the connected one keeps working",
          pool_full)

    def plaintext_and_garbage():
        ws = WS.connect_tls(P, ec_cert)
        ws.echo(1, b"before")
        for what, data in (("plain HTTP", b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            b"Sec-WebSocket-Version: 13\r\n\r\n"),
                           ("random bytes", os.urandom(4096)),
                           ("a TLS record header of the wrong type", b"\x17\x03\x03\x00\x10" + os.urandom(16))):
            raw = socket.create_connection((HOST, P), timeout=5)
            raw.sendall(data)
            expect(closed_within(raw, 3), "%s: the connection stayed open" % what)
            raw.close()
            ws.echo(1, b"still here after " + what.encode())
        ws.close()
    check("plain HTTP, garbage and non-handshake records are closed; a TLS client "
          "keeps working", plaintext_and_garbage)

    def stalled():
        hello = client_hello_bytes(ec_cert)
        t0 = time.monotonic()
        # 1: connected, sends nothing; 2: half a ClientHello; 3: a whole ClientHello, then
        # silence after the server's flight
        s1 = socket.create_connection((HOST, P), timeout=5)
        s2 = socket.create_connection((HOST, P), timeout=5)
        s2.sendall(hello[:len(hello) // 2])
        s3 = socket.create_connection((HOST, P), timeout=5)
        s3.sendall(hello)
        s3.settimeout(5)
        flight = s3.recv(65536)
        expect(flight[:1] == b"\x16", "no handshake record from the server")
        # others are served meanwhile
        for _ in range(3):
            ws = WS.connect_tls(P, ec_cert)
            ws.echo(1, b"not blocked")
            ws.close()
        expect(time.monotonic() - t0 < HS_TIMEOUT_MS / 1000.0, "other clients were slow")
        for name, s in (("silent", s1), ("half hello", s2), ("mid-handshake", s3)):
            left = HS_TIMEOUT_MS / 1000.0 + 2.0 - (time.monotonic() - t0)
            expect(closed_within(s, left), "%s client not closed by the handshake timeout" % name)
            s.close()
        took = time.monotonic() - t0
        expect(took >= HS_TIMEOUT_MS / 1000.0 - 0.3, "closed too early (%.2fs)" % took)
    check("clients stalled before/mid handshake do not block others and are closed by "
          "the handshake timeout", stalled)

    def abandoned():
        hello = client_hello_bytes(ec_cert)
        for cut in (5, len(hello)):
            s = socket.create_connection((HOST, P), timeout=5)
            s.sendall(hello[:cut])
            s.close()
        s = socket.create_connection((HOST, P), timeout=5)
        s.sendall(hello)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # reset
        ws = WS.connect_tls(P, ec_cert)
        ws.echo(1, b"fine")
        ws.close()
    check("clients that vanish mid-handshake (FIN, RST) leave the server healthy", abandoned)


    def s_client():
        key = base64.b64encode(os.urandom(16))
        req = (b"GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
               b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
               b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        req += WS.frame(1, b"from s_client") + WS.frame(8, struct.pack("!H", 1000))
        p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (HOST, P), "-quiet",
                            "-ign_eof", "-CAfile", ec_cert, "-verify_return_error",
                            "-servername", "localhost"],
                           input=req, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=15)
        out = p.stdout
        expect(out.startswith(b"HTTP/1.1 101"), "no 101 from s_client: %r" % out[:80])
        want = base64.b64encode(hashlib.sha1(key + GUID).digest())
        expect(want in out, "no Sec-WebSocket-Accept")
        body = out.split(b"\r\n\r\n", 1)[1]
        expect(body.startswith(b"\x81\x0dfrom s_client"), "no echo: %r" % body[:40])
        expect(body[15:19] == b"\x88\x02\x03\xe8", "no close 1000: %r" % body[15:25])
    check("openssl s_client: upgrade, echo, close", s_client)

    def renegotiation():
        for port, tag in ((P, "main"), (chaos_srv.port, "chaos")):
            req = (b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                   b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   b"Sec-WebSocket-Version: 13\r\n\r\n")
            p = subprocess.Popen(["openssl", "s_client", "-connect", "%s:%d" % (HOST, port),
                                  "-tls1_2", "-CAfile", ec_cert, "-servername", "localhost"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            p.stdin.write(req)
            p.stdin.flush()
            time.sleep(0.3)
            p.stdin.write(b"R\n")  # s_client: renegotiate now
            p.stdin.flush()
            time.sleep(0.5)
            killer = threading.Timer(10, p.kill)
            killer.start()
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass
            out = p.stdout.read()
            p.wait()
            killer.cancel()
            expect(b"HTTP/1.1 101" in out, "%s: no upgrade before the renegotiation" % tag)
            ws = WS.connect_tls(port, ec_cert)
            ws.echo(1, b"after a renegotiation attempt")
            ws.close()
    check("client-initiated renegotiation is refused; the servers stay healthy", renegotiation)

    try:
        import websocket  # python3-websocket
    except ImportError:
        websocket = None
    if websocket is not None:
        def ws_client():
            c = websocket.create_connection("wss://localhost:%d/" % P, timeout=10,
                                            sslopt={"cert_reqs": ssl.CERT_NONE})
            c.send("websocket-client")
            expect(c.recv() == "websocket-client", "text echo")
            c.send_binary(b"\x00\x01\x02")
            expect(c.recv() == b"\x00\x01\x02", "binary echo")
            c.close()
        check("python3-websocket (wss://, sslopt CERT_NONE)", ws_client)
    else:
        print("skip python3-websocket client: module not installed", flush=True)

    def bad_setup():
        for args, what in (([ "--cert", ec_cert, "--key", rsa_key], "mismatched key"),
                           (["--cert", os.path.join(CERTDIR, "missing.pem"), "--key", ec_key], "missing file"),
                           (["--cert", ec_key, "--key", ec_key], "a key as the certificate"),
                           (["--cert", ec_cert, "--key", rsa_key, "--load", "buffers"], "mismatched key (buffers)")):
            p = subprocess.run([binary, "--port", "0"] + args, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=10)
            expect(p.returncode == 2, "%s: exit %d" % (what, p.returncode))
            expect(p.stdout == b"", "%s: printed %r" % (what, p.stdout))
            expect(b"TLS set-up failed" in p.stderr, "%s: %r" % (what, p.stderr))
    check("a bad certificate or key: exit 2 with a message", bad_setup)

    def shutdown():
        ws = WS.connect_tls(P, ec_cert)
        ws.echo(1, b"last")
        t0 = time.monotonic()
        main_srv.proc.send_signal(signal.SIGTERM)
        op, payload = ws.recv_message()
        expect(op == 8 and payload[:2] == struct.pack("!H", 1001), "no close 1001: %r" % payload)
        ws.send(8, struct.pack("!H", 1001))
        ws.sock.settimeout(5)
        expect(ws.sock.recv(100) == b"", "no close_notify after the close frames")
        ws.close()
        rc = main_srv.proc.wait(timeout=5)
        expect(rc == 0, "exit status %d" % rc)
        expect(time.monotonic() - t0 < 2.5, "shutdown took %.1fs" % (time.monotonic() - t0))
        ws.close()
    check("SIGTERM: open TLS clients get close 1001, exit 0", shutdown)

    for srv in (main_srv, small_srv, chaos_srv):
        rc = srv.stop()
        err = srv.stderr_text()

        def clean(srv=srv, rc=rc, err=err):
            expect(rc == 0, "%s server exit status %r" % (srv.name, rc))
            for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                expect(bad not in err, "%s server stderr: %s" % (srv.name, err[-2000:]))
        check("%s server: clean exit, no sanitizer reports" % srv.name, clean)
        stats = [l for l in err.splitlines() if l.startswith("tls_echo: accepted")]
        if stats:
            print("     %s: %s" % (srv.name, stats[-1][len("tls_echo: "):]), flush=True)

    unit = os.environ.get("TLS_UNIT_COUNTS", "0 0").split()
    print("%s: %d passed, %d failed" % (os.environ.get("TLS_SUITE", "tls"), passed + int(unit[0]), failed + int(unit[1])), flush=True)
    return 0 if failed + int(unit[1]) == 0 else 1


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        for srv in STARTED:  # never leave a server behind, whatever happened
            if srv.proc.poll() is None:
                srv.proc.kill()
                srv.proc.wait()
    sys.exit(rc)
