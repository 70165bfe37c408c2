#!/bin/sh
# Two pairs coexist; name collisions fail with a clear message.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ns=$(tscf_netns names)

ip -n "$ns" link add tscf0 type tscf
ip -n "$ns" link add tscf1 type tscf
for d in tscf0 tscf0s tscf1 tscf1s; do
	link_exists "$ns" $d || fail "$d missing"
done

out=$(ip -n "$ns" link add tscf0 type tscf 2>&1) && fail "duplicate add succeeded"
log "duplicate: $out"
echo "$out" | grep -q 'File exists' || fail "duplicate message: $out"

# The twin's name is taken by another device.
ip -n "$ns" link add tscf2s type veth peer name other2
out=$(ip -n "$ns" link add tscf2 type tscf 2>&1) && fail "add with twin name taken succeeded"
log "twin taken: $out"
echo "$out" | grep -q "encrypted twin's name" || fail "twin message: $out"
link_exists "$ns" tscf2 && fail "tscf2 left behind after failed add"

# 15 characters leave no room for the 's'.
out=$(ip -n "$ns" link add abcdefghijklmno type tscf 2>&1) && fail "long name succeeded"
log "long name: $out"
echo "$out" | grep -q "no room" || fail "long-name message: $out"

# A tscf device has no link-layer address to set.
out=$(ip -n "$ns" link add tscf3 address 02:00:00:00:00:01 type tscf 2>&1) &&
	fail "add with address succeeded"
echo "$out" | grep -q "no link-layer address" || fail "address message: $out"

ip -n "$ns" link del tscf0
link_exists "$ns" tscf1 || fail "deleting tscf0 removed tscf1"
link_exists "$ns" tscf1s || fail "deleting tscf0 removed tscf1s"
echo ok
