// SPDX-License-Identifier: MIT
/*
 * v4l2-damage-check - partial frames and on-change pacing of a kms2v4l
 * node, against a model of what vkms's CRTC shows.
 *
 *   v4l2-damage-check [--mode WxH@HZ] [--buffers N] [--steps S] [--seed X]
 *                     [--pacing vblank|change] TEST /dev/videoN
 *
 * The tool is the KMS client of vkms's CRTC (a primary plane, the cursor
 * and, if vkms has them, an overlay plane) and the capture client of its
 * node (MMAP buffers, XR24). TEST is one of
 *
 *   random   With V4L2_CID_KMS2V4L_PARTIAL_FRAMES on, S random steps
 *            (in XR24, or --format NV12|YU12|YUYV: the model converted
 *            with vkms's integer BT.601 limited-range arithmetic):
 *            page flips whose new content differs inside FB_DAMAGE_CLIPS
 *            (sometimes without clips), DIRTYFB after drawing into the
 *            shown framebuffer, cursor and overlay moves, on and off, the
 *            CRTC switched off and on, the client holding buffers for a
 *            few steps (frames dropped meanwhile). After each step every
 *            frame is compared byte for byte with the model: a frame up
 *            to the step's vblank may show the state before it, every
 *            later one the state after it.
 *   marker   Partial frames really are partial: a marker written into a
 *            dequeued buffer outside what later changes survives a flip
 *            of a 64x64 square (with FB_DAMAGE_CLIPS) when the buffer
 *            comes back, while the square is updated; with the control
 *            off, the whole buffer is rewritten.
 *   static   With --pacing change: a static screen for 10 s delivers
 *            exactly one frame, and vkms's vblank timer stops (DRM's off
 *            delay is 5 s); a flip then delivers one more, at the
 *            flip's vblank and with its event's time.
 *
 * and, for tests/bench (no assertion, prints a count):
 *
 *   bench-full SECONDS    partial frames, on-change pacing, a full-screen
 *                         flip (no clips) at every vblank; prints the
 *                         frames received
 *   bench-square SECONDS  the same with a 1 % square (w/10 x h/10) moving
 *                         at every vblank, flipped with FB_DAMAGE_CLIPS
 *   bench-static SECONDS  the same with nothing changing
 *   bench-repaint SECONDS as bench-full, each flip's buffer repainted
 *                         first with a pattern that moves, so every
 *                         pixel differs from the frame before
 *   bench-memcpy SECONDS  no KMS nor V4L2: memcpy of one frame (w x h x 4
 *                         bytes) in a loop; prints the copies made
 *   --no-capture          with bench-full and bench-square: the same
 *                         flips with no capture stream; prints the flips
 *   --damage              with random (XR24) and marker: also stream the
 *                         node's damage node (the metadata node of the
 *                         same bus_info) and check each frame's record:
 *                         the frame's sequence and time, the first after
 *                         STREAMON KMS2V4L_DAMAGE_FULL; random: every
 *                         pixel that differs from the frame delivered
 *                         before lies inside the record's rectangles;
 *                         marker: the flip of the 64x64 square gives
 *                         exactly that square, a frame of the static
 *                         screen before it no rectangle at all; then
 *                         separate changes stay separate rectangles:
 *                         two squares in opposite corners flipped
 *                         together give exactly those two, a cursor
 *                         jumping across the screen exactly its old
 *                         and new areas, and 12 squares flipped together
 *                         (more than the kernel keeps apart) rectangles
 *                         that cover each square and at most twice their
 *                         area
 *   --driver NAME         with the benchmarks: drive NAME's first card
 *                         (default vkms), e.g. bochs-drm for its mirror
 *                         node; a driver without vblanks completes flips
 *                         at once, so they are paced at the mode's rate
 *
 * Exits 0 when all holds, 1 on a violation, 2 on a setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <linux/kms2v4l.h>
#include <linux/videodev2.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "kmsutil.h"

#define C DRM_MODE_OBJECT_CONNECTOR
#define P DRM_MODE_OBJECT_PLANE
#define R DRM_MODE_OBJECT_CRTC
#define MAX_BUFS 8

enum { PRIMARY, OVERLAY, CURSOR, NLAYERS };

static int kfd, vfd;
static uint32_t conn, crtc, mode_blob, w = 640, h = 480;
static uint32_t plane[NLAYERS];
static struct kms_dumb fbs[2], ovl, cur;
static struct kms_layer layers[NLAYERS];
static int front;			/* fbs[front] is shown */
static uint8_t *model, *prev_model;	/* what the CRTC shows, and showed */
static size_t frame_size;		/* of the XRGB8888 model */
static uint32_t fourcc = V4L2_PIX_FMT_XBGR32;
static uint8_t *want, *prev_want;	/* the model in the capture format */
static size_t cap_size;
static void *bufs[MAX_BUFS];
static unsigned int nbufs = 3;
static uint64_t seq_base;
static int64_t lit_vblank = -1;		/* vblank of the last change */
static unsigned int frames_checked, steps_done[8];
static int no_overlay;			/* benchmarks: primary and cursor only */
static const char *driver = "vkms";	/* benchmarks: --driver */
static uint32_t mode_hz = 30;
static int no_capture;			/* benchmarks: the flips alone */
static int want_damage;			/* --damage */
static int mfd = -1;			/* --damage: the damage node */
static int check_pixels;		/* --damage: check records against pixels */
static uint8_t *last_frame;		/* --damage: the frame delivered before */
static struct kms2v4l_damage_meta last_rec;	/* --damage: the last record */
static unsigned int records, records_empty;

