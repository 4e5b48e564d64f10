// SPDX-License-Identifier: GPL-2.0-or-later
#include "gst_sink.h"

#include <gst/allocators/gstdmabuf.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

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

} // namespace

GstSink::~GstSink()
{
	if (pipeline_) {
		gst_element_set_state(pipeline_, GST_STATE_NULL);
		gst_object_unref(appsrc_);
		gst_object_unref(bus_);
		gst_object_unref(pipeline_);
	}
	if (dmabuf_alloc_)
		gst_object_unref(dmabuf_alloc_);
}

std::unique_ptr<GstSink> GstSink::create(const std::string &desc, std::string &error)
{
	GError *err = nullptr;
	if (!gst_init_check(nullptr, nullptr, &err)) {
		error = "gst_init: " + gerror_text(err);
		return nullptr;
	}
	auto s = std::unique_ptr<GstSink>(new GstSink);
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

void GstSink::set_format(const FormatInfo &fmt, unsigned width, unsigned height, unsigned stride,
			 uint32_t fps_num, uint32_t fps_den)
{
	fmt_ = &fmt;
	width_ = width;
	height_ = height;
	stride_ = stride;
	GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, fmt.gst_format,
					    "width", G_TYPE_INT, int(width), "height", G_TYPE_INT,
					    int(height), "framerate", GST_TYPE_FRACTION,
					    int(fps_num), int(fps_num ? fps_den : 1), nullptr);
	gst_app_src_set_caps(GST_APP_SRC(appsrc_), caps);
	gst_caps_unref(caps);
}

bool GstSink::lagging(unsigned max_queued) const
{
	guint64 level = 0;
	g_object_get(appsrc_, "current-level-buffers", &level, nullptr);
	return level > max_queued;
}

static void add_meta(GstBuffer *buf, const char *format, unsigned w, unsigned h, unsigned stride)
{
	gsize offset[GST_VIDEO_MAX_PLANES] = {0};
	gint strides[GST_VIDEO_MAX_PLANES] = {int(stride)};
	gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE,
				       gst_video_format_from_string(format), w, h, 1, offset,
				       strides);
}

bool GstSink::push_dmabuf(int fd, size_t size, uint32_t token, uint64_t ts_ns)
{
	GstMemory *mem = gst_dmabuf_allocator_alloc(dmabuf_alloc_, fd, size);
	if (!mem) {
		close(fd);
		return false;
	}
	gst_mini_object_weak_ref(GST_MINI_OBJECT_CAST(mem), on_memory_freed,
				 new ReleaseCtx{release_wr_.get(), token});
	GstBuffer *buf = gst_buffer_new();
	gst_buffer_append_memory(buf, mem);
	add_meta(buf, fmt_->gst_format, width_, height_, stride_);
	if (first_ts_ == UINT64_MAX)
		first_ts_ = ts_ns;
	GST_BUFFER_PTS(buf) = ts_ns - first_ts_;
	// push_buffer takes the buffer; on refusal it is freed (and the
	// memory's release token written).
	if (gst_app_src_push_buffer(GST_APP_SRC(appsrc_), buf) != GST_FLOW_OK)
		return false;
	stats_.pushed++;
	stats_.pushed_dmabuf++;
	return true;
}

bool GstSink::push_copy(const void *data, size_t size, uint64_t ts_ns)
{
	GstBuffer *buf = gst_buffer_new_allocate(nullptr, size, nullptr);
	gst_buffer_fill(buf, 0, data, size);
	add_meta(buf, fmt_->gst_format, width_, height_, stride_);
	if (first_ts_ == UINT64_MAX)
		first_ts_ = ts_ns;
	GST_BUFFER_PTS(buf) = ts_ns - first_ts_;
	if (gst_app_src_push_buffer(GST_APP_SRC(appsrc_), buf) != GST_FLOW_OK)
		return false;
	stats_.pushed++;
	return true;
}

bool GstSink::read_release(uint32_t &token)
{
	return read(release_rd_.get(), &token, sizeof(token)) == sizeof(token);
}

int GstSink::bus_fd() const
{
	GPollFD pfd;
	gst_bus_get_pollfd(bus_, &pfd);
	return pfd.fd;
}

bool GstSink::handle_bus(std::string &error)
{
	bool ok = true;
	while (GstMessage *m = gst_bus_pop(bus_)) {
		if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
			GError *err = nullptr;
			gchar *dbg = nullptr;
			gst_message_parse_error(m, &err, &dbg);
			error = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(m))) + ": " +
				gerror_text(err) + (dbg ? std::string(" (") + dbg + ")" : "");
			g_free(dbg);
			ok = false;
		} else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS) {
			eos_ = true;
			ok = false;
		}
		gst_message_unref(m);
	}
	return ok;
}

bool GstSink::finish(int timeout_ms, std::string &error)
{
	bool ok = true;
	if (!eos_) {
		gst_app_src_end_of_stream(GST_APP_SRC(appsrc_));
		GstMessage *m = gst_bus_timed_pop_filtered(
			bus_, GstClockTime(timeout_ms) * GST_MSECOND,
			GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
		if (!m) {
			error = "no end of stream within " + std::to_string(timeout_ms) + " ms";
			ok = false;
		} else {
			if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
				GError *err = nullptr;
				gst_message_parse_error(m, &err, nullptr);
				error = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(m))) + ": " +
					gerror_text(err);
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
