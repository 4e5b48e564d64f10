// SPDX-License-Identifier: GPL-2.0-only
/*
 * kms2v4l - the video capture node: ioctls, file operations and vb2
 */

#include <linux/videodev2.h>
#include <uapi/linux/v4l2-dv-timings.h>
#include <media/v4l2-dv-timings.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>
#include <media/videobuf2-vmalloc.h>

#include "kms2v4l-priv.h"

#define KMS2V4L_MIN_WIDTH	1
#define KMS2V4L_MAX_WIDTH	8192
#define KMS2V4L_MIN_HEIGHT	1
#define KMS2V4L_MAX_HEIGHT	8192

static const struct v4l2_dv_timings_cap kms2v4l_timings_cap = {
	.type = V4L2_DV_BT_656_1120,
	/* keep this initialization for compatibility with GCC < 4.4.6 */
	.reserved = { 0 },
	V4L2_INIT_BT_TIMINGS(KMS2V4L_MIN_WIDTH, KMS2V4L_MAX_WIDTH,
			     KMS2V4L_MIN_HEIGHT, KMS2V4L_MAX_HEIGHT,
			     1000, 2000000000ULL,
			     V4L2_DV_BT_STD_CEA861 | V4L2_DV_BT_STD_DMT |
			     V4L2_DV_BT_STD_CVT | V4L2_DV_BT_STD_GTF,
			     V4L2_DV_BT_CAP_PROGRESSIVE |
			     V4L2_DV_BT_CAP_REDUCED_BLANKING |
			     V4L2_DV_BT_CAP_CUSTOM)
};

/* ioctl handlers */

/* Of the capture node and of the damage node: the same bus_info. */
int kms2v4l_querycap(struct file *file, void *priv, struct v4l2_capability *cap)
{
	struct kms2v4l_source *src = video_drvdata(file);

	strscpy(cap->driver, KMS2V4L_NAME, sizeof(cap->driver));
	strscpy(cap->card, video_devdata(file)->name, sizeof(cap->card));
	snprintf(cap->bus_info, sizeof(cap->bus_info), "platform:%s-card%u-crtc%u",
		 src->driver, src->card, src->crtc_index);
	return 0;
}

static int kms2v4l_enum_fmt_vid_cap(struct file *file, void *priv,
				    struct v4l2_fmtdesc *f)
{
	struct kms2v4l_source *src = video_drvdata(file);
	struct v4l2_dv_timings t;
	unsigned int i, n = 0;

	/* The formats this size can be stored in. */
	kms2v4l_get_format(src, NULL, &t);
	for (i = 0; i < src->num_formats; i++) {
		if (!kms2v4l_format_fits(&src->formats[i], &t))
			continue;
		if (n++ == f->index) {
			f->pixelformat = src->formats[i].fourcc;
			return 0;
		}
	}
	return -EINVAL;
}

static int kms2v4l_g_fmt_vid_cap(struct file *file, void *priv,
				 struct v4l2_format *f)
{
	struct kms2v4l_source *src = video_drvdata(file);

	kms2v4l_get_format(src, &f->fmt.pix, NULL);
	return 0;
}

/* The size is the signal's: only the pixel format is negotiable. */
static int kms2v4l_try_fmt_vid_cap(struct file *file, void *priv,
				   struct v4l2_format *f)
{
	struct kms2v4l_source *src = video_drvdata(file);
	const struct kms2v4l_format *format;
	struct v4l2_dv_timings t;

	kms2v4l_get_format(src, NULL, &t);
	format = kms2v4l_format_find(src, f->fmt.pix.pixelformat, &t);
	if (!format)
		format = &src->formats[0];
	kms2v4l_fill_pix_format(&f->fmt.pix, format, &t);
	return 0;
}

static int kms2v4l_s_fmt_vid_cap(struct file *file, void *priv,
				 struct v4l2_format *f)
{
	struct kms2v4l_source *src = video_drvdata(file);
	unsigned long flags;
	int ret;

