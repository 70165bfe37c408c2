#!/bin/sh
# Issue 9 item 2: no UDP state before a return-routability cookie.  Every
# kind of request from an unverified source is answered with at most as
# many bytes as it carried (amplification <= 1.0, measured by the client
# and by the server's counters); a flood of spoofed-source requests takes
# no tunnel and no pool address, and a legitimate client is still served.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology cookie DTTE

out=$(ip netns exec "$UE" $TSCF_CLIENT amplify --addr 10.10.0.2 --port 4000) ||
	fail "amplify: $out"
log "unverified requests: $out"
expect_eq "tunnels after unverified requests" "$(tscfd_stat tunnels)" 0
expect_eq "sessions after unverified requests" "$(tscfd_stat sessions)" 0

rate=${TSCF_FLOOD_RATE:-10000}
# The spoofed sources are remote: answers to them leave through UE, which
# drops them (on-link sources would be a neighbour-table test instead).
ip -n "$SRV" route add 198.18.0.0/15 via 10.10.0.1
out=$(ip netns exec "$UE" $TSCF_CLIENT flood --addr 10.10.0.2 --port 4000 \
	--count "$rate" --seconds 2) || fail "flood: $out"
log "flood: $out"
ms=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["legit_config_ms"])')
[ "$ms" -le 1000 ] || fail "legitimate client took $ms ms under the flood"
wait_for 5 tscfd_stat_is sessions 0 || fail "sessions after the flood: $(tscfd_stat sessions)"
expect_eq "tunnels after the flood" "$(tscfd_stat tunnels)" 0
expect_eq "pool refusals" "$(tscfd_stat refused_pool)" 0
expect_eq "tunnels ever opened (only the legitimate one)" "$(tscfd_stat tunnels_opened)" 1
rx=$(tscfd_stat unverified_rx_bytes)
tx=$(tscfd_stat unverified_tx_bytes)
[ "${rx:-0}" -gt 100000 ] || fail "the server did not see the flood: $rx bytes"
factor=$(python3 -c "print(round($tx / $rx, 3))")
log "server: $tx bytes answered / $rx bytes received from unverified sources = $factor"
python3 -c "import sys; sys.exit(0 if $tx <= $rx else 1)" || fail "amplification $factor > 1.0"
[ "$(tscfd_stat cookie_sent)" -ge 1000 ] || fail "cookies not counted"
[ "$(tscfd_stat drop_unverified)" -ge 1000 ] || fail "short requests not counted"
echo ok
