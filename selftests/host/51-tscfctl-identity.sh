#!/bin/sh
# tscfctl verifies the encrypted tunnel as the server the user configured:
# the certificate against `server` (or `server-name`) with `ca` (no system
# store unless asked), and CONN_INFO, which travels in clear, may not send
# it to another address unless `allow-redirect`.  tscfd's
# advertise-address names the address CONN_INFO gives (NAT, wildcard).
. "$TSCF_TOP/selftests/lib.sh"
CTL="$TSCF_TOP/tools/tscfctl"
[ -x "$CTL" ] || fail "tools/tscfctl not built"
tscfd_topology ident DTTE

probe() {
	ip netns exec "$UE" "$CTL" probe server 10.10.0.2 port 4000 transport tcp "$@" 2>&1
}

# restart [SED-SCRIPT [CERT-NAME]]: tscfd again, its configuration edited.
restart() {
	kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null
	tscfd_conf "$TMPD/tscfd.conf" "$TMPD" DTTE
	[ -z "${1:-}" ] || sed -i "$1" "$TMPD/tscfd.conf"
	[ -z "${2:-}" ] || sed -i "s#$TMPD/server\.#$TMPD/$2.#" "$TMPD/tscfd.conf"
	tscfd_start || fail "tscfd: $(tail -3 "$TMPD/tscfd.log")"
}

# cert NAME SAN: a certificate from the test CA (a "publicly trusted" one).
cert() {
	(cd "$TMPD" && openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" \
		-out "$1.csr" 2>/dev/null && printf 'subjectAltName=%s\n' "$2" > "$1.ext" &&
		openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile "$1.ext" -out "$1.pem" 2>/dev/null) || fail "certificate $1"
}

out=$(probe ca "$TMPD/ca.pem") || fail "probe: $out"
echo "$out" | grep -q 'DTTE: granted, TLS to 10.10.0.2 port 4001' || fail "probe: $out"

# No CA: refused, and said so; the system store only on request.
out=$(probe) && fail "probe without a CA succeeded: $out"
echo "$out" | grep -q "the encrypted tunnel needs 'ca FILE'" || fail "no-CA message: $out"
out=$(probe system-ca) && fail "the system store trusted the test CA: $out"
echo "$out" | grep -q 'certificate verify failed for 10.10.0.2' || fail "system-ca message: $out"

# The name the user gave is the one verified.
cert named 'DNS:tscf.test,IP:10.10.0.2'
restart "" named
out=$(probe ca "$TMPD/ca.pem" server-name tscf.test) || fail "server-name tscf.test: $out"
out=$(probe ca "$TMPD/ca.pem" server-name other.test) && fail "a certificate for another name accepted: $out"
echo "$out" | grep -q 'certificate verify failed for other.test: hostname mismatch' || fail "mismatch message: $out"
cert othername 'DNS:other.test,IP:10.10.0.9'
restart "" othername
out=$(probe ca "$TMPD/ca.pem") && fail "a certificate for another address accepted: $out"
echo "$out" | grep -q 'certificate verify failed for 10.10.0.2: IP address mismatch' || fail "IP mismatch message: $out"

# A rewritten CONN_INFO (here: the server advertises the attacker) sends the
# client to 10.10.0.3, whose certificate is valid, for 10.10.0.3.
ip -n "$SRV" addr add 10.10.0.3/24 dev veth-srv
cert evil 'IP:10.10.0.3'
ip netns exec "$SRV" openssl s_server -quiet -accept 10.10.0.3:4001 -cert "$TMPD/evil.pem" \
	-key "$TMPD/evil.key" > /dev/null 2>&1 < /dev/null &
evil=$!
at_exit "kill $evil 2>/dev/null"
restart '/port 4000/a\    advertise-address 10.10.0.3'
out=$(probe ca "$TMPD/ca.pem") && fail "redirected to 10.10.0.3: $out"
echo "$out" | grep -q 'TLS to 10.10.0.3' && fail "TLS with the redirect target: $out"
echo "$out" | grep -q 'refused: the server named 10.10.0.3 for the encrypted tunnel, which is not 10.10.0.2' ||
	fail "redirect message: $out"
out=$(probe ca "$TMPD/ca.pem" allow-redirect) && fail "allow-redirect accepted another server's certificate: $out"
echo "$out" | grep -q 'certificate verify failed for 10.10.0.2: IP address mismatch' || fail "redirect verify message: $out"
kill "$evil"; wait "$evil" 2>/dev/null || true

# A wildcard bind needs advertise-address; with it, CONN_INFO names it.
tscfd_conf "$TMPD/wild.conf" "$TMPD" DTTE
sed -i 's/address 10.10.0.2/address 0.0.0.0/' "$TMPD/wild.conf"
out=$(ip netns exec "$SRV" timeout 5 "$TSCFD" -c "$TMPD/wild.conf" 2>&1) &&
	fail "wildcard address with DTTE and no advertise-address accepted"
echo "$out" | grep -q 'needs advertise-address' || fail "wildcard message: $out"
ip -n "$SRV" addr add 10.10.0.4/24 dev veth-srv
restart 's/address 10.10.0.2/address 0.0.0.0/; /port 4000/a\    advertise-address 10.10.0.4'
out=$(probe ca "$TMPD/ca.pem") && fail "redirect to 10.10.0.4 without allow-redirect: $out"
out=$(probe ca "$TMPD/ca.pem" allow-redirect) || fail "advertise-address with allow-redirect: $out"
echo "$out" | grep -q 'DTTE: granted, TLS to 10.10.0.4 port 4001' || fail "advertised address: $out"
echo ok
