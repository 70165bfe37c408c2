#!/bin/sh
# Only CAP_NET_ADMIN configures tscf devices; MTU bounds are enforced.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ns=$(tscf_netns perm)

expect_fail "unprivileged add" ip netns exec "$ns" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	ip link add tscf0 type tscf
link_exists "$ns" tscf0 && fail "unprivileged add created a device"

ip -n "$ns" link add tscf0 type tscf
expect_fail "unprivileged del" ip netns exec "$ns" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	ip link del tscf0
link_exists "$ns" tscf0 || fail "unprivileged del removed the device"

ip -n "$ns" link set tscf0 mtu 1280 || fail "mtu 1280 refused"
ip -n "$ns" link set tscf0 mtu 9000 || fail "mtu 9000 refused"
expect_fail "mtu 67" ip -n "$ns" link set tscf0 mtu 67
expect_fail "mtu 65535" ip -n "$ns" link set tscf0 mtu 65535
echo ok
