#!/bin/sh
# 10,000 concurrent clear tunnels on one process; max-tunnels is enforced.
# Prints the memory per tunnel and the configuration rate.
. "$TSCF_TOP/selftests/lib.sh"
N=${TSCF_SCALE_TUNNELS:-10000}
tscfd_topology scale DTTE
rss() { awk '/^VmRSS/ { print $2 }' /proc/$TSCFD_PID/status; }

before=$(rss)
ip netns exec "$UE" $TSCF_CLIENT many --transport udp --addr 10.10.0.2 --port 4000 \
	--count "$N" --hold "$TMPD/held" --hold-secs 5 > "$TMPD/many" 2>&1 &
many=$!
wait_for 120 test -e "$TMPD/held" || fail "tunnels not up: $(cat "$TMPD/many")"
tunnels=$(ip netns exec "$SRV" "$TSCFD" --stats -s "$TMPD/tscfd.sock" | awk '/^tunnels:/ { print $2 }')
after=$(rss)
wait $many || fail "client: $(cat "$TMPD/many")"
expect_eq "concurrent tunnels" "$tunnels" "$N"
echo "# $(cat "$TMPD/many")"
echo "# tscfd RSS: ${before} kB idle, ${after} kB with $N tunnels: $(( (after - before) * 1024 / N )) bytes per tunnel"

# max-tunnels: the 4th of 3 is refused with NO_RESOURCES.
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null
TSCFD_MAX_TUNNELS=3 tscfd_conf "$TMPD/tscfd.conf" "$TMPD" DTTE
ip netns exec "$SRV" "$TSCFD" -c "$TMPD/tscfd.conf" > "$TMPD/tscfd2.log" 2>&1 &
TSCFD_PID=$!
at_exit "kill $TSCFD_PID 2>/dev/null"
wait_for 10 grep -q ready "$TMPD/tscfd2.log" || fail "restart"
ip netns exec "$UE" $TSCF_CLIENT many --transport udp --addr 10.10.0.2 --port 4000 --count 4 \
	> "$TMPD/four" 2>&1 && fail "4 tunnels accepted with max-tunnels 3"
grep -q 'config code 4' "$TMPD/four" || fail "no NO_RESOURCES: $(cat "$TMPD/four")"
echo ok
