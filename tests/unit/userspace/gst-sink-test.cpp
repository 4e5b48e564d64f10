// SPDX-License-Identifier: GPL-2.0-or-later
// GstSink against real GStreamer pipelines (no V4L2: frames are made here,
// stamped with CLOCK_MONOTONIC like a V4L2 buffer): first frames carry the
// running time they were captured at (not 0 from the first frame while
// the pipeline has run since its start), an element's error ends the sink
// at once with its message, and a pipeline that holds the V4L2 buffers
// gets copies (or drops, as asked), never silently nothing; the format
// for --no-vnc is one the pipeline's first element takes (NV12 for an
// encoder), and NV12/YU12 planes arrive where the V4L2 buffer has them.
#include "format.h"
#include "gst_sink.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>
#include <kms2v4l/kms2v4l.h>
#include <linux/videodev2.h>

#include <poll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

using namespace v4l2vnc;
using namespace std::chrono_literals;

namespace {

constexpr unsigned kW = 64, kH = 48, kStride = kW * 4, kSize = kStride * kH;

uint64_t mono_ns()
{
	timespec t{};
	clock_gettime(CLOCK_MONOTONIC, &t);
	return uint64_t(t.tv_sec) * 1000000000ull + uint64_t(t.tv_nsec);
}

std::unique_ptr<GstSink> make_sink(const std::string &desc, HoldPolicy hold = HoldPolicy::kCopy)
{
	std::string err;
	auto s = GstSink::create(desc, hold, err);
	EXPECT_TRUE(s) << err;
	if (s)
		s->set_format(*format_info(KMS2V4L_FOURCC('X', 'R', '2', '4')), kW, kH, kStride,
			      kSize, 60, 1);
	return s;
}

// What a pad probe on the sink's input saw: each buffer's PTS and the
// pipeline's running time when it arrived.
struct Arrivals {
	std::mutex lock;
	std::vector<std::pair<GstClockTime, GstClockTime>> seen; // PTS, running time
	GstElement *pipeline = nullptr;
};

GstPadProbeReturn on_buffer(GstPad *, GstPadProbeInfo *info, gpointer data)
{
	auto *a = static_cast<Arrivals *>(data);
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	GstClock *clock = gst_element_get_clock(a->pipeline);
	GstClockTime now = GST_CLOCK_TIME_NONE;
	if (clock) {
		now = gst_clock_get_time(clock) - gst_element_get_base_time(a->pipeline);
		gst_object_unref(clock);
	}
	std::lock_guard<std::mutex> g(a->lock);
	a->seen.emplace_back(GST_BUFFER_PTS(buf), now);
	return GST_PAD_PROBE_OK;
}

void probe_sink(GstSink &s, Arrivals &a)
{
	a.pipeline = s.pipeline();
	GstElement *out = gst_bin_get_by_name(GST_BIN(s.pipeline()), "out");
	ASSERT_NE(out, nullptr);
	GstPad *pad = gst_element_get_static_pad(out, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &a, nullptr);
	gst_object_unref(pad);
	gst_object_unref(out);
}

size_t wait_arrivals(Arrivals &a, size_t n)
{
	for (int i = 0; i < 200; i++) {
		{
			std::lock_guard<std::mutex> g(a.lock);
			if (a.seen.size() >= n)
				return a.seen.size();
		}
		std::this_thread::sleep_for(10ms);
	}
	std::lock_guard<std::mutex> g(a.lock);
	return a.seen.size();
}

double ms(GstClockTime t)
{
	return double(t) / 1e6;
}

} // namespace

// The pipeline is PLAYING from create(): frames that come 300 ms later
// (a device's start-up) must not be 300 ms late on the pipeline clock.
TEST(GstSink, FirstFramesAreOnTimeAfterASlowStart)
{
	auto s = make_sink("fakesink name=out sync=false");
	ASSERT_TRUE(s);
	Arrivals a;
	probe_sink(*s, a);
	std::this_thread::sleep_for(300ms);
	std::vector<uint8_t> frame(kSize, 0x80);
	for (unsigned i = 0; i < 5; i++) {
		EXPECT_EQ(s->push_frame(i % 4, nullptr, frame.data(), kSize, mono_ns()),
			  GstPush::kCopied);
		std::this_thread::sleep_for(20ms);
	}
	ASSERT_EQ(wait_arrivals(a, 5), 5u);
	for (auto [pts, now] : a.seen) {
		ASSERT_NE(pts, GST_CLOCK_TIME_NONE);
		ASSERT_NE(now, GST_CLOCK_TIME_NONE);
		EXPECT_GE(ms(pts), 250.0) << "PTS counts from the first frame, not the pipeline";
		EXPECT_LE(ms(pts), ms(now)) << "PTS in the future";
		EXPECT_LT(ms(now - pts), 50.0) << "frame late on arrival";
	}
	for (size_t i = 1; i < a.seen.size(); i++)
		EXPECT_GT(a.seen[i].first, a.seen[i - 1].first);
	EXPECT_EQ(s->stats().pushed, 5u);
}

