#!/usr/bin/env bash
# tests/size/run.sh - `make size`: the firmware footprint of wamp1.h, measured as
# shared/design/footprint.md describes, and checked against its targets.
#
# For Cortex-M0+, Cortex-M4 (arm-none-eabi-gcc, newlib-nano) and RV32IMAC
# (riscv64-unknown-elf-gcc, picolibc) it links minimal firmware images (tests/size/fw_main.c):
# lwIP up on a stub netif, the server set up, the poll loop; every file with
# -Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror, linked with --gc-sections and
# a map. The library (wamp1.h and the port) sits in objects of its own, so the map tells its
# sections apart; a baseline image with the same main and no library call gives what the
# library pulls in from the C library and libgcc. tests/size/measure.py reads the maps.
#
#   bash tests/size/run.sh           build, print the tables, PASS/FAIL, "size: N passed, M failed"
#   bash tests/size/run.sh --probe   exit 0 when everything needed is there or could be installed
#                                    (else 1, with the reason)
#
# Default embedded configuration: 4 connections, 1 KiB receive and send buffers, 16 topics
# (every other table takes its small-build default), WAMP1_NO_SESSION and
# WAMP1_NO_STDIO_FILES, NDEBUG, and the firmware switches in FWCONF (no error texts, no
# blocklist/origin links, no 503 drain slots, no attribute store). lwIP 2.1.3 comes from
# Debian's source package (tests/lwip/fetch-lwip.sh) and is compiled here, never counted as
# the library.
set -u
cd "$(dirname "$0")/../.."
root=$(pwd)
out=$root/build/size
mkdir -p "$out"

probe_only=0
[ "${1:-}" = "--probe" ] && probe_only=1

have_arm() { command -v arm-none-eabi-gcc >/dev/null && [ -f "$(arm-none-eabi-gcc -mthumb -mcpu=cortex-m4 -print-file-name=libc_nano.a)" ]; }
have_rv() { command -v riscv64-unknown-elf-gcc >/dev/null && [ -n "$(riscv64-unknown-elf-gcc -print-file-name=picolibc.specs | grep /)" ]; }

if { ! have_arm || ! have_rv; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "size: installing the cross compilers" >&2
  pk="gcc-arm-none-eabi libnewlib-arm-none-eabi gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf"
  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pk ||
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pk; }
  } >"$out/apt.log" 2>&1
fi
have_arm || { echo "SKIP size: arm-none-eabi-gcc with newlib (gcc-arm-none-eabi, libnewlib-arm-none-eabi) is missing"; exit $((probe_only ? 1 : 0)); }
command -v python3 >/dev/null || { echo "SKIP size: python3 is missing"; exit $((probe_only ? 1 : 0)); }
if ! L=$(bash tests/lwip/fetch-lwip.sh 2>"$out/fetch.log"); then
  echo "SKIP size: lwIP source could not be obtained ($(tail -n 1 "$out/fetch.log"))"
  exit $((probe_only ? 1 : 0))
fi
if [ $probe_only = 1 ]; then
  have_rv || echo "note: riscv64-unknown-elf-gcc with picolibc is missing; RV32IMAC is left out"
  exit 0
fi

WARN="-std=c99 -Wall -Wextra -Werror"
OPT="-Os -ffunction-sections -fdata-sections"
CONF="-DWAMP1_MAX_CONNECTIONS=4 -DWAMP1_RECV_BUFFER_SIZE=1024 -DWAMP1_SEND_BUFFER_SIZE=1024 -DWAMP1_MAX_TOPICS=16"
FWCONF="-DWAMP1_NO_ERROR_TEXT -DWAMP1_NO_DEFAULT_LINKS -DWAMP1_REJECT_SLOTS=0 -DWAMP1_MAX_ATTRS=0"
jobs=$(nproc 2>/dev/null || echo 2)

# target name | compiler | CPU flags (compile and link) | link flags
targets=("m0plus|arm-none-eabi-gcc|-mcpu=cortex-m0plus -mthumb|--specs=nano.specs --specs=nosys.specs"
         "m4|arm-none-eabi-gcc|-mcpu=cortex-m4 -mthumb|--specs=nano.specs --specs=nosys.specs")
if have_rv; then
  targets+=("rv32imac|riscv64-unknown-elf-gcc|-march=rv32imac -mabi=ilp32 --specs=picolibc.specs|-Wl,--defsym=__flash_size=0x100000 -Wl,--defsym=__ram_size=0x40000")
else
  echo "note: riscv64-unknown-elf-gcc with picolibc is missing; RV32IMAC is left out"
fi

