// SPDX-License-Identifier: GPL-2.0-only
/*
 * kms2v4l - pixel formats and display modes, DRM to V4L2
 *
 * Pure translation tables and arithmetic; no device state.
 */

#include <drm/drm_fourcc.h>
#include <drm/drm_modes.h>
#include <linux/math64.h>
#include <linux/videodev2.h>

#include "kms2v4l-priv.h"

/*
 * V4L2 and DRM name these layouts differently but agree on the bytes:
 * V4L2 XBGR32 ("XR24") is DRM XRGB8888, bytes B, G, R, X in memory.
 */
const struct kms2v4l_format kms2v4l_formats[] = {
	{ V4L2_PIX_FMT_XBGR32, DRM_FORMAT_XRGB8888, 4 },
	{ V4L2_PIX_FMT_ABGR32, DRM_FORMAT_ARGB8888, 4 },
	{ V4L2_PIX_FMT_RGB565, DRM_FORMAT_RGB565, 2 },
};

const unsigned int kms2v4l_num_formats = ARRAY_SIZE(kms2v4l_formats);

/**
 * kms2v4l_format_find() - the format entry of a V4L2 fourcc
 * @fourcc: V4L2 pixel format
 *
 * Return: the entry, or NULL if the node does not offer @fourcc.
 */
const struct kms2v4l_format *kms2v4l_format_find(u32 fourcc)
{
	unsigned int i;

	for (i = 0; i < kms2v4l_num_formats; i++)
		if (kms2v4l_formats[i].fourcc == fourcc)
			return &kms2v4l_formats[i];
	return NULL;
}

/**
 * kms2v4l_mode_to_timings() - describe a DRM mode as V4L2 DV timings
 * @mode: the CRTC's mode (clock in kHz)
 * @t: filled with the same active size, blanking, sync and pixel clock,
 *	so that a client derives the same refresh rate as KMS
 */
void kms2v4l_mode_to_timings(const struct drm_display_mode *mode,
			     struct v4l2_dv_timings *t)
{
	struct v4l2_bt_timings *bt = &t->bt;

	memset(t, 0, sizeof(*t));
	t->type = V4L2_DV_BT_656_1120;
	bt->width = mode->hdisplay;
	bt->height = mode->vdisplay;
	bt->interlaced = !!(mode->flags & DRM_MODE_FLAG_INTERLACE);
	if (mode->flags & DRM_MODE_FLAG_PHSYNC)
		bt->polarities |= V4L2_DV_HSYNC_POS_POL;
	if (mode->flags & DRM_MODE_FLAG_PVSYNC)
		bt->polarities |= V4L2_DV_VSYNC_POS_POL;
	bt->pixelclock = (u64)mode->clock * 1000;
	bt->hfrontporch = mode->hsync_start - mode->hdisplay;
	bt->hsync = mode->hsync_end - mode->hsync_start;
	bt->hbackporch = mode->htotal - mode->hsync_end;
	bt->vfrontporch = mode->vsync_start - mode->vdisplay;
	bt->vsync = mode->vsync_end - mode->vsync_start;
	bt->vbackporch = mode->vtotal - mode->vsync_end;
	/* A KMS mode does not say which standard it came from. */
}

/**
 * kms2v4l_fill_pix_format() - the single-plane format for some timings
 * @pix: filled in
 * @format: the pixel format
 * @t: the timings giving the size
 *
 * Lines are packed (no padding); the colorimetry is that of a desktop
 * framebuffer: sRGB, full range.
 */
void kms2v4l_fill_pix_format(struct v4l2_pix_format *pix,
			     const struct kms2v4l_format *format,
			     const struct v4l2_dv_timings *t)
{
	memset(pix, 0, sizeof(*pix));
	pix->width = t->bt.width;
	pix->height = t->bt.height;
	pix->pixelformat = format->fourcc;
	pix->field = V4L2_FIELD_NONE;
	pix->bytesperline = pix->width * format->cpp;
	pix->sizeimage = pix->bytesperline * pix->height;
	pix->colorspace = V4L2_COLORSPACE_SRGB;
	pix->xfer_func = V4L2_XFER_FUNC_SRGB;
	pix->ycbcr_enc = V4L2_YCBCR_ENC_601;
	pix->quantization = V4L2_QUANTIZATION_FULL_RANGE;
}
