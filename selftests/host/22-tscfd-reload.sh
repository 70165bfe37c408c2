#!/bin/sh
# DTTE is off unless assigned-services says DTTE; SIGHUP applies a new value
# to new tunnels and leaves existing ones as they were.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology reload ""

out=$(ip netns exec "$UE" $TSCF_CLIENT dtte --expect-unavailable --addr 10.10.0.2 --port 4000 \
	--ca "$TMPD/ca.pem") || fail "service request without DTTE"
expect_eq "refused" "$(tscfd_stat dtte_refused)" 1

# A tunnel opened before the reload asks for DTTE after it.
ip netns exec "$UE" $TSCF_CLIENT later --addr 10.10.0.2 --port 4000 --hold "$TMPD/go" > "$TMPD/old.out" 2>&1 &
old=$!
wait_for 10 test -e "$TMPD/go.ready" || fail "old tunnel did not come up"

tscfd_conf "$TMPD/tscfd.conf" "$TMPD" DTTE
kill -HUP "$TSCFD_PID"
wait_for 5 grep -q 'configuration reloaded' "$TMPD/tscfd.log" || fail "no reload"
touch "$TMPD/go"
wait $old || fail "old tunnel: $(cat "$TMPD/old.out")"
grep -q '"service_code": 2' "$TMPD/old.out" || fail "old tunnel got the new DTTE setting: $(cat "$TMPD/old.out")"
ip netns exec "$UE" $TSCF_CLIENT dtte --addr 10.10.0.2 --port 4000 --ca "$TMPD/ca.pem" ||
	fail "new tunnel after enabling DTTE was refused"

# A broken file keeps the running configuration.
echo "nonsense" >> "$TMPD/tscfd.conf"
kill -HUP "$TSCFD_PID"
wait_for 5 grep -q 'reload failed' "$TMPD/tscfd.log" || fail "broken reload not reported"
ip netns exec "$UE" $TSCF_CLIENT dtte --addr 10.10.0.2 --port 4000 --ca "$TMPD/ca.pem" ||
	fail "server lost its configuration on a broken reload"
echo ok
