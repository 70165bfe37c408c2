#!/bin/sh
# The Wireshark dissector (tools/wireshark/tscf.lua) against captures made
# offline: every control message made by the project's encoder
# (selftests/lib/ws_frames.c) over UDP, the worked example of PROTOCOL.md
# and more over TCP split across segments and coalesced, inner IPv4, IPv6
# and RTP packets, a TLS session (key log) and a DTLS one, the port
# preferences, and hundreds of malformed and truncated frames: checked
# field by field, and never a Lua error.
. "$TSCF_TOP/selftests/lib.sh"
command -v tshark >/dev/null || fail "tshark is not installed (tools/install-deps.sh)"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
LUA="$TSCF_TOP/tools/wireshark/tscf.lua"
PCAP="python3 $TSCF_TOP/selftests/lib/ws_pcap.py"

make -s -C "$TSCF_TOP/tools" lib || fail "tools/lib"
cc -O1 -g -Wall -Wextra -Werror -I"$TSCF_TOP/uapi" -I"$TSCF_TOP/tools/lib" \
	"$TSCF_TOP/selftests/lib/ws_frames.c" "$TSCF_TOP/tools/lib/libtscfproto.a" \
	-o "$TMPD/ws_frames" || fail "build ws_frames"
"$TMPD/ws_frames" > "$TMPD/frames" || fail "ws_frames"
$PCAP main "$TMPD/frames" "$TMPD/main.pcap" "$TMPD/main.idx" || fail "main capture"

# ts ARGS...: tshark with the dissector; stderr (minus the warning every
# run as root prints) kept in $TMPD/ts.err, and a Lua error is fatal.
ts() {
	tshark -X lua_script:"$LUA" "$@" 2>"$TMPD/ts.err.all"
	rc=$?
	grep -v '^Running as user "root"' "$TMPD/ts.err.all" > "$TMPD/ts.err" || true
	if grep -qi 'lua' "$TMPD/ts.err"; then
		fail "tshark $*: $(cat "$TMPD/ts.err")"
	fi
	return $rc
}

# frame LABEL: the frame number ws_pcap.py gave a label (in IDX).
IDX="$TMPD/main.idx"
frame() {
	n=$(awk -v l="$1" '$2 == l { print $1 }' "$IDX")
	[ -n "$n" ] || fail "no frame labelled $1 in $IDX"
	echo "$n"
}

# Every field the checks read, extracted in one tshark run per capture and
# set of options (tshark starts slowly on a loaded machine).
FIELDS="frame.number ip.src ipv6.src ipv6.dst udp.dstport udp.length data.data tcp.segment
tcp.reassembled_in tls.record.content_type rtp.ssrc rtp.seq"
for f in msg_type tsid seq seq.inband tlv_count tlv.type version cookie resume_commit \
	resume_secret response_code internal_ipv4 internal_ipv4_mask internal_ipv6 \
	internal_ipv6_plen dns_server dns_server6 keepalive mtu service_type dtte_commit \
	dtte_secret reserved_tsid assoc_tsid lifetime conn_info.transport conn_info.port \
	conn_info.addr conn_info.addr6 flow.proto flow.local_port flow.remote_port \
	flow.local_addr flow.remote_addr flow.local_addr6 flow.remote_addr6 flow.wildcard \
	enc_level error_text secret_in_clear malformed; do
	FIELDS="$FIELDS tscftun.$f"
done

# fields PCAP [TSHARK ARGS]: the table of FIELDS (a header line, then a
# line per frame), cached per capture and options.
fields() {
	c="$TMPD/f.$(echo "$*" | tr -c 'a-zA-Z0-9._\n' '_')"
	if [ ! -f "$c" ]; then
		p=$1
		shift
		# shellcheck disable=SC2086
		ts -2 -r "$p" "$@" -T fields -E header=y -E aggregator=, -E separator=/t \
			$(for f in $FIELDS; do printf -- '-e %s ' "$f"; done) > "$c" ||
			fail "tshark -T fields: $(cat "$TMPD/ts.err")"
	fi
	cat "$c"
}

