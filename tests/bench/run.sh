#!/usr/bin/env bash
# make bench: our servers (build/echo, build/demo) and peers (npm ws as an echo server and as a
# WAMP v1 broker, libwebsockets as an echo server) under the same loads from our own client
# (tests/bench/wsbench.c), over loopback, in one run, the server order alternating from line
# to line. Prints the machine, a table and the ratios ours / peer; writes every line to
# build/bench/results.json (an array of objects: scenario, server, conns, depth, size,
# rate_per_s, p50_us, p99_us, p999_us, server_cpu_s, server_rss_kb; null where not applicable).
#
# Scenarios (each against every server that supports it):
#   echo      100 connections x 16 binary messages of 64 B in flight         (echo servers)
#   rpc       1 session x 1 call in flight, 100 sessions x 16 in flight, CALL rpc#echo with
#             a 16-byte string                                                (WAMP servers)
#   fanout    100 and 1000 subscribers, one publisher keeping 16 events of 100 B in flight;
#             rate = events delivered per second, latency publish-to-delivery (WAMP servers)
#   idle      BENCH_IDLE WAMP sessions (handshake and WELCOME) opened and held: server RSS
#             before (conns 0) and after (conns N); rate = sessions opened per second, CPU
#             time the server's over the opening                             (WAMP servers)
#   idle_ws   the same with plain WebSocket connections                       (echo servers)
#   rpc_idle  1 session x 1 call in flight, without (conns 1) and with BENCH_IDLE_RPC idle
#             sessions open beside it (conns 1 + BENCH_IDLE_RPC)              (WAMP servers)
# server_cpu_s is utime+stime of the server over the measuring window (/proc/PID/stat),
# server_rss_kb its VmRSS at the end of the window. Every line gets a fresh server process.
#
# Settings (environment): BENCH_SECONDS (3) measuring window per line; BENCH_IDLE (10000);
# BENCH_IDLE_RPC (9/10 of BENCH_IDLE); BENCH_ROUNDS (1) repetitions of the whole set, the
# order alternating on (the ratios then take each line's best round; idle lines: the means);
# BENCH_PIN=split|same|none (split: server on CPU 0, client on CPU 1, with taskset and 2 CPUs).
# Peers: npm ws needs `npm ci`; the libwebsockets peer needs libwebsockets-dev (pkg-config).
# Files: build/bench/results.json, results.tsv (the same with the round), commands.txt (every
# client command), servers.log (the servers' standard error).
set -u
cd "$(dirname "$0")/../.."
SECS=${BENCH_SECONDS:-3}
IDLE=${BENCH_IDLE:-10000}
IDLE_RPC=${BENCH_IDLE_RPC:-$((IDLE * 9 / 10))}
ROUNDS=${BENCH_ROUNDS:-1}
PIN=${BENCH_PIN:-split}
OUT=build/bench
TSV=$OUT/results.tsv
mkdir -p "$OUT"
: >"$TSV"
: >"$OUT/commands.txt"
: >"$OUT/servers.log"
FAILED=()

echo "wamp1.h benchmarks (make bench)"
echo "command: BENCH_SECONDS=$SECS BENCH_IDLE=$IDLE BENCH_IDLE_RPC=$IDLE_RPC BENCH_ROUNDS=$ROUNDS BENCH_PIN=$PIN bash tests/bench/run.sh"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine moves the numbers)"
if awk '{ exit !($1 >= 1.0) }' /proc/loadavg; then
  echo "warning: other processes are using the CPUs: lines whose server or client was starved show low rates"
  echo "         and long tails; BENCH_ROUNDS=2 (or more) takes each line's best round for the ratios"
fi

cc -Wall -Wextra -O2 -o "$OUT/wsbench" tests/bench/wsbench.c || exit 1

# ---- descriptors: 10,000 connections need 10,000 descriptors in the client and in the server
need=$((IDLE + 2000))
[ "$(ulimit -Hn)" -lt "$need" ] && ulimit -Hn "$need" 2>/dev/null
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null
nofile=$(ulimit -Sn)
if [ "$nofile" -lt "$need" ]; then
  echo "note: ulimit -n cannot be raised to $need (hard limit $(ulimit -Hn); raising it needs CAP_SYS_RESOURCE):" \
       "idle sessions lowered to $((nofile - 2000))"
  IDLE=$((nofile - 2000))
  [ "$IDLE_RPC" -gt "$IDLE" ] && IDLE_RPC=$IDLE
fi
echo "limits: ulimit -n $nofile (hard $(ulimit -Hn)); local ports $(tr '\t' '-' </proc/sys/net/ipv4/ip_local_port_range)"

