#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# One tscfd, many clear tunnels from tscf-load (selftests/bench/tscf-load.c),
# all on the loopback of a namespace made for the run.
#
#   sh selftests/bench/scale.sh udp|tcp COUNT [tscf-load options...]
#
# Prints "key: value" lines: tscf-load's report, then the server's own
# figures: heap per tunnel (mallinfo2), the timer ticks while the tunnels
# were kept alive and while they all expired, and the time that took.
# Env: SCALE_HOLD (seconds of keepalives after the setup, default 50), SCALE_EXPIRE (1:
# wait for every tunnel to time out and report it; default 1),
# SCALE_FLOWS (share of tunnels, %, that bind a flow; default 100),
# SCALE_KERNEL_DATAPATH (tscfd's kernel-datapath: auto, the default, hands
# TCP sessions to tscf.ko where it is loaded; no keeps them in tscfd).
# Also printed: the machine's MemFree drop per tunnel (sockets at both
# ends, tscfd, tscf-load and the kernel's peers together).
# Exit status: tscf-load's (non-zero if fewer tunnels came up than asked,
# or over --max-bytes-per-tunnel), or 1 if the expiry did not finish.
: "${TSCF_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TSCF_TOP/selftests/lib.sh"
TRANSPORT=$1
COUNT=$2
shift 2
HOLD=${SCALE_HOLD:-50}
FLOWS=${SCALE_FLOWS:-100}
TSCFD=${TSCFD:-$TSCF_TOP/server/tscfd}
LOAD=${TSCF_LOAD:-$TSCF_TOP/build/bench/tscf-load}
[ -x "$TSCFD" ] || fail "server/tscfd not built"
if [ ! -x "$LOAD" ]; then
	mkdir -p "$(dirname "$LOAD")"
	make -s -C "$TSCF_TOP/tools" lib || fail "tools/lib"
	cc -O2 -g -Wall -Wextra -Werror -std=gnu11 -I"$TSCF_TOP/uapi" \
		-I"$TSCF_TOP/tools/lib" "$TSCF_TOP/selftests/bench/tscf-load.c" \
		"$TSCF_TOP/tools/lib/libtscfproto.a" -o "$LOAD" || fail "build tscf-load"
fi

TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
# not in $(...): the namespace must be on this shell's list to be deleted
tscf_netns scale > /dev/null
NS=tscf-scale-$$
# tscfd raises its own descriptor limit as far as it may; tscf-load too.
cat > "$TMPD/tscfd.conf" <<CONF
tun-name tscfs0
kernel-datapath ${SCALE_KERNEL_DATAPATH:-auto}
control-socket $TMPD/tscfd.sock
user root
log-level notice
keepalive-interval 15
datagram-keepalive-timeout 45
stream-idle-timeout 20
stream-persistent-timeout 25

tscf-interface
    address 127.0.0.1
    port 4000
    local-address-pool-v4 10.64.0.0/14
    max-tunnels 200000
CONF
ip netns exec "$NS" "$TSCFD" -c "$TMPD/tscfd.conf" > "$TMPD/tscfd.log" 2>&1 &
TSCFD_PID=$!
at_exit "kill $TSCFD_PID 2>/dev/null"
wait_for 10 grep -q ready "$TMPD/tscfd.log" || fail "tscfd did not start: $(cat "$TMPD/tscfd.log")"
stat() {
	ip netns exec "$NS" "$TSCFD" --stats -s "$TMPD/tscfd.sock" | awk -v k="$1:" '$1 == k { print $2 }'
}
heap0=$(stat heap_bytes)
# The whole machine's share: MemFree with the page cache dropped (where
# it may be), so the kernel's memory per tunnel (sockets at both ends,
# the server device's peers) is seen with tscfd's and tscf-load's.
mem_free_kib() {
	sync
	echo 3 2> /dev/null > /proc/sys/vm/drop_caches || true
	awk '$1 == "MemFree:" { print $2 }' /proc/meminfo
}
free0=$(mem_free_kib)

# tscf-load reports, then holds its sockets open (silent) until "linger"
# is removed: the server is measured with the tunnels, then they expire.
rc=0
ip netns exec "$NS" "$LOAD" --transport "$TRANSPORT" --server 127.0.0.1 --port 4000 \
	--count "$COUNT" --pid "$TSCFD_PID" --flows-share "$FLOWS" \
	--hold-secs "$HOLD" --keepalive-secs 15 --linger "$TMPD/linger" "$@" \
	> "$TMPD/load" 2>&1 &
LOAD_PID=$!
at_exit "rm -f $TMPD/linger; kill $LOAD_PID 2>/dev/null"
while [ ! -e "$TMPD/linger" ] && kill -0 $LOAD_PID 2>/dev/null; do
	sleep 0.2
done
up=$(awk '$1 == "tunnels_up:" { print $2 }' "$TMPD/load")
heap1=$(stat heap_bytes)
free1=$(mem_free_kib)
echo "server_heap_bytes: $heap0 $heap1"
if [ "${up:-0}" -gt 0 ] && [ -n "$heap0" ] && [ -n "$heap1" ]; then
	echo "heap_bytes_per_tunnel: $(( (heap1 - heap0) / up ))"
	echo "system_mem_free_kib: $free0 $free1"
	echo "system_kib_per_tunnel: $(echo "scale=1; ($free0 - $free1) / $up" | bc)"
fi
echo "kernel_peers: $(stat kernel_peers)"
echo "kernel_fast_peers: $(stat kernel_fast_peers)"
echo "hold_timer_tick_max_us: $(stat timer_tick_max_us)"
echo "hold_timer_tick_max_cpu_us: $(stat timer_tick_max_cpu_us)"
echo "hold_timer_tunnels_visited: $(stat timer_tunnels)"

# Everything expires together (no more keepalives): the wheel closes them
# 256 a tick, between which the sockets are served.
if [ "${SCALE_EXPIRE:-1}" = 1 ] && [ "${up:-0}" -gt 0 ]; then
	start=$(date +%s.%N)
	wait_for 240 sh -c "[ \"\$(ip netns exec $NS $TSCFD --stats -s $TMPD/tscfd.sock | awk '\$1 == \"tunnels:\" { print \$2 }')\" = 0 ]" ||
		{ echo "FAIL: tunnels left after 240 s: $(stat tunnels)" >&2; rc=1; }
	end=$(date +%s.%N)
	echo "expiry_secs: $(echo "$end - $start" | bc)"
	echo "expiry_closed: $(stat tunnels_closed)"
	echo "timer_tick_max_us: $(stat timer_tick_max_us)"
	echo "timer_tick_max_cpu_us: $(stat timer_tick_max_cpu_us)"
	echo "timer_tick_last_tunnels: $(stat timer_tick_tunnels)"
	echo "timer_tunnels_visited: $(stat timer_tunnels)"
fi
rm -f "$TMPD/linger"
wait $LOAD_PID || rc=$?
cat "$TMPD/load"
exit $rc
