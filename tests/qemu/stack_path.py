#!/usr/bin/env python3
"""stack_path.py OUTDIR - the worst-case stack of the firmware from -fstack-usage.

Reads the frames from the .su files next to the objects (OUTDIR/*.su, OUTDIR/lwip/*.su) and
the call graph from the image's disassembly (arm-none-eabi-objdump -d OUTDIR/fw.elf: direct
calls and tail calls), and prints the deepest path from main(): the sum of the frames along
it. Recursion is cut at the first repeat; a dynamic frame on the path is flagged. newlib's
functions have no .su file and count 0 (memcpy, memset and strlen need no frame)."""
import os
import re
import subprocess
import sys

out = sys.argv[1]
frames = {}
flags = {}
for d in (out, os.path.join(out, "lwip")):
    for f in os.listdir(d):
        if f.endswith(".su"):
            for line in open(os.path.join(d, f)):
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 3:
                    continue
                name = parts[0].rsplit(":", 1)[-1]
                size = int(parts[1])
                if size >= frames.get(name, -1):
                    frames[name], flags[name] = size, parts[2]

dis = subprocess.run(["arm-none-eabi-objdump", "-d", os.path.join(out, "fw.elf")],
                     capture_output=True, text=True).stdout
graph = {}
cur = None
for line in dis.splitlines():
    m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
    if m:
        cur = m.group(1)
        graph.setdefault(cur, set())
        continue
    m = re.search(r"\s(bl|b\.w|b)\s+[0-9a-f]+ <([^>+]+)>", line)
    if m and cur and m.group(2) != cur:
        graph[cur].add(m.group(2))

# Calls through pointers (blx rN, or a tail call bx rN) are not in that graph: each function
# making one gets edges to the functions its pointers can reach in this firmware.
PORT = r"wamp1__lwr_(?!\w*_cb)\w+"                    # the port's table
SERVER_CB = r"wamp1__app_(message|open|close|error|keepalive|tick|http)\w*"  # the app's server callbacks
TCP_CB = r"wamp1__lwr_\w+_cb"                          # lwIP's TCP callbacks
INDIRECT = [
    (r"wamp1_server_\w+|wamp1__(flush|free_conn|ws_process|timers|server_init|settle)\w*",
     PORT + "|" + SERVER_CB),
    (r"wamp1__report\w*", r"wamp1__app_error"),
    (r"wamp1__app_error", r"on_error"),
    (r"wamp1__(app_message|middleware)", r"rpc_\w+"),
    (r"wamp1__app_tick", r"sleep_done"),
    (r"ethernetif_poll", r"ethernet_input"),
    (r"ip4_output_if_src|ip4_frag", r"etharp_output"),
    (r"ethernet_output|etharp_output", r"lan_output"),
    (r"netif_add", r"ethernetif_init"),
    (r"sys_check_timeouts|lwip_cyclic_timer", r"tcp_tmr|etharp_tmr|ip_reass_tmr"),
    (r"tcp_\w+", TCP_CB),
]
cur = None
for line in dis.splitlines():
    m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
    if m:
        cur = m.group(1)
    elif cur and re.search(r"\s(blx|bx)\s+r\d", line):
        for caller, callee in INDIRECT:
            if re.fullmatch(r"(%s)(\.\w+)*" % caller, cur):
                graph[cur] |= {n for n in graph if re.fullmatch(r"(%s)(\.\w+)*" % callee, n)}


def frame(n):
    base = n.split(".")[0]
    return frames.get(n, frames.get(base, 0))


memo = {}


def worst(n, stack):
    if n in stack:
        return 0, [n + " (recursion)"]
    if n in memo:
        return memo[n]
    best, path = 0, []
    for c in graph.get(n, ()):
        d, p = worst(c, stack | {n})
        if d > best:
            best, path = d, p
    r = (frame(n) + best, [n] + path)
    memo[n] = r
    return r


total, path = worst("main", frozenset())
dyn = [n for n in path if "dynamic" in flags.get(n.split(".")[0], "")]
isr = max(frame("SysTick_Handler"), frame("LAN9118_IRQHandler"))
print("-fstack-usage worst path from main: %d bytes (+ %d for an interrupt: exception frame"
      " and handler)" % (total, 32 + isr))
print("  " + " > ".join("%s %d" % (n, frame(n)) for n in path))
if dyn:
    print("  dynamic frames on the path: %s" % ", ".join(dyn))