// A frame whose V4L2 timestamp is 40 ms old when it is pushed is stamped
// 40 ms before the running time of its push: the capture time, as
// v4l2src does, not the time it reached GStreamer.
TEST(GstSink, PtsIsTheCaptureTime)
{
	auto s = make_sink("fakesink name=out sync=false");
	ASSERT_TRUE(s);
	Arrivals a;
	probe_sink(*s, a);
	std::vector<uint8_t> frame(kSize, 0x40);
	std::this_thread::sleep_for(100ms);
	s->push_frame(0, nullptr, frame.data(), kSize, mono_ns() - 40000000ull);
	ASSERT_EQ(wait_arrivals(a, 1), 1u);
	auto [pts, now] = a.seen[0];
	EXPECT_GE(ms(now - pts), 39.0);
	EXPECT_LT(ms(now - pts), 80.0);
	// And running_time_of() agrees with the pipeline clock now.
	GstClock *clock = gst_element_get_clock(s->pipeline());
	ASSERT_NE(clock, nullptr);
	GstClockTime rt = gst_clock_get_time(clock) - gst_element_get_base_time(s->pipeline());
	gst_object_unref(clock);
	EXPECT_LT(std::abs(double(s->running_time_of(mono_ns())) - double(rt)) / 1e6, 5.0);
}

// A sink that syncs to the pipeline clock drops buffers that come later
// than max-lateness and says so in QoS messages: the sink counts them.
// Frames 200 ms old when pushed are late; frames pushed as captured are not.
TEST(GstSink, LateFramesAreCountedFromTheSinksQos)
{
	for (uint64_t age_ms : {200, 0}) {
		auto s = make_sink("fakesink sync=true qos=true max-lateness=20000000");
		ASSERT_TRUE(s);
		std::vector<uint8_t> frame(kSize, 3);
		std::this_thread::sleep_for(100ms);
		for (unsigned i = 0; i < 6; i++) {
			s->push_frame(i % 4, nullptr, frame.data(), kSize,
				      mono_ns() - age_ms * 1000000ull);
			std::this_thread::sleep_for(17ms);
		}
		std::this_thread::sleep_for(100ms);
		std::string err;
		EXPECT_TRUE(s->handle_bus(err)) << err;
		if (age_ms)
			EXPECT_GE(s->stats().late, 5u) << "frames " << age_ms << " ms old";
		else
			EXPECT_EQ(s->stats().late, 0u) << "frames pushed as captured";
	}
}

