#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Host side: scripts/demo, headless, on ports of its own (a user's demo
# may run on 5900/6080) and in a folder of its own. Checks, from this
# machine through QEMU's 127.0.0.1 port forwarding:
#  - vncsnapshot (with the demo's password): not blank, weston's panel
#    and background colours, and the animated client moves;
#  - keys typed through a VNC client reach weston's terminal: the shell
#    in it runs the typed command (a file appears) and the terminal's
#    area changes;
#  - headless Chromium opens the noVNC page and its screenshot shows the
#    desktop;
#  - SIGINT stops the demo within 10 s and leaves no QEMU behind.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${KMS2V4L_BUILD:-$src/build}
T=demo
fail() { echo "$T: FAIL: $*" >&2; exit 1; }
skip() { echo "$T: SKIP: $*"; exit 77; }
info() { echo "$T: $*"; }

# Ports of our own, free on this machine (DEMO_TEST_VNC_PORT/_WEB_PORT
# choose others).
in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
for i in 0 1 2 3 4 5 6 7 8 9; do
	vnc_port=${DEMO_TEST_VNC_PORT:-$((25900 + i))}
	web_port=${DEMO_TEST_WEB_PORT:-$((26080 + i))}
	in_use "$vnc_port" || in_use "$web_port" || break
done
W=1280 H=720
check=$src/tests/vm/demo-check.py
client=$build/tests/tools/vnc-demo-client
for p in weston vncsnapshot ffmpeg python3; do
	command -v "$p" >/dev/null || skip "$p is not installed (scripts/deps)"
done
[ -x "$client" ] || fail "$client is not built"

export KMS2V4L_BUILD=$build
export KMS2V4L_DEMO_DIR=$build/demo-test
dir=$KMS2V4L_DEMO_DIR
out=$build/demo-test.out
rm -rf "$dir"
mkdir -p "$dir"

# Job control: the demo runs in its own process group and, unlike a
# plain background job of a script, does not ignore SIGINT.
set -m
"$src/scripts/demo" --headless --no-setup --size ${W}x$H \
	--vnc-port "$vnc_port" --web-port "$web_port" --timeout 1500 >"$out" 2>&1 &
demo=$!
set +m
qpid=
cleanup() {
	if kill -0 "$demo" 2>/dev/null; then
		kill -INT "$demo" 2>/dev/null
		sleep 8
	fi
	[ -z "$qpid" ] || kill -KILL "$qpid" 2>/dev/null || true
}
trap cleanup EXIT
ended() { ! kill -0 "$demo" 2>/dev/null; }

info "waiting for the demo to come up (booting, udev, v4l2vnc, weston)"
for _ in $(seq 600); do
	grep -q 'the demo is up' "$out" && break
	ended && { cat "$out"; fail "scripts/demo ended before it was up"; }
	sleep 1
done
grep -q 'the demo is up' "$out" || { cat "$out"; fail "the demo was not up after 600 s"; }
cat "$out"
qpid=$(cat "$dir/qemu.pid") || fail "no QEMU pid file"
pwfile=$dir/vnc-passwd
[ -s "$pwfile" ] || fail "no obfuscated password file $pwfile"

snap() { # snap OUT.jpg: a whole-screen snapshot through the forwarded port
	rm -f "$1"
	timeout 60 vncsnapshot -quiet -passwd "$pwfile" "127.0.0.1::$vnc_port" "$1" >/dev/null 2>&1 &&
		[ -s "$1" ]
}

# 1. weston's desktop, seen from here. The shell may still be drawing
# itself right after 'ready' under TCG: try for a while.
ok=0
for _ in $(seq 30); do
	snap "$dir/shot1.jpg" || fail "vncsnapshot could not connect to 127.0.0.1::$vnc_port"
	if "$check" desktop "$dir/shot1.jpg" $W $H >"$dir/check.txt" 2>&1; then ok=1; break; fi
	sleep 3
done
cat "$dir/check.txt"
[ "$ok" = 1 ] || fail "the snapshot does not show weston's desktop ($dir/shot1.jpg)"
info "PASS: the VNC snapshot shows weston's desktop ($dir/shot1.jpg)"

# 2. The animated client moves.
sleep 2
snap "$dir/shot2.jpg" || fail "second vncsnapshot"
box=$("$check" moving "$dir/shot1.jpg" "$dir/shot2.jpg" $W $H) ||
	fail "two snapshots 2 s apart are the same"
info "PASS: the picture changes between snapshots (animated client at $box)"

# 3. Keys typed through VNC: click into the terminal, type a command.
read -r tx ty < <("$check" terminal "$dir/shot2.jpg" $W $H $box) ||
	fail "no terminal found on the desktop ($dir/shot2.jpg)"
# The terminal's shell starts in the checkout. (No '$' in what is typed:
# v4l2vnc maps the dollar keysym to KEY_DOLLAR, which its uinput device
# does not declare, so '$' is lost.)
rm -f "$dir/typed-through-vnc"
"$client" input "127.0.0.1:$vnc_port" "$dir/vnc-password" "$tx" "$ty" \
	"touch ${dir#"$src"/}/typed-through-vnc" >/dev/null 2>"$dir/client.err" ||
	{ cat "$dir/client.err"; fail "the VNC client could not send input"; }
for _ in $(seq 60); do
	[ -e "$dir/typed-through-vnc" ] && break
	sleep 0.5
done
[ -e "$dir/typed-through-vnc" ] ||
	fail "the command typed through VNC (click at $tx,$ty) did not run in weston's terminal"
sleep 2
snap "$dir/shot3.jpg" || fail "third vncsnapshot"
"$check" typed "$dir/shot2.jpg" "$dir/shot3.jpg" $W $H $box ||
	fail "the terminal's area did not change after typing"
info "PASS: keys typed through VNC ran a command in weston's terminal"

# 4. noVNC in headless Chromium, through the forwarded web port.
if command -v chromium >/dev/null; then
	pw=$(head -n1 "$dir/vnc-password")
	url="http://127.0.0.1:$web_port/vnc.html?port=$vnc_port&autoconnect=true&resize=scale&password=$pw"
	timeout 240 "$check" browser "$url" "$dir/browser.png" 1280 800 ||
		fail "headless Chromium did not show the desktop through noVNC"
	info "PASS: noVNC in headless Chromium shows the desktop ($dir/browser.png)"
else
	info "chromium not installed: noVNC check skipped"
fi

# 5. SIGINT: the demo stops within 10 s, no QEMU left.
t0=$(date +%s%N)
kill -INT "$demo"
for _ in $(seq 100); do
	ended && break
	sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
ended || fail "the demo still runs 10 s after SIGINT"
kill -0 "$qpid" 2>/dev/null && fail "QEMU ($qpid) is still running after the demo ended"
grep -q 'demo stopped (VM status 0)' "$out" ||
	{ tail "$out"; fail "no clean stop (a kernel complaint makes vm-run's status 125)"; }
grep -q 'terminating QEMU' "$out" && info "note: the guest did not power off by itself; QEMU was terminated"
info "PASS: SIGINT stopped the demo in $ms ms, no QEMU left"
trap - EXIT
exit 0
