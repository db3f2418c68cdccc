#!/usr/bin/python3
"""Integration tests of build/demo's browser side over loopback: the page and the client over
plain HTTP (gzip, ETag/304, HEAD, 404/405, --web-root and path traversal, the links), and
WAMP-CRA with --auth, signed here the way AutobahnJS 0.8 signs (HMAC-SHA256 keyed with the
secret, or with the base64 PBKDF2-HMAC-SHA256 key of a salted secret; Python's hashlib, an
implementation independent of ours).

    /usr/bin/python3 tests/integration/test_web_demo.py build/demo [-k=NAME ...]

Prints PASS/FAIL per test and ends with `integration-web: N passed, M failed`."""
import base64
import gzip
import hashlib
import hmac
import json
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import wamp_harness as H  # noqa: E402
from wamp_harness import RPC, TOPIC, Demo, Wamp, check, eq  # noqa: E402

R = H.Runner("integration-web", per_test_limit=20.0, budget=60.0)
test = R.test
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEB = os.path.join(ROOT, "examples", "web")
AUTHREQ = "http://api.wamp.ws/procedure#authreq"
AUTH = "http://api.wamp.ws/procedure#auth"
ERR = "http://api.wamp.ws/error#"


def request(d, method, path, headers=()):
    s = H._connect(d)
    try:
        s.sendall(("%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (
            method, path, d.hostport, "".join(h + "\r\n" for h in headers))).encode("latin-1"))
        if method == "HEAD":  # no body whatever Content-Length says
            st, hd, _body, rest = _head(s)
            return st, hd, rest
        st, hd, body, _ = H.read_http_response(s)
        return st, hd, body
    finally:
        s.close()


def _head(s):
    buf = b""
    s.settimeout(3.0)
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hd = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hd[k.strip().lower()] = v.strip()
    time.sleep(0.1)
    try:
        s.settimeout(0.3)
        more = s.recv(4096)
        rest += more
    except Exception:
        pass
    return int(lines[0].split()[1]), hd, None, rest


def source(name):
    with open(os.path.join(WEB, name), "rb") as f:
        return f.read()


# ---- plain HTTP ----------------------------------------------------------------------------

@test
def test_page_and_client_served():
    with Demo() as d:
        st, hd, body = H.http_get(d, "/")
        check(st == 200, "GET /: %d" % st)
        check(hd.get("content-type") == "text/html; charset=utf-8", "GET / type %r" % hd.get("content-type"))
        check(body == source("index.html"), "GET / is not examples/web/index.html")
        st, hd, body = H.http_get(d, "/wamp1.js")
        check(st == 200 and body == source("wamp1.js"), "GET /wamp1.js: %d, %d bytes" % (st, len(body)))
        check(hd.get("content-type", "").startswith("text/javascript"), "/wamp1.js type %r" % hd.get("content-type"))
        check(hd.get("x-content-type-options") == "nosniff", "nosniff")
        # the contract: / and /wamp1.js, any other plain HTTP path 404
        for p in ("/index.html", "/wamp1.classic.js", "/embed.c", "/screenshot.png", "/favicon.ico"):
            st, _, _ = H.http_get(d, p)
            check(st == 404, "GET %s: %d, expected 404" % (p, st))


