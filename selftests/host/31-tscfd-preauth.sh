#!/bin/sh
# Memory before configuration is capped.  300 TCP connections each announce
# a 65,535-byte frame and send 60 KB of it without configuring: they were
# kept (about 64 KB each, for 10 s); now a frame longer than a control frame
# ends an unconfigured stream at once.  Then, with max-preauth-memory 64
# (KB), 100 connections each hold a partial control frame (4 KB of buffer):
# those over the global cap are closed, and the buffered total stays under
# it.  Prints tscfd's memory growth per connection.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology preauth ""
STRESS="python3 $TSCF_TOP/selftests/lib/tscfd_stress.py"
rss() { awk '/^VmRSS/ { print $2 }' /proc/$TSCFD_PID/status; }

before=$(rss)
ip netns exec "$UE" $STRESS preauth --addr 10.10.0.2 --port 4000 --count 300 --hold "$TMPD/go" \
	> "$TMPD/long" 2>&1 &
pid=$!
wait_for 60 test -e "$TMPD/go.ready" || fail "clients: $(cat "$TMPD/long")"
sleep 1
after=$(rss)
touch "$TMPD/go"
wait $pid || fail "clients: $(cat "$TMPD/long")"
log "$(cat "$TMPD/long")"
log "tscfd RSS ${before} kB before, ${after} kB with 300 long unconfigured frames: $(( (after - before) * 1024 / 300 )) bytes per connection"
[ $((after - before)) -lt 3000 ] || fail "unconfigured connections hold $((after - before)) kB"
grep -q '"closed_by_server": 300' "$TMPD/long" || fail "long frames before configuration not refused"
[ "$(tscfd_stat drop_preauth)" -ge 300 ] 2>/dev/null || fail "not counted: $(tscfd_stat drop_preauth)"

# The global cap.
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
echo "max-preauth-memory 64" >> "$TMPD/tscfd.conf"
tscfd_start
ip netns exec "$UE" $STRESS preauth --ctrl --addr 10.10.0.2 --port 4000 --count 100 \
	--hold "$TMPD/go2" > "$TMPD/cap" 2>&1 &
pid=$!
wait_for 60 test -e "$TMPD/go2.ready" || fail "clients: $(cat "$TMPD/cap")"
sleep 1
held=$(tscfd_stat preauth_bytes)
dropped=$(tscfd_stat drop_preauth)
touch "$TMPD/go2"
wait $pid || fail "clients: $(cat "$TMPD/cap")"
log "with max-preauth-memory 64: $held bytes held, $dropped connections closed: $(cat "$TMPD/cap")"
[ "$held" -le 65536 ] || fail "pre-authentication buffers $held > 65536"
[ "$dropped" -ge 80 ] || fail "only $dropped connections closed at the cap"
echo ok
