// SPDX-License-Identifier: MIT
// libkms2v4l's behaviour without a V4L2 device: error paths and messages.
#include <kms2v4l/kms2v4l.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <string>

TEST(LibKms2v4l, OpenMissingNodeNamesPathCallAndErrno)
{
	kms2v4l_device *dev = reinterpret_cast<kms2v4l_device *>(1);
	EXPECT_EQ(kms2v4l_open("/dev/no-such-video", &dev), -ENOENT);
	EXPECT_EQ(dev, nullptr);
	EXPECT_EQ(std::string(kms2v4l_open_error()),
		  "/dev/no-such-video: open: No such file or directory");
}

TEST(LibKms2v4l, OpenNonV4l2FileFailsInQuerycap)
{
	kms2v4l_device *dev = nullptr;
	EXPECT_EQ(kms2v4l_open("/dev/null", &dev), -ENOTTY);
	EXPECT_EQ(dev, nullptr);
	std::string msg = kms2v4l_open_error();
	EXPECT_NE(msg.find("/dev/null"), std::string::npos) << msg;
	EXPECT_NE(msg.find("VIDIOC_QUERYCAP"), std::string::npos) << msg;
}

TEST(LibKms2v4l, EnumerateSucceedsWithoutDevices)
{
	kms2v4l_node_info *list = nullptr;
	size_t n = 99;
	ASSERT_EQ(kms2v4l_enumerate(&list, &n), 0);
	for (size_t i = 0; i < n; i++)
		EXPECT_EQ(std::string(list[i].path).rfind("/dev/video", 0), 0u);
	free(list);
}

// Structs carry their size (see kms2v4l.h); the _INIT macros set it.
TEST(LibKms2v4l, StructSizes)
{
	kms2v4l_node_info info = KMS2V4L_NODE_INFO_INIT;
	kms2v4l_format fmt = KMS2V4L_FORMAT_INIT;
	kms2v4l_frame frame = KMS2V4L_FRAME_INIT;
	EXPECT_EQ(info.struct_size, sizeof(info));
	EXPECT_EQ(fmt.struct_size, sizeof(fmt));
	EXPECT_EQ(frame.struct_size, sizeof(frame));
	EXPECT_EQ(fmt.fourcc, 0u);
	EXPECT_EQ(frame.damage, nullptr);
	// The layouts have no padding for a later member to hide in.
	EXPECT_EQ(sizeof(kms2v4l_format), 6 * sizeof(uint32_t));
	EXPECT_EQ(sizeof(kms2v4l_node_info) % sizeof(uint32_t), 0u);
	EXPECT_EQ(offsetof(kms2v4l_frame, n_damage) + sizeof(size_t), sizeof(kms2v4l_frame));
}

TEST(LibKms2v4l, TooSmallStructSizeIsEinval)
{
	kms2v4l_node_info info = KMS2V4L_NODE_INFO_INIT;
	info.struct_size = 4;
	EXPECT_EQ(kms2v4l_find("/dev/video0", &info), -EINVAL);
	EXPECT_EQ(info.path[0], '\0');
	kms2v4l_node_info *list = nullptr;
	size_t n = 5;
	EXPECT_EQ(kms2v4l_enumerate_sized(&list, &n, sizeof(info) - 4), -EINVAL);
	EXPECT_EQ(list, nullptr);
	EXPECT_EQ(n, 0u);
}

TEST(LibKms2v4l, FourccString)
{
	char b[5];
	EXPECT_STREQ(kms2v4l_fourcc_str(KMS2V4L_FOURCC('X', 'R', '2', '4'), b), "XR24");
	EXPECT_STREQ(kms2v4l_fourcc_str(0x01020304, b), "????");
	kms2v4l_close(nullptr); // allowed
}

// Programs check at run time which library they got.
TEST(Version, RuntimeMatchesTheHeader)
{
	EXPECT_EQ(kms2v4l_version(), unsigned(KMS2V4L_VERSION));
	EXPECT_EQ(KMS2V4L_VERSION, KMS2V4L_MAKE_VERSION(1, 0, 0));
	EXPECT_EQ(KMS2V4L_MAKE_VERSION(1, 2, 3), 0x010203u);
}
