#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A real browser opens the kms2v4l node as a camera.

    browser-check.py chromium|firefox WIDTH HEIGHT WANT_LABEL

Serves a page on http://127.0.0.1 (a secure context, as getUserMedia
requires) that lists the cameras with enumerateDevices(), opens the
default one with getUserMedia(), draws the video into a canvas and posts
back what it saw: the device labels, the track's settings and the pixels
of a grid of points. The browser runs headless with camera permission
granted by its own switch or preference, nothing else changed. The CRTC
must show kms-scene's gradient (red x * 255 / (w - 1), green
y * 255 / (h - 1), blue 0x80): each sampled pixel must match it within
YUV rounding, the size must be the mode's, and a device label must name
the node (WANT_LABEL). Exits 0 when all holds.

With BROWSER_CHECK_CAMERA_LOCK=FILE, browsers started at the same time
use the camera one at a time: the page's first step (before
getUserMedia()) is answered only once this process holds an flock on
FILE, which it keeps until its browser has exited.
"""
import fcntl
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

PAGE = """<!doctype html><meta charset="utf-8"><title>kms2v4l camera</title>
<script>
const step = what => fetch('/step', {method: 'POST', body: what});
(async () => {
  const out = {};
  try {
    await step('page loaded');
    const s = await navigator.mediaDevices.getUserMedia({video: true});
    await step('getUserMedia answered');
    out.devices = (await navigator.mediaDevices.enumerateDevices())
      .filter(d => d.kind == 'videoinput').map(d => d.label);
    const t = s.getVideoTracks()[0];
    out.label = t.label;
    out.settings = t.getSettings();
    const v = document.createElement('video');
    v.muted = true;
    v.srcObject = s;
    await v.play();
    await step('video playing');
    // a few frames in, past any start-up frame
    for (let i = 0; i < 20 && v.currentTime < 1; i++)
      await new Promise(r => setTimeout(r, 250));
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', {willReadFrequently: true});
    g.drawImage(v, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    out.w = c.width;
    out.h = c.height;
    out.samples = [];
    for (let j = 1; j < 8; j++)
      for (let i = 1; i < 8; i++) {
        const x = Math.floor(c.width * i / 8), y = Math.floor(c.height * j / 8);
        const k = (y * c.width + x) * 4;
        out.samples.push([x, y, d[k], d[k + 1], d[k + 2]]);
      }
    t.stop();
  } catch (e) {
    out.error = e.name + ': ' + e.message;
  }
  await fetch('/result', {method: 'POST', body: JSON.stringify(out)});
})();
</script>
"""

# for the page's result: headless start-up under TCG takes a minute or
# two, longer beside another browser, whose camera use it may then wait for
LIMIT = 270
TOLERANCE = 6  # BT.601 limited range and 4:2:0 chroma, there and back (seen: 2)


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__)
    browser, w, h, want_label = argv[1], int(argv[2]), int(argv[3]), argv[4]
    result = {}
    steps = []
    got = threading.Event()
    lock_path = os.environ.get("BROWSER_CHECK_CAMERA_LOCK")
    lock = open(lock_path, "a") if lock_path else None

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(n)
            if self.path == "/step":
                steps.append(body.decode(errors="replace"))
                print(f"{browser}: {steps[-1]}", flush=True)
                if lock and len(steps) == 1:
                    fcntl.flock(lock, fcntl.LOCK_EX)
                    print(f"{browser}: has the camera to itself", flush=True)
                self.send_response(204)
                self.end_headers()
                return
            self.send_response(204)
            self.end_headers()
            result.update(json.loads(body))
            got.set()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    profile = tempfile.mkdtemp(prefix=f"browser-check-{browser}.")
    env = dict(os.environ, HOME=profile)
    if browser == "chromium":
        cmd = ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
               "--no-first-run", "--use-fake-ui-for-media-stream",
               f"--user-data-dir={profile}", url]
    elif browser == "firefox":
        with open(os.path.join(profile, "user.js"), "w") as f:
            # camera permission without a prompt; PipeWire off (its default)
            f.write('user_pref("media.navigator.permission.disabled", true);\n'
                    'user_pref("media.webrtc.camera.allow-pipewire", false);\n'
                    'user_pref("browser.shell.checkDefaultBrowser", false);\n')
        cmd = ["firefox-esr", "--headless", "--no-remote", "--profile", profile, url]
    else:
        sys.exit(f"unknown browser {browser}")
    log = open(os.path.join(profile, "browser.log"), "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        if not got.wait(LIMIT):
            log.flush()
            with open(log.name) as f:
                tail = f.read()[-3000:]
            sys.exit(f"{browser}: no result in {LIMIT} s (last step: "
                     f"{steps[-1] if steps else 'none, the page never ran'}); its log:\n{tail}")
    finally:
        proc.kill()
        proc.wait()
        if lock:
            lock.close()  # the camera is free: the browser has exited
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)

    print(f"{browser}: {json.dumps({k: v for k, v in result.items() if k != 'samples'})}")
    if "error" in result:
        sys.exit(f"{browser}: getUserMedia failed: {result['error']}")
    if not any(want_label in (d or "") for d in result.get("devices", [])):
        sys.exit(f"{browser}: no camera labelled '{want_label}': {result.get('devices')}")
    if want_label not in result.get("label", ""):
        sys.exit(f"{browser}: the default camera is '{result.get('label')}', not the node")
    if (result.get("w"), result.get("h")) != (w, h):
        sys.exit(f"{browser}: the video is {result.get('w')}x{result.get('h')}, not {w}x{h}")
    worst = 0
    for x, y, r, g, b in result["samples"]:
        want = (x * 255 // (w - 1), y * 255 // (h - 1), 0x80)
        err = max(abs(a - e) for a, e in zip((r, g, b), want))
        worst = max(worst, err)
        if err > TOLERANCE:
            sys.exit(f"{browser}: pixel ({x},{y}) is {(r, g, b)}, the CRTC shows {want}")
    print(f"{browser}: {len(result['samples'])} pixels of the canvas match the CRTC's "
          f"gradient within {worst} (tolerance {TOLERANCE})")


if __name__ == "__main__":
    main(sys.argv)
