#!/usr/bin/python3
"""sslv2-client: fetch a profile the way a PAP2-era unit does, opening with
an SSLv2-format ClientHello (version 3.1) and then completing a mutual
TLS 1.0 handshake by hand: RSA key exchange, AES-CBC + HMAC-SHA1, client
Certificate and CertificateVerify.  No library TLS stack is involved, so
the server's handling of the v2 hello is tested for real.

Needs Debian's /usr/bin/python3 with python3-cryptography (>= 38).

Exit status like phone-emu: 0 HTTP status as expected (--expect-status,
default 200), 1 other status or malformed response, 2 usage or local file
error, 3 TLS error (handshake, alert, bad server certificate, bad MAC),
4 connection error.  The body goes to stdout (or --out); one line to
stderr, e.g.
  status=200 tls=TLS1.0 cipher=TLS_RSA_WITH_AES_256_CBC_SHA kx=RSA
  hello=sslv2 bytes=1234
(on one line); errors are one line starting with "sslv2-client: ".
"""

import argparse
import hashlib
import hmac
import os
import socket
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

EXIT_OK, EXIT_STATUS, EXIT_USAGE, EXIT_TLS, EXIT_CONN = 0, 1, 2, 3, 4

MAX_RECORD = 16384 + 2048        # TLSCiphertext.length limit (RFC 2246)
MAX_HANDSHAKE_MSG = 256 * 1024   # one server handshake message
MAX_HEAD = 64 * 1024             # HTTP response head
MAX_BODY = 16 * 1024 * 1024      # HTTP response body
MAX_CHAIN = 16                   # certificates in --cert

TLS10 = b'\x03\x01'
CT_CCS, CT_ALERT, CT_HANDSHAKE, CT_APPDATA = 20, 21, 22, 23
HT_SERVER_HELLO, HT_CERTIFICATE, HT_SERVER_KX = 2, 11, 12
HT_CERT_REQUEST, HT_SERVER_DONE, HT_CERT_VERIFY = 13, 14, 15
HT_CLIENT_KX, HT_FINISHED = 16, 20

# wire value -> (IANA name, AES key length)
SUITES = {
    0x0035: ('TLS_RSA_WITH_AES_256_CBC_SHA', 32),
    0x002f: ('TLS_RSA_WITH_AES_128_CBC_SHA', 16),
}
SUITE_CHOICE = {'both': [0x0035, 0x002f], 'aes256': [0x0035],
                'aes128': [0x002f]}

ALERTS = {0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac',
          21: 'decryption_failed', 22: 'record_overflow',
          40: 'handshake_failure', 42: 'bad_certificate',
          43: 'unsupported_certificate', 44: 'certificate_revoked',
          45: 'certificate_expired', 46: 'certificate_unknown',
          47: 'illegal_parameter', 48: 'unknown_ca', 49: 'access_denied',
          50: 'decode_error', 51: 'decrypt_error', 70: 'protocol_version',
          71: 'insufficient_security', 80: 'internal_error',
          90: 'user_canceled', 100: 'no_renegotiation'}

DEFAULT_UA_PRE, DEFAULT_UA_POST = 'Cisco/SPA504G-7.4.4 (', ')(CBT141100HR)'


class Fail(Exception):
    """Ends the run with an exit code and a one-line reason."""

    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


# --- TLS 1.0 PRF (RFC 2246 section 5) ---------------------------------------

def p_hash(digest, secret, seed, n):
    out, a = b'', seed
    while len(out) < n:
        a = hmac.new(secret, a, digest).digest()
        out += hmac.new(secret, a + seed, digest).digest()
    return out[:n]


def prf10(secret, label, seed, n):
    half = (len(secret) + 1) // 2
    s1, s2 = secret[:half], secret[len(secret) - half:]
    md5 = p_hash(hashlib.md5, s1, label + seed, n)
    sha = p_hash(hashlib.sha1, s2, label + seed, n)
    return bytes(x ^ y for x, y in zip(md5, sha))


