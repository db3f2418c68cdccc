#!/usr/bin/env bash
# tests/lwip/run.sh [raw|sockets|sockets-select|examples|all] - wamp1.h on lwIP, for real.
#
#   raw             port/wamp1_lwip_raw.h: lwIP built from source with NO_SYS=1
#                   (tests/lwip/raw/lwipopts.h), one thread, lwIP's loopif
#   sockets         port/wamp1_lwip_sockets.h with lwip_poll(): Debian's liblwip (liblwip-dev)
#   sockets-select  port/wamp1_lwip_sockets.h with lwip_select(): lwIP built from source with
#                   NO_SYS=0 and the unix port's sys_arch (tests/lwip/sockets/lwipopts.h)
#   examples        examples/lwip/ compiled against lwIP (host, and Cortex-M4 when
#                   arm-none-eabi-gcc is there), every warning an error
#   examples-run    examples/lwip/raw and examples/lwip/rtos built as shipped (their own
#                   lwipopts.h and WAMP configuration; raw with the template arch/cc.h, rtos
#                   on lwIP's unix port as its RTOS) on a TAP device in a network namespace,
#                   driven by a WAMP client from the Linux side (tests/lwip/examples/)
#   all             everything above (default), then "lwip: N passed, M failed"
#
# lwIP's source comes from Debian's source package through tests/lwip/fetch-lwip.sh, into a
# folder outside the repository. A part whose lwIP cannot be had prints a SKIP line.
set -u
cd "$(dirname "$0")/../.."
root=$(pwd)
out=$root/build/lwip
mkdir -p "$out"
what=${1:-all}

CC=${CC:-gcc}
WARN="-std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes -Werror"
total_pass=0
total_fail=0
lwip_tree=""

note() { echo "lwip: $*" >&2; }

get_tree() {
  [ -n "$lwip_tree" ] && return 0
  lwip_tree=$(bash tests/lwip/fetch-lwip.sh 2>"$out/fetch.log") || { lwip_tree=""; return 1; }
  return 0
}

