// SPDX-License-Identifier: GPL-2.0-only
/*
 * k2vtest - a second user of the kms2v4l driver contract, for tests only
 *
 * A minimal atomic DRM driver ("k2vtest": one primary plane, one CRTC,
 * one virtual encoder and connector, no vblank support) that joins
 * kms2v4l through its public API alone, offering one RGB and one YUV
 * format. It scans nothing out; while a client streams it writes a test
 * pattern that depends only on the pixel position:
 *
 *   XRGB8888: B = x & 0xff, G = y & 0xff, R = (x + y) & 0xff, X = 0xff
 *   YUYV:     Y = (x + 2 * y) & 0xff, U = x / 2 & 0xff, V = y & 0xff
 *
 * (for YUYV, U and V belong to the pixel pair at even x). Frames begin
 * in a worker at 60 Hz and end from a hard-interrupt hrtimer a
 * millisecond later, so the contract's "end from any context" is
 * exercised, and sequence numbers and timestamps come from the core,
 * as for any driver without vblank.
 */

#include <drm/drm_atomic.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_drv.h>
#include <drm/drm_edid.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_gem_framebuffer_helper.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_modeset_helper_vtables.h>
#include <drm/drm_probe_helper.h>
#include <drm/drm_simple_kms_helper.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/workqueue.h>
#include <media/kms2v4l.h>

#define K2VTEST_MAX_WIDTH	4096

struct k2vtest {
	struct drm_device drm;
	struct drm_plane plane;
	struct drm_crtc crtc;
	struct drm_encoder encoder;
	struct drm_connector connector;
	struct kms2v4l_source *capture;
	struct platform_device *pdev;

	/* frame production, between kms2v4l start and stop */
	struct hrtimer tick;
	struct hrtimer done;
	struct work_struct work;
	struct kms2v4l_frame frame;
	bool pending;	/* @frame begun, @done armed */
	u8 *line;	/* one line of the pattern, allocated at start */
};

static const u32 k2vtest_plane_formats[] = { DRM_FORMAT_XRGB8888 };
static const u32 k2vtest_capture_formats[] = { DRM_FORMAT_XRGB8888, DRM_FORMAT_YUYV };

static void k2vtest_fill_line(struct k2vtest *k, const struct kms2v4l_frame *f,
			      unsigned int y)
{
	unsigned int x;
	u8 *p = k->line;

	for (x = 0; x < f->width; x++) {
		if (f->format->format == DRM_FORMAT_XRGB8888) {
			*p++ = x;
			*p++ = y;
			*p++ = x + y;
			*p++ = 0xff;
		} else {
			*p++ = x + 2 * y;
			*p++ = x % 2 ? y : x / 2;
		}
	}
}

static void k2vtest_work(struct work_struct *work)
{
	struct k2vtest *k = container_of(work, struct k2vtest, work);
	unsigned int y;

	if (READ_ONCE(k->pending) || !kms2v4l_frame_wanted(k->capture))
		return;
	drm_modeset_lock(&k->crtc.mutex, NULL);
	if (kms2v4l_frame_begin(k->capture, k->crtc.state, &k->frame)) {
		drm_modeset_unlock(&k->crtc.mutex);
		return;
	}
	drm_modeset_unlock(&k->crtc.mutex);
	for (y = 0; y < k->frame.height; y++) {
		k2vtest_fill_line(k, &k->frame, y);
		iosys_map_memcpy_to(&k->frame.map, y * k->frame.pitch, k->line,
				    k->frame.width * k->frame.format->cpp[0]);
	}
	WRITE_ONCE(k->pending, true);
	hrtimer_start(&k->done, ms_to_ktime(1), HRTIMER_MODE_REL_HARD);
}

/* Hard interrupt context: the frame ends here. */
static enum hrtimer_restart k2vtest_done(struct hrtimer *t)
{
	struct k2vtest *k = container_of(t, struct k2vtest, done);

	WARN_ON_ONCE(!in_hardirq());
	kms2v4l_frame_end(k->capture, &k->frame, 0);
	WRITE_ONCE(k->pending, false);
	return HRTIMER_NORESTART;
}

static enum hrtimer_restart k2vtest_tick(struct hrtimer *t)
{
	struct k2vtest *k = container_of(t, struct k2vtest, tick);

	queue_work(system_highpri_wq, &k->work);
	hrtimer_forward_now(t, ns_to_ktime(NSEC_PER_SEC / 60));
	return HRTIMER_RESTART;
}

