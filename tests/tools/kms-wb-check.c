// SPDX-License-Identifier: MIT
/*
 * kms-wb-check - capture what the active CRTC shows through vkms's
 * writeback connector and compare it with the primary plane's pixels.
 *
 *   kms-wb-check [--driver NAME] ids
 *       print "CONNECTOR_ID CRTC_ID" of the virtual output, for modetest
 *   kms-wb-check [--driver NAME] dump FILE WIDTHxHEIGHT
 *       wait for the pattern another client shows, then write the primary
 *       plane's pixels to FILE as XRGB8888: for vkms with X = 0xff (as
 *       composed), for another driver (one kms2v4l mirrors, whose capture
 *       is a copy of the framebuffer) as the framebuffer holds them
 *   kms-wb-check capture WIDTHxHEIGHT
 *       while another client (modetest -d) shows a pattern on the CRTC:
 *       read the primary plane's framebuffer, take over as DRM master,
 *       route the CRTC to the writeback connector alone (vkms 6.1 refuses
 *       it beside the virtual connector), commit one writeback job and
 *       compare the written frame with the pattern, pixel by pixel.
 *
 * NAME is the DRM driver's name (default vkms; the virtual output is the
 * card's first Virtual connector: bochs-drm and virtio_gpu have one too).
 *
 * Exits 0 when the frames match, 1 on a mismatch, 2 on any other error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "kmsutil.h"

#define C DRM_MODE_OBJECT_CONNECTOR
#define P DRM_MODE_OBJECT_PLANE

static int fail(const char *what, int err)
{
	fprintf(stderr, "kms-wb-check: %s: %s\n", what, strerror(-err));
	return 2;
}

/* The CRTC driving @conn_id and its index. */
static int active_crtc(int fd, uint32_t conn_id, uint32_t *crtc_id, unsigned int *pipe)
{
	drmModeResPtr res = drmModeGetResources(fd);
	uint64_t v;
	int ret;

	if (!res)
		return -errno;
	ret = kms_prop_value(fd, conn_id, C, "CRTC_ID", &v);
	if (!ret)
		ret = v ? -ENOENT : -ENOLINK;
	for (int i = 0; v && i < res->count_crtcs; i++) {
		if (res->crtcs[i] == v) {
			*crtc_id = v;
			*pipe = i;
			ret = 0;
			break;
		}
	}
	drmModeFreeResources(res);
	return ret;
}

/* Distinct RGB values on a sparse grid of @buf, at most @max. */
static uint64_t count_colours(const struct kms_dumb *buf, uint32_t *seen, uint64_t max)
{
	uint64_t colours = 0;

	for (uint32_t y = 0; y < buf->height && colours < max; y += 7) {
		const uint32_t *row = (const uint32_t *)((const char *)buf->map + y * buf->pitch);

		for (uint32_t x = 0; x < buf->width && colours < max; x += 3) {
			uint32_t c = row[x] & 0xffffff;
			uint64_t k;

			for (k = 0; k < colours && seen[k] != c; k++)
				;
			if (k == colours)
				seen[colours++] = c;
		}
	}
	return colours;
}

