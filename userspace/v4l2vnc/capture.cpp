// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture.h"

#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace v4l2vnc {

std::string fourcc_name(uint32_t fourcc)
{
	char b[5];
	return kms2v4l_fourcc_str(fourcc, b);
}

Capture::~Capture()
{
	dmabufs_.clear();
	kms2v4l_close(dev_);
}

std::unique_ptr<Capture> Capture::open(const std::string &path, std::string &error)
{
	auto c = std::unique_ptr<Capture>(new Capture);
	int r = kms2v4l_open(path.c_str(), &c->dev_);
	if (r < 0) {
		error = kms2v4l_open_error();
		return nullptr;
	}
	c->path_ = path;
	return c;
}

std::string Capture::error() const
{
	return own_error_.empty() ? kms2v4l_error(dev_) : own_error_;
}

int Capture::offered_formats(std::vector<uint32_t> &out)
{
	own_error_.clear();
	out.assign(64, 0);
	int n = kms2v4l_enum_formats(dev_, out.data(), out.size());
	if (n < 0) {
		out.clear();
		return n;
	}
	out.resize(std::min(size_t(n), out.size()));
	return 0;
}

int Capture::configure(uint32_t fourcc, unsigned width, unsigned height, unsigned buffers,
		       bool want_export)
{
	own_error_.clear();
	if (!fourcc) {
		std::vector<uint32_t> offered;
		if (int r = offered_formats(offered); r < 0)
			return r;
		fourcc = choose_format(preferred_formats(), offered);
		if (!fourcc) {
			std::string list;
			for (uint32_t f : offered)
				list += " " + fourcc_name(f);
			own_error_ = path_ + ": no format v4l2vnc can convert among:" + list;
			return -EINVAL;
		}
	} else if (!format_info(fourcc)) {
		own_error_ = path_ + ": v4l2vnc cannot convert format " + fourcc_name(fourcc);
		return -EINVAL;
	}
	kms2v4l_format f = KMS2V4L_FORMAT_INIT;
	f.fourcc = fourcc;
	f.width = width;
	f.height = height;
	int r = kms2v4l_set_format(dev_, &f);
	if (r < 0)
		return r;
	if (f.fourcc != fourcc) {
		own_error_ = path_ + ": VIDIOC_S_FMT: driver chose " + fourcc_name(f.fourcc) +
			     " instead of " + fourcc_name(fourcc);
		return -EINVAL;
	}
	info_ = format_info(f.fourcc);
	fmt_ = f;
	color_ = read_color();
	r = kms2v4l_request_buffers(dev_, KMS2V4L_MEMORY_MMAP, buffers);
	if (r < 0)
		return r;
	dmabufs_.clear();
	exported_ = false;
	if (want_export) {
		exported_ = true;
		for (unsigned i = 0; i < buffer_count(); i++) {
			int fd = kms2v4l_export(dev_, i);
			if (fd < 0) {
				exported_ = false;
				dmabufs_.clear();
				break;
			}
			dmabufs_.emplace_back(fd);
		}
	}
	return 0;
}

ColorInfo Capture::read_color() const
{
	// libkms2v4l's format has no colour fields: G_FMT beside it.
	v4l2_format f{};
	f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	if (ioctl(kms2v4l_fd(dev_), VIDIOC_G_FMT, &f) < 0)
		return {};
	return {f.fmt.pix.colorspace, f.fmt.pix.ycbcr_enc, f.fmt.pix.quantization,
		f.fmt.pix.xfer_func};
}

void Capture::release()
{
	dmabufs_.clear();
	exported_ = false;
	kms2v4l_free_buffers(dev_);
}

int Capture::start()
{
	// kms2v4l's controls; a node without them (-EINVAL) streams as it does
	for (auto [id, value] :
	     {std::pair{KMS2V4L_CID_FRAME_PACING,
			on_change_ ? KMS2V4L_PACING_ON_CHANGE : KMS2V4L_PACING_VBLANK},
	      std::pair{KMS2V4L_CID_PARTIAL_FRAMES, partial_ ? 1 : 0}}) {
		v4l2_control c{};
		c.id = id;
		c.value = value;
		if (ioctl(kms2v4l_fd(dev_), VIDIOC_S_CTRL, &c) < 0 && errno != EINVAL) {
			own_error_ = path_ + ": VIDIOC_S_CTRL: " + std::strerror(errno);
			return -errno;
		}
	}
	return kms2v4l_start(dev_);
}

int Capture::stop()
{
	return kms2v4l_stop(dev_);
}

int Capture::queue(unsigned index)
{
	return kms2v4l_queue(dev_, index);
}

int Capture::dmabuf(unsigned index) const
{
	if (!exported_ || index >= dmabufs_.size())
		return -ENODEV;
	int fd = fcntl(dmabufs_[index].get(), F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

void Capture::frame_rate(uint32_t &num, uint32_t &den)
{
	if (kms2v4l_get_frame_rate(dev_, &num, &den) < 0) {
		num = 0;
		den = 1;
	}
}

} // namespace v4l2vnc
