#!/bin/sh
# tscfctl up --daemon: returns 0 once the clear tunnel is up (or fails with
# its reason on stderr and no helper left behind), then keeps serving in
# the background: it brings the encrypted tunnel up on demand, and
# "tscfctl down" stops it with a release.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology daemon DTTE
ue_tscf0
pidfile=/run/tscf/tscf0.pid
rm -f "$pidfile"

if ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4999 transport tcp \
	ca "$TMPD/ca.pem" --daemon > "$TMPD/fail.log" 2>&1; then
	fail "--daemon to a closed port succeeded"
fi
grep -q 'cannot reach server 10.10.0.2 port 4999/tcp: Connection refused' "$TMPD/fail.log" ||
	fail "no reason given: $(cat "$TMPD/fail.log")"
[ -e "$pidfile" ] && fail "a pidfile after a failed start"

ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport udp \
	ca "$TMPD/ca.pem" --daemon > "$TMPD/up.log" 2>&1 || fail "up --daemon: $(cat "$TMPD/up.log")"
pid=$(cat "$pidfile") || fail "no pidfile"
at_exit "kill $pid 2>/dev/null"
kill -0 "$pid" || fail "the daemon is not running"
has_tunnel "$UE" tscf0 || fail "returned before the tunnel was up"
ip netns exec "$UE" ping -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "ping"

ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 level:1 \
	waitpath:encrypted echo:DAEMON-ENC > "$TMPD/app" 2>&1
grep -qF '{"recv": "echo:DAEMON-ENC", "ok": true}' "$TMPD/app" ||
	fail "the daemon did not bring the encrypted tunnel up: $(cat "$TMPD/app")"

ip netns exec "$UE" "$CTL" down tscf0 || fail "down"
proc_running "$pid" && fail "the daemon survived down"
has_tunnel "$UE" tscf0 && fail "tunnel left attached"
wait_for 10 tscfd_stat_is tunnels 0 ||
	fail "the server still has $(tscfd_stat tunnels) tunnels: no release"
echo ok
