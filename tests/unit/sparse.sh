#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sparse (make C=2, the checker media and DRM maintainers run) on every
# kernel module we build: kms2v4l and the test-only driver must give no
# warning at all; our vkms, bochs, cirrus and virtio-gpu no warning that
# Debian's pristine sources of the same drivers do not give as well (6.1's
# vkms_formats.c has some of its own). A warning is compared by its file,
# the text of its source line and its message, not its line number, which
# our patches move.
#
# Checks the modules as scripts/build-modules staged and built them in
# $KMS2V4L_BUILD/ktree (the CMake target 'modules'); C=2 checks every
# source without recompiling it (with the same W=1 as the build). The
# pristine drivers are built into a temporary folder.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$src/scripts/lib/common.sh"

command -v sparse >/dev/null || { echo "sparse: FAIL: sparse is not installed (run scripts/deps)"; exit 1; }
HDR=$(kernel_headers "$(kernel_abi)")
KT=$KMS2V4L_BUILD/ktree
[ -f "$KT/drivers/media/platform/kms2v4l/kms2v4l.ko" ] ||
	{ echo "sparse: FAIL: no modules in $KT (build the CMake target 'modules')"; exit 1; }
SRCVER=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null)
PRISTINE=$KMS2V4L_CACHE/linux-source/$SRCVER
[ -f "$PRISTINE/.complete-3" ] || { echo "sparse: FAIL: no pristine drivers in $PRISTINE (run scripts/build-modules)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# check DIR OUT MAKEARGS...: sparse's warnings on module folder DIR, one a
# line as "FILE|SOURCE LINE|MESSAGE", sorted, into OUT
check() {
	local dir=$1 out=$2 log
	shift 2
	log=$tmp/log
	if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j"$(nproc)" -C "$HDR" M="$dir" W=1 C=2 \
		CHECK=sparse "$@" modules >"$log" 2>&1; then
		echo "sparse: FAIL: building $dir:"
		cat "$log"
		failures=$((failures + 1))
	fi
	grep -E '^/[^ :]+:[0-9]+:[0-9]+: ' "$log" | while IFS=: read -r f l _ msg; do
		printf '%s|%s|%s\n' "${f##*/}" "$(sed -n "${l}p" "$f" | tr -s ' \t' ' ')" "$msg"
	done | LC_ALL=C sort >"$out"
}

# compare NAME OURS PRISTINE: the warnings of OURS that PRISTINE lacks
compare() {
	local new
	new=$(LC_ALL=C comm -23 "$2" "$3")
	if [ -n "$new" ]; then
		echo "sparse: FAIL: $1:"
		echo "$new"
		failures=$((failures + 1))
	elif [ -s "$2" ]; then
		echo "sparse: ok: $1: $(wc -l <"$2") warning lines, each also in Debian's pristine source"
	else
		echo "sparse: ok: $1: no warning"
	fi
}

K2V=$KT/drivers/media/platform/kms2v4l
: >"$tmp/none"
check "$K2V" "$tmp/k2v" KCFLAGS="-I$KT/include"
compare kms2v4l "$tmp/k2v" "$tmp/none"
if [ -d "$KT/tests/kmod" ]; then
	check "$KT/tests/kmod" "$tmp/kmod" KCFLAGS="-I$KT/include" KBUILD_EXTRA_SYMBOLS="$K2V/Module.symvers"
	compare "k2vtest (tests/kmod)" "$tmp/kmod" "$tmp/none"
fi

# the patched drivers, each beside its pristine self, staged the way
# scripts/build-modules stages them (virtio-gpu's trace header includes
# itself as ../../drivers/gpu/drm/virtio from include/trace)
P=$tmp/pristine
PD=$P/drivers/gpu/drm
mkdir -p "$PD/vkms" "$PD/tiny" "$PD/virtio" "$P/include/trace"
cp -p "$PRISTINE"/drivers/gpu/drm/vkms/* "$PD/vkms/"
cp -p "$PRISTINE"/drivers/gpu/drm/tiny/bochs.c "$PRISTINE"/drivers/gpu/drm/tiny/cirrus.c "$PD/tiny/"
cp "$KT/drivers/gpu/drm/tiny/Makefile" "$PD/tiny/"
cp -p "$PRISTINE"/drivers/gpu/drm/virtio/* "$PD/virtio/"

check "$KT/drivers/gpu/drm/vkms" "$tmp/vkms.ours" CONFIG_DRM_VKMS=m CONFIG_DRM_VKMS_CAPTURE=y \
	KCFLAGS="-I$KT/include -DCONFIG_DRM_VKMS_CAPTURE=1" KBUILD_EXTRA_SYMBOLS="$K2V/Module.symvers"
check "$PD/vkms" "$tmp/vkms.pristine" CONFIG_DRM_VKMS=m
compare vkms "$tmp/vkms.ours" "$tmp/vkms.pristine"
if [ -f "$KT/drivers/gpu/drm/tiny/bochs.ko" ]; then
	check "$KT/drivers/gpu/drm/tiny" "$tmp/tiny.ours" KCFLAGS="-I$KT/include" \
		KBUILD_EXTRA_SYMBOLS="$K2V/Module.symvers"
	check "$PD/tiny" "$tmp/tiny.pristine"
	compare "bochs and cirrus" "$tmp/tiny.ours" "$tmp/tiny.pristine"
	check "$KT/drivers/gpu/drm/virtio" "$tmp/virtio.ours" CONFIG_DRM_VIRTIO_GPU=m \
		KCFLAGS="-I$KT/include -I$KT/include/trace" KBUILD_EXTRA_SYMBOLS="$K2V/Module.symvers"
	check "$PD/virtio" "$tmp/virtio.pristine" CONFIG_DRM_VIRTIO_GPU=m \
		KCFLAGS="-I$P/include/trace"
	compare virtio-gpu "$tmp/virtio.ours" "$tmp/virtio.pristine"
fi
exit $((failures > 0))