// An element that fails while streaming (a sink that cannot write)
// posts an ERROR; handle_bus() reports it with the element's name and
// finish() returns at once instead of waiting for an EOS that cannot come
// (behind the queue the failed thread passes no EOS on: a wait would last
// its whole timeout).
TEST(GstSink, ErrorEndsAtOnceWithTheMessage)
{
	auto s = make_sink("queue ! filesink name=out location=/dev/full buffer-mode=unbuffered");
	ASSERT_TRUE(s);
	std::vector<uint8_t> frame(kSize, 1);
	s->push_frame(0, nullptr, frame.data(), kSize, mono_ns());
	std::string err;
	bool ended = false;
	for (int i = 0; i < 50 && !ended; i++) {
		pollfd p{s->bus_fd(), POLLIN, 0};
		poll(&p, 1, 100);
		ended = !s->handle_bus(err);
	}
	ASSERT_TRUE(ended) << "no ERROR on the bus within 5 s";
	EXPECT_NE(err.find("out: "), std::string::npos) << err;
	EXPECT_NE(err.find("space"), std::string::npos) << err; // ENOSPC's text
	// The errors that follow the first (appsrc's "Internal data stream
	// error") are taken too, as the event loop would: nothing is left on
	// the bus that could end a wait for EOS.
	for (int i = 0; i < 30; i++) {
		std::this_thread::sleep_for(10ms);
		std::string more;
		s->handle_bus(more);
	}
	auto t0 = std::chrono::steady_clock::now();
	std::string ferr;
	s->finish(10000, ferr);
	EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

// The usual mistake: raw BGRx straight into an encoder that takes only
// YUV.  appsrc fails with not-negotiated; the EOS it sends then stops at
// the encoder and never reaches the sink, so waiting for it would take
// the whole timeout (10 s in v4l2vnc).
TEST(GstSink, EncoderThatRefusesTheFormatEndsAtOnce)
{
	std::string err;
	auto s = GstSink::create("x264enc ! mp4mux ! filesink location=/dev/null",
				 HoldPolicy::kCopy, err);
	if (!s && err.find("x264enc") != std::string::npos)
		GTEST_SKIP() << "no x264enc (gstreamer1.0-plugins-ugly): " << err;
	ASSERT_TRUE(s) << err;
	// A live pipeline has its clock as soon as create() returns: the
	// first frame gets a real PTS.
	EXPECT_NE(s->running_time_of(mono_ns()), GST_CLOCK_TIME_NONE);
	s->set_format(*format_info(KMS2V4L_FOURCC('X', 'R', '2', '4')), kW, kH, kStride, kSize, 60,
		      1);
	std::vector<uint8_t> frame(kSize, 1);
	s->push_frame(0, nullptr, frame.data(), kSize, mono_ns());
	bool ended = false;
	for (int i = 0; i < 50 && !ended; i++) {
		pollfd p{s->bus_fd(), POLLIN, 0};
		poll(&p, 1, 100);
		ended = !s->handle_bus(err);
	}
	ASSERT_TRUE(ended) << "no ERROR on the bus within 5 s";
	EXPECT_NE(err.find("not-negotiated"), std::string::npos) << err;
	EXPECT_EQ(err.find('\n'), std::string::npos) << "one line: " << err;
	auto t0 = std::chrono::steady_clock::now();
	std::string ferr;
	s->finish(10000, ferr);
	EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

namespace {

// memfds stand in for the V4L2 buffers' dma-bufs: GStreamer's dma-buf
// allocator takes any fd, and nothing here maps them.
struct FakeBuffers {
	std::vector<int> fds;
	explicit FakeBuffers(unsigned n)
	{
		for (unsigned i = 0; i < n; i++) {
			int fd = memfd_create("v4l2-buffer", MFD_CLOEXEC);
			EXPECT_GE(fd, 0);
			EXPECT_EQ(ftruncate(fd, kSize), 0);
			fds.push_back(fd);
		}
	}
	~FakeBuffers()
	{
		for (int fd : fds)
			close(fd);
	}
	std::function<int()> dmabuf(unsigned i)
	{
		return [this, i] { return dup(fds[i]); };
	}
};

// Pushes @n frames into @s as a capture loop would: a buffer goes back to
// the driver unless the sink holds it; the next frame comes from a buffer
// the driver has.  Returns what each push did.
std::vector<GstPush> run_frames(GstSink &s, FakeBuffers &b, unsigned n)
{
	std::vector<GstPush> what;
	std::vector<uint8_t> frame(kSize, 7);
	unsigned next = 0;
	for (unsigned k = 0; k < n; k++) {
		unsigned index;
		while (s.read_release(index)) {
		}
		for (unsigned t = 0; t < b.fds.size() && s.holds(next); t++)
			next = (next + 1) % unsigned(b.fds.size());
		EXPECT_FALSE(s.holds(next));
		what.push_back(s.push_frame(next, b.dmabuf(next), frame.data(), kSize, mono_ns()));
		next = (next + 1) % unsigned(b.fds.size());
		std::this_thread::sleep_for(15ms); // appsrc empties: no lag drops
	}
	return what;
}

} // namespace

// A queue that lets nothing through before it has 6 buffers stands for an
// encoder with look-ahead.  With 4 V4L2 buffers, two may go as dma-buf;
// then frames are copied (kCopy) and none is lost to the holds.  Buffers
// the queue let go, and at the end all, come back through read_release().
TEST(GstSink, HoldingPipelineGetsCopies)
{
	auto s = make_sink(
		"queue min-threshold-buffers=6 max-size-buffers=0 max-size-bytes=0 "
		"max-size-time=0 ! fakesink name=out sync=false enable-last-sample=false");
	ASSERT_TRUE(s);
	FakeBuffers b(4);
	s->reset_buffers(4);
	auto what = run_frames(*s, b, 12);
	EXPECT_EQ(what[0], GstPush::kHeld);
	EXPECT_EQ(what[1], GstPush::kHeld);
	EXPECT_EQ(what[2], GstPush::kCopiedHeld);
	EXPECT_EQ(s->stats().pushed, 12u);
	EXPECT_EQ(s->stats().dropped_held + s->stats().dropped_lag, 0u);
	EXPECT_GE(s->stats().copied_held, 4u);
	EXPECT_GE(s->stats().pushed_dmabuf, 2u);
	// The queue keeps 5 frames back; at the end all of them go out.
	EXPECT_GT(s->held(), 0u);
	std::string err;
	EXPECT_TRUE(s->finish(2000, err)) << err;
	unsigned index;
	for (int i = 0; i < 100 && s->held(); i++) {
		pollfd p{s->release_fd(), POLLIN, 0};
		poll(&p, 1, 20);
		while (s->read_release(index)) {
		}
	}
	EXPECT_EQ(s->held(), 0u);
}

// The same pipeline with --gst-hold drop: frames are dropped and counted.
TEST(GstSink, HoldingPipelineWithDropPolicyDropsAndCounts)
{
	auto s = make_sink(
		"queue min-threshold-buffers=6 max-size-buffers=0 max-size-bytes=0 "
		"max-size-time=0 ! fakesink name=out sync=false enable-last-sample=false",
		HoldPolicy::kDrop);
	ASSERT_TRUE(s);
	FakeBuffers b(4);
	s->reset_buffers(4);
	auto what = run_frames(*s, b, 6);
	EXPECT_EQ(what[0], GstPush::kHeld);
	EXPECT_EQ(what[1], GstPush::kHeld);
	for (size_t i = 2; i < what.size(); i++)
		EXPECT_EQ(what[i], GstPush::kDroppedHeld) << "frame " << i;
	EXPECT_EQ(s->stats().dropped_held, 4u);
	EXPECT_EQ(s->stats().copied_held, 0u);
}

// Releases of a buffer set that was replaced (a resize) do not touch the
// new set's books: the old buffer 0's release must not end the hold on
// the new buffer 0.
TEST(GstSink, ReleasesOfAnOldBufferSetAreIgnored)
{
	auto s = make_sink(
		"queue min-threshold-buffers=2 max-size-buffers=0 max-size-bytes=0 "
		"max-size-time=0 ! fakesink name=out sync=false enable-last-sample=false");
	ASSERT_TRUE(s);
	FakeBuffers b(4);
	s->reset_buffers(4);
	std::vector<uint8_t> frame(kSize, 7);
	EXPECT_EQ(s->push_frame(0, b.dmabuf(0), frame.data(), kSize, mono_ns()), GstPush::kHeld);
	std::this_thread::sleep_for(15ms);
	s->push_frame(1, nullptr, frame.data(), kSize, mono_ns()); // the queue lets both go
	pollfd p{s->release_fd(), POLLIN, 0};
	ASSERT_EQ(poll(&p, 1, 2000), 1) << "old buffer 0 not released";
	s->reset_buffers(4); // its release waits in the pipe, unread
	EXPECT_FALSE(s->holds(0));
	EXPECT_EQ(s->push_frame(0, b.dmabuf(0), frame.data(), kSize, mono_ns()), GstPush::kHeld);
	unsigned index = 99;
	EXPECT_FALSE(s->read_release(index)) << "released index " << index;
	EXPECT_TRUE(s->holds(0));
}

namespace {

constexpr uint32_t kXR24 = KMS2V4L_FOURCC('X', 'R', '2', '4');
constexpr uint32_t kYUYV = KMS2V4L_FOURCC('Y', 'U', 'Y', 'V');
constexpr uint32_t kNV12 = KMS2V4L_FOURCC('N', 'V', '1', '2');
constexpr uint32_t kYU12 = KMS2V4L_FOURCC('Y', 'U', '1', '2');

// What v4l2vnc --no-vnc picks from a device offering @offered for @s.
uint32_t pick(const GstSink &s, std::vector<uint32_t> offered)
{
	return choose_format(pipeline_formats(), offered,
			     [&s](const FormatInfo &f) { return s.accepts(f); });
}

} // namespace

// v4l2vnc --no-vnc --gst 'x264enc ! ...' with no videoconvert: the
// encoder's sink caps say NV12 and I420, never BGRx, so a device offering
// XR24, YUYV and NV12 is set to NV12; YU12 (I420) when it has no NV12;
// nothing at all when it has only what x264enc refuses.
TEST(GstSink, EncoderFirstGetsNv12)
{
	std::string err;
	auto s = GstSink::create("x264enc ! mp4mux ! filesink location=/dev/null",
				 HoldPolicy::kCopy, err);
	if (!s && err.find("x264enc") != std::string::npos)
		GTEST_SKIP() << "no x264enc (gstreamer1.0-plugins-ugly): " << err;
	ASSERT_TRUE(s) << err;
	EXPECT_TRUE(s->accepts(*format_info(kNV12)));
	EXPECT_TRUE(s->accepts(*format_info(kYU12)));
	EXPECT_FALSE(s->accepts(*format_info(kXR24)));
	EXPECT_FALSE(s->accepts(*format_info(kYUYV)));
	EXPECT_EQ(pick(*s, {kXR24, kYUYV, kNV12}), kNV12);
	EXPECT_EQ(pick(*s, {kXR24, kYU12, kYUYV}), kYU12);
	EXPECT_EQ(pick(*s, {kXR24, kYUYV}), 0u);
	EXPECT_NE(s->accepted_caps().find("NV12"), std::string::npos) << s->accepted_caps();
	EXPECT_EQ(s->accepted_caps().find("BGRx"), std::string::npos) << s->accepted_caps();
}

// A first element that takes anything (videoconvert) gets NV12 over the
// device's RGB; one that wants BGRx (a capsfilter) gets XR24 even though
// NV12 is offered, and nothing from a device without RGB; dma-buf-only
// caps (memory:DMABuf) do not take system memory.
TEST(GstSink, FirstElementsCapsDecide)
{
	std::string err;
	auto conv = GstSink::create("videoconvert ! fakesink", HoldPolicy::kCopy, err);
	ASSERT_TRUE(conv) << err;
	EXPECT_EQ(pick(*conv, {kXR24, kYUYV, kNV12}), kNV12);
	EXPECT_EQ(pick(*conv, {kXR24, kYUYV}), kYUYV);

	auto bgrx = GstSink::create("video/x-raw,format=BGRx ! fakesink", HoldPolicy::kCopy, err);
	ASSERT_TRUE(bgrx) << err;
	EXPECT_EQ(pick(*bgrx, {kNV12, kYUYV, kXR24}), kXR24);
	EXPECT_EQ(pick(*bgrx, {kNV12, kYUYV}), 0u);

	auto dmabuf = GstSink::create("video/x-raw(memory:DMABuf),format=NV12 ! fakesink",
				      HoldPolicy::kCopy, err);
	ASSERT_TRUE(dmabuf) << err;
	EXPECT_FALSE(dmabuf->accepts(*format_info(kNV12)));
}

namespace {

constexpr unsigned kPw = 64, kPh = 48, kPstride = 96; // a padded V4L2 line
constexpr uint8_t kY = 0x30, kCb = 0x50, kCr = 0xa0, kPad = 0xee;

// A single-planar V4L2 buffer of @fourcc (NV12 or YU12), kPw x kPh with
// kPstride bytes a line: Y kY, Cb kCb, Cr kCr, padding kPad.
std::vector<uint8_t> planar_frame(uint32_t fourcc)
{
	const unsigned cw = kPw / 2, ch = kPh / 2;
	std::vector<uint8_t> f(size_t(kPstride) * kPh * 3 / 2, kPad);
	for (unsigned y = 0; y < kPh; y++)
		std::fill_n(&f[size_t(y) * kPstride], kPw, kY);
	uint8_t *chroma = &f[size_t(kPstride) * kPh];
	for (unsigned y = 0; y < ch; y++)
		for (unsigned x = 0; x < cw; x++) {
			if (fourcc == kNV12) {
				chroma[y * kPstride + 2 * x] = kCb;
				chroma[y * kPstride + 2 * x + 1] = kCr;
			} else {
				chroma[y * (kPstride / 2) + x] = kCb;
				chroma[(ch + y) * (kPstride / 2) + x] = kCr;
			}
		}
	return f;
}

// Pushes @frame (copy, or from a memfd as dma-buf) into "appsrc !
// videoconvert ! I420 ! appsink" and checks every converted sample: a
// meta with the wrong planes (GStreamer's default layout would put the
// chroma at 64 * 48 with stride 64) reads padding or the wrong plane.
void expect_planes_arrive(uint32_t fourcc, bool as_dmabuf)
{
	std::string err;
	auto s = GstSink::create("videoconvert ! video/x-raw,format=I420 ! appsink name=out "
				 "sync=false",
				 HoldPolicy::kCopy, err);
	ASSERT_TRUE(s) << err;
	std::vector<uint8_t> frame = planar_frame(fourcc);
	s->set_format(*format_info(fourcc), kPw, kPh, kPstride, frame.size(), 60, 1);
	s->reset_buffers(4);
	int memfd = memfd_create("v4l2-buffer", MFD_CLOEXEC);
	ASSERT_GE(memfd, 0);
	ASSERT_EQ(write(memfd, frame.data(), frame.size()), ssize_t(frame.size()));
	std::function<int()> dmabuf;
	if (as_dmabuf)
		dmabuf = [memfd] { return dup(memfd); };
	GstPush what = s->push_frame(0, dmabuf, frame.data(), frame.size(), mono_ns());
	EXPECT_EQ(what, as_dmabuf ? GstPush::kHeld : GstPush::kCopied);

	GstElement *out = gst_bin_get_by_name(GST_BIN(s->pipeline()), "out");
	ASSERT_NE(out, nullptr);
	GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(out), 5 * GST_SECOND);
	gst_object_unref(out);
	std::string bus;
	ASSERT_NE(sample, nullptr)
		<< "no converted frame; bus: " << (s->handle_bus(bus) ? "" : bus);
	GstVideoInfo info;
	ASSERT_TRUE(gst_video_info_from_caps(&info, gst_sample_get_caps(sample)));
	EXPECT_EQ(GST_VIDEO_INFO_WIDTH(&info), int(kPw));
	EXPECT_EQ(GST_VIDEO_INFO_HEIGHT(&info), int(kPh));
	GstVideoFrame vf;
	ASSERT_TRUE(gst_video_frame_map(&vf, &info, gst_sample_get_buffer(sample), GST_MAP_READ));
	const uint8_t want[3] = {kY, kCb, kCr};
	for (unsigned p = 0; p < 3; p++) {
		const auto *d = static_cast<const uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(&vf, p));
		const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&vf, p);
		const unsigned w = p ? kPw / 2 : kPw, h = p ? kPh / 2 : kPh;
		unsigned wrong = 0, first = 0;
		for (unsigned y = 0; y < h; y++)
			for (unsigned x = 0; x < w; x++)
				if (d[y * stride + x] != want[p] && !wrong++)
					first = d[y * stride + x];
		EXPECT_EQ(wrong, 0u) << "plane " << p << ": first wrong value 0x" << std::hex
				     << first << ", want 0x" << unsigned(want[p]);
	}
	gst_video_frame_unmap(&vf);
	gst_sample_unref(sample);
	std::string ferr;
	s->finish(2000, ferr);
	close(memfd);
}

} // namespace

