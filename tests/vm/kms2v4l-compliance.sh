#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# v4l2-compliance (-s streaming with every memory type, -f every format)
# on the kms2v4l node of vkms: 0 failures and 0 warnings. vkms shows a
# 160x120@20 scene, which the guest composes at full rate even on a busy
# host, so no frame is dropped (compliance warns about sequence gaps,
# which is what a dropped frame is). On a heavily loaded host the guest
# can still miss a vblank: a run whose only complaints are sequence gaps
# is repeated, at most twice, and the test passes only on a clean run.
# DMABUF import uses vivid as the exporter.
. "$(dirname "$0")/lib.sh"

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
vivid=$(vivid_node) || fail "no vivid node"
scene_start --mode 160x120@20 gradient

check() {
	local out total try complaints
	for try in 1 2 3; do
		out=$(v4l2-compliance -d "$dev" "$@" 2>&1) || true
		total=$(grep -E "^Total for kms2v4l device $dev:" <<<"$out") ||
			fail "v4l2-compliance $* printed no total: $out"
		info "v4l2-compliance $*: $total"
		grep -qE 'Failed: 0, Warnings: 0$' <<<"$total" && return 0
		complaints=$(grep -oE '(fail|warn): .*' <<<"$out")
		grep -E 'fail|warn' <<<"$out" | head -20
		if [ "$try" -lt 3 ] && grep -qE 'Failed: 0,' <<<"$total" &&
			! grep -qvE 'got sequence number [0-9]+, expected [0-9]+$' <<<"$complaints"; then
			info "only sequence gaps (frames dropped under host load): run $((try + 1)) of 3"
			continue
		fi
		break
	done
	fail "v4l2-compliance $* on $dev: $total"
}
check -s -e "$vivid"
check -f
scene_stop
info "PASS"
