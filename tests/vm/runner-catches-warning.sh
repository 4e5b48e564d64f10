#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Host side: a kernel WARNING in the guest fails the VM run with status
# 125 and names the line, even though the guest command itself succeeds;
# a clean run passes; a run over its time limit is killed with 124.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
run="$src/scripts/vm-run"
fail() { echo "runner-catches-warning: FAIL: $*" >&2; exit 1; }

out=$("$run" -q --no-modules --name selftest-warn -- \
	sh -c 'echo "<4>WARNING: CPU: 0 PID: 1 at kms2v4l-selftest" >/dev/kmsg; true' 2>&1)
rc=$?
[ "$rc" = 125 ] || fail "a WARNING gave status $rc, expected 125 ($out)"
grep -q 'kms2v4l-selftest' <<<"$out" || fail "the report does not name the line: $out"

"$run" -q --no-modules --name selftest-clean -- true || fail "a clean run failed"

"$run" -q --no-modules --name selftest-status -- sh -c 'exit 3'
rc=$?
[ "$rc" = 3 ] || fail "the guest command's status 3 came back as $rc"

"$run" -q --no-modules --timeout 20 --name selftest-timeout -- sleep 600
rc=$?
[ "$rc" = 124 ] || fail "an overrun gave status $rc, expected 124"
pgrep -f "selftest-timeout" >/dev/null && fail "QEMU left behind after the timeout"
echo "runner-catches-warning: PASS"
