#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A real browser: this machine's chromium (headless) opens noVNC from
# v4l2vnc --web in the VM (ports forwarded by QEMU), connects with the
# password and shows vivid's colour bars; noVNC must say it is connected
# and the screenshot must contain each bar's exact colour over a large
# area of noVNC's canvas.  Two passes in one boot: plain HTTP and ws, then
# v4l2vnc --tls-cert/--tls-key with a certificate made here: chromium
# trusts exactly that certificate's key (--ignore-certificate-errors-spki-
# list), loads the printed https://...&encrypt=1 URL and connects over wss
# (noVNC says "encrypted"); a chromium that trusts another key, and a
# plain http:// load of the TLS web port, must not connect.  Runs on the
# host; the guest part is this script with --guest.
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
	# Pass plain, then pass tls (same ports, so the same forwards): each
	# v4l2vnc runs until the host says it is done with it (end.PASS), or
	# with everything (done).
	for pass in plain tls; do
		tls=()
		[ "$pass" = tls ] && tls=(--tls-cert "$dir/cert.pem" --tls-key "$dir/cert.key")
		"$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc" --device "$dev" --format XR24 --size 640x480 \
			--listen 0.0.0.0 --port 5901 --password-file "$dir/pw" --insecure-vnc-auth --web 6080 \
			"${tls[@]}" >"$dir/v4l2vnc.$pass.log" 2>&1 &
		pid=$!
		for i in $(seq 50); do
			ss -ltn | grep -q '0.0.0.0:6080 ' && grep -q 'noVNC on' "$dir/v4l2vnc.$pass.log" && break
			kill -0 "$pid" || fail "v4l2vnc ($pass) exited"
			sleep 0.2
		done
		touch "$dir/ready.$pass"
		for i in $(seq 600); do
			[ -e "$dir/end.$pass" ] || [ -e "$dir/done" ] && break
			sleep 0.2
		done
		kill -TERM "$pid"
		wait "$pid" || fail "v4l2vnc ($pass) exit status $?"
		[ -e "$dir/done" ] && break
	done
	exit 0
fi

command -v chromium >/dev/null || skip "no chromium (Debian package chromium)"
command -v openssl >/dev/null || skip "no openssl (for the TLS pass's certificate)"
dir=$B/vm-runs/v4l2vnc-novnc.host
rm -rf "$dir"
mkdir -p "$dir"
(umask 077 && printf '%s\n' "$PASSWORD" >"$dir/pw")
# cert: what v4l2vnc serves in the TLS pass; other: a second key, which
# chromium trusts in the pass that must fail.
for n in cert other; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=v4l2vnc-novnc test $n" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$dir/$n.key" -out "$dir/$n.pem" 2>/dev/null || fail "openssl req ($n)"
	chmod 600 "$dir/$n.key"
