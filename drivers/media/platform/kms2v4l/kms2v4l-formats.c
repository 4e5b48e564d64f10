// SPDX-License-Identifier: GPL-2.0-only
/*
 * kms2v4l - pixel formats and display modes, DRM to V4L2
 *
 * Pure translation tables and arithmetic; no device state.
 */

#include <drm/drm_fourcc.h>
#include <drm/drm_modes.h>
#include <linux/videodev2.h>
#include <media/v4l2-common.h>

#include "kms2v4l-priv.h"

/*
 * V4L2 and DRM name the same byte layouts differently: DRM names the
 * channels of a little-endian word from its top bit, V4L2 the bytes in
 * memory order (and V4L2's older RGB names the other way round). So
 * V4L2 XBGR32 ("XR24") is DRM XRGB8888: bytes B, G, R, X in memory.
 */
static const struct {
	u32 drm;
	u32 v4l2;
} kms2v4l_fourccs[] = {
	{ DRM_FORMAT_XRGB8888, V4L2_PIX_FMT_XBGR32 },
	{ DRM_FORMAT_ARGB8888, V4L2_PIX_FMT_ABGR32 },
	{ DRM_FORMAT_XBGR8888, V4L2_PIX_FMT_RGBX32 },
	{ DRM_FORMAT_ABGR8888, V4L2_PIX_FMT_RGBA32 },
	{ DRM_FORMAT_BGRX8888, V4L2_PIX_FMT_XRGB32 },
	{ DRM_FORMAT_BGRA8888, V4L2_PIX_FMT_ARGB32 },
	{ DRM_FORMAT_RGBX8888, V4L2_PIX_FMT_BGRX32 },
	{ DRM_FORMAT_RGBA8888, V4L2_PIX_FMT_BGRA32 },
	{ DRM_FORMAT_RGB888, V4L2_PIX_FMT_BGR24 },
	{ DRM_FORMAT_BGR888, V4L2_PIX_FMT_RGB24 },
	{ DRM_FORMAT_RGB565, V4L2_PIX_FMT_RGB565 },
	{ DRM_FORMAT_YUYV, V4L2_PIX_FMT_YUYV },
	{ DRM_FORMAT_YVYU, V4L2_PIX_FMT_YVYU },
	{ DRM_FORMAT_UYVY, V4L2_PIX_FMT_UYVY },
	{ DRM_FORMAT_VYUY, V4L2_PIX_FMT_VYUY },
	{ DRM_FORMAT_NV12, V4L2_PIX_FMT_NV12 },
	{ DRM_FORMAT_NV21, V4L2_PIX_FMT_NV21 },
	{ DRM_FORMAT_NV16, V4L2_PIX_FMT_NV16 },
	{ DRM_FORMAT_NV61, V4L2_PIX_FMT_NV61 },
	{ DRM_FORMAT_YUV420, V4L2_PIX_FMT_YUV420 },
	{ DRM_FORMAT_YVU420, V4L2_PIX_FMT_YVU420 },
};

/**
 * kms2v4l_formats_init() - the node's formats from the driver's list
 * @src: the source
 * @formats: DRM fourccs the driver can write, in order of preference
 * @num_formats: entries of @formats
 *
 * Return: 0, or -EINVAL if a format has no single-plane V4L2 equivalent,
 * there are none or too many, or the first one subsamples chroma.
 */
int kms2v4l_formats_init(struct kms2v4l_source *src, const u32 *formats,
			 unsigned int num_formats)
{
	unsigned int i, j;

	if (!num_formats || num_formats > KMS2V4L_MAX_FORMATS)
		return -EINVAL;
	for (i = 0; i < num_formats; i++) {
		for (j = 0; j < ARRAY_SIZE(kms2v4l_fourccs); j++)
			if (kms2v4l_fourccs[j].drm == formats[i])
				break;
		if (j == ARRAY_SIZE(kms2v4l_fourccs) ||
		    !v4l2_format_info(kms2v4l_fourccs[j].v4l2))
			return -EINVAL;
		src->formats[i].fourcc = kms2v4l_fourccs[j].v4l2;
		src->formats[i].drm = drm_format_info(formats[i]);
	}
	/* The default must fit every size: no chroma subsampling. */
	if (src->formats[0].drm->hsub != 1 || src->formats[0].drm->vsub != 1)
		return -EINVAL;
	src->num_formats = num_formats;
	return 0;
}

/**
 * kms2v4l_format_fits() - can a frame of this size be stored in a format?
 * @format: the format
 * @t: timings giving the size
 *
 * Chroma-subsampled formats need a width (and, for 4:2:0, a height) that
 * the subsampling divides; other sizes are not offered in them.
 *
 * Return: whether it can.
 */
bool kms2v4l_format_fits(const struct kms2v4l_format *format,
			 const struct v4l2_dv_timings *t)
{
	return !(t->bt.width % format->drm->hsub) &&
	       !(t->bt.height % format->drm->vsub);
}

/**
 * kms2v4l_format_find() - the format entry of a V4L2 fourcc
 * @src: the source
 * @fourcc: V4L2 pixel format
 * @t: the timings the format must fit (see kms2v4l_format_fits())
 *
 * Return: the entry, or NULL if the node does not offer @fourcc at that
 * size.
 */
const struct kms2v4l_format *kms2v4l_format_find(struct kms2v4l_source *src,
						 u32 fourcc,
						 const struct v4l2_dv_timings *t)
{
	unsigned int i;

	for (i = 0; i < src->num_formats; i++)
		if (src->formats[i].fourcc == fourcc)
			return kms2v4l_format_fits(&src->formats[i], t) ?
			       &src->formats[i] : NULL;
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
 * Lines are packed (no padding), planes follow each other. RGB is that
 * of a desktop framebuffer, sRGB full range; YUV is sRGB's default
 * encoding, BT.601 limited range.
 */
void kms2v4l_fill_pix_format(struct v4l2_pix_format *pix,
			     const struct kms2v4l_format *format,
			     const struct v4l2_dv_timings *t)
{
	memset(pix, 0, sizeof(*pix));
	v4l2_fill_pixfmt(pix, format->fourcc, t->bt.width, t->bt.height);
	pix->field = V4L2_FIELD_NONE;
	pix->colorspace = V4L2_COLORSPACE_SRGB;
	pix->xfer_func = V4L2_XFER_FUNC_SRGB;
	pix->ycbcr_enc = V4L2_YCBCR_ENC_601;
	pix->quantization = format->drm->is_yuv ?
		V4L2_QUANTIZATION_LIM_RANGE : V4L2_QUANTIZATION_FULL_RANGE;
}
