#!/bin/sh
# tscfctl says what failed and why.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ns=$(tscf_netns ctlerr)
ip -n "$ns" link add tscf0 type tscf

check() {	# want cmd...
	want=$1
	shift
	out=$(ip netns exec "$ns" "$@" 2>&1) && fail "succeeded: $*"
	log "$out"
	echo "$out" | grep -q "$want" || fail "'$*' said '$out', not '$want'"
}
check "needs CAP_NET_ADMIN" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$CTL" show
check "no such device" "$CTL" up nosuch0 server 127.0.0.1 port 4000 transport udp
check "cannot reach server 127.0.0.1 port 4000/tcp: Connection refused" \
	"$CTL" up tscf0 server 127.0.0.1 port 4000 transport tcp
check "configuration request: Connection refused" \
	"$CTL" up tscf0 server 127.0.0.1 port 4000 transport udp
check "has no clear tunnel" "$CTL" up tscf0 encrypted
echo ok
