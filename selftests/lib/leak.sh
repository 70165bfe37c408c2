# Helpers for the leak matrix (selftests/kernel/50-leak-matrix.sh).  Source
# after lib.sh.  A scenario starts encrypted-only canary sockets in UE
# (leak_begin), does its harm, and ends (leak_end); one capture on the SRV
# side of both UE links (the tunnel link and the default-route link) sees
# every frame UE puts on a wire, and each scenario's canary carries its name,
# so leak_report counts the frames per scenario at the end.
CANARY="python3 $TSCF_TOP/selftests/lib/canary.py"
LEAK_RESULTS=""
LEAK_STUCK=""
LEAK_UPS=0
# LEAK_PLANT=1: every canary socket drops to unencrypted once it is on the
# encrypted path (a planted bug): every scenario must then fail.
LEAK_PLANT_OPT=""
[ -z "${LEAK_PLANT:-}" ] || LEAK_PLANT_OPT="--plant 1"

# leak_topology NAME: tscfd (with an IPv6 pool) and UE as in tscfd_topology;
# UE's default routes (v4 and v6) leave through a second link, leak0, to
# SRV's veth-sink; the canary sink runs in SRV; tshark captures veth-srv
# and veth-sink; tscfctl brings tscf0 up over UDP.
leak_topology() {
	TSCFD_POOL6=fd00:100::/64
	tscfd_topology "$1" DTTE
	ip link add leak0 netns "$UE" type veth peer name veth-sink netns "$SRV"
	ip -n "$UE" addr add 10.20.0.1/24 dev leak0
	ip -n "$SRV" addr add 10.20.0.2/24 dev veth-sink
	ip -n "$UE" -6 addr add fd20::1/64 dev leak0 nodad
	ip -n "$SRV" -6 addr add fd20::2/64 dev veth-sink nodad
	ip -n "$UE" link set leak0 up
	ip -n "$SRV" link set veth-sink up
	ip -n "$UE" route add default via 10.20.0.2 dev leak0
	ip -n "$UE" -6 route add default via fd20::2 dev leak0
	ip netns exec "$SRV" $CANARY serve --log "$TMPD/sink.json" --v6 --slow-go "$TMPD/slow-go" \
		> "$TMPD/sink.out" 2>&1 &
	at_exit "kill $! 2>/dev/null"
	wait_for 20 test -f "$TMPD/sink.json" || fail "canary sink: $(cat "$TMPD/sink.out")"
	LEAK_PCAP="$TMPD/leak.pcapng"
	capture_start "$SRV" veth-srv,veth-sink "$LEAK_PCAP" ''   # every frame
	LEAK_CAPTURE=$CAPTURE
	ip -n "$UE" link add tscf0 type tscf
	[ -z "${LEAK_WATCHDOG:-}" ] || leak_watchdog "$LEAK_WATCHDOG"
	leak_up
}

# leak_watchdog SECONDS: every SECONDS, print the user processes with
# what they wait on in the kernel, and the kernel stack of those not
# sleeping in sleep(1) (LEAK_WATCHDOG=SECONDS, to find a hang).
leak_watchdog() {
	(
	while sleep "$1"; do
		echo "# watchdog: $(date +%T)"
		ps -eo pid,ppid,stat,wchan:28,args --no-headers | awk '$5 !~ /^\[/ && $5 != "sleep" && $5 != "ps"' |
			sed 's/^/# watchdog: /'
		for p in $(ps -eo pid,args --no-headers | awk '$2 !~ /^\[/ && $2 != "sleep" && $2 !~ /sh$/ { print $1 }'); do
			echo "# watchdog: stack $p: $(tr '\n' ' ' < /proc/$p/stack 2>/dev/null | cut -c1-300)"
		done
	done
	) &
	at_exit "kill $! 2>/dev/null"
}

