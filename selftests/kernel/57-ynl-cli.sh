#!/bin/sh
# The kernel's own netlink client, Linux 6.12's tools/net/ynl/cli.py, reads
# docs/netlink/tscf.yaml and talks to tscf.ko: it dumps the devices (with a
# UDP tunnel attached) and the marked sockets, gets one device, sets
# enc-linger-ms and, subscribed to the "tunnel" group, prints the event of
# the tunnel's detach.  What it says must agree with the tests' own client
# selftests/lib/tscf_nl.py (the spec's enum names mapped to their values)
# and with `tscfctl show -j`: three independent decoders of one API.
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
Y=${YNL_DIR:-/opt/tscf-cache/ynl}
[ -f "$Y/tools/net/ynl/cli.py" ] || fail "no ynl CLI in $Y (sh tools/ynl-fetch.sh on the host)"
SPEC=$TSCF_TOP/docs/netlink/tscf.yaml
YNL="python3 $Y/tools/net/ynl/cli.py --spec $SPEC --schema $Y/Documentation/netlink/genetlink-legacy.yaml --output-json"
ue_srv_topology ynl
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

ip netns exec "$SRV" $TSCF_PEER server --transport udp --addr 10.10.0.2 --port 4610 \
	> "$tmp/srv" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 5 grep -q listening "$tmp/srv" || fail "server"
ip netns exec "$UE" $TSCF_PEER client tscf0 --transport udp --addr 10.10.0.2 --port 4610 \
	--tsid 0x5eed0001 --internal 10.100.0.2 || fail "attach"

# A marked socket (encryption preferred) held open for the socket dump.
ip netns exec "$UE" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_IP, 0x5453, 2)
s.connect(("10.100.0.1", 9))
print("ready", flush=True)
time.sleep(120)' > "$tmp/app" &
at_exit "kill $! 2>/dev/null"
wait_for 10 grep -q ready "$tmp/app" || fail "marked socket"

ip netns exec "$UE" $YNL --do dev-set --json '{"ifname": "tscf0", "enc-linger-ms": 1234}' \
	> "$tmp/ynl-set" || fail "ynl dev-set: $(cat "$tmp/ynl-set")"
# ynl first, the others after: counters may only grow in between.
ip netns exec "$UE" $YNL --dump dev-get > "$tmp/ynl-dump" || fail "ynl dump: $(cat "$tmp/ynl-dump")"
ip netns exec "$UE" $YNL --do dev-get --json '{"ifname": "tscf0"}' > "$tmp/ynl-do" ||
	fail "ynl do: $(cat "$tmp/ynl-do")"
ip netns exec "$UE" $YNL --dump sock-get > "$tmp/ynl-socks" || fail "ynl sock dump: $(cat "$tmp/ynl-socks")"
ip netns exec "$UE" $TSCF_NL dump > "$tmp/nl-dump" || fail "tscf_nl dump"
ip netns exec "$UE" $TSCF_NL socks > "$tmp/nl-socks" || fail "tscf_nl socks"
ip netns exec "$UE" "$CTL" show -j > "$tmp/ctl" || fail "tscfctl show -j: $(cat "$tmp/ctl")"

# ynl subscribed to "tunnel" while tscf_nl.py detaches (ynl 6.12 cannot
# take an event in the middle of its own request: --subscribe with --do
# loses its reply).  cli.py subscribes, then sleeps (--sleep), then prints
# what arrived: it is ready once it sleeps.  tscf_nl.py listens as well.
ip netns exec "$UE" $YNL --subscribe tunnel --sleep 20 > "$tmp/ynl-events" 2>&1 &
sub=$!
in_sleep() {	# clock_nanosleep, nanosleep or select
	read -r nr _ < "/proc/$sub/syscall" && { [ "$nr" = 230 ] || [ "$nr" = 35 ] || [ "$nr" = 23 ]; }
}
wait_for 60 in_sleep || fail "ynl --subscribe did not reach its sleep: $(cat "$tmp/ynl-events")"
ip netns exec "$UE" $TSCF_NL listen 30 tunnel > "$tmp/nl-events" &
listener=$!
wait_for 10 grep -q '"ready"' "$tmp/nl-events" || fail "tscf_nl listener did not start"
ip netns exec "$UE" $TSCF_NL detach tscf0 || fail "detach"
wait_for 10 grep -q TUNNEL_EVENT "$tmp/nl-events" || fail "tscf_nl saw no tunnel event"
kill $listener 2>/dev/null
wait $sub || fail "ynl --subscribe: $(cat "$tmp/ynl-events")"
has_tunnel "$UE" tscf0 && fail "the tunnel is still attached after ynl's detach"

for f in ynl-dump ynl-do ynl-socks ynl-events nl-dump nl-socks ctl nl-events; do
	sed "s/^/# $f: /" "$tmp/$f"
