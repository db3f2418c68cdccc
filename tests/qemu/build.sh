#!/usr/bin/env bash
# tests/qemu/build.sh [OUTDIR] - builds examples/lwip/qemu-mps2 into OUTDIR (default
# build/qemu): fw.elf, fw.map, fw.su.txt (-fstack-usage of every function, the largest
# first). The library's flags are the ones `make size` measures its Cortex-M4 WAMP image
# with (CONF, FWCONF and OPT of tests/size/run.sh, and that image's defines); lwIP 2.1.3 comes
# from tests/lwip/fetch-lwip.sh. FW_DEFS adds firmware-only defines (e.g.
# -DFW_KEEPALIVE_MS=2000, a runtime setting that leaves the library's configuration alone).
set -eu
cd "$(dirname "$0")/../.."
out=${1:-build/qemu}
mkdir -p "$out"
L=$(bash tests/lwip/fetch-lwip.sh 2>"$out/fetch.log") || { echo "lwIP source could not be obtained" >&2; exit 2; }

# the measured configuration, from the script that measures it
eval "$(grep -E '^(WARN|OPT|CONF|FWCONF)=' tests/size/run.sh)"
IMAGE_DEFS=$(sed -nE 's/^ *(images=\(|)"wamp-raw\|raw\|([^"]*)".*/\2/p' tests/size/run.sh)
[ -n "$IMAGE_DEFS" ] || { echo "tests/size/run.sh: the wamp-raw image's defines not found" >&2; exit 2; }

CC=arm-none-eabi-gcc
CPU="-mcpu=cortex-m4 -mthumb"
FW=examples/lwip/qemu-mps2
INC="-I$FW -isystem $L/src/include"
FW_DEFS=${FW_DEFS:-}
echo "$WARN $OPT $CONF $FWCONF $IMAGE_DEFS $FW_DEFS" >"$out/flags.txt"

# lwIP: core, IPv4, Ethernet (rebuilt when the options change)
lw=$out/lwip
stamp=$( { echo "$L $CPU $OPT"; cat "$FW/lwipopts.h" "$FW/arch/cc.h" "$FW/board.h"; } | cksum)
if [ ! -f "$lw/.stamp" ] || [ "$(cat "$lw/.stamp")" != "$stamp" ]; then
  rm -rf "$lw"; mkdir -p "$lw"
  printf '%s\n' "$L"/src/core/*.c "$L"/src/core/ipv4/*.c "$L"/src/netif/ethernet.c |
    xargs -P 2 -I{} sh -c "$CC $CPU $OPT -std=c99 -w $INC -fstack-usage -c {} -o $lw/\$(basename {} .c).o"
  arm-none-eabi-ar rcs "$lw/liblwip.a" "$lw"/*.o
  echo "$stamp" >"$lw/.stamp"
fi

# the firmware: the project's warnings, every one an error
for f in main wamp1_impl board lan9118; do
  $CC $CPU $OPT $WARN -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes $CONF $FWCONF $IMAGE_DEFS $FW_DEFS -I. $INC -fstack-usage \
    -c $FW/$f.c -o "$out/$f.o"
done
$CC $CPU --specs=nano.specs -nostartfiles -Wl,--gc-sections -Wl,-Map="$out/fw.map" \
  -T $FW/mps2.ld -o "$out/fw.elf" "$out/main.o" "$out/wamp1_impl.o" "$out/board.o" "$out/lan9118.o" "$lw/liblwip.a"
cat "$out"/*.su "$lw"/*.su | sort -t$'\t' -k2,2nr >"$out/fw.su.txt"
arm-none-eabi-size "$out/fw.elf"