// NV12 and YU12 frames reach the pipeline as the V4L2 buffer holds them:
// Y, then CbCr (NV12) or Cb, then Cr at half the stride (YU12), here with
// padded lines, as copies and as dma-buf.
TEST(GstSink, Nv12PlanesArrive)
{
	expect_planes_arrive(kNV12, false);
	expect_planes_arrive(kNV12, true);
}

TEST(GstSink, Yu12PlanesArrive)
{
	expect_planes_arrive(kYU12, false);
	expect_planes_arrive(kYU12, true);
}

// V4L2's colour description maps onto GStreamer's: kms2v4l's YUV (sRGB
// colorspace, BT.601 encoding, limited range) keeps BT.601 and its range
// (issue 17: caps without colorimetry are read as BT.709 from 720 lines
// up), explicit fields win over the colorspace's defaults, and a node that
// says nothing gives BT.601 limited range (YUV) or sRGB (RGB).
TEST(GstSink, ColorimetryFollowsTheNode)
{
	const FormatInfo &nv12 = *format_info(kNV12);
	const FormatInfo &yuyv = *format_info(KMS2V4L_FOURCC('Y', 'U', 'Y', 'V'));
	const FormatInfo &xr24 = *format_info(KMS2V4L_FOURCC('X', 'R', '2', '4'));
	auto parse = [](const std::string &s) {
		GstVideoColorimetry c{};
		EXPECT_TRUE(gst_video_colorimetry_from_string(&c, s.c_str())) << s;
		return c;
	};
	auto is = [&](const std::string &s, const char *name) {
		GstVideoColorimetry c = parse(s);
		return gst_video_colorimetry_matches(&c, name) != FALSE;
	};
	// What kms2v4l's node reports for NV12, and the same left to defaults.
	for (const ColorInfo &k2v : {ColorInfo{V4L2_COLORSPACE_SRGB, V4L2_YCBCR_ENC_601,
					       V4L2_QUANTIZATION_LIM_RANGE, V4L2_XFER_FUNC_SRGB},
				     ColorInfo{V4L2_COLORSPACE_SRGB, 0, 0, 0}}) {
		for (const FormatInfo *f : {&nv12, &yuyv}) {
			GstVideoColorimetry c = parse(gst_colorimetry(*f, k2v));
			EXPECT_EQ(c.matrix, GST_VIDEO_COLOR_MATRIX_BT601);
			EXPECT_EQ(c.range, GST_VIDEO_COLOR_RANGE_16_235);
			EXPECT_EQ(c.transfer, GST_VIDEO_TRANSFER_SRGB);
			EXPECT_EQ(c.primaries, GST_VIDEO_COLOR_PRIMARIES_BT709);
		}
	}
	// And for its RGB formats (full range).
	for (const ColorInfo &k2v : {ColorInfo{V4L2_COLORSPACE_SRGB, V4L2_YCBCR_ENC_601,
					       V4L2_QUANTIZATION_FULL_RANGE, V4L2_XFER_FUNC_SRGB},
				     ColorInfo{V4L2_COLORSPACE_SRGB, 0, 0, 0}})
		EXPECT_TRUE(is(gst_colorimetry(xr24, k2v), GST_VIDEO_COLORIMETRY_SRGB));
	// Nothing said: BT.601 limited (YUV), sRGB (RGB).
	EXPECT_TRUE(is(gst_colorimetry(nv12, {}), GST_VIDEO_COLORIMETRY_BT601));
	EXPECT_TRUE(is(gst_colorimetry(xr24, {}), GST_VIDEO_COLORIMETRY_SRGB));
	EXPECT_TRUE(is(gst_colorimetry(nv12, {1000, 0, 0, 0}), GST_VIDEO_COLORIMETRY_BT601));
	// Other colorspaces' defaults.
	EXPECT_TRUE(is(gst_colorimetry(nv12, {V4L2_COLORSPACE_REC709, 0, 0, 0}),
		       GST_VIDEO_COLORIMETRY_BT709));
	GstVideoColorimetry jpeg = parse(gst_colorimetry(nv12, {V4L2_COLORSPACE_JPEG, 0, 0, 0}));
	EXPECT_EQ(jpeg.range, GST_VIDEO_COLOR_RANGE_0_255);
	EXPECT_EQ(jpeg.matrix, GST_VIDEO_COLOR_MATRIX_BT601);
	GstVideoColorimetry bt2020 = parse(
		gst_colorimetry(nv12, {V4L2_COLORSPACE_BT2020, 0, 0, 0}));
	EXPECT_EQ(bt2020.matrix, GST_VIDEO_COLOR_MATRIX_BT2020);
	EXPECT_EQ(bt2020.primaries, GST_VIDEO_COLOR_PRIMARIES_BT2020);
	EXPECT_EQ(bt2020.range, GST_VIDEO_COLOR_RANGE_16_235);
	// Explicit fields win.
	GstVideoColorimetry e = parse(gst_colorimetry(
		nv12, {V4L2_COLORSPACE_SRGB, V4L2_YCBCR_ENC_709, V4L2_QUANTIZATION_FULL_RANGE, 0}));
	EXPECT_EQ(e.matrix, GST_VIDEO_COLOR_MATRIX_BT709);
	EXPECT_EQ(e.range, GST_VIDEO_COLOR_RANGE_0_255);
	GstVideoColorimetry lim_rgb = parse(
		gst_colorimetry(xr24, {V4L2_COLORSPACE_SRGB, 0, V4L2_QUANTIZATION_LIM_RANGE, 0}));
	EXPECT_EQ(lim_rgb.matrix, GST_VIDEO_COLOR_MATRIX_RGB);
	EXPECT_EQ(lim_rgb.range, GST_VIDEO_COLOR_RANGE_16_235);
}

