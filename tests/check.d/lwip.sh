# Sourced by tests/check.sh: wamp1.h on lwIP. The raw-API port (NO_SYS=1) and the sockets port
# with lwip_select() run on lwIP built from Debian's source package (tests/lwip/fetch-lwip.sh
# unpacks it outside the repository); the sockets port with lwip_poll() runs on Debian's
# liblwip (liblwip-dev, installed when missing and we are root); the examples are compiled.
if lwip_src=$(bash tests/lwip/fetch-lwip.sh 2>build/logs/lwip-fetch.log); then
  suite lwip-raw 300 bash tests/lwip/run.sh raw
  suite lwip-sockets-select 300 bash tests/lwip/run.sh sockets-select
  suite lwip-examples 300 bash tests/lwip/run.sh examples
  suite lwip-examples-run 180 bash tests/lwip/run.sh examples-run
else
  lwip_why="lwIP source could not be obtained ($(tail -n 1 build/logs/lwip-fetch.log))"
  skip lwip-raw "$lwip_why"
  skip lwip-sockets-select "$lwip_why"
  skip lwip-examples "$lwip_why"
  skip lwip-examples-run "$lwip_why"
fi
if [ ! -f /usr/include/lwip/lwipopts.h ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends liblwip-dev \
    >build/logs/lwip-apt.log 2>&1 || true
fi
if [ -f /usr/include/lwip/lwipopts.h ]; then
  suite lwip-sockets 300 bash tests/lwip/run.sh sockets
else
  skip lwip-sockets "liblwip-dev is not installed"
fi
