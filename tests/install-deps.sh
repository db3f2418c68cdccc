#!/usr/bin/env bash
# Installs the tools the test suite uses, when they are missing and we may (root + apt).
# Prints what it could not install; the checks that need it are then skipped by name.
set -u
pkgs=(clang libclang-rt-14-dev python3 python3-websocket python3-websockets php-cli valgrind
      openssl libmbedtls-dev gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine wine64
      liblwip-dev dpkg-dev gcc-arm-none-eabi libnewlib-arm-none-eabi gcc-riscv64-unknown-elf
      picolibc-riscv64-unknown-elf qemu-system-arm redis-server chromium cmake pkg-config php-redis python3-redis)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js by command, not by package: a Node.js build that bundles npm conflicts with
# Debian's npm package
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
      >/tmp/wamp1-apt.log 2>&1 || echo "install-deps: apt-get failed (see /tmp/wamp1-apt.log)"
  else
    echo "install-deps: not root or no apt-get; missing: ${missing[*]}"
  fi
fi
# npm packages for the JavaScript client tests, pinned by the committed lock file
if [ -f package-lock.json ] && command -v npm >/dev/null && [ ! -d node_modules/ws ]; then
  npm ci --no-audit --no-fund >/tmp/wamp1-npm.log 2>&1 || echo "install-deps: npm ci failed (see /tmp/wamp1-npm.log)"
fi
exit 0
