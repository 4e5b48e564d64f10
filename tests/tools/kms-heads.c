// SPDX-License-Identifier: MIT
/*
 * kms-heads - a scene on every head of one card at once: the CRTCs of a
 * vkms device built through configfs.
 *
 *   kms-heads --card PATH [--mode WxH@HZ] [--expect PREFIX] [--hold SEC]
 *             [--flips N --log PREFIX] SCENE...
 *
 * Head i is the card's i-th connector lit on CRTC i, its primary plane
 * showing SCENE i (solid:RRGGBB or gradient) unscaled, all heads in one
 * atomic commit (default mode 320x240@30). --expect writes PREFIX.i, the
 * frame head i must show as XRGB8888 bytes (B,G,R,0xff).
 *
 * --flips N: after --hold seconds, N times, one commit flips every head
 * to the other of two colours of its own, with a flip event per CRTC;
 * PREFIX.i (of --log) gets "SEQUENCE RRGGBB" for each of head i's
 * events, the sequence being that CRTC's own vblank counter: from that
 * vblank on, head i shows that colour. Without --flips the scene is held
 * for --hold seconds or, without --hold, until stdin closes.
 *
 *   kms-heads --card PATH --list
 *
 * prints the card's mode objects as libdrm reports them, one per line:
 * "crtcs N", "plane INDEX TYPE POSSIBLE_CRTCS", "encoder INDEX
 * POSSIBLE_CRTCS", "connector TYPE STATUS ENCODERS" (writeback connectors
 * included; masks in hex, ENCODERS a mask of encoder indices, STATUS 1
 * connected, 2 disconnected, 3 unknown; TYPE without its number, which
 * DRM 6.1 counts across all devices).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "kmsutil.h"

#define MAX_HEADS 8

struct head {
	uint32_t conn, crtc, plane;
	struct kms_dumb buf, alt[2];
	uint32_t colours[2];
	FILE *log;
};

static int die(const char *what, int err)
{
	fprintf(stderr, "kms-heads: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(2);
}

static int list_objects(int fd)
{
	drmModePlaneResPtr pres = drmModeGetPlaneResources(fd);
	drmModeResPtr res = drmModeGetResources(fd);
	static const char *const types[] = { "overlay", "primary", "cursor" };

	if (!res || !pres)
		die("resources", errno);
	printf("crtcs %d\n", res->count_crtcs);
	for (uint32_t i = 0; i < pres->count_planes; i++) {
		drmModePlanePtr p = drmModeGetPlane(fd, pres->planes[i]);
		uint64_t t = 3;

		if (!p)
			die("plane", errno);
		kms_prop_value(fd, p->plane_id, DRM_MODE_OBJECT_PLANE, "type", &t);
		printf("plane %u %s 0x%x\n", i, t < 3 ? types[t] : "?", p->possible_crtcs);
		drmModeFreePlane(p);
	}
	for (int i = 0; i < res->count_encoders; i++) {
		drmModeEncoderPtr e = drmModeGetEncoder(fd, res->encoders[i]);

		if (!e)
			die("encoder", errno);
		printf("encoder %d 0x%x\n", i, e->possible_crtcs);
		drmModeFreeEncoder(e);
	}
	for (int i = 0; i < res->count_connectors; i++) {
		drmModeConnectorPtr c = drmModeGetConnector(fd, res->connectors[i]);
		uint32_t mask = 0;

		if (!c)
			die("connector", errno);
		for (int k = 0; k < c->count_encoders; k++)
			for (int j = 0; j < res->count_encoders; j++)
				if (res->encoders[j] == c->encoders[k])
					mask |= 1u << j;
		printf("connector %s %d 0x%x\n", drmModeGetConnectorTypeName(c->connector_type),
		       c->connection, mask);
		drmModeFreeConnector(c);
	}
	drmModeFreeResources(res);
	drmModeFreePlaneResources(pres);
	return 0;
}

static void write_file(const char *prefix, int i, const struct kms_dumb *b)
{
	struct kms_layer l = { b, 0, 0, 1 };
	char path[256];
	int ret;

	snprintf(path, sizeof(path), "%s.%d", prefix, i);
	ret = kms_write_composed(path, &l, 1, b->width, b->height);
	if (ret)
		die(path, ret);
}

/* Wait until every head has its flip event of this round. */
static void wait_flips(int fd, struct head *heads, int n, uint32_t round)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int left = n;

	while (left) {
		char buf[1024];
		ssize_t len;

		if (poll(&pfd, 1, 2000) <= 0)
			die("no flip event within 2 s", ETIMEDOUT);
		len = read(fd, buf, sizeof(buf));
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct drm_event) <= len;) {
			struct drm_event *e = (struct drm_event *)(buf + off);
			struct drm_event_vblank *v = (struct drm_event_vblank *)e;

			for (int i = 0; e->type == DRM_EVENT_FLIP_COMPLETE && i < n; i++) {
				if (heads[i].crtc != v->crtc_id)
					continue;
				fprintf(heads[i].log, "%u %06x\n", v->sequence,
					heads[i].colours[round & 1]);
				left--;
			}
			off += e->length;
		}
	}
}

