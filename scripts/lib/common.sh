# SPDX-License-Identifier: MIT
# Shared helpers for the kms2v4l scripts. Sourced, never run.
#
# Paths (all overridable from the environment):
#   KMS2V4L_SRC    the checkout (default: this file's ../..)
#   KMS2V4L_BUILD  the CMake build folder (default: $KMS2V4L_SRC/build)
#   KMS2V4L_CACHE  downloads and the unpacked Debian kernel
#                  (default: $KMS2V4L_SRC/.cache)
#   KMS2V4L_ABI    the kernel to build for (default: linux-image-amd64's)

KMS2V4L_SRC=${KMS2V4L_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KMS2V4L_BUILD=${KMS2V4L_BUILD:-$KMS2V4L_SRC/build}
KMS2V4L_CACHE=${KMS2V4L_CACHE:-$KMS2V4L_SRC/.cache}

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }
step() { printf '==> %s\n' "$*" >&2; }

# The Debian kernel ABI name (e.g. 6.1.0-56-amd64), from the dependency
# of the linux-image-amd64 metapackage, so a stable update is followed.
# apt-cache keeps its package cache in $KMS2V4L_CACHE/apt (apt checks it
# against the package lists itself): where apt is configured to keep none
# (Debian's container images), it built one in memory at every call, more
# than a second each time, and every VM run asks.
kernel_abi() {
	if [ -n "${KMS2V4L_ABI:-}" ]; then
		echo "$KMS2V4L_ABI"
		return
	fi
	local abi apt=(apt-cache)
	if mkdir -p "$KMS2V4L_CACHE/apt" 2>/dev/null && [ -w "$KMS2V4L_CACHE/apt" ]; then
		apt+=(-o "Dir::Cache::pkgcache=$KMS2V4L_CACHE/apt/pkgcache.bin"
			-o "Dir::Cache::srcpkgcache=$KMS2V4L_CACHE/apt/srcpkgcache.bin")
	fi
	abi=$("${apt[@]}" depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -n1)
	[ -n "$abi" ] || die "cannot resolve the kernel ABI from linux-image-amd64 (run 'apt-get update' as root)"
	echo "$abi"
}

# Where the Debian kernel image for ABI is unpacked.
kernel_root() { echo "$KMS2V4L_CACHE/kernel/$1"; }
# KMS2V4L_KDIR overrides it (DKMS passes its kernel_source_dir).
kernel_headers() { echo "${KMS2V4L_KDIR:-/usr/src/linux-headers-$1}"; }
