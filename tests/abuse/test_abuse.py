#!/usr/bin/python3
"""Exhaustion, abuse and shutdown tests of build/demo (and build/echo) over loopback.

    /usr/bin/python3 tests/abuse/test_abuse.py build/demo [-k=NAME ...]

Every case runs while healthy clients publish, subscribe and call, and asserts that they
receive every event in order and every call result. Slow-loris cases (which take their
handshake timeout of about 10 s) run in the background while the others go on. Prints
PASS/FAIL per check and INFO lines with what each abuse got, and ends with
`abuse: N passed, M failed` (exit status 0 iff none failed)."""
import base64
import collections
import json
import os
import random
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wslib import (RPC, TOPIC, ERR_INTERNAL, ERR_INVALID, ERR_NOSUCH, OP_BIN, OP_CLOSE,  # noqa: E402
                   OP_CONT, OP_PING, OP_TEXT, EOF, WS, Closed, Healthy, NoMessage, Server,
                   Wamp, frame, handshake_request, pools, read_http_response, stats_of,
                   tcp_connect, wait_closed, wait_pools)

DEMO = "build/demo"
ECHO = "build/echo"
T_START = time.monotonic()
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)


# ---- reporting ---------------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()
        self.failures = []

    def check(self, name, ok, detail=""):
        with self.lock:
            if ok:
                self.passed += 1
            else:
                self.failed += 1
                self.failures.append(name)
            print("%s %s%s" % ("PASS" if ok else "FAIL", name, ": " + detail if detail else ""), flush=True)
        return ok

    def info(self, name, text):
        with self.lock:
            print("INFO %s: %s" % (name, text), flush=True)


R = Report()


def healthy_verdict(name, h):
    ok, summary = h.check()
    R.check(name + " healthy clients", ok, summary)


def server_sane(name, s, want=None, timeout=5.0):
    """The server is alive, answers rpc#stats, and (when want is given) its pools return to
    `want` (the stats client itself is counted in connections)."""
    if not s.alive():
        R.check(name + " server alive", False, "exited with status %r; stderr %s" % (s.proc.returncode, s.stderr()[-300:]))
        return None
    st = wait_pools(s, want or {}, timeout)
    if want:
        bad = {k: (st.get(k), v) for k, v in want.items() if st.get(k) != v}
        R.check(name + " pools back", not bad, pools(st) + ("" if not bad else "; (got, want): %r" % bad))
    return st


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


def http_attempt(s, request, timeout=5.0, close_wait=3.0):
    """Sends request bytes, returns (status or error text, complete, how it closed)."""
    k = tcp_connect(s, timeout)
    try:
        k.sendall(request)
        try:
            st, _h, _b, _r, complete = read_http_response(k, timeout)
        except EOF as e:
            return "closed without a response (%s)" % e, False, "eof"
        except NoMessage:
            return "no response", False, "open"
        return st, complete, wait_closed(k, close_wait)[0]
    finally:
        k.close()


# ---- 1. more connections than the pool holds --------------------------------------------------

