// SPDX-License-Identifier: MIT
/*
 * kms-scene - put a known scene on vkms's CRTC and say what it must look
 * like once composed.
 *
 *   kms-scene [--driver NAME] [--mode WxH@HZ] [--expect FILE] [--hold SEC] SCENE
 *   kms-scene [--mode WxH@HZ] --flips N --log FILE
 *
 * SCENE is one of
 *   solid:RRGGBB  the primary plane filled with one colour
 *   gradient      red rising left to right, green top to bottom, blue 0x80
 *   overlay       gradient, with an ARGB overlay plane (premultiplied
 *                 alpha 0x80, red) over the middle (vkms enable_overlay=1)
 *   cursor        solid 0x204060 with a 64x64 ARGB cursor at (10,10)
 *   off           the CRTC switched off (and kept off while held: when
 *                 kms-scene exits, fbdev lights it again at its own mode)
 *
 * The mode is a custom one with these active sizes (default 320x240@30,
 * cheap to compose under emulation). --expect writes the composed frame
 * as vkms's composer must produce it, as XRGB8888 (bytes B,G,R,0xff), so
 * a capture can be compared byte for byte. The scene is held for --hold
 * seconds (default: until stdin closes), then the output is switched off.
 *
 * --driver picks the DRM driver whose first card is used (default vkms).
 *
 * --then-mode WxH@HZ (solid and gradient scenes): after --hold seconds,
 * one atomic modeset to this mode, the CRTC on throughout (a compositor
 * changing its output's mode), the scene redrawn at the new size; that
 * is then held until stdin closes.
 *
 * --flips N page-flips between solid colours N times (after --hold
 * seconds), one flip per vblank, and logs "SEQUENCE RRGGBB" for each
 * flip's completion event: from that vblank on, the CRTC shows that
 * colour. A driver without vblanks completes a flip at once, with
 * sequence 0: its flips are paced at the mode's rate instead.
 *
 * --repaint (with --flips): as a compositor does, the flips are
 * nonblocking commits (the event can come before the commit's tail has
 * run), and each flip first fills the buffer it flips to, the one the
 * previous flip's event released, with a colour of its own (each flip's
 * differs from the two before it), from the last line up, so a frame
 * still composed from a buffer the client was told it may draw into
 * shows two colours, or the colour of a later flip.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
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
#define P DRM_MODE_OBJECT_PLANE
#define R DRM_MODE_OBJECT_CRTC

static int die(const char *what, int err)
{
	fprintf(stderr, "kms-scene: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(2);
}

static uint32_t f_overlay(uint32_t x, uint32_t y, void *arg)
{
	(void)x; (void)y; (void)arg;
	return 0x80800000u;	/* premultiplied: alpha 0x80, red 0x80 */
}

static uint32_t f_cursor(uint32_t x, uint32_t y, void *arg)
{
	uint32_t a = ((x / 8 + y / 8) & 1) ? 0xff : 0x40;

	(void)arg;
	/* premultiplied white, alpha alternating in 8x8 checks */
	return a << 24 | a << 16 | a << 8 | a;
}

/* The primary plane of a solid:RRGGBB scene, else the gradient. */
static void fill_primary(const char *scene, struct kms_dumb *b)
{
	kms_fill_scene(b, strncmp(scene, "solid:", 6) ? "gradient" : scene);
}

struct layer {
	struct kms_dumb buf;
	int32_t x, y;
	uint32_t plane;
	int on;
};

static void set_plane(int fd, drmModeAtomicReq *req, struct layer *l, uint32_t crtc)
{
	int ret = kms_req_add_plane(fd, req, l->plane, crtc, &l->buf, l->x, l->y);

	if (ret)
		die("plane properties", ret);
}

/* Compose layers[0..n) as vkms does (opaque black background). */
static void write_expected(const char *path, struct layer *layers, int n,
			   uint32_t w, uint32_t h)
{
	struct kms_layer kl[3];
	int ret;

	for (int i = 0; i < n; i++)
		kl[i] = (struct kms_layer){ &layers[i].buf, layers[i].x, layers[i].y, layers[i].on };
	ret = kms_write_composed(path, kl, n, w, h);
	if (ret)
		die(path, ret);
}

/* Wait for the flip-complete event; its sequence is the flip's vblank. */
static void wait_flip(int fd, uint64_t *seq)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		char buf[1024];
		ssize_t n;

		if (poll(&pfd, 1, 2000) <= 0)
			die("no flip event within 2 s", ETIMEDOUT);
		n = read(fd, buf, sizeof(buf));
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct drm_event) <= n;) {
			struct drm_event *e = (struct drm_event *)(buf + off);

			if (e->type == DRM_EVENT_FLIP_COMPLETE) {
				*seq = ((struct drm_event_vblank *)e)->sequence;
				return;
			}
			off += e->length;
		}
	}
}

