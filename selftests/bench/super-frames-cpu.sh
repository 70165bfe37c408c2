#!/bin/sh
# tscfd's CPU time per MB of inner TCP payload through one clear TCP
# tunnel: MTU-sized frames (1399) against 20,000-byte TCP super-frames, to a
# veth without offloads (the kernel cuts the super-frames on their way).
# Not a test: numbers for docs/SERVER.md.  Run as root from the top:
#   TSCF_TOP=$PWD MB=200 sh selftests/bench/super-frames-cpu.sh
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology sbench DTTE
SINK=$(tscf_netns sbench-sink)
ip link add sink-srv netns "$SRV" type veth peer name sink netns "$SINK"
ip -n "$SRV" addr add 10.201.0.1/24 dev sink-srv
ip -n "$SRV" link set sink-srv up
ip -n "$SINK" link set sink up
ip netns exec "$SRV" sysctl -qw net.ipv4.ip_forward=1
ip -n "$SRV" neigh replace 10.201.0.2 lladdr 02:00:00:00:00:02 dev sink-srv nud permanent
ip netns exec "$SRV" ethtool -K sink-srv tso off gso off tx off >/dev/null
ip netns exec "$UE" python3 "$TSCF_TOP/selftests/bench/super_frames_cpu.py" "$TSCF_TOP/selftests/lib" "$TSCFD_PID" "${MB:-100}"
echo "sink-srv tx_packets $(link_stat "$SRV" sink-srv tx_packets)"
echo "rx_super_frames $(tscfd_stat rx_super_frames) rx_packets $(tscfd_stat rx_packets) drop_too_big $(tscfd_stat drop_too_big)"