def hs_digest(transcript):
    return (hashlib.md5(transcript).digest() +
            hashlib.sha1(transcript).digest())


# --- raw RSA PKCS#1 v1.5 signature without DigestInfo (TLS 1.0 s. 7.4.8) ----

def rsa_sign_raw(key, data):
    priv = key.private_numbers()
    n, d = priv.public_numbers.n, priv.d
    k = (n.bit_length() + 7) // 8
    if len(data) > k - 11:
        raise Fail(EXIT_USAGE, 'client key too small to sign')
    em = b'\x00\x01' + b'\xff' * (k - 3 - len(data)) + b'\x00' + data
    sig = pow(int.from_bytes(em, 'big'), d, n)
    return sig.to_bytes(k, 'big')


# --- record layer -------------------------------------------------------------

class Direction:
    """Keys and state of one direction; None key = no protection yet."""

    def __init__(self):
        self.key = self.mac_key = self.iv = None
        self.seq = 0

    def mac(self, ctype, data):
        hdr = struct.pack('>QB2sH', self.seq, ctype, TLS10, len(data))
        return hmac.new(self.mac_key, hdr + data, hashlib.sha1).digest()

    def seal(self, ctype, data):
        if self.key is None:
            return data
        plain = data + self.mac(ctype, data)
        pad = 15 - len(plain) % 16
        plain += bytes([pad]) * (pad + 1)
        enc = Cipher(algorithms.AES(self.key), modes.CBC(self.iv)).encryptor()
        out = enc.update(plain) + enc.finalize()
        self.iv = out[-16:]          # TLS 1.0: the next record's IV
        self.seq += 1
        return out

    def open(self, ctype, data):
        if self.key is None:
            return data
        if len(data) < 32 or len(data) % 16:
            raise Fail(EXIT_TLS, 'bad encrypted record length %d' % len(data))
        dec = Cipher(algorithms.AES(self.key), modes.CBC(self.iv)).decryptor()
        plain = dec.update(data) + dec.finalize()
        self.iv = data[-16:]
        pad = plain[-1]
        if pad + 21 > len(plain) or plain[-pad - 1:] != bytes([pad]) * (pad + 1):
            raise Fail(EXIT_TLS, 'bad record padding')
        body, tag = plain[:-pad - 21], plain[-pad - 21:-pad - 1]
        if not hmac.compare_digest(tag, self.mac(ctype, body)):
            raise Fail(EXIT_TLS, 'bad record MAC')
        self.seq += 1
        return body


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.rbuf = b''
        self.rd = Direction()
        self.wr = Direction()
        self.hs_buf = b''
        self.pending_read = None        # keys, used after each side's CCS
        self.pending_write = None
        self.handshaking = True

    def recv_exact(self, n, eof_ok=False):
        while len(self.rbuf) < n:
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                raise Fail(EXIT_TLS, 'timed out waiting for the server')
            except OSError as e:
                raise Fail(EXIT_CONN, 'receive: %s' % e.strerror)
            if not d:
                if eof_ok and not self.rbuf:
                    return None
                raise Fail(EXIT_CONN if eof_ok else EXIT_TLS,
                           'connection closed by the server')
            self.rbuf += d
        out, self.rbuf = self.rbuf[:n], self.rbuf[n:]
        return out

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            if not self.handshaking:
                raise Fail(EXIT_CONN, 'send: %s' % e.strerror)
            err = e.strerror
        else:
            return
        # The server hung up mid-handshake: report its alert if it sent one.
        self.sock.settimeout(1.0)
        self.read_record(eof_ok=True)
        raise Fail(EXIT_TLS, 'server closed the connection during the'
                   ' handshake (send: %s)' % err)

    def send(self, ctype, data):
        body = self.wr.seal(ctype, data)
        self.send_raw(struct.pack('>B2sH', ctype, TLS10, len(body)) + body)

    def read_record(self, eof_ok=False):
        hdr = self.recv_exact(5, eof_ok)
        if hdr is None:
            return None, None
        ctype, ver, n = struct.unpack('>B2sH', hdr)
        if ctype not in (CT_CCS, CT_ALERT, CT_HANDSHAKE, CT_APPDATA) or \
                ver[0] != 3 or n > MAX_RECORD:
            raise Fail(EXIT_TLS, 'not a TLS record from the server (%s)'
                       % hdr.hex())
        data = self.rd.open(ctype, self.recv_exact(n))
        if ctype == CT_ALERT:
            if len(data) != 2:
                raise Fail(EXIT_TLS, 'malformed alert')
            if data[1] == 0:
                return CT_ALERT, data
            raise Fail(EXIT_TLS, 'server sent %s alert %s (%d)' % (
                'fatal' if data[0] == 2 else 'warning',
                ALERTS.get(data[1], '?'), data[1]))
        return ctype, data

    def read_handshake(self):
        """Next handshake message: (type, body, whole message bytes)."""
        while True:
            if len(self.hs_buf) >= 4:
                n = int.from_bytes(self.hs_buf[1:4], 'big')
                if n > MAX_HANDSHAKE_MSG:
                    raise Fail(EXIT_TLS, 'handshake message too long')
                if len(self.hs_buf) >= 4 + n:
                    msg = self.hs_buf[:4 + n]
                    self.hs_buf = self.hs_buf[4 + n:]
                    return msg[0], msg[4:], msg
            ctype, data = self.read_record()
            if ctype != CT_HANDSHAKE:
                raise Fail(EXIT_TLS, 'expected a handshake record, got %d'
                           % ctype)
            self.hs_buf += data


