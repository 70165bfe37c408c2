#!/bin/sh
# Under flood a legitimate client is still served within 1 s: 1,000 idle
# TCP connections are held open while 10,000 config requests a second
# (TSCF_FLOOD_RATE) arrive from spoofed sources (a raw socket in UE, sources in
# 10.10.128.0/17, answers routed back to UE and dropped there) for 5 s.
# Every second a UDP and a TCP client configure (and release); their worst
# time is printed.  The spoofed sources never see a cookie, so the flood
# must take no pool address and create no session: the session count after
# it is the one before, and tscfd answered it only with COOKIEs.  Loopback only:
# everything stays in the test's two namespaces.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology flood ""
STRESS="python3 $TSCF_TOP/selftests/lib/tscfd_stress.py"
ip -n "$SRV" route add 10.10.128.0/17 via 10.10.0.1
ip netns exec "$SRV" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.veth-srv.rp_filter=0

ip netns exec "$UE" $STRESS idle --addr 10.10.0.2 --port 4000 --count 1000 --hold "$TMPD/go" \
	> "$TMPD/idle" 2>&1 &
idle=$!
wait_for 30 test -e "$TMPD/go.ready" || fail "idle connections: $(cat "$TMPD/idle")"
log "idle TCP connections open: $(tscfd_stat tunnels)"
sessions0=$(tscfd_stat sessions)
cookies0=$(tscfd_stat cookie_sent)
# make check-host-asan sets a lower rate: sanitizer builds are slower.
RATE=${TSCF_FLOOD_RATE:-10000}
out=$(ip netns exec "$UE" $STRESS flood --addr 10.10.0.2 --port 4000 --rate "$RATE" --seconds 5) ||
	fail "flood: $out"
touch "$TMPD/go"
wait $idle || true
log "$out"
log "after the flood: sessions $(tscfd_stat sessions) of a pool of 65533, tunnels $(tscfd_stat tunnels), config_req $(tscfd_stat config_req)"
kill -0 "$TSCFD_PID" || fail "tscfd died"
sessions1=$(tscfd_stat sessions)
[ "$sessions1" = "$sessions0" ] ||
	fail "the spoofed flood created sessions: $sessions0 before, $sessions1 after"
cookies1=$(tscfd_stat cookie_sent)
[ $((cookies1 - cookies0)) -ge 1000 ] ||
	fail "the flood did not reach tscfd: $((cookies1 - cookies0)) cookies sent"
worst=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["legit_worst_s"])')
python3 -c "import sys; sys.exit(0 if $worst < 1 else 1)" || fail "legitimate client took $worst s"
echo ok
