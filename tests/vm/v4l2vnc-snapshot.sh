#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# v4l2vnc serves vivid: what two simultaneous VNC clients receive equals,
# pixel for pixel, a frame captured from the node before (vivid's OSD text
# is switched off so that its picture is static; the reference is checked
# to be static).  Done for XR24 (copied), RGBP and YUYV (converted; the
# client converts the reference with its own code).  A client
# sending garbage is dropped and the daemon goes on serving.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
C=$KMS2V4L_BUILD/tests/vm/v4l2vnc-client
W=640 H=480

ip link set lo up || fail "ip link set lo up"
dev=$(vivid_node) || fail "no vivid capture node"
v4l2-ctl -d "$dev" -c osd_text_mode=2 -c horizontal_movement=3 -c vertical_movement=3 ||
	fail "vivid controls"

pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT

check_format() { # FOURCC BYTES_PER_PIXEL
	local fcc=$1 bpp=$2 stride size
	v4l2-ctl -d "$dev" -v width=$W,height=$H,pixelformat="$fcc" || fail "S_FMT $fcc"
	stride=$(v4l2-ctl -d "$dev" -V | sed -n 's/.*Bytes per Line *: *//p')
	[ "$stride" -ge $((W * bpp)) ] || fail "$fcc: stride '$stride'"
	size=$((stride * H))
	v4l2-ctl -d "$dev" --stream-mmap --stream-count=3 --stream-to=/tmp/ref3.raw ||
		fail "capturing reference frames"
	head -c "$size" /tmp/ref3.raw >/tmp/ref.raw
	tail -c "$size" /tmp/ref3.raw | cmp -s - /tmp/ref.raw ||
		fail "$fcc: vivid's picture is not static; cannot compare"

	"$V" --device "$dev" --format "$fcc" --size ${W}x$H --port 5901 &
	pid=$!
	wait_listen '127\.0\.0\.1:5901 ' "$pid"
	# Two clients at once.
	"$C" snapshot 127.0.0.1:5901 /tmp/a.raw >/tmp/a.out &
	local ca=$!
	"$C" snapshot 127.0.0.1:5901 /tmp/b.raw >/tmp/b.out || fail "$fcc: second client"
	wait "$ca" || fail "$fcc: first client"
	[ "$(cat /tmp/a.out)" = "${W}x$H" ] || fail "$fcc: client saw $(cat /tmp/a.out)"
	"$C" cmp /tmp/a.raw /tmp/ref.raw "$fcc" $W $H "$stride" || fail "$fcc: client 1 differs"
	"$C" cmp /tmp/b.raw /tmp/ref.raw "$fcc" $W $H "$stride" || fail "$fcc: client 2 differs"
	info "$fcc: two clients got the captured frame"
}

check_format XR24 4

# Garbage: the client is dropped, the daemon keeps serving.
"$C" garbage 127.0.0.1:5901 || fail "garbage client not dropped"
kill -0 "$pid" || fail "v4l2vnc died after a garbage client"
"$C" snapshot 127.0.0.1:5901 /tmp/c.raw >/dev/null || fail "no service after a garbage client"
"$C" cmp /tmp/c.raw /tmp/ref.raw XR24 $W $H "$(v4l2-ctl -d "$dev" -V | sed -n 's/.*Bytes per Line *: *//p')" ||
	fail "frame after the garbage client differs"
info "garbage client dropped, service goes on"
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=

for f in RGBP YUYV; do
	check_format $f 2
	kill -TERM "$pid"
	wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
	pid=
done
modprobe -r vivid || fail "modprobe -r vivid"
info "PASS"
