#!/usr/bin/python3
"""A bounded soak of build/demo over loopback.

    /usr/bin/python3 tests/abuse/soak.py build/demo SECONDS

Stable clients publish numbered events and call for the whole run (every event must arrive
in order, every call must be answered correctly) while worker threads keep opening and
closing connections that define prefixes, subscribe, publish and call (deferred rpc#sleep
calls included) and leave in every way: after a closing handshake with nothing outstanding,
with calls outstanding, by closing TCP, by a reset. At the end every client leaves and a
fresh client must see connections 1, topics 0, subscriptions 0, pending_calls 0; the RSS at
the end must not exceed the RSS after warm-up by more than 10%. Ends with
`soak: N passed, M failed`."""
import collections
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wslib import (RPC, TOPIC, EOF, Closed, Healthy, NoMessage, Server, Wamp, pools,  # noqa: E402
                   stats_of, wait_pools)

N_TOPICS = 40
WORKERS = 12
BURST = 20


class Totals:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = collections.Counter()
        self.errors = []

    def add(self, **kw):
        with self.lock:
            self.c.update(kw)

    def err(self, msg):
        with self.lock:
            self.c["errors"] += 1
            if len(self.errors) < 20:
                self.errors.append(msg)


def check_answer(m, want, totals, what):
    kind, value = want
    if kind == "result":
        if m[0] != 3 or m[2] != value:
            totals.err("%s: expected result %s, got %s" % (what, json.dumps(value)[:80], json.dumps(m)[:160]))
    elif kind == "error":
        if m[0] != 4 or m[2] != value:
            totals.err("%s: expected CALLERROR %s, got %s" % (what, value, json.dumps(m)[:160]))
    elif kind == "stats":
        ok = m[0] == 3 and isinstance(m[2], dict) and all(
            0 <= m[2][k] <= m[2][k + "_max"] for k in ("connections", "topics", "subscriptions", "pending_calls"))
        if not ok:
            totals.err("%s: stats not sane: %s" % (what, json.dumps(m)[:200]))


def session(s, rnd, wid, totals, stop):
    """One connection's life: random work, then one of the ways to leave."""
    w = Wamp.connect(s)
    totals.add(opened=1)
    lifetime = rnd.uniform(0.01, 1.0)
    t_end = time.monotonic() + lifetime
    due = {}      # callID -> (kind, expected)
    prefixes = []
    subs = set()
    n = 0
    try:
        while time.monotonic() < t_end and not stop.is_set():
            a = rnd.random()
            n += 1
            if a < 0.08:
                p = "s%d" % rnd.randrange(12)
                w.send_json([1, p, rnd.choice((TOPIC, RPC))])
                prefixes.append(p)
            elif a < 0.22:
                t = "soak-%d" % rnd.randrange(N_TOPICS)
                w.subscribe(TOPIC + t)
                subs.add(t)
                totals.add(subscribes=1)
            elif a < 0.27 and subs:
                t = rnd.choice(sorted(subs))
                w.send_json([6, TOPIC + t])
                subs.discard(t)
            elif a < 0.50:
                t = TOPIC + "soak-%d" % rnd.randrange(N_TOPICS)
                ev = {"w": wid, "n": n, "pad": "p" * rnd.randrange(0, 400)}
                form = rnd.randrange(4)
                if form == 0:
                    w.publish(t, ev)
                elif form == 1:
                    w.publish(t, ev, rnd.random() < 0.5)
                elif form == 2:
                    w.publish(t, ev, [w.session])
                else:
                    w.publish(t, ev, [], [w.session])
                totals.add(publishes=1)
            elif a < 0.72:
                k = rnd.randrange(3)
                if k == 0:
                    x, y = rnd.randrange(-10 ** 12, 10 ** 12), rnd.randrange(-10 ** 12, 10 ** 12)
                    cid = w.call_start(RPC + "add", x, y)
                    due[cid] = ("result", x + y)
                elif k == 1:
                    arg = {"n": n, "s": "\u00e9\u20ac" * rnd.randrange(0, 200), "l": [1, 2.5, None, True]}
                    cid = w.call_start(RPC + "echo", arg)
                    due[cid] = ("result", [arg])
                else:
                    cid = w.call_start(RPC + "fail", n)
                    due[cid] = ("error", "http://wamp1.dev/error#fail")
                totals.add(calls=1)
            elif a < 0.88:
                ms = rnd.choice((0, 1, 5, 20, 50, 100, 200, 300))
                cid = w.call_start(RPC + "sleep", ms)
                due[cid] = ("result", ms)
                totals.add(sleeps=1)
            elif a < 0.94:
                t = TOPIC + "soak-%d" % rnd.randrange(N_TOPICS)
                cid = w.call_start(RPC + "publish", t, {"via": "rpc", "w": wid})
                due[cid] = ("result", None)
                totals.add(calls=1)
            else:
                cid = w.call_start(RPC + "stats")
                due[cid] = ("stats", None)
                totals.add(calls=1)
            read_until = time.monotonic() + rnd.choice((0.0, 0.002, 0.01, 0.03))
            while True:
                try:
                    m = w.recv(max(0.0, read_until - time.monotonic()))
                except NoMessage:
                    break
                if isinstance(m, list) and m and m[0] in (3, 4):
                    want = due.pop(m[1], None)
                    if want is None:
                        totals.err("answer to an unknown call: %s" % json.dumps(m)[:100])
                    else:
                        check_answer(m, want, totals, "worker %d" % wid)
                        totals.add(answers=1)
                elif isinstance(m, list) and m and m[0] == 8:
                    totals.add(events=1)
        leave = rnd.choice(("wait", "wait", "close", "fin", "rst"))
        if leave == "wait":
            deadline = time.monotonic() + 5
            while due and time.monotonic() < deadline:
                try:
                    m = w.recv(0.5)
                except NoMessage:
                    continue
                if isinstance(m, list) and m and m[0] in (3, 4):
                    want = due.pop(m[1], None)
                    if want is not None:
                        check_answer(m, want, totals, "worker %d" % wid)
                        totals.add(answers=1)
            if due:
                totals.err("worker %d: %d calls unanswered after 5 s: %s" % (wid, len(due), list(due.values())[:3]))
            w.close(wait=1.0)
        elif leave == "close":
            totals.add(left_outstanding=len(due))
            w.close(wait=1.0)
        elif leave == "fin":
            totals.add(left_outstanding=len(due))
            w.abort()
        else:
            totals.add(left_outstanding=len(due))
            w.abort(rst=True)
        totals.add(**{"leave_" + leave: 1})
    except (Closed, EOF, OSError) as e:
        totals.err("worker %d: the server ended the connection: %s" % (wid, e))
        w.abort()


