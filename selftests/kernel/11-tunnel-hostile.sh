#!/bin/sh
# Bad input never crashes or warns: malformed frames are counted and
# dropped (a stream that cannot be parsed is closed), bad netlink requests
# fail with a message.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology hostile
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

# UDP: a bad nibble, an IPv4 header claiming more bytes than it has, a
# control frame shorter than its header.  The tunnel stays up.
ip netns exec "$SRV" $TSCF_PEER server --transport udp --addr 10.10.0.2 --port 4100 \
	--inject ff00 4500005000000000401100000a6400010a640002 1005 > "$tmp/s1" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 5 grep -q listening "$tmp/s1" || fail "server"
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport udp --addr 10.10.0.2 --port 4100 ||
	fail "attach udp"
# The first datagram makes the server send its garbage back.
got=$(udp_echo "$UE" 10.100.0.1 7000 first)
expect_eq "echo after garbage" "$got" "echo:first"
rx_malformed_is() { [ "$(tunnel_stat "$UE" tscf0 rx_malformed)" = "$1" ]; }
wait_for 30 rx_malformed_is 3 ||
	fail "rx_malformed: $(ip netns exec "$UE" $TSCF_NL dev tscf0)"
has_tunnel "$UE" tscf0 || fail "UDP tunnel dropped on garbage"
[ "$(link_stat "$UE" tscf0 rx_dropped)" -ge 3 ] || fail "device rx_dropped"
ip netns exec "$UE" $TSCF_NL detach tscf0

# TCP: garbage in the stream closes the tunnel with PROTO_ERROR.
ip netns exec "$SRV" $TSCF_PEER server --transport tcp --addr 10.10.0.2 --port 4101 \
	--inject ff00ff00 > "$tmp/s2" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 5 grep -q listening "$tmp/s2" || fail "server"
start_listener "$UE" "$tmp/ev" 60 '"event": 2, "reason": 4'
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport tcp --addr 10.10.0.2 --port 4101 ||
	fail "attach tcp"
wait $LISTENER
grep -q '"event": 2, "reason": 4' "$tmp/ev" || fail "no PROTO_ERROR down event: $(cat "$tmp/ev")"
has_tunnel "$UE" tscf0 && fail "tunnel survived an unparsable stream"

# Netlink: each bad request fails with a clear message.
nl_err() {
	what=$1
	want=$2
	shift 2
	out=$(ip netns exec "$UE" $TSCF_NL "$@" 2>&1) && fail "$what: succeeded"
	log "$what: $out"
	echo "$out" | grep -q "$want" || fail "$what: message '$out' lacks '$want'"
}
nl_err "fd not a socket" "not a socket" attach tscf0 0 0x5
nl_err "TSID zero" "TSID 0" attach tscf0 1 0
nl_err "not a tscf device" "not a tscf device" detach veth-ue
nl_err "no tunnel" "has no tunnel" detach tscf0
nl_err "bad control frame" "not one well-formed control frame" send-ctrl tscf0 4500
nl_err "ctrl without tunnel" "has no tunnel" send-ctrl tscf0 10050000000000000000007700000001
# attach without FD (attr 5 = TUNNEL, nested TSID only)
nl_err "missing FD" "Invalid argument" raw 3 1:u32:$(ip netns exec "$UE" cat /sys/class/net/tscf0/ifindex) 32773:hex:0c0002000500000000000000
nl_err "read-only attribute" "Invalid argument" raw 1 3:hex:01
# attach with TUNNEL{FD, TSID, TRANSPORT}: the generated nest policy knows
# TRANSPORT (dev-get answers carry it), the command refuses it.
nl_err "read-only tunnel attribute" "read-only attribute" raw 3 \
	1:u32:$(ip netns exec "$UE" cat /sys/class/net/tscf0/ifindex) \
	32773:hex:08000100000000000c00020005000000000000000500030001000000
nl_err "unknown device" "no such device" raw 1 2:str:nosuchdev
nl_err "no device named" "IFINDEX or IFNAME" raw 4

# Unprivileged callers are refused.
out=$(ip netns exec "$UE" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	$TSCF_NL detach tscf0 2>&1) && fail "unprivileged detach succeeded"
echo "$out" | grep -q "Operation not permitted" || fail "unprivileged message: $out"
echo ok
