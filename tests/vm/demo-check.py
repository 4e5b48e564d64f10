#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Picture checks for the demo test (tests/vm/demo.sh), run on the host.

  demo-check.py desktop IMG W H          WxH; not blank; weston's panel and
                                         background colours where expected
  demo-check.py moving A B W H           A and B differ below the panel;
                                         prints the changed box X0 Y0 X1 Y1
  demo-check.py terminal IMG W H BOX     a point (X Y) inside the terminal:
                                         black all around, outside BOX
  demo-check.py typed A B W H BOX        A and B differ outside BOX and
                                         below the panel (text appeared)
  demo-check.py browser URL OUT W H      headless Chromium opens URL (the
                                         noVNC page), until its screenshot
                                         shows the desktop; saves it to OUT

Images are anything ffmpeg reads (vncsnapshot's JPEG, Chromium's PNG).
The colours are the ones scripts/vm/demo-guest sets in weston.ini.
"""
import base64
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time

BACKGROUND = (0x1F, 0x4E, 0x79)
PANEL = (0x2D, 0x2D, 0x2D)
PANEL_H = 32  # weston 10's desktop-shell panel height at scale 1


def load(path, w, h):
    raw = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", path, "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-"],
        check=True, stdout=subprocess.PIPE).stdout
    if len(raw) != w * h * 3:
        sys.exit(f"{path}: {len(raw)} bytes, expected {w}x{h} RGB")
    return raw


def near(px, c, tol=14):
    return all(abs(px[i] - c[i]) <= tol for i in range(3))


def px(img, w, x, y):
    o = (y * w + x) * 3
    return img[o], img[o + 1], img[o + 2]


def desktop_stats(img, w, h):
    """Fractions: background-coloured pixels below the panel, panel-coloured
    pixels in the panel's middle stretch (no icons, no clock); colours."""
    bg = tot = 0
    colours = set()
    for y in range(PANEL_H + 4, h, 4):
        for x in range(0, w, 4):
            p = px(img, w, x, y)
            colours.add(p)
            tot += 1
            bg += near(p, BACKGROUND)
    pn = ptot = 0
    for y in range(4, PANEL_H - 4, 2):
        for x in range(w // 6, w * 2 // 3, 4):
            ptot += 1
            pn += near(px(img, w, x, y), PANEL)
    return bg / tot, pn / ptot, len(colours)


def size(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=width,height",
         "-of", "csv=p=0", path], check=True, stdout=subprocess.PIPE).stdout
    return tuple(int(v) for v in out.decode().split(",")[:2])


def cmd_desktop(path, w, h):
    if size(path) != (w, h):
        sys.exit(f"{path} is {size(path)}, expected the output's mode {w}x{h}")
    img = load(path, w, h)
    bg, pn, ncol = desktop_stats(img, w, h)
    print(f"background colour on {bg:.0%} of the desktop, panel colour on "
          f"{pn:.0%} of the panel, {ncol} distinct colours")
    if ncol < 16:
        sys.exit("the picture is (nearly) flat: blank")
    if pn < 0.9:
        sys.exit("no weston panel at the top")
    if bg < 0.15:
        sys.exit("weston's background colour is not there")


def changed_box(a, b, w, h, skip=None):
    n = 0
    x0 = y0 = 10**9
    x1 = y1 = -1
    for y in range(PANEL_H + 2, h):
        ra = a[y * w * 3:(y + 1) * w * 3]
        rb = b[y * w * 3:(y + 1) * w * 3]
        if ra == rb:
            continue
        for x in range(w):
            o = 3 * x
            if max(abs(ra[o] - rb[o]), abs(ra[o + 1] - rb[o + 1]),
                   abs(ra[o + 2] - rb[o + 2])) <= 48:
                continue
            if skip and skip[0] <= x <= skip[2] and skip[1] <= y <= skip[3]:
                continue
            n += 1
            x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
    return n, (x0, y0, x1, y1)


def cmd_moving(pa, pb, w, h):
    n, box = changed_box(load(pa, w, h), load(pb, w, h), w, h)
    print(f"{n} pixels changed, in {box}", file=sys.stderr)
    if n < 500:
        sys.exit("nothing moves on the desktop")
    print(*box)


