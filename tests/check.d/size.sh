# Sourced by tests/check.sh: the firmware footprint (make size) against the targets of
# shared/design/footprint.md. Needs the cross compilers (installed when missing and we are
# root) and lwIP's source (tests/lwip/fetch-lwip.sh); skipped when they cannot be had.
if size_why=$(bash tests/size/run.sh --probe 2>/dev/null); then
  suite size 600 bash tests/size/run.sh
else
  skip size "${size_why#SKIP size: }"
fi
