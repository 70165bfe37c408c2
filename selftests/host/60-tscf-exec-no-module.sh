#!/bin/sh
# Without the tscf module (this host cannot load it), tscf-exec refuses to
# hand an unprotected socket to a program that asked for encryption, and
# leaves an unencrypted one alone.
. "$TSCF_TOP/selftests/lib.sh"
EXEC="$TSCF_TOP/tools/tscf-exec"
[ -x "$EXEC" ] || fail "tools/tscf-exec not built"
[ -d /sys/module/tscf ] && fail "this test needs a host without tscf.ko loaded"

out=$("$EXEC" --level encrypted-only -- python3 -c '
import errno, socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    print("created")
except OSError as e:
    print(errno.errorcode[e.errno])' 2>"${TMPDIR:-/tmp}/tscf-exec.err.$$")
err=$(cat "${TMPDIR:-/tmp}/tscf-exec.err.$$"); rm -f "${TMPDIR:-/tmp}/tscf-exec.err.$$"
expect_eq "encrypted-only socket without the module" "$out" "ENOPROTOOPT"
echo "$err" | grep -q "is the tscf module loaded" || fail "no explanation: $err"

out=$("$EXEC" --level unencrypted -- python3 -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("created")' 2>/dev/null)
expect_eq "unencrypted socket without the module" "$out" "created"
echo ok
