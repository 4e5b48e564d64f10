#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The VM runner's kernel-complaint scanner finds each kind of complaint,
# names the line, and leaves clean logs and program output alone.
set -u
here=$(cd "$(dirname "$0")" && pwd)
scan="$here/../../scripts/vm/scan-kernel-log"
fx="$here/fixtures"
failures=0

expect() { # expect RC [ARGS...] -- EXPECTED_LINE_PREFIX
	local want=$1 prefix out rc
	shift
	prefix=${!#}
	set -- "${@:1:$#-1}"
	out=$("$scan" "$@")
	rc=$?
	if [ "$rc" != "$want" ] || [ "${out:0:${#prefix}}" != "$prefix" ]; then
		echo "FAIL: scan-kernel-log $* -> rc=$rc out='$out' (want rc=$want, '$prefix')"
		failures=$((failures + 1))
	else
		echo "ok: scan-kernel-log $* -> rc=$rc ${out:+($out)}"
	fi
}

expect 0 "$fx/dmesg-clean.log" ""
expect 1 "$fx/dmesg-warning.log" "3:"
expect 1 "$fx/dmesg-listdel.log" "2:"
expect 1 "$fx/dmesg-refcount.log" "1:"
expect 0 --console "$fx/console-gst.log" ""
expect 1 "$fx/console-gst.log" "2:"
expect 1 --console "$fx/console-oops.log" "2:"
expect 2 "$fx/does-not-exist.log" ""
# The debug kernel's checkers (scripts/debug-kernel).
expect 1 "$fx/dmesg-lockdep-circular.log" "4:"
expect 1 "$fx/dmesg-rcu.log" "4:"
expect 1 "$fx/dmesg-sleep.log" "3:"
expect 1 "$fx/dmesg-kasan.log" "2:"
expect 1 "$fx/dmesg-odebug.log" "1:"
expect 1 "$fx/kmemleak-leak.log" "1:"
expect 0 "$fx/kmemleak-empty.log" ""
# Its boot announcements are not complaints, but only word for word.
expect 0 "$fx/dmesg-debug-boot.log" ""
expect 0 --console "$fx/dmesg-debug-boot.log" ""
expect 1 "$fx/dmesg-rcu-lockdep-not-exact.log" "1:"
exit $((failures > 0))
