#!/usr/bin/env bash
# Rebuilds hall.mp4 (the demo's people clip) from OpenCV's vtest.avi as Debian ships it in
# opencv-doc 4.6.0+dfsg-12 (Debian main). Needs target/engram.jar (./engram builds it) and apt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download opencv-doc=4.6.0+dfsg-12 && dpkg -x opencv-doc_4.6.0+dfsg-12_all.deb x)
src="$work/x/usr/share/doc/opencv-doc/examples/data/vtest.avi"
cp "$work/x/usr/share/doc/opencv-doc/copyright" "$here/LICENSE-opencv-debian-copyright"
java -cp "$root/target/engram.jar" "$here/CutSample.java" "$src" "$here/hall.mp4" 200 384 288
