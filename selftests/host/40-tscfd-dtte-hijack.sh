#!/bin/sh
# Issue 9 item 7: the encrypted tunnel is bound to the clear session by a
# secret that never travels in clear.  Another client behind the same
# address that saw the clear SERVICE_REQ/RESP (TSIDs, commitment) is
# refused, with or without a guessed secret, also when it injects its own
# commitment on the clear tunnel; the owner gets in.  The reservation
# lifetime is told to the client.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology hijack DTTE
for tr in udp tcp; do
	out=$(ip netns exec "$UE" $TSCF_CLIENT hijack --transport $tr --addr 10.10.0.2 \
		--port 4000 --ca "$TMPD/ca.pem") || fail "hijack over $tr: $(tail -5 "$TMPD/tscfd.log")"
	log "$tr: $out"
done
[ "$(tscfd_stat refused_dtte_binding)" -ge 10 ] || fail "refused hijacks not counted"
grep -q 'encrypted tunnel refused: no proof of the DTTE secret' "$TMPD/tscfd.log" ||
	fail "no log line for a refused hijack"
echo ok
