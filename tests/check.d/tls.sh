# Sourced by tests/check.sh: the TLS transport (port/wamp1_mbedtls.h) over loopback.
if ! command -v openssl >/dev/null 2>&1; then
  skip tls "openssl is not installed"
elif ! printf '#include <mbedtls/ssl.h>\nint main(void){return 0;}\n' |
       cc -x c - -o build/.tls_probe -lmbedtls -lmbedx509 -lmbedcrypto >/dev/null 2>&1; then
  skip tls "mbedTLS is not installed (libmbedtls-dev)"
else
  rm -f build/.tls_probe
  suite tls 120 bash tests/tls/run.sh
fi