done
# spki CERT: base64 SHA-256 of the certificate's SubjectPublicKeyInfo, the
# form --ignore-certificate-errors-spki-list takes.
spki() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64
}
spki_cert=$(spki "$dir/cert.pem") && spki_other=$(spki "$dir/other.pem") || fail "openssl: SPKI hash"
[ ${#spki_cert} = 44 ] && [ "$spki_cert" != "$spki_other" ] || fail "SPKI hashes '$spki_cert' '$spki_other'"
fp_cert=$(openssl x509 -in "$dir/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
src=$(cd "$(dirname "$0")/../.." && pwd)
# Two free ports on this machine (other VMs may forward the usual ones).
read -r VNC_PORT WEB_PORT < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
"$src/scripts/vm-run" --no-modules --timeout 200 --name vm.v4l2vnc-novnc -q \
	--fwd "tcp:127.0.0.1:$VNC_PORT-:5901" --fwd "tcp:127.0.0.1:$WEB_PORT-:6080" \
	-- env KMS2V4L_BUILD="$B" "$src/tests/vm/$T" --guest "$dir" &
vm=$!
# However this script ends, the guest part is told to stop.
trap 'touch "$dir/done"' EXIT
# guest_failed WHAT: stop the guest, show its log, fail.
guest_failed() {
	touch "$dir/done"
	wait "$vm" || { cat "$dir"/v4l2vnc.*.log 2>/dev/null; fail "guest part failed (vm-run status $?)"; }
	cat "$dir"/v4l2vnc.*.log 2>/dev/null
	fail "$1"
}
# wait_ready PASS: until v4l2vnc of PASS listens in the guest.
wait_ready() {
	for i in $(seq 600); do
		[ -e "$dir/ready.$1" ] && return 0
		kill -0 "$vm" 2>/dev/null || { wait "$vm" || true; fail "the VM ended before v4l2vnc ($1) was ready"; }
		sleep 0.2
	done
	fail "v4l2vnc ($1) not ready in the VM"
}
# page_url PASS SCHEME: url := the noVNC URL v4l2vnc printed for PASS,
# pointed at the forwarded ports.  The page's origin here is the forwarded
# port, not the one v4l2vnc knows: the URL's token lets noVNC's websocket in.
page_url() {
	local want
	url=$(sed -n "s/.*noVNC on \\($2:[^ ]*\\).*/\\1/p" "$dir/v4l2vnc.$1.log")
	want="$2://HOST:6080/vnc.html?port=5901"
	[ "$2" = https ] && want+="&encrypt=1"
	want+="&path=websockify%3Ftoken%3D"
	[[ $url =~ ^"$want"[0-9a-f]{32}$ ]] || guest_failed "v4l2vnc ($1) printed URL '$url'"
	url=${url/HOST:6080/127.0.0.1:$WEB_PORT}
	url="${url/port=5901/port=$VNC_PORT}&autoconnect=1&resize=off&password=$PASSWORD"
}
# browser LOG PIN EXPECT URL [EXPECT URL...]: one chromium (trusting the
# key whose SPKI hash is PIN, if any) opens each URL in turn; EXPECT is
# "unencrypted" or "encrypted" (noVNC must say "Connected (EXPECT)" and
# show vivid's colour bars), "no" (it must not connect) or "cert-error"
# (the page must fail with a net::ERR_CERT_* error, and not connect).
# chromium is driven over its DevTools protocol.
browser() {
	local log=$1
	shift
	HOME=$dir python3 - "$dir" "$@" >"$log" 2>&1 <<'PY'
import base64, json, os, re, socket, struct, subprocess, sys, time, urllib.request
d, pin, steps = sys.argv[1], sys.argv[2], sys.argv[3:]
profile = d + "/profile-" + (pin[:8].replace("/", "_") if pin else "none")
chrome = subprocess.Popen(
    ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
     "--remote-debugging-port=0", "--user-data-dir=" + profile,
     "--window-size=800,600"] +
    (["--ignore-certificate-errors-spki-list=" + pin] if pin else []) + ["about:blank"],
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

    # noVNC's state: connected or not, its status line, and how many of
    # the canvas's pixels have each colour bar's exact colour.
    probe = """(() => {
      const st = document.getElementById('noVNC_status');
      const head = (document.documentElement.classList.contains('noVNC_connected')
                    ? 'connected' : 'not connected') +
                   ' [' + (st ? st.textContent : 'no noVNC page') + '] ';
      const c = document.querySelector('#noVNC_container canvas');
      if (!c || c.width < 640) return head + 'no canvas yet';
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const want = [[191,191,0],[0,191,191],[0,191,0],[191,0,191],[191,0,0],[0,0,191]];
      const n = want.map(() => 0);
      for (let i = 0; i < d.length; i += 4)
        want.forEach((w, k) => { if (d[i] == w[0] && d[i+1] == w[1] && d[i+2] == w[2]) n[k]++; });
      return head + c.width + 'x' + c.height + ' ' + n.join(',');
    })()"""

    def state():
        r = call("Runtime.evaluate", expression=probe, returnByValue=True)
        v = r.get("result", {}).get("result", {}).get("value", "")
        print("  " + v, flush=True)
        m = re.search(r"(\d+)x(\d+) ([\d,]+)$", v)
        bars = bool(m and m.group(1, 2) == ("640", "480") and
                    all(int(x) >= 5000 for x in m.group(3).split(",")))
        return v, bars

    for expect, url in zip(steps[0::2], steps[1::2]):
        r = call("Page.navigate", url=url)
        err = r.get("result", {}).get("errorText", "")
        print(f"{expect}: {url.split('&password=')[0]}: {err or 'loaded'}", flush=True)
        if expect == "cert-error" and not err.startswith("net::ERR_CERT_"):
            sys.exit(f"no certificate error: {url}")
        if expect in ("no", "cert-error"):
            # A page that failed to load has nothing to wait for; one that
            # loaded gets the time a working connection takes here.
            end = time.time() + (2 if err else 10)
            while time.time() < end:
                v, bars = state()
                if v.startswith("connected") or bars:
                    sys.exit(f"connected, but must not: {url}")
                time.sleep(1)
            continue
        end = time.time() + 60
        while True:
            v, bars = state()
            if bars and v.startswith(f"connected [Connected ({expect}) to "):
                break
            if time.time() > end:
                sys.exit(f"noVNC did not say 'Connected ({expect})' and show the "
                         f"six colour bars: {url}")
            time.sleep(1)
finally:
    chrome.kill()
PY
}

# Pass plain: HTTP and ws.
wait_ready plain
page_url plain http
browser "$dir/browser.plain.log" "" unencrypted "$url" && rc=0 || rc=$?
cat "$dir/browser.plain.log"
[ "$rc" = 0 ] || guest_failed "noVNC in chromium did not show vivid's colour bars (plain)"
info "plain: chromium showed vivid through noVNC over http and ws"
touch "$dir/end.plain"

# Pass tls: our certificate, HTTPS and wss.
wait_ready tls
page_url tls https
fp=$(sed -n 's/.*noVNC on https:.*SHA-256 \([0-9A-F:]*\)).*/\1/p' "$dir/v4l2vnc.tls.log")
[ "$fp" = "$fp_cert" ] || guest_failed "v4l2vnc printed fingerprint '$fp', the certificate's is '$fp_cert'"
# A chromium trusting another key must not connect: so the one trusting
# ours proves that v4l2vnc served our certificate (page and wss).
browser "$dir/browser.tls-other.log" "$spki_other" cert-error "$url" && rc=0 || rc=$?
cat "$dir/browser.tls-other.log"
[ "$rc" = 0 ] || guest_failed "chromium trusting another key: no certificate error, or it connected"
http_url=${url/https:/http:}
http_url=${http_url/&encrypt=1/}
browser "$dir/browser.tls.log" "$spki_cert" encrypted "$url" no "$http_url" && rc=0 || rc=$?
cat "$dir/browser.tls.log"
[ "$rc" = 0 ] || guest_failed "noVNC over HTTPS and wss: see above"
touch "$dir/done"
wait "$vm" || { cat "$dir"/v4l2vnc.*.log; fail "guest part failed (vm-run status $?)"; }
info "tls: chromium trusting our key (SPKI $spki_cert) showed vivid over https and wss; trusting another key, and over plain http, it did not connect"
info "PASS: chromium showed vivid through noVNC and v4l2vnc, plain and with TLS"
