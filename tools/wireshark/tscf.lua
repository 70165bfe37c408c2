-- SPDX-License-Identifier: GPL-2.0
--
-- tscf.lua: a Wireshark / tshark dissector for the TSCF tunnel protocol,
-- written from docs/PROTOCOL.md (the numbers: uapi/linux/tscf_wire.h).
--
-- Usage (see also docs/wireshark.md):
--   tshark -X lua_script:tools/wireshark/tscf.lua -r FILE [-V]
--   tshark -X lua_script:tools/wireshark/tscf.lua -r FILE -T fields \
--          -e tscftun.msg_type -e tscftun.seq -e tscftun.response_code
--   wireshark -X lua_script:/usr/share/tscf/wireshark/tscf.lua
-- or copy it to ~/.local/lib/wireshark/plugins/ to load it always.
--
-- Protocol name "tscftun", not "tscf": Wireshark already has a "tscf"
-- (IEEE 1722 Time-Synchronous Control Format) and two protocols cannot share
-- a name.  Display filters: tscftun, tscftun.msg_type == 2,
-- tscftun.tlv.type == 16, tscftun.internal_ipv4, tscftun.response_code, ...
-- (the Protocol column says TSCF).
-- Registered by default on:
--   UDP 4464 and TCP 4464            the clear tunnel (port N)
--   DTLS on UDP 4465, TLS on TCP 4465 the encrypted tunnel (port N+1): the
--                                    TLS/DTLS dissector decodes the records
--                                    and, when it can decrypt them (a key log
--                                    file: -o tls.keylog_file:FILE), hands
--                                    the plaintext to tscftun by port through
--                                    the "tls.port" / "dtls.port" tables.
-- Preferences (port ranges such as "4000,4464-4466"; empty = none):
--   -o tscftun.udp_ports:4464   -o tscftun.tcp_ports:4464
--   -o tscftun.dtls_ports:4465  -o tscftun.tls_ports:4465
--
-- What it shows: a control frame's header (CM_Version, CM_Indication,
-- CM_Type by name, TLV_Count, TSID, Sequence) and every TLV by name with
-- its value decoded (addresses, ports, TSIDs, codes by name, cookies,
-- commitments, secrets, text); inner packets (first nibble 4 or 6) go to
-- Wireshark's IPv4/IPv6 dissectors, so an inner UDP, TCP or RTP flow shows
-- as such.  On TCP and TLS the frames are delimited as PROTOCOL.md 1.1 says
-- and reassembled across segments; one segment may carry several frames.
-- Malformed input (bad first byte, TLVs overrunning the frame or leaving
-- bytes, wrong TLV lengths, limits exceeded, a stream that cannot be
-- delimited) is flagged with expert info ("tscftun.malformed" etc.), never a
-- Lua error: every read is bounds-checked and the whole dissection runs
-- under pcall.

local tscf = Proto("tscftun", "TSCF tunnel protocol")

-- Numbers from uapi/linux/tscf_wire.h.
local CM_BYTE0 = 0x10
local CM_HDR_LEN = 16
local TLV_HDR_LEN = 4
local MAX_CTRL_LEN = 4096
local MAX_TLVS = 64
local MAX_FRAME_LEN = 65535
local DGRAM_CONFIG_MIN_LEN = 128

local frame_kinds = { [1] = "Control message", [4] = "Inner IPv4 packet",
	[6] = "Inner IPv6 packet" }

local msg_types = {
	[1] = "CONFIG_REQ", [2] = "CONFIG_RESP",
	[3] = "RELEASE_REQ", [4] = "RELEASE_RESP",
	[5] = "KEEPALIVE_REQ", [6] = "KEEPALIVE_RESP",
	[7] = "SERVICE_REQ", [8] = "SERVICE_RESP",
	[9] = "FLOW_BIND_REQ", [10] = "FLOW_BIND_RESP",
	[11] = "COOKIE",
}

local T = {
	INTERNAL_IPV4 = 1, INTERNAL_IPV4_MASK = 2, INTERNAL_IPV6 = 3,
	INTERNAL_IPV6_PLEN = 4, DNS_SERVER = 5, KEEPALIVE = 6,
	SERVICE_TYPE = 7, RESPONSE_CODE = 8, CONN_INFO = 9, ASSOC_TSID = 10,
	RESERVED_TSID = 11, FLOW = 12, ENC_LEVEL = 13, MTU = 14,
	ERROR_TEXT = 15, VERSION = 16, PADDING = 17, COOKIE = 18,
	DTTE_COMMIT = 19, DTTE_SECRET = 20, RESUME_COMMIT = 21,
	RESUME_SECRET = 22, LIFETIME = 23, SUPER_FRAMES = 24,
}
local tlv_names = {}
for name, num in pairs(T) do tlv_names[num] = name end

