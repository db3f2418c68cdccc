#!/usr/bin/python3
"""Integration tests of build/demo's access and session options over loopback:
--allow-origin, --block, --session-dir (PHP file sessions written by the php CLI) and
--tls-cert/--tls-key (a self-signed certificate made with openssl).

    /usr/bin/python3 tests/integration/test_demo_options.py build/demo [-k=NAME ...]

Prints PASS/FAIL/SKIP per test and ends with `integration-demo-options: N passed, M failed`."""
import asyncio
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websocket  # noqa: E402  Debian python3-websocket
import websockets  # noqa: E402  Debian python3-websockets

import wamp_harness as H  # noqa: E402
from wamp_harness import RPC, Demo, Wamp, check, eq  # noqa: E402

R = H.Runner("integration-demo-options", per_test_limit=20.0)
test = R.test


def wamp_works(d, **kw):
    c = Wamp(d.url(), **kw)
    eq(c.call_ok(RPC + "add", 20, 22), 42, "a call on the accepted connection")
    return c


# ---- --allow-origin ---------------------------------------------------------------------------

@test
def test_origin_unrestricted_by_default():
    with Demo() as d:
        for origin in (None, "http://anything.example", "null"):
            st = H.handshake_status(d, origin=origin)
            check(st == 101, "Origin %r without --allow-origin: status %d" % (origin, st))


ALLOW = ("--allow-origin", "good.example", "--allow-origin", "localhost")


@test
def test_allow_origin_listed_101():
    with Demo(*ALLOW) as d:
        for origin in ("http://good.example", "https://good.example", "http://localhost", "https://localhost/"):
            st = H.handshake_status(d, origin=origin)
            check(st == 101, "listed Origin %r: status %d, expected 101" % (origin, st))
        wamp_works(d, origin="http://good.example")


@test
def test_allow_origin_listed_host_on_any_port_101():
    # the contract lists HOSTs: an Origin whose host is listed passes, whatever its port
    with Demo(*ALLOW) as d:
        bad = []
        for origin in ("http://good.example:8080", "https://localhost:3000", "http://localhost:8080"):
            st = H.handshake_status(d, origin=origin)
            if st != 101:
                bad.append("%s -> %d" % (origin, st))
        check(not bad, "listed hosts on other ports refused (expected 101): " + ", ".join(bad))
        wamp_works(d, origin="http://localhost:8080")


@test
def test_allow_origin_unlisted_403():
    with Demo(*ALLOW) as d:
        for origin in ("http://evil.example", "http://good.example.evil.example", "http://evilgood.example",
                       "http://notlocalhost", "null", "http://127.0.0.1"):
            st = H.handshake_status(d, origin=origin)
            check(st == 403, "unlisted Origin %r: status %d, expected 403" % (origin, st))
        try:
            websocket.create_connection(d.url(), subprotocols=["wamp"], origin="http://evil.example", timeout=3)
            raise AssertionError("websocket-client with an unlisted Origin was accepted")
        except websocket.WebSocketBadStatusException as e:
            check(e.status_code == 403, "websocket-client: status %r" % e.status_code)
        wamp_works(d, origin="http://good.example")  # still serving listed origins


@test
def test_allow_origin_missing_403():
    with Demo(*ALLOW) as d:
        st = H.handshake_status(d, origin=None)
        check(st == 403, "no Origin header with an allow-list: status %d, expected 403" % st)

        async def aio():  # websockets sends no Origin unless told to
            try:
                async with websockets.connect(d.url(), subprotocols=["wamp"], open_timeout=3):
                    raise AssertionError("websockets without Origin was accepted")
            except websockets.exceptions.InvalidStatusCode as e:
                check(e.status_code == 403, "websockets: status %r" % e.status_code)
        asyncio.run(asyncio.wait_for(aio(), 5))


# ---- --block ---------------------------------------------------------------------------------

def _blocked(d):
    st = H.handshake_status(d)
    check(st == 403, "blocked peer: handshake status %d, expected 403" % st)
    try:
        websocket.create_connection(d.url(), subprotocols=["wamp"], timeout=3)
        raise AssertionError("websocket-client from a blocked address was accepted")
    except websocket.WebSocketBadStatusException as e:
        check(e.status_code == 403, "websocket-client: status %r" % e.status_code)


@test
def test_block_ipv4_address():
    with Demo("--block", "127.0.0.1") as d:
        _blocked(d)


@test
def test_block_ipv4_cidr():
    with Demo("--block", "127.0.0.0/8") as d:
        _blocked(d)
    with Demo("--block", "127.0.0.1/32") as d:
        _blocked(d)


@test
def test_block_repeatable():
    with Demo("--block", "10.0.0.0/8", "--block", "127.0.0.0/24", "--block", "192.168.1.1") as d:
        _blocked(d)


