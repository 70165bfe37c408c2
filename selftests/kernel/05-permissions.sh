#!/bin/sh
# Only CAP_NET_ADMIN configures tscf devices; MTU bounds are enforced.
# Every genl command of docs/netlink/tscf.yaml, reads included (dev-get do
# and dump, sock-get dump), needs CAP_NET_ADMIN: an unprivileged user gets
# EPERM on each, and on joining each multicast group; root gets past the
# permission check on each.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
ns=$(tscf_netns perm)

expect_fail "unprivileged add" ip netns exec "$ns" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	ip link add tscf0 type tscf
link_exists "$ns" tscf0 && fail "unprivileged add created a device"

ip -n "$ns" link add tscf0 type tscf
expect_fail "unprivileged del" ip netns exec "$ns" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	ip link del tscf0
link_exists "$ns" tscf0 || fail "unprivileged del removed the device"

ip -n "$ns" link set tscf0 mtu 1280 || fail "mtu 1280 refused"
ip -n "$ns" link set tscf0 mtu 9000 || fail "mtu 9000 refused"
expect_fail "mtu 67" ip -n "$ns" link set tscf0 mtu 67
expect_fail "mtu 65535" ip -n "$ns" link set tscf0 mtu 65535

# Each served command and mode, then each group join: "NAME ERRNO" lines
# (ok on success).
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
chmod 755 "$tmp"	# the unprivileged probe reads its script there
cat > "$tmp/perm.py" <<'PY'
import errno, os, socket, struct, sys
sys.path.insert(0, os.environ['TSCF_TOP'] + '/selftests/lib')
import tscf_nl
A, nla = tscf_nl.A, tscf_nl.nla
g = tscf_nl.Genl()
idx = nla(A['IFINDEX'], struct.pack('=I', socket.if_nametoindex('tscf0')))
frame = bytes.fromhex('10050000' + '%016x%08x' % (0x4242, 1))
reqs = [('dev-get', 'DEV_GET', idx, False),
        ('dev-get-dump', 'DEV_GET', b'', True),
        ('dev-set', 'DEV_SET', idx + nla(A['ENC_LINGER_MS'], struct.pack('=I', 1000)), False),
        ('tunnel-attach', 'TUNNEL_ATTACH', idx, False),
        ('tunnel-detach', 'TUNNEL_DETACH', idx, False),
        ('ctrl-send', 'CTRL_SEND', idx + nla(A['FRAME'], frame), False),
        ('sock-get-dump', 'SOCK_GET', b'', True)]
for name, cmd, attrs, dump in reqs:
    try:
        g.do(tscf_nl.CMD[cmd], attrs, dump=dump)
        print(name, 'ok')
    except tscf_nl.NlError as e:
        print(name, errno.errorcode[e.errno])
for grp in tscf_nl.GROUPS:
    try:
        g.join(grp)
        print('join-' + grp, 'ok')
    except OSError as e:
        print('join-' + grp, errno.errorcode[e.errno])
PY
ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	python3 "$tmp/perm.py" > "$tmp/user" 2>&1 || fail "unprivileged probe: $(cat "$tmp/user")"
ip netns exec "$ns" python3 "$tmp/perm.py" > "$tmp/root" 2>&1 || fail "root probe: $(cat "$tmp/root")"
sed 's/^/# user: /' "$tmp/user"
sed 's/^/# root: /' "$tmp/root"
expect_eq "probes" "$(wc -l < "$tmp/user") $(wc -l < "$tmp/root")" "10 10"
while read -r what err; do
	[ "$err" = EPERM ] || check "unprivileged $what: $err, want EPERM"
done < "$tmp/user"
while read -r what err; do
	[ "$err" = EPERM ] && check "root $what: EPERM"
done < "$tmp/root"
checks_done
echo ok