/*
 * The whole buffer in one colour, from the last line up: a composition
 * still reading the buffer from the top down meets the new colour at
 * once, not only once the painting overtakes it.
 */
static void fill_bottom_up(struct kms_dumb *buf, uint32_t rgb)
{
	for (uint32_t y = buf->height; y-- > 0;) {
		uint32_t *line = (uint32_t *)((char *)buf->map + (size_t)y * buf->pitch);

		for (uint32_t x = 0; x < buf->width; x++)
			line[x] = 0xff000000u | rgb;
	}
}

/* Keep the scene for @hold seconds, or until stdin closes when 0. */
static void hold_scene(unsigned int hold)
{
	char c;

	if (hold) {
		sleep(hold);
		return;
	}
	while (read(0, &c, 1) > 0)
		;
}

int main(int argc, char **argv)
{
	uint32_t w = 320, h = 240, hz = 30, flips = 0, hold = 0, repaint = 0;
	uint32_t w2 = 0, h2 = 0, hz2 = 0;
	const char *expect = NULL, *log = NULL, *scene, *driver = "vkms";
	uint32_t conn, crtc, blob;
	struct layer layers[3] = { 0 };
	drmModeResPtr res;
	drmModeAtomicReq *req;
	int fd, ret, opt, n = 1;

	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "expect", required_argument, NULL, 'e' },
		{ "hold", required_argument, NULL, 'H' },
		{ "flips", required_argument, NULL, 'f' },
		{ "log", required_argument, NULL, 'l' },
		{ "driver", required_argument, NULL, 'd' },
		{ "then-mode", required_argument, NULL, 't' },
		{ "repaint", no_argument, NULL, 'r' },
		{ 0 }
	};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (sscanf(optarg, "%ux%u@%u", &w, &h, &hz) != 3)
				die("--mode WxH@HZ", EINVAL);
			break;
		case 'e': expect = optarg; break;
		case 'H': hold = atoi(optarg); break;
		case 'f': flips = atoi(optarg); break;
		case 'l': log = optarg; break;
		case 'd': driver = optarg; break;
		case 'r': repaint = 1; break;
		case 't':
			if (sscanf(optarg, "%ux%u@%u", &w2, &h2, &hz2) != 3)
				die("--then-mode WxH@HZ", EINVAL);
			break;
		default:
			fprintf(stderr, "usage: see the comment at the top of kms-scene.c\n");
			return 2;
		}
	}
	scene = optind < argc ? argv[optind] : (flips ? "solid:000000" : NULL);
	if (!scene || (flips && !log) || (repaint && !flips))
		die("no scene (or --flips without --log, or --repaint without --flips)", EINVAL);

	fd = kms_open(driver);
	if (fd < 0)
		die(driver, fd);
	if (drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1) ||
	    drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1))
		die("atomic client caps", errno);
	ret = kms_find_output(fd, &conn);
	if (ret)
		die("display connector", ret);
	res = drmModeGetResources(fd);
	if (!res || !res->count_crtcs)
		die("no CRTC", ENOENT);
	crtc = res->crtcs[0];
	drmModeFreeResources(res);

	ret = kms_find_plane(fd, 0, DRM_PLANE_TYPE_PRIMARY, &layers[0].plane);
	if (ret)
		die("primary plane", ret);
	if (!strcmp(scene, "off")) {
		req = drmModeAtomicAlloc();
		ret = kms_req_add(fd, req, conn, C, "CRTC_ID", 0);
		ret = ret ?: kms_req_add(fd, req, crtc, R, "MODE_ID", 0);
		ret = ret ?: kms_req_add(fd, req, crtc, R, "ACTIVE", 0);
		ret = ret ?: kms_req_add(fd, req, layers[0].plane, P, "FB_ID", 0);
		ret = ret ?: kms_req_add(fd, req, layers[0].plane, P, "CRTC_ID", 0);
		if (ret)
			die("properties to switch off", ret);
		if (drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL))
			die("switching off", errno);
		drmModeAtomicFree(req);
		printf("kms-scene: off\n");
		fflush(stdout);
		hold_scene(hold);
		return 0;
	}
	ret = kms_dumb_create(fd, w, h, DRM_FORMAT_XRGB8888, &layers[0].buf);
	if (ret)
		die("primary buffer", ret);
	layers[0].on = 1;

	if (!strncmp(scene, "solid:", 6)) {
		fill_primary(scene, &layers[0].buf);
	} else if (!strcmp(scene, "gradient") || !strcmp(scene, "overlay")) {
		fill_primary(scene, &layers[0].buf);
		if (!strcmp(scene, "overlay")) {
			ret = kms_find_plane(fd, 0, DRM_PLANE_TYPE_OVERLAY, &layers[1].plane);
			if (ret)
				die("overlay plane (load vkms with enable_overlay=1)", ret);
			ret = kms_dumb_create(fd, w / 2, h / 2, DRM_FORMAT_ARGB8888, &layers[1].buf);
			if (ret)
				die("overlay buffer", ret);
			kms_fill(&layers[1].buf, f_overlay, NULL);
			layers[1].x = w / 4;
			layers[1].y = h / 4;
			layers[1].on = 1;
			n = 2;
		}
	} else if (!strcmp(scene, "cursor")) {
		kms_fill_scene(&layers[0].buf, "solid:204060");
		ret = kms_find_plane(fd, 0, DRM_PLANE_TYPE_CURSOR, &layers[2].plane);
		if (ret)
			die("cursor plane", ret);
		ret = kms_dumb_create(fd, 64, 64, DRM_FORMAT_ARGB8888, &layers[2].buf);
		if (ret)
			die("cursor buffer", ret);
		kms_fill(&layers[2].buf, f_cursor, NULL);
		layers[2].x = 10;
		layers[2].y = 10;
		layers[2].on = 1;
		n = 3;
	} else {
		die(scene, EINVAL);
	}

	ret = kms_mode_blob(fd, w, h, hz, &blob);
	if (ret)
		die("mode blob", ret);
	req = drmModeAtomicAlloc();
	ret = kms_req_add(fd, req, conn, C, "CRTC_ID", crtc);
	ret = ret ?: kms_req_add(fd, req, crtc, R, "MODE_ID", blob);
	ret = ret ?: kms_req_add(fd, req, crtc, R, "ACTIVE", 1);
	if (ret)
		die("CRTC properties", ret);
	for (int i = 0; i < n; i++)
		if (layers[i].on)
			set_plane(fd, req, &layers[i], crtc);
	if (drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL))
		die("modeset commit", errno);
	drmModeAtomicFree(req);

	if (expect)
		write_expected(expect, layers, n, w, h);

	if (flips) {
		struct kms_dumb alt[2];
		uint32_t colours[2] = { 0xff2000, 0x00ff40 };
		FILE *lf = fopen(log, "w");

		if (!lf)
			die(log, errno);
		for (int i = 0; i < 2; i++) {
			if (kms_dumb_create(fd, w, h, DRM_FORMAT_XRGB8888, &alt[i]))
				die("flip buffer", errno);
			kms_fill_solid(&alt[i], colours[i]);
		}
		struct timespec next;

		/* --hold: time for a capture client to start first */
		sleep(hold);
		clock_gettime(CLOCK_MONOTONIC, &next);
		for (uint32_t i = 0; i < flips; i++) {
			/* an odd step: no colour repeats within 2^24 flips */
			uint32_t colour = repaint ? (0x40a0e0u + i * 0x3b5d1fu) & 0xffffffu
						  : colours[i & 1];
			uint64_t seq;

			if (repaint)
				fill_bottom_up(&alt[i & 1], colour);
			req = drmModeAtomicAlloc();
			if (kms_req_add(fd, req, layers[0].plane, P, "FB_ID", alt[i & 1].fb_id))
				die("FB_ID", EINVAL);
			if (drmModeAtomicCommit(fd, req,
						DRM_MODE_PAGE_FLIP_EVENT |
							(repaint ? DRM_MODE_ATOMIC_NONBLOCK : 0),
						NULL))
				die("flip commit", errno);
			drmModeAtomicFree(req);
			wait_flip(fd, &seq);
			/* line by line: a test may stop a long run once it has its frames */
			fprintf(lf, "%llu %06x\n", (unsigned long long)seq, colour);
			fflush(lf);
			if (seq)
				continue;
			/* no vblanks: one flip per period of the mode */
			next.tv_nsec += 1000000000L / hz;
			if (next.tv_nsec >= 1000000000L) {
				next.tv_sec++;
				next.tv_nsec -= 1000000000L;
			}
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
		fclose(lf);
		printf("kms-scene: %u flips logged to %s\n", flips, log);
		fflush(stdout);
		return 0;
	}

	printf("kms-scene: %s on %ux%u@%u\n", scene, w, h, hz);
	fflush(stdout);
	if (w2) {
		if (n != 1)
			die("--then-mode with an overlay or cursor", EINVAL);
		sleep(hold);
		hold = 0;
		w = w2;
		h = h2;
		hz = hz2;
		ret = kms_dumb_create(fd, w, h, DRM_FORMAT_XRGB8888, &layers[0].buf);
		if (ret)
			die("primary buffer", ret);
		fill_primary(scene, &layers[0].buf);
		ret = kms_mode_blob(fd, w, h, hz, &blob);
		if (ret)
			die("mode blob", ret);
		req = drmModeAtomicAlloc();
		if (kms_req_add(fd, req, crtc, R, "MODE_ID", blob))
			die("MODE_ID", EINVAL);
		set_plane(fd, req, &layers[0], crtc);
		if (drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL))
			die("second modeset commit", errno);
		drmModeAtomicFree(req);
		printf("kms-scene: %s then on %ux%u@%u\n", scene, w, h, hz);
		fflush(stdout);
	}
	hold_scene(hold);
	return 0;
}
