#!/bin/sh
# What show says about a helper whose server went away: the state
# (retrying), the retry countdown, the last error; the kernel's reason for
# the tunnel going down by name in the helper's log and in monitor; a
# reconnect loop logs its repeated lines once (rate limit).  "show DEV"
# matches that device (and its twin) exactly, "show nosuch" fails like
# "ip link show nosuch", and a device name with JSON's special characters
# comes out of "show -j" as valid JSON.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology showstate DTTE
ue_tscf0
ip -n "$UE" link add tscf01 type tscf
tscfctl_up tcp

ip netns exec "$UE" "$CTL" monitor -j > "$TMPD/monitor.json" 2>&1 &
mon=$!
at_exit "kill $mon 2>/dev/null"
sleep 1
kill "$TSCFD_PID"
wait "$TSCFD_PID" 2>/dev/null
wait_for 10 grep -q 'clear tunnel down' "$TMPD/ctl.log" || fail "the helper did not see the tunnel go: $(cat "$TMPD/ctl.log")"
grep -q 'clear tunnel down: closed by the server (peer-closed)' "$TMPD/ctl.log" ||
	check "the down reason is not named: $(grep 'tunnel down' "$TMPD/ctl.log")"
wait_for 5 grep -q '"event": "tunnel-down"' "$TMPD/monitor.json" || check "monitor: no tunnel-down"
grep '"event": "tunnel-down"' "$TMPD/monitor.json" | head -1 | python3 -c '
import json, sys
e = json.loads(sys.stdin.readline())
assert e["dev"] == "tscf0" and e["reason"] == "peer-closed", e' ||
	check "monitor -j reason: $(cat "$TMPD/monitor.json")"

# Retries at 1, 3, 7, 15 s: four refusals, one logged.
sleep 17
out=$(ip netns exec "$UE" "$CTL" show tscf0)
log "$out"
echo "$out" | grep -q "helper: pid $CTL_PID, retrying, encrypted down, retry in [0-9]*s" ||
	check "show: no retry state: $out"
echo "$out" | grep -q "last error: cannot reach server 10.10.0.2 port 4000/tcp: Connection refused" ||
	check "show: no last error: $out"
ip netns exec "$UE" "$CTL" -j show tscf0 | python3 -c '
import json, sys
d = json.load(sys.stdin)
h = d["devices"][0]["helper"]
assert h["state"] == "retrying" and 0 <= h["retry_in"] <= 30, h
assert "Connection refused" in h["last_error"], h' || check "show -j helper state"
n=$(grep -c 'Connection refused' "$TMPD/ctl.log")
log "refusals logged: $n"
[ "$n" -eq 1 ] || check "the reconnect loop logged $n identical lines (want 1): $(cat "$TMPD/ctl.log")"

# Exact names.
out=$(ip netns exec "$UE" "$CTL" show tscf0)
echo "$out" | grep -q '^device: tscf01' && check "show tscf0 shows tscf01: $out"
echo "$out" | grep -q '^device: tscf0s ' || check "show tscf0 lacks its twin: $out"
out=$(ip netns exec "$UE" "$CTL" show tscf01)
echo "$out" | grep -q '^device: tscf0 ' && check "show tscf01 shows tscf0: $out"
rc=0
ip netns exec "$UE" "$CTL" show nosuch > "$TMPD/nosuch" 2>&1 || rc=$?
expect_eq "show nosuch exit status" "$rc" 1
grep -q 'Device "nosuch" does not exist' "$TMPD/nosuch" || check "show nosuch message: $(cat "$TMPD/nosuch")"
rc=0
ip netns exec "$UE" "$CTL" show lo > "$TMPD/lo" 2>&1 || rc=$?
expect_eq "show lo exit status" "$rc" 1

# A hostile name: quotes and a backslash are legal in interface names.
ip -n "$UE" link add 'q"\x' type tscf || fail "cannot create a device named q\"\\x"
ip netns exec "$UE" "$CTL" show -j > "$TMPD/all.json" || check "show -j"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
names = [x["ifname"] for x in d["devices"]]
assert "q\"\\x" in names, names' "$TMPD/all.json" || check "show -j with a hostile name: $(cat "$TMPD/all.json")"
checks_done
echo ok