# want LABEL FIELD VALUE [PCAP [TSHARK ARGS]]: the field's values in that
# frame (comma-separated, in order).
want() {
	lbl=$1 fl=$2 v=$3
	shift 3
	p=${1:-$TMPD/main.pcap}
	[ $# -gt 0 ] && shift
	n=$(frame "$lbl")
	got=$(fields "$p" "$@" | awk -F '\t' -v n="$n" -v f="$fl" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; if (!(f in col)) exit 2; next }
		$1 == n { print $col[f] }') || fail "field $fl is not in FIELDS"
	[ "$got" = "$v" ] || check "$lbl (frame $n): $fl is '$got', want '$v'"
}

# text LABEL STRING: the frame's -V tree shows STRING.
ts -r "$TMPD/main.pcap" -V -o tcp.desegment_tcp_streams:TRUE > "$TMPD/main.txt" || fail "tshark -V"
text() {
	n=$(frame "$1")
	awk -v n="$n" '/^Frame [0-9]+:/ { on = ($2 == n ":") } on' "$TMPD/main.txt" |
		grep -qF -- "$2" || check "$1 (frame $n): no '$2' in the tree"
}

# Every message type, by number and by name.
for m in config_req_probe:1:CONFIG_REQ cookie:11:COOKIE config_req_cookie:1:CONFIG_REQ \
	config_resp:2:CONFIG_RESP service_req:7:SERVICE_REQ service_resp:8:SERVICE_RESP \
	flow_bind_req:9:FLOW_BIND_REQ flow_bind_resp:10:FLOW_BIND_RESP \
	flow_bind_req6:9:FLOW_BIND_REQ flow_bind_resp_refused:10:FLOW_BIND_RESP \
	keepalive_req:5:KEEPALIVE_REQ keepalive_resp:6:KEEPALIVE_RESP \
	release_req:3:RELEASE_REQ release_resp:4:RELEASE_RESP \
	config_resp_unsupported:2:CONFIG_RESP config_resp_encrypted:2:CONFIG_RESP \
	config_req_resume:1:CONFIG_REQ; do
	name=${m%%:*} rest=${m#*:}
	want "udp:$name" tscftun.msg_type "${rest%%:*}"
	text "udp:$name" "CM_Type: ${rest#*:} (${rest%%:*})"
done

# Header fields and TLVs, by name and value.
want udp:config_req_probe tscftun.tsid 0xffffffffffffffff
want udp:config_req_probe tscftun.seq 1
want udp:config_req_probe tscftun.tlv.type 16,17
want udp:config_req_probe tscftun.version 2
text udp:config_req_probe "PADDING: 103 bytes"
text udp:config_req_probe "0001 .... = CM_Version: 1"
want udp:cookie tscftun.cookie c0c1c2c3c4c5c6c7c8c9cacbcccdcecf
want udp:config_req_cookie tscftun.tlv.type 16,18,21,17
want udp:config_req_cookie tscftun.resume_commit a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf
want udp:config_resp tscftun.tsid 0x1122334455667788
want udp:config_resp tscftun.tlv.type 8,16,1,2,3,4,5,5,6,14
want udp:config_resp tscftun.response_code 0
want udp:config_resp tscftun.internal_ipv4 10.100.0.2
want udp:config_resp tscftun.internal_ipv4_mask 255.255.0.0
want udp:config_resp tscftun.internal_ipv6 fd00:100::2
want udp:config_resp tscftun.internal_ipv6_plen 64
want udp:config_resp tscftun.dns_server 10.100.0.1
want udp:config_resp tscftun.dns_server6 fd00:100::1
want udp:config_resp tscftun.keepalive 30
want udp:config_resp tscftun.mtu 1399
for s in "RESPONSE_CODE: SUCCESS" "VERSION: 2" "INTERNAL_IPV4: 10.100.0.2" \
	"INTERNAL_IPV4_MASK: 255.255.0.0" "INTERNAL_IPV6: fd00:100::2" \
	"INTERNAL_IPV6_PLEN: 64" "DNS_SERVER: fd00:100::1" "KEEPALIVE: 30 s" "MTU: 1399"; do
	text udp:config_resp "$s"
done
want udp:service_req tscftun.service_type 1
text udp:service_req "SERVICE_TYPE: ENABLE_DTTE"
want udp:service_req tscftun.dtte_commit d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef
want udp:service_resp tscftun.reserved_tsid 0x99aabbccddeeff01
want udp:service_resp tscftun.lifetime 30
want udp:service_resp tscftun.conn_info.transport 3,4
want udp:service_resp tscftun.conn_info.port 4465,4465
want udp:service_resp tscftun.conn_info.addr 10.10.0.2
want udp:service_resp tscftun.conn_info.addr6 fd10::2
text udp:service_resp "CONN_INFO: DTLS port 4465"
want udp:flow_bind_req tscftun.seq.inband 1
want udp:flow_bind_req tscftun.flow.proto 17
want udp:flow_bind_req tscftun.flow.local_port 5004
want udp:flow_bind_req tscftun.flow.remote_port 0
want udp:flow_bind_req tscftun.flow.local_addr 10.100.0.2
want udp:flow_bind_req tscftun.flow.remote_addr 0.0.0.0
want udp:flow_bind_req tscftun.flow.wildcard 1
want udp:flow_bind_req tscftun.enc_level 1
text udp:flow_bind_req "ENC_LEVEL: encrypted-only"
want udp:flow_bind_req6 tscftun.flow.proto 6
want udp:flow_bind_req6 tscftun.flow.local_addr6 fd00:100::2
want udp:flow_bind_req6 tscftun.flow.remote_addr6 fd00:100::1
want udp:flow_bind_req6 tscftun.flow.remote_port 443
want udp:flow_bind_req6 tscftun.flow.wildcard 0
want udp:flow_bind_req6 tscftun.enc_level 2
want udp:flow_bind_resp_refused tscftun.response_code 5
want udp:flow_bind_resp_refused tscftun.error_text "clear tunnel cannot lower"
text udp:flow_bind_resp_refused "RESPONSE_CODE: NOT_ALLOWED"
want udp:keepalive_req tscftun.tlv_count 0
want udp:config_resp_unsupported tscftun.response_code 6
text udp:config_resp_unsupported "RESPONSE_CODE: UNSUPPORTED_VERSION"
want udp:config_req_resume tscftun.resume_secret 505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f
want udp:config_req_resume tscftun.secret_in_clear ""
# The encrypted tunnel's request, seen in clear, is flagged.
want udp:secret_in_clear tscftun.assoc_tsid 0x1122334455667788
want udp:secret_in_clear tscftun.dtte_secret 303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f
want udp:secret_in_clear tscftun.secret_in_clear 1

# Inner packets go to Wireshark's IP dissectors (outer, then inner).
want udp:inner_v4 ip.src 10.10.0.1,10.100.0.2
want udp:inner_v4 udp.dstport 4464,7000
want udp:inner_v4 data.data "$(printf tscf-inner-v4 | od -An -tx1 | tr -d ' \n')"
want udp:inner_v6 ipv6.src fd00:100::2
want udp:inner_v6 udp.dstport 4464,7001
want udp:inner_rtp rtp.ssrc 0x5ca1ab1e "$TMPD/main.pcap" -d udp.port==5006,rtp
want udp:inner_rtp rtp.seq 4242 "$TMPD/main.pcap" -d udp.port==5006,rtp

# TCP: PROTOCOL.md's worked example and more, split and coalesced.
want "tcp:c1" tscftun.msg_type 1
want "tcp:c1" tscftun.tlv.type 16
want "tcp:c2" tscftun.msg_type 7,9
want "tcp:c2" udp.dstport 7000
want "tcp:c2" tcp.segment "$(frame tcp:c1),$(frame tcp:c2)"
want "tcp:s1" tscftun.msg_type ""
want "tcp:s1" tcp.reassembled_in "$(frame tcp:s3)"
want "tcp:s2" tcp.reassembled_in "$(frame tcp:s3)"
want "tcp:s3" tcp.segment "$(frame tcp:s1),$(frame tcp:s2),$(frame tcp:s3)"
want "tcp:s3" tscftun.msg_type 2,8
want "tcp:s3" tscftun.tsid 0x1122334455667788,0x1122334455667788
want "tcp:s3" tscftun.internal_ipv4 10.100.0.2
want "tcp:s3" tscftun.internal_ipv4_mask 255.255.0.0
want "tcp:s3" tscftun.keepalive 30
want "tcp:s3" tscftun.mtu 1399
want "tcp:s3" ipv6.dst fd00:100::1
want "tcp:s3" udp.dstport 7001
want "tcp2:b1" tcp.reassembled_in "$(frame tcp2:b3)"
want "tcp2:b3" udp.length 1008
want "tcp2:b3" udp.dstport 7002
want "tcp2:b3" tscftun.msg_type 5
want "tcp2:b3" tscftun.malformed ""

# The port preferences: elsewhere, 4464 is nothing; a range still works.
n=$(ts -r "$TMPD/main.pcap" -o tscftun.udp_ports:4000 -o tscftun.tcp_ports:4000 -Y tscftun | wc -l)
expect_eq "frames decoded with the ports moved to 4000" "$n" 0
n=$(ts -r "$TMPD/main.pcap" -o tscftun.udp_ports:4460-4470 -Y 'tscftun && !tcp' | wc -l)
expect_eq "UDP frames decoded on a port range" "$n" 21

# TLS on 4465: with the key log the records are tscf, without it not.
make_certs "$TMPD"
$PCAP tls "$TMPD/frames" "$TMPD/server.pem" "$TMPD/server.key" "$TMPD/tls.pcap" \
	"$TMPD/tls.keys" "$TMPD/tls.idx" || fail "TLS capture"
IDX="$TMPD/tls.idx"
K="-o tls.keylog_file:$TMPD/tls.keys"
want tls:req_head tscftun.msg_type "" "$TMPD/tls.pcap" $K
want tls:req_tail+inner_v4 tscftun.msg_type 1 "$TMPD/tls.pcap" $K
want tls:req_tail+inner_v4 tscftun.reserved_tsid 0x99aabbccddeeff01 "$TMPD/tls.pcap" $K
want tls:req_tail+inner_v4 tscftun.dtte_secret 303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f "$TMPD/tls.pcap" $K
want tls:req_tail+inner_v4 tscftun.secret_in_clear "" "$TMPD/tls.pcap" $K
want tls:req_tail+inner_v4 udp.dstport 7000 "$TMPD/tls.pcap" $K
want tls:resp tscftun.msg_type 2 "$TMPD/tls.pcap" $K
want tls:resp tls.record.content_type 23 "$TMPD/tls.pcap"
want tls:resp tscftun.msg_type "" "$TMPD/tls.pcap"

# DTLS on 4465: openssl's client and server on a namespace's loopback.
NS=$(tscf_netns ws)
sed -n 's/^config_req_encrypted //p' "$TMPD/frames" | python3 -c \
	'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' > "$TMPD/req.bin"
ip netns exec "$NS" tshark -q -i lo -f udp -w "$TMPD/dtls.pcap" 2>"$TMPD/dcap.err" &
dcap=$!
at_exit "kill $dcap 2>/dev/null"
wait_for 20 grep -q Capturing "$TMPD/dcap.err" || fail "tshark on lo: $(cat "$TMPD/dcap.err")"
sleep 8 | ip netns exec "$NS" timeout 10 openssl s_server -dtls1_2 -accept 127.0.0.1:4465 \
	-cert "$TMPD/server.pem" -key "$TMPD/server.key" -keylogfile "$TMPD/dtls.keys" \
	> "$TMPD/dsrv.out" 2>&1 &
wait_for 10 sh -c "ip netns exec $NS ss -Hlun | grep -q 127.0.0.1:4465" || fail "openssl s_server -dtls"
(sleep 1; cat "$TMPD/req.bin"; sleep 2) | ip netns exec "$NS" timeout 6 openssl s_client -dtls1_2 \
	-connect 127.0.0.1:4465 -ign_eof > "$TMPD/dcli.out" 2>&1 || true
sleep 1
capture_stop $dcap
n=$(ts -r "$TMPD/dtls.pcap" -o tls.keylog_file:"$TMPD/dtls.keys" -Y 'dtls && tscftun.msg_type == 1 && tscftun.dtte_secret' | wc -l)
expect_eq "DTLS records decrypted and decoded as CONFIG_REQ" "$n" 1
n=$(ts -r "$TMPD/dtls.pcap" -Y 'dtls.record' | wc -l)
[ "$n" -ge 4 ] || check "DTLS on 4465: only $n records"

# Malformed input: flagged, never a Lua error, never an internal error.
for seed in 1 2 3; do
	$PCAP fuzz "$TMPD/fuzz$seed.pcap" $seed || fail "fuzz capture"
	ts -r "$TMPD/fuzz$seed.pcap" -V > "$TMPD/fuzz$seed.txt" || check "tshark on fuzz$seed: $(cat "$TMPD/ts.err")"
	grep -q 'Lua Error' "$TMPD/fuzz$seed.txt" && check "fuzz$seed: Lua Error: $(grep -m3 'Lua Error' "$TMPD/fuzz$seed.txt")"
	grep -q 'tscf dissector internal error' "$TMPD/fuzz$seed.txt" &&
		check "fuzz$seed: internal error: $(grep -m3 -A1 'internal error' "$TMPD/fuzz$seed.txt")"
	ts -r "$TMPD/fuzz$seed.pcap" -T fields -E header=y -E separator=/t -e tscftun.malformed \
		-e tscftun.bad_tlv_len -e tscftun.stream_broken -e tscftun.truncated -e tscftun.unknown \
		-e tscftun.limit -e tscftun.len_mismatch -e tscftun.inner_error \
		-e tscftun.internal_error > "$TMPD/fx$seed" || check "tshark -T fields on fuzz$seed"
	n=$(awk -F '\t' 'NR > 1 && $9 != ""' "$TMPD/fx$seed" | wc -l)
	expect_eq "fuzz$seed: frames with an internal error" "$n" 0
	for x in $(head -n 1 "$TMPD/fx$seed" | cut -f 1-8); do
		n=$(awk -F '\t' -v x="$x" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == x) c = i; next }
			$c != "" { n++ } END { print n + 0 }' "$TMPD/fx$seed")
		[ "$n" -gt 0 ] || check "fuzz$seed: no frame flagged $x"
	done
	log "fuzz$seed: $(grep -c '^Frame ' "$TMPD/fuzz$seed.txt") frames, $(grep -c 'Expert Info.*' "$TMPD/fuzz$seed.txt") expert items"
done
# The well-formed captures have no expert item of the dissector's but
# the one planted (the secret in clear) and the short CONFIG_REQ it is in.
n=$(ts -r "$TMPD/main.pcap" -Y 'tscftun.malformed || tscftun.bad_tlv_len || tscftun.stream_broken || tscftun.truncated || tscftun.unknown || tscftun.limit || tscftun.len_mismatch || tscftun.internal_error || tscftun.inner_error' | wc -l)
expect_eq "expert items on well-formed frames" "$n" 0
checks_done
echo ok