# image name | flavour (raw/sock) | defines
images=("wamp-raw|raw|-DWAMP1_NO_SESSION -DWAMP1_NO_STDIO_FILES -DNDEBUG"
        "ws-raw|raw|-DWAMP1_NO_WAMP -DWAMP1_NO_SESSION -DWAMP1_NO_STDIO_FILES -DNDEBUG"
        "base-raw|raw|-DFW_BASELINE -DWAMP1_NO_SESSION -DWAMP1_NO_STDIO_FILES -DNDEBUG"
        "wamp-sock|sock|-DFW_SOCKETS -DWAMP1_NO_SESSION -DWAMP1_NO_STDIO_FILES -DNDEBUG"
        "ws-sock|sock|-DFW_SOCKETS -DWAMP1_NO_WAMP -DWAMP1_NO_SESSION -DWAMP1_NO_STDIO_FILES -DNDEBUG"
        "base-sock|sock|-DFW_SOCKETS -DFW_BASELINE -DWAMP1_NO_SESSION -DWAMP1_NO_STDIO_FILES -DNDEBUG"
        "wamp-raw+sessions|raw|-DWAMP1_NO_STDIO_FILES -DNDEBUG"
        "wamp-raw+sessions+files|raw|-DFW_FILES -DNDEBUG"
        "wamp-raw+assert|raw|-DWAMP1_NO_SESSION -DWAMP1_NO_STDIO_FILES")

# Every compile line goes to a job list first; the lists run in parallel.
joblist=$out/jobs.txt
: >"$joblist"
add_job() { printf '%s\n' "$*" >>"$joblist"; }
run_jobs() {
  if [ -s "$joblist" ]; then
    if ! tr '\n' '\0' <"$joblist" | xargs -0 -P "$jobs" -I{} sh -c '{}' >"$out/build.log" 2>&1; then
      grep -E "error|Error" "$out/build.log" | head -n 30
      echo "size: 0 passed, 1 failed (a build failed, see build/size/build.log)"
      exit 1
    fi
  fi
  : >"$joblist"
}

# lwIP per target and flavour, as an archive (rebuilt when the options change)
for t in "${targets[@]}"; do
  IFS='|' read -r tn cc cpu ldf <<<"$t"
  for fl in raw sock; do
    d=$out/$tn/lwip-$fl
    opts=tests/size/raw
    srcs=("$L"/src/core/*.c "$L"/src/core/ipv4/*.c)
    if [ $fl = sock ]; then opts=tests/size/sockets; srcs+=("$L"/src/api/*.c); fi
    stamp=$( { echo "$L $cc $cpu $OPT"; cat "$opts/lwipopts.h" tests/size/include/arch/*.h; } | cksum)
    if [ -f "$d/.stamp" ] && [ "$(cat "$d/.stamp")" = "$stamp" ] && [ -f "$d/liblwip.a" ]; then continue; fi
    rm -rf "$d"; mkdir -p "$d"
    for f in "${srcs[@]}"; do
      add_job "$cc $cpu $OPT $WARN -I$opts -Itests/size/include -I$L/src/include -c $f -o $d/$(basename "$f" .c).o"
    done
    echo "$stamp" >"$d/.stamp.new"
  done
done
run_jobs
for t in "${targets[@]}"; do
  IFS='|' read -r tn cc cpu ldf <<<"$t"
  ar=${cc%gcc}ar
  for fl in raw sock; do
    d=$out/$tn/lwip-$fl
    if [ -f "$d/.stamp.new" ]; then
      rm -f "$d/liblwip.a"
      $ar rcs "$d/liblwip.a" "$d"/*.o
      mv "$d/.stamp.new" "$d/.stamp"
    fi
  done
done

# the images' objects
for t in "${targets[@]}"; do
  IFS='|' read -r tn cc cpu ldf <<<"$t"
  for im in "${images[@]}"; do
    IFS='|' read -r name fl defs <<<"$im"
    case $name in *+*) [ "$tn" = m4 ] || continue ;; esac # optional parts: Cortex-M4 only
    d=$out/$tn/$name
    mkdir -p "$d"
    opts=tests/size/raw
    [ $fl = sock ] && opts=tests/size/sockets
    inc="-I. -Itests/size -I$opts -Itests/size/include -isystem $L/src/include"
    for src in lib port inst fw_main fw_platform; do
      add_job "$cc $cpu $OPT $WARN $CONF $FWCONF $defs $inc -c tests/size/$src.c -o $d/$src.o"
    done
    add_job "$cc $cpu $OPT $WARN $CONF $FWCONF $defs $inc -c tests/size/sizes.c -o $d/sizes.o"
  done
done
run_jobs

# link
for t in "${targets[@]}"; do
  IFS='|' read -r tn cc cpu ldf <<<"$t"
  for im in "${images[@]}"; do
    IFS='|' read -r name fl defs <<<"$im"
    case $name in *+*) [ "$tn" = m4 ] || continue ;; esac
    d=$out/$tn/$name
    add_job "$cc $cpu $ldf -Wl,--gc-sections -Wl,-Map=$d/fw.map -o $d/fw.elf $d/fw_main.o $d/fw_platform.o $d/lib.o $d/port.o $d/inst.o $out/$tn/lwip-$fl/liblwip.a"
  done
done
run_jobs

python3 tests/size/measure.py "$out" "${targets[@]%%|*}"
