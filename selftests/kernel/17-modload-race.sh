#!/bin/sh
# Nothing of the module is reachable before it exists: the genl family is
# registered last at load and unregistered first at unload, so dumps of
# marked sockets and devices racing insmod/rmmod find a complete module or
# none (on the debug kernel, KASAN and lockdep watch the table walk).
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ko="${TSCF_KO:-$TSCF_TOP/kmod/tscf.ko}"
ns=$(tscf_netns ml)
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
at_exit "[ -d /sys/module/tscf ] || insmod $ko"

# Dump sockets and devices as fast as the family allows, whether or not
# the module is there; count the dumps that succeeded.
ip netns exec "$ns" python3 - "$tmp/stop" > "$tmp/dumps" 2>&1 <<'EOF' &
import os, sys
sys.path.insert(0, os.environ['TSCF_TOP'] + '/selftests/lib')
import tscf_nl
ok = 0
while not os.path.exists(sys.argv[1]):
    try:
        g = tscf_nl.Genl()
        g.do(tscf_nl.CMD['SOCK_GET'], dump=True)
        g.do(tscf_nl.CMD['DEV_GET'], dump=True)
        g.s.close()
        ok += 1
    except (tscf_nl.NlError, OSError, KeyError):
        pass
print('dumps', ok)
EOF
dumper=$!
at_exit "kill $dumper 2>/dev/null"

for i in $(seq 1 15); do
	# A dump in progress holds the module: try again.
	wait_for 10 rmmod tscf || fail "rmmod $i: $(lsmod | grep tscf)"
	insmod "$ko" || fail "insmod $i"
	ip -n "$ns" link add tscf0 type tscf || fail "link add after load $i"
done
touch "$tmp/stop"
wait "$dumper" || true
log "$(cat "$tmp/dumps")"
grep -q 'dumps [1-9]' "$tmp/dumps" || fail "no dump ever succeeded: $(cat "$tmp/dumps")"
ip netns exec "$ns" $TSCF_NL dev tscf0 | grep -q '"ifname": "tscf0"' || fail "module unusable after the loop"
echo ok
