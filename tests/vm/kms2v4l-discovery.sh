#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Which node shows which output: kms2v4l's read-only controls drm_crtc_id
# and drm_connectors, and libkms2v4l's kms2v4l_find() on top of them.
# The node of vkms's CRTC is found by its connector's name ("Virtual-1",
# any case) and as card0-crtc0; it reports the CRTC's KMS id (as libdrm
# sees it) and the mode's size and rate while a scene is up, follows
# fbdev's mode when the scene's client exits; with the CRTC off, the
# connector list is empty and no mode is reported. The udev helper
# kms2v4l-id names the node card0-crtc0 and card0-Virtual-1, its damage
# node the same with "-damage" and no systemd unit; the real udevd with
# 70-kms2v4l.rules makes those /dev/kms2v4l links (group video, 0660).
. "$(dirname "$0")/lib.sh"
F=$KMS2V4L_BUILD/tests/vm/libkms2v4l-find

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
read -r _ crtc_id < <("$TOOLS/kms-wb-check" ids) || fail "kms-wb-check ids"

field() { sed -n "s/^$1 //p" /tmp/find.out; }
expect() { # KEY VALUE
	[ "$(field "$1")" = "$2" ] || fail "$1 is '$(field "$1")', expected '$2': $(tr '\n' ' ' </tmp/find.out)"
}

ID=$KMS2V4L_BUILD/userspace/udev/kms2v4l-id
meta=$(video_by_name '^vkms card0 CRTC 0 damage$') || fail "no damage node of vkms"
"$ID" "$dev" >/tmp/id.out || fail "kms2v4l-id $dev"
grep -qx "KMS2V4L_LINKS=kms2v4l/card0-crtc0 kms2v4l/card0-Virtual-1" /tmp/id.out &&
	grep -qx "KMS2V4L_LINK0=kms2v4l/card0-crtc0" /tmp/id.out &&
	grep -qx "KMS2V4L_LINK1=kms2v4l/card0-Virtual-1" /tmp/id.out &&
	! grep -q "KMS2V4L_LINK2=" /tmp/id.out &&
	grep -qx "KMS2V4L_UNITS=/dev/kms2v4l/card0/crtc0 /dev/kms2v4l/card0/Virtual/1" /tmp/id.out ||
	fail "kms2v4l-id $dev: $(tr '\n' ' ' </tmp/id.out)"
"$ID" "$meta" >/tmp/id.out || fail "kms2v4l-id $meta"
grep -qx "KMS2V4L_LINKS=kms2v4l/card0-crtc0-damage kms2v4l/card0-Virtual-1-damage" /tmp/id.out &&
	grep -qx "KMS2V4L_UNITS=" /tmp/id.out ||
	fail "kms2v4l-id $meta: $(tr '\n' ' ' </tmp/id.out)"
info "kms2v4l-id: $dev card0-crtc0 and card0-Virtual-1, $meta the same with -damage"

# The installed rule, as udev runs it (kms2v4l-id from the build: a rule
# names its program relative to /lib/udev).
mkdir -p /run/udev/rules.d
sed "s|kms2v4l-id \$devnode|$ID \$devnode|" "$KMS2V4L_SRC/userspace/udev/70-kms2v4l.rules" \
	>/run/udev/rules.d/70-kms2v4l.rules
grep -q "$ID" /run/udev/rules.d/70-kms2v4l.rules || fail "the rule has no kms2v4l-id \$devnode"
udev_start
for l in card0-crtc0:"$dev" card0-Virtual-1:"$dev" card0-crtc0-damage:"$meta" \
	card0-Virtual-1-damage:"$meta"; do
	[ "$(readlink -f "/dev/kms2v4l/${l%%:*}")" = "${l#*:}" ] ||
		fail "/dev/kms2v4l/${l%%:*} is not a link to ${l#*:}: $(ls -lR /dev/kms2v4l 2>&1)"
done
[ "$(find /dev/kms2v4l -mindepth 1 | wc -l)" = 4 ] ||
	fail "/dev/kms2v4l holds more than the 4 links: $(ls -lR /dev/kms2v4l)"
for n in "$dev" "$meta"; do
	[ "$(stat -c '%G %a' "$n")" = "video 660" ] || fail "$n is $(stat -c '%G %a' "$n"), not video 660"
done
udevadm info -q property "$dev" | grep -qx "SYSTEMD_ALIAS=/dev/kms2v4l/card0/crtc0 /dev/kms2v4l/card0/Virtual/1" ||
	fail "SYSTEMD_ALIAS of $dev: $(udevadm info -q property "$dev" | grep -i alias)"
udevadm control --exit
info "udev: /dev/kms2v4l/card0-{crtc0,Virtual-1}[-damage], group video, 0660"

scene_start --mode 640x480@60 gradient
v4l2-ctl -d "$dev" -C drm_crtc_id,drm_connectors || fail "reading the controls"
[ "$(v4l2-ctl -d "$dev" -C drm_connectors)" = "drm_connectors: 'Virtual-1'" ] ||
	fail "drm_connectors is not Virtual-1"
for what in Virtual-1 virtual-1 card0-crtc0 "$dev"; do
	"$F" "$what" >/tmp/find.out || fail "kms2v4l_find '$what'"
	expect path "$dev"
	expect driver kms2v4l
	expect card 0
	expect crtc 0
	expect crtc_id "$crtc_id"
	expect connectors Virtual-1
done
mode=$(field mode)
case $mode in 640x480@599[0-9][0-9] | 640x480@600[0-9][0-9]) ;; *) fail "mode '$mode', expected 640x480@~60000" ;; esac
info "found by Virtual-1, card0-crtc0 and $dev: CRTC id $crtc_id, $mode mHz"
scene_stop

# kms-scene gone, fbdev lights the CRTC again at its 1024x768 mode.
"$F" Virtual-1 >/tmp/find.out || fail "kms2v4l_find Virtual-1 after the scene"
expect path "$dev"
case $(field mode) in 1024x768@*) ;; *) fail "mode '$(field mode)' after fbdev took over, expected 1024x768" ;; esac
info "fbdev's mode followed: $(field mode)"

scene_start off
"$F" "$dev" >/tmp/find.out || fail "kms2v4l_find $dev"
expect connectors ""
expect mode "0x0@0"
expect crtc_id "$crtc_id"
"$F" Virtual-1 >/tmp/find.out && fail "Virtual-1 still found with the CRTC off"
info "with the CRTC off: no connectors, no mode"
scene_stop

scene_start --mode 320x240@30 solid:102030
"$F" VIRTUAL-1 >/tmp/find.out || fail "kms2v4l_find VIRTUAL-1 after relighting"
case $(field mode) in 320x240@299[0-9][0-9] | 320x240@300[0-9][0-9]) ;; *) fail "mode '$(field mode)', expected 320x240@~30000" ;; esac
scene_stop
info "PASS"