@test
def test_gzip_only_when_accepted():
    with Demo() as d:
        st, hd, body = H.http_get(d, "/wamp1.js", ["Accept-Encoding: gzip, deflate"])
        check(st == 200 and hd.get("content-encoding") == "gzip", "gzip asked: %d %r" % (st, hd))
        check(gzip.decompress(body) == source("wamp1.js"), "the gzip body is wamp1.js")
        check(len(body) < len(source("wamp1.js")) // 2, "gzip is smaller")
        check(hd.get("vary") == "Accept-Encoding", "Vary %r" % hd.get("vary"))
        for ae in (None, "identity", "gzip;q=0", "br"):
            st, hd, body = H.http_get(d, "/wamp1.js", ["Accept-Encoding: " + ae] if ae else [])
            check(st == 200 and "content-encoding" not in hd and body == source("wamp1.js"),
                  "Accept-Encoding %r: %d %r" % (ae, st, hd.get("content-encoding")))


@test
def test_etag_304_and_head():
    with Demo() as d:
        st, hd, body = H.http_get(d, "/")
        tag = hd.get("etag", "")
        check(tag.startswith('"') and tag.endswith('"'), "ETag %r" % tag)
        st, hd2, body2 = H.http_get(d, "/", ["If-None-Match: " + tag])
        check(st == 304 and body2 == b"", "If-None-Match: %d, %d bytes" % (st, len(body2)))
        check(hd2.get("etag") == tag, "304 keeps the ETag")
        st, _, _ = H.http_get(d, "/", ['If-None-Match: "stale"'])
        check(st == 200, "a stale ETag: %d" % st)
        st, hh, rest = request(d, "HEAD", "/")
        check(st == 200 and hh.get("etag") == tag, "HEAD: %d %r" % (st, hh.get("etag")))
        check(int(hh.get("content-length", "-1")) == len(body), "HEAD Content-Length %r" % hh.get("content-length"))
        check(rest == b"", "HEAD sent a body: %r" % rest[:40])


@test
def test_404_405():
    with Demo() as d:
        for p in ("/nope", "/index.html/", "/../examples/web/index.html", "/wamp1.js/x"):
            st, _, _ = H.http_get(d, p)
            check(st == 404, "GET %s: %d" % (p, st))
        for m in ("POST", "PUT", "DELETE", "OPTIONS"):
            st, hd, _ = request(d, m, "/", ["Content-Length: 0"])
            check(st == 405 and hd.get("allow") == "GET, HEAD", "%s /: %d Allow %r" % (m, st, hd.get("allow")))
        # the WebSocket still works on the same port
        c = Wamp(d.url())
        eq(c.call_ok(RPC + "add", 1, 2), 3)


@test
def test_links_apply_to_the_page():
    with Demo("--block", "127.0.0.1") as d:
        st, _, _ = H.http_get(d, "/wamp1.js")
        check(st == 403, "blocked peer, GET /wamp1.js: %d" % st)
    with Demo("--allow-origin", "good.example") as d:
        st, _, _ = H.http_get(d, "/")
        check(st == 200, "a navigation (no Origin) with --allow-origin: %d" % st)
        st, _, _ = H.http_get(d, "/wamp1.js", ["Origin: http://good.example"])
        check(st == 200, "a listed Origin: %d" % st)
        st, _, _ = H.http_get(d, "/wamp1.js", ["Origin: http://evil.example"])
        check(st == 403, "an unlisted Origin: %d" % st)
        st = H.handshake_status(d, origin=None)
        check(st == 403, "a WebSocket without Origin is still refused: %d" % st)


@test
def test_web_root_and_traversal():
    tmp = tempfile.mkdtemp()
    try:
        os.mkdir(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "extra.html"), "w") as f:
            f.write("<p>extra</p>")
        with open(os.path.join(tmp, "secret.txt"), "w") as f:
            f.write("secret")
        with Demo("--web-root", os.path.join(tmp, "www")) as d:
            st, hd, body = H.http_get(d, "/extra.html")
            check(st == 200 and body == b"<p>extra</p>", "a file of --web-root: %d %r" % (st, body))
            st, _, body = H.http_get(d, "/wamp1.js")
            check(st == 200 and body == source("wamp1.js"), "the embedded files stay")
            for p in ("/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/x/../../secret.txt",
                      "/..%5csecret.txt", "/./extra.html"):
                st, _, body = H.http_get(d, p)
                check(st == 403 and b"secret" != body, "traversal %s: %d %r" % (p, st, body[:20]))
            st, _, _ = H.http_get(d, "/missing.html")
            check(st == 404, "missing file: %d" % st)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- WAMP-CRA ------------------------------------------------------------------------------

AUTH_FILE = {
    "anonymous": {"pubsub": [{"uri": TOPIC, "prefix": True, "pub": False, "sub": True}],
                  "rpc": [{"uri": RPC + "add", "call": True}]},
    "keys": {
        "alice": {"secret": "s3cret",
                  "permissions": {"pubsub": [{"uri": TOPIC, "prefix": True, "pub": True, "sub": True}],
                                  "rpc": [{"uri": RPC, "prefix": True, "call": True}]}},
        "bob": {"secret": "pw", "salt": "salt123", "iterations": 100, "keylen": 32,
                "permissions": {"pubsub": [], "rpc": [{"uri": RPC + "echo", "call": True}]}},
        "ünï": {"secret": "wörd", "permissions": {"rpc": [{"uri": RPC + "session", "call": True}]}},
    },
}