def case_pool_full():
    name = "pool_full"
    with Server(DEMO, "--max-connections", 20) as s:
        h = Healthy(s, "pool", n_subs=2).start()            # 4 connections
        others = [Wamp.connect(s) for _ in range(16)]       # 20 in all
        time.sleep(0.3)
        socks = []
        for _ in range(50):
            k = tcp_connect(s)
            k.sendall(handshake_request(s.hostport(), new_key()))
            socks.append(k)
        got = collections.Counter()
        t0 = time.monotonic()
        for k in socks:
            try:
                st, _h, _b, _r, complete = read_http_response(k, 5)
                how = wait_closed(k, 3)[0]
                how = "closed" if how in ("eof", "reset") else how
                got["%d%s, then %s" % (st, " complete" if complete else " incomplete", how)] += 1
            except Exception as e:
                got["%s: %s" % (type(e).__name__, e)] += 1
            k.close()
        slow = time.monotonic() - t0
        R.info(name, "50 extra handshakes with 20 sessions open: %s (all answered in %.2f s)" % (dict(got), slow))
        R.check(name + " 50 extras get a complete 503", got == {"503 complete, then closed": 50}, str(dict(got)))
        # plain HTTP also gets 503 while full
        st2 = http_attempt(s, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        R.check(name + " plain GET while full gets 503", st2[0] == 503 and st2[1] and st2[2] != "open", repr(st2))
        st = others[0].stats()
        R.check(name + " stats while full", st["connections"] == 20 and st["connections_max"] == 20 and
                st["rejected_full"] >= 51, "connections %s/%s rejected_full %s" % (
                    st["connections"], st["connections_max"], st["rejected_full"]))
        # the 20 keep working; one leaves, a newcomer gets in
        bad = []
        for i, w in enumerate(others):
            try:
                if w.call_ok(RPC + "add", i, 1) != i + 1:
                    bad.append(i)
            except Exception as e:
                bad.append("%d: %s" % (i, e))
        R.check(name + " the 20 sessions keep answering", not bad, str(bad))
        others.pop().close()
        time.sleep(0.2)
        try:
            w = Wamp.connect(s)
            ok = w.call_ok(RPC + "echo", "in") == ["in"]
            others.append(w)
        except Exception as e:
            ok = False
            R.info(name, "newcomer after one left: %s" % e)
        R.check(name + " a slot freed by a leaver is usable again", ok)
        time.sleep(1.0)
        h.stop()
        healthy_verdict(name, h)
        for w in others:
            w.close(wait=0.3)
        h.close()
        server_sane(name, s, {"connections": 1, "topics": 0, "subscriptions": 0, "pending_calls": 0})


def case_pool_full_compiled():
    """The compiled pool (102,400 in the POSIX demo): fill it, then more. This client and the
    server each hold one descriptor per connection (as root the limit is raised), and the
    connections come from several loopback addresses (one address has about 28,000 ports)."""
    name = "pool_full_compiled"
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 104000
    if soft < want:
        try:  # the hard limit too: root may raise it
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard) if hard != resource.RLIM_INFINITY else hard))
        except (ValueError, OSError):
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))
            except (ValueError, OSError):
                pass
    args = ["--keepalive", "300"]  # the filling clients do not answer pings
    have = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if have < want:
        # the descriptors allowed here cannot hold the compiled pool: fill as much of it as
        # they allow, through the run-time limit
        if have < 2000:
            R.info(name, "skipped: RLIMIT_NOFILE %d is below 2000" % have)
            return
        args += ["--max-connections", str(have - 600)]
        R.info(name, "RLIMIT_NOFILE is %d here and cannot be raised to %d: filling %d of the compiled pool"
               % (have, want, have - 600))
    with Server(DEMO, *args) as s:
        rss0 = s.rss_kb()
        h = Healthy(s, "bigpool", n_subs=2).start()
        cap = stats_of(s)["connections_max"]
        n = cap - 4 - 1  # the healthy clients hold 4, one slot stays for a last session
        t0 = time.monotonic()
        socks, sids, bad = [], set(), collections.Counter()
        poller = select.poll()
        while len(socks) < n and time.monotonic() - t0 < 240:
            batch = {}
            for _ in range(min(500, n - len(socks))):
                k = tcp_connect(s, source="127.0.0.%d" % (1 + len(socks) // 20000)
                                if s.host == "127.0.0.1" and len(socks) >= 20000 else None)
                k.sendall(handshake_request(s.hostport(), new_key()))
                k.setblocking(False)
                batch[k.fileno()] = [k, b""]
                poller.register(k, select.POLLIN)
                socks.append(k)
            deadline = time.monotonic() + 20
            while batch and time.monotonic() < deadline:
                for fd, _ev in poller.poll(500):
                    ent = batch.get(fd)
                    if ent is None:
                        continue
                    try:
                        d = ent[0].recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        d = b""
                    ent[1] += d
                    m = re.search(rb'\[0,"([A-Za-z0-9_-]+)"', ent[1])
                    if m or not d:
                        if m and ent[1].startswith(b"HTTP/1.1 101"):
                            sids.add(m.group(1))
                        else:
                            bad[ent[1][:12]] += 1
                        poller.unregister(fd)
                        del batch[fd]
            for fd, ent in batch.items():
                bad["no answer"] += 1
                poller.unregister(fd)
        t_open = time.monotonic() - t0
        last = Wamp.connect(s)
        st = last.stats()
        extra = collections.Counter()
        for _ in range(20):
            r = http_attempt(s, handshake_request(s.hostport(), new_key()), close_wait=2)
            extra["%s%s %s" % (r[0], " complete" if r[1] else "", "closed" if r[2] in ("eof", "reset") else r[2])] += 1
        rss_full = s.rss_kb()
        R.info(name, "%d sessions opened in %.1f s (%d distinct session ids, failures %s); stats %s; "
               "20 more handshakes: %s; RSS %d -> %d kB" % (len(socks), t_open, len(sids), dict(bad), pools(st),
                                                            dict(extra), rss0, rss_full))
        R.check(name + " the whole compiled pool accepts sessions with distinct ids",
                st["connections"] == cap and len(sids) == n and not bad, "%d/%d, %s" % (len(sids), n, dict(bad)))
        R.check(name + " beyond the compiled pool: complete 503", extra == {"503 complete closed": 20}, str(dict(extra)))
        R.check(name + " a session at a full server works", last.call_ok(RPC + "add", 40, 2) == 42)
        t1 = time.monotonic()
        for k in socks:
            k.close()
        last.close()
        h.stop()
        healthy_verdict(name, h)
        h.close()
        st = server_sane(name, s, {"connections": 1, "topics": 0, "subscriptions": 0, "pending_calls": 0}, 10)
        R.info(name, "all left: %s after %.1f s; RSS %d kB" % (pools(st) if st else "?", time.monotonic() - t1,
                                                               s.rss_kb()))


# ---- 2. slow-loris handshakes and half-sent frames (background) -----------------------------

def loris_header_drip(s, out, key):
    """One byte of a handshake per second; returns how and when the server ended it."""
    k = tcp_connect(s)
    req = handshake_request(s.hostport(), new_key())
    t0 = time.monotonic()
    sent = 0
    try:
        while time.monotonic() - t0 < 16:
            try:
                k.send(req[sent:sent + 1])
                sent += 1
            except OSError:
                out[key] = ("reset on send", time.monotonic() - t0, sent)
                return
            r, _, _ = select.select([k], [], [], 1.0)
            if r:
                try:
                    data = k.recv(4096)
                except OSError:
                    out[key] = ("reset", time.monotonic() - t0, sent)
                    return
                out[key] = ("eof" if not data else "data %r" % data[:40], time.monotonic() - t0, sent)
                return
        out[key] = ("open", time.monotonic() - t0, sent)
    finally:
        k.close()


def loris_partial(s, out, key, data):
    k = tcp_connect(s)
    t0 = time.monotonic()
    try:
        if data:
            k.sendall(data)
        how, _ = wait_closed(k, 16)
        out[key] = (how, time.monotonic() - t0)
    finally:
        k.close()


def loris_half_frame(s, out, key, drip=False, limit=16.0):
    """After the handshake: a frame header that promises 200 bytes, then 50 of them (or one
    byte per second with drip) and silence."""
    w = Wamp.connect(s)
    t0 = time.monotonic()
    f = frame(OP_TEXT, json.dumps([2, "half", RPC + "echo", "x" * 150]).encode()[:200].ljust(200, b" "))
    pings = 0
    try:
        if drip:
            w.send_raw(f[:8])
            sent = 8
        else:
            w.send_raw(f[:58])
            sent = 58
        while time.monotonic() - t0 < limit:
            if drip and sent < len(f) - 1:
                try:
                    w.send_raw(f[sent:sent + 1])
                    sent += 1
                except OSError:
                    pass
            try:
                fin, op, payload = w.recv_frame(1.0)
            except NoMessage:
                continue
            except EOF as e:
                out[key] = ("tcp %s" % e.why, time.monotonic() - t0, pings)
                return
            if op == OP_PING:
                pings += 1  # cannot answer: the half frame is in the way
            elif op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                out[key] = ("close %s" % code, time.monotonic() - t0, pings)
                return
        out[key] = ("open", time.monotonic() - t0, pings)
    finally:
        w.abort()


def case_loris_background(results):
    """Runs in a thread: slow-loris clients against a demo (keepalive 4 s) and an echo
    server, a half-sent frame against a demo with the default keepalive (30 s)."""
    out = {}
    try:
        with Server(DEMO, "--keepalive", 4) as s, Server(ECHO) as e, Server(DEMO) as d30:
            h = Healthy(s, "loris", n_subs=2).start()
            base = stats_of(s)["connections"]
            jobs = [
                threading.Thread(target=loris_header_drip, args=(s, out, "demo: header one byte per second")),
                threading.Thread(target=loris_partial, args=(s, out, "demo: partial header, then silence",
                                                             b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: webs")),
                threading.Thread(target=loris_partial, args=(s, out, "demo: TCP connect, no bytes", b"")),
                threading.Thread(target=loris_half_frame, args=(s, out, "demo --keepalive 4: half-sent frame")),
                threading.Thread(target=loris_half_frame, args=(s, out, "demo --keepalive 4: frame dripped 1 byte/s"),
                                 kwargs={"drip": True}),
                threading.Thread(target=loris_header_drip, args=(e, out, "echo: header one byte per second")),
                threading.Thread(target=loris_partial, args=(e, out, "echo: partial header, then silence",
                                                             b"GET / HTTP/1.1\r\nHost: x\r\n")),
                threading.Thread(target=loris_half_frame_echo, args=(e, out, "echo: half-sent frame (no keepalive)")),
                threading.Thread(target=loris_half_frame, args=(d30, out, "demo default keepalive 30: half-sent frame"),
                                 kwargs={"limit": 66.0}),
            ]
            for j in jobs:
                j.start()
            time.sleep(2)
            mid = stats_of(s)["connections"]
            for j in jobs[:-1]:
                j.join(20)
            h.stop()
            results["healthy"] = h.check()
            h.close()
            results["pools"] = wait_pools(s, {"connections": 1, "topics": 0, "subscriptions": 0})
            results["mid"] = (base, mid)
            jobs[-1].join(70)
    except Exception as ex:
        results["error"] = "%s: %s" % (type(ex).__name__, ex)
        traceback.print_exc()
    results["out"] = out


def loris_half_frame_echo(s, out, key):
    w = WS.open(s, protocols=None)
    t0 = time.monotonic()
    try:
        w.send_raw(frame(OP_TEXT, b"y" * 200)[:60])
        how, code, _ = w.wait_close(16)
        out[key] = ("%s%s" % (how, " %s" % code if code else ""), time.monotonic() - t0, 0)
    finally:
        w.abort()


def report_loris(results):
    name = "slow_loris"
    if "error" in results:
        R.check(name, False, results["error"])
    out = results.get("out", {})
    for key in sorted(out):
        R.info(name, "%s -> %s after %.1f s%s" % (key, out[key][0], out[key][1],
                                                   (", pings seen %d" % out[key][2]) if "frame" in key else ""))

    def within(key, lo, hi, hows):
        v = out.get(key)
        ok = v is not None and any(v[0].startswith(x) for x in hows) and lo <= v[1] <= hi
        R.check("%s %s closed in [%g, %g] s" % (name, key, lo, hi), ok, repr(v))

    within("demo: header one byte per second", 9, 12, ("eof", "reset"))
    within("demo: partial header, then silence", 9, 12, ("eof", "reset"))
    within("demo: TCP connect, no bytes", 9, 12, ("eof", "reset"))
    within("echo: header one byte per second", 9, 12, ("eof", "reset"))
    within("echo: partial header, then silence", 9, 12, ("eof", "reset"))
    # a frame left unfinished after the handshake should be closed like an unfinished
    # handshake; with a short keepalive the missing pong closes it too
    within("demo default keepalive 30: half-sent frame", 9, 12, ("close", "tcp"))
    within("echo: half-sent frame (no keepalive)", 9, 12, ("close", "eof", "reset"))
    within("demo --keepalive 4: half-sent frame", 3.5, 9.5, ("close 1001",))
    within("demo --keepalive 4: frame dripped 1 byte/s", 3.5, 9.5, ("close 1001",))
    if "healthy" in results:
        ok, summary = results["healthy"]
        R.check(name + " healthy clients (keepalive 4 s, pongs answered)", ok, summary)
    if "mid" in results:
        R.info(name, "demo connections before %d, during the slow-loris clients %d" % results["mid"])
    st = results.get("pools")
    if st is not None:
        R.check(name + " pools back", st["connections"] == 1 and st["topics"] == 0 and st["subscriptions"] == 0,
                pools(st))


# ---- 3. clients that never read ----------------------------------------------------------------

def drain_events(w, topic, idle=1.0, limit=20.0):
    """Reads what a lazy client has: (event numbers, how it ended: 'open' / 'close N' / 'tcp ...')."""
    nums = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            m = w.recv(idle)
        except NoMessage:
            return nums, "open"
        except Closed as e:
            return nums, "close %s" % e.code
        except EOF as e:
            return nums, "tcp %s" % e.why
        if isinstance(m, list) and len(m) == 3 and m[0] == 8 and m[1] == topic and isinstance(m[2], dict):
            nums.append(m[2].get("i"))
    return nums, "still sending after %.0f s" % limit


def call_flooder(s, out):
    """Sends rpc#echo calls with 1 KB arguments and never reads the answers."""
    w = Wamp.connect(s, rcvbuf=4096)
    w.sock.settimeout(2)
    sent, stalled = 0, False
    msgs = b"".join(frame(OP_TEXT, '[2,"F%d","%secho","%s"]' % (i, RPC, "f" * 1000)) for i in range(100))
    try:
        for _ in range(200):
            w.send_raw(msgs)
            sent += 100
    except socket.timeout:
        stalled = True
    except OSError:
        pass
    how, code, _ = w.wait_close(1)
    w.abort()
    out["outcome"] = "%s%s after %d calls sent%s" % (how, " %s" % code if code else "", sent,
                                                       ", then its sending stalled (the server stopped reading)"
                                                       if stalled else "")


def case_slow_consumer(mode):
    name = "slow_consumer_" + mode
    with Server(DEMO, "--slow-consumer", mode) as s:
        h = Healthy(s, "slow" + mode, n_subs=3, interval=0.0003, pad=2000, sync_every=20, sleeps=True)
        lazy = [Wamp.connect(s, rcvbuf=4096) for _ in range(3)]
        for w in lazy:
            w.subscribe(h.topic)
            w.sync()
        observer = Wamp.connect(s)
        rss0 = s.rss_kb()
        st0 = observer.stats()
        flood = {}
        flooder = threading.Thread(target=call_flooder, args=(s, flood), daemon=True)
        h.start()
        flooder.start()
        t0 = time.monotonic()
        rss = [rss0]
        while time.monotonic() - t0 < 25 and (h.published < 6000 or flooder.is_alive()):
            time.sleep(0.5)
            rss.append(s.rss_kb())
        h.stop()
        flooder.join(10)
        rss.append(s.rss_kb())
        st1 = observer.stats()
        healthy_verdict(name, h)
        dropped = st1["dropped_messages"] - st0["dropped_messages"]
        closed = st1["slow_consumers_closed"] - st0["slow_consumers_closed"]
        outcomes = []
        for w in lazy:
            nums, how = drain_events(w, h.topic)
            in_order = all(b > a for a, b in zip(nums, nums[1:]))
            gapless = nums == list(range(len(nums)))
            after = None
            if how == "open":
                try:
                    after = w.call_ok(RPC + "echo", "still here", timeout=3) == ["still here"]
                except Exception as e:
                    after = "call failed: %s" % e
            outcomes.append((len(nums), in_order, gapless, how, after))
        R.info(name, "%d events of ~2 KB published to 3 healthy and 3 never-reading subscribers "
               "(client SO_RCVBUF 4096)" % h.final)
        R.info(name, "never-readers, drained afterwards: %s" % "; ".join(
            "%d events (%s), then %s%s" % (n, "no gaps" if g else "in order with gaps" if o else "OUT OF ORDER",
                                             how, "" if a is None else ", call afterwards: %s" % a)
            for n, o, g, how, a in outcomes))
        R.info(name, "counters: slow_consumers_closed +%d, dropped_messages +%d; RSS %d -> max %d -> %d kB"
               % (closed, dropped, rss0, max(rss), rss[-1]))
        R.info(name, "a client sending 1 KB rpc#echo calls without reading the answers: %s" % flood.get("outcome"))
        flooder_closed = 1 if flood.get("outcome", "").startswith("close 1008") else 0
        if mode == "close":
            R.check(name + " slow_consumers_closed counts each never-reader", closed == len(lazy) + flooder_closed,
                    "+%d for %d never-readers and %d call flooder" % (closed, len(lazy), flooder_closed))
            R.check(name + " never-readers closed (1008 or TCP close), what they got is gapless", all(
                (how == "close 1008" or how.startswith("tcp")) and g for n, o, g, how, a in outcomes),
                repr(outcomes))
            R.check(name + " nothing dropped in close mode", dropped == 0, "dropped_messages +%d" % dropped)
        else:
            R.check(name + " dropped_messages counts", dropped > 0, "+%d" % dropped)
            R.check(name + " never-readers stay connected and still answer calls, events in order",
                    all(how == "open" and a is True and o for n, o, g, how, a in outcomes), repr(outcomes))
            R.check(name + " nobody closed in drop mode", closed == 0, "slow_consumers_closed +%d" % closed)
        R.check(name + " RSS bounded", max(rss) - rss0 < 16 * 1024,
                "RSS %d kB before, max %d kB (+%d kB) while ~%d MB of events were fanned out" % (
                    rss0, max(rss), max(rss) - rss0, h.final * 2 * 6 // 1024))
        for w in lazy:
            w.abort()
        observer.close()
        h.close()
        server_sane(name, s, {"connections": 1, "topics": 0, "subscriptions": 0, "pending_calls": 0})


# ---- 4. limits: oversized input, deep nesting, huge numbers, long strings ---------------------

def expect_close(w, timeout=5.0):
    """What ends a connection we expect the server to fail: 'close N' or 'tcp ...'."""
    how, code, _ = w.wait_close(timeout)
    w.abort()
    return "close %s" % code if how == "close" else how


def case_limits():
    name = "limits"
    with Server(DEMO) as s:
        h = Healthy(s, "limits", n_subs=2).start()
        got = {}

        # headers
        big = handshake_request(s.hostport(), new_key(), extra=("X-Pad: " + "a" * 5000,))
        got["header block of 5 KB"] = http_attempt(s, big)
        many = handshake_request(s.hostport(), new_key(), extra=["X-H%d: v" % i for i in range(40)])
        got["40 header lines"] = http_attempt(s, many)
        endless = b"GET / HTTP/1.1\r\nHost: x\r\nX-Endless: " + b"b" * 70000
        got["70 KB header line, never ended"] = http_attempt(s, endless)
        for k in ("header block of 5 KB", "40 header lines", "70 KB header line, never ended"):
            v = got[k]
            R.check("%s %s -> 431" % (name, k), v[0] == 431 and v[1] and v[2] in ("eof", "reset"), repr(v))

        # frames and messages beyond the limit
        w = Wamp.connect(s)
        # the demo keeps no upgrade request (no --session-dir), so the whole buffer is the limit
        limit = 65536 - 256
        t0 = time.monotonic()
        w.send_raw(frame(OP_TEXT, b"", length=1 << 20)[:14])  # header and mask only
        got["frame header announcing 1 MiB"] = (expect_close(w), time.monotonic() - t0)
        w = Wamp.connect(s)
        w.send_raw(frame(OP_TEXT, b"", length=(1 << 63) + 5)[:14])
        got["64-bit length with the top bit set"] = (expect_close(w), 0)
        w = Wamp.connect(s)
        chunk = b"[" + b" " * 6999
        w.send_raw(frame(OP_TEXT, chunk, fin=False))
        try:
            for _ in range(10):
                w.send_raw(frame(OP_CONT, b" " * 7000, fin=False))
        except OSError:
            pass
        got["message of 10 x 7000-byte fragments"] = (expect_close(w), 0)
        for k, want in (("frame header announcing 1 MiB", "close 1009"),
                        ("64-bit length with the top bit set", "close 1002"),
                        ("message of 10 x 7000-byte fragments", "close 1009")):
            R.check("%s %s -> %s" % (name, k, want), got[k][0] == want, repr(got[k]))

        # a message of exactly the limit is answered, one byte more is 1009
        w = Wamp.connect(s)
        head = '[2,"L","%secho","' % RPC
        text = head + "a" * (limit - len(head) - 2) + '"]'
        w.send_text(text)
        try:
            m = w.answer("L", 5)
            ok = m[0] == 3 and m[2] == ["a" * (limit - len(head) - 2)]
        except Exception as e:
            ok = "%s" % e
        got["echo of exactly the limit (%d bytes)" % limit] = ok
        R.check("%s a message of exactly %d bytes is answered" % (name, limit), ok is True, repr(ok)[:200])
        w.send_text(text[:-2] + 'a"]')
        got["one byte beyond the limit"] = expect_close(w)
        R.check("%s one byte beyond the limit -> 1009" % name, got["one byte beyond the limit"] == "close 1009",
                got["one byte beyond the limit"])

        # long strings near the limit, escapes, a long callID
        w = Wamp.connect(s)
        long_s = "\u00e9\u4e2d\U0001f600\"\\\n" * 4000  # ~ 60 KB as JSON
        enc = json.dumps([2, "S", RPC + "echo", long_s], ensure_ascii=False).encode()
        r = w.call_ok(RPC + "echo", long_s, timeout=5)
        R.check(name + " echo of a %d-byte string with escapes and 4-byte UTF-8" % len(enc),
                r == [long_s], "")
        cid = "id-" + "q" * 60000
        w.send_json([2, cid, RPC + "add", 1, 2])
        m = w.answer(cid, 5)
        R.check(name + " a 60 KB callID comes back byte for byte", m == [3, cid, 3], str(m)[:100])
        cid2 = "sleep-" + "q" * 200
        w.send_json([2, cid2, RPC + "sleep", 1])
        m = w.answer(cid2, 5)
        got["rpc#sleep with a 206-byte callID (beyond WAMP1_MAX_CALLID)"] = [m[0], "<callID>"] + m[2:]
        R.check(name + " a deferred call with a callID beyond the limit gets CALLERROR internal",
                m[0] == 4 and m[2] == ERR_INTERNAL, str(m)[:150])
        w.send_json([5, TOPIC + "t" * 60000])
        w.send_json([1, "p" * 5000, RPC])
        w.send_json([2, "U", "x" * 5000])
        m = w.answer("U", 5)
        got["CALL with a 5000-byte procURI"] = m[:3]
        R.check(name + " CALL with a 5000-byte procURI is answered with a CALLERROR", m[0] == 4, str(m)[:150])
        R.check(name + " 60 KB topic URI and 5 KB prefix are ignored, connection stays",
                w.call_ok(RPC + "echo", 1) == [1])

        # deep nesting and too many tokens
        mal0 = w.stats()["malformed"]
        w.send_text("[" * 5000 + "]" * 5000)
        w.send_text('[2,"D","%secho",%s1%s]' % (RPC, "[" * 100, "]" * 100))
        w.send_text('[7,"%sdeep",%s1%s]' % (TOPIC, "{\"a\":" * 100, "}" * 100))
        ok63 = w.call_ok(RPC + "echo", json.loads("[" * 62 + "1" + "]" * 62)) == [json.loads("[" * 62 + "1" + "]" * 62)]
        try:
            m = w.answer("D", 0.5)
        except NoMessage:
            m = "no answer"
        mal1 = w.stats()["malformed"]
        got["deep nesting (5000, CALL arg 100, event 100)"] = "malformed +%d, CALL: %s" % (mal1 - mal0, m)
        R.check(name + " deep nesting dropped as malformed, connection stays, depth 63 still fine",
                mal1 - mal0 == 3 and ok63 and m == "no answer", got["deep nesting (5000, CALL arg 100, event 100)"])
        w.send_text('[2,"T","%secho",[%s]]' % (RPC, ",".join(["0"] * 5000)))
        m = w.answer("T", 5)
        got["CALL with 5000 array elements (beyond WAMP1_JSON_TOKENS)"] = m[:4]
        R.check(name + " CALL with too many tokens -> CALLERROR internal", m[0] == 4 and m[2] == ERR_INTERNAL, str(m)[:150])

        # rpc#publish of a large event (more JSON tokens than half of WAMP1_JSON_TOKENS)
        sub = Wamp.connect(s)
        sub.subscribe(TOPIC + "big-event")
        sub.sync()
        res = {}
        for n in (1000, 3000):
            ev = list(range(n))
            m = w.call(RPC + "publish", TOPIC + "big-event", ev)
            try:
                e = sub.recv(2)
                delivered = isinstance(e, list) and e[:2] == [8, TOPIC + "big-event"] and e[2] == ev
            except NoMessage:
                delivered = False
            res[n] = (m[0], m[2] if m[0] == 3 else m[2], "EVENT delivered" if delivered else "no EVENT")
        got["rpc#publish of 1000- and 3000-element events"] = res
        R.check(name + " rpc#publish of a 3000-element event reaches the subscriber (or the caller gets "
                "a CALLERROR)", all(v[2] == "EVENT delivered" or v[0] == 4 for v in res.values()), repr(res))
        sub.close()

        # huge numbers
        w.raw = True
        nums = {}
        for label, lit, proc in (("1e999999", "1e999999", "add"), ("-1e999999", "-1e999999", "add"),
                                 ("1e-999999", "1e-999999", "add"),
                                 ("300-digit integer", "9" * 300, "add"),
                                 ("400-digit integer", "9" * 400, "add"),
                                 ("60000-digit integer", "7" * 60000, "add"),
                                 ("1e999999 echoed", "1e999999", "echo"),
                                 ("300-digit integer echoed", "9" * 300, "echo"),
                                 ("60000-digit integer echoed", "7" * 60000, "echo")):
            cid = "N%d" % len(nums)
            w.send_text('[2,"%s","%s%s",%s]' % (cid, RPC, proc, lit))
            w.raw = False
            m = w.answer(cid, 5)
            nums[label] = m
        w.raw = False
        w.send_text('[2,"E1","%secho",1e999999,%s]' % (RPC, "9" * 300))
        w.raw = True
        raw = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            t = w.recv(5)
            if '"E1"' in t:
                raw = t
                break
        w.raw = False
        summary = {k: (v[0], v[2] if v[0] == 4 else (str(v[2])[:30])) for k, v in nums.items()}
        R.info(name, "huge numbers: %s" % summary)
        ok = (nums["1e999999"][0] == 4 and nums["1e999999"][2] == ERR_INVALID and
              nums["-1e999999"][0] == 4 and nums["1e-999999"] [0:3] == [3, "N2", 0] and
              nums["300-digit integer"][0] == 3 and abs(nums["300-digit integer"][2] / 1e300 - 1) < 1e-12 and
              nums["400-digit integer"][0] == 4 and nums["60000-digit integer"][0] == 4 and
              nums["300-digit integer echoed"][2] == [int("9" * 300)] and
              nums["60000-digit integer echoed"][2] == [int("7" * 60000)] and
              raw == '[3,"E1",[1e999999,%s]]' % ("9" * 300))
        R.check(name + " huge numbers get their defined answers (add: invalid_argument beyond double, "
                "echo: verbatim)", ok, "echo raw %r" % (raw or "")[:60])

        # binary and invalid UTF-8
        w.send_frame(OP_BIN, b'[2,"B","' + RPC.encode() + b'echo"]')
        R.check(name + " binary message dropped, connection stays", w.call_ok(RPC + "echo", 2) == [2])
        w.send_frame(OP_TEXT, b'[2,"X","\xff"]')
        got["invalid UTF-8"] = expect_close(w)
        R.check(name + " invalid UTF-8 -> 1007", got["invalid UTF-8"] == "close 1007", got["invalid UTF-8"])
        for k, v in got.items():
            R.info(name, "%s -> %s" % (k, v))
        h.stop()
        healthy_verdict(name, h)
        h.close()
        server_sane(name, s, {"connections": 1, "topics": 0, "subscriptions": 0, "pending_calls": 0,
                              "prefixes": 0})


# ---- 5. pool floods: PREFIX, SUBSCRIBE, pending CALLs ----------------------------------------

def send_batch(w, msgs, batch=500):
    for i in range(0, len(msgs), batch):
        w.send_raw(b"".join(frame(OP_TEXT, json.dumps(m, separators=(",", ":"))) for m in msgs[i:i + batch]))


def case_floods():
    name = "floods"
    with Server(DEMO) as s:
        h = Healthy(s, "floods", n_subs=3, sleeps=False).start()
        watch = Wamp.connect(s)
        base = watch.stats()

        # PREFIX: thousands on one connection, the table holds 8
        p = Wamp.connect(s)
        send_batch(p, [[1, "p%d" % i, RPC] for i in range(5000)])
        st = watch.stats()
        got = {}
        r0 = p.call(("p0:add"), 1, 2)
        r7 = p.call(("p7:add"), 1, 2)
        r8 = p.call(("p8:add"), 1, 2)
        p.send_json([1, "p0", TOPIC])          # redefining an existing prefix still works when full
        r0b = p.call("p0:add", 1, 2)
        got["PREFIX x5000"] = "prefixes %d; p0:add -> %s, p7:add -> %s, p8:add -> %s %s; p0 redefined -> %s" % (
            st["prefixes"] - base["prefixes"], r0[2], r7[2], r8[0], r8[2], r0b[2])
        R.check(name + " 5000 PREFIXes: the first 8 are kept, the rest ignored",
                st["prefixes"] - base["prefixes"] == 8 and r0 == [3, r0[1], 3] and r7[2] == 3 and
                r8[0] == 4 and r8[2] == ERR_NOSUCH and r0b[0] == 4, got["PREFIX x5000"])
        p.close()

        # SUBSCRIBE: distinct topics beyond the topic pool, then beyond the subscription pool
        t0 = time.monotonic()
        a = Wamp.connect(s)
        send_batch(a, [[5, TOPIC + "f%d" % i] for i in range(5000)])
        a.sync(timeout=20)
        st = watch.stats()
        topics_full = st["topics"]
        new = Wamp.connect(s)
        new.subscribe(TOPIC + "brand-new")
        new.sync()
        pub = Wamp.connect(s)
        pub.publish(TOPIC + "brand-new", "lost")
        pub.publish(TOPIC + "f17", "f17-event")
        pub.sync()
        try:
            m = new.recv(0.5)
        except NoMessage:
            m = None
        try:
            m17 = a.recv(2)
        except NoMessage:
            m17 = None
        got["SUBSCRIBE x5000 distinct topics"] = "topics %d/%d, subscriptions %d; a new topic while full: %s; " \
            "an existing one: %s" % (st["topics"], st["topics_max"], st["subscriptions"],
                                     "ignored" if m is None else m, m17)
        R.check(name + " topic pool full: extra topics ignored, existing ones work",
                topics_full == st["topics_max"] and m is None and m17 == [8, TOPIC + "f17", "f17-event"],
                got["SUBSCRIBE x5000 distinct topics"])
        subs = []
        for _ in range(14):
            b = Wamp.connect(s)
            send_batch(b, [[5, TOPIC + "f%d" % i] for i in range(5000)])
            subs.append(b)
        for b in subs:
            b.sync(timeout=30)
        st = watch.stats()
        hs = Wamp.connect(s)
        hs.subscribe(h.topic)  # a healthy topic: the subscription pool is full, so ignored
        hs.sync()
        st2 = watch.stats()
        got["SUBSCRIBE x5000 on 15 connections"] = "subscriptions %d/%d, topics %d; one more subscription: %s " \
            "(%.1f s)" % (st["subscriptions"], st["subscriptions_max"], st["topics"],
                          "ignored" if st2["subscriptions"] == st["subscriptions"] else "taken", time.monotonic() - t0)
        R.check(name + " subscription pool full: extra subscriptions ignored",
                st["subscriptions"] == st["subscriptions_max"] and st2["subscriptions"] == st["subscriptions"],
                got["SUBSCRIBE x5000 on 15 connections"])
        for b in subs + [a, new, pub, hs]:
            b.abort()
        st = wait_pools(s, {"topics": 1, "subscriptions": 3})
        R.check(name + " topics and subscriptions freed when the flooders leave",
                st["topics"] == 1 and st["subscriptions"] == 3, pools(st))

        # pending CALLs: rpc#sleep 5000 beyond the pending pool
        c = Wamp.connect(s)
        n = 4200
        ids = ["P%d" % i for i in range(n)]
        send_batch(c, [[2, i, RPC + "sleep", 5000] for i in ids])
        errors = collections.Counter()
        answered = 0
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline and answered < n - base["pending_calls_max"]:
            try:
                m = c.recv(0.5)
            except NoMessage:
                continue
            if isinstance(m, list) and m and m[0] == 4:
                errors[m[2]] += 1
                answered += 1
        st = watch.stats()
        late = Wamp.connect(s)
        ml = late.call(RPC + "sleep", 10)
        ok_other = watch.call_ok(RPC + "add", 2, 3) == 5
        got["CALL rpc#sleep 5000 x4200"] = "pending_calls %d/%d, immediate CALLERRORs %s; another client's " \
            "sleep while full -> %s; add while full -> %s" % (st["pending_calls"], st["pending_calls_max"],
                                                                dict(errors), ml[2] if ml[0] == 4 else ml, ok_other)
        R.check(name + " pending pool full: the extra calls get CALLERROR internal",
                st["pending_calls"] == st["pending_calls_max"] and
                errors == {ERR_INTERNAL: n - st["pending_calls_max"]} and ml[0] == 4 and ml[2] == ERR_INTERNAL
                and ok_other, got["CALL rpc#sleep 5000 x4200"])
        c.abort()  # leaves with 4096 calls outstanding
        st = wait_pools(s, {"pending_calls": 0}, 3)
        R.check(name + " pending calls freed when their caller leaves", st["pending_calls"] == 0, pools(st))
        t1 = time.monotonic()
        m = late.call(RPC + "sleep", 10)
        got["rpc#sleep right after the flooder left"] = m if m[0] == 3 else m[:4]
        R.check(name + " rpc#sleep works again once the pending pool is empty", m[0] == 3 and m[2] == 10,
                "pending_calls %d, yet sleep(10) -> %s" % (st["pending_calls"], str(m)[:150]))
        recovered = None
        while time.monotonic() - t1 < 7:
            m = late.call(RPC + "sleep", 1)
            if m[0] == 3:
                recovered = time.monotonic() - t1
                break
            time.sleep(0.25)
        R.info(name, "rpc#sleep answered again %s after the flooder left" % (
            "%.1f s" % recovered if recovered is not None else "not within 7 s"))
        late.close()
        for k, v in got.items():
            R.info(name, "%s -> %s" % (k, v))
        h.stop()
        healthy_verdict(name, h)
        watch.close()
        h.close()
        server_sane(name, s, {"connections": 1, "topics": 0, "subscriptions": 0, "pending_calls": 0,
                              "prefixes": 0})


# ---- 6. random garbage and random WAMP traffic --------------------------------------------------

def rand_string(rnd):
    k = rnd.randrange(6)
    if k == 0:
        return ""
    if k == 1:
        return "".join(chr(rnd.randrange(32, 127)) for _ in range(rnd.randrange(1, 30)))
    if k == 2:
        return "".join(chr(rnd.choice((rnd.randrange(0x80, 0x800), rnd.randrange(0x800, 0xd800),
                                       rnd.randrange(0x10000, 0x110000), rnd.randrange(0, 32))))
                       for _ in range(rnd.randrange(1, 10)))
    if k == 3:
        return "x" * rnd.randrange(100, 400)
    if k == 4:
        return base64.b32encode(os.urandom(10)).decode()[:16]
    return rnd.choice(("http://", ":", "p:", "::", "p0:", "#", "http://wamp1.dev/", "{name}"))


def rand_value(rnd, depth=0):
    k = rnd.randrange(7 if depth < 3 else 5)
    if k == 0:
        return rnd.choice((None, True, False))
    if k == 1:
        return rnd.choice((0, -1, 1, 2 ** 53, -2 ** 63, 2 ** 64, 10 ** 30, rnd.randrange(-10 ** 6, 10 ** 6)))
    if k == 2:
        return rnd.choice((0.5, -1e308, 1e-320, rnd.random() * 1e6))
    if k in (3, 4):
        return rand_string(rnd)
    if k == 5:
        return [rand_value(rnd, depth + 1) for _ in range(rnd.randrange(0, 5))]
    return {rand_string(rnd): rand_value(rnd, depth + 1) for _ in range(rnd.randrange(0, 4))}


def rand_uri(rnd, kind):
    k = rnd.randrange(8)
    if k < 3:
        if kind == "rpc":
            return RPC + rnd.choice(("add", "echo", "fail", "session", "publish", "stats", "websession",
                                     "sleep", "nope", "", "add#x"))
        return TOPIC + "r%d" % rnd.randrange(12)
    if k == 3:
        return "p%d:%s" % (rnd.randrange(4), rnd.choice(("add", "echo", "r1", "r2", "fail", "", "x:y")))
    if k == 4:
        return rnd.choice(("", ":", "http://wamp1.dev/topic/", "http://wamp1.dev/topic/a/b", "urn:x"))
    if k == 5:
        return "http://" + rand_string(rnd)
    if k == 6:
        return TOPIC + "r%d" % rnd.randrange(12) if kind != "rpc" else RPC + "echo"
    return rand_string(rnd)


def rand_sessions(rnd, sessions):
    return [rnd.choice(sessions) if sessions and rnd.random() < 0.7 else rand_string(rnd)
            for _ in range(rnd.randrange(0, 4))]


def rand_wamp(rnd, sessions):
    """A random message: mostly well-formed, often with wrong element types. Returns (msg,
    callID or None when an answer is due)."""
    t = rnd.choice((1, 2, 2, 2, 5, 5, 6, 7, 7, 7, 0, 3, 4, 8, 9, -1, 2.0, "2", None, 1e3))
    if t == 1:
        m = [1, rnd.choice(("p0", "p1", "p2", "p3", rand_string(rnd))),
             rnd.choice((RPC, TOPIC, "http://wamp1.dev/", rand_string(rnd)))]
    elif t == 2 and not isinstance(t, float):
        cid = "r%s.%d" % (base64.b32encode(os.urandom(5)).decode(), rnd.randrange(10 ** 6))
        proc = rand_uri(rnd, "rpc")
        args = [rand_value(rnd) for _ in range(rnd.randrange(0, 4))]
        if proc.endswith("#sleep"):
            args = [rnd.choice((0, 1, 20, 150, -1, 5001, "x", 1.5))]
        if proc.endswith("#publish") and rnd.random() < 0.7:
            args = [TOPIC + "r%d" % rnd.randrange(12), rand_value(rnd)]
        if rnd.random() < 0.1:
            return [2, cid, rand_value(rnd)] + args, cid  # procURI of a wrong type
        return [2, cid, proc] + args, cid
    elif t in (5, 6):
        m = [t, rand_uri(rnd, "topic") if rnd.random() < 0.9 else rand_value(rnd)]
    elif t == 7:
        m = [7, rand_uri(rnd, "topic") if rnd.random() < 0.9 else rand_value(rnd), rand_value(rnd)]
        k = rnd.randrange(5)
        if k == 1:
            m.append(rnd.choice((True, False, None, 3, "x")))
        elif k >= 2:
            m.append(rand_sessions(rnd, sessions) if rnd.random() < 0.9 else [1, None])
            if k >= 3:
                m.append(rand_sessions(rnd, sessions) if rnd.random() < 0.9 else rnd.choice(("x", None, [2])))
    else:
        m = [t] + [rand_value(rnd) for _ in range(rnd.randrange(0, 4))]
    if rnd.random() < 0.05:
        m = m[:rnd.randrange(0, len(m) + 1)]
        if len(m) >= 2 and m[0] == 2 and isinstance(m[1], str):
            return m, (m[1] if len(m) >= 3 else None)
    return m, None


def random_wamp_client(s, seconds, sessions, out, seed):
    rnd = random.Random(seed)
    sent = unanswered = closed = 0
    due = {}
    try:
        w = Wamp.connect(s)
    except Exception as e:
        out.append(("connect failed", str(e)))
        return
    sessions.append(w.session)
    t_end = time.monotonic() + seconds
    try:
        while time.monotonic() < t_end:
            msg, cid = rand_wamp(rnd, sessions)
            w.send_text(json.dumps(msg))
            sent += 1
            if cid is not None:
                due[cid] = msg
            t_read = time.monotonic() + 0.01
            while True:
                try:
                    m = w.recv(max(0.0, t_read - time.monotonic()))
                except NoMessage:
                    break
                if isinstance(m, list) and len(m) >= 2 and m[0] in (3, 4):
                    due.pop(m[1], None)
        deadline = time.monotonic() + 3
        while due and time.monotonic() < deadline:
            try:
                m = w.recv(0.2)
            except NoMessage:
                continue
            if isinstance(m, list) and len(m) >= 2 and m[0] in (3, 4):
                due.pop(m[1], None)
        unanswered = len(due)
    except (Closed, EOF, OSError) as e:
        closed = 1
        out.append(("closed by the server", "%s after %d messages" % (e, sent)))
    out.append(("wamp", (sent, unanswered, closed, [json.dumps(v)[:100] for v in list(due.values())[:2]])))
    w.close(wait=0.5)


def random_frames(rnd, n):
    """Frame-shaped garbage: random opcodes (reserved ones too), FIN and RSV bits, masking,
    control frames of any length, payloads of random bytes or of text."""
    out = []
    for _ in range(n):
        op = rnd.choice((0, 1, 1, 2, 8, 9, 10, 3, 11, 15))
        k = rnd.randrange(4)
        if k == 0:
            payload = os.urandom(rnd.randrange(0, 200))
        elif k == 1:
            payload = json.dumps([rnd.randrange(10), rand_string(rnd)], ensure_ascii=False).encode()
        elif k == 2:
            payload = struct.pack("!H", rnd.choice((1000, 1001, 999, 1004, 1005, 3000, 4999, 5000))) + os.urandom(rnd.randrange(0, 4))
        else:
            payload = b""
        out.append(frame(op, payload, fin=rnd.random() < 0.8, mask=rnd.random() < 0.95,
                         rsv=rnd.choice((0, 0, 0, 0, 0, 1, 2, 4))))
    return b"".join(out)


def garbage_after_handshake(s, seconds, out, seed):
    rnd = random.Random(seed)
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        try:
            w = WS.open(s)
        except Exception as e:
            out.append(("garbage-ws", "handshake failed: %s" % e))
            return
        shaped = rnd.random() < 0.6
        how = "still open after 30 chunks"
        try:
            for _ in range(30):
                w.send_raw(random_frames(rnd, rnd.randrange(1, 5)) if shaped else os.urandom(rnd.randrange(1, 600)))
                res, code, _ = w.wait_close(0.01)
                if res != "open":
                    how = "close %s" % code if res == "close" else res
                    break
        except OSError:
            res, code, _ = w.wait_close(0.5)
            how = "close %s" % code if res == "close" else "send failed, then %s" % res
        out.append(("garbage-ws", ("frame-shaped: " if shaped else "bytes: ") + how))
        w.abort()
        time.sleep(0.005)


def mutated_request(rnd, s):
    req = bytearray(handshake_request(s.hostport(), new_key()))
    k = rnd.randrange(6)
    if k == 0:      # flip some bytes of the header block
        for _ in range(rnd.randrange(1, 4)):
            req[rnd.randrange(len(req) - 4)] = rnd.randrange(256)
    elif k == 1:    # drop a line
        lines = bytes(req).split(b"\r\n")
        del lines[rnd.randrange(len(lines) - 2)]
        req = bytearray(b"\r\n".join(lines))
    elif k == 2:    # random bytes, then a terminator
        req = bytearray(os.urandom(rnd.randrange(1, 3000)) + b"\r\n\r\n")
    elif k == 3:    # another method or version
        req = bytearray(bytes(req).replace(b"GET", rnd.choice((b"POST", b"G\x00T", b"get", b""))).replace(
            b"HTTP/1.1", rnd.choice((b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1", b"HTTP/1.x"))))
    elif k == 4:    # pure random bytes, no terminator
        req = bytearray(os.urandom(rnd.randrange(1, 6000)).replace(b"\n", b""))
    else:           # random bytes where the key is
        req = bytearray(bytes(req).replace(b"Sec-WebSocket-Key: ", b"Sec-WebSocket-Key: " + os.urandom(8)))
    return bytes(req)


def garbage_handshake(s, seconds, out, seed):
    rnd = random.Random(seed)
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        k = tcp_connect(s)
        try:
            try:
                k.sendall(mutated_request(rnd, s))
                st, _h, _b, _r, complete = read_http_response(k, 0.5)
                out.append(("garbage-http", "%d%s" % (st, "" if complete else " incomplete")))
            except NoMessage:
                out.append(("garbage-http", "waiting for more"))
            except EOF:
                out.append(("garbage-http", "closed without a response"))
            except OSError as e:
                out.append(("garbage-http", "%s" % type(e).__name__))
        finally:
            k.close()
        time.sleep(0.005)


def case_random():
    name = "random"
    with Server(DEMO) as s:
        h = Healthy(s, "random", n_subs=3).start()
        rss0 = s.rss_kb()
        st0 = stats_of(s)
        sessions = list(h.sessions())
        out = []
        seconds = 5.0
        jobs = []
        seed = int(os.environ.get("ABUSE_SEED", random.randrange(1 << 30)))
        R.info(name, "seed %d (ABUSE_SEED=%d reproduces the random traffic)" % (seed, seed))
        for i in range(18):
            jobs.append(threading.Thread(target=random_wamp_client, args=(s, seconds, sessions, out, seed + i)))
        for i in range(8):
            jobs.append(threading.Thread(target=garbage_after_handshake, args=(s, seconds, out, seed + 100 + i)))
        for i in range(4):
            jobs.append(threading.Thread(target=garbage_handshake, args=(s, seconds, out, seed + 200 + i)))
        for j in jobs:
            j.start()
        for j in jobs:
            j.join(seconds + 15)
        stuck = sum(j.is_alive() for j in jobs)
        h.stop()
        healthy_verdict(name, h)
        sent = sum(v[0] for k, v in out if k == "wamp")
        unanswered = [v for k, v in out if k == "wamp" and v[1]]
        closed = [v for k, v in out if k == "closed by the server"]
        ws_outcomes = collections.Counter(v for k, v in out if k == "garbage-ws")
        http_outcomes = collections.Counter(v for k, v in out if k == "garbage-http")
        R.info(name, "30 clients x %.0f s: 18 random WAMP clients sent %d messages; 8 garbage-after-handshake "
               "clients: %s; 4 garbage-instead-of-handshake clients: %s" % (seconds, sent, dict(ws_outcomes),
                                                                             dict(http_outcomes)))
        R.check(name + " client threads finished", stuck == 0, "%d stuck" % stuck)
        R.check(name + " random WAMP clients are never closed by the server", not closed, repr(closed[:3]))
        R.check(name + " every random CALL (string callID, 3+ elements) is answered", not unanswered,
                repr(unanswered[:3]))
        st = server_sane(name, s, {"connections": 6, "topics": 1, "subscriptions": 3, "prefixes": 0,
                                   "pending_calls": 0})
        if st:
            R.info(name, "counters: malformed +%d, protocol_errors +%d, calls +%d, events_sent +%d; RSS %d -> %d kB"
                   % (st["malformed"] - st0["malformed"], st["protocol_errors"] - st0["protocol_errors"],
                      st["calls"] - st0["calls"], st["events_sent"] - st0["events_sent"], rss0, s.rss_kb()))
            R.check(name + " counters sane", st["malformed"] > st0["malformed"] and
                    st["protocol_errors"] > st0["protocol_errors"] and st["connections_max"] == st0["connections_max"],
                    "")
        h.close()
        server_sane(name, s, {"connections": 1, "topics": 0, "subscriptions": 0, "pending_calls": 0})


# ---- 7. build/echo under abuse ------------------------------------------------------------------

def case_echo():
    name = "echo"
    with Server(ECHO, "--max-message", 65536, "--max-connections", 16) as s:
        good = WS.open(s, protocols=None)
        errs = []
        stop = threading.Event()
        count = [0]

        def healthy_echo():
            i = 0
            try:
                while not stop.is_set():
                    op = OP_TEXT if i % 2 == 0 else OP_BIN
                    body = ("%d:" % i).encode() + os.urandom(i % 300).hex().encode()
                    good.send_frame(op, body)
                    rop, data = good.recv_message(5)
                    if rop != op or data != body:
                        errs.append("echo %d came back different" % i)
                        return
                    i += 1
                    count[0] = i
            except Exception as e:
                errs.append("healthy echo client after %d: %s" % (i, e))

        t = threading.Thread(target=healthy_echo, daemon=True)
        t.start()
        rss0 = s.rss_kb()
        got = {}
        # a client that sends and never reads: its echoes fill the send buffer; the server
        # either closes it (1008) or stops reading from it (flow control)
        lazy = WS.open(s, protocols=None, rcvbuf=4096)
        msg = frame(OP_BIN, b"z" * 60000)
        sent, stalled = 0, False
        try:
            lazy.sock.settimeout(3)
            for _ in range(300):
                lazy.send_raw(msg)
                sent += 1
        except socket.timeout:
            stalled = True
        except OSError:
            pass
        how, code, _ = lazy.wait_close(8 if not stalled else 1)
        lazy.abort()
        got["never-reader sending 60 KB messages"] = "%s %s after %d sent%s" % (
            how, code or "", sent, " (its sending stalled: the server stopped reading)" if stalled else "")
        R.check(name + " never-reader closed (1008 or TCP close) or held back by flow control",
                (how == "close" and code == 1008) or how in ("eof", "reset") or (stalled and how == "open"),
                got["never-reader sending 60 KB messages"])
        w = WS.open(s, protocols=None)
        w.send_raw(frame(OP_BIN, b"", length=100000)[:14])
        got["frame header announcing 100000 > --max-message 65536"] = expect_close(w)
        w = WS.open(s, protocols=None)
        w.send_raw(frame(OP_TEXT, b"a" * 40000, fin=False) + frame(OP_CONT, b"a" * 40000))
        got["two 40000-byte fragments"] = expect_close(w)
        w = WS.open(s, protocols=None)
        w.send_raw(frame(OP_TEXT, b"u" * 65536))
        op, data = w.recv_message(5)
        got["message of exactly 65536"] = "echoed" if data == b"u" * 65536 else "different"
        w.close()
        w = WS.open(s, protocols=None)
        w.send_raw(b"\x81\x05hello")  # unmasked
        got["unmasked frame"] = expect_close(w)
        w = WS.open(s, protocols=None)
        w.send_raw(os.urandom(3000))
        got["3000 random bytes"] = expect_close(w)
        for k, want in (("frame header announcing 100000 > --max-message 65536", "close 1009"),
                        ("two 40000-byte fragments", "close 1009"), ("message of exactly 65536", "echoed"),
                        ("unmasked frame", "close 1002")):
            R.check("%s %s -> %s" % (name, k, want), got[k] == want, got[k])
        # pool: 16 connections, then 20 more get 503
        time.sleep(0.3)  # the failed connections above are gone by now
        held = []
        for _ in range(30):
            try:
                held.append(WS.open(s, protocols=None))
            except AssertionError:
                break
        R.check(name + " --max-connections 16 holds exactly 16", len(held) + 1 == 16,
                "%d accepted besides the healthy client" % len(held))
        extra = collections.Counter()
        for _ in range(20):
            r = http_attempt(s, handshake_request(s.hostport(), new_key(), protocols=None), close_wait=2)
            extra["%s%s %s" % (r[0], " complete" if r[1] else "", "closed" if r[2] in ("eof", "reset") else r[2])] += 1
        got["20 handshakes beyond --max-connections 16"] = dict(extra)
        R.check(name + " beyond --max-connections: complete 503", extra == {"503 complete closed": 20}, str(dict(extra)))
        for x in held:
            x.close(wait=0.3)
        stop.set()
        t.join(10)
        R.check(name + " healthy echo client got every message back in order", not errs and count[0] > 0,
                "%d round trips; %s" % (count[0], errs[:2]))
        for k, v in got.items():
            R.info(name, "%s -> %s" % (k, v))
        R.info(name, "RSS %d -> %d kB" % (rss0, s.rss_kb()))
        good.close()
        rc, secs = s.terminate(5)
        R.check(name + " server alive to the end, exits 0 on SIGTERM", rc == 0, "status %r after %.2f s" % (rc, secs))


# ---- 8. graceful shutdown ------------------------------------------------------------------------

def ipv6_loopback():
    try:
        k = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        k.bind(("::1", 0))
        k.close()
        return "::1"
    except OSError:
        return "127.0.0.1"


def case_shutdown():
    name = "shutdown"
    s = Server(DEMO, host=ipv6_loopback())
    try:
        # small receive buffers: what the subscribers do not read stays in the server's queues
        conns = [Wamp.connect(s, rcvbuf=4096 if i < 12 else None) for i in range(50)]
        topic = TOPIC + "bye"
        for w in conns[:12]:
            w.subscribe(topic)
            w.sync()
        for w in conns[40:45]:
            w.call_start(RPC + "sleep", 5000)  # outstanding at shutdown
        pub = conns[49]
        n_events = 150
        for i in range(n_events):
            pub.publish(topic, {"i": i, "pad": "e" * 1000})
        pub.sync()
        st = pub.stats()
        partial = []
        for _ in range(3):
            k = tcp_connect(s)
            k.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            partial.append(k)
        time.sleep(0.2)
        # everything queued: 12 subscribers x 150 events of 1 KB, unread
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        result = {}
        events = collections.defaultdict(list)
        socks = {w.sock: i for i, w in enumerate(conns)}
        partial_how = {}
        for j, k in enumerate(partial):
            socks[k] = -1 - j
        deadline = t0 + 4
        while socks and time.monotonic() < deadline:
            r, _, _ = select.select(list(socks), [], [], 0.1)
            for k in r:
                i = socks[k]
                if i < 0:
                    try:
                        data = k.recv(4096)
                        how = "data %r" % data[:30] if data else "eof"
                    except OSError:
                        how = "reset"
                    partial_how[-1 - i] = "%s after %.2f s" % (how, time.monotonic() - t0)
                    k.close()
                    del socks[k]
                    continue
                w = conns[i]
                try:
                    w.fill(0.01)
                except EOF as e:
                    result[i] = result.get(i, "tcp %s without a close frame" % e.why)
                    del socks[k]
                    continue
                while True:
                    f = w.next_frame()
                    if f is None:
                        break
                    fin, op, payload = f
                    if op == OP_TEXT:
                        m = json.loads(payload)
                        if m[0] == 8:
                            events[i].append(m[2]["i"])
                    elif op == OP_CLOSE:
                        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                        result[i] = "close %s" % code
                        try:
                            w.send_frame(OP_CLOSE, payload[:2])
                        except OSError:
                            pass
                        w.abort()
                        del socks[k]
                        break
        try:
            rc = s.proc.wait(max(0.1, t0 + 5 - time.monotonic()))
        except Exception:
            rc = None
        secs = time.monotonic() - t0
        partial_how = [partial_how.get(j, "open") for j in range(len(partial))]
        codes = collections.Counter(result.get(i, "nothing") for i in range(50))
        complete = sum(1 for i in range(12) if events[i] == list(range(n_events)))
        R.info(name, "on %s: SIGTERM with 50 sessions (12 with %d x 1 KB events queued unread, 5 with a deferred call "
               "outstanding) and 3 half-finished handshakes: close codes %s; %d/12 subscribers got all their "
               "queued events first; half handshakes: %s; exit status %r after %.2f s (pools at SIGTERM: %s)" % (
                   s.host, n_events, dict(codes), complete, partial_how, rc, secs, pools(st)))
        R.check(name + " every session gets close 1001", codes == {"close 1001": 50}, str(dict(codes)))
        R.check(name + " queued events delivered before the close", complete == 12,
                "%s" % [len(events[i]) for i in range(12)])
        R.check(name + " exit status 0 within 2 s", rc == 0 and secs <= 2.0, "status %r after %.2f s" % (rc, secs))
        R.check(name + " half-finished handshakes closed", all(h.startswith(("eof", "reset")) for h in partial_how),
                str(partial_how))
    finally:
        s.kill()


def case_shutdown_stuck():
    """SIGTERM while clients neither read nor answer: still exit 0 within 2 s."""
    name = "shutdown_stuck"
    s = Server(DEMO)
    try:
        topic = TOPIC + "stuck"
        lazy = [Wamp.connect(s, rcvbuf=4096) for _ in range(5)]
        for w in lazy:
            w.subscribe(topic)
            w.sync()
        pub = Wamp.connect(s)
        for i in range(60):
            pub.publish(topic, {"i": i, "pad": "s" * 3000})
        pub.sync()
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        try:
            rc = s.proc.wait(5)
        except Exception:
            rc = None
        secs = time.monotonic() - t0
        R.info(name, "SIGTERM with 5 never-reading clients holding ~180 KB each: exit %r after %.2f s" % (rc, secs))
        R.check(name + " exit status 0 within 2 s although nobody reads", rc == 0 and secs <= 2.0,
                "status %r after %.2f s" % (rc, secs))
        for w in lazy + [pub]:
            w.abort()
    finally:
        s.kill()


# ---- main -----------------------------------------------------------------------------------------

CASES = [case_pool_full, case_pool_full_compiled, lambda: case_slow_consumer("close"), lambda: case_slow_consumer("drop"),
         case_limits, case_floods, case_random, case_echo, case_shutdown, case_shutdown_stuck]
CASE_NAMES = ["pool_full", "pool_full_compiled", "slow_consumer_close", "slow_consumer_drop", "limits", "floods", "random",
              "echo", "shutdown", "shutdown_stuck"]


def main():
    global DEMO, ECHO
    args = [a for a in sys.argv[1:] if not a.startswith("-k=")]
    only = [a[3:] for a in sys.argv[1:] if a.startswith("-k=")]
    if args:
        DEMO = args[0]
    ECHO = os.path.join(os.path.dirname(DEMO) or ".", "echo")
    for exe in (DEMO, ECHO):
        if not os.access(exe, os.X_OK):
            print("FAIL setup: %s is not an executable (run make)" % exe)
            print("abuse: 0 passed, 1 failed")
            return 1
    loris = {}
    bg = None
    if not only or any(o in "slow_loris" for o in only):
        bg = threading.Thread(target=case_loris_background, args=(loris,), daemon=True)
        bg.start()
    for fn, cname in zip(CASES, CASE_NAMES):
        if only and not any(o in cname for o in only):
            continue
        t0 = time.monotonic()
        try:
            fn()
        except Exception as e:
            traceback.print_exc()
            R.check(cname, False, "%s: %s" % (type(e).__name__, str(e)[:300]))
        print("  (%s took %.1f s)" % (cname, time.monotonic() - t0), flush=True)
    if bg is not None:
        bg.join(90)
        report_loris(loris)
    print("runtime %.1f s" % (time.monotonic() - T_START))
    print("abuse: %d passed, %d failed" % (R.passed, R.failed), flush=True)
    return 0 if R.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