have_liblwip() {
  [ -f /usr/include/lwip/lwipopts.h ] && [ -e /usr/lib/x86_64-linux-gnu/liblwip.so ] && return 0
  ls /usr/lib/*/liblwip.so >/dev/null 2>&1 && [ -f /usr/include/lwip/lwipopts.h ]
}

ensure_liblwip() {
  have_liblwip && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    note "installing liblwip-dev"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends liblwip-dev ||
      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends liblwip-dev; }
    } >"$out/apt.log" 2>&1
  fi
  have_liblwip
}

# build_lwip NAME OPTSDIR INCLUDES SOURCES...: objects into $out/obj-NAME, rebuilt when the
# tree, the options or the compiler change. Prints the object folder.
build_lwip() {
  local name=$1 opts=$2 incs=$3
  shift 3
  local dir=$out/obj-$name stamp
  stamp=$( { echo "$lwip_tree $CC $incs"; cat "$opts"/*.h tests/lwip/include/arch/cc.h; } | cksum)
  if [ ! -f "$dir/.stamp" ] || [ "$(cat "$dir/.stamp")" != "$stamp" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    printf '%s\n' "$@" | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} sh -c \
      'f={}; b=$(basename "$f" .c); '"$CC"' -std=gnu99 -O1 -g -w '"$incs"' -c "$f" -o '"$dir"'/$b.o' \
      >"$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; return 1; }
    echo "$stamp" >"$dir/.stamp"
  fi
  echo "$dir"
}

# run_prog NAME COMMAND...: runs it, adds its closing line to the totals (a SKIP line instead
# adds nothing).
run_prog() {
  local name=$1 log=$out/$1.log line p f rc
  shift
  timeout --kill-after=5 120 "$@" >"$log" 2>&1
  rc=$?
  cat "$log"
  if [ "$rc" -eq 0 ] && grep -q "^SKIP $name" "$log"; then return 0; fi
  line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
    f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
  else
    p=0; f=1
    echo "$name: 0 passed, 1 failed (exit $rc without a result line)"
  fi
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
}

build_fail() {
  echo "$1: 0 passed, 1 failed (build failed)"
  total_fail=$((total_fail + 1))
}

do_raw() {
  local obj L
  if ! get_tree; then echo "SKIP lwip-raw: lwIP source could not be obtained ($(tail -n 1 "$out/fetch.log"))"; return; fi
  L=$lwip_tree
  obj=$(build_lwip raw tests/lwip/raw "-Itests/lwip/raw -Itests/lwip/include -I$L/src/include" \
        "$L"/src/core/*.c "$L"/src/core/ipv4/*.c) || { build_fail lwip-raw; return; }
  if ! $CC $WARN -Wno-sign-conversion -O1 -g -Itests/lwip/raw -Itests/lwip/include -isystem "$L/src/include" \
      tests/lwip/test_raw.c "$obj"/*.o -o "$out/test_raw" 2>"$out/raw-build.log"; then
    cat "$out/raw-build.log"; build_fail lwip-raw; return
  fi
  run_prog lwip-raw "$out/test_raw"
}

do_sockets() {
  if ! ensure_liblwip; then echo "SKIP lwip-sockets: liblwip-dev is not installed and cannot be installed"; return; fi
  if ! $CC $WARN -Wno-sign-conversion -O1 -g -isystem /usr/include/lwip tests/lwip/test_sockets.c \
      -llwip -lpthread -o "$out/test_sockets" 2>"$out/sockets-build.log"; then
    cat "$out/sockets-build.log"; build_fail lwip-sockets; return
  fi
  run_prog lwip-sockets "$out/test_sockets"
}

do_sockets_select() {
  local obj L
  if ! get_tree; then echo "SKIP lwip-sockets-select: lwIP source could not be obtained ($(tail -n 1 "$out/fetch.log"))"; return; fi
  L=$lwip_tree
  obj=$(build_lwip sock tests/lwip/sockets "-Itests/lwip/sockets -I$L/port/include -I$L/src/include" \
        "$L"/src/core/*.c "$L"/src/core/ipv4/*.c "$L"/src/core/ipv6/*.c "$L"/src/api/*.c "$L"/port/sys_arch.c) ||
    { build_fail lwip-sockets-select; return; }
  if ! $CC $WARN -Wno-sign-conversion -O1 -g -DWAMP1_LWIP_USE_SELECT -DTEST_NAME='"lwip-sockets-select"' \
      -Itests/lwip/sockets -isystem "$L/port/include" -isystem "$L/src/include" \
      tests/lwip/test_sockets.c "$obj"/*.o -lpthread -o "$out/test_sockets_select" 2>"$out/select-build.log"; then
    cat "$out/select-build.log"; build_fail lwip-sockets-select; return
  fi
  run_prog lwip-sockets-select "$out/test_sockets_select"
}

do_examples() {
  local L pass=0 fail=0 log=$out/examples.log
  : >"$log"
  try() {
    local what=$1; shift
    if "$@" >>"$log" 2>&1; then pass=$((pass + 1)); else
      fail=$((fail + 1)); echo "FAIL $what"; tail -n 20 "$log"; fi
  }
  if ! get_tree; then echo "SKIP lwip-examples: lwIP source could not be obtained"; return; fi
  L=$lwip_tree
  # the bare-metal example as the desktop compilers see it: every warning, as C and as C++
  try "raw example, $CC" $CC $WARN -O2 -Iexamples/lwip/raw -Itests/lwip/include -isystem "$L/src/include" \
      -c examples/lwip/raw/main.c -o "$out/ex-raw.o"
  try "raw example, g++" g++ -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Wshadow -Werror -O2 -Iexamples/lwip/raw \
      -Itests/lwip/include -isystem "$L/src/include" -c examples/lwip/raw/main.c -o "$out/ex-raw-cxx.o"
  if command -v clang >/dev/null; then
    try "raw example, clang" clang $WARN -O2 -Iexamples/lwip/raw -Itests/lwip/include -isystem "$L/src/include" \
        -c examples/lwip/raw/main.c -o "$out/ex-raw-clang.o"
  fi
  if have_liblwip; then
    try "sockets port, g++ (Debian liblwip)" g++ -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Wshadow -Werror -O1 \
        -isystem /usr/include/lwip -c tests/lwip/test_sockets.c -o "$out/ex-sockets-cxx.o"
  fi
  # both examples for firmware: their own lwipopts.h, the size images' arch headers
  # (tests/size/include: cc.h and a sys_arch.h for NO_SYS=0)
  local fw name cc flags
  for fw in "Cortex-M4|arm-none-eabi-gcc|-mcpu=cortex-m4 -mthumb" "RV32IMAC|riscv64-unknown-elf-gcc|-march=rv32imac -mabi=ilp32 --specs=picolibc.specs"; do
    IFS='|' read -r name cc flags <<<"$fw"
    command -v "$cc" >/dev/null || continue
    try "raw example, $name" $cc $WARN $flags -Os -ffunction-sections -fdata-sections -DNDEBUG \
        -Iexamples/lwip/raw -Iexamples/lwip -isystem "$L/src/include" \
        -c examples/lwip/raw/main.c -o "$out/ex-raw-fw.o"
    try "rtos example (lwip_poll), $name" $cc $WARN $flags -Os -ffunction-sections -fdata-sections -DNDEBUG \
        -Iexamples/lwip/rtos -Itests/size/include -isystem "$L/src/include" \
        -c examples/lwip/rtos/main.c -o "$out/ex-rtos-fw.o"
    try "rtos example (lwip_select), $name" $cc $WARN $flags -Os -ffunction-sections -fdata-sections -DNDEBUG \
        -DWAMP1_LWIP_USE_SELECT -Iexamples/lwip/rtos -Itests/size/include -isystem "$L/src/include" \
        -c examples/lwip/rtos/main.c -o "$out/ex-rtos-fw-sel.o"
  done
  echo "lwip-examples: $pass passed, $fail failed"
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
}

do_examples_run() {
  local L obj ex=$out/examples-run
  if ! get_tree; then echo "SKIP lwip-examples-run: lwIP source could not be obtained"; return; fi
  L=$lwip_tree
  mkdir -p "$ex"
  # bare metal: lwIP's core, IPv4 and Ethernet with the example's lwipopts.h and the template
  # arch/cc.h; the example's main.c untouched; the board (TAP driver, clock, RNG) beside it
  obj=$(build_lwip exraw examples/lwip/raw "-Iexamples/lwip/raw -Iexamples/lwip -I$L/src/include" \
        "$L"/src/core/*.c "$L"/src/core/ipv4/*.c "$L"/src/netif/ethernet.c) || { build_fail lwip-example-raw; return; }
  if $CC $WARN -O1 -g -Iexamples/lwip/raw -Iexamples/lwip -isystem "$L/src/include" -c examples/lwip/raw/main.c \
       -o "$ex/raw-main.o" 2>"$ex/raw-build.log" &&
     $CC -std=gnu99 -Wall -Wextra -O1 -g -Iexamples/lwip/raw -Iexamples/lwip -isystem "$L/src/include" \
       -c tests/lwip/examples/board_raw.c -o "$ex/raw-board.o" 2>>"$ex/raw-build.log" &&
     $CC "$ex/raw-main.o" "$ex/raw-board.o" "$obj"/*.o -o "$ex/raw-example" 2>>"$ex/raw-build.log"; then
    run_prog lwip-example-raw bash tests/lwip/examples/run.sh raw "$ex/raw-example"
  else
    cat "$ex/raw-build.log"; build_fail lwip-example-raw
  fi
  # RTOS: lwIP's unix port (pthreads) is the RTOS, with its own arch/ headers and sys_arch.c
  obj=$(build_lwip exrtos examples/lwip/rtos "-include tests/lwip/examples/debian_sockets.h -Iexamples/lwip/rtos -I$L/port/include -I$L/src/include" \
        "$L"/src/core/*.c "$L"/src/core/ipv4/*.c "$L"/src/api/*.c "$L"/src/netif/ethernet.c \
        "$L"/port/sys_arch.c) || { build_fail lwip-example-rtos; return; }
  # (the unix port's arch/cc.h pulls <sys/types.h>: POSIX's SSIZE_MAX must be visible too)
  if $CC $WARN -D_DEFAULT_SOURCE -O1 -g -Iexamples/lwip/rtos -isystem "$L/port/include" -isystem "$L/src/include" \
       -c examples/lwip/rtos/main.c -o "$ex/rtos-main.o" 2>"$ex/rtos-build.log" &&
     $CC -std=gnu99 -Wall -Wextra -O1 -g -Iexamples/lwip/rtos -isystem "$L/port/include" -isystem "$L/src/include" \
       -c tests/lwip/examples/board_rtos.c -o "$ex/rtos-board.o" 2>>"$ex/rtos-build.log" &&
     $CC "$ex/rtos-main.o" "$ex/rtos-board.o" "$obj"/*.o -lpthread -o "$ex/rtos-example" 2>>"$ex/rtos-build.log"; then
    run_prog lwip-example-rtos bash tests/lwip/examples/run.sh rtos "$ex/rtos-example"
  else
    cat "$ex/rtos-build.log"; build_fail lwip-example-rtos; return
  fi
}

case $what in
  raw) do_raw ;;
  sockets) do_sockets ;;
  sockets-select) do_sockets_select ;;
  examples) do_examples ;;
  examples-run) do_examples_run; echo "lwip-examples-run: $total_pass passed, $total_fail failed" ;;
  all)
    do_raw
    do_sockets
    do_sockets_select
    do_examples
    do_examples_run
    echo "lwip: $total_pass passed, $total_fail failed"
    ;;
  *) echo "usage: $0 [raw|sockets|sockets-select|examples|examples-run|all]" >&2; exit 2 ;;
esac
[ "$total_fail" -eq 0 ]
