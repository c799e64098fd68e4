#!/usr/bin/env python3
"""PDQ reference hashes from the PyPI `pdqhash` binding (Meta's C++ hashing code) on Pillow-decoded pixels.

This is how Python systems built on `pdqhash` (e.g. Meta's HMA) hash an image, and how
`../shared/reference/pdq/expected_pdqhash_binding.csv` was made:

    pdqhash.compute(numpy.asarray(Image.open(path).convert("RGB")))

Setup (any scratch venv):
    python3 -m venv /tmp/pdqvenv && /tmp/pdqvenv/bin/pip install pdqhash==0.2.8 pillow numpy

Usage:
    pdq_reference.py [--root DIR] [--dihedral] [--dump-rgb DIR] PATH...   # prints hash,quality,path
    pdq_reference.py --check CSV [--root DIR]                            # recompute a hash,quality,path CSV

--dump-rgb writes each image's Pillow RGB pixels as DIR/<n>.rgb (raw, row-major) plus DIR/manifest.csv
(n,width,height,hash,quality,path), so the Rust implementation can be checked on exactly the binding's input,
independently of JPEG decoder differences. --dihedral prints the eight dihedral hashes (reference order) instead.
"""

import argparse
import csv
import os
import sys

import numpy as np
import pdqhash
from PIL import Image


def to_hex(bits):
    """The binding returns 256 bits, most significant first; hex as ThreatExchange prints it."""
    bits = [int(b) for b in bits]
    return "".join("%x" % int("".join(map(str, bits[i : i + 4])), 2) for i in range(0, 256, 4))


def rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--root", default=".", help="paths are relative to this directory")
    parser.add_argument("--check", help="a hash,quality,path CSV to recompute and compare")
    parser.add_argument("--dihedral", action="store_true")
    parser.add_argument("--dump-rgb", help="directory for raw RGB dumps and manifest.csv")
    args = parser.parse_args()

    if args.check:
        with open(args.check) as f:
            rows = list(csv.DictReader(f))
        bad = 0
        for row in rows:
            bits, quality = pdqhash.compute(rgb(os.path.join(args.root, row["path"])))
            got = to_hex(bits)
            distance = bin(int(got, 16) ^ int(row["hash"], 16)).count("1")
            if distance or quality != int(row["quality"]):
                bad += 1
                print(f"{row['path']}: distance {distance}, quality {quality} vs {row['quality']}")
        print(f"{len(rows) - bad}/{len(rows)} identical")
        return 1 if bad else 0

    manifest = None
    if args.dump_rgb:
        os.makedirs(args.dump_rgb, exist_ok=True)
        manifest = csv.writer(open(os.path.join(args.dump_rgb, "manifest.csv"), "w", newline=""))
        manifest.writerow(["n", "width", "height", "hash", "quality", "path"])
    out = csv.writer(sys.stdout)
    out.writerow(["hash", "quality", "path"])
    for n, path in enumerate(args.paths):
        pixels = rgb(os.path.join(args.root, path))
        if args.dihedral:
            hashes, quality = pdqhash.compute_dihedral(pixels)
            for h in hashes:
                out.writerow([to_hex(h), quality, path])
            continue
        bits, quality = pdqhash.compute(pixels)
        out.writerow([to_hex(bits), quality, path])
        if manifest is not None:
            np.ascontiguousarray(pixels, dtype=np.uint8).tofile(os.path.join(args.dump_rgb, f"{n}.rgb"))
            manifest.writerow([n, pixels.shape[1], pixels.shape[0], to_hex(bits), quality, path])
    return 0


if __name__ == "__main__":
    sys.exit(main())
