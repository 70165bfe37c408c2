#!/bin/sh
# make bench (in the VM; see docs/BENCH.md): in one boot, every path below
# is measured BENCH_ROUNDS times (default 3), interleaved (round 1 runs
# every path once, then round 2, ...), each run for BENCH_SECONDS
# (default 4) per metric:
#   veth             the bare link (the reference)
#   wireguard        the kernel peer to compare with
#   openvpn-udp      Debian's OpenVPN 2.6, p2p over UDP, no cipher, no auth
#   openvpn-udp-aes  the same with TLS and AES-256-GCM
#   tscf0-udp        clear tunnel over UDP, tscfd's kernel data path
#   tscf0-udp-user   the same through tscfd itself (kernel-datapath no)
#   tscf0-tcp        clear tunnel over TCP, tscfd's kernel data path
#   tscf0-tcp-user   the same through tscfd itself (kernel-datapath no)
#   tscf0s-ktls      encrypted twin (kTLS) beside the UDP clear tunnel
#                    (tscfd hands its TLS tunnel to tscf.ko: an encrypted peer)
#   tscf0s-ktls-user the same through tscfd itself (kernel-datapath no)
#   tscf0s-dtls      encrypted twin (the module's DTLS 1.2 records) beside
#                    the UDP clear tunnel ("tscfctl up ... enc dtls")
# Metrics: iperf3 TCP Mbit/s and the whole VM's CPU ms per MB during it,
# sockperf UDP ping-pong round trip p50 (µs), and 172-byte UDP packets
# per second arriving at the far side with the sender at saturation
# (rtp172).  The raw runs go to stdout as JSON between BENCH-JSON-BEGIN/END
# lines; selftests/bench/report.py turns them into the table and chart on
# the host.  Then, as before: the time from setsockopt(encrypted-only) to
# the first encrypted packet beside WireGuard's first ping, and the kernel
# memory a marked socket costs; that Markdown goes between BENCH-MD-BEGIN/
# END.  A run that cannot be measured is recorded as an error and the
# script exits 1 at the end.
TSCF_TOP=${TSCF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TSCF_TOP/selftests/lib.sh"
SECS=${BENCH_SECONDS:-4}
ROUNDS=${BENCH_ROUNDS:-3}
EXEC="$TSCF_TOP/tools/tscf-exec"
RTP="$TSCF_TOP/build/bench/rtp172"
RR_PORT=11111
# No client may hang the run: each gets its measurement time and a margin.
LIMIT=$((SECS + 40))
# BENCH_ROWS: only these rows (names as in results.json), for a quick look.
ROWS=${BENCH_ROWS:-veth wireguard openvpn-udp openvpn-udp-aes tscf0-udp tscf0-udp-user tscf0s-ktls tscf0s-ktls-user tscf0s-dtls tscf0-tcp tscf0-tcp-user}
RTP_PORT=5004
[ -x "$RTP" ] || fail "$RTP not built (make bench builds it)"
for t in iperf3 sockperf openvpn wg; do
	command -v $t >/dev/null || fail "$t is not installed (tools/install-deps.sh)"
done

tscfd_topology bench DTTE
. "$TSCF_TOP/selftests/bench/guard.sh"
# The longest step is one client: its measurement time and a margin.
guard_watchdog $((LIMIT + 60))
ip netns exec "$UE" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip -n "$UE" link add tscf0 type tscf
RUNS="$TMPD/runs.jsonl"
: > "$RUNS"
FAILED=0

# Servers in SRV, on every address: iperf3 (TCP), sockperf (UDP echo).
ip netns exec "$SRV" iperf3 -s -D -I "$TMPD/iperf.pid"
at_exit "[ -f $TMPD/iperf.pid ] && kill \$(cat $TMPD/iperf.pid) 2>/dev/null"
ip netns exec "$SRV" sockperf server -i 0.0.0.0 -p $RR_PORT > "$TMPD/sockperf.log" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_secs 20 sh -c "ip netns exec $SRV ss -Hlun | grep -q ':$RR_PORT '" ||
	fail "sockperf server did not start: $(cat "$TMPD/sockperf.log")"

# record ROUND ROW METRIC VALUE [ERROR]: one run, as a JSON line; an
# empty VALUE, or one that is not a number, is a failed run.
record() {
	v=$4 err=${5:-}
	case $v in
	*[!0-9.]* | *.*.* | .* | *.)
		err="not a number: '$v'; $err"
		v=""
		;;
	esac
	if [ -n "$v" ]; then
		printf '{"round": %s, "row": "%s", "metric": "%s", "value": %s}\n' \
			"$1" "$2" "$3" "$v" >> "$RUNS"
		echo "# round $1 $2 $3 $v"
	else
		FAILED=$((FAILED + 1))
		printf '{"round": %s, "row": "%s", "metric": "%s", "value": null, "error": %s}\n' \
			"$1" "$2" "$3" "$(printf '%s' "$err" | head -c 300 |
			python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')" >> "$RUNS"
		echo "# round $1 $2 $3 FAILED: $err"
	fi
}

