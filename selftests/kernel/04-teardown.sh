#!/bin/sh
# Devices go away cleanly with their namespace and on rmmod, with traffic
# queued at them, and the module can be loaded again.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ko="${TSCF_KO:-$TSCF_TOP/kmod/tscf.ko}"
a=$(tscf_netns td-a)
b=$(tscf_netns td-b)

for ns in "$a" "$b"; do
	ip -n "$ns" link add tscf0 type tscf
	ip -n "$ns" link add tscf1 type tscf
	ip -n "$ns" addr add 10.203.0.1/24 dev tscf0
	ip -n "$ns" link set tscf0 up
	ip -n "$ns" link set tscf0s up
done

# The twins cannot be split across namespaces.
c=$(tscf_netns td-c)
expect_fail "move tscf0s to another netns" ip -n "$a" link set tscf0s netns "$c"

# Deleting a namespace deletes its pairs.
ip netns del "$b"
ip link add tscf-probe type tscf
ip link del tscf-probe

# A sender busy on tscf0 while the module goes away.
ip netns exec "$a" bash -c 'while :; do echo x > /dev/udp/10.203.0.2/9; done' 2>/dev/null &
sender=$!
at_exit "kill $sender 2>/dev/null"
sleep 0.5
rmmod tscf || fail "rmmod with live devices failed"
[ -d /sys/module/tscf ] && fail "module still loaded"
link_exists "$a" tscf0 && fail "tscf0 survived rmmod"
link_exists "$a" tscf1s && fail "tscf1s survived rmmod"
kill $sender 2>/dev/null
insmod "$ko" || fail "insmod after rmmod failed"
ip -n "$a" link add tscf0 type tscf || fail "add after reload failed"
echo ok
