#!/usr/bin/env bash
# fetch-mbedtls.sh [DIR] - Debian's mbedtls source package, unpacked outside the repository
# (see tests/tools/fetch-source.sh); prints the source tree's path. DIR defaults to
# $MBEDTLS_SRC_DIR, else ../mbedtls-src beside the repository.
here=$(cd "$(dirname "$0")/../.." && pwd)
exec bash "$here/tests/tools/fetch-source.sh" mbedtls "${1:-${MBEDTLS_SRC_DIR:-$here/../mbedtls-src}}" \
  library/ssl_tls.c include/mbedtls/version.h
