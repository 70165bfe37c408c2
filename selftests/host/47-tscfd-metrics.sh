#!/bin/sh
# Issue 10: "tscfd --stats --format openmetrics" prints OpenMetrics text
# (tscfd_ names, counters' samples in _total, TYPE and HELP for every
# family, labelled per-interface series, "# EOF" last) with the values of
# --stats; "metrics-listen" serves the same on GET /metrics over HTTP/1.0
# from inside the event loop: other paths 404, other methods 405, a
# request over the size cap refused, at most 8 connections at a time
# (idle ones time out) and the loop keeps serving meanwhile.
. "$TSCF_TOP/selftests/lib.sh"
tscfd_topology metrics DTTE
CHECKS_FAILED=0
kill "$TSCFD_PID"; wait "$TSCFD_PID" 2>/dev/null || true
echo "metrics-listen 127.0.0.1:9464" >> "$TMPD/tscfd.conf"
tscfd_start
ip netns exec "$UE" $TSCF_CLIENT dtte --addr 10.10.0.2 --port 4000 --ca "$TMPD/ca.pem" > /dev/null ||
	fail "client"

cat > "$TMPD/om_check.py" <<'PY'
import re, sys
"""Checks OpenMetrics text against the rules of the format that a scraper
depends on; prints the problems, exits 1 if any."""
text = open(sys.argv[1]).read()
stats = dict(l.split(': ') for l in open(sys.argv[2]).read().splitlines())
bad = []
lines = text.split('\n')
if lines[-1] != '' or lines[-2] != '# EOF':
    bad.append('does not end with "# EOF\\n"')
types, helps, samples = {}, set(), {}
cur = None
for l in lines[:-2]:
    m = re.match(r'# TYPE (\S+) (counter|gauge)$', l)
    if m:
        if m.group(1) in types:
            bad.append(f'family {m.group(1)} declared twice')
        types[m.group(1)] = m.group(2); cur = m.group(1); continue
    m = re.match(r'# HELP (\S+) \S.*$', l)
    if m:
        helps.add(m.group(1)); continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\d+)$', l)
    if not m:
        bad.append(f'bad line: {l!r}'); continue
    name, labels, v = m.groups()
    fam = name[:-6] if types.get(cur) == 'counter' else name
    if fam != cur:
        bad.append(f'sample {name} outside its family ({cur})')
    if types.get(cur) == 'counter' and not name.endswith('_total'):
        bad.append(f'counter sample {name} without _total')
    samples[name + (labels or '')] = int(v)
for f in types:
    if not f.startswith('tscfd_'):
        bad.append(f'{f}: no tscfd_ prefix')
    if f not in helps:
        bad.append(f'{f}: no HELP')
    if f.endswith('_total'):
        bad.append(f'{f}: a family name ends in _total')
for k, v in stats.items():
    name = f'tscfd_{k}_total' if f'tscfd_{k}' in types and types[f'tscfd_{k}'] == 'counter' else f'tscfd_{k}'
    if name not in samples:
        bad.append(f'--stats {k} has no sample {name}')
    elif k not in ('tunnels', 'sessions', 'encrypted_tunnels', 'flows', 'handshakes',
                   'preauth_bytes', 'backlog_bytes', 'tunnels_opened', 'tunnels_closed',
                   'heap_bytes', 'timer_tick_us', 'timer_tick_max_us',
                   'timer_tick_max_cpu_us', 'timer_tick_tunnels', 'timer_tunnels') \
            and samples[name] != int(v):
        bad.append(f'{name} {samples[name]} != --stats {v}')
if samples.get('tscfd_dtte_granted_total') != 1:
    bad.append('tscfd_dtte_granted_total is not 1')
want = 'tscfd_interface_tunnels{address="10.10.0.2",port="4000"}'
if want not in samples:
    bad.append(f'no {want}')
if 'tscfd_pool_addresses_free{address="10.10.0.2",port="4000",family="ipv4"}' not in samples:
    bad.append('no per-pool free addresses')
for b in bad:
    print('FAIL:', b)
sys.exit(1 if bad else 0)
PY

