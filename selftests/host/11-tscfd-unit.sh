#!/bin/sh
# tscfd's socket-free pieces: SipHash-2-4 against the paper's vectors, and
# the address pools (a full pool of a million refuses in constant time).
. "$TSCF_TOP/selftests/lib.sh"
t="$TSCF_TOP/server/unit_test"
[ -x "$t" ] || fail "server/unit_test not built (make server)"
"$t"
