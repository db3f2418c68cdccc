#!/usr/bin/env bash
# The TLS transport on lwIP: port/wamp1_mbedtls.h wrapping both lwIP ports, each in one
# process with a TLS client of mbedTLS's client side on the same lwIP (tests/tls/tls_lwip.c):
#
#   raw             port/wamp1_lwip_raw.h, lwIP built from Debian's source (NO_SYS=1,
#                   tests/lwip/raw/lwipopts.h), one thread, lwIP's loopif
#   sockets         port/wamp1_lwip_sockets.h with lwip_poll() on Debian's liblwip
#                   (liblwip-dev, installed when missing and we are root)
#   sockets-select  port/wamp1_lwip_sockets.h with lwip_select() on lwIP built from source
#                   (NO_SYS=0, the unix port's sys_arch, tests/lwip/sockets/lwipopts.h)
#
# Each: TLS handshake with the certificate verified, the WebSocket upgrade, echo from 0 bytes
# to 64 KiB (one message and in fragments), 40 messages in one record, two clients, close
# from either side with close_notify, plain HTTP and garbage dropped while a client works,
# server shutdown with 1001, every TLS context and socket returned.
# mbedTLS is Debian's (libmbedtls-dev); lwIP's source comes through tests/lwip/fetch-lwip.sh.
# The test programs are built with clang's ASan/UBSan when it has them (TLS_SANITIZE=0: not);
# lwIP's own objects with $CC (gcc), cached in build/tls-lwip/.
# Ends with "tls-lwip: N passed, M failed"; a SKIP line (exit 0) when mbedTLS, openssl or
# every lwIP is missing.
set -u
cd "$(dirname "$0")/../.." || exit 1
out=build/tls-lwip
mkdir -p "$out"
CC=${CC:-gcc}
WARN="-std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes -Wno-sign-conversion -Werror"
TLSLIBS="-lmbedtls -lmbedx509 -lmbedcrypto"
total_pass=0
total_fail=0
ran=0

command -v openssl >/dev/null 2>&1 || { echo "SKIP tls-lwip: openssl is not installed"; exit 0; }
if ! printf '#include <mbedtls/ssl.h>\nint main(void){mbedtls_ssl_context s; mbedtls_ssl_init(&s); mbedtls_ssl_free(&s); return 0;}\n' |
     $CC -x c - -o "$out/.mbedtls_probe" $TLSLIBS >/dev/null 2>&1; then
  echo "SKIP tls-lwip: mbedTLS is not installed (Debian: libmbedtls-dev)"; exit 0
fi
rm -f "$out/.mbedtls_probe"
TCC=$CC   # the test programs' compiler
san=""
if [ "${TLS_SANITIZE:-1}" = 1 ] &&
   echo 'int main(void){return 0;}' | clang -x c -fsanitize=address,undefined -o "$out/.san" - 2>/dev/null; then
  TCC=clang
  san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
fi
rm -f "$out/.san"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" >"$dir/openssl.log" 2>&1 ||
  { cat "$dir/openssl.log"; echo "FAIL openssl could not make the test certificate"; echo "tls-lwip: 0 passed, 1 failed"; exit 1; }

lwip_tree=""
get_tree() {
  [ -n "$lwip_tree" ] && return 0
  lwip_tree=$(bash tests/lwip/fetch-lwip.sh 2>"$out/fetch.log") || { lwip_tree=""; return 1; }
}

