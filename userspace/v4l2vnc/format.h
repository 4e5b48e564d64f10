// SPDX-License-Identifier: GPL-2.0-or-later
// V4L2 pixel formats v4l2vnc understands, their conversion to the VNC
// framebuffer's pixels (32 bit, 0x00RRGGBB in host order: B,G,R,X bytes),
// their planes as GStreamer sees them, and the choice of one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace v4l2vnc {

enum class PixelLayout {
	BGRX32, // bytes B,G,R,X: V4L2 XBGR32/ABGR32/BGR32 = DRM XRGB8888
	XRGB32, // bytes X,R,G,B: V4L2 XRGB32/ARGB32/RGB32
	RGB565, // little-endian 16 bit RRRRRGGG GGGBBBBB
	RGB24,  // bytes R,G,B
	BGR24,  // bytes B,G,R
	YUYV,   // Y0 U Y1 V, BT.601 limited range
	UYVY,   // U Y0 V Y1
	NV12,   // 4:2:0: Y plane, then one CbCr plane (GStreamer only)
	YU12,   // 4:2:0: Y plane, then Cb, then Cr (GStreamer only)
};

struct FormatInfo {
	uint32_t fourcc;
	PixelLayout layout;
	unsigned bytes_per_pixel; // 2 for the 4:2:2 formats (per pixel on average),
				  // 1 for the 4:2:0 ones (their Y plane's)
	const char *gst_format;   // GStreamer video/x-raw format name
	bool to_rgb;              // convert_rect() takes it (VNC); else GStreamer only
};

// The format description for a V4L2 fourcc, nullptr if unsupported.
const FormatInfo *format_info(uint32_t fourcc);

// Whether @layout is Y'CbCr (YUYV, UYVY, NV12, YU12) rather than RGB.
bool is_yuv(PixelLayout layout);

// How a node says its pixels are to be read: struct v4l2_pix_format's
// colorspace, ycbcr_enc, quantization and xfer_func (V4L2_COLORSPACE_*,
// V4L2_YCBCR_ENC_*, V4L2_QUANTIZATION_*, V4L2_XFER_FUNC_*); 0 is V4L2's
// DEFAULT (derive it from the colorspace), all 0 when the node did not say.
struct ColorInfo {
	uint32_t colorspace = 0, ycbcr_enc = 0, quantization = 0, xfer_func = 0;
	bool operator==(const ColorInfo &) const = default;
};

// The fourccs convert_rect() takes, in order of preference for VNC
// (cheapest first).
std::span<const uint32_t> preferred_formats();

// Every supported fourcc in order of preference for a GStreamer pipeline
// without VNC: what encoders take (NV12, YU12), then the 4:2:2 ones
// (YUYV, UYVY), then preferred_formats()' RGB ones.
std::span<const uint32_t> pipeline_formats();

// The first fourcc of @preference that @offered (the node's ENUM_FMT)
// holds and @accepts (if set) takes; 0 when none.
uint32_t choose_format(std::span<const uint32_t> preference, std::span<const uint32_t> offered,
		       const std::function<bool(const FormatInfo &)> &accepts = nullptr);

// Where the planes of one V4L2 single-planar buffer are, as GstVideoMeta
// gives them: packed formats one plane of @stride bytes a line; NV12 the
// CbCr plane right after @height lines of Y, same stride; YU12 Cb after
// Y, then Cr, each of ceil(@height / 2) lines of @stride / 2 bytes (V4L2
// gives YU12's chroma half the Y plane's bytesperline).
struct Planes {
	unsigned count = 1;
	size_t offset[3] = {0, 0, 0};
	unsigned stride[3] = {0, 0, 0};
	size_t size = 0; // bytes up to the end of the last plane
};
Planes plane_layout(const FormatInfo &fmt, unsigned height, unsigned stride);

// Converts the w x h rectangle at (x, y) of a source image into the same
// place of a 32-bit destination.  x and w must be even for 4:2:2 formats.
// Formats that are not to_rgb are left out (@dst unchanged).
void convert_rect(PixelLayout layout, const uint8_t *src, size_t src_stride, uint32_t *dst,
		  size_t dst_stride_px, unsigned x, unsigned y, unsigned w, unsigned h);

// One BT.601 limited-range YCbCr sample to 0x00RRGGBB.
uint32_t yuv_to_xrgb(int y, int u, int v);

} // namespace v4l2vnc
