# shellcheck shell=bash
# Sourced by tests/check.sh: the TLS transport (port/wamp1_mbedtls.h) over the other ports.
#   tls-windows  wrapping port/wamp1_win32.h: mbedTLS cross-compiled from Debian's source with
#                mingw-w64, run under wine, driven by Linux TLS clients (tests/tls/run_windows.sh)
#   tls-lwip     wrapping port/wamp1_lwip_raw.h and port/wamp1_lwip_sockets.h, with a TLS
#                client on the same lwIP in the same process (tests/tls/run_lwip.sh)
# Each script prints its own SKIP line when what it needs cannot be had.
if have x86_64-w64-mingw32-gcc && have wine && have wineserver; then
  suite tls-windows 300 bash tests/tls/run_windows.sh
else
  skip tls-windows "mingw-w64 or wine is not installed (gcc-mingw-w64-x86-64 wine wine64)"
fi
if printf '#include <mbedtls/ssl.h>\nint main(void){return 0;}\n' |
     cc -x c - -o build/.tls_ports_probe -lmbedtls -lmbedx509 -lmbedcrypto >/dev/null 2>&1; then
  rm -f build/.tls_ports_probe
  suite tls-lwip 180 bash tests/tls/run_lwip.sh
else
  skip tls-lwip "mbedTLS is not installed (libmbedtls-dev)"
fi
