# The leak matrix's scenarios (see selftests/kernel/50-leak-matrix.sh and
# 51-leak-matrix-teardown.sh).  Source after lib.sh and lib/leak.sh, then
# leak_topology NAME and leak_run "SCENARIO...".  Each sc_NAME function
# runs one scenario: leak_begin, the harm, leak_end.

ALL=udp4,udp4c,tcp4,udp6,tcp6

sc_fragments() {
	leak_begin fragments --kinds udp4,udp4c,udp6,udp6c --size 4000
	leak_end 2
}

sc_mtu_lowered() {
	leak_begin mtu-lowered --kinds $ALL --size 1400
	[ -n "$LEAK_OK" ] || return 0
	mtu=$(ip -n "$UE" -o link show tscf0 | sed 's/.* mtu \([0-9]*\).*/\1/')
	ip -n "$UE" link set tscf0 mtu 1280
	ip -n "$UE" link set veth-ue mtu 1280
	sleep 3
	ip -n "$UE" link set veth-ue mtu 1500
	ip -n "$UE" link set tscf0 mtu "$mtu"
	leak_end 1
}

sc_level_flip() {
	leak_begin level-flip --kinds udp4c,tcp4,udp6c,tcp6 --mode flip --size 1000
	leak_end 3
}

sc_netem() {
	ip netns exec "$UE" tc qdisc add dev tscf0 root netem delay 20ms 10ms duplicate 5% reorder 10%
	leak_begin netem --kinds $ALL
	leak_end 3
	ip netns exec "$UE" tc qdisc del dev tscf0 root
}

sc_af_packet() {
	leak_begin af-packet --kinds udp4,tcp4
	[ -n "$LEAK_OK" ] || return 0
	for dev in tscf0 tscf0s; do
		ip netns exec "$UE" $CANARY inject --tag af-packet --dev $dev $LEAK_PLANT_OPT > "$TMPD/inject-$dev" 2>&1 ||
			leak_broken "inject on $dev: $(cat "$TMPD/inject-$dev")"
		log "AF_PACKET into $dev: $(cat "$TMPD/inject-$dev")"
	done
	LEAK_EXTRA="injected=$(cat "$TMPD/inject-tscf0" "$TMPD/inject-tscf0s" | python3 -c '
import json, sys
print(sum(json.loads(l)["sent"] for l in sys.stdin))')"
	# The tunnels must still carry the sockets' canaries afterwards.
	before=$(leak_delivered af-packet)
	wait_for 10 leak_delivered_above af-packet "$before" ||
		LEAK_EXTRA="$LEAK_EXTRA tunnel-dead-after-injection"
	leak_end 1
}

sc_accepted_child() {
	log "scenario accepted-child"
	LEAK_NAME=accepted-child
	LEAK_START=$(date +%s)
	LEAK_OK=1
	LEAK_EXTRA=""
	leak_up
	me4=$(ip -n "$UE" -4 -o addr show dev tscf0 | awk '{ split($4, a, "/"); print a[1] }')
	# An encrypted-only listener cannot be reached through the clear tunnel
	# (its SYN is dropped there): the IPv4 one is encrypted-preferred, so
	# its child exists, and with the encrypted tunnel up the child's data
	# must ride it.
	ip netns exec "$UE" $CANARY listen --tag accepted-child --addr "$me4@2" --addr fd00:100::2@1 \
		--ready "$TMPD/$LEAK_NAME.ready" --stop "$TMPD/$LEAK_NAME.stop" $LEAK_PLANT_OPT \
		> "$TMPD/$LEAK_NAME.out" 2>&1 &
	LEAK_APP=$!
	at_exit "kill $LEAK_APP 2>/dev/null"
	leak_wait_ready ""
	[ -n "$LEAK_OK" ] || return 0
	ip netns exec "$SRV" $CANARY pull --tag accepted-child --dst "$me4" --dst fd00:100::2 \
		--log "$TMPD/pull.json" --stop "$TMPD/$LEAK_NAME.stop" > "$TMPD/pull.out" 2>&1 &
	pull=$!
	at_exit "kill $pull 2>/dev/null"
	sleep 4
	LEAK_EXTRA="$(grep -c '"connect": "ok"' "$TMPD/pull.out" || true)-of-2-connected"
	leak_end 1
	wait $pull || true
}

sc_close_queued() {
	leak_begin close-queued --nowait --kinds tcp4,tcp6 --mode closeq --size 1000
	[ -n "$LEAK_OK" ] || return 0
	# The collector runs once a second: give it time to forget the
	# closed sockets, then let the reader drain their queues.
	sleep 3
	touch "$TMPD/slow-go"
	wait_for 20 leak_delivered_some close-queued || LEAK_EXTRA="queue-never-drained"
	leak_end 3
}

sc_route_away() {
	leak_begin route-away --kinds $ALL
	[ -n "$LEAK_OK" ] || return 0
	ip -n "$UE" route add 10.100.0.1/32 via 10.20.0.2 dev leak0
	ip -n "$UE" -6 route add fd00:100::1/128 via fd20::2 dev leak0
	sleep 3
	ip -n "$UE" route del 10.100.0.1/32
	ip -n "$UE" -6 route del fd00:100::1/128
	leak_end 1
}

sc_tscf0s_down() {
	leak_begin tscf0s-down --kinds $ALL
	[ -n "$LEAK_OK" ] || return 0
	ip -n "$UE" link set tscf0s down
	sleep 3
	ip -n "$UE" link set tscf0s up
	leak_end 1
}