static void die(const char *what, int err)
{
	fprintf(stderr, "v4l2-damage-check: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(2);
}

__attribute__((format(printf, 1, 2))) static void violation(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "v4l2-damage-check: FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)random() % n;
}

static void set_ctrl(uint32_t id, int32_t value)
{
	struct v4l2_control c = { .id = id, .value = value };

	if (ioctl(vfd, VIDIOC_S_CTRL, &c))
		die("VIDIOC_S_CTRL", errno);
}

static void qbuf(unsigned int i)
{
	struct v4l2_buffer b = { .index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };

	if (ioctl(vfd, VIDIOC_QBUF, &b))
		die("VIDIOC_QBUF", errno);
}

static void damage_check(const struct v4l2_buffer *b);
static void test_rects(void);

/* The next frame within @ms: its index, vblank and time; -1 if none. */
static int dqbuf(int ms, uint64_t *vblank, struct timeval *ts)
{
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };
	struct pollfd p = { .fd = vfd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	if (ioctl(vfd, VIDIOC_DQBUF, &b))
		die("VIDIOC_DQBUF", errno);
	if (b.flags & V4L2_BUF_FLAG_ERROR)
		violation("buffer %u came back with V4L2_BUF_FLAG_ERROR", b.index);
	if (!seq_base) {
		struct v4l2_ext_control c = { .id = V4L2_CID_KMS2V4L_SEQUENCE_BASE };
		struct v4l2_ext_controls cs = { .which = V4L2_CTRL_WHICH_CUR_VAL, .count = 1,
						.controls = &c };

		if (ioctl(vfd, VIDIOC_G_EXT_CTRLS, &cs))
			die("V4L2_CID_KMS2V4L_SEQUENCE_BASE", errno);
		seq_base = c.value64;
	}
	*vblank = seq_base + b.sequence;
	if (ts)
		*ts = b.timestamp;
	if (mfd >= 0)
		damage_check(&b);
	return b.index;
}

/* --damage: the metadata node with the bus_info of @dev. */
static void open_damage_node(const char *dev)
{
	struct v4l2_capability vcap = { 0 }, cap;
	char path[32];

	if (ioctl(vfd, VIDIOC_QUERYCAP, &vcap))
		die("VIDIOC_QUERYCAP", errno);
	for (int n = 0; n < 64 && mfd < 0; n++) {
		int fd;

		snprintf(path, sizeof(path), "/dev/video%d", n);
		fd = open(path, O_RDWR | O_NONBLOCK);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) && (cap.device_caps & V4L2_CAP_META_CAPTURE) &&
		    !strcmp((char *)cap.driver, (char *)vcap.driver) &&
		    !strcmp((char *)cap.bus_info, (char *)vcap.bus_info))
			mfd = fd;
		else
			close(fd);
	}
	if (mfd < 0) {
		fprintf(stderr, "v4l2-damage-check: %s (%s): no damage node\n", dev,
			(char *)vcap.bus_info);
		exit(2);
	}
}

/* --damage: stream the damage node with 8 buffers (more than any frames out). */
static void setup_damage(void)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_META_CAPTURE };
	struct v4l2_requestbuffers req = { .count = MAX_BUFS, .type = V4L2_BUF_TYPE_META_CAPTURE,
					   .memory = V4L2_MEMORY_MMAP };
	enum v4l2_buf_type type = V4L2_BUF_TYPE_META_CAPTURE;

	if (ioctl(mfd, VIDIOC_G_FMT, &fmt))
		die("damage node: VIDIOC_G_FMT", errno);
	if (fmt.fmt.meta.dataformat != V4L2_META_FMT_KMS2V4L_DAMAGE ||
	    fmt.fmt.meta.buffersize != sizeof(struct kms2v4l_damage_meta))
		violation("damage node: format %.4s of %u bytes, not K2VD of %zu",
			  (char *)&fmt.fmt.meta.dataformat, fmt.fmt.meta.buffersize,
			  sizeof(struct kms2v4l_damage_meta));
	if (ioctl(mfd, VIDIOC_REQBUFS, &req) || req.count < 2)
		die("damage node: VIDIOC_REQBUFS", errno ? errno : ENOMEM);
	for (unsigned int i = 0; i < req.count; i++) {
		struct v4l2_buffer b = { .index = i, .type = V4L2_BUF_TYPE_META_CAPTURE,
					 .memory = V4L2_MEMORY_MMAP };

		if (ioctl(mfd, VIDIOC_QBUF, &b))
			die("damage node: VIDIOC_QBUF", errno);
	}
	if (ioctl(mfd, VIDIOC_STREAMON, &type))
		die("damage node: VIDIOC_STREAMON", errno);
	last_frame = calloc(1, cap_size);
	if (!last_frame)
		die("damage", ENOMEM);
}

static int in_rects(const struct kms2v4l_damage_meta *r, uint32_t x, uint32_t y)
{
	for (uint32_t i = 0; i < r->num_rects; i++)
		if (x >= r->rects[i].x && x - r->rects[i].x < r->rects[i].width &&
		    y >= r->rects[i].y && y - r->rects[i].y < r->rects[i].height)
			return 1;
	return 0;
}

/* --damage: the record of the frame just dequeued into @b. */
static void damage_check(const struct v4l2_buffer *b)
{
	struct v4l2_buffer m = { .type = V4L2_BUF_TYPE_META_CAPTURE, .memory = V4L2_MEMORY_MMAP };
	struct kms2v4l_damage_meta rec;
	struct v4l2_buffer q;
	void *p;

	/* completed before the frame: there without waiting */
	if (ioctl(mfd, VIDIOC_DQBUF, &m))
		violation("damage node: no record for frame %u: %s", b->sequence, strerror(errno));
	if (m.flags & V4L2_BUF_FLAG_ERROR)
		violation("damage node: a record with V4L2_BUF_FLAG_ERROR");
	if (m.bytesused != sizeof(rec))
		violation("damage node: record of %u bytes", m.bytesused);
	p = mmap(NULL, m.length, PROT_READ, MAP_SHARED, mfd, m.m.offset);
	if (p == MAP_FAILED)
		die("damage node: mmap", errno);
	memcpy(&rec, p, sizeof(rec));
	munmap(p, m.length);
	q = m;	/* QBUF writes the queued state into its argument */
	if (ioctl(mfd, VIDIOC_QBUF, &q))
		die("damage node: VIDIOC_QBUF", errno);

	if (rec.sequence != b->sequence || m.sequence != b->sequence)
		violation("damage node: record of sequence %u (buffer %u) for frame %u", rec.sequence,
			  m.sequence, b->sequence);
	if (m.timestamp.tv_sec != b->timestamp.tv_sec ||
	    m.timestamp.tv_usec != b->timestamp.tv_usec)
		violation("damage node: record of frame %u at %ld.%06ld, the frame at %ld.%06ld",
			  b->sequence, (long)m.timestamp.tv_sec, (long)m.timestamp.tv_usec,
			  (long)b->timestamp.tv_sec, (long)b->timestamp.tv_usec);
	if (rec.width != w || rec.height != h || rec.num_rects > KMS2V4L_DAMAGE_MAX_RECTS)
		violation("damage node: record %ux%u with %u rectangles for a %ux%u frame", rec.width,
			  rec.height, rec.num_rects, w, h);
	for (uint32_t i = 0; i < rec.num_rects; i++)
		if (!rec.rects[i].width || !rec.rects[i].height || rec.rects[i].x >= w ||
		    rec.rects[i].y >= h || rec.rects[i].width > w - rec.rects[i].x ||
		    rec.rects[i].height > h - rec.rects[i].y)
			violation("damage node: rectangle %ux%u+%u+%u outside the %ux%u frame",
				  rec.rects[i].width, rec.rects[i].height, rec.rects[i].x,
				  rec.rects[i].y, w, h);
	if (!records && !(rec.flags & KMS2V4L_DAMAGE_FULL))
		violation("damage node: the first record after STREAMON is not KMS2V4L_DAMAGE_FULL");
	if ((rec.flags & KMS2V4L_DAMAGE_FULL) &&
	    (rec.num_rects != 1 || rec.rects[0].x || rec.rects[0].y || rec.rects[0].width != w ||
	     rec.rects[0].height != h))
		violation("damage node: KMS2V4L_DAMAGE_FULL without the whole frame as its rectangle");
	if (check_pixels && records && !(rec.flags & KMS2V4L_DAMAGE_FULL)) {
		const uint8_t *f = bufs[b->index];

		for (uint32_t y = 0; y < h; y++)
			for (uint32_t x = 0; x < w; x++)
				if (memcmp(f + (y * w + x) * 4, last_frame + (y * w + x) * 4, 4) &&
				    !in_rects(&rec, x, y))
					violation("damage node: pixel (%u,%u) of frame %u changed outside its %u rectangles (first %ux%u+%u+%u)",
						  x, y, b->sequence, rec.num_rects,
						  rec.rects[0].width, rec.rects[0].height,
						  rec.rects[0].x, rec.rects[0].y);
	}
	if (check_pixels)
		memcpy(last_frame, bufs[b->index], cap_size);
	records++;
	records_empty += !rec.num_rects;
	last_rec = rec;
}