static int k2vtest_capture_start(struct kms2v4l_source *src)
{
	struct k2vtest *k = kms2v4l_source_priv(src);

	k->line = kmalloc(K2VTEST_MAX_WIDTH * 4, GFP_KERNEL);
	if (!k->line)
		return -ENOMEM;
	hrtimer_start(&k->tick, ns_to_ktime(NSEC_PER_SEC / 60), HRTIMER_MODE_REL);
	return 0;
}

static void k2vtest_capture_stop(struct kms2v4l_source *src)
{
	struct k2vtest *k = kms2v4l_source_priv(src);

	hrtimer_cancel(&k->tick);
	cancel_work_sync(&k->work);
	/* A frame begun ends at its timer; the core waits for it. */
	kfree(k->line);
	k->line = NULL;
}

static const struct kms2v4l_funcs k2vtest_capture_funcs = {
	.start = k2vtest_capture_start,
	.stop = k2vtest_capture_stop,
};

static void k2vtest_crtc_update(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	kms2v4l_crtc_update(container_of(crtc, struct k2vtest, crtc)->capture, state);
}

static const struct drm_crtc_helper_funcs k2vtest_crtc_helper_funcs = {
	.atomic_enable = k2vtest_crtc_update,
	.atomic_disable = k2vtest_crtc_update,
	.atomic_flush = k2vtest_crtc_update,
};

static const struct drm_crtc_funcs k2vtest_crtc_funcs = {
	.reset = drm_atomic_helper_crtc_reset,
	.destroy = drm_crtc_cleanup,
	.set_config = drm_atomic_helper_set_config,
	.page_flip = drm_atomic_helper_page_flip,
	.atomic_duplicate_state = drm_atomic_helper_crtc_duplicate_state,
	.atomic_destroy_state = drm_atomic_helper_crtc_destroy_state,
};

static int k2vtest_plane_atomic_check(struct drm_plane *plane,
				      struct drm_atomic_state *state)
{
	struct drm_plane_state *ps = drm_atomic_get_new_plane_state(state, plane);
	struct drm_crtc_state *cs;

	if (!ps->crtc)
		return 0;
	cs = drm_atomic_get_new_crtc_state(state, ps->crtc);
	return drm_atomic_helper_check_plane_state(ps, cs, DRM_PLANE_NO_SCALING,
						   DRM_PLANE_NO_SCALING, false, true);
}

/* Nothing is scanned out: k2vtest's frames are its test pattern. */
static void k2vtest_plane_atomic_update(struct drm_plane *plane,
					struct drm_atomic_state *state)
{
}

static const struct drm_plane_helper_funcs k2vtest_plane_helper_funcs = {
	.atomic_check = k2vtest_plane_atomic_check,
	.atomic_update = k2vtest_plane_atomic_update,
};

static const struct drm_plane_funcs k2vtest_plane_funcs = {
	.update_plane = drm_atomic_helper_update_plane,
	.disable_plane = drm_atomic_helper_disable_plane,
	.destroy = drm_plane_cleanup,
	.reset = drm_atomic_helper_plane_reset,
	.atomic_duplicate_state = drm_atomic_helper_plane_duplicate_state,
	.atomic_destroy_state = drm_atomic_helper_plane_destroy_state,
};

static int k2vtest_get_modes(struct drm_connector *connector)
{
	int n = drm_add_modes_noedid(connector, 1920, 1200);

	drm_set_preferred_mode(connector, 640, 480);
	return n;
}

static const struct drm_connector_helper_funcs k2vtest_connector_helper_funcs = {
	.get_modes = k2vtest_get_modes,
};

static const struct drm_connector_funcs k2vtest_connector_funcs = {
	.fill_modes = drm_helper_probe_single_connector_modes,
	.destroy = drm_connector_cleanup,
	.reset = drm_atomic_helper_connector_reset,
	.atomic_duplicate_state = drm_atomic_helper_connector_duplicate_state,
	.atomic_destroy_state = drm_atomic_helper_connector_destroy_state,
};

static const struct drm_mode_config_funcs k2vtest_mode_config_funcs = {
	.fb_create = drm_gem_fb_create,
	.atomic_check = drm_atomic_helper_check,
	.atomic_commit = drm_atomic_helper_commit,
};

DEFINE_DRM_GEM_FOPS(k2vtest_fops);

