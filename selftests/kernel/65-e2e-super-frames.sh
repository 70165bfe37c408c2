#!/bin/sh
# TCP super-frames (PROTOCOL.md 1.3): over a TCP clear tunnel, a kTLS
# encrypted one and a clear UDP one whose server offers SUPER_FRAMES, the
# client sends each TSO packet whole, and tscfd has the TUN cut it (or,
# for the clear tunnels on tscfd's kernel data path, tscf.ko's server
# device hands it on whole; the clear tunnels run once on each path).
# The bytes go on to a
# host behind the server over a link without checksum or segmentation
# offload, so every segment's TCP checksum is computed there from what
# tscfd handed over and checked by the receiving host: a wrong one stalls
# the transfer.  With `stream-super-frames no` and `udp-super-frames no`
# nothing is offered and every frame fits the MTU.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
command -v ethtool > /dev/null || fail "ethtool is not installed (tools/install-deps.sh)"
tscfd_topology super DTTE
ue_tscf0

# SVC, a host of the service network behind SRV: 10.102.0.2.
SVC=$(tscf_netns super-svc)
at_exit "ip netns del $SVC 2>/dev/null"
ip link add veth-svc netns "$SRV" type veth peer name veth-in netns "$SVC"
ip -n "$SRV" addr add 10.102.0.1/24 dev veth-svc
ip -n "$SVC" addr add 10.102.0.2/24 dev veth-in
ip -n "$SRV" link set veth-svc up
ip -n "$SVC" link set veth-in up
ip -n "$SVC" route add default via 10.102.0.1
ip netns exec "$SRV" sysctl -qw net.ipv4.ip_forward=1
# Segments and their checksums are made in software on the way to SVC,
# and SVC checks them: nothing trusts a checksum left to offload.
ip netns exec "$SRV" ethtool -K veth-svc tx off sg off tso off gso off > /dev/null ||
	fail "ethtool -K veth-svc"
ip netns exec "$SVC" ethtool -K veth-in rx off gro off > /dev/null ||
	fail "ethtool -K veth-in"

# A sink on SVC: reads connections, prints each one's length and SHA-256.
ip netns exec "$SVC" python3 -c '
import hashlib, socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.102.0.2", 7100))
l.listen(4)
while True:
    c = l.accept()[0]
    h, n = hashlib.sha256(), 0
    while True:
        d = c.recv(1 << 16)
        if not d:
            break
        h.update(d)
        n += len(d)
    print(n, h.hexdigest(), flush=True)
    c.close()' > "$TMPD/sink.out" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 20 sh -c "ip netns exec $SVC ss -Hltn | grep -q '10.102.0.2:7100'" ||
	fail "the sink did not start"

# send LEVEL: MB megabytes from UE to the sink in a socket of that level;
# prints the length and SHA-256 the sink must see.  8 MB, a tenth of it on
# the debug kernel (TSCF_SCALE).
MB=$(scaled 8)
send() {
	ip netns exec "$UE" python3 - "$1" "$MB" <<'PY'
import hashlib, os, socket, struct, sys, time
SOL_IP, LEVEL, PATH = 0, 0x5453, 0x5454
def path():
    return ["clear", "encrypted", "blocked"][struct.unpack("=i", s.getsockopt(SOL_IP, PATH, 4))[0]]
s = socket.create_connection(("10.102.0.2", 7100), timeout=60)
if sys.argv[1] != "0":
    # Marked before a byte is sent: it waits for tscf0s, on demand.
    s.setsockopt(SOL_IP, LEVEL, struct.pack("=i", int(sys.argv[1])))
    end = time.time() + 30
    while path() != "encrypted" and time.time() < end:
        time.sleep(0.1)
data = os.urandom(int(sys.argv[2]) << 20)
s.sendall(data)
where = path()
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
print(len(data), hashlib.sha256(data).hexdigest(), where)
PY
}

