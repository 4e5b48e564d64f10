// SPDX-License-Identifier: GPL-2.0-or-later
#include "gst_sink.h"

#include <gst/allocators/gstdmabuf.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <fcntl.h>
#include <linux/videodev2.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

namespace v4l2vnc {

namespace {

struct ReleaseCtx {
	int fd;
	uint32_t token;
};

// Runs in whichever GStreamer thread frees the memory: only a write(2).
void on_memory_freed(gpointer data, GstMiniObject *)
{
	auto *ctx = static_cast<ReleaseCtx *>(data);
	ssize_t r;
	do
		r = write(ctx->fd, &ctx->token, sizeof(ctx->token));
	while (r < 0 && errno == EINTR);
	delete ctx;
}

std::string gerror_text(GError *err)
{
	std::string s = err ? err->message : "unknown error";
	if (err)
		g_error_free(err);
	return s;
}

// What a V4L2 colorspace implies where the other fields say DEFAULT
// (V4L2's "Colorspaces" chapter and its V4L2_MAP_*_DEFAULT rules).
struct ColorspaceDefaults {
	GstVideoColorPrimaries primaries;
	uint32_t xfer_func, ycbcr_enc;
	bool full_range_yuv; // only JPEG's Y'CbCr is full range
};

std::optional<ColorspaceDefaults> colorspace_defaults(uint32_t colorspace)
{
	switch (colorspace) {
	case V4L2_COLORSPACE_SMPTE170M:
	case V4L2_COLORSPACE_BT878:
		return ColorspaceDefaults{GST_VIDEO_COLOR_PRIMARIES_SMPTE170M, V4L2_XFER_FUNC_709,
					  V4L2_YCBCR_ENC_601, false};
	case V4L2_COLORSPACE_SMPTE240M:
		return ColorspaceDefaults{GST_VIDEO_COLOR_PRIMARIES_SMPTE240M,
					  V4L2_XFER_FUNC_SMPTE240M, V4L2_YCBCR_ENC_SMPTE240M,
					  false};
	case V4L2_COLORSPACE_REC709:
		return ColorspaceDefaults{GST_VIDEO_COLOR_PRIMARIES_BT709, V4L2_XFER_FUNC_709,
					  V4L2_YCBCR_ENC_709, false};
	case V4L2_COLORSPACE_470_SYSTEM_M:
		return ColorspaceDefaults{GST_VIDEO_COLOR_PRIMARIES_BT470M, V4L2_XFER_FUNC_709,
					  V4L2_YCBCR_ENC_601, false};
	case V4L2_COLORSPACE_470_SYSTEM_BG:
		return ColorspaceDefaults{GST_VIDEO_COLOR_PRIMARIES_BT470BG, V4L2_XFER_FUNC_709,
					  V4L2_YCBCR_ENC_601, false};
	case V4L2_COLORSPACE_JPEG:
		return ColorspaceDefaults{GST_VIDEO_COLOR_PRIMARIES_BT709, V4L2_XFER_FUNC_SRGB,
					  V4L2_YCBCR_ENC_601, true};
	case V4L2_COLORSPACE_SRGB:
		return ColorspaceDefaults{GST_VIDEO_COLOR_PRIMARIES_BT709, V4L2_XFER_FUNC_SRGB,
					  V4L2_YCBCR_ENC_601, false};
	case V4L2_COLORSPACE_OPRGB:
		return ColorspaceDefaults{GST_VIDEO_COLOR_PRIMARIES_ADOBERGB, V4L2_XFER_FUNC_OPRGB,
					  V4L2_YCBCR_ENC_601, false};
	case V4L2_COLORSPACE_BT2020:
		return ColorspaceDefaults{GST_VIDEO_COLOR_PRIMARIES_BT2020, V4L2_XFER_FUNC_709,
					  V4L2_YCBCR_ENC_BT2020, false};
	case V4L2_COLORSPACE_RAW:
		return ColorspaceDefaults{GST_VIDEO_COLOR_PRIMARIES_UNKNOWN, V4L2_XFER_FUNC_NONE,
					  V4L2_YCBCR_ENC_601, false};
	case V4L2_COLORSPACE_DCI_P3:
		return ColorspaceDefaults{GST_VIDEO_COLOR_PRIMARIES_SMPTERP431,
					  V4L2_XFER_FUNC_DCI_P3, V4L2_YCBCR_ENC_709, false};
	default:
		return std::nullopt;
	}
}

std::optional<GstVideoTransferFunction> gst_transfer(uint32_t xfer_func)
{
	switch (xfer_func) {
	case V4L2_XFER_FUNC_709:
		return GST_VIDEO_TRANSFER_BT709;
	case V4L2_XFER_FUNC_SRGB:
		return GST_VIDEO_TRANSFER_SRGB;
	case V4L2_XFER_FUNC_OPRGB:
		return GST_VIDEO_TRANSFER_ADOBERGB;
	case V4L2_XFER_FUNC_SMPTE240M:
		return GST_VIDEO_TRANSFER_SMPTE240M;
	case V4L2_XFER_FUNC_NONE:
		return GST_VIDEO_TRANSFER_GAMMA10;
	case V4L2_XFER_FUNC_DCI_P3: // gamma 2.6: GStreamer has no name for it
		return GST_VIDEO_TRANSFER_UNKNOWN;
	case V4L2_XFER_FUNC_SMPTE2084:
		return GST_VIDEO_TRANSFER_SMPTE2084;
	default:
		return std::nullopt;
	}
}

std::optional<GstVideoColorMatrix> gst_matrix(uint32_t ycbcr_enc)
{
	switch (ycbcr_enc) {
	case V4L2_YCBCR_ENC_601:
	case V4L2_YCBCR_ENC_XV601:
	case V4L2_YCBCR_ENC_SYCC:
		return GST_VIDEO_COLOR_MATRIX_BT601;
	case V4L2_YCBCR_ENC_709:
	case V4L2_YCBCR_ENC_XV709:
		return GST_VIDEO_COLOR_MATRIX_BT709;
	case V4L2_YCBCR_ENC_BT2020:
	case V4L2_YCBCR_ENC_BT2020_CONST_LUM:
		return GST_VIDEO_COLOR_MATRIX_BT2020;
	case V4L2_YCBCR_ENC_SMPTE240M:
		return GST_VIDEO_COLOR_MATRIX_SMPTE240M;
	default:
		return std::nullopt;
	}
}

} // namespace

std::string gst_colorimetry(const FormatInfo &fmt, const ColorInfo &color)
{
	const bool yuv = is_yuv(fmt.layout);
	GstVideoColorimetry c{};
	bool full = !yuv;
	if (auto d = colorspace_defaults(color.colorspace)) {
		c.primaries = d->primaries;
		c.transfer = *gst_transfer(d->xfer_func);
		c.matrix = *gst_matrix(d->ycbcr_enc);
		full = !yuv || d->full_range_yuv;
	} else {
		// The node did not say: what a capture card and kms2v4l give.
		gst_video_colorimetry_from_string(&c, yuv ? GST_VIDEO_COLORIMETRY_BT601
							  : GST_VIDEO_COLORIMETRY_SRGB);
	}
	if (auto t = gst_transfer(color.xfer_func))
		c.transfer = *t;
	if (auto m = gst_matrix(color.ycbcr_enc))
		c.matrix = *m;
	if (color.quantization == V4L2_QUANTIZATION_FULL_RANGE)
		full = true;
	else if (color.quantization == V4L2_QUANTIZATION_LIM_RANGE)
		full = false;
	c.range = full ? GST_VIDEO_COLOR_RANGE_0_255 : GST_VIDEO_COLOR_RANGE_16_235;
	if (!yuv)
		c.matrix = GST_VIDEO_COLOR_MATRIX_RGB;
	gchar *text = gst_video_colorimetry_to_string(&c);
	std::string s = text ? text : "";
	g_free(text);
	return s;
}

GstSink::~GstSink()
{
	if (pipeline_) {
		gst_element_set_state(pipeline_, GST_STATE_NULL);
		gst_object_unref(appsrc_);
		gst_object_unref(bus_);
		gst_object_unref(pipeline_);
	}
	if (pool_) {
		gst_buffer_pool_set_active(pool_, FALSE);
		gst_object_unref(pool_);
	}
	if (dmabuf_alloc_)
		gst_object_unref(dmabuf_alloc_);
}

std::unique_ptr<GstSink> GstSink::create(const std::string &desc, HoldPolicy hold,
					 std::string &error)
{
	GError *err = nullptr;
	if (!gst_init_check(nullptr, nullptr, &err)) {
		error = "gst_init: " + gerror_text(err);
		return nullptr;
	}
	auto s = std::unique_ptr<GstSink>(new GstSink);
	s->hold_ = hold;
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		error = std::string("pipe2: ") + g_strerror(errno);
		return nullptr;
	}
	s->release_rd_.reset(p[0]);
	s->release_wr_.reset(p[1]);

