# shellcheck shell=bash
# Sourced by tests/check.sh: the Windows port, cross-compiled with mingw-w64 and run under wine
# (unit tests, the port's own test, conformance and integration against the Windows builds).
# Needs: apt-get install --no-install-recommends gcc-mingw-w64-x86-64 wine wine64
if have x86_64-w64-mingw32-gcc && have wine && have wineserver; then
  suite windows 420 bash tests/windows/run.sh
else
  skip windows "mingw-w64 or wine is not installed (gcc-mingw-w64-x86-64 wine wine64)"
fi
