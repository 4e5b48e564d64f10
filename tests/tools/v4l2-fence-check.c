// SPDX-License-Identifier: MIT
/*
 * v4l2-fence-check - kms2v4l's implicit synchronisation, with real fences.
 *
 *   v4l2-fence-check /dev/videoN EXPECTED.raw
 *
 * While a scene of known composition (EXPECTED.raw, XRGB8888, the node's
 * current size) is shown:
 * 1. Two vgem buffers are imported as DMABUF capture buffers. Buffer 0
 *    carries an unsignalled vgem fence (DRM_IOCTL_VGEM_FENCE_ATTACH).
 *    For 30 frames only buffer 1 comes back, and buffer 0's memory is
 *    untouched: nothing writes a buffer another device still holds.
 *    vgem signals a fence by itself 10 s after attaching it, so on a slow
 *    (debug, TCG) kernel this part ends after 6 s, with at least 5 frames.
 * 2. After DRM_IOCTL_VGEM_FENCE_SIGNAL, buffer 0 comes back within 30
 *    frames holding the expected frame byte for byte.
 * 3. kms2v4l's own write fence: right after queueing buffer 1, the
 *    dma-buf's implicit write fence (DMA_BUF_IOCTL_EXPORT_SYNC_FILE) is
 *    kms2v4l's and unsignalled while the frame is composed; once the
 *    buffer is dequeued, it has signalled.
 * Exits 0 when all holds, 1 on a violation, 2 on a setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>
#include <xf86drm.h>

#include "kmsutil.h"

/* vgem's fence uAPI (include/uapi/drm/vgem_drm.h; not in libdrm's headers) */
struct drm_vgem_fence_attach {
	__u32 handle;
	__u32 flags;
	__u32 out_fence;
	__u32 pad;
};

struct drm_vgem_fence_signal {
	__u32 fence;
	__u32 flags;
};

#define VGEM_FENCE_WRITE 0x1
#define DRM_IOCTL_VGEM_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct drm_vgem_fence_attach)
#define DRM_IOCTL_VGEM_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + 0x2, struct drm_vgem_fence_signal)

static int vfd;

static void die(const char *what, int err)
{
	fprintf(stderr, "v4l2-fence-check: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(2);
}

static void violation(const char *what)
{
	fprintf(stderr, "v4l2-fence-check: FAIL: %s\n", what);
	exit(1);
}

static void qbuf(int index, int fd, unsigned int length)
{
	struct v4l2_buffer b = { .index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_DMABUF, .m.fd = fd, .length = length };

	if (ioctl(vfd, VIDIOC_QBUF, &b))
		die("VIDIOC_QBUF", errno);
}

/* The next frame's buffer index; -1 if none within 2 s. */
static int dqbuf(void)
{
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_DMABUF };
	struct pollfd p = { .fd = vfd, .events = POLLIN };

	if (poll(&p, 1, 2000) <= 0)
		return -1;
	if (ioctl(vfd, VIDIOC_DQBUF, &b))
		die("VIDIOC_DQBUF", errno);
	return b.index;
}