	std::string full = "appsrc name=v4l2vnc_src ! " + desc;
	s->pipeline_ = gst_parse_launch(full.c_str(), &err);
	if (!s->pipeline_ || err) {
		error = "gst_parse_launch '" + full + "': " + gerror_text(err);
		if (s->pipeline_)
			gst_object_unref(s->pipeline_);
		s->pipeline_ = nullptr;
		return nullptr;
	}
	s->appsrc_ = gst_bin_get_by_name(GST_BIN(s->pipeline_), "v4l2vnc_src");
	s->bus_ = gst_element_get_bus(s->pipeline_);
	g_object_set(s->appsrc_, "format", GST_FORMAT_TIME, "is-live", TRUE, "do-timestamp", FALSE,
		     "block", FALSE, nullptr);
	s->dmabuf_alloc_ = gst_dmabuf_allocator_new();
	if (gst_element_set_state(s->pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		std::string why;
		s->handle_bus(why);
		error = "pipeline '" + full + "' does not start" + (why.empty() ? "" : ": " + why);
		return nullptr;
	}
	return s;
}

// appsrc's peer's caps (a caps query; ANY without a peer); unref them.
static GstCaps *peer_caps(GstElement *appsrc)
{
	GstPad *pad = gst_element_get_static_pad(appsrc, "src");
	GstCaps *caps = gst_pad_peer_query_caps(pad, nullptr);
	gst_object_unref(pad);
	return caps;
}

bool GstSink::accepts(const FormatInfo &fmt) const
{
	GstCaps *peer = peer_caps(appsrc_);
	GstCaps *want = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, fmt.gst_format,
					    nullptr);
	const bool ok = gst_caps_can_intersect(want, peer);
	gst_caps_unref(want);
	gst_caps_unref(peer);
	return ok;
}

