#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A user installs the .debs of scripts/package on Debian 12 and gets the
# desktop over VNC; purging them leaves nothing behind.
#
# In a throwaway writable root (overlayfs: a tmpfs over this machine's
# read-only root, with Debian's unpacked kernel image stacked in as if
# installed): `apt-get install ./*.deb` (offline: every dependency must
# already be installed), DKMS builds kms2v4l.ko and vkms.ko for the
# guest's kernel, `modprobe vkms` gives the capture node, the real
# systemd-udevd applies 70-kms2v4l.rules (/dev/kms2v4l/card0-Virtual-1,
# group video, 0660), and v4l2vnc runs as the installed
# v4l2vnc@card0-Virtual-1.service says: its ExecStart, environment file
# and credential, as an unprivileged user with only the unit's
# supplementary groups, with NOTIFY_SOCKET and WATCHDOG_USEC. (Not under
# systemd: the guest's init is busybox; systemd-analyze checks the unit
# on the host.) A VNC client must get, byte for byte, the frame vkms
# composes. Then purge: no module, DKMS tree, rule or file of ours left.
. "$(dirname "$0")/lib.sh"
PKGS=$KMS2V4L_BUILD/packages
K=$(uname -r)
INSTANCE=card0-Virtual-1
C=$KMS2V4L_BUILD/tests/vm/v4l2vnc-client
R=/tmp/k2v-root

