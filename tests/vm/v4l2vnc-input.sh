#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# v4l2vnc --input: a VNC client's pointer move, click and key presses
# ('a', Shift+'A', Shift+'$', Return) arrive on v4l2vnc's uinput device as the right
# evdev events, read back with libevdev; the pointer in a fixed 0..32767
# range.  A viewer that hangs up with a key and a button held: both are
# released.  On a German layout, '@' typed as Shift+2 arrives as AltGr+Q
# (Shift lifted around it), '€' as AltGr+E, 'A' as Shift+A.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
C=$KMS2V4L_BUILD/tests/vm/v4l2vnc-client

ip link set lo up || fail "ip link set lo up"
modprobe uinput || skip "no uinput module"
modprobe evdev || skip "no evdev module"
dev=$(vivid_node) || fail "no vivid capture node"

pid= epid=
cleanup() { kill $pid $epid 2>/dev/null || true; }
trap cleanup EXIT

# vnc_start ARGS...: v4l2vnc with input on 127.0.0.1:5901 ($pid);
# vnc_stop: SIGTERM, and it must exit 0.
vnc_start() {
	"$V" --device "$dev" --format XR24 --size 640x480 --input --port 5901 "$@" &
	pid=$!
	wait_listen '127\.0\.0\.1:5901 ' "$pid"
}
vnc_stop() {
	kill -TERM "$pid"
	wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
	pid=
}

vnc_start

# evread_start N: read the next N events of v4l2vnc's uinput device into
# /tmp/ev.txt in the background ($epid), once the device is there.
evread_start() {
	"$C" evread "v4l2vnc pointer+keyboard" "$1" 30 >/tmp/ev.txt &
	epid=$!
	for _ in $(seq 50); do
		grep -q ready /tmp/ev.txt && break
		sleep 0.2
	done
	grep -q ready /tmp/ev.txt || fail "uinput device not found"
}

evread_start 16
"$C" input 127.0.0.1:5901 100 200 || fail "VNC client could not send input"
wait "$epid" || { cat /tmp/ev.txt; fail "fewer than 16 input events arrived"; }
epid=
cat >/tmp/want.txt <<EOT
ready
EV_ABS ABS_X 5128
EV_ABS ABS_Y 13681
EV_KEY BTN_LEFT 1
EV_KEY BTN_LEFT 0
EV_KEY KEY_A 1
EV_KEY KEY_A 0
EV_KEY KEY_LEFTSHIFT 1
EV_KEY KEY_A 1
EV_KEY KEY_A 0
EV_KEY KEY_LEFTSHIFT 0
EV_KEY KEY_LEFTSHIFT 1
EV_KEY KEY_4 1
EV_KEY KEY_4 0
EV_KEY KEY_LEFTSHIFT 0
EV_KEY KEY_ENTER 1
EV_KEY KEY_ENTER 0
EOT
diff -u /tmp/want.txt /tmp/ev.txt || fail "wrong input events"
info "pointer, button and keys arrived as evdev events"

# events N SPEC...: the first N events while a viewer sends SPEC and hangs up.
events() {
	local n=$1
	shift
	evread_start "$n"
	"$C" keys 127.0.0.1:5901 "$@" || fail "VNC client could not send $*"
	wait "$epid" || { cat /tmp/ev.txt; fail "fewer than $n input events for $*"; }
	epid=
}
# 'a' and the left button down, then the viewer is gone.
events 6 +61 b1
cat >/tmp/want.txt <<EOT
ready
EV_KEY KEY_A 1
EV_ABS ABS_X 513
EV_ABS ABS_Y 684
EV_KEY BTN_LEFT 1
EV_KEY KEY_A 0
EV_KEY BTN_LEFT 0
EOT
diff -u /tmp/want.txt /tmp/ev.txt || fail "keys held at disconnect not released"
info "a viewer hanging up with 'a' and the left button down: both released"
vnc_stop

vnc_start --xkb-layout de
# Shift_L, '@', Shift_L up; EuroSign; Shift_L, 'A'.
events 16 +ffe1 +40 -40 -ffe1 +20ac -20ac +ffe1 +41 -41 -ffe1
cat >/tmp/want.txt <<EOT
ready
EV_KEY KEY_LEFTSHIFT 1
EV_KEY KEY_LEFTSHIFT 0
EV_KEY KEY_RIGHTALT 1
EV_KEY KEY_Q 1
EV_KEY KEY_LEFTSHIFT 1
EV_KEY KEY_RIGHTALT 0
EV_KEY KEY_Q 0
EV_KEY KEY_LEFTSHIFT 0
EV_KEY KEY_RIGHTALT 1
EV_KEY KEY_E 1
EV_KEY KEY_RIGHTALT 0
EV_KEY KEY_E 0
EV_KEY KEY_LEFTSHIFT 1
EV_KEY KEY_A 1
EV_KEY KEY_A 0
EV_KEY KEY_LEFTSHIFT 0
EOT
diff -u /tmp/want.txt /tmp/ev.txt || fail "de: '@', '€', 'A' arrived wrong"
info "de layout: '@' as AltGr+Q, '€' as AltGr+E, 'A' as Shift+A"
vnc_stop
info "PASS: pointer, button and keys arrived as evdev events; released at disconnect; de levels"
