#!/bin/sh
# Return traffic of an encrypted-only flow whose ports tscfd cannot read in
# the packet itself never takes the clear tunnel: the non-first fragments
# of a 3,000-byte reply (fragmented by the service host), an IPv6 reply
# with hop-by-hop and destination options headers, ICMP and ICMPv6 errors
# quoting an encrypted-only datagram, fragments whose first fragment never
# came.  A FLOW_BIND on the clear tunnel
# cannot lower a binding the encrypted tunnel made.
. "$TSCF_TOP/selftests/lib.sh"
TSCFD_POOL6=fd00:100::/64
tscfd_topology classify DTTE
# The service host: a UDP service whose reply is 3,000 bytes (more than
# the TUN's MTU, so the kernel fragments it) and an IPv6 echo service whose
# replies carry extension headers.
ip netns exec "$SRV" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.100.0.1", 7100))
while True:
    data, peer = s.recvfrom(65536)
    s.sendto(b"x" * 3000, peer)' &
at_exit "kill $! 2>/dev/null"
ip netns exec "$SRV" python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
pad = bytes([0, 0, 1, 4, 0, 0, 0, 0])	# next header, length, PadN(4)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, pad)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, pad)
s.bind(("fd00:100::1", 7006))
while True:
    data, peer = s.recvfrom(65536)
    s.sendto(b"echo6:" + data, peer)' &
at_exit "kill $! 2>/dev/null"
# An injector: for a request from A carrying the client's IPv6 address B,
# it writes into the TUN a non-first IPv4 fragment to A and a non-first
# IPv6 fragment to B, of datagrams whose first fragment never existed.
ip netns exec "$SRV" python3 -c '
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.100.0.1", 7200))
tun = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM)
while True:
    data, peer = s.recvfrom(65536)
    body = b"\xee" * 8 + b"orphan" * 10
    v4 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0x7777, 185, 64, 17, 0,
                     socket.inet_aton("10.100.0.1"), socket.inet_aton(peer[0])) + body
    tun.sendto(v4, ("tscfs0", 0x0800))
    frag = struct.pack("!BBHI", 17, 0, 185 << 3, 0x77777777)
    v6 = struct.pack("!IHBB", 0x60000000, len(frag) + len(body), 44, 64) + \
        socket.inet_pton(socket.AF_INET6, "fd00:100::1") + \
        socket.inet_pton(socket.AF_INET6, data.decode()) + frag + body
    tun.sendto(v6, ("tscfs0", 0x86dd))' &
at_exit "kill $! 2>/dev/null"
for port in 10.100.0.1:7100 '\[fd00:100::1\]:7006' 10.100.0.1:7200; do
	wait_for 20 sh -c "ip netns exec $SRV ss -Hlun | grep -q '$port'" || fail "service $port did not start"
done

for tr in tcp udp; do
	out=$(ip netns exec "$UE" $TSCF_CLIENT dtte --classify --transport $tr --addr 10.10.0.2 \
		--port 4000 --ca "$TMPD/ca.pem") || fail "classify over $tr: $(tail -5 "$TMPD/tscfd.log")"
	log "$tr: $out"
done
[ "$(tscfd_stat refused_flow_lower)" -ge 4 ] || fail "refused lowering binds not counted"
[ "$(tscfd_stat unclassified)" -ge 4 ] || fail "unclassified fragments not counted"
echo ok
