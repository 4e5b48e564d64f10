// SPDX-License-Identifier: GPL-2.0-only
/*
 * kms2v4l - export what a KMS CRTC shows as a V4L2 capture device
 */

/**
 * DOC: kms2v4l overview
 *
 * A DRM driver offers a CRTC as a V4L2 video capture source with one
 * call, kms2v4l_crtc_init(), made while it sets up its mode objects
 * (before drm_dev_register()). It hands over the &drm_crtc, the DRM
 * formats it can write frames in (the core derives the V4L2 formats
 * from them) and two callbacks; everything else the core reads from the
 * CRTC: the node's names (driver, card, CRTC index and KMS id) at init,
 * and the mode, on/off state and connectors from the CRTC's atomic state
 * at each kms2v4l_crtc_update(), which the driver calls from its CRTC's
 * &drm_crtc_helper_funcs.atomic_enable, .atomic_disable and
 * .atomic_flush. The node goes away by itself when the DRM device is
 * released (a managed action), after the driver's last commit.
 *
 * The CRTC's mode is the node's input signal, as on an HDMI receiver:
 * QUERY_DV_TIMINGS returns it, or -ENOLINK while the CRTC is off; each
 * change of the mode (or of the CRTC's on/off state) queues a
 * V4L2_EVENT_SOURCE_CHANGE. While no buffers are allocated the format's
 * size follows the mode as soon as the mode changes; once they are, the
 * size stays as negotiated (a change of refresh alone still shows in
 * G_PARM and the timings) and, while it differs from the mode, frames
 * are not delivered and queued buffers wait: the client is expected to
 * stop streaming, query the new timings, set them and restart.
 *
 * Frames: between @start and @stop, for each frame the CRTC shows, the
 * driver checks kms2v4l_frame_wanted() (cheap; false when no buffer is
 * queued, so nothing is composed for nobody), takes a buffer with
 * kms2v4l_frame_begin(), writes the frame's pixels into
 * &kms2v4l_frame.map (system or I/O memory; at least &kms2v4l_frame.clip,
 * &kms2v4l_frame.age tells what the buffer already holds), sets the
 * frame's vblank counter and time and completes it with
 * kms2v4l_frame_end(). Only the begin must run in process context;
 * the end may come from any context, hard interrupts included. A driver
 * whose device has no vblank support gets sequence numbers from the
 * core's own count of frames and, if it gives no time, the time of the
 * frame's end.
 *
 * Damage: kms2v4l_crtc_update() works out what each commit changed on
 * the CRTC from the atomic state alone (planes that appeared, went,
 * moved or changed how they blend; else their FB_DAMAGE_CLIPS, which is
 * also how DIRTYFB reaches a driver using drm_atomic_helper_dirtyfb();
 * everything on a modeset) and keeps it with the CRTC state the commit
 * made, up to four commits apart. A frame begun for a CRTC state takes
 * the damage of that state's commit and of those before it; a later
 * commit's damage waits for a later frame, so a driver may compose an
 * older state (vkms composes the state of the vblank) without losing
 * any. kms2v4l_crtc_damage() adds damage no commit reports. The damage
 * of the last eight delivered frames is remembered: with partial frames
 * (V4L2_CID_KMS2V4L_PARTIAL_FRAMES, set by clients that never write into
 * their buffers) &kms2v4l_frame.clip is the union of the damage since
 * the frame the buffer holds, and the whole frame when that is unknown
 * (a new buffer, one older than that history, a commit whose state was
 * not told apart, another frame still being written). With on-change
 * pacing (V4L2_CID_KMS2V4L_FRAME_PACING) a frame is only wanted, and
 * only begun, when some damage is pending, or for a stream's first. A
 * driver may stop producing frames while none is wanted (vkms lets its
 * vblank timer stop); &kms2v4l_funcs.frame_due tells it when one may be
 * again.
 *
 * Buffer sequence numbers count vblanks from the stream's first frame
 * (so each stream starts at 0); the read-only control
 * V4L2_CID_KMS2V4L_SEQUENCE_BASE holds that first frame's vblank
 * counter, so a frame shows vblank (base + sequence) and can be matched
 * with the flip events of KMS. A vblank without a queued buffer is a
 * dropped frame, visible as a gap in the sequence numbers.
 *
 * Between kms2v4l_frame_begin() and kms2v4l_frame_end() the driver is
 * in a dma-fence signalling section (an imported dma-buf carries the
 * frame's write fence): it must not allocate memory that may reclaim,
 * nor wait on fences or on locks held around such allocations. A driver
 * that writes the frame in one task annotates that section with
 * dma_fence_begin_signalling() and dma_fence_end_signalling(); the core
 * annotates its own part of it.
 *
 * A driver that composes nothing, and so has no frames to give, joins
 * with kms2v4l_mirror_init() instead: the core reads the frames back
 * from the primary plane's framebuffer (see "mirroring a CRTC" in
 * kms2v4l-mirror.c).
 *
 * Memory is vmalloc-backed vb2 (MMAP, USERPTR, DMABUF import, EXPBUF).
 */

#include <drm/drm_atomic.h>
#include <drm/drm_connector.h>
#include <drm/drm_crtc.h>
#include <drm/drm_damage_helper.h>
#include <drm/drm_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_framebuffer.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <drm/drm_rect.h>
#include <drm/drm_vblank.h>
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