def hs_msg(htype, body):
    return bytes([htype]) + len(body).to_bytes(3, 'big') + body


class Reader:
    """Bounds-checked reader over a handshake message body."""

    def __init__(self, data, what):
        self.d, self.p, self.what = data, 0, what

    def take(self, n):
        if self.p + n > len(self.d):
            raise Fail(EXIT_TLS, 'truncated %s' % self.what)
        out = self.d[self.p:self.p + n]
        self.p += n
        return out

    def num(self, n):
        return int.from_bytes(self.take(n), 'big')

    def vec(self, lenbytes):
        return self.take(self.num(lenbytes))

    def left(self):
        return len(self.d) - self.p


# --- certificates ---------------------------------------------------------------

def load_pem_chain(path):
    try:
        with open(path, 'rb') as f:
            data = f.read()
        # load_pem_x509_certificates() needs cryptography >= 39
        marker = b'-----BEGIN CERTIFICATE-----'
        certs = [x509.load_pem_x509_certificate(marker + part)
                 for part in data.split(marker)[1:]]
    except (OSError, ValueError) as e:
        raise Fail(EXIT_USAGE, '%s: %s' % (path, e))
    if not certs or len(certs) > MAX_CHAIN:
        raise Fail(EXIT_USAGE, '%s: need 1 to %d certificates' %
                   (path, MAX_CHAIN))
    return certs


def load_key(path):
    try:
        with open(path, 'rb') as f:
            key = serialization.load_pem_private_key(f.read(), None)
    except (OSError, ValueError, TypeError) as e:
        raise Fail(EXIT_USAGE, '%s: %s' % (path, e))
    if not isinstance(key, rsa.RSAPrivateKey):
        raise Fail(EXIT_USAGE, '%s: not an RSA key' % path)
    return key


def signed_by(cert, issuer):
    if cert.issuer != issuer.subject:
        return False
    pub = issuer.public_key()
    if not isinstance(pub, rsa.RSAPublicKey):
        return False
    try:
        pub.verify(cert.signature, cert.tbs_certificate_bytes,
                   padding.PKCS1v15(), cert.signature_hash_algorithm)
    except Exception:       # InvalidSignature, unsupported hash
        return False
    return True


