"""A DTLS 1.2 tunnel for the host tests: tscf_client's Tunnel over the
system's libssl (Python's ssl module has no DTLS), one frame per record.
Lab use only: it verifies the server's chain against the given CA."""
import ctypes
import select
import socket
import time

import tscf_client as tc

_ssl = ctypes.CDLL("libssl.so.3")
_P = ctypes.c_void_p
for name, res, args in (
        ("DTLS_client_method", _P, []),
        ("SSL_CTX_new", _P, [_P]),
        ("SSL_CTX_load_verify_locations", ctypes.c_int, [_P, ctypes.c_char_p, _P]),
        ("SSL_CTX_set_verify", None, [_P, ctypes.c_int, _P]),
        ("SSL_new", _P, [_P]),
        ("SSL_set_bio", None, [_P, _P, _P]),
        ("SSL_connect", ctypes.c_int, [_P]),
        ("SSL_read", ctypes.c_int, [_P, _P, ctypes.c_int]),
        ("SSL_write", ctypes.c_int, [_P, _P, ctypes.c_int]),
        ("SSL_ctrl", ctypes.c_long, [_P, ctypes.c_int, ctypes.c_long, _P]),
        ("SSL_get_error", ctypes.c_int, [_P, ctypes.c_int]),
        ("BIO_new_dgram", _P, [ctypes.c_int, ctypes.c_int]),
        ("BIO_ctrl", ctypes.c_long, [_P, ctypes.c_int, ctypes.c_long, _P]),
        ("BIO_ADDR_new", _P, []),
        ("BIO_ADDR_rawmake", ctypes.c_int, [_P, ctypes.c_int, _P, ctypes.c_size_t,
                                            ctypes.c_ushort])):
    f = getattr(_ssl, name)
    f.restype, f.argtypes = res, args

SSL_VERIFY_PEER = 1
BIO_CTRL_DGRAM_SET_CONNECTED = 32
SSL_ERROR_WANT_READ = 2
DTLS_CTRL_HANDLE_TIMEOUT = 74


class DtlsTunnel(tc.Tunnel):
    def __init__(self, addr, port, ca):
        self.transport = 'dtls'
        self.addr, self.port, self.ca = addr, port, ca
        self.buf = b''
        self.tsid = tc.ALL_ONES
        self.cookie = self.resume_secret = self.dtte_secret = None
        self.last_request = None
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.connect((addr, port))
        ctx = _ssl.SSL_CTX_new(_ssl.DTLS_client_method())
        tc.check(ctx and _ssl.SSL_CTX_load_verify_locations(ctx, ca.encode(), None) == 1,
                 "DTLS context")
        _ssl.SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, None)
        self.ssl = _ssl.SSL_new(ctx)
        bio = _ssl.BIO_new_dgram(self.s.fileno(), 0)
        peer = _ssl.BIO_ADDR_new()
        raw = ctypes.create_string_buffer(socket.inet_aton(addr), 4)
        _ssl.BIO_ADDR_rawmake(peer, socket.AF_INET, raw, 4, socket.htons(port))
        _ssl.BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer)
        _ssl.SSL_set_bio(self.ssl, bio, bio)
        self.s.setblocking(False)
        end = time.time() + 10
        while True:
            r = _ssl.SSL_connect(self.ssl)
            if r == 1:
                break
            tc.check(_ssl.SSL_get_error(self.ssl, r) == SSL_ERROR_WANT_READ and
                     time.time() < end, "DTLS handshake failed")
            if not select.select([self.s], [], [], 0.5)[0]:
                _ssl.SSL_ctrl(self.ssl, DTLS_CTRL_HANDLE_TIMEOUT, 0, None)

    def send(self, frame):
        b = ctypes.create_string_buffer(frame, len(frame))
        tc.check(_ssl.SSL_write(self.ssl, b, len(frame)) == len(frame), "SSL_write")

    def recv(self, timeout=3.0):
        """The next record (one frame), or None on timeout."""
        end = time.time() + timeout
        b = ctypes.create_string_buffer(65536)
        while True:
            n = _ssl.SSL_read(self.ssl, b, len(b))
            if n > 0:
                return b.raw[:n]
            if _ssl.SSL_get_error(self.ssl, n) != SSL_ERROR_WANT_READ:
                return b''
            left = end - time.time()
            if left <= 0:
                return None
            select.select([self.s], [], [], left)

