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
	EXPECT_EQ(KMS2V4L_VERSION, KMS2V4L_MAKE_VERSION(0, 1, 0));
	EXPECT_EQ(KMS2V4L_MAKE_VERSION(1, 2, 3), 0x010203u);
}