def verify_server(chain, roots, server_name):
    """Chain check like the phone's: signatures only (RSA PKCS#1 v1.5,
    SHA-1 and MD5 allowed), no dates; CN compared up to '/'."""
    cert, pool = chain[0], chain[1:]
    for _ in range(MAX_CHAIN + 1):
        if any(cert == r or signed_by(cert, r) for r in roots):
            break
        nxt = [c for c in pool if signed_by(cert, c)]
        if not nxt:
            raise Fail(EXIT_TLS, 'server certificate not trusted: no path'
                       ' to a --ca root (issuer %s)' % cert.issuer.rfc4514_string())
        cert = nxt[0]
        pool = [c for c in pool if c is not cert]
    else:
        raise Fail(EXIT_TLS, 'server certificate chain too long')
    if server_name:
        cns = chain[0].subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        cn = cns[0].value.split('/')[0] if cns else ''
        if cn.lower() != server_name.lower():
            raise Fail(EXIT_TLS, "server certificate CN '%s' is not '%s'"
                       % (cn, server_name))


# --- handshake ---------------------------------------------------------------

def sslv2_client_hello(suites, challenge):
    specs = b''.join(s.to_bytes(3, 'big') for s in suites)
    body = (b'\x01' + TLS10 + struct.pack('>HHH', len(specs), 0,
                                          len(challenge)) +
            specs + challenge)
    return struct.pack('>H', 0x8000 | len(body)) + body, body


def parse_server_hello(body, offered):
    r = Reader(body, 'ServerHello')
    ver = r.take(2)
    rnd = r.take(32)
    r.vec(1)                            # session id: not resumed
    suite = r.num(2)
    comp = r.num(1)
    if ver != TLS10:
        raise Fail(EXIT_TLS, 'server chose version %s, not TLS 1.0'
                   % ver.hex())
    if suite not in offered or comp != 0:
        raise Fail(EXIT_TLS, 'server chose suite 0x%04x/compression %d'
                   ' that was not offered' % (suite, comp))
    return rnd, suite


def parse_certificate(body):
    r = Reader(body, 'Certificate')
    lst = Reader(r.vec(3), 'Certificate list')
    chain = []
    while lst.left():
        try:
            chain.append(x509.load_der_x509_certificate(lst.vec(3)))
        except ValueError as e:
            raise Fail(EXIT_TLS, 'bad server certificate: %s' % e)
    if not chain or not isinstance(chain[0].public_key(), rsa.RSAPublicKey):
        raise Fail(EXIT_TLS, 'server sent no RSA certificate')
    return chain


def read_server_flight(conn, transcript, offered):
    """ServerHello .. ServerHelloDone.  Returns (server_random, suite,
    chain, cert_requested)."""
    htype, body, msg = conn.read_handshake()
    if htype != HT_SERVER_HELLO:
        raise Fail(EXIT_TLS, 'expected ServerHello, got message %d' % htype)
    transcript += msg
    srandom, suite = parse_server_hello(body, offered)
    chain, requested = None, False
    while True:
        htype, body, msg = conn.read_handshake()
        transcript += msg
        if htype == HT_CERTIFICATE and chain is None:
            chain = parse_certificate(body)
        elif htype == HT_CERT_REQUEST:
            requested = True            # types and CA names: not needed
        elif htype == HT_SERVER_DONE:
            break
        else:
            raise Fail(EXIT_TLS, 'unexpected handshake message %d' % htype)
    if chain is None:
        raise Fail(EXIT_TLS, 'server sent no Certificate')
    return srandom, suite, chain, requested


def client_certificate_msg(chain):
    certs = b''.join(len(d).to_bytes(3, 'big') + d for d in
                     (c.public_bytes(serialization.Encoding.DER)
                      for c in chain))
    return hs_msg(HT_CERTIFICATE, len(certs).to_bytes(3, 'big') + certs)


