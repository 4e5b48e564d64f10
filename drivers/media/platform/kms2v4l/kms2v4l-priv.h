/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kms2v4l - private definitions shared by the core and the capture node
 */
#ifndef _KMS2V4L_PRIV_H
#define _KMS2V4L_PRIV_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <media/kms2v4l.h>
#include <media/v4l2-ctrls.h>
#include <media/v4l2-device.h>
#include <media/videobuf2-v4l2.h>

#define KMS2V4L_NAME "kms2v4l"

/**
 * struct kms2v4l_format - a pixel format the node offers
 * @fourcc: V4L2 pixel format
 * @drm_format: the same memory layout as a DRM fourcc
 * @cpp: bytes per pixel
 */
struct kms2v4l_format {
	u32 fourcc;
	u32 drm_format;
	unsigned int cpp;
};

/**
 * struct kms2v4l_buffer - a capture buffer
 * @vb: the vb2 buffer (first member)
 * @list: entry in &kms2v4l_source.buf_list
 * @fence: write fence published on an imported dma-buf while a frame is
 *	written into it, NULL otherwise
 */
struct kms2v4l_buffer {
	struct vb2_v4l2_buffer vb;
	struct list_head list;
	struct dma_fence *fence;
};

#define to_kms2v4l_buffer(b) container_of(b, struct kms2v4l_buffer, vb)

/**
 * struct kms2v4l_source - one CRTC offered as a V4L2 capture node
 * @info: what the driver registered (ops cleared on unregister)
 * @v4l2_dev: the V4L2 device of this node
 * @vdev: the capture video device
 * @queue: its vb2 queue
 * @ctrls: the node's controls
 * @power_present: V4L2_CID_DV_RX_POWER_PRESENT, bit 0 set while the
 *	CRTC is on
 * @sequence_base: V4L2_CID_KMS2V4L_SEQUENCE_BASE
 * @connectors: V4L2_CID_KMS2V4L_CONNECTORS
 * @lock: serialises ioctls (vdev->lock and queue->lock); protects
 *	@timings, @fmt, @format and the calls into @info.ops
 * @timings: DV timings the format follows (the CRTC's mode while no
 *	buffers are allocated, else the last S_DV_TIMINGS)
 * @fmt: the negotiated capture format
 * @format: the entry of @fmt.pixelformat
 * @qlock: protects @buf_list, @stream, @mode, @lit, @in_flight and the
 *	sequence fields;
 *	taken with irqsave since drivers call in from any context
 * @buf_list: buffers queued by userspace, not yet handed to the driver
 * @stream: a snapshot of @fmt and @format while streaming, NULL when not
 * @stream_fmt: storage for @stream
 * @stream_format: storage for @stream's format entry
 * @mode: the CRTC's current mode as DV timings
 * @lit: whether the CRTC is on (@mode valid)
 * @in_flight: frames begun and not yet ended
 * @idle: woken when @in_flight drops to 0
 * @fence_lock: the spinlock of this source's write fences
 * @fence_context: their dma_fence context
 * @fence_seqno: the last seqno given to one
 * @first_sequence: vblank counter of the stream's first frame
 * @last_sequence: vblank counter of the last completed buffer
 * @sequence_valid: whether the two are set in this stream
 */
struct kms2v4l_source {
	struct kms2v4l_source_info info;
	struct v4l2_device v4l2_dev;
	struct video_device vdev;
	struct vb2_queue queue;
	struct v4l2_ctrl_handler ctrls;
	struct v4l2_ctrl *power_present;
	struct v4l2_ctrl *sequence_base;
	struct v4l2_ctrl *connectors;

	struct mutex lock; /* see @lock above */
	struct v4l2_dv_timings timings;
	struct v4l2_pix_format fmt;
	const struct kms2v4l_format *format;

	spinlock_t qlock; /* see @qlock above */
	struct list_head buf_list;
	const struct v4l2_pix_format *stream;
	struct v4l2_pix_format stream_fmt;
	const struct kms2v4l_format *stream_format;
	struct v4l2_dv_timings mode;
	bool lit;
	unsigned int in_flight;
	spinlock_t fence_lock; /* see @fence_lock above */
	u64 fence_context;
	atomic64_t fence_seqno;
	wait_queue_head_t idle;
	u64 first_sequence;
	u64 last_sequence;
	bool sequence_valid;
};

/* kms2v4l-formats.c */
extern const struct kms2v4l_format kms2v4l_formats[];
extern const unsigned int kms2v4l_num_formats;
const struct kms2v4l_format *kms2v4l_format_find(u32 fourcc);
void kms2v4l_mode_to_timings(const struct drm_display_mode *mode,
			     struct v4l2_dv_timings *t);
void kms2v4l_fill_pix_format(struct v4l2_pix_format *pix,
			     const struct kms2v4l_format *format,
			     const struct v4l2_dv_timings *t);

/* kms2v4l-core.c */
void kms2v4l_follow_mode(struct kms2v4l_source *src);

/* kms2v4l-fence.c */
bool kms2v4l_fence_buffer_ready(struct kms2v4l_buffer *buf);
void kms2v4l_fence_begin(struct kms2v4l_source *src, struct kms2v4l_buffer *buf);
void kms2v4l_fence_end(struct kms2v4l_buffer *buf);

/* kms2v4l-vid-cap.c */
int kms2v4l_vid_cap_init(struct kms2v4l_source *src);
void kms2v4l_vid_cap_return_all(struct kms2v4l_source *src,
				enum vb2_buffer_state state);

#endif /* _KMS2V4L_PRIV_H */
