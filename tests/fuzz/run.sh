#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/fuzz/run.sh BUILD_DIR [SECONDS]: builds the libFuzzer targets with
# clang (ASan + UBSan) into BUILD_DIR/fuzz and runs each for SECONDS
# (default 20) from its corpus in tests/fuzz/corpus/NAME (read only: new
# inputs go to a scratch folder).  Any crash, sanitizer report or broken
# promise (abort) fails.  SKIP (77) without clang++ or libFuzzer.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?BUILD_DIR}
secs=${2:-20}
out=$build/fuzz
command -v clang++ >/dev/null || { echo "fuzz: SKIP: no clang++ (package clang)"; exit 77; }
mkdir -p "$out"
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char *, unsigned long) { return 0; }' \
	>"$out/probe.cpp"
clang++ -fsanitize=fuzzer "$out/probe.cpp" -o "$out/probe" 2>/dev/null ||
	{ echo "fuzz: SKIP: clang++ has no libFuzzer (package libclang-rt-14-dev)"; exit 77; }
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-I"$src/userspace/v4l2vnc")
v=$src/userspace/v4l2vnc
clang++ "${flags[@]}" "$src/tests/fuzz/gate-fuzz.cpp" "$v/rfb_gate.cpp" -o "$out/gate-fuzz"
clang++ "${flags[@]}" $(pkg-config --cflags libmicrohttpd) "$src/tests/fuzz/path-fuzz.cpp" \
	"$v/web_server.cpp" "$v/net.cpp" $(pkg-config --libs libmicrohttpd) -o "$out/path-fuzz"
rc=0
for t in gate path; do
	scratch=$(mktemp -d)
	echo "fuzz: $t-fuzz for ${secs}s from tests/fuzz/corpus/$t"
	if ! (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./$t-fuzz" -max_total_time="$secs" \
		-max_len=4200 -print_final_stats=1 "$scratch" "$src/tests/fuzz/corpus/$t" \
		2>"$out/$t.log"); then
		tail -40 "$out/$t.log"
		echo "fuzz: $t-fuzz FAILED (crash input in $out)"
		rc=1
	else
		grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$out/$t.log" | tail -2
	fi
	rm -rf "$scratch"
done
exit $rc
