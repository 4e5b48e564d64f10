// SPDX-License-Identifier: GPL-2.0-only
/*
 * kms2v4l - export what a KMS CRTC shows as a V4L2 capture device
 */

/**
 * DOC: kms2v4l overview
 *
 * A DRM driver offers each of its CRTCs as a capture source with
 * kms2v4l_source_register(); the core gives it a V4L2 video capture node
 * (driver "kms2v4l", card "<driver> card<N> CRTC <i>").
 *
 * The CRTC's mode is the node's input signal, as on an HDMI receiver:
 * the driver reports every mode change (and the CRTC going off) with
 * kms2v4l_source_set_mode(). QUERY_DV_TIMINGS returns the mode, or
 * -ENOLINK while the CRTC is off; a change of active size queues a
 * V4L2_EVENT_SOURCE_CHANGE. The capture format follows the DV timings
 * last set with S_DV_TIMINGS (initially the first mode seen). While
 * they differ in size from the CRTC's mode, frames are not delivered
 * and queued buffers wait: the client is expected to stop streaming,
 * query the new timings, set them and restart.
 *
 * Frames: while a client streams, the driver composes every frame and,
 * for each, asks for a buffer with kms2v4l_frame_begin(), writes the
 * whole image into it in the requested format, and completes it with
 * kms2v4l_frame_end() giving the vblank's CLOCK_MONOTONIC timestamp and
 * the CRTC's vblank counter. Buffer sequence numbers count vblanks from
 * the stream's first frame (so each stream starts at 0, as V4L2 clients
 * expect); the read-only control V4L2_CID_KMS2V4L_SEQUENCE_BASE holds
 * that first frame's vblank counter, so a frame shows vblank
 * (base + sequence) and can be matched with the flip events of KMS. A
 * vblank without a queued buffer is a dropped frame, visible as a gap
 * in the sequence numbers.
 *
 * Memory is vmalloc-backed vb2 (MMAP, USERPTR, DMABUF import, EXPBUF).
 */

#include <linux/dma-fence.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <media/v4l2-dv-timings.h>
#include <media/v4l2-event.h>
#include <uapi/linux/v4l2-dv-timings.h>

#include "kms2v4l-priv.h"

/* Before a CRTC has ever been lit: 1024x768@60 (DMT). */
static const struct v4l2_dv_timings kms2v4l_default_timings =
	V4L2_DV_BT_DMT_1024X768P60;

static const struct v4l2_ctrl_config kms2v4l_sequence_base_ctrl = {
	.id = V4L2_CID_KMS2V4L_SEQUENCE_BASE,
	.name = "Sequence Base (vblank)",
	.type = V4L2_CTRL_TYPE_INTEGER64,
	.flags = V4L2_CTRL_FLAG_READ_ONLY,
	.min = 0,
	.max = S64_MAX,
	.step = 1,
};

static const struct v4l2_ctrl_config kms2v4l_crtc_id_ctrl = {
	.id = V4L2_CID_KMS2V4L_CRTC_ID,
	.name = "DRM CRTC ID",
	.type = V4L2_CTRL_TYPE_INTEGER,
	.flags = V4L2_CTRL_FLAG_READ_ONLY,
	.min = 0,
	.max = S32_MAX,
	.step = 1,
};

static const struct v4l2_ctrl_config kms2v4l_connectors_ctrl = {
	.id = V4L2_CID_KMS2V4L_CONNECTORS,
	.name = "DRM Connectors",
	.type = V4L2_CTRL_TYPE_STRING,
	.flags = V4L2_CTRL_FLAG_READ_ONLY,
	.min = 0,
	.max = KMS2V4L_CONNECTORS_MAX - 1,
	.step = 1,
};

static void kms2v4l_v4l2_release(struct v4l2_device *v4l2_dev)
{
	struct kms2v4l_source *src =
		container_of(v4l2_dev, struct kms2v4l_source, v4l2_dev);

	v4l2_ctrl_handler_free(&src->ctrls);
	v4l2_device_unregister(&src->v4l2_dev);
	kfree(src);
}

/**
 * kms2v4l_source_register() - offer a CRTC as a V4L2 capture node
 * @info: the CRTC and the driver's callbacks; copied
 *
 * Return: the source, or an ERR_PTR() on failure.
 */
