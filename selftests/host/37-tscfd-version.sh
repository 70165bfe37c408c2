#!/bin/sh
# Issue 9: version negotiation.  A CONFIG_REQ without VERSION, or of
# version 1, is answered UNSUPPORTED_VERSION naming version 2 (on a
# stream; on UDP only if the answer is not larger than the request); a
# client of a newer version is served in version 2.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology version DTTE
out=$(ip netns exec "$UE" $TSCF_CLIENT version --addr 10.10.0.2 --port 4000) ||
	fail "version: $(tail -5 "$TMPD/tscfd.log")"
log "$out"
[ "$(tscfd_stat refused_version)" -ge 2 ] || fail "refused versions not counted"
echo ok
