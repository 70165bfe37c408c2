#!/bin/sh
# Issue 10: the control socket replaces a stale socket at its path but
# nothing else: a control-socket path that names a regular file (a typo,
# or the configuration file itself) stops the start with a message, and
# the file survives (it was unlinked before).
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology ctlpath ""
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
CHECKS_FAILED=0
echo "precious" > "$TMPD/precious"
sed -i "s#^control-socket .*#control-socket $TMPD/precious#" "$TMPD/tscfd.conf"
rc=0
ip netns exec "$SRV" timeout 10 "$TSCFD" -c "$TMPD/tscfd.conf" > "$TMPD/out.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || check "tscfd with a regular file as control socket: exit $rc: $(cat "$TMPD/out.log")"
expect_eq "the file at the control-socket path" "$(cat "$TMPD/precious" 2>/dev/null)" precious
grep -q "cannot listen on $TMPD/precious: File exists" "$TMPD/out.log" || check "message: $(cat "$TMPD/out.log")"
# A stale socket is replaced.
sed -i "s#^control-socket .*#control-socket $TMPD/tscfd.sock#" "$TMPD/tscfd.conf"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TMPD/stale.sock"
sed -i "s#^control-socket .*#control-socket $TMPD/stale.sock#" "$TMPD/tscfd.conf"
tscfd_start
ip netns exec "$SRV" "$TSCFD" -s "$TMPD/stale.sock" --stats > /dev/null || check "stale socket not replaced"
checks_done
echo ok
