#!/usr/bin/env bash
# wine-run.sh PROGRAM.exe [ARGS...]: runs a Windows build of an example under wine, for the
# test drivers that start a server and stop it with SIGTERM.
#
# Under wine, SIGINT reaches the program as Ctrl+C (CTRL_C_EVENT, seen by the handler that
# SetConsoleCtrlHandler installed), but SIGTERM ends the process at once, like TerminateProcess.
# This script turns SIGTERM and SIGINT into SIGINT for the program and exits with the program's
# status, so the drivers' "SIGTERM, then exit status 0 within 2 s" checks test the Windows
# shutdown path. Standard input is /dev/null; stdout and stderr pass through.
set -u
[ $# -ge 1 ] || { echo "usage: wine-run.sh PROGRAM.exe [ARGS...]" >&2; exit 2; }
WINE=${WINE:-wine}
export WINEDEBUG=${WINEDEBUG:--all}
"$WINE" "$@" </dev/null &
child=$!
trap 'kill -INT "$child" 2>/dev/null' TERM INT
while :; do
  wait "$child"
  rc=$?
  [ "$rc" -le 128 ] && break
  # above 128: the program died of a signal, or a trap cut the wait short
  if ! kill -0 "$child" 2>/dev/null; then
    wait "$child" 2>/dev/null
    r=$?
    [ "$r" -ne 127 ] && rc=$r
    break
  fi
done
exit "$rc"
