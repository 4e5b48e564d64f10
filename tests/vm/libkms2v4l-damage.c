// SPDX-License-Identifier: MIT
/*
 * libkms2v4l's frame damage on a kms2v4l node (run by
 * tests/vm/libkms2v4l-damage.sh while v4l2-damage-check drives the CRTC):
 *
 *   libkms2v4l-damage square|full FRAMES DEV
 *
 * Streams FRAMES frames of DEV through libkms2v4l (XR24 at the CRTC's
 * mode, MMAP, at every vblank, partial frames), each frame held until
 * the next one is dequeued, and checks the damage libkms2v4l fills in
 * from the node's damage node:
 *   - the first frame is whole (the first record after STREAMON);
 *   - every rectangle lies within the frame;
 *   - every pixel that differs from the frame before lies in the frame's
 *     rectangles (a frame whose damage is 0 rectangles did not change);
 *   - a held frame's damage is unchanged after the next dequeue;
 *   - square (a 1 % square moving at every vblank): at least 20 frames
 *     with changed pixels have damage less than the whole frame, none
 *     larger than an eighth of it;
 *   - full (a full-screen flip without damage clips at every vblank):
 *     every frame is whole or unchanged, at least 10 whole after the
 *     first.
 * Prints a summary line; exit 0 when everything held, 1 otherwise.
 */
#include <kms2v4l/kms2v4l.h>

#include <errno.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr,                                        \
				"libkms2v4l-damage: FAIL %s:%d: ", __FILE__,   \
				__LINE__);                                     \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			exit(1);                                               \
		}                                                              \
	} while (0)

#define MAX_RECTS 64

static const uint32_t XR24 = KMS2V4L_FOURCC('X', 'R', '2', '4');

static int is_whole(const struct kms2v4l_frame *fr,
		    const struct kms2v4l_format *f)
{
	return fr->n_damage == 1 && fr->damage[0].x == 0 &&
	       fr->damage[0].y == 0 && fr->damage[0].width == f->width &&
	       fr->damage[0].height == f->height;
}

static int in_damage(const struct kms2v4l_rect *r, size_t n, uint32_t x,
		     uint32_t y)
{
	for (size_t i = 0; i < n; i++)
		if (x >= r[i].x && x - r[i].x < r[i].width && y >= r[i].y &&
		    y - r[i].y < r[i].height)
			return 1;
	return 0;
}

static void set_ctrl(struct kms2v4l_device *dev, uint32_t id, int32_t value)
{
	struct v4l2_control c = { .id = id, .value = value };

	CHECK(ioctl(kms2v4l_fd(dev), VIDIOC_S_CTRL, &c) == 0,
	      "VIDIOC_S_CTRL 0x%x: %s", id, strerror(errno));
}