static int capture(int fd, uint32_t width, uint32_t height, const char *dump,
		   uint32_t x_bits)
{
	uint32_t virt, wb, crtc = 0, primary;
	struct kms_dumb src, out;
	drmModeAtomicReqPtr req;
	unsigned int pipe = 0;
	int fence = -1, ret;
	uint64_t fb_id, n_diff = 0, colours = 0;
	uint32_t seen[64];

	ret = drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1);
	if (!ret && !dump)
		ret = drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1);
	if (ret)
		return fail("atomic/writeback client caps", -errno);
	ret = kms_find_output(fd, &virt);
	if (ret)
		return fail("no display connector", ret);
	if (!dump) {
		ret = kms_find_connector(fd, DRM_MODE_CONNECTOR_WRITEBACK, &wb);
		if (ret)
			return fail("no writeback connector (vkms enable_writeback=1?)", ret);
	}

	/*
	 * Wait (up to 20 s) for the other client to show a pattern: fbdev
	 * emulation lights the output with a flat console first. The
	 * pattern must be a pattern, or the comparison proves nothing.
	 */
	for (int tries = 0;; tries++) {
		ret = active_crtc(fd, virt, &crtc, &pipe);
		if (!ret)
			ret = kms_find_plane(fd, pipe, DRM_PLANE_TYPE_PRIMARY, &primary);
		if (!ret)
			ret = kms_prop_value(fd, primary, P, "FB_ID", &fb_id);
		if (!ret && !fb_id)
			ret = -ENOENT;
		if (!ret)
			ret = kms_fb_map(fd, fb_id, &src);
		if (!ret) {
			colours = count_colours(&src, seen, 64);
			if (colours >= 8)
				break;
			kms_dumb_destroy(fd, &src);
			ret = -ENODATA;
		}
		if (tries == 100)
			break;
		usleep(200000);
	}
	if (ret == -ENODATA) {
		fprintf(stderr, "kms-wb-check: the shown frame has only %llu colours\n",
			(unsigned long long)colours);
		return 1;
	}
	if (ret)
		return fail("the virtual output shows no framebuffer", ret);
	if (src.width != width || src.height != height || src.format != DRM_FORMAT_XRGB8888) {
		fprintf(stderr, "kms-wb-check: primary fb is %ux%u %.4s, expected %ux%u XR24\n",
			src.width, src.height, (char *)&src.format, width, height);
		return 2;
	}

	if (dump) {
		FILE *f = fopen(dump, "wb");

		for (uint32_t y = 0; f && y < height; y++) {
			const uint32_t *row = (const uint32_t *)((const char *)src.map + y * src.pitch);

			for (uint32_t x = 0; x < width; x++) {
				uint32_t px = row[x] | x_bits;

				fwrite(&px, 4, 1, f);
			}
		}
		if (!f || fclose(f))
			return fail(dump, -errno);
		return 0;
	}
	if (!drmIsMaster(fd) && drmSetMaster(fd))
		return fail("cannot become DRM master (did the other client drop it?)", -errno);

	ret = kms_dumb_create(fd, width, height, DRM_FORMAT_XRGB8888, &out);
	if (ret)
		return fail("writeback buffer", ret);
	memset(out.map, 0x5a, out.size);

	req = drmModeAtomicAlloc();
	ret = kms_req_add(fd, req, virt, C, "CRTC_ID", 0);
	ret = ret ?: kms_req_add(fd, req, wb, C, "CRTC_ID", crtc);
	ret = ret ?: kms_req_add(fd, req, wb, C, "WRITEBACK_FB_ID", out.fb_id);
	ret = ret ?: kms_req_add(fd, req, wb, C, "WRITEBACK_OUT_FENCE_PTR",
				 (uint64_t)(uintptr_t)&fence);
	if (ret)
		return fail("building the atomic request", ret);
	if (drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL))
		return fail("atomic commit with the writeback connector", -errno);
	drmModeAtomicFree(req);
	if (fence < 0)
		return fail("no writeback out-fence", -EINVAL);
	ret = kms_fence_wait(fence, 1000);
	if (ret)
		return fail("writeback out-fence", ret);
	close(fence);

	for (uint32_t y = 0; y < height; y++) {
		const uint32_t *a = (const uint32_t *)((const char *)src.map + y * src.pitch);
		const uint32_t *b = (const uint32_t *)((const char *)out.map + y * out.pitch);

		for (uint32_t x = 0; x < width; x++) {
			if ((a[x] & 0xffffff) == (b[x] & 0xffffff))
				continue;
			if (n_diff++ < 5)
				fprintf(stderr, "kms-wb-check: (%u,%u) shown %06x, written back %06x\n",
					x, y, a[x] & 0xffffff, b[x] & 0xffffff);
		}
	}
	kms_dumb_destroy(fd, &out);
	kms_dumb_destroy(fd, &src);
	if (n_diff) {
		fprintf(stderr, "kms-wb-check: %llu of %u pixels differ\n",
			(unsigned long long)n_diff, width * height);
		return 1;
	}
	printf("kms-wb-check: %ux%u writeback equals the shown frame (%llu+ colours)\n",
	       width, height, (unsigned long long)colours);
	return 0;
}

int main(int argc, char **argv)
{
	const char *driver = "vkms";
	unsigned int w, h;
	uint32_t conn, crtc;
	int fd, ret;

	if (argc > 2 && !strcmp(argv[1], "--driver")) {
		driver = argv[2];
		argc -= 2;
		argv += 2;
	}
	fd = kms_open(driver);
	if (fd < 0) {
		fprintf(stderr, "kms-wb-check: no %s card: %s\n", driver, strerror(-fd));
		return 2;
	}

	if (argc == 2 && !strcmp(argv[1], "ids")) {
		ret = kms_find_output(fd, &conn);
		if (ret)
			return fail("no display connector", ret);
		drmModeResPtr res = drmModeGetResources(fd);

		if (!res || !res->count_crtcs)
			return fail("no CRTC", -ENOENT);
		crtc = res->crtcs[0];
		drmModeFreeResources(res);
		printf("%u %u\n", conn, crtc);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "capture") &&
	    sscanf(argv[2], "%ux%u", &w, &h) == 2) {
		/* Opening made us master: let the client under test set its mode. */
		drmDropMaster(fd);
		return capture(fd, w, h, NULL, 0);
	}
	if (argc == 4 && !strcmp(argv[1], "dump") &&
	    sscanf(argv[3], "%ux%u", &w, &h) == 2) {
		drmDropMaster(fd);
		return capture(fd, w, h, argv[2], strcmp(driver, "vkms") ? 0 : 0xff000000u);
	}

	fprintf(stderr, "usage: kms-wb-check [--driver NAME] ids | capture WIDTHxHEIGHT | dump FILE WIDTHxHEIGHT\n");
	return 2;
}
