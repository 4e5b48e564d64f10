// SPDX-License-Identifier: MIT
/*
 * Small libdrm helpers shared by the project's KMS test clients.
 */
#include "kmsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>

int kms_open(const char *driver)
{
	char path[64];

	for (int i = 0; i < 16; i++) {
		drmVersionPtr ver;
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		ver = drmGetVersion(fd);
		if (ver && !strcmp(ver->name, driver)) {
			drmFreeVersion(ver);
			return fd;
		}
		if (ver)
			drmFreeVersion(ver);
		close(fd);
	}
	return -ENODEV;
}

static int prop_lookup(int fd, uint32_t obj, uint32_t type, const char *name,
		       uint32_t *id, uint64_t *value)
{
	drmModeObjectPropertiesPtr props;
	int ret = -ENOENT;

	props = drmModeObjectGetProperties(fd, obj, type);
	if (!props)
		return -errno;
	for (uint32_t i = 0; i < props->count_props && ret; i++) {
		drmModePropertyPtr p = drmModeGetProperty(fd, props->props[i]);

		if (!p)
			continue;
		if (!strcmp(p->name, name)) {
			if (id)
				*id = p->prop_id;
			if (value)
				*value = props->prop_values[i];
			ret = 0;
		}
		drmModeFreeProperty(p);
	}
	drmModeFreeObjectProperties(props);
	return ret;
}

int kms_prop_id(int fd, uint32_t obj, uint32_t type, const char *name,
		uint32_t *id)
{
	return prop_lookup(fd, obj, type, name, id, NULL);
}

int kms_prop_value(int fd, uint32_t obj, uint32_t type, const char *name,
		   uint64_t *value)
{
	return prop_lookup(fd, obj, type, name, NULL, value);
}

int kms_req_add(int fd, drmModeAtomicReq *req, uint32_t obj, uint32_t type,
		const char *name, uint64_t value)
{
	uint32_t id;
	int ret = kms_prop_id(fd, obj, type, name, &id);

	if (ret)
		return ret;
	return drmModeAtomicAddProperty(req, obj, id, value) < 0 ? -EINVAL : 0;
}

/* The first connector whose type is @type (@is) or is not @type (!@is). */
static int find_connector(int fd, uint32_t type, int is, uint32_t *conn_id)
{
	drmModeResPtr res = drmModeGetResources(fd);
	int ret = -ENOENT;

	if (!res)
		return -errno;
	for (int i = 0; i < res->count_connectors && ret; i++) {
		drmModeConnectorPtr c = drmModeGetConnector(fd, res->connectors[i]);

		if (!c)
			continue;
		if ((c->connector_type == type) == !!is) {
			*conn_id = c->connector_id;
			ret = 0;
		}
		drmModeFreeConnector(c);
	}
	drmModeFreeResources(res);
	return ret;
}

int kms_find_connector(int fd, uint32_t type, uint32_t *conn_id)
{
	return find_connector(fd, type, 1, conn_id);
}

int kms_find_output(int fd, uint32_t *conn_id)
{
	int ret = find_connector(fd, DRM_MODE_CONNECTOR_VIRTUAL, 1, conn_id);

	return ret != -ENOENT ? ret : find_connector(fd, DRM_MODE_CONNECTOR_WRITEBACK, 0, conn_id);
}

int kms_find_plane(int fd, unsigned int pipe, uint64_t plane_type,
		   uint32_t *plane_id)
{
	drmModePlaneResPtr res = drmModeGetPlaneResources(fd);
	int ret = -ENOENT;

	if (!res)
		return -errno;
	for (uint32_t i = 0; i < res->count_planes && ret; i++) {
		drmModePlanePtr p = drmModeGetPlane(fd, res->planes[i]);
		uint64_t t;

		if (!p)
			continue;
		if ((p->possible_crtcs & (1u << pipe)) &&
		    !kms_prop_value(fd, p->plane_id, DRM_MODE_OBJECT_PLANE, "type", &t) &&
		    t == plane_type) {
			*plane_id = p->plane_id;
			ret = 0;
		}
		drmModeFreePlane(p);
	}
	drmModeFreePlaneResources(res);
	return ret;
}

static int dumb_map(int fd, struct kms_dumb *buf, int prot)
{
	struct drm_mode_map_dumb map = { .handle = buf->handle };

	if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map))
		return -errno;
	buf->map = mmap(NULL, buf->size, prot, MAP_SHARED, fd, map.offset);
	if (buf->map == MAP_FAILED) {
		buf->map = NULL;
		return -errno;
	}
	return 0;
}

