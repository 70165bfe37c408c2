#!/bin/sh
# A server device's encrypted stream peers (a session's TLS tunnel, kTLS
# both ways, set up here with fixed keys on both ends: no TLS library),
# through the genl API alone: selftests/lib/srv_enc_stream.py plays tscfd
# and the client and checks docs/SERVER.md "Encrypted sessions": the
# refusals (each leaving the socket to its owner), receive (whole packets
# from the internal address up to SVC behind a veth, the rest and
# everything behind an unhandled event to tscfd as numbered srv-frame
# events), return routing by flows (each packet read where it went: the
# encrypted client through kTLS, a fast clear peer's client, the punt TUN
# the script makes itself), a flow ahead of a fast clear peer, a set
# replaced and emptied, srv-peer-get's encrypted flag and the delete.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
SST=$(tscf_netns sst)
SVC=$(tscf_netns svc)
ip -n "$SST" link add vA type veth peer name vB netns "$SVC"
ip -n "$SST" addr add 10.98.0.1/24 dev vA
ip -n "$SST" link set vA up
ip -n "$SVC" addr add 10.98.0.5/24 dev vB
ip -n "$SVC" link set vB up
ip -n "$SVC" route add 10.99.0.0/24 via 10.98.0.1
ip netns exec "$SST" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$SST" sysctl -qw net.ipv4.conf.all.rp_filter=0

rc=0
ip netns exec "$SST" python3 "$TSCF_TOP/selftests/lib/srv_enc_stream.py" \
	sstpunt "$SVC" 10.98.0.5 > "$TMPD/out" 2>&1 || rc=$?
cat "$TMPD/out"
[ $rc -eq 0 ] || fail "srv_enc_stream.py: $(grep -c FAIL "$TMPD/out") checks failed"
log "encrypted stream peers: $(grep -c '^ok:' "$TMPD/out") checks passed"