struct kms2v4l_source *
kms2v4l_source_register(const struct kms2v4l_source_info *info)
{
	struct v4l2_ctrl_config crtc_id;
	struct kms2v4l_source *src;
	int ret;

	if (!info->ops || !info->ops->start || !info->ops->stop || !info->driver)
		return ERR_PTR(-EINVAL);

	src = kzalloc(sizeof(*src), GFP_KERNEL);
	if (!src)
		return ERR_PTR(-ENOMEM);
	src->info = *info;
	mutex_init(&src->lock);
	spin_lock_init(&src->qlock);
	INIT_LIST_HEAD(&src->buf_list);
	init_waitqueue_head(&src->idle);
	spin_lock_init(&src->fence_lock);
	src->fence_context = dma_fence_context_alloc(1);
	src->timings = kms2v4l_default_timings;
	src->format = &kms2v4l_formats[0];
	kms2v4l_fill_pix_format(&src->fmt, src->format, &src->timings);

	snprintf(src->v4l2_dev.name, sizeof(src->v4l2_dev.name),
		 "%s-%s-card%u-crtc%u", KMS2V4L_NAME, info->driver, info->card,
		 info->crtc_index);
	ret = v4l2_device_register(NULL, &src->v4l2_dev);
	if (ret)
		goto free_src;
	src->v4l2_dev.release = kms2v4l_v4l2_release;

	v4l2_ctrl_handler_init(&src->ctrls, 4);
	src->power_present = v4l2_ctrl_new_std(&src->ctrls, NULL,
					       V4L2_CID_DV_RX_POWER_PRESENT,
					       0, 1, 0, 0);
	src->sequence_base = v4l2_ctrl_new_custom(&src->ctrls,
						  &kms2v4l_sequence_base_ctrl, NULL);
	crtc_id = kms2v4l_crtc_id_ctrl;
	crtc_id.def = min_t(u32, info->crtc_id, S32_MAX);
	v4l2_ctrl_new_custom(&src->ctrls, &crtc_id, NULL);
	src->connectors = v4l2_ctrl_new_custom(&src->ctrls,
					       &kms2v4l_connectors_ctrl, NULL);
	ret = src->ctrls.error;
	if (ret)
		goto unregister_v4l2;
	src->v4l2_dev.ctrl_handler = &src->ctrls;

	ret = kms2v4l_vid_cap_init(src);
	if (ret)
		goto free_ctrls;

	/* From here on, the last reference frees @src. */
	src->vdev.release = video_device_release_empty;
	ret = video_register_device(&src->vdev, VFL_TYPE_VIDEO, -1);
	if (ret)
		goto free_ctrls;

	dev_info(info->parent, "%s: CRTC %u (id %u) as %s\n", KMS2V4L_NAME,
		 info->crtc_index, info->crtc_id,
		 video_device_node_name(&src->vdev));
	return src;

free_ctrls:
	v4l2_ctrl_handler_free(&src->ctrls);
unregister_v4l2:
	src->v4l2_dev.release = NULL;
	v4l2_device_unregister(&src->v4l2_dev);
free_src:
	kfree(src);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(kms2v4l_source_register);

/**
 * kms2v4l_source_unregister() - remove a source's node
 * @src: the source
 *
 * Stops a running stream (the driver's stop callback is called), makes
 * the node disappear, and cuts every tie to the driver: when this
 * returns, the core never calls into the driver again and the driver
 * must not use @src any more. Clients that still hold the node open get
 * errors; the memory goes with the last of them.
 */
void kms2v4l_source_unregister(struct kms2v4l_source *src)
{
	if (IS_ERR_OR_NULL(src))
		return;
	v4l2_device_disconnect(&src->v4l2_dev);
	vb2_video_unregister_device(&src->vdev);
	mutex_lock(&src->lock);
	src->info.ops = NULL;
	src->info.parent = NULL;
	mutex_unlock(&src->lock);
	v4l2_device_put(&src->v4l2_dev);
}
EXPORT_SYMBOL_GPL(kms2v4l_source_unregister);

/**
 * kms2v4l_source_priv() - the driver data given at registration
 * @src: the source
 *
 * Return: &kms2v4l_source_info.priv.
 */
void *kms2v4l_source_priv(struct kms2v4l_source *src)
{
	return src->info.priv;
}
EXPORT_SYMBOL_GPL(kms2v4l_source_priv);

/**
 * kms2v4l_follow_mode() - let an idle node's format follow the CRTC
 * @src: the source, with @src->lock held
 *
 * While no buffers are allocated, the DV timings (and so the format
 * size) are the CRTC's current mode, so that a client opening the node
 * after a modeset needs no S_DV_TIMINGS. Once buffers exist, they stay
 * as negotiated until the client renegotiates.
 */
void kms2v4l_follow_mode(struct kms2v4l_source *src)
{
	struct v4l2_dv_timings mode;
	unsigned long flags;
	bool lit;

	lockdep_assert_held(&src->lock);
	if (vb2_is_busy(&src->queue))
		return;
	spin_lock_irqsave(&src->qlock, flags);
	lit = src->lit;
	mode = src->mode;
	spin_unlock_irqrestore(&src->qlock, flags);
	if (!lit || v4l2_match_dv_timings(&mode, &src->timings, 0, false))
		return;
	src->timings = mode;
	kms2v4l_fill_pix_format(&src->fmt, src->format, &mode);
}

/**
 * kms2v4l_source_set_connectors() - report what the CRTC drives
 * @src: the source
 * @names: the connectors' names, comma-separated; "" or NULL for none
 *
 * Sets V4L2_CID_KMS2V4L_CONNECTORS (cut to KMS2V4L_CONNECTORS_MAX - 1
 * bytes). Call it before kms2v4l_source_set_mode() so that a client woken
 * by the source change reads the new value. Process context; may sleep.
 */
void kms2v4l_source_set_connectors(struct kms2v4l_source *src,
				   const char *names)
{
	char buf[KMS2V4L_CONNECTORS_MAX];

	strscpy(buf, names ? names : "", sizeof(buf));
	v4l2_ctrl_s_ctrl_string(src->connectors, buf);
}
EXPORT_SYMBOL_GPL(kms2v4l_source_set_connectors);

/**
 * kms2v4l_source_set_mode() - report the CRTC's mode
 * @src: the source
 * @mode: the new mode, or NULL when the CRTC goes off
 *
 * Queues V4L2_EVENT_SOURCE_CHANGE when the active size changes or the
 * CRTC goes on or off, and updates V4L2_CID_DV_RX_POWER_PRESENT.
 * Process context (the driver's atomic commit); may sleep.
 */
void kms2v4l_source_set_mode(struct kms2v4l_source *src,
			     const struct drm_display_mode *mode)
{
	static const struct v4l2_event ev = {
		.type = V4L2_EVENT_SOURCE_CHANGE,
		.u.src_change.changes = V4L2_EVENT_SRC_CH_RESOLUTION,
	};
	struct v4l2_dv_timings t = { };
	unsigned long flags;
	bool changed;

	if (mode)
		kms2v4l_mode_to_timings(mode, &t);

	spin_lock_irqsave(&src->qlock, flags);
	changed = src->lit != !!mode ||
		  src->mode.bt.width != t.bt.width ||
		  src->mode.bt.height != t.bt.height;
	src->mode = t;
	src->lit = !!mode;
	spin_unlock_irqrestore(&src->qlock, flags);

	v4l2_ctrl_s_ctrl(src->power_present, !!mode);
	if (changed && video_is_registered(&src->vdev))
		v4l2_event_queue(&src->vdev, &ev);
}
EXPORT_SYMBOL_GPL(kms2v4l_source_set_mode);

/**
 * kms2v4l_frame_begin() - take the next buffer to compose a frame into
 * @src: the source
 * @frame: filled with the buffer's address, format and geometry
 *
 * Call once per composed frame, in process context (the composer's
 * worker). Every successful call must be followed by
 * kms2v4l_frame_end().
 *
 * Buffers are taken oldest first, skipping imported dma-bufs that
 * another device's fences still hold (see kms2v4l-fence.c); the frame's
 * write fence is published on an imported buffer until
 * kms2v4l_frame_end().
 *
 * Return: 0 with @frame filled; -EAGAIN when no buffer is free or the
 * stream's size is not the CRTC's (a dropped frame); -ENODEV when
 * nobody streams.
 */
int kms2v4l_frame_begin(struct kms2v4l_source *src, struct kms2v4l_frame *frame)
{
	struct kms2v4l_buffer *buf = NULL, *b;
	unsigned long flags;
	bool fenced = false;
	int ret = 0;

	spin_lock_irqsave(&src->qlock, flags);
	if (!src->stream) {
		ret = -ENODEV;
	} else if (!src->lit || src->mode.bt.width != src->stream->width ||
		   src->mode.bt.height != src->stream->height) {
		ret = -EAGAIN;
	} else {
		/* The oldest buffer no other device still holds. */
		list_for_each_entry(b, &src->buf_list, list) {
			if (kms2v4l_fence_buffer_ready(b)) {
				buf = b;
				break;
			}
			fenced = true;
		}
		if (!buf)
			ret = -EAGAIN;
	}
	if (buf) {
		list_del(&buf->list);
		frame->drm_format = src->stream_format->drm_format;
		frame->width = src->stream->width;
		frame->height = src->stream->height;
		frame->pitch = src->stream->bytesperline;
		frame->cookie = buf;
		src->in_flight++;
	}
	spin_unlock_irqrestore(&src->qlock, flags);
	if (fenced && !buf)
		dev_warn_ratelimited(&src->vdev.dev,
				     "%s: every queued buffer is still fenced by another device: frame dropped\n",
				     video_device_node_name(&src->vdev));
	if (ret)
		return ret;

	frame->vaddr = vb2_plane_vaddr(&buf->vb.vb2_buf, 0);
	if (!frame->vaddr) {
		kms2v4l_frame_end(src, frame, 0, 0, true);
		return -EFAULT;
	}
	kms2v4l_fence_begin(src, buf);
	return 0;
}
EXPORT_SYMBOL_GPL(kms2v4l_frame_begin);

/**
 * kms2v4l_frame_end() - complete a frame
 * @src: the source
 * @frame: as filled by kms2v4l_frame_begin()
 * @sequence: the CRTC's vblank counter for the frame
 * @timestamp: the vblank's CLOCK_MONOTONIC time
 * @error: the frame could not be composed; the buffer is reused
 *
 * A frame whose @sequence does not advance on the last one delivered is
 * not delivered either: sequence numbers never repeat. Process context
 * (the driver's composer); may sleep.
 */
void kms2v4l_frame_end(struct kms2v4l_source *src, struct kms2v4l_frame *frame,
		       u64 sequence, ktime_t timestamp, bool error)
{
	struct kms2v4l_buffer *buf = frame->cookie;
	unsigned long flags;
	bool deliver, first = false, idle;
	u64 base = 0;

	kms2v4l_fence_end(buf);
	spin_lock_irqsave(&src->qlock, flags);
	idle = !--src->in_flight;
	deliver = !error && src->stream &&
		  (!src->sequence_valid || sequence > src->last_sequence);
	if (deliver) {
		if (!src->sequence_valid) {
			src->first_sequence = sequence;
			src->sequence_valid = true;
			first = true;
		}
		src->last_sequence = sequence;
		base = src->first_sequence;
	} else {
		/* Not delivered: the buffer goes back to the head. */
		list_add(&buf->list, &src->buf_list);
	}
	spin_unlock_irqrestore(&src->qlock, flags);
	frame->cookie = NULL;
	if (idle)
		wake_up_all(&src->idle);
	if (!deliver)
		return;

	if (first)
		v4l2_ctrl_s_ctrl_int64(src->sequence_base, base);
	buf->vb.vb2_buf.timestamp = ktime_to_ns(timestamp);
	buf->vb.sequence = (u32)(sequence - base);
	buf->vb.field = V4L2_FIELD_NONE;
	vb2_buffer_done(&buf->vb.vb2_buf, VB2_BUF_STATE_DONE);
}
EXPORT_SYMBOL_GPL(kms2v4l_frame_end);

MODULE_DESCRIPTION("V4L2 capture of what KMS CRTCs show");
MODULE_AUTHOR("kms2v4l developers");
MODULE_LICENSE("GPL");
