#!/usr/bin/env bash
# The cost of the Redis bridge (port/wamp1_redis.h), over loopback, with tests/bench/wsbench.c:
#   same-node  one demo joined to Redis, publisher and subscribers on it (the bridge still
#              publishes every event to Redis: that cost is in)
#   cross-node three demos joined through one redis-server, the subscribers spread evenly
#              over them, the publisher on the first (2/3 of deliveries cross Redis)
# each with 1 subscriber x 1 event in flight (latency) and 1000 subscribers x 16 events in
# flight (throughput: events delivered per second, all nodes together). Prints wsbench's
# RESULT lines. Settings: BENCH_SECONDS (3). Not part of make check.
#   bash tests/bench/redis_cluster.sh
set -u
cd "$(dirname "$0")/../.."
SECS=${BENCH_SECONDS:-3}
OUT=build/bench
mkdir -p "$OUT"
command -v redis-server >/dev/null || { echo "redis-server is not installed"; exit 1; }
make -s build/demo || exit 1
cc -Wall -Wextra -O2 -o "$OUT/wsbench" tests/bench/wsbench.c || exit 1
ulimit -n 8192 2>/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RP=$(free_port)
RDIR=$(mktemp -d)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --dir "$RDIR" --loglevel warning >/dev/null 2>&1 &
RPID=$!
PIDS=()
cleanup() { for p in "${PIDS[@]}" $RPID; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$RDIR"; }
trap cleanup EXIT
sleep 0.3
start_demo() { # sets PORT
  local f; f=$(mktemp)
  build/demo --port 0 --redis "127.0.0.1:$RP" >"$f" 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 50); do grep -q listening "$f" && break; sleep 0.05; done
  PORT=$(sed -nE 's/listening on .*:([0-9]+)/\1/p' "$f"); rm -f "$f"
}
start_demo; A=$PORT; start_demo; B=$PORT; start_demo; C=$PORT
sleep 0.3
echo "# redis $(redis-server --version | awk '{print $3}'), $(nproc) CPUs, ${SECS}s per line"
run() { "$OUT/wsbench" fanout -t "$SECS" "$@" | grep RESULT; }
run -P "$A" -c 1 -d 1 -s 100 -S same-node-latency -n demo+redis
run -P "$A" -Q "$B" -c 1 -d 1 -s 100 -S cross-node-latency -n demo+redis
run -P "$A" -c 1000 -d 16 -s 100 -S same-node-1000 -n demo+redis
run -P "$A" -Q "$A,$B,$C" -c 1000 -d 16 -s 100 -S 3-nodes-1000 -n demo+redis
