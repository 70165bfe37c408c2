#!/bin/sh
# Issue 10: SSLKEYLOGFILE (lab captures).  Set, tscfd warns at start and
# appends the secrets of every TLS and DTLS handshake to the file (mode
# 0600) in the key log format: the lines are the ones the client's
# OpenSSL logs for the same handshakes, so a capture decrypts with them.
# Unset, no file and no warning.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology keylog DTTE
CHECKS_FAILED=0
grep -q SSLKEYLOGFILE "$TMPD/tscfd.log" && check "a warning without SSLKEYLOGFILE"
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true

SSLKEYLOGFILE="$TMPD/server-keys.log" tscfd_start
grep -q 'warning: SSLKEYLOGFILE is set: .*server-keys.log.*lab captures only' "$TMPD/tscfd.log" ||
	check "no loud warning: $(cat "$TMPD/tscfd.log")"
expect_eq "key log mode" "$(stat -c %a "$TMPD/server-keys.log")" 600

for proto in -tls1_2 -tls1_3 -dtls; do
	out=$(echo | ip netns exec "$UE" timeout 10 openssl s_client $proto -connect 10.10.0.2:4001 \
		-CAfile "$TMPD/ca.pem" -keylogfile "$TMPD/client-keys.log" 2>&1 || true)
	echo "$out" | grep -q 'Verify return code: 0 (ok)' || check "s_client $proto: no handshake: $out"
done
ip netns exec "$UE" $TSCF_CLIENT dtte --addr 10.10.0.2 --port 4000 --ca "$TMPD/ca.pem" > /dev/null ||
	check "a DTTE tunnel with the key log on"
wait_for 5 sh -c "[ \$(grep -c . $TMPD/server-keys.log) -ge 8 ]" || check "few key log lines"
grep -v '^#' "$TMPD/client-keys.log" | sort > "$TMPD/client.sorted"
grep -v '^#' "$TMPD/server-keys.log" | sort > "$TMPD/server.sorted"
n=$(wc -l < "$TMPD/client.sorted")
[ "$n" -ge 6 ] || check "the clients logged only $n lines"
missing=$(comm -23 "$TMPD/client.sorted" "$TMPD/server.sorted" | wc -l)
expect_eq "client key log lines missing from the server's" "$missing" 0
grep -q '^CLIENT_RANDOM [0-9a-f]\{64\} [0-9a-f]\{96\}$' "$TMPD/server-keys.log" || check "no TLS 1.2 line"
grep -q '^SERVER_TRAFFIC_SECRET_0 [0-9a-f]\{64\} [0-9a-f]*$' "$TMPD/server-keys.log" || check "no TLS 1.3 line"
grep -Ev '^(CLIENT_RANDOM|[A-Z_]+_SECRET(_0)?) [0-9a-f]{64} [0-9a-f]+$' "$TMPD/server-keys.log" &&
	check "a line that is not key log format"
checks_done
echo ok
