#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# v4l2vnc --web with TLS (issue 18): a key file others may read and a key
# of another certificate are refused, naming the file; with a given
# certificate noVNC's page comes over HTTPS (curl --cacert verifies it),
# plain HTTP on the web port gets no page, the VNC port's wss from our
# https origin gets RFB 003.008 inside TLS (verified against the same
# certificate), another origin and a plain ws upgrade get 403, and a plain
# RFB viewer still connects unencrypted.  With --tls-generate the printed
# SHA-256 fingerprint is the one both ports serve.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
C=$KMS2V4L_BUILD/tests/vm/v4l2vnc-client

[ -f /usr/share/novnc/vnc.html ] || skip "noVNC not installed (package novnc)"
command -v openssl >/dev/null || skip "openssl not installed"
ip link set lo up || fail "ip link set lo up"
dev=$(vivid_node) || fail "no vivid capture node"
v4l2-ctl -d "$dev" -p 2 || fail "vivid frame rate"

pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT
on_fail() { cat /tmp/v4l2vnc.log 2>/dev/null; }

d=/tmp/tls
mkdir -p "$d"
# cert: for 127.0.0.1 and localhost; other: a second one, for its key.
for n in cert other; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=v4l2vnc test $n" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$d/$n.key" -out "$d/$n.pem" 2>/dev/null || fail "openssl req ($n)"
	chmod 600 "$d/$n.key"
done
fp_file=$(openssl x509 -in "$d/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
[ ${#fp_file} = 95 ] || fail "openssl x509 fingerprint: '$fp_file'"

# served_fp PORT: SHA-256 fingerprint of the certificate PORT serves.
served_fp() {
	openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'
}
# printed_fp LOG: the fingerprint of the "noVNC on https://..." line.
printed_fp() { sed -n 's/.*noVNC on https:.*SHA-256 \([0-9A-F:]*\)).*/\1/p' "$1"; }

# Refusals at start: exit status 1 and a message naming the file.
chmod 644 "$d/cert.key"
"$V" --device "$dev" --format XR24 --size 640x480 --port 5901 --web 6080 \
	--tls-cert "$d/cert.pem" --tls-key "$d/cert.key" --frames 1 2>/tmp/bad.log && fail "a 644 key file was taken"
grep -q -- "--tls-key $d/cert.key: mode 644 lets group or others at it" /tmp/bad.log ||
	fail "644 key: $(cat /tmp/bad.log)"
chmod 600 "$d/cert.key"
"$V" --device "$dev" --format XR24 --size 640x480 --port 5901 --web 6080 \
	--tls-cert "$d/cert.pem" --tls-key "$d/other.key" --frames 1 2>/tmp/bad.log && fail "another certificate's key was taken"
grep -q "$d/other.key: the key does not belong to the certificate" /tmp/bad.log ||
	fail "mismatched key: $(cat /tmp/bad.log)"
"$V" --device "$dev" --format XR24 --size 640x480 --port 5901 --web 6080 \
	--tls-cert "$d/none.pem" --tls-key "$d/cert.key" --frames 1 2>/tmp/bad.log && fail "a missing certificate was taken"
grep -q -- "--tls-cert $d/none.pem: No such file or directory" /tmp/bad.log ||
	fail "missing certificate: $(cat /tmp/bad.log)"
info "644 key file, another certificate's key, a missing certificate: refused, named"

"$V" --device "$dev" --format XR24 --size 640x480 --port 5901 --web 6080 \
	--tls-cert "$d/cert.pem" --tls-key "$d/cert.key" ${V4L2VNC_VERBOSE:+--verbose} \
	2> >(tee /tmp/v4l2vnc.log >&2) &
pid=$!
wait_listen '127\.0\.0\.1:6080 ' "$pid"
wait_listen '127\.0\.0\.1:5901 ' "$pid"
for _ in $(seq 50); do grep -q 'noVNC on' /tmp/v4l2vnc.log && break; sleep 0.2; done
url=$(sed -n 's/.*noVNC on \(https:[^ ]*\).*/\1/p' /tmp/v4l2vnc.log)
case $url in
"https://127.0.0.1:6080/vnc.html?port=5901&encrypt=1&path=websockify%3Ftoken%3D"*) ;;
*) fail "printed URL '$url'" ;;
esac
[ "$(printed_fp /tmp/v4l2vnc.log)" = "$fp_file" ] || fail "printed fingerprint is not the certificate's"
info "$(grep 'noVNC on' /tmp/v4l2vnc.log)"

# (1) The page over HTTPS, verified against the certificate.
curl -sf --max-time 30 --cacert "$d/cert.pem" https://127.0.0.1:6080/vnc.html -o /tmp/vnc.html ||
	fail "curl --cacert https://127.0.0.1:6080/vnc.html"
cmp -s /tmp/vnc.html /usr/share/novnc/vnc.html || fail "vnc.html over HTTPS differs from noVNC's"
curl -sf --max-time 30 --cacert "$d/other.pem" https://127.0.0.1:6080/vnc.html -o /dev/null &&
	fail "curl verified the page against another certificate"
[ "$(served_fp 6080)" = "$fp_file" ] || fail "web port serves fingerprint '$(served_fp 6080)'"
info "noVNC's page over HTTPS, verified with --cacert"
# (2) Plain HTTP on the web port: no page.
code=$(curl -s --max-time 10 -o /tmp/plain.out -w '%{http_code}' http://127.0.0.1:6080/vnc.html) &&
	fail "plain HTTP on the TLS port succeeded (HTTP $code)"
[ "$code" = 000 ] || fail "plain HTTP on the TLS port answered HTTP $code"
grep -q noVNC /tmp/plain.out 2>/dev/null && fail "plain HTTP got the page"
info "plain HTTP on the web port: no answer (curl: $code)"

# wss ORIGIN PATH PORT [CAFILE|-k|plain]: tests/vm/ws-probe.py (inside TLS
# unless plain).
wss() { python3 "$(dirname "$0")/ws-probe.py" "$@"; }
# (3) wss from our page: RFB inside, the certificate verified.
r=$(wss https://127.0.0.1:6080 /websockify 5901 "$d/cert.pem") || fail "wss from our page: $r"
[ "$r" = "101 RFB" ] || fail "wss from https://127.0.0.1:6080: $r"
info "wss from https://127.0.0.1:6080 (certificate verified): 101, RFB 003.008 inside"
r=$(wss https://127.0.0.1:6080 /websockify 5901 "$d/other.pem")
case $r in "tls: "*) ;; *) fail "wss verified against another certificate: $r" ;; esac
# (4) Other origins over wss, and our origin over plain ws: 403.
for o in https://evil.example http://127.0.0.1:6080 https://127.0.0.1:6081; do
	r=$(wss "$o" /websockify 5901 "$d/cert.pem") || fail "wss from $o: $r"
	case $r in "HTTP/1.1 403"*) ;; *) fail "wss from $o: $r, not 403" ;; esac
