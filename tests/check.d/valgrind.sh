# Memcheck: the unit tests and the example servers under valgrind (tests/valgrind.sh).
if have valgrind; then
  suite valgrind 600 bash tests/valgrind.sh
else
  skip valgrind "valgrind is not installed (Debian: apt-get install valgrind)"
fi