inside() {
	export DEBIAN_FRONTEND=noninteractive
	# man-db's trigger re-indexes every manual page after the install:
	# minutes under TCG, nothing of ours (its postinst skips it then).
	rm -f /var/lib/man-db/auto-update
	local debs=() p
	for p in kms2v4l-dkms kms2v4l-udev libkms2v4l1 v4l2vnc; do
		debs+=("$(ls "$PKGS"/${p}_*.deb)")
	done

	info "apt-get install ${debs[*]##*/}"
	local t0=$SECONDS
	# DKMS's build log, as it grows, and what runs, for a slow guest.
	(
		set +e
		while sleep 10; do
			cp /var/lib/dkms/kms2v4l/*/build/make.log "$K2V_RUN/dkms-make.log" 2>/dev/null
			{ echo "== $((SECONDS - t0)) s"; ps -eo etimes,args --sort=start_time | tail -n 6; } >>"$K2V_RUN/ps.log"
		done
	) &
	pids+=($!)
	apt-get install -y -q --no-install-recommends "${debs[@]}" >"$K2V_RUN/apt.log" 2>&1 ||
		{ cat "$K2V_RUN/apt.log"; cp /var/lib/dkms/kms2v4l/*/build/make.log "$K2V_RUN/" 2>/dev/null; fail "apt-get install failed"; }
	cp /var/lib/dkms/kms2v4l/*/build/make.log "$K2V_RUN/dkms-make.log" 2>/dev/null || true
	grep -E 'kms2v4l|DKMS|dkms|Building|Installing|Setting up' "$K2V_RUN/apt.log" | sed 's/^/  | /'
	info "installed in $((SECONDS - t0)) s"
	dkms status | grep -q "^kms2v4l/[^,]*, $K, x86_64: installed" ||
		fail "dkms status: $(dkms status)"
	local m
	for m in kms2v4l vkms; do
		modinfo -n "$m" | grep -q "^/lib/modules/$K/updates/dkms/$m.ko" ||
			fail "modinfo $m: $(modinfo -n "$m" 2>&1)"
	done
	[ -f /usr/share/doc/kms2v4l-dkms/examples/kms2v4l.modprobe.conf ] || fail "no modprobe.d example"
	[ -d /sys/module/vkms ] && fail "vkms loaded by the install"

	# The real udevd, with the installed rules (udev_start also lets
	# udevadm act in this chroot).
	udev_start
	local params=()
	modinfo -F parm vkms | grep -q '^enable_capture:' && params+=(enable_capture=1)
	info "modprobe vkms ${params[*]}"
	modprobe vkms "${params[@]}" || fail "modprobe vkms"
	udevadm settle -t 60 || fail "udevadm settle"
	local link=/dev/kms2v4l/$INSTANCE node
	[ -L "$link" ] || fail "no $link: $(ls -l /dev/kms2v4l 2>&1)"
	node=$(readlink -f "$link")
	[ "$node" = "$(kms2v4l_node)" ] || fail "$link -> $node, but vkms's node is $(kms2v4l_node)"
	[ -L /dev/kms2v4l/card0-crtc0 ] || fail "no /dev/kms2v4l/card0-crtc0"
	[ "$(stat -c '%G %a' "$node")" = "video 660" ] ||
		fail "$node is $(stat -c '%U:%G %a' "$node"), not group video 0660"
	udevadm info -q property "$node" | grep -qx "SYSTEMD_ALIAS=.*/dev/kms2v4l/card0/Virtual/1.*" ||
		fail "no SYSTEMD_ALIAS for the unit: $(udevadm info -q property "$node")"
	info "$(ls -l "$link" | sed 's/.* \(\/dev\/kms2v4l\)/\1/'), $(stat -c '%G %a' "$node")"

	# v4l2vnc@card0-Virtual-1.service's ExecStart, as systemd would run it.
	local unit=/lib/systemd/system/v4l2vnc@.service
	[ -f "$unit" ] || fail "no $unit"
	local creds=/run/credentials/v4l2vnc@$INSTANCE.service
	mkdir -p "$creds"
	cp /etc/v4l2vnc/password "$creds/password" || fail "no /etc/v4l2vnc/password"
	chown -R nobody "$creds"
	chmod 0500 "$creds"
	chmod 0400 "$creds/password"
	local cmd envf
	cmd=$(sed -n 's/^ExecStart=//p' "$unit")
	cmd=${cmd//%i/$INSTANCE}
	cmd=${cmd//%d/$creds}
	V4L2VNC_OPTS=
	for envf in $(sed -n 's/^EnvironmentFile=-//p' "$unit"); do
		envf=${envf//%i/$INSTANCE}
		# shellcheck disable=SC1090
		[ -f "$envf" ] && . "$envf"
	done
	V4L2VNC_OPTS+=" --port 5909 --verbose"
	cmd=${cmd//\$V4L2VNC_OPTS/$V4L2VNC_OPTS}
	local groups
	groups=$(sed -n 's/^SupplementaryGroups=//p' "$unit" | tr ' ' ,)
	info "ExecStart: $cmd (as nobody, groups $groups)"

	ip link set lo up || fail "ip link set lo up"
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode().replace("\n", " "), flush=True)' /run/notify.sock >/tmp/notify.log 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do [ -S /run/notify.sock ] && break; sleep 0.1; done
	chmod 666 /run/notify.sock

	local e1=/tmp/e1.raw
	sleep 40 | "$TOOLS/kms-scene" --mode 320x240@30 --expect "$e1" gradient >/tmp/scene.out 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do grep -q 'gradient on 320x240' /tmp/scene.out && break; sleep 0.2; done
	grep -q 'gradient on 320x240' /tmp/scene.out || fail "kms-scene: $(cat /tmp/scene.out)"

	# WatchdogSec= of the unit is 30 s; the test asks for pings every 2 s.
	# shellcheck disable=SC2086
	NOTIFY_SOCKET=/run/notify.sock WATCHDOG_USEC=4000000 \
		setpriv --reuid=nobody --regid=nogroup --groups="$groups" --inh-caps=-all \
		$cmd >/tmp/v4l2vnc.log 2>&1 &
	local vnc=$!
	pids+=($vnc)
	wait_listen '127\.0\.0\.1:5909 ' "$vnc" /tmp/v4l2vnc.log
	for _ in $(seq 100); do grep -q 'READY=1' /tmp/notify.log && break; sleep 0.1; done
	grep -q 'READY=1' /tmp/notify.log || fail "no READY=1: $(cat /tmp/notify.log)"
	local pw
	pw=$(head -n1 /etc/v4l2vnc/password)
	V4L2VNC_PASSWORD=wrong "$C" snapshot 127.0.0.1:5909 /tmp/x.raw \
		>/dev/null 2>&1 && fail "a wrong password was accepted"
	V4L2VNC_PASSWORD=$pw "$C" snapshot 127.0.0.1:5909 /tmp/a.raw \
		>/tmp/a.out || fail "VNC snapshot with the generated password"
	[ "$(cat /tmp/a.out)" = 320x240 ] || fail "viewer saw $(cat /tmp/a.out)"
	"$C" cmp /tmp/a.raw "$e1" XR24 320 240 1280 ||
		fail "the viewer's frame differs from vkms's composition"
	info "a VNC client got vkms's frame, byte for byte (320x240)"
	for _ in $(seq 60); do grep -q 'WATCHDOG=1' /tmp/notify.log && break; sleep 0.1; done
	grep -q 'WATCHDOG=1' /tmp/notify.log || fail "no WATCHDOG=1 in 6 s: $(cat /tmp/notify.log)"
	info "sd_notify: $(tr '\n' ' ' </tmp/notify.log)"
	kill -TERM "$vnc"
	wait "$vnc" || { cat /tmp/v4l2vnc.log; fail "v4l2vnc exit status $? after SIGTERM"; }
	cleanup

	# Remove: the modules, the DKMS tree, everything of ours.
	modprobe -r vkms kms2v4l || fail "modprobe -r vkms kms2v4l"
	udevadm settle -t 30 || true
	[ -e "$link" ] && fail "$link still there after unloading vkms"
	info "apt-get purge"
	apt-get purge -y -q kms2v4l-dkms kms2v4l-udev libkms2v4l1 v4l2vnc >"$K2V_RUN/purge.log" 2>&1 ||
		{ cat "$K2V_RUN/purge.log"; fail "apt-get purge failed"; }
	grep -Ei 'kms2v4l|dkms|Removing|Purging' "$K2V_RUN/purge.log" | sed 's/^/  | /'
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'kms2v4l*' libkms2v4l1 v4l2vnc 2>/dev/null |
		grep -v '^un ' && fail "packages still known to dpkg"
	modinfo vkms >/dev/null 2>&1 && fail "vkms still installed: $(modinfo -n vkms)"
	modinfo kms2v4l >/dev/null 2>&1 && fail "kms2v4l still installed: $(modinfo -n kms2v4l)"
	[ -e /var/lib/dkms/kms2v4l ] && fail "/var/lib/dkms/kms2v4l left: $(find /var/lib/dkms/kms2v4l)"
	dkms status | grep -q kms2v4l && fail "dkms status: $(dkms status)"
	return 0
}

if [ "${1:-}" = --inside ]; then
	pids=()
	cleanup() { kill "${pids[@]}" 2>/dev/null || true; pids=(); }
	trap cleanup EXIT
	inside
	exit 0
fi

# The throwaway root.
ls "$PKGS"/kms2v4l-dkms_*.deb >/dev/null 2>&1 || skip "no packages in $PKGS: run scripts/package"
KROOT=$KMS2V4L_CACHE/kernel/$K
[ -d "$KROOT/lib/modules/$K" ] || fail "no unpacked kernel image in $KROOT"
modprobe overlay || fail "modprobe overlay"
mkdir -p /tmp/ov "$R"
mount -t tmpfs -o size=1500m tmpfs /tmp/ov || fail "tmpfs"
mkdir -p /tmp/ov/upper /tmp/ov/work /tmp/ov/mods-upper /tmp/ov/mods-work
mount -t overlay overlay -o "lowerdir=/,upperdir=/tmp/ov/upper,workdir=/tmp/ov/work" "$R" ||
	fail "overlayfs over / failed"
# The kernel's module tree over this machine's /lib/modules/$K (which has
# the headers package's build link), as if linux-image-$K were installed.
mount -t overlay overlay -o "lowerdir=$KROOT/lib/modules/$K:$R/lib/modules/$K,upperdir=/tmp/ov/mods-upper,workdir=/tmp/ov/mods-work" \
	"$R/lib/modules/$K" || fail "overlayfs over /lib/modules/$K failed"
mount -t proc proc "$R/proc"
mount -t sysfs sys "$R/sys"
mount -t devtmpfs dev "$R/dev"
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts devpts "$R/dev/pts"
mount -t tmpfs tmpfs "$R/tmp"
mount -t tmpfs tmpfs "$R/run"
mount --bind "$KMS2V4L_SRC" "$R$KMS2V4L_SRC"
case "$KMS2V4L_CACHE/" in
"$KMS2V4L_SRC"/*) ;;
*) mount --bind "$KMS2V4L_CACHE" "$R$KMS2V4L_CACHE" ;;
esac
# Under TCG, extracting vkms from the 139 MB linux-source tarball takes
# over 5 minutes; dkms-make keeps that extraction in
# /var/cache/kms2v4l-dkms/linux-source/VERSION, made by the same
# scripts/build-modules code that built this checkout's modules. Seeding
# it from there leaves the guest to patch, build and install the modules.
# K2V_COLD=1 skips the seeding (and needs a --timeout of ~900).
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
if [ "${K2V_COLD:-0}" != 1 ]; then
	seed=$KMS2V4L_CACHE/linux-source/$srcver
	[ -f "$seed/.complete" ] || fail "no extracted linux-source $srcver in $seed: build the modules first"
	mkdir -p "$R/var/cache/kms2v4l-dkms/linux-source"
	cp -a "$seed" "$R/var/cache/kms2v4l-dkms/linux-source/"
	info "seeded /var/cache/kms2v4l-dkms with vkms of linux-source-6.1 $srcver"
fi
rc=0
chroot "$R" /usr/bin/env bash -c 'cd "$1" && exec bash "$2" --inside' _ "$PWD" "$(readlink -f "$0")" || rc=$?

# Nothing of ours left in what the install and the purge wrote.
left=$(cd /tmp/ov && find upper mods-upper \( -iname '*kms2v4l*' -o -iname '*vkms*' -o -iname '*v4l2vnc*' \) \
	| head -n 20)
if [ "$rc" = 0 ] && [ -n "$left" ]; then
	fail "files left after the purge: $left"
fi
[ "$rc" = 0 ] || exit "$rc"
info "PASS: installed, DKMS-built, named by udev, served over VNC, purged without a trace"
