// SPDX-License-Identifier: MIT
/*
 * kms-wb-loop - read frames through vkms's writeback connector the way a
 * user of today's vkms must: one atomic commit per frame.
 *
 *   kms-wb-loop [--mode WxH@HZ] [--frames N] [--seconds S] [--check-every K]
 *
 * Lights the CRTC with the writeback connector alone (vkms 6.1 refuses
 * it beside the virtual connector) and a gradient on the primary plane,
 * then, per frame, commits a writeback job into one of two buffers and
 * waits up to 1 s for its out-fence. Every K-th frame (default 100) is
 * compared with the gradient pixel for pixel. Stops after N frames or S
 * seconds. Prints "frames F unsignalled U mismatched M seconds T".
 * Exits 0 only if every fence signalled and every check matched.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "kmsutil.h"

#define C DRM_MODE_OBJECT_CONNECTOR
#define R DRM_MODE_OBJECT_CRTC

static void die(const char *what, int err)
{
	fprintf(stderr, "kms-wb-loop: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint32_t w = 640, h = 480, hz = 60, frames = 0, every = 100, seconds = 0;
	uint32_t wb, crtc, primary, blob, unsignalled = 0, mismatched = 0, done = 0;
	struct kms_dumb src, out[2];
	drmModeAtomicReq *req;
	drmModeResPtr res;
	double start;
	int fd, ret, opt;

	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "frames", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "check-every", required_argument, NULL, 'k' },
		{ 0 }
	};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (sscanf(optarg, "%ux%u@%u", &w, &h, &hz) != 3)
				die("--mode WxH@HZ", EINVAL);
			break;
		case 'n': frames = atoi(optarg); break;
		case 's': seconds = atoi(optarg); break;
		case 'k': every = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: kms-wb-loop [--mode WxH@HZ] [--frames N] [--seconds S] [--check-every K]\n");
			return 2;
		}
	}
	if (!frames && !seconds)
		frames = 1000;

	fd = kms_open("vkms");
	if (fd < 0)
		die("no vkms card", fd);
	if (drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1) ||
	    drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) ||
	    drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1))
		die("client caps", errno);
	if (!drmIsMaster(fd) && drmSetMaster(fd))
		die("DRM master (another KMS client is running?)", errno);
	ret = kms_find_connector(fd, DRM_MODE_CONNECTOR_WRITEBACK, &wb);
	if (ret)
		die("writeback connector", ret);
	res = drmModeGetResources(fd);
	if (!res || !res->count_crtcs)
		die("no CRTC", ENOENT);
	crtc = res->crtcs[0];
	ret = 0;
	/* every other connector off this CRTC */
	req = drmModeAtomicAlloc();
	for (int i = 0; i < res->count_connectors; i++)
		if (res->connectors[i] != wb)
			ret = ret ?: kms_req_add(fd, req, res->connectors[i], C, "CRTC_ID", 0);
	drmModeFreeResources(res);
	ret = ret ?: kms_find_plane(fd, 0, DRM_PLANE_TYPE_PRIMARY, &primary);
	if (ret)
		die("primary plane", ret);

	ret = kms_dumb_create(fd, w, h, DRM_FORMAT_XRGB8888, &src);
	for (int i = 0; !ret && i < 2; i++)
		ret = kms_dumb_create(fd, w, h, DRM_FORMAT_XRGB8888, &out[i]);
	if (ret)
		die("buffers", ret);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			((uint32_t *)((char *)src.map + y * src.pitch))[x] =
				0xff000000u | (x * 255 / (w - 1)) << 16 | (y * 255 / (h - 1)) << 8 | 0x40;

	ret = kms_mode_blob(fd, w, h, hz, &blob);
	if (ret)
		die("mode blob", ret);

	ret = kms_req_add(fd, req, wb, C, "CRTC_ID", crtc);
	ret = ret ?: kms_req_add(fd, req, crtc, R, "MODE_ID", blob);
	ret = ret ?: kms_req_add(fd, req, crtc, R, "ACTIVE", 1);
	ret = ret ?: kms_req_add_plane(fd, req, primary, crtc, &src, 0, 0);
	if (ret)
		die("modeset properties", ret);
	if (drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL))
		die("modeset with the writeback connector", errno);
	drmModeAtomicFree(req);

	start = now();
	while ((!frames || done < frames) && (!seconds || now() - start < seconds)) {
		struct kms_dumb *o = &out[done & 1];
		int fence = -1;

		req = drmModeAtomicAlloc();
		ret = kms_req_add(fd, req, wb, C, "WRITEBACK_FB_ID", o->fb_id);
		ret = ret ?: kms_req_add(fd, req, wb, C, "WRITEBACK_OUT_FENCE_PTR",
					 (uint64_t)(uintptr_t)&fence);
		if (ret)
			die("writeback properties", ret);
		if (drmModeAtomicCommit(fd, req, 0, NULL))
			die("writeback commit", errno);
		drmModeAtomicFree(req);
		if (fence < 0)
			die("no out-fence", EINVAL);
		if (kms_fence_wait(fence, 1000)) {
			if (unsignalled++ < 5)
				fprintf(stderr, "kms-wb-loop: frame %u: out-fence not signalled after 1 s\n", done);
		} else if (every && done % every == 0) {
			for (uint32_t y = 0; y < h; y++) {
				if (memcmp((char *)o->map + y * o->pitch, (char *)src.map + y * src.pitch, w * 4)) {
					if (mismatched++ < 5)
						fprintf(stderr, "kms-wb-loop: frame %u differs at line %u\n", done, y);
					break;
				}
			}
		}
		close(fence);
		done++;
	}
	printf("frames %u unsignalled %u mismatched %u seconds %.3f\n", done, unsignalled,
	       mismatched, now() - start);
	return unsignalled || mismatched ? 1 : 0;
}
