#!/bin/sh
# The DTLS record layer against a peer written from RFC 6347 and RFC 5288
# (Python's AES-GCM, no OpenSSL, no handshake: fixed keys), on loopback:
# - tunnel-attach refuses DTLS keys on the clear device, an incomplete set,
#   keys of a bad length and a 49-bit sequence number;
# - a record the module writes has the header, explicit nonce, sequence
#   number and AAD the RFCs say, and opens with the keys given;
# - records the peer writes: the next one is taken; one below the
#   starting number, one seen before, one left behind by the 64-record
#   window are replayed; a bad tag is an auth failure and does not move
#   the window; another epoch, a handshake record and two records in one
#   datagram are malformed; each is counted once;
# - an authenticated close_notify takes the tunnel down (peer-closed);
# - at sequence number 2^48 - 1 the module sends that record, then sends
#   nothing more and takes the tunnel down (proto-error).
. "$TSCF_TOP/selftests/lib.sh"
require_module tscf
# Earlier tests in the same boot may have had a tunnel of this TSID too:
# only this test's kernel log counts.
dmesg_start=$(dmesg | wc -l)
UE=$(tscf_netns dtlsrec)
ip -n "$UE" link add tscf0 type tscf
ip -n "$UE" link set tscf0s up
ip netns exec "$UE" python3 - "$TSCF_TOP/selftests/lib" <<'PY' || fail "records"
import errno, os, socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
import tscf_nl as nl
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

g = nl.Genl()
CTRL = bytes.fromhex("1005000000000000000000770000002a")   # a control frame
KC, KS = os.urandom(16), os.urandom(16)     # client (module) / server keys
SC, SS = os.urandom(4), os.urandom(4)
fails = 0

def check(what, cond, more=""):
    global fails
    print(("ok   " if cond else "FAIL ") + what + (f": {more}" if more and not cond else ""))
    fails += not cond

def socks():
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    tun = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tun.connect(peer.getsockname())
    peer.connect(tun.getsockname())
    peer.settimeout(2)
    return peer, tun

def attach(dev, fd, tx_key=KC, rx_key=KS, tx_seq=5, rx_seq=3, skip=None):
    a = {"DTLS_TX_KEY": tx_key, "DTLS_RX_KEY": rx_key, "DTLS_TX_SALT": SC,
         "DTLS_RX_SALT": SS, "DTLS_EPOCH": struct.pack("=H", 1),
         "DTLS_TX_SEQ": struct.pack("=Q", tx_seq), "DTLS_RX_SEQ": struct.pack("=Q", rx_seq)}
    tun = nl.nla(nl.T["FD"], struct.pack("=I", fd)) + nl.nla(nl.T["TSID"], struct.pack("=Q", 0x1234))
    for k, v in a.items():
        if k != skip:
            tun += nl.nla(nl.T[k], v)
    g.do(nl.CMD["TUNNEL_ATTACH"], nl.nla(nl.A["IFINDEX"], struct.pack("=I", nl.ifindex(dev))) +
         nl.nla(nl.A["TUNNEL"] | nl.NLA_F_NESTED, tun))

def refused(what, **kw):
    peer, tun = socks()
    try:
        attach(kw.pop("dev", "tscf0s"), tun.fileno(), **kw)
        check(what + " refused", False, "attached")
        g.do(nl.CMD["TUNNEL_DETACH"], nl.nla(nl.A["IFINDEX"], struct.pack("=I", nl.ifindex("tscf0s"))))
    except nl.NlError as e:
        check(what + f" refused ({e})", e.errno == errno.EINVAL)

refused("DTLS keys on the clear device", dev="tscf0")
refused("no rx-seq", skip="DTLS_RX_SEQ")
refused("20-byte keys", tx_key=os.urandom(20), rx_key=os.urandom(20))
refused("keys of two lengths", rx_key=os.urandom(32))
refused("a 49-bit sequence number", tx_seq=1 << 48)

def stats():
    for _, at in g.do(nl.CMD["DEV_GET"], nl.nla(nl.A["IFNAME"], b"tscf0s\0")):
        d = nl.decode_dev(at)
        return d["tunnel"]["stats"] if "tunnel" in d else None

def ctrl_send():
    g.do(nl.CMD["CTRL_SEND"], nl.nla(nl.A["IFINDEX"], struct.pack("=I", nl.ifindex("tscf0s"))) +
         nl.nla(nl.A["FRAME"], CTRL))