def worker(s, wid, totals, stop, seed):
    rnd = random.Random(seed)
    while not stop.is_set():
        try:
            session(s, rnd, wid, totals, stop)
        except Exception as e:
            totals.err("worker %d: %s: %s" % (wid, type(e).__name__, str(e)[:200]))
            time.sleep(0.1)


def burst(s, n, totals, payload=200):
    """n connections at once, a call each, then all leave."""
    ws = []
    try:
        for _ in range(n):
            ws.append(Wamp.connect(s))
            totals.add(opened=1)
        for w in ws:
            w.subscribe(TOPIC + "soak-burst")
        for i, w in enumerate(ws):
            if w.call_ok(RPC + "echo", "b" * payload, i) != ["b" * payload, i]:
                totals.err("burst: wrong echo")
    except Exception as e:
        totals.err("burst: %s: %s" % (type(e).__name__, e))
    for i, w in enumerate(ws):
        if i % 2:
            w.abort()
        else:
            w.close(wait=0.5)


def burster(s, totals, stop, seed):
    rnd = random.Random(seed)
    while not stop.wait(rnd.uniform(1.0, 3.0)):
        burst(s, BURST, totals)
        totals.add(bursts=1)


def main():
    demo = sys.argv[1] if len(sys.argv) > 1 else "build/demo"
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else float(os.environ.get("SOAK_SECONDS", "60"))
    seed = int(os.environ.get("SOAK_SEED", random.randrange(1 << 30)))
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
        print("%s %s%s" % ("PASS" if ok else "FAIL", name, ": " + detail if detail else ""), flush=True)

    t_begin = time.monotonic()
    s = Server(demo)
    print("soak: %s, %.0f s, seed %d (SOAK_SEED reproduces the random choices)" % (s.hostport(), secs, seed),
          flush=True)
    totals = Totals()
    stop = threading.Event()
    try:
        stable = Healthy(s, "soak-stable", n_subs=3, interval=0.01, pad=100, sync_every=25).start()
        warmup = min(10.0, max(3.0, secs / 6))
        threads = [threading.Thread(target=worker, args=(s, i, totals, stop, seed + i), daemon=True)
                   for i in range(WORKERS)]
        threads.append(threading.Thread(target=burster, args=(s, totals, stop, seed + 99), daemon=True))
        for t in threads:
            t.start()
        burst(s, 3 * BURST, totals, payload=20000)  # touch at least as many slots as the run will
        time.sleep(max(0.0, warmup - (time.monotonic() - t_begin)))
        st_start = stats_of(s)
        rss_start = s.rss_kb()
        print("start (after %.0f s warm-up): RSS %d kB; %s" % (warmup, rss_start, pools(st_start)), flush=True)
        t_end = t_begin + secs
        next_report = time.monotonic() + 10
        rss_max = rss_start
        while time.monotonic() < t_end:
            time.sleep(min(1.0, max(0.0, t_end - time.monotonic())))
            if not s.alive():
                break
            rss_max = max(rss_max, s.rss_kb())
            if time.monotonic() >= next_report:
                next_report += 10
                st = stats_of(s)
                with totals.lock:
                    c = dict(totals.c)
                print("  %3.0f s: opened %d, calls %d, sleeps %d, answers %d, events %d, stable events %d; "
                      "RSS %d kB; %s" % (time.monotonic() - t_begin, c.get("opened", 0), c.get("calls", 0),
                                         c.get("sleeps", 0), c.get("answers", 0), c.get("events", 0),
                                         stable.published, s.rss_kb(), pools(st)), flush=True)
        alive = s.alive()
        check("server alive for the whole run", alive, "" if alive else "exit status %r; %s" % (
            s.proc.returncode, s.stderr()[-300:]))
        stop.set()
        for t in threads:
            t.join(15)
        check("worker threads finished", not any(t.is_alive() for t in threads))
        stable.stop()
        ok, summary = stable.check()
        check("stable clients: every event in order, every call answered", ok, summary)
        stable.close()
        with totals.lock:
            c = dict(totals.c)
            errors = list(totals.errors)
        print("churn: %d connections opened (%d bursts of %d), %d calls + %d deferred sleeps, %d answers checked, "
              "%d publishes, %d subscribes, %d events received; left: %d after answers, %d by close with calls "
              "outstanding, %d by TCP FIN, %d by reset (%d calls outstanding in all)" % (
                  c.get("opened", 0), c.get("bursts", 0), BURST, c.get("calls", 0), c.get("sleeps", 0),
                  c.get("answers", 0), c.get("publishes", 0), c.get("subscribes", 0), c.get("events", 0),
                  c.get("leave_wait", 0), c.get("leave_close", 0), c.get("leave_fin", 0), c.get("leave_rst", 0),
                  c.get("left_outstanding", 0)), flush=True)
        check("churn clients: every answer right, no connection ended by the server", not errors,
              "%d errors: %s" % (c.get("errors", 0), "; ".join(errors[:5])))
        check("churn did real work", c.get("opened", 0) > 50 and c.get("answers", 0) > 100 and
              c.get("left_outstanding", 0) > 0, "")
        st_end = wait_pools(s, {"connections": 1, "topics": 0, "subscriptions": 0, "pending_calls": 0,
                                "prefixes": 0}, 10)
        rss_end = s.rss_kb()
        print("end: RSS %d kB (start %d kB, max %d kB, %+.1f%%); %s" % (
            rss_end, rss_start, rss_max, 100.0 * (rss_end - rss_start) / rss_start, pools(st_end)), flush=True)
        print("counters: accepted %d, rejected_full %d, calls %d, events_sent %d, malformed %d, protocol_errors %d, "
              "dropped_messages %d, slow_consumers_closed %d" % tuple(st_end.get(k, -1) for k in (
                  "accepted", "rejected_full", "calls", "events_sent", "malformed", "protocol_errors",
                  "dropped_messages", "slow_consumers_closed")), flush=True)
        check("pools back to zero (a fresh client sees connections 1, topics 0, subscriptions 0, "
              "pending_calls 0, prefixes 0)",
              (st_end["connections"], st_end["topics"], st_end["subscriptions"], st_end["pending_calls"],
               st_end["prefixes"]) == (1, 0, 0, 0, 0), pools(st_end))
        check("nothing dropped or closed as a slow consumer", st_end["dropped_messages"] == 0 and
              st_end["slow_consumers_closed"] == 0, "")
        check("RSS at the end within 10% of the start", rss_end <= rss_start * 1.10,
              "%d kB -> %d kB" % (rss_start, rss_end))
        rc, t_exit = s.terminate(5)
        check("SIGTERM: exit status 0 within 2 s", rc == 0 and t_exit <= 2.0, "status %r after %.2f s" % (rc, t_exit))
    except Exception as e:
        import traceback
        traceback.print_exc()
        check("soak ran", False, "%s: %s" % (type(e).__name__, e))
    finally:
        stop.set()
        s.kill()
    print("runtime %.1f s" % (time.monotonic() - t_begin))
    print("soak: %d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