/* Wait for the event of a commit made with DRM_MODE_PAGE_FLIP_EVENT. */
static uint64_t wait_event(struct timeval *tv)
{
	struct pollfd p = { .fd = kfd, .events = POLLIN };
	char ev[1024];

	for (;;) {
		ssize_t n;

		if (poll(&p, 1, 3000) <= 0)
			die("no flip event within 3 s", ETIMEDOUT);
		n = read(kfd, ev, sizeof(ev));
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct drm_event) <= n;) {
			struct drm_event_vblank *e = (struct drm_event_vblank *)(ev + off);

			if (e->base.type == DRM_EVENT_FLIP_COMPLETE) {
				if (tv) {
					tv->tv_sec = e->tv_sec;
					tv->tv_usec = e->tv_usec;
				}
				return e->sequence;
			}
			off += e->base.length;
		}
	}
}

static void add_layer(drmModeAtomicReq *req, int i)
{
	int ret;

	if (!plane[i])
		return;
	if (!layers[i].on) {
		ret = kms_req_add(kfd, req, plane[i], P, "FB_ID", 0);
		ret = ret ?: kms_req_add(kfd, req, plane[i], P, "CRTC_ID", 0);
	} else {
		ret = kms_req_add_plane(kfd, req, plane[i], crtc, layers[i].buf,
					layers[i].x, layers[i].y);
	}
	if (ret)
		die("plane properties", ret);
}

static uint8_t luma(int r, int g, int b)
{
	return ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
}

/* The model in the capture format, as vkms writes it (vkms_formats.c). */
static void convert(const uint8_t *rgb, uint8_t *out)
{
	uint8_t *cb = out + (size_t)w * h, *cr = cb + (size_t)w * h / 4;

	if (fourcc == V4L2_PIX_FMT_XBGR32) {
		memcpy(out, rgb, frame_size);
		return;
	}
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x += 2) {
			const uint8_t *p = rgb + ((size_t)y * w + x) * 4;
			int r = p[2] + p[6], g = p[1] + p[5], b = p[0] + p[4];
			uint8_t y0 = luma(p[2], p[1], p[0]), y1 = luma(p[6], p[5], p[4]);
			uint8_t u = ((-38 * r - 74 * g + 112 * b + 256) >> 9) + 128;
			uint8_t v = ((112 * r - 94 * g - 18 * b + 256) >> 9) + 128;

			if (fourcc == V4L2_PIX_FMT_YUYV) {
				uint8_t *q = out + ((size_t)y * w + x) * 2;

				q[0] = y0, q[1] = u, q[2] = y1, q[3] = v;
				continue;
			}
			out[(size_t)y * w + x] = y0;
			out[(size_t)y * w + x + 1] = y1;
			if (y % 2)
				continue;
			if (fourcc == V4L2_PIX_FMT_NV12) {
				cb[(size_t)y / 2 * w + x] = u;
				cb[(size_t)y / 2 * w + x + 1] = v;
			} else {
				cb[(size_t)y / 2 * (w / 2) + x / 2] = u;
				cr[(size_t)y / 2 * (w / 2) + x / 2] = v;
			}
		}
	}
}

/* The CRTC shows a new state: recompose the model, keep the old one. */
static void update_model(void)
{
	memcpy(prev_model, model, frame_size);
	memcpy(prev_want, want, cap_size);
	kms_compose(layers, NLAYERS, w, h, model);
	convert(model, want);
}

/* Commit @req with an event; the vblank it took effect at. */
static uint64_t commit(drmModeAtomicReq *req, uint32_t flags, struct timeval *tv)
{
	uint64_t vblank;

	if (drmModeAtomicCommit(kfd, req, flags | DRM_MODE_PAGE_FLIP_EVENT, NULL))
		die("atomic commit", errno);
	drmModeAtomicFree(req);
	vblank = wait_event(tv);
	update_model();
	return vblank;
}

static uint64_t light(int on)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	int ret;

	ret = kms_req_add(kfd, req, conn, C, "CRTC_ID", on ? crtc : 0);
	ret = ret ?: kms_req_add(kfd, req, crtc, R, "MODE_ID", on ? mode_blob : 0);
	ret = ret ?: kms_req_add(kfd, req, crtc, R, "ACTIVE", on);
	if (ret)
		die("CRTC properties", ret);
	if (!on) {
		ret = kms_req_add(kfd, req, plane[PRIMARY], P, "FB_ID", 0);
		ret = ret ?: kms_req_add(kfd, req, plane[PRIMARY], P, "CRTC_ID", 0);
		for (int i = OVERLAY; i < NLAYERS; i++)
			if (plane[i]) {
				ret = ret ?: kms_req_add(kfd, req, plane[i], P, "FB_ID", 0);
				ret = ret ?: kms_req_add(kfd, req, plane[i], P, "CRTC_ID", 0);
			}
		if (ret)
			die("plane properties", ret);
		if (drmModeAtomicCommit(kfd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL))
			die("switching off", errno);
		drmModeAtomicFree(req);
		return 0;
	}
	for (int i = 0; i < NLAYERS; i++)
		add_layer(req, i);
	return commit(req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL);
}