	ret = kms2v4l_try_fmt_vid_cap(file, priv, f);
	if (ret)
		return ret;
	if (vb2_is_busy(&src->queue))
		return -EBUSY;
	spin_lock_irqsave(&src->qlock, flags);
	src->format = kms2v4l_format_find(src, f->fmt.pix.pixelformat,
					  &src->timings);
	if (!src->format)
		src->format = &src->formats[0];
	/* The size is the timings' (which may have moved since TRY_FMT). */
	kms2v4l_fill_pix_format(&src->fmt, src->format, &src->timings);
	f->fmt.pix = src->fmt;
	spin_unlock_irqrestore(&src->qlock, flags);
	return 0;
}

static int kms2v4l_enum_framesizes(struct file *file, void *priv,
				   struct v4l2_frmsizeenum *fsize)
{
	struct kms2v4l_source *src = video_drvdata(file);
	struct v4l2_dv_timings t;

	kms2v4l_get_format(src, NULL, &t);
	if (fsize->index || !kms2v4l_format_find(src, fsize->pixel_format, &t))
		return -EINVAL;
	fsize->type = V4L2_FRMSIZE_TYPE_DISCRETE;
	fsize->discrete.width = t.bt.width;
	fsize->discrete.height = t.bt.height;
	return 0;
}

static int kms2v4l_enum_frameintervals(struct file *file, void *priv,
				       struct v4l2_frmivalenum *fival)
{
	struct kms2v4l_source *src = video_drvdata(file);
	struct v4l2_dv_timings t;

	kms2v4l_get_format(src, NULL, &t);
	if (fival->index || !kms2v4l_format_find(src, fival->pixel_format, &t) ||
	    fival->width != t.bt.width || fival->height != t.bt.height)
		return -EINVAL;
	fival->type = V4L2_FRMIVAL_TYPE_DISCRETE;
	fival->discrete = v4l2_calc_timeperframe(&t);
	return 0;
}

static int kms2v4l_g_parm(struct file *file, void *priv,
			  struct v4l2_streamparm *parm)
{
	struct kms2v4l_source *src = video_drvdata(file);
	struct v4l2_dv_timings t;

	if (parm->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
		return -EINVAL;
	kms2v4l_get_format(src, NULL, &t);
	parm->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
	parm->parm.capture.timeperframe = v4l2_calc_timeperframe(&t);
	parm->parm.capture.readbuffers = 2;
	return 0;
}

/* The refresh rate is the CRTC's: S_PARM reports it back unchanged. */
static int kms2v4l_s_parm(struct file *file, void *priv,
			  struct v4l2_streamparm *parm)
{
	return kms2v4l_g_parm(file, priv, parm);
}

/* The one input, of the capture node and of the damage node. */
int kms2v4l_enum_input(struct file *file, void *priv, struct v4l2_input *inp)
{
	struct kms2v4l_source *src = video_drvdata(file);
	unsigned long flags;

	if (inp->index)
		return -EINVAL;
	inp->type = V4L2_INPUT_TYPE_CAMERA;
	if (video_devdata(file) == &src->vdev)
		inp->capabilities = V4L2_IN_CAP_DV_TIMINGS;
	snprintf(inp->name, sizeof(inp->name), "CRTC %u", src->crtc_index);
	spin_lock_irqsave(&src->qlock, flags);
	if (!src->lit)
		inp->status = V4L2_IN_ST_NO_SIGNAL;
	spin_unlock_irqrestore(&src->qlock, flags);
	return 0;
}

int kms2v4l_g_input(struct file *file, void *priv, unsigned int *i)
{
	*i = 0;
	return 0;
}

int kms2v4l_s_input(struct file *file, void *priv, unsigned int i)
{
	return i ? -EINVAL : 0;
}

static int kms2v4l_query_dv_timings(struct file *file, void *priv,
				    struct v4l2_dv_timings *timings)
{
	struct kms2v4l_source *src = video_drvdata(file);
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&src->qlock, flags);
	if (src->lit)
		*timings = src->mode;
	else
		ret = -ENOLINK;
	spin_unlock_irqrestore(&src->qlock, flags);
	return ret;
}