# transfer LEVEL WHAT: one send; the sink must report the same bytes.
transfer() {
	n0=$(grep -c . "$TMPD/sink.out" || true)
	out=$(send "$1") || fail "$2: the sender failed: $out"
	wait_for 30 sh -c "[ \$(grep -c . $TMPD/sink.out) -gt $n0 ]" ||
		fail "$2: the sink saw no end of the connection: $(cat "$TMPD/sink.out")"
	got=$(sed -n "$((n0 + 1))p" "$TMPD/sink.out")
	[ "$got" = "${out% *}" ] || fail "$2: sent '${out% *}', the sink got '$got'"
	SENT_PATH=${out##* }
	# A segment with a wrong checksum is dropped by SVC and sent again
	# by TCP, whole bytes in the end: count the drops themselves.
	bad=$(ip netns exec "$SVC" nstat -az TcpInCsumErrors | awk '$1 == "TcpInCsumErrors" { print $2 }')
	log "$2: $MB MB intact over the $SENT_PATH path, $bad TCP checksum errors at SVC"
	[ "$bad" = 0 ] || fail "$2: SVC dropped $bad segments with a wrong TCP checksum"
}

# avg_frame NS DEV: bytes per frame on DEV's tunnel.
avg_frame() {
	echo $(( $(tunnel_stat "$1" "$2" tx_bytes) / $(tunnel_stat "$1" "$2" tx_packets) ))
}

super_of() {
	ip netns exec "$UE" "$CTL" show "$1" -j |
		python3 -c "import json,sys; print(json.load(sys.stdin)['devices'][0]['tunnel']['super_frames'])"
}

# clear_stage TRANSPORT OFFER WHAT: a new clear tunnel whose server
# offered OFFER bytes of super-frames; one transfer, super-frames sent
# and none dropped as too big.
clear_stage() {
	tscfctl_up "$1" "$TMPD/ctl-$1-$2.log"
	ip -n "$UE" route replace 10.102.0.0/24 dev tscf0
	[ "$(super_of tscf0)" = "$2" ] || fail "$3: SUPER_FRAMES on the clear tunnel: $(super_of tscf0), want $2"
	transfer 0 "$3"
	[ "$SENT_PATH" = clear ] || fail "$3: the clear socket went $SENT_PATH"
	sup=$(tunnel_stat "$UE" tscf0 tx_super_frames)
	avg=$(avg_frame "$UE" tscf0)
	log "$3: $sup super-frames, $avg bytes per frame"
	[ "$sup" -gt 0 ] || fail "$3: no super-frame sent on the clear tunnel"
	# Only a super-frame is longer than the MTU (1399): a mean above it
	# says they went whole (fewer on the debug kernel, whose slower pace
	# makes TSO packets smaller).
	[ "$avg" -gt 1399 ] || fail "$3: $avg bytes per frame, few super-frames"
	[ "$(tscfd_stat drop_too_big)" = 0 ] || fail "$3: tscfd dropped $(tscfd_stat drop_too_big) frames as too big"
}

peer_of() { srv_peer_field "$SRV" "$1"; }
# whole_in_kernel WHAT: the fast peer took the super-frames, tscfd none.
whole_in_kernel() {
	ip netns exec "$SRV" $TSCF_NL srv-peers > "$TMPD/peers" || fail "srv-peers dump"
	log "kernel peer: $(cat "$TMPD/peers")"
	[ "$(peer_of super_frames)" = 65535 ] || fail "$1: the kernel peer has no super-frames limit: $(peer_of super_frames)"
	[ $(( $(peer_of rx_bytes) / $(peer_of rx_packets) )) -gt 1399 ] ||
		fail "$1: the kernel path took $(peer_of rx_packets) frames for $(peer_of rx_bytes) bytes: not whole"
	[ "$(tscfd_stat rx_super_frames)" = "$rx0" ] || fail "$1: super-frames of a fast peer went through tscfd"
}

rx0=$(tscfd_stat rx_super_frames)
clear_stage tcp 65535 "clear TCP, kernel data path"
[ "$(tscfd_stat kernel_fast_peers)" = 1 ] || fail "the TCP tunnel is not on the kernel data path"
whole_in_kernel "clear TCP"

# The same through kTLS: an encrypted-only socket, tscf0s up on demand.
transfer 1 "kTLS"
[ "$SENT_PATH" = encrypted ] || fail "the encrypted-only socket went $SENT_PATH"
[ "$(super_of tscf0s)" = 65535 ] || fail "no SUPER_FRAMES on the TLS tunnel"
sup=$(tunnel_stat "$UE" tscf0s tx_super_frames)
log "kTLS: $sup super-frames, $(avg_frame "$UE" tscf0s) bytes per frame"
[ "$sup" -gt 0 ] || fail "no super-frame sent on the encrypted tunnel"
# tscfd handed the TLS connection (kTLS both ways) to the kernel: its
# encrypted peer took most of the 8 MB, whole, and sent the bound flow's
# ACKs back.
# The frames behind the socket's FLOW_BIND go through tscfd until it has
# handled it (frame-seq): a few, never most.
ip netns exec "$SRV" $TSCF_NL srv-peers > "$TMPD/peers" || fail "srv-peers dump"
sf_user=$(( $(tscfd_stat rx_super_frames) - rx0 ))
log "kernel peers: $(tr '\n' ' ' < "$TMPD/peers"); super-frames through tscfd: $sf_user"
python3 - "$TMPD/peers" $((MB * 800000)) "$sf_user" <<'PY' || fail "kTLS: the kernel's encrypted peer did not carry the transfer: $(cat "$TMPD/peers"), $sf_user super-frames through tscfd; tscfd: $(tail -n 25 "$TMPD/tscfd.log")"
import json, sys
enc = [p for p in map(json.loads, open(sys.argv[1])) if p['encrypted']]
assert len(enc) == 1, enc
p = enc[0]
assert p['rx_bytes'] >= int(sys.argv[2]) and p['rx_bytes'] // p['rx_packets'] > 1399, p
assert p['tx_packets'] > 0 and p['fast'] == 0, p
assert int(sys.argv[3]) * 10 <= p['rx_packets'], 'tscfd took more than a tenth'
PY
# The session has bound a flow above level 0: its clear peer is slow now,
# and each frame of a clear transfer is an srv-frame event that tscfd
# judges.  The kernel hands tscfd at most 32 events beyond those tscfd
# acknowledged (frame-seq), then stops reading: without tscfd's
# acknowledgements this transfer would stall after 32 frames.
[ "$(peer_of fast)" = 0 ] || fail "the clear peer is still fast after the binding: $(cat "$TMPD/peers")"
# tscfd writes what it judged to its TUN (tscfs0), at most 64 KB at a time.
slow0=$(link_stat "$SRV" tscfs0 rx_packets)
transfer 0 "clear TCP, slow peer: every frame through tscfd"
[ "$SENT_PATH" = clear ] || fail "slow peer: the clear socket went $SENT_PATH"
slow=$(( $(link_stat "$SRV" tscfs0 rx_packets) - slow0 ))
paused=$(ip netns exec "$SRV" ethtool -S tscfsrv0 | awk '$1 == "srv_streams_paused:" { print $2 }')
log "slow peer: tscfd wrote $slow packets to its TUN; the kernel paused for it $paused times"
[ "$slow" -gt $((MB * 4)) ] || fail "slow peer: only $slow packets through tscfd for $MB MB"

# A clear UDP tunnel: each super-frame leaves as one UDP tunnel GSO
# datagram, which the veth to SRV carries whole.  The offer is clamped so
# that the outer IP length fits in 16 bits.  First on tscfd's kernel data
# path (tscf.ko's server device takes them whole), then in tscfd itself.
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID
rx0=$(tscfd_stat rx_super_frames)
clear_stage udp 65487 "clear UDP, kernel data path"
[ "$(tscfd_stat kernel_fast_peers)" = 1 ] || fail "the UDP tunnel is not on the kernel data path"
whole_in_kernel "clear UDP"

# tscfd's userspace path: it reads the datagram whole and has its TUN cut it.
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID
kill "$TSCFD_PID"
wait "$TSCFD_PID" 2>/dev/null
if grep -q '^kernel-datapath' "$TMPD/tscfd.conf"; then
	sed -i 's/^kernel-datapath .*/kernel-datapath no/' "$TMPD/tscfd.conf"
else
	sed -i '1i kernel-datapath no' "$TMPD/tscfd.conf"
fi
tscfd_start
rx0=$(tscfd_stat rx_super_frames)
clear_stage udp 65487 "clear UDP, tscfd"
[ "$(tscfd_stat rx_super_frames)" -gt "$rx0" ] || fail "tscfd counted no super-frame from the UDP tunnel"
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID
rx0=$(tscfd_stat rx_super_frames)
clear_stage tcp 65535 "clear TCP, tscfd"
[ "$(tscfd_stat rx_super_frames)" -gt "$rx0" ] || fail "tscfd counted no super-frame from the TCP tunnel"

# Not offered: every frame fits the MTU, and the transfer still works.
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID
kill "$TSCFD_PID"
wait "$TSCFD_PID" 2>/dev/null
sed -i '1i stream-super-frames no' "$TMPD/tscfd.conf"	# global settings
sed -i '1i udp-super-frames no' "$TMPD/tscfd.conf"
tscfd_start
tscfctl_up tcp "$TMPD/ctl2.log"
ip -n "$UE" route replace 10.102.0.0/24 dev tscf0
[ "$(super_of tscf0)" = 0 ] || fail "super-frames on although the server did not offer them"
transfer 0 "clear TCP, not offered"
[ "$(tunnel_stat "$UE" tscf0 tx_super_frames 2>/dev/null || echo none)" = none ] ||
	fail "a super-frame counter on a tunnel without them"
avg=$(avg_frame "$UE" tscf0)
[ "$avg" -le 1399 ] || fail "not offered: $avg bytes per frame"
[ "$(tscfd_stat drop_too_big)" = 0 ] || fail "tscfd dropped $(tscfd_stat drop_too_big) frames as too big"
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID
tscfctl_up udp "$TMPD/ctl-udp2.log"
ip -n "$UE" route replace 10.102.0.0/24 dev tscf0
[ "$(super_of tscf0)" = 0 ] || fail "super-frames on the UDP tunnel although not offered"
transfer 0 "clear UDP, not offered"
avg=$(avg_frame "$UE" tscf0)
[ "$avg" -le 1399 ] || fail "UDP, not offered: $avg bytes per frame"
[ "$(tscfd_stat drop_too_big)" = 0 ] || fail "tscfd dropped $(tscfd_stat drop_too_big) UDP frames as too big"
echo ok
