#!/bin/sh
# Issue 11 (scale): 5,000 clear UDP tunnels from the C load generator
# (selftests/bench/tscf-load.c) on one tscfd, on a namespace's loopback,
# each binding one flow: every tunnel and binding must come up and the
# server's own memory (RssAnon) must grow by at most 1 KiB per tunnel,
# with and without the flow.  (On main before the change: 1,357 and
# 1,821 bytes per tunnel: fixed 64k-bucket tables touched at once, a
# 384-byte tunnel, a flow table of 16 buckets and 8 slots.)
# A sanitizer build (make check-host-asan) has redzones and a quarantine
# around every allocation, so there only the tunnels and bindings are
# checked; the bound is the plain build's.
. "$TSCF_TOP/selftests/lib.sh"
N=$(scaled "${TSCF_SCALE_MEM_TUNNELS:-5000}")
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
TSCF_LOAD="$TMPD/tscf-load"
export TSCF_LOAD
make -s -C "$TSCF_TOP/tools" lib || fail "tools/lib"
cc -O2 -g -Wall -Wextra -Werror -std=gnu11 -I"$TSCF_TOP/uapi" -I"$TSCF_TOP/tools/lib" \
	"$TSCF_TOP/selftests/bench/tscf-load.c" "$TSCF_TOP/tools/lib/libtscfproto.a" \
	-o "$TSCF_LOAD" || fail "build tscf-load"

bound=--max-bytes-per-tunnel=1024
if [ "$(head -c 2 "$TSCF_TOP/server/tscfd")" = "#!" ]; then
	log "sanitizer build: the 1 KiB bound is not checked"
	bound=
fi
SCALE_HOLD=0 SCALE_EXPIRE=0 SCALE_FLOWS=100 \
	sh "$TSCF_TOP/selftests/bench/scale.sh" udp "$N" $bound > "$TMPD/out" 2>&1 ||
	fail "$(cat "$TMPD/out")"
val() { awk -v k="$1:" '$1 == k { print $2 }' "$TMPD/out"; }
expect_eq "tunnels up" "$(val tunnels_up)" "$N"
expect_eq "flows bound" "$(val flows_bound)" "$N"
log "$N tunnels: $(val config_per_sec) configurations/s," \
	"$(val bytes_per_tunnel) bytes per tunnel, $(val bytes_per_tunnel_flows) with a flow" \
	"(RssAnon), heap $(val heap_bytes_per_tunnel) bytes per tunnel with a flow"
echo ok