def set_keys(conn, master, crandom, srandom, keylen):
    block = prf10(master, b'key expansion', srandom + crandom,
                  2 * (20 + keylen + 16))
    parts, p = [], 0
    for n in (20, 20, keylen, keylen, 16, 16):
        parts.append(block[p:p + n])
        p += n
    cmac, smac, ckey, skey, civ, siv = parts
    conn.pending_write = (cmac, ckey, civ)
    conn.pending_read = (smac, skey, siv)


def handshake(conn, args, chain, key, roots):
    transcript = bytearray()
    offered = SUITE_CHOICE[args.suites]
    challenge = os.urandom(32)
    record, v2body = sslv2_client_hello(offered, challenge)
    conn.send_raw(record)
    transcript += v2body                # the v2 body, without its header
    crandom = challenge.rjust(32, b'\x00')

    srandom, suite, schain, requested = read_server_flight(
        conn, transcript, offered)
    if roots:
        verify_server(schain, roots, args.server_name)

    if requested:
        msg = client_certificate_msg(chain or [])
        conn.send(CT_HANDSHAKE, msg)
        transcript += msg
    pms = TLS10 + os.urandom(46)
    enc = schain[0].public_key().encrypt(pms, padding.PKCS1v15())
    msg = hs_msg(HT_CLIENT_KX, len(enc).to_bytes(2, 'big') + enc)
    conn.send(CT_HANDSHAKE, msg)
    transcript += msg
    if requested and chain:
        sig = rsa_sign_raw(key, hs_digest(bytes(transcript)))
        msg = hs_msg(HT_CERT_VERIFY, len(sig).to_bytes(2, 'big') + sig)
        conn.send(CT_HANDSHAKE, msg)
        transcript += msg

    master = prf10(pms, b'master secret', crandom + srandom, 48)
    set_keys(conn, master, crandom, srandom, SUITES[suite][1])
    conn.send(CT_CCS, b'\x01')          # plaintext: keys switch after it
    conn.wr.mac_key, conn.wr.key, conn.wr.iv = conn.pending_write
    verify = prf10(master, b'client finished',
                   hs_digest(bytes(transcript)), 12)
    msg = hs_msg(HT_FINISHED, verify)
    conn.send(CT_HANDSHAKE, msg)
    transcript += msg

    ctype, data = conn.read_record()
    if ctype != CT_CCS or data != b'\x01':
        raise Fail(EXIT_TLS, 'expected ChangeCipherSpec from the server')
    if conn.hs_buf:
        raise Fail(EXIT_TLS, 'handshake data before ChangeCipherSpec')
    conn.rd.mac_key, conn.rd.key, conn.rd.iv = conn.pending_read
    htype, body, _ = conn.read_handshake()
    expect = prf10(master, b'server finished',
                   hs_digest(bytes(transcript)), 12)
    if htype != HT_FINISHED or not hmac.compare_digest(body, expect):
        raise Fail(EXIT_TLS, 'server Finished does not verify')
    return suite


# --- HTTP ---------------------------------------------------------------------

def expand(text, mac):
    """The phone's $MA, $MAU, $MAC, $(NAME) and $$ macros."""
    vals = {'MAU': mac.upper(), 'MAC': ':'.join(mac[i:i + 2] for i in
                                                range(0, 12, 2)), 'MA': mac}
    out, i = [], 0
    while i < len(text):
        if text.startswith('$$', i):
            out.append('$')
            i += 2
            continue
        for name in ('MAU', 'MAC', 'MA'):
            for form in ('$' + name, '$(' + name + ')'):
                if text.startswith(form, i):
                    out.append(vals[name])
                    i += len(form)
                    break
            else:
                continue
            break
        else:
            out.append(text[i])
            i += 1
    return ''.join(out)


