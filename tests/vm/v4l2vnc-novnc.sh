#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A real browser: this machine's chromium (headless) opens noVNC from
# v4l2vnc --web in the VM (ports forwarded by QEMU), connects with the
# password and shows vivid's colour bars; the screenshot must contain each
# bar's exact colour over a large area of noVNC's canvas.  Runs on the host; the guest part
# is this script with --guest.
set -euo pipefail
T=${0##*/}
fail() { echo "$T: FAIL: $*" >&2; exit 1; }
skip() { echo "$T: SKIP: $*"; exit 77; }
info() { echo "$T: $*"; }
B=${KMS2V4L_BUILD:?}
PASSWORD=novnc-test

if [ "${1:-}" = --guest ]; then
	dir=$2
	. "$(dirname "$0")/lib.sh"
	ip link set lo up
	modprobe virtio_net 2>/dev/null || true
	for i in $(seq 30); do
		ls /sys/class/net | grep -qv '^lo$' && break
		sleep 0.1
	done
	nic=
	for n in /sys/class/net/*; do
		[ "${n##*/}" = lo ] || { nic=${n##*/}; break; }
	done
	[ -n "$nic" ] || fail "no NIC (vm-run --fwd gives one)"
	ip link set "$nic" up && ip addr add 10.0.2.15/24 dev "$nic" || fail "NIC set-up"
	dev=$(vivid_node) || fail "no vivid capture node"
	# 2 frames/s: fewer wake-ups of vivid's capture thread, whose timeout
	# computation races with a busy host (see README).
	v4l2-ctl -d "$dev" -c osd_text_mode=2 -p 2 || fail "vivid controls"
	"$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc" --device "$dev" --format XR24 --size 640x480 \
		--listen 0.0.0.0 --port 5901 --password-file "$dir/pw" --insecure-vnc-auth --web 6080 \
		>"$dir/v4l2vnc.log" 2>&1 &
	pid=$!
	for i in $(seq 50); do
		ss -ltn | grep -q '0.0.0.0:6080 ' && grep -q 'noVNC on' "$dir/v4l2vnc.log" && break
		kill -0 "$pid" || fail "v4l2vnc exited"
		sleep 0.2
	done
	touch "$dir/ready"
	for i in $(seq 450); do
		[ -e "$dir/done" ] && break
		sleep 0.2
	done
	kill -TERM "$pid"
	wait "$pid" || fail "v4l2vnc exit status $?"
	exit 0
fi

command -v chromium >/dev/null || skip "no chromium (Debian package chromium)"
dir=$B/vm-runs/v4l2vnc-novnc.host
rm -rf "$dir"
mkdir -p "$dir"
(umask 077 && printf '%s\n' "$PASSWORD" >"$dir/pw")
src=$(cd "$(dirname "$0")/../.." && pwd)
# Two free ports on this machine (other VMs may forward the usual ones).
read -r VNC_PORT WEB_PORT < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
"$src/scripts/vm-run" --no-modules --timeout 150 --name vm.v4l2vnc-novnc -q \
	--fwd "tcp:127.0.0.1:$VNC_PORT-:5901" --fwd "tcp:127.0.0.1:$WEB_PORT-:6080" \
	-- env KMS2V4L_BUILD="$B" "$src/tests/vm/$T" --guest "$dir" &
vm=$!
# However this script ends, the guest part is told to stop.
trap 'touch "$dir/done"' EXIT
for i in $(seq 600); do
	[ -e "$dir/ready" ] && break
	kill -0 "$vm" 2>/dev/null || { wait "$vm" || true; fail "the VM ended before v4l2vnc was ready"; }
	sleep 0.2
done
[ -e "$dir/ready" ] || fail "v4l2vnc not ready in the VM"
# The page's origin here is the forwarded port, not the one v4l2vnc knows:
# the token of the URL it printed lets noVNC's websocket in.
tok=$(sed -n 's/.*path=websockify%3Ftoken%3D\([0-9a-f]*\).*/\1/p' "$dir/v4l2vnc.log")
[ ${#tok} = 32 ] || fail "no token in v4l2vnc's URL: $(cat "$dir/v4l2vnc.log")"
url="http://127.0.0.1:$WEB_PORT/vnc.html?autoconnect=1&resize=off&port=$VNC_PORT&password=$PASSWORD&path=websockify%3Ftoken%3D$tok"
# chromium is driven over its DevTools protocol: open noVNC, then read the
# pixels of noVNC's canvas until vivid's colour bars are all there.
HOME=$dir python3 - "$url" "$dir" >"$dir/browser.log" 2>&1 <<'PY' && rc=0 || rc=$?
import base64, json, os, re, socket, struct, subprocess, sys, time, urllib.request
url, d = sys.argv[1], sys.argv[2]
chrome = subprocess.Popen(
    ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
     "--remote-debugging-port=0", "--user-data-dir=" + d + "/profile",
     "--window-size=800,600", "about:blank"],
    stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
try:
    port = None
    for line in chrome.stderr:
        m = re.search(r"DevTools listening on ws://127.0.0.1:(\d+)/", line)
        if m:
            port = int(m.group(1))
            break
    assert port, "no DevTools port"
    pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
    ws_url = next(p["webSocketDebuggerUrl"] for p in pages if p["type"] == "page")
    path = ws_url.split(str(port), 1)[1]
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    buf = buf.split(b"\r\n\r\n", 1)[1]

    def recv_exact(n):
        global buf
        while len(buf) < n:
            chunk = s.recv(65536)
            assert chunk, "DevTools closed"
            buf += chunk
        out, buf = buf[:n], buf[n:]
        return out

    def send(obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        head = bytes([0x81])
        if len(data) < 126:
            head += bytes([0x80 | len(data)])
        else:
            head += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv():
        b0, b1 = recv_exact(2)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack(">H", recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", recv_exact(8))[0]
        return json.loads(recv_exact(n))

    seq = 0
    def call(method, **params):
        global seq
        seq += 1
        send({"id": seq, "method": method, "params": params})
        while True:
            m = recv()
            if m.get("id") == seq:
                return m

    call("Page.navigate", url=url)
    probe = """(() => {
      const c = document.querySelector('#noVNC_container canvas');
      if (!c || c.width < 640) return 'no canvas yet';
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const want = [[191,191,0],[0,191,191],[0,191,0],[191,0,191],[191,0,0],[0,0,191]];
      const n = want.map(() => 0);
      for (let i = 0; i < d.length; i += 4)
        want.forEach((w, k) => { if (d[i] == w[0] && d[i+1] == w[1] && d[i+2] == w[2]) n[k]++; });
      return c.width + 'x' + c.height + ' ' + n.join(',');
    })()"""
    end = time.time() + 60
    while time.time() < end:
        r = call("Runtime.evaluate", expression=probe, returnByValue=True)
        v = r.get("result", {}).get("result", {}).get("value", "")
        print(v, flush=True)
        m = re.match(r"(\d+)x(\d+) ([\d,]+)$", v)
        if m and m.group(1, 2) == ("640", "480") and all(int(x) >= 5000 for x in m.group(3).split(",")):
            sys.exit(0)
        time.sleep(1)
    sys.exit("noVNC's canvas never showed the six colour bars")
finally:
    chrome.kill()
PY
touch "$dir/done"
cat "$dir/browser.log"
wait "$vm" || { cat "$dir/v4l2vnc.log"; fail "guest part failed (vm-run status $?)"; }
[ "$rc" = 0 ] || fail "noVNC in chromium did not show vivid's colour bars"
info "PASS: chromium showed vivid through noVNC and v4l2vnc"
