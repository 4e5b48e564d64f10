// SPDX-License-Identifier: MIT
/*
 * libkms2v4l-find WHAT - print, one "key value" per line, what
 * kms2v4l_find() says of the node that shows WHAT (a connector name,
 * cardN-crtcM, a path): path, driver, card, crtc, crtc_id, connectors,
 * mode (WxH@mHz). Exits 1 when no node matches, 2 on another error.
 */
#include <kms2v4l/kms2v4l.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct kms2v4l_node_info i = KMS2V4L_NODE_INFO_INIT;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: libkms2v4l-find WHAT\n");
		return 2;
	}
	r = kms2v4l_find(argv[1], &i);
	if (r < 0) {
		fprintf(stderr, "libkms2v4l-find: %s: %s\n", argv[1], strerror(-r));
		return r == -ENOENT ? 1 : 2;
	}
	printf("path %s\ndriver %s\ncard %d\ncrtc %d\ncrtc_id %u\nconnectors %s\nmode %ux%u@%u\n",
	       i.path, i.driver, i.drm_card, i.drm_crtc_index, i.drm_crtc_id, i.connectors,
	       i.width, i.height, i.refresh_mhz);
	return 0;
}
