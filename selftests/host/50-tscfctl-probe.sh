#!/bin/sh
# tscfctl against tscfd without the kernel module: the client side of the
# configuration exchange, DTTE and TLS verification, and its error messages.
. "$TSCF_TOP/selftests/lib.sh"
CTL="$TSCF_TOP/tools/tscfctl"
[ -x "$CTL" ] || fail "tools/tscfctl not built"
tscfd_topology probe DTTE

for tr in tcp udp; do
	out=$(ip netns exec "$UE" "$CTL" probe server 10.10.0.2 port 4000 transport $tr ca "$TMPD/ca.pem" 2>&1) ||
		fail "probe over $tr: $out"
	log "$out"
	echo "$out" | grep -q "clear tunnel: $tr, TSID [0-9a-f]\{16\}, internal 10.100.0.[0-9]*/16" || fail "$tr: clear tunnel line"
	echo "$out" | grep -q 'DTTE: granted, TLS to 10.10.0.2 port 4001, TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256' ||
		fail "$tr: DTTE line"
	echo "$out" | grep -q 'encrypted tunnel: TSID' || fail "$tr: encrypted tunnel line"
done
expect_eq "releases" "$(tscfd_stat release_req)" 4

# Both stream sockets (clear TCP, TLS to N+1) send without Nagle: the
# module's last queued frame must leave at once, not wait for an ACK.
# SIGPIPE is ignored: a server that resets the TLS connection costs a
# write error, not the helper's life.
# (LeakSanitizer cannot run under ptrace: off for this run of the asan lane.)
command -v strace > /dev/null || fail "strace is needed"
ip netns exec "$UE" env ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=setsockopt,rt_sigaction -o "$TMPD/probe.strace" \
	"$CTL" probe server 10.10.0.2 port 4000 transport tcp ca "$TMPD/ca.pem" > /dev/null 2>&1 ||
	fail "probe over tcp under strace"
expect_eq "TCP_NODELAY set on the clear and the TLS socket" \
	"$(grep -c 'setsockopt([0-9]*, SOL_TCP, TCP_NODELAY, \[1\], 4) = 0' "$TMPD/probe.strace")" 2
grep -q 'rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN' "$TMPD/probe.strace" ||
	fail "tscfctl does not ignore SIGPIPE: $(grep SIGPIPE "$TMPD/probe.strace")"
# Over UDP tscfctl returned the server's cookie (one COOKIE, one tunnel).
expect_eq "cookies sent to tscfctl" "$(tscfd_stat cookie_sent)" 1

# A CA that did not sign the server: refused, and said so.
mkdir "$TMPD/other" && make_certs "$TMPD/other"
out=$(ip netns exec "$UE" "$CTL" probe server 10.10.0.2 port 4000 transport tcp ca "$TMPD/other/ca.pem" 2>&1) &&
	fail "wrong CA accepted"
echo "$out" | grep -q 'certificate verify failed' || fail "wrong CA message: $out"

# Server down.
out=$(ip netns exec "$UE" "$CTL" probe server 10.10.0.2 port 4999 transport tcp 2>&1) && fail "probe of a closed port"
echo "$out" | grep -q 'cannot reach server 10.10.0.2 port 4999/tcp: Connection refused' || fail "unreachable message: $out"

# DTTE not offered.
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null
tscfd_conf "$TMPD/tscfd.conf" "$TMPD" ""
ip netns exec "$SRV" "$TSCFD" -c "$TMPD/tscfd.conf" > "$TMPD/tscfd2.log" 2>&1 &
TSCFD_PID=$!
at_exit "kill $TSCFD_PID 2>/dev/null"
wait_for 10 grep -q ready "$TMPD/tscfd2.log" || fail "restart"
out=$(ip netns exec "$UE" "$CTL" probe server 10.10.0.2 port 4000 transport udp 2>&1) || fail "probe without DTTE: $out"
echo "$out" | grep -q 'DTTE: unavailable (server answered SERVICE_UNAVAILABLE: DTTE is not enabled on this interface)' ||
	fail "unavailable message: $out"

# No module on this host: commands that need it say so.
out=$("$CTL" show 2>&1) && fail "show without the module succeeded"
echo "$out" | grep -q "module tscf not loaded" || fail "show message: $out"
rc=0
"$CTL" bogus > /dev/null 2>&1 || rc=$?
expect_eq "usage exit code" "$rc" 2
echo ok