static int kms2v4l_g_volatile_ctrl(struct v4l2_ctrl *ctrl)
{
	struct kms2v4l_source *src =
		container_of(ctrl->handler, struct kms2v4l_source, ctrls);
	struct drm_connector_list_iter iter;
	struct drm_connector *connector;
	unsigned long flags;
	size_t len = 0;
	u32 mask;

	spin_lock_irqsave(&src->qlock, flags);
	mask = src->lit ? src->connector_mask : 0;
	switch (ctrl->id) {
	case V4L2_CID_DV_RX_POWER_PRESENT:
		ctrl->val = src->lit;
		break;
	case V4L2_CID_KMS2V4L_SEQUENCE_BASE:
		*ctrl->p_new.p_s64 = src->first_sequence;
		break;
	}
	spin_unlock_irqrestore(&src->qlock, flags);

	if (ctrl->id != V4L2_CID_KMS2V4L_CONNECTORS)
		return 0;
	/* Under the node's lock: @src->crtc stays valid. */
	ctrl->p_new.p_char[0] = '\0';
	if (!mask || !src->crtc)
		return 0;
	drm_connector_list_iter_begin(src->crtc->dev, &iter);
	drm_for_each_connector_iter(connector, &iter) {
		if (!(mask & drm_connector_mask(connector)))
			continue;
		len += scnprintf(ctrl->p_new.p_char + len, ctrl->maximum + 1 - len,
				 "%s%s", len ? "," : "", connector->name);
	}
	drm_connector_list_iter_end(&iter);
	return 0;
}

/**
 * kms2v4l_notify_due() - tell the driver a frame may have become due
 * @src: the source
 *
 * Calls &kms2v4l_funcs.frame_due while a client streams. Not with @qlock
 * held: the driver asks kms2v4l_frame_wanted() from there.
 */
void kms2v4l_notify_due(struct kms2v4l_source *src)
{
	const struct kms2v4l_funcs *funcs = READ_ONCE(src->funcs);

	if (funcs && funcs->frame_due && READ_ONCE(src->stream))
		funcs->frame_due(src);
}

static int kms2v4l_s_ctrl(struct v4l2_ctrl *ctrl)
{
	struct kms2v4l_source *src =
		container_of(ctrl->handler, struct kms2v4l_source, ctrls);
	unsigned long flags;

	spin_lock_irqsave(&src->qlock, flags);
	switch (ctrl->id) {
	case V4L2_CID_KMS2V4L_FRAME_PACING:
		src->pacing = ctrl->val;
		break;
	case V4L2_CID_KMS2V4L_PARTIAL_FRAMES:
		src->partial = ctrl->val;
		break;
	}
	spin_unlock_irqrestore(&src->qlock, flags);
	if (ctrl->id == V4L2_CID_KMS2V4L_FRAME_PACING)
		kms2v4l_notify_due(src);
	return 0;
}

static const struct v4l2_ctrl_ops kms2v4l_ctrl_ops = {
	.g_volatile_ctrl = kms2v4l_g_volatile_ctrl,
	.s_ctrl = kms2v4l_s_ctrl,
};

static const char * const kms2v4l_pacing_menu[] = {
	[V4L2_KMS2V4L_PACING_VBLANK] = "Every Vblank",
	[V4L2_KMS2V4L_PACING_ON_CHANGE] = "On Change",
	NULL,
};

static const struct v4l2_ctrl_config kms2v4l_pacing_ctrl = {
	.ops = &kms2v4l_ctrl_ops,
	.id = V4L2_CID_KMS2V4L_FRAME_PACING,
	.name = "Frame Pacing",
	.type = V4L2_CTRL_TYPE_MENU,
	.max = V4L2_KMS2V4L_PACING_ON_CHANGE,
	.def = V4L2_KMS2V4L_PACING_VBLANK,
	.qmenu = kms2v4l_pacing_menu,
};

static const struct v4l2_ctrl_config kms2v4l_partial_ctrl = {
	.ops = &kms2v4l_ctrl_ops,
	.id = V4L2_CID_KMS2V4L_PARTIAL_FRAMES,
	.name = "Partial Frames",
	.type = V4L2_CTRL_TYPE_BOOLEAN,
	.min = 0,
	.max = 1,
	.step = 1,
	.def = 0,
};

static const struct v4l2_ctrl_config kms2v4l_sequence_base_ctrl = {
	.ops = &kms2v4l_ctrl_ops,
	.id = V4L2_CID_KMS2V4L_SEQUENCE_BASE,
	.name = "Sequence Base (vblank)",
	.type = V4L2_CTRL_TYPE_INTEGER64,
	.flags = V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_VOLATILE,
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
	.ops = &kms2v4l_ctrl_ops,
	.id = V4L2_CID_KMS2V4L_CONNECTORS,
	.name = "DRM Connectors",
	.type = V4L2_CTRL_TYPE_STRING,
	.flags = V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_VOLATILE,
	.min = 0,
	.max = KMS2V4L_CONNECTORS_MAX - 1,
	.step = 1,
};

