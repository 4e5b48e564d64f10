#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# unit.abi: libkms2v4l's ABI against the stored baseline
# (tests/unit/fixtures/libkms2v4l.abi, made with abidw): an incompatible
# change (a removed or changed function, a changed struct) fails; additions
# are reported.  Exported symbols must be exactly the baseline's version
# nodes (KMS2V4L_1 since libkms2v4l.so.1; no internals such as
# kms2v4l_slots_*).
#   tests/unit/abi-check.sh BUILD_DIR [--update]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?BUILD_DIR}
lib=$build/userspace/lib/libkms2v4l.so
base=$src/tests/unit/fixtures/libkms2v4l.abi
# Opaque types (private state behind a handle) are left out of the diff.
supp=$src/tests/unit/fixtures/libkms2v4l.abignore
hdr=$src/userspace/lib/include
command -v abidiff >/dev/null || { echo "abi: SKIP: no abidiff (package abigail-tools)"; exit 77; }
[ -f "$lib" ] || { echo "abi: no $lib (build first)"; exit 1; }
if [ "${2:-}" = --update ]; then
	abidw --headers-dir "$hdr" --no-corpus-path "$lib" >"$base"
	echo "abi: baseline written to $base"
	exit 0
fi
bad=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | grep -v '^kms2v4l_' || true)
inner=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | grep '^kms2v4l_slots' || true)
[ -z "$bad$inner" ] || { echo "abi: FAIL: exported beyond the API: $bad $inner"; exit 1; }
now=$(mktemp)
trap 'rm -f "$now"' EXIT
abidw --headers-dir "$hdr" --no-corpus-path "$lib" >"$now"
set +e
abidiff --suppressions "$supp" "$base" "$now"
rc=$?
set -e
# abidiff's exit status is a bit field: 4 = ABI changes (a struct's
# layout, a changed or added function), 8 = incompatible ones (removed
# symbols).  Any change fails: an intended, compatible one (a new function
# in a new version node) updates the baseline with --update in the same
# commit, where a reviewer sees it.
if [ $rc -ne 0 ]; then
	echo "abi: FAIL: ABI differs from $base (abidiff status $rc)"
	exit 1
fi
echo "abi: libkms2v4l matches its baseline ($(grep -c '<elf-symbol name=' "$base") symbols)"