static void fill_rect(struct kms_dumb *b, uint32_t x, uint32_t y, uint32_t rw, uint32_t rh,
		      uint32_t c)
{
	for (uint32_t j = y; j < y + rh; j++)
		for (uint32_t i = x; i < x + rw; i++)
			((uint32_t *)((char *)b->map + j * b->pitch))[i] = c;
}

static void random_rect(struct drm_mode_rect *r)
{
	uint32_t rw = 1 + rnd(w / 3), rh = 1 + rnd(h / 3);

	r->x1 = rnd(w - rw + 1);
	r->y1 = rnd(h - rh + 1);
	r->x2 = r->x1 + rw;
	r->y2 = r->y1 + rh;
}

/* Flip to the back buffer, a copy of the front with @n rects changed. */
static uint64_t flip(int n, const struct drm_mode_rect *rects, int clips, struct timeval *tv)
{
	struct kms_dumb *back = &fbs[!front];
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	uint32_t blob = 0;
	uint64_t vblank;
	int ret;

	memcpy(back->map, fbs[front].map, back->size);
	for (int i = 0; i < n; i++)
		fill_rect(back, rects[i].x1, rects[i].y1, rects[i].x2 - rects[i].x1,
			  rects[i].y2 - rects[i].y1, 0xff000000u | (uint32_t)random());
	ret = kms_req_add(kfd, req, plane[PRIMARY], P, "FB_ID", back->fb_id);
	if (!ret && clips) {
		if (drmModeCreatePropertyBlob(kfd, rects, sizeof(*rects) * n, &blob))
			die("damage clips blob", errno);
		ret = kms_req_add(kfd, req, plane[PRIMARY], P, "FB_DAMAGE_CLIPS", blob);
	}
	if (ret)
		die("FB_ID / FB_DAMAGE_CLIPS", ret);
	front = !front;
	layers[PRIMARY].buf = &fbs[front];
	vblank = commit(req, 0, tv);
	if (blob)
		drmModeDestroyPropertyBlob(kfd, blob);
	return vblank;
}

/* Where @got differs from the model: a count and bounding box, printed. */
static void report_diff(const uint8_t *got, const uint8_t *want, const char *what)
{
	uint32_t x1 = w, y1 = h, x2 = 0, y2 = 0, n = 0;

	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			if (memcmp(got + (y * w + x) * 4, want + (y * w + x) * 4, 4)) {
				n++;
				x1 = x < x1 ? x : x1;
				y1 = y < y1 ? y : y1;
				x2 = x > x2 ? x : x2;
				y2 = y > y2 ? y : y2;
			}
	fprintf(stderr, "v4l2-damage-check: %s: %u pixels differ, in (%u,%u)-(%u,%u)\n",
		what, n, x1, y1, x2, y2);
}

/*
 * Take frames until one shows the model, at or after @vblank (the step's);
 * frames up to @vblank may still show the state before. Requeues them.
 */
static void drain(uint64_t vblank, const char *step)
{
	for (;;) {
		uint64_t v;
		int i = dqbuf(3000, &v, NULL);

		if (i < 0)
			violation("%s: no frame within 3 s (step at vblank %llu)", step,
				  (unsigned long long)vblank);
		frames_checked++;
		if (!memcmp(bufs[i], want, cap_size)) {
			qbuf(i);
			if (v >= vblank)
				return;
			continue;
		}
		if (v <= vblank && !memcmp(bufs[i], prev_want, cap_size)) {
			qbuf(i);
			continue;
		}
		if (fourcc == V4L2_PIX_FMT_XBGR32)
			report_diff(bufs[i], model, step);
		violation("%s: the frame of vblank %llu (step at %llu) is neither the model nor the one before",
			  step, (unsigned long long)v, (unsigned long long)vblank);
	}
}

static void setup_kms(const char *modearg)
{
	uint32_t hz = 30;
	drmModeResPtr res;
	int ret;

	if (modearg && sscanf(modearg, "%ux%u@%u", &w, &h, &hz) != 3)
		die("--mode WxH@HZ", EINVAL);
	mode_hz = hz;
	kfd = kms_open(driver);
	if (kfd < 0)
		die(driver, kfd);
	if (drmSetClientCap(kfd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1) ||
	    drmSetClientCap(kfd, DRM_CLIENT_CAP_ATOMIC, 1))
		die("atomic client caps", errno);
	ret = kms_find_connector(kfd, DRM_MODE_CONNECTOR_VIRTUAL, &conn);
	if (ret)
		die("virtual connector", ret);
	res = drmModeGetResources(kfd);
	if (!res || !res->count_crtcs)
		die("no CRTC", ENOENT);
	crtc = res->crtcs[0];
	drmModeFreeResources(res);
	ret = kms_find_plane(kfd, 0, DRM_PLANE_TYPE_PRIMARY, &plane[PRIMARY]);
	if (ret)
		die("primary plane", ret);
	if (no_overlay || kms_find_plane(kfd, 0, DRM_PLANE_TYPE_OVERLAY, &plane[OVERLAY]))
		plane[OVERLAY] = 0;
	if (kms_find_plane(kfd, 0, DRM_PLANE_TYPE_CURSOR, &plane[CURSOR]))
		plane[CURSOR] = 0;
	ret = kms_mode_blob(kfd, w, h, hz, &mode_blob);
	if (ret)
		die("mode blob", ret);

	for (int i = 0; i < 2; i++) {
		ret = kms_dumb_create(kfd, w, h, DRM_FORMAT_XRGB8888, &fbs[i]);
		if (ret)
			die("primary buffer", ret);
		for (uint32_t y = 0; y < h; y++)
			for (uint32_t x = 0; x < w; x++)
				((uint32_t *)((char *)fbs[i].map + y * fbs[i].pitch))[x] =
					0xff000000u | (x * 255 / w) << 16 | (y * 255 / h) << 8 | 0x40;
	}
	/* premultiplied ARGB: an opaque frame around a half-transparent inside */
	/* only for the planes there are (bochs takes no ARGB at all) */
	ret = plane[OVERLAY] ? kms_dumb_create(kfd, 96, 64, DRM_FORMAT_ARGB8888, &ovl) : 0;
	ret = ret ?: plane[CURSOR] ? kms_dumb_create(kfd, 64, 64, DRM_FORMAT_ARGB8888, &cur) : 0;
	if (ret)
		die("overlay or cursor buffer", ret);
	if (plane[OVERLAY]) {
		fill_rect(&ovl, 0, 0, 96, 64, 0xff20c020);
		fill_rect(&ovl, 8, 8, 80, 48, 0x80400040);
	}
	for (uint32_t y = 0; plane[CURSOR] && y < 64; y++)
		for (uint32_t x = 0; x < 64; x++) {
			uint32_t a = ((x / 8 + y / 8) & 1) ? 0xff : 0x40;

			((uint32_t *)((char *)cur.map + y * cur.pitch))[x] =
				a << 24 | a << 16 | a << 8 | a;
		}
	layers[PRIMARY] = (struct kms_layer){ &fbs[0], 0, 0, 1 };
	layers[OVERLAY] = (struct kms_layer){ &ovl, (int32_t)w / 4, (int32_t)h / 4, !!plane[OVERLAY] };
	layers[CURSOR] = (struct kms_layer){ &cur, 10, 10, !!plane[CURSOR] };
	frame_size = (size_t)w * h * 4;
	cap_size = fourcc == V4L2_PIX_FMT_XBGR32 ? frame_size :
		   fourcc == V4L2_PIX_FMT_YUYV	  ? (size_t)w * h * 2 :
						    (size_t)w * h * 3 / 2;
	model = calloc(1, frame_size);
	prev_model = calloc(1, frame_size);
	want = calloc(1, cap_size);
	prev_want = calloc(1, cap_size);
	if (!model || !prev_model || !want || !prev_want)
		die("model", ENOMEM);
	lit_vblank = light(1);
}

