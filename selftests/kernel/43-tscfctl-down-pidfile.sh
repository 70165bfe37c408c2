#!/bin/sh
# "tscfctl down DEV" finds and stops the helper however it was started
# (--pidfile or not, --daemon or foreground), and the helper does not
# reconnect afterwards; every pidfile is removed when the helper exits;
# a stale pidfile whose PID now belongs to an unrelated process never gets
# that process signalled.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology downpid DTTE
ue_tscf0
reg=/run/tscf/tscf0.pid
rm -f "$reg"

# stopped_for_good PID WHAT: the helper gone, the tunnel gone and still
# gone 3 s later, the server released.
stopped_for_good() {
	wait_for 5 not_running "$1" || check "$2: the helper survived down"
	has_tunnel "$UE" tscf0 && check "$2: tunnel left attached"
	sleep 3
	has_tunnel "$UE" tscf0 && check "$2: the helper reconnected after down"
	wait_for 10 tscfd_stat_is tunnels 0 || check "$2: the server still has $(tscfd_stat tunnels) tunnels"
}

# 1. --daemon --pidfile F
ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport udp \
	ca "$TMPD/ca.pem" --daemon --pidfile "$TMPD/ctl.pid" > "$TMPD/up1.log" 2>&1 ||
	fail "up --daemon --pidfile: $(cat "$TMPD/up1.log")"
pid=$(cat "$TMPD/ctl.pid") || fail "no pidfile"
at_exit "kill $pid 2>/dev/null"
has_tunnel "$UE" tscf0 || check "daemon: no tunnel"
ip netns exec "$UE" "$CTL" down tscf0 || check "down (daemon, --pidfile)"
stopped_for_good "$pid" "daemon --pidfile"
[ -e "$TMPD/ctl.pid" ] && check "--pidfile left behind"
[ -e "$reg" ] && check "$reg left behind"

# 2. foreground --pidfile F
ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport tcp \
	ca "$TMPD/ca.pem" --pidfile "$TMPD/fg.pid" > "$TMPD/fg.log" 2>&1 &
fg=$!
at_exit "kill $fg 2>/dev/null"
wait_for 20 grep -q 'clear tunnel up' "$TMPD/fg.log" || fail "foreground up: $(cat "$TMPD/fg.log")"
ip netns exec "$UE" "$CTL" down tscf0 || check "down (foreground, --pidfile)"
stopped_for_good "$fg" "foreground --pidfile"
rc=0; wait "$fg" || rc=$?
expect_eq "foreground helper exit status after down" "$rc" 0
[ -e "$TMPD/fg.pid" ] && check "foreground --pidfile left behind"
[ -e "$reg" ] && check "$reg left behind (foreground)"

# 3. A stale pidfile (a helper killed outright) whose PID is reused.
tscfctl_up udp "$TMPD/ctl3.log"
kill -KILL "$CTL_PID"
wait_for 20 no_tunnel "$UE" tscf0 ||
	fail "the tunnel outlived its killed helper"
sleep 600 &
victim=$!
at_exit "kill $victim 2>/dev/null"
mkdir -p /run/tscf
echo "$victim" > "$reg"
echo "$victim" > "$TMPD/stale.pid"
ip netns exec "$UE" "$CTL" down tscf0 > "$TMPD/down3.log" 2>&1 || check "down with a stale pidfile: $(cat "$TMPD/down3.log")"
sleep 0.5
kill -0 "$victim" 2>/dev/null || check "down signalled an unrelated process (pid $victim) from a stale pidfile"
# And a new helper takes over the stale registration.
tscfctl_up udp "$TMPD/ctl4.log"
expect_eq "registered pid" "$(cat "$reg")" "$CTL_PID"
kill -TERM "$CTL_PID"
wait_for 10 not_running "$CTL_PID" || check "SIGTERM did not stop the helper"
[ -e "$reg" ] && check "$reg left behind after SIGTERM"
kill -0 "$victim" 2>/dev/null || check "the unrelated process died"
checks_done
echo ok
