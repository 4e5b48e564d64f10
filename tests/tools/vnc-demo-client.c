// SPDX-License-Identifier: MIT
/*
 * A small VNC client for the demo tests (libvncclient), run on the host.
 *
 *   vnc-demo-client passwd PLAIN OUT
 *       stores the first line of PLAIN as a VNC password file (the
 *       obfuscated form that vncsnapshot -passwd and vncviewer read)
 *   vnc-demo-client input HOST:PORT PLAIN X Y TEXT
 *       logs in with the password in PLAIN, moves the pointer to (X,Y),
 *       clicks the left button there, types TEXT (printable ASCII; what
 *       needs Shift on a US keyboard is typed with Shift, as viewers do)
 *       and presses Return
 *
 * Exit status 0 on success, 1 on any failure.
 */
#include <rfb/rfbclient.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char password[128];

static int read_password(const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		return -1;
	}
	if (!fgets(password, sizeof(password), f)) {
		fprintf(stderr, "%s: empty\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	password[strcspn(password, "\r\n")] = 0;
	return 0;
}

static char *get_password(rfbClient *c)
{
	(void)c;
	return strdup(password);
}

/* Serve the connection for MS milliseconds (updates, server messages). */
static int pump(rfbClient *c, long ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int n = WaitForMessage(c, 20000);

		if (n < 0)
			return -1;
		if (n > 0 && !HandleRFBServerMessage(c))
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
			return 0;
	}
}

/*
 * Press and release in one go: a guest slowed down by emulation may
 * otherwise see the key held past the compositor's repeat delay.
 */
static int key(rfbClient *c, uint32_t sym)
{
	if (!SendKeyEvent(c, sym, TRUE) || !SendKeyEvent(c, sym, FALSE) ||
	    pump(c, 60) < 0)
		return -1;
	return 0;
}

static int do_input(const char *hostport, int x, int y, const char *text)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	rfbClient *c;
	int rc = 1;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host)) {
		fprintf(stderr, "bad HOST:PORT '%s'\n", hostport);
		return 1;
	}
	memcpy(host, hostport, colon - hostport);
	host[colon - hostport] = 0;

	c = rfbGetClient(8, 3, 4);
	c->GetPassword = get_password;
	c->serverHost = strdup(host);
	c->serverPort = atoi(colon + 1);
	/* rfbInitClient frees the client when it fails. */
	if (!rfbInitClient(c, NULL, NULL)) {
		fprintf(stderr, "cannot connect to %s\n", hostport);
		return 1;
	}
	if (pump(c, 300) < 0)
		goto out;
	if (!SendPointerEvent(c, x, y, 0) || pump(c, 150) < 0)
		goto out;
	if (!SendPointerEvent(c, x, y, rfbButton1Mask) || pump(c, 80) < 0)
		goto out;
	if (!SendPointerEvent(c, x, y, 0) || pump(c, 400) < 0)
		goto out;
	for (const char *p = text; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch < 0x20 || ch > 0x7e) {
			fprintf(stderr, "cannot type byte 0x%02x\n", ch);
			goto out;
		}
		if ((ch >= 'A' && ch <= 'Z') || strchr("~!@#$%^&*()_+{}|:\"<>?", ch)) {
			if (!SendKeyEvent(c, XK_Shift_L, TRUE) || key(c, ch) < 0 ||
			    !SendKeyEvent(c, XK_Shift_L, FALSE))
				goto out;
		} else if (key(c, ch) < 0) {
			goto out;
		}
	}
	if (key(c, XK_Return) < 0 || pump(c, 500) < 0)
		goto out;
	printf("sent click at %d,%d, %zu keys and Return\n", x, y, strlen(text));
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "the connection to %s failed\n", hostport);
	rfbClientCleanup(c);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "passwd")) {
		if (read_password(argv[2]) < 0)
			return 1;
		if (rfbEncryptAndStorePasswd(password, argv[3]) != 0) {
			fprintf(stderr, "cannot write %s\n", argv[3]);
			return 1;
		}
		return 0;
	}
	if (argc == 7 && !strcmp(argv[1], "input")) {
		if (read_password(argv[3]) < 0)
			return 1;
		return do_input(argv[2], atoi(argv[4]), atoi(argv[5]), argv[6]);
	}
	fprintf(stderr,
		"usage: %s passwd PLAIN OUT\n"
		"       %s input HOST:PORT PLAIN X Y TEXT\n",
		argv[0], argv[0]);
	return 1;
}
