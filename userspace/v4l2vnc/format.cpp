// SPDX-License-Identifier: GPL-2.0-or-later
#include "format.h"

#include <kms2v4l/kms2v4l.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace v4l2vnc {

namespace {

constexpr uint32_t fcc(char a, char b, char c, char d)
{
	return KMS2V4L_FOURCC(a, b, c, d);
}

constexpr std::array<FormatInfo, 13> kFormats{{
	{fcc('X', 'R', '2', '4'), PixelLayout::BGRX32, 4, "BGRx", true},
	{fcc('A', 'R', '2', '4'), PixelLayout::BGRX32, 4, "BGRA", true},
	{fcc('B', 'G', 'R', '4'), PixelLayout::BGRX32, 4, "BGRx", true},
	{fcc('B', 'X', '2', '4'), PixelLayout::XRGB32, 4, "xRGB", true},
	{fcc('B', 'A', '2', '4'), PixelLayout::XRGB32, 4, "ARGB", true},
	{fcc('R', 'G', 'B', '4'), PixelLayout::XRGB32, 4, "xRGB", true},
	{fcc('R', 'G', 'B', 'P'), PixelLayout::RGB565, 2, "RGB16", true},
	{fcc('R', 'G', 'B', '3'), PixelLayout::RGB24, 3, "RGB", true},
	{fcc('B', 'G', 'R', '3'), PixelLayout::BGR24, 3, "BGR", true},
	{fcc('Y', 'U', 'Y', 'V'), PixelLayout::YUYV, 2, "YUY2", true},
	{fcc('U', 'Y', 'V', 'Y'), PixelLayout::UYVY, 2, "UYVY", true},
	{fcc('N', 'V', '1', '2'), PixelLayout::NV12, 1, "NV12", false},
	{fcc('Y', 'U', '1', '2'), PixelLayout::YU12, 1, "I420", false},
}};

constexpr std::array<uint32_t, 11> kPreferred{
	fcc('X', 'R', '2', '4'), fcc('A', 'R', '2', '4'), fcc('B', 'G', 'R', '4'),
	fcc('B', 'X', '2', '4'), fcc('B', 'A', '2', '4'), fcc('R', 'G', 'B', '4'),
	fcc('R', 'G', 'B', '3'), fcc('B', 'G', 'R', '3'), fcc('R', 'G', 'B', 'P'),
	fcc('Y', 'U', 'Y', 'V'), fcc('U', 'Y', 'V', 'Y'),
};

constexpr std::array<uint32_t, 13> kPipeline{
	fcc('N', 'V', '1', '2'), fcc('Y', 'U', '1', '2'), fcc('Y', 'U', 'Y', 'V'),
	fcc('U', 'Y', 'V', 'Y'), fcc('X', 'R', '2', '4'), fcc('A', 'R', '2', '4'),
	fcc('B', 'G', 'R', '4'), fcc('B', 'X', '2', '4'), fcc('B', 'A', '2', '4'),
	fcc('R', 'G', 'B', '4'), fcc('R', 'G', 'B', '3'), fcc('B', 'G', 'R', '3'),
	fcc('R', 'G', 'B', 'P'),
};

inline uint8_t clamp8(int v)
{
	return static_cast<uint8_t>(std::clamp(v, 0, 255));
}

inline uint32_t xrgb(unsigned r, unsigned g, unsigned b)
{
	return (r << 16) | (g << 8) | b;
}

} // namespace

const FormatInfo *format_info(uint32_t fourcc)
{
	for (const auto &f : kFormats)
		if (f.fourcc == fourcc)
			return &f;
	return nullptr;
}

bool is_yuv(PixelLayout layout)
{
	switch (layout) {
	case PixelLayout::YUYV:
	case PixelLayout::UYVY:
	case PixelLayout::NV12:
	case PixelLayout::YU12:
		return true;
	default:
		return false;
	}
}

std::span<const uint32_t> preferred_formats()
{
	return kPreferred;
}

std::span<const uint32_t> pipeline_formats()
{
	return kPipeline;
}

