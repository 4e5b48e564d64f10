/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kms2v4l - export what a KMS CRTC shows as a V4L2 capture device
 */
#ifndef _MEDIA_KMS2V4L_H
#define _MEDIA_KMS2V4L_H

#endif /* _MEDIA_KMS2V4L_H */
