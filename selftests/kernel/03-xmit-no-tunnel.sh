#!/bin/sh
# With no tunnel attached, transmitted packets are dropped and counted in
# tx_dropped (visible in ip -s link), and nothing is transmitted.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ns=$(tscf_netns xmit)

# No IPv6 on these devices: its autoconfiguration would add its own drops.
ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link add tscf0 type tscf
ip -n "$ns" addr add 10.201.0.1/24 dev tscf0
ip -n "$ns" addr add 10.202.0.1/24 dev tscf0s
ip -n "$ns" link set tscf0 up
ip -n "$ns" link set tscf0s up

for d in tscf0 tscf0s; do
	expect_eq "$d tx_dropped before" "$(link_stat "$ns" $d tx_dropped)" 0
done

# Five datagrams via tscf0, three via tscf0s.
ip netns exec "$ns" bash -c '
	for i in 1 2 3 4 5; do echo x > /dev/udp/10.201.0.2/9 || true; done
	for i in 1 2 3; do echo x > /dev/udp/10.202.0.2/9 || true; done' 2>/dev/null

expect_eq "tscf0 tx_dropped" "$(link_stat "$ns" tscf0 tx_dropped)" 5
expect_eq "tscf0s tx_dropped" "$(link_stat "$ns" tscf0s tx_dropped)" 3
for d in tscf0 tscf0s; do
	expect_eq "$d tx_packets" "$(link_stat "$ns" $d tx_packets)" 0
	expect_eq "$d tx_bytes" "$(link_stat "$ns" $d tx_bytes)" 0
done
ip -n "$ns" -s link show dev tscf0 | tee /dev/stderr |
	awk '/TX:/ { getline; print $4 }' | grep -qx 5 || fail "ip -s link does not show 5 TX drops"

# Each drop answers the sender with an ICMP host unreachable (what a
# router with no route would do), so it need not wait for a timeout.
expect_eq "ICMP host unreachables sent" \
	"$(ip netns exec "$ns" nstat -az IcmpOutDestUnreachs | awk '/IcmpOut/ { print $2 }')" 8
echo ok
