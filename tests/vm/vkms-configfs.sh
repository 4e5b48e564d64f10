#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vkms devices built through configfs, upstream's ABI (Linux 6.19,
# Documentation/ABI/testing/configfs-vkms) on Debian's 6.1:
# 1. devices of 1, 3 and 4 CRTCs with various planes have, as libdrm
#    reports them, exactly the objects and possible_crtcs configured, and
#    a capture node per CRTC saying which card and CRTC it shows;
# 2. every invalid description is refused with upstream's error, and so
#    is every change while enabled (EBUSY), but a connector's status;
# 3. two CRTCs of one device and the CRTC of another show three scenes
#    at once: each node captures its own byte for byte, and page flips on
#    all three heads land on each node at its own CRTC's flip vblank;
# 4. unplugging a connector (status) turns its CRTC's node to "no
#    signal" with SOURCE_CHANGE (fbdev turns the CRTC off), plugging it
#    back lights it again;
# 5. 100 enable/disable cycles, with a capture node and the card held
#    open across disable: afterwards no node, card or module reference
#    is left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/configfs-lib.sh"

# must_fail ERROR CMD...: CMD fails and says ERROR (strerror text).
must_fail() {
	local want=$1 out
	shift
	if out=$("$@" 2>&1); then
		fail "'$*' succeeded; expected: $want"
	fi
	grep -q "$want" <<<"$out" || fail "'$*': '$out'; expected: $want"
}
EINVAL="Invalid argument"
EBUSY="Device or resource busy"

base_videos=$(ls /sys/class/video4linux | wc -l)
base_cards=$(ls -d /sys/class/drm/card[0-9]* | wc -l)
base_refs=$(awk '$1 == "vkms" { print $3 }' /proc/modules)

info "1. objects as configured"
mkdir $V/one
add_head one 0
enable one
# 3 CRTCs: an overlay usable on all, cursors on two, writeback on the last
mkdir $V/tri
for i in 0 1 2; do add_head tri $i; done
plane tri o0 0 c0 c1 c2
plane tri cur0 2 c0
plane tri cur2 2 c2
echo 1 >$V/tri/crtcs/c2/writeback
enable tri
# 4 CRTCs, one encoder able to drive two of them, a connector with two
# encoders, a disconnected connector
mkdir $V/quad
for i in 0 1 2 3; do add_head quad $i; done
plane quad o01 0 c0 c1
plane quad o3 0 c3
link quad/crtcs/c1 quad/encoders/e0/possible_crtcs/c1
link quad/encoders/e1 quad/connectors/k0/possible_encoders/e1
echo 2 >$V/quad/connectors/k3/status
echo 1 >$V/quad/crtcs/c0/writeback
enable quad

expect_one="crtcs 1
plane 0 primary 0x1
encoder 0 0x1
connector Virtual 1 0x1"
expect_tri="crtcs 3
plane 0 primary 0x1
plane 1 primary 0x2
plane 2 primary 0x4
plane 3 overlay 0x7
plane 4 cursor 0x1
plane 5 cursor 0x4
encoder 0 0x1
encoder 1 0x2
encoder 2 0x4
encoder 3 0x4
connector Virtual 1 0x1
connector Virtual 1 0x2
connector Virtual 1 0x4
connector Writeback 1 0x8"
expect_quad="crtcs 4
plane 0 primary 0x1
plane 1 primary 0x2
plane 2 primary 0x4
plane 3 primary 0x8
plane 4 overlay 0x3
plane 5 overlay 0x8
encoder 0 0x3
encoder 1 0x2
encoder 2 0x4
encoder 3 0x8
encoder 4 0x1
connector Virtual 1 0x3
connector Virtual 1 0x2
connector Virtual 1 0x4
connector Virtual 2 0x8
connector Writeback 1 0x10"
for d in one tri quad; do
	card=$(card_of $d) || fail "no DRM card for device $d"
	got=$("$TOOLS/kms-heads" --card "$card" --list)
	want=expect_$d
	[ "$got" = "${!want}" ] || fail "device $d ($card) has
