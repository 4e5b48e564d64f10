# SPDX-License-Identifier: MIT
# Helpers for the VM tests that build vkms devices through configfs
# (sourced after lib.sh): mounts configfs, sets V to vkms's folder there.
CFS=/sys/kernel/config
mountpoint -q $CFS || mount -t configfs none $CFS
V=$CFS/vkms
[ -d $V ] || fail "no $V: vkms without its configfs interface"

link() { ln -s "$V/$1" "$V/$2"; }
# add_head DEV I: CRTC cI with primary plane pI, encoder eI and connector kI.
add_head() {
	local d=$V/$1 i=$2
	mkdir "$d/crtcs/c$i" "$d/planes/p$i" "$d/encoders/e$i" "$d/connectors/k$i"
	echo 1 >"$d/planes/p$i/type"
	link "$1/crtcs/c$i" "$1/planes/p$i/possible_crtcs/c$i"
	link "$1/crtcs/c$i" "$1/encoders/e$i/possible_crtcs/c$i"
	link "$1/encoders/e$i" "$1/connectors/k$i/possible_encoders/e$i"
}
# plane DEV NAME TYPE CRTC...
plane() {
	local d=$1 p=$2 t=$3 c
	shift 3
	mkdir "$V/$d/planes/$p"
	echo "$t" >"$V/$d/planes/$p/type"
	for c in "$@"; do link "$d/crtcs/$c" "$d/planes/$p/possible_crtcs/$c"; done
}
enable() { echo 1 >"$V/$1/enabled"; }
disable() { echo 0 >"$V/$1/enabled"; }
# remove DEV: every link, object and the device itself
remove() {
	local d=$V/$1
	[ -d "$d" ] || return 0
	find "$d" -type l -exec rm {} +
	rmdir "$d"/planes/* "$d"/crtcs/* "$d"/encoders/* "$d"/connectors/* 2>/dev/null || true
	rmdir "$d"
}
# nodes_of DEV: the capture nodes of device DEV, in CRTC index order
nodes_of() {
	local v name
	local -a by_crtc=()
	for v in /sys/devices/platform/"$1"/video4linux/video*; do
		[ -e "$v" ] || continue
		read -r name <"$v/name"
		[[ $name =~ ^vkms\ card[0-9]+\ CRTC\ ([0-9]+)$ ]] || continue
		by_crtc[BASH_REMATCH[1]]=/dev/${v##*/}
	done
	[ ${#by_crtc[@]} = 0 ] || printf '%s\n' "${by_crtc[@]}"
}