int main(int argc, char **argv)
{
	uint32_t w = 320, h = 240, hz = 30, flips = 0, hold = 0, blob;
	const char *card = NULL, *expect = NULL, *log = NULL;
	struct head heads[MAX_HEADS] = { 0 };
	drmModeAtomicReq *req;
	drmModeResPtr res;
	int fd, ret, opt, n, list = 0;
	char c;

	static const struct option opts[] = {
		{ "card", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "expect", required_argument, NULL, 'e' },
		{ "hold", required_argument, NULL, 'H' },
		{ "flips", required_argument, NULL, 'f' },
		{ "log", required_argument, NULL, 'l' },
		{ "list", no_argument, NULL, 'L' },
		{ 0 }
	};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': card = optarg; break;
		case 'm':
			if (sscanf(optarg, "%ux%u@%u", &w, &h, &hz) != 3)
				die("--mode WxH@HZ", EINVAL);
			break;
		case 'e': expect = optarg; break;
		case 'H': hold = atoi(optarg); break;
		case 'f': flips = atoi(optarg); break;
		case 'l': log = optarg; break;
		case 'L': list = 1; break;
		default:
			fprintf(stderr, "usage: see the comment at the top of kms-heads.c\n");
			return 2;
		}
	}
	n = argc - optind;
	if (card && list) {
		fd = open(card, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die(card, errno);
		if (drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1) ||
		    drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) ||
		    drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1))
			die("client caps", errno);
		return list_objects(fd);
	}
	if (!card || n < 1 || n > MAX_HEADS || (flips && !log))
		die("--card PATH and 1 to 8 scenes (and --log with --flips)", EINVAL);

	fd = open(card, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(card, errno);
	if (drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1) ||
	    drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1))
		die("atomic client caps", errno);
	res = drmModeGetResources(fd);
	if (!res || res->count_crtcs < n || res->count_connectors < n)
		die("fewer CRTCs or connectors than scenes", ENOENT);
	ret = kms_mode_blob(fd, w, h, hz, &blob);
	if (ret)
		die("mode blob", ret);

	req = drmModeAtomicAlloc();
	for (int i = 0; i < n; i++) {
		struct head *hd = &heads[i];

		hd->conn = res->connectors[i];
		hd->crtc = res->crtcs[i];
		ret = kms_find_plane(fd, i, DRM_PLANE_TYPE_PRIMARY, &hd->plane);
		if (ret)
			die("primary plane", ret);
		ret = kms_dumb_create(fd, w, h, DRM_FORMAT_XRGB8888, &hd->buf);
		if (ret)
			die("buffer", ret);
		if (kms_fill_scene(&hd->buf, argv[optind + i]))
			die(argv[optind + i], EINVAL);
		ret = kms_req_add(fd, req, hd->conn, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", hd->crtc);
		ret = ret ?: kms_req_add(fd, req, hd->crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", blob);
		ret = ret ?: kms_req_add(fd, req, hd->crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 1);
		ret = ret ?: kms_req_add_plane(fd, req, hd->plane, hd->crtc, &hd->buf, 0, 0);
		if (ret)
			die("properties", ret);
		if (expect)
			write_file(expect, i, &hd->buf);
	}
	drmModeFreeResources(res);
	if (drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL))
		die("modeset commit (is each connector wired to the CRTC of its index?)", errno);
	drmModeAtomicFree(req);
	printf("kms-heads: %d heads on %s at %ux%u@%u\n", n, card, w, h, hz);
	fflush(stdout);

	if (!flips) {
		if (hold)
			sleep(hold);
		else
			while (read(0, &c, 1) > 0)
				;
		return 0;
	}

	for (int i = 0; i < n; i++) {
		struct head *hd = &heads[i];
		char path[256];

		hd->colours[0] = 0xff2000 | (uint32_t)i << 4;
		hd->colours[1] = 0x10ff40 | (uint32_t)i << 20;
		for (int k = 0; k < 2; k++) {
			if (kms_dumb_create(fd, w, h, DRM_FORMAT_XRGB8888, &hd->alt[k]))
				die("flip buffer", errno);
			kms_fill_solid(&hd->alt[k], hd->colours[k]);
		}
		snprintf(path, sizeof(path), "%s.%d", log, i);
		hd->log = fopen(path, "w");
		if (!hd->log)
			die(path, errno);
	}
	sleep(hold);
	for (uint32_t r = 0; r < flips; r++) {
		req = drmModeAtomicAlloc();
		for (int i = 0; i < n; i++)
			if (kms_req_add(fd, req, heads[i].plane, DRM_MODE_OBJECT_PLANE, "FB_ID",
					heads[i].alt[r & 1].fb_id))
				die("FB_ID", EINVAL);
		if (drmModeAtomicCommit(fd, req, DRM_MODE_PAGE_FLIP_EVENT, NULL))
			die("flip commit", errno);
		drmModeAtomicFree(req);
		wait_flips(fd, heads, n, r);
	}
	for (int i = 0; i < n; i++)
		fclose(heads[i].log);
	printf("kms-heads: %u flips on %d heads logged to %s.*\n", flips, n, log);
	return 0;
}
