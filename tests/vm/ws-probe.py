#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# ws-probe.py ORIGIN PATH PORT [plain|-k|CAFILE]: a WebSocket upgrade to
# v4l2vnc's VNC port on 127.0.0.1, from page ORIGIN, as noVNC makes it:
# plain ws, or inside TLS (CAFILE: the server's certificate verified
# against it; -k, the default: not, its SHA-256 printed first as
# "cert AA:BB:..."). Prints "101 RFB" when the server answered 101 and
# sent RFB 003.008 inside, "tls: ERROR" when TLS failed, "closed" when
# the server closed, else the status line; exits non-zero on a broken
# upgrade (wrong Sec-WebSocket-Accept, bad frame).
import base64, hashlib, socket, ssl, sys
origin, path, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "-k"
key = base64.b64encode(b"v4l2vnc-test-key").decode()
# The context first: the ClientHello must follow the connect at once (a
# connection silent for 150 ms is a plain RFB viewer, as a browser's is not).
ctx = ssl.create_default_context()
if mode == "-k":
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
elif mode != "plain":
    ctx.load_verify_locations(cafile=mode)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
if mode != "plain":
    try:
        s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
    except (ssl.SSLError, OSError) as e:
        print("tls: %s" % e)
        sys.exit(0)
    if mode == "-k":
        d = hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest().upper()
        print("cert " + ":".join(d[i:i + 2] for i in range(0, 64, 2)))
s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
           f"Origin: {origin}\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Protocol: binary\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    try:
        d = s.recv(4096)
    except (ConnectionResetError, ssl.SSLError):
        d = b""
    if not d:
        print("closed" + (": " + buf.decode(errors="replace") if buf else ""))
        sys.exit(0)
    buf += d
head, rest = buf.split(b"\r\n\r\n", 1)
lines = head.decode().split("\r\n")
if " 101 " not in lines[0]:
    print(lines[0])
    sys.exit(0)
want = base64.b64encode(hashlib.sha1(
    (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
acc = [l.split(":", 1)[1].strip() for l in lines
       if l.lower().startswith("sec-websocket-accept:")]
if acc != [want]:
    sys.exit("Sec-WebSocket-Accept %r, expected %r; response:\n%s" % (acc, want, head.decode()))
while len(rest) < 2 + 12:
    d = s.recv(4096)
    if not d:
        sys.exit("closed inside the WebSocket after %r" % rest)
    rest += d
if rest[0] & 0x0f not in (1, 2) or rest[1] & 0x7f != 12:
    sys.exit("unexpected frame header %r" % rest[:2])
print("101 RFB" if rest[2:14] == b"RFB 003.008\n" else "101 payload %r" % rest[2:14])
