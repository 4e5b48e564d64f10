// SPDX-License-Identifier: MIT
/*
 * libkms2v4l against real V4L2 nodes (run by tests/vm/v4l2vnc-lib.sh):
 *   libkms2v4l-check DEV_A DEV_B
 * enumerates, streams MMAP buffers from DEV_A (sequence, timestamps,
 * bytesused, damage), checks error reporting, exports DEV_A's buffers
 * with EXPBUF and imports them into DEV_B (DMABUF), which then streams
 * into them.  Prints what it checked; exit 0 when everything held.
 */
#include <kms2v4l/kms2v4l.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "libkms2v4l-check: FAIL %s:%d: ",      \
				__FILE__, __LINE__);                           \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			exit(1);                                               \
		}                                                              \
	} while (0)

static const uint32_t XR24 = KMS2V4L_FOURCC('X', 'R', '2', '4');

static struct kms2v4l_device *open_xr24(const char *path, struct kms2v4l_format *f)
{
	struct kms2v4l_device *dev;
	int r = kms2v4l_open(path, &dev);

	CHECK(r == 0, "open %s: %s", path, kms2v4l_open_error());
	*f = kms2v4l_format_init();
	f->fourcc = XR24;
	f->width = 640;
	f->height = 480;
	r = kms2v4l_set_format(dev, f);
	CHECK(r == 0, "%s", kms2v4l_error(dev));
	CHECK(f->fourcc == XR24 && f->width == 640 && f->height == 480 &&
	      f->stride >= 2560 && f->sizeimage >= f->stride * 480,
	      "format %ux%u stride %u size %u", f->width, f->height, f->stride,
	      f->sizeimage);
	return dev;
}

/* Distinct colours (XR24 pixels, X ignored), counting up to 16. */
static int colours(const void *data, size_t bytes)
{
	const uint32_t *p = data;
	uint32_t seen[16];
	int d = 0;

	for (size_t i = 0; i < bytes / 4 && d < 16; i++) {
		uint32_t c = p[i] & 0xffffff;
		int known = 0;

		for (int j = 0; j < d; j++)
			known |= seen[j] == c;
		if (!known)
			seen[d++] = c;
	}
	return d;
}

