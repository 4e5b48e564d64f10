// SPDX-License-Identifier: GPL-2.0-or-later
// Frame sink feeding "appsrc ! PIPELINE".  Frames go in as dma-buf memory
// (the V4L2 buffer stays held until GStreamer frees that memory; the
// release arrives on release_fd() from whatever thread freed it) or as a
// copy from a buffer pool.  The sink keeps the books of which V4L2 buffers
// the pipeline holds.  All methods are called from the event loop's thread.
#pragma once

#include "format.h"
#include "unique_fd.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

typedef struct _GstElement GstElement;
typedef struct _GstBus GstBus;
typedef struct _GstAllocator GstAllocator;
typedef struct _GstBufferPool GstBufferPool;

namespace v4l2vnc {

// What to do with a frame when the pipeline (an encoder with look-ahead,
// a queue) already holds all the V4L2 buffers the driver can spare.
enum class HoldPolicy {
	kCopy, // copy the frame into pooled GStreamer memory, requeue at once
	kDrop, // drop the frame (counted)
};

struct GstStats {
	uint64_t pushed = 0;         // frames that went into appsrc
	uint64_t pushed_dmabuf = 0;  // of them as dma-buf memory
	uint64_t copied_held = 0;    // of them copies because buffers were held
	uint64_t dropped_lag = 0;    // dropped: frames waited in appsrc
	uint64_t dropped_held = 0;   // dropped: buffers held (HoldPolicy::kDrop)
	uint64_t dropped_failed = 0; // dropped: no dma-buf fd, or appsrc refused
	uint64_t late = 0;           // dropped by sinks as too late (their QoS messages)
};

// What push_frame() did with a frame.
enum class GstPush {
	kHeld,          // pushed as dma-buf: the V4L2 buffer is held
	kCopied,        // pushed as a copy: requeue the buffer now
	kCopiedHeld,    // the same, because the pipeline holds too many buffers
	kDroppedLag,    // appsrc still has frames queued
	kDroppedHeld,   // the pipeline holds too many buffers (kDrop)
	kDroppedFailed, // refused, or no memory
};

// GStreamer's colorimetry (the caps' "colorimetry" string) for frames of
// @fmt that the node describes as @color: its colorspace's primaries,
// transfer function, Y'CbCr encoding and range, each field the node sets
// explicitly taking precedence, as V4L2 defines the defaults.  A node that
// says nothing (colorspace DEFAULT, or one unknown here) gives BT.601
// limited range for Y'CbCr and sRGB for RGB.  Without it in the caps
// GStreamer guesses from the size: BT.709 from 720 lines up, wrong for
// kms2v4l's BT.601 (colours shift when an encoder or videoconvert reads it).
std::string gst_colorimetry(const FormatInfo &fmt, const ColorInfo &color);

class GstSink {
public:
	~GstSink();
	static std::unique_ptr<GstSink> create(const std::string &desc, HoldPolicy hold,
					       std::string &error);

	// Whether the pipeline's first element (appsrc's peer, asked with a
	// caps query) takes @fmt as system-memory video/x-raw, at some size
	// and rate.
	bool accepts(const FormatInfo &fmt) const;
	// What it takes (the caps query's answer), as text for messages.
	std::string accepted_caps() const;

	// Caps for frames that follow; fps_num 0 means variable rate, @color
	// the node's colour description (gst_colorimetry()).
	// @frame_size is the size of one frame (the copies' pool buffers).
	// Each buffer carries a GstVideoMeta with the planes of a V4L2
	// buffer of @stride bytes a line (plane_layout()).
	void set_format(const FormatInfo &fmt, unsigned width, unsigned height, unsigned stride,
			size_t frame_size, uint32_t fps_num, uint32_t fps_den,
			const ColorInfo &color = {});

	// A new set of @count V4L2 buffers: the pipeline holds none of them;
	// releases of the old set's buffers are ignored when they come.
	void reset_buffers(unsigned count);

	// Offers the frame in V4L2 buffer @index (@data, @size bytes, V4L2
	// timestamp @ts_ns on CLOCK_MONOTONIC).  @dmabuf gives a new fd of
	// the buffer's dma-buf (ownership passes) or -errno; an empty
	// function means "copy".  On kHeld the caller must not requeue
	// @index until read_release() returns it.
	GstPush push_frame(unsigned index, const std::function<int()> &dmabuf, const void *data,
			   size_t size, uint64_t ts_ns);
	bool holds(unsigned index) const { return index < holds_.size() && holds_[index]; }
	unsigned held() const;

	int release_fd() const { return release_rd_.get(); }
	// Reads one release; true with @index set when GStreamer let go of
	// its last reference to V4L2 buffer @index (requeue it), false when
	// no release of the current buffer set is pending.
	bool read_release(unsigned &index);

	// The pipeline's running time (its clock's time less its base time)
	// at which a frame with V4L2 timestamp @ts_ns was captured, as
	// v4l2src stamps its buffers: the frame's age on CLOCK_MONOTONIC
	// taken from the pipeline clock's now.  GST_CLOCK_TIME_NONE (all
	// ones) while the pipeline has no clock.
	uint64_t running_time_of(uint64_t ts_ns) const;
	GstElement *pipeline() const { return pipeline_; }

	int bus_fd() const;
	// Handles pending bus messages; false after an error (set in @error,
	// "element: message (debug)") or end of stream.
	bool handle_bus(std::string &error);

	// Stops the pipeline.  Unless it failed (a bus error: the stream is
	// broken, no EOS would come out of it) or ended already, EOS first,
	// and waits up to @timeout_ms for it to drain.  Returns false with
	// @error if it did not drain cleanly.
	bool finish(int timeout_ms, std::string &error);
	const GstStats &stats() const { return stats_; }

private:
	GstSink() = default;
	bool push(void *buffer, uint64_t ts_ns);
	GstPush push_copy(const void *data, size_t size, uint64_t ts_ns, bool held);

	GstElement *pipeline_ = nullptr;
	GstElement *appsrc_ = nullptr;
	GstBus *bus_ = nullptr;
	GstAllocator *dmabuf_alloc_ = nullptr;
	GstBufferPool *pool_ = nullptr; // copies; frame_size_ bytes each
	UniqueFd release_rd_, release_wr_;
	HoldPolicy hold_ = HoldPolicy::kCopy;
	std::vector<unsigned> holds_; // GStreamer references per V4L2 buffer
	uint32_t generation_ = 0;     // of the buffer set, in release tokens
	unsigned width_ = 0, height_ = 0;
	Planes planes_;
	size_t frame_size_ = 0;
	uint64_t frame_ns_ = 0; // frame duration, 0 if unknown
	const FormatInfo *fmt_ = nullptr;
	uint64_t last_pts_ = UINT64_MAX;
	bool eos_ = false, failed_ = false;
	GstStats stats_;
};

} // namespace v4l2vnc
