#!/bin/sh
# An interface on an IPv6 address: all four listeners, a clear tunnel over
# TCP and UDP, DTTE with TLS over IPv6.
. "$TSCF_TOP/selftests/lib.sh"
CTL="$TSCF_TOP/tools/tscfctl"
tscfd_topology v6 DTTE
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null
ip -n "$UE" addr add fd00:10::1/64 dev veth-ue nodad
ip -n "$SRV" addr add fd00:10::2/64 dev veth-srv nodad
(cd "$TMPD" && openssl req -newkey rsa:2048 -nodes -subj /CN=v6 -keyout v6.key -out v6.csr 2>/dev/null &&
	printf 'subjectAltName=IP:fd00:10::2\n' > v6.ext &&
	openssl x509 -req -in v6.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile v6.ext -out v6.pem 2>/dev/null) || fail "v6 certificate"
cat > "$TMPD/v6.conf" <<CONF
tun-name tscfs0
control-socket $TMPD/tscfd.sock
tscf-interface
    address fd00:10::2
    port 4000
    certificate $TMPD/v6.pem
    private-key $TMPD/v6.key
    local-address-pool-v4 10.100.0.0/16
    local-address-pool-v6 fd00:100::/64
    assigned-services DTTE
CONF
ip netns exec "$SRV" "$TSCFD" -c "$TMPD/v6.conf" > "$TMPD/v6.log" 2>&1 &
TSCFD_PID=$!
at_exit "kill $TSCFD_PID 2>/dev/null"
wait_for 10 grep -q ready "$TMPD/v6.log" || fail "tscfd on IPv6: $(cat "$TMPD/v6.log")"
for proto in tcp udp; do
	ip netns exec "$SRV" ss -Hln -A "$proto" | grep -q '\[fd00:10::2\]:4000' || fail "no $proto listener on [fd00:10::2]:4000"
	ip netns exec "$SRV" ss -Hln -A "$proto" | grep -q '\[fd00:10::2\]:4001' || fail "no $proto listener on [fd00:10::2]:4001"
	out=$(ip netns exec "$UE" "$CTL" probe server fd00:10::2 port 4000 transport $proto ca "$TMPD/ca.pem" 2>&1) ||
		fail "probe over IPv6 $proto: $out"
	echo "$out" | grep -q 'DTTE: granted, TLS to fd00:10::2 port 4001' || fail "DTTE over IPv6: $out"
done
echo ok
