#!/usr/bin/env python3
"""Timing of the PyPI `pdqhash` reference (Meta's C++ PDQ code) on Pillow-decoded images, for `pdq_report`.

The pipeline timed is the one Python systems built on `pdqhash` (e.g. Meta's HMA) run, and the one that made
`shared/reference/pdq/expected_pdqhash_binding.csv`:

    pixels = numpy.asarray(Image.open(io.BytesIO(data)).convert("RGB"))   # decode
    bits, quality = pdqhash.compute(pixels)                                # PDQ (luma in numpy, then C++)

Setup (any scratch venv):
    python3 -m venv /tmp/pdqvenv && /tmp/pdqvenv/bin/pip install pdqhash==0.2.8 pillow numpy

Usage:
    pdq_reference.py --make DIR                 # writes the generated test images, prints their paths
    pdq_reference.py [--iters N] [--min-iters N] [--budget S] [--dump-png DIR] FILE...

For each FILE (read into memory once) it times decode, PDQ and decode + PDQ separately, after one untimed decode +
PDQ of every file (which warms the allocator): one warm-up call, then at least --min-iters and at most --iters
calls, stopping once --budget seconds have passed. It prints one JSON object per file (medians and p90s in ms,
the hash in ThreatExchange's hex form, the quality) and a last `{"summary": ...}` object with the process's CPU
time over wall time while timing (1.0 = single-threaded).
--dump-png writes Pillow's RGB pixels of each file losslessly as DIR/<n>.png, so the Rust hasher can be run on
exactly the pixels the binding saw (separating JPEG decoder differences from hashing differences).
"""

import argparse
import io
import json
import os
import sys
import time

import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageFilter, features

# The generated test images: (file name, width, height). One scene rendered at each size.
GENERATED = [
    ("photo-1024x768.jpg", 1024, 768),
    ("photo-4000x3000.jpg", 4000, 3000),
    ("photo-1024x768.png", 1024, 768),
]
JPEG_QUALITY = 90
SEED = 20260509