static void setup_v4l2(const char *dev, int pacing, int partial)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers req = { .count = nbufs, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					   .memory = V4L2_MEMORY_MMAP };
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	vfd = open(dev, O_RDWR);
	if (vfd < 0)
		die(dev, errno);
	fmt.fmt.pix.pixelformat = fourcc;
	fmt.fmt.pix.width = w;
	fmt.fmt.pix.height = h;
	if (ioctl(vfd, VIDIOC_S_FMT, &fmt))
		die("VIDIOC_S_FMT", errno);
	if (fmt.fmt.pix.width != w || fmt.fmt.pix.height != h || fmt.fmt.pix.pixelformat != fourcc ||
	    fmt.fmt.pix.bytesperline != (fourcc == V4L2_PIX_FMT_XBGR32 ? w * 4 :
					 fourcc == V4L2_PIX_FMT_YUYV	? w * 2 : w) ||
	    fmt.fmt.pix.sizeimage != cap_size)
		die("the node's format is not the mode's in the format asked for", EINVAL);
	if (ioctl(vfd, VIDIOC_REQBUFS, &req) || req.count != nbufs)
		die("VIDIOC_REQBUFS", errno ? errno : ENOMEM);
	for (unsigned int i = 0; i < nbufs; i++) {
		struct v4l2_buffer b = { .index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					 .memory = V4L2_MEMORY_MMAP };

		if (ioctl(vfd, VIDIOC_QUERYBUF, &b))
			die("VIDIOC_QUERYBUF", errno);
		/* writable: the marker test writes into a dequeued buffer */
		bufs[i] = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, vfd,
			       b.m.offset);
		if (bufs[i] == MAP_FAILED)
			die("mmap", errno);
		qbuf(i);
	}
	set_ctrl(V4L2_CID_KMS2V4L_FRAME_PACING, pacing);
	set_ctrl(V4L2_CID_KMS2V4L_PARTIAL_FRAMES, partial);
	if (ioctl(vfd, VIDIOC_STREAMON, &type))
		die("VIDIOC_STREAMON", errno);
}

static void test_random(unsigned int steps)
{
	static const char *const names[] = { "flip", "flip without clips", "dirtyfb",
					     "cursor", "overlay", "off and on", "hold" };
	int held[MAX_BUFS], nheld = 0, hold_steps = 0;

	drain(lit_vblank, "first frame");
	for (unsigned int s = 0; s < steps; s++) {
		uint32_t r = rnd(100), kind;
		struct drm_mode_rect rects[3];
		int n = 1 + rnd(3);
		uint64_t vblank = 0;
		drmModeAtomicReq *req;

		for (int i = 0; i < n; i++)
			random_rect(&rects[i]);
		kind = r < 35 ? 0 : r < 42 ? 1 : r < 55 ? 2 : r < 70 ? 3 : r < 80 ? 4 : r < 85 ? 5 : 6;
		if ((kind == 3 && !plane[CURSOR]) || (kind == 4 && !plane[OVERLAY]))
			kind = 0;
		if (kind == 6 && (nheld || hold_steps))
			kind = 0;
		steps_done[kind]++;
		switch (kind) {
		case 0:
		case 1:
			vblank = flip(n, rects, kind == 0, NULL);
			break;
		case 2: {
			/* nothing is captured while the buffer is drawn into */
			int got[MAX_BUFS], ngot = 0;
			drmModeClip clips[3];

			while (ngot + nheld < (int)nbufs) {
				uint64_t v;
				int i = dqbuf(3000, &v, NULL);

				if (i < 0)
					violation("no frame within 3 s before DIRTYFB");
				got[ngot++] = i;
			}
			for (int i = 0; i < n; i++) {
				fill_rect(&fbs[front], rects[i].x1, rects[i].y1,
					  rects[i].x2 - rects[i].x1, rects[i].y2 - rects[i].y1,
					  0xff000000u | (uint32_t)random());
				clips[i] = (drmModeClip){ rects[i].x1, rects[i].y1, rects[i].x2,
							  rects[i].y2 };
			}
			if (drmModeDirtyFB(kfd, fbs[front].fb_id, clips, n))
				die("DIRTYFB", errno);
			/* nothing was captured meanwhile: no frame shows the old */
			update_model();
			memcpy(prev_want, want, cap_size);
			for (int i = 0; i < ngot; i++)
				qbuf(got[i]);
			vblank = 0;
			break;
		}
		case 3:
		case 4: {
			int l = kind == 3 ? CURSOR : OVERLAY;

			req = drmModeAtomicAlloc();
			if (rnd(5) == 0) {
				layers[l].on = !layers[l].on;
			} else {
				layers[l].on = 1;
				layers[l].x = (int32_t)rnd(w + 40) - 40;
				layers[l].y = (int32_t)rnd(h + 40) - 40;
			}
			add_layer(req, l);
			vblank = commit(req, 0, NULL);
			break;
		}
		case 5:
			light(0);
			vblank = light(1);
			break;
		case 6:
			/* keep up to all but one buffer for a few steps */
			hold_steps = 1 + rnd(4);
			for (int k = 1 + rnd(nbufs - 1); k > 0; k--) {
				uint64_t v;
				int i = dqbuf(3000, &v, NULL);

				if (i < 0)
					violation("no frame within 3 s to hold");
				held[nheld++] = i;
			}
			continue;
		}
		drain(vblank, names[kind]);
		if (hold_steps && !--hold_steps) {
			for (int i = 0; i < nheld; i++)
				qbuf(held[i]);
			nheld = 0;
		}
	}
	printf("v4l2-damage-check: random: %u steps (", steps);
	for (unsigned int k = 0; k < 7; k++)
		printf("%s%s %u", k ? ", " : "", names[k], steps_done[k]);
	printf("), %u %.4s frames with %u buffers, each equal to the model\n", frames_checked,
	       (const char *)&fourcc, nbufs);
	if (mfd >= 0)
		printf("v4l2-damage-check: random: %u damage records, %u empty, every changed pixel inside its record\n",
		       records, records_empty);
}