int main(int argc, char **argv)
{
	struct kms2v4l_rect held_damage[MAX_RECTS];
	unsigned long partial = 0, partial_changed = 0, whole = 0, empty = 0,
		      changed = 0;
	uint64_t max_area = 0, area_sum = 0;
	struct kms2v4l_format f = { .struct_size = KMS2V4L_STRUCT_SIZE(kms2v4l_format),
				     .fourcc = XR24 };
	struct kms2v4l_frame held = KMS2V4L_FRAME_INIT, fr = KMS2V4L_FRAME_INIT;
	struct kms2v4l_device *dev;
	size_t held_n = 0;
	uint8_t *prev;
	int square, have_held = 0, frames;

	if (argc != 4 ||
	    (strcmp(argv[1], "square") && strcmp(argv[1], "full"))) {
		fprintf(stderr,
			"usage: libkms2v4l-damage square|full FRAMES DEV\n");
		return 2;
	}
	square = !strcmp(argv[1], "square");
	frames = atoi(argv[2]);
	CHECK(kms2v4l_open(argv[3], &dev) == 0, "%s", kms2v4l_open_error());
	CHECK(kms2v4l_set_format(dev, &f) == 0, "%s", kms2v4l_error(dev));
	CHECK(f.fourcc == XR24 && f.width && f.height &&
		      f.stride >= f.width * 4,
	      "format %ux%u stride %u", f.width, f.height, f.stride);
	set_ctrl(dev, KMS2V4L_CID_FRAME_PACING, KMS2V4L_PACING_VBLANK);
	set_ctrl(dev, KMS2V4L_CID_PARTIAL_FRAMES, 1);
	CHECK(kms2v4l_request_buffers(dev, KMS2V4L_MEMORY_MMAP, 4) >= 3, "%s",
	      kms2v4l_error(dev));
	prev = malloc((size_t)f.stride * f.height);
	CHECK(prev, "malloc");
	CHECK(kms2v4l_start(dev) == 0, "%s", kms2v4l_error(dev));

	for (int i = 0; i < frames; i++) {
		const uint8_t *p;
		int r = kms2v4l_wait_frame(dev, 2000, &fr);
		uint64_t area = 0;
		int diff = 0;

		CHECK(r == 0, "frame %d: %d %s", i, r,
		      r < 0 ? kms2v4l_error(dev) : "(source changed)");
		CHECK(fr.n_damage <= MAX_RECTS, "frame %u: %zu rectangles",
		      fr.sequence, fr.n_damage);
		/* The frame held meanwhile keeps its own damage. */
		CHECK(!have_held || (held.n_damage == held_n &&
				     !memcmp(held.damage, held_damage,
					     held_n * sizeof(*held_damage))),
		      "frame %u's damage changed when frame %u was dequeued",
		      held.sequence, fr.sequence);
		if (have_held)
			CHECK(kms2v4l_queue(dev, held.index) == 0, "%s",
			      kms2v4l_error(dev));
		for (size_t k = 0; k < fr.n_damage; k++) {
			const struct kms2v4l_rect *d = &fr.damage[k];

			CHECK(d->width && d->height && d->x < f.width &&
				      d->y < f.height &&
				      d->width <= f.width - d->x &&
				      d->height <= f.height - d->y,
			      "frame %u: rectangle %ux%u+%u+%u outside %ux%u",
			      fr.sequence, d->width, d->height, d->x, d->y,
			      f.width, f.height);
			area += (uint64_t)d->width * d->height;
		}
		if (i == 0)
			CHECK(is_whole(&fr, &f),
			      "the first frame (sequence %u) is not whole: %zu rectangles, first %ux%u+%u+%u",
			      fr.sequence, fr.n_damage,
			      fr.n_damage ? fr.damage[0].width : 0,
			      fr.n_damage ? fr.damage[0].height : 0,
			      fr.n_damage ? fr.damage[0].x : 0,
			      fr.n_damage ? fr.damage[0].y : 0);
		p = fr.data;
		for (uint32_t y = 0; i && y < f.height; y++) {
			const uint8_t *a = p + (size_t)y * f.stride;
			const uint8_t *b = prev + (size_t)y * f.stride;

			if (!memcmp(a, b, (size_t)f.width * 4))
				continue;
			for (uint32_t x = 0; x < f.width; x++) {
				/* XR24: B, G, R, X; X is not content */
				if (!memcmp(a + 4 * x, b + 4 * x, 3))
					continue;
				diff = 1;
				CHECK(in_damage(fr.damage, fr.n_damage, x, y),
				      "frame %u: pixel (%u,%u) changed outside its %zu rectangles (first %ux%u+%u+%u)",
				      fr.sequence, x, y, fr.n_damage,
				      fr.n_damage ? fr.damage[0].width : 0,
				      fr.n_damage ? fr.damage[0].height : 0,
				      fr.n_damage ? fr.damage[0].x : 0,
				      fr.n_damage ? fr.damage[0].y : 0);
			}
		}
		memcpy(prev, p, (size_t)f.stride * f.height);
		changed += diff;
		if (!fr.n_damage) {
			empty++;
		} else if (is_whole(&fr, &f)) {
			whole++;
		} else {
			partial++;
			partial_changed += diff;
			area_sum += area;
			if (area > max_area)
				max_area = area;
			if (square)
				CHECK(area <= (uint64_t)f.width * f.height / 8,
				      "frame %u: damage of %llu pixels for a 1 %% square",
				      fr.sequence, (unsigned long long)area);
		}
		if (!square)
			CHECK(!fr.n_damage || is_whole(&fr, &f),
			      "frame %u: partial damage (%zu rectangles, first %ux%u+%u+%u) under full-screen flips",
			      fr.sequence, fr.n_damage, fr.damage[0].width,
			      fr.damage[0].height, fr.damage[0].x,
			      fr.damage[0].y);
		held = fr;
		held_n = fr.n_damage;
		memcpy(held_damage, fr.damage, held_n * sizeof(*held_damage));
		have_held = 1;
	}
	printf("libkms2v4l-damage: %s: %d frames %ux%u: whole %lu, partial %lu (%lu with changed pixels; largest %llu pixels, mean %llu), empty %lu, with changed pixels %lu\n",
	       argv[1], frames, f.width, f.height, whole, partial,
	       partial_changed, (unsigned long long)max_area,
	       (unsigned long long)(partial ? area_sum / partial : 0), empty,
	       changed);
	if (square)
		CHECK(partial_changed >= 20,
		      "only %lu changed frames with damage less than the whole frame",
		      partial_changed);
	else
		CHECK(whole >= 11, "only %lu whole frames", whole);
	kms2v4l_close(dev);
	free(prev);
	return 0;
}