@test
def test_block_plain_http_403():
    with Demo("--block", "127.0.0.1") as d:
        st, _, _ = H.http_get(d, "/")
        check(st == 403, "GET / from a blocked peer: status %d, expected 403" % st)


@test
def test_block_ipv6_address():
    with Demo("--block", "::1", host="::1") as d:
        _blocked(d)
    with Demo("--block", "::1/128", host="::1") as d:
        _blocked(d)
    with Demo("--block", "::/0", host="::1") as d:
        _blocked(d)


@test
def test_block_non_matching_lets_through():
    for args, host in ((("--block", "127.0.0.2"), None), (("--block", "10.0.0.0/8"), None),
                       (("--block", "126.0.0.0/8"), None), (("--block", "128.0.0.0/1"), None),
                       (("--block", "::1"), None), (("--block", "2001:db8::/32"), "::1"),
                       (("--block", "::2"), "::1"), (("--block", "127.0.0.1"), "::1"),
                       (("--block", "127.0.0.0/8"), "::1")):
        with Demo(*args, host=host) as d:
            st = H.handshake_status(d)
            check(st == 101, "%s with a client on %s: status %d, expected 101" % (" ".join(args), d.host, st))
            wamp_works(d)


@test
def test_block_bad_values_exit_2():
    for v in ("300.0.0.1", "127.0.0.1/33", "::1/129", "not-an-address", "127.0.0.1/", "/8", "1.2.3",
              "127.0.0.1/-1", ""):
        rc, out, err = H.run_demo_expect_exit(["--port", "0", "--block", v])
        check(rc == 2, "--block %r: exit status %r, expected 2" % (v, rc))
        check(out == "", "--block %r: stdout %r" % (v, out))
        check(err.endswith("\n") and err.count("\n") == 1, "--block %r: stderr %r" % (v, err))


# ---- --session-dir ---------------------------------------------------------------------------

PHP_WRITER = r"""<?php
// php WRITER.php DIR: writes the sessions of the integration tests with PHP's own session code.
$dir = $argv[1];
ini_set('session.use_cookies', '0');
ini_set('session.use_only_cookies', '0');
ini_set('session.use_strict_mode', '0');
ini_set('session.cache_limiter', '');
ini_set('session.gc_probability', '0');
ini_set('session.lazy_write', '0');
session_save_path($dir);
function save($id, $handler, $vars) {
    ini_set('session.serialize_handler', $handler);
    session_id($id);
    if (!session_start()) { fwrite(STDERR, "session_start failed for $id\n"); exit(1); }
    $_SESSION = [];
    foreach ($vars as $k => $v) $_SESSION[$k] = $v;
    if (!session_write_close()) { fwrite(STDERR, "session_write_close failed for $id\n"); exit(1); }
}
$vars = [
    'user' => 'alice',
    'id' => 42,
    'neg' => -7,
    'ratio' => 0.25,
    'big' => 1.0E+100,
    'whole' => 3.0,
    'admin' => true,
    'guest' => false,
    'nothing' => null,
    'utf8' => "h\u{e9}llo \u{20ac} \u{1d11e}",
    'syntax' => "a\"b;c|d:{s:1:\"x\";}",
    'multiline' => "line1\nline2\ttab",
    'list' => [1, 2, 3],
    'empty' => [],
    'map' => ['a' => 1, 'b' => 'two'],
    'gap' => [0 => 'a', 2 => 'b'],
    'order' => [1 => 'a', 0 => 'b'],
    'from1' => [1 => 'x', 2 => 'y'],
    'mixed' => [0 => 'a', 'x' => 'b'],
    'numstr' => ['0' => 'zero', '1' => 'one'],
    'negkey' => [-1 => 'n'],
    'nested' => ['l' => [[1, [2, ['deep' => [true, null, 1.5]]]]], 'm' => ['x' => ['y' => []]]],
    'listofmaps' => [['id' => 1, 'name' => 'a'], ['id' => 2, 'name' => 'b']],
];
save('phpA1-b2,c3', 'php', $vars);
save('serA1-b2,c3', 'php_serialize', $vars);
save('emptyphp', 'php', []);
save('emptyser', 'php_serialize', []);
save('onlyphp', 'php', ['only' => 'value']);
save('listtop', 'php_serialize', [0 => 'a', 1 => 'b']);
save('intkeys', 'php_serialize', [0 => 'a', 'k' => 'c', 5 => 'f']);
save('readonly', 'php', ['counter' => 1]);
"""