ip netns exec "$SRV" "$TSCFD" -s "$TMPD/tscfd.sock" --stats > "$TMPD/stats.txt"
ip netns exec "$SRV" "$TSCFD" -s "$TMPD/tscfd.sock" --stats --format openmetrics > "$TMPD/om.txt" ||
	check "--format openmetrics failed"
python3 "$TMPD/om_check.py" "$TMPD/om.txt" "$TMPD/stats.txt" || check "openmetrics from the control socket"
ip netns exec "$SRV" "$TSCFD" -s "$TMPD/tscfd.sock" --stats --format yaml 2>/dev/null &&
	check "--format yaml accepted"

cat > "$TMPD/http.py" <<'PY'
import socket, sys, time
def req(raw, timeout=5):
    s = socket.create_connection(('127.0.0.1', 9464), timeout=timeout)
    s.sendall(raw)
    data = b''
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    return data
what = sys.argv[1]
if what == 'get':
    r = req(b'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n')
    head, body = r.split(b'\r\n\r\n', 1)
    assert head.startswith(b'HTTP/1.0 200 '), head
    assert b'Content-Type: application/openmetrics-text; version=1.0.0' in head, head
    n = int([l for l in head.split(b'\r\n') if l.startswith(b'Content-Length:')][0].split()[1])
    assert n == len(body), (n, len(body))
    open(sys.argv[2], 'wb').write(body)
elif what == 'errors':
    r = req(b'GET /other HTTP/1.0\r\n\r\n'); assert r.startswith(b'HTTP/1.0 404'), r
    r = req(b'POST /metrics HTTP/1.0\r\n\r\n'); assert r.startswith(b'HTTP/1.0 405'), r
    r = req(b'GET /metrics' + b'x' * 3000); assert r == b'' or r.startswith(b'HTTP/1.0 431'), r
    r = req(b'garbage\r\n\r\n'); assert r.startswith(b'HTTP/1.0 400'), r
elif what == 'cap':
    idle = [socket.create_connection(('127.0.0.1', 9464)) for _ in range(8)]
    time.sleep(0.3)
    s = socket.create_connection(('127.0.0.1', 9464))
    s.sendall(b'GET /metrics HTTP/1.0\r\n\r\n')
    s.settimeout(1)
    try:
        d = s.recv(100)
        sys.exit(f'a 9th connection was served while 8 were open: {d!r}')
    except socket.timeout:
        pass
    # The loop still serves the control socket and tunnels meanwhile
    # (checked by the shell); the idle ones time out and the 9th is served.
    open(sys.argv[2], 'w').write('held')
    s.settimeout(15)
    start = time.time()
    d = s.recv(100)
    assert d.startswith(b'HTTP/1.0 200'), d
    print(f'9th served after {time.time() - start:.1f} s')
PY
ip netns exec "$SRV" python3 "$TMPD/http.py" get "$TMPD/http.txt" || check "GET /metrics"
ip netns exec "$SRV" "$TSCFD" -s "$TMPD/tscfd.sock" --stats > "$TMPD/stats.txt"
python3 "$TMPD/om_check.py" "$TMPD/http.txt" "$TMPD/stats.txt" || check "openmetrics over HTTP"
ip netns exec "$SRV" python3 "$TMPD/http.py" errors || check "HTTP errors"
ip netns exec "$SRV" python3 "$TMPD/http.py" cap "$TMPD/held" > "$TMPD/cap.out" 2>&1 &
cap=$!
wait_for 10 test -e "$TMPD/held" || check "cap: $(cat "$TMPD/cap.out")"
start=$(date +%s%N)
ip netns exec "$SRV" "$TSCFD" -s "$TMPD/tscfd.sock" --stats > /dev/null || check "control socket while metrics are held"
ip netns exec "$UE" $TSCF_CLIENT basic --transport udp --addr 10.10.0.2 --port 4000 > /dev/null ||
	check "a tunnel while metrics connections are held"
log "stats and a tunnel while 9 metrics connections were open: $(( ($(date +%s%N) - start) / 1000000 )) ms"
wait $cap || check "cap: $(cat "$TMPD/cap.out")"
log "$(cat "$TMPD/cap.out")"
kill -0 "$TSCFD_PID" || check "tscfd died"
checks_done
echo ok
