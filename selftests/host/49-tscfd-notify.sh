#!/bin/sh
# Issue 10: Type=notify.  With NOTIFY_SOCKET (a path, or an abstract name
# written "@name"), tscfd sends READY=1 once its listeners are open,
# RELOADING=1 with MONOTONIC_USEC (the monotonic clock, microseconds) and
# then READY=1 around a SIGHUP reload (a failed reload too), and
# STOPPING=1 on SIGTERM; one datagram each, as systemd's protocol has it.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology notify DTTE
CHECKS_FAILED=0
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true

cat > "$TMPD/listen.py" <<'PY'
import json, socket, sys, time
"""Receives notification datagrams; for each, notes the monotonic time
and whether tscfd's TCP port was listening at that moment."""
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\0' + addr[1:] if addr.startswith('@') else addr)
open(out + '.ready', 'w').close()
while True:
    d = s.recv(4096).decode()
    t = time.clock_gettime(time.CLOCK_MONOTONIC)
    listening = False
    try:
        c = socket.create_connection(('10.10.0.2', 4000), timeout=0.5)
        c.close()
        listening = True
    except OSError:
        pass
    with open(out, 'a') as f:
        f.write(json.dumps({'msg': d, 'mono': t, 'listening': listening}) + '\n')
PY

run() {
	name=$1 sock=$2
	: > "$TMPD/$name.msgs"
	rm -f "$TMPD/$name.msgs.ready"
	ip netns exec "$SRV" python3 "$TMPD/listen.py" "$sock" "$TMPD/$name.msgs" &
	at_exit "kill $! 2>/dev/null"
	wait_for 10 test -e "$TMPD/$name.msgs.ready" || fail "$name: listener did not start"
	ip netns exec "$SRV" env NOTIFY_SOCKET="$sock" "$TSCFD" -c "$TMPD/tscfd.conf" >> "$TMPD/tscfd.log" 2>&1 &
	pid=$!
	at_exit "kill $pid 2>/dev/null"
	wait_for 10 grep -q 'READY=1' "$TMPD/$name.msgs" || { check "$name: no READY=1"; return 0; }
	kill -HUP $pid
	wait_for 10 sh -c "[ \$(grep -c READY=1 $TMPD/$name.msgs) -ge 2 ]" || check "$name: no READY=1 after the reload"
	echo "nonsense" >> "$TMPD/tscfd.conf"
	kill -HUP $pid
	wait_for 10 sh -c "[ \$(grep -c READY=1 $TMPD/$name.msgs) -ge 3 ]" || check "$name: no READY=1 after a failed reload"
	sed -i '$d' "$TMPD/tscfd.conf"
	kill $pid
	wait $pid || check "$name: exit status $?"
	wait_for 5 grep -q 'STOPPING=1' "$TMPD/$name.msgs" || check "$name: no STOPPING=1"
	python3 - "$TMPD/$name.msgs" <<'PY' || check "$name: $(cat "$TMPD/$name.msgs")"
import json, sys
ms = [json.loads(l) for l in open(sys.argv[1])]
kinds = [m['msg'].split('\n')[0] for m in ms]
want = ['READY=1', 'RELOADING=1', 'READY=1', 'RELOADING=1', 'READY=1', 'STOPPING=1']
ok = kinds == want
if not ok:
    print('sequence', kinds, 'want', want)
if not ms[0]['listening']:
    print('READY=1 before the listener was open'); ok = False
for m in ms:
    if m['msg'].startswith('RELOADING=1'):
        f = dict(kv.split('=', 1) for kv in m['msg'].split('\n') if kv)
        usec = int(f.get('MONOTONIC_USEC', '-1'))
        if not 0 <= m['mono'] * 1e6 - usec < 5e6:
            print('MONOTONIC_USEC', usec, 'vs', m['mono'] * 1e6); ok = False
sys.exit(0 if ok else 1)
PY
}

run path "$TMPD/notify.sock"
run abstract "@tscfd-test-notify-$$"
log "$(cat "$TMPD/abstract.msgs" | tr '\n' ' ')"
checks_done
echo ok