done
grep -q "refused: wss: WebSocket from origin 'https://evil.example'" /tmp/v4l2vnc.log ||
	fail "the wss refusal is not logged"
r=$(wss https://127.0.0.1:6080 /websockify 5901 plain) || fail "plain ws: $r"
case $r in "HTTP/1.1 403"*) ;; *) fail "plain ws with TLS on: $r, not 403" ;; esac
tok=$(sed -n 's/.*path=websockify%3Ftoken%3D\([0-9a-f]*\).*/\1/p' /tmp/v4l2vnc.log)
[ ${#tok} = 32 ] || fail "no token in the printed URL"
r=$(wss https://127.0.0.1:40000 "/websockify?token=$tok" 5901 "$d/cert.pem")
[ "$r" = "101 RFB" ] || fail "wss with the token: $r"
info "wss from other origins and plain ws: 403; the token URL: 101"
# (5) A plain viewer on the same port, unencrypted.
"$C" snapshot 127.0.0.1:5901 /tmp/a.raw >/tmp/a.out || fail "plain viewer next to wss"
[ "$(cat /tmp/a.out)" = 640x480 ] || fail "plain viewer saw $(cat /tmp/a.out)"
info "plain RFB viewer: 640x480"
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=

# --tls-generate: the printed fingerprint is what both ports serve.
"$V" --device "$dev" --format XR24 --size 640x480 --port 5902 --web 6082 --tls-generate \
	2> >(tee /tmp/v4l2vnc.log >&2) &
pid=$!
wait_listen '127\.0\.0\.1:6082 ' "$pid"
wait_listen '127\.0\.0\.1:5902 ' "$pid"
for _ in $(seq 50); do grep -q 'noVNC on' /tmp/v4l2vnc.log && break; sleep 0.2; done
fp=$(printed_fp /tmp/v4l2vnc.log)
[ ${#fp} = 95 ] || fail "no fingerprint printed: $(cat /tmp/v4l2vnc.log)"
grep -q 'noVNC on https://127.0.0.1:6082/vnc.html?port=5902&encrypt=1&path=.*self-signed, generated' \
	/tmp/v4l2vnc.log || fail "generated: URL line"
[ "$(served_fp 6082)" = "$fp" ] || fail "web port serves '$(served_fp 6082)', printed '$fp'"
[ "$(served_fp 5902)" = "$fp" ] || fail "VNC port's TLS serves '$(served_fp 5902)', printed '$fp'"
[ "$fp" != "$fp_file" ] || fail "generated certificate is the given one?"
curl -sfk --max-time 30 https://127.0.0.1:6082/vnc.html -o /tmp/vnc2.html || fail "GET over HTTPS (generated)"
cmp -s /tmp/vnc2.html /usr/share/novnc/vnc.html || fail "vnc.html differs (generated)"
r=$(wss https://127.0.0.1:6082 /websockify 5902 -k) || fail "wss (generated): $r"
[ "$r" = "cert $fp
101 RFB" ] || fail "wss (generated): $r"
openssl s_client -connect 127.0.0.1:6082 </dev/null 2>/dev/null | openssl x509 -noout -text >/tmp/gen.txt ||
	fail "reading the generated certificate"
grep -q 'IP Address:127.0.0.1' /tmp/gen.txt || fail "generated certificate lacks IP:127.0.0.1: $(cat /tmp/gen.txt)"
info "generated certificate $fp served on both ports, wss 101 RFB"
"$C" snapshot 127.0.0.1:5902 /tmp/b.raw >/tmp/b.out || fail "plain viewer (generated)"
[ "$(cat /tmp/b.out)" = 640x480 ] || fail "plain viewer saw $(cat /tmp/b.out)"
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=
info "PASS: HTTPS page, wss only from our https page, plain RFB alongside, key checks, generated certificate"
