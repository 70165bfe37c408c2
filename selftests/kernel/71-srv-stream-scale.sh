#!/bin/sh
# Many stream peers on one server device (clear TCP sessions in the
# kernel), through the genl API alone (selftests/lib/srv_stream_scale.py):
# what an idle one costs the kernel once it has carried packets both ways
# and a frame of tscfd's (no receive buffer once its frames are cut, no
# page fragment of the connection's own: at most 16 KiB each; measured
# -10 to 5 KiB over four runs, MemFree being that noisy, where a module
# that keeps each connection's fragment gave 24 and a whole buffer 119),
# a frame larger than the lean buffer in two writes, deletes that wait
# for no grace period each (counted with kprobes, as 59 does for UDP
# peers) and still end each connection, and the device deleted under its
# peers.
# 2,000 peers, 200 on the debug kernel, where KASAN and kmemleak judge the
# reaper that frees them.  There the bound is 64 KiB: KASAN's quarantine
# keeps what the traffic freed (skbs, the buffers themselves) out of
# MemFree, about 27 KiB per peer there; a whole buffer still fails it.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
N=$(scaled 2000)
MAX_KIB=16
if [ "$TSCF_SCALE" -gt 1 ]; then MAX_KIB=64; fi
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
NS=$(tscf_netns ssc)
ip -n "$NS" tuntap add dev sscpunt mode tun
ip -n "$NS" link set sscpunt up
ip netns exec "$NS" sysctl -qw net.ipv4.conf.all.rp_filter=0
rc=0
ip netns exec "$NS" python3 "$TSCF_TOP/selftests/lib/srv_stream_scale.py" sscpunt "$N" "$MAX_KIB" > "$TMPD/out" 2>&1 || rc=$?
log "$(cat "$TMPD/out")"
[ $rc -eq 0 ] || fail "srv_stream_scale.py: $(grep -c FAIL "$TMPD/out") checks failed"
grep -q '"kib_per_peer"' "$TMPD/out" || fail "srv_stream_scale.py printed no figures"
echo ok
