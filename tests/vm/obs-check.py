#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Ask a running OBS Studio, through its obs-websocket server (protocol 5,
no authentication), what its V4L2 source sees:

  obs-check.py PORT devices INPUT        the device list of INPUT's
                                         "device_id" property, one
                                         "value<TAB>name" per line
  obs-check.py PORT screenshot INPUT FILE  a PNG of INPUT's current frame

A minimal WebSocket client (RFC 6455, text frames, client masking): the
standard library has none, and no PyPI here."""
import base64
import json
import os
import socket
import struct
import sys


class Ws:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Protocol: obswebsocket.json\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            if not chunk:
                sys.exit("obs-check: the server closed during the upgrade")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            sys.exit("obs-check: upgrade refused: " + head.decode(errors="replace"))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                sys.exit("obs-check: the server closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        payload = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            data = self._read(n)  # a server does not mask
            op = b0 & 0x0F
            if op == 8:
                sys.exit("obs-check: the server closed: " + data[2:].decode(errors="replace"))
            if op in (9, 10):  # ping, pong: not expected, skip
                continue
            payload += data
            if b0 & 0x80:
                return json.loads(payload)


def request(ws, rtype, data):
    ws.send({"op": 6, "d": {"requestType": rtype, "requestId": rtype, "requestData": data}})
    while True:
        msg = ws.recv()
        if msg.get("op") == 7 and msg["d"].get("requestId") == rtype:
            st = msg["d"]["requestStatus"]
            if not st.get("result"):
                sys.exit(f"obs-check: {rtype}: {st.get('code')} {st.get('comment', '')}")
            return msg["d"].get("responseData", {})


def main():
    port, what, inp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ws = Ws(port)
    if ws.recv().get("op") != 0:
        sys.exit("obs-check: no Hello")
    ws.send({"op": 1, "d": {"rpcVersion": 1, "eventSubscriptions": 0}})
    if ws.recv().get("op") != 2:
        sys.exit("obs-check: not identified (authentication on?)")
    if what == "devices":
        r = request(ws, "GetInputPropertiesListPropertyItems",
                    {"inputName": inp, "propertyName": "device_id"})
        for item in r.get("propertyItems", []):
            print(f"{item.get('itemValue')}\t{item.get('itemName')}")
    elif what == "screenshot":
        r = request(ws, "GetSourceScreenshot", {"sourceName": inp, "imageFormat": "png"})
        data = r["imageData"].split(",", 1)[1]
        with open(sys.argv[4], "wb") as f:
            f.write(base64.b64decode(data))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
