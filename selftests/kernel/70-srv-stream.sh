#!/bin/sh
# A server device's stream peers (clear TCP sessions in the kernel),
# through the genl API alone: selftests/lib/srv_stream.py plays tscfd and
# the client and checks the contract of docs/SERVER.md ("Kernel data
# path"): rx-rest, the fast path both ways, control frames and forged
# sources to tscfd as srv-frame events, srv-peer-send in order, a slow
# peer, the ends of a stream (FIN, garbage, no listener, delete, device
# gone), 200 frames sent just before a delete that must all arrive
# (a delete once dropped what was still queued: a RELEASE_RESP lost in
# CI) and the refusals.  Here the super-frame it sends is forwarded to
# SVC through a veth without offloads, where a packet socket checks that
# it left as MTU-sized segments with valid TCP checksums and consecutive
# sequence numbers, the payload whole.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
SST=$(tscf_netns sst)
SVC=$(tscf_netns svc)
ip -n "$SST" tuntap add dev sstpunt mode tun
ip -n "$SST" link set sstpunt up
ip -n "$SST" link add vA type veth peer name vB netns "$SVC"
ip -n "$SST" addr add 10.98.0.1/24 dev vA
ip -n "$SST" link set vA up
ip -n "$SVC" addr add 10.98.0.5/24 dev vB
ip -n "$SVC" link set vB up
ip -n "$SVC" route add 10.99.0.0/24 via 10.98.0.1
# Segmentation and checksums in software before the veth: SVC sees wire bytes.
ip netns exec "$SST" ethtool -K vA tso off gso off tx off > /dev/null
ip netns exec "$SST" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$SST" sysctl -qw net.ipv4.conf.all.rp_filter=0

# The segments of the super-frame, as SVC's vB receives them.
ip netns exec "$SVC" python3 -c '
import json, socket, struct, sys, time
def csum(d):
    if len(d) % 2: d += b"\0"
    s = sum(struct.unpack("!%dH" % (len(d) // 2), d))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
p = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
p.bind(("vB", 0))
p.settimeout(1)
segs, end = [], time.time() + 40
while time.time() < end:
    try:
        d = p.recv(70000)
    except socket.timeout:
        if segs: break
        continue
    if d[9] != 6 or d[12:16] != socket.inet_aton("10.99.0.2"): continue
    ihl = (d[0] & 15) * 4
    tcp = d[ihl:]
    sport, _, seq = struct.unpack("!HHI", tcp[:8])
    if sport != 4000: continue
    ph = d[12:20] + struct.pack("!BBH", 0, 6, len(tcp))
    segs.append(dict(len=len(d), seq=seq, ok=csum(ph + tcp) == 0 and csum(d[:ihl]) == 0,
                     payload=tcp[(tcp[12] >> 4) * 4:].hex()))
print(json.dumps(segs))
' > "$TMPD/segs" &
sniffer=$!
sleep 1

rc=0
ip netns exec "$SST" python3 "$TSCF_TOP/selftests/lib/srv_stream.py" sstpunt 10.98.0.5 > "$TMPD/out" 2>&1 || rc=$?
cat "$TMPD/out"
wait "$sniffer" || true
[ $rc -eq 0 ] || fail "srv_stream.py: $(grep -c FAIL "$TMPD/out") checks failed"

python3 - "$TMPD/segs" <<'PY' || fail "the super-frame's segments: $(cat "$TMPD/segs")"
import json, sys
segs = json.load(open(sys.argv[1]))
payload = bytes(range(256)) * 20
assert len(segs) >= 3, f'{len(segs)} segments'
seq, got = 1000, b''
for s in segs:
    assert s['ok'], f'bad checksum in {s}'
    assert s['seq'] == seq, f'seq {s["seq"]}, want {seq}'
    p = bytes.fromhex(s['payload'])
    seq += len(p)
    got += p
assert got == payload, 'the payload is not the one sent'
print(f'# {len(segs)} segments of at most {max(s["len"] for s in segs)} bytes, checksums valid, payload whole')
PY
log "stream peers: $(grep -c '^ok:' "$TMPD/out") checks passed"