static int kms2v4l_ctrls_init(struct kms2v4l_source *src)
{
	struct v4l2_ctrl_handler *hdl = &src->ctrls;
	struct v4l2_ctrl_config crtc_id = kms2v4l_crtc_id_ctrl;
	struct v4l2_ctrl *power;

	v4l2_ctrl_handler_init(hdl, 6);
	power = v4l2_ctrl_new_std(hdl, &kms2v4l_ctrl_ops,
				  V4L2_CID_DV_RX_POWER_PRESENT, 0, 1, 0, 0);
	if (power)
		power->flags |= V4L2_CTRL_FLAG_VOLATILE;
	v4l2_ctrl_new_custom(hdl, &kms2v4l_sequence_base_ctrl, NULL);
	crtc_id.def = min_t(u32, src->crtc_id, S32_MAX);
	v4l2_ctrl_new_custom(hdl, &crtc_id, NULL);
	v4l2_ctrl_new_custom(hdl, &kms2v4l_connectors_ctrl, NULL);
	v4l2_ctrl_new_custom(hdl, &kms2v4l_pacing_ctrl, NULL);
	v4l2_ctrl_new_custom(hdl, &kms2v4l_partial_ctrl, NULL);
	return hdl->error;
}

static void kms2v4l_v4l2_release(struct v4l2_device *v4l2_dev)
{
	struct kms2v4l_source *src =
		container_of(v4l2_dev, struct kms2v4l_source, v4l2_dev);

	v4l2_ctrl_handler_free(&src->ctrls);
	v4l2_device_unregister(&src->v4l2_dev);
	mutex_destroy(&src->meta_lock);
	mutex_destroy(&src->lock);
	kfree(src);
}

/*
 * The DRM device is going away, after its last commit: stop a running
 * stream (the driver's @stop is called), make the node disappear and
 * cut every tie to the driver. Clients that still hold the node open
 * get errors; the memory goes with the last of them.
 */
void kms2v4l_detach(struct kms2v4l_source *src)
{
	if (src->unplugged)
		return;
	src->unplugged = true;
	v4l2_device_disconnect(&src->v4l2_dev);
	vb2_video_unregister_device(&src->meta_vdev);
	vb2_video_unregister_device(&src->vdev);
	mutex_lock(&src->lock);
	WRITE_ONCE(src->funcs, NULL);
	src->crtc = NULL;
	mutex_unlock(&src->lock);
}

static void kms2v4l_crtc_release(struct drm_device *drm, void *data)
{
	struct kms2v4l_source *src = data;

	kms2v4l_detach(src);
	v4l2_device_put(&src->v4l2_dev);
}

/**
 * kms2v4l_crtc_unplug() - remove a CRTC's capture node before the DRM
 *	device is released
 * @src: from kms2v4l_crtc_init(), or NULL
 *
 * The node is a child of the DRM device's parent device and otherwise
 * goes when the DRM device is released, which clients holding the DRM
 * device open can delay. A driver that removes the parent device at
 * that point (a virtual device destroyed at the user's request) calls
 * this after drm_dev_unregister() and its last commit, and before it
 * removes the parent: the node goes now, as it would at release
 * (a stream is stopped, clients get errors), and nothing more of the
 * driver is called. Process context.
 */
void kms2v4l_crtc_unplug(struct kms2v4l_source *src)
{
	if (src)
		kms2v4l_detach(src);
}
EXPORT_SYMBOL_GPL(kms2v4l_crtc_unplug);

/**
 * kms2v4l_crtc_init() - offer a CRTC as a V4L2 capture node
 * @crtc: the CRTC, initialised, its device not yet registered
 * @formats: the DRM formats the driver can write a frame in, preferred
 *	first (the first is the node's default)
 * @num_formats: entries of @formats (at most 16)
 * @funcs: the driver's callbacks
 * @priv: driver data, returned by kms2v4l_source_priv()
 *
 * The node lives until the DRM device is released; the driver need not
 * remove it. Call before drm_dev_register(), so that no modeset happens
 * before the node exists.
 *
 * Return: the source, or an ERR_PTR() on failure.
 */