# busy_jiffies: CPU time of the whole VM, all CPUs, not idle nor iowait.
busy_jiffies() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# tcp_run ROUND ROW DST PREFIX...: iperf3 TCP; records Mbit/s and CPU ms/MB.
tcp_run() {
	r=$1 row=$2 dst=$3
	shift 3
	step "round $r $row: iperf3 TCP to $dst"
	b0=$(busy_jiffies)
	rc=0
	bounded $((LIMIT + 20)) "iperf3 client ($row)" \
		"$@" timeout -k 5 "$LIMIT" iperf3 -c "$dst" -t "$SECS" -J --connect-timeout 10000 \
		> "$TMPD/iperf.json" 2>&1 || rc=$?
	if [ $rc = 0 ]; then
		b1=$(busy_jiffies)
		out=$(python3 - "$TMPD/iperf.json" "$((b1 - b0))" "$(getconf CLK_TCK)" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["end"]["sum_received"]
mb = s["bytes"] / 1e6
busy_ms = int(sys.argv[2]) * 1000 / int(sys.argv[3])
print(round(s["bits_per_second"] / 1e6, 1), round(busy_ms / mb, 2) if mb else "")
PY
) || out=""
	else
		out=""
	fi
	set -- $out
	if [ $# -eq 2 ]; then
		record "$r" "$row" tcp_mbps "$1"
		record "$r" "$row" cpu_ms_per_mb "$2"
	else
		err=$(tr '\n' ' ' < "$TMPD/iperf.json" | grep -o '"error":[^}]*' || head -c 200 "$TMPD/iperf.json")
		[ $rc != 124 ] || err="timed out after $LIMIT s; $err"
		record "$r" "$row" tcp_mbps "" "iperf3 (exit $rc): $err"
		record "$r" "$row" cpu_ms_per_mb "" "no TCP run"
	fi
}

# rr_once ROW SECONDS PREFIX...: one sockperf ping-pong run into rr.log.
rr_once() {
	o_row=$1 o_secs=$2
	shift 2
	rc=0
	bounded $((o_secs + 60)) "sockperf client ($o_row)" \
		"$@" timeout -k 5 $((o_secs + 40)) sockperf ping-pong -i "$dst" -p $RR_PORT -m 64 \
		-t "$o_secs" --full-rtt > "$TMPD/rr.log" 2>&1 || rc=$?
	[ $rc != 124 ] || echo "timed out after $((o_secs + 40)) s" >> "$TMPD/rr.log"
}

# rr_run ROUND ROW DST PREFIX...: sockperf ping-pong, 64-byte UDP
# messages one at a time; records the round trip p50 in µs.  sockperf
# drops its first 400 ms as warm-up and reports nothing when too few
# round trips remain (a slow path on a loaded host in a short run): that
# run is repeated once, twice as long, and said so in the log.
rr_run() {
	r=$1 row=$2 dst=$3
	shift 3
	step "round $r $row: sockperf ping-pong to $dst"
	rr_once "$row" "$SECS" "$@"
	if grep -q 'No valid observations' "$TMPD/rr.log"; then
		step "round $r $row: sockperf had no valid observations; again for $((SECS * 2)) s"
		rr_once "$row" $((SECS * 2)) "$@"
	fi
	p50=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' "$TMPD/rr.log")
	record "$r" "$row" rr_p50_us "$p50" "sockperf: $(tail -n 3 "$TMPD/rr.log" | tr '\n' ' ')"
}

# rtp_run ROUND ROW DST PREFIX...: rtp172 at saturation; records the
# packets per second that arrive in SRV.
rtp_run() {
	r=$1 row=$2 dst=$3
	shift 3
	step "round $r $row: rtp172 to $dst"
	ip netns exec "$SRV" "$RTP" recv 0.0.0.0 $RTP_PORT "$SECS" > "$TMPD/rtp.out" 2> "$TMPD/rtp.err" &
	sink=$!
	wait_secs 10 sh -c "ip netns exec $SRV ss -Hlun | grep -q ':$RTP_PORT '" || true
	bounded $((LIMIT + 20)) "rtp172 sender ($row)" \
		"$@" timeout -k 5 "$LIMIT" "$RTP" send "$dst" $RTP_PORT "$((SECS + 2))" > "$TMPD/rtp-send.out" 2>&1 || true
	pps=""
	# The counter waits 20 s for a first packet, then SECS and a settling time.
	if reap $sink $((SECS + 40)) "rtp172 counter ($row)"; then
		pps=$(cat "$TMPD/rtp.out")
	elif [ -n "$REAP_WHY" ]; then
		echo "$REAP_WHY" >> "$TMPD/rtp.err"
	fi
	record "$r" "$row" rtp172_pps "$pps" \
		"rtp172: $(cat "$TMPD/rtp.err" "$TMPD/rtp-send.out" | tr '\n' ' ')"
}

# measure ROUND ROW DST PREFIX...: the three measurements of one path.
measure() {
	tcp_run "$@"
	rr_run "$@"
	rtp_run "$@"
}

# fail_row ROUND ROW WHY: a path that could not be brought up this round.
fail_row() {
	for m in tcp_mbps cpu_ms_per_mb rr_p50_us rtp172_pps; do
		record "$1" "$2" $m "" "$3"
	done
}

# WireGuard between the same namespaces.
(umask 077; wg genkey > "$TMPD/k1"; wg genkey > "$TMPD/k2")
wg pubkey < "$TMPD/k1" > "$TMPD/p1"
wg pubkey < "$TMPD/k2" > "$TMPD/p2"
wg_pair() {
	ip -n "$UE" link add wg0 type wireguard
	ip -n "$SRV" link add wg0 type wireguard
	ip netns exec "$UE" wg set wg0 private-key "$TMPD/k1" peer "$(cat "$TMPD/p2")" \
		allowed-ips 10.200.0.2/32 endpoint 10.10.0.2:51820
	ip netns exec "$SRV" wg set wg0 private-key "$TMPD/k2" listen-port 51820 \
		peer "$(cat "$TMPD/p1")" allowed-ips 10.200.0.1/32
	ip -n "$UE" addr add 10.200.0.1/24 dev wg0
	ip -n "$SRV" addr add 10.200.0.2/24 dev wg0
	ip -n "$UE" link set wg0 up
	ip -n "$SRV" link set wg0 up
}
wg_pair

# ovpn_pair NAME PORT NET SRV_OPTIONS UE_OPTIONS: an OpenVPN p2p tunnel
# over UDP, server in SRV (NET.2) and client in UE (NET.1), userspace data
# path (Debian 12's kernel has no ovpn-dco).  Returns once both are up.
ovpn_pair() {
	ip netns exec "$SRV" openvpn --dev-type tun --dev "$1" --proto udp \
		--local 10.10.0.2 --lport "$2" --ifconfig "$3.2" "$3.1" \
		--disable-dco --verb 3 --log "$TMPD/$1-srv.log" \
		--writepid "$TMPD/$1-srv.pid" --daemon "$1-srv" $4
	at_exit "kill \$(cat $TMPD/$1-srv.pid 2>/dev/null) 2>/dev/null"
	ip netns exec "$UE" openvpn --dev-type tun --dev "$1" --proto udp \
		--remote 10.10.0.2 "$2" --nobind --ifconfig "$3.1" "$3.2" \
		--disable-dco --verb 3 --log "$TMPD/$1-ue.log" \
		--writepid "$TMPD/$1-ue.pid" --daemon "$1-ue" $5
	at_exit "kill \$(cat $TMPD/$1-ue.pid 2>/dev/null) 2>/dev/null"
	wait_secs 60 grep -q 'Initialization Sequence Completed' "$TMPD/$1-ue.log" &&
	wait_secs 30 grep -q 'Initialization Sequence Completed' "$TMPD/$1-srv.log"
}
# ovpn_why NAME: why a pair did not come up, from its logs.
ovpn_why() {
	echo "openvpn $1 did not come up: $(tail -n 4 "$TMPD/$1-ue.log" "$TMPD/$1-srv.log" 2>&1 | tr '\n' ' ')"
}
plain="--cipher none --data-ciphers none --auth none"
OVPN_PLAIN=""
ovpn_pair ovpn0 1194 10.201.0 "$plain" "$plain" || OVPN_PLAIN=$(ovpn_why ovpn0)
# TLS p2p: both ends show the one test certificate (the CA signed it);
# AES-256-GCM is negotiated as the data channel cipher.
tls="--ca $TMPD/ca.pem --cert $TMPD/server.pem --key $TMPD/server.key --data-ciphers AES-256-GCM"
OVPN_AES=""
ovpn_pair ovpn1 1195 10.202.0 "--tls-server --dh none $tls" "--tls-client $tls" ||
	OVPN_AES=$(ovpn_why ovpn1)
# What each OpenVPN row really runs, for the log.
grep -h -m 2 -e 'encryption and authentication features disabled' -e 'Data Channel: cipher' \
	"$TMPD/ovpn0-ue.log" "$TMPD/ovpn1-ue.log" | sed 's/^/# openvpn: /' || true

# tunnel_up NS DEV: has_tunnel, bounded (it asks the kernel over netlink).
tunnel_up() {
	timeout -k 2 10 ip netns exec "$1" $TSCF_NL dev "$2" | grep -q '"tunnel"'
}

# tscf_up TRANSPORT [TAG WORDS...]: tscfctl_up that reports instead of
# failing; its log is ctl-TAG.log (TAG defaults to TRANSPORT), WORDS are
# more words for "up".
tscf_up() {
	up_tr=$1 TSCF_TR=${2:-$1}
	shift
	[ $# -eq 0 ] || shift
	step "tscfctl up tscf0 transport $up_tr $*"
	ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport "$up_tr" \
		ca "$TMPD/ca.pem" "$@" > "$TMPD/ctl-$TSCF_TR.log" 2>&1 &
	CTL_PID=$!
	at_exit "kill $CTL_PID 2>/dev/null"
	wait_secs 30 grep -q 'clear tunnel up' "$TMPD/ctl-$TSCF_TR.log"
}
# tscf_down [ROUND ROW]: end the helper; one that does not end is a failure
# of the row (recorded as its teardown) and the tunnel is taken down by
# "tscfctl down" so that the next row starts clean.
tscf_down() {
	step "tscfctl (helper of tscf0) ends on SIGTERM"
	# A helper that is gone already ended on its own: say why.
	if ! kill -0 $CTL_PID 2>/dev/null || [ "$(sed 's/^[0-9]* (.*) \([A-Z]\).*/\1/' /proc/$CTL_PID/stat 2>/dev/null)" = Z ]; then
		st=0
		wait $CTL_PID 2>/dev/null || st=$?
		echo "# the tscfctl helper had ended by itself, exit status $st$([ $st -le 128 ] || echo " (signal $((st - 128)))"): $(tail -n 5 "$TMPD/ctl-$TSCF_TR.log" | tr '\n' ' ')" >&3
		[ $# -lt 2 ] || record "$1" "$2" helper "" "the tscfctl helper ended by itself during the row, exit status $st"
		return 0
	fi
	kill $CTL_PID 2>/dev/null || true
	reap $CTL_PID 30 "tscfctl helper after SIGTERM" && return
	[ -n "$REAP_WHY" ] || return 0
	[ $# -lt 2 ] || record "$1" "$2" teardown "" "$REAP_WHY"
	bounded 30 "tscfctl down tscf0" ip netns exec "$UE" "$CTL" down tscf0 ||
		echo "# tscfctl down tscf0 failed too" >&3
}

# enc_measure ROUND ROW KIND: the encrypted twin, held up by one marked
# socket (so that it does not linger down between the three measurements);
# KIND (tls or dtls) is the transport "tscfctl show tscf0s" must report,
# so that a row never measures the other one under its name.
enc_measure() {
	ip netns exec "$UE" python3 "$TSCF_TOP/selftests/lib/app.py" --proto udp \
		--dst 10.100.0.1 --port 7000 level:1 waitpath:encrypted sleep:600 > /dev/null 2>&1 &
	holder=$!
	step "round $1 $2: a marked socket brings the encrypted tunnel up"
	if ! wait_secs 30 tunnel_up "$UE" tscf0s; then
		why_no_tunnel "$TMPD/ctl-$TSCF_TR.log"
		fail_row "$1" "$2" "no encrypted tunnel: $(tail -n 3 "$TMPD/ctl-$TSCF_TR.log" | tr '\n' ' ')"
	elif ! bounded 20 "tscfctl show tscf0s" ip netns exec "$UE" "$CTL" show tscf0s > "$TMPD/show-enc.txt" ||
	     ! grep -q "tunnel: up, TSID [0-9a-f]*, $3 " "$TMPD/show-enc.txt"; then
		fail_row "$1" "$2" "tscf0s is not carried by $3: $(grep tunnel: "$TMPD/show-enc.txt" | tr '\n' ' ')"
	else
		measure "$1" "$2" 10.100.0.1 ip netns exec "$UE" "$EXEC" --level encrypted-only --
	fi
	step "round $1 $2: the holder of the encrypted tunnel ends"
	kill $holder 2>/dev/null || true
	reap $holder 20 "holder of tscf0s (app.py) after SIGTERM" ||
		[ -z "$REAP_WHY" ] || record "$1" "$2" teardown "" "$REAP_WHY"
}

# dtls_round ROUND: tscf0 over UDP again, its encrypted twin over DTLS.
dtls_round() {
	if tscf_up udp dtls enc dtls; then
		enc_measure $1 tscf0s-dtls dtls
	else
		fail_row $1 tscf0s-dtls "tscfctl up udp enc dtls: $(tail -n 3 "$TMPD/ctl-dtls.log" | tr '\n' ' ')"
	fi
	tscf_down $1 tscf0s-dtls
}

# ovpn_measure ROUND ROW STATE DST: an OpenVPN row, or its failure.
ovpn_measure() {
	if [ -z "$3" ]; then
		measure "$1" "$2" "$4" ip netns exec "$UE"
	else
		fail_row "$1" "$2" "$3"
	fi
}

# wanted ROW: the row is selected by BENCH_ROWS.
wanted() {
	case " $ROWS " in *" $1 "*) return 0 ;; esac
	return 1
}

# tscf_round ROUND TRANSPORT ROWS...: bring tscf0 up over TRANSPORT,
# measure the rows, bring it down.
tscf_round() {
	r=$1 tr=$2
	shift 2
	if tscf_up $tr $tr enc tls; then
		! wanted tscf0-$tr || measure $r tscf0-$tr 10.100.0.1 ip netns exec "$UE"
		! wanted tscf0s-ktls || [ $tr != udp ] || enc_measure $r tscf0s-ktls tls
	else
		why="tscfctl up $tr: $(tail -n 3 "$TMPD/ctl-$tr.log" | tr '\n' ' ')"
		for row in "$@"; do ! wanted $row || fail_row $r $row "$why"; done
	fi
	tscf_down $r "tscf0-$tr"
}

# tscfd_datapath MODE: tscfd again, with kernel-datapath MODE.
tscfd_datapath() {
	sed -i "s/^kernel-datapath .*/kernel-datapath $1/" "$TMPD/tscfd.conf"
	kill "$TSCFD_PID"
	wait "$TSCFD_PID" 2>/dev/null || true
	tscfd_start
}

# user_round ROUND TRANSPORT: tscf0 over TRANSPORT through tscfd's
# userspace path.
user_round() {
	tscfd_datapath no
	if tscf_up $2; then
		measure $1 tscf0-$2-user 10.100.0.1 ip netns exec "$UE"
	else
		fail_row $1 tscf0-$2-user "tscfctl up $2: $(tail -n 3 "$TMPD/ctl-$2.log" | tr '\n' ' ')"
	fi
	tscf_down
	tscfd_datapath auto
}

# ktls_user_round ROUND: the kTLS twin through tscfd's userspace path.
ktls_user_round() {
	tscfd_datapath no
	if tscf_up udp udp-user enc tls; then
		enc_measure $1 tscf0s-ktls-user tls
	else
		fail_row $1 tscf0s-ktls-user "tscfctl up udp enc tls: $(tail -n 3 "$TMPD/ctl-udp-user.log" | tr '\n' ' ')"
	fi
	tscf_down $1 tscf0s-ktls-user
	tscfd_datapath auto
}

round=1
while [ $round -le "$ROUNDS" ]; do
	! wanted veth || measure $round veth 10.10.0.2 ip netns exec "$UE"
	! wanted wireguard || measure $round wireguard 10.200.0.2 ip netns exec "$UE"
	! wanted openvpn-udp || ovpn_measure $round openvpn-udp "$OVPN_PLAIN" 10.201.0.2
	! wanted openvpn-udp-aes || ovpn_measure $round openvpn-udp-aes "$OVPN_AES" 10.202.0.2
	if wanted tscf0-udp || wanted tscf0s-ktls; then
		tscf_round $round udp tscf0-udp tscf0s-ktls
	fi
	! wanted tscf0s-ktls-user || ktls_user_round $round
	! wanted tscf0s-dtls || dtls_round $round
	! wanted tscf0-udp-user || user_round $round udp
	! wanted tscf0-tcp || tscf_round $round tcp tscf0-tcp
	! wanted tscf0-tcp-user || user_round $round tcp
	round=$((round + 1))
done

step "rounds done"
accel=TCG
dmesg | grep -q 'Hypervisor detected: KVM' && accel=KVM
echo BENCH-JSON-BEGIN
python3 - "$RUNS" "$accel" "$SECS" "$ROUNDS" "$ROWS" <<'PY'
import json, os, platform, sys, time
cpu = "unknown"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
# The kernel's AES-GCM (kTLS, DTLS records) as /proc/crypto resolves it
# after the rows used it (highest priority), and the SIMD crypto modules
# loaded (WireGuard's ChaCha20-Poly1305 is the library's: arch or generic).
best = {}
entry = {}
for line in open("/proc/crypto").read().split("\n") + [""]:
    if not line.strip():
        if entry.get("name") == "gcm(aes)" and int(entry.get("priority", 0)) > best.get("priority", -1):
            best = {"driver": entry.get("driver"), "priority": int(entry.get("priority", 0))}
        entry = {}
    elif ":" in line:
        k, v = line.split(":", 1)
        entry[k.strip()] = v.strip()
mods = sorted(l.split()[0] for l in open("/proc/modules")
              if l.split()[0] in ("aesni_intel", "ghash_clmulni_intel", "chacha_x86_64",
                                  "poly1305_x86_64", "curve25519_x86_64"))
crypto = "gcm(aes): %s; SIMD modules: %s" % (best.get("driver", "not used"),
                                             ", ".join(mods) or "none")
print(json.dumps({
    "meta": {"kernel": platform.release(), "cpu": cpu, "nproc": os.cpu_count(),
             "crypto": crypto,
             "accel": sys.argv[2], "seconds": int(sys.argv[3]),
             "rounds": int(sys.argv[4]), "rows": sys.argv[5].split(),
             "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
    "runs": [json.loads(l) for l in open(sys.argv[1])],
}, indent=1))
PY
echo BENCH-JSON-END

echo BENCH-MD-BEGIN
# stats LABEL "x1 x2 ...": a table row, median min max runs (ms).
stats() {
	python3 -c 'import sys, statistics as st
v = [float(x) for x in sys.argv[2].split()]
print(f"| {sys.argv[1]} | {st.median(v):.3f} | {min(v):.3f} | {max(v):.3f} | {len(v)} |")' "$1" "$2" >> "$TMPD/latency"
}

# ping_ms NS DST: the round trip of one ping, in ms.
ping_ms() {
	ip netns exec "$1" ping -c 1 -W 10 "$2" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p'
}

# WireGuard's first packet waits for its handshake: a fresh pair each run.
wg_first=""
wg_up=""
for i in 1 2 3 4 5; do
	ip -n "$UE" link del wg0
	ip -n "$SRV" link del wg0
	wg_pair
	step "wireguard first ping $i"
	wg_first="$wg_first $(ping_ms "$UE" 10.200.0.2)"
	wg_up="$wg_up $(ping_ms "$UE" 10.200.0.2)"
done
stats "wireguard: first ping, handshake included" "$wg_first"
stats "wireguard: ping, session up" "$wg_up"

# latency_rows CASE FILE: the two rows of one dtte_latency.py run.
latency_rows() {
	for k in send echo; do
		stats "tscf: setsockopt(encrypted-only) to first $k, $1" \
			"$(python3 -c "import json,sys; print(*json.load(open(sys.argv[1]))['first_${k}_ms'])" "$2")"
	done
}

# Run inside the UE namespace: the python helpers talk to the service.
dtte_latency() {
	py="python3 $TSCF_TOP/selftests/bench/dtte_latency.py 10.100.0.1 7000"
	ip netns exec "$UE" "$CTL" set tscf0 linger 0
	clear_rtt=""
	for i in 1 2 3 4 5; do clear_rtt="$clear_rtt $(ping_ms "$UE" 10.100.0.1)"; done
	stats "tscf0 (clear tunnel): ping" "$clear_rtt"
	step "DTTE latency on demand"
	bounded 300 "dtte_latency.py on demand" ip netns exec "$UE" $py 5 tscf0s > "$TMPD/lat-demand" ||
		fail "latency on demand: $(cat "$TMPD/lat-demand")"
	ip netns exec "$UE" python3 "$TSCF_TOP/selftests/lib/app.py" --proto udp \
		--dst 10.100.0.1 --port 7000 level:1 waitpath:encrypted sleep:600 > /dev/null &
	holder=$!
	wait_secs 30 tunnel_up "$UE" tscf0s || fail "no encrypted tunnel for the holder"
	step "DTTE latency, tunnel up"
	bounded 300 "dtte_latency.py, tunnel up" ip netns exec "$UE" $py 20 > "$TMPD/lat-up" ||
		fail "latency, tunnel up"
	kill $holder || true
	latency_rows "tunnel up" "$TMPD/lat-up"
	latency_rows "on demand" "$TMPD/lat-demand"
	ip netns exec "$UE" "$CTL" set tscf0 linger 5000
}

tscf_up udp udp enc tls || fail "tscfctl up udp: $(cat "$TMPD/ctl-udp.log")"
dtte_latency
tscf_down

echo "## DTTE latency"
echo
echo "| latency | median ms | min | max | runs |"
echo "| --- | ---: | ---: | ---: | ---: |"
cat "$TMPD/latency"
echo
echo "First send: the first send(2) the kernel accepts after the setsockopt (an"
echo "encrypted-only socket cannot send before its tunnel is up).  First echo: its"
echo "answer back.  On demand: no encrypted tunnel when the option is set, so the"
echo "time includes the DTTE request, TLS 1.2 handshake, kTLS and configuration."
echo
n=${BENCH_SOCKETS:-20000}
step "kernel memory per socket"
mem=$(bounded 600 "sock_memory.py" ip netns exec "$UE" python3 "$TSCF_TOP/selftests/bench/sock_memory.py" "$n") ||
	fail "sock_memory"
echo "## Kernel memory per socket"
echo
echo "| kernel memory per socket | bytes |"
echo "| --- | ---: |"
echo "$mem" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print("| UDP socket itself (the reference) |", d["socket_bytes"], "|")
print("| SO_TSCF_ENCLEVEL mark on it |", d["mark_bytes"], "|")'
echo
echo "Slab growth over $n sockets, opened then all marked."
echo BENCH-MD-END
[ "$FAILED" -eq 0 ] || fail "$FAILED measurements failed (see FAILED above)"
