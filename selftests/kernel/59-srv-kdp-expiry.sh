#!/bin/sh
# A mass expiry on tscfd's kernel data path: N fast peers on a server
# device, deleted one genl request each (as tscfd's timer sweep does)
# while datagrams from those peers and packets routed to them still flow.
# A delete frees its peer after RCU and waits for no grace period (the
# old code waited one per delete under RTNL); clearing fast still waits
# (the promise before a flow binding).  On the debug kernel, KASAN and kmemleak (the VM
# runner's scan) judge the freeing.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
N=$(scaled 2000)
NS=$(tscf_netns churn)
at_exit "ip netns del $NS"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
ip -n "$NS" link add punt0 type veth peer name punt1
ip -n "$NS" link set punt0 up
ip netns exec "$NS" python3 "$TSCF_TOP/selftests/lib/srv_churn.py" punt0 "$N" 3 > "$TMPD/churn" 2>&1 ||
	fail "srv_churn: $(cat "$TMPD/churn")"
log "$(cat "$TMPD/churn")"
val() { python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readlines()[-1])[sys.argv[2]])" "$TMPD/churn" "$1"; }
expect_eq "peers after the adds" "$(val peers_before)" "$N"
expect_eq "peers after the deletes" "$(val peers_after)" 0
# A delete waits for no grace period: counted (kprobes on the kernel's
# two waits, filtered on the churn process), not timed, so a loaded
# machine cannot fail it.  The fast clear must wait, which also shows
# that the probes count.
[ "$(val fast_clear_gp_waits)" = None ] &&
	fail "no kprobe events in tracefs: cannot count grace-period waits"
[ "$(val fast_clear_gp_waits)" -ge 1 ] ||
	fail "clearing fast waited for no grace period ($(val fast_clear_gp_waits))"
expect_eq "grace-period waits in $(val del_n) deletes" "$(val del_gp_waits)" 0
log "$(val del_n) deletes in $(val del_s)s, $N adds in $(val add_s)s"
# The owner's socket closed with the script: the device went with it.
ip -n "$NS" link show churn0 > /dev/null 2>&1 && fail "churn0 outlived its owner"
echo ok