def sign(challenge, secret):
    """AutobahnJS 0.8: ab.deriveKey(secret, JSON.parse(challenge).authextra), then
    CryptoJS.HmacSHA256(challenge, key).toString(CryptoJS.enc.Base64)."""
    extra = json.loads(challenge).get("authextra")
    key = secret.encode("utf-8")
    if extra and extra.get("salt"):
        dk = hashlib.pbkdf2_hmac("sha256", key, extra["salt"].encode("utf-8"), extra.get("iterations", 10000),
                                 extra.get("keylen", 32))
        key = base64.b64encode(dk)
    return base64.b64encode(hmac.new(key, challenge.encode("utf-8"), hashlib.sha256).digest()).decode()


class AuthDemo(Demo):
    def __init__(self, auth=AUTH_FILE):
        self.tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(auth, self.tmp)
        self.tmp.close()
        super().__init__("--auth", self.tmp.name)

    def __exit__(self, *a):
        os.unlink(self.tmp.name)
        return super().__exit__(*a)


def login(c, key, secret):
    ch = c.call_ok(AUTHREQ, key)
    return c.call_ok(AUTH, sign(ch, secret))


def err_uri(m):
    return m[2]


@test
def test_cra_unsalted_login_and_permissions():
    with AuthDemo() as d:
        c = Wamp(d.url())
        ch = c.call_ok(AUTHREQ, "alice", {"client": "test"})
        info = json.loads(ch)
        for k in ("authid", "authkey", "timestamp", "sessionid", "extra", "permissions"):
            check(k in info, "challenge without %s: %r" % (k, info))
        eq(info["authkey"], "alice")
        eq(info["extra"], {"client": "test"})
        check("authextra" not in info, "an unsalted challenge has no authextra")
        check(len(info["timestamp"]) == 20 and info["timestamp"].endswith("Z"), "timestamp %r" % info["timestamp"])
        check(abs(time.mktime(time.strptime(info["timestamp"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime())) < 60,
              "the timestamp is now: %r" % info["timestamp"])
        perms = c.call_ok(AUTH, sign(ch, "s3cret"))
        eq(perms, AUTH_FILE["keys"]["alice"]["permissions"])
        eq(info["sessionid"], c.call_ok(RPC + "session"))
        eq(c.call_ok(RPC + "add", 2, 3), 5)
        m = c.call_err(AUTHREQ, "alice")
        eq(err_uri(m), ERR + "already-authenticated")
        m = c.call_err(AUTH, "x")
        eq(err_uri(m), ERR + "already-authenticated")


@test
def test_cra_wrong_secret_fails_once():
    with AuthDemo() as d:
        c = Wamp(d.url())
        ch = c.call_ok(AUTHREQ, "alice")
        m = c.call_err(AUTH, sign(ch, "wrong"))
        eq(err_uri(m), ERR + "invalid-signature")
        # one try per challenge: the right signature now is too late
        m = c.call_err(AUTH, sign(ch, "s3cret"))
        eq(err_uri(m), ERR + "no-authentication-requested")
        m = c.call_err(RPC + "add", 1, 2)
        eq(err_uri(m), ERR + "not-authorized")
        # a new challenge works
        login(c, "alice", "s3cret")
        eq(c.call_ok(RPC + "add", 1, 2), 3)
        for bad in (None, 5, "", "not base64!", base64.b64encode(b"x" * 31).decode()):
            c2 = Wamp(d.url())
            c2.call_ok(AUTHREQ, "alice")
            m = c2.call_err(AUTH, bad)
            check(err_uri(m) in (ERR + "invalid-signature", ERR + "invalid-argument"), "signature %r: %r" % (bad, m))


@test
def test_cra_salted_login():
    with AuthDemo() as d:
        c = Wamp(d.url())
        ch = c.call_ok(AUTHREQ, "bob")
        eq(json.loads(ch)["authextra"], {"salt": "salt123", "keylen": 32, "iterations": 100})
        # the plain secret is not the key of a salted login
        c2 = Wamp(d.url())
        ch2 = c2.call_ok(AUTHREQ, "bob")
        wrong = base64.b64encode(hmac.new(b"pw", ch2.encode(), hashlib.sha256).digest()).decode()
        eq(err_uri(c2.call_err(AUTH, wrong)), ERR + "invalid-signature")
        perms = c.call_ok(AUTH, sign(ch, "pw"))
        eq(perms, {"pubsub": [], "rpc": [{"uri": RPC + "echo", "call": True}]})
        eq(c.call_ok(RPC + "echo", 1), [1])
        eq(err_uri(c.call_err(RPC + "add", 1, 2)), ERR + "not-authorized")
        eq(err_uri(c.call_err(RPC + "publish", TOPIC + "x", 1)), ERR + "not-authorized")


@test
def test_cra_utf8_key_and_secret():
    with AuthDemo() as d:
        c = Wamp(d.url())
        login(c, "ünï", "wörd")
        check(H.SESSION_RE.match(c.call_ok(RPC + "session")), "rpc#session after a UTF-8 login")


@test
def test_cra_before_auth_nothing_but_authreq():
    with AuthDemo() as d:
        c = Wamp(d.url())
        for uri, args in ((RPC + "add", (1, 2)), (RPC + "echo", ()), (RPC + "stats", ())):
            eq(err_uri(c.call_err(uri, *args)), ERR + "not-authorized", uri)
        eq(err_uri(c.call_err(RPC + "nosuch")), H.ERR_NOSUCH)
        # a subscription before authenticating is ignored: nothing arrives
        c.send([5, TOPIC + "cra"])
        a = Wamp(d.url())
        login(a, "alice", "s3cret")
        a.send([5, TOPIC + "cra"])
        a.sync()
        a.send([7, TOPIC + "cra", "hello", False])
        a.sync()
        check(a.events(0.3) == [[8, TOPIC + "cra", "hello"]], "alice got her own event")
        check(c.events(0.3) == [], "the unauthenticated subscriber got an event")
        # and its PUBLISH is dropped
        c.send([7, TOPIC + "cra", "from-anon"])
        c.call_err(RPC + "add")
        check(a.events(0.3) == [], "an unauthenticated PUBLISH was delivered")


@test
def test_cra_anonymous_and_errors():
    with AuthDemo() as d:
        c = Wamp(d.url())
        eq(c.call_ok(AUTHREQ), None)
        eq(err_uri(c.call_err(AUTHREQ)), ERR + "authentication-already-requested")
        perms = c.call_ok(AUTH)
        eq(perms, AUTH_FILE["anonymous"])
        eq(c.call_ok(RPC + "add", 1, 1), 2)
        eq(err_uri(c.call_err(RPC + "echo", 1)), ERR + "not-authorized")
        c2 = Wamp(d.url())
        eq(err_uri(c2.call_err(AUTHREQ, "mallory")), ERR + "no-such-authkey")
        eq(err_uri(c2.call_err(AUTHREQ, 42)), ERR + "invalid-argument")
        eq(err_uri(c2.call_err(AUTHREQ, "alice", [1])), ERR + "invalid-argument")
        eq(err_uri(c2.call_err(AUTHREQ, "alice", {"x": "y" * 2000})), ERR + "invalid-argument")
        eq(err_uri(c2.call_err(AUTH, "sig")), ERR + "no-authentication-requested")
    no_anon = {"keys": AUTH_FILE["keys"]}
    with AuthDemo(no_anon) as d:
        c = Wamp(d.url())
        eq(err_uri(c.call_err(AUTHREQ, None)), ERR + "anonymous-auth-forbidden")


@test
def test_cra_bad_auth_files_exit_2():
    tmp = tempfile.mkdtemp()
    try:
        cases = ["", "[]", "{}", '{"keys": {"a": {}}}', '{"keys": {"a": {"secret": "x", "salt": "s", "keylen": 99}}}',
                 '{"keys": {"a": {"secret": "x", "permissions": {"rpc": 5}}}}', "{not json"]
        for i, text in enumerate(cases):
            p = os.path.join(tmp, "a%d.json" % i)
            with open(p, "w") as f:
                f.write(text)
            rc, out, err = H.run_demo_expect_exit(["--port", "0", "--auth", p])
            check(rc == 2 and out == "" and err.count("\n") == 1, "--auth %r: %r %r %r" % (text, rc, out, err))
        rc, _, _ = H.run_demo_expect_exit(["--port", "0", "--auth", os.path.join(tmp, "missing.json")])
        check(rc == 2, "a missing --auth file: %r" % rc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(H.main(R))