namespace {

std::string fourcc_str(uint32_t f)
{
	char b[5];
	return kms2v4l_fourcc_str(f, b);
}

constexpr unsigned kHdW = 1280, kHdH = 720;
// BT.601 limited-range green: (0, 255, 0) read as BT.601; videoconvert's
// BT.709 reading gives (0, 211, 0), its BT.601 one (0, 250, 0): its 8-bit
// fast path is a few steps off the exact matrix, hence kTolerance.
constexpr int kTolerance = 6;
constexpr uint8_t kGreenY = 145, kGreenCb = 54, kGreenCr = 34;

// A kHdW x kHdH frame of @fourcc (NV12, YU12 or YUYV), tightly packed,
// every pixel kGreen*.
std::vector<uint8_t> green_frame(uint32_t fourcc, unsigned &stride)
{
	std::vector<uint8_t> f;
	if (fourcc == KMS2V4L_FOURCC('Y', 'U', 'Y', 'V')) {
		stride = kHdW * 2;
		for (size_t i = 0; i < size_t(kHdW) * kHdH / 2; i++)
			f.insert(f.end(), {kGreenY, kGreenCb, kGreenY, kGreenCr});
		return f;
	}
	stride = kHdW;
	const size_t luma = size_t(kHdW) * kHdH, quarter = luma / 4;
	f.assign(luma, kGreenY);
	if (fourcc == kNV12) {
		for (size_t i = 0; i < quarter; i++)
			f.insert(f.end(), {kGreenCb, kGreenCr});
	} else {
		f.insert(f.end(), quarter, kGreenCb);
		f.insert(f.end(), quarter, kGreenCr);
	}
	return f;
}

// Pushes a 1280x720 green frame of @fourcc as kms2v4l describes it into
// "appsrc ! videoconvert ! BGRx ! appsink": the caps appsrc negotiated say
// BT.601 limited range, and videoconvert's RGB is the BT.601 reading of
// the samples (format.h's yuv_to_xrgb), not the BT.709 one.
void expect_read_as_bt601(uint32_t fourcc)
{
	SCOPED_TRACE(fourcc_str(fourcc));
	std::string err;
	auto s = GstSink::create("videoconvert ! video/x-raw,format=BGRx ! appsink name=out "
				 "sync=false",
				 HoldPolicy::kCopy, err);
	ASSERT_TRUE(s) << err;
	unsigned stride = 0;
	std::vector<uint8_t> frame = green_frame(fourcc, stride);
	const ColorInfo kms2v4l{V4L2_COLORSPACE_SRGB, V4L2_YCBCR_ENC_601,
				V4L2_QUANTIZATION_LIM_RANGE, V4L2_XFER_FUNC_SRGB};
	s->set_format(*format_info(fourcc), kHdW, kHdH, stride, frame.size(), 60, 1, kms2v4l);
	s->reset_buffers(4);
	EXPECT_EQ(s->push_frame(0, nullptr, frame.data(), frame.size(), mono_ns()),
		  GstPush::kCopied);

	GstElement *out = gst_bin_get_by_name(GST_BIN(s->pipeline()), "out");
	ASSERT_NE(out, nullptr);
	GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(out), 5 * GST_SECOND);
	gst_object_unref(out);
	std::string bus;
	ASSERT_NE(sample, nullptr)
		<< "no converted frame; bus: " << (s->handle_bus(bus) ? "" : bus);

