#!/usr/bin/env bash
# fetch-lwip.sh [DIR] - Debian's lwip source package, unpacked outside the repository (see
# tests/tools/fetch-source.sh); prints the source tree's path. DIR defaults to $LWIP_SRC_DIR,
# else ../lwip-src beside the repository.
here=$(cd "$(dirname "$0")/../.." && pwd)
exec bash "$here/tests/tools/fetch-source.sh" lwip "${1:-${LWIP_SRC_DIR:-$here/../lwip-src}}" \
  src/core/tcp.c src/include/lwip/opt.h
