// SPDX-License-Identifier: GPL-2.0-only
/*
 * kms2v4l - the damage node: a metadata capture node beside each capture
 * node, telling per delivered frame what changed in it
 */

#include <linux/videodev2.h>
#include <media/v4l2-ioctl.h>
#include <media/videobuf2-vmalloc.h>

#include "kms2v4l-priv.h"

/**
 * DOC: the damage node
 *
 * Each source registers, after its capture node, a metadata capture node
 * (V4L2_CAP_META_CAPTURE) of format V4L2_META_FMT_KMS2V4L_DAMAGE, with
 * the capture node's bus_info: one record (struct kms2v4l_damage_meta)
 * per frame the capture node delivers without error, with that frame's
 * sequence number and timestamp.
 *
 * A record holds the damage of its frame against the frame the capture
 * node delivered before it: @kms2v4l_buffer.damage, the region of the
 * commits since (frames not delivered in between return theirs, see
 * kms2v4l_return_damage()), so at most KMS2V4L_REGION_RECTS rectangles,
 * fewer than a record holds. With no damage buffer queued, a frame's
 * damage is kept in @meta_acc for the next record, which then covers
 * both frames: never less than what changed.
 * The first record after either node starts streaming says
 * KMS2V4L_DAMAGE_FULL, for the client has no frame to patch yet.
 *
 * The record is written and its buffer completed under @qlock, before
 * the frame's own buffer is completed: a client that has dequeued a
 * frame finds its record already done, and stop_streaming() of the
 * damage node, taking @qlock, never sees a buffer half taken.
 */

static const char kms2v4l_meta_desc[] = "kms2v4l damage rectangles";

static int kms2v4l_meta_enum_fmt(struct file *file, void *priv,
				 struct v4l2_fmtdesc *f)
{
	if (f->index)
		return -EINVAL;
	f->pixelformat = V4L2_META_FMT_KMS2V4L_DAMAGE;
	f->flags = 0;
	strscpy(f->description, kms2v4l_meta_desc, sizeof(f->description));
	return 0;
}

/* The one format, for G_FMT, S_FMT and TRY_FMT alike. */
static int kms2v4l_meta_fmt(struct file *file, void *priv,
			    struct v4l2_format *f)
{
	f->fmt.meta.dataformat = V4L2_META_FMT_KMS2V4L_DAMAGE;
	f->fmt.meta.buffersize = sizeof(struct kms2v4l_damage_meta);
	return 0;
}

static const struct v4l2_file_operations kms2v4l_meta_fops = {
	.owner = THIS_MODULE,
	.open = v4l2_fh_open,
	.release = vb2_fop_release,
	.poll = vb2_fop_poll,
	.mmap = vb2_fop_mmap,
	.unlocked_ioctl = video_ioctl2,
};

static const struct v4l2_ioctl_ops kms2v4l_meta_ioctl_ops = {
	.vidioc_querycap = kms2v4l_querycap,
	.vidioc_enum_fmt_meta_cap = kms2v4l_meta_enum_fmt,
	.vidioc_g_fmt_meta_cap = kms2v4l_meta_fmt,
	.vidioc_s_fmt_meta_cap = kms2v4l_meta_fmt,
	.vidioc_try_fmt_meta_cap = kms2v4l_meta_fmt,

	.vidioc_enum_input = kms2v4l_enum_input,
	.vidioc_g_input = kms2v4l_g_input,
	.vidioc_s_input = kms2v4l_s_input,

	.vidioc_reqbufs = vb2_ioctl_reqbufs,
	.vidioc_create_bufs = vb2_ioctl_create_bufs,
	.vidioc_prepare_buf = vb2_ioctl_prepare_buf,
	.vidioc_querybuf = vb2_ioctl_querybuf,
	.vidioc_qbuf = vb2_ioctl_qbuf,
	.vidioc_dqbuf = vb2_ioctl_dqbuf,
	.vidioc_expbuf = vb2_ioctl_expbuf,
	.vidioc_streamon = vb2_ioctl_streamon,
	.vidioc_streamoff = vb2_ioctl_streamoff,
};

