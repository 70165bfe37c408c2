#!/bin/sh
# TCP super-frames on TCP, TLS and UDP tunnels (docs/PROTOCOL.md 1.3, docs/SERVER.md
# "TCP super-frames"): a TCP listener sits in SVC, beyond tscfd's TUN and
# a veth on which SRV segments and checksums in software (no TSO, no
# checksum offload), so that a segment with a wrong checksum is dropped
# by the listener's stack.  From a hand-made TCP client in the tunnels
# (selftests/lib/super_frames.py):
#  1. the CONFIG_RESP of a TCP tunnel, of its TLS tunnel and of a UDP
#     tunnel carries SUPER_FRAMES 65535;
#  2. a 20,000-byte super-frame with a garbage TCP checksum (IPv4 with DF
#     and IPv6, over TCP; IPv4 with CWR over TLS; IPv4 in one UDP
#     datagram, IP-fragmented on the way) reaches the listener
#     whole and in order: the TUN cut it and computed the segments'
#     checksums;
#  3. an over-MTU UDP datagram (TCP and UDP tunnels), a datagram whose
#     first fragment is over the MTU, a TCP fragment, a TCP header with a
#     data offset of 4 and an IPv6 super-frame behind a hop-by-hop header
#     are dropped and counted (drop_too_big); a super-frame from a spoofed
#     source is dropped as spoofed, one of an encrypted-only flow on the
#     clear tunnel as encrypted-only;
#  4. after "stream-super-frames no" and "udp-super-frames no" (reload),
#     new TCP and UDP tunnels are not offered them and their super-frames
#     (without DF: they would otherwise be fragmented on the way) are
#     dropped and counted, nothing reaches SVC.
. "$TSCF_TOP/selftests/lib.sh"
TSCFD_POOL6=fd00:100::/64
tscfd_topology super DTTE

SVC=$(tscf_netns super-svc)
ip link add svc-srv netns "$SRV" type veth peer name svc netns "$SVC"
ip -n "$SRV" addr add 10.200.0.1/24 dev svc-srv
ip -n "$SRV" addr add fd00:200::1/64 dev svc-srv nodad
ip -n "$SVC" addr add 10.200.0.2/24 dev svc
ip -n "$SVC" addr add fd00:200::2/64 dev svc nodad
ip -n "$SRV" link set svc-srv up
ip -n "$SVC" link set svc up
ip -n "$SVC" route add 10.100.0.0/16 via 10.200.0.1
ip -n "$SVC" route add fd00:100::/64 via fd00:200::1
ip netns exec "$SRV" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# Segmentation and checksums in software on the way to SVC: the listener's
# stack then verifies every segment's checksum.
ip netns exec "$SRV" ethtool -K svc-srv tso off gso off tx off > /dev/null 2>&1 ||
	fail "cannot turn offloads off on svc-srv"

# The listener: per connection, its bytes once 20,000 came or 3 s passed
# without any, and whether they are the bytes the client sent.
ip netns exec "$SVC" python3 -c '
import json, socket, sys, threading
want = bytes(i % 251 for i in range(20000))
l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("::", 7002))
l.listen(16)
lock = threading.Lock()
def serve(c, peer):
    c.settimeout(3)
    got = b""
    try:
        while len(got) < len(want):
            d = c.recv(65536)
            if not d:
                break
            got += d
    except socket.timeout:
        pass
    with lock, open(sys.argv[1], "a") as f:
        f.write(json.dumps({"port": peer[1], "n": len(got), "same": got == want[:len(got)]}) + "\n")
while True:
    c, peer = l.accept()
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()' "$TMPD/results" &
at_exit "kill $! 2>/dev/null"
wait_for 20 sh -c "ip netns exec $SVC ss -Hltn | grep -q ':7002'" ||
	fail "the listener did not start"

SF="python3 $TSCF_TOP/selftests/lib/super_frames.py --sock $TMPD/tscfd.sock --tscfd $TSCFD --results $TMPD/results"
ip netns exec "$UE" $SF on --ca "$TMPD/ca.pem" > "$TMPD/on" 2>&1 || fail "$(cat "$TMPD/on")"
log "key on: $(cat "$TMPD/on")"

printf 'stream-super-frames no\nudp-super-frames no\n' >> "$TMPD/tscfd.conf"
kill -HUP "$TSCFD_PID"
wait_for 10 grep -q "configuration reloaded" "$TMPD/tscfd.log" || fail "tscfd did not reload"
ip netns exec "$UE" $SF off > "$TMPD/off" 2>&1 || fail "$(cat "$TMPD/off")"
log "key off: $(cat "$TMPD/off")"
log "listener: $(tr '\n' ' ' < "$TMPD/results")"
log "counters: rx_super_frames $(tscfd_stat rx_super_frames), drop_too_big $(tscfd_stat drop_too_big)"
kill -0 "$TSCFD_PID" || fail "tscfd died"
echo ok