int kms_dumb_alloc(int fd, uint32_t width, uint32_t height, uint32_t bpp,
		   struct kms_dumb *buf)
{
	struct drm_mode_create_dumb create = {
		.width = width,
		.height = height,
		.bpp = bpp,
	};
	int ret;

	memset(buf, 0, sizeof(*buf));
	if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create))
		return -errno;
	buf->handle = create.handle;
	buf->pitch = create.pitch;
	buf->size = create.size;
	buf->width = width;
	buf->height = height;
	ret = dumb_map(fd, buf, PROT_READ | PROT_WRITE);
	if (ret)
		kms_dumb_destroy(fd, buf);
	return ret;
}

int kms_dumb_create(int fd, uint32_t width, uint32_t height, uint32_t format,
		    struct kms_dumb *buf)
{
	uint32_t handles[4] = { 0 }, pitches[4] = { 0 }, offsets[4] = { 0 };
	int ret;

	ret = kms_dumb_alloc(fd, width, height, format == DRM_FORMAT_RGB565 ? 16 : 32, buf);
	if (ret)
		return ret;
	buf->format = format;
	handles[0] = buf->handle;
	pitches[0] = buf->pitch;
	if (drmModeAddFB2(fd, width, height, format, handles, pitches, offsets,
			  &buf->fb_id, 0)) {
		ret = -errno;
		kms_dumb_destroy(fd, buf);
	}
	return ret;
}

void kms_dumb_destroy(int fd, struct kms_dumb *buf)
{
	struct drm_mode_destroy_dumb destroy = { .handle = buf->handle };

	if (buf->map)
		munmap(buf->map, buf->size);
	if (buf->fb_id)
		drmModeRmFB(fd, buf->fb_id);
	if (buf->handle)
		drmIoctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &destroy);
	memset(buf, 0, sizeof(*buf));
}

int kms_fb_map(int fd, uint32_t fb_id, struct kms_dumb *buf)
{
	drmModeFB2Ptr fb = drmModeGetFB2(fd, fb_id);
	int ret;

	memset(buf, 0, sizeof(*buf));
	if (!fb)
		return -errno;
	if (!fb->handles[0]) {
		drmModeFreeFB2(fb);
		return -EACCES;
	}
	buf->handle = fb->handles[0];
	buf->width = fb->width;
	buf->height = fb->height;
	buf->pitch = fb->pitches[0];
	buf->format = fb->pixel_format;
	buf->size = (size_t)fb->pitches[0] * fb->height + fb->offsets[0];
	drmModeFreeFB2(fb);
	ret = dumb_map(fd, buf, PROT_READ);
	if (ret)
		buf->handle = 0;
	return ret;
}

int kms_mode_blob(int fd, uint32_t width, uint32_t height, uint32_t hz,
		  uint32_t *blob_id)
{
	drmModeModeInfo m = { 0 };

	m.hdisplay = width;
	m.hsync_start = width + 8;
	m.hsync_end = width + 16;
	m.htotal = width + 32;
	m.vdisplay = height;
	m.vsync_start = height + 2;
	m.vsync_end = height + 4;
	m.vtotal = height + 8;
	m.clock = (uint32_t)((uint64_t)m.htotal * m.vtotal * hz / 1000);
	m.vrefresh = hz;
	m.type = DRM_MODE_TYPE_USERDEF;
	snprintf(m.name, sizeof(m.name), "%ux%u", width, height);
	return drmModeCreatePropertyBlob(fd, &m, sizeof(m), blob_id) ? -errno : 0;
}

int kms_req_add_plane(int fd, drmModeAtomicReq *req, uint32_t plane,
		      uint32_t crtc, const struct kms_dumb *fb, int32_t x,
		      int32_t y)
{
	const uint32_t P = DRM_MODE_OBJECT_PLANE;
	int ret = 0;

	ret = ret ?: kms_req_add(fd, req, plane, P, "FB_ID", fb->fb_id);
	ret = ret ?: kms_req_add(fd, req, plane, P, "CRTC_ID", crtc);
	ret = ret ?: kms_req_add(fd, req, plane, P, "SRC_X", 0);
	ret = ret ?: kms_req_add(fd, req, plane, P, "SRC_Y", 0);
	ret = ret ?: kms_req_add(fd, req, plane, P, "SRC_W", (uint64_t)fb->width << 16);
	ret = ret ?: kms_req_add(fd, req, plane, P, "SRC_H", (uint64_t)fb->height << 16);
	ret = ret ?: kms_req_add(fd, req, plane, P, "CRTC_X", (uint64_t)x);
	ret = ret ?: kms_req_add(fd, req, plane, P, "CRTC_Y", (uint64_t)y);
	ret = ret ?: kms_req_add(fd, req, plane, P, "CRTC_W", fb->width);
	ret = ret ?: kms_req_add(fd, req, plane, P, "CRTC_H", fb->height);
	return ret;
}

