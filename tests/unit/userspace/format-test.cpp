// SPDX-License-Identifier: GPL-2.0-or-later
#include "format.h"

#include <kms2v4l/kms2v4l.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

using namespace v4l2vnc;

TEST(Format, Mapping)
{
	// DRM XRGB8888 byte order (B,G,R,X) under every V4L2 name for it.
	for (auto f : {KMS2V4L_FOURCC('X', 'R', '2', '4'), KMS2V4L_FOURCC('A', 'R', '2', '4'),
		       KMS2V4L_FOURCC('B', 'G', 'R', '4')}) {
		ASSERT_NE(format_info(f), nullptr);
		EXPECT_EQ(format_info(f)->layout, PixelLayout::BGRX32);
		EXPECT_EQ(format_info(f)->bytes_per_pixel, 4u);
	}
	EXPECT_EQ(format_info(KMS2V4L_FOURCC('B', 'X', '2', '4'))->layout, PixelLayout::XRGB32);
	EXPECT_EQ(format_info(KMS2V4L_FOURCC('R', 'G', 'B', 'P'))->layout, PixelLayout::RGB565);
	EXPECT_EQ(format_info(KMS2V4L_FOURCC('Y', 'U', 'Y', 'V'))->layout, PixelLayout::YUYV);
	EXPECT_STREQ(format_info(KMS2V4L_FOURCC('Y', 'U', 'Y', 'V'))->gst_format, "YUY2");
	EXPECT_STREQ(format_info(KMS2V4L_FOURCC('X', 'R', '2', '4'))->gst_format, "BGRx");
	EXPECT_EQ(format_info(KMS2V4L_FOURCC('N', 'V', '2', '1')), nullptr);
	EXPECT_EQ(preferred_formats().front(), KMS2V4L_FOURCC('X', 'R', '2', '4'));
	for (uint32_t f : preferred_formats()) {
		ASSERT_NE(format_info(f), nullptr);
		EXPECT_TRUE(format_info(f)->to_rgb);
	}
}

// NV12 and YU12 go to GStreamer only (as NV12 and I420), never to VNC:
// neither is in the VNC list, and convert_rect() leaves them alone.
TEST(Format, PlanarFormatsAreForGStreamerOnly)
{
	const FormatInfo *nv12 = format_info(KMS2V4L_FOURCC('N', 'V', '1', '2'));
	const FormatInfo *yu12 = format_info(KMS2V4L_FOURCC('Y', 'U', '1', '2'));
	ASSERT_NE(nv12, nullptr);
	ASSERT_NE(yu12, nullptr);
	EXPECT_STREQ(nv12->gst_format, "NV12");
	EXPECT_STREQ(yu12->gst_format, "I420");
	EXPECT_FALSE(nv12->to_rgb);
	EXPECT_FALSE(yu12->to_rgb);
	for (uint32_t f : preferred_formats())
		EXPECT_TRUE(f != nv12->fourcc && f != yu12->fourcc);
	std::vector<uint8_t> src(16, 0x80);
	uint32_t d = 0xdeadbeef;
	convert_rect(PixelLayout::NV12, src.data(), 4, &d, 1, 0, 0, 1, 1);
	EXPECT_EQ(d, 0xdeadbeefu);
}

// --no-vnc --gst: the encoders' formats first, then 4:2:2, then RGB; the
// first the node offers and the pipeline takes wins, whatever the
// node's own order.  Without a pipeline's word (VNC) RGB comes first.
TEST(Format, ChoiceOrder)
{
	const uint32_t xr24 = KMS2V4L_FOURCC('X', 'R', '2', '4'),
		       yuyv = KMS2V4L_FOURCC('Y', 'U', 'Y', 'V'),
		       nv12 = KMS2V4L_FOURCC('N', 'V', '1', '2'),
		       yu12 = KMS2V4L_FOURCC('Y', 'U', '1', '2'),
		       nv21 = KMS2V4L_FOURCC('N', 'V', '2', '1');
	std::vector<uint32_t> node{xr24, yuyv, yu12, nv12, nv21};
	EXPECT_EQ(choose_format(pipeline_formats(), node), nv12);
	EXPECT_EQ(choose_format(preferred_formats(), node), xr24);
	auto takes = [](std::vector<std::string> names) {
		return [names](const FormatInfo &f) {
			return std::find(names.begin(), names.end(), f.gst_format) != names.end();
		};
	};
	EXPECT_EQ(choose_format(pipeline_formats(), node, takes({"I420", "NV12"})), nv12);
	EXPECT_EQ(choose_format(pipeline_formats(), node, takes({"I420", "BGRx"})), yu12);
	EXPECT_EQ(choose_format(pipeline_formats(), node, takes({"BGRx", "YUY2"})), yuyv);
	EXPECT_EQ(choose_format(pipeline_formats(), node, takes({"BGRx"})), xr24);
	EXPECT_EQ(choose_format(pipeline_formats(), node, takes({"NV21", "GRAY8"})), 0u);
	EXPECT_EQ(choose_format(pipeline_formats(), std::vector<uint32_t>{nv21}), 0u);
	EXPECT_EQ(pipeline_formats().size(), 13u);
	for (uint32_t f : pipeline_formats())
		EXPECT_NE(format_info(f), nullptr);
}

