#!/bin/sh
# make bench-voice (in the VM; see docs/BENCH.md, "make bench-voice"): one
# voice call (selftests/bench/rtpvoice.c: 172-byte RTP packets, 50 pps,
# VOICE_SECONDS long, default 20) from UE to SRV through each path, with
# netem on the OUTER link only (the veth between the namespaces, both
# directions): VOICE_DELAY_MS (default 20) of delay and each loss of
# VOICE_LOSS (default "1 3", in %).  Rows (VOICE_ROWS):
#   veth          the bare link (what the impairment alone does)
#   tscf0-udp     the clear tunnel over UDP
#   tscf0s-ktls   the encrypted twin over TLS/TCP (kTLS) beside it ("enc
#                 tls": over UDP the default tries DTLS first)
#   tscf0s-dtls   the same with "tscfctl up ... encrypted dtls" (no
#                 fallback to TLS); skipped, with the reason, under a
#                 tscfctl that does not know the words
#   wireguard     kernel WireGuard, the datagram peer
# Each call prints one JSON line; the set goes to stdout between
# VOICE-JSON-BEGIN/END for selftests/bench/voice_report.py on the host.
# A call that cannot be measured is recorded with its error, the other
# rows still run, and the script exits 1 at the end.
TSCF_TOP=${TSCF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TSCF_TOP/selftests/lib.sh"
SECS=${VOICE_SECONDS:-20}
COUNT=$((SECS * 50))
DELAY=${VOICE_DELAY_MS:-20}
LOSSES=${VOICE_LOSS:-1 3}
ROUNDS=${VOICE_ROUNDS:-1}
ROWS=${VOICE_ROWS:-veth tscf0-udp tscf0s-ktls tscf0s-dtls wireguard}
V="$TSCF_TOP/build/bench/rtpvoice"
EXEC="$TSCF_TOP/tools/tscf-exec"
PORT=5006
# A call lasts SECS, the receiver waits up to 30 s for its first packet and
# 3 s after the last one was due.
CALL_LIMIT=$((SECS + 60))
[ -x "$V" ] || fail "$V not built (make bench-voice builds it)"
command -v wg > /dev/null || fail "wg is not installed (tools/install-deps.sh)"

tscfd_topology voice DTTE
. "$TSCF_TOP/selftests/bench/guard.sh"
guard_watchdog $((CALL_LIMIT + 60))
ip netns exec "$UE" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip -n "$UE" link add tscf0 type tscf
modprobe sch_netem 2>/dev/null || true
tc -n "$UE" qdisc add dev veth-ue root netem delay 1ms ||
	fail "netem is not available in this kernel"
tc -n "$UE" qdisc del dev veth-ue root
CALLS="$TMPD/calls.jsonl"
: > "$CALLS"
FAILED=0

# json_str: stdin as one JSON string.
json_str() {
	head -c 400 | python3 -c 'import json, sys; print(json.dumps(sys.stdin.read()))'
}

# record ROUND ROW LOSS FILE|"" [ERROR]: one call (the receiver's JSON in FILE).
record() {
	if [ -n "$4" ] && [ -s "$4" ]; then
		printf '{"round": %s, "row": "%s", "loss_pct": %s, "result": %s}\n' \
			"$1" "$2" "$3" "$(cat "$4")" >> "$CALLS"
		echo "# round $1 $2 loss $3%: $(cat "$4")"
	else
		FAILED=$((FAILED + 1))
		printf '{"round": %s, "row": "%s", "loss_pct": %s, "error": %s}\n' \
			"$1" "$2" "$3" "$(printf '%s' "$5" | json_str)" >> "$CALLS"
		echo "# round $1 $2 loss $3%: FAILED: $5"
	fi
}

# skip_row ROW WHY: a row this build cannot run; said, not counted as failed.
skip_row() {
	printf '{"row": "%s", "skipped": %s}\n' "$1" "$(printf '%s' "$2" | json_str)" >> "$CALLS"
	echo "# $1: SKIPPED: $2"
}

# impair LOSS: netem on both ends of the outer veth; unimpair takes it off.
impair() {
	tc -n "$UE" qdisc replace dev veth-ue root netem delay "${DELAY}ms" loss "$1%" &&
	tc -n "$SRV" qdisc replace dev veth-srv root netem delay "${DELAY}ms" loss "$1%"
}
unimpair() {
	tc -n "$UE" qdisc del dev veth-ue root 2>/dev/null || true
	tc -n "$SRV" qdisc del dev veth-srv root 2>/dev/null || true
}

# call ROUND ROW LOSS DST PREFIX...: one call under the impairment.
call() {
	c_r=$1 c_row=$2 c_loss=$3 c_dst=$4
	shift 4
	step "round $c_r $c_row loss $c_loss%: call of $COUNT packets to $c_dst"
	rm -f "$TMPD/call.json"
	if ! impair "$c_loss"; then
		record "$c_r" "$c_row" "$c_loss" "" "tc netem failed"
		return
	fi
	ip netns exec "$SRV" "$V" recv 0.0.0.0 $PORT $COUNT > "$TMPD/call.json" 2> "$TMPD/call.err" &
	c_rcv=$!
	wait_secs 10 sh -c "ip netns exec $SRV ss -Hlun | grep -q ':$PORT '" || true
	c_rc=0
	bounded "$CALL_LIMIT" "rtpvoice sender ($c_row)" \
		"$@" "$V" send "$c_dst" $PORT $COUNT > "$TMPD/send.out" 2>&1 || c_rc=$?
	if reap $c_rcv "$CALL_LIMIT" "rtpvoice receiver ($c_row)"; then
		record "$c_r" "$c_row" "$c_loss" "$TMPD/call.json"
	else
		record "$c_r" "$c_row" "$c_loss" "" \
			"receiver: ${REAP_WHY:-$(cat "$TMPD/call.err")}; sender (exit $c_rc): $(cat "$TMPD/send.out")"
	fi
	unimpair
}

# WireGuard between the same namespaces (as in bench.sh).
(umask 077; wg genkey > "$TMPD/k1"; wg genkey > "$TMPD/k2")
wg pubkey < "$TMPD/k1" > "$TMPD/p1"
wg pubkey < "$TMPD/k2" > "$TMPD/p2"
ip -n "$UE" link add wg0 type wireguard
ip -n "$SRV" link add wg0 type wireguard
ip netns exec "$UE" wg set wg0 private-key "$TMPD/k1" peer "$(cat "$TMPD/p2")" \
	allowed-ips 10.200.0.2/32 endpoint 10.10.0.2:51820 persistent-keepalive 5
ip netns exec "$SRV" wg set wg0 private-key "$TMPD/k2" listen-port 51820 \
	peer "$(cat "$TMPD/p1")" allowed-ips 10.200.0.1/32
ip -n "$UE" addr add 10.200.0.1/24 dev wg0
ip -n "$SRV" addr add 10.200.0.2/24 dev wg0
ip -n "$UE" link set wg0 up
ip -n "$SRV" link set wg0 up

# tunnel_up NS DEV: has_tunnel, bounded (it asks the kernel over netlink).
tunnel_up() {
	timeout -k 2 10 ip netns exec "$1" $TSCF_NL dev "$2" | grep -q '"tunnel"'
}

# tscf_up LOG [WORDS...]: tscfctl up over UDP (extra words appended);
# returns once the clear tunnel is up.
tscf_up() {
	t_log=$1
	CTL_LOG=$1
	shift
	step "tscfctl up tscf0 transport udp $*"
	ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport udp \
		ca "$TMPD/ca.pem" "$@" > "$t_log" 2>&1 &
	CTL_PID=$!
	at_exit "kill $CTL_PID 2>/dev/null"
	wait_secs 30 sh -c "grep -q 'clear tunnel up' $t_log || ! kill -0 $CTL_PID" || true
	grep -q 'clear tunnel up' "$t_log"
}

# tscf_down: the helper ends; one that does not is killed and the tunnel
# taken down with "tscfctl down" (reported in the log).
tscf_down() {
	step "tscfctl helper ends on SIGTERM"
	# A helper that is gone already ended on its own: say why.
	if ! kill -0 $CTL_PID 2>/dev/null; then
		st=0
		wait $CTL_PID 2>/dev/null || st=$?
		echo "# the tscfctl helper had ended by itself, exit status $st$([ $st -le 128 ] || echo " (signal $((st - 128)))"): $(tail -n 5 "$CTL_LOG" | tr '\n' ' ')" >&3
		return 0
	fi
	kill $CTL_PID 2>/dev/null || true
	reap $CTL_PID 30 "tscfctl helper after SIGTERM" && return
	[ -n "$REAP_WHY" ] || return 0
	bounded 30 "tscfctl down tscf0" ip netns exec "$UE" "$CTL" down tscf0 ||
		echo "# tscfctl down tscf0 failed too" >&3
}

# encrypted_call ROUND ROW LOSS LOG: a marked socket holds tscf0s up, then
# the call runs encrypted-only through it.
encrypted_call() {
	ip netns exec "$UE" python3 "$TSCF_TOP/selftests/lib/app.py" --proto udp \
		--dst 10.100.0.1 --port 7000 level:1 waitpath:encrypted sleep:600 > /dev/null 2>&1 &
	e_holder=$!
	step "round $1 $2: a marked socket brings tscf0s up"
	if wait_secs 30 tunnel_up "$UE" tscf0s; then
		# Which tunnel carries it (DTLS or TLS), for the log.
		bounded 20 "tscfctl show" ip netns exec "$UE" "$CTL" show tscf0 2>&1 |
			grep 'tunnel: ' | sed 's/^ */# tscfctl show: /' || true
		call "$1" "$2" "$3" 10.100.0.1 ip netns exec "$UE" "$EXEC" --level encrypted-only --
	else
		why_no_tunnel "$4"
		record "$1" "$2" "$3" "" "no encrypted tunnel: $(tail -n 3 "$4" | tr '\n' ' ')"
	fi
	kill $e_holder 2>/dev/null || true
	reap $e_holder 20 "holder of tscf0s (app.py) after SIGTERM" || true
}

# DTLS_WHY: set once tscfctl refused "encrypted dtls" as a word it does
# not know (a tscfctl from before DTLS); the row is skipped from then on.
DTLS_WHY=""

# row ROUND ROW LOSS: one row under one loss.
row() {
	case $2 in
	veth)
		call "$1" veth "$3" 10.10.0.2 ip netns exec "$UE" ;;
	wireguard)
		call "$1" wireguard "$3" 10.200.0.2 ip netns exec "$UE" ;;
	tscf0-udp | tscf0s-ktls)
		if tscf_up "$TMPD/ctl.log" enc tls; then
			if [ "$2" = tscf0-udp ]; then
				call "$1" "$2" "$3" 10.100.0.1 ip netns exec "$UE"
			else
				encrypted_call "$1" "$2" "$3" "$TMPD/ctl.log"
			fi
		else
			record "$1" "$2" "$3" "" "tscfctl up: $(tail -n 3 "$TMPD/ctl.log" | tr '\n' ' ')"
		fi
		tscf_down ;;
	tscf0s-dtls)
		if tscf_up "$TMPD/ctl-dtls.log" encrypted dtls; then
			encrypted_call "$1" "$2" "$3" "$TMPD/ctl-dtls.log"
		elif grep -q "unknown setting '\(dtls\|encrypted\)'" "$TMPD/ctl-dtls.log"; then
			DTLS_WHY="this tscfctl does not know 'encrypted dtls': $(head -n 1 "$TMPD/ctl-dtls.log")"
		else
			record "$1" "$2" "$3" "" "tscfctl up ... encrypted dtls: $(tail -n 3 "$TMPD/ctl-dtls.log" | tr '\n' ' ')"
		fi
		tscf_down ;;
	*)
		record "$1" "$2" "$3" "" "unknown row '$2'" ;;
	esac
}

