"""Checks the ONNX conversion of nsfwjs against @tensorflow/tfjs on the same inputs, and records golden scores.

Usage: parity.py MODEL_JSON WEIGHTS_BIN MODEL_ONNX NODE_MODULES GOLDEN_JSON [--write] IMAGE_DIR...

Every decodable image in the IMAGE_DIRs (benign only: the generated fixtures and scikit-image's public-domain
photos) is decoded with Pillow (first frame, EXIF orientation applied, alpha dropped) and handed to parity.mjs,
which runs nsfwjs's own pipeline in tfjs and saves the 224x224 tensor the model saw. ONNX Runtime then scores the
same tensors. Fails unless max |tfjs - onnx| <= 1e-4 over all images and classes. GOLDEN_JSON holds the tfjs
scores that the Rust tests compare their own decoding + preprocessing + ONNX against; with --write it is
rewritten, otherwise the fresh tfjs scores must match it (to 1e-6) so it cannot go stale.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

TOLERANCE = 1e-4
CLASSES = ["drawing", "hentai", "neutral", "porn", "sexy"]


def load(path):
    with Image.open(path) as image:
        image.seek(0)
        image = ImageOps.exif_transpose(image)
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            return None  # 16-bit and other modes: Pillow and the image crate reduce them differently
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def main():
    args = [a for a in sys.argv[1:] if a != "--write"]
    write = "--write" in sys.argv
    model_json, weights_bin, model_onnx, node_modules, golden_path, *dirs = args
    here = Path(__file__).parent
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        inputs = []
        for d in dirs:
            for path in sorted(Path(d).iterdir()):
                if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".gif", ".webp"):
                    continue
                rgb = load(path)
                if rgb is None:
                    continue
                name = path.name
                (work / f"{name}.rgb").write_bytes(rgb.tobytes())
                inputs.append({"name": name, "height": rgb.shape[0], "width": rgb.shape[1]})
        (work / "inputs.json").write_text(json.dumps(inputs))
        env = {"NODE_PATH": str(Path(node_modules).resolve()), "PATH": "/usr/bin:/bin:/usr/local/bin"}
        import os

        env["PATH"] = os.environ.get("PATH", env["PATH"])
        subprocess.run(
            ["node", str(here / "parity.mjs"), model_json, weights_bin, str(work)],
            check=True,
            env={**os.environ, **env},
        )
        tfjs = json.loads((work / "tfjs.json").read_text())
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(model_onnx, options, providers=["CPUExecutionProvider"])
        worst = 0.0
        for item in inputs:
            x = np.fromfile(work / f"{item['name']}.f32", dtype=np.float32).reshape(1, 224, 224, 3)
            onnx_scores = session.run(None, {"input_1": x})[0][0]
            delta = float(np.max(np.abs(onnx_scores - np.array(tfjs[item["name"]], dtype=np.float32))))
            worst = max(worst, delta)
            print(f"{item['name']:32} max|d|={delta:.2e}  " + " ".join(f"{c}={s:.4f}" for c, s in zip(CLASSES, tfjs[item["name"]])))
    print(f"parity: {len(inputs)} images, max |tfjs - onnx| = {worst:.3e} (tolerance {TOLERANCE:g})")
    if worst > TOLERANCE or not inputs:
        raise SystemExit("parity: FAILED")
    golden = {
        "about": "nsfwjs@4.3.0 scores from @tensorflow/tfjs 4.22.0 (nsfwjs's own pipeline) on benign images; "
        "written by models/nsfwjs-mobilenet-v2/parity/parity.py --write",
        "classes": CLASSES,
        "scores": {name: [round(s, 7) for s in tfjs[name]] for name in sorted(tfjs)},
    }
    golden_path = Path(golden_path)
    if write:
        golden_path.write_text(json.dumps(golden, indent=1) + "\n")
        return
    recorded = json.loads(golden_path.read_text())["scores"]
    if set(recorded) != set(golden["scores"]):
        raise SystemExit("parity: the golden file lists other images than the image directories hold")
    stale = max(abs(a - b) for n in recorded for a, b in zip(recorded[n], golden["scores"][n]))
    if stale > 1e-6:
        raise SystemExit(f"parity: golden scores are stale (max |d| = {stale:.2e})")


if __name__ == "__main__":
    main()