sc_port_blocked() {
	leak_begin port-blocked --kinds $ALL
	[ -n "$LEAK_OK" ] || return 0
	ip netns exec "$UE" nft 'add table inet leaktest; add chain inet leaktest out { type filter hook output priority 0; }; add rule inet leaktest out tcp dport 4001 drop'
	ip netns exec "$SRV" ss -K -t state established '( sport = :4001 )' > /dev/null
	sleep 3
	ip netns exec "$UE" nft delete table inet leaktest
	leak_end 1
}

sc_helper_killed() {
	leak_begin helper-killed --kinds $ALL
	[ -n "$LEAK_OK" ] || return 0
	kill -KILL "$CTL_PID"
	leak_end 3
}

sc_server_killed() {
	leak_begin server-killed --kinds $ALL
	[ -n "$LEAK_OK" ] || return 0
	kill -KILL "$TSCFD_PID"
	leak_end 3
}

sc_tscf0_deleted() {
	leak_begin tscf0-deleted --kinds $ALL
	[ -n "$LEAK_OK" ] || return 0
	ip -n "$UE" link del tscf0
	leak_end 3
}

sc_dtte_refused() {
	stop_pid "$CTL_PID"
	stop_pid "$TSCFD_PID"
	log "dtte-refused: helper and server stopped; a server without DTTE"
	tscfd_conf "$TMPD/tscfd.conf" "$TMPD" ""
	leak_begin dtte-refused --nowait --kinds udp4,udp4c,udp6,udp6c
	if [ -n "$LEAK_OK" ]; then
		wait_for 20 grep -q 'SERVICE_UNAVAILABLE' "$TMPD/ctl-$LEAK_UPS.log" ||
			LEAK_EXTRA="no-refusal-seen"
		leak_end 2
	fi
	stop_pid "$CTL_PID"
	stop_pid "$TSCFD_PID"
	tscfd_conf "$TMPD/tscfd.conf" "$TMPD" DTTE
}

# rmmod while marked sockets send: first with everything up, then with the
# helper gone and the devices deleted (nothing else holds the module).  It
# must be refused; if it is not, the sockets must still not send in clear.
# An unload that does not finish within 20 s is a hang: the matrix stops.
sc_rmmod_tried() {
	leak_begin rmmod-tried --kinds $ALL
	[ -n "$LEAK_OK" ] || return 0
	r2=""
	try_rmmod
	r1=$rmmod
	if [ $r1 = refused ]; then
		ip netns exec "$UE" "$CTL" down tscf0 > /dev/null 2>&1 || true
		ip -n "$UE" link del tscf0 2>/dev/null || true
		try_rmmod
		r2=$rmmod
	fi
	LEAK_EXTRA="rmmod=$r1${r2:+,$r2}"
	if [ "$r1" = hung ] || [ "$r2" = hung ]; then
		LEAK_HUNG=1
		leak_end 0
		return 0
	fi
	leak_end 3
	if [ ! -d /sys/module/tscf ]; then
		insmod "${TSCF_KO:-$TSCF_TOP/kmod/tscf.ko}" || fail "cannot load tscf.ko again"
	fi
}

# try_rmmod: sets rmmod to refused, unloaded or hung.
try_rmmod() {
	rmmod tscf > "$TMPD/rmmod.out" 2>&1 &
	pid=$!
	if ! wait_for 20 pid_gone $pid; then
		rmmod=hung
		log "rmmod tscf did not return in 20 s: $(cat /proc/$pid/stack 2>/dev/null | head -12 | tr '\n' ' ')"
		return 0
	fi
	rmmod=unloaded
	wait $pid || rmmod=refused
	log "rmmod tscf: $rmmod $(cat "$TMPD/rmmod.out")"
}

# The namespace goes while its sockets live on: the canary process makes its
# sockets in UE and lives outside; everything in UE is killed and the name
# deleted.  The last scenario: UE is gone after it.
sc_netns_deleted() {
	log "scenario netns-deleted"
	LEAK_NAME=netns-deleted
	LEAK_START=$(date +%s)
	LEAK_OK=1
	LEAK_EXTRA=""
	leak_up
	$CANARY send --tag netns-deleted --netns "$UE" --kinds $ALL --ready "$TMPD/$LEAK_NAME.ready" \
		--stop "$TMPD/$LEAK_NAME.stop" $LEAK_PLANT_OPT > "$TMPD/$LEAK_NAME.out" 2>&1 &
	LEAK_APP=$!
	at_exit "kill $LEAK_APP 2>/dev/null"
	leak_wait_ready 1
	[ -n "$LEAK_OK" ] || return 0
	ip netns pids "$UE" | xargs -r kill -KILL
	ip netns del "$UE"
	sleep 4
	# Stop the capture first: veth-srv goes with UE when the canary process
	# lets go of its sockets.
	capture_stop "$LEAK_CAPTURE"
	leak_end 0
}

# leak_run "SCENARIO...": run those scenarios (LEAK_ONLY="..." narrows
# them), then leak_report.
leak_run() {
	start=$(date +%s)
	LEAK_HUNG=""
	for sc in $1; do
		case " ${LEAK_ONLY:-$sc} " in *" $sc "*) ;; *) continue ;; esac
		if [ -n "$LEAK_HUNG" ]; then
			LEAK_NAME=$sc
			leak_broken "not run: the module unload hung"
			continue
		fi
		"sc_$(echo "$sc" | tr - _)"
	done
	log "scenarios took $(($(date +%s) - start)) s"
	# With a hung unload or a process stuck in the kernel the namespaces
	# cannot be torn down: leave them.
	[ -z "$LEAK_HUNG$LEAK_STUCK" ] || TSCF_NETNS_LIST=""
	leak_report
}
