#!/bin/sh
# The Wireshark dissector on a real session: dumpcap captures the UE-server
# link while tscfctl brings tscf0 up to tscfd over UDP, then over TCP, and
# inner UDP goes through each; tshark with tools/wireshark/tscf.lua (its
# port preferences set to the test's 4000/4001) decodes the cookie
# exchange, CONFIG_REQ/CONFIG_RESP and their TLVs as this session set them,
# RELEASE_REQ/RELEASE_RESP, and the inner packets, reassembled from the TCP
# stream; no Lua error and nothing flagged malformed.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
t0=$(date +%s)
tscfd_topology ws DTTE
ue_tscf0
log "tscfd up after $(( $(date +%s) - t0 )) s"
capture_start "$SRV" veth-srv "$TMPD/cap.pcapng"
cap=$CAPTURE
log "capturing after $(( $(date +%s) - t0 )) s"

for tr in udp tcp; do
	tscfctl_up $tr "$TMPD/ctl-$tr.log"
	addr=$(ip -n "$UE" -4 -o addr show dev tscf0 | awk '{ split($4, a, "/"); print a[1] }')
	[ -n "$addr" ] || fail "$tr: no address on tscf0"
	eval "addr_$tr=$addr"
	got=$(udp_echo "$UE" 10.100.0.1 7000 "WS-MARK-$tr")
	expect_eq "$tr: echo" "$got" "echo:WS-MARK-$tr"
	ip netns exec "$UE" "$CTL" down tscf0 || fail "$tr: down"
	wait $CTL_PID || fail "$tr: helper exit: $(cat "$TMPD/ctl-$tr.log")"
	log "$tr session done after $(( $(date +%s) - t0 )) s"
done
capture_stop $cap
log "session traffic done after $(( $(date +%s) - t0 )) s"

P="-o tscftun.udp_ports:4000 -o tscftun.tcp_ports:4000 -o tscftun.tls_ports:4001 -o tscftun.dtls_ports:4001"
# One pass: a line per TSCF frame of interest, fields separated by '|'.
# shellcheck disable=SC2086
tshark -X lua_script:"$TSCF_TOP/tools/wireshark/tscf.lua" $P -2 -r "$TMPD/cap.pcapng" \
	-Y tscftun -T fields -E separator='|' -E aggregator=, -E occurrence=a \
	-e frame.number -e tcp.port -e udp.port -e tscftun.msg_type -e tscftun.tsid \
	-e tscftun.tlv.type -e tscftun.response_code -e tscftun.version \
	-e tscftun.internal_ipv4 -e tscftun.internal_ipv4_mask -e tscftun.dns_server \
	-e tscftun.keepalive -e tscftun.mtu -e tscftun.cookie -e ip.src -e data.data \
	-e tscftun.malformed -e tscftun.stream_broken -e tscftun.truncated \
	-e tscftun.internal_error -e tscftun.inner_error -e tscftun.bad_tlv_len \
	> "$TMPD/dec" 2> "$TMPD/dec.err" || fail "tshark: $(cat "$TMPD/dec.err")"
log "decoded after $(( $(date +%s) - t0 )) s: $(wc -l < "$TMPD/dec") TSCF frames"
grep -i 'lua' "$TMPD/dec" "$TMPD/dec.err" && fail "Lua error while decoding"

# sel AWK: run an awk program over those lines; has(LIST, V) says whether
# the comma-separated LIST holds V.
sel() { awk -F '|' 'function has(l, v) { return index("," l ",", "," v ",") > 0 } '"$1" "$TMPD/dec"; }
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

for tr in udp tcp; do
	is="has(\$$([ $tr = udp ] && echo 3 || echo 2), 4000)"
	eval "addr=\$addr_$tr"
	# msg_type is field 4; a line may carry several frames (TCP).
	types=$(sel "$is { print \$4 }" | tr ',' '\n' | sort -n | uniq | tr '\n' ' ')
	for m in 1 2 3 4; do
		case " $types" in *" $m "*) ;; *) check "$tr: no message of type $m (saw: $types)" ;; esac
	done
	# The successful CONFIG_RESP: code, version, the address tscf0 got,
	# the pool's mask, tscfd's DNS and keepalive.
	resp=$(sel "$is && has(\$4, 2) && \$9 != \"\"")
	[ -n "$resp" ] || check "$tr: no CONFIG_RESP with INTERNAL_IPV4"
	echo "$resp" | awk -F '|' -v a="$addr" '
		$7 !~ /^0/ || $8 != "2" || $9 != a || $10 != "255.255.0.0" || $11 != "10.100.0.1" || $12 != "10" { bad = 1 }
		END { exit bad }' || check "$tr: CONFIG_RESP fields: $resp (want code 0, version 2, $addr, 255.255.0.0, DNS 10.100.0.1, keepalive 10)"
	# The inner echo request and its answer, decoded by the IP/UDP dissectors.
	n=$(sel "$is && has(\$15, \"$addr\") && \$16 ~ /$(hex "WS-MARK-$tr")/" | wc -l)
	[ "$n" -ge 1 ] || check "$tr: the inner request from $addr is not decoded"
	n=$(sel "$is && has(\$15, \"10.100.0.1\") && \$16 ~ /$(hex "echo:WS-MARK-$tr")/" | wc -l)
	[ "$n" -ge 1 ] || check "$tr: the inner answer is not decoded"
done
# UDP: the cookie-less CONFIG_REQ, the COOKIE, then the CONFIG_REQ that
# returns the very cookie.
cookie=$(sel 'has($3, 4000) && $4 == "11" { print $14; exit }')
[ -n "$cookie" ] || check "udp: no COOKIE message"
n=$(sel "has(\$3, 4000) && \$4 == \"1\" && \$14 == \"$cookie\" && has(\$6, 16) && has(\$6, 17)" | wc -l)
[ "$n" -ge 1 ] || check "udp: no CONFIG_REQ with VERSION, PADDING and the COOKIE $cookie"
# Nothing malformed, truncated or in error.
bad=$(sel '$17 != "" || $18 != "" || $19 != "" || $20 != "" || $21 != "" || $22 != ""')
[ -z "$bad" ] || check "frames flagged: $bad"
checks_done
log "took $(( $(date +%s) - t0 )) s"
echo ok
