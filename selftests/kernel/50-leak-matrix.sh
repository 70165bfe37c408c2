#!/bin/sh
# The leak matrix, datapath half: while the tunnels stay up, encrypted-only
# sockets (UDP unconnected and connected, TCP; IPv4 and IPv6) send a canary
# carrying the scenario's name through fragments, a lowered MTU, levels
# flipped under full-rate senders, a netem qdisc, AF_PACKET injection, an
# accepted child, close() with queued data and a route that moves away; a
# capture of both links UE can reach the world by (the clear tunnel's outer
# link and the default route's link) must hold none of it.  Prints per
# scenario
#   scenario NAME: canaries_in_clear=N sends_refused=R delivered=D
# and fails if any canary is seen in the clear or a scenario cannot run.
# LEAK_ONLY="name..." runs only those; LEAK_PLANT=1 makes the canary
# sockets drop to unencrypted (a planted bug: every scenario must fail).
# The teardown half is 51-leak-matrix-teardown.sh.
. "$TSCF_TOP/selftests/lib.sh"
. "$TSCF_TOP/selftests/lib/leak.sh"
. "$TSCF_TOP/selftests/lib/leak_scenarios.sh"
require_module tscf
leak_topology leak
leak_run "fragments mtu-lowered level-flip netem af-packet accepted-child close-queued route-away"
echo ok
