// SPDX-License-Identifier: GPL-2.0-or-later
// V4L2 pixel formats v4l2vnc understands, and their conversion to the VNC
// framebuffer's pixels (32 bit, 0x00RRGGBB in host order: B,G,R,X bytes).
#pragma once

#include <cstddef>
#include <cstdint>
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
};

struct FormatInfo {
	uint32_t fourcc;
	PixelLayout layout;
	unsigned bytes_per_pixel; // 2 for the 4:2:2 formats (per pixel on average)
	const char *gst_format;   // GStreamer video/x-raw format name
};

// The format description for a V4L2 fourcc, nullptr if unsupported.
const FormatInfo *format_info(uint32_t fourcc);

// Supported fourccs in order of preference (cheapest for VNC first).
std::span<const uint32_t> preferred_formats();

// Converts the w x h rectangle at (x, y) of a source image into the same
// place of a 32-bit destination.  x and w must be even for 4:2:2 formats.
void convert_rect(PixelLayout layout, const uint8_t *src, size_t src_stride, uint32_t *dst,
		  size_t dst_stride_px, unsigned x, unsigned y, unsigned w, unsigned h);

// One BT.601 limited-range YCbCr sample to 0x00RRGGBB.
uint32_t yuv_to_xrgb(int y, int u, int v);

} // namespace v4l2vnc
