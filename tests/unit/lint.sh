#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# unit.lint: userspace/ sources against userspace/.clang-format
# (clang-format --dry-run --Werror) and userspace/.clang-tidy (clang-tidy
# with the build's compile_commands.json); fails on any finding.
#   tests/unit/lint.sh [BUILD_DIR]      (default $KMS2V4L_BUILD, else build/)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${KMS2V4L_BUILD:-$src/build}}
cd "$src"

for t in clang-format clang-tidy; do
	command -v "$t" >/dev/null || { echo "lint: $t missing (scripts/deps installs it)"; exit 1; }
done
[ -f "$build/compile_commands.json" ] ||
	{ echo "lint: no $build/compile_commands.json (configure with CMake first)"; exit 1; }

mapfile -t files < <(git ls-files --cached --others --exclude-standard \
	'userspace/*.c' 'userspace/*.cpp' 'userspace/*.h' | sort)
[ ${#files[@]} -gt 0 ] || { echo "lint: no userspace sources found"; exit 1; }
rc=0

fmt=("${files[@]}")
if ! clang-format --dry-run --Werror "${fmt[@]}"; then
	echo "lint: clang-format: run 'clang-format -i' on the files above"
	rc=1
fi

# clang-tidy on the translation units the build compiles (headers are
# checked through them, HeaderFilterRegex).
mapfile -t tus < <(printf '%s\n' "${files[@]}" | grep -E '\.(c|cpp)$' |
	while read -r f; do grep -q "\"file\": \"$src/$f\"" "$build/compile_commands.json" && echo "$f"; done)
[ ${#tus[@]} -gt 0 ] || { echo "lint: none of the sources is in compile_commands.json"; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# (one process per CPU, a few units each: clang-tidy is the unit tier's
# longest step; their reports may interleave, by whole lines)
if ! printf '%s\0' "${tus[@]}" |
	xargs -0 -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet >"$log" 2>&1; then
	grep -E 'warning:|error:' -A3 "$log" || cat "$log"
	echo "lint: clang-tidy found the above"
	rc=1
fi
[ $rc = 0 ] && echo "lint: ${#fmt[@]} files formatted, ${#tus[@]} translation units clean"
exit $rc