static void test_marker(void)
{
	static const uint8_t mark[4] = { 0x11, 0x22, 0x33, 0x44 };
	struct drm_mode_rect sq = { w - 80, h - 80, w - 16, h - 16 };

	for (int partial = 1; partial >= 0; partial--) {
		uint64_t v, vblank;
		int i, marked;

		set_ctrl(V4L2_CID_KMS2V4L_PARTIAL_FRAMES, partial);
		drain(lit_vblank, "marker: first frame");
		marked = dqbuf(3000, &v, NULL);
		if (marked < 0)
			violation("marker: no frame");
		memcpy(bufs[marked], mark, 4);	/* pixel (0,0), never damaged */
		qbuf(marked);
		vblank = flip(1, &sq, 1, NULL);
		for (int seen = 0;;) {
			i = dqbuf(3000, &v, NULL);
			if (i < 0)
				violation("marker: no frame after the flip");
			if (mfd >= 0 && v < vblank && last_rec.num_rects)
				violation("marker: a frame of the static screen before the flip has damage %ux%u+%u+%u",
					  last_rec.rects[0].width, last_rec.rects[0].height,
					  last_rec.rects[0].x, last_rec.rects[0].y);
			if (mfd >= 0 && v >= vblank && !seen++ &&
			    (last_rec.num_rects != 1 || last_rec.flags ||
			     last_rec.rects[0].x != (uint32_t)sq.x1 ||
			     last_rec.rects[0].y != (uint32_t)sq.y1 ||
			     last_rec.rects[0].width != (uint32_t)(sq.x2 - sq.x1) ||
			     last_rec.rects[0].height != (uint32_t)(sq.y2 - sq.y1)))
				violation("marker: the flip of the 64x64 square at %d,%d has damage %ux%u+%u+%u (%u rectangles, flags %#x)",
					  sq.x1, sq.y1, last_rec.rects[0].width,
					  last_rec.rects[0].height, last_rec.rects[0].x,
					  last_rec.rects[0].y, last_rec.num_rects, last_rec.flags);
			if (i == marked && v >= vblank)
				break;
			qbuf(i);
		}
		if (memcmp((uint8_t *)bufs[i] + 4, model + 4, frame_size - 4)) {
			report_diff(bufs[i], model, "marker");
			violation("marker: the marked buffer (partial frames %d) does not show the flip",
				  partial);
		}
		if (partial && memcmp(bufs[i], mark, 4))
			violation("marker: partial frames rewrote an undamaged pixel");
		if (!partial && memcmp(bufs[i], model, 4))
			violation("marker: without partial frames the marker stayed");
		memcpy(bufs[i], model, 4);
		qbuf(i);
		lit_vblank = vblank;
	}
	printf("v4l2-damage-check: marker: with partial frames an undamaged pixel is left as it "
	       "is and the flipped square is updated; without, the whole buffer is written\n");
	if (mfd >= 0) {
		printf("v4l2-damage-check: marker: %u damage records, %u of the static screen empty, the flips' exactly the 64x64 square\n",
		       records, records_empty);
		test_rects();
	}
}

/* --damage: the record of the first frame at or after @vblank. */
static struct kms2v4l_damage_meta record_at(uint64_t vblank, const char *what)
{
	for (;;) {
		uint64_t v;
		int i = dqbuf(3000, &v, NULL);

		if (i < 0)
			violation("%s: no frame within 3 s", what);
		qbuf(i);
		if (v >= vblank)
			return last_rec;
	}
}

static void print_rects(char *out, size_t size, const struct kms2v4l_damage_meta *r)
{
	size_t n = 0;

	out[0] = 0;
	for (uint32_t i = 0; i < r->num_rects && i < KMS2V4L_DAMAGE_MAX_RECTS && n < size; i++)
		n += snprintf(out + n, size - n, " %ux%u+%u+%u", r->rects[i].width,
			      r->rects[i].height, r->rects[i].x, r->rects[i].y);
}

/* --damage: @rec holds exactly the @n rectangles @want, in any order. */
static void expect_rects(const struct kms2v4l_damage_meta *rec, const struct drm_mode_rect *want,
			 uint32_t n, const char *what)
{
	char got[512];
	int ok = rec->num_rects == n && !rec->flags;

	for (uint32_t i = 0; ok && i < n; i++) {
		int found = 0;

		for (uint32_t j = 0; j < rec->num_rects; j++)
			found |= rec->rects[j].x == (uint32_t)want[i].x1 &&
				 rec->rects[j].y == (uint32_t)want[i].y1 &&
				 rec->rects[j].width == (uint32_t)(want[i].x2 - want[i].x1) &&
				 rec->rects[j].height == (uint32_t)(want[i].y2 - want[i].y1);
		ok = found;
	}
	print_rects(got, sizeof(got), rec);
	if (!ok)
		violation("%s: damage%s (%u rectangles, flags %#x), expected exactly %u rectangles",
			  what, got, rec->num_rects, rec->flags, n);
	printf("v4l2-damage-check: %s: damage%s\n", what, got);
}

/*
 * --damage: separate changes in one frame are separate rectangles, not
 * the box around them.
 */
