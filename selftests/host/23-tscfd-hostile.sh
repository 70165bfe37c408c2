#!/bin/sh
# Hostile input: garbage datagrams, unparsable streams, oversize frames, TLS
# garbage, half-open TCP: tscfd keeps serving and counts what it dropped.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology hostile DTTE

# Half-open: connects and says nothing.
ip netns exec "$UE" python3 -c '
import socket, time
s = socket.create_connection(("10.10.0.2", 4000))
s.settimeout(20)
t = time.time()
print("closed-after", round(time.time() - t) if s.recv(1) == b"" else -1)' > "$TMPD/halfopen" &
half=$!

out=$(ip netns exec "$UE" $TSCF_CLIENT hostile --addr 10.10.0.2 --port 4000) ||
	fail "hostile: $(tail -5 "$TMPD/tscfd.log")"
log "$out"
[ "$(tscfd_stat drop_no_session)" -ge 1 ] || fail "garbage from an unknown peer not counted"
[ "$(tscfd_stat drop_bad_nibble)" -ge 1 ] || fail "bad nibble not counted"
[ "$(tscfd_stat drop_malformed)" -ge 2 ] || fail "malformed frames not counted"
[ "$(tscfd_stat drop_unknown_type)" -ge 1 ] || fail "unknown control type not counted"
[ "$(tscfd_stat drop_tls)" -ge 1 ] || fail "TLS garbage not counted"
grep -q 'unparsable stream' "$TMPD/tscfd.log" || fail "no log line for the unparsable stream"

wait $half
grep -q 'closed-after 1[0-9]' "$TMPD/halfopen" || fail "half-open connection not closed: $(cat "$TMPD/halfopen")"
grep -q 'no configuration request in time' "$TMPD/tscfd.log" || fail "no half-open log line"
kill -0 "$TSCFD_PID" || fail "tscfd died"
echo ok