std::string GstSink::accepted_caps() const
{
	GstCaps *peer = peer_caps(appsrc_);
	gchar *text = gst_caps_to_string(peer);
	std::string s = text ? text : "";
	g_free(text);
	gst_caps_unref(peer);
	return s;
}

void GstSink::set_format(const FormatInfo &fmt, unsigned width, unsigned height, unsigned stride,
			 size_t frame_size, uint32_t fps_num, uint32_t fps_den,
			 const ColorInfo &color)
{
	fmt_ = &fmt;
	width_ = width;
	height_ = height;
	planes_ = plane_layout(fmt, height, stride);
	frame_size_ = frame_size;
	frame_ns_ = fps_num ? gst_util_uint64_scale(GST_SECOND, fps_den, fps_num) : 0;
	GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, fmt.gst_format,
					    "width", G_TYPE_INT, int(width), "height", G_TYPE_INT,
					    int(height), "framerate", GST_TYPE_FRACTION,
					    int(fps_num), int(fps_num ? fps_den : 1), nullptr);
	if (std::string cm = gst_colorimetry(fmt, color); !cm.empty())
		gst_caps_set_simple(caps, "colorimetry", G_TYPE_STRING, cm.c_str(), nullptr);
	gst_app_src_set_caps(GST_APP_SRC(appsrc_), caps);
	// Like v4l2src: a frame is complete one frame time after the
	// timestamp it carries, so that much latency is the source's.
	g_object_set(appsrc_, "min-latency", frame_ns_ ? gint64(frame_ns_) : gint64(0), nullptr);

	// Copies come from a pool of frame_size buffers (no malloc and page
	// faults per frame); unbounded, as many as the pipeline holds.
	if (pool_) {
		gst_buffer_pool_set_active(pool_, FALSE); // buffers out are freed on return
		gst_object_unref(pool_);
	}
	pool_ = gst_buffer_pool_new();
	GstStructure *config = gst_buffer_pool_get_config(pool_);
	gst_buffer_pool_config_set_params(config, caps, guint(frame_size), 0, 0);
	if (!gst_buffer_pool_set_config(pool_, config) ||
	    !gst_buffer_pool_set_active(pool_, TRUE)) {
		gst_object_unref(pool_);
		pool_ = nullptr; // copies fall back to gst_buffer_new_allocate()
	}
	gst_caps_unref(caps);
}

