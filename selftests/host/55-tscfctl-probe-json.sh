#!/bin/sh
# probe -j against tscfd on the host: one JSON document through the
# shared writer (clear tunnel, DTTE grant, encrypted tunnel), also when
# DTTE is unavailable; SSLKEYLOGFILE writes the TLS key log and says so at
# warning level (silenced by --log-level err).
. "$TSCF_TOP/selftests/lib.sh"
CTL="$TSCF_TOP/tools/tscfctl"
[ -x "$CTL" ] || fail "tools/tscfctl not built"
tscfd_topology probej DTTE

for tr in tcp udp; do
	ip netns exec "$UE" "$CTL" probe server 10.10.0.2 port 4000 transport $tr ca "$TMPD/ca.pem" -j \
		> "$TMPD/probe-$tr.json" 2> "$TMPD/probe-$tr.err" || fail "probe -j over $tr: $(cat "$TMPD/probe-$tr.err")"
	log "$(cat "$TMPD/probe-$tr.json")"
	python3 - "$TMPD/probe-$tr.json" $tr <<'PY' || check "$tr: probe -j document: $(cat "$TMPD/probe-$tr.json")"
import json, re, sys
text = open(sys.argv[1]).read()
assert text.count("\n") == 1, "one document, one line"
d = json.loads(text)
c = d["clear"]
assert c["transport"] == sys.argv[2], c
assert re.fullmatch("[0-9a-f]{16}", c["tsid"]), c
assert c["internal_ipv4"].startswith("10.100.0.") and c["prefix_len"] == 16, c
assert isinstance(c["keepalive"], int), c
t = d["dtte"]
assert t["granted"] is True and t["transport"] == "tls", t
assert t["address"] == "10.10.0.2" and t["port"] == 4001, t
assert t["protocol"] == "TLSv1.2" and t["cipher"] == "ECDHE-RSA-AES128-GCM-SHA256", t
assert isinstance(t["ktls_tx"], bool) and isinstance(t["ktls_rx"], bool), t
e = d["encrypted"]
assert re.fullmatch("[0-9a-f]{16}", e["tsid"]) and e["tsid"] != c["tsid"], e
PY
done

# -j before the command works the same.
ip netns exec "$UE" "$CTL" -j probe server 10.10.0.2 port 4000 transport tcp ca "$TMPD/ca.pem" |
	python3 -c 'import json, sys; assert json.load(sys.stdin)["dtte"]["granted"]' || check "-j before probe"

# SSLKEYLOGFILE: lab captures.
SSLKEYLOGFILE="$TMPD/keys.log" ip netns exec "$UE" "$CTL" probe server 10.10.0.2 port 4000 \
	transport tcp ca "$TMPD/ca.pem" > /dev/null 2> "$TMPD/keylog.err" || check "probe with SSLKEYLOGFILE"
grep -q "SSLKEYLOGFILE is set: writing TLS/DTLS session keys to $TMPD/keys.log" "$TMPD/keylog.err" ||
	check "no warning about SSLKEYLOGFILE: $(cat "$TMPD/keylog.err")"
grep -q '^CLIENT_RANDOM [0-9a-f]\{64\} [0-9a-f]\{96\}$' "$TMPD/keys.log" ||
	check "no key log line: $(cat "$TMPD/keys.log" 2>&1)"
expect_eq "key log mode" "$(stat -c %a "$TMPD/keys.log")" 600
SSLKEYLOGFILE="$TMPD/keys2.log" ip netns exec "$UE" "$CTL" --log-level err probe server 10.10.0.2 \
	port 4000 transport tcp ca "$TMPD/ca.pem" > /dev/null 2> "$TMPD/quiet.err" || check "quiet probe"
[ -s "$TMPD/quiet.err" ] && check "--log-level err printed a warning: $(cat "$TMPD/quiet.err")"
[ -s "$TMPD/keys2.log" ] || check "no key log with --log-level err"
ip netns exec "$UE" "$CTL" probe server 10.10.0.2 port 4000 transport tcp ca "$TMPD/ca.pem" \
	> /dev/null 2> "$TMPD/nokeylog.err" || check "probe without SSLKEYLOGFILE"
grep -q SSLKEYLOGFILE "$TMPD/nokeylog.err" && check "warned without SSLKEYLOGFILE"

# DTTE not offered: still one JSON document, with the reason.
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null
tscfd_conf "$TMPD/tscfd.conf" "$TMPD" ""
ip netns exec "$SRV" "$TSCFD" -c "$TMPD/tscfd.conf" > "$TMPD/tscfd2.log" 2>&1 &
TSCFD_PID=$!
at_exit "kill $TSCFD_PID 2>/dev/null"
wait_for 10 grep -q ready "$TMPD/tscfd2.log" || fail "restart"
ip netns exec "$UE" "$CTL" probe server 10.10.0.2 port 4000 transport udp -j > "$TMPD/nodtte.json" ||
	check "probe -j without DTTE"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["dtte"]["granted"] is False, d
assert "SERVICE_UNAVAILABLE" in d["dtte"]["error"], d
assert "encrypted" not in d, d' "$TMPD/nodtte.json" || check "probe -j without DTTE: $(cat "$TMPD/nodtte.json")"
checks_done
echo ok