# ---- pinning
SRV_PIN=() CLI_PIN=()
if [ "$PIN" != none ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  if [ "$PIN" = same ]; then SRV_PIN=(taskset -c 0) CLI_PIN=(taskset -c 0)
  else SRV_PIN=(taskset -c 0) CLI_PIN=(taskset -c 1); fi
  echo "pinning: server on CPU 0, client on CPU ${CLI_PIN[2]} (taskset; a Node server's threads all on CPU 0)"
else
  echo "pinning: none (BENCH_PIN=$PIN, $(nproc) CPUs, taskset $(command -v taskset >/dev/null && echo present || echo missing))"
fi

# ---- servers
start() { # start CMD...: sets PID and PORT (empty PORT: it did not start)
  local out; out=$(mktemp)
  "${SRV_PIN[@]}" "$@" >"$out" 2>>"$OUT/servers.log" &
  PID=$!
  for _ in $(seq 100); do
    grep -q '^listening on' "$out" && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
  rm -f "$out"
}
stop() { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }

accepts() { # CMD...: 0 when the program starts with these options
  start "$@"
  local ok=1
  [ -n "$PORT" ] && ok=0
  stop
  return $ok
}
max_conns() { # BIN WANT ARGS...: the largest N <= WANT that BIN takes as --max-connections
  local bin=$1 want=$2 lo=1 hi mid; shift 2
  if accepts "$bin" --port 0 --max-connections "$want" "$@"; then echo "$want"; return; fi
  hi=$want
  while [ $((hi - lo)) -gt 1 ]; do
    mid=$(((lo + hi) / 2))
    if accepts "$bin" --port 0 --max-connections "$mid" "$@"; then lo=$mid; else hi=$mid; fi
  done
  echo "$lo"
}

WS_VER=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' node_modules/ws/package.json 2>/dev/null)
HAVE_NODE=0
if [ -n "$WS_VER" ] && command -v node >/dev/null; then HAVE_NODE=1; fi
HAVE_LWS=0
if pkg-config --exists libwebsockets 2>/dev/null; then
  if cc -O2 -Wall -Wextra $(pkg-config --cflags libwebsockets) -o "$OUT/lws_echo_peer" tests/bench/lws_echo_peer.c \
       $(pkg-config --libs libwebsockets); then HAVE_LWS=1
  else echo "note: tests/bench/lws_echo_peer.c did not build: no libwebsockets peer"; fi
fi

# a WAMP v1 broker on uWebSockets (tests/bench/uws_wamp_peer.cpp) when its sources are at
# UWS_DIR (default ../uws beside the repository: uWebSockets/ and uSockets/ checkouts; they are
# not Debian packages, so make bench builds this peer only where someone put them)
HAVE_UWS=0
UWS_DIR=${UWS_DIR:-$(cd .. && pwd)/uws}
if [ -f "$UWS_DIR/uWebSockets/src/App.h" ] && [ -f "$UWS_DIR/uSockets/src/libusockets.h" ] && command -v g++ >/dev/null; then
  if { [ -f "$UWS_DIR/uSockets/uSockets.a" ] || make -s -C "$UWS_DIR/uSockets" WITH_SSL=0 >"$OUT/uws-build.log" 2>&1; } &&
     g++ -std=c++20 -O2 -I"$UWS_DIR/uWebSockets/src" -I"$UWS_DIR/uSockets/src" -o "$OUT/uws_wamp_peer" \
       tests/bench/uws_wamp_peer.cpp "$UWS_DIR/uSockets/uSockets.a" -lz >>"$OUT/uws-build.log" 2>&1; then HAVE_UWS=1
  else echo "note: tests/bench/uws_wamp_peer.cpp did not build (see $OUT/uws-build.log): no uWebSockets peer"; fi
fi

want_echo=$(( (IDLE > 100 ? IDLE : 100) + 16 ))
want_demo=$(( (IDLE > 1001 ? IDLE : 1001) + 16 ))
ECHO_MAX=$(max_conns build/echo "$want_echo")
DEMO_MAX=$(max_conns build/demo "$want_demo" --keepalive 0)
IDLE_WAMP=$IDLE
IDLE_WS=$IDLE
if [ "$DEMO_MAX" -lt "$want_demo" ]; then
  IDLE_WAMP=$((DEMO_MAX - 16))
  echo "note: build/demo takes at most --max-connections $DEMO_MAX: idle uses $IDLE_WAMP WAMP sessions on every WAMP server"
  [ "$IDLE_RPC" -gt "$IDLE_WAMP" ] && IDLE_RPC=$IDLE_WAMP
fi
if [ "$ECHO_MAX" -lt "$want_echo" ]; then
  IDLE_WS=$((ECHO_MAX - 16))
  echo "note: build/echo takes at most --max-connections $ECHO_MAX: idle_ws uses $IDLE_WS connections on every echo server"
fi

echo "servers (one fresh process per line):"
echo "  build/echo   build/echo --port 0 --max-connections $ECHO_MAX"
echo "  build/demo   build/demo --port 0 --keepalive 0 --max-connections $DEMO_MAX"
ECHO_SERVERS=(build/echo) WAMP_SERVERS=(build/demo)
if [ "$HAVE_NODE" = 1 ]; then
  echo "  ws-echo      npm ws $WS_VER, node $(node --version): node tests/bench/ws_echo_peer.mjs"
  echo "  ws-wamp      npm ws $WS_VER, node $(node --version): node tests/bench/ws_wamp_peer.mjs"
  ECHO_SERVERS+=(ws-echo) WAMP_SERVERS+=(ws-wamp)
else
  echo "  (skipped: ws-echo and ws-wamp, npm ws is not installed: run npm ci)"
fi
if [ "$HAVE_UWS" = 1 ]; then
  echo "  uws-wamp     uWebSockets $(git -C "$UWS_DIR/uWebSockets" describe --tags 2>/dev/null || echo '(no tag)'): tests/bench/uws_wamp_peer.cpp"
  WAMP_SERVERS+=(uws-wamp)
else
  echo "  (skipped: uws-wamp, no uWebSockets/uSockets sources at UWS_DIR=$UWS_DIR)"
fi
if [ "$HAVE_LWS" = 1 ]; then
  echo "  lws-echo     libwebsockets $(pkg-config --modversion libwebsockets | sed 's/-$//'): tests/bench/lws_echo_peer.c"
  ECHO_SERVERS+=(lws-echo)
else
  echo "  (skipped: lws-echo, libwebsockets-dev is not installed: apt-get install -y --no-install-recommends libwebsockets-dev)"
fi

start_server() { # NAME
  case $1 in
    build/echo) start build/echo --port 0 --max-connections "$ECHO_MAX" ;;
    build/demo) start build/demo --port 0 --keepalive 0 --max-connections "$DEMO_MAX" ;;
    ws-echo)    start node tests/bench/ws_echo_peer.mjs ;;
    ws-wamp)    start node tests/bench/ws_wamp_peer.mjs ;;
    lws-echo)   start "$OUT/lws_echo_peer" ;;
    uws-wamp)   start "$OUT/uws_wamp_peer" 0 ;;
  esac
  if [ -z "$PORT" ]; then
    FAILED+=("$1: did not start (see $OUT/servers.log)")
    stop
    return 1
  fi
}

