#!/bin/sh
# Abuse of tscfd's kernel data path with GSO packets (SERVER.md, "The
# kernel data path", abuse cases).  Whoever holds a TAP with a
# virtio_net_hdr on the server's host (a VM's tap, a container's) can hand
# the server's stack GSO packets with headers of their choosing, from a
# fast peer's outer address.  The kernel marks them DODGY and cannot mark
# them as UDP tunnel packets; the UDP layer cuts (or, failing, drops) a
# GSO packet without the tunnel bits before the server device's encap
# hook sees it, and the device itself takes only the tunnel shape the
# client's module builds.  Each of these, 20 times through a fresh TAP:
#   super       a TCPV4 GSO packet shaped like a super-frame, the fast
#               peer's own outer address and inner source;
#   outer-csum  the same with the checksum start on the outer UDP header
#               (the TAP itself may refuse that header: EINVAL);
#   spoofed     the same with a forged inner source;
#   udp-l4      a UDP_L4 GSO packet around the same bytes, which the
#               stack may cut into datagrams.
# Each time SRV's IP layer receives what the TAP took, the server device,
# the kernel peer and tscfd's super-frame counter stay still, and no inner
# TCP segment reaches SRV's TCP stack (the service side); the runner fails
# on any kernel warning.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology gsoinj DTTE
ue_tscf0
tscfctl_up udp
wait_for 10 tscfd_stat_is kernel_fast_peers 1 || fail "the session is not on the kernel path"

inner=$(ip -n "$UE" -4 -o addr show dev tscf0 | awk '{ split($4, a, "/"); print a[1] }')
cport=$(ip netns exec "$UE" ss -Hun state established "dst 10.10.0.2:4000" |
	awk '{ n = split($3, a, ":"); print a[n] }' | head -n 1)
[ -n "$inner" ] && [ -n "$cport" ] || fail "client inner address '$inner' / outer port '$cport'"
log "client: inner $inner, outer 10.10.0.1:$cport"

# The TAP in SRV's namespace; frames written to it arrive at SRV's stack.
ip netns exec "$SRV" sysctl -qw net.ipv4.conf.all.rp_filter=0
ip netns exec "$SRV" sysctl -qw net.ipv4.conf.default.rp_filter=0

# inject KIND COUNT: COUNT GSO frames of KIND through a fresh TAP.
inject() {
	ip netns exec "$SRV" python3 - "$1" "$2" "$inner" "$cport" <<'EOF'
import fcntl, os, socket, struct, subprocess, sys, time

kind, count, inner, cport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
TUNSETIFF = 0x400454ca
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"tapinj", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
subprocess.run(["sysctl", "-qw", "net.ipv4.conf.tapinj.rp_filter=0"], check=True)
subprocess.run(["ip", "addr", "add", "10.10.7.1/24", "dev", "tapinj"], check=True)
subprocess.run(["ip", "link", "set", "tapinj", "up"], check=True)
mac = bytes.fromhex(open("/sys/class/net/tapinj/address").read().strip().replace(":", ""))

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s >> 16) + (s & 0xffff)
    return s

def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", ~csum(h) & 0xffff) + h[12:] + payload

src = "10.100.9.9" if kind == "spoofed" else inner
data = bytes(range(256)) * 16                              # 4096 bytes
tcp_len = 20 + len(data)
pseudo = csum(socket.inet_aton(src) + socket.inet_aton("10.100.0.1") +
              struct.pack("!BBH", 0, 6, tcp_len))
# The checksum field holds the pseudo-header sum: CHECKSUM_PARTIAL's form.
tcp = struct.pack("!HHIIBBHHH", 40000, 5999, 1, 0, 5 << 4, 0x10, 65535, pseudo, 0) + data
inner_pkt = ip4(src, "10.100.0.1", 6, tcp)
udp = struct.pack("!HHHH", cport, 4000, 8 + len(inner_pkt), 0) + inner_pkt
frame = mac + b"\x02\x00\x00\x00\x00\x09" + b"\x08\x00" + ip4("10.10.0.1", "10.10.0.2", 17, udp)
tcp_off = 14 + 20 + 8 + 20
gso, hdr_len, start, off = 1, tcp_off + 20, tcp_off, 16   # GSO_TCPV4
if kind == "outer-csum":
    start, off = 14 + 20, 6                                # the UDP header's sum
elif kind == "udp-l4":
    gso, hdr_len, start, off = 5, 14 + 20 + 8, 14 + 20, 6  # GSO_UDP_L4
# virtio_net_hdr: NEEDS_CSUM, gso_type, hdr_len, gso_size, csum_start/offset
vnet = struct.pack("<BBHHHH", 1, gso, hdr_len, 1200, start, off)
sent = refused = 0
for _ in range(count):
    try:
        if os.write(fd, vnet + frame) == len(vnet) + len(frame):
            sent += 1
    except OSError as e:
        if e.errno != 22:
            raise
        refused += 1                                       # the TAP's header check
    time.sleep(0.01)
print(sent, refused)
time.sleep(0.5)                                            # let the stack drain
EOF
}

srv_rx() { link_stat "$SRV" tscfsrv0 rx_packets; }
peer_rx() { srv_peer_field "$SRV" rx_packets; }
# snmp PROTO FIELD: a counter of SRV's /proc/net/snmp.
snmp() {
	ip netns exec "$SRV" awk -v p="$1:" -v f="$2" \
		'$1 == p && !n { for (i = 2; i <= NF; i++) k[i] = $i; n = 1; next }
		 $1 == p { for (i = 2; i <= NF; i++) if (k[i] == f) print $i }' /proc/net/snmp
}

# check KIND: inject 20 of KIND; SRV's IP layer receives them, nothing
# takes them further.
check() {
	dev0=$(srv_rx) peer0=$(peer_rx) sup0=$(tscfd_stat rx_super_frames)
	ipin0=$(snmp Ip InReceives) tcpin0=$(snmp Tcp InSegs)
	res=$(inject "$1" 20) || fail "injecting $1 frames"
	sent=${res% *} refused=${res#* }
	expect_eq "$1 frames the TAP took or refused (EINVAL)" $((sent + refused)) 20
	ipin=$(( $(snmp Ip InReceives) - ipin0 ))
	[ "$ipin" -ge "$sent" ] || fail "$1: SRV's IP layer received $ipin packets, want $sent: the injection did not arrive"
	expect_eq "$1: tscfsrv0 rx_packets" "$(srv_rx)" "$dev0"
	expect_eq "$1: the kernel peer's rx_packets" "$(peer_rx)" "$peer0"
	expect_eq "$1: tscfd's rx_super_frames" "$(tscfd_stat rx_super_frames)" "$sup0"
	expect_eq "$1: TCP segments that reached SRV" "$(snmp Tcp InSegs)" "$tcpin0"
	log "$1: the TAP refused $refused, SRV received $ipin packets; the server device, the peer and tscfd passed none on"
}

check super
check outer-csum
check spoofed
check udp-l4
# The session is still on the kernel path, and carries traffic.
expect_eq "kernel_fast_peers after the injections" "$(tscfd_stat kernel_fast_peers)" 1
ip netns exec "$UE" ping -c 2 -i 0.2 -W 2 10.100.0.1 > "$TMPD/ping" || fail "ping after: $(cat "$TMPD/ping")"
[ "$(srv_rx)" -gt "$dev0" ] || fail "the ping did not go through the server device"
echo ok
