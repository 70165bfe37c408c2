#!/bin/sh
# make demo: the DTTE story of US patent 9,614,816, in the test VM.
# A UE namespace reaches a service network through tscfd; one application
# opens three sockets at the three encryption levels; the encrypted tunnel
# appears on demand, sockets move, a capture shows what was readable on the
# wire, and the encrypted tunnel is released when no socket needs it.
TSCF_TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TSCF_TOP/selftests/lib.sh"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "A UE and a tunneling server (tscfd) on one link; tscfd serves TCP/UDP on port 4000 and TLS on 4001, DTTE enabled"
tscfd_topology demo DTTE
ip netns exec "$UE" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
capture_start "$SRV" veth-srv "$TMPD/wire.pcapng"
cap=$CAPTURE
run ip -n "$UE" link add tscf0 type tscf
run ip netns exec "$UE" "$CTL" set tscf0 linger 2000

say "1. The clear tunnel comes up first (UDP): configuration exchange, address, attach"
ip netns exec "$UE" "$CTL" up tscf0 server 10.10.0.2 port 4000 transport udp ca "$TMPD/ca.pem" \
	> "$TMPD/ctl.log" 2>&1 &
ctl=$!
at_exit "kill $ctl 2>/dev/null"
wait_for 20 grep -q 'clear tunnel up' "$TMPD/ctl.log"
run ip netns exec "$UE" "$CTL" show tscf0

say "2. An application opens three sockets, one per encryption level, and talks to the service"
ip netns exec "$UE" python3 - <<'PY'
import socket, struct, time
SOL_IP, LEVEL, PATH = 0, 0x5453, 0x5454
names = {0: "unencrypted", 1: "encrypted-only", 2: "encrypted-preferred"}
paths = ["clear", "encrypted", "blocked"]
socks = {}
for lvl in (0, 2, 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.setsockopt(SOL_IP, LEVEL, struct.pack("=i", lvl))
    socks[lvl] = s
def path(s):
    return paths[struct.unpack("=i", s.getsockopt(SOL_IP, PATH, 4))[0]]
def talk(lvl, msg):
    s = socks[lvl]
    try:
        s.sendto(msg.encode(), ("10.100.0.1", 7000))
        reply = s.recv(100).decode()
    except OSError as e:
        reply = f"send failed: {e.strerror}"
    print(f"   {names[lvl]:20} path={path(s):9} sent {msg!r:24} -> {reply}")
print("   setsockopt(SO_TSCF_ENCLEVEL) done; the first marked socket asks tscfctl for DTTE")
for lvl, m in ((0, "HELLO-clear"), (2, "HELLO-preferred"), (1, "SECRET-only")):
    talk(lvl, m)
deadline = time.time() + 30
while path(socks[1]) != "encrypted" and time.time() < deadline:
    time.sleep(0.1)
print("\n   ... the encrypted tunnel is up; same sockets, same fds, no reconnect:")
for lvl, m in ((0, "HELLO-clear-2"), (2, "HELLO-preferred-2"), (1, "SECRET-only-2")):
    talk(lvl, m)
print("\n   the application closes its encrypted sockets")
socks[1].close(); socks[2].close()
time.sleep(1)
talk(0, "HELLO-clear-3")
PY

say "3. What the helper did (tscfctl log)"
sed 's/^/   /' "$TMPD/ctl.log"
run ip netns exec "$UE" "$CTL" show

say "4. After the linger, the encrypted tunnel is released"
wait_for 15 grep -q 'encrypted tunnel released' "$TMPD/ctl.log" && grep 'released' "$TMPD/ctl.log" | sed 's/^/   /'
ip netns exec "$SRV" "$TSCFD" --stats -s "$TMPD/tscfd.sock" | grep -E '^(tunnels|encrypted_tunnels|dtte_granted|flow_bind):' | sed 's/^/   tscfd /'

say "5. The capture on the UE-server link: which payloads were readable?"
capture_stop $cap
for m in HELLO-clear HELLO-preferred SECRET-only; do
	n=$(capture_count "$TMPD/wire.pcapng" "frame contains \"$m\"")
	printf '   %-18s readable in %s frame(s)\n' "$m" "$n"
done
# Over a UDP clear tunnel the encrypted one is DTLS (the module's records),
# TLS only if DTLS did not come up.
printf '   DTLS records on port 4001: %s, TLS records: %s\n' \
	"$(capture_count "$TMPD/wire.pcapng" 'udp.port == 4001 && dtls.record')" \
	"$(capture_count "$TMPD/wire.pcapng" 'tcp.port == 4001 && tls.record')"

say "6. tscfctl down: configuration release, detach"
run ip netns exec "$UE" "$CTL" down tscf0
wait $ctl 2>/dev/null
tail -n 1 "$TMPD/ctl.log" | sed 's/^/   /'