uint32_t choose_format(std::span<const uint32_t> preference, std::span<const uint32_t> offered,
		       const std::function<bool(const FormatInfo &)> &accepts)
{
	for (uint32_t want : preference) {
		const FormatInfo *info = format_info(want);
		if (info && std::find(offered.begin(), offered.end(), want) != offered.end() &&
		    (!accepts || accepts(*info)))
			return want;
	}
	return 0;
}

Planes plane_layout(const FormatInfo &fmt, unsigned height, unsigned stride)
{
	Planes p;
	const size_t luma = size_t(stride) * height;
	const unsigned chroma_lines = (height + 1) / 2;
	p.stride[0] = stride;
	switch (fmt.layout) {
	case PixelLayout::NV12:
		p.count = 2;
		p.offset[1] = luma;
		p.stride[1] = stride;
		p.size = luma + size_t(stride) * chroma_lines;
		break;
	case PixelLayout::YU12:
		p.count = 3;
		p.stride[1] = p.stride[2] = stride / 2;
		p.offset[1] = luma;
		p.offset[2] = luma + size_t(stride / 2) * chroma_lines;
		p.size = p.offset[2] + size_t(stride / 2) * chroma_lines;
		break;
	default:
		p.size = luma;
		break;
	}
	return p;
}

uint32_t yuv_to_xrgb(int y, int u, int v)
{
	const int c = y - 16, d = u - 128, e = v - 128;

	return xrgb(clamp8((298 * c + 409 * e + 128) >> 8),
		    clamp8((298 * c - 100 * d - 208 * e + 128) >> 8),
		    clamp8((298 * c + 516 * d + 128) >> 8));
}

void convert_rect(PixelLayout layout, const uint8_t *src, size_t src_stride, uint32_t *dst,
		  size_t dst_stride_px, unsigned x, unsigned y, unsigned w, unsigned h)
{
	for (unsigned row = y; row < y + h; row++) {
		const uint8_t *s = src + row * src_stride;
		uint32_t *d = dst + row * dst_stride_px + x;

		switch (layout) {
		case PixelLayout::BGRX32:
			std::memcpy(d, s + 4 * size_t(x), 4 * size_t(w));
			break;
		case PixelLayout::XRGB32:
			for (unsigned i = 0; i < w; i++) {
				const uint8_t *p = s + 4 * size_t(x + i);
				d[i] = xrgb(p[1], p[2], p[3]);
			}
			break;
		case PixelLayout::RGB565:
			for (unsigned i = 0; i < w; i++) {
				const uint8_t *p = s + 2 * size_t(x + i);
				unsigned v = p[0] | (p[1] << 8);
				unsigned r = (v >> 11) & 31, g = (v >> 5) & 63, b = v & 31;
				// Nearest 8-bit value: x * 255 / max, rounded.
				d[i] = xrgb((r * 255 + 15) / 31, (g * 255 + 31) / 63,
					    (b * 255 + 15) / 31);
			}
			break;
		case PixelLayout::RGB24:
			for (unsigned i = 0; i < w; i++) {
				const uint8_t *p = s + 3 * size_t(x + i);
				d[i] = xrgb(p[0], p[1], p[2]);
			}
			break;
		case PixelLayout::BGR24:
			for (unsigned i = 0; i < w; i++) {
				const uint8_t *p = s + 3 * size_t(x + i);
				d[i] = xrgb(p[2], p[1], p[0]);
			}
			break;
		case PixelLayout::YUYV:
		case PixelLayout::UYVY: {
			const bool yuyv = layout == PixelLayout::YUYV;
			for (unsigned i = 0; i + 1 < w + 1; i += 2) {
				const uint8_t *p = s + 2 * size_t(x + i);
				int y0 = yuyv ? p[0] : p[1], u = yuyv ? p[1] : p[0];
				int y1 = yuyv ? p[2] : p[3], v = yuyv ? p[3] : p[2];
				d[i] = yuv_to_xrgb(y0, u, v);
				if (i + 1 < w)
					d[i + 1] = yuv_to_xrgb(y1, u, v);
			}
			break;
		}
		case PixelLayout::NV12:
		case PixelLayout::YU12:
			return; // not to_rgb: nothing for VNC
		}
	}
}

} // namespace v4l2vnc