SESSION_VARS = {
    "user": "alice", "id": 42, "neg": -7, "ratio": 0.25, "big": 1e100, "whole": 3, "admin": True,
    "guest": False, "nothing": None, "utf8": "h\u00e9llo \u20ac \U0001d11e", "syntax": 'a"b;c|d:{s:1:"x";}',
    "multiline": "line1\nline2\ttab",
    "list": [1, 2, 3], "empty": [], "map": {"a": 1, "b": "two"}, "gap": {"0": "a", "2": "b"},
    "order": {"1": "a", "0": "b"}, "from1": {"1": "x", "2": "y"}, "mixed": {"0": "a", "x": "b"},
    "numstr": ["zero", "one"], "negkey": {"-1": "n"},
    "nested": {"l": [[1, [2, {"deep": [True, None, 1.5]}]]], "m": {"x": {"y": []}}},
    "listofmaps": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
}

SESSIONS = {
    "phpA1-b2,c3": SESSION_VARS,
    "serA1-b2,c3": SESSION_VARS,
    "emptyphp": {},
    "emptyser": {},
    "onlyphp": {"only": "value"},
    "listtop": {"0": "a", "1": "b"},
    "intkeys": {"0": "a", "k": "c", "5": "f"},
}


class SessionDir:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wamp1-sessions-")
        writer = os.path.join(self.dir, "writer.php.txt")
        with open(writer, "w") as f:
            f.write(PHP_WRITER)
        sdir = os.path.join(self.dir, "s")
        os.mkdir(sdir)
        p = subprocess.run(["php", writer, sdir], capture_output=True, timeout=20)
        if p.returncode != 0:
            raise AssertionError("php failed (%d): %s" % (p.returncode, p.stderr.decode(errors="replace")))
        self.path = sdir
        # files whose names the demo must never read: ids with characters outside [A-Za-z0-9,-]
        src = os.path.join(sdir, "sess_phpA1-b2,c3")
        for bad in ("a_b", "a.b", "a b", "x%41"):
            shutil.copy(src, os.path.join(sdir, "sess_" + bad))
        shutil.copy(src, os.path.join(self.dir, "sess_outside"))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def websession(d, cookie=None):
    c = Wamp(d.url(), header=["Cookie: " + cookie] if cookie is not None else None)
    return c.call_ok(RPC + "websession")


_php = {}


def php_sessions():
    if "dir" not in _php:
        if not shutil.which("php"):
            raise AssertionError("the php CLI is not installed (Debian php-cli)")
        _php["dir"] = SessionDir()
    return _php["dir"]


@test
def test_session_files_written_by_php():
    s = php_sessions()
    with open(os.path.join(s.path, "sess_phpA1-b2,c3"), "rb") as f:
        php = f.read()
    with open(os.path.join(s.path, "sess_serA1-b2,c3"), "rb") as f:
        ser = f.read()
    check(php.startswith(b"user|s:5:\"alice\";"), "php handler file starts %r" % php[:40])
    check(ser.startswith(b"a:23:{s:4:\"user\";s:5:\"alice\";"), "php_serialize file starts %r" % ser[:40])


def _session_cases(ids):
    s = php_sessions()
    results = []
    with Demo("--session-dir", s.path) as d:
        for sid in ids:
            try:
                got = websession(d, "PHPSESSID=" + sid)
                want = SESSIONS[sid]
                ok = H.json_equal(got, want)
                results.append((sid, ok, "got %s, expected %s" % (H.short(json.dumps(got), 600),
                                                                  H.short(json.dumps(want), 600))))
            except Exception as e:
                results.append((sid, False, "%s: %s" % (type(e).__name__, e)))
    return results


def test_session_php_handler():
    return _session_cases(["phpA1-b2,c3", "onlyphp", "emptyphp"])


def test_session_php_serialize_handler():
    return _session_cases(["serA1-b2,c3", "emptyser", "listtop", "intkeys"])


test(test_session_php_handler)
test(test_session_php_serialize_handler)


@test
def test_session_cookie_among_others():
    s = php_sessions()
    with Demo("--session-dir", s.path) as d:
        eq(websession(d, "theme=dark; PHPSESSID=onlyphp; lang=en"), {"only": "value"}, "cookie in the middle")
        eq(websession(d, "a=1;PHPSESSID=onlyphp"), {"only": "value"}, "cookie last, no space")
        eq(websession(d, "XPHPSESSID=onlyphp"), None, "a different cookie name")


@test
def test_session_none():
    s = php_sessions()
    with Demo("--session-dir", s.path) as d:
        eq(websession(d, None), None, "no Cookie header")
        eq(websession(d, "theme=dark"), None, "no PHPSESSID cookie")
        eq(websession(d, "PHPSESSID="), None, "empty id")
        eq(websession(d, "PHPSESSID=nosuchsession"), None, "no such file")
        for bad in ("a_b", "a.b", "x%41", "../sess_outside", "..%2Fsess_outside", "../s/sess_onlyphp"):
            eq(websession(d, "PHPSESSID=" + bad), None, "id %r with characters outside [A-Za-z0-9,-]" % bad)