have_liblwip() {
  [ -f /usr/include/lwip/lwipopts.h ] && ls /usr/lib/*/liblwip.so >/dev/null 2>&1
}

ensure_liblwip() {
  have_liblwip && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
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
  local d=$out/obj-$name stamp
  stamp=$( { echo "$lwip_tree $CC $incs"; cat "$opts"/*.h tests/lwip/include/arch/cc.h; } | cksum)
  if [ ! -f "$d/.stamp" ] || [ "$(cat "$d/.stamp")" != "$stamp" ]; then
    rm -rf "$d"
    mkdir -p "$d"
    printf '%s\n' "$@" | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} sh -c \
      'f={}; b=$(basename "$f" .c); '"$CC"' -std=gnu99 -O1 -g -w '"$incs"' -c "$f" -o '"$d"'/$b.o' \
      >"$d/build.log" 2>&1 || { cat "$d/build.log" >&2; return 1; }
    echo "$stamp" >"$d/.stamp"
  fi
  echo "$d"
}

# run NAME BINARY: runs it, adds its closing line to the totals
run() {
  local name=$1 bin=$2 log=$out/$1.log line rc
  ran=$((ran + 1))
  timeout --kill-after=5 60 "$bin" "$dir/cert.pem" "$dir/key.pem" >"$log" 2>&1
  rc=$?
  cat "$log"
  line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "FAIL $name: exit $rc without a result line"
    total_fail=$((total_fail + 1))
    return
  fi
  total_pass=$((total_pass + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
  total_fail=$((total_fail + $(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")))
  [ "$rc" -ne 0 ] && ! grep -q '^FAIL' "$log" && { echo "FAIL $name: exit status $rc"; total_fail=$((total_fail + 1)); }
}

build_fail() {
  echo "FAIL $1: build failed"
  sed 's/^/    /' "$2" | head -n 40
  total_fail=$((total_fail + 1))
}

# ---- raw API --------------------------------------------------------------------------------
if get_tree; then
  L=$lwip_tree
  if obj=$(build_lwip raw tests/lwip/raw "-Itests/lwip/raw -Itests/lwip/include -I$L/src/include" \
           "$L"/src/core/*.c "$L"/src/core/ipv4/*.c 2>"$out/raw-lwip.log"); then
    if $TCC $WARN $san -O1 -g -DTLS_LWIP_RAW -Itests/lwip/raw -Itests/lwip/include -isystem "$L/src/include" \
         tests/tls/tls_lwip.c "$obj"/*.o $TLSLIBS -o "$out/tls_lwip_raw" >"$out/raw-build.log" 2>&1; then
      run tls-lwip-raw "$out/tls_lwip_raw"
    else build_fail tls-lwip-raw "$out/raw-build.log"; fi
  else build_fail "tls-lwip-raw (lwIP)" "$out/raw-lwip.log"; fi
else
  echo "SKIP tls-lwip-raw: lwIP source could not be obtained ($(tail -n 1 "$out/fetch.log"))"
fi

# ---- sockets, lwip_poll(), Debian's liblwip ---------------------------------------------------
if ensure_liblwip; then
  if $TCC $WARN $san -O1 -g -isystem /usr/include/lwip tests/tls/tls_lwip.c -llwip $TLSLIBS -lpthread \
       -o "$out/tls_lwip_sockets" >"$out/sockets-build.log" 2>&1; then
    run tls-lwip-sockets "$out/tls_lwip_sockets"
  else build_fail tls-lwip-sockets "$out/sockets-build.log"; fi
else
  echo "SKIP tls-lwip-sockets: liblwip-dev is not installed and cannot be installed"
fi

# ---- sockets, lwip_select(), lwIP from source --------------------------------------------------
if get_tree; then
  L=$lwip_tree
  if obj=$(build_lwip sock tests/lwip/sockets "-Itests/lwip/sockets -I$L/port/include -I$L/src/include" \
           "$L"/src/core/*.c "$L"/src/core/ipv4/*.c "$L"/src/core/ipv6/*.c "$L"/src/api/*.c \
           "$L"/port/sys_arch.c 2>"$out/sock-lwip.log"); then
    if $TCC $WARN $san -O1 -g -DWAMP1_LWIP_USE_SELECT -DTEST_NAME='"tls-lwip-sockets-select"' \
         -Itests/lwip/sockets -isystem "$L/port/include" -isystem "$L/src/include" \
         tests/tls/tls_lwip.c "$obj"/*.o $TLSLIBS -lpthread -o "$out/tls_lwip_select" \
         >"$out/select-build.log" 2>&1; then
      run tls-lwip-sockets-select "$out/tls_lwip_select"
    else build_fail tls-lwip-sockets-select "$out/select-build.log"; fi
  else build_fail "tls-lwip-sockets-select (lwIP)" "$out/sock-lwip.log"; fi
else
  echo "SKIP tls-lwip-sockets-select: lwIP source could not be obtained"
fi

if [ "$ran" -eq 0 ] && [ "$total_fail" -eq 0 ]; then
  echo "SKIP tls-lwip: no lwIP could be had"
  exit 0
fi
echo "tls-lwip: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