def cmd_terminal(path, w, h, box):
    img = load(path, w, h)
    r = 24
    best = None
    # From the bottom right: the terminal's free black space.
    for y in range(h - r - 1, PANEL_H + r, -8):
        for x in range(w - r - 1, r, -8):
            if box[0] - r <= x <= box[2] + r and box[1] - r <= y <= box[3] + r:
                continue
            if all(max(px(img, w, x + dx, y + dy)) < 24
                   for dy in range(-r, r + 1, 4) for dx in range(-r, r + 1, 4)):
                best = (x, y)
                break
        if best:
            break
    if not best:
        sys.exit("no terminal (a black area) on the desktop")
    print(*best)


def cmd_typed(pa, pb, w, h, box):
    n, where = changed_box(load(pa, w, h), load(pb, w, h), w, h, box)
    print(f"{n} pixels changed outside the animation, in {where}", file=sys.stderr)
    if n < 100:
        sys.exit("the terminal did not change after typing")


class Chromium:
    """Headless Chromium driven over --remote-debugging-pipe (fds 3, 4)."""

    def __init__(self, w, h):
        self.profile = tempfile.mkdtemp(prefix="demo-chromium.")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def fds():
            r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            w_ = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w_, 4)
        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", f"--window-size={w},{h}",
             f"--user-data-dir={self.profile}", "--no-first-run",
             "about:blank"],
            preexec_fn=fds, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        end = time.time() + timeout
        while time.time() < end:
            while b"\0" in self.buf:
                m, self.buf = self.buf.split(b"\0", 1)
                r = json.loads(m)
                if r.get("id") == self.next_id:
                    if "error" in r:
                        raise RuntimeError(f"{method}: {r['error']}")
                    return r["result"]
            d = os.read(self.from_chrome, 1 << 20)
            if not d:
                raise RuntimeError("chromium closed its pipe")
            self.buf += d
        raise RuntimeError(f"{method}: no answer")

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        subprocess.run(["rm", "-rf", self.profile])


def cmd_browser(url, out, w, h, limit=150):
    c = Chromium(w, h)
    try:
        page = next(t for t in c.call("Target.getTargets")["targetInfos"]
                    if t["type"] == "page")
        s = c.call("Target.attachToTarget",
                   {"targetId": page["targetId"], "flatten": True})["sessionId"]
        c.call("Page.enable", session=s)
        c.call("Page.navigate", {"url": url}, session=s)
        end = time.time() + limit
        while True:
            time.sleep(3)
            png = base64.b64decode(c.call(
                "Page.captureScreenshot", {"format": "png"}, session=s)["data"])
            with open(out, "wb") as f:
                f.write(png)
            img = load(out, w, h)
            bg, pn, ncol = desktop_stats(img, w, h)
            state = c.call("Runtime.evaluate", {
                "expression": "document.getElementById('noVNC_status') ?"
                " document.getElementById('noVNC_status').textContent : ''",
                "returnByValue": True}, session=s)["result"].get("value", "")
            print(f"browser: background colour on {bg:.0%}, {ncol} colours;"
                  f" noVNC status '{state}'", file=sys.stderr)
            # The page is scaled (resize=scale): the panel may sit lower,
            # so only the desktop's background colour is required here.
            if bg >= 0.15 and ncol >= 16:
                print(f"the noVNC page shows weston's desktop: {out}")
                return
            if time.time() > end:
                sys.exit(f"the noVNC page never showed the desktop (last screenshot {out})")
    finally:
        c.close()


def main(a):
    if len(a) == 4 and a[0] == "desktop":
        return cmd_desktop(a[1], int(a[2]), int(a[3]))
    if len(a) == 5 and a[0] == "moving":
        return cmd_moving(a[1], a[2], int(a[3]), int(a[4]))
    if len(a) == 8 and a[0] == "terminal":
        return cmd_terminal(a[1], int(a[2]), int(a[3]), tuple(map(int, a[4:8])))
    if len(a) == 9 and a[0] == "typed":
        return cmd_typed(a[1], a[2], int(a[3]), int(a[4]), tuple(map(int, a[5:9])))
    if len(a) == 5 and a[0] == "browser":
        return cmd_browser(a[1], a[2], int(a[3]), int(a[4]))
    sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