$got
expected
${!want}"
	mapfile -t nodes < <(nodes_of $d)
	ncrtc=$(sed -n 's/^crtcs //p' <<<"$got")
	[ ${#nodes[@]} = "$ncrtc" ] || fail "device $d: ${#nodes[@]} capture nodes for $ncrtc CRTCs"
	for i in "${!nodes[@]}"; do
		bus=$(v4l2-ctl -d "${nodes[i]}" --info | sed -n 's/.*Bus info *: //p')
		[ "$bus" = "platform:vkms-${card##*/}-crtc$i" ] || fail "${nodes[i]}: bus info '$bus'"
	done
	info "$d: $card, $ncrtc CRTCs, nodes ${nodes[*]}"
done

info "2. invalid descriptions and changes while enabled"
must_fail "$EINVAL" mkdir $V/vkms
mkdir $V/bad
must_fail "$EINVAL" enable bad                      # nothing at all
add_head bad 0
echo 0 >$V/bad/planes/p0/type
must_fail "$EINVAL" enable bad                      # CRTC without primary
echo 1 >$V/bad/planes/p0/type
plane bad p9 1 c0
must_fail "$EINVAL" enable bad                      # two primaries
rm $V/bad/planes/p9/possible_crtcs/c0
must_fail "$EINVAL" enable bad                      # plane without CRTC
rmdir $V/bad/planes/p9
plane bad cur0 2 c0
plane bad cur1 2 c0
must_fail "$EINVAL" enable bad                      # two cursors
rm $V/bad/planes/cur1/possible_crtcs/c0
rmdir $V/bad/planes/cur1
mkdir $V/bad/encoders/e9
must_fail "$EINVAL" enable bad                      # encoder without CRTC
rmdir $V/bad/encoders/e9
mkdir $V/bad/crtcs/c9
plane bad p9 1 c9
must_fail "$EINVAL" enable bad                      # CRTC without encoder
link bad/crtcs/c9 bad/encoders/e0/possible_crtcs/c9
rm $V/bad/planes/p9/possible_crtcs/c9
link bad/crtcs/c9 bad/planes/p0/possible_crtcs/c9
must_fail "$EINVAL" enable bad                      # primary on two CRTCs
rm $V/bad/planes/p0/possible_crtcs/c9
link bad/crtcs/c9 bad/planes/p9/possible_crtcs/c9
mkdir $V/bad/connectors/k9
must_fail "$EINVAL" enable bad                      # connector without encoder
rmdir $V/bad/connectors/k9
for v in 3 -1 x; do must_fail "$EINVAL" bash -c "echo $v >$V/bad/planes/p0/type"; done
for v in 0 4 x; do must_fail "$EINVAL" bash -c "echo $v >$V/bad/connectors/k0/status"; done
must_fail "$EINVAL" bash -c "echo x >$V/bad/crtcs/c0/writeback"
must_fail "$EINVAL" ln -s $V/bad/encoders/e0 $V/bad/planes/p0/possible_crtcs/e0
must_fail "$EINVAL" ln -s $V/one/crtcs/c0 $V/bad/planes/p0/possible_crtcs/other
must_fail "$EINVAL" ln -s $V/one/encoders/e0 $V/bad/connectors/k0/possible_encoders/other
must_fail "$EBUSY" rmdir $V/bad/crtcs/c0            # the target of links
enable bad
[ "$(cat $V/bad/enabled)" = 1 ] || fail "bad/enabled reads $(cat $V/bad/enabled)"
for g in planes crtcs encoders connectors; do must_fail "$EBUSY" mkdir $V/bad/$g/new; done
must_fail "$EBUSY" bash -c "echo 0 >$V/bad/planes/p0/type"
must_fail "$EBUSY" bash -c "echo 1 >$V/bad/crtcs/c0/writeback"
must_fail "$EBUSY" link bad/crtcs/c9 bad/planes/cur0/possible_crtcs/c9
must_fail "$EBUSY" link bad/crtcs/c0 bad/encoders/e0/possible_crtcs/again
echo 2 >$V/bad/connectors/k0/status || fail "status while enabled"
[ "$(cat $V/bad/connectors/k0/status)" = 2 ] || fail "status reads $(cat $V/bad/connectors/k0/status)"
remove bad
[ -z "$(card_of bad)" ] || fail "device bad still has a card after removal"
remove one
remove quad
info "all refused as upstream refuses them"

info "3. three scenes on two devices at once"
mkdir $V/two $V/solo
add_head two 0
add_head two 1
add_head solo 0
enable two
enable solo
card2=$(card_of two) && cards=$(card_of solo) || fail "no cards for two and solo"
mapfile -t n2 < <(nodes_of two)
ns=$(nodes_of solo)
nodes=("${n2[@]}" "$ns")
[ ${#nodes[@]} = 3 ] || fail "capture nodes: ${nodes[*]}"
exec {H2}> >(exec "$TOOLS/kms-heads" --card "$card2" --expect /tmp/exp2 gradient solid:2060a0 >/tmp/heads2.out 2>&1)
exec {HS}> >(exec "$TOOLS/kms-heads" --card "$cards" --expect /tmp/exps solid:c03010 >/tmp/headss.out 2>&1)
for _ in $(seq 100); do
	grep -q '^kms-heads: ' /tmp/heads2.out && grep -q '^kms-heads: ' /tmp/headss.out && break
	sleep 0.1
done
grep -q '^kms-heads: ' /tmp/heads2.out && grep -q '^kms-heads: ' /tmp/headss.out ||
	fail "kms-heads: $(cat /tmp/heads2.out /tmp/headss.out)"
expected=(/tmp/exp2.0 /tmp/exp2.1 /tmp/exps.0)
for i in 0 1 2; do
	v4l2-ctl -d "${nodes[i]}" -v pixelformat=XR24 --stream-mmap=3 --stream-count=1 \
		--stream-skip=2 --stream-to=/tmp/head$i.raw >/dev/null 2>&1 &
	pids[i]=$!
done
for i in 0 1 2; do wait "${pids[i]}" || fail "capture from ${nodes[i]}"; done
for i in 0 1 2; do
	cmp -s /tmp/head$i.raw "${expected[i]}" ||
		fail "${nodes[i]} does not show its head's scene: $(cmp /tmp/head$i.raw "${expected[i]}" 2>&1 | head -1)"
done
info "each of ${nodes[*]} shows its own CRTC, byte for byte"
# libkms2v4l (through v4l2vnc --device) finds a head by card and connector
conn=$(v4l2-ctl -d "${nodes[1]}" -C drm_connectors | sed -n 's/.*: *//p' | tr -d "'")
[ -n "$conn" ] || fail "${nodes[1]} names no connector while lit"
vnc_bin=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
"$vnc_bin" --device "${card2##*/}:$conn" --port 5977 >/tmp/vnc-find.log 2>&1 &
vnc=$!
for _ in $(seq 100); do grep -q "^.*output " /tmp/vnc-find.log && break; sleep 0.1; done
kill $vnc 2>/dev/null || true
wait $vnc 2>/dev/null || true
grep -q "output ${card2##*/}:$conn is ${nodes[1]}\$" /tmp/vnc-find.log ||
	fail "v4l2vnc --device ${card2##*/}:$conn: $(cat /tmp/vnc-find.log)"
info "${card2##*/}:$conn is ${nodes[1]} for libkms2v4l"
exec {H2}>&- {HS}>&-
sleep 1

W=320 H=240 HZ=30 N=60
"$TOOLS/kms-heads" --card "$card2" --hold 2 --flips 150 --log /tmp/fl2 gradient gradient \
	>/tmp/flip2.out 2>&1 &
f2=$!
"$TOOLS/kms-heads" --card "$cards" --hold 2 --flips 150 --log /tmp/fls gradient \
	>/tmp/flips.out 2>&1 &
fs=$!
sleep 1
for i in 0 1 2; do
	v4l2-ctl -d "${nodes[i]}" -v pixelformat=XR24 --stream-mmap=4 --stream-count=$N \
		--stream-to=/tmp/fr$i.raw --verbose >/tmp/cap$i.log 2>&1 &
	pids[i]=$!
done
for i in 0 1 2; do wait "${pids[i]}" || fail "capture from ${nodes[i]}: $(tail -3 /tmp/cap$i.log)"; done
wait $f2 || fail "kms-heads flips on two: $(cat /tmp/flip2.out)"
wait $fs || fail "kms-heads flips on solo: $(cat /tmp/flips.out)"
logs=(/tmp/fl2.0 /tmp/fl2.1 /tmp/fls.0)
for i in 0 1 2; do
	base=$(v4l2-ctl -d "${nodes[i]}" -C sequence_base_vblank | sed -n 's/.*: *//p')
	checked=$(check_flips /tmp/cap$i.log /tmp/fr$i.raw "${logs[i]}" $W $H $HZ $N "$base")
	info "${nodes[i]}: $checked frames match its CRTC's flips (sequence base $base)"
done

info "4. hot-unplug and replug"
# fbdev drives the heads now; it follows hotplug as a compositor does.
node=${nodes[1]}
signal() { v4l2-ctl -d "$node" --get-input 2>/dev/null | grep -q 'no signal' && echo off || echo on; }
for _ in $(seq 50); do [ "$(signal)" = on ] && break; sleep 0.1; done
[ "$(signal)" = on ] || fail "$node has no signal before the unplug"
for state in 2:off 1:on; do
	v4l2-ctl -d "$node" --wait-for-event=source_change=0 >/tmp/event.log 2>&1 &
	ev=$!
	sleep 0.5
	echo "${state%:*}" >$V/two/connectors/k1/status
	for _ in $(seq 100); do kill -0 $ev 2>/dev/null || break; sleep 0.1; done
	if kill -0 $ev 2>/dev/null; then
		kill $ev
		fail "no SOURCE_CHANGE on $node after status ${state%:*}"
	fi
	wait $ev || fail "waiting for SOURCE_CHANGE: $(cat /tmp/event.log)"
	for _ in $(seq 50); do [ "$(signal)" = "${state#*:}" ] && break; sleep 0.1; done
	[ "$(signal)" = "${state#*:}" ] || fail "$node: signal $(signal) after status ${state%:*}"
	info "status ${state%:*}: SOURCE_CHANGE, signal ${state#*:}"
done
remove two
remove solo
remove tri

info "5. 100 enable/disable cycles with clients holding the device"
mkdir $V/cyc
add_head cyc 0
add_head cyc 1
for r in $(seq 100); do
	enable cyc
	card=$(card_of cyc) || fail "cycle $r: no card"
	node=$(nodes_of cyc | head -1)
	[ -n "$node" ] || fail "cycle $r: no capture node"
	exec {VF}<"$node" {DF}<>"$card"
	disable cyc
	exec {VF}<&- {DF}<&-
	[ $((r % 25)) != 0 ] || info "cycle $r"
done
remove cyc
for _ in $(seq 50); do
	[ "$(ls /sys/class/video4linux | wc -l)" = "$base_videos" ] &&
		[ "$(ls -d /sys/class/drm/card[0-9]* | wc -l)" = "$base_cards" ] && break
	sleep 0.1
done
[ "$(ls /sys/class/video4linux | wc -l)" = "$base_videos" ] || fail "video nodes left: $(ls /sys/class/video4linux)"
[ "$(ls -d /sys/class/drm/card[0-9]* | wc -l)" = "$base_cards" ] || fail "cards left: $(ls /sys/class/drm)"
refs=$(awk '$1 == "vkms" { print $3 }' /proc/modules)
[ "$refs" = "$base_refs" ] || fail "vkms has $refs references, $base_refs before"
info "PASS"
