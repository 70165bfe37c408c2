#!/bin/sh
# Issue 10: tscfd's log lines carry a level.  On plain stderr each starts
# with a UTC timestamp; on journald's stream (JOURNAL_STREAM names stderr)
# with "<N>", the syslog priority; "syslog yes" sends them to syslog(3)
# (here a /dev/log of the test's own, in a mount namespace).  log-level
# (default notice) hides per-tunnel lines (info), -v shows them; those
# lines are rate-limited (log-rate-limit) with a "suppressed K" summary.
. "$TSCF_TOP/selftests/lib.sh"
TSCFD_LOG_LEVEL=notice tscfd_topology logging DTTE
CHECKS_FAILED=0
TS='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z tscfd: '

# 1. Plain stderr at notice: timestamps, and no per-tunnel lines.
ip netns exec "$UE" $TSCF_CLIENT basic --transport udp --addr 10.10.0.2 --port 4000 > /dev/null || fail "client"
grep -Evq "$TS" "$TMPD/tscfd.log" && check "lines without a timestamp: $(grep -Ev "$TS" "$TMPD/tscfd.log")"
grep -q 'up: clear' "$TMPD/tscfd.log" && check "a per-tunnel line at log-level notice"
grep -Eq "${TS}ready: TUN tscfs0" "$TMPD/tscfd.log" || check "no ready line"

# 2. -v: info, so per-tunnel lines appear.
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
: > "$TMPD/tscfd.log"
ip netns exec "$SRV" "$TSCFD" -v -c "$TMPD/tscfd.conf" >> "$TMPD/tscfd.log" 2>&1 &
TSCFD_PID=$!
at_exit "kill $TSCFD_PID 2>/dev/null"
wait_for 10 grep -q ready "$TMPD/tscfd.log" || fail "tscfd -v did not start"
ip netns exec "$UE" $TSCF_CLIENT basic --transport udp --addr 10.10.0.2 --port 4000 > /dev/null || fail "client"
grep -Eq "${TS}tunnel [0-9a-f]{16} udp peer 10.10.0.1:[0-9]+ up: clear" "$TMPD/tscfd.log" ||
	check "-v: no per-tunnel line: $(cat "$TMPD/tscfd.log")"

# 3. journald's stream: "<N>" prefixes, no timestamps; priorities right.
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
: > "$TMPD/journal.log"
sed -i 's/^log-level .*/log-level info/' "$TMPD/tscfd.conf"
ip netns exec "$SRV" env JOURNAL_STREAM="$(stat -c %d:%i "$TMPD/journal.log")" \
	"$TSCFD" -c "$TMPD/tscfd.conf" >> "$TMPD/journal.log" 2>&1 &
TSCFD_PID=$!
at_exit "kill $TSCFD_PID 2>/dev/null"
wait_for 10 grep -q ready "$TMPD/journal.log" || fail "tscfd did not start: $(cat "$TMPD/journal.log")"
ip netns exec "$UE" $TSCF_CLIENT basic --transport udp --addr 10.10.0.2 --port 4000 > /dev/null || fail "client"
echo "nonsense" >> "$TMPD/tscfd.conf"
kill -HUP "$TSCFD_PID"
wait_for 5 grep -q 'reload failed' "$TMPD/journal.log" || check "no reload failure line"
sed -i '$d' "$TMPD/tscfd.conf"
grep -Evq '^<[0-7]>' "$TMPD/journal.log" && check "journal lines without <N>: $(grep -Ev '^<[0-7]>' "$TMPD/journal.log")"
grep -q '^<5>ready: ' "$TMPD/journal.log" || check "ready is not <5> (notice)"
grep -Eq '^<6>tunnel [0-9a-f]{16} udp peer .* up: clear' "$TMPD/journal.log" || check "tunnel up is not <6> (info)"
grep -q '^<3>reload failed' "$TMPD/journal.log" || check "reload failure is not <3> (error)"
# A JOURNAL_STREAM that is not stderr (inherited by a child) is ignored.
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
: > "$TMPD/tscfd.log"
ip netns exec "$SRV" env JOURNAL_STREAM=1:1 "$TSCFD" -c "$TMPD/tscfd.conf" >> "$TMPD/tscfd.log" 2>&1 &
TSCFD_PID=$!
at_exit "kill $TSCFD_PID 2>/dev/null"
wait_for 10 grep -q ready "$TMPD/tscfd.log" || fail "tscfd did not start"
grep -Eq "${TS}ready" "$TMPD/tscfd.log" || check "a foreign JOURNAL_STREAM changed the format"

