// SPDX-License-Identifier: MIT
/*
 * libkms2v4l-adopt DEV WxH - a mode change while kms2v4l_set_format()
 * adopts the timings is not lost.
 *
 * The library's ioctls go through the real ioctl() below, which, once
 * armed, stops after the first VIDIOC_QUERY_DV_TIMINGS: it prints
 * "queried" and waits for a line on stdin, while the test changes the
 * input's timings (tests/vm/libkms2v4l-adopt.sh).  So the change falls
 * between QUERY_DV_TIMINGS and S_DV_TIMINGS of the adoption, every time:
 * the node is set to the old timings and the change's event would be
 * drained with the library's own.
 * Then this streams until a frame of WxH (the new mode) arrives,
 * renegotiating on every KMS2V4L_SOURCE_CHANGED; none within 15 s fails.
 */
#define _GNU_SOURCE
#include <kms2v4l/kms2v4l.h>

#include <dlfcn.h>
#include <errno.h>
#include <linux/videodev2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int armed;

int ioctl(int fd, unsigned long req, ...)
{
	static int (*real)(int, unsigned long, void *);
	char line[16];
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real)
		real = (int (*)(int, unsigned long, void *))dlsym(RTLD_NEXT,
								  "ioctl");
	r = real(fd, req, arg);
	if (armed && req == VIDIOC_QUERY_DV_TIMINGS) {
		armed = 0;
		printf("queried\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			exit(2);
	}
	return r;
}

static int negotiate(struct kms2v4l_device *dev)
{
	struct kms2v4l_format f = KMS2V4L_FORMAT_INIT;

	f.fourcc = KMS2V4L_FOURCC('X', 'R', '2', '4');

	if (kms2v4l_set_format(dev, &f) < 0 ||
	    kms2v4l_request_buffers(dev, KMS2V4L_MEMORY_MMAP, 4) < 0 ||
	    kms2v4l_start(dev) < 0) {
		fprintf(stderr, "libkms2v4l-adopt: %s\n", kms2v4l_error(dev));
		return -1;
	}
	printf("streaming %ux%u\n", f.width, f.height);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct kms2v4l_device *dev;
	unsigned int w, h;
	time_t end;

	if (argc != 3 || sscanf(argv[2], "%ux%u", &w, &h) != 2) {
		fprintf(stderr, "usage: libkms2v4l-adopt DEV WxH\n");
		return 2;
	}
	if (kms2v4l_open(argv[1], &dev) < 0) {
		fprintf(stderr, "libkms2v4l-adopt: %s\n", kms2v4l_open_error());
		return 1;
	}
	armed = 1;
	if (negotiate(dev) < 0)
		return 1;
	end = time(NULL) + 15;
	while (time(NULL) < end) {
		struct kms2v4l_format f = KMS2V4L_FORMAT_INIT;
		struct kms2v4l_frame fr = KMS2V4L_FRAME_INIT;
		int r = kms2v4l_wait_frame(dev, 1000, &fr);

		if (r == KMS2V4L_SOURCE_CHANGED) {
			printf("source changed\n");
			kms2v4l_free_buffers(dev);
			if (negotiate(dev) < 0)
				return 1;
			continue;
		}
		if (r == -ETIMEDOUT || r == -EPIPE)
			continue;
		if (r < 0) {
			fprintf(stderr, "libkms2v4l-adopt: %s\n", kms2v4l_error(dev));
			return 1;
		}
		kms2v4l_get_format(dev, &f);
		kms2v4l_queue(dev, fr.index);
		if (f.width == w && f.height == h) {
			printf("frame %ux%u\n", f.width, f.height);
			kms2v4l_close(dev);
			return 0;
		}
	}
	fprintf(stderr, "libkms2v4l-adopt: no %ux%u frame within 15 s\n", w, h);
	return 1;
}