static int kms2v4l_g_dv_timings(struct file *file, void *priv,
				struct v4l2_dv_timings *timings)
{
	struct kms2v4l_source *src = video_drvdata(file);

	kms2v4l_get_format(src, NULL, timings);
	return 0;
}

static int kms2v4l_s_dv_timings(struct file *file, void *priv,
				struct v4l2_dv_timings *timings)
{
	struct kms2v4l_source *src = video_drvdata(file);
	struct v4l2_dv_timings cur;
	unsigned long flags;

	if (!v4l2_valid_dv_timings(timings, &kms2v4l_timings_cap, NULL, NULL))
		return -EINVAL;
	kms2v4l_get_format(src, NULL, &cur);
	if (v4l2_match_dv_timings(timings, &cur, 0, false))
		return 0;
	if (vb2_is_busy(&src->queue))
		return -EBUSY;
	spin_lock_irqsave(&src->qlock, flags);
	src->timings = *timings;
	if (!kms2v4l_format_fits(src->format, &src->timings))
		src->format = &src->formats[0];
	kms2v4l_fill_pix_format(&src->fmt, src->format, &src->timings);
	spin_unlock_irqrestore(&src->qlock, flags);
	return 0;
}

static int kms2v4l_enum_dv_timings(struct file *file, void *priv,
				   struct v4l2_enum_dv_timings *timings)
{
	struct kms2v4l_source *src = video_drvdata(file);
	unsigned long flags;
	int ret = 0;

	if (timings->pad)
		return -EINVAL;
	/* The one timing on offer is the CRTC's current mode. */
	spin_lock_irqsave(&src->qlock, flags);
	if (timings->index || !src->lit)
		ret = -EINVAL;
	else
		timings->timings = src->mode;
	spin_unlock_irqrestore(&src->qlock, flags);
	return ret;
}

static int kms2v4l_dv_timings_cap(struct file *file, void *priv,
				  struct v4l2_dv_timings_cap *cap)
{
	if (cap->pad)
		return -EINVAL;
	*cap = kms2v4l_timings_cap;
	return 0;
}

static int kms2v4l_subscribe_event(struct v4l2_fh *fh,
				   const struct v4l2_event_subscription *sub)
{
	switch (sub->type) {
	case V4L2_EVENT_SOURCE_CHANGE:
		return v4l2_src_change_event_subscribe(fh, sub);
	default:
		return v4l2_ctrl_subscribe_event(fh, sub);
	}
}

static const struct v4l2_file_operations kms2v4l_fops = {
	.owner = THIS_MODULE,
	.open = v4l2_fh_open,
	.release = vb2_fop_release,
	.read = vb2_fop_read,
	.poll = vb2_fop_poll,
	.mmap = vb2_fop_mmap,
	.unlocked_ioctl = video_ioctl2,
};

static const struct v4l2_ioctl_ops kms2v4l_ioctl_ops = {
	.vidioc_querycap = kms2v4l_querycap,
	.vidioc_enum_fmt_vid_cap = kms2v4l_enum_fmt_vid_cap,
	.vidioc_g_fmt_vid_cap = kms2v4l_g_fmt_vid_cap,
	.vidioc_try_fmt_vid_cap = kms2v4l_try_fmt_vid_cap,
	.vidioc_s_fmt_vid_cap = kms2v4l_s_fmt_vid_cap,
	.vidioc_enum_framesizes = kms2v4l_enum_framesizes,
	.vidioc_enum_frameintervals = kms2v4l_enum_frameintervals,
	.vidioc_g_parm = kms2v4l_g_parm,
	.vidioc_s_parm = kms2v4l_s_parm,

	.vidioc_enum_input = kms2v4l_enum_input,
	.vidioc_g_input = kms2v4l_g_input,
	.vidioc_s_input = kms2v4l_s_input,
	.vidioc_query_dv_timings = kms2v4l_query_dv_timings,
	.vidioc_g_dv_timings = kms2v4l_g_dv_timings,
	.vidioc_s_dv_timings = kms2v4l_s_dv_timings,
	.vidioc_enum_dv_timings = kms2v4l_enum_dv_timings,
	.vidioc_dv_timings_cap = kms2v4l_dv_timings_cap,

	.vidioc_reqbufs = vb2_ioctl_reqbufs,
	.vidioc_create_bufs = vb2_ioctl_create_bufs,
	.vidioc_prepare_buf = vb2_ioctl_prepare_buf,
	.vidioc_querybuf = vb2_ioctl_querybuf,
	.vidioc_qbuf = vb2_ioctl_qbuf,
	.vidioc_dqbuf = vb2_ioctl_dqbuf,
	.vidioc_expbuf = vb2_ioctl_expbuf,
	.vidioc_streamon = vb2_ioctl_streamon,
	.vidioc_streamoff = vb2_ioctl_streamoff,

	.vidioc_log_status = v4l2_ctrl_log_status,
	.vidioc_subscribe_event = kms2v4l_subscribe_event,
	.vidioc_unsubscribe_event = v4l2_event_unsubscribe,
};

