#!/usr/bin/env bash
# tests/qemu/run.sh - `make qemu`: the WAMP demo as bare-metal firmware on an emulated
# Cortex-M4 board (QEMU's mps2-an386: Cortex-M4, LAN9118 Ethernet, CMSDK UART), driven from
# the host.
#
# Builds examples/lwip/qemu-mps2 with arm-none-eabi-gcc (tests/qemu/build.sh: the library
# configuration of `make size`'s Cortex-M4 WAMP image; a 2 s keepalive for the keepalive
# test, a runtime setting), prints its text/data/bss and the largest -fstack-usage frames,
# boots it in qemu-system-arm with user-mode networking (restrict=on: the guest reaches
# nothing outside QEMU; hostfwd makes its port 80 reachable on 127.0.0.1:PORT) and runs
# tests/qemu/test_fw.py against it: conformance handshake and close cases, a WAMP session
# (calls, PREFIX, subscribe and event), 4 sessions and a fifth refused with 503, 1009 for a
# message over the limit, the keepalive timeout, and the stack high-water mark measured on
# the board (painted at reset, scanned on request, printed on the UART). Closing line:
# "qemu: N passed, M failed". A missing tool prints "SKIP qemu: ..." and exits 0.
set -u
cd "$(dirname "$0")/../.."
out=build/qemu
mkdir -p "$out"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

{ command -v arm-none-eabi-gcc >/dev/null && [ -f "$(arm-none-eabi-gcc -mthumb -mcpu=cortex-m4 -print-file-name=libc_nano.a)" ]; } ||
  { echo "SKIP qemu: arm-none-eabi-gcc with newlib is missing (gcc-arm-none-eabi, libnewlib-arm-none-eabi)"; exit 0; }
command -v qemu-system-arm >/dev/null || { echo "SKIP qemu: qemu-system-arm is missing (Debian qemu-system-arm)"; exit 0; }
qemu-system-arm -M help 2>/dev/null | grep -q '^mps2-an386' || { echo "SKIP qemu: this qemu-system-arm has no mps2-an386 machine"; exit 0; }

if ! FW_DEFS="-DFW_KEEPALIVE_MS=2000" bash tests/qemu/build.sh "$out" >"$out/build.log" 2>&1; then
  if grep -q "lwIP source could not be obtained" "$out/build.log"; then
    echo "SKIP qemu: lwIP source could not be obtained"; exit 0
  fi
  cat "$out/build.log"
  echo "qemu: 0 passed, 1 failed (the firmware did not build)"
  exit 1
fi
echo "qemu: firmware examples/lwip/qemu-mps2 ($(cat "$out/flags.txt"))"
arm-none-eabi-size "$out/fw.elf" | sed 's/^/qemu:   /'
echo "qemu: largest stack frames (-fstack-usage):"
head -n 5 "$out/fw.su.txt" | sed 's/^/qemu:   /'
$PY tests/qemu/stack_path.py "$out" | sed 's/^/qemu: /'

port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
uart=$out/uart.log
: >"$uart"
qemu-system-arm -M mps2-an386 -nographic -kernel "$out/fw.elf" \
  -netdev "user,id=n,restrict=on,hostfwd=tcp:127.0.0.1:$port-:80" -net nic,netdev=n \
  </dev/null >"$uart" 2>&1 &
qpid=$!
trap 'kill $qpid 2>/dev/null; wait $qpid 2>/dev/null' EXIT

for _ in $(seq 100); do
  grep -q "wamp1: ready" "$uart" && break
  kill -0 $qpid 2>/dev/null || break
  sleep 0.1
done
if ! grep -q "wamp1: ready" "$uart"; then
  sed 's/^/qemu: uart: /' "$uart"
  echo "qemu: 0 passed, 1 failed (the board did not come up)"
  exit 1
fi
$PY tests/qemu/test_fw.py --port "$port" --uart "$uart" --map "$out/fw.map"
rc=$?
kill $qpid 2>/dev/null; wait $qpid 2>/dev/null
trap - EXIT
if grep -q "FAULT" "$uart"; then
  sed 's/^/qemu: uart: /' "$uart"
  echo "qemu: 0 passed, 1 failed (the board faulted)"
  exit 1
fi
exit $rc
