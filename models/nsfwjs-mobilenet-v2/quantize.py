"""Quantises the converted nsfwjs model to int8 with onnxruntime's static quantisation (QDQ, per-channel weights,
MinMax activation ranges calibrated on the benign images).

Usage: quantize.py MODEL_ONNX OUT_ONNX IMAGE_DIR...

Calibration images are preprocessed as nsfwjs does (RGB / 255, aligned-corner bilinear resize to 224x224).
The result is deterministic for the same inputs, so scripts/fetch-models.sh pins its SHA-256. How far its scores
are from the float model's is checked by the Rust tests against the tolerance in the int8 manifest.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process


def resize_align_corners(x, size):
    """tf.image.resizeBilinear(x, [size, size], alignCorners=true) for an HxWxC float32 array."""
    h, w, _ = x.shape
    if (h, w) == (size, size):
        return x
    def axis(n):
        src = np.arange(size, dtype=np.float64) * ((n - 1) / (size - 1))
        lo = np.floor(src).astype(int)
        hi = np.minimum(np.ceil(src).astype(int), n - 1)
        return lo, hi, (src - lo)
    r0, r1, fr = axis(h)
    c0, c1, fc = axis(w)
    x = x.astype(np.float64)
    top = x[r0][:, c0] + (x[r0][:, c1] - x[r0][:, c0]) * fc[None, :, None]
    bottom = x[r1][:, c0] + (x[r1][:, c1] - x[r1][:, c0]) * fc[None, :, None]
    return (top + (bottom - top) * fr[:, None, None]).astype(np.float32)


def load(path):
    with Image.open(path) as image:
        image.seek(0)
        rgb = np.asarray(ImageOps.exif_transpose(image).convert("RGB"), dtype=np.float32) / np.float32(255)
    return resize_align_corners(rgb, 224)[None]


class Reader(CalibrationDataReader):
    def __init__(self, paths):
        self.items = iter([{"input_1": load(p)} for p in paths])

    def get_next(self):
        return next(self.items, None)


def main():
    model, out, *dirs = sys.argv[1:]
    paths = sorted(
        p for d in dirs for p in Path(d).iterdir() if p.suffix.lower() in (".png", ".jpg", ".gif", ".webp")
    )
    with tempfile.TemporaryDirectory() as tmp:
        prepared = str(Path(tmp) / "prepared.onnx")
        quant_pre_process(model, prepared, skip_symbolic_shape=True)
        quantize_static(
            prepared,
            out,
            Reader(paths),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )


if __name__ == "__main__":
    main()
