# Shared helpers for tscf selftests (host and VM).  Source it:
#   . "$TSCF_TOP/selftests/lib.sh"
# Every test creates its own namespaces with tscf_netns and they are
# deleted on exit whatever happens.
set -eu
: "${TSCF_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
TSCF_NETNS_LIST=""
TSCF_CLEANUP_CMDS=""

tscf_cleanup() {
	rc=$?
	set +e
	eval "$TSCF_CLEANUP_CMDS"
	# tscf_netns runs in $(...), whose appends to TSCF_NETNS_LIST are
	# lost: the names end in this shell's $$ (the same in a subshell),
	# so the test's own namespaces are found by name.
	for ns in $TSCF_NETNS_LIST $(ip netns list 2>/dev/null |
			awk -v s="-$$" '$1 ~ /^tscf-/ && substr($1, length($1) - length(s) + 1) == s { print $1 }'); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	exit $rc
}
trap tscf_cleanup EXIT INT TERM

# Run a command at exit (before namespaces are removed).
at_exit() { TSCF_CLEANUP_CMDS="$TSCF_CLEANUP_CMDS
$*"; }

# tscf_netns NAME: a fresh namespace (unique per test run) with lo up;
# prints its real name.
tscf_netns() {
	ns="tscf-$1-$$"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	TSCF_NETNS_LIST="$TSCF_NETNS_LIST $ns"
	echo "$ns"
}

fail() { echo "FAIL: $*" >&2; exit 1; }
log() { echo "# $*"; }

# The debug kernel (KASAN, lockdep, kmemleak; selftests/vm/debug-lane.sh)
# runs the same tests ten to thirty times slower under TCG.  Volumes
# (socket counts, soak seconds) are divided by TSCF_SCALE there so that the
# lane fits CI's time: the checks are the same, the stock lane carries the
# volume.
case "$(uname -r)" in
*-tscfdbg) : "${TSCF_SCALE:=10}" ;;
*) : "${TSCF_SCALE:=1}" ;;
esac
export TSCF_SCALE
# scaled N: N divided by TSCF_SCALE, at least 1.
scaled() {
	_n=$(($1 / TSCF_SCALE))
	[ "$_n" -ge 1 ] || _n=1
	echo "$_n"
}

# expect_eq WHAT GOT WANT
# expect_eq WHAT GOT WANT [WHY]: on a mismatch, WHY (a command: who
# counted what, say) is run and its output printed with the failure.
expect_eq() {
	[ "$2" = "$3" ] && return 0
	[ -n "${4:-}" ] && fail "$1: got '$2', want '$3'; $($4)"
	fail "$1: got '$2', want '$3'"
}

# check MSG: a failed assertion, reported; the test goes on and
# checks_done fails it at the end (for tests that count several outcomes).
CHECKS_FAILED=0
check() { echo "FAIL: $*" >&2; CHECKS_FAILED=$((CHECKS_FAILED + 1)); }
checks_done() { [ "$CHECKS_FAILED" -eq 0 ] || exit 1; }

