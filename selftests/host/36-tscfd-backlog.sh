#!/bin/sh
# The send backlog of all tunnels together is capped (max-send-backlog):
# it was 512 KB per tunnel with no total.  With a cap of 64 KB, four TCP
# clients that never read ask for 1.4 MB of replies: the backlog stays
# under the cap and what does not fit is dropped and counted.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology backlog ""
STRESS="python3 $TSCF_TOP/selftests/lib/tscfd_stress.py"
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
echo "max-send-backlog 64" >> "$TMPD/tscfd.conf"
tscfd_start
ip netns exec "$UE" $STRESS backlog --addr 10.10.0.2 --port 4000 --count 4 --hold "$TMPD/go" \
	> "$TMPD/out" 2>&1 &
pid=$!
wait_for 60 test -e "$TMPD/go.ready" || fail "clients: $(cat "$TMPD/out")"
sleep 1
held=$(tscfd_stat backlog_bytes)
dropped=$(tscfd_stat drop_backlog)
touch "$TMPD/go"
wait $pid || fail "clients: $(cat "$TMPD/out")"
log "$(cat "$TMPD/out"): backlog $held bytes, $dropped frames dropped at the cap"
[ "$held" -le 65536 ] || fail "backlog $held > 65536"
[ "$held" -gt 0 ] || fail "nothing in the backlog: the test did not load it"
[ "$dropped" -ge 1 ] || fail "no frame dropped at the cap"
echo ok