def read_app_data(conn, buf):
    """Append the next application data to buf; False at the end."""
    while True:
        ctype, data = conn.read_record(eof_ok=True)
        if ctype is None or ctype == CT_ALERT:
            return False                # EOF or close_notify
        if ctype == CT_HANDSHAKE:
            raise Fail(EXIT_TLS, 'server asked for renegotiation')
        if ctype != CT_APPDATA:
            raise Fail(EXIT_TLS, 'unexpected record type %d' % ctype)
        buf += data
        if len(buf) > MAX_HEAD + 2 * MAX_BODY:
            raise Fail(EXIT_STATUS, 'response too large')
        if data:
            return True


def dechunk(data):
    """(body, complete) from a chunked body; raises on bad framing."""
    out, p = bytearray(), 0
    while True:
        eol = data.find(b'\r\n', p)
        if eol < 0:
            return bytes(out), False
        try:
            size = int(data[p:eol].split(b';')[0], 16)
        except ValueError:
            raise Fail(EXIT_STATUS, 'bad chunk size')
        if size == 0:
            rest = data[eol + 2:]
            return bytes(out), rest.startswith(b'\r\n') or b'\r\n\r\n' in rest
        if len(data) < eol + 2 + size + 2:
            return bytes(out), False
        out += data[eol + 2:eol + 2 + size]
        p = eol + 2 + size + 2
        if len(out) > MAX_BODY:
            raise Fail(EXIT_STATUS, 'response body too large')


def parse_head(head):
    lines = head.decode('latin-1').split('\r\n')
    parts = lines[0].split(' ', 2)
    if len(parts) < 2 or not parts[0].startswith('HTTP/1.') or \
            not parts[1].isdigit() or len(parts[1]) != 3:
        raise Fail(EXIT_STATUS, 'malformed status line %r' % lines[0][:80])
    clen, chunked = None, False
    for line in lines[1:]:
        name, sep, val = line.partition(':')
        if not sep:
            raise Fail(EXIT_STATUS, 'malformed header line')
        name, val = name.strip().lower(), val.strip()
        if name == 'content-length':
            if not val.isdigit() or int(val) > MAX_BODY:
                raise Fail(EXIT_STATUS, 'bad Content-Length %r' % val)
            clen = int(val)
        elif name == 'transfer-encoding':
            chunked = val.lower().startswith('chunked')
    return int(parts[1]), clen, chunked


def http_exchange(conn, args, mac):
    path = expand(args.path, mac)
    ua = args.user_agent if args.user_agent is not None else \
        DEFAULT_UA_PRE + mac.upper() + DEFAULT_UA_POST
    host = args.server_name or args.host
    if ':' in host:
        host = '[%s]' % host
    if args.port != 443:
        host += ':%d' % args.port
    req = 'GET %s HTTP/1.1\r\nHost: %s\r\n' % (path, host)
    if ua:
        req += 'User-Agent: %s\r\n' % ua
    req += 'Connection: close\r\n\r\n'
    conn.send(CT_APPDATA, req.encode('latin-1'))

    buf = bytearray()
    while b'\r\n\r\n' not in buf:
        if len(buf) > MAX_HEAD:
            raise Fail(EXIT_STATUS, 'response head too long')
        if not read_app_data(conn, buf):
            raise Fail(EXIT_CONN, 'connection closed %s' % (
                'inside the response head' if buf else 'without a response'))
    head, _, rest = bytes(buf).partition(b'\r\n\r\n')
    status, clen, chunked = parse_head(head)
    rest = bytearray(rest)
    if status < 200 or status in (204, 304):
        return status, b''
    while True:
        if chunked:
            body, done = dechunk(bytes(rest))
        elif clen is not None:
            body, done = bytes(rest[:clen]), len(rest) >= clen
        else:
            body, done = bytes(rest), False
        if done:
            return status, body
        if not read_app_data(conn, rest):
            if chunked or clen is not None:
                raise Fail(EXIT_CONN, 'connection closed inside the'
                           ' response body (%d bytes read)' % len(rest))
            return status, body


