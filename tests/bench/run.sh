#!/usr/bin/env bash
# make bench: throughput and latency of build/echo and build/demo with our own client
# (tests/bench/wsbench.c), over loopback, and the same load on npm ws as a peer when it is
# installed (npm ci). Numbers depend on the machine: compare runs on the same one.
set -u
cd "$(dirname "$0")/../.."
SECS=${BENCH_SECONDS:-3}
mkdir -p build
cc -O2 -o build/wsbench tests/bench/wsbench.c || exit 1

start() { # start CMD...; sets PID and PORT
  local out; out=$(mktemp)
  "$@" >"$out" 2>/dev/null &
  PID=$!
  for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
  PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
  rm -f "$out"
}
stop() { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }

echo "wamp1.h benchmarks, $SECS s per line, $(nproc) cores, client and server on one machine"
start build/echo --port 0
for spec in "1 64" "16 64" "16 1024" "4 65536" "1 1048576"; do
  set -- $spec
  printf '  build/echo   '; build/wsbench echo 127.0.0.1 "$PORT" "$1" "$2" "$SECS"
done
stop
start build/demo --port 0 --keepalive 0
for c in 1 16; do printf '  build/demo   '; build/wsbench rpc 127.0.0.1 "$PORT" "$c" "$SECS"; done
for s in 10 100 1000; do printf '  build/demo   '; build/wsbench fanout 127.0.0.1 "$PORT" "$s" "$SECS"; done
stop
if [ -d node_modules/ws ] && command -v node >/dev/null; then
  start node tests/bench/ws_echo_peer.mjs
  for spec in "1 64" "16 1024" "4 65536"; do
    set -- $spec
    printf '  npm ws echo  '; build/wsbench echo 127.0.0.1 "$PORT" "$1" "$2" "$SECS"
  done
  stop
else
  echo "  (npm ws not installed: no peer comparison; run npm ci)"
fi
