// SPDX-License-Identifier: GPL-2.0-only
/*
 * kms2v4l - export what a KMS CRTC shows as a V4L2 capture device
 */

#include <linux/module.h>
#include <media/kms2v4l.h>

static int __init kms2v4l_init(void)
{
	return 0;
}

static void __exit kms2v4l_exit(void)
{
}

module_init(kms2v4l_init);
module_exit(kms2v4l_exit);

MODULE_DESCRIPTION("V4L2 capture of KMS CRTCs");
MODULE_LICENSE("GPL");