# 4. Rate limit: 60 tunnels in a burst, at most 5 lines a second.
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
sed -i 's/^log-rate-limit .*/log-rate-limit 5/' "$TMPD/tscfd.conf"
: > "$TMPD/tscfd.log"
tscfd_start
ip netns exec "$UE" $TSCF_CLIENT many --addr 10.10.0.2 --port 4000 --count 60 > /dev/null || fail "many"
# A window's summary comes at the tick after it: a burst that spans
# windows (a slow build) is whole once the last window's has come.
logged_up() { grep -c 'up: clear' "$TMPD/tscfd.log" || true; }
logged_sup() {
	sed -n 's/.*suppressed \([0-9]*\) per-tunnel log lines.*/\1/p' "$TMPD/tscfd.log" |
		awk '{ s += $1 } END { print s + 0 }'
}
wait_for 5 grep -q 'suppressed [0-9]* per-tunnel log lines' "$TMPD/tscfd.log" ||
	check "no suppressed summary: $(tail -5 "$TMPD/tscfd.log")"
burst_counted() { [ $(($(logged_up) + $(logged_sup))) -ge 60 ]; }
wait_for 5 burst_counted || true
up=$(logged_up)
sup=$(logged_sup)
log "60 tunnels: $up lines logged, $sup suppressed"
[ "$up" -lt 60 ] || check "nothing suppressed: $up lines"
[ $((up + sup)) -ge 60 ] || check "lines lost without count: $up + $sup < 60"
# per wall-clock second at most two windows' worth (windows are monotonic seconds)
worst=$(grep 'up: clear' "$TMPD/tscfd.log" | cut -c1-19 | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
[ "${worst:-0}" -le 10 ] || check "$worst per-tunnel lines in one second with log-rate-limit 5"

# 5. syslog yes: the lines reach /dev/log (a socket of the test's own,
# bind-mounted in a private mount namespace) with priority and facility.
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
echo "syslog yes" >> "$TMPD/tscfd.conf"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "ab", buffering=0)
while True:
    out.write(s.recv(4096) + b"\n")' "$TMPD/devlog" "$TMPD/syslog.txt" &
at_exit "kill $! 2>/dev/null"
wait_for 5 test -S "$TMPD/devlog" || fail "no syslog socket"
mkdir "$TMPD/dev"
: > "$TMPD/stderr.log"
ip netns exec "$SRV" unshare -m sh -c '
	mount --make-rprivate /
	mount -t tmpfs tmpfs "$1/dev"
	mkdir "$1/dev/net"
	for f in null urandom random net/tun log; do touch "$1/dev/$f"; done
	for f in null urandom random net/tun; do mount --bind "/dev/$f" "$1/dev/$f"; done
	mount --bind "$1/devlog" "$1/dev/log"
	mount --rbind "$1/dev" /dev
	exec "$2" -c "$1/tscfd.conf"' sh "$TMPD" "$TSCFD" > "$TMPD/stderr.log" 2>&1 &
TSCFD_PID=$!
at_exit "kill $TSCFD_PID 2>/dev/null"
wait_for 10 grep -q 'ready: TUN' "$TMPD/syslog.txt" || check "syslog: no ready line: $(cat "$TMPD/syslog.txt" "$TMPD/stderr.log")"
# <29>: facility daemon (3 * 8) + notice (5)
grep -Eq '^<29>.*tscfd\[[0-9]+\]: ready: TUN' "$TMPD/syslog.txt" || check "syslog line format: $(head -3 "$TMPD/syslog.txt")"
grep -q ready "$TMPD/stderr.log" && check "syslog yes still logs to stderr"
checks_done
echo ok
