#!/bin/sh
# The leak matrix, teardown half: encrypted-only canary sockets (UDP
# unconnected and connected, TCP; IPv4 and IPv6) keep sending while
# tscf0s goes down, port N+1 is blocked, the helper is killed, the server
# is killed, tscf0 is deleted, the server refuses DTTE, the module is
# unloaded (tried) and the namespace is deleted; a capture of both links
# UE can reach the world by must hold none of their canaries.  Same output,
# LEAK_ONLY and LEAK_PLANT as 50-leak-matrix.sh.
. "$TSCF_TOP/selftests/lib.sh"
. "$TSCF_TOP/selftests/lib/leak.sh"
. "$TSCF_TOP/selftests/lib/leak_scenarios.sh"
require_module tscf
leak_topology leakdown
leak_run "tscf0s-down dtte-refused port-blocked helper-killed server-killed tscf0-deleted rmmod-tried
netns-deleted"
echo ok