local service_types = { [1] = "ENABLE_DTTE", [2] = "DISABLE_DTTE" }
local response_codes = {
	[0] = "SUCCESS", [1] = "BAD_REQUEST", [2] = "SERVICE_UNAVAILABLE",
	[3] = "UNKNOWN_TSID", [4] = "NO_RESOURCES", [5] = "NOT_ALLOWED",
	[6] = "UNSUPPORTED_VERSION",
}
local enc_levels = { [0] = "unencrypted", [1] = "encrypted-only",
	[2] = "encrypted-preferred" }
local transports = { [1] = "UDP", [2] = "TCP", [3] = "TLS", [4] = "DTLS" }
local families = { [4] = "IPv4", [6] = "IPv6" }
local ip_protos = { [6] = "TCP", [17] = "UDP" }

local f = {
	kind = ProtoField.uint8("tscftun.frame_kind", "Frame kind", base.DEC,
		frame_kinds, 0xf0, "First nibble of the frame"),
	frame_len = ProtoField.uint32("tscftun.frame_len", "Frame length", base.DEC),
	cm_version = ProtoField.uint8("tscftun.cm_version", "CM_Version", base.DEC,
		nil, 0xf0),
	cm_indication = ProtoField.uint8("tscftun.cm_indication", "CM_Indication",
		base.DEC, { [0] = "control message" }, 0x08),
	cm_reserved = ProtoField.uint8("tscftun.cm_reserved", "Reserved bits",
		base.HEX, nil, 0x07),
	msg_type = ProtoField.uint8("tscftun.msg_type", "CM_Type", base.DEC,
		msg_types),
	tlv_count = ProtoField.uint16("tscftun.tlv_count", "TLV_Count", base.DEC),
	tsid = ProtoField.uint64("tscftun.tsid", "TSID", base.HEX),
	seq = ProtoField.uint32("tscftun.seq", "Sequence", base.DEC),
	seq_inband = ProtoField.bool("tscftun.seq.inband", "In-band (tscf.ko)",
		32, nil, 0x80000000,
		"Top bit set: a FLOW_BIND_REQ the kernel sends in order with data"),

	tlv = ProtoField.none("tscftun.tlv", "TLV"),
	tlv_type = ProtoField.uint16("tscftun.tlv.type", "Type", base.DEC,
		tlv_names),
	tlv_len = ProtoField.uint16("tscftun.tlv.length", "Length", base.DEC),
	tlv_value = ProtoField.bytes("tscftun.tlv.value", "Value"),

	internal_ipv4 = ProtoField.ipv4("tscftun.internal_ipv4", "Internal IPv4 address"),
	internal_ipv4_mask = ProtoField.ipv4("tscftun.internal_ipv4_mask",
		"Internal IPv4 netmask"),
	internal_ipv6 = ProtoField.ipv6("tscftun.internal_ipv6", "Internal IPv6 address"),
	internal_ipv6_plen = ProtoField.uint8("tscftun.internal_ipv6_plen",
		"Internal IPv6 prefix length", base.DEC),
	dns_server = ProtoField.ipv4("tscftun.dns_server", "DNS server"),
	dns_server6 = ProtoField.ipv6("tscftun.dns_server6", "DNS server (IPv6)"),
	keepalive = ProtoField.uint32("tscftun.keepalive", "Keepalive interval (s)",
		base.DEC),
	service_type = ProtoField.uint16("tscftun.service_type", "Service type",
		base.DEC, service_types),
	response_code = ProtoField.uint16("tscftun.response_code", "Response code",
		base.DEC, response_codes),
	ci_transport = ProtoField.uint8("tscftun.conn_info.transport", "Transport",
		base.DEC, transports),
	ci_family = ProtoField.uint8("tscftun.conn_info.family", "Family", base.DEC,
		families),
	ci_port = ProtoField.uint16("tscftun.conn_info.port", "Port", base.DEC),
	ci_reserved = ProtoField.bytes("tscftun.conn_info.reserved", "Reserved"),
	ci_addr = ProtoField.ipv4("tscftun.conn_info.addr", "Address"),
	ci_addr6 = ProtoField.ipv6("tscftun.conn_info.addr6", "Address (IPv6)"),
	assoc_tsid = ProtoField.uint64("tscftun.assoc_tsid", "Associated TSID",
		base.HEX),
	reserved_tsid = ProtoField.uint64("tscftun.reserved_tsid", "Reserved TSID",
		base.HEX),
	flow_proto = ProtoField.uint8("tscftun.flow.proto", "Protocol", base.DEC,
		ip_protos),
	flow_family = ProtoField.uint8("tscftun.flow.family", "Family", base.DEC,
		families),
	flow_reserved = ProtoField.uint16("tscftun.flow.reserved", "Reserved",
		base.HEX),
	flow_lport = ProtoField.uint16("tscftun.flow.local_port", "Local port",
		base.DEC),
	flow_rport = ProtoField.uint16("tscftun.flow.remote_port", "Remote port",
		base.DEC),
	flow_laddr = ProtoField.ipv4("tscftun.flow.local_addr", "Local address"),
	flow_raddr = ProtoField.ipv4("tscftun.flow.remote_addr", "Remote address"),
	flow_laddr6 = ProtoField.ipv6("tscftun.flow.local_addr6", "Local address (IPv6)"),
	flow_raddr6 = ProtoField.ipv6("tscftun.flow.remote_addr6",
		"Remote address (IPv6)"),
	flow_wildcard = ProtoField.bool("tscftun.flow.wildcard", "Wildcard remote"),
	enc_level = ProtoField.uint8("tscftun.enc_level", "Encryption level",
		base.DEC, enc_levels),
	mtu = ProtoField.uint16("tscftun.mtu", "MTU", base.DEC),
	error_text = ProtoField.string("tscftun.error_text", "Error text"),
	version = ProtoField.uint8("tscftun.version", "Control protocol version",
		base.DEC),
	padding = ProtoField.bytes("tscftun.padding", "Padding"),
	cookie = ProtoField.bytes("tscftun.cookie", "Cookie"),
	dtte_commit = ProtoField.bytes("tscftun.dtte_commit", "DTTE commitment (SHA-256)"),
	dtte_secret = ProtoField.bytes("tscftun.dtte_secret", "DTTE secret"),
	resume_commit = ProtoField.bytes("tscftun.resume_commit",
		"Resume commitment (SHA-256)"),
	resume_secret = ProtoField.bytes("tscftun.resume_secret", "Resume secret"),
	lifetime = ProtoField.uint32("tscftun.lifetime", "Reservation lifetime (s)",
		base.DEC),
	super_frames = ProtoField.uint16("tscftun.super_frames",
		"Largest TCP super-frame taken (bytes)", base.DEC),
	trailing = ProtoField.bytes("tscftun.trailing", "Bytes after the last TLV"),
	undelimited = ProtoField.bytes("tscftun.undelimited",
		"Stream bytes that cannot be delimited"),
}
local field_list = {}
for _, v in pairs(f) do field_list[#field_list + 1] = v end
tscf.fields = field_list

local e = {
	malformed = ProtoExpert.new("tscftun.malformed", "Malformed TSCF frame",
		expert.group.MALFORMED, expert.severity.ERROR),
	bad_tlv_len = ProtoExpert.new("tscftun.bad_tlv_len",
		"TLV length not the one its type has", expert.group.MALFORMED,
		expert.severity.WARN),
	unknown = ProtoExpert.new("tscftun.unknown", "Unknown type (skipped by receivers)",
		expert.group.UNDECODED, expert.severity.NOTE),
	limit = ProtoExpert.new("tscftun.limit", "Over a TSCF limit (PROTOCOL.md 1.2)",
		expert.group.PROTOCOL, expert.severity.ERROR),
	stream = ProtoExpert.new("tscftun.stream_broken",
		"Stream cannot be delimited: the receiver closes the connection",
		expert.group.MALFORMED, expert.severity.ERROR),
	truncated = ProtoExpert.new("tscftun.truncated", "Frame truncated",
		expert.group.MALFORMED, expert.severity.ERROR),
	len_mismatch = ProtoExpert.new("tscftun.len_mismatch",
		"Inner packet length is not the datagram length",
		expert.group.MALFORMED, expert.severity.WARN),
	secret_clear = ProtoExpert.new("tscftun.secret_in_clear",
		"DTTE secret outside TLS/DTLS", expert.group.SECURITY,
		expert.severity.WARN),
	short_config = ProtoExpert.new("tscftun.short_config",
		"UDP CONFIG_REQ under 128 bytes: the server drops it",
		expert.group.PROTOCOL, expert.severity.WARN),
	note = ProtoExpert.new("tscftun.note", "Protocol note", expert.group.PROTOCOL,
		expert.severity.NOTE),
	inner_error = ProtoExpert.new("tscftun.inner_error",
		"The inner packet's dissector reported an error",
		expert.group.MALFORMED, expert.severity.WARN),
	internal = ProtoExpert.new("tscftun.internal_error",
		"tscf dissector internal error (please report)",
		expert.group.MALFORMED, expert.severity.ERROR),
}
tscf.experts = { e.malformed, e.bad_tlv_len, e.unknown, e.limit, e.stream,
	e.truncated, e.len_mismatch, e.secret_clear, e.short_config, e.note,
	e.inner_error, e.internal }

tscf.prefs.udp_ports = Pref.range("UDP ports (clear tunnel)", "4464",
	"UDP ports carrying TSCF in clear", 65535)
tscf.prefs.tcp_ports = Pref.range("TCP ports (clear tunnel)", "4464",
	"TCP ports carrying TSCF in clear", 65535)
tscf.prefs.dtls_ports = Pref.range("DTLS ports (encrypted tunnel)", "4465",
	"UDP ports carrying DTLS whose decrypted records are TSCF", 65535)
tscf.prefs.tls_ports = Pref.range("TLS ports (encrypted tunnel)", "4465",
	"TCP ports carrying TLS whose decrypted records are TSCF", 65535)

local ip_dissector = Dissector.get("ip")
local ipv6_dissector = Dissector.get("ipv6")

-- Whether this packet came through TLS or DTLS (a secret is only allowed
-- there).  Field extractors are made at load time; a Wireshark without
-- these fields just never warns.
local function field_or_nil(name)
	local ok, fld = pcall(Field.new, name)
	if ok then return fld end
	return nil
end
local tls_record_field = field_or_nil("tls.record")
local dtls_record_field = field_or_nil("dtls.record")

local function inside_tls()
	local ok, r = pcall(function()
		return (tls_record_field and tls_record_field() ~= nil) or
			(dtls_record_field and dtls_record_field() ~= nil)
	end)
	return ok and r
end

-- Value decoders per TLV type: each gets the value range (whose length the
-- table below already checked) and the TLV's subtree.
local function add_addr(tree, v4field, v6field, range)
	if range:len() == 4 then
		return tree:add(v4field, range)
	end
	return tree:add(v6field, range)
end

local function decode_conn_info(range, tree, item)
	tree:add(f.ci_transport, range(0, 1))
	tree:add(f.ci_family, range(1, 1))
	tree:add(f.ci_port, range(2, 2))
	local rsv = tree:add(f.ci_reserved, range(4, 4))
	local fam = range(1, 1):uint()
	local alen = range:len() - 8
	if (fam == 4 and alen ~= 4) or (fam == 6 and alen ~= 16) then
		tree:add_proto_expert_info(e.bad_tlv_len,
			string.format("CONN_INFO family %d with a %d-byte address", fam, alen))
	end
	if range(4, 4):uint() ~= 0 then
		rsv:add_proto_expert_info(e.note, "reserved bytes are not zero")
	end
	add_addr(tree, f.ci_addr, f.ci_addr6, range(8, alen))
	local t = transports[range(0, 1):uint()] or "?"
	item:append_text(string.format(": %s port %d", t, range(2, 2):uint()))
end

local function decode_flow(range, tree, item)
	tree:add(f.flow_proto, range(0, 1))
	tree:add(f.flow_family, range(1, 1))
	tree:add(f.flow_reserved, range(2, 2))
	tree:add(f.flow_lport, range(4, 2))
	tree:add(f.flow_rport, range(6, 2))
	local fam = range(1, 1):uint()
	local alen = (range:len() - 8) / 2
	if (fam == 4 and alen ~= 4) or (fam == 6 and alen ~= 16) then
		tree:add_proto_expert_info(e.bad_tlv_len,
			string.format("FLOW family %d with %d-byte addresses", fam, alen))
	end
	add_addr(tree, f.flow_laddr, f.flow_laddr6, range(8, alen))
	local remote = range(8 + alen, alen)
	add_addr(tree, f.flow_raddr, f.flow_raddr6, remote)
	local wildcard = range(6, 2):uint() == 0
	if wildcard then
		for i = 0, alen - 1 do
			if remote(i, 1):uint() ~= 0 then wildcard = false break end
		end
	end
	tree:add(f.flow_wildcard, wildcard):set_generated()
	item:append_text(string.format(": %s local port %d%s",
		ip_protos[range(0, 1):uint()] or "?", range(4, 2):uint(),
		wildcard and ", any remote" or ""))
end

local function simple(field, summary)
	return function(range, tree, item)
		tree:add(field, range)
		if summary then item:append_text(": " .. summary(range)) end
	end
end

local function hexstr(range)
	return tostring(range:bytes()):lower()
end

local function secret(field)
	return function(range, tree, item)
		local it = tree:add(field, range)
		if not inside_tls() then
			it:add_proto_expert_info(e.secret_clear,
				"DTTE_SECRET outside TLS/DTLS: PROTOCOL.md 2.7 sends it only encrypted")
		end
		item:append_text(": " .. hexstr(range))
	end
end

-- lengths: a set of exact value lengths, or min/max
local tlv_spec = {
	[T.INTERNAL_IPV4] = { len = { [4] = true },
		decode = simple(f.internal_ipv4, function(r) return tostring(r:ipv4()) end) },
	[T.INTERNAL_IPV4_MASK] = { len = { [4] = true },
		decode = simple(f.internal_ipv4_mask, function(r) return tostring(r:ipv4()) end) },
	[T.INTERNAL_IPV6] = { len = { [16] = true },
		decode = simple(f.internal_ipv6, function(r) return tostring(r:ipv6()) end) },
	[T.INTERNAL_IPV6_PLEN] = { len = { [1] = true },
		decode = simple(f.internal_ipv6_plen, function(r) return tostring(r:uint()) end) },
	[T.DNS_SERVER] = { len = { [4] = true, [16] = true },
		decode = function(range, tree, item)
			add_addr(tree, f.dns_server, f.dns_server6, range)
			item:append_text(": " .. (range:len() == 4 and tostring(range:ipv4())
				or tostring(range:ipv6())))
		end },
	[T.KEEPALIVE] = { len = { [4] = true },
		decode = simple(f.keepalive, function(r) return r:uint() .. " s" end) },
	[T.SERVICE_TYPE] = { len = { [2] = true },
		decode = simple(f.service_type, function(r)
			return service_types[r:uint()] or ("unknown " .. r:uint()) end) },
	[T.RESPONSE_CODE] = { len = { [2] = true },
		decode = simple(f.response_code, function(r)
			return response_codes[r:uint()] or ("unknown " .. r:uint()) end) },
	[T.CONN_INFO] = { len = { [12] = true, [24] = true }, decode = decode_conn_info },
	[T.ASSOC_TSID] = { len = { [8] = true },
		decode = simple(f.assoc_tsid, function(r) return r:uint64():tohex() end) },
	[T.RESERVED_TSID] = { len = { [8] = true },
		decode = simple(f.reserved_tsid, function(r) return r:uint64():tohex() end) },
	[T.FLOW] = { len = { [16] = true, [40] = true }, decode = decode_flow },
	[T.ENC_LEVEL] = { len = { [1] = true },
		decode = simple(f.enc_level, function(r)
			return enc_levels[r:uint()] or ("unknown " .. r:uint()) end) },
	[T.MTU] = { len = { [2] = true },
		decode = simple(f.mtu, function(r) return tostring(r:uint()) end) },
	[T.ERROR_TEXT] = { min = 1, max = 255,
		decode = function(range, tree, item)
			tree:add(f.error_text, range, range:string(ENC_UTF_8))
			item:append_text(": \"" .. range:string(ENC_UTF_8) .. "\"")
		end },
	[T.VERSION] = { len = { [1] = true },
		decode = simple(f.version, function(r) return tostring(r:uint()) end) },
	[T.PADDING] = { min = 0, max = 65535,
		decode = function(range, tree, item)
			item:append_text(string.format(": %d bytes", range:len()))
			local it = tree:add(f.padding, range)
			for i = 0, range:len() - 1 do
				if range(i, 1):uint() ~= 0 then
					it:add_proto_expert_info(e.note, "padding is not all zeros")
					break
				end
			end
		end },
	[T.COOKIE] = { len = { [16] = true },
		decode = simple(f.cookie, hexstr) },
	[T.DTTE_COMMIT] = { len = { [32] = true },
		decode = simple(f.dtte_commit, hexstr) },
	[T.DTTE_SECRET] = { len = { [32] = true }, decode = secret(f.dtte_secret) },
	[T.RESUME_COMMIT] = { len = { [32] = true },
		decode = simple(f.resume_commit, hexstr) },
	-- A resume reveals its one-time secret on the clear transport
	-- (PROTOCOL.md 2.7): no warning for it.
	[T.RESUME_SECRET] = { len = { [32] = true },
		decode = simple(f.resume_secret, hexstr) },
	[T.LIFETIME] = { len = { [4] = true },
		decode = simple(f.lifetime, function(r) return r:uint() .. " s" end) },
	[T.SUPER_FRAMES] = { len = { [2] = true },
		decode = simple(f.super_frames, function(r) return r:uint() .. " bytes" end) },
}

local function length_ok(spec, n)
	if spec.len then return spec.len[n] == true end
	return n >= spec.min and n <= spec.max
end

local function expected_len(spec)
	if not spec.len then
		return string.format("%d to %d", spec.min, spec.max)
	end
	local l = {}
	for n in pairs(spec.len) do l[#l + 1] = n end
	table.sort(l)
	return table.concat(l, " or ")
end

-- One TLV at off (its header is known to be in the frame); returns the
-- offset after it, or nil if it overruns the frame.
local function dissect_tlv(tvb, off, tree, msg)
	local flen = tvb:len()
	local ttype = tvb(off, 2):uint()
	local vlen = tvb(off + 2, 2):uint()
	local name = tlv_names[ttype] or string.format("Unknown TLV %d", ttype)
	local avail = math.min(vlen, flen - off - TLV_HDR_LEN)
	local item = tree:add(f.tlv, tvb(off, TLV_HDR_LEN + avail))
	item:set_text(name)
	local st = item:add(f.tlv_type, tvb(off, 2))
	item:add(f.tlv_len, tvb(off + 2, 2))
	if vlen > avail then
		item:add_proto_expert_info(e.malformed, string.format(
			"%s: value of %d bytes overruns the frame (%d left)",
			name, vlen, avail))
		if avail > 0 then item:add(f.tlv_value, tvb(off + TLV_HDR_LEN, avail)) end
		return nil
	end
	local value = vlen > 0 and tvb(off + TLV_HDR_LEN, vlen) or nil
	local spec = tlv_spec[ttype]
	msg.tlvs[ttype] = value or true
	if not spec then
		st:add_proto_expert_info(e.unknown, string.format("unknown TLV type %d", ttype))
		if value then item:add(f.tlv_value, value) end
	elseif not length_ok(spec, vlen) then
		item:add_proto_expert_info(e.bad_tlv_len, string.format(
			"%s has %d value bytes, its type takes %s", name, vlen,
			expected_len(spec)))
		if value then item:add(f.tlv_value, value) end
		msg.tlvs[ttype] = nil
	elseif value then
		spec.decode(value, item, item)
		if ttype == T.RESPONSE_CODE then msg.code = value:uint() end
	else
		item:append_text(": empty")
	end
	return off + TLV_HDR_LEN + vlen
end

-- The Info column lists every frame of the packet in order, across the
-- several calls TCP makes for one segment (pinfo.private remembers what an
-- earlier call wrote); an inner packet's dissector writes its own text,
-- fenced so that neither side overwrites the other.  The Protocol column
-- says TSCF when the packet has a control frame, else the inner protocol.
local function col_begin(pinfo)
	local started = pinfo.private.tscf_col == "1"
	if not started then
		pinfo.cols.protocol:set("TSCF")
		pinfo.cols.info:clear()
	end
	return { first = not started }
end

local function col_add(pinfo, col, text)
	if col.first then
		pinfo.cols.info:set(text)
	else
		pinfo.cols.info:append("; " .. text)
	end
	col.first = false
	pinfo.private.tscf_col = "1"
	pinfo.private.tscf_ctrl = "1"
	pinfo.cols.protocol:set("TSCF")
end

local function col_before_inner(pinfo, col)
	if not col.first then pinfo.cols.info:append("; ") end
	pinfo.cols.info:fence()
end

local function col_after_inner(pinfo, col)
	pinfo.cols.info:fence()
	col.first = false
	pinfo.private.tscf_col = "1"
	if pinfo.private.tscf_ctrl == "1" then pinfo.cols.protocol:set("TSCF") end
end

-- A whole control frame (tvb is exactly the frame, or what the datagram
-- holds); returns a one-line summary for the Info column.
local function dissect_ctrl(tvb, pinfo, tree, datagram)
	local flen = tvb:len()
	local root = tree:add(tscf, tvb(), "TSCF control message")
	if flen < CM_HDR_LEN then
		root:add(f.kind, tvb(0, 1))
		root:add_proto_expert_info(e.truncated, string.format(
			"control frame of %d bytes, the header alone has 16", flen))
		return "control frame truncated"
	end
	local byte0 = tvb(0, 1):uint()
	local mtype = tvb(1, 1):uint()
	local count = tvb(2, 2):uint()
	local hdr = root:add(f.cm_version, tvb(0, 1))
	root:add(f.cm_indication, tvb(0, 1))
	root:add(f.cm_reserved, tvb(0, 1))
	if byte0 ~= CM_BYTE0 then
		hdr:add_proto_expert_info(e.malformed, string.format(
			"byte 0 is 0x%02x: a control message's is exactly 0x10", byte0))
	end
	local ti = root:add(f.msg_type, tvb(1, 1))
	if not msg_types[mtype] then
		ti:add_proto_expert_info(e.unknown, string.format(
			"unknown CM_Type %d: dropped and counted", mtype))
	end
	local ci = root:add(f.tlv_count, tvb(2, 2))
	if count > MAX_TLVS then
		ci:add_proto_expert_info(e.limit, string.format(
			"%d TLVs, at most %d", count, MAX_TLVS))
	end
	root:add(f.tsid, tvb(4, 8))
	local seq = root:add(f.seq, tvb(12, 4))
	if mtype == 9 then seq:add(f.seq_inband, tvb(12, 4)) end
	if flen > MAX_CTRL_LEN then
		root:add_proto_expert_info(e.limit, string.format(
			"control frame of %d bytes, at most %d", flen, MAX_CTRL_LEN))
	end

	local msg = { tlvs = {} }
	local off = CM_HDR_LEN
	local n = 0
	while n < count do
		if off + TLV_HDR_LEN > flen then
			root:add_proto_expert_info(e.malformed, string.format(
				"TLV_Count says %d, the frame ends after %d", count, n))
			off = nil
			break
		end
		off = dissect_tlv(tvb, off, root, msg)
		n = n + 1
		if not off then break end
	end
	if off and off < flen then
		root:add(f.trailing, tvb(off, flen - off)):add_proto_expert_info(e.malformed,
			string.format("%d bytes after the last of the %d TLVs", flen - off, count))
	end

	-- What a whole message needs (PROTOCOL.md 2.3), noted, not malformed.
	if off and mtype % 2 == 0 and msg_types[mtype] and not msg.tlvs[T.RESPONSE_CODE] then
		root:add_proto_expert_info(e.note,
			"a response without RESPONSE_CODE: the client takes it as BAD_REQUEST")
	end
	if off and mtype == 1 and not msg.tlvs[T.VERSION] then
		root:add_proto_expert_info(e.note,
			"CONFIG_REQ without VERSION: control protocol version 1, refused")
	end
	local name = msg_types[mtype] or string.format("CM_Type %d", mtype)
	if datagram and mtype == 1 and flen < DGRAM_CONFIG_MIN_LEN and
	   not inside_tls() then
		root:add_proto_expert_info(e.short_config)
	end
	local summary = string.format("%s seq=%d TSID=%s", name, tvb(12, 4):uint(),
		tvb(4, 8):uint64():tohex())
	if msg.code then
		summary = summary .. " " .. (response_codes[msg.code] or tostring(msg.code))
	end
	root:append_text(": " .. summary)
	return summary
end

-- An inner IP packet: Wireshark's own dissector shows it.
local function dissect_inner(tvb, pinfo, tree, nibble, datagram)
	local flen = tvb:len()
	local hdr = nibble == 4 and 20 or 40
	local root = tree:add(tscf, tvb(), nibble == 4 and "TSCF inner IPv4 packet"
		or "TSCF inner IPv6 packet")
	root:add(f.kind, tvb(0, 1))
	if datagram and flen >= hdr then
		local iplen = nibble == 4 and tvb(2, 2):uint() or 40 + tvb(4, 2):uint()
		if iplen ~= flen then
			root:add_proto_expert_info(e.len_mismatch, string.format(
				"IP length %d, datagram %d: the receiver drops it", iplen, flen))
		end
	end
	local d = nibble == 4 and ip_dissector or ipv6_dissector
	if not d then
		root:add(f.tlv_value, tvb())
		return
	end
	-- The IP dissector throws on a malformed packet: Dissector:call turns
	-- that into a Lua error after adding its own "Malformed" item.
	local ok, err = pcall(function() d:call(tvb, pinfo, tree) end)
	if not ok then
		root:add_proto_expert_info(e.inner_error, "inner packet: " ..
			tostring(err):gsub("^.*Dissector_call: ", ""))
	end
end

local function dissect_frame(tvb, pinfo, tree, datagram, col)
	local nibble = math.floor(tvb(0, 1):uint() / 16)
	if nibble == 1 then
		col_add(pinfo, col, dissect_ctrl(tvb, pinfo, tree, datagram))
		return
	elseif nibble == 4 or nibble == 6 then
		col_before_inner(pinfo, col)
		dissect_inner(tvb, pinfo, tree, nibble, datagram)
		col_after_inner(pinfo, col)
		return
	end
	local root = tree:add(tscf, tvb(), "TSCF invalid frame")
	root:add(f.kind, tvb(0, 1))
	root:add_proto_expert_info(e.malformed, string.format(
		"first nibble %d: not a frame (dropped and counted)", nibble))
	col_add(pinfo, col, "invalid frame")
end

-- The stream framer of PROTOCOL.md 1.1 (uapi/linux/tscf_frame.h):
-- returns "len", n | "again" | "bad", why.
local function stream_frame_len(tvb, off, avail)
	if avail < 1 then return "again" end
	local b0 = tvb(off, 1):uint()
	local nibble = math.floor(b0 / 16)
	local n
	if nibble == 1 then
		if b0 ~= CM_BYTE0 then
			return "bad", string.format("control byte 0 is 0x%02x, not 0x10", b0)
		end
		if avail < CM_HDR_LEN then return "again" end
		local count = tvb(off + 2, 2):uint()
		if count > MAX_TLVS then
			return "bad", string.format("%d TLVs, at most %d", count, MAX_TLVS)
		end
		local p = CM_HDR_LEN
		for _ = 1, count do
			if p + TLV_HDR_LEN > MAX_CTRL_LEN then
				return "bad", "control frame over 4096 bytes"
			end
			if avail < p + TLV_HDR_LEN then return "again" end
			p = p + TLV_HDR_LEN + tvb(off + p + 2, 2):uint()
		end
		if p > MAX_CTRL_LEN then
			return "bad", string.format("control frame of %d bytes, at most %d",
				p, MAX_CTRL_LEN)
		end
		return "len", p
	elseif nibble == 4 then
		if avail < 20 then return "again" end
		n = tvb(off + 2, 2):uint()
		local ihl = b0 % 16
		if ihl < 5 or n < ihl * 4 then
			return "bad", string.format("IPv4 IHL %d, total length %d", ihl, n)
		end
	elseif nibble == 6 then
		if avail < 40 then return "again" end
		n = tvb(off + 4, 2):uint()
		if n == 0 then return "bad", "IPv6 jumbogram (payload length 0)" end
		n = n + 40
	else
		return "bad", string.format("first nibble %d", nibble)
	end
	if n > MAX_FRAME_LEN then
		return "bad", string.format("frame of %d bytes, at most %d", n, MAX_FRAME_LEN)
	end
	return "len", n
end

local function dissect_stream(tvb, pinfo, tree)
	local total = tvb:len()
	local off = 0
	local col = col_begin(pinfo)
	local can_more = pinfo.can_desegment > 0 and
		tvb:len() == tvb:reported_len()
	pinfo.desegment_len = 0
	pinfo.desegment_offset = 0
	while off < total do
		local st, n = stream_frame_len(tvb, off, total - off)
		if st == "bad" then
			local it = tree:add(tscf, tvb(off), "TSCF stream error")
			it:add(f.undelimited, tvb(off))
			it:add_proto_expert_info(e.stream, n)
			col_add(pinfo, col, "stream cannot be delimited")
			break
		end
		if st == "again" or off + n > total then
			if can_more then
				pinfo.desegment_offset = off
				pinfo.desegment_len = st == "again" and DESEGMENT_ONE_MORE_SEGMENT
					or off + n - total
				break
			end
			local it = tree:add(tscf, tvb(off), "TSCF truncated frame")
			it:add(f.undelimited, tvb(off))
			it:add_proto_expert_info(e.truncated, st == "again" and
				"too few bytes to delimit the frame" or
				string.format("frame of %d bytes, %d captured", n, total - off))
			col_add(pinfo, col, "truncated frame")
			break
		end
		local ftvb = tvb(off, n):tvb()
		dissect_frame(ftvb, pinfo, tree, false, col)
		off = off + n
	end
	return total
end

local function dissect_datagram(tvb, pinfo, tree)
	dissect_frame(tvb, pinfo, tree, true, col_begin(pinfo))
	return tvb:len()
end

local PT_TCP = 2

function tscf.dissector(tvb, pinfo, tree)
	if tvb:len() == 0 then return 0 end
	local stream = pinfo.port_type == PT_TCP
	local ok, ret = pcall(stream and dissect_stream or dissect_datagram,
		tvb, pinfo, tree)
	if ok then return ret end
	-- Only a bug in this file gets here: say so instead of failing.
	pcall(function()
		tree:add(tscf, tvb()):add_proto_expert_info(e.internal,
			"tscf dissector internal error (please report): " .. tostring(ret))
	end)
	if stream then
		pinfo.desegment_len = 0
		pinfo.desegment_offset = 0
	end
	return tvb:len()
end

-- Port registration, redone when a preference changes.
local registered = {}

local function table_add(name, ports, handle)
	if not ports or ports == "" then return end
	local t = DissectorTable.get(name)
	if not t or not handle then return end
	if pcall(function() t:add(ports, handle) end) then
		registered[#registered + 1] = { t = t, ports = ports, handle = handle }
	end
end

local function register_ports()
	for _, r in ipairs(registered) do
		pcall(function() r.t:remove(r.ports, r.handle) end)
	end
	registered = {}
	local tls = Dissector.get("tls")
	local dtls = Dissector.get("dtls")
	table_add("udp.port", tscf.prefs.udp_ports, tscf)
	table_add("tcp.port", tscf.prefs.tcp_ports, tscf)
	table_add("udp.port", tscf.prefs.dtls_ports, dtls)
	table_add("dtls.port", tscf.prefs.dtls_ports, tscf)
	table_add("tcp.port", tscf.prefs.tls_ports, tls)
	table_add("tls.port", tscf.prefs.tls_ports, tscf)
end

function tscf.prefs_changed()
	register_ports()
end

register_ports()