# ---- measuring
LINE=0
ORDER=()
order() { # SERVERS...: ORDER is them, reversed on every other line
  local i
  ORDER=()
  if [ $((LINE % 2)) = 0 ]; then ORDER=("$@")
  else for ((i = $#; i > 0; i--)); do ORDER+=("${!i}"); done; fi
  LINE=$((LINE + 1))
}

show() { # a RESULT line as a progress line
  awk -F'\t' '{ printf "  %-9s %-11s conns %-6s depth %-4s size %-4s rate/s %-10s p50 %-9s p99 %-9s p999 %-9s cpu %-5s rss %s KB\n",
                $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }'
}

bench() { # SCENARIO SERVER WSBENCH-ARGS...: one line (the server is running: PID, PORT)
  local scen=$1 srv=$2 res; shift 2
  echo "${CLI_PIN[*]} $OUT/wsbench $* -P $PORT -p $PID -S $scen -n $srv" >>"$OUT/commands.txt"
  res=$("${CLI_PIN[@]}" "$OUT/wsbench" "$@" -P "$PORT" -p "$PID" -S "$scen" -n "$srv" 2>"$OUT/wsbench.err")
  if [ $? != 0 ] || ! grep -q '^RESULT' <<<"$res"; then
    FAILED+=("$scen $srv ($*): $(tail -1 "$OUT/wsbench.err")")
    echo "  $scen $srv: FAILED: $(tail -1 "$OUT/wsbench.err")"
    return 1
  fi
  grep '^RESULT' <<<"$res" | sed "s/\$/\t$ROUND/" | tee -a "$TSV" | show
}

one() { # SCENARIO SERVER WSBENCH-ARGS...: a fresh server, one line, stop
  local scen=$1 srv=$2; shift 2
  start_server "$srv" || { echo "  $scen $srv: the server did not start"; return; }
  bench "$scen" "$srv" "$@"
  stop
}

rpc_idle() { # SERVER: rpc 1 x 1 without, then with IDLE_RPC idle sessions held by a second client
  local srv=$1 hold_out hold_pid ok=0
  start_server "$srv" || { echo "  rpc_idle $srv: the server did not start"; return; }
  bench rpc_idle "$srv" rpc -c 1 -d 1 -s 16 -t "$SECS"
  hold_out=$(mktemp)
  echo "${CLI_PIN[*]} $OUT/wsbench idle -c $IDLE_RPC -H -P $PORT" >>"$OUT/commands.txt"
  "${CLI_PIN[@]}" "$OUT/wsbench" idle -c "$IDLE_RPC" -H -P "$PORT" >"$hold_out" 2>"$OUT/hold.err" &
  hold_pid=$!
  for _ in $(seq 1200); do
    grep -q '^ready' "$hold_out" && { ok=1; break; }
    kill -0 "$hold_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ $ok = 1 ]; then
    bench rpc_idle "$srv" rpc -c 1 -d 1 -s 16 -t "$SECS" -k "$IDLE_RPC"
  else
    FAILED+=("rpc_idle $srv: $IDLE_RPC idle sessions did not open: $(tail -1 "$OUT/hold.err")")
    echo "  rpc_idle $srv: FAILED: $IDLE_RPC idle sessions did not open: $(tail -1 "$OUT/hold.err")"
  fi
  kill -TERM "$hold_pid" 2>/dev/null
  wait "$hold_pid" 2>/dev/null
  rm -f "$hold_out"
  stop
}

T0=$SECONDS
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  [ "$ROUNDS" -gt 1 ] && echo && echo "round $ROUND of $ROUNDS"
  echo
  echo "echo: 100 connections x 16 in flight, 64 B binary"
  order "${ECHO_SERVERS[@]}"
  for s in "${ORDER[@]}"; do one echo "$s" echo -c 100 -d 16 -s 64 -t "$SECS"; done

  echo "rpc: CALL rpc#echo with a 16 B string"
  for spec in "1 1" "100 16"; do
    set -- $spec
    order "${WAMP_SERVERS[@]}"
    for s in "${ORDER[@]}"; do one rpc "$s" rpc -c "$1" -d "$2" -s 16 -t "$SECS"; done
  done

  echo "fanout: one publisher, 16 events of 100 B in flight"
  for subs in 100 1000; do
    order "${WAMP_SERVERS[@]}"
    for s in "${ORDER[@]}"; do one fanout "$s" fanout -c "$subs" -d 16 -s 100 -t "$SECS"; done
  done

  echo "idle: $IDLE_WAMP WAMP sessions held (server RSS before: conns 0, after: conns $IDLE_WAMP)"
  order "${WAMP_SERVERS[@]}"
  for s in "${ORDER[@]}"; do one idle "$s" idle -c "$IDLE_WAMP"; done

  echo "idle_ws: $IDLE_WS plain WebSocket connections held"
  order "${ECHO_SERVERS[@]}"
  for s in "${ORDER[@]}"; do one idle_ws "$s" idle -W -c "$IDLE_WS"; done
  if [ "$IDLE_WS" -lt "$IDLE" ] && [ ${#ECHO_SERVERS[@]} -gt 1 ]; then
    echo "idle_ws: $IDLE plain WebSocket connections held (the peers only: build/echo takes $ECHO_MAX)"
    order "${ECHO_SERVERS[@]:1}"
    for s in "${ORDER[@]}"; do one idle_ws "$s" idle -W -c "$IDLE"; done
  fi

  echo "rpc_idle: 1 session x 1 call in flight, without and with $IDLE_RPC idle sessions"
  order "${WAMP_SERVERS[@]}"
  for s in "${ORDER[@]}"; do rpc_idle "$s"; done
done
echo "($((SECONDS - T0)) s; load average after: $(cut -d' ' -f1-3 /proc/loadavg))"

# ---- results.json (columns 2-12 of results.tsv; the 13th is the round), the table, the ratios
awk -F'\t' '
  function v(x, q) { return x == "null" ? "null" : (q ? "\"" x "\"" : x) }
  BEGIN { printf "[" }
  { printf "%s\n  {\"scenario\": %s, \"server\": %s, \"conns\": %s, \"depth\": %s, \"size\": %s, \"rate_per_s\": %s, \"p50_us\": %s, \"p99_us\": %s, \"p999_us\": %s, \"server_cpu_s\": %s, \"server_rss_kb\": %s}",
      (NR > 1 ? "," : ""), v($2, 1), v($3, 1), v($4), v($5), v($6), v($7), v($8), v($9), v($10), v($11), v($12) }
  END { printf "\n]\n" }' "$TSV" >"$OUT/results.json"
echo
awk -F'\t' -v rounds="$ROUNDS" -f tests/bench/report.awk "$TSV"
echo
echo "results: $OUT/results.json ($(wc -l <"$TSV") lines); wsbench commands: $OUT/commands.txt"
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "failed:"
  printf '  %s\n' "${FAILED[@]}"
  exit 1
fi
