#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# v4l2vnc --web: Debian's noVNC is served over HTTP, also to many parallel
# requests (noVNC 1.3 loads dozens of ES modules at once), nothing outside
# the noVNC folder is served, and the VNC port accepts a websocket (what
# noVNC opens) and speaks RFB inside it.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc

[ -f /usr/share/novnc/vnc.html ] || skip "noVNC not installed (package novnc)"
ip link set lo up || fail "ip link set lo up"
dev=$(vivid_node) || fail "no vivid capture node"

pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT
"$V" --device "$dev" --format XR24 --size 640x480 --port 5901 --web 6080 ${V4L2VNC_VERBOSE:+--verbose} &
pid=$!
wait_listen '127\.0\.0\.1:6080 ' "$pid"
# Nothing listens beyond loopback (no IPv6 listener either).
ss -ltn | awk 'NR > 1 { print $4 }' | grep -vE '^(127\.0\.0\.1|\[::1\]):' &&
	fail "a socket listens beyond loopback"
curl -sf http://127.0.0.1:6080/vnc.html -o /tmp/vnc.html || fail "GET /vnc.html"
cmp -s /tmp/vnc.html /usr/share/novnc/vnc.html || fail "vnc.html differs from noVNC's"
curl -sf -D /tmp/h.txt -o /dev/null http://127.0.0.1:6080/app/ui.js || fail "GET /app/ui.js"
grep -qi '^Content-Type: application/javascript' /tmp/h.txt || fail "ui.js not served as JavaScript"
# Every module noVNC loads, all at once.
cd /usr/share/novnc
mapfile -t files < <(find app core vendor -name '*.js' -type f | sort | head -24)
[ ${#files[@]} -ge 20 ] || fail "noVNC has only ${#files[@]} modules?"
mkdir -p /tmp/got
cpids=()
for f in "${files[@]}"; do
	curl -sf --max-time 60 "http://127.0.0.1:6080/$f" -o "/tmp/got/${f//\//_}" &
	cpids+=($!)
done
for p in "${cpids[@]}"; do
	wait "$p" || true # cmp below names the file
done
for f in "${files[@]}"; do
	cmp -s "$f" "/tmp/got/${f//\//_}" || fail "parallel GET /$f"
done
cd - >/dev/null
info "${#files[@]} parallel module requests served"
code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is http://127.0.0.1:6080/../../etc/passwd)
[ "$code" = 404 ] || fail "path traversal answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:6080/%2e%2e/%2e%2e/etc/passwd)
[ "$code" = 404 ] || fail "encoded path traversal answered $code"

python3 - <<'PY' || fail "websocket RFB handshake"
import base64, hashlib, socket, sys
key = base64.b64encode(b"v4l2vnc-test-key").decode()
s = socket.create_connection(("127.0.0.1", 5901), timeout=10)
s.sendall(("GET /websockify HTTP/1.1\r\nHost: 127.0.0.1:5901\r\n"
           "Origin: http://127.0.0.1:6080\r\n"
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
    (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
acc = [l.split(":", 1)[1].strip() for l in lines
       if l.lower().startswith("sec-websocket-accept:")]
if acc != [want]:
    sys.exit("Sec-WebSocket-Accept %r, expected %r; response:\n%s" % (acc, want, head.decode()))
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
