# Sourced by tests/check.sh: exhaustion, abuse and shutdown tests of build/demo and build/echo,
# and a 60-second soak (about 2.5 minutes together).
suite abuse 240 "$PY" tests/abuse/test_abuse.py build/demo
suite soak 150 env SOAK_SECONDS=60 bash tests/soak.sh