def to_hex(bits):
    """The binding returns the 256 bits most significant first; hex as ThreatExchange prints it."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def scene(width, height):
    """A deterministic photo-like RGB image: smooth gradients, soft shapes, low-frequency texture, mild noise.

    Shape positions and sizes are relative, so every size shows the same scene."""
    rng = np.random.default_rng(SEED)
    v, u = np.mgrid[0:height, 0:width].astype(np.float32)
    u /= width
    v /= height
    base = np.empty((height, width, 3), dtype=np.float32)
    base[..., 0] = 70 + 110 * v + 25 * np.sin(2 * np.pi * 1.3 * u)
    base[..., 1] = 120 + 70 * (1 - v) + 20 * np.cos(2 * np.pi * 0.7 * (u + v))
    base[..., 2] = 180 - 90 * v + 30 * np.sin(2 * np.pi * 0.9 * u + 1.0)
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    scale = min(width, height)
    for _ in range(60):
        cx, cy = rng.uniform(0, 1, 2)
        r = rng.uniform(0.02, 0.18)
        colour = tuple(int(c) for c in rng.integers(20, 236, 3))
        x0, y0 = cx * width, cy * height
        half = r * scale
        if rng.uniform() < 0.5:
            aspect = rng.uniform(0.5, 2.0)
            draw.ellipse([x0 - half * aspect, y0 - half, x0 + half * aspect, y0 + half], fill=colour)
        else:
            angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 7))))
            radii = half * rng.uniform(0.6, 1.4, len(angles))
            points = [(x0 + rr * np.cos(a), y0 + rr * np.sin(a)) for a, rr in zip(angles, radii)]
            draw.polygon(points, fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(radius=1.5 * width / 1024))
    pixels = np.asarray(img).astype(np.float32)
    texture = 6 * np.sin(2 * np.pi * (9 * u + 4 * v)) * np.cos(2 * np.pi * (5 * u - 7 * v))
    # Fractal (multi-octave) noise for photo-like detail at every scale: cells across the shorter side, amplitude.
    for cells, amplitude in [(4, 14), (16, 9), (64, 7), (256, 6), (1024, 7)]:
        grid = rng.normal(0, 1, (cells, max(1, cells * width // height))).astype(np.float32)
        layer = Image.fromarray(grid, "F").resize((width, height), Image.Resampling.BICUBIC)
        texture += amplitude * np.asarray(layer)
    pixels += texture[..., None]
    pixels += rng.normal(0, 4, pixels.shape).astype(np.float32)
    return Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8), "RGB")


def make(directory):
    os.makedirs(directory, exist_ok=True)
    for name, width, height in GENERATED:
        path = os.path.join(directory, name)
        img = scene(width, height)
        if name.endswith(".jpg"):
            img.save(path, quality=JPEG_QUALITY)
        else:
            img.save(path)
        print(path)


def time_calls(call, min_iters, max_iters, budget):
    """Milliseconds per call: one warm-up, then between min_iters and max_iters calls (stops after budget s)."""
    call()
    samples = []
    start = time.perf_counter()
    while True:
        t = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - t) / 1e6)
        if len(samples) >= max_iters or (len(samples) >= min_iters and time.perf_counter() - start >= budget):
            break
    samples.sort()
    return {"median_ms": nearest_rank(samples, 50), "p90_ms": nearest_rank(samples, 90), "n": len(samples)}


def nearest_rank(sorted_samples, percent):
    """The nearest-rank percentile (as pdq_report computes it)."""
    return sorted_samples[max(0, -(-len(sorted_samples) * percent // 100) - 1)]


def decode(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*")
    parser.add_argument("--make", metavar="DIR", help="write the generated test images to DIR and exit")
    parser.add_argument("--iters", type=int, default=30, help="most timed calls per measurement")
    parser.add_argument("--min-iters", type=int, default=5, help="fewest timed calls per measurement")
    parser.add_argument("--budget", type=float, default=3.0, help="seconds after which a measurement stops")
    parser.add_argument("--dump-png", metavar="DIR", help="write Pillow's RGB pixels as DIR/<n>.png")
    args = parser.parse_args()

    if args.make:
        make(args.make)
        return 0
    if args.dump_png:
        os.makedirs(args.dump_png, exist_ok=True)

    wall = time.perf_counter()
    cpu = time.process_time()
    # One decode + PDQ of every file before anything is timed, so that the allocator (glibc malloc) is in the state
    # of a process that has been hashing images for a while. Cold, the first file's timings include fresh buffers'
    # page faults (~1,800 per PDQ call on 1024x768: 40 instead of 21 ms). pdq_report does the same for Haven.
    contents = []
    for path in args.files:
        with open(path, "rb") as f:
            contents.append(f.read())
        pdqhash.compute(decode(contents[-1]))
    for n, (path, data) in enumerate(zip(args.files, contents)):
        pixels = decode(data)
        bits, quality = pdqhash.compute(pixels)
        record = {
            "path": path,
            "width": int(pixels.shape[1]),
            "height": int(pixels.shape[0]),
            "hash": to_hex(bits),
            "quality": int(quality),
            "decode": time_calls(lambda: decode(data), args.min_iters, args.iters, args.budget),
            "pdq": time_calls(lambda: pdqhash.compute(pixels), args.min_iters, args.iters, args.budget),
            "decode_pdq": time_calls(
                lambda: pdqhash.compute(decode(data)), args.min_iters, args.iters, args.budget
            ),
        }
        if args.dump_png:
            dumped = os.path.join(args.dump_png, f"{n}.png")
            Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(dumped, compress_level=1)
            record["pixels_png"] = dumped
        print(json.dumps(record), flush=True)
    summary = {
        "cpu_per_wall": (time.process_time() - cpu) / (time.perf_counter() - wall),
        "python": sys.version.split()[0],
        "pdqhash": pdqhash.__version__,
        "pillow": Image.__version__,
        "numpy": np.__version__,
        "libjpeg_turbo": features.version_feature("libjpeg_turbo"),
        "zlib": features.version("zlib"),
    }
    print(json.dumps({"summary": summary}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