for r in $(seq 1 "$ROUNDS"); do
	for loss in $LOSSES; do
		for name in $ROWS; do
			if [ "$name" = tscf0s-dtls ] && [ -n "$DTLS_WHY" ]; then
				continue
			fi
			row "$r" "$name" "$loss"
		done
	done
done
case " $ROWS " in *" tscf0s-dtls "*) [ -z "$DTLS_WHY" ] || skip_row tscf0s-dtls "$DTLS_WHY" ;; esac
step "calls done"

accel=TCG
dmesg | grep -q 'Hypervisor detected: KVM' && accel=KVM
echo VOICE-JSON-BEGIN
python3 - "$CALLS" "$accel" "$SECS" "$DELAY" "$LOSSES" "$ROUNDS" "$ROWS" <<'PY'
import json, os, platform, sys, time
cpu = "unknown"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
print(json.dumps({
    "meta": {"kernel": platform.release(), "cpu": cpu, "nproc": os.cpu_count(),
             "accel": sys.argv[2], "seconds": int(sys.argv[3]), "pps": 50,
             "payload": 172, "delay_ms": int(sys.argv[4]),
             "loss_pct": [float(x) for x in sys.argv[5].split()],
             "rounds": int(sys.argv[6]), "rows": sys.argv[7].split(),
             "playout_ms": 60,
             "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
    "calls": [json.loads(l) for l in open(sys.argv[1])],
}, indent=1))
PY
echo VOICE-JSON-END
[ "$FAILED" -eq 0 ] || fail "$FAILED calls failed (see FAILED above)"