struct kms2v4l_source *kms2v4l_crtc_init(struct drm_crtc *crtc,
					 const u32 *formats,
					 unsigned int num_formats,
					 const struct kms2v4l_funcs *funcs,
					 void *priv)
{
	struct drm_device *drm = crtc->dev;
	struct kms2v4l_source *src;
	int ret;

	if (!funcs || !funcs->start || !funcs->stop || !drm->primary)
		return ERR_PTR(-EINVAL);

	src = kzalloc(sizeof(*src), GFP_KERNEL);
	if (!src)
		return ERR_PTR(-ENOMEM);
	src->crtc = crtc;
	src->funcs = funcs;
	src->priv = priv;
	src->driver = drm->driver->name;
	src->card = drm->primary->index;
	src->crtc_index = drm_crtc_index(crtc);
	src->crtc_id = crtc->base.id;
	src->has_vblank = drm_dev_has_vblank(drm);
	ret = kms2v4l_formats_init(src, formats, num_formats);
	if (ret)
		goto free_src;
	mutex_init(&src->lock);
	mutex_init(&src->meta_lock);
	INIT_LIST_HEAD(&src->meta_list);
	spin_lock_init(&src->qlock);
	INIT_LIST_HEAD(&src->buf_list);
	init_waitqueue_head(&src->idle);
	src->fence_context = dma_fence_context_alloc(1);
	src->timings = kms2v4l_default_timings;
	src->format = &src->formats[0];
	kms2v4l_fill_pix_format(&src->fmt, src->format, &src->timings);

	snprintf(src->v4l2_dev.name, sizeof(src->v4l2_dev.name),
		 "%s-%s-card%u-crtc%u", KMS2V4L_NAME, src->driver, src->card,
		 src->crtc_index);
	ret = v4l2_device_register(NULL, &src->v4l2_dev);
	if (ret)
		goto destroy_lock;

	ret = kms2v4l_ctrls_init(src);
	if (ret)
		goto free_ctrls;

	ret = kms2v4l_vid_cap_init(src);
	if (ret)
		goto free_ctrls;
	ret = kms2v4l_meta_init(src);
	if (ret)
		goto free_ctrls;

	src->vdev.release = video_device_release_empty;
	ret = video_register_device(&src->vdev, VFL_TYPE_VIDEO, -1);
	if (ret)
		goto free_ctrls;
	/* The capture node works without its damage node. */
	if (video_register_device(&src->meta_vdev, VFL_TYPE_VIDEO, -1))
		drm_warn(drm, "%s: CRTC %u: no damage node\n", KMS2V4L_NAME,
			 src->crtc_index);

	/* From here on, the last reference frees @src. */
	src->v4l2_dev.release = kms2v4l_v4l2_release;
	ret = drmm_add_action_or_reset(drm, kms2v4l_crtc_release, src);
	if (ret)
		return ERR_PTR(ret);

	drm_info(drm, "%s: CRTC %u (id %u) as %s, its damage as %s\n",
		 KMS2V4L_NAME, src->crtc_index, src->crtc_id,
		 video_device_node_name(&src->vdev),
		 video_is_registered(&src->meta_vdev) ?
		 video_device_node_name(&src->meta_vdev) : "(none)");
	return src;

free_ctrls:
	v4l2_ctrl_handler_free(&src->ctrls);
	v4l2_device_unregister(&src->v4l2_dev);
destroy_lock:
	mutex_destroy(&src->meta_lock);
	mutex_destroy(&src->lock);
free_src:
	kfree(src);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(kms2v4l_crtc_init);

/**
 * kms2v4l_source_priv() - the driver data given at kms2v4l_crtc_init()
 * @src: the source
 *
 * Return: the driver data.
 */
void *kms2v4l_source_priv(struct kms2v4l_source *src)
{
	return src->priv;
}
EXPORT_SYMBOL_GPL(kms2v4l_source_priv);

/* With @qlock held: the format follows the mode as far as it may. */
static void kms2v4l_follow_mode_locked(struct kms2v4l_source *src)
{
	lockdep_assert_held(&src->qlock);
	if (!src->lit || v4l2_match_dv_timings(&src->mode, &src->timings, 0, false))
		return;
	if (!src->fmt_locked) {
		src->timings = src->mode;
		/* The first format (packed, RGB) fits every size. */
		if (!kms2v4l_format_fits(src->format, &src->timings))
			src->format = &src->formats[0];
		kms2v4l_fill_pix_format(&src->fmt, src->format, &src->timings);
	} else if (src->mode.bt.width == src->timings.bt.width &&
		   src->mode.bt.height == src->timings.bt.height) {
		/* Same size, other refresh: the buffers still fit. */
		src->timings = src->mode;
	}
}

/**
 * kms2v4l_follow_mode() - let an idle node's format follow the CRTC
 * @src: the source, with @src->lock held
 *
 * Once the buffers of a format are freed, its size is free to follow
 * the CRTC's mode again.
 */
void kms2v4l_follow_mode(struct kms2v4l_source *src)
{
	unsigned long flags;

	lockdep_assert_held(&src->lock);
	spin_lock_irqsave(&src->qlock, flags);
	if (!vb2_is_busy(&src->queue))
		src->fmt_locked = false;
	kms2v4l_follow_mode_locked(src);
	spin_unlock_irqrestore(&src->qlock, flags);
}

/**
 * kms2v4l_get_format() - the current format and timings, consistent
 * @src: the source, with @src->lock held
 * @fmt: filled with the format (may be NULL)
 * @timings: filled with the timings (may be NULL)
 */
void kms2v4l_get_format(struct kms2v4l_source *src,
			struct v4l2_pix_format *fmt,
			struct v4l2_dv_timings *timings)
{
	unsigned long flags;

	kms2v4l_follow_mode(src);
	spin_lock_irqsave(&src->qlock, flags);
	if (fmt)
		*fmt = src->fmt;
	if (timings)
		*timings = src->timings;
	spin_unlock_irqrestore(&src->qlock, flags);
}

/*
 * With @qlock held: add the damage of a commit that made @state (NULL:
 * damage of no commit). One entry per commit; when they run out, the
 * oldest two merge under the newer one's state, so a frame of the older
 * state finds none and gets a full frame.
 */
static void kms2v4l_damage_add(struct kms2v4l_source *src,
			       const struct drm_crtc_state *state,
			       const struct kms2v4l_region *rg)
{
	struct kms2v4l_damage *last;

	lockdep_assert_held(&src->qlock);
	last = src->num_pending ? &src->pending[src->num_pending - 1] : NULL;
	if (last && (!state || last->state == state)) {
		kms2v4l_region_or(&last->region, rg);
		return;
	}
	if (src->num_pending == KMS2V4L_DAMAGE_PENDING) {
		kms2v4l_region_or(&src->pending[1].region, &src->pending[0].region);
		memmove(&src->pending[0], &src->pending[1],
			sizeof(src->pending[0]) * --src->num_pending);
	}
	last = &src->pending[src->num_pending++];
	last->state = state;
	last->region = *rg;
}

/* The CRTC area a plane shows; false if it shows none. */
static bool kms2v4l_plane_area(const struct drm_plane_state *ps,
			       const struct drm_crtc *crtc, struct drm_rect *r)
{
	if (ps->crtc != crtc || !ps->visible || !ps->fb)
		return false;
	*r = ps->dst;
	return true;
}

/*
 * Whether a plane shows the same pixels of its framebuffer in the same
 * place, the same way, so its damage clips tell what changed.
 */
static bool kms2v4l_plane_same_place(const struct drm_plane_state *old,
				     const struct drm_plane_state *new)
{
	return drm_rect_equals(&old->dst, &new->dst) &&
	       drm_rect_equals(&old->src, &new->src) &&
	       old->normalized_zpos == new->normalized_zpos &&
	       old->alpha == new->alpha &&
	       old->pixel_blend_mode == new->pixel_blend_mode &&
	       old->rotation == new->rotation &&
	       old->color_encoding == new->color_encoding &&
	       old->color_range == new->color_range &&
	       old->fb && new->fb && old->fb->format == new->fb->format &&
	       old->fb->modifier == new->fb->modifier;
}

/*
 * What a commit changed on @crtc, as a region: everything on a
 * modeset; else, for each plane of the commit that is or was on @crtc,
 * its old and new areas if it appeared, went, moved or changed how it
 * blends, nothing if it kept its framebuffer and gave no damage clips,
 * or else its damage clips (FB_DAMAGE_CLIPS, DIRTYFB; none with a new
 * framebuffer means the whole plane) in CRTC coordinates.
 */
static void kms2v4l_commit_damage(struct drm_atomic_state *state,
				  const struct drm_crtc_state *new_cs,
				  struct kms2v4l_region *damage)
{
	struct drm_crtc *crtc = new_cs->crtc;
	const struct drm_crtc_state *old_cs;
	struct drm_plane_state *old_ps, *new_ps;
	struct drm_atomic_helper_damage_iter iter;
	struct drm_rect was, is, clip, all;
	struct drm_plane *plane;
	bool had, has;
	int i;

	old_cs = drm_atomic_get_old_crtc_state(state, crtc);
	if (!old_cs || !old_cs->active || drm_atomic_crtc_needs_modeset(new_cs) ||
	    new_cs->color_mgmt_changed) {
		drm_rect_init(&all, 0, 0, new_cs->mode.hdisplay,
			      new_cs->mode.vdisplay);
		kms2v4l_region_set(damage, &all);
		return;
	}
	damage->n = 0;
	for_each_oldnew_plane_in_state(state, plane, old_ps, new_ps, i) {
		int sw, sh;

		had = kms2v4l_plane_area(old_ps, crtc, &was);
		has = kms2v4l_plane_area(new_ps, crtc, &is);
		if (!had && !has)
			continue;
		if (had != has || !kms2v4l_plane_same_place(old_ps, new_ps)) {
			if (had)
				kms2v4l_region_add(damage, &was);
			if (has)
				kms2v4l_region_add(damage, &is);
			continue;
		}
		/*
		 * The same framebuffer where it was, without damage clips:
		 * a plane the driver added to the commit (vkms adds every
		 * plane of its CRTC), or one a client set to what it was.
		 * Nothing of it changed; drawing into a framebuffer that
		 * stays shown is told with DIRTYFB or FB_DAMAGE_CLIPS.
		 */
		if (old_ps->fb == new_ps->fb && !new_ps->fb_damage_clips)
			continue;
		sw = drm_rect_width(&new_ps->src) >> 16;
		sh = drm_rect_height(&new_ps->src) >> 16;
		if (new_ps->rotation != DRM_MODE_ROTATE_0 ||
		    sw != drm_rect_width(&is) || sh != drm_rect_height(&is)) {
			/* scaled or rotated: the whole plane */
			kms2v4l_region_add(damage, &is);
			continue;
		}
		drm_atomic_helper_damage_iter_init(&iter, old_ps, new_ps);
		drm_atomic_for_each_plane_damage(&iter, &clip) {
			drm_rect_translate(&clip, is.x1 - (new_ps->src.x1 >> 16),
					   is.y1 - (new_ps->src.y1 >> 16));
			if (drm_rect_intersect(&clip, &is))
				kms2v4l_region_add(damage, &clip);
		}
	}
}

/**
 * kms2v4l_crtc_update() - the CRTC's state changed
 * @src: the source
 * @state: the atomic state being committed
 *
 * Call from the CRTC's atomic_enable, atomic_disable and atomic_flush.
 * Reads the CRTC's new mode, whether it is on and the connectors it
 * drives; a change of mode or on/off state queues
 * V4L2_EVENT_SOURCE_CHANGE and, while no buffers are allocated, moves
 * the format to the new size at once. Also records what the commit
 * changed (see kms2v4l_commit_damage()), for the frames of @state and
 * those after it. Takes no sleeping lock and allocates nothing (it runs
 * in the commit's fence signalling path).
 */
void kms2v4l_crtc_update(struct kms2v4l_source *src,
			 struct drm_atomic_state *state)
{
	static const struct v4l2_event ev = {
		.type = V4L2_EVENT_SOURCE_CHANGE,
		.u.src_change.changes = V4L2_EVENT_SRC_CH_RESOLUTION,
	};
	const struct drm_crtc_state *cs;
	struct v4l2_dv_timings t = { };
	struct kms2v4l_region damage;
	unsigned long flags;
	bool lit, changed;

	/* after a mirror's unplug, the same commit may call again */
	if (IS_ERR_OR_NULL(src) || src->unplugged)
		return;
	cs = drm_atomic_get_new_crtc_state(state, src->crtc);
	if (!cs)
		return;
	lit = cs->active;
	if (lit)
		kms2v4l_mode_to_timings(&cs->mode, &t);
	kms2v4l_commit_damage(state, cs, &damage);

	spin_lock_irqsave(&src->qlock, flags);
	changed = src->lit != lit ||
		  (lit && !v4l2_match_dv_timings(&src->mode, &t, 0, false));
	src->mode = t;
	src->lit = lit;
	src->connector_mask = cs->connector_mask;
	kms2v4l_follow_mode_locked(src);
	kms2v4l_damage_add(src, cs, &damage);
	spin_unlock_irqrestore(&src->qlock, flags);
	if (src->mirror)
		kms2v4l_mirror_update(src->mirror, state, cs);

	if (changed && video_is_registered(&src->vdev))
		v4l2_event_queue(&src->vdev, &ev);
	kms2v4l_notify_due(src);
}
EXPORT_SYMBOL_GPL(kms2v4l_crtc_update);

/**
 * kms2v4l_crtc_damage() - part of what the CRTC shows changed
 * @src: the source
 * @rects: the changed rectangles, in CRTC coordinates
 * @num_rects: entries of @rects
 *
 * For changes no commit reports (a driver whose DIRTYFB does not go
 * through an atomic commit, say): they show in every frame begun after
 * this call. Any context.
 */
void kms2v4l_crtc_damage(struct kms2v4l_source *src,
			 const struct drm_rect *rects, unsigned int num_rects)
{
	struct kms2v4l_region rg = { };
	unsigned long flags;
	unsigned int i;

	if (IS_ERR_OR_NULL(src))
		return;
	for (i = 0; i < num_rects; i++)
		kms2v4l_region_add(&rg, &rects[i]);
	spin_lock_irqsave(&src->qlock, flags);
	kms2v4l_damage_add(src, NULL, &rg);
	spin_unlock_irqrestore(&src->qlock, flags);
	kms2v4l_notify_due(src);
}
EXPORT_SYMBOL_GPL(kms2v4l_crtc_damage);

/*
 * With @qlock held: whether a frame is to be delivered now, as far as the
 * pacing goes (the first of a stream always; on change, only when
 * something changed since the last one taken).
 */
static bool kms2v4l_frame_due(struct kms2v4l_source *src)
{
	unsigned int i;

	lockdep_assert_held(&src->qlock);
	if (src->pacing != V4L2_KMS2V4L_PACING_ON_CHANGE || !src->sequence_valid)
		return true;
	for (i = 0; i < src->num_pending; i++)
		if (src->pending[i].region.n)
			return true;
	return false;
}

/**
 * kms2v4l_frame_wanted() - is a capture buffer waiting for a frame?
 * @src: the source (NULL or an error pointer: no)
 *
 * Cheap, any context. A driver that produces frames only for capture
 * skips a frame nobody would receive.
 *
 * Return: whether a client streams, has a buffer queued and, with
 * V4L2_KMS2V4L_PACING_ON_CHANGE, whether anything changed since the last
 * frame.
 */
bool kms2v4l_frame_wanted(struct kms2v4l_source *src)
{
	unsigned long flags;
	bool wanted;

	if (IS_ERR_OR_NULL(src))
		return false;
	spin_lock_irqsave(&src->qlock, flags);
	wanted = src->stream && !list_empty(&src->buf_list) &&
		 kms2v4l_frame_due(src);
	spin_unlock_irqrestore(&src->qlock, flags);
	return wanted;
}
EXPORT_SYMBOL_GPL(kms2v4l_frame_wanted);

/* With @qlock held: take the oldest queued buffer, if the stream fits. */
static struct kms2v4l_buffer *
kms2v4l_take_buffer(struct kms2v4l_source *src,
		    const struct kms2v4l_shown *shown, int *err)
{
	struct kms2v4l_buffer *buf;

	lockdep_assert_held(&src->qlock);
	if (!src->stream) {
		*err = -ENODEV;
		return NULL;
	}
	if (!shown->active || shown->width != src->stream->width ||
	    shown->height != src->stream->height ||
	    list_empty(&src->buf_list) || !kms2v4l_frame_due(src)) {
		*err = -EAGAIN;
		return NULL;
	}
	buf = list_first_entry(&src->buf_list, struct kms2v4l_buffer, list);
	list_del(&buf->list);
	src->in_flight++;
	return buf;
}

/* Drop a frame from the in-flight count; wakes stop_streaming(). */
static void kms2v4l_frame_done(struct kms2v4l_source *src)
{
	unsigned long flags;
	bool idle;

	spin_lock_irqsave(&src->qlock, flags);
	idle = !--src->in_flight;
	spin_unlock_irqrestore(&src->qlock, flags);
	if (idle)
		wake_up_all(&src->idle);
}

/*
 * With @qlock held: @buf takes the damage of the commits up to @state's
 * (the frame shows them), and @frame gets the part of the buffer to
 * write: with partial frames, that damage and the damage of the frames
 * delivered since the one the buffer holds; otherwise (or when that is
 * not known) everything.
 */
static void kms2v4l_take_damage(struct kms2v4l_source *src,
				struct kms2v4l_buffer *buf,
				const struct drm_crtc_state *state,
				struct kms2v4l_frame *frame)
{
	const struct drm_format_info *info = frame->format;
	struct kms2v4l_region taken = { };
	struct drm_rect all, box = { };
	bool found = false, known = true;
	int i, j;
	u64 f;

	lockdep_assert_held(&src->qlock);
	drm_rect_init(&all, 0, 0, frame->width, frame->height);
	for (j = src->num_pending - 1; j >= 0; j--)
		if (src->pending[j].state == state)
			break;
	found = j >= 0;
	if (!found && src->num_pending && !src->pending[0].state)
		j = 0;
	for (i = 0; i <= j; i++)
		kms2v4l_region_or(&taken, &src->pending[i].region);
	src->num_pending -= j + 1;
	memmove(&src->pending[0], &src->pending[j + 1],
		sizeof(src->pending[0]) * src->num_pending);
	if (found)
		src->taken_state = state;
	else if (src->num_pending && state != src->taken_state)
		known = false;	/* its commit's entry merged into a later one */
	kms2v4l_region_clip(&taken, &all);
	if (known)
		buf->damage = taken;
	else
		kms2v4l_region_set(&buf->damage, &all);
	buf->state = state;

	frame->clip = all;
	if (!src->partial || !frame->age || !known || src->in_flight > 1 ||
	    frame->age - 1 > KMS2V4L_DAMAGE_HISTORY)
		return;
	/* the driver writes the bounding box of it all */
	kms2v4l_region_bounds(&taken, &box);
	for (f = buf->frame + 1; f <= src->frames; f++)
		kms2v4l_region_bounds(&src->history[f % KMS2V4L_DAMAGE_HISTORY], &box);
	if (!drm_rect_intersect(&box, &all)) {
		memset(&frame->clip, 0, sizeof(frame->clip));
		return;
	}
	/* whole samples of subsampled chroma */
	box.x1 = rounddown(box.x1, info->hsub);
	box.y1 = rounddown(box.y1, info->vsub);
	box.x2 = min_t(int, roundup(box.x2, info->hsub), frame->width);
	box.y2 = min_t(int, roundup(box.y2, info->vsub), frame->height);
	frame->clip = box;
}

/*
 * With @qlock held: a frame taken from @buf was not delivered; its damage
 * goes back for the next one, and the buffer's content is not known.
 */
static void kms2v4l_return_damage(struct kms2v4l_source *src,
				  struct kms2v4l_buffer *buf)
{
	lockdep_assert_held(&src->qlock);
	buf->frame = 0;
	if (!src->num_pending) {
		src->pending[0].state = buf->state;
		src->pending[0].region = buf->damage;
		src->num_pending = 1;
	} else {
		kms2v4l_region_or(&src->pending[0].region, &buf->damage);
	}
	/* a frame of a state whose entry is gone gets everything */
	src->taken_state = NULL;
}

/**
 * kms2v4l_frame_begin() - take the next buffer to write a frame into
 * @src: the source
 * @state: the CRTC state whose frame the driver is about to write
 * @frame: filled with the buffer's address, format and geometry
 *
 * Process context; may sleep (it allocates the frame's fence). @state
 * must be the CRTC state whose planes the frame shows: the frame takes
 * the damage of the commits up to it. Every successful call must be
 * followed by kms2v4l_frame_end(), from any context. Call it after the
 * driver's own allocations for the frame: from here to
 * kms2v4l_frame_end() the driver is in a fence signalling
 * section.
 *
 * Buffers are taken oldest first, skipping imported dma-bufs that
 * another device's fences still hold, or whose reservation lock is
 * contended: they are never waited on (see kms2v4l-fence.c). An
 * imported buffer carries the frame's write fence until
 * kms2v4l_frame_end().
 *
 * Return: 0 with @frame filled; -EAGAIN when no buffer is free, the
 * stream's size is not that of @state's mode (a dropped frame) or, with
 * on-change pacing, nothing changed; -ENODEV when nobody streams.
 */
int kms2v4l_frame_begin(struct kms2v4l_source *src,
			const struct drm_crtc_state *state,
			struct kms2v4l_frame *frame)
{
	struct kms2v4l_shown shown;

	if (IS_ERR_OR_NULL(src))
		return -ENODEV;
	shown.state = state;
	shown.active = state->active;
	shown.width = state->mode.hdisplay;
	shown.height = state->mode.vdisplay;
	return kms2v4l_frame_begin_shown(src, &shown, frame);
}
EXPORT_SYMBOL_GPL(kms2v4l_frame_begin);

/**
 * kms2v4l_frame_begin_shown() - kms2v4l_frame_begin() for a CRTC state
 *	described by its parts
 * @src: the source
 * @shown: the state's key (as given to the damage it takes), whether its
 *	CRTC is on and its mode's size
 * @frame: as for kms2v4l_frame_begin()
 *
 * For the core's own readback, which writes a frame after the commit's
 * state is gone. Process context.
 *
 * Return: as kms2v4l_frame_begin().
 */
int kms2v4l_frame_begin_shown(struct kms2v4l_source *src,
			      const struct kms2v4l_shown *shown,
			      struct kms2v4l_frame *frame)
{
	const struct drm_crtc_state *state = shown->state;
	struct dma_fence *fence = NULL;
	struct kms2v4l_buffer *buf;
	unsigned int skipped = 0;
	LIST_HEAD(skipped_list);
	unsigned long flags;
	bool idle = false;
	void *vaddr;
	int ret = 0;

	for (;;) {
		spin_lock_irqsave(&src->qlock, flags);
		buf = kms2v4l_take_buffer(src, shown, &ret);
		spin_unlock_irqrestore(&src->qlock, flags);
		if (!buf || !kms2v4l_buffer_is_imported(buf))
			break;
		if (!fence)
			fence = kms2v4l_fence_create(src);
		if (fence && !kms2v4l_fence_begin(buf, fence)) {
			fence = NULL;
			break;
		}
		/*
		 * Still held by another device (or no memory): try the next
		 * one. It stays in flight until it is back in the queue.
		 */
		skipped++;
		list_add_tail(&buf->list, &skipped_list);
	}
	if (fence)
		dma_fence_put(fence);
	if (skipped) {
		spin_lock_irqsave(&src->qlock, flags);
		list_splice(&skipped_list, &src->buf_list);
		src->in_flight -= skipped;
		idle = !src->in_flight;
		spin_unlock_irqrestore(&src->qlock, flags);
		if (idle)
			wake_up_all(&src->idle);
	}
	if (!buf) {
		if (skipped)
			dev_warn_ratelimited(&src->vdev.dev,
					     "%s: every queued buffer is still fenced by another device: frame dropped\n",
					     video_device_node_name(&src->vdev));
		return ret ? ret : -EAGAIN;
	}

	/*
	 * stop_streaming() may clear @stream now, but the stream's storage
	 * stays until this frame has ended (the next start waits for that).
	 */
	frame->format = src->stream_format->drm;
	frame->width = src->stream_fmt.width;
	frame->height = src->stream_fmt.height;
	frame->pitch = src->stream_fmt.bytesperline;
	frame->age = buf->frame ? min_t(u64, src->frames - buf->frame + 1, UINT_MAX) : 0;
	spin_lock_irqsave(&src->qlock, flags);
	kms2v4l_take_damage(src, buf, state, frame);
	spin_unlock_irqrestore(&src->qlock, flags);
	frame->vblank = 0;
	frame->timestamp = 0;
	frame->buf = buf;

	vaddr = vb2_plane_vaddr(&buf->vb.vb2_buf, 0);
	if (!vaddr) {
		dev_warn_ratelimited(&src->vdev.dev, "%s: buffer %u cannot be mapped\n",
				     video_device_node_name(&src->vdev),
				     buf->vb.vb2_buf.index);
		kms2v4l_frame_end(src, frame, -EFAULT);
		return -EFAULT;
	}
	iosys_map_set_vaddr(&frame->map, vaddr);
	return 0;
}

/**
 * kms2v4l_frame_end() - complete a frame
 * @src: the source
 * @frame: as filled by kms2v4l_frame_begin(), with &kms2v4l_frame.vblank
 *	and &kms2v4l_frame.timestamp set
 * @error: 0, or the negative errno of a frame the driver could not
 *	write: the buffer is returned with V4L2_BUF_FLAG_ERROR
 *
 * A frame whose vblank does not advance on the last one delivered goes
 * back to the queue: sequence numbers never repeat. Any context.
 */
void kms2v4l_frame_end(struct kms2v4l_source *src, struct kms2v4l_frame *frame,
		       int error)
{
	kms2v4l_frame_finish(src, frame, error, false);
}
EXPORT_SYMBOL_GPL(kms2v4l_frame_end);

/**
 * kms2v4l_frame_finish() - complete a frame, or take it back
 * @src: the source
 * @frame: as for kms2v4l_frame_end()
 * @error: as for kms2v4l_frame_end()
 * @cancel: do not deliver the frame: its buffer goes back to the head of
 *	the queue, its content unknown, as for a frame whose vblank does
 *	not advance
 */
void kms2v4l_frame_finish(struct kms2v4l_source *src,
			  struct kms2v4l_frame *frame, int error, bool cancel)
{
	struct kms2v4l_buffer *buf = frame->buf;
	enum vb2_buffer_state state = VB2_BUF_STATE_DONE;
	ktime_t timestamp = frame->timestamp;
	unsigned long flags;
	bool deliver, cookie;
	u64 seq;

	cookie = dma_fence_begin_signalling();
	kms2v4l_fence_end(buf, error);
	if (!timestamp)
		timestamp = ktime_get();

	spin_lock_irqsave(&src->qlock, flags);
	seq = src->has_vblank ? frame->vblank : src->produced;
	src->produced++;
	deliver = src->stream && !cancel &&
		  (!src->sequence_valid || seq > src->last_sequence);
	if (deliver) {
		if (!src->sequence_valid) {
			src->first_sequence = seq;
			src->sequence_valid = true;
		}
		src->last_sequence = seq;
		buf->vb.sequence = (u32)(seq - src->first_sequence);
		if (error) {
			state = VB2_BUF_STATE_ERROR;
			kms2v4l_return_damage(src, buf);
		} else {
			buf->frame = ++src->frames;
			src->history[buf->frame % KMS2V4L_DAMAGE_HISTORY] = buf->damage;
			kms2v4l_meta_frame(src, buf, frame->width, frame->height,
					   ktime_to_ns(timestamp));
		}
	} else {
		/* Not delivered: the buffer goes back to the head. */
		kms2v4l_return_damage(src, buf);
		list_add(&buf->list, &src->buf_list);
	}
	spin_unlock_irqrestore(&src->qlock, flags);
	frame->buf = NULL;

	/* Complete before the stream may be seen idle (stop_streaming()). */
	if (deliver) {
		buf->vb.vb2_buf.timestamp = ktime_to_ns(timestamp);
		buf->vb.field = V4L2_FIELD_NONE;
		vb2_buffer_done(&buf->vb.vb2_buf, state);
	}
	dma_fence_end_signalling(cookie);
	kms2v4l_frame_done(src);
}

MODULE_DESCRIPTION("V4L2 capture of what KMS CRTCs show");
MODULE_AUTHOR("kms2v4l developers");
MODULE_LICENSE("GPL");