@test
def test_session_read_only():
    s = php_sessions()
    f = os.path.join(s.path, "sess_readonly")
    before = open(f, "rb").read(), os.stat(f).st_mtime_ns
    with Demo("--session-dir", s.path) as d:
        eq(websession(d, "PHPSESSID=readonly"), {"counter": 1}, "readonly session")
        c = Wamp(d.url(), header=["Cookie: PHPSESSID=readonly"])
        c.call_ok(RPC + "websession")
        c.close()
    after = open(f, "rb").read(), os.stat(f).st_mtime_ns
    check(before == after, "the session file changed")


@test
def test_session_per_connection():
    s = php_sessions()
    with Demo("--session-dir", s.path) as d:
        a = Wamp(d.url(), header=["Cookie: PHPSESSID=onlyphp"])
        b = Wamp(d.url(), header=["Cookie: PHPSESSID=listtop"])
        c = Wamp(d.url())
        eq(a.call_ok(RPC + "websession"), {"only": "value"}, "A")
        eq(b.call_ok(RPC + "websession"), {"0": "a", "1": "b"}, "B")
        eq(c.call_ok(RPC + "websession"), None, "C without cookie")
        eq(a.call_ok(RPC + "websession"), {"only": "value"}, "A again")


# ---- TLS -------------------------------------------------------------------------------------

def _make_cert(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"],
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError("openssl req failed: %s" % p.stderr.decode(errors="replace"))
    return cert, key


def _start_tls(cert, key, host=None):
    """The TLS demo, or a string saying why TLS is not supported."""
    try:
        return Demo("--tls-cert", cert, "--tls-key", key, host=host)
    except AssertionError as e:
        rc, out, err = H.run_demo_expect_exit(["--port", "0", "--tls-cert", cert, "--tls-key", key])
        if rc == 2 and "tls" in err.lower():
            return "demo exits 2 without TLS support: %s" % err.strip()
        raise e


@test
def test_tls_wss():
    tmp = tempfile.mkdtemp(prefix="wamp1-tls-")
    try:
        cert, key = _make_cert(tmp)
        d = _start_tls(cert, key)
        if isinstance(d, str):
            return "SKIP: " + d
        with d:
            sslopt = {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
            c = Wamp(d.url(scheme="wss"), sslopt=sslopt)
            check(H.SESSION_RE.match(c.session), "WELCOME over wss: %r" % (c.welcome,))
            eq(c.call_ok(RPC + "add", 1, 2), 3, "add over wss")
            c.send([5, H.TOPIC + "tls"])
            c.sync()
            c2 = Wamp(d.url(scheme="wss"), sslopt=sslopt)
            c2.send([7, H.TOPIC + "tls", {"secure": True}])
            eq(c.wait_for(lambda m: m[0] == 8, 2, "EVENT"), [8, H.TOPIC + "tls", {"secure": True}], "EVENT over wss")

            async def aio():
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                async with websockets.connect(d.url(scheme="wss"), ssl=ctx, subprotocols=["wamp"],
                                              open_timeout=3) as ws:
                    w = json.loads(await asyncio.wait_for(ws.recv(), 3))
                    check(w[0] == 0 and w[2] == 1, "WELCOME %r" % (w,))
                    await ws.send(json.dumps([2, "t", RPC + "echo", "tls"]))
                    eq(json.loads(await asyncio.wait_for(ws.recv(), 3)), [3, "t", ["tls"]], "echo over wss")
            asyncio.run(asyncio.wait_for(aio(), 8))
            # a plain ws:// client on the TLS port fails without harming the server
            try:
                websocket.create_connection(d.url(), subprotocols=["wamp"], timeout=2)
                raise AssertionError("a plain ws:// handshake on the TLS port succeeded")
            except (websocket.WebSocketException, OSError):
                pass
            eq(c.call_ok(RPC + "echo", 1), [1], "wss after a plain client")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_tls_bad_files_exit_2():
    tmp = tempfile.mkdtemp(prefix="wamp1-tls-")
    try:
        cert, key = _make_cert(tmp)
        for args in (["--tls-cert", cert], ["--tls-key", key],
                     ["--tls-cert", os.path.join(tmp, "missing.pem"), "--tls-key", key],
                     ["--tls-cert", key, "--tls-key", cert]):
            rc, out, err = H.run_demo_expect_exit(["--port", "0"] + args)
            check(rc == 2, "%r: exit status %r, expected 2" % (args, rc))
            check(out == "", "%r: stdout %r" % (args, out))
            check(err.endswith("\n") and err.count("\n") == 1, "%r: stderr %r" % (args, err))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        rc = H.main(R)
    finally:
        if "dir" in _php:
            _php["dir"].cleanup()
    sys.exit(rc)
