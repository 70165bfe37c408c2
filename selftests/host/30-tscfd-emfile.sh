#!/bin/sh
# Out of file descriptors at accept: tscfd sheds the connection with its
# reserve descriptor instead of spinning on a listener that stays readable.
# tscfd's limit is lowered to 64 and 200 TCP connections arrive: the time
# it wants the CPU over 2 s is printed (running or runnable, from
# /proc/PID/schedstat, so other load on the machine does not hide a spin;
# it was 100%), then it still serves a client.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology emfile ""
STRESS="python3 $TSCF_TOP/selftests/lib/tscfd_stress.py"
busy_ns() { awk '{ printf "%.0f\n", $1 + $2 }' /proc/$TSCFD_PID/schedstat; }

hard=$(prlimit --pid "$TSCFD_PID" --nofile -o HARD --noheadings | tr -d " ")
prlimit --pid "$TSCFD_PID" --nofile=64:"$hard" || fail "prlimit"
ip netns exec "$UE" $STRESS idle --addr 10.10.0.2 --port 4000 --count 200 --hold "$TMPD/go" \
	> "$TMPD/idle" 2>&1 &
idle=$!
wait_for 20 test -e "$TMPD/go.ready" || fail "connections not opened: $(cat "$TMPD/idle")"
sleep 1
t0=$(busy_ns)
sleep 2
t1=$(busy_ns)
pct=$(( (t1 - t0) / 20000000 ))
log "tscfd running or runnable with 200 connections over a 64-descriptor limit: ${pct}% of 2 s"
log "accept_emfile: $(tscfd_stat accept_emfile)"
touch "$TMPD/go"
wait $idle || fail "idle: $(cat "$TMPD/idle")"
[ "$pct" -lt 10 ] || fail "tscfd spins at ${pct}% CPU on EMFILE"
[ "$(tscfd_stat accept_emfile)" -ge 1 ] 2>/dev/null || fail "EMFILE not counted"
prlimit --pid "$TSCFD_PID" --nofile=4096:"$hard"
ip netns exec "$UE" $TSCF_CLIENT basic --addr 10.10.0.2 --port 4000 > /dev/null ||
	fail "no service after EMFILE"
echo ok
