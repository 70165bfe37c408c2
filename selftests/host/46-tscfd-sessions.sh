#!/bin/sh
# Issue 10: "tscfd --sessions [-j]" lists each session (TSID, peer,
# transport, inner address, DTTE state, age, packets and bytes each way,
# its encrypted tunnel), "tscfd --disconnect TSID" ends one (a stream
# client sees its connection closed; the encrypted tunnel goes with it),
# "--stats -j" is JSON; the control socket is mode 0600 and refuses
# anyone but root and the service user.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology sessions DTTE
CHECKS_FAILED=0
OPS="python3 $TSCF_TOP/selftests/lib/tscfd_ops_client.py"
ctl() { ip netns exec "$SRV" "$TSCFD" -s "$TMPD/tscfd.sock" "$@"; }

ip netns exec "$UE" $OPS hold --addr 10.10.0.2 --port 4000 --transport tcp --dtte \
	--ca "$TMPD/ca.pem" --state "$TMPD/a" --packets 4 --seconds 20 > "$TMPD/a.out" 2>&1 &
a=$!
ip netns exec "$UE" $OPS hold --addr 10.10.0.2 --port 4000 --transport udp \
	--state "$TMPD/b" --packets 2 --seconds 20 > "$TMPD/b.out" 2>&1 &
b=$!
wait_for 20 test -e "$TMPD/a" -a -e "$TMPD/b" || fail "clients: $(cat "$TMPD/a.out" "$TMPD/b.out")"
A=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tsid"])' "$TMPD/a")
B=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tsid"])' "$TMPD/b")

ctl --sessions -j > "$TMPD/sessions.json" || check "--sessions -j failed"
python3 - "$TMPD/sessions.json" "$TMPD/a" "$TMPD/b" <<'PY' || check "--sessions -j: $(cat "$TMPD/sessions.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
by = {s['tsid']: s for s in doc['sessions']}
ok = True
def want(cond, what):
    global ok
    if not cond:
        print("FAIL:", what); ok = False
for path, dtte in ((sys.argv[2], True), (sys.argv[3], False)):
    st = json.load(open(path))
    s = by.get(st['tsid'])
    want(s is not None, f"session {st['tsid']} not listed: {sorted(by)}")
    if not s:
        continue
    want(s['peer'] == f"10.10.0.1:{st['port']}", f"peer {s['peer']}, want port {st['port']}")
    want(s['transport'] == st['transport'], f"transport {s['transport']}")
    want(s['ipv4'] == st['ip4'] and s['ipv6'] is None, f"inner {s['ipv4']} {s['ipv6']}")
    want(s['rx_packets'] == st['echoes'] and s['tx_packets'] == st['echoes'],
         f"packets rx {s['rx_packets']} tx {s['tx_packets']}, want {st['echoes']}")
    want(s['rx_bytes'] > 28 * s['rx_packets'] and s['tx_bytes'] > s['rx_bytes'],
         f"bytes rx {s['rx_bytes']} tx {s['tx_bytes']}")
    want(0 <= s['age_secs'] < 30, f"age {s['age_secs']}")
    if dtte:
        want(s['dtte'] == 'up' and s['encrypted'] and s['encrypted']['tsid'] == st['enc']
             and s['encrypted']['transport'] == 'tls', f"encrypted tunnel: {s['dtte']} {s['encrypted']}")
    else:
        want(s['dtte'] == 'available' and s['encrypted'] is None, f"dtte {s['dtte']}")
want(len(doc['sessions']) == 2, f"{len(doc['sessions'])} sessions listed")
sys.exit(0 if ok else 1)
PY
out=$(ctl --sessions) || check "--sessions failed"
log "$out"
echo "$out" | grep -q "^$A  10.10.0.1:[0-9]* *tcp .*10.100.0.* up " || check "text: no row for $A"
echo "$out" | grep -q "^$B  10.10.0.1:[0-9]* *udp " || check "text: no row for $B"
ctl --stats -j | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["sessions"] == 2 and d["encrypted_tunnels"] == 1, d' ||
	check "--stats -j is not the JSON of 2 sessions"

# --disconnect: the stream client sees the server close; the session is gone.
closed=$(tscfd_stat tunnels_closed)
ctl --disconnect "$A" > "$TMPD/disc.out" 2>&1 || check "--disconnect $A: $(cat "$TMPD/disc.out")"
wait $a || check "client a: $(cat "$TMPD/a.out")"
grep -q '"ended": "closed by the server"' "$TMPD/a.out" || check "client a was not closed: $(cat "$TMPD/a.out")"
expect_eq "tunnels closed (clear and encrypted)" "$(tscfd_stat tunnels_closed)" $((closed + 2))
expect_eq "sessions left" "$(tscfd_stat sessions)" 1
grep -q "tunnel $A peer 10.10.0.1:[0-9]*: disconnected by the administrator" "$TMPD/tscfd.log" ||
	check "no log line for the disconnect"
ctl --sessions -j | grep -q "\"$A\"" && check "$A still listed"
ctl --disconnect "$A" 2>"$TMPD/err" && check "a second --disconnect $A succeeded"
grep -q "no tunnel $A" "$TMPD/err" || check "unknown TSID: $(cat "$TMPD/err")"
rc=0; ctl --disconnect xyz 2>"$TMPD/err" || rc=$?
[ $rc -ne 0 ] && grep -q "not a TSID" "$TMPD/err" || check "bad TSID: rc $rc $(cat "$TMPD/err")"

# The control socket: 0600, owned by the service user (root here), and
# a user who is neither is refused even if the mode were wider.
mode=$(stat -c %a "$TMPD/tscfd.sock")
expect_eq "control socket mode" "$mode" 600
chmod 666 "$TMPD/tscfd.sock"
chmod 755 "$TMPD"
ip netns exec "$SRV" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$TSCFD" -s "$TMPD/tscfd.sock" --disconnect "$B" > "$TMPD/nobody.out" 2>&1 &&
	check "nobody could disconnect: $(cat "$TMPD/nobody.out")"
expect_eq "sessions after nobody's attempt" "$(tscfd_stat sessions)" 1
grep -q "neither root nor tscfd's" "$TMPD/tscfd.log" || check "no log line for the refused user"
kill $b 2>/dev/null
checks_done
echo ok
