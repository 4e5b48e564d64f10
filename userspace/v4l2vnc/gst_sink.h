// SPDX-License-Identifier: GPL-2.0-or-later
// Frame sink feeding "appsrc ! PIPELINE".  Frames go in as dma-buf memory
// (the V4L2 buffer stays held until GStreamer frees that memory; the
// release arrives on release_fd() from whatever thread freed it) or as a
// copy.  All methods are called from the event loop's thread.
#pragma once

#include "format.h"
#include "unique_fd.h"

#include <cstdint>
#include <memory>
#include <string>

typedef struct _GstElement GstElement;
typedef struct _GstBus GstBus;
typedef struct _GstAllocator GstAllocator;

namespace v4l2vnc {

struct GstStats {
	uint64_t pushed = 0, pushed_dmabuf = 0, dropped = 0;
};

class GstSink {
public:
	~GstSink();
	static std::unique_ptr<GstSink> create(const std::string &desc, std::string &error);

	// Caps for frames that follow; fps_num 0 means variable rate.
	void set_format(const FormatInfo &fmt, unsigned width, unsigned height, unsigned stride,
			uint32_t fps_num, uint32_t fps_den);

	// Whether the pipeline lags (more than @max_queued frames waiting in
	// appsrc); the caller then drops the frame and calls count_drop().
	bool lagging(unsigned max_queued) const;
	void count_drop() { stats_.dropped++; }

	// Pushes @dmabuf_fd (ownership taken) as memory of @size bytes.  When
	// GStreamer frees it, @token is written to release_fd().  Returns
	// false (fd closed) if the pipeline refused it.
	bool push_dmabuf(int dmabuf_fd, size_t size, uint32_t token, uint64_t ts_ns);
	bool push_copy(const void *data, size_t size, uint64_t ts_ns);

	int release_fd() const { return release_rd_.get(); }
	// Reads one released token; false when none is pending.
	bool read_release(uint32_t &token);

	int bus_fd() const;
	// Handles pending bus messages; false after an error (set in @error)
	// or end of stream.
	bool handle_bus(std::string &error);

	// EOS, then waits up to @timeout_ms for the pipeline to drain, then
	// stops it.  Returns false with @error if it did not drain cleanly.
	bool finish(int timeout_ms, std::string &error);
	const GstStats &stats() const { return stats_; }

private:
	GstSink() = default;
	GstElement *pipeline_ = nullptr;
	GstElement *appsrc_ = nullptr;
	GstBus *bus_ = nullptr;
	GstAllocator *dmabuf_alloc_ = nullptr;
	UniqueFd release_rd_, release_wr_;
	unsigned width_ = 0, height_ = 0, stride_ = 0;
	const FormatInfo *fmt_ = nullptr;
	uint64_t first_ts_ = UINT64_MAX;
	bool eos_ = false;
	GstStats stats_;
};

} // namespace v4l2vnc
