// SPDX-License-Identifier: GPL-2.0-or-later
// V4L2 capture through libkms2v4l: format choice, MMAP buffers, EXPBUF
// fds kept per buffer.  Errors come back as -errno; error() has the text.
#pragma once

#include "format.h"
#include "unique_fd.h"

#include <kms2v4l/kms2v4l.h>

#include <memory>
#include <string>
#include <vector>

namespace v4l2vnc {

class Capture {
public:
	~Capture();
	static std::unique_ptr<Capture> open(const std::string &path, std::string &error);

	// The fourccs the node offers (ENUM_FMT), in its order; -errno.
	int offered_formats(std::vector<uint32_t> &out);
	// Chooses the format (@fourcc, or the first of preferred_formats()
	// the node offers when 0: one VNC takes; @width/@height 0 keep the
	// node's), allocates @buffers MMAP
	// buffers and exports them (when @want_export).  -errno on failure.
	int configure(uint32_t fourcc, unsigned width, unsigned height, unsigned buffers,
		      bool want_export);
	// Frees the buffers (after stop); configure() may follow.
	void release();
	// From the next start() on, on a kms2v4l node: frames only on change
	// (else at every vblank), and written only where they changed
	// (@partial: nothing but v4l2vnc reads the buffers).  Other nodes
	// have neither control and stream as they do.
	void set_policy(bool on_change, bool partial)
	{
		on_change_ = on_change;
		partial_ = partial;
	}
	int start();
	int stop();

	int fd() const { return kms2v4l_fd(dev_); }
	int dequeue(kms2v4l_frame &f) { return kms2v4l_dequeue(dev_, &f); }
	int queue(unsigned index);
	// A new fd (caller owns) for buffer @index's dma-buf; -errno if the
	// node did not export.
	int dmabuf(unsigned index) const;
	bool exported() const { return exported_; }
	unsigned buffer_count() const { return kms2v4l_buffer_count(dev_); }
	void frame_rate(uint32_t &num, uint32_t &den);

	const kms2v4l_format &format() const { return fmt_; }
	const FormatInfo &info() const { return *info_; }
	// The format's colour description as the node reported it (G_FMT),
	// all DEFAULT if it could not be read.
	const ColorInfo &color() const { return color_; }
	const std::string &path() const { return path_; }
	std::string error() const;

private:
	Capture() = default;
	ColorInfo read_color() const;
	kms2v4l_device *dev_ = nullptr;
	std::string path_;
	std::string own_error_;
	kms2v4l_format fmt_ = KMS2V4L_FORMAT_INIT;
	const FormatInfo *info_ = nullptr;
	ColorInfo color_;
	std::vector<UniqueFd> dmabufs_;
	bool exported_ = false;
	bool on_change_ = false, partial_ = false;
};

std::string fourcc_name(uint32_t fourcc);

} // namespace v4l2vnc
