// SPDX-License-Identifier: MIT
// libkms2v4l's versioned structs (struct_size, see kms2v4l.h), against
// kms2v4l_grown: the library built with KMS2V4L_TEST_GROW=16, standing for
// a later version whose structs have 16 bytes more.  The structs of this
// header are then an older program's: the library must fill them right and
// write no byte beyond them.  A program as new as the library (16 bytes
// more) gets the new bytes (0x5a), one newer still keeps its tail; a
// struct_size below the first version's is -EINVAL.
//
// There is no V4L2 device on the host: this binary defines ioctl() (and
// opendir()/open() for the listing), which the library's calls reach
// first, and answers the VIDIOC_* calls as a tiny capture node would.
#include <kms2v4l/kms2v4l.h>

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr size_t kGrow = 16;       // KMS2V4L_TEST_GROW of kms2v4l_grown
constexpr unsigned char kNew = 0x5a; // what it fills the new bytes with
constexpr unsigned char kGuard = 0xc3;
constexpr size_t kGuardBytes = 64;
const uint32_t kXR24 = KMS2V4L_FOURCC('X', 'R', '2', '4');

// The fake node: one format, DMABUF buffers dequeued in order.
v4l2_pix_format g_pix = { 640, 480, kXR24, V4L2_FIELD_NONE, 640 * 4, 640 * 4 * 480, 0, 0, 0, 0, 0, 0 };
std::vector<unsigned> g_queued;
uint32_t g_sequence = 41;
std::string g_sysfs; // a directory standing for /sys/class/video4linux

int fake_v4l2(unsigned long req, void *arg)
{
	switch (req) {
	case VIDIOC_QUERYCAP: {
		auto *c = static_cast<v4l2_capability *>(arg);
		std::memset(c, 0, sizeof(*c));
		std::strcpy(reinterpret_cast<char *>(c->driver), "fake");
		std::strcpy(reinterpret_cast<char *>(c->card), "Fake capture");
		std::strcpy(reinterpret_cast<char *>(c->bus_info), "platform:fake");
		c->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
		c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
		return 0;
	}
	case VIDIOC_G_FMT:
		static_cast<v4l2_format *>(arg)->fmt.pix = g_pix;
		return 0;
	case VIDIOC_S_FMT: {
		const v4l2_pix_format &p = static_cast<v4l2_format *>(arg)->fmt.pix;
		g_pix.pixelformat = p.pixelformat;
		g_pix.width = p.width;
		g_pix.height = p.height;
		g_pix.bytesperline = p.width * 4;
		g_pix.sizeimage = g_pix.bytesperline * p.height;
		static_cast<v4l2_format *>(arg)->fmt.pix = g_pix;
		return 0;
	}
	case VIDIOC_REQBUFS: {
		auto *r = static_cast<v4l2_requestbuffers *>(arg);
		if (r->count > 4)
			r->count = 4;
		g_queued.clear();
		return 0;
	}
	case VIDIOC_QBUF:
		g_queued.push_back(static_cast<v4l2_buffer *>(arg)->index);
		return 0;
	case VIDIOC_DQBUF: {
		if (g_queued.empty()) {
			errno = EAGAIN;
			return -1;
		}
		auto *b = static_cast<v4l2_buffer *>(arg);
		b->index = g_queued.front();
		g_queued.erase(g_queued.begin());
		b->bytesused = g_pix.sizeimage;
		b->sequence = g_sequence++;
		b->timestamp.tv_sec = 7;
		b->timestamp.tv_usec = 5;
		b->flags = V4L2_BUF_FLAG_DONE;
		return 0;
	}
	case VIDIOC_STREAMON:
	case VIDIOC_STREAMOFF:
		return 0;
	default: // no events, controls, inputs or DV timings
		errno = ENOTTY;
		return -1;
	}
}

} // namespace