static void test_rects(void)
{
	struct drm_mode_rect two[2] = { { 16, 16, 80, 80 }, { w - 80, h - 80, w - 16, h - 16 } };
	struct drm_mode_rect grid[12];
	struct kms2v4l_damage_meta rec;
	uint64_t area = 0, squares = 0;
	char got[512];

	rec = record_at(flip(2, two, 1, NULL), "rects: two squares");
	expect_rects(&rec, two, 2, "rects: two squares in opposite corners");

	if (plane[CURSOR] && layers[CURSOR].buf) {
		const struct kms_dumb *c = layers[CURSOR].buf;
		struct drm_mode_rect areas[2] = {
			{ 8, 8, 8 + c->width, 8 + c->height },
			{ w - 8 - c->width, h - 8 - c->height, w - 8, h - 8 },
		};
		drmModeAtomicReq *req = drmModeAtomicAlloc();

		layers[CURSOR].on = 1;
		layers[CURSOR].x = areas[0].x1;
		layers[CURSOR].y = areas[0].y1;
		add_layer(req, CURSOR);
		record_at(commit(req, 0, NULL), "rects: cursor on");
		req = drmModeAtomicAlloc();
		layers[CURSOR].x = areas[1].x1;
		layers[CURSOR].y = areas[1].y1;
		add_layer(req, CURSOR);
		rec = record_at(commit(req, 0, NULL), "rects: cursor jump");
		expect_rects(&rec, areas, 2, "rects: the cursor jumping across the screen");
	} else {
		printf("v4l2-damage-check: rects: no cursor plane, cursor jump not checked\n");
	}

	/* 4 x 3 squares 64 pixels apart: more than a region keeps apart */
	for (int i = 0; i < 12; i++) {
		grid[i].x1 = 16 + (i % 4) * 128;
		grid[i].y1 = 16 + (i / 4) * 128;
		grid[i].x2 = grid[i].x1 + 64;
		grid[i].y2 = grid[i].y1 + 64;
		squares += 64 * 64;
	}
	rec = record_at(flip(12, grid, 1, NULL), "rects: 12 squares");
	print_rects(got, sizeof(got), &rec);
	if (rec.flags || !rec.num_rects || rec.num_rects > KMS2V4L_DAMAGE_MAX_RECTS)
		violation("rects: 12 squares: %u rectangles, flags %#x", rec.num_rects, rec.flags);
	for (uint32_t i = 0; i < rec.num_rects; i++)
		area += (uint64_t)rec.rects[i].width * rec.rects[i].height;
	for (int i = 0; i < 12; i++)
		for (int32_t y = grid[i].y1; y < grid[i].y2; y++)
			for (int32_t x = grid[i].x1; x < grid[i].x2; x++)
				if (!in_rects(&rec, x, y))
					violation("rects: 12 squares: pixel (%d,%d) of square %d is outside the damage%s",
						  x, y, i, got);
	if (area > 2 * squares)
		violation("rects: 12 squares of %llu pixels: damage%s covers %llu",
			  (unsigned long long)squares, got, (unsigned long long)area);
	printf("v4l2-damage-check: rects: 12 squares of %llu pixels in %u rectangles of %llu pixels (their bounding box: %u)\n",
	       (unsigned long long)squares, rec.num_rects, (unsigned long long)area,
	       (grid[11].x2 - grid[0].x1) * (grid[11].y2 - grid[0].y1));
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * Whether vkms's vblank hrtimer is armed, from the kernel's list of
 * timers (each line names its function): 1 or 0, -1 if unreadable.
 */
static int vblank_timer_armed(void)
{
	FILE *f = fopen("/proc/timer_list", "r");
	char line[512];
	int armed = 0;

	if (!f)
		return -1;
	while (!armed && fgets(line, sizeof(line), f))
		armed = strstr(line, "vkms_vblank_simulate") != NULL;
	fclose(f);
	return armed;
}

static void test_static(void)
{
	struct drm_mode_rect sq = { 100, 100, 164, 164 };
	struct timeval tv, ev_tv;
	unsigned int n = 0;
	uint64_t v, vblank;
	int timer, i;
	long dt;

	/* 10 s, and at least 8 s after the frame (a slow kernel's first) */
	for (double end = now() + 10; now() < end;) {
		i = dqbuf(500, &v, NULL);
		if (i >= 0) {
			if (memcmp(bufs[i], model, frame_size))
				violation("static: the frame is not the model");
			if (!n++ && now() + 8 > end)
				end = now() + 8;
			qbuf(i);
		}
	}
	if (n != 1)
		violation("static: %u frames in 10 s of a static screen, expected 1", n);
	/* nothing due for 8 s, past DRM's 5 s vblank off delay */
	timer = vblank_timer_armed();
	if (timer > 0) {
		/* for the report: does it stop late, or never? */
		double t0 = now();

		while ((timer = vblank_timer_armed()) > 0 && now() < t0 + 15)
			usleep(100000);
		if (timer > 0)
			violation("static: vkms's vblank timer still runs after 10 s with no frame due, and 15 s later");
		violation("static: vkms's vblank timer still ran after 10 s with no frame due; it stopped %.1f s later",
			  now() - t0);
	}
	vblank = flip(1, &sq, 1, &ev_tv);
	i = dqbuf(3000, &v, &tv);
	if (i < 0)
		violation("static: no frame after the flip");
	if (memcmp(bufs[i], model, frame_size))
		violation("static: the frame after the flip is not the model");
	if (v != vblank)
		violation("static: the frame's vblank is %llu, the flip's %llu",
			  (unsigned long long)v, (unsigned long long)vblank);
	dt = (tv.tv_sec - ev_tv.tv_sec) * 1000000L + (tv.tv_usec - ev_tv.tv_usec);
	if (dt < -1000 || dt > 1000)
		violation("static: frame time and flip event time differ by %ld us", dt);
	qbuf(i);
	i = dqbuf(1000, &v, NULL);
	if (i >= 0)
		violation("static: a frame (vblank %llu) came after the flip's with nothing changed",
			  (unsigned long long)v);
	printf("v4l2-damage-check: static: 1 frame in 10 s of a static screen%s; the flip's "
	       "frame at its vblank %llu, %ld us from its event, then none\n",
	       timer < 0 ? " (no /proc/timer_list: the vblank timer not checked)" :
			   ", the vblank timer stopped",
	       (unsigned long long)vblank, dt);
}

static double now(void);

/* Flip at every vblank for @seconds, dequeuing what comes; the frames. */
static void bench(const char *what, double seconds)
{
	int square = !strcmp(what, "bench-square"), repaint = !strcmp(what, "bench-repaint");
	int full = repaint || !strcmp(what, "bench-full");
	uint32_t sw = w / 10, sh = h / 10, frames = 0, painted = 0;
	struct drm_mode_rect pos[2] = { { 0, 0, sw, sh }, { 0, 0, sw, sh } };
	int pending = 0;
	double due = 0;

	/* a solid background, the square at (0, 0) in both buffers */
	for (int i = 0; i < 2; i++) {
		fill_rect(&fbs[i], 0, 0, w, h, 0xff204060);
		fill_rect(&fbs[i], 0, 0, sw, sh, 0xffffffff);
	}
	for (double end = now() + seconds; now() < end;) {
		struct pollfd p[2] = { { .fd = kfd, .events = POLLIN },
				       { .fd = no_capture ? -1 : vfd, .events = POLLIN } };

		if (!pending && (full || square) && now() >= due) {
			struct kms_dumb *back = &fbs[!front];
			drmModeAtomicReq *req = drmModeAtomicAlloc();
			struct drm_mode_rect clip[2];
			uint32_t blob = 0;
			int ret;

			if (square) {
				/* the back buffer shows its square at pos[!front] */
				struct drm_mode_rect *o = &pos[!front], n = pos[front];

				fill_rect(back, o->x1, o->y1, sw, sh, 0xff204060);
				n.x1 = (n.x1 + 7) % (w - sw);
				n.y1 = (n.y1 + 3) % (h - sh);
				n.x2 = n.x1 + sw;
				n.y2 = n.y1 + sh;
				fill_rect(back, n.x1, n.y1, sw, sh, 0xffffffff);
				clip[0] = pos[front];
				clip[1] = n;
				*o = n;
				if (drmModeCreatePropertyBlob(kfd, clip, sizeof(clip), &blob))
					die("damage clips blob", errno);
			}
			/* grey diagonals moving 3 levels a frame: never the same pixel twice running */
			for (uint32_t y = 0; repaint && y < h; y++) {
				uint32_t *row = (uint32_t *)((char *)back->map + y * back->pitch);

				for (uint32_t x = 0; x < w; x++)
					row[x] = 0xff000000 | (((x + 2 * y + 3 * painted) & 0xff) * 0x010101);
			}
			painted++;
			ret = kms_req_add(kfd, req, plane[PRIMARY], P, "FB_ID", back->fb_id);
			if (!ret && blob)
				ret = kms_req_add(kfd, req, plane[PRIMARY], P, "FB_DAMAGE_CLIPS", blob);
			if (ret || drmModeAtomicCommit(kfd, req, DRM_MODE_PAGE_FLIP_EVENT |
						       DRM_MODE_ATOMIC_NONBLOCK, NULL))
				die("flip", ret ? ret : errno);
			drmModeAtomicFree(req);
			if (blob)
				drmModeDestroyPropertyBlob(kfd, blob);
			front = !front;
			pending = 1;
		}
		if (poll(p, 2, pending || now() >= due ? 100 :
			 (int)((due - now()) * 1000) + 1) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			/* no vblank (sequence 0): the next flip a period later */
			if (!wait_event(NULL)) {
				due += 1.0 / mode_hz;
				if (due < now())
					due = now();
			}
			pending = 0;
			frames += no_capture;	/* flips are the frames */
		}
		if (p[1].revents & POLLIN) {
			uint64_t v;
			int i = dqbuf(0, &v, NULL);

			if (i >= 0) {
				frames++;
				qbuf(i);
			}
		}
	}
	printf("%u\n", frames);
}

static void bench_memcpy(double seconds)
{
	size_t size = (size_t)w * h * 4;
	char *a = malloc(size), *b = malloc(size);
	unsigned long n = 0;

	if (!a || !b)
		die("memcpy buffers", ENOMEM);
	memset(a, 1, size);
	memset(b, 2, size);
	for (double end = now() + seconds; now() < end; n++) {
		memcpy(b, a, size);
		/* the copy is used: the compiler may not drop it */
		__asm__ volatile("" : : "r"(b) : "memory");
		a[n % size] = (char)n;
	}
	printf("%lu\n", n);
}

int main(int argc, char **argv)
{
	const char *modearg = NULL, *pacing = "vblank", *test, *dev;
	unsigned int steps = 200, seed = 1;
	int opt;

	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "buffers", required_argument, NULL, 'b' },
		{ "steps", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "pacing", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "no-capture", no_argument, NULL, 'n' },
		{ "driver", required_argument, NULL, 'd' },
		{ "damage", no_argument, NULL, 'D' },
		{ 0 }
	};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': modearg = optarg; break;
		case 'b': nbufs = atoi(optarg); break;
		case 's': steps = atoi(optarg); break;
		case 'S': seed = atoi(optarg); break;
		case 'p': pacing = optarg; break;
		case 'n': no_capture = 1; break;
		case 'd': driver = optarg; break;
		case 'D': want_damage = 1; break;
		case 'f':
			fourcc = !strcmp(optarg, "NV12") ? V4L2_PIX_FMT_NV12 :
				 !strcmp(optarg, "YU12") ? V4L2_PIX_FMT_YUV420 :
				 !strcmp(optarg, "YUYV") ? V4L2_PIX_FMT_YUYV : 0;
			if (!fourcc)
				die("--format NV12|YU12|YUYV", EINVAL);
			break;
		default:
			fprintf(stderr, "usage: see the comment at the top of v4l2-damage-check.c\n");
			return 2;
		}
	}
	if (optind + 2 > argc || nbufs < 2 || nbufs > MAX_BUFS)
		die("usage: v4l2-damage-check [options] random|marker|static /dev/videoN", EINVAL);
	test = argv[optind];
	dev = argv[optind + 1];
	if (fourcc != V4L2_PIX_FMT_XBGR32 && strcmp(test, "random"))
		die("--format is for the random test", EINVAL);
	if (!strcmp(test, "bench-memcpy")) {
		if (modearg && sscanf(modearg, "%ux%u", &w, &h) != 2)
			die("--mode WxH@HZ", EINVAL);
		bench_memcpy(atof(dev));
		return 0;
	}
	if (!strncmp(test, "bench-", 6)) {
		double seconds = atof(dev);

		if (optind + 3 != argc)
			die("usage: v4l2-damage-check [options] bench-WHAT SECONDS /dev/videoN", EINVAL);
		dev = argv[optind + 2];
		no_overlay = 1;
		setup_kms(modearg);
		if (!no_capture)
			setup_v4l2(dev, V4L2_KMS2V4L_PACING_ON_CHANGE, 1);
		bench(test, seconds);
		return 0;
	}
	srandom(seed);
	if (want_damage && strcmp(test, "random") && strcmp(test, "marker"))
		die("--damage is for the random and marker tests", EINVAL);
	setup_kms(modearg);
	if (want_damage) {
		/* the damage node streams first: the frames' records are all there */
		vfd = open(dev, O_RDWR);
		if (vfd < 0)
			die(dev, errno);
		open_damage_node(dev);
		close(vfd);
		setup_damage();
		check_pixels = !strcmp(test, "random") && fourcc == V4L2_PIX_FMT_XBGR32;
	}
	setup_v4l2(dev, !strcmp(pacing, "change") ? V4L2_KMS2V4L_PACING_ON_CHANGE :
						 V4L2_KMS2V4L_PACING_VBLANK,
		   strcmp(test, "static") != 0);
	if (!strcmp(test, "random"))
		test_random(steps);
	else if (!strcmp(test, "marker"))
		test_marker();
	else if (!strcmp(test, "static"))
		test_static();
	else
		die(test, EINVAL);
	return 0;
}
