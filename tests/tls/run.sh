#!/usr/bin/env bash
# TLS transport tests: builds build/tls_echo (POSIX port wrapped by port/wamp1_mbedtls.h) and
# build/tls_unit, makes throw-away certificates with openssl, runs the unit checks and drives
# the server with real TLS clients (tests/tls/tls_test.py).
# Prints "tls: N passed, M failed"; a "SKIP" line (exit 0) when mbedTLS, openssl or python3
# is missing. TLS_SANITIZE=0 builds without ASan/UBSan; TLS_KEEP=DIR keeps certificates and
# server logs in DIR.
set -u
cd "$(dirname "$0")/../.."
mkdir -p build
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
CC=${CC:-cc}
LIBS="-lmbedtls -lmbedx509 -lmbedcrypto -lpthread"
WARN="-std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes"

if ! command -v openssl >/dev/null 2>&1; then echo "SKIP tls: openssl is not installed"; exit 0; fi
if ! command -v "$PY" >/dev/null 2>&1; then echo "SKIP tls: python3 is not installed"; exit 0; fi
if ! printf '#include <mbedtls/ssl.h>\nint main(void){mbedtls_ssl_context s; mbedtls_ssl_init(&s); mbedtls_ssl_free(&s); return 0;}\n' |
     $CC -x c - -o build/.mbedtls_probe $LIBS >/dev/null 2>&1; then
  echo "SKIP tls: mbedTLS is not installed (Debian: libmbedtls-dev)"; exit 0
fi
rm -f build/.mbedtls_probe

fail_early() { echo "FAIL $1"; echo "tls: 0 passed, 1 failed"; exit 1; }

san=""
if [ "${TLS_SANITIZE:-1}" = 1 ] &&
   echo 'int main(void){return 0;}' | clang -x c -fsanitize=address,undefined -o build/.san - 2>/dev/null; then
  CC=clang
  san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
fi
$CC $WARN -O1 -g $san -o build/tls_echo tests/tls/tls_echo.c $LIBS & b1=$!
$CC $WARN -O1 -g $san -o build/tls_unit tests/tls/tls_unit.c $LIBS & b2=$!
wait $b1 || fail_early "build of tests/tls/tls_echo.c"
wait $b2 || fail_early "build of tests/tls/tls_unit.c"

if [ -n "${TLS_KEEP:-}" ]; then
  dir=$TLS_KEEP; mkdir -p "$dir"
else
  dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fi
san_ext="-addext subjectAltName=DNS:localhost,IP:127.0.0.1"
{ openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost $san_ext -keyout "$dir/ec-key.pem" -out "$dir/ec-cert.pem" &&
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
    -subj /CN=localhost $san_ext -keyout "$dir/rsa-key.pem" -out "$dir/rsa-cert.pem" &&
  openssl x509 -in "$dir/ec-cert.pem" -outform DER -out "$dir/ec-cert.der" &&
  openssl pkey -in "$dir/ec-key.pem" -outform DER -out "$dir/ec-key.der"
} >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log"; fail_early "openssl could not make the test certificates"; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
./build/tls_unit "$dir" | tee "$dir/unit.log"
counts=$(sed -nE 's/^unit: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$dir/unit.log")
[ -n "$counts" ] || { echo "FAIL tls_unit crashed"; counts="0 1"; }
TLS_UNIT_COUNTS=$counts "$PY" tests/tls/tls_test.py build/tls_echo "$dir"