# leak_up: whatever the last scenario broke, bring back tscfd, tscf0 and a
# helper with its clear tunnel (the encrypted one lingers a minute).
leak_up() {
	if pid_gone "$TSCFD_PID"; then
		stop_pid "$TSCFD_PID"
		tscfd_start
	fi
	link_exists "$UE" tscf0 || ip -n "$UE" link add tscf0 type tscf
	if [ -n "${CTL_PID:-}" ] && ! pid_gone "$CTL_PID" && has_tunnel "$UE" tscf0; then
		return 0
	fi
	[ -z "${CTL_PID:-}" ] || stop_pid "$CTL_PID"
	log "leak_up: new helper"
	rm -f /run/tscf/tscf0.pid
	ip -n "$UE" link set tscf0s up 2>/dev/null || true
	LEAK_UPS=$((LEAK_UPS + 1))
	tscfctl_up udp "$TMPD/ctl-$LEAK_UPS.log"
	# Bounded: a netlink call that never returns is a finding, not a hang.
	if ! timeout -k 2 30 ip netns exec "$UE" $TSCF_NL raw 2 \
	     1:u32:"$(ip netns exec "$UE" cat /sys/class/net/tscf0/ifindex)" 13:u32:60000; then
		log "leak_up: DEV_SET (linger) failed or hung: ctl $(cat "$CTL_LOG" | tr '\n' ' ')"
		LEAK_STUCK="$LEAK_STUCK DEV_SET"
	fi
}

# stop_pid PID: SIGTERM, SIGKILL after 5 s, and reap it; a process that
# does not die even then (stuck in the kernel) is reported and left.
stop_pid() {
	kill "$1" 2>/dev/null || true
	if ! wait_for 5 pid_gone "$1"; then
		log "pid $1 ($(cat /proc/$1/comm 2>/dev/null)) ignored SIGTERM for 5 s: killed"
		kill -KILL "$1" 2>/dev/null || true
	fi
	if wait_for 10 pid_gone "$1"; then
		wait "$1" 2>/dev/null || true
	else
		log "pid $1 does not die: state $(awk '{ print $3 }' /proc/$1/stat 2>/dev/null), kernel stack: $(cat /proc/$1/stack 2>/dev/null | tr '\n' ' ')"
		LEAK_STUCK="$LEAK_STUCK $1"
	fi
}

# leak_delivered TAG: distinct canary messages of TAG the SRV side received.
leak_delivered() {
	cat "$TMPD/sink.json" "$TMPD/pull.json" 2>/dev/null | tr ',{}' '\n\n\n' |
		awk -v k="\"$1\":" '$1 == k { n += $2 } END { print n + 0 }'
}

leak_delivered_some() { [ "$(leak_delivered "$1")" -gt 0 ]; }
leak_delivered_above() { [ "$(leak_delivered "$1")" -gt "$2" ]; }

# leak_begin NAME [--nowait] [canary.py send options]: canary sockets in
# UE at encrypted-only, returning once they are on the encrypted path and
# (unless --nowait) the sink has some of their canaries.  On a failure the
# scenario is recorded as broken (LEAK_OK empty) and the test goes on.
leak_begin() {
	LEAK_NAME=$1
	shift
	wait_sink=1
	nowait=""
	if [ "${1:-}" = --nowait ]; then
		# The sockets need not reach the encrypted path first either.
		wait_sink=""
		nowait="--nowait 1"
		shift
	fi
	log "scenario $LEAK_NAME"
	LEAK_START=$(date +%s)
	LEAK_OK=1
	LEAK_EXTRA=""
	leak_up
	ip netns exec "$UE" $CANARY send --tag "$LEAK_NAME" --ready "$TMPD/$LEAK_NAME.ready" \
		--stop "$TMPD/$LEAK_NAME.stop" $LEAK_PLANT_OPT $nowait "$@" > "$TMPD/$LEAK_NAME.out" 2>&1 &
	LEAK_APP=$!
	at_exit "kill $LEAK_APP 2>/dev/null"
	leak_wait_ready "$wait_sink"
}

