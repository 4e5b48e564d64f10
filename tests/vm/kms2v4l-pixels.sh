#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Known scenes on vkms (solid colour, gradient, an ARGB overlay plane with
# alpha, the cursor) captured from the kms2v4l node equal, byte for byte,
# the frame vkms's composer must produce (computed by kms-scene with the
# same arithmetic), in XR24 and AR24; RGB565 captures have the right
# size and colours of the solid scene.
. "$(dirname "$0")/lib.sh"

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
W=320 H=240

capture() { capture_frame "$dev" "$@"; } # capture FOURCC FILE

for scene in solid:336699 gradient overlay cursor; do
	scene_start --mode ${W}x${H}@30 --expect /tmp/expect.raw "$scene"
	for fourcc in XR24 AR24; do
		capture "$fourcc" /tmp/got.raw
		[ "$(stat -c %s /tmp/got.raw)" = $((W * H * 4)) ] ||
			fail "$scene $fourcc: $(stat -c %s /tmp/got.raw) bytes, expected $((W * H * 4))"
		if ! cmp /tmp/expect.raw /tmp/got.raw >/tmp/cmp.txt; then
			fail "$scene $fourcc differs from the expected composition: $(head -c 200 /tmp/cmp.txt); $(cmp -l /tmp/expect.raw /tmp/got.raw | wc -l) bytes differ"
		fi
		info "$scene $fourcc: $((W * H)) pixels equal the expected composition"
	done
	scene_stop
done

# RGB565 of solid 0x336699: r=0x33>>3... as vkms rounds: 6, 25, 19.
scene_start --mode ${W}x${H}@30 solid:336699
capture RGBP /tmp/got565.raw
[ "$(stat -c %s /tmp/got565.raw)" = $((W * H * 2)) ] || fail "RGB565 frame size"
want=$(printf '%04x' $(((6 << 11) | (25 << 5) | 19)))
got=$(od -An -v -tx2 /tmp/got565.raw | tr -s ' ' '\n' | sed '/^$/d' | sort -u)
[ "$got" = "$want" ] || fail "RGB565 pixels are '$got', expected only $want"
scene_stop
info "PASS"
