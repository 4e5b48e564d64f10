/* SPDX-License-Identifier: MIT */
/*
 * Small libdrm helpers shared by the project's KMS test clients.
 * Every function returns 0 (or a valid id) on success and a negative
 * errno on failure, and prints nothing: the caller says what failed.
 */
#ifndef KMS2V4L_TESTS_KMSUTIL_H
#define KMS2V4L_TESTS_KMSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <xf86drmMode.h>

struct kms_dumb {
	uint32_t handle;
	uint32_t fb_id;
	uint32_t width, height, pitch, format;
	size_t size;
	void *map;
};

/* Open the first card driven by @driver (e.g. "vkms"); -errno if none. */
int kms_open(const char *driver);

/* Property id of @name on object @obj of @type (DRM_MODE_OBJECT_*). */
int kms_prop_id(int fd, uint32_t obj, uint32_t type, const char *name,
		uint32_t *id);

/* Current value of property @name on object @obj. */
int kms_prop_value(int fd, uint32_t obj, uint32_t type, const char *name,
		   uint64_t *value);

/* Add obj.name = value to @req. */
int kms_req_add(int fd, drmModeAtomicReq *req, uint32_t obj, uint32_t type,
		const char *name, uint64_t value);

/* Find a connector by its type (DRM_MODE_CONNECTOR_*). */
int kms_find_connector(int fd, uint32_t type, uint32_t *conn_id);

/*
 * The card's display connector: its Virtual one (vkms, bochs,
 * virtio-gpu), else the first that is not a writeback one (cirrus's VGA).
 */
int kms_find_output(int fd, uint32_t *conn_id);

/* The primary plane that can be used with CRTC index @pipe. */
int kms_find_plane(int fd, unsigned int pipe, uint64_t plane_type,
		   uint32_t *plane_id);

/* A mapped dumb buffer of @bpp bits per pixel, without a framebuffer. */
int kms_dumb_alloc(int fd, uint32_t width, uint32_t height, uint32_t bpp,
		   struct kms_dumb *buf);

/* A mapped dumb buffer with a framebuffer of @format (32 or 16 bpp). */
int kms_dumb_create(int fd, uint32_t width, uint32_t height, uint32_t format,
		    struct kms_dumb *buf);
void kms_dumb_destroy(int fd, struct kms_dumb *buf);

/* Map an existing framebuffer's first plane read-only (needs root). */
int kms_fb_map(int fd, uint32_t fb_id, struct kms_dumb *buf);

/* A property blob of a custom mode with these active sizes and refresh
 * (small blanking), for MODE_ID. */
int kms_mode_blob(int fd, uint32_t width, uint32_t height, uint32_t hz,
		  uint32_t *blob_id);

/* Show all of @fb unscaled on @plane of @crtc at (@x, @y). */
int kms_req_add_plane(int fd, drmModeAtomicReq *req, uint32_t plane,
		      uint32_t crtc, const struct kms_dumb *fb, int32_t x,
		      int32_t y);

/* A framebuffer shown unscaled at (@x, @y) of the CRTC, if @on. */
struct kms_layer {
	const struct kms_dumb *buf;
	int32_t x, y;
	int on;
};

/* Fill @buf (32 bpp) with f(x, y, arg) for every pixel. */
void kms_fill(struct kms_dumb *buf, uint32_t (*f)(uint32_t x, uint32_t y, void *),
	      void *arg);
/* Fill @buf (XRGB8888) with one colour 0xRRGGBB. */
void kms_fill_solid(struct kms_dumb *buf, uint32_t rgb);
/*
 * Fill @buf (XRGB8888) with a scene: "solid:RRGGBB", or "gradient" (red
 * rising left to right, green top to bottom, blue 0x80). -EINVAL for
 * anything else.
 */
int kms_fill_scene(struct kms_dumb *buf, const char *scene);

/*
 * Compose layers[0..n) (bottom first, XRGB8888 or premultiplied ARGB8888)
 * as vkms does: an opaque black background, 8-bit channels widened by
 * 257, blended in 16 bits and rounded back. @out receives w * h pixels
 * of XRGB8888 (bytes B, G, R, 0xff).
 */
void kms_compose(const struct kms_layer *layers, int n, uint32_t w, uint32_t h,
		 uint8_t *out);

/* kms_compose() into the file @path; -errno on failure. */
int kms_write_composed(const char *path, const struct kms_layer *layers, int n,
		       uint32_t w, uint32_t h);

/* Wait until sync_file @fence signals; -ETIMEDOUT after @timeout_ms. */
int kms_fence_wait(int fence, int timeout_ms);

#endif
