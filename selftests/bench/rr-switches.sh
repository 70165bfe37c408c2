#!/bin/sh
# rr-switches.sh (in the VM; docs/BENCH.md "Where the stream tunnels'
# round trip goes"): 4 s of sockperf ping-pong (64-byte UDP messages one at a
# time) through tscf0 over a TCP tunnel, then through tscf0s (kTLS), then
# the TCP tunnel again, each under "perf stat -a" of the software events
# context-switches and cpu-migrations; prints the median round trip and
# the context switches per round trip of each.
#   sh selftests/vm/vm-run.sh sh selftests/bench/rr-switches.sh
TSCF_TOP=${TSCF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
command -v perf > /dev/null || fail "perf is not installed"
command -v sockperf > /dev/null || fail "sockperf is not installed"
tscfd_topology rrsw DTTE
ue_tscf0
ip netns exec "$SRV" sockperf server -i 0.0.0.0 -p 11111 > "$TMPD/sp.log" 2>&1 &
at_exit "kill $!"
sleep 1
# rr NAME PREFIX...: 4 s of sockperf ping-pong under perf stat (software events)
rr() {
	name=$1; shift
	perf stat -a -x, -e context-switches,cpu-migrations -o "$TMPD/$name.stat" -- \
		"$@" sockperf ping-pong -i 10.100.0.1 -p 11111 -m 64 -t 4 --full-rtt > "$TMPD/$name.rr" 2>&1
	n=$(sed -n 's/.*SentMessages=\([0-9]*\).*/\1/p' "$TMPD/$name.rr" | head -1)
	p50=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' "$TMPD/$name.rr")
	cs=$(awk -F, '$3 == "context-switches" { print $1 }' "$TMPD/$name.stat")
	echo "$name: sent $n, p50 $p50 us, context switches $cs, per round trip $(python3 -c "print(round($cs / max(1, $n), 1))")"
	grep -E "Summary|observations" "$TMPD/$name.rr" | head -2
}
tscfctl_up tcp
rr tcp-clear ip netns exec "$UE"
ip netns exec "$UE" python3 "$TSCF_TOP/selftests/lib/app.py" --proto udp \
	--dst 10.100.0.1 --port 7000 level:1 waitpath:encrypted sleep:600 > /dev/null 2>&1 &
holder=$!
at_exit "kill $holder"
wait_for 30 has_tunnel "$UE" tscf0s || fail "no enc tunnel"
rr ktls ip netns exec "$UE" "$TSCF_TOP/tools/tscf-exec" --level encrypted-only --
rr tcp-clear-again ip netns exec "$UE"
