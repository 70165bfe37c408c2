#!/bin/sh
# "enc auto" over a UDP clear tunnel: DTLS first, TLS when DTLS does not
# come up.  With UDP to port N+1 dropped by nftables on the server's side
# (a filter on the path: the UE's sends succeed, nothing answers) the
# DTLS handshake retransmits on OpenSSL's timer until the helper's 4 s
# bound, the helper falls back to TLS (kTLS), and an encrypted-only
# socket is echoed through it; tscfctl show says tls.  Unblocked, a new
# helper with no "enc" word (the default over UDP is auto) gets DTLS.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
tscfd_topology dtlsfb DTTE
ue_tscf0
# In SRV's input, not UE's output: a drop in the sender's own output hook
# fails its sendmsg (EPERM), and the handshake ends at its first
# datagram without ever waiting on the retransmit timer.
ip netns exec "$SRV" nft 'add table inet dtlsfb; add chain inet dtlsfb in { type filter hook input priority 0; }; add rule inet dtlsfb in udp dport 4001 counter drop' ||
	fail "nft"
at_exit "ip netns exec $SRV nft delete table inet dtlsfb 2>/dev/null"

# up_auto LOG [WORDS...]: tscfctl up over UDP with WORDS; returns once
# the clear tunnel is.
up_auto() {
	CTL_LOG=$1
	shift
	ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport udp \
		ca "$TMPD/ca.pem" "$@" > "$CTL_LOG" 2>&1 &
	CTL_PID=$!
	at_exit "kill $CTL_PID 2>/dev/null"
	wait_for 20 grep -q 'clear tunnel up' "$CTL_LOG" || fail "tscfctl up: $(cat "$CTL_LOG")"
}

# enc_echo MSG: an encrypted-only UDP socket's echo.
enc_echo() {
	ip netns exec "$UE" python3 -c '
import socket, struct, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(("10.100.0.1", 7000))
u.setsockopt(0, 0x5453, struct.pack("=i", 1))
u.settimeout(1)
for _ in range(60):    # ENETUNREACH until tscf0s is up
    try:
        u.send(sys.argv[1].encode())
        print(u.recv(100).decode())
        break
    except OSError:
        time.sleep(0.5)' "$1"
}

up_auto "$TMPD/ctl1.log" enc auto
start=$(date +%s)
reply=$(enc_echo FALLBACK-1)
took=$(($(date +%s) - start))
expect_eq "echo through the fallback" "$reply" "echo:FALLBACK-1"
log "encrypted-only echo after ${took}s (DTLS handshake timeout included)"
grep -q 'encrypted tunnel over DTLS: .*; trying TLS' "$CTL_LOG" || fail "no fallback in the log: $(cat "$CTL_LOG")"
grep -q 'encrypted tunnel up (DTTE), TSID [0-9a-f]*, TLS to' "$CTL_LOG" || fail "not TLS: $(cat "$CTL_LOG")"
ip netns exec "$UE" "$CTL" show tscf0s | grep -q 'tunnel: up, TSID [0-9a-f]*, tls' ||
	fail "show tscf0s: $(ip netns exec "$UE" "$CTL" show tscf0s)"
dropped=$(ip netns exec "$SRV" nft list table inet dtlsfb | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
log "UDP datagrams to port 4001 dropped: $dropped"
# OpenSSL retransmits the ClientHello after 1 s (then 2 s, 4 s): within
# the 4 s bound at least the first one and its first retransmit.
[ "$dropped" -ge 2 ] || fail "the DTLS handshake was not retried ($dropped datagrams): $(cat "$CTL_LOG")"
grep -q 'timed out\|timeout' "$CTL_LOG" || fail "DTLS did not fail by its timeout: $(cat "$CTL_LOG")"
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit $?: $(tail -5 "$CTL_LOG")"

ip netns exec "$SRV" nft delete table inet dtlsfb
up_auto "$TMPD/ctl2.log"
reply=$(enc_echo UNBLOCKED-1)
expect_eq "echo with DTLS reachable" "$reply" "echo:UNBLOCKED-1"
grep -q 'encrypted tunnel up (DTTE), TSID [0-9a-f]*, DTLS to' "$CTL_LOG" || fail "not DTLS: $(cat "$CTL_LOG")"
grep -q 'trying TLS' "$CTL_LOG" && fail "fell back with DTLS reachable: $(cat "$CTL_LOG")"
ip netns exec "$UE" "$CTL" show tscf0s | grep -q 'tunnel: up, TSID [0-9a-f]*, dtls' ||
	fail "show tscf0s: $(ip netns exec "$UE" "$CTL" show tscf0s)"
ip netns exec "$UE" "$CTL" down tscf0
wait $CTL_PID || fail "helper exit $?: $(tail -5 "$CTL_LOG")"
echo ok
