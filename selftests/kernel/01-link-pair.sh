#!/bin/sh
# One "ip link add" makes the clear device and its encrypted twin; deleting
# either removes both; they are TUN-style point-to-point L3 devices.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ns=$(tscf_netns pair)

ip -n "$ns" link add tscf0 type tscf
link_exists "$ns" tscf0 || fail "tscf0 missing"
link_exists "$ns" tscf0s || fail "tscf0s missing"

for d in tscf0 tscf0s; do
	line=$(ip -n "$ns" -o link show dev "$d")
	log "$line"
	echo "$line" | grep -q '<POINTOPOINT,NOARP' || fail "$d flags: $line"
	echo "$line" | grep -q 'link/none' || fail "$d is not ARPHRD_NONE: $line"
	mtu=$(ip netns exec "$ns" cat /sys/class/net/$d/mtu)
	[ "$mtu" -ge 1280 ] && [ "$mtu" -le 1420 ] || fail "$d mtu $mtu"
	expect_eq "$d type" "$(ip netns exec "$ns" cat /sys/class/net/$d/type)" 65534
	expect_eq "$d kind" "$(ip -n "$ns" -d -o link show dev $d | grep -o 'tscf addrgenmode' | cut -d' ' -f1)" tscf
done
# Each twin names the other as its link (tscf0s@tscf0).
ip -n "$ns" -o link show dev tscf0s | grep -q 'tscf0s@tscf0:' || fail "twin link"
ip -n "$ns" -o link show dev tscf0 | grep -q 'tscf0@tscf0s:' || fail "clear link"

ip -n "$ns" link del tscf0
link_exists "$ns" tscf0 && fail "tscf0 still there after del"
link_exists "$ns" tscf0s && fail "tscf0s still there after del tscf0"

ip -n "$ns" link add tscf0 type tscf
ip -n "$ns" link del tscf0s
link_exists "$ns" tscf0 && fail "tscf0 still there after del tscf0s"
link_exists "$ns" tscf0s && fail "tscf0s still there after its del"

# No name given: the kernel picks tscfN and the twin is tscfNs.
ip -n "$ns" link add type tscf
ip -n "$ns" -o link show | grep -q ' tscf[0-9]*s@tscf[0-9]*:' || fail "template twin"
echo ok
