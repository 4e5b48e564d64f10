#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The driver contract is not vkms-shaped: k2vtest (tests/kmod), a
# minimal DRM driver without vblank support that joins kms2v4l through
# the public API alone, offering XRGB8888 and YUYV and ending frames
# from a hard-interrupt hrtimer, gives a node that lists both formats,
# delivers its test pattern byte-exact in each, counts sequence numbers
# itself (consecutive, from 0) with rising timestamps, follows the
# CRTC's mode, and passes v4l2-compliance with 0 failures, 0 warnings.
. "$(dirname "$0")/lib.sh"

modload k2vtest || fail "modload k2vtest"
dev=$(video_by_name '^k2vtest card[0-9]+ CRTC 0$') || fail "no kms2v4l node for k2vtest"
v4l2-ctl -d "$dev" --list-formats | grep -q "'XR24'" || fail "XR24 not listed"
v4l2-ctl -d "$dev" --list-formats | grep -q "'YUYV'" || fail "YUYV not listed"

# The pattern k2vtest writes (see tests/kmod/k2vtest.c), frame N of a stream.
expect() { # FOURCC W H
	python3 - "$@" <<'PY'
import sys
f, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = bytearray()
for y in range(h):
    for x in range(w):
        if f == "XR24":
            out += bytes((x & 255, y & 255, (x + y) & 255, 255))
        else:
            out += bytes(((x + 2 * y) & 255, (y if x % 2 else x // 2) & 255))
sys.stdout.buffer.write(out)
PY
}

for m in 640x480 320x200; do
	w=${m%x*} h=${m#*x}
	scene_start --driver k2vtest --mode "$m@60" solid:000000
	for f in XR24 YUYV; do
		v4l2-ctl -d "$dev" --set-fmt-video=pixelformat=$f --stream-mmap \
			--stream-count=3 --stream-to=/tmp/cap.raw >/dev/null 2>&1 ||
			fail "capture $f at $m"
		expect $f "$w" "$h" >/tmp/expect.raw
		size=$(stat -c %s /tmp/expect.raw)
		[ "$(stat -c %s /tmp/cap.raw)" = $((3 * size)) ] ||
			fail "$f at $m: captured $(stat -c %s /tmp/cap.raw) bytes, not 3 frames of $size"
		tail -c "$size" /tmp/cap.raw | cmp -s - /tmp/expect.raw ||
			fail "$f at $m: the frame is not k2vtest's pattern"
		info "$f at $m: byte-exact"
	done
	scene_stop
done

# Sequence and time from the core: 60 frames, consecutive from 0.
scene_start --driver k2vtest --mode 320x240@60 solid:000000
v4l2-ctl -d "$dev" --set-fmt-video=pixelformat=XR24 --stream-mmap --stream-count=60 \
	--verbose 2>&1 | grep -oE 'seq: *[0-9]+|ts: *[0-9.]+' >/tmp/seq.txt || true
python3 - /tmp/seq.txt <<'PY' || fail "sequence numbers or timestamps wrong"
import sys
toks = open(sys.argv[1]).read().split("\n")
seq = [int(t.split(":")[1]) for t in toks if t.startswith("seq")]
ts = [float(t.split(":")[1]) for t in toks if t.startswith("ts")]
assert len(seq) == 60 and len(ts) == 60, (len(seq), len(ts))
assert seq[0] == 0, seq[:3]
assert all(b > a for a, b in zip(seq, seq[1:])), seq
assert all(b > a for a, b in zip(ts, ts[1:])), ts
gaps = sum(b - a - 1 for a, b in zip(seq, seq[1:]))
print(f"60 frames, sequence {seq[0]}..{seq[-1]} ({gaps} dropped), "
      f"{(ts[-1] - ts[0]) / 59 * 1000:.1f} ms apart")
PY

compliance_clean "$dev" -s
compliance_clean "$dev" -f
scene_stop
modload -r k2vtest || fail "rmmod k2vtest"
info "PASS"