static const struct drm_driver k2vtest_driver = {
	.driver_features = DRIVER_MODESET | DRIVER_GEM | DRIVER_ATOMIC,
	.fops = &k2vtest_fops,
	DRM_GEM_SHMEM_DRIVER_OPS,
	.name = "k2vtest",
	.desc = "kms2v4l contract test driver",
	.date = "20261201",
	.major = 1,
	.minor = 0,
};

static int k2vtest_modeset_init(struct k2vtest *k)
{
	struct drm_device *drm = &k->drm;
	int ret;

	ret = drmm_mode_config_init(drm);
	if (ret)
		return ret;
	drm->mode_config.min_width = 16;
	drm->mode_config.min_height = 16;
	drm->mode_config.max_width = K2VTEST_MAX_WIDTH;
	drm->mode_config.max_height = K2VTEST_MAX_WIDTH;
	drm->mode_config.funcs = &k2vtest_mode_config_funcs;

	ret = drm_universal_plane_init(drm, &k->plane, 1, &k2vtest_plane_funcs,
				       k2vtest_plane_formats,
				       ARRAY_SIZE(k2vtest_plane_formats), NULL,
				       DRM_PLANE_TYPE_PRIMARY, NULL);
	if (ret)
		return ret;
	drm_plane_helper_add(&k->plane, &k2vtest_plane_helper_funcs);
	ret = drm_crtc_init_with_planes(drm, &k->crtc, &k->plane, NULL,
					&k2vtest_crtc_funcs, NULL);
	if (ret)
		return ret;
	drm_crtc_helper_add(&k->crtc, &k2vtest_crtc_helper_funcs);
	ret = drm_simple_encoder_init(drm, &k->encoder, DRM_MODE_ENCODER_VIRTUAL);
	if (ret)
		return ret;
	k->encoder.possible_crtcs = drm_crtc_mask(&k->crtc);
	ret = drm_connector_init(drm, &k->connector, &k2vtest_connector_funcs,
				 DRM_MODE_CONNECTOR_VIRTUAL);
	if (ret)
		return ret;
	drm_connector_helper_add(&k->connector, &k2vtest_connector_helper_funcs);
	ret = drm_connector_attach_encoder(&k->connector, &k->encoder);
	if (ret)
		return ret;
	drm_mode_config_reset(drm);

	/* The whole of joining kms2v4l. */
	k->capture = kms2v4l_crtc_init(&k->crtc, k2vtest_capture_formats,
				       ARRAY_SIZE(k2vtest_capture_formats),
				       &k2vtest_capture_funcs, k);
	return PTR_ERR_OR_ZERO(k->capture);
}

static struct k2vtest *k2vtest_dev;

static int __init k2vtest_init(void)
{
	struct platform_device *pdev;
	struct k2vtest *k;
	int ret;

	pdev = platform_device_register_simple("k2vtest", -1, NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	if (!devres_open_group(&pdev->dev, NULL, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto unregister_pdev;
	}
	k = devm_drm_dev_alloc(&pdev->dev, &k2vtest_driver, struct k2vtest, drm);
	if (IS_ERR(k)) {
		ret = PTR_ERR(k);
		goto release_group;
	}
	k->pdev = pdev;
	hrtimer_init(&k->tick, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	k->tick.function = k2vtest_tick;
	hrtimer_init(&k->done, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	k->done.function = k2vtest_done;
	INIT_WORK(&k->work, k2vtest_work);
	ret = k2vtest_modeset_init(k);
	if (ret)
		goto release_group;
	ret = drm_dev_register(&k->drm, 0);
	if (ret)
		goto release_group;
	k2vtest_dev = k;
	return 0;

release_group:
	devres_release_group(&pdev->dev, NULL);
unregister_pdev:
	platform_device_unregister(pdev);
	return ret;
}

static void __exit k2vtest_exit(void)
{
	struct platform_device *pdev = k2vtest_dev->pdev;

	drm_dev_unregister(&k2vtest_dev->drm);
	drm_atomic_helper_shutdown(&k2vtest_dev->drm);
	devres_release_group(&pdev->dev, NULL);
	platform_device_unregister(pdev);
}

module_init(k2vtest_init);
module_exit(k2vtest_exit);

MODULE_DESCRIPTION("kms2v4l contract test driver (tests only)");
MODULE_AUTHOR("kms2v4l developers");
MODULE_LICENSE("GPL");