# expect_fail WHAT CMD...: CMD must exit non-zero.
expect_fail() {
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then fail "$what: succeeded, expected failure"; fi
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# proc_running PID: the process exists and is not a zombie.  A helper
# that daemonised is reaped by init, which may be late: a zombie has exited.
proc_running() {
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

not_running() { ! proc_running "$1"; }

# link_stat NS DEV FIELD: a counter from /sys/class/net/DEV/statistics.
link_stat() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

# link_exists NS DEV
link_exists() {
	ip -n "$1" link show dev "$2" >/dev/null 2>&1
}

# require_module NAME: the test needs this kernel module (VM tests).
require_module() {
	[ -d "/sys/module/$1" ] || fail "module $1 is not loaded"
}

TSCF_NL="python3 $TSCF_TOP/selftests/lib/tscf_nl.py"
TSCF_PEER="python3 $TSCF_TOP/selftests/lib/tunnel_peer.py"

# ue_srv_link NAME: namespaces UE (10.10.0.1) and SRV (10.10.0.2) joined by
# a veth; sets UE and SRV to their names.
ue_srv_link() {
	UE=$(tscf_netns "$1-ue")
	SRV=$(tscf_netns "$1-srv")
	ip link add veth-ue netns "$UE" type veth peer name veth-srv netns "$SRV"
	ip -n "$UE" addr add 10.10.0.1/24 dev veth-ue
	ip -n "$SRV" addr add 10.10.0.2/24 dev veth-srv
	ip -n "$UE" link set veth-ue up
	ip -n "$SRV" link set veth-srv up
}

# ue_srv_topology NAME: two namespaces joined by a veth, UE 10.10.0.1 and
# server 10.10.0.2; sets UE and SRV to their names.  UE has tscf0/tscf0s.
ue_srv_topology() {
	ue_srv_link "$1"
	ip netns exec "$UE" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$UE" link add tscf0 type tscf
	ip -n "$UE" addr add 10.100.0.2/24 dev tscf0
	ip -n "$UE" addr add 10.101.0.2/24 dev tscf0s
	ip -n "$UE" link set tscf0 up
	ip -n "$UE" link set tscf0s up
}

# The tests poll the device through the genl API often: build/selftests/
# tscf_dev (C, built by make) does it without a python start, which costs
# a second or two of CPU in the TCG guest; tscf_nl.py if it is not built.
TSCF_DEV="$TSCF_TOP/build/selftests/tscf_dev"

# tunnel_stat NS DEV FIELD: a per-tunnel counter from the genl API.
tunnel_stat() {
	if [ -x "$TSCF_DEV" ]; then
		ip netns exec "$1" "$TSCF_DEV" "$2" "$3"
		return
	fi
	ip netns exec "$1" $TSCF_NL dev "$2" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['tunnel']['stats']['$3'])"
}

# srv_peer_field NS FIELD: a field of the first clear peer of the
# namespace's server device (genl srv-peers, tscfd's kernel data path);
# a session's encrypted peer, if any, is passed over.
srv_peer_field() {
	ip netns exec "$1" $TSCF_NL srv-peer-field "$2"
}

# has_tunnel NS DEV
has_tunnel() {
	if [ -x "$TSCF_DEV" ]; then
		[ "$(ip netns exec "$1" "$TSCF_DEV" "$2")" = tunnel ]
		return
	fi
	ip netns exec "$1" $TSCF_NL dev "$2" | grep -q '"tunnel"'
}
no_tunnel() { ! has_tunnel "$1" "$2"; }

# qdisc_stat NS DEV dropped|backlog: packets DEV's qdiscs dropped so far,
# or hold now.
qdisc_stat() {
	tc -n "$1" -s qdisc show dev "$2" | case "$3" in
	dropped) sed -n 's/.*(dropped \([0-9]*\),.*/\1/p' ;;
	backlog) sed -n 's/.*backlog [0-9]*[KMG]*b \([0-9]*\)p.*/\1/p' ;;
	esac | awk '{ s += $1 } END { print s + 0 }'
}

# stream_sink_start OUT TRANSPORT PORT N ARGS...: stream_sink.py in SRV
# (a stream tunnel server that holds back, then counts), its output in
# OUT, its pid in SERVER; returns once it listens.
stream_sink_start() {
	sink_out=$1
	shift
	ip netns exec "$SRV" python3 "$TSCF_TOP/selftests/lib/stream_sink.py" "$@" > "$sink_out" &
	SERVER=$!
	wait_for 5 grep -q listening "$sink_out" || fail "stream_sink $1 did not start"
}

# udp_echo NS DST PORT MSG: send MSG over UDP, print the answer.
udp_echo() {
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(sys.argv[3].encode())
print(s.recv(65536).decode())' "$2" "$3" "$4"
}

