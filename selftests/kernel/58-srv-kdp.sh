#!/bin/sh
# tscfd's kernel data path (kernel-datapath auto, tscfd running as nobody
# with CAP_NET_ADMIN only): tscfd creates its server device tscfsrv0 and
# a clear UDP session's inner packets go through it, not through tscfd:
# the TUN's counters stay still while iperf3 runs and tscfd counts the
# kernel's packets.  Abuse: an inner packet with a forged source is handed
# to tscfd, which drops and counts it; a process without CAP_NET_ADMIN
# cannot create a server device or touch its peers; "ip link add type
# tscfsrv" is refused.  An encrypted-only flow (DTTE) makes tscfd take the
# session off the fast path before it binds the flow: the canary never
# appears on the outer link, either way.  tscfd killed -9: the device goes.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
TSCFD_USER=nobody
tscfd_topology kdp DTTE
ue_tscf0

ip -n "$SRV" link show tscfsrv0 > /dev/null 2>&1 || fail "no server device: $(cat "$TMPD/tscfd.log")"
grep -q 'kernel data path: server device tscfsrv0' "$TMPD/tscfd.log" || fail "tscfd does not say it uses the kernel path"
expect_eq "kernel_datapath" "$(tscfd_stat kernel_datapath)" 1

tscfctl_up udp
ip netns exec "$UE" ping -c 3 -i 0.2 -W 2 10.100.0.1 > "$TMPD/ping" || fail "ping: $(cat "$TMPD/ping")"
expect_eq "kernel_peers (set after the privilege drop)" "$(tscfd_stat kernel_peers)" 1
expect_eq "kernel_fast_peers" "$(tscfd_stat kernel_fast_peers)" 1

# Traffic in the kernel: the TUN stays still, tscfd's counters grow.
tun_before=$(( $(link_stat "$SRV" tscfs0 rx_packets) + $(link_stat "$SRV" tscfs0 tx_packets) ))
rx_before=$(tscfd_stat rx_packets)
ip netns exec "$SRV" iperf3 -s -D -I "$TMPD/iperf.pid"
at_exit "[ -f $TMPD/iperf.pid ] && kill \$(cat $TMPD/iperf.pid) 2>/dev/null"
wait_for 10 sh -c "ip netns exec $SRV ss -Hltn | grep -q ':5201'" || fail "iperf3 server"
ip netns exec "$UE" iperf3 -c 10.100.0.1 -t 3 -J > "$TMPD/iperf" 2>&1 || fail "iperf3: $(tail -5 "$TMPD/iperf")"
log "iperf3 through the kernel path: $(python3 -c "import json; print(round(json.load(open('$TMPD/iperf'))['end']['sum_received']['bits_per_second'] / 1e6, 1))") Mbit/s"
# What iperf3 moved is at least one inner packet per 64 KB (the client
# sends TCP super-frames whole when offered, PROTOCOL.md 1.3) and at
# least its bytes: the kernel path must have carried that much (a debug
# kernel on a loaded host moves a few hundred KB in 3 s, a stock one
# hundreds of MB).
moved=$(python3 -c "import json; print(int(json.load(open('$TMPD/iperf'))['end']['sum_received']['bytes']))")
need=$(( moved / 65536 > 100 ? moved / 65536 : 100 ))
tun_after=$(( $(link_stat "$SRV" tscfs0 rx_packets) + $(link_stat "$SRV" tscfs0 tx_packets) ))
rx_after=$(tscfd_stat rx_packets)
log "TUN packets during iperf3: $((tun_after - tun_before)); tscfd rx_packets +$((rx_after - rx_before))"
[ $((tun_after - tun_before)) -le 20 ] || fail "the TUN carried $((tun_after - tun_before)) packets: not the kernel path"
ip netns exec "$SRV" $TSCF_NL srv-peers > "$TMPD/peers" || fail "srv-peers dump"
log "kernel peer: $(cat "$TMPD/peers")"
peer_of() { srv_peer_field "$SRV" "$1"; }
peer_rx=$(peer_of rx_packets)
[ "$peer_rx" -ge "$need" ] || fail "the peer's kernel counters did not grow: $peer_rx, want $need"
[ "$(peer_of rx_bytes)" -ge "$moved" ] || fail "the peer's kernel path carried $(peer_of rx_bytes) bytes, iperf3 $moved"
expect_eq "the peer's super-frames limit" "$(peer_of super_frames)" 65535
ip netns exec "$SRV" "$TSCFD" --stats -s "$TMPD/tscfd.sock" > "$TMPD/stats"
ip netns exec "$SRV" "$TSCFD" --sessions -s "$TMPD/tscfd.sock" > "$TMPD/sessions"
[ $((rx_after - rx_before)) -ge "$need" ] || cat "$TMPD/stats" "$TMPD/sessions" >&2
[ $((rx_after - rx_before)) -ge "$need" ] ||
	fail "tscfd did not count the kernel's packets: +$((rx_after - rx_before)): $(tail -5 "$TMPD/tscfd.log")"
srvdev_rx=$(link_stat "$SRV" tscfsrv0 rx_packets)
[ "$srvdev_rx" -ge "$need" ] || fail "tscfsrv0 rx_packets $srvdev_rx, want $need"
ip netns exec "$SRV" "$TSCFD" --sessions -s "$TMPD/tscfd.sock" > "$TMPD/sessions"
log "sessions: $(cat "$TMPD/sessions" | tr '\n' ' ')"