static int kms2v4l_meta_queue_setup(struct vb2_queue *vq,
				    unsigned int *nbuffers,
				    unsigned int *nplanes, unsigned int sizes[],
				    struct device *alloc_devs[])
{
	if (*nplanes)
		return sizes[0] < sizeof(struct kms2v4l_damage_meta) ? -EINVAL : 0;
	*nplanes = 1;
	sizes[0] = sizeof(struct kms2v4l_damage_meta);
	return 0;
}

static int kms2v4l_meta_buf_prepare(struct vb2_buffer *vb)
{
	if (vb2_plane_size(vb, 0) < sizeof(struct kms2v4l_damage_meta))
		return -EINVAL;
	vb2_set_plane_payload(vb, 0, sizeof(struct kms2v4l_damage_meta));
	return 0;
}

static void kms2v4l_meta_buf_queue(struct vb2_buffer *vb)
{
	struct kms2v4l_source *src = vb2_get_drv_priv(vb->vb2_queue);
	struct kms2v4l_meta_buffer *buf =
		container_of(to_vb2_v4l2_buffer(vb), struct kms2v4l_meta_buffer, vb);
	unsigned long flags;

	spin_lock_irqsave(&src->qlock, flags);
	list_add_tail(&buf->list, &src->meta_list);
	spin_unlock_irqrestore(&src->qlock, flags);
}

/* Give every queued damage buffer back to vb2 in @state. */
static void kms2v4l_meta_return_all(struct kms2v4l_source *src,
				    enum vb2_buffer_state state)
{
	struct kms2v4l_meta_buffer *buf, *tmp;
	unsigned long flags;
	LIST_HEAD(bufs);

	spin_lock_irqsave(&src->qlock, flags);
	list_splice_init(&src->meta_list, &bufs);
	spin_unlock_irqrestore(&src->qlock, flags);

	list_for_each_entry_safe(buf, tmp, &bufs, list) {
		list_del(&buf->list);
		vb2_buffer_done(&buf->vb.vb2_buf, state);
	}
}

static int kms2v4l_meta_start_streaming(struct vb2_queue *vq,
					unsigned int count)
{
	struct kms2v4l_source *src = vb2_get_drv_priv(vq);
	unsigned long flags;

	spin_lock_irqsave(&src->qlock, flags);
	src->meta_streaming = true;
	src->meta_full = true;
	spin_unlock_irqrestore(&src->qlock, flags);
	return 0;
}

static void kms2v4l_meta_stop_streaming(struct vb2_queue *vq)
{
	struct kms2v4l_source *src = vb2_get_drv_priv(vq);
	unsigned long flags;

	spin_lock_irqsave(&src->qlock, flags);
	src->meta_streaming = false;
	spin_unlock_irqrestore(&src->qlock, flags);
	kms2v4l_meta_return_all(src, VB2_BUF_STATE_ERROR);
}

static const struct vb2_ops kms2v4l_meta_vb2_ops = {
	.queue_setup = kms2v4l_meta_queue_setup,
	.buf_prepare = kms2v4l_meta_buf_prepare,
	.buf_queue = kms2v4l_meta_buf_queue,
	.start_streaming = kms2v4l_meta_start_streaming,
	.stop_streaming = kms2v4l_meta_stop_streaming,
	.wait_prepare = vb2_ops_wait_prepare,
	.wait_finish = vb2_ops_wait_finish,
};

/**
 * kms2v4l_meta_frame() - the damage record of a delivered frame
 * @src: the source
 * @buf: the frame's buffer, its sequence and damage set
 * @width: the frame's width
 * @height: the frame's height
 * @timestamp: the frame's timestamp, ns
 *
 * With @qlock held, any context: completes the oldest queued damage
 * buffer with the damage since the record before, or keeps the frame's
 * damage for the next record if none is queued.
 */