int main(int argc, char **argv)
{
	struct kms2v4l_node_info *nodes;
	struct kms2v4l_format fa, fb;
	struct kms2v4l_device *a, *b;
	struct kms2v4l_frame fr = KMS2V4L_FRAME_INIT;
	size_t n, found = 0;
	uint64_t last_ts = 0;
	int64_t last_seq = -1;
	int fds[4], r, count;

	CHECK(argc == 3, "usage: libkms2v4l-check DEV_A DEV_B");

	CHECK(kms2v4l_enumerate(&nodes, &n) == 0, "enumerate");
	for (size_t i = 0; i < n; i++) {
		printf("node %s name '%s' driver '%s' card '%s' bus '%s'\n", nodes[i].path,
		       nodes[i].name, nodes[i].driver, nodes[i].card, nodes[i].bus_info);
		found += !strcmp(nodes[i].path, argv[1]) || !strcmp(nodes[i].path, argv[2]);
		CHECK(!strcmp(nodes[i].driver, "vivid"), "driver of %s", nodes[i].path);
	}
	free(nodes);
	CHECK(found == 2, "both nodes enumerated");

	a = open_xr24(argv[1], &fa);
	count = kms2v4l_request_buffers(a, KMS2V4L_MEMORY_MMAP, 4);
	CHECK(count >= 2, "%s", kms2v4l_error(a));
	CHECK(kms2v4l_buffer_data(a, 0, NULL) != NULL, "mapping of buffer 0");

	/* Errors name the device, the call and the errno text. */
	r = kms2v4l_set_format(a, &fa);
	CHECK(r == -EBUSY, "S_FMT with buffers: %d", r);
	CHECK(strstr(kms2v4l_error(a), argv[1]) && strstr(kms2v4l_error(a), "VIDIOC_S_FMT") &&
	      strstr(kms2v4l_error(a), strerror(EBUSY)),
	      "message '%s'", kms2v4l_error(a));
	printf("error message: %s\n", kms2v4l_error(a));
	r = kms2v4l_queue(a, 0);
	CHECK(r == -EINVAL && strstr(kms2v4l_error(a), "VIDIOC_QBUF"), "queue of an idle slot: %d", r);

	CHECK(kms2v4l_start(a) == 0, "%s", kms2v4l_error(a));
	for (int i = 0; i < 6; i++) {
		r = kms2v4l_wait_frame(a, 5000, &fr);
		CHECK(r == 0, "frame %d: %s", i, kms2v4l_error(a));
		CHECK(fr.data && fr.dmabuf_fd == -1, "MMAP frame");
		CHECK(fr.bytesused == fa.sizeimage, "bytesused %u", fr.bytesused);
		CHECK((int64_t)fr.sequence > last_seq, "sequence %u after %lld", fr.sequence,
		      (long long)last_seq);
		CHECK(fr.timestamp_ns > last_ts, "timestamp");
		CHECK(fr.n_damage == 1 && fr.damage[0].x == 0 && fr.damage[0].y == 0 &&
		      fr.damage[0].width == 640 && fr.damage[0].height == 480, "damage");
		CHECK(colours(fr.data, fr.bytesused) >= 8, "frame has content");
		last_seq = fr.sequence;
		last_ts = fr.timestamp_ns;
		r = kms2v4l_queue(a, fr.index);
		CHECK(r == 0, "%s", kms2v4l_error(a));
		r = kms2v4l_queue(a, fr.index);
		CHECK(r == -EINVAL, "double queue: %d", r);
	}
	printf("MMAP: 6 frames, sequence up to %lld\n", (long long)last_seq);
	CHECK(kms2v4l_stop(a) == 0, "%s", kms2v4l_error(a));

	/* EXPBUF from A, DMABUF import into B. */
	CHECK(count >= 4, "4 buffers");
	for (int i = 0; i < 4; i++) {
		size_t len;
		void *p = kms2v4l_buffer_data(a, (unsigned)i, &len);

		fds[i] = kms2v4l_export(a, (unsigned)i);
		CHECK(fds[i] >= 0, "%s", kms2v4l_error(a));
		/* Black, so that content seen later was written by B. */
		memset(p, 0, len);
	}
	b = open_xr24(argv[2], &fb);
	r = kms2v4l_request_buffers(b, KMS2V4L_MEMORY_DMABUF, 4);
	CHECK(r == 4, "DMABUF request: %d %s", r, kms2v4l_error(b));
	r = kms2v4l_start(b);
	CHECK(r == -EINVAL, "start without imports: %d", r);
	for (int i = 0; i < 4; i++) {
		r = kms2v4l_import(b, (unsigned)i, fds[i], fa.sizeimage);
		CHECK(r == 0, "%s", kms2v4l_error(b));
	}
	CHECK(kms2v4l_start(b) == 0, "%s", kms2v4l_error(b));
	for (int i = 0; i < 4; i++) {
		void *p;

		r = kms2v4l_wait_frame(b, 5000, &fr);
		CHECK(r == 0, "DMABUF frame %d: %s", i, kms2v4l_error(b));
		CHECK(fr.data == NULL && fr.dmabuf_fd >= 0, "DMABUF frame fields");
		p = mmap(NULL, fa.sizeimage, PROT_READ, MAP_SHARED, fds[fr.index], 0);
		CHECK(p != MAP_FAILED, "mmap of the exported dma-buf");
		CHECK(colours(p, fr.bytesused) >= 8, "imported buffer has content");
		munmap(p, fa.sizeimage);
		CHECK(kms2v4l_queue(b, fr.index) == 0, "%s", kms2v4l_error(b));
	}
	printf("DMABUF: 4 frames from %s into buffers exported by %s\n", argv[2], argv[1]);
	kms2v4l_close(b);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	kms2v4l_close(a);
	printf("PASS\n");
	return 0;
}