void GstSink::reset_buffers(unsigned count)
{
	holds_.assign(count, 0);
	generation_ = (generation_ + 1) & 0xffffff;
}

unsigned GstSink::held() const
{
	unsigned n = 0;
	for (unsigned h : holds_)
		n += h != 0;
	return n;
}

static void add_meta(GstBuffer *buf, const char *format, unsigned w, unsigned h,
		     const Planes &planes)
{
	gsize offset[GST_VIDEO_MAX_PLANES] = {0};
	gint strides[GST_VIDEO_MAX_PLANES] = {0};
	for (unsigned i = 0; i < planes.count; i++) {
		offset[i] = planes.offset[i];
		strides[i] = int(planes.stride[i]);
	}
	gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE,
				       gst_video_format_from_string(format), w, h, planes.count,
				       offset, strides);
}

uint64_t GstSink::running_time_of(uint64_t ts_ns) const
{
	GstClock *clock = gst_element_get_clock(pipeline_);
	if (!clock)
		return GST_CLOCK_TIME_NONE;
	// Sample both clocks back to back: the frame is as old on the
	// pipeline clock as it is on CLOCK_MONOTONIC.
	GstClockTime now = gst_clock_get_time(clock);
	timespec mono{};
	clock_gettime(CLOCK_MONOTONIC, &mono);
	gst_object_unref(clock);
	uint64_t mono_ns = uint64_t(mono.tv_sec) * GST_SECOND + uint64_t(mono.tv_nsec);
	uint64_t age = mono_ns > ts_ns ? mono_ns - ts_ns : 0;
	GstClockTime captured = now > age ? now - age : 0;
	GstClockTime base = gst_element_get_base_time(pipeline_);
	return captured > base ? captured - base : 0;
}

bool GstSink::push(void *buffer, uint64_t ts_ns)
{
	auto *buf = static_cast<GstBuffer *>(buffer);
	add_meta(buf, fmt_->gst_format, width_, height_, planes_);
	uint64_t pts = running_time_of(ts_ns);
	// Two samplings of two clocks may disagree by a little: keep the
	// PTS increasing.
	if (pts != GST_CLOCK_TIME_NONE && last_pts_ != UINT64_MAX && pts <= last_pts_)
		pts = last_pts_ + 1;
	if (pts != GST_CLOCK_TIME_NONE)
		last_pts_ = pts;
	GST_BUFFER_PTS(buf) = pts;
	GST_BUFFER_DURATION(buf) = frame_ns_ ? frame_ns_ : GST_CLOCK_TIME_NONE;
	// push_buffer takes the buffer; on refusal it is freed (and a
	// dma-buf memory's release token written).
	if (gst_app_src_push_buffer(GST_APP_SRC(appsrc_), buf) != GST_FLOW_OK) {
		stats_.dropped_failed++;
		return false;
	}
	stats_.pushed++;
	return true;
}

GstPush GstSink::push_copy(const void *data, size_t size, uint64_t ts_ns, bool held)
{
	GstBuffer *buf = nullptr;
	if (pool_ && size <= frame_size_ &&
	    gst_buffer_pool_acquire_buffer(pool_, &buf, nullptr) == GST_FLOW_OK)
		gst_buffer_set_size(buf, gssize(size));
	else
		buf = gst_buffer_new_allocate(nullptr, size, nullptr);
	if (!buf) {
		stats_.dropped_failed++;
		return GstPush::kDroppedFailed;
	}
	gst_buffer_fill(buf, 0, data, size);
	if (!push(buf, ts_ns))
		return GstPush::kDroppedFailed;
	if (!held)
		return GstPush::kCopied;
	stats_.copied_held++;
	return GstPush::kCopiedHeld;
}

