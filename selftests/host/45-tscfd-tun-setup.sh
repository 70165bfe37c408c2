#!/bin/sh
# Issue 10: tscfd configures its own TUN device: the first address of each
# pool (IPv4 and IPv6, with the pool's prefix length), the configured mtu
# (also told to clients in CONFIG_RESP) and the link up, with no "ip"
# command from the admin; a client's inner packets then reach a service
# bound to the pool's first address.  "tun-configure no" leaves the device
# alone.
. "$TSCF_TOP/selftests/lib.sh"
[ -x "$TSCFD" ] || fail "server/tscfd not built"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
ue_srv_link tunsetup
make_certs "$TMPD"
CHECKS_FAILED=0
TSCFD_POOL6=fd00:100::/64 tscfd_conf "$TMPD/tscfd.conf" "$TMPD" ""
echo "mtu 1300" >> "$TMPD/tscfd.conf"

# start: tscfd in SRV with $TMPD/tscfd.conf, and nothing else.
start() {
	ip netns exec "$SRV" "$TSCFD" -c "$TMPD/tscfd.conf" > "$TMPD/tscfd.log" 2>&1 &
	TSCFD_PID=$!
	at_exit "kill $TSCFD_PID 2>/dev/null"
	wait_for 10 grep -q ready "$TMPD/tscfd.log" || fail "tscfd did not start: $(cat "$TMPD/tscfd.log")"
}

start
ip -n "$SRV" -j addr show dev tscfs0 > "$TMPD/addr.json"
python3 - "$TMPD/addr.json" <<'PY' || check "TUN device not configured: $(ip -n "$SRV" addr show dev tscfs0)"
import json, sys
d = json.load(open(sys.argv[1]))[0]
addrs = {(a['local'], a['prefixlen']) for a in d['addr_info'] if a.get('scope') == 'global'}
ok = True
for want in [('10.100.0.1', 16), ('fd00:100::1', 64)]:
    if want not in addrs:
        print(f"missing {want[0]}/{want[1]}: have {sorted(addrs)}"); ok = False
if d['mtu'] != 1300:
    print(f"mtu {d['mtu']}, want 1300"); ok = False
if 'UP' not in d['flags']:
    print(f"flags {d['flags']}: not up"); ok = False
sys.exit(0 if ok else 1)
PY

# The echo service binds the pool's first address: it exists only if tscfd set it.
ip netns exec "$SRV" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.100.0.1", 7000))
while True:
    data, peer = s.recvfrom(65536)
    s.sendto(b"echo:" + data, peer)' > "$TMPD/echo.log" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 20 sh -c "ip netns exec $SRV ss -Hlun | grep -q '10.100.0.1:7000'" ||
	check "the echo service cannot bind 10.100.0.1: $(cat "$TMPD/echo.log")"
out=$(ip netns exec "$UE" python3 "$TSCF_TOP/selftests/lib/tscfd_ops_client.py" hold \
	--addr 10.10.0.2 --port 4000 --transport udp --state "$TMPD/state" --packets 3 --seconds 0) ||
	check "client: $out"
log "$out"
echo "$out" | grep -q '"echoes": 3' || check "inner packets did not reach the service: $out"
echo "$out" | grep -q '"mtu": 1300' || check "CONFIG_RESP does not tell mtu 1300: $out"

# tun-configure no: the device is left as created (down, no address).
kill "$TSCFD_PID"
wait_for 5 sh -c "! ip -n $SRV link show tscfs0 >/dev/null 2>&1" || check "the TUN device stayed after exit"
echo "tun-configure no" >> "$TMPD/tscfd.conf"
start
ip -n "$SRV" addr show dev tscfs0 | grep -q 'inet 10.100.0.1' && check "tun-configure no: address set anyway"
ip -n "$SRV" link show tscfs0 | grep -q ',UP' && check "tun-configure no: link set up anyway"
checks_done
echo ok
