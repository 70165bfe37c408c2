#!/bin/sh
# The protocol library against hand-written byte vectors.
. "$TSCF_TOP/selftests/lib.sh"
t="$TSCF_TOP/tools/lib/test_proto"
[ -x "$t" ] || fail "tools/lib/test_proto not built"
"$t"
j="$TSCF_TOP/tools/lib/test_json"
[ -x "$j" ] || fail "tools/lib/test_json not built"
"$j"
