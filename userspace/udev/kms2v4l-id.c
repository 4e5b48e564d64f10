// SPDX-License-Identifier: MIT
/*
 * kms2v4l-id - udev helper: which display output a kms2v4l capture node
 * shows, as udev properties for stable names.
 *
 *   IMPORT{program}="kms2v4l-id $devnode"      (70-kms2v4l.rules)
 *
 * For a node whose V4L2 driver is "kms2v4l" (bus info
 * "platform:DRIVER-cardN-crtcM") it prints, e.g.
 *
 *   KMS2V4L_CARD=card0
 *   KMS2V4L_CRTC=crtc0
 *   KMS2V4L_CONNECTORS=Virtual-1
 *   KMS2V4L_LINKS=kms2v4l/card0-crtc0 kms2v4l/card0-Virtual-1
 *   KMS2V4L_LINK0=kms2v4l/card0-crtc0
 *   KMS2V4L_LINK1=kms2v4l/card0-Virtual-1
 *   KMS2V4L_UNITS=/dev/kms2v4l/card0/crtc0 /dev/kms2v4l/card0/Virtual/1
 *
 * and exits 0; for any other node it prints nothing and exits 1.  For the
 * damage node beside each capture node (V4L2_CAP_META_CAPTURE, same bus
 * info) the links end in "-damage" (kms2v4l/card0-Virtual-1-damage) and
 * there are no units: services bind to the capture node.
 *
 * KMS2V4L_LINK0 to KMS2V4L_LINK4 are the links one by one (the CRTC's,
 * then up to four connectors'; KMS2V4L_LINKS lists them all), for udev
 * turns whitespace inside a substituted value into "_": SYMLINK+= takes
 * one name per property.
 *
 * The connectors are the DRM topology, not the current mode: those whose
 * encoders can drive only this CRTC, plus those it drives right now.  So
 * the names exist from the node's creation on, whether the output is lit
 * or not (vkms of Linux 6.1: one CRTC per card, Virtual-1 on it).
 * Writeback connectors are not listed (the card is opened without the
 * writeback client cap).  Opening the card makes this helper DRM master
 * for the instant it holds it, if no one else is.
 *
 * KMS2V4L_UNITS are systemd device-unit aliases (SYSTEMD_ALIAS) whose
 * unit names are dev-kms2v4l-card0-Virtual-1.device and so on, so that
 * v4l2vnc@card0-Virtual-1.service can say BindsTo=dev-kms2v4l-%i.device
 * with the plain instance name (systemd escapes "-" in real paths).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/videodev2.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#define LIST_MAX 1024
/* KMS2V4L_LINK0..: the CRTC and this many connectors (70-kms2v4l.rules) */
#define LINKS_MAX 5

static void append(char *list, const char *sep, const char *s)
{
	size_t n = strlen(list);

	snprintf(list + n, LIST_MAX - n, "%s%s", n ? sep : "", s);
}

/* "platform:vkms-card0-crtc1" -> 0, 1 (the last "-card" counts). */
static int parse_bus_info(const char *bus, int *card, int *crtc)
{
	const char *p = NULL, *q = bus;
	int end = 0;

	while ((q = strstr(q, "-card")))
		p = q++;
	if (!p || sscanf(p, "-card%d-crtc%d%n", card, crtc, &end) != 2 || p[end] || *card < 0 ||
	    *crtc < 0)
		return -EINVAL;
	return 0;
}

/* Whether @conn is, or can only be, driven by the CRTC of index @crtc. */
static int connector_on_crtc(int fd, drmModeRes *res, drmModeConnector *conn, int crtc)
{
	uint32_t mask = 0;
	int i, on = 0;

	for (i = 0; i < conn->count_encoders; i++) {
		drmModeEncoder *enc = drmModeGetEncoder(fd, conn->encoders[i]);

		if (!enc)
			continue;
		mask |= enc->possible_crtcs;
		if (enc->encoder_id == conn->encoder_id && enc->crtc_id == res->crtcs[crtc])
			on = 1;
		drmModeFreeEncoder(enc);
	}
	return on || mask == 1u << crtc;
}