/* A buffer can be dequeued. */
static int frame_ready(void)
{
	struct pollfd p = { .fd = vfd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Status of the write fences of @dmabuf: 1 signalled, 0 active, -1 none
 * of kms2v4l's. */
static int kms2v4l_write_fence(int dmabuf)
{
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	struct sync_fence_info info[8] = { 0 };
	struct sync_file_info fi = { .num_fences = 8, .sync_fence_info = (uintptr_t)info };
	int status = -1;

	if (ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp))
		die("DMA_BUF_IOCTL_EXPORT_SYNC_FILE", errno);
	if (ioctl(exp.fd, SYNC_IOC_FILE_INFO, &fi))
		die("SYNC_IOC_FILE_INFO", errno);
	for (unsigned int i = 0; i < fi.num_fences && i < 8; i++)
		if (!strcmp(info[i].driver_name, "kms2v4l"))
			status = info[i].status;
	if (fi.num_fences == 1 && !strcmp(fi.name, "kms2v4l"))
		status = fi.status;
	close(exp.fd);
	return status;
}

int main(int argc, char **argv)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers req = { .count = 2, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					   .memory = V4L2_MEMORY_DMABUF };
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct kms_dumb bo[2];
	int dmabuf[2], gfd, idx, saw_active = 0, frames = 0;
	double fence_deadline;
	struct drm_vgem_fence_attach attach = { 0 };
	struct drm_vgem_fence_signal sig = { 0 };
	unsigned char *expect;
	size_t size;
	FILE *f;

	if (argc != 3)
		die("usage: v4l2-fence-check /dev/videoN EXPECTED.raw", EINVAL);
	vfd = open(argv[1], O_RDWR);
	if (vfd < 0)
		die(argv[1], errno);
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_XBGR32;
	if (ioctl(vfd, VIDIOC_S_FMT, &fmt))
		die("VIDIOC_S_FMT", errno);
	size = fmt.fmt.pix.sizeimage;
	expect = malloc(size);
	f = fopen(argv[2], "rb");
	if (!f || fread(expect, 1, size, f) != size)
		die("reading the expected frame", errno ? errno : EINVAL);
	fclose(f);

	gfd = kms_open("vgem");
	if (gfd < 0)
		die("no vgem card (modprobe vgem)", gfd);
	for (int i = 0; i < 2; i++) {
		int ret = kms_dumb_alloc(gfd, fmt.fmt.pix.width, fmt.fmt.pix.height, 32, &bo[i]);

		if (ret)
			die("vgem dumb buffer", ret);
		if (bo[i].pitch != fmt.fmt.pix.bytesperline)
			die("vgem pitch differs from bytesperline", EINVAL);
		memset(bo[i].map, 0x5a, bo[i].size);
		if (drmPrimeHandleToFD(gfd, bo[i].handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf[i]))
			die("exporting the vgem buffer", errno);
	}
	attach.handle = bo[0].handle;
	attach.flags = VGEM_FENCE_WRITE;
	if (drmIoctl(gfd, DRM_IOCTL_VGEM_FENCE_ATTACH, &attach))
		die("DRM_IOCTL_VGEM_FENCE_ATTACH", errno);
	/* before vgem's own 10 s timeout signals the fence */
	fence_deadline = now() + 6;

	if (ioctl(vfd, VIDIOC_REQBUFS, &req) || req.count != 2)
		die("VIDIOC_REQBUFS DMABUF", errno);
	qbuf(0, dmabuf[0], size);
	qbuf(1, dmabuf[1], size);
	if (ioctl(vfd, VIDIOC_STREAMON, &type))
		die("VIDIOC_STREAMON", errno);

	/* 1. the fenced buffer is left alone */
	for (; frames < 30 && now() < fence_deadline; frames++) {
		idx = dqbuf();
		if (idx < 0)
			violation("the stream stopped while buffer 0 was fenced");
		if (idx == 0)
			violation("buffer 0 came back while its vgem fence was unsignalled");
		/* 3. our write fence, busy while the frame is composed: watched
		 * until that frame is ready, however long the vblank takes */
		qbuf(1, dmabuf[1], size);
		for (double end = now() + 2; !saw_active && !frame_ready() && now() < end &&
					     now() < fence_deadline;)
			if (kms2v4l_write_fence(dmabuf[1]) == 0)
				saw_active = 1;
	}
	if (frames < 5)
		violation("fewer than 5 frames within 6 s while buffer 0 was fenced");
	for (size_t i = 0; i < size; i++)
		if (((unsigned char *)bo[0].map)[i] != 0x5a)
			violation("buffer 0 was written while its vgem fence was unsignalled");
	printf("v4l2-fence-check: %d frames in buffer 1, fenced buffer 0 untouched\n", frames);
	if (!saw_active)
		violation("never saw kms2v4l's unsignalled write fence on an imported buffer");
	idx = dqbuf();
	if (idx != 1)
		violation("buffer 1 did not come back");
	if (kms2v4l_write_fence(dmabuf[1]) == 0)
		violation("kms2v4l's write fence still unsignalled after DQBUF");
	printf("v4l2-fence-check: kms2v4l's write fence is busy during composition, signalled at DQBUF\n");

	/* 2. signal: buffer 0 gets the next frames */
	sig.fence = attach.out_fence;
	if (drmIoctl(gfd, DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig))
		die("DRM_IOCTL_VGEM_FENCE_SIGNAL", errno);
	qbuf(1, dmabuf[1], size);
	for (int n = 0;; n++) {
		if (n == 30)
			violation("buffer 0 did not come back after its fence signalled");
		idx = dqbuf();
		if (idx < 0)
			violation("the stream stopped");
		if (idx == 0)
			break;
		qbuf(1, dmabuf[1], size);
	}
	if (memcmp(bo[0].map, expect, size))
		violation("buffer 0 does not hold the expected frame");
	if (memcmp(bo[1].map, expect, size))
		violation("buffer 1 does not hold the expected frame");
	printf("v4l2-fence-check: after the signal, buffer 0 holds the expected frame\n");
	ioctl(vfd, VIDIOC_STREAMOFF, &type);
	return 0;
}
