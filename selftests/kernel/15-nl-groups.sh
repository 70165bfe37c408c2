#!/bin/sh
# Control frames, tunnel events and socket events have a multicast group
# each, so that an unprivileged process setting its sockets' levels in a
# loop cannot make the helper lose control frames: a listener on "ctrl"
# that does not read for a while (as a busy helper) still gets every one of
# 20 keepalive answers while such a loop runs, and nothing else; "tunnel"
# gets tunnel events and demand; "sock" gets the loop's events.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ue_srv_topology grp
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

ip netns exec "$SRV" $TSCF_PEER server --transport udp --addr 10.10.0.2 --port 4600 \
	> "$tmp/srv" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 5 grep -q listening "$tmp/srv" || fail "server"
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport udp --addr 10.10.0.2 --port 4600 \
	--tsid 0x4242 || fail "attach"

# lazy_listen FILE GROUP...: join GROUPs, read nothing until $tmp/go
# exists, then count what is queued by command (and lost messages).
lazy_listen() {
	out=$1
	shift
	ip netns exec "$UE" python3 - "$tmp/go" "$@" > "$out" <<'EOF' &
import collections, json, os, socket, struct, sys, time
sys.path.insert(0, os.environ['TSCF_TOP'] + '/selftests/lib')
import tscf_nl
g = tscf_nl.Genl()
for grp in sys.argv[2:]:
    g.join(grp)
print(json.dumps({'ready': True}), flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.1)
g.s.setblocking(False)
seen, lost = collections.Counter(), 0
while True:
    try:
        data = g.s.recv(1 << 20)
    except BlockingIOError:
        break
    except OSError:         # ENOBUFS: messages were dropped
        lost += 1
        continue
    i = 0
    while i < len(data):
        ln = struct.unpack_from('=I', data, i)[0]
        seen[tscf_nl.CMD_NAME.get(data[i + 16], data[i + 16])] += 1
        i += (ln + 3) & ~3
print(json.dumps({'seen': seen, 'lost': lost}), flush=True)
EOF
	at_exit "kill $! 2>/dev/null"
}
lazy_listen "$tmp/ctrl" ctrl
lazy_listen "$tmp/sock" sock
lazy_listen "$tmp/tun" tunnel
for f in ctrl sock tun; do
	wait_for 10 grep -q ready "$tmp/$f" || fail "listener $f did not start"
done

# Any user can do this: 20000 level changes on one UDP socket.
ip netns exec "$UE" setpriv --reuid=65534 --regid=65534 --clear-groups python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20000):
    s.setsockopt(socket.SOL_IP, 0x5453, 2 * (i % 2))' &
flood=$!
at_exit "kill $flood 2>/dev/null"
for i in $(seq 1 20); do
	ip netns exec "$UE" $TSCF_NL send-ctrl tscf0 \
		"10050000$(printf '%016x%08x' 0x4242 "$i")" || fail "send keepalive $i"
done
wait $flood || fail "the setsockopt loop failed"
wait_for 5 sh -c "[ \$(grep -c '\"type\": 5' $tmp/srv) = 20 ]" ||
	fail "the server did not get 20 keepalives: $(cat "$tmp/srv")"
sleep 1
ip netns exec "$UE" $TSCF_NL detach tscf0
touch "$tmp/go"
for f in ctrl sock tun; do
	wait_for 10 grep -q seen "$tmp/$f" || fail "listener $f did not finish: $(cat "$tmp/$f")"
done

res() {	# file
	tail -n 1 "$1"
}
log "ctrl: $(res "$tmp/ctrl")"
log "sock: $(res "$tmp/sock")"
log "tunnel: $(res "$tmp/tun")"
expect_eq "ctrl group" "$(res "$tmp/ctrl")" '{"seen": {"CTRL_RECV": 20}, "lost": 0}'
# The loop's level changes also raise and drop encryption demand there.
res "$tmp/tun" | grep -q '"TUNNEL_EVENT": 1[,}]' || fail "the tunnel group missed the down event"
res "$tmp/tun" | grep -q '"lost": 0' || fail "the tunnel group lost messages"
res "$tmp/tun" | grep -q 'CTRL_RECV\|SOCK_EVENT' && fail "the tunnel group got other events"
res "$tmp/sock" | grep -q '"SOCK_EVENT": [1-9]' || fail "the sock group got no socket event"
res "$tmp/sock" | grep -q 'CTRL_RECV\|TUNNEL_EVENT' && fail "the sock group got other events"
echo ok