done
python3 - "$SPEC" "$tmp" <<'PY'
import json, sys, yaml
spec, d = yaml.safe_load(open(sys.argv[1])), sys.argv[2]
bad = []
def check(what, got, want):
    if got != want:
        bad.append(f'{what}: ynl {got!r}, other {want!r}')
def enum(name):
    """enum name -> value, from the spec."""
    for e in spec['definitions']:
        if e['name'] == name:
            out, v = {}, 0
            for x in e['entries']:
                x = {'name': x} if isinstance(x, str) else x
                v = x.get('value', v)
                out[x['name']] = v
                v += 1
            return out
def lines(f):
    return [json.loads(l) for l in open(f'{d}/{f}') if l.strip().startswith(('{', '['))]

ydump = lines('ynl-dump')[0]
ydo = lines('ynl-do')[0]
nl = {x['ifindex']: x for x in lines('nl-dump')}
check('devices', sorted(x['ifindex'] for x in ydump), sorted(nl))
for y in ydump:
    n = nl.get(y['ifindex'], {})
    for k in ('ifname', 'encrypted', 'twin-ifindex', 'demand', 'tx-refused', 'events-suppressed'):
        check(f"{y['ifname']} {k}", y.get(k), n.get(k.replace('-', '_')))
    check(f"{y['ifname']} tunnel", 'tunnel' in y, 'tunnel' in n)
    for k, v in y.get('stats', {}).items():
        if not v <= n['stats'].get(k.replace('-', '_'), -1):
            bad.append(f"{y['ifname']} stats {k}: ynl {v}, tscf_nl {n['stats'].get(k.replace('-', '_'))}")
tun = [y for y in ydump if y['ifname'] == 'tscf0'][0]
t, nt = tun['tunnel'], nl[tun['ifindex']]['tunnel']
check('tsid', t['tsid'], 0x5eed0001)
check('tunnel tsid', t['tsid'], nt['tsid'])
check('transport', enum('transport')[t['transport']], nt['transport'])
check('internal-ipv4', t['internal-ipv4'], nt['internal_ipv4'])
check('enc-linger-ms (set by ynl)', tun['enc-linger-ms'], 1234)
check('do == dump entry', {k: v for k, v in ydo.items() if k not in ('stats', 'tunnel')},
      {k: v for k, v in tun.items() if k not in ('stats', 'tunnel')})
check('do tunnel tsid', ydo['tunnel']['tsid'], t['tsid'])

ctl = json.load(open(f'{d}/ctl'))
cdev = {x['ifname']: x for x in ctl['devices']}
check('tscfctl devices', sorted(cdev), sorted(y['ifname'] for y in ydump))
for y in ydump:
    check(f"tscfctl {y['ifname']} encrypted", bool(y['encrypted']), cdev[y['ifname']]['encrypted'])
check('tscfctl tsid', '%016x' % t['tsid'], cdev['tscf0']['tunnel']['tsid'])
check('tscfctl transport', t['transport'], cdev['tscf0']['tunnel']['transport'])
check('tscfctl linger_ms', tun['enc-linger-ms'], cdev['tscf0']['linger_ms'])

ysocks = sorted((x['sock'] for x in lines('ynl-socks')[0]), key=lambda s: s['inode'])
nsocks = sorted(lines('nl-socks'), key=lambda s: s['inode'])
check('marked sockets', len(ysocks), len(nsocks))
if not ysocks:
    bad.append('ynl dumped no marked socket')
for y, n in zip(ysocks, nsocks):
    for k in ('cookie', 'inode', 'proto'):
        check(f'sock {k}', y[k], n[k])
    check('sock level', enum('enc-level')[y['level']], n['level'])
    check('sock path', enum('sock-path')[y['path']], n['path'])
csocks = sorted(ctl['sockets'], key=lambda s: s['inode'])
check('tscfctl sockets', [(s['inode'], s['cookie']) for s in csocks],
      [(s['inode'], s['cookie']) for s in ysocks])

ntf = [m for m in lines('ynl-events')[-1] if m['name'] == 'tunnel-event']
nev = [e for e in lines('nl-events') if e.get('cmd') == 'TUNNEL_EVENT']
check('tunnel events', len(ntf), 1)
check('tscf_nl tunnel events', len(nev), 1)
if ntf and nev:
    m, e = ntf[0]['msg'], nev[0]
    check('event', m['event'], 'down')
    check('reason', m['reason'], 'detached')
    check('event value', enum('event')[m['event']], e['event'])
    check('reason value', enum('down-reason')[m['reason']], e['reason'])
    for k in ('ifindex', 'ifname', 'tsid'):
        check(f'event {k}', m[k], e[k])
for b in bad:
    print('FAIL:', b)
print(f'# {len(bad)} disagreements')
sys.exit(1 if bad else 0)
PY
echo ok