static uint16_t blend_channel(uint16_t src, uint16_t dst, uint16_t alpha)
{
	uint32_t v = (uint32_t)src * 0xffff + (uint32_t)dst * (0xffff - alpha);

	return (v + 0xffff / 2) / 0xffff;
}

static uint8_t narrow(uint16_t c)
{
	return (c + 257 / 2) / 257;
}

void kms_compose(const struct kms_layer *layers, int n, uint32_t w, uint32_t h,
		 uint8_t *out)
{
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++, out += 4) {
			uint16_t r = 0, g = 0, b = 0;

			for (int i = 0; i < n; i++) {
				const struct kms_layer *l = &layers[i];
				int32_t lx = (int32_t)x - l->x, ly = (int32_t)y - l->y;
				uint32_t c;
				uint16_t a;

				if (!l->on || lx < 0 || ly < 0 ||
				    lx >= (int32_t)l->buf->width || ly >= (int32_t)l->buf->height)
					continue;
				c = ((const uint32_t *)((const char *)l->buf->map +
							ly * l->buf->pitch))[lx];
				if (l->buf->format == DRM_FORMAT_XRGB8888)
					c |= 0xff000000u;
				a = (c >> 24) * 257;
				r = blend_channel(((c >> 16) & 0xff) * 257, r, a);
				g = blend_channel(((c >> 8) & 0xff) * 257, g, a);
				b = blend_channel((c & 0xff) * 257, b, a);
			}
			out[0] = narrow(b);
			out[1] = narrow(g);
			out[2] = narrow(r);
			out[3] = 0xff;
		}
	}
}

int kms_fence_wait(int fence, int timeout_ms)
{
	struct pollfd pfd = { .fd = fence, .events = POLLIN };
	int ret;

	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	return ret == 0 ? -ETIMEDOUT : 0;
}

void kms_fill(struct kms_dumb *b, uint32_t (*f)(uint32_t x, uint32_t y, void *),
	      void *arg)
{
	for (uint32_t y = 0; y < b->height; y++) {
		uint32_t *row = (uint32_t *)((char *)b->map + y * b->pitch);

		for (uint32_t x = 0; x < b->width; x++)
			row[x] = f(x, y, arg);
	}
}

static uint32_t f_solid(uint32_t x, uint32_t y, void *arg)
{
	(void)x; (void)y;
	return 0xff000000u | *(uint32_t *)arg;
}

static uint32_t f_gradient(uint32_t x, uint32_t y, void *arg)
{
	struct kms_dumb *b = arg;

	return 0xff000000u | (x * 255 / (b->width - 1)) << 16 |
	       (y * 255 / (b->height - 1)) << 8 | 0x80;
}

void kms_fill_solid(struct kms_dumb *buf, uint32_t rgb)
{
	kms_fill(buf, f_solid, &rgb);
}

int kms_fill_scene(struct kms_dumb *buf, const char *scene)
{
	if (!strncmp(scene, "solid:", 6))
		kms_fill_solid(buf, strtoul(scene + 6, NULL, 16));
	else if (!strcmp(scene, "gradient"))
		kms_fill(buf, f_gradient, buf);
	else
		return -EINVAL;
	return 0;
}

int kms_write_composed(const char *path, const struct kms_layer *layers, int n,
		       uint32_t w, uint32_t h)
{
	uint8_t *img = malloc((size_t)w * h * 4);
	FILE *f;
	int ret = 0;

	if (!img)
		return -ENOMEM;
	kms_compose(layers, n, w, h, img);
	f = fopen(path, "wb");
	if (!f || fwrite(img, 4, (size_t)w * h, f) != (size_t)w * h)
		ret = errno ? -errno : -EIO;
	if (f && fclose(f) && !ret)
		ret = errno ? -errno : -EIO;
	free(img);
	return ret;
}
