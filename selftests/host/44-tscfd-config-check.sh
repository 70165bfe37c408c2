#!/bin/sh
# Issue 10: "tscfd -t" refuses what the start (or a client) would trip on,
# and every error is FILE:LINE: a certificate that is missing, does not
# load or does not match its key; listeners that collide (the same
# address:port, or N+1 of one block on N of another); overlapping pools;
# extra words after a value; numbers out of range or with signs; a user or
# group that does not exist; metrics on a tunnel port; settings
# given twice; a setting in the wrong scope gets a hint; no "line 0".
# A good file still passes.
. "$TSCF_TOP/selftests/lib.sh"
[ -x "$TSCFD" ] || fail "server/tscfd not built"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
make_certs "$TMPD"
mkdir "$TMPD/other" && make_certs "$TMPD/other"
CHECKS_FAILED=0

# base: a good configuration; its block starts on line 4.
base() {
	cat <<CONF
tun-name tscfs0
control-socket $TMPD/tscfd.sock
keepalive-interval 30
tscf-interface
    address 127.0.0.1
    port 4000
    certificate $TMPD/server.pem
    private-key $TMPD/server.key
    local-address-pool-v4 10.100.0.0/16
    assigned-services DTTE
CONF
}

# mk: the next file to try, from stdin.  bad NAME WANT_LINE PATTERN: that
# file is refused with "FILE:WANT_LINE: ..." matching PATTERN.  (Two steps:
# bad must not run in a pipeline's subshell, where check's count is lost.)
mk() { cat > "$TMPD/next.conf"; }
bad() {
	mv "$TMPD/next.conf" "$TMPD/$1.conf"
	if out=$("$TSCFD" -t -c "$TMPD/$1.conf" 2>&1); then
		check "$1: accepted: $out"
		return 0
	fi
	case "$out" in
	"tscfd: $TMPD/$1.conf:$2: "*) ;;
	*) check "$1: want $TMPD/$1.conf:$2: ..., got: $out"; return 0 ;;
	esac
	echo "$out" | grep -Eq -- "$3" || check "$1: message does not say /$3/: $out"
	log "$1: $out"
}

base > "$TMPD/good.conf"
out=$("$TSCFD" -t -c "$TMPD/good.conf" 2>&1) || check "good file refused: $out"

base | sed "s#$TMPD/server.pem#$TMPD/missing.pem#" | mk
bad missing-cert 7 'certificate .*missing.pem: No such file'
base | sed "s#$TMPD/server.key#$TMPD/missing.key#" | mk
bad missing-key 8 'private-key .*missing.key: No such file'
base | sed "s#$TMPD/server.key#$TMPD/other/server.key#" | mk
bad key-mismatch 8 'does not match'
echo "not a certificate" > "$TMPD/junk.pem"
base | sed "s#$TMPD/server.pem#$TMPD/junk.pem#" | mk
bad junk-cert 7 'cannot load'

{ base; base | sed -n '4,$p'; } | mk
bad dup-listen 13 'collides with 127.0.0.1 port 4000'
{ base; base | sed -n '4,$p' | sed 's/port 4000/port 4001/; s#10.100.0.0/16#10.101.0.0/16#'; } | mk
bad adjacent-port 13 'port 4001 .*collides'
{ base; base | sed -n '4,$p' | sed 's/127.0.0.1/0.0.0.0/; s#10.100.0.0/16#10.101.0.0/16#; s/assigned-services DTTE/assigned-services/'; } | mk
bad wildcard-port 13 'collides'
{ base; base | sed -n '4,$p' | sed 's/port 4000/port 4010/; s#10.100.0.0/16#10.100.128.0/17#'; } | mk
bad dup-pool 16 'overlaps the pool of the tscf-interface at line 4'

base | sed 's/port 4000/port 4000 5000/' | mk
bad extra-word 6 "unexpected '5000'"
base | sed 's/keepalive-interval 30/keepalive-interval 30 40/' | mk
bad extra-global 3 "unexpected '40'"
base | sed 's#/16#/16 10.200.0.0/16#' | mk
bad extra-pool 9 "unexpected '10.200.0.0/16'"
base | sed 's/port 4000/port 70000/' | mk
bad port-range 6 'from 1 to 65534'
base | sed 's/port 4000/port -1/' | mk
bad port-sign 6 'want a number'
base | sed 's/port 4000/port +4000/' | mk
bad port-plus 6 'want a number'
base | sed 's/keepalive-interval 30/keepalive-interval 0/' | mk
bad keepalive-range 3 'from 1 to 3600'
base | sed 's#10.100.0.0/16#10.100.0.5/16#' | mk
bad pool-hostbits 9 'host bits set .*10.100.0.0/16'
{ base; echo "    port 4002"; } | mk
bad dup-key 11 "'port' is given twice \\(first on line 6\\)"
{ base; echo "port 4002"; } | mk
bad unindented 11 "indent it to belong to the block at line 4"
{ echo "port 4000"; base; } | mk
bad unindented-first 1 "tscf-interface setting: put it, indented"
{ base; echo "    keepalive-interval 5"; } | mk
bad indented-global 11 "global setting: write it unindented"
echo "keepalive-interval 30" | mk
bad no-iface 1 'no tscf-interface defined'
: | mk
bad empty 1 'no tscf-interface defined'
base | sed 's/^tscf-interface$/tscf-interface extra/' | mk
bad iface-words 4 'stands alone'
{ base; echo "    dns"; } | mk
bad dns-empty 11 'dns: missing value'
base | sed 's/^    assigned-services DTTE$/    assigned-services DTTE/; /certificate/d; /private-key/d' | mk
bad dtte-no-cert 4 'DTTE needs certificate'
base | sed 's/tun-name tscfs0/tun-name a\/b/' | mk
bad tun-name 1 'not a device name'
{ base; echo "metrics-listen 192.0.2.1:9464"; } | mk
bad metrics-remote 11 'not a loopback address'
{ base; echo "mtu 100"; } | mk
bad mtu-range 11 'from 576'
{ base; echo "log-level loud"; } | mk
bad log-level 11 'want error, warning'
{ base; echo "metrics-listen 127.0.0.1:4001"; } | mk
bad metrics-port 11 'collides with port 4000 or 4001'
{ base; echo "user no-such-user-tscf"; } | mk
bad no-user 11 "user 'no-such-user-tscf' does not exist"
{ base; echo "group no-such-group-tscf"; } | mk
bad no-group 11 "group 'no-such-group-tscf' does not exist"
{ base; printf 'user %01100d\n' 0; } | mk
bad long-line 11 'line longer than'

# Accepted: the new settings in range, a remote metrics address when allowed.
{ base; printf 'metrics-listen 192.0.2.1:9464\nmetrics-allow-remote yes\nmtu 1400\nlog-level debug\nsyslog no\nlog-rate-limit 5\n'; } > "$TMPD/good2.conf"
out=$("$TSCFD" -t -c "$TMPD/good2.conf" 2>&1) || check "good file with new settings refused: $out"
out=$("$TSCFD" -t -c "$TMPD/nonexistent.conf" 2>&1) && check "a missing file passed"
echo "$out" | grep -q "nonexistent.conf: No such file" || check "missing file: $out"
checks_done
echo ok
