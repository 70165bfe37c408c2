#!/bin/sh
# TLS on N+1: AEAD suites only (CBC and SHA-1 suites were accepted), for
# TLS and DTLS; and at most max-handshakes in flight: with a cap of 8, 20
# connections that never finish their handshake get 8 slots, the others
# wait in the kernel, and a real client gets through once they go.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology tlslimits DTTE
STRESS="python3 $TSCF_TOP/selftests/lib/tscfd_stress.py"

out=$(ip netns exec "$UE" $STRESS ciphers --addr 10.10.0.2 --port 4000 --ca "$TMPD/ca.pem") ||
	fail "TLS: $out"
log "TLS: $out"
dtls() {
	echo | ip netns exec "$UE" timeout 10 openssl s_client -dtls1_2 -cipher "$1" \
		-connect 10.10.0.2:4001 -CAfile "$TMPD/ca.pem" 2>&1
}
dtls ECDHE-RSA-AES128-SHA | grep -q 'Cipher is ECDHE-RSA-AES128-SHA' &&
	fail "DTLS with ECDHE-RSA-AES128-SHA accepted"
dtls ECDHE-RSA-AES128-GCM-SHA256 | grep -q 'Cipher is ECDHE-RSA-AES128-GCM-SHA256' ||
	fail "DTLS with AES-GCM refused: $(dtls ECDHE-RSA-AES128-GCM-SHA256 | tail -5)"
log "DTLS: CBC-SHA1 refused, AES-GCM accepted"

kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
echo "max-handshakes 8" >> "$TMPD/tscfd.conf"
tscfd_start
ip netns exec "$UE" $STRESS idle --addr 10.10.0.2 --port 4001 --count 20 --hold "$TMPD/go" \
	> "$TMPD/idle" 2>&1 &
idle=$!
wait_for 20 test -e "$TMPD/go.ready" || fail "idle: $(cat "$TMPD/idle")"
sleep 1
hs=$(tscfd_stat handshakes)
tunnels=$(tscfd_stat tunnels)
deferred=$(tscfd_stat handshakes_deferred)
log "20 silent TLS connections, max-handshakes 8: $hs handshakes, $tunnels tunnels, deferred $deferred"
expect_eq "handshakes in flight" "$hs" 8
expect_eq "tunnels" "$tunnels" 8
[ "$deferred" -ge 1 ] || fail "deferral not counted"
# A real client waits for a slot; the silent ones leave.
ip netns exec "$UE" $TSCF_CLIENT dtte --addr 10.10.0.2 --port 4000 --ca "$TMPD/ca.pem" \
	> "$TMPD/dtte" 2>&1 &
client=$!
sleep 1
touch "$TMPD/go"
wait $idle || fail "idle: $(cat "$TMPD/idle")"
wait $client || fail "client after the cap: $(cat "$TMPD/dtte")"
wait_for 5 tscfd_stat_is handshakes 0 || fail "handshakes left: $(tscfd_stat handshakes)"
echo ok