void kms2v4l_meta_frame(struct kms2v4l_source *src,
			const struct kms2v4l_buffer *buf,
			unsigned int width, unsigned int height, u64 timestamp)
{
	struct kms2v4l_damage_meta *rec;
	struct kms2v4l_meta_buffer *mb;
	struct drm_rect all;
	unsigned int i;

	BUILD_BUG_ON(KMS2V4L_REGION_RECTS > KMS2V4L_DAMAGE_MAX_RECTS);
	lockdep_assert_held(&src->qlock);
	if (!src->meta_streaming)
		return;
	drm_rect_init(&all, 0, 0, width, height);
	kms2v4l_region_or(&src->meta_acc, &buf->damage);
	if (list_empty(&src->meta_list))
		return;
	mb = list_first_entry(&src->meta_list, struct kms2v4l_meta_buffer, list);
	list_del(&mb->list);

	rec = vb2_plane_vaddr(&mb->vb.vb2_buf, 0);
	if (!rec) {
		vb2_buffer_done(&mb->vb.vb2_buf, VB2_BUF_STATE_ERROR);
		return;
	}
	memset(rec, 0, sizeof(*rec));
	rec->sequence = buf->vb.sequence;
	rec->width = width;
	rec->height = height;
	if (src->meta_full)
		kms2v4l_region_set(&src->meta_acc, &all);
	kms2v4l_region_clip(&src->meta_acc, &all);
	rec->num_rects = src->meta_acc.n;
	for (i = 0; i < src->meta_acc.n; i++) {
		const struct drm_rect *r = &src->meta_acc.r[i];

		rec->rects[i].x = r->x1;
		rec->rects[i].y = r->y1;
		rec->rects[i].width = drm_rect_width(r);
		rec->rects[i].height = drm_rect_height(r);
		if (drm_rect_equals(r, &all))
			rec->flags |= KMS2V4L_DAMAGE_FULL;
	}
	src->meta_acc.n = 0;
	src->meta_full = false;

	mb->vb.sequence = buf->vb.sequence;
	mb->vb.field = V4L2_FIELD_NONE;
	mb->vb.vb2_buf.timestamp = timestamp;
	vb2_buffer_done(&mb->vb.vb2_buf, VB2_BUF_STATE_DONE);
}

/**
 * kms2v4l_meta_init() - set up the damage node's queue and device
 * @src: the source, its capture node set up, @meta_lock and @meta_list
 *	initialised
 *
 * Return: 0 or a negative errno from vb2_queue_init().
 */
int kms2v4l_meta_init(struct kms2v4l_source *src)
{
	struct vb2_queue *q = &src->meta_queue;
	struct video_device *vdev = &src->meta_vdev;
	int ret;

	q->type = V4L2_BUF_TYPE_META_CAPTURE;
	q->io_modes = VB2_MMAP | VB2_USERPTR | VB2_DMABUF;
	q->drv_priv = src;
	q->buf_struct_size = sizeof(struct kms2v4l_meta_buffer);
	q->ops = &kms2v4l_meta_vb2_ops;
	q->mem_ops = &vb2_vmalloc_memops;
	q->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC |
			     V4L2_BUF_FLAG_TSTAMP_SRC_SOE;
	q->lock = &src->meta_lock;
	ret = vb2_queue_init(q);
	if (ret)
		return ret;

	snprintf(vdev->name, sizeof(vdev->name), "%s damage", src->vdev.name);
	vdev->fops = &kms2v4l_meta_fops;
	vdev->ioctl_ops = &kms2v4l_meta_ioctl_ops;
	vdev->v4l2_dev = &src->v4l2_dev;
	vdev->dev_parent = src->vdev.dev_parent;
	vdev->queue = q;
	vdev->lock = &src->meta_lock;
	vdev->device_caps = V4L2_CAP_META_CAPTURE | V4L2_CAP_STREAMING;
	vdev->release = video_device_release_empty;
	video_set_drvdata(vdev, src);
	return 0;
}
