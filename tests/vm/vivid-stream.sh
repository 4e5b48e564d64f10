#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's vivid loads from the guest's /lib/modules with a plain modprobe
# and v4l2-ctl streams ten MMAP frames from it: ten whole frames arrive.
. "$(dirname "$0")/lib.sh"

dev=$(vivid_node) || fail "no vivid capture node"
v4l2-ctl -d "$dev" -v width=640,height=480,pixelformat=YUYV || fail "S_FMT on $dev"
size=$(v4l2-ctl -d "$dev" -V | sed -n 's/.*Size Image *: *//p')
[ -n "$size" ] || fail "no sizeimage from $dev"
v4l2-ctl -d "$dev" --stream-mmap --stream-count=10 --stream-to=/tmp/frames.raw ||
	fail "streaming from $dev"
got=$(stat -c %s /tmp/frames.raw)
[ "$got" = $((10 * size)) ] || fail "got $got bytes, expected 10 frames of $size"
# vivid's test pattern is not flat: frames carry real content.
[ "$(head -c "$size" /tmp/frames.raw | od -An -v -tx1 | tr -s ' ' '\n' | sort -u | wc -l)" -gt 8 ] ||
	fail "first frame is flat"
modprobe -r vivid || fail "modprobe -r vivid"
info "PASS: 10 frames of $size bytes from $dev"
