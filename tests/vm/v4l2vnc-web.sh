#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# v4l2vnc --web: Debian's noVNC is served over HTTP, and the VNC port
# accepts a websocket (what noVNC opens) and speaks RFB inside it.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc

[ -f /usr/share/novnc/vnc.html ] || skip "noVNC not installed (package novnc)"
ip link set lo up || fail "ip link set lo up"
modprobe vivid n_devs=1 node_types=0x1 || fail "modprobe vivid"
dev=$(video_by_name '^vivid-000-vid-cap$') || fail "no vivid capture node"

pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT
"$V" --device "$dev" --format XR24 --size 640x480 --port 5901 --web 6080 &
pid=$!
for i in $(seq 50); do
	ss -ltn | grep -q '127.0.0.1:6080 ' && break
	kill -0 "$pid" 2>/dev/null || fail "v4l2vnc exited"
	sleep 0.2
done
# Nothing listens beyond loopback (no IPv6 any-address listener either).
ss -ltn | awk 'NR > 1 { print $4 }' | grep -vE '^(127\.0\.0\.1|\[::1\]):' &&
	fail "a socket listens beyond loopback"
curl -sf http://127.0.0.1:6080/vnc.html -o /tmp/vnc.html || fail "GET /vnc.html"
grep -q noVNC /tmp/vnc.html || fail "vnc.html is not noVNC's"
curl -sf http://127.0.0.1:6080/app/ui.js -o /dev/null || fail "GET /app/ui.js"

python3 - <<'PY' || fail "websocket RFB handshake"
import base64, hashlib, socket, sys
key = base64.b64encode(b"v4l2vnc-test-key").decode()
s = socket.create_connection(("127.0.0.1", 5901), timeout=10)
s.sendall(("GET /websockify HTTP/1.1\r\nHost: 127.0.0.1:5901\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Protocol: binary\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        sys.exit("connection closed during the handshake")
    buf += d
head, rest = buf.split(b"\r\n\r\n", 1)
lines = head.decode().split("\r\n")
if " 101 " not in lines[0]:
    sys.exit("status: " + lines[0])
want = base64.b64encode(hashlib.sha1(
    (key + "258EAFA5-E914-47DA-95CA-C5AB0DC11B65").encode()).digest()).decode()
if not any(l.lower() == "sec-websocket-accept: " + want.lower() for l in lines):
    sys.exit("wrong Sec-WebSocket-Accept")
while len(rest) < 2 + 12:
    rest += s.recv(4096)
if rest[0] & 0x0f not in (1, 2) or rest[1] & 0x7f != 12:
    sys.exit("unexpected frame header %r" % rest[:2])
payload = rest[2:14]
if payload != b"RFB 003.008\n":
    sys.exit("payload %r" % payload)
print("websocket: 101, RFB 003.008 inside")
PY
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=
info "PASS: noVNC files served, RFB over websocket"