/* vb2 callbacks */

static int kms2v4l_queue_setup(struct vb2_queue *vq, unsigned int *nbuffers,
			       unsigned int *nplanes, unsigned int sizes[],
			       struct device *alloc_devs[])
{
	struct kms2v4l_source *src = vb2_get_drv_priv(vq);
	unsigned long flags;
	unsigned int size;

	/*
	 * The first buffers of a format fix its size; up to here it
	 * follows the mode (a client may go straight to REQBUFS).
	 */
	if (!vq->num_buffers)
		kms2v4l_follow_mode(src);
	spin_lock_irqsave(&src->qlock, flags);
	src->fmt_locked = true;
	size = src->fmt.sizeimage;
	spin_unlock_irqrestore(&src->qlock, flags);

	if (*nplanes)
		return sizes[0] < size ? -EINVAL : 0;
	*nplanes = 1;
	sizes[0] = size;
	return 0;
}

static int kms2v4l_buf_prepare(struct vb2_buffer *vb)
{
	struct kms2v4l_source *src = vb2_get_drv_priv(vb->vb2_queue);
	unsigned long size = src->fmt.sizeimage;

	if (vb2_plane_size(vb, 0) < size) {
		dev_dbg(src->vdev.dev_parent, "%s: buffer of %lu bytes is too small for %lu\n",
			video_device_node_name(&src->vdev),
			vb2_plane_size(vb, 0), size);
		return -EINVAL;
	}
	vb2_set_plane_payload(vb, 0, size);
	return 0;
}

static int kms2v4l_buf_init(struct vb2_buffer *vb)
{
	struct kms2v4l_buffer *buf = to_kms2v4l_buffer(to_vb2_v4l2_buffer(vb));

	buf->frame = 0;
	buf->fence = NULL;
	return 0;
}

static void kms2v4l_buf_queue(struct vb2_buffer *vb)
{
	struct kms2v4l_source *src = vb2_get_drv_priv(vb->vb2_queue);
	struct kms2v4l_buffer *buf = to_kms2v4l_buffer(to_vb2_v4l2_buffer(vb));
	unsigned long flags;

	spin_lock_irqsave(&src->qlock, flags);
	list_add_tail(&buf->list, &src->buf_list);
	spin_unlock_irqrestore(&src->qlock, flags);
	kms2v4l_notify_due(src);
}

/**
 * kms2v4l_vid_cap_return_all() - give every queued buffer back to vb2
 * @src: the source
 * @state: VB2_BUF_STATE_QUEUED or VB2_BUF_STATE_ERROR
 */
void kms2v4l_vid_cap_return_all(struct kms2v4l_source *src,
				enum vb2_buffer_state state)
{
	struct kms2v4l_buffer *buf, *tmp;
	unsigned long flags;
	LIST_HEAD(bufs);

	spin_lock_irqsave(&src->qlock, flags);
	list_splice_init(&src->buf_list, &bufs);
	spin_unlock_irqrestore(&src->qlock, flags);

	list_for_each_entry_safe(buf, tmp, &bufs, list) {
		list_del(&buf->list);
		vb2_buffer_done(&buf->vb.vb2_buf, state);
	}
}

