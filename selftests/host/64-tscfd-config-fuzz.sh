#!/bin/sh
# Issue 10: "tscfd -t" on 400 damaged copies of a good configuration
# (lines dropped, repeated, re-indented, words replaced by numbers out of
# range, long or odd strings, control bytes) either accepts the file or
# refuses it with "FILE:LINE: message", LINE within the file; never a
# crash, a hang or another exit status.  Under make check-host-asan the
# same runs are checked by the sanitizers.
. "$TSCF_TOP/selftests/lib.sh"
[ -x "$TSCFD" ] || fail "server/tscfd not built"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
make_certs "$TMPD"
cat > "$TMPD/good.conf" <<CONF
tun-name tscfs0
control-socket $TMPD/tscfd.sock
keepalive-interval 30
log-level info
metrics-listen 127.0.0.1:9464
tscf-interface
    address 127.0.0.1
    port 4000
    certificate $TMPD/server.pem
    private-key $TMPD/server.key
    local-address-pool-v4 10.100.0.0/16
    local-address-pool-v6 fd00:100::/64
    dns 10.100.0.1 10.100.0.2
    assigned-services DTTE
tscf-interface
    address ::1
    port 5000
    local-address-pool-v4 10.101.0.0/16
CONF
python3 - "$TSCFD" "$TMPD" <<'PY'
import os, random, re, subprocess, sys
tscfd, d = sys.argv[1], sys.argv[2]
good = open(os.path.join(d, 'good.conf'), 'rb').read().split(b'\n')
words = [b'0', b'-1', b'4294967296', b'99999999999999999999', b'65535', b'::', b'0.0.0.0',
         b'/', b'10.0.0.0/0', b'fd00::/200', b'x' * 300, b'\x01\x7f', b'%s%n', b'[::1]:',
         b'1.2.3.4:', b':9464', b'yes', b'DTTE,DTTE', b'"', b'#', b'\t', b'\xff\xfe']
rnd = random.Random(int(os.environ.get('TSCF_SEED', '10')))
bad = 0
for n in range(400):
    lines = list(good)
    for _ in range(rnd.randint(1, 4)):
        i = rnd.randrange(len(lines))
        op = rnd.randrange(6)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            lines[i] = lines[i].lstrip() if lines[i][:1] == b' ' else b'    ' + lines[i]
        elif op == 3:
            ws = lines[i].split()
            if ws:
                ws[rnd.randrange(len(ws))] = rnd.choice(words)
                lines[i] = (b'    ' if lines[i][:1] == b' ' else b'') + b' '.join(ws)
        elif op == 4:
            lines[i] += b' ' + rnd.choice(words)
        else:
            lines.insert(i, rnd.choice(words) * rnd.randint(1, 8))
        if not lines:
            lines = [b'']
    path = os.path.join(d, f'f{n}.conf')
    open(path, 'wb').write(b'\n'.join(lines))
    try:
        p = subprocess.run([tscfd, '-t', '-c', path], capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        print(f'FAIL: {path}: tscfd -t hangs'); bad += 1; continue
    err = p.stderr.decode(errors='replace')
    if p.returncode == 0:
        continue
    m = re.match(r'tscfd: ' + re.escape(path) + r':(\d+): \S', err)
    if p.returncode != 1 or not m or not 1 <= int(m.group(1)) <= len(lines) + 1 \
            or 'AddressSanitizer' in err or 'runtime error' in err:
        print(f'FAIL: {path}: exit {p.returncode}: {err[:300]!r}')
        bad += 1
        continue
    os.unlink(path)
print(f'400 damaged files, {bad} bad answers')
sys.exit(1 if bad else 0)
PY
echo ok
