#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Browsers use the node as a camera, as they are: headless Chromium and
# Firefox ESR (this machine's, Debian's packages) list it by its name in
# enumerateDevices(), open it with getUserMedia() and draw the CRTC's
# pixels into a canvas (see browser-check.py). Neither needs anything
# beyond a camera permission; what they require of the node is in the
# README ("Browsers"). The two start at once (their start-ups, a minute
# or more each under TCG, overlap) and use the camera one at a time.
. "$(dirname "$0")/lib.sh"

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
label=$(cat "/sys/class/video4linux/${dev#/dev/}/name")
# the browsers' own working files (profiles, caches) in the guest's tmpfs
export TMPDIR=/tmp
# the page is served on 127.0.0.1
ip link set lo up
scene_start --mode 640x480@60 gradient
export BROWSER_CHECK_CAMERA_LOCK=/tmp/browser-check.camera
checks=()
for b in chromium firefox; do
	exe=$b
	[ "$b" = firefox ] && exe=firefox-esr
	if ! command -v "$exe" >/dev/null; then
		info "SKIP $b: $exe is not installed (scripts/deps installs it)"
		continue
	fi
	python3 "$(dirname "$0")/browser-check.py" "$b" 640 480 "$label" {SCENE_FD}>&- &
	checks+=("$!:$b")
done
for c in "${checks[@]}"; do
	wait "${c%%:*}" || fail "${c#*:} did not show the node's frames"
done
scene_stop
[ ${#checks[@]} -gt 0 ] || skip "neither chromium nor firefox-esr is installed"
info "PASS"
