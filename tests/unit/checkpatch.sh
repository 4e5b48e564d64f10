#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# checkpatch.pl --strict (from Debian's linux-source-6.1) is clean on the
# kms2v4l sources (with the uapi header and the test-only driver) and on every patch of the vkms series, apart from the
# messages listed with a reason in checkpatch-allow.txt.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$src/scripts/lib/common.sh"
cp=$(ls "$KMS2V4L_CACHE"/linux-source/*/scripts/checkpatch.pl 2>/dev/null | head -n1)
[ -n "$cp" ] || { echo "checkpatch: FAIL: no checkpatch.pl in $KMS2V4L_CACHE (run scripts/build-modules)"; exit 1; }
allow=$(grep -vE '^(#|$)' "$here/checkpatch-allow.txt" | paste -sd'|')
failures=0

report() { # report NAME OUTPUT
	local bad
	bad=$(grep -E '^[^ ]*:[0-9]+: (ERROR|WARNING|CHECK):' <<<"$2" | grep -vE "$allow" || true)
	if [ -n "$bad" ]; then
		echo "checkpatch: FAIL: $1"
		echo "$bad"
		failures=$((failures + 1))
	else
		echo "checkpatch: ok: $1"
	fi
}

cd "$src"
for f in drivers/media/platform/kms2v4l/*.[ch] drivers/media/platform/kms2v4l/Kconfig \
	include/media/kms2v4l.h include/uapi/linux/kms2v4l.h tests/kmod/*.c; do
	report "$f" "$(perl "$cp" --strict --no-tree --terse --show-types -f "$f" 2>&1)"
done
for d in vkms tiny virtio; do
	while read -r p _; do
		case "$p" in ''|'#'*) continue ;; esac
		# from stdin, so that checkpatch reads it as a patch, not as a file
		report "$p" "$(cd /tmp && perl "$cp" --strict --no-tree --terse - <"$src/drivers/gpu/drm/$d/$p" 2>&1)"
	done <"drivers/gpu/drm/$d/series"
done
exit $((failures > 0))
