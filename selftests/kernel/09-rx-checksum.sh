#!/bin/sh
# Inner packets are marked checksum-verified exactly where the outer layer
# verified their bytes.  The fake server injects an inner UDP packet whose
# own checksum is wrong, then a correct one:
#   - over UDP with an outer checksum, over TCP and over kTLS the outer
#     layer checked every byte, so the inner stack takes both (it does not
#     checksum them again);
#   - over UDP with a zero outer checksum (IPv4 "none") nothing checked the
#     bytes: the inner stack verifies, drops the bad one (InCsumErrors)
#     and takes only the good one.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology rc
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

# inner_hex DST PAYLOAD BAD: an inner UDP packet to DST:6000, hex; BAD=1
# spoils its UDP checksum.
inner_hex() {
	python3 - "$1" "$2" "$3" <<'PY'
import os, sys
sys.path.insert(0, os.environ['TSCF_TOP'] + '/selftests/lib')
import tunnel_peer
dst, payload, bad = sys.argv[1], sys.argv[2].encode(), sys.argv[3] == '1'
p = bytearray(tunnel_peer.udp4_packet('10.100.0.1' if dst == '10.100.0.2' else '10.101.0.1',
                                      dst, 6001, 6000, payload))
if bad:
    p[26] ^= 0x5a
print(p.hex())
PY
}

csum_errors() {
	ip netns exec "$UE" awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $8 }' /proc/net/snmp
}

# run_case NAME TRANSPORT DEV LOCAL DST PORT WANT [PEER-OPTS]: WANT is what
# the listener on LOCAL:6000 receives, sorted.
run_case() {
	name=$1 transport=$2 dev=$3 local=$4 dst=$5 port=$6 want=$7
	shift 7
	log "== $name"
	ip netns exec "$UE" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 6000))
print("ready", flush=True)
s.settimeout(60)        # the tunnel comes up meanwhile (slow under TCG)
got = []
try:
    while len(got) < int(sys.argv[2]):
        got.append(s.recv(100).decode())
        s.settimeout(3)     # then what else arrives arrives together
except socket.timeout:
    pass
# Which packets came, not their order: two datagrams may take two CPUs
# (and two backlogs) on the way in.
print("got", " ".join(sorted(got)), flush=True)' "$local" 2 > "$tmp/lis-$name" &
	lis=$!
	wait_for 5 grep -q ready "$tmp/lis-$name" || fail "$name: listener"
	ip netns exec "$SRV" $TSCF_PEER server --transport "$transport" --addr 10.10.0.2 \
		--port "$port" "$@" --inject "$(inner_hex "$local" bad-$name 1)" \
		"$(inner_hex "$local" good-$name 0)" > "$tmp/srv-$name" 2>&1 &
	srv=$!
	at_exit "kill $srv 2>/dev/null"
	wait_for 5 grep -q listening "$tmp/srv-$name" || fail "$name: server"
	before=$(csum_errors)
	ip netns exec "$UE" $TSCF_PEER client "$dev" --transport "$transport" \
		--addr 10.10.0.2 --port "$port" --tsid 0x9 --internal 10.100.0.2 ||
		fail "$name: attach"
	# A UDP server injects when the first datagram comes.
	[ "$transport" = udp ] && udp_echo "$UE" "$dst" 7000 "hi" > /dev/null
	wait $lis
	expect_eq "$name: received" "$(cat "$tmp/lis-$name")" "$(printf 'ready\ngot %s' "$want")"
	after=$(csum_errors)
	if [ "$want" = "good-$name" ]; then
		[ "$after" -gt "$before" ] || fail "$name: InCsumErrors did not grow ($before, $after)"
	else
		expect_eq "$name: InCsumErrors" "$after" "$before"
	fi
	ip netns exec "$UE" $TSCF_NL detach "$dev" || fail "$name: detach"
	kill $srv; wait $srv 2>/dev/null || true
}

run_case udp udp tscf0 10.100.0.2 10.100.0.1 4950 "bad-udp good-udp"
run_case udp-nocsum udp tscf0 10.100.0.2 10.100.0.1 4951 "good-udp-nocsum" --no-udp-csum
run_case tcp tcp tscf0 10.100.0.2 10.100.0.1 4952 "bad-tcp good-tcp"
run_case ktls ktls tscf0s 10.101.0.2 10.101.0.1 4953 "bad-ktls good-ktls"
echo ok
