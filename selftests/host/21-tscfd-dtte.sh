#!/bin/sh
# DTTE: a service request on a clear tunnel reserves an encrypted tunnel on
# port N+1 (TLS, certificate verified), which gets the same address; flows
# bound to it get their return traffic there, encrypted-only never in
# clear; anti-spoofing; a wrong TSID ends the tunnel.  Without DTTE in
# assigned-services the answer is SERVICE_UNAVAILABLE.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology dtte DTTE

for tr in tcp udp; do
	out=$(ip netns exec "$UE" $TSCF_CLIENT dtte --flows --transport $tr --addr 10.10.0.2 \
		--port 4000 --ca "$TMPD/ca.pem") || fail "dtte over $tr: $(tail -5 "$TMPD/tscfd.log")"
	log "$tr: $out"
done
expect_eq "granted" "$(tscfd_stat dtte_granted)" 2
[ "$(tscfd_stat drop_spoofed)" -ge 2 ] || fail "spoofed packets not counted"
[ "$(tscfd_stat drop_enc_only_clear)" -ge 2 ] || fail "encrypted-only over clear not counted"
[ "$(tscfd_stat drop_no_tunnel)" -ge 2 ] || fail "encrypted-only replies without tunnel not counted"
[ "$(tscfd_stat drop_wrong_tsid)" -ge 1 ] || fail "wrong TSID not counted"
grep -q 'DTTE granted' "$TMPD/tscfd.log" || fail "no DTTE log line"

# openssl s_client completes a handshake on N+1 and verifies the server.
# (Its exit status says how the session ended, which races with the server
# closing an idle tunnel: judge the handshake by its output.)
out=$(echo | ip netns exec "$UE" timeout 10 openssl s_client -connect 10.10.0.2:4001 \
	-CAfile "$TMPD/ca.pem" -verify_return_error -tls1_2 2>&1 || true)
echo "$out" | grep -q 'Protocol  *: TLSv1.2' || fail "s_client: no TLS 1.2 session: $out"
echo "$out" | grep -q 'Verify return code: 0 (ok)' || fail "s_client did not verify: $out"

# A client with another CA refuses the server.
mkdir "$TMPD/other" && make_certs "$TMPD/other"
ip netns exec "$UE" $TSCF_CLIENT dtte --transport tcp --addr 10.10.0.2 --port 4000 \
	--ca "$TMPD/other/ca.pem" 2>"$TMPD/err" && fail "wrong CA accepted"
grep -q 'CERTIFICATE_VERIFY_FAILED' "$TMPD/err" || fail "wrong CA error: $(cat "$TMPD/err")"
echo ok