# A forged inner source: the kernel hands it to tscfd, which drops it.
spoofed_before=$(tscfd_stat drop_spoofed)
ip netns exec "$UE" python3 -c '
import socket, struct
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
payload = b"SPOOF"
udp = struct.pack("!HHHH", 4444, 7000, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                 socket.inet_aton("10.100.9.9"), socket.inet_aton("10.100.0.1"))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"tscf0")
for _ in range(3):
    s.sendto(ip + udp, ("10.100.0.1", 0))' || fail "cannot send the forged packet"
wait_for 5 sh -c "[ \$(ip netns exec $SRV $TSCFD --stats -s $TMPD/tscfd.sock | awk '\$1 == \"drop_spoofed:\" { print \$2 }') -ge $((spoofed_before + 3)) ]" ||
	fail "tscfd did not drop the forged packets: drop_spoofed $(tscfd_stat drop_spoofed), was $spoofed_before"

# Only CAP_NET_ADMIN drives server devices; ip link cannot make one.
tun_ifindex=$(ip netns exec "$SRV" cat /sys/class/net/tscfs0/ifindex)
srv_ifindex=$(ip netns exec "$SRV" cat /sys/class/net/tscfsrv0/ifindex)
ip netns exec "$SRV" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	$TSCF_NL raw 11 2:str:evil0 17:u32:$tun_ifindex > "$TMPD/eperm" 2>&1 &&
	fail "an unprivileged process created a server device"
grep -q "Operation not permitted\|EPERM\|errno 1" "$TMPD/eperm" || fail "not EPERM: $(cat "$TMPD/eperm")"
ip netns exec "$SRV" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	$TSCF_NL raw 13 1:u32:$srv_ifindex > "$TMPD/eperm2" 2>&1 &&
	fail "an unprivileged process changed a peer"
grep -q "Operation not permitted\|EPERM\|errno 1" "$TMPD/eperm2" || fail "peer-set not EPERM: $(cat "$TMPD/eperm2")"
ip -n "$SRV" link add evil1 type tscfsrv 2> /dev/null && fail "ip link add type tscfsrv worked"
ip -n "$SRV" link show evil0 > /dev/null 2>&1 && fail "evil0 exists"

# An encrypted-only flow: off the fast path before its binding; the
# canary never crosses the outer link in clear, either way.
capture_start "$SRV" veth-srv "$TMPD/cap.pcapng"
cap=$CAPTURE
got=$(udp_echo "$UE" 10.100.0.1 7000 "PLAINTEXT-MARK")
expect_eq "plain echo" "$got" "echo:PLAINTEXT-MARK"
# The marked socket stays open (sleep) so that it holds the encrypted
# tunnel up until the checks below are done: closed, the tunnel would be
# released after the linger, which the debug kernel's pace can outlast.
ip netns exec "$UE" $APP --proto udp --dst 10.100.0.1 --port 7000 \
	level:1 send:CANARY-early waitpath:encrypted echo:CANARY-1 echo:CANARY-2 sleep:300 \
	> "$TMPD/app" 2>&1 &
holder=$!
at_exit "kill $holder 2>/dev/null"
wait_for 60 grep -q '"recv": "echo:CANARY-2"' "$TMPD/app" ||
	fail "app: $(cat "$TMPD/app")"
grep -q "\"recv\": \"echo:CANARY-2\", \"ok\": true" "$TMPD/app" ||
	fail "no echo through the encrypted tunnel: $(cat "$TMPD/app"; tail -5 "$TMPD/tscfd.log")"
expect_eq "kernel_fast_peers after the binding" "$(tscfd_stat kernel_fast_peers)" 0
# The clear peer, and the TLS tunnel (kTLS both ways) as an encrypted
# peer, which sent the bound flow's echoes back itself.
expect_eq "kernel_peers after the binding" "$(tscfd_stat kernel_peers)" 2
ip netns exec "$SRV" $TSCF_NL srv-peers > "$TMPD/peers2" || fail "srv-peers dump"
log "kernel peers: $(tr '\n' ' ' < "$TMPD/peers2")"
python3 - "$TMPD/peers2" <<'PY' || fail "no encrypted peer carried the echoes: $(cat "$TMPD/peers2")"
import json, sys
enc = [p for p in map(json.loads, open(sys.argv[1])) if p['encrypted']]
assert len(enc) == 1 and enc[0]['tx_packets'] >= 2 and enc[0]['fast'] == 0, enc
PY
grep -q 'every packet through tscfd now' "$TMPD/tscfd.log" || fail "tscfd did not log the slow path"
# Still carried, by tscfd now: the clear tunnel works.
got=$(udp_echo "$UE" 10.100.0.1 7000 "PLAINTEXT-MARK-2")
expect_eq "plain echo after the binding" "$got" "echo:PLAINTEXT-MARK-2"
capture_stop $cap
plain=$(capture_count "$TMPD/cap.pcapng" 'frame contains "PLAINTEXT-MARK"')
canary=$(capture_count "$TMPD/cap.pcapng" 'frame contains "CANARY"')
log "capture: $plain clear frames with the plain mark, $canary with the canary"
[ "$plain" -ge 2 ] || fail "the capture does not show the clear traffic"
expect_eq "canary frames on the wire" "$canary" 0

# tscfd killed: its genl socket closes and the device goes with it.
kill -9 "$TSCFD_PID"
wait_for 10 sh -c "! ip -n $SRV link show tscfsrv0 > /dev/null 2>&1" || fail "tscfsrv0 outlived tscfd"
# Unlisted at once, the device is freed when its last reference goes; a
# reference kept past the unregister makes the kernel wait, and say so
# after 10 s ("waiting for tscfsrv0 to become free").
sleep 11
dmesg | grep 'waiting for tscfsrv0 to become free' &&
	fail "a reference to tscfsrv0 outlived its unregister"
echo ok
