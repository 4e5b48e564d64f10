#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Timing truth: kms-scene page-flips between two colours at every vblank
# and logs each flip's vblank sequence (from the KMS flip event). Every
# captured frame, placed at vblank (sequence base control + buffer
# sequence), shows the colour of the last flip completed at or before
# that vblank: never content from before a flip it claims to follow.
# Timestamps increase by whole frame periods.
. "$(dirname "$0")/lib.sh"

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
W=320 H=240 HZ=30 N=90

"$TOOLS/kms-scene" --mode ${W}x${H}@$HZ --hold 2 --flips 120 --log /tmp/flips.log \
	>/tmp/scene.out 2>&1 &
scene=$!
sleep 1
v4l2-ctl -d "$dev" -v pixelformat=XR24 --stream-mmap=4 --stream-count=$N \
	--stream-to=/tmp/frames.raw --verbose >/tmp/cap.log 2>&1 || fail "capture: $(tail -5 /tmp/cap.log)"
wait $scene || fail "kms-scene: $(cat /tmp/scene.out)"
base=$(v4l2-ctl -d "$dev" -C sequence_base_vblank | sed -n 's/.*: *//p')
[ -n "$base" ] || fail "no sequence base control"

mapfile -t seqs < <(sed -n 's/.*seq: *\([0-9]*\).*/\1/p' /tmp/cap.log)
mapfile -t stamps < <(sed -n 's/.* ts: *\([0-9.]*\).*/\1/p' /tmp/cap.log)
[ ${#seqs[@]} = $N ] || fail "got ${#seqs[@]} frames, expected $N"
[ "${seqs[0]}" = 0 ] || fail "first sequence is ${seqs[0]}, expected 0"
checked=0
for i in $(seq 0 $((N - 1))); do
	vbl=$((base + seqs[i]))
	if [ "$i" -gt 0 ]; then
		[ "${seqs[i]}" -gt "${seqs[i - 1]}" ] || fail "sequence ${seqs[i]} after ${seqs[i - 1]}"
		# timestamp delta / frame period must equal the sequence delta
		awk -v a="${stamps[i - 1]}" -v b="${stamps[i]}" -v d=$((seqs[i] - seqs[i - 1])) -v hz=$HZ \
			'BEGIN { p = (b - a) * hz; exit !(p > d - 0.05 && p < d + 0.05) }' ||
			fail "frame $i: timestamps ${stamps[i - 1]} -> ${stamps[i]} for $((seqs[i] - seqs[i - 1])) vblanks"
	fi
	want=$(awk -v v=$vbl '$1 <= v { c = $2 } END { print c }' /tmp/flips.log)
	[ -n "$want" ] || continue
	got=$(dd if=/tmp/frames.raw bs=4 skip=$((i * W * H)) count=1 2>/dev/null | od -An -tx1 |
		awk '{ printf "%s%s%s", $3, $2, $1 }')
	[ "$got" = "$want" ] || fail "frame $i (vblank $vbl) shows $got, the last flip before it shows $want"
	checked=$((checked + 1))
done
[ $checked -ge 10 ] || fail "only $checked frames fell after the first flip"
info "PASS: $checked frames match their flips; sequence base $base"
