#!/bin/sh
# Listener handles are sized to the configuration: 16 TLS interfaces (four
# listeners each) overflowed a fixed table of 48 from the 13th on (a
# global-buffer-overflow under make check-host-asan).  Every interface,
# the last one included, serves clear and encrypted tunnels.  Each has a
# pool of its own (overlapping pools would hand one address out twice:
# tscfd -t and the start refuse them).
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology ifaces DTTE
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
{
	sed -n '/^tscf-interface/q;p' "$TMPD/tscfd.conf"
	for i in $(seq 0 15); do
		cat <<CONF
tscf-interface
    address 10.10.0.2
    port $((4000 + 10 * i))
    certificate $TMPD/server.pem
    private-key $TMPD/server.key
    local-address-pool-v4 10.100.$((16 * i)).0/20
    assigned-services DTTE
CONF
	done
} > "$TMPD/many.conf"
mv "$TMPD/many.conf" "$TMPD/tscfd.conf"
tscfd_start
for port in 4000 4120 4150; do
	ip netns exec "$UE" $TSCF_CLIENT dtte --addr 10.10.0.2 --port $port --ca "$TMPD/ca.pem" \
		--expect-prefix 10.100. \
		> /dev/null || fail "interface on port $port: $(tail -5 "$TMPD/tscfd.log")"
done
kill -0 "$TSCFD_PID" || fail "tscfd died"
[ "$(grep -c 'tls+dtls N+1' "$TMPD/tscfd.log")" -ge 16 ] || fail "not every interface listens"
echo ok
