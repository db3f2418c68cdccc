# Sourced by tests/check.sh: the WAMP demo as bare-metal Cortex-M4 firmware
# (examples/lwip/qemu-mps2) booted in QEMU's mps2-an386 and driven from the host
# (tests/qemu/run.sh, `make qemu`). Needs arm-none-eabi-gcc with newlib, qemu-system-arm and
# lwIP's source (tests/lwip/fetch-lwip.sh).
if ! have arm-none-eabi-gcc; then
  skip qemu "arm-none-eabi-gcc is missing (gcc-arm-none-eabi, libnewlib-arm-none-eabi)"
elif ! have qemu-system-arm; then
  skip qemu "qemu-system-arm is missing (Debian qemu-system-arm)"
else
  suite qemu 120 bash tests/qemu/run.sh
fi