# leak_wait_ready WAIT_SINK: the sender of LEAK_APP is ready (and its
# canaries arrive through the tunnel).
leak_wait_ready() {
	if ! wait_for 180 test -f "$TMPD/$LEAK_NAME.ready"; then
		leak_broken "canary sockets never on the encrypted path: $(cat "$TMPD/$LEAK_NAME.out")"
	elif [ -n "$1" ] && ! wait_for 20 leak_delivered_some "$LEAK_NAME"; then
		leak_broken "no canary came through the encrypted tunnel before the fault"
	fi
}

leak_broken() {
	log "scenario $LEAK_NAME: broken: $*"
	LEAK_OK=""
	LEAK_RESULTS="$LEAK_RESULTS $LEAK_NAME"
	echo "$LEAK_NAME broken $*" >> "$TMPD/leak-results"
}

# leak_end SECONDS: keep sending SECONDS more, stop, record what the
# sockets were refused and what the SRV side received.
leak_end() {
	sleep "$1"
	touch "$TMPD/$LEAK_NAME.stop"
	if ! wait_for 30 pid_gone "$LEAK_APP"; then
		log "the canary sender does not stop: $(cat "$TMPD/$LEAK_NAME.out")"
		stop_pid "$LEAK_APP"
	fi
	pid_gone "$LEAK_APP" && { wait "$LEAK_APP" 2>/dev/null || true; }
	[ -n "$LEAK_OK" ] || return 0
	sleep 0.5
	summary=$(tail -n 1 "$TMPD/$LEAK_NAME.out")
	refused=$(echo "$summary" | sed -n 's/^{"sent": [0-9]*, "refused": \([0-9]*\).*/\1/p')
	if [ -z "$refused" ]; then
		leak_broken "sender: $(cat "$TMPD/$LEAK_NAME.out")"
		return 0
	fi
	log "scenario $LEAK_NAME ($(($(date +%s) - ${LEAK_START:-0})) s): sender $summary${LEAK_EXTRA:+; $LEAK_EXTRA}"
	LEAK_RESULTS="$LEAK_RESULTS $LEAK_NAME"
	delivered=$(leak_delivered "$LEAK_NAME")
	echo "$LEAK_NAME ok $refused $delivered $LEAK_EXTRA" >> "$TMPD/leak-results"
	# A first count from the live capture (the last frames may not be
	# flushed yet): should a later scenario hang, this line is out.
	n=$($CANARY count --pcap "$LEAK_PCAP" --tag "$LEAK_NAME" 2>/dev/null || echo '?')
	log "so far: scenario $LEAK_NAME: canaries_in_clear=$n sends_refused=$refused delivered=$delivered${LEAK_EXTRA:+ $LEAK_EXTRA}"
}

# leak_report: stop the capture, print one line per scenario, fail if any
# canary was seen in the clear or any scenario could not run.
leak_report() {
	# netns-deleted stops the capture itself (kill would fail under set -e)
	pid_gone "$LEAK_CAPTURE" || capture_stop "$LEAK_CAPTURE"
	counts=$($CANARY count --pcap "$LEAK_PCAP") || fail "cannot read the capture"
	log "canary frames by scenario: $counts"
	bad=0
	while read -r name state refused delivered extra; do
		if [ "$state" = broken ]; then
			echo "scenario $name: BROKEN: $refused $delivered $extra"
			bad=1
			continue
		fi
		n=$(echo "$counts" | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$name")
		echo "scenario $name: canaries_in_clear=$n sends_refused=$refused delivered=$delivered${extra:+ $extra}"
		[ "$n" = 0 ] || bad=1
	done < "$TMPD/leak-results"
	other=$(echo "$counts" | python3 -c '
import json, sys
known = set(sys.argv[1].split())
print(sum(v for k, v in json.load(sys.stdin).items() if k not in known))' "$LEAK_RESULTS")
	[ "$other" = 0 ] || { echo "canary frames of no known scenario: $other"; bad=1; }
	[ -z "$LEAK_STUCK" ] || { echo "processes stuck in the kernel:$LEAK_STUCK"; bad=1; }
	[ "$bad" = 0 ] || fail "encrypted-only canaries in the clear (or a scenario could not run)"
}
