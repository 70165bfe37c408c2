#!/bin/sh
# DTLS on port N+1: the service response offers it beside TLS; a client
# completes the cookie exchange and handshake (certificate verified) and
# runs the encrypted configuration exchange over it; openssl s_client
# -dtls completes a handshake too; DTLS garbage is counted.
. "$TSCF_TOP/selftests/lib.sh"
CTL="$TSCF_TOP/tools/tscfctl"
tscfd_topology dtls DTTE

out=$(ip netns exec "$UE" timeout 20 "$CTL" probe server 10.10.0.2 port 4000 transport udp \
	ca "$TMPD/ca.pem" enc dtls 2>&1) || fail "probe over DTLS: $out; $(tail -3 "$TMPD/tscfd.log")"
log "$out"
echo "$out" | grep -q 'DTTE: granted, DTLS to 10.10.0.2 port 4001, DTLSv1.2' || fail "no DTLS line"
echo "$out" | grep -q 'encrypted tunnel: TSID' || fail "no encrypted configuration over DTLS"
grep -q 'dtls peer 10.10.0.1:[0-9]* up: encrypted (DTTE)' "$TMPD/tscfd.log" || fail "no DTLS tunnel log line"

out=$(echo | ip netns exec "$UE" timeout 10 openssl s_client -dtls -connect 10.10.0.2:4001 \
	-CAfile "$TMPD/ca.pem" -verify_return_error 2>&1 || true)
echo "$out" | grep -q 'Protocol  *: DTLSv1.2' || fail "s_client -dtls: no DTLS 1.2 session: $out"
echo "$out" | grep -q 'Verify return code: 0 (ok)' || fail "s_client -dtls did not verify"

# A DTLS client's own socket has udp-socket-buffer's room (default 4096 KB;
# the kernel reports it doubled), as the clear UDP socket has: the default
# 208 KB would lose a fast flow's records.
(sleep 8 | ip netns exec "$UE" timeout 15 openssl s_client -dtls -connect 10.10.0.2:4001 \
	-CAfile "$TMPD/ca.pem" > "$TMPD/sclient.out" 2>&1) &
sclient=$!
at_exit "kill $sclient 2>/dev/null"
client_sock() { ip netns exec "$SRV" ss -Huanm 'sport = :4001 and dst 10.10.0.1'; }
wait_for 10 sh -c "ip netns exec $SRV ss -Huanm 'sport = :4001 and dst 10.10.0.1' | grep -q skmem" ||
	fail "no DTLS client socket: $(cat "$TMPD/sclient.out")"
rb=$(client_sock | grep -o 'rb[0-9]*' | head -n 1 | tr -d rb)
log "DTLS client socket: $(client_sock | grep -o 'skmem:([^)]*)')"
[ "${rb:-0}" -ge $((2 * 4096 * 1024)) ] || fail "DTLS client socket's receive buffer is ${rb:-?} bytes"
wait $sclient 2>/dev/null || true

before=$(tscfd_stat drop_tls)
ip netns exec "$UE" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(b"\x16\xfe\xfd" + b"junk" * 10, ("10.10.0.2", 4001))'
wait_for 5 sh -c "[ \$(ip netns exec $SRV $TSCFD --stats -s $TMPD/tscfd.sock | awk '/^drop_tls:/ { print \$2 }') -gt $before ]" ||
	fail "DTLS garbage not counted"
ip netns exec "$UE" "$CTL" probe server 10.10.0.2 port 4000 transport tcp ca "$TMPD/ca.pem" > /dev/null ||
	fail "server stopped serving after DTLS garbage"
echo ok
