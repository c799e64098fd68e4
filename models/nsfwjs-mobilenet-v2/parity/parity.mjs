// Runs the nsfwjs@4.3.0 MobileNetV2 model in @tensorflow/tfjs 4.22.0 (CPU backend), exactly as nsfwjs's
// `infer` does: pixels / 255, `tf.image.resizeBilinear(..., [224, 224], alignCorners = true)` unless already
// 224x224, then the Keras model.
//
// Usage: node parity.mjs MODEL_JSON WEIGHTS_BIN WORK_DIR
// WORK_DIR/inputs.json lists {name, height, width} with WORK_DIR/NAME.rgb (height*width*3 uint8). For each,
// writes WORK_DIR/NAME.f32 (the 224x224x3 float32 tensor the model saw) and WORK_DIR/tfjs.json
// ({name: [5 scores]}).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tf = require("@tensorflow/tfjs");

const [modelJson, weightsBin, work] = process.argv.slice(2);
const model = JSON.parse(fs.readFileSync(modelJson, "utf8"));
const weights = fs.readFileSync(weightsBin);
const weightSpecs = model.weightsManifest.flatMap((group) => group.weights);
await tf.setBackend("cpu");
const keras = await tf.loadLayersModel(
  tf.io.fromMemory({
    modelTopology: model.modelTopology,
    weightSpecs,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }),
);

const inputs = JSON.parse(fs.readFileSync(path.join(work, "inputs.json"), "utf8"));
const scores = {};
for (const { name, height, width } of inputs) {
  const rgb = fs.readFileSync(path.join(work, `${name}.rgb`));
  const out = tf.tidy(() => {
    const img = tf.tensor3d(new Uint8Array(rgb), [height, width, 3], "int32");
    let x = img.toFloat().div(tf.scalar(255));
    if (height !== 224 || width !== 224) {
      x = tf.image.resizeBilinear(x, [224, 224], true);
    }
    const pre = x.dataSync();
    fs.writeFileSync(path.join(work, `${name}.f32`), Buffer.from(pre.buffer, pre.byteOffset, pre.byteLength));
    return keras.predict(x.reshape([1, 224, 224, 3])).dataSync();
  });
  scores[name] = Array.from(out);
}
fs.writeFileSync(path.join(work, "tfjs.json"), JSON.stringify(scores, null, 1));
