#!/bin/sh
# The bound on a server device's srv-frame events and a full event
# socket (docs/SERVER.md, "Kernel data path"), through the genl API
# alone: selftests/lib/srv_event_bound.py plays tscfd and the clients and
# checks that a stream peer hands tscfd at most 32 events beyond the last
# frame-seq it acknowledged (then reads no more until the next one),
# another peer going on meanwhile; that frames finding the event socket
# full wait and all arrive, in order, none lost, no connection shut;
# that after 5 s without room one is lost and its connection shut; that
# a FIN behind a held stream waits for its frames; that peers held or
# with a frame waiting can be deleted; and where frame-seq is accepted.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
SST=$(tscf_netns sst)
ip -n "$SST" tuntap add dev sstpunt mode tun
ip -n "$SST" link set sstpunt up

rc=0
ip netns exec "$SST" python3 "$TSCF_TOP/selftests/lib/srv_event_bound.py" sstpunt \
	> "$TMPD/out" 2>&1 || rc=$?
cat "$TMPD/out"
[ $rc -eq 0 ] || fail "srv_event_bound.py: $(grep -c '^FAIL' "$TMPD/out") checks failed"
log "event bound: $(grep -c '^ok:' "$TMPD/out") checks passed"
