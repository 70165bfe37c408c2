#!/bin/sh
# Fuzz the tscf genl family and the SO_TSCF_* socket options for a bounded
# time (TSCF_FUZZ_SECONDS, default 60: six tenths as root, four as an
# unprivileged user without CAP_NET_ADMIN) from a printed seed
# (TSCF_FUZZ_SEED to replay).  The kernel must stay up with a clean log
# (vm-run scans it), the fuzzer's invariants must hold, and afterwards no
# device or tunnel is left that the test did not make, no marked socket
# stays in the table, `ip link` works and the module's refcount is back.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
# 30 s on the debug kernel (TSCF_SCALE > 1), where each call is slower.
seconds=${TSCF_FUZZ_SECONDS:-$((TSCF_SCALE > 1 ? 30 : 60))}
seed=${TSCF_FUZZ_SEED:-8262026}
FUZZ="$TSCF_TOP/selftests/lib/nl_fuzz.py"
log "seed $seed, $seconds s (replay: TSCF_FUZZ_SEED=$seed TSCF_FUZZ_SECONDS=$seconds)"

refcnt=$(cat /sys/module/tscf/refcnt)
ns=$(tscf_netns nlfuzz)
ip -n "$ns" link add tscf0 type tscf
ip -n "$ns" addr add 10.100.0.2/16 dev tscf0
ip -n "$ns" -6 addr add fd00:100::2/64 dev tscf0 nodad
ip -n "$ns" link set tscf0 up
ip -n "$ns" link set tscf0s up
# A TUN for the fuzzer's own server device to punt to (srv-new refuses
# tscf and loopback devices).
ip -n "$ns" tuntap add mode tun name fzpunt0
links=$(ip -n "$ns" -o link show | awk '{ print $2 }' | sort | tr '\n' ' ')

TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
root_ok=0
ip netns exec "$ns" python3 "$FUZZ" --seconds $((seconds * 6 / 10)) --seed "$seed" \
	--dev tscf0,tscf0s --punt fzpunt0 > "$TMPD/root" 2>&1 && root_ok=1
user_ok=0
ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	python3 "$FUZZ" --seconds $((seconds * 4 / 10)) --seed $((seed + 1)) --dev tscf0,tscf0s --user \
	> "$TMPD/user" 2>&1 && user_ok=1
sed 's/^/root: /' "$TMPD/root" | tail -n 25
sed 's/^/user: /' "$TMPD/user" | tail -n 25
[ $root_ok = 1 ] || fail "fuzzer as root: violations or crash"
[ $user_ok = 1 ] || fail "fuzzer as an unprivileged user: violations or crash"
python3 - "$TMPD/root" "$TMPD/user" <<'PY'
import re, sys
tot = [0, 0, 0]
for f in sys.argv[1:]:
    m = re.search(r'nl-fuzz: (\d+) messages, (\d+) setsockopt calls, (\d+) getsockopt', open(f).read())
    for i in range(3):
        tot[i] += int(m.group(i + 1))
print(f"nl-fuzz: {tot[0]} messages, {tot[1]} setsockopt calls ({tot[2]} getsockopt calls)")
PY

# What the fuzzer may have attached goes; then nothing of its making stays.
for dev in tscf0 tscf0s; do
	ip netns exec "$ns" $TSCF_NL detach $dev 2>/dev/null || true
done
ip -n "$ns" link show > /dev/null || fail "ip link does not work after the fuzz"
# Server devices go with their owner's socket, from a work item.
links_now() { ip -n "$ns" -o link show | awk '{ print $2 }' | sort | tr '\n' ' '; }
i=0
while [ "$(links_now)" != "$links" ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
log "the fuzzer's server devices were gone $((i / 2)) s after it exited"
expect_eq "links after the fuzz" "$(links_now)" "$links"
ip netns exec "$ns" $TSCF_NL dump > "$TMPD/dump" || fail "DEV_GET dump after the fuzz"
expect_eq "tscf devices after the fuzz" "$(grep -c ifname "$TMPD/dump")" 2
grep -q '"tunnel"' "$TMPD/dump" && fail "a tunnel is left after detach: $(cat "$TMPD/dump")"
wait_for 10 sh -c "[ -z \"\$(ip netns exec $ns $TSCF_NL socks)\" ]" ||
	fail "marked sockets left after the fuzzers exited: $(ip netns exec "$ns" $TSCF_NL socks | head -5)"
ip netns exec "$ns" ping -c 1 -W 1 10.100.0.1 > /dev/null 2>&1 || true
ip netns del "$ns"
# Each marked socket holds a module reference; marks left by earlier
# tests may still be collected during the fuzz, so the count may fall,
# but a reference the fuzz took and never gave back makes it higher.
wait_for 15 sh -c "[ \$(cat /sys/module/tscf/refcnt) -le $refcnt ]" ||
	fail "module refcount $(cat /sys/module/tscf/refcnt), was $refcnt before the fuzz"
ip link show > /dev/null || fail "ip link"
echo ok