	// The caps on appsrc's pad, as negotiated.
	GstElement *src = gst_bin_get_by_name(GST_BIN(s->pipeline()), "v4l2vnc_src");
	ASSERT_NE(src, nullptr);
	GstPad *pad = gst_element_get_static_pad(src, "src");
	GstCaps *caps = gst_pad_get_current_caps(pad);
	gst_object_unref(pad);
	gst_object_unref(src);
	ASSERT_NE(caps, nullptr);
	GstVideoInfo in;
	ASSERT_TRUE(gst_video_info_from_caps(&in, caps));
	gchar *text = gst_caps_to_string(caps);
	EXPECT_EQ(in.colorimetry.matrix, GST_VIDEO_COLOR_MATRIX_BT601) << text;
	EXPECT_EQ(in.colorimetry.range, GST_VIDEO_COLOR_RANGE_16_235) << text;
	g_free(text);
	gst_caps_unref(caps);

	GstVideoInfo info;
	ASSERT_TRUE(gst_video_info_from_caps(&info, gst_sample_get_caps(sample)));
	GstVideoFrame vf;
	ASSERT_TRUE(gst_video_frame_map(&vf, &info, gst_sample_get_buffer(sample), GST_MAP_READ));
	const uint32_t want = yuv_to_xrgb(kGreenY, kGreenCb, kGreenCr);
	const auto *d = static_cast<const uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(&vf, 0));
	const int pstride = GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0);
	unsigned wrong = 0;
	uint32_t first = 0;
	for (unsigned y = 0; y < kHdH; y += 37)
		for (unsigned x = 0; x < kHdW; x += 41) {
			const uint8_t *p = d + size_t(y) * pstride + size_t(x) * 4; // B,G,R,x
			const uint32_t got = (uint32_t(p[2]) << 16) | (uint32_t(p[1]) << 8) | p[0];
			bool near = true;
			for (int sh : {16, 8, 0})
				near = near && std::abs(int((got >> sh) & 0xff) -
							int((want >> sh) & 0xff)) <= kTolerance;
			if (!near && !wrong++)
				first = got;
		}
	EXPECT_EQ(wrong, 0u) << "first wrong pixel 0x" << std::hex << first << ", want 0x" << want
			     << " (0xd300 would be a BT.709 reading)";
	gst_video_frame_unmap(&vf);
	gst_sample_unref(sample);
	std::string ferr;
	s->finish(2000, ferr);
}

} // namespace

// HD frames from kms2v4l are BT.601: GStreamer must not take them for
// BT.709 (issue 17's leftover: the caps carried no colorimetry).
TEST(GstSink, HdYuvIsReadAsBt601)
{
	expect_read_as_bt601(kNV12);
	expect_read_as_bt601(kYU12);
	expect_read_as_bt601(KMS2V4L_FOURCC('Y', 'U', 'Y', 'V'));
}
