#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A compositor follows a configfs connector's hot-plug, and the capture
# node follows the compositor: weston (DRM backend, through udev) drives
# both heads of a two-head configfs device, and each node shows weston's
# background;
# 1. status 2 (disconnected) on head 1's connector: weston turns head 1
#    off, so its node raises SOURCE_CHANGE and says "no signal", while
#    head 0 keeps showing weston's desktop;
# 2. status 1 (connected) again: weston lights head 1 once more, so its
#    node raises SOURCE_CHANGE, has a signal, and its frames show
#    weston's background again (not fbdev's console: weston stays DRM
#    master throughout).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/configfs-lib.sh"

for p in weston /lib/systemd/systemd-udevd udevadm; do
	command -v "$p" >/dev/null || skip "$p is not installed (scripts/deps)"
done
scale=${K2V_TIME_SCALE:-1}
W=640 H=480
BG=336699 # weston's background (RGB), as XR24 bytes: 99 66 33

wpid=
on_fail() {
	echo "--- weston log (tail)"
	tail -40 /tmp/weston.log 2>/dev/null
}
cleanup() {
	[ -z "$wpid" ] || { kill -TERM "$wpid" 2>/dev/null && wait "$wpid" 2>/dev/null; } || true
	udevadm control --exit 2>/dev/null || true
	[ -e "$V/hp/enabled" ] && disable hp 2>/dev/null
	remove hp 2>/dev/null || true
}
trap cleanup EXIT

mkdir "$V/hp"
add_head hp 0
add_head hp 1
enable hp || fail "enabling a two-head configfs device"
card=$(card_of hp) || fail "the configfs device has no DRM card"
mapfile -t nodes < <(nodes_of hp)
[ ${#nodes[@]} = 2 ] || fail "capture nodes of the two heads: ${nodes[*]}"
# connector names in creation order (DRM 6.1 numbers them across devices)
mapfile -t conns < <(ls /sys/class/drm | sed -n "s/^${card##*/}-//p" | sort -t- -k2 -n)
[ ${#conns[@]} = 2 ] || fail "connectors of ${card##*/}: ${conns[*]}"
info "heads ${conns[*]} of ${card##*/} on ${nodes[*]}"

# udev: weston finds the card (seat tags) and its hotplug events through it.
udev_start

export XDG_RUNTIME_DIR=/run/hp-xdg
rm -rf "$XDG_RUNTIME_DIR"
mkdir -m 0700 "$XDG_RUNTIME_DIR"
cat >"$XDG_RUNTIME_DIR/weston.ini" <<EOF
[core]
idle-time=0
require-input=false

[shell]
background-color=0xff$BG
panel-position=top
locking=false
animation=none
startup-animation=none

$(for c in "${conns[@]}"; do printf '[output]\nname=%s\nmode=%dx%d\n\n' "$c" $W $H; done)
EOF
weston --tty=2 --backend=drm-backend.so --drm-device="${card##*/}" --use-pixman \
	--idle-time=0 --socket=wayland-hp --config="$XDG_RUNTIME_DIR/weston.ini" \
	--log=/tmp/weston.log >/dev/null 2>&1 &
wpid=$!

signal() { # NODE: on or off
	v4l2-ctl -d "$1" --get-input 2>/dev/null | grep -q 'no signal' && echo off || echo on
}
# pixel NODE: the RGB of a pixel below weston's panel, in the middle of
# the third frame of a stream (empty if the node gives no frame).
pixel() {
	local f=/tmp/hp-frame.raw
	rm -f $f
	v4l2-ctl -d "$1" -v "width=$W,height=$H,pixelformat=XR24" --stream-mmap=3 \
		--stream-count=1 --stream-skip=2 --stream-to=$f >/dev/null 2>&1 || return 0
	od -An -tx1 -j $(((H * 3 / 4 * W + W / 2) * 4)) -N3 $f | awk '{ print $3 $2 $1 }'
}
# shows_background NODE CONNECTOR TIMEOUT: wait (TIMEOUT s, scaled) until
# NODE has a signal and shows weston's background.
shows_background() {
	local end=$((SECONDS + $3 * scale)) px=
	while [ $SECONDS -le $end ]; do
		kill -0 "$wpid" 2>/dev/null || fail "weston exited"
		if [ "$(signal "$1")" = on ]; then
			px=$(pixel "$1")
			[ "$px" = $BG ] && return 0
		fi
		sleep 1
	done
	fail "$1 ($2) does not show weston's background after $3 s (signal $(signal "$1"), pixel '$px')"
}

shows_background "${nodes[0]}" "${conns[0]}" 120
shows_background "${nodes[1]}" "${conns[1]}" 60
info "weston drives both heads; each node shows its background"

conn_sysfs=/sys/class/drm/${card##*/}-${conns[1]}
for state in 2:off:disconnected 1:on:connected; do
	IFS=: read -r value want drm_status <<<"$state"
	v4l2-ctl -d "${nodes[1]}" --wait-for-event=source_change=0 >/tmp/event.log 2>&1 &
	ev=$!
	sleep 0.5
	echo "$value" >"$V/hp/connectors/k1/status" || fail "writing status $value"
	# DRM's connector status follows at the probe the hotplug event starts
	end=$((SECONDS + 10 * scale))
	while [ "$(cat "$conn_sysfs/status")" != "$drm_status" ] && [ $SECONDS -le $end ]; do sleep 0.1; done
	st=$(cat "$conn_sysfs/status")
	[ "$st" = "$drm_status" ] || fail "${conns[1]} is $st $((10 * scale)) s after status $value"
	end=$((SECONDS + 30 * scale))
	while kill -0 $ev 2>/dev/null && [ $SECONDS -le $end ]; do sleep 0.1; done
	if kill -0 $ev 2>/dev/null; then
		kill $ev
		fail "no SOURCE_CHANGE on ${nodes[1]} within $((30 * scale)) s of status $value"
	fi
	wait $ev || fail "waiting for SOURCE_CHANGE: $(cat /tmp/event.log)"
	if [ "$want" = off ]; then
		end=$((SECONDS + 10 * scale))
		while [ "$(signal "${nodes[1]}")" = on ] && [ $SECONDS -le $end ]; do sleep 0.2; done
		[ "$(signal "${nodes[1]}")" = off ] ||
			fail "${nodes[1]} still has a signal after ${conns[1]} was unplugged"
		grep -q enabled "$conn_sysfs/enabled" &&
			fail "weston still drives ${conns[1]} after its unplug"
		# head 0 is not disturbed
		shows_background "${nodes[0]}" "${conns[0]}" 20
	else
		shows_background "${nodes[1]}" "${conns[1]}" 60
	fi
	kill -0 "$wpid" 2>/dev/null || fail "weston exited after status $value"
	info "status $value: ${conns[1]} $drm_status, SOURCE_CHANGE, signal $want"
done
grep -qi "${conns[1]}" /tmp/weston.log || fail "weston's log never names ${conns[1]}"
info "PASS"
