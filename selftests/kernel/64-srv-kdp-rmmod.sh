#!/bin/sh
# rmmod tscf while tscfd serves a clear UDP session on its kernel data
# path.  The module goes (the server device with it: no crash, no warning,
# no leak, which the VM runner's dmesg scan and the debug lane's kmemleak
# judge), and tscfd notices within its 1 s tick: it logs, its
# kernel_datapath gauge drops to 0, it puts the pools on its TUN, and the
# same session keeps working through tscfd in userspace.  The client is
# the protocol-level python one: a tscf0 client device would hold the
# module.  The module is loaded again at the end for the tests after this.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
[ -n "${TSCF_KO:-}" ] && [ -f "$TSCF_KO" ] || fail "TSCF_KO not set: cannot load the module again"
at_exit "[ -d /sys/module/tscf ] || insmod $TSCF_KO"
# rmmod needs no reference left: a marked socket of an earlier test of the
# boot holds one until it is gone, through TIME_WAIT (60 s).
wait_for 90 sh -c '[ "$(cat /sys/module/tscf/refcnt)" = 0 ]' ||
	fail "tscf.ko still referenced before the test: $(cat /sys/module/tscf/refcnt); $($TSCF_NL socks | head -3)"
tscfd_topology rmmod ""
expect_eq "kernel_datapath" "$(tscfd_stat kernel_datapath)" 1

hold="$TMPD/hold"
ip netns exec "$UE" $TSCF_CLIENT echo_hold --transport udp --addr 10.10.0.2 --port 4000 \
	--hold "$hold" > "$TMPD/client" 2>&1 &
cpid=$!
wait_for 20 test -e "$hold.ready" || fail "the client did not get its first echo: $(cat "$TMPD/client"; tail -5 "$TMPD/tscfd.log")"
expect_eq "kernel_fast_peers" "$(tscfd_stat kernel_fast_peers)" 1
tun_before=$(link_stat "$SRV" tscfs0 tx_packets)

rmmod tscf 2> "$TMPD/rmmod" || fail "rmmod: $(cat "$TMPD/rmmod")"
ip -n "$SRV" link show tscfsrv0 > /dev/null 2>&1 && fail "tscfsrv0 outlived the module"
wait_for 5 grep -q 'kernel data path: server device tscfsrv0 is gone' "$TMPD/tscfd.log" ||
	fail "tscfd did not notice: $(tail -5 "$TMPD/tscfd.log")"
expect_eq "kernel_datapath after rmmod" "$(tscfd_stat kernel_datapath)" 0
expect_eq "kernel_peers after rmmod" "$(tscfd_stat kernel_peers)" 0
ip -n "$SRV" -4 addr show dev tscfs0 | grep -q 'inet 10.100.0.1/16' ||
	fail "the pool is not on the TUN: $(ip -n "$SRV" addr show dev tscfs0)"
touch "$hold"
wait $cpid || fail "no echo after rmmod: $(cat "$TMPD/client"; tail -5 "$TMPD/tscfd.log")"
log "client: $(cat "$TMPD/client")"
tun_after=$(link_stat "$SRV" tscfs0 tx_packets)
[ "$tun_after" -gt "$tun_before" ] || fail "the echo did not go through the TUN ($tun_before -> $tun_after)"
kill -0 "$TSCFD_PID" || fail "tscfd died"
kill "$TSCFD_PID"
insmod "$TSCF_KO" || fail "insmod after the test"
echo ok
