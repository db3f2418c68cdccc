# Sourced by tests/check.sh: the WAMP demo as bare-metal Cortex-M4 firmware
# (examples/lwip/qemu-mps2) booted in QEMU's mps2-an386 and driven from the host
# (tests/qemu/run.sh, `make qemu`). Needs arm-none-eabi-gcc with newlib, qemu-system-arm and
# lwIP's source (tests/lwip/fetch-lwip.sh).
if ! have arm-none-eabi-gcc || [ ! -f "$(arm-none-eabi-gcc -mthumb -mcpu=cortex-m4 -print-file-name=libc_nano.a)" ]; then
  skip qemu "arm-none-eabi-gcc with newlib is missing (gcc-arm-none-eabi, libnewlib-arm-none-eabi)"
elif ! have qemu-system-arm; then
  skip qemu "qemu-system-arm is missing (Debian qemu-system-arm)"
elif ! bash tests/lwip/fetch-lwip.sh >build/logs/qemu-fetch.log 2>&1; then
  skip qemu "lwIP source could not be obtained ($(tail -n 1 build/logs/qemu-fetch.log))"
else
  suite qemu 120 bash tests/qemu/run.sh
fi