# --- main ---------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='sslv2-client',
        description='Mutual TLS 1.0 client opening with an SSLv2-format '
        'ClientHello, like a PAP2-era phone.')
    p.add_argument('--host', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--cert', help='phone chain, PEM, leaf first (all sent)')
    p.add_argument('--key', help='its RSA private key, PEM')
    p.add_argument('--ca', help='provisioning root(s): verify the server')
    p.add_argument('--server-name', help='with --ca: required server CN; '
                   'also the Host header')
    p.add_argument('--path', default='/spa$MA.xml',
                   help='request path; $MA $MAU $MAC $$ expanded')
    p.add_argument('--mac', default='0022bd010203')
    p.add_argument('--user-agent', help='default "%sMAC%s"; "" sends none'
                   % (DEFAULT_UA_PRE, DEFAULT_UA_POST))
    p.add_argument('--suites', choices=sorted(SUITE_CHOICE), default='both',
                   help='offer AES256-SHA and AES128-SHA (both) or one')
    p.add_argument('--expect-status', type=int, default=200)
    p.add_argument('--timeout', type=float, default=10.0)
    p.add_argument('--out', help='write the body here, not to stdout')
    try:
        args = p.parse_args(argv)
    except SystemExit as e:
        sys.exit(EXIT_OK if e.code == 0 else EXIT_USAGE)
    if bool(args.cert) != bool(args.key):
        p.error('--cert and --key go together')     # exits 2
    mac = args.mac.replace(':', '').replace('-', '').lower()
    if len(mac) != 12 or any(c not in '0123456789abcdef' for c in mac):
        p.error('--mac needs 12 hex digits')
    if not 0 < args.port < 65536 or not 0 < args.timeout <= 3600:
        p.error('bad --port or --timeout')
    if any(c in args.path for c in '\r\n ') or \
            (args.user_agent and any(c in args.user_agent for c in '\r\n')):
        p.error('bad --path or --user-agent')
    return args, mac


def connect(args):
    try:
        return socket.create_connection((args.host, args.port),
                                        timeout=args.timeout)
    except socket.timeout:
        raise Fail(EXIT_CONN, 'connect to %s port %d: timed out'
                   % (args.host, args.port))
    except OSError as e:
        raise Fail(EXIT_CONN, 'connect to %s port %d: %s'
                   % (args.host, args.port, e.strerror or e))


def run(args, mac):
    chain = load_pem_chain(args.cert) if args.cert else None
    key = load_key(args.key) if args.key else None
    roots = load_pem_chain(args.ca) if args.ca else None
    sock = connect(args)
    try:
        conn = Conn(sock)
        suite = handshake(conn, args, chain, key, roots)
        conn.handshaking = False
        status, body = http_exchange(conn, args, mac)
        try:
            conn.send(CT_ALERT, b'\x01\x00')    # close_notify
        except Fail:
            pass
    finally:
        sock.close()
    sys.stderr.write('status=%d tls=TLS1.0 cipher=%s kx=RSA hello=sslv2'
                     ' bytes=%d\n' % (status, SUITES[suite][0], len(body)))
    try:
        if args.out:
            with open(args.out, 'wb') as f:
                f.write(body)
        else:
            sys.stdout.buffer.write(body)
            sys.stdout.buffer.flush()
    except OSError as e:
        raise Fail(EXIT_USAGE, 'writing the body: %s' % e)
    return EXIT_OK if status == args.expect_status else EXIT_STATUS


def main():
    args, mac = parse_args(sys.argv[1:])
    try:
        return run(args, mac)
    except Fail as e:
        sys.stderr.write('sslv2-client: %s\n' % e)
        return e.code


if __name__ == '__main__':
    sys.exit(main())