GstPush GstSink::push_frame(unsigned index, const std::function<int()> &dmabuf, const void *data,
			    size_t size, uint64_t ts_ns)
{
	guint64 level = 0;
	g_object_get(appsrc_, "current-level-buffers", &level, nullptr);
	if (level > 1) { // the pipeline lags: losing frames is all that helps
		stats_.dropped_lag++;
		return GstPush::kDroppedLag;
	}
	if (!dmabuf)
		return push_copy(data, size, ts_ns, false);
	// Keep two buffers for the driver, or it drops frames itself.
	if (index >= holds_.size() || held() + 2 >= holds_.size()) {
		if (hold_ == HoldPolicy::kCopy)
			return push_copy(data, size, ts_ns, true);
		stats_.dropped_held++;
		return GstPush::kDroppedHeld;
	}
	int fd = dmabuf();
	GstMemory *mem = fd >= 0 ? gst_dmabuf_allocator_alloc(dmabuf_alloc_, fd, frame_size_)
				 : nullptr;
	if (!mem) {
		if (fd >= 0)
			close(fd);
		return push_copy(data, size, ts_ns, false);
	}
	holds_[index]++;
	gst_mini_object_weak_ref(GST_MINI_OBJECT_CAST(mem), on_memory_freed,
				 new ReleaseCtx{release_wr_.get(), (generation_ << 8) | index});
	GstBuffer *buf = gst_buffer_new();
	gst_buffer_append_memory(buf, mem);
	if (push(buf, ts_ns))
		stats_.pushed_dmabuf++;
	// Refused or not, the buffer comes back through release_fd().
	return GstPush::kHeld;
}

bool GstSink::read_release(unsigned &index)
{
	uint32_t token;
	while (read(release_rd_.get(), &token, sizeof(token)) == sizeof(token)) {
		unsigned i = token & 0xff;
		if ((token >> 8) != generation_ || i >= holds_.size() || !holds_[i])
			continue; // a buffer of an earlier set: gone with it
		if (--holds_[i] == 0) {
			index = i;
			return true;
		}
	}
	return false;
}

int GstSink::bus_fd() const
{
	GPollFD pfd;
	gst_bus_get_pollfd(bus_, &pfd);
	return pfd.fd;
}

static std::string error_text(GstMessage *m)
{
	GError *err = nullptr;
	gchar *dbg = nullptr;
	gst_message_parse_error(m, &err, &dbg);
	std::string s = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(m))) + ": " + gerror_text(err) +
			(dbg ? std::string(" (") + dbg + ")" : "");
	g_free(dbg);
	// One log line: the debug text has line breaks.
	for (char &c : s)
		if (c == '\n')
			c = ' ';
	return s;
}

bool GstSink::handle_bus(std::string &error)
{
	bool ok = true;
	while (GstMessage *m = gst_bus_pop(bus_)) {
		if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
			if (!failed_) // the first error is the cause, the rest follow
				error = error_text(m);
			failed_ = true;
			ok = false;
		} else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS) {
			eos_ = true;
			ok = false;
		} else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_QOS) {
			// A sink that syncs to the clock dropped a buffer that
			// came too late for its running time (max-lateness).
			GstFormat format;
			guint64 processed, dropped;
			gst_message_parse_qos_stats(m, &format, &processed, &dropped);
			if (format == GST_FORMAT_BUFFERS)
				stats_.late++;
		}
		gst_message_unref(m);
	}
	return ok;
}

bool GstSink::finish(int timeout_ms, std::string &error)
{
	bool ok = true;
	if (!eos_ && !failed_) {
		gst_app_src_end_of_stream(GST_APP_SRC(appsrc_));
		GstMessage *m = gst_bus_timed_pop_filtered(
			bus_, GstClockTime(timeout_ms) * GST_MSECOND,
			GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
		if (!m) {
			error = "no end of stream within " + std::to_string(timeout_ms) + " ms";
			ok = false;
		} else {
			if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
				error = error_text(m);
				ok = false;
			}
			gst_message_unref(m);
		}
		eos_ = true;
	}
	gst_element_set_state(pipeline_, GST_STATE_NULL);
	return ok;
}

} // namespace v4l2vnc