static bool kms2v4l_vid_cap_idle(struct kms2v4l_source *src)
{
	unsigned long flags;
	bool idle;

	spin_lock_irqsave(&src->qlock, flags);
	idle = !src->in_flight;
	spin_unlock_irqrestore(&src->qlock, flags);
	return idle;
}

static int kms2v4l_start_streaming(struct vb2_queue *vq, unsigned int count)
{
	struct kms2v4l_source *src = vb2_get_drv_priv(vq);
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&src->qlock, flags);
	src->stream_fmt = src->fmt;
	src->stream_format = src->format;
	src->stream = &src->stream_fmt;
	src->meta_full = true;
	src->sequence_valid = false;
	src->first_sequence = 0;
	src->produced = 0;
	spin_unlock_irqrestore(&src->qlock, flags);

	ret = src->funcs ? src->funcs->start(src) : -ENODEV;
	if (ret) {
		spin_lock_irqsave(&src->qlock, flags);
		src->stream = NULL;
		spin_unlock_irqrestore(&src->qlock, flags);
		kms2v4l_vid_cap_return_all(src, VB2_BUF_STATE_QUEUED);
		return ret;
	}
	/* the stream's first frame is due at once */
	kms2v4l_notify_due(src);
	return 0;
}

static void kms2v4l_stop_streaming(struct vb2_queue *vq)
{
	struct kms2v4l_source *src = vb2_get_drv_priv(vq);
	unsigned long flags;

	spin_lock_irqsave(&src->qlock, flags);
	src->stream = NULL;
	spin_unlock_irqrestore(&src->qlock, flags);

	if (src->funcs)
		src->funcs->stop(src);
	/* No new frame begins now; wait for the end of one being composed. */
	wait_event(src->idle, kms2v4l_vid_cap_idle(src));
	kms2v4l_vid_cap_return_all(src, VB2_BUF_STATE_ERROR);
}

static const struct vb2_ops kms2v4l_vb2_ops = {
	.queue_setup = kms2v4l_queue_setup,
	.buf_init = kms2v4l_buf_init,
	.buf_prepare = kms2v4l_buf_prepare,
	.buf_queue = kms2v4l_buf_queue,
	.start_streaming = kms2v4l_start_streaming,
	.stop_streaming = kms2v4l_stop_streaming,
	.wait_prepare = vb2_ops_wait_prepare,
	.wait_finish = vb2_ops_wait_finish,
};

/**
 * kms2v4l_vid_cap_init() - set up the queue and the video device
 * @src: the source, with @info, @lock and the format already set
 *
 * Return: 0 or a negative errno from vb2_queue_init().
 */
int kms2v4l_vid_cap_init(struct kms2v4l_source *src)
{
	struct vb2_queue *q = &src->queue;
	struct video_device *vdev = &src->vdev;
	int ret;

	q->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	q->io_modes = VB2_MMAP | VB2_USERPTR | VB2_DMABUF | VB2_READ;
	q->drv_priv = src;
	q->buf_struct_size = sizeof(struct kms2v4l_buffer);
	q->ops = &kms2v4l_vb2_ops;
	q->mem_ops = &vb2_vmalloc_memops;
	q->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC |
			     V4L2_BUF_FLAG_TSTAMP_SRC_SOE;
	q->lock = &src->lock;
	ret = vb2_queue_init(q);
	if (ret)
		return ret;

	snprintf(vdev->name, sizeof(vdev->name), "%s card%u CRTC %u",
		 src->driver, src->card, src->crtc_index);
	vdev->fops = &kms2v4l_fops;
	vdev->ioctl_ops = &kms2v4l_ioctl_ops;
	vdev->v4l2_dev = &src->v4l2_dev;
	vdev->dev_parent = src->crtc->dev->dev;
	vdev->queue = q;
	vdev->lock = &src->lock;
	vdev->ctrl_handler = &src->ctrls;
	vdev->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING |
			    V4L2_CAP_READWRITE;
	video_set_drvdata(vdev, src);
	return 0;
}
