#!/bin/sh
# make demo: runs in the test VM (selftests/vm/vm-run.sh) with tscf.ko loaded.
set -eu
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

ns=tscf-demo
ip netns del $ns 2>/dev/null || true
ip netns add $ns
trap 'ip netns del $ns 2>/dev/null' EXIT

say "tscf.ko is loaded"
run modinfo -F description "$PWD/kmod/tscf.ko"
grep -E '^(tscf|tls) ' /proc/modules

say "One command creates the clear device tscf0 and its encrypted twin tscf0s"
run ip -n $ns link add tscf0 type tscf
run ip -n $ns -d link show

say "They come up like any tunnel device"
run ip -n $ns addr add 10.99.0.2/24 dev tscf0
run ip -n $ns link set tscf0 up
run ip -n $ns link set tscf0s up
run ip -n $ns -br addr

say "No tunnel is attached yet: packets are dropped and counted, never sent"
ip netns exec $ns bash -c 'for i in 1 2 3; do echo hello > /dev/udp/10.99.0.1/5060; done' 2>/dev/null || true
run ip -n $ns -s link show dev tscf0

say "Deleting tscf0 removes both devices"
run ip -n $ns link del tscf0
run ip -n $ns -br link
