#!/bin/sh
# A helper that dies without a word (SIGKILL) takes its tunnels along: it
# attached them as their owner, so when its netlink socket closes the
# kernel detaches them (reason owner-gone) and the server sees the
# connections close; a new helper can bring the device up again at once.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology killed DTTE
ue_tscf0
tscfctl_up tcp
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 level:2 \
	waitpath:encrypted sleep:30 > /dev/null 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 30 has_tunnel "$UE" tscf0s || fail "no encrypted tunnel: $(cat "$TMPD/ctl.log")"

start_listener "$UE" "$TMPD/events" 60 '"reason": 6' 2
kill -KILL "$CTL_PID"
wait_for 20 no_tunnel "$UE" tscf0 ||
	fail "the clear tunnel outlived its helper"
wait_for 20 no_tunnel "$UE" tscf0s ||
	fail "the encrypted tunnel outlived its helper"
wait $LISTENER
expect_eq "owner-gone events" \
	"$(grep '"cmd": "TUNNEL_EVENT"' "$TMPD/events" | grep -c '"reason": 6')" 2
wait_for 10 tscfd_stat_is tunnels 0 ||
	fail "the server still holds $(tscfd_stat tunnels) tunnels"

rm -f /run/tscf/tscf0.pid
tscfctl_up tcp "$TMPD/ctl2.log"
ip netns exec "$UE" ping -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "ping after a new helper"
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit $?: $(tail -5 "$CTL_LOG")"
echo ok
