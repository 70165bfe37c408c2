#!/bin/sh
# tscf-exec marks the sockets of an unmodified program: all of them, or only
# those bound or connected to the listed ports.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ns=$(tscf_netns exec)
EXEC="$TSCF_TOP/tools/tscf-exec"
probe='
import socket, struct, sys
def level(s):
    return struct.unpack("=i", s.getsockopt(0, 0x5453, 4))[0]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b.bind(("127.0.0.1", 5060))
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.connect(("127.0.0.1", 12000))
print(level(u), level(t), level(b), level(c))
'
got=$(ip netns exec "$ns" "$EXEC" --level encrypted-only -- python3 -c "$probe")
expect_eq "all sockets encrypted-only" "$got" "1 1 1 1"
got=$(ip netns exec "$ns" "$EXEC" --level encrypted-preferred --ports 5060,10000-20000 -- python3 -c "$probe")
expect_eq "listed ports only" "$got" "0 0 2 2"
got=$(ip netns exec "$ns" "$EXEC" --level unencrypted -- python3 -c "$probe")
expect_eq "unencrypted" "$got" "0 0 0 0"
expect_fail "bad level" "$EXEC" --level secret -- true
echo ok