# start_listener NS FILE SECONDS: record tscf events for SECONDS in FILE,
# in the background (pid in LISTENER), returning once subscribed.
# start_listener NS FILE SECONDS [TEXT [N]]: events of NS into FILE, in
# the background (pid in LISTENER), until SECONDS pass without one; or,
# with TEXT, until N events (default 1) hold TEXT or SECONDS in all pass:
# give a generous SECONDS then, it costs nothing on a fast kernel.
start_listener() {
	if [ $# -ge 4 ]; then
		ip netns exec "$1" $TSCF_NL listen "$3" --until "$4" --count "${5:-1}" > "$2" &
	else
		ip netns exec "$1" $TSCF_NL listen "$3" > "$2" &
	fi
	LISTENER=$!
	wait_for 10 grep -q '"ready"' "$2" || fail "event listener did not start"
}

# capture_start NS IFACES FILE [FILTER]: dumpcap writes the frames of
# IFACES (one, or several separated by commas) that match the capture
# FILTER (default 'tcp or udp'; '' for all) to FILE in the background
# (pid in CAPTURE); returns once the capture is live on each.  "Capturing
# on" is printed before the capture has begun: a capture that began after
# the traffic would let every "nothing on the wire" check pass on nothing
# (CI once saw a clear payload missing from one that had).  An Ethernet
# device is probed (capture_probe.py: a broadcast frame to the discard
# port, until the file holds it); on another (tscf0, a TUN) nothing is
# sent, and the capture counts as live once dumpcap's packet socket on it
# has its filter.
capture_start() {
	_cap_ifs=$(echo "$2" | tr ',' ' ')
	_cap_args=
	for _i in $_cap_ifs; do _cap_args="$_cap_args -i $_i"; done
	_cap_filter=${4-tcp or udp}
	# shellcheck disable=SC2086
	if [ -n "$_cap_filter" ]; then
		ip netns exec "$1" dumpcap $_cap_args -f "$_cap_filter" -w "$3" 2>"$3.err" &
	else
		ip netns exec "$1" dumpcap $_cap_args -w "$3" 2>"$3.err" &
	fi
	CAPTURE=$!
	at_exit "kill $CAPTURE 2>/dev/null"
	eval "CAPTURE_OF_$CAPTURE=\"\$1 \$3 \$_cap_ifs\""
	wait_for 60 grep -q Capturing "$3.err" || fail "dumpcap did not start on $2: $(cat "$3.err")"
	for _i in $_cap_ifs; do
		capture_live "$1" "$_i" "$3" "start-$CAPTURE" ||
			fail "the capture on $_i sees nothing: $(tr '\r' '\n' < "$3.err")"
	done
}

# pid_gone PID: exited (a zombie not yet reaped counts as gone).
pid_gone() {
	[ ! -e "/proc/$1/stat" ] || awk '$3 == "Z" { z = 1 } END { exit !z }' "/proc/$1/stat" 2>/dev/null
}

# iface_is_ether NS IFACE: an Ethernet device (ARPHRD_ETHER)?
iface_is_ether() {
	[ "$(ip netns exec "$1" cat "/sys/class/net/$2/type" 2>/dev/null)" = 1 ]
}

# capture_live NS IFACE FILE TAG: see capture_start.
capture_live() {
	if iface_is_ether "$1" "$2"; then
		ip netns exec "$1" python3 "$TSCF_TOP/selftests/lib/capture_probe.py" "$2" "$3" "$4" 60
	else
		wait_for 60 sh -c "ip netns exec '$1' ss -0 -b -p | grep -A1 '\\*:$2 .*dumpcap' | grep -q 'bpf filter'"
	fi
}

# capture_flushed PID NS FILE IFACE...: all that crossed each IFACE so far
# is in FILE (a probe sent now is in it; on a TUN, the ring read out).
capture_flushed() {
	_cap_pid=$1 _cap_ns=$2 _cap_file=$3
	shift 3
	for _i; do
		if iface_is_ether "$_cap_ns" "$_i"; then
			capture_live "$_cap_ns" "$_i" "$_cap_file" "end-$_cap_pid" ||
				fail "the capture on $_i stopped capturing: $(tr '\r' '\n' < "$_cap_file.err")"
		else
			sleep 2
		fi
	done
}

# capture_stop PID: end a capture once all that went before is in its
# file, and flush it.
capture_stop() {
	eval "_cap_of=\${CAPTURE_OF_$1:-}"
	# shellcheck disable=SC2086
	if [ -n "$_cap_of" ] && ! pid_gone "$1"; then
		capture_flushed "$1" $_cap_of
	fi
	kill -INT "$1" 2>/dev/null
	wait "$1" 2>/dev/null || true
}

# capture_count FILE FILTER: frames of FILE that match a display FILTER.
capture_count() {
	tshark -r "$1" -Y "$2" > "$1.count" 2> "$1.count.err" ||
		fail "tshark -r $1 -Y '$2': $(cat "$1.count.err")"
	wc -l < "$1.count"
}

CTL="$TSCF_TOP/tools/tscfctl"
APP="python3 $TSCF_TOP/selftests/lib/app.py"

# ue_tscf0: the tscf0/tscf0s pair in UE (IPv4 only: no link-local chatter).
ue_tscf0() {
	ip netns exec "$UE" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$UE" link add tscf0 type tscf
}

# tscfctl_up TRANSPORT [LOG]: tscfctl in UE brings tscf0 up to tscfd and
# stays on as its helper (pid in CTL_PID, output in LOG, by default
# $TMPD/ctl.log); returns once the clear tunnel is up.  The encrypted
# tunnel is TLS (kTLS), as these tests expect: over UDP the default is
# auto (DTLS first), which tests 60 and 61 cover.
tscfctl_up() {
	CTL_LOG=${2:-$TMPD/ctl.log}
	ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport "$1" \
		ca "$TMPD/ca.pem" enc tls > "$CTL_LOG" 2>&1 &
	CTL_PID=$!
	at_exit "kill $CTL_PID 2>/dev/null"
	wait_for 20 grep -q 'clear tunnel up' "$CTL_LOG" || fail "tscfctl up ($1): $(cat "$CTL_LOG")"
}

TSCFD="$TSCF_TOP/server/tscfd"
TSCF_CLIENT="python3 $TSCF_TOP/selftests/lib/tscf_client.py"

# make_certs DIR: a throwaway CA and a server certificate for 10.10.0.2.
make_certs() {
	(
	cd "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=tscf-test-ca \
		-keyout ca.key -out ca.pem 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=10.10.0.2 \
		-keyout server.key -out server.csr 2>/dev/null
	printf 'subjectAltName=IP:10.10.0.2\n' > san.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 2 -extfile san.ext -out server.pem 2>/dev/null
	) || fail "cannot make certificates"
}

# tscfd_conf FILE DIR SERVICES: a server config on 10.10.0.2 port 4000.
tscfd_conf() {
	cat > "$1" <<CONF
tun-name tscfs0
control-socket $2/tscfd.sock
user ${TSCFD_USER:-root}
keepalive-interval ${TSCFD_KEEPALIVE:-10}
datagram-keepalive-timeout ${TSCFD_UDP_TIMEOUT:-90}
log-level ${TSCFD_LOG_LEVEL:-info}
log-rate-limit ${TSCFD_LOG_RATE:-0}
kernel-datapath ${TSCFD_KDP:-auto}

tscf-interface
    address 10.10.0.2
    port 4000
    certificate $2/server.pem
    private-key $2/server.key
    local-address-pool-v4 10.100.0.0/16${TSCFD_POOL6:+
    local-address-pool-v6 $TSCFD_POOL6}
    dns 10.100.0.1
    max-tunnels ${TSCFD_MAX_TUNNELS:-200000}
    assigned-services $3
CONF
}

# tscfd_topology NAME SERVICES: UE and SRV namespaces, tscfd in SRV with
# its TUN at 10.100.0.1/16 and a UDP echo service on 10.100.0.1:7000.
# Sets UE, SRV, TMPD.
tscfd_topology() {
	[ -x "$TSCFD" ] || fail "server/tscfd not built"
	TMPD=$(mktemp -d)
	at_exit "rm -rf $TMPD"
	ue_srv_link "$1"
	make_certs "$TMPD"
	tscfd_conf "$TMPD/tscfd.conf" "$TMPD" "$2"
	tscfd_start
	ip netns exec "$SRV" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.100.0.1", 7000))
while True:
    data, peer = s.recvfrom(65536)
    if data.startswith(b"delay:"):
        time.sleep(1)
    s.sendto(b"echo:" + data, peer)' &
	at_exit "kill $! 2>/dev/null"
	# A loaded machine starts python slowly: wait until it listens.
	wait_for 20 sh -c "ip netns exec $SRV ss -Hlun | grep -q '10.100.0.1:7000'" ||
		fail "the echo service did not start"
}

# srv_tcp_echo: a TCP echo service on 10.100.0.1:7001 in SRV (one thread
# per connection); returns once it listens.
srv_tcp_echo() {
	ip netns exec "$SRV" python3 -c '
import socket, threading
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.100.0.1", 7001))
l.listen(4)
def serve(c):
    while True:
        d = c.recv(65536)
        if not d:
            return
        c.sendall(d)
while True:
    threading.Thread(target=serve, args=(l.accept()[0],), daemon=True).start()' &
	at_exit "kill $! 2>/dev/null"
	wait_for 20 sh -c "ip netns exec $SRV ss -Hltn | grep -q '10.100.0.1:7001'" ||
		fail "the TCP echo service did not start"
}

# tscfd_start: (re)start tscfd in SRV with $TMPD/tscfd.conf.  tscfd gives
# its TUN the pools' first addresses itself; "replace" keeps the lines
# harmless for a configuration with tun-configure no.
tscfd_start() {
	n=$(grep -c ready "$TMPD/tscfd.log" 2>/dev/null || true)
	ip netns exec "$SRV" "$TSCFD" -c "$TMPD/tscfd.conf" >> "$TMPD/tscfd.log" 2>&1 &
	TSCFD_PID=$!
	at_exit "kill $TSCFD_PID 2>/dev/null; sleep 0.2"
	wait_for 10 sh -c "[ \$(grep -c ready $TMPD/tscfd.log) -gt ${n:-0} ]" ||
		fail "tscfd did not start: $(cat "$TMPD/tscfd.log")"
	# With the kernel data path the pools belong on its server device.
	pooldev=tscfs0
	ip -n "$SRV" link show tscfsrv0 > /dev/null 2>&1 && pooldev=tscfsrv0
	ip -n "$SRV" addr replace 10.100.0.1/16 dev $pooldev
	[ -z "${TSCFD_POOL6:-}" ] || ip -n "$SRV" addr replace "${TSCFD_POOL6%::/*}::1/${TSCFD_POOL6#*/}" dev $pooldev nodad
	ip -n "$SRV" link set tscfs0 up
}

# tscfd_stat NAME: one counter of the running server.
tscfd_stat() {
	ip netns exec "$SRV" "$TSCFD" --stats -s "$TMPD/tscfd.sock" | awk -v k="$1:" '$1 == k { print $2 }'
}

# tscfd_stat_is NAME VALUE: for wait_for.
tscfd_stat_is() {
	[ "$(tscfd_stat "$1")" = "$2" ]
}