extern "C" int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (_IOC_TYPE(req) == 'V')
		return fake_v4l2(req, arg);
	return int(syscall(SYS_ioctl, fd, req, arg));
}

// The listing walks g_sysfs and opens /dev/null for each "videoN" there.
extern "C" DIR *opendir(const char *name)
{
	using fn = DIR *(*)(const char *);
	static fn real = reinterpret_cast<fn>(dlsym(RTLD_NEXT, "opendir"));
	if (!g_sysfs.empty() && !std::strcmp(name, "/sys/class/video4linux"))
		name = g_sysfs.c_str();
	return real(name);
}

extern "C" int open(const char *path, int flags, ...)
{
	using fn = int (*)(const char *, int, ...);
	static fn real = reinterpret_cast<fn>(dlsym(RTLD_NEXT, "open"));
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (!g_sysfs.empty() && !std::strncmp(path, "/dev/video", 10))
		path = "/dev/null";
	return real(path, flags, mode);
}

namespace {

// A caller's struct of @size bytes followed by guard bytes.
struct Caller {
	explicit Caller(size_t size) : size(size), mem(size + kGuardBytes, kGuard)
	{
		std::memset(mem.data(), 0, size);
		uint32_t s = uint32_t(size);
		std::memcpy(mem.data(), &s, sizeof(s));
	}
	template <typename T> T *as() { return reinterpret_cast<T *>(mem.data()); }
	// The bytes from @from to the struct's end all equal @b.
	bool all(size_t from, size_t to, unsigned char b) const
	{
		for (size_t i = from; i < to; i++)
			if (mem[i] != b)
				return false;
		return true;
	}
	bool guard_intact() const { return all(size, size + kGuardBytes, kGuard); }
	size_t size;
	std::vector<unsigned char> mem;
};

class GrownLibrary : public ::testing::Test {
protected:
	void SetUp() override
	{
		g_pix.width = 640;
		g_pix.height = 480;
		g_pix.bytesperline = 640 * 4;
		g_pix.sizeimage = 640 * 4 * 480;
		ASSERT_EQ(kms2v4l_open("/dev/null", &dev_), 0) << kms2v4l_open_error();
	}
	void TearDown() override { kms2v4l_close(dev_); }
	kms2v4l_device *dev_ = nullptr;
};

// The sizes an older program, one as new as the library, and a newer one
// pass.
template <typename T> std::vector<size_t> sizes()
{
	return { sizeof(T), sizeof(T) + kGrow, sizeof(T) + kGrow + 24 };
}

// After a fill: the struct's bytes beyond the public ones are the library's
// new bytes up to its size, the caller's (zero) beyond; nothing past it.
template <typename T> void expect_tail(const Caller &c)
{
	size_t lib = sizeof(T) + kGrow;
	EXPECT_TRUE(c.all(sizeof(T), std::min(c.size, lib), kNew)) << "size " << c.size;
	if (c.size > lib) {
		EXPECT_TRUE(c.all(lib, c.size, 0)) << "size " << c.size;
	}
	EXPECT_TRUE(c.guard_intact()) << "size " << c.size;
	uint32_t s;
	std::memcpy(&s, c.mem.data(), sizeof(s));
	EXPECT_EQ(s, c.size) << "struct_size is the caller's";
}

TEST_F(GrownLibrary, GetFormatFillsAnOlderStructAndNothingBeyond)
{
	for (size_t size : sizes<kms2v4l_format>()) {
		Caller c(size);
		ASSERT_EQ(kms2v4l_get_format(dev_, c.as<kms2v4l_format>()), 0);
		const kms2v4l_format *f = c.as<kms2v4l_format>();
		EXPECT_EQ(f->fourcc, kXR24);
		EXPECT_EQ(f->width, 640u);
		EXPECT_EQ(f->height, 480u);
		EXPECT_EQ(f->stride, 2560u);
		EXPECT_EQ(f->sizeimage, 2560u * 480);
		expect_tail<kms2v4l_format>(c);
	}
}

TEST_F(GrownLibrary, SetFormatReadsAndFillsAnOlderStruct)
{
	for (size_t size : sizes<kms2v4l_format>()) {
		Caller c(size);
		kms2v4l_format *f = c.as<kms2v4l_format>();
		f->fourcc = kXR24;
		f->width = 320;
		f->height = 200;
		ASSERT_EQ(kms2v4l_set_format(dev_, f), 0) << kms2v4l_error(dev_);
		EXPECT_EQ(g_pix.width, 320u);
		EXPECT_EQ(f->width, 320u);
		EXPECT_EQ(f->height, 200u);
		EXPECT_EQ(f->stride, 1280u);
		EXPECT_EQ(f->sizeimage, 1280u * 200);
		expect_tail<kms2v4l_format>(c);
	}
}

TEST_F(GrownLibrary, InfoFillsAnOlderStruct)
{
	for (size_t size : sizes<kms2v4l_node_info>()) {
		Caller c(size);
		ASSERT_EQ(kms2v4l_info(dev_, c.as<kms2v4l_node_info>()), 0);
		const kms2v4l_node_info *i = c.as<kms2v4l_node_info>();
		EXPECT_STREQ(i->path, "/dev/null");
		EXPECT_STREQ(i->driver, "fake");
		EXPECT_STREQ(i->card, "Fake capture");
		EXPECT_STREQ(i->bus_info, "platform:fake");
		EXPECT_EQ(i->device_caps, uint32_t(V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING));
		EXPECT_EQ(i->drm_card, -1);
		EXPECT_EQ(i->drm_crtc_index, -1);
		expect_tail<kms2v4l_node_info>(c);
	}
}

TEST_F(GrownLibrary, DequeueFillsAnOlderFrame)
{
	int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(kms2v4l_request_buffers(dev_, KMS2V4L_MEMORY_DMABUF, 3), 3);
	for (unsigned i = 0; i < 3; i++)
		ASSERT_EQ(kms2v4l_import(dev_, i, fd, 640 * 4 * 480), 0) << kms2v4l_error(dev_);
	ASSERT_EQ(kms2v4l_start(dev_), 0) << kms2v4l_error(dev_);
	for (size_t size : sizes<kms2v4l_frame>()) {
		Caller c(size);
		kms2v4l_frame *f = c.as<kms2v4l_frame>();
		uint32_t seq = g_sequence;
		ASSERT_EQ(kms2v4l_dequeue(dev_, f), 0) << kms2v4l_error(dev_);
		EXPECT_EQ(f->sequence, seq);
		EXPECT_EQ(f->bytesused, 640u * 4 * 480);
		EXPECT_EQ(f->timestamp_ns, 7000005000ull);
		EXPECT_EQ(f->data, nullptr);
		EXPECT_GE(f->dmabuf_fd, 0);
		ASSERT_EQ(f->n_damage, 1u);
		EXPECT_EQ(f->damage[0].width, 640u);
		EXPECT_EQ(f->damage[0].height, 480u);
		expect_tail<kms2v4l_frame>(c);
		ASSERT_EQ(kms2v4l_queue(dev_, f->index), 0);
	}
	close(fd);
}

TEST_F(GrownLibrary, TooSmallIsEinvalAndTouchesNothing)
{
	Caller fmt(offsetof(kms2v4l_format, sizeimage));
	EXPECT_EQ(kms2v4l_get_format(dev_, fmt.as<kms2v4l_format>()), -EINVAL);
	EXPECT_EQ(kms2v4l_set_format(dev_, fmt.as<kms2v4l_format>()), -EINVAL);
	EXPECT_NE(std::string(kms2v4l_error(dev_)).find("struct_size"), std::string::npos);
	EXPECT_TRUE(fmt.all(sizeof(uint32_t), fmt.size, 0));
	EXPECT_TRUE(fmt.guard_intact());

	Caller info(sizeof(kms2v4l_node_info) - sizeof(uint32_t));
	EXPECT_EQ(kms2v4l_info(dev_, info.as<kms2v4l_node_info>()), -EINVAL);
	EXPECT_EQ(kms2v4l_find("/dev/null", info.as<kms2v4l_node_info>()), -EINVAL);
	EXPECT_TRUE(info.all(sizeof(uint32_t), info.size, 0));
	EXPECT_TRUE(info.guard_intact());

	// struct_size 0 (a struct never initialised), the rest guard bytes.
	Caller frame(sizeof(uint32_t));
	frame.mem.resize(sizeof(kms2v4l_frame) + kGuardBytes, kGuard);
	std::memset(frame.mem.data(), 0, sizeof(uint32_t));
	EXPECT_EQ(kms2v4l_dequeue(dev_, frame.as<kms2v4l_frame>()), -EINVAL);
	EXPECT_EQ(kms2v4l_wait_frame(dev_, 0, frame.as<kms2v4l_frame>()), -EINVAL);
	EXPECT_TRUE(frame.all(sizeof(uint32_t), frame.mem.size(), kGuard));

	kms2v4l_node_info *list = reinterpret_cast<kms2v4l_node_info *>(1);
	size_t n = 99;
	EXPECT_EQ(kms2v4l_enumerate_sized(&list, &n, 8), -EINVAL);
	EXPECT_EQ(list, nullptr);
	EXPECT_EQ(n, 0u);
}

// The list's stride is the caller's sizeof, whatever the library's.
class GrownListing : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/libkms2v4l-abi-XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		g_sysfs = tmpl;
		for (const char *n : { "video7", "video2", "video10", "other" })
			mkdir((g_sysfs + "/" + n).c_str(), 0700);
	}
	void TearDown() override
	{
		for (const char *n : { "video7", "video2", "video10", "other" })
			rmdir((g_sysfs + "/" + n).c_str());
		rmdir(g_sysfs.c_str());
		g_sysfs.clear();
	}
};