/* The connectors of card @card that belong to CRTC @crtc, comma-separated. */
static int list_connectors(int card, int crtc, char *out)
{
	char path[64];
	drmModeRes *res;
	int fd, i;

	out[0] = '\0';
	snprintf(path, sizeof(path), DRM_DIR_NAME "/card%d", card);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "kms2v4l-id: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	res = drmModeGetResources(fd);
	if (!res || crtc >= res->count_crtcs) {
		fprintf(stderr, "kms2v4l-id: %s: no CRTC %d\n", path, crtc);
		drmModeFreeResources(res);
		close(fd);
		return -ENOENT;
	}
	for (i = 0; i < res->count_connectors; i++) {
		drmModeConnector *c = drmModeGetConnector(fd, res->connectors[i]);
		const char *type;
		char name[64];

		if (!c)
			continue;
		type = drmModeGetConnectorTypeName(c->connector_type);
		if (type && connector_on_crtc(fd, res, c, crtc)) {
			snprintf(name, sizeof(name), "%s-%u", type, c->connector_type_id);
			append(out, ",", name);
		}
		drmModeFreeConnector(c);
	}
	drmModeFreeResources(res);
	close(fd);
	return 0;
}

/* "card0-Virtual-1" -> "/dev/kms2v4l/card0/Virtual/1": the path whose
 * systemd unit name is dev-kms2v4l-card0-Virtual-1.device. */
static void unit_alias(const char *name, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "/dev/kms2v4l/%s", name);
	size_t i;

	for (i = strlen("/dev/kms2v4l/"); i < n && i < size; i++)
		if (out[i] == '-')
			out[i] = '/';
}

/*
 * One name (card0-crtc0, card0-Virtual-1): its link, printed as the next
 * KMS2V4L_LINKn, and for a capture node its unit alias.
 */
static void add_name(const char *name, const char *suffix, int damage, char *links, char *units,
		     int *n)
{
	char alias[160];

	snprintf(alias, sizeof(alias), "kms2v4l/%s%s", name, suffix);
	append(links, " ", alias);
	if (*n < LINKS_MAX)
		printf("KMS2V4L_LINK%d=%s\n", (*n)++, alias);
	unit_alias(name, alias, sizeof(alias));
	if (!damage)
		append(units, " ", alias);
}

int main(int argc, char **argv)
{
	char connectors[LIST_MAX], names[LIST_MAX];
	char links[LIST_MAX] = "", units[LIST_MAX] = "";
	char name[128];
	struct v4l2_capability cap;
	int fd, card, crtc, damage, n = 0;
	const char *suffix;
	char *c, *save;
	uint32_t caps;

	if (argc != 2) {
		fprintf(stderr, "usage: kms2v4l-id /dev/videoN\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "kms2v4l-id: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(&cap, 0, sizeof(cap));
	if (ioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) {
		close(fd);
		return 1;
	}
	close(fd);
	if (strcmp((const char *)cap.driver, "kms2v4l") != 0 ||
	    parse_bus_info((const char *)cap.bus_info, &card, &crtc) < 0)
		return 1;
	caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
	damage = !!(caps & V4L2_CAP_META_CAPTURE);
	suffix = damage ? "-damage" : "";
	if (list_connectors(card, crtc, connectors) < 0)
		return 1;

	printf("KMS2V4L_CARD=card%d\nKMS2V4L_CRTC=crtc%d\n", card, crtc);
	printf("KMS2V4L_CONNECTORS=%s\n", connectors);
	snprintf(name, sizeof(name), "card%d-crtc%d", card, crtc);
	add_name(name, suffix, damage, links, units, &n);
	memcpy(names, connectors, sizeof(names));
	for (c = strtok_r(names, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		snprintf(name, sizeof(name), "card%d-%s", card, c);
		add_name(name, suffix, damage, links, units, &n);
	}
	printf("KMS2V4L_LINKS=%s\nKMS2V4L_UNITS=%s\n", links, units);
	return 0;
}
