#!/bin/sh
# A second "tscfctl up" on a device whose helper is working refuses up
# front (exit 1, "already up", naming the helper) and leaves the live
# session exactly as it was: addresses (IPv4 and IPv6), routes, the
# tunnel and its TSID, the helper, the server's tunnel, and traffic.
# "show" prints the tunnel's IPv6 address and the helper's state.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
TSCFD_POOL6=fd00:100::/64
tscfd_topology secondup DTTE
ip -n "$UE" link add tscf0 type tscf
tscfctl_up udp
wait_for 10 sh -c "ip -n $UE -6 addr show dev tscf0 | grep -q 'inet6 fd00:100::2/64'" ||
	fail "no internal IPv6 address: $(cat "$TMPD/ctl.log")"

snapshot() {
	ip -n "$UE" -o addr show dev tscf0 | awk '{ print $3, $4 }' | sort
	ip -n "$UE" route show dev tscf0 | sort
	ip -n "$UE" -6 route show dev tscf0 | grep -v '^fe80' | sort
	ip netns exec "$UE" $TSCF_NL dev tscf0 | python3 -c '
import json, sys
d = json.load(sys.stdin)
t = d.get("tunnel") or {}
print("tunnel", t.get("tsid"), t.get("internal_ipv4"), t.get("internal_ipv6"))'
}
before=$(snapshot)
log "before: $before"
echo "$before" | grep -q '^tunnel [0-9]' || fail "no tunnel before the second up: $before"

rc=0
timeout 30 ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport udp \
	ca "$TMPD/ca.pem" > "$TMPD/second.log" 2>&1 || rc=$?
log "second up: rc $rc: $(cat "$TMPD/second.log")"
expect_eq "second up exit status" "$rc" 1
grep -q "tscf0: already up: its helper is pid $CTL_PID" "$TMPD/second.log" ||
	check "no clear refusal: $(cat "$TMPD/second.log")"
after=$(snapshot)
[ "$after" = "$before" ] || check "the live session changed: before
$before
after
$after"
kill -0 "$CTL_PID" 2>/dev/null || check "the first helper is gone"
expect_eq "server tunnels" "$(tscfd_stat tunnels)" 1
ip netns exec "$UE" ping -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || check "ping after the second up"
ip netns exec "$UE" ping -6 -c 2 -i 0.2 -W 2 fd00:100::1 > /dev/null || check "ping6 after the second up"
# Nor does a second helper under another pidfile get in.
rc=0
timeout 30 ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport udp \
	ca "$TMPD/ca.pem" --pidfile "$TMPD/other.pid" > "$TMPD/third.log" 2>&1 || rc=$?
expect_eq "second up with --pidfile exit status" "$rc" 1
[ -e "$TMPD/other.pid" ] && check "the refused helper left its pidfile"

# show: the IPv6 address, and what the helper says about itself.
out=$(ip netns exec "$UE" "$CTL" show tscf0)
log "$out"
echo "$out" | grep -q 'tunnel: up, TSID [0-9a-f]*, udp .* internal 10\.100\.0\.[0-9]* fd00:100::2$' ||
	check "show lacks the IPv6 address: $out"
echo "$out" | grep -q "helper: pid $CTL_PID, up, encrypted down, last answer [0-9]*s ago (keepalive 10s)" ||
	check "show lacks the helper's state: $out"
ip netns exec "$UE" "$CTL" show tscf0 -j > "$TMPD/show.json" || check "show -j"
python3 - "$TMPD/show.json" "$CTL_PID" <<'PY' || check "show -j fields: $(cat "$TMPD/show.json")"
import json, sys
d = json.load(open(sys.argv[1]))
devs = {x["ifname"]: x for x in d["devices"]}
assert set(devs) == {"tscf0", "tscf0s"}, devs.keys()
t = devs["tscf0"]["tunnel"]
assert t["internal_ipv6"] == "fd00:100::2", t
h = devs["tscf0"]["helper"]
assert h["pid"] == int(sys.argv[2]), h
assert h["state"] == "up" and h["last_error"] is None, h
assert 0 <= h["keepalive_age"] <= 30, h
PY
checks_done
echo ok
