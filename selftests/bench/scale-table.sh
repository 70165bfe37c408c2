#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench-scale: 200,000 clear UDP tunnels and 20,000 TCP tunnels on one
# tscfd (selftests/bench/scale.sh), a Markdown table on stdout and the full
# reports in build/bench/scale-*.log.  The TCP run needs a descriptor per
# tunnel in both tscfd and tscf-load: where the hard RLIMIT_NOFILE is too
# low and cannot be raised (a container without CAP_SYS_RESOURCE), it runs
# in the test VM instead (selftests/vm/vm-run.sh), and the table says so.
# Env: SCALE_UDP (200000), SCALE_TCP (20000).
set -u
TSCF_TOP=$(cd "$(dirname "$0")/../.." && pwd)
export TSCF_TOP
UDP=${SCALE_UDP:-200000}
TCP=${SCALE_TCP:-20000}
OUT=$TSCF_TOP/build/bench
mkdir -p "$OUT"
rc=0

val() { awk -v k="$2:" '$1 == k { print $2 }' "$1"; }

row() {	# row LOG TRANSPORT WHERE
	printf '| %s | %s | %s/%s | %s | %s | %s | %s | %s / %s | %s / %s | %s |\n' "$2" "$3" \
		"$(val "$1" tunnels_up)" "$(val "$1" tunnels_asked)" \
		"$(val "$1" config_per_sec)" "$(val "$1" bytes_per_tunnel)" \
		"$(val "$1" bytes_per_tunnel_flows)" "$(val "$1" heap_bytes_per_tunnel)" \
		"$(val "$1" hold_timer_tick_max_cpu_us)" "$(val "$1" hold_timer_tick_max_us)" \
		"$(val "$1" timer_tick_max_cpu_us)" "$(val "$1" timer_tick_max_us)" \
		"$(val "$1" expiry_secs | cut -c1-5)"
}

can_nofile() {	# can this shell give N descriptors to two processes?
	[ "$(ulimit -Hn)" = unlimited ] && return 0
	[ "$(ulimit -Hn)" -ge $(($1 + 1300)) ] && return 0
	ulimit -Hn $(($1 + 1300)) 2>/dev/null
}

sh "$TSCF_TOP/selftests/bench/scale.sh" udp "$UDP" > "$OUT/scale-udp.log" 2>&1 || rc=1
where_tcp=host
if can_nofile "$TCP"; then
	sh "$TSCF_TOP/selftests/bench/scale.sh" tcp "$TCP" > "$OUT/scale-tcp.log" 2>&1 || rc=1
else
	where_tcp="VM (TCG)"
	make -s -C "$TSCF_TOP" kmod > /dev/null || rc=1	# vm-run loads tscf.ko
	sh "$TSCF_TOP/selftests/vm/vm-run.sh" sh selftests/bench/scale.sh tcp "$TCP" \
		> "$OUT/scale-tcp.log" 2>&1 || rc=1
fi

{
	echo "## tscfd at scale: $(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
	echo
	echo "Every tunnel binds one flow; keepalives every 15 s from the first request to 50 s after the setup, then all expire (timeouts 45 s)."
	echo "Bytes per tunnel: growth of tscfd's RssAnon over tunnels up; heap: mallinfo2, with the flow."
	echo
	echo "| transport | where | tunnels up | config req/s | bytes/tunnel | with a flow | heap/tunnel | max tick µs CPU / wall (alive) | max tick µs CPU / wall (with expiry) | expiry s |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	row "$OUT/scale-udp.log" udp host
	row "$OUT/scale-tcp.log" tcp "$where_tcp"
	echo
	echo "A tick looks at 256 tunnels at most; wall time includes the time the process was not running (a shared machine)."
	echo "Full reports: build/bench/scale-udp.log, build/bench/scale-tcp.log."
} | tee "$OUT/scale.md"
exit $rc
