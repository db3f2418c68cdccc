# Sourced by tests/check.sh: the CMake package (wamp1::wamp1 through add_subdirectory,
# FetchContent and find_package after cmake --install) and wamp1.pc, each used by a small
# consumer built outside the tree (tests/cmake/run.sh).
if have cmake; then
  suite cmake 120 bash tests/cmake/run.sh
else
  skip cmake "cmake is missing"
fi
