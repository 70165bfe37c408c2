#!/bin/sh
# After binding, tscfd started as root becomes an unprivileged user with
# CAP_NET_ADMIN only (it stayed root with every capability): "user nobody"
# in the configuration, and the same with no "user" line at all.  TLS,
# DTLS (whose per-client sockets join the listener's SO_REUSEPORT group)
# and a reload keep working.  The other tests keep root with "user root".
. "$TSCF_TOP/selftests/lib.sh"
TSCFD_USER=nobody tscfd_topology privdrop DTTE
nobody=$(id -u nobody)
CAP_NET_ADMIN_ONLY=0000000000001000

check_dropped() {
	st=/proc/$TSCFD_PID/status
	log "$(grep -E '^(Uid|Gid|CapEff|CapPrm|CapBnd)' "$st" | tr '\t' ' ' | tr '\n' ';')"
	expect_eq "uid" "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$st")" "$nobody $nobody $nobody $nobody"
	expect_eq "effective capabilities" "$(awk '/^CapEff:/ { print $2 }' "$st")" $CAP_NET_ADMIN_ONLY
	expect_eq "permitted capabilities" "$(awk '/^CapPrm:/ { print $2 }' "$st")" $CAP_NET_ADMIN_ONLY
	expect_eq "bounding set" "$(awk '/^CapBnd:/ { print $2 }' "$st")" $CAP_NET_ADMIN_ONLY
	[ "$(awk '/^Groups:/ { print NF - 1 }' "$st")" -le 1 ] || fail "supplementary groups kept"
}
check_dropped
grep -q 'CAP_NET_ADMIN only' "$TMPD/tscfd.log" || fail "no log line for the drop"
ip netns exec "$UE" $TSCF_CLIENT dtte --flows --addr 10.10.0.2 --port 4000 --ca "$TMPD/ca.pem" \
	> /dev/null || fail "DTTE after the drop: $(tail -5 "$TMPD/tscfd.log")"
echo | ip netns exec "$UE" timeout 10 openssl s_client -dtls1_2 -connect 10.10.0.2:4001 \
	-CAfile "$TMPD/ca.pem" 2>&1 | grep -q 'Verify return code: 0' ||
	fail "DTLS after the drop: $(tail -5 "$TMPD/tscfd.log")"
# The unprivileged user reads the configuration on SIGHUP.
chmod 711 "$TMPD"
chmod 644 "$TMPD/tscfd.conf"
kill -HUP "$TSCFD_PID"
wait_for 5 grep -q 'configuration reloaded' "$TMPD/tscfd.log" || fail "reload: $(tail -3 "$TMPD/tscfd.log")"

# No "user" line: nobody by default when started as root.
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
sed -i '/^user /d' "$TMPD/tscfd.conf"
tscfd_start
check_dropped
ip netns exec "$UE" $TSCF_CLIENT basic --addr 10.10.0.2 --port 4000 > /dev/null ||
	fail "no service with the default user"

# An unknown user: tscfd refuses to start rather than stay root.
printf 'user no-such-user-tscf\n' >> "$TMPD/tscfd.conf"
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
ip netns exec "$SRV" "$TSCFD" -c "$TMPD/tscfd.conf" > "$TMPD/bad.log" 2>&1 &&
	fail "started with an unknown user"
grep -q "user 'no-such-user-tscf' does not exist" "$TMPD/bad.log" || fail "$(cat "$TMPD/bad.log")"
echo ok
