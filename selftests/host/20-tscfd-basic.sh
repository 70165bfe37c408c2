#!/bin/sh
# tscfd: configuration, keepalive and release over TCP and UDP; addresses
# return to the pool; a bad configuration file names its line.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology basic DTTE

for tr in tcp udp; do
	out=$(ip netns exec "$UE" $TSCF_CLIENT basic --transport $tr --addr 10.10.0.2 --port 4000) ||
		fail "basic over $tr"
	log "$tr: $out"
done
expect_eq "config requests" "$(tscfd_stat config_req)" 2
expect_eq "keepalives" "$(tscfd_stat keepalive_req)" 2
expect_eq "releases" "$(tscfd_stat release_req)" 2
wait_for 3 tscfd_stat_is tunnels 0 ||
	fail "tunnels left open after release"
grep -q 'up: clear, internal 10.100.0.2' "$TMPD/tscfd.log" || fail "no tunnel-up log line"
grep -q 'released by the client' "$TMPD/tscfd.log" || fail "no release log line"

# The same address comes back after a release (pool).
out=$(ip netns exec "$UE" $TSCF_CLIENT basic --transport tcp --addr 10.10.0.2 --port 4000)
echo "$out" | grep -q '"ip4": "10.100.0.[234]"' || fail "pool did not reuse addresses: $out"

# JSON stats parse.
ip netns exec "$SRV" "$TSCFD" --stats -j -s "$TMPD/tscfd.sock" | python3 -c 'import json,sys; json.load(sys.stdin)' ||
	fail "stats JSON"

# Config errors name the line.
printf 'tscf-interface\n    address 10.0.0.1\n    port 70000\n' > "$TMPD/bad.conf"
err=$("$TSCFD" -c "$TMPD/bad.conf" -t 2>&1) && fail "bad config accepted"
echo "$err" | grep -q 'bad.conf:3: port' || fail "error does not name line 3: $err"
printf 'bogus-setting 1\n' > "$TMPD/bad2.conf"
err=$("$TSCFD" -c "$TMPD/bad2.conf" -t 2>&1) && fail "unknown setting accepted"
echo "$err" | grep -q "bad2.conf:1: unknown setting 'bogus-setting'" || fail "unknown setting message: $err"
"$TSCFD" -c "$TMPD/tscfd.conf" -t > /dev/null || fail "good config rejected"
echo ok