// The planes of one single-planar V4L2 buffer (bytesperline @stride):
// NV12's CbCr right after the Y lines with the same stride; YU12's Cb
// then Cr at half the stride; odd heights round the chroma lines up.
TEST(Format, PlaneLayout)
{
	const FormatInfo &nv12 = *format_info(KMS2V4L_FOURCC('N', 'V', '1', '2'));
	const FormatInfo &yu12 = *format_info(KMS2V4L_FOURCC('Y', 'U', '1', '2'));
	const FormatInfo &xr24 = *format_info(KMS2V4L_FOURCC('X', 'R', '2', '4'));
	Planes p = plane_layout(nv12, 480, 640);
	EXPECT_EQ(p.count, 2u);
	EXPECT_EQ(p.offset[1], 640u * 480);
	EXPECT_EQ(p.stride[0], 640u);
	EXPECT_EQ(p.stride[1], 640u);
	EXPECT_EQ(p.size, 640u * 480 * 3 / 2);
	p = plane_layout(yu12, 480, 640);
	EXPECT_EQ(p.count, 3u);
	EXPECT_EQ(p.offset[1], 640u * 480);
	EXPECT_EQ(p.offset[2], 640u * 480 + 320 * 240);
	EXPECT_EQ(p.stride[1], 320u);
	EXPECT_EQ(p.stride[2], 320u);
	EXPECT_EQ(p.size, 640u * 480 * 3 / 2);
	p = plane_layout(yu12, 5, 8);
	EXPECT_EQ(p.offset[1], 40u);
	EXPECT_EQ(p.offset[2], 40u + 4 * 3);
	EXPECT_EQ(p.size, 40u + 2 * 4 * 3);
	p = plane_layout(nv12, 5, 8);
	EXPECT_EQ(p.size, 40u + 8 * 3);
	p = plane_layout(xr24, 480, 2560);
	EXPECT_EQ(p.count, 1u);
	EXPECT_EQ(p.stride[0], 2560u);
	EXPECT_EQ(p.size, 2560u * 480);
}

TEST(Format, Bgrx32IsCopiedIntoTheRect)
{
	std::vector<uint8_t> src{0x11, 0x22, 0x33, 0x00, 0x44, 0x55, 0x66, 0x00,
				 0x77, 0x88, 0x99, 0x00, 0xaa, 0xbb, 0xcc, 0x00};
	std::vector<uint32_t> dst(4, 0xdeadbeef);
	convert_rect(PixelLayout::BGRX32, src.data(), 8, dst.data(), 2, 1, 0, 1, 2);
	EXPECT_EQ(dst, (std::vector<uint32_t>{0xdeadbeef, 0x00665544, 0xdeadbeef, 0x00ccbbaa}));
}

TEST(Format, Xrgb32AndRgb24)
{
	std::vector<uint8_t> x{0x00, 0x12, 0x34, 0x56};
	uint32_t d = 0;
	convert_rect(PixelLayout::XRGB32, x.data(), 4, &d, 1, 0, 0, 1, 1);
	EXPECT_EQ(d, 0x123456u);
	std::vector<uint8_t> rgb{0x12, 0x34, 0x56};
	convert_rect(PixelLayout::RGB24, rgb.data(), 3, &d, 1, 0, 0, 1, 1);
	EXPECT_EQ(d, 0x123456u);
	convert_rect(PixelLayout::BGR24, rgb.data(), 3, &d, 1, 0, 0, 1, 1);
	EXPECT_EQ(d, 0x563412u);
}

TEST(Format, Rgb565)
{
	auto conv = [](uint16_t v) {
		uint8_t s[2] = {uint8_t(v), uint8_t(v >> 8)};
		uint32_t d = 0;
		convert_rect(PixelLayout::RGB565, s, 2, &d, 1, 0, 0, 1, 1);
		return d;
	};
	EXPECT_EQ(conv(0xffff), 0xffffffu);
	EXPECT_EQ(conv(0x0000), 0x000000u);
	EXPECT_EQ(conv(0xf800), 0xff0000u);
	EXPECT_EQ(conv(0x07e0), 0x00ff00u);
	EXPECT_EQ(conv(0x001f), 0x0000ffu);
	EXPECT_EQ(conv(16 << 11), 0x840000u); // 16/31 of 255 = 131.6 -> 132
}

// Channels within 1 of @want: the textbook YCbCr of the primaries are
// themselves rounded to integers.
static void expect_near(uint32_t got, uint32_t want)
{
	for (int shift : {0, 8, 16}) {
		int g = int((got >> shift) & 0xff), w = int((want >> shift) & 0xff);
		EXPECT_LE(std::abs(g - w), 1) << std::hex << got << " vs " << want;
	}
	EXPECT_EQ(got >> 24, 0u);
}

TEST(Format, YuvBt601LimitedRange)
{
	EXPECT_EQ(yuv_to_xrgb(16, 128, 128), 0x000000u);
	EXPECT_EQ(yuv_to_xrgb(235, 128, 128), 0xffffffu);
	expect_near(yuv_to_xrgb(81, 90, 240), 0xff0000u);   // red
	expect_near(yuv_to_xrgb(145, 54, 34), 0x00ff00u);   // green
	expect_near(yuv_to_xrgb(41, 240, 110), 0x0000ffu);  // blue
	expect_near(yuv_to_xrgb(126, 128, 128), 0x7f7f7fu); // mid grey
	EXPECT_EQ(yuv_to_xrgb(0, 0, 0) & 0xff000000u, 0u);  // clamped
}

TEST(Format, YuyvAndUyvyPairs)
{
	// Two pixels: white then black, sharing neutral chroma.
	std::vector<uint8_t> yuyv{235, 128, 16, 128}, uyvy{128, 235, 128, 16};
	std::vector<uint32_t> d(2);
	convert_rect(PixelLayout::YUYV, yuyv.data(), 4, d.data(), 2, 0, 0, 2, 1);
	EXPECT_EQ(d, (std::vector<uint32_t>{0xffffff, 0x000000}));
	convert_rect(PixelLayout::UYVY, uyvy.data(), 4, d.data(), 2, 0, 0, 2, 1);
	EXPECT_EQ(d, (std::vector<uint32_t>{0xffffff, 0x000000}));
}