TEST_F(GrownListing, EnumerateUsesTheCallersStride)
{
	const char *paths[] = { "/dev/video2", "/dev/video7", "/dev/video10" };
	kms2v4l_node_info *list;
	size_t n;
	// An older program: the inline kms2v4l_enumerate() passes its sizeof.
	ASSERT_EQ(kms2v4l_enumerate(&list, &n), 0);
	ASSERT_EQ(n, 3u);
	for (size_t i = 0; i < n; i++) {
		EXPECT_EQ(list[i].struct_size, sizeof(kms2v4l_node_info));
		EXPECT_STREQ(list[i].path, paths[i]);
		EXPECT_STREQ(list[i].driver, "fake");
		EXPECT_EQ(list[i].drm_card, -1);
	}
	free(list);

	// Newer programs: their element size is the stride, the library's
	// new bytes are filled, bytes it does not know stay zero.
	for (size_t size : sizes<kms2v4l_node_info>()) {
		ASSERT_EQ(kms2v4l_enumerate_sized(&list, &n, uint32_t(size)), 0);
		ASSERT_EQ(n, 3u);
		const auto *bytes = reinterpret_cast<const unsigned char *>(list);
		for (size_t i = 0; i < n; i++) {
			const unsigned char *e = bytes + i * size;
			const auto *info = reinterpret_cast<const kms2v4l_node_info *>(e);
			EXPECT_EQ(info->struct_size, size);
			EXPECT_STREQ(info->path, paths[i]);
			size_t lib = sizeof(kms2v4l_node_info) + kGrow;
			for (size_t k = sizeof(kms2v4l_node_info); k < size; k++)
				ASSERT_EQ(e[k], k < lib ? kNew : 0) << "element " << i << " byte " << k;
		}
		free(list);
	}
}

} // namespace