def hdr(typ, epoch, seq, length):
    return struct.pack("!BHH", typ, 0xfefd, epoch) + seq.to_bytes(6, "big") + struct.pack("!H", length)

def record(seq, text=CTRL, typ=23, epoch=1, key=KS, salt=SS, bad_tag=False):
    explicit = struct.pack("!H", epoch) + seq.to_bytes(6, "big")
    aad = explicit + struct.pack("!BHH", typ, 0xfefd, len(text))
    ct = AESGCM(key).encrypt(salt + explicit, text, aad)
    if bad_tag:
        ct = ct[:-1] + bytes([ct[-1] ^ 1])
    return hdr(typ, epoch, seq, 8 + len(ct)) + explicit + ct

def open_record(d, key=KC, salt=SC):
    typ, ver, epoch = struct.unpack("!BHH", d[:5])
    seq = int.from_bytes(d[5:11], "big")
    length = struct.unpack("!H", d[11:13])[0]
    explicit, ct = d[13:21], d[21:]
    text = AESGCM(key).decrypt(salt + explicit, ct,
                               explicit[:2] + explicit[2:] + struct.pack("!BHH", typ, ver, len(ct) - 16))
    return typ, ver, epoch, seq, length, explicit, text

peer, tun = socks()
attach("tscf0s", tun.fileno())
ctrl_send()
d = peer.recv(4096)
try:
    typ, ver, epoch, seq, length, explicit, text = open_record(d)
    check("the module's record opens with its keys", text == CTRL)
    check("type 23, version 0xfefd, epoch 1, seq 5", (typ, ver, epoch, seq) == (23, 0xfefd, 1, 5), (typ, ver, epoch, seq))
    check("length = datagram - 13", length == len(d) - 13, (length, len(d)))
    check("explicit nonce = epoch||seq", explicit == struct.pack("!H", 1) + (5).to_bytes(6, "big"))
except Exception as e:
    check("the module's record opens", False, repr(e))
ctrl_send()
check("the next record is seq 6", int.from_bytes(peer.recv(4096)[5:11], "big") == 6)

def send(dgram):
    peer.send(dgram)
    time.sleep(0.05)

send(record(3))                          # taken
send(record(2))                          # below rx-seq: replayed
send(record(3))                          # again: replayed
send(record(10, bad_tag=True))           # auth failure, window unmoved
send(record(4))                          # taken (10 never counted)
send(record(100))                        # taken
send(record(36))                         # 64 behind: replayed
send(record(37))                         # 63 behind, unseen: taken
send(record(101, epoch=2))               # malformed
send(record(102, typ=22))                # malformed
send(record(103) + record(104))          # two records: malformed
send(record(105, key=os.urandom(16)))    # another key: auth failure
time.sleep(0.3)
s = stats()
check("records taken", s["rx_ctrl"] == 4, s)
check("replays counted", s["rx_replayed"] == 3, s)
check("auth failures counted", s["rx_auth_failed"] == 2, s)
check("malformed counted", s["rx_malformed"] == 3, s)

send(record(106, text=b"\x01\x00", typ=21))   # close_notify
for _ in range(50):
    if stats() is None:
        break
    time.sleep(0.1)
check("close_notify takes the tunnel down", stats() is None)

peer, tun = socks()
attach("tscf0s", tun.fileno(), tx_seq=(1 << 48) - 1)
ctrl_send()
d = peer.recv(4096)
check("seq 2^48-1 is sent", int.from_bytes(d[5:11], "big") == (1 << 48) - 1)
try:
    ctrl_send()
except nl.NlError:
    pass
peer.settimeout(1)
try:
    d = peer.recv(4096)
    check("nothing after seq 2^48-1", False, d[:13].hex())
except socket.timeout:
    check("nothing after seq 2^48-1", True)
for _ in range(50):
    if stats() is None:
        break
    time.sleep(0.1)
check("exhaustion takes the tunnel down", stats() is None)
sys.exit(1 if fails else 0)
PY
# The reasons the module gave: peer-closed (2), then proto-error (4).
reasons=$(dmesg | tail -n +$((dmesg_start + 1)) | sed -n 's/.*tscf0s: tunnel down: TSID 0000000000001234, reason \([0-9]*\).*/\1/p' | tr '\n' ' ')
expect_eq "down reasons" "$reasons" "2 4 "
echo ok
